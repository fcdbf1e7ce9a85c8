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

//! Who may call a service instance, and for which clients.
//!
//! A service has one secret token, made when the job is built and given to both sides; it never
//! appears in logs, errors or `Debug` output. A caller authenticates in one of two ways:
//!
//! - as the service's **owner**, with the token itself (header `x-ros-token`): it may act for any
//!   client id (the JobManager cancels the queued requests of failed subtasks this way);
//! - as a **principal** `P`, with header `x-ros-principal: P` and, as its token, the credential
//!   [`ServiceToken::credential`] derives for `P`: it may only act for client ids that are `P` or
//!   start with `P/`. A data-plane operator gets the credential of its own prefix, so it cannot
//!   cancel (or impersonate) another operator's calls, while the service token stays with the
//!   owner.
//!
//! Each header must come exactly once: a request with several is refused, whatever they hold, so
//! that no proxy or server can pick a different one than was checked.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};

use crate::status::{RosError, StatusCode, echo};

/// The request header that carries the token (the service token, or a principal's credential).
pub const TOKEN_HEADER: &str = "x-ros-token";

/// The request header that names the principal a caller authenticates as.
pub const PRINCIPAL_HEADER: &str = "x-ros-principal";

/// What a credential's MAC covers before the principal, so that it cannot be mistaken for a MAC
/// of anything else made with the service token.
const CREDENTIAL_CONTEXT: &str = "flink-ros-credential:";

/// Longest principal, in characters (it travels in an HTTP/2 header).
const MAX_PRINCIPAL_LENGTH: usize = 256;

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

    /// The credential of `principal` under this service token: the lowercase hex of
    /// HMAC-SHA256 with the token's bytes as key over `"flink-ros-credential:" + principal`. A
    /// caller presents it as its token, with the principal in [`PRINCIPAL_HEADER`]. It is as
    /// secret as the token (whoever holds it acts as the principal), so it is a `ServiceToken`
    /// too.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if `principal` is not one (see [`validate_principal`]).
    pub fn credential(&self, principal: &str) -> Result<ServiceToken, RosError> {
        validate_principal(principal)?;
        Ok(ServiceToken(Arc::from(self.credential_hex(principal))))
    }

    fn credential_hex(&self, principal: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(CREDENTIAL_CONTEXT.as_bytes());
        mac.update(principal.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(2 * digest.len());
        for byte in digest {
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
        }
        hex
    }

    /// The header value to send.
    pub(crate) fn header_value(&self) -> AsciiMetadataValue {
        AsciiMetadataValue::try_from(&*self.0).expect("checked to be visible ASCII")
    }

    /// Who `metadata` authenticates as under this service token, or `None` when it does not:
    /// the token header missing, repeated or wrong; the principal header repeated or not a
    /// principal; or a credential that is not the principal's. Compares in constant time.
    pub(crate) fn authenticate(&self, metadata: &MetadataMap) -> Option<Identity> {
        let presented = single(metadata, TOKEN_HEADER)?;
        let mut principals = metadata.get_all(PRINCIPAL_HEADER).iter();
        match (principals.next(), principals.next()) {
            (None, _) => {
                constant_time_eq(presented.as_bytes(), self.0.as_bytes()).then_some(Identity::Owner)
            }
            (Some(principal), None) => {
                let principal = principal.to_str().ok()?;
                validate_principal(principal).ok()?;
                let expected = self.credential_hex(principal);
                constant_time_eq(presented.as_bytes(), expected.as_bytes())
                    .then(|| Identity::Principal(Arc::from(principal)))
            }
            _ => None,
        }
    }
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceToken(<redacted>)")
    }
}

/// The value of `header` in `metadata` if it is there exactly once.
fn single<'a>(metadata: &'a MetadataMap, header: &str) -> Option<&'a AsciiMetadataValue> {
    let mut values = metadata.get_all(header).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

