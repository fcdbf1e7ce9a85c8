//! The native runtime of flink-ros: the transport between data-plane callers and the instances
//! of an RpcOperator service.
//!
//! - [`server::RosServer`]: a service instance's gRPC endpoint and bounded request queue, polled
//!   by host-language workers.
//! - [`client::RosClient`]: a caller over a replaceable endpoint set.
//! - [`status`]: the error model shared by both sides and by the Java facade.
//!
//! This crate has no JNI in it; `ros-jni` is a thin layer over it.

pub mod client;
pub mod endpoints;
mod queue;
pub mod server;
pub mod status;

/// Code generated from `proto/ros/v1/ros.proto`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    tonic::include_proto!("ros.v1");
}

pub use client::{ClientConfig, RosClient};
pub use queue::{QueueStats, ServerRequest};
pub use server::{RosServer, ServerConfig};
pub use status::{RosError, StatusCode};
