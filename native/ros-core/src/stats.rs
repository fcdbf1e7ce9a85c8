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

//! Counters and latency histograms of clients and servers, and their snapshots.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::status::StatusCode;

/// A latency histogram in microseconds, from 1 µs to 1 hour with 3 significant digits.
pub(crate) struct LatencyHistogram(Mutex<Histogram<u64>>);

impl LatencyHistogram {
    pub(crate) fn new() -> LatencyHistogram {
        LatencyHistogram(Mutex::new(
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
        ))
    }

    pub(crate) fn record(&self, duration: Duration) {
        let micros = (duration.as_micros() as u64).clamp(1, 3_600_000_000);
        let mut histogram = self.0.lock();
        // Saturated above, so recording cannot fail.
        let _ = histogram.record(micros);
    }

    pub(crate) fn snapshot(&self) -> LatencySnapshot {
        let histogram = self.0.lock();
        LatencySnapshot {
            count: histogram.len(),
            mean_micros: histogram.mean() as u64,
            stddev_micros: histogram.stdev() as u64,
            min_micros: histogram.min(),
            p50_micros: histogram.value_at_quantile(0.50),
            p90_micros: histogram.value_at_quantile(0.90),
            p99_micros: histogram.value_at_quantile(0.99),
            p999_micros: histogram.value_at_quantile(0.999),
            max_micros: histogram.max(),
        }
    }
}

/// A summary of a latency histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencySnapshot {
    /// Values recorded.
    pub count: u64,
    /// Mean.
    pub mean_micros: u64,
    /// Standard deviation.
    pub stddev_micros: u64,
    /// Smallest value.
    pub min_micros: u64,
    /// Median.
    pub p50_micros: u64,
    /// 90th percentile.
    pub p90_micros: u64,
    /// 99th percentile.
    pub p99_micros: u64,
    /// 99.9th percentile.
    pub p999_micros: u64,
    /// Largest value.
    pub max_micros: u64,
}

impl LatencySnapshot {
    /// The fields by name (`<prefix>.count`, `<prefix>.p99Micros`, ...), for hosts that read stats
    /// by name across a language boundary.
    pub fn named(&self, prefix: &str, out: &mut Vec<(String, u64)>) {
        let fields = [
            ("count", self.count),
            ("meanMicros", self.mean_micros),
            ("stdDevMicros", self.stddev_micros),
            ("minMicros", self.min_micros),
            ("p50Micros", self.p50_micros),
            ("p90Micros", self.p90_micros),
            ("p99Micros", self.p99_micros),
            ("p999Micros", self.p999_micros),
            ("maxMicros", self.max_micros),
        ];
        out.extend(
            fields
                .into_iter()
                .map(|(name, value)| (format!("{prefix}.{name}"), value)),
        );
    }
}

/// Counts by status code, by name (`<prefix>.UNAVAILABLE`, ...).
pub(crate) fn named_codes(prefix: &str, counts: &[u64], out: &mut Vec<(String, u64)>) {
    out.extend(
        StatusCode::ALL
            .iter()
            .zip(counts)
            .map(|(code, count)| (format!("{prefix}.{}", code.name()), *count)),
    );
}

/// A counter per status code.
#[derive(Default)]
pub(crate) struct CodeCounters([AtomicU64; StatusCode::ALL.len()]);

impl CodeCounters {
    pub(crate) fn increment(&self, code: StatusCode) {
        let index = StatusCode::ALL
            .iter()
            .position(|c| *c == code)
            .expect("every code is in ALL");
        self.0[index].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> [u64; StatusCode::ALL.len()] {
        std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed))
    }
}

/// What a client has done since it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Calls made.
    pub calls: u64,
    /// Calls that returned a result.
    pub succeeded: u64,
    /// Failed calls by final status code, in the order of [`StatusCode::ALL`].
    pub failed_by_code: [u64; StatusCode::ALL.len()],
    /// Attempts sent again to another instance.
    pub retries: u64,
    /// Retries the retry budget refused.
    pub retries_refused: u64,
    /// Times an instance was ejected (lost connection or full queue).
    pub ejections: u64,
    /// Calls in flight now (sent or waiting for a slot).
    pub in_flight: u64,
    /// Latency of successful calls, from the call to its result.
    pub latency: LatencySnapshot,
}

impl ClientStats {
    /// Every counter and latency field by name, as the Java facade's `RosClientStats` reads them.
    pub fn named(&self) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = [
            ("calls", self.calls),
            ("succeeded", self.succeeded),
            ("retries", self.retries),
            ("retriesRefused", self.retries_refused),
            ("ejections", self.ejections),
            ("inFlight", self.in_flight),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
        named_codes("failed", &self.failed_by_code, &mut out);
        self.latency.named("latency", &mut out);
        out
    }

    /// Failed calls with this code.
    pub fn failed(&self, code: StatusCode) -> u64 {
        let index = StatusCode::ALL.iter().position(|c| *c == code).unwrap();
        self.failed_by_code[index]
    }
}