/// Checks that `principal` can be one: 1 to 256 visible ASCII characters (no whitespace).
///
/// # Errors
/// `INVALID_ARGUMENT` naming the principal (cut to the length error messages repeat).
pub fn validate_principal(principal: &str) -> Result<(), RosError> {
    let length = principal.len();
    if !(1..=MAX_PRINCIPAL_LENGTH).contains(&length)
        || !principal.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(RosError::invalid_argument(format!(
            "principal must be 1 to {MAX_PRINCIPAL_LENGTH} visible ASCII characters without \
             whitespace, got '{}' ({length} bytes)",
            echo(principal)
        )));
    }
    Ok(())
}

/// Whether `client_id` is within `principal`: the principal itself, or below it (`principal/…`).
pub fn is_within(principal: &str, client_id: &str) -> bool {
    client_id
        .strip_prefix(principal)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Who a caller authenticated as; the server's token check puts it into each request's
/// extensions, and the handlers check client ids against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Presented the service token itself (or the instance has no token): may act for any
    /// client id.
    Owner,
    /// Presented a principal and its credential: may act only for client ids within it.
    Principal(Arc<str>),
}

impl Identity {
    /// Whether this caller may act for `client_id` (send its calls, cancel its requests).
    pub fn permits(&self, client_id: &str) -> bool {
        match self {
            Identity::Owner => true,
            Identity::Principal(principal) => is_within(principal, client_id),
        }
    }

