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

//! Everything that touches Java from native code: cached classes and method ids, completing
//! futures from runtime threads, and turning errors and panics into `RosException`s.

use std::any::Any;
use std::sync::OnceLock;

use jni::errors::ErrorPolicy;
use jni::objects::{JClass, JObject, JObjectArray, JString, JThread, JValue};
use jni::refs::Global;
use jni::signature::{Primitive, ReturnType};
use jni::sys::jvalue;
use jni::{Env, JavaVM, jni_sig, jni_str};
use ros_core::{RosError, StatusCode};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

/// Classes and method ids resolved once, at load time, with the class loader that loaded the
/// library (a runtime thread's `FindClass` would see the wrong one).
pub(crate) struct JavaRefs {
    bridge: Global<JClass<'static>>,
    complete: jni::ids::JStaticMethodID,
    complete_all: jni::ids::JStaticMethodID,
    object_class: Global<JClass<'static>>,
    new_exception: jni::ids::JStaticMethodID,
    pub(crate) request_class: Global<JClass<'static>>,
    pub(crate) request_ctor: jni::ids::JMethodID,
    class_loader: Global<jni::objects::JClassLoader<'static>>,
}

static REFS: OnceLock<JavaRefs> = OnceLock::new();

/// Resolves and caches the Java side. Called from `JNI_OnLoad`.
pub(crate) fn init(env: &mut Env) -> jni::errors::Result<()> {
    let bridge = env.find_class(jni_str!("org/flinkros/client/internal/NativeBridge"))?;
    let complete = env.get_static_method_id(
        &bridge,
        jni_str!("complete"),
        jni_sig!("(Lorg/flinkros/client/internal/PendingCall;[BILjava/lang/String;)V"),
    )?;
    let complete_all = env.get_static_method_id(
        &bridge,
        jni_str!("completeAll"),
        jni_sig!("([Ljava/lang/Object;[Ljava/lang/Object;[I[Ljava/lang/Object;)V"),
    )?;
    let object_class = env.find_class(jni_str!("java/lang/Object"))?;
    let new_exception = env.get_static_method_id(
        &bridge,
        jni_str!("newException"),
        jni_sig!("(ILjava/lang/String;)Lorg/flinkros/client/RosException;"),
    )?;
    let request_class = env.find_class(jni_str!("org/flinkros/client/RosServerRequest"))?;
    let request_ctor = env.get_method_id(
        &request_class,
        jni_str!("<init>"),
        jni_sig!("(JJLjava/lang/String;JLjava/lang/String;[BJ)V"),
    )?;
    let class_loader = bridge.get_class_loader(env)?;
    let refs = JavaRefs {
        bridge: env.new_global_ref(&bridge)?,
        complete,
        complete_all,
        object_class: env.new_global_ref(&object_class)?,
        new_exception,
        request_class: env.new_global_ref(&request_class)?,
        request_ctor,
        class_loader: env.new_global_ref(&class_loader)?,
    };
    let _ = REFS.set(refs);
    Ok(())
}

/// The cached Java side; present once the library is loaded.
pub(crate) fn refs() -> &'static JavaRefs {
    REFS.get()
        .expect("JNI_OnLoad resolves the Java classes before any native method runs")
}

/// Attaches a runtime thread to the JVM for good, under its own name (so Java stack dumps show
/// it), with this library's class loader as its context class loader.
pub(crate) fn attach_runtime_thread() {
    let attached = JavaVM::singleton().and_then(|vm| {
        vm.attach_current_thread(|env| -> jni::errors::Result<()> {
            let thread = JThread::current_thread(env)?;
            if let Some(name) = std::thread::current().name() {
                let name = env.new_string(name)?;
                thread.set_name(env, &name)?;
            }
            thread.set_context_class_loader(env, &refs().class_loader)
        })
    });
    if let Err(error) = attached {
        tracing::error!(%error, "cannot attach a runtime thread to the JVM");
    }
}

/// A Java `PendingCall` waiting for its outcome. Completing it is guaranteed: if the task
/// carrying it is dropped (runtime shut down, panic), it completes with `CANCELLED`.
pub(crate) struct JavaCompletion {
    call: Option<Global<JObject<'static>>>,
    /// Where the outcome goes with others, if anywhere; else it crosses into Java on its own.
    batch: Option<Completions>,
}

