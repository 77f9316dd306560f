//! The web app is embedded with `include_dir!`, which on stable Rust does not tell cargo which
//! files it read: without this line an edit under `web/` left the old app in the binary until some
//! Rust file changed too.
fn main() {
    println!("cargo:rerun-if-changed=web");
}
