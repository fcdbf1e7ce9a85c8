//! Counters and latency histograms of clients and servers, and their snapshots.

use std::sync::Mutex;
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
        let mut histogram = crate::sync::lock(&self.0);
        // Saturated above, so recording cannot fail.
        let _ = histogram.record(micros);
    }

    pub(crate) fn snapshot(&self) -> LatencySnapshot {
        let histogram = crate::sync::lock(&self.0);
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
    /// The fields in a fixed order, for handing across JNI.
    pub fn to_array(&self) -> [u64; 9] {
        [
            self.count,
            self.mean_micros,
            self.stddev_micros,
            self.min_micros,
            self.p50_micros,
            self.p90_micros,
            self.p99_micros,
            self.p999_micros,
            self.max_micros,
        ]
    }
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
    /// Failed calls with this code.
    pub fn failed(&self, code: StatusCode) -> u64 {
        let index = StatusCode::ALL.iter().position(|c| *c == code).unwrap();
        self.failed_by_code[index]
    }
}