impl JavaCompletion {
    pub(crate) fn new(call: Global<JObject<'static>>) -> JavaCompletion {
        JavaCompletion {
            call: Some(call),
            batch: None,
        }
    }

    /// A completion that crosses into Java together with the others ready at the same time.
    pub(crate) fn batched(call: Global<JObject<'static>>, batch: Completions) -> JavaCompletion {
        JavaCompletion {
            call: Some(call),
            batch: Some(batch),
        }
    }

    /// Hands the outcome to Java, which completes the caller's future on its callback executor.
    pub(crate) fn finish(mut self, outcome: Result<bytes::Bytes, RosError>) {
        let Some(call) = self.call.take() else {
            return;
        };
        let unsent = match &self.batch {
            Some(batch) => batch
                .0
                .send(Ready { call, outcome })
                .err()
                .map(|unsent| unsent.0),
            None => Some(Ready { call, outcome }),
        };
        // Without a deliverer (it ended with its runtime), the outcome crosses on its own.
        if let Some(ready) = unsent {
            deliver(&ready.call, ready.outcome);
        }
    }
}

/// Most outcomes that cross into Java in one call.
const MAX_COMPLETIONS_PER_CROSSING: usize = 256;

/// A call's outcome on its way to Java. (A struct, not a tuple: the compiler proves a task that
/// holds these `Send` only without the lifetime in its type.)
pub(crate) struct Ready {
    call: Global<JObject<'static>>,
    outcome: Result<bytes::Bytes, RosError>,
}

/// The sending side of a client's completion deliverer; see [`Completions::start`].
#[derive(Clone)]
pub(crate) struct Completions(mpsc::UnboundedSender<Ready>);

impl Completions {
    /// Starts the task that hands outcomes to Java: everything that is ready when it runs, in
    /// one JNI call, which completes them with one task on the callback executor. Under load,
    /// the results of a stream message arrive together and cross together; one call at a time,
    /// an outcome crosses alone as before. The task ends once every `Completions` is dropped and
    /// every outcome sent has been delivered. Unbounded: each entry is a call in flight, which
    /// the client bounds (`maxInFlight`).
    pub(crate) fn start(runtime: &Handle, tracker: &TaskTracker) -> Completions {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        tracker.spawn_on(
            async move {
                let mut ready = Vec::with_capacity(MAX_COMPLETIONS_PER_CROSSING);
                while receiver
                    .recv_many(&mut ready, MAX_COMPLETIONS_PER_CROSSING)
                    .await
                    > 0
                {
                    deliver_all(&mut ready);
                }
            },
            runtime,
        );
        Completions(sender)
    }
}

impl Drop for JavaCompletion {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            deliver(
                &call,
                Err(RosError::cancelled(
                    "the runtime stopped before the call completed",
                )),
            );
        }
    }
}