    /// `PERMISSION_DENIED` naming the client id and the principal unless [`Identity::permits`]
    /// `client_id`; `action` says what was refused ("call", "cancel").
    pub(crate) fn check(&self, client_id: &str, action: &str) -> Result<(), RosError> {
        match self {
            Identity::Principal(principal) if !self.permits(client_id) => {
                let principal = echo(principal);
                Err(RosError::new(
                    StatusCode::PermissionDenied,
                    format!(
                        "client id '{}' is outside principal '{principal}': a caller \
                         authenticated as '{principal}' may {action} only for client ids \
                         '{principal}' and '{principal}/...'",
                        echo(client_id)
                    ),
                ))
            }
            _ => Ok(()),
        }
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

    fn owner() -> ServiceToken {
        ServiceToken::new(SECRET).unwrap()
    }

    fn headers(token: Option<&str>, principals: &[&str]) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        if let Some(token) = token {
            metadata.insert(TOKEN_HEADER, token.parse().unwrap());
        }
        for principal in principals {
            metadata.append(PRINCIPAL_HEADER, principal.parse().unwrap());
        }
        metadata
    }

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
        let token = owner();
        assert!(!format!("{token:?}").contains("secret"));
        let credential = token.credential("job/op").unwrap();
        assert_eq!(format!("{credential:?}"), "ServiceToken(<redacted>)");
    }

    #[test]
    fn admits_only_the_exact_token_as_the_owner() {
        let token = owner();
        assert_eq!(token.authenticate(&headers(None, &[])), None);
        assert_eq!(
            token.authenticate(&headers(Some("0123456789abcdef-secreT"), &[])),
            None
        );
        assert_eq!(
            token.authenticate(&headers(Some(SECRET), &[])),
            Some(Identity::Owner)
        );
    }

    #[test]
    fn refuses_a_repeated_token_header_even_when_one_is_right() {
        let token = owner();
        let mut metadata = MetadataMap::new();
        metadata.insert(TOKEN_HEADER, token.header_value());
        metadata.append(TOKEN_HEADER, "0123456789abcdef-wrong".parse().unwrap());
        assert_eq!(token.authenticate(&metadata), None);
        let mut twice = MetadataMap::new();
        twice.insert(TOKEN_HEADER, token.header_value());
        twice.append(TOKEN_HEADER, token.header_value());
        assert_eq!(token.authenticate(&twice), None);
    }

    #[test]
    fn credential_is_the_hmac_sha256_of_the_principal_in_lowercase_hex() {
        // Computed independently: HMAC-SHA256(key = token, "flink-ros-credential:job-1/op-2"),
        // with Python's hmac module and with openssl dgst -hmac. Java's ServiceTokens tests the
        // same vector.
        let credential = owner().credential("job-1/op-2").unwrap();
        assert_eq!(
            &*credential.0,
            "7e223127d828fd47256ae439c1ba4d5cb88f8f98c4669175fcc3f60bd5e946c1"
        );
        let other = ServiceToken::new("s3cret-token-for-this-service").unwrap();
        assert_eq!(
            &*other.credential("tenant-a").unwrap().0,
            "b23c693d2b7f49a71fb8644b148f855f2ee2d1ef74eaf7b85f440fbb481b9d26"
        );
    }

    #[test]
    fn a_principal_authenticates_only_with_its_own_credential() {
        let token = owner();
        let a = token.credential("job/a").unwrap();
        let upper = a.0.to_uppercase();
        assert_eq!(
            token.authenticate(&headers(Some(&a.0), &["job/a"])),
            Some(Identity::Principal(Arc::from("job/a")))
        );
        // A's credential under B's name, the service token under a principal's name, a
        // credential without its principal, and a credential in upper case are all refused.
        for (presented, principals) in [
            (&*a.0, &["job/b"][..]),
            (SECRET, &["job/a"][..]),
            (&*a.0, &[][..]),
            (upper.as_str(), &["job/a"][..]),
        ] {
            assert_eq!(
                token.authenticate(&headers(Some(presented), principals)),
                None,
                "{principals:?}"
            );
        }
        // Another service's credential for the same principal is no credential here.
        let elsewhere = ServiceToken::new("another-service-token").unwrap();
        let foreign = elsewhere.credential("job/a").unwrap();
        assert_eq!(
            token.authenticate(&headers(Some(&foreign.0), &["job/a"])),
            None
        );
    }

    #[test]
    fn refuses_a_repeated_principal_header_even_when_both_match() {
        let token = owner();
        let a = token.credential("job/a").unwrap();
        assert_eq!(
            token.authenticate(&headers(Some(&a.0), &["job/a", "job/a"])),
            None
        );
        assert_eq!(
            token.authenticate(&headers(Some(&a.0), &["job/a", "job/b"])),
            None
        );
    }

    #[test]
    fn principals_are_visible_ascii_without_whitespace_and_bounded() {
        let token = owner();
        let long = "p".repeat(257);
        for bad in ["", "has space", "tab\there", "ünï", long.as_str()] {
            let error = token.credential(bad).unwrap_err();
            assert_eq!(error.code, StatusCode::InvalidArgument);
            assert!(error.message.contains("principal"), "{}", error.message);
            assert!(error.message.len() < 300, "capped: {}", error.message);
        }
        token.credential(&"p".repeat(256)).unwrap();
    }

    #[test]
    fn a_principal_permits_itself_and_what_is_below_it_only() {
        let a = Identity::Principal(Arc::from("job/op"));
        for id in ["job/op", "job/op/0", "job/op/0/x"] {
            assert!(a.permits(id), "{id}");
            a.check(id, "cancel").unwrap();
        }
        for id in ["job/op2", "job/o", "job", "", "other/job/op", "job/op2/0"] {
            assert!(!a.permits(id), "{id}");
        }
        for id in ["job/op2/0", "", "anything"] {
            assert!(Identity::Owner.permits(id));
        }
    }

    #[test]
    fn a_refusal_names_the_client_id_capped_and_the_principal() {
        let a = Identity::Principal(Arc::from("job/a"));
        let error = a.check("job/b/0", "cancel").unwrap_err();
        assert_eq!(error.code, StatusCode::PermissionDenied);
        assert!(
            error.message.contains("'job/b/0'") && error.message.contains("'job/a'"),
            "{}",
            error.message
        );
        let huge = "x".repeat(10_000);
        let error = a.check(&huge, "call").unwrap_err();
        assert!(error.message.len() < 500, "{}", error.message);
    }
}
