//! Compiles every `.proto` under `onramp/` with `protox` (pure Rust, so no system `protoc` is needed),
//! generates tonic clients and servers, and writes the descriptor set that gRPC reflection serves.

use std::{env, fs, io, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    // A directory makes cargo rescan it, so added or removed files rerun generation too.
    println!("cargo:rerun-if-changed=onramp");
    let protos = proto_files(&root.join("onramp"))?;
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    let descriptors = protox::compile(&protos, [&root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("onramp_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Methods a service has not built yet answer UNIMPLEMENTED instead of failing to compile.
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}

fn proto_files(dir: &std::path::Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(proto_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
