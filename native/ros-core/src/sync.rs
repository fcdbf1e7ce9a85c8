//! Locking shared by the runtime and its JNI layer.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, taking it over even if a panic poisoned it.
///
/// Every value the runtime guards stays consistent across a panic (each change is a single insert,
/// remove or replace), and a panic must not turn into a second one in a later caller, which on the
/// JNI side would be a Java exception on an unrelated call.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
