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
            Err(e) if retryable(&e) => return Err(exhausted(e, attempt, start.elapsed())),
            Err(e) => return Err(e),
        }
    }
}

/// How long a delete may take to finish after AWS accepted it: a stream
/// stays `DELETING` and a mapping `Deleting` for a while (seconds to
/// minutes), and their names cannot be used again meanwhile.
pub const DELETE_BOUND: Backoff = Backoff {
    first: Duration::from_millis(250),
    max: Duration::from_secs(5),
    give_up_after: Duration::from_secs(600),
};

/// Polls `still_there` until it answers `false` (the thing is gone), within
/// `backoff.give_up_after`; `what` names it in the error when it is not.
/// A stop ends the wait early without an error: the delete was accepted,
/// and the next run waits again.
pub async fn until_gone<F, Fut>(
    operation: &'static str,
    what: &str,
    backoff: Backoff,
    stop: &CancellationToken,
    mut still_there: F,
) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, AwsError>>,
{
    let start = Instant::now();
    let mut delay = backoff.first;
    loop {
        if !still_there().await? {
            return Ok(());
        }
        if start.elapsed() + delay >= backoff.give_up_after {
            return Err(AwsError::Transport {
                operation,
                message: format!(
                    "{what} was still being deleted after {:.0} s; AWS finishes the delete by \
                     itself, so applying again later succeeds",
                    start.elapsed().as_secs_f64()
                ),
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => return Ok(()),
        }
        delay = (delay * 2).min(backoff.max);
    }
}

/// The last error, saying that retrying did not help and for how long.
fn exhausted(e: AwsError, attempts: u32, waited: Duration) -> AwsError {
    let note = format!(
        "still failing after {attempts} attempts over {:.0} s; AWS may still be propagating a \
         recent change, so applying again shortly may succeed",
        waited.as_secs_f64()
    );
    match e {
        AwsError::Service {
            operation,
            code,
            message,
            status,
        } => AwsError::Service {
            operation,
            code,
            message: format!("{message} ({note})"),
            status,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const QUICK: Backoff = Backoff {
        first: Duration::from_millis(1),
        max: Duration::from_millis(4),
        give_up_after: Duration::from_millis(200),
    };

    fn not_ready() -> AwsError {
        AwsError::Service {
            operation: "lambda:CreateFunction",
            code: "InvalidParameterValueException".into(),
            message: "The role defined for the function cannot be assumed by Lambda.".into(),
            status: Some(400),
        }
    }

    fn is_not_ready(e: &AwsError) -> bool {
        e.code() == Some("InvalidParameterValueException")
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    }

    #[test]
    fn retries_a_consistency_error_until_it_clears() {
        let calls = AtomicU32::new(0);
        let r = runtime().block_on(until_consistent(
            "t",
            QUICK,
            &CancellationToken::new(),
            is_not_ready,
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(not_ready())
                } else {
                    Ok(7)
                }
            },
        ));
        assert_eq!(r.ok(), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn gives_up_within_the_budget_with_a_clear_error() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let r: Result<(), _> = runtime().block_on(until_consistent(
            "t",
            QUICK,
            &CancellationToken::new(),
            is_not_ready,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(not_ready())
            },
        ));
        let e = r.expect_err("must give up");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(e.code(), Some("InvalidParameterValueException"));
        let text = e.to_string();
        assert!(text.contains("cannot be assumed by Lambda"), "{text}");
        assert!(text.contains("still failing after"), "{text}");
        assert!(calls.load(Ordering::SeqCst) > 3);
    }

    #[test]
    fn a_delete_is_waited_for_until_the_thing_is_gone_and_no_longer() {
        let reads = AtomicU32::new(0);
        let r = runtime().block_on(until_gone(
            "kinesis:DescribeStreamSummary",
            "stream s",
            QUICK,
            &CancellationToken::new(),
            || async { Ok(reads.fetch_add(1, Ordering::SeqCst) < 2) },
        ));
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(
            reads.load(Ordering::SeqCst),
            3,
            "two reads see it, the third does not"
        );

        let started = Instant::now();
        let r = runtime().block_on(until_gone(
            "kinesis:DescribeStreamSummary",
            "stream s",
            QUICK,
            &CancellationToken::new(),
            || async { Ok(true) },
        ));
        let text = r.expect_err("bounded").to_string();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            text.contains("stream s was still being deleted after"),
            "{text}"
        );

        // An error while reading ends the wait with that error.
        let r = runtime().block_on(until_gone(
            "lambda:GetEventSourceMapping",
            "mapping m",
            QUICK,
            &CancellationToken::new(),
            || async { Err::<bool, _>(not_ready()) },
        ));
        assert_eq!(
            r.expect_err("read failed").code(),
            Some("InvalidParameterValueException")
        );
    }

    #[test]
    fn other_errors_and_a_stop_end_at_once() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = runtime().block_on(until_consistent(
            "t",
            QUICK,
            &CancellationToken::new(),
            |_| false,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(not_ready())
            },
        ));
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let stop = CancellationToken::new();
        stop.cancel();
        let slow = Backoff {
            first: Duration::from_secs(30),
            ..QUICK
        };
        let slow = Backoff {
            give_up_after: Duration::from_secs(120),
            ..slow
        };
        let started = Instant::now();
        let r: Result<(), _> =
            runtime().block_on(until_consistent("t", slow, &stop, is_not_ready, || async {
                Err(not_ready())
            }));
        assert!(r.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
