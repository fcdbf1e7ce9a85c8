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

//! The bridge from Rust `tracing` to Java logging (SLF4J).
//!
//! Events go into a bounded channel; when it is full they are dropped and counted, so logging
//! never blocks a runtime thread. A Java daemon thread drains the channel into SLF4J. The level is
//! set from Java (from SLF4J's configuration).

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};

use parking_lot::Mutex;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Events waiting for the Java drain thread at most; more are dropped.
const CAPACITY: usize = 4096;

/// A log event on its way to Java.
pub(crate) struct LogRecord {
    /// 1 = ERROR … 5 = TRACE.
    pub(crate) level: i32,
    pub(crate) target: String,
    pub(crate) message: String,
}

/// Java's numbers for levels; 0 turns logging off.
fn level_number(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

struct Bridge {
    sender: SyncSender<LogRecord>,
    receiver: Mutex<Receiver<LogRecord>>,
    max_level: AtomicU8,
    dropped: AtomicU64,
}

static BRIDGE: OnceLock<Bridge> = OnceLock::new();

fn bridge() -> &'static Bridge {
    BRIDGE.get_or_init(|| {
        let (sender, receiver) = sync_channel(CAPACITY);
        Bridge {
            sender,
            receiver: Mutex::new(receiver),
            max_level: AtomicU8::new(level_number(&Level::INFO)),
            dropped: AtomicU64::new(0),
        }
    })
}

/// Makes the bridge this library's `tracing` subscriber. Called from `JNI_OnLoad`.
pub(crate) fn install() {
    let _ = bridge();
    // Fails only if another subscriber is set in this copy of the library: keep that one.
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(JavaLayer));
}

/// Sets the most detailed level forwarded: 0 = off, 1 = ERROR … 5 = TRACE.
pub(crate) fn set_level(level: i32) {
    bridge()
        .max_level
        .store(level.clamp(0, 5) as u8, Ordering::Relaxed);
}

/// Events dropped because the channel was full.
pub(crate) fn dropped() -> u64 {
    bridge().dropped.load(Ordering::Relaxed)
}

/// Waits up to `timeout` for events and takes at most `max` of them.
pub(crate) fn drain(max: usize, timeout: Duration) -> Vec<LogRecord> {
    let receiver = bridge().receiver.lock();
    let mut records = Vec::new();
    match receiver.recv_timeout(timeout) {
        Ok(first) => records.push(first),
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return records,
    }
    while records.len() < max {
        match receiver.try_recv() {
            Ok(record) => records.push(record),
            Err(_) => break,
        }
    }
    records
}

struct JavaLayer;

impl<S: Subscriber> Layer<S> for JavaLayer {
    fn register_callsite(&self, _metadata: &'static Metadata<'static>) -> Interest {
        // The level changes at run time, so ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        level_number(metadata.level()) <= bridge().max_level.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut message = MessageVisitor(String::new());
        event.record(&mut message);
        let metadata = event.metadata();
        let record = LogRecord {
            level: i32::from(level_number(metadata.level())),
            target: metadata.target().to_string(),
            message: message.0,
        };
        let bridge = bridge();
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            bridge.sender.try_send(record)
        {
            bridge.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Formats an event as its message followed by `key=value` fields.
struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            let _ = write!(self.0, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}
