//! gRPC plumbing: server bootstrap, outgoing-call context, trace propagation, proto conversions.

pub(crate) mod balance;
pub mod client;
pub mod convert;
pub mod deadline_layer;
pub mod peer_failure;
pub mod per_call;
pub mod server;
pub mod trace_context;
