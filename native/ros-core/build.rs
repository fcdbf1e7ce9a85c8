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

//! Generates the gRPC code from the one copy of the wire contract in `proto/`, with `protox` (a
//! pure-Rust protobuf compiler) so that no `protoc` binary is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let contract = proto_root.join("ros/v1/ros.proto");
    println!("cargo:rerun-if-changed={}", contract.display());

    let descriptors = protox::compile([&contract], [&proto_root])?;
    tonic_prost_build::configure()
        // Payloads are opaque; `Bytes` lets them move between layers without copies.
        .bytes(".ros.v1")
        // Malformed requests are the caller's fault: INVALID_ARGUMENT, not INTERNAL.
        .codec_path("crate::codec::RosCodec")
        .compile_fds(descriptors)?;
    Ok(())
}
