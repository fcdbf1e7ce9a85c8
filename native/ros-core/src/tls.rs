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

//! TLS between clients and instances (rustls), from PEM files named in the options.
//!
//! An instance presents a certificate and key; a client trusts the certificate authority that
//! signed it and checks the certificate against a server name. Instances announce addresses
//! (host:port) that change as they move, so one certificate for the whole service, issued for a
//! name of the service's own and checked with `tlsServerName`, is the usual set-up.

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::status::RosError;

fn read(option: &str, path: &Path) -> Result<Vec<u8>, RosError> {
    std::fs::read(path).map_err(|error| {
        RosError::invalid_argument(format!(
            "cannot read {option} '{}': {error}",
            path.display()
        ))
    })
}

/// The server side: the instance's certificate chain and private key.
pub(crate) fn server(certificate: &Path, key: &Path) -> Result<ServerTlsConfig, RosError> {
    let identity = Identity::from_pem(
        read("tlsCertificateFile", certificate)?,
        read("tlsKeyFile", key)?,
    );
    Ok(ServerTlsConfig::new().identity(identity))
}

/// The client side: the certificate authority to trust, and the name certificates must carry
/// (when not given, the host of each instance's address).
pub(crate) fn client(ca: &Path, server_name: Option<&str>) -> Result<ClientTlsConfig, RosError> {
    let pem = read("tlsCaFile", ca)?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(RosError::invalid_argument(format!(
            "tlsCaFile '{}' holds no PEM certificate",
            ca.display()
        )));
    }
    let config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
    Ok(match server_name {
        Some(name) => config.domain_name(name),
        None => config,
    })
}
