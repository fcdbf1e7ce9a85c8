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

//! The per-service secret token: made when the job is built, given to both sides, checked on
//! every call. It never appears in logs, errors or `Debug` output.

use std::fmt;
use std::sync::Arc;

use tonic::metadata::{AsciiMetadataValue, MetadataMap};

use crate::status::RosError;

/// The request header that carries the token.
pub const TOKEN_HEADER: &str = "x-ros-token";

/// A service's secret token.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceToken(Arc<str>);

impl ServiceToken {
    /// A token of 16 to 256 visible ASCII characters (it travels in an HTTP/2 header).
    pub fn new(token: impl Into<String>) -> Result<ServiceToken, RosError> {
        let token = token.into();
        let length = token.len();
        if !(16..=256).contains(&length) || !token.bytes().all(|b| b.is_ascii_graphic()) {
            // The value itself is secret, so only its shape is reported.
            return Err(RosError::invalid_argument(format!(
                "service token must be 16 to 256 visible ASCII characters (got {length} characters)"
            )));
        }
        Ok(ServiceToken(Arc::from(token)))
    }

    /// The header value to send.
    pub(crate) fn header_value(&self) -> AsciiMetadataValue {
        AsciiMetadataValue::try_from(&*self.0).expect("checked to be visible ASCII")
    }

    /// Whether `metadata` carries this token, exactly once: a request with several token headers
    /// is refused, whatever they hold, so that no proxy or server can pick a different one than
    /// was checked. Compares in constant time.
    pub(crate) fn admits(&self, metadata: &MetadataMap) -> bool {
        let mut values = metadata.get_all(TOKEN_HEADER).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => constant_time_eq(value.as_bytes(), self.0.as_bytes()),
            _ => false,
        }
    }
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceToken(<redacted>)")
    }
}

/// Equality whose time does not depend on where the inputs differ (only on their lengths).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-secret";

    #[test]
    fn rejects_short_or_non_ascii_tokens_without_echoing_them() {
        for bad in [
            "short",
            "has space in the middle!",
            "ünïcödé-token-value-xx",
        ] {
            let error = ServiceToken::new(bad).unwrap_err();
            assert!(!error.message.contains(bad), "{}", error.message);
        }
    }

    #[test]
    fn debug_output_is_redacted() {
        let token = ServiceToken::new(SECRET).unwrap();
        assert!(!format!("{token:?}").contains("secret"));
    }

    #[test]
    fn admits_only_the_exact_token() {
        let token = ServiceToken::new(SECRET).unwrap();
        let mut metadata = MetadataMap::new();
        assert!(!token.admits(&metadata));
        metadata.insert(TOKEN_HEADER, "0123456789abcdef-secreT".parse().unwrap());
        assert!(!token.admits(&metadata));
        metadata.insert(TOKEN_HEADER, token.header_value());
        assert!(token.admits(&metadata));
    }

    #[test]
    fn refuses_a_repeated_token_header_even_when_one_is_right() {
        let token = ServiceToken::new(SECRET).unwrap();
        let mut metadata = MetadataMap::new();
        metadata.insert(TOKEN_HEADER, token.header_value());
        metadata.append(TOKEN_HEADER, "0123456789abcdef-wrong".parse().unwrap());
        assert!(!token.admits(&metadata));
        let mut twice = MetadataMap::new();
        twice.insert(TOKEN_HEADER, token.header_value());
        twice.append(TOKEN_HEADER, token.header_value());
        assert!(!token.admits(&twice));
    }
}
