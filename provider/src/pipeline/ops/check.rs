//! What a destroy checks before it deletes anything: data the pipeline
//! would lose without `force_destroy` makes it refuse, deleting nothing.

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
    if let Some(n) = events?
        && n > 0
    {
        return Err(ApplyError::QueueNotEmpty {
            queue: want.event_queue_arn.clone().unwrap_or_default(),
            messages: n,
        });
    }
    match messages? {
        Some(n) if n > 0 => Err(ApplyError::QueueNotEmpty {
            queue: want.failure_queue_arn.clone().unwrap_or_default(),
            messages: n,
        }),
        _ => Ok(()),
    }
}
