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

//! The one error model of flink-ros, from the service instance to the Java caller.
//!
//! Codes are a subset of gRPC's and keep gRPC's numbers, so the wire, the JNI layer and Java's
//! `StatusCode` enum all speak the same integers.

use std::fmt;

/// Why a call failed. The numeric values are gRPC's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum StatusCode {
    /// The caller gave up: the call was cancelled or its client closed.
    Cancelled = 1,
    /// The request was malformed or too large.
    InvalidArgument = 3,
    /// The call's deadline passed before a result arrived.
    DeadlineExceeded = 4,
    /// The instance has no such method.
    NotFound = 5,
    /// The caller authenticated as a principal, and the client id it used is outside it.
    PermissionDenied = 7,
    /// The instance's queue was full; no work was done, so the call may be retried elsewhere.
    ResourceExhausted = 8,
    /// The user's operator failed, or the runtime hit a bug.
    Internal = 13,
    /// No live instance, or the connection to it was lost; may be retried elsewhere.
    Unavailable = 14,
    /// The call did not carry the service's token.
    Unauthenticated = 16,
}

impl StatusCode {
    /// Every code, in numeric order.
    pub const ALL: [StatusCode; 9] = [
        StatusCode::Cancelled,
        StatusCode::InvalidArgument,
        StatusCode::DeadlineExceeded,
        StatusCode::NotFound,
        StatusCode::PermissionDenied,
        StatusCode::ResourceExhausted,
        StatusCode::Internal,
        StatusCode::Unavailable,
        StatusCode::Unauthenticated,
    ];

    /// Whether a call that failed with this code produced no response and may be sent again to a
    /// different instance (as Java's `StatusCode.isRetryable()`).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            StatusCode::Unavailable | StatusCode::ResourceExhausted
        )
    }

    /// The gRPC number of this code.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The code with the given gRPC number, if it is one of ours.
    pub fn from_i32(value: i32) -> Option<StatusCode> {
        StatusCode::ALL.into_iter().find(|c| c.as_i32() == value)
    }

    /// Maps any gRPC code onto ours. Codes flink-ros never sends itself (a foreign peer, a proxy)
    /// are folded into the nearest one so that retry decisions stay correct: only codes that
    /// guarantee no work was done map to the retryable `Unavailable`/`ResourceExhausted`.
    pub fn from_grpc(code: tonic::Code) -> StatusCode {
        use tonic::Code;
        match code {
            Code::Cancelled => StatusCode::Cancelled,
            Code::InvalidArgument | Code::OutOfRange => StatusCode::InvalidArgument,
            Code::DeadlineExceeded => StatusCode::DeadlineExceeded,
            Code::NotFound | Code::Unimplemented => StatusCode::NotFound,
            Code::ResourceExhausted => StatusCode::ResourceExhausted,
            Code::Unavailable => StatusCode::Unavailable,
            Code::PermissionDenied => StatusCode::PermissionDenied,
            Code::Unauthenticated => StatusCode::Unauthenticated,
            Code::Ok
            | Code::Unknown
            | Code::AlreadyExists
            | Code::FailedPrecondition
            | Code::Aborted
            | Code::Internal
            | Code::DataLoss => StatusCode::Internal,
        }
    }

    /// The gRPC code sent on the wire for this code.
    pub fn to_grpc(self) -> tonic::Code {
        tonic::Code::from_i32(self.as_i32())
    }

    /// The upper-case name used in messages and in Java (`UNAVAILABLE`, ...).
    pub fn name(self) -> &'static str {
        match self {
            StatusCode::Cancelled => "CANCELLED",
            StatusCode::InvalidArgument => "INVALID_ARGUMENT",
            StatusCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            StatusCode::NotFound => "NOT_FOUND",
            StatusCode::PermissionDenied => "PERMISSION_DENIED",
            StatusCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            StatusCode::Internal => "INTERNAL",
            StatusCode::Unavailable => "UNAVAILABLE",
            StatusCode::Unauthenticated => "UNAUTHENTICATED",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Longest piece of a caller's input that an error message repeats.
const ECHO_LIMIT: usize = 128;

/// `text` as an error message may repeat it: cut to [`ECHO_LIMIT`] bytes (on a character
/// boundary) with its full length, so that a huge input cannot make the answer itself too large.
pub(crate) fn echo(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= ECHO_LIMIT {
        return text.into();
    }
    let mut end = ECHO_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len()).into()
}

/// A failed call: a code and a message meant for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosError {
    /// What kind of failure this is.
    pub code: StatusCode,
    /// What happened, naming the offending value where there is one.
    pub message: String,
}

impl RosError {
    /// An error with the given code and message.
    pub fn new(code: StatusCode, message: impl Into<String>) -> RosError {
        RosError {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for [`StatusCode::Unavailable`].
    pub fn unavailable(message: impl Into<String>) -> RosError {
        RosError::new(StatusCode::Unavailable, message)
    }

    /// Shorthand for [`StatusCode::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> RosError {
        RosError::new(StatusCode::InvalidArgument, message)
    }

    /// Shorthand for [`StatusCode::Internal`].
    pub fn internal(message: impl Into<String>) -> RosError {
        RosError::new(StatusCode::Internal, message)
    }

    /// Shorthand for [`StatusCode::Cancelled`].
    pub fn cancelled(message: impl Into<String>) -> RosError {
        RosError::new(StatusCode::Cancelled, message)
    }

    /// Shorthand for [`StatusCode::DeadlineExceeded`].
    pub fn deadline_exceeded(message: impl Into<String>) -> RosError {
        RosError::new(StatusCode::DeadlineExceeded, message)
    }
}

impl fmt::Display for RosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RosError {}

impl From<tonic::Status> for RosError {
    fn from(status: tonic::Status) -> RosError {
        RosError::new(
            StatusCode::from_grpc(status.code()),
            status.message().to_string(),
        )
    }
}

impl From<RosError> for tonic::Status {
    fn from(error: RosError) -> tonic::Status {
        tonic::Status::new(error.code.to_grpc(), error.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_that_guarantee_no_work_was_done_are_retryable() {
        let retryable: Vec<StatusCode> = StatusCode::ALL
            .into_iter()
            .filter(|code| code.is_retryable())
            .collect();
        assert_eq!(
            retryable,
            [StatusCode::ResourceExhausted, StatusCode::Unavailable]
        );
    }

    #[test]
    fn numbers_are_grpc_numbers_and_round_trip() {
        for code in StatusCode::ALL {
            assert_eq!(StatusCode::from_i32(code.as_i32()), Some(code));
            assert_eq!(StatusCode::from_grpc(code.to_grpc()), code);
            assert_eq!(code.to_grpc() as i32, code.as_i32());
        }
        assert_eq!(StatusCode::from_i32(0), None);
        assert_eq!(StatusCode::from_i32(2), None);
    }

    #[test]
    fn foreign_codes_fold_into_non_retryable_ones() {
        assert_eq!(
            StatusCode::from_grpc(tonic::Code::Unknown),
            StatusCode::Internal
        );
        assert_eq!(
            StatusCode::from_grpc(tonic::Code::Aborted),
            StatusCode::Internal
        );
        assert_eq!(
            StatusCode::from_grpc(tonic::Code::Unimplemented),
            StatusCode::NotFound
        );
    }

    #[test]
    fn status_conversion_keeps_code_and_message() {
        let error = RosError::new(StatusCode::ResourceExhausted, "queue full (64)");
        let status: tonic::Status = error.clone().into();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(RosError::from(status), error);
    }
}
