//! Our own bounded retry, only for AWS's eventual-consistency errors (a new
//! role not yet assumable by Lambda, a new permission not yet visible to S3).
//! Throttling and 5xx are retried by the SDK itself.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::AwsError;

/// How long to keep trying and how to back off.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

impl Backoff {
    /// For IAM propagation: AWS documents "a few seconds", observed up to ~15 s.
    pub const PROPAGATION: Backoff = Backoff {
        first: Duration::from_millis(250),
        max: Duration::from_secs(5),
        give_up_after: Duration::from_secs(90),
    };
}

/// Runs `op` until it succeeds, fails with an error `retryable` rejects, the
/// time budget is spent, or `stop` is cancelled.
pub async fn until_consistent<T, F, Fut>(
    what: &str,
    backoff: Backoff,
    stop: &CancellationToken,
    retryable: impl Fn(&AwsError) -> bool,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let start = Instant::now();
    let mut delay = backoff.first;
    let mut attempt = 1u32;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) && start.elapsed() + delay < backoff.give_up_after => {
                tracing::debug!(what, attempt, error = %e, "not consistent yet; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.cancelled() => return Err(e),
                }
                delay = (delay * 2).min(backoff.max);
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}
