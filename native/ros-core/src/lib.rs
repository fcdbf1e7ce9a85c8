// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! The native runtime of flink-ros: the transport between data-plane callers and the instances
//! of an RpcOperator service.
//!
//! - [`server::RosServer`]: a service instance's gRPC endpoint and bounded request queue, polled
//!   by host-language workers.
//! - [`client::RosClient`]: a caller over a replaceable endpoint set, with load balancing,
//!   ejection of failed instances, budgeted retries and backpressure.
//! - [`status`]: the error model shared by both sides and by the Java facade.
//!
//! This crate has no JNI in it; `ros-jni` is a thin layer over it.

pub mod auth;
mod balancer;
pub mod client;
pub mod codec;
pub mod endpoints;
mod listener;
pub mod options;
mod queue;
mod result_cache;
mod retry;
pub mod runtime;
pub mod server;
pub mod stats;
pub mod status;
mod stream_client;
mod stream_server;
mod tls;

/// Code generated from `proto/ros/v1/ros.proto`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    tonic::include_proto!("ros.v1");
}

pub use auth::ServiceToken;
pub use balancer::LoadBalancing;
pub use client::{ClientConfig, RosClient, Transport};
pub use queue::{BatchPolicy, Batching, ReplayPolicy, ServerRequest, ServerStats};
pub use result_cache::{CachePolicy, content_key};
pub use server::{RosServer, ServerConfig};
pub use stats::{ClientStats, LatencySnapshot};
pub use status::{RosError, StatusCode};
