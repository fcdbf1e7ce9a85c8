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

//! Native objects owned by Java through a `long` pointer, and the runtime lease they hold.
//!
//! Java's `NativeHandle` calls `close` to release an object's resources and `free`, once nothing
//! can use it any more, to release its memory; between the two, calls on a closed object fail
//! cleanly instead of touching freed memory.

use parking_lot::{Mutex, MutexGuard};

use jni::sys::jlong;
use tokio::runtime::Handle;

use crate::runtime::RuntimeLease;

/// A native object Java holds by pointer.
pub(crate) trait NativeObject: Send + Sync + 'static {
    /// Releases the object's resources; idempotent.
    fn close(&self);
}

/// Moves `object` to the heap and returns the pointer Java keeps.
pub(crate) fn into_pointer<T: NativeObject>(object: T) -> jlong {
    Box::into_raw(Box::new(object)) as jlong
}

/// The object behind a pointer.
///
/// # Safety
/// `pointer` must come from [`into_pointer`] for the same `T` and not have been freed; Java's
/// `NativeHandle` guarantees both.
pub(crate) unsafe fn borrow<'a, T: NativeObject>(pointer: jlong) -> &'a T {
    // SAFETY: see the function's contract.
    unsafe { &*(pointer as *const T) }
}

/// Closes the object, then releases its memory.
///
/// # Safety
/// As for [`borrow`], and nothing may use the pointer afterwards.
pub(crate) unsafe fn free<T: NativeObject>(pointer: jlong) {
    // SAFETY: see the function's contract.
    let object = unsafe { Box::from_raw(pointer as *mut T) };
    object.close();
}

/// The runtime lease of an open object; taken away when the object closes.
pub(crate) struct LeaseSlot(Mutex<Option<RuntimeLease>>);

impl LeaseSlot {
    pub(crate) fn new(lease: RuntimeLease) -> LeaseSlot {
        LeaseSlot(Mutex::new(Some(lease)))
    }

    fn lock(&self) -> MutexGuard<'_, Option<RuntimeLease>> {
        self.0.lock()
    }

    /// The runtime to spawn on, unless the object is closed.
    pub(crate) fn runtime(&self) -> Option<Handle> {
        self.lock().as_ref().map(|lease| lease.handle().clone())
    }

    /// Takes the lease away (the object closes); `None` if it was already taken.
    pub(crate) fn take(&self) -> Option<RuntimeLease> {
        self.lock().take()
    }
}
