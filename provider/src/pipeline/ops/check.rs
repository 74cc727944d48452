//! What a destroy (or an update that drops the failure queue) checks before
//! it deletes anything: data the pipeline would lose without
//! `force_destroy` makes it refuse, deleting nothing.

use super::super::errors::{ApplyError, QueueKind};
use super::super::part::Part;
use super::super::run::Run;
use super::bucket;
use super::queue::{EVENTS, FAILURE};

pub async fn deletable(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let (bucket_check, messages, events) = tokio::join!(
        async {
            if want.create_bucket {
                bucket::check_deletable(run).await
            } else {
                Ok(())
            }
        },
        async {
            if want.wanted().contains(Part::FailureQueue) && !want.may_delete_failed_events(None) {
                FAILURE.messages(run).await
            } else {
                Ok(None)
            }
        },
        async {
            if want.wanted().contains(Part::EventQueue) && !want.force_destroy {
                EVENTS.messages(run).await
            } else {
                Ok(None)
            }
        }
    );
    bucket_check?;
    let owned = want.create_bucket;
    refuse_messages(
        QueueKind::Events,
        want.event_queue_arn.clone(),
        events?,
        owned,
    )?;
    refuse_messages(
        QueueKind::Failure,
        want.failure_queue_arn.clone(),
        messages?,
        owned,
    )
}

/// Before an update that stops using the failure queue the pipeline made
/// (`on_failure` removed, or given a `queue_arn`): its failed events would
/// go with it, so the same rule as for a destroy.
pub async fn queue_empty(run: &Run<'_>) -> Result<(), ApplyError> {
    if run.want.may_delete_failed_events(run.prior) {
        return Ok(());
    }
    let arn = run.prior.and_then(|p| p.failure_queue_arn.clone());
    let owned = run.want.create_bucket;
    refuse_messages(QueueKind::Failure, arn, FAILURE.messages(run).await?, owned)
}

/// Refuses while `queue` holds messages; `bucket_owned` says whether
/// `force_destroy` is also a way through.
fn refuse_messages(
    kind: QueueKind,
    queue: Option<String>,
    messages: Option<u64>,
    bucket_owned: bool,
) -> Result<(), ApplyError> {
    match messages {
        Some(n) if n > 0 => Err(ApplyError::QueueNotEmpty {
            kind,
            queue: queue.unwrap_or_default(),
            messages: n,
            bucket_owned,
        }),
        _ => Ok(()),
    }
}
