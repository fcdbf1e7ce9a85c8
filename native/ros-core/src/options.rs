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

//! Client and server options by name, over the defaults and within the limits of
//! `options.properties`, the one place where those are set.
//!
//! Hosts hand options across a language boundary as name/value pairs (the Java facade does), so
//! that an option is matched by its name, never by its position, and so that a name one side does
//! not know is refused instead of ignored. [`crate::ClientConfig::from_options`] and
//! [`crate::ServerConfig::from_options`] build configurations from them.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::status::RosError;

/// The table of defaults and limits, shared with the Java facade.
pub const TABLE: &str = include_str!("options.properties");

/// Whose options: a client's or a server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Options of a `RosClient`.
    Client,
    /// Options of a `RosServer`.
    Server,
}

impl Side {
    fn prefix(self) -> &'static str {
        match self {
            Side::Client => "client.",
            Side::Server => "server.",
        }
    }
}

/// One line of the table.
#[derive(Debug)]
struct Spec {
    default: Option<&'static str>,
    min: Option<&'static str>,
    max: Option<&'static str>,
}

fn specs(side: Side) -> &'static BTreeMap<&'static str, Spec> {
    static CLIENT: OnceLock<BTreeMap<&'static str, Spec>> = OnceLock::new();
    static SERVER: OnceLock<BTreeMap<&'static str, Spec>> = OnceLock::new();
    let cell = match side {
        Side::Client => &CLIENT,
        Side::Server => &SERVER,
    };
    cell.get_or_init(|| parse_table(side))
}

/// Parses the lines of `side`; the table is part of the build, so a malformed line is a bug that
/// every test run finds.
fn parse_table(side: Side) -> BTreeMap<&'static str, Spec> {
    let mut specs = BTreeMap::new();
    for line in TABLE.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("options.properties: no '=' in '{line}'"));
        let Some(name) = key.trim().strip_prefix(side.prefix()) else {
            continue;
        };
        let value = value.trim();
        let (default, limits) = match value.split_once('[') {
            Some((default, limits)) => (default.trim(), Some(limits)),
            None => (value, None),
        };
        let (min, max) = match limits {
            Some(limits) => {
                let (min, max) = limits
                    .trim_end_matches(']')
                    .split_once(',')
                    .unwrap_or_else(|| panic!("options.properties: bad limits in '{line}'"));
                (non_empty(min), non_empty(max))
            }
            None => (None, None),
        };
        specs.insert(
            name,
            Spec {
                default: non_empty(default),
                min,
                max,
            },
        );
    }
    specs
}

fn non_empty(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty()).then_some(text)
}

/// The options of one side: the values given by name, over the defaults of the rest.
#[derive(Debug)]
pub struct Options {
    side: Side,
    values: BTreeMap<&'static str, String>,
    given: Vec<&'static str>,
}

impl Options {
    /// The defaults of `side` with `given` set over them.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a name that `side` does not have, or one given twice. Values are
    /// checked when they are read.
    pub fn new<K, V>(
        side: Side,
        given: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Options, RosError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let specs = specs(side);
        let mut values: BTreeMap<&'static str, String> = specs
            .iter()
            .filter_map(|(name, spec)| spec.default.map(|d| (*name, d.to_string())))
            .collect();
        let mut seen = Vec::new();
        for (name, value) in given {
            let name = name.as_ref();
            let Some((known, _)) = specs.get_key_value(name) else {
                return Err(RosError::invalid_argument(format!(
                    "unknown {side:?} option '{}'; known: {}",
                    crate::status::echo(name),
                    specs.keys().copied().collect::<Vec<_>>().join(", ")
                )));
            };
            if seen.contains(known) {
                return Err(RosError::invalid_argument(format!(
                    "{side:?} option '{name}' given twice"
                )));
            }
            seen.push(*known);
            values.insert(known, value.into());
        }
        Ok(Options {
            side,
            values,
            given: seen,
        })
    }

    /// A text option; `None` when not set.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values
            .get(self.known(name))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// An integer option, within its limits and the range of `T`.
    pub fn int<T>(&self, name: &str) -> Result<T, RosError>
    where
        T: TryFrom<i64>,
    {
        let value: i64 = self.number(name)?;
        T::try_from(value)
            .map_err(|_| RosError::invalid_argument(format!("{name} is out of range, got {value}")))
    }

    /// A fraction or other real option, within its limits.
    pub fn real(&self, name: &str) -> Result<f64, RosError> {
        self.number(name)
    }

    /// A duration option, given in whole milliseconds.
    pub fn millis(&self, name: &str) -> Result<Duration, RosError> {
        Ok(Duration::from_millis(self.int::<u64>(name)?))
    }

    /// A duration option, given in whole microseconds.
    pub fn micros(&self, name: &str) -> Result<Duration, RosError> {
        Ok(Duration::from_micros(self.int::<u64>(name)?))
    }

    /// Whether `name` was given rather than left at its default.
    pub fn is_given(&self, name: &str) -> bool {
        self.given.contains(&self.known(name))
    }