/// Hands `ready` outcomes to Java in one call (`NativeBridge.completeAll`), emptying it. If that
/// fails, each is delivered on its own so that no future is left waiting.
fn deliver_all(ready: &mut Vec<Ready>) {
    if ready.len() == 1 {
        if let Some(one) = ready.pop() {
            deliver(&one.call, one.outcome);
        }
        return;
    }
    let delivered = JavaVM::singleton().and_then(|vm| {
        vm.attach_current_thread(|env| -> jni::errors::Result<()> {
            let refs = refs();
            let count = ready.len();
            env.with_local_frame(8, |env| -> jni::errors::Result<()> {
                let calls =
                    env.new_object_array(count as i32, &refs.object_class, JObject::null())?;
                let results =
                    env.new_object_array(count as i32, &refs.object_class, JObject::null())?;
                let messages =
                    env.new_object_array(count as i32, &refs.object_class, JObject::null())?;
                let mut codes = vec![0i32; count];
                for (i, Ready { call, outcome }) in ready.iter().enumerate() {
                    calls.set_element(env, i, call.as_obj())?;
                    // A frame per element keeps the local references of a large batch bounded.
                    env.with_local_frame(1, |env| -> jni::errors::Result<()> {
                        match outcome {
                            Ok(bytes) => {
                                let result = env.byte_array_from_slice(bytes)?;
                                results.set_element(env, i, &result)
                            }
                            Err(error) => {
                                codes[i] = error.code.as_i32();
                                let message = env.new_string(&error.message)?;
                                messages.set_element(env, i, &message)
                            }
                        }
                    })?;
                }
                let code_array = env.new_int_array(count)?;
                code_array.set_region(env, 0, &codes)?;
                let args: [jvalue; 4] = [
                    JValue::Object(&calls).as_jni(),
                    JValue::Object(&results).as_jni(),
                    JValue::Object(&code_array).as_jni(),
                    JValue::Object(&messages).as_jni(),
                ];
                // SAFETY: the method id was resolved on this class with this signature.
                unsafe {
                    env.call_static_method_unchecked(
                        &refs.bridge,
                        refs.complete_all,
                        ReturnType::Primitive(Primitive::Void),
                        &args,
                    )?;
                }
                Ok(())
            })
        })
    });
    match delivered {
        Ok(()) => ready.clear(),
        Err(error) => {
            tracing::error!(%error, "cannot complete Java futures together; completing each");
            for one in ready.drain(..) {
                deliver(&one.call, one.outcome);
            }
        }
    }
}

fn deliver(call: &Global<JObject<'static>>, outcome: Result<bytes::Bytes, RosError>) {
    let delivered = JavaVM::singleton().and_then(|vm| {
        vm.attach_current_thread(|env| -> jni::errors::Result<()> {
            let refs = refs();
            let (result, code, message) = match &outcome {
                Ok(bytes) => (
                    JObject::from(env.byte_array_from_slice(bytes)?),
                    0,
                    JObject::null(),
                ),
                Err(error) => (
                    JObject::null(),
                    error.code.as_i32(),
                    JObject::from(env.new_string(&error.message)?),
                ),
            };
            let args: [jvalue; 4] = [
                JValue::Object(call.as_obj()).as_jni(),
                JValue::Object(&result).as_jni(),
                JValue::Int(code).as_jni(),
                JValue::Object(&message).as_jni(),
            ];
            // SAFETY: the method id was resolved on this class with this signature.
            unsafe {
                env.call_static_method_unchecked(
                    &refs.bridge,
                    refs.complete,
                    ReturnType::Primitive(Primitive::Void),
                    &args,
                )?;
            }
            Ok(())
        })
    });
    if let Err(error) = delivered {
        tracing::error!(%error, "cannot complete a Java future");
    }
}

/// What a native method can fail with.
#[derive(Debug)]
pub(crate) enum NativeError {
    /// A failure with a status code, thrown as `RosException` with that code.
    Ros(RosError),
    /// A JNI failure, or a Java exception already pending.
    Jni(jni::errors::Error),
}

impl From<jni::errors::Error> for NativeError {
    fn from(error: jni::errors::Error) -> NativeError {
        NativeError::Jni(error)
    }
}

impl From<RosError> for NativeError {
    fn from(error: RosError) -> NativeError {
        NativeError::Ros(error)
    }
}

/// Result of a native method body.
pub(crate) type NativeResult<T> = Result<T, NativeError>;

/// The one error policy of every native method: errors become `RosException` with their status
/// code, panics become `RosException(INTERNAL)` with the panic message, and an exception already
/// pending (thrown by Java code we called) is left to propagate.
#[derive(Debug, Default)]
pub(crate) struct ThrowRosException;

impl<T: Default> ErrorPolicy<T, NativeError> for ThrowRosException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut Self::Captures<'unowned_env_local, 'native_method>,
        error: NativeError,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            return Ok(T::default());
        }
        let error = match error {
            NativeError::Ros(error) => error,
            NativeError::Jni(error) => RosError::internal(format!("JNI failure: {error}")),
        };
        throw(env, &error);
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            env.exception_clear();
        }
        throw(
            env,
            &RosError::internal(format!("native panic: {}", panic_message(payload.as_ref()))),
        );
        Ok(T::default())
    }
}

