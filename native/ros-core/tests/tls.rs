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

//! TLS between clients and instances, with a certificate authority made by the test: callers that
//! trust it are served; plain-text callers and callers trusting another authority are not.

mod common;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use common::{InstanceSpec, client};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use ros_core::{ServerConfig, StatusCode};

/// A certificate authority, and a certificate it issued for `name`, as PEM files in `dir`.
struct Pki {
    ca: PathBuf,
    certificate: PathBuf,
    key: PathBuf,
}

fn pki(dir: &Path, name: &str) -> Pki {
    std::fs::create_dir_all(dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "flink-ros test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().unwrap();
    let certificate = CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let files = Pki {
        ca: dir.join("ca.pem"),
        certificate: dir.join("instance.pem"),
        key: dir.join("instance.key"),
    };
    std::fs::write(&files.ca, ca.pem()).unwrap();
    std::fs::write(&files.certificate, certificate.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    files
}

fn scratch(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("flink-ros-tls-{test}-{}", std::process::id()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_trust_the_authority_are_served_others_are_refused() {
    let service = pki(&scratch("served"), "square.flink-ros");
    let instance = InstanceSpec::echo()
        .workers(1, 16)
        .config(|c: &mut ServerConfig| {
            c.tls_certificate_file = Some(service.certificate.clone());
            c.tls_key_file = Some(service.key.clone());
        })
        .start()
        .await;

    // Trusts the authority and checks the service's name, whatever address the instance has.
    let trusted = client(|c| {
        c.tls_ca_file = Some(service.ca.clone());
        c.tls_server_name = Some("square.flink-ros".to_string());
    });
    trusted
        .update_endpoints([instance.address.clone()])
        .unwrap();
    let reply = trusted
        .call("echo", Bytes::from_static(b"hi"), None)
        .await
        .expect("a caller that trusts the authority is served");
    assert!(reply.starts_with(b"hi"));

    // Plain text: the instance speaks TLS only.
    let plain = client(|c| c.max_attempts = 1);
    plain.update_endpoints([instance.address.clone()]).unwrap();
    let error = plain
        .call("echo", Bytes::from_static(b"hi"), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, StatusCode::Unavailable, "{error}");

    // Another authority, or the wrong name: the certificate does not verify.
    let other = pki(&scratch("other"), "square.flink-ros");
    for (ca, name) in [
        (other.ca.clone(), "square.flink-ros"),
        (service.ca.clone(), "other.flink-ros"),
    ] {
        let untrusting = client(|c| {
            c.max_attempts = 1;
            c.tls_ca_file = Some(ca);
            c.tls_server_name = Some(name.to_string());
        });
        untrusting
            .update_endpoints([instance.address.clone()])
            .unwrap();
        let error = untrusting
            .call("echo", Bytes::from_static(b"hi"), None)
            .await
            .unwrap_err();
        assert_eq!(error.code, StatusCode::Unavailable, "{error}");
    }
    assert_eq!(instance.server.stats().admitted, 1);
}

#[test]
fn tls_options_are_checked_naming_the_file() {
    let error = ros_core::ClientConfig::from_options([("tlsCaFile", "/no/such/ca.pem")])
        .and_then(ros_core::RosClient::new)
        .err()
        .expect("an unreadable CA file is refused");
    assert_eq!(error.code, StatusCode::InvalidArgument);
    assert!(
        error.message.contains("/no/such/ca.pem"),
        "{}",
        error.message
    );

    let error = ServerConfig::from_options([("tlsCertificateFile", "a.pem")], Default::default())
        .unwrap_err();
    assert!(error.message.contains("tlsKeyFile"), "{}", error.message);

    let error = ros_core::ClientConfig::from_options([("tlsServerName", "x")]).unwrap_err();
    assert!(error.message.contains("tlsCaFile"), "{}", error.message);
}
