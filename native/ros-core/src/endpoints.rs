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

//! Parsing and validation of instance addresses (`host:port`).

use crate::status::RosError;

/// Checks that `address` is `host:port` with a non-empty host and a port in 1..=65535, and returns
/// the URI a gRPC channel connects to. IPv6 hosts are written in brackets: `[::1]:7000`.
pub fn endpoint_uri(address: &str) -> Result<String, RosError> {
    let invalid = |why: &str| {
        RosError::invalid_argument(format!(
            "invalid endpoint '{address}': {why} (expected host:port, e.g. 10.0.0.5:41234)"
        ))
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(|| invalid("no port"))?;
    if host.is_empty() {
        return Err(invalid("empty host"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(invalid("IPv6 hosts must be in brackets"));
    }
    if host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(invalid("host contains whitespace or '/'"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(format!("http://{address}")),
        _ => Err(invalid("port must be a number from 1 to 65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StatusCode;

    #[test]
    fn accepts_hosts_ips_and_bracketed_ipv6() {
        assert_eq!(endpoint_uri("localhost:80").unwrap(), "http://localhost:80");
        assert_eq!(
            endpoint_uri("10.1.2.3:65535").unwrap(),
            "http://10.1.2.3:65535"
        );
        assert_eq!(endpoint_uri("[::1]:7000").unwrap(), "http://[::1]:7000");
    }

    #[test]
    fn rejects_malformed_addresses_naming_them() {
        for bad in [
            "localhost",
            ":80",
            "host:0",
            "host:70000",
            "host:http",
            "::1:80",
            "a b:1",
        ] {
            let error = endpoint_uri(bad).unwrap_err();
            assert_eq!(error.code, StatusCode::InvalidArgument);
            assert!(error.message.contains(bad), "{}", error.message);
        }
    }
}