fn throw(env: &mut Env, error: &RosError) {
    let thrown = (|| -> jni::errors::Result<()> {
        let refs = refs();
        let message = env.new_string(&error.message)?;
        let args: [jvalue; 2] = [
            JValue::Int(error.code.as_i32()).as_jni(),
            JValue::Object(&message).as_jni(),
        ];
        // SAFETY: the method id was resolved on this class with this signature.
        let exception = unsafe {
            env.call_static_method_unchecked(
                &refs.bridge,
                refs.new_exception,
                ReturnType::Object,
                &args,
            )?
        }
        .l()?;
        let exception = jni::objects::JThrowable::cast_local(env, exception)?;
        let _ = env.throw(exception);
        Ok(())
    })();
    if thrown.is_err() && !env.exception_check() {
        let _ = env.throw_new(
            jni_str!("java/lang/IllegalStateException"),
            jni::strings::JNIString::from(format!("{}: {}", error.code, error.message)),
        );
    }
}

/// The message of a panic payload (`panic!` with a literal or with formatting).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let message = if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "non-string panic payload".to_string()
    };
    match PANIC_LOCATION.with(|location| location.take()) {
        Some(location) => format!("{message} (at {location})"),
        None => message,
    }
}

thread_local! {
    /// Where the last panic on this thread happened, for the message of the exception it becomes.
    static PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Records where each panic happens, so that the `INTERNAL` error it turns into names the file and
/// line. The hook chains to the one before it, which still reports the panic. It is global only
/// to this copy of the library: a copy loaded by another class loader has its own.
pub(crate) fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(location) = info.location() {
            let text = format!("{}:{}", location.file(), location.line());
            PANIC_LOCATION.with(|slot| slot.replace(Some(text)));
        }
        previous(info);
    }));
}

/// A `RosError` for a failure that should not happen: a code the Java side does not know.
pub(crate) fn status_from_java(code: i32) -> Result<StatusCode, RosError> {
    StatusCode::from_i32(code)
        .ok_or_else(|| RosError::invalid_argument(format!("unknown status code {code}")))
}

/// The elements of a `String[]`.
pub(crate) fn read_strings(
    env: &mut Env,
    array: &JObjectArray<JString>,
) -> jni::errors::Result<Vec<String>> {
    let count = array.len(env)?;
    let mut strings = Vec::with_capacity(count);
    for i in 0..count {
        // A frame per element: a long array must not exceed the JVM's local reference capacity.
        strings.push(
            env.with_local_frame(1, |env| -> jni::errors::Result<String> {
                array.get_element(env, i)?.try_to_string(env)
            })?,
        );
    }
    Ok(strings)
}

/// A `String[]` of `strings`.
pub(crate) fn string_array<'local>(
    env: &mut Env<'local>,
    strings: impl ExactSizeIterator<Item = impl AsRef<str>>,
) -> jni::errors::Result<JObjectArray<'local, JString<'local>>> {
    let array = JObjectArray::<JString>::new(env, strings.len(), JString::null())?;
    for (i, string) in strings.enumerate() {
        // A frame per element keeps the local references of a long array bounded.
        env.with_local_frame(1, |env| -> jni::errors::Result<()> {
            let value = env.new_string(string.as_ref())?;
            array.set_element(env, i, &value)
        })?;
    }
    Ok(array)
}

/// Options handed over as `[name, value, name, value, ...]`.
pub(crate) fn read_options(
    env: &mut Env,
    array: &JObjectArray<JString>,
) -> NativeResult<Vec<(String, String)>> {
    let flat = read_strings(env, array)?;
    if flat.len() % 2 != 0 {
        return Err(RosError::invalid_argument("options must come as name/value pairs").into());
    }
    let mut flat = flat.into_iter();
    let mut pairs = Vec::new();
    while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Options as `[name, value, name, value, ...]`.
pub(crate) fn options_array<'local, N: AsRef<str>>(
    env: &mut Env<'local>,
    options: &[(N, String)],
) -> jni::errors::Result<JObjectArray<'local, JString<'local>>> {
    let flat: Vec<&str> = options
        .iter()
        .flat_map(|(name, value)| [name.as_ref(), value.as_str()])
        .collect();
    string_array(env, flat.into_iter())
}
