//! What a destroy (or an update that drops the failure queue) checks before
//! it deletes anything: data the pipeline would lose without
//! `force_destroy` makes it refuse, deleting nothing.

use super::super::errors::ApplyError;
use super::super::parts::Part;
use super::super::run::Run;
use super::{bucket, event_queue, queue};

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
            if want.wanted().contains(Part::Queue) && !want.force_destroy {
                queue::messages(run).await
            } else {
                Ok(None)
            }
        },
        async {
            if want.wanted().contains(Part::EventQueue) && !want.force_destroy {
                event_queue::messages(run).await
            } else {
                Ok(None)
            }
        }
    );
    bucket_check?;
    refuse_messages(want.event_queue_arn.clone(), events?)?;
    refuse_messages(want.failure_queue_arn.clone(), messages?)
}

/// Before an update that stops using the failure queue the pipeline made
/// (`on_failure` removed, or given a `queue_arn`): its failed events would
/// go with it, so the same rule as for a destroy.
pub async fn queue_empty(run: &Run<'_>) -> Result<(), ApplyError> {
    if run.want.force_destroy {
        return Ok(());
    }
    let arn = run.prior.and_then(|p| p.failure_queue_arn.clone());
    refuse_messages(arn, queue::messages(run).await?)
}

fn refuse_messages(queue: Option<String>, messages: Option<u64>) -> Result<(), ApplyError> {
    match messages {
        Some(n) if n > 0 => Err(ApplyError::QueueNotEmpty {
            queue: queue.unwrap_or_default(),
            messages: n,
        }),
        _ => Ok(()),
    }
}
