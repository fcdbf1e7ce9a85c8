//! Stats snapshots as flat `long[]`s for Java. The layouts are mirrored, field for field, by
//! `RosClientStats.fromArray` and `RosServerStats.fromArray`.

use jni::Env;
use jni::objects::JLongArray;
use ros_core::{ClientStats, ServerStats};

/// `[calls, succeeded, retries, retriesRefused, ejections, inFlight, failedByCode×8,
/// latency×9]`; codes in `StatusCode::ALL` order; latency as `LatencySnapshot::to_array`.
pub(crate) fn client(stats: &ClientStats) -> Vec<u64> {
    let mut out = vec![
        stats.calls,
        stats.succeeded,
        stats.retries,
        stats.retries_refused,
        stats.ejections,
        stats.in_flight,
    ];
    out.extend_from_slice(&stats.failed_by_code);
    out.extend_from_slice(&stats.latency.to_array());
    out
}

/// `[admitted, rejectedFull, rejectedUnknownMethod, rejectedUnauthenticated, dispatched,
/// cancelledQueued, expiredQueued, completed, discardedResults, depth, executing,
/// failedByCode×8, queueWait×9, execution×9]`.
pub(crate) fn server(stats: &ServerStats) -> Vec<u64> {
    let mut out = vec![
        stats.admitted,
        stats.rejected_full,
        stats.rejected_unknown_method,
        stats.rejected_unauthenticated,
        stats.dispatched,
        stats.cancelled_queued,
        stats.expired_queued,
        stats.completed,
        stats.discarded_results,
        stats.depth,
        stats.executing,
    ];
    out.extend_from_slice(&stats.failed_by_code);
    out.extend_from_slice(&stats.queue_wait.to_array());
    out.extend_from_slice(&stats.execution.to_array());
    out
}

pub(crate) fn to_java<'local>(
    env: &mut Env<'local>,
    values: &[u64],
) -> jni::errors::Result<JLongArray<'local>> {
    let array = env.new_long_array(values.len())?;
    let values: Vec<i64> = values.iter().map(|v| *v as i64).collect();
    array.set_region(env, 0, &values)?;
    Ok(array)
}