    fn number<T>(&self, name: &str) -> Result<T, RosError>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let name = self.known(name);
        let spec = &specs(self.side)[name];
        let text = self.text(name).ok_or_else(|| {
            RosError::invalid_argument(format!("{:?} option {name} is required", self.side))
        })?;
        let value: T = text.trim().parse().map_err(|_| {
            RosError::invalid_argument(format!(
                "{name} must be a number, got '{}'",
                crate::status::echo(text)
            ))
        })?;
        let bound = |limit: Option<&str>| -> Option<T> {
            limit.map(|l| {
                l.parse()
                    .unwrap_or_else(|_| panic!("options.properties: bad limit of {name}"))
            })
        };
        let (min, max) = (bound(spec.min), bound(spec.max));
        let below = min.is_some_and(|min| value < min);
        let above = max.is_some_and(|max| value > max);
        if below || above || value.partial_cmp(&value).is_none() {
            let range = match (min, max) {
                (Some(min), Some(max)) => format!("in [{min}, {max}]"),
                (Some(min), None) => format!("at least {min}"),
                (None, Some(max)) => format!("at most {max}"),
                (None, None) => "a number".to_string(),
            };
            return Err(RosError::invalid_argument(format!(
                "{name} must be {range}, got {value}"
            )));
        }
        Ok(value)
    }

    /// The table's spelling of `name`; a name that is not in it is a bug in this crate.
    fn known(&self, name: &str) -> &'static str {
        specs(self.side)
            .get_key_value(name)
            .map(|(known, _)| *known)
            .unwrap_or_else(|| panic!("options.properties has no {:?} option {name}", self.side))
    }
}

/// Microseconds of `duration`; a part of a microsecond counts as a whole one.
pub fn to_micros(duration: Duration) -> String {
    duration.as_nanos().div_ceil(1_000).to_string()
}

/// Milliseconds of `duration`, the unit options cross in; a part of a millisecond counts as a
/// whole one, so that a positive duration set in code never reads as 0.
pub fn to_millis(duration: Duration) -> String {
    duration.as_nanos().div_ceil(1_000_000).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StatusCode;

    #[test]
    fn defaults_come_from_the_table() {
        let options = Options::new(Side::Client, Vec::<(&str, String)>::new()).unwrap();
        assert_eq!(options.int::<u32>("maxAttempts").unwrap(), 3);
        assert_eq!(options.real("retryBudgetRatio").unwrap(), 0.2);
        assert_eq!(
            options.millis("defaultTimeoutMillis").unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(options.text("token"), None);
        assert_eq!(options.text("clientId"), Some("ros-client"));
    }

    #[test]
    fn given_values_replace_defaults_and_are_checked_against_the_limits() {
        let options = Options::new(Side::Client, [("maxAttempts", "7")]).unwrap();
        assert_eq!(options.int::<u32>("maxAttempts").unwrap(), 7);

        let options = Options::new(Side::Client, [("maxAttempts", "101")]).unwrap();
        let error = options.int::<u32>("maxAttempts").unwrap_err();
        assert_eq!(error.code, StatusCode::InvalidArgument);
        assert_eq!(error.message, "maxAttempts must be in [1, 100], got 101");

        let options = Options::new(Side::Client, [("retryBudgetRatio", "NaN")]).unwrap();
        assert!(options.real("retryBudgetRatio").is_err());

        let options = Options::new(Side::Server, [("port", "65536")]).unwrap();
        assert!(options.int::<u16>("port").is_err());
    }

    #[test]
    fn unknown_and_repeated_names_are_refused() {
        let error = Options::new(Side::Client, [("maxAtempts", "3")]).unwrap_err();
        assert!(
            error.message.contains("unknown Client option 'maxAtempts'"),
            "{}",
            error.message
        );
        assert!(error.message.contains("maxAttempts"));
        // A server option is not a client option.
        assert!(Options::new(Side::Client, [("queueCapacity", "3")]).is_err());
        let error =
            Options::new(Side::Client, [("maxAttempts", "3"), ("maxAttempts", "4")]).unwrap_err();
        assert!(error.message.contains("given twice"));
    }

    #[test]
    fn configurations_survive_a_round_trip_through_their_options() {
        let client = crate::ClientConfig {
            client_id: "job/op/3".to_string(),
            max_attempts: 9,
            keepalive_interval: Duration::from_millis(1234),
            service_name: Some("svc".to_string()),
            principal: Some("job/op".to_string()),
            ..crate::ClientConfig::default()
        };
        assert_eq!(
            crate::ClientConfig::from_options(client.to_options()).unwrap(),
            client
        );
        let server = crate::ServerConfig {
            queue_capacity: 7,
            keepalive_timeout: Duration::from_millis(4321),
            ..crate::ServerConfig::default()
        };
        assert_eq!(
            crate::ServerConfig::from_options(server.to_options(), Default::default()).unwrap(),
            server
        );
    }
}
