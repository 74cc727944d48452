//! The failure queue the pipeline makes, `<name>-failed`: encrypted, kept
//! 14 days, tagged.

use crate::aws::{AwsError, sqs};

use super::super::desired::{self, FAILURE_QUEUE};
use super::super::errors::ApplyError;
use super::super::naming;
use super::super::ownership::adopt_if_ours;
use super::super::part::Part;
use super::super::run::Run;

fn name(run: &Run<'_>) -> String {
    naming::failure_queue_name(&run.want.name)
}

/// Makes the queue, or adopts one of its name left by an earlier run of
/// this pipeline; records its URL.
pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let (client, want) = (&run.aws.sqs, run.want);
    let queue = name(run);
    let step = "creating the failure queue";
    // SQS answers CreateQueue with an existing queue's URL when its
    // attributes match, so look first to tell ours from someone else's.
    let existing = sqs::queue_url(client, &queue)
        .await
        .map_err(ApplyError::aws(step))?;
    let url = match existing {
        None => {
            let url = sqs::create_queue(
                client,
                &queue,
                &FAILURE_QUEUE,
                &desired::part_tags(want),
                run.stop,
            )
            .await
            .map_err(ApplyError::aws(step))?;
            run.made(Part::FailureQueue);
            url
        }
        Some(url) => {
            let q = sqs::queue(client, &url)
                .await
                .map_err(ApplyError::aws(step))?
                .ok_or_else(|| ApplyError::Aws {
                    step,
                    source: AwsError::Unexpected(format!("queue {queue} both exists and does not")),
                })?;
            adopt_if_ours(format!("SQS queue {queue:?}"), &q.tags, &want.name)?;
            run.adopted(Part::FailureQueue);
            if !FAILURE_QUEUE.matches(&q.settings) {
                sqs::set_settings(client, &url, &FAILURE_QUEUE)
                    .await
                    .map_err(ApplyError::aws("configuring the failure queue"))?;
            }
            sqs::sync_tags(client, &url, &q.tags, &desired::part_tags(want))
                .await
                .map_err(ApplyError::aws("tagging the failure queue"))?;
            url
        }
    };
    run.update(|r| r.queue_url = Some(url));
    Ok(())
}

/// The queue's URL: from this run, the prior state, or SQS.
async fn url(run: &Run<'_>) -> Result<Option<String>, ApplyError> {
    if let Some(u) = run.record().queue_url {
        return Ok(Some(u));
    }
    for s in [Some(run.want), run.prior].into_iter().flatten() {
        if let Some(u) = s.failure_queue_url.as_ref().filter(|u| !u.is_empty()) {
            return Ok(Some(u.clone()));
        }
    }
    sqs::queue_url(&run.aws.sqs, &name(run))
        .await
        .map_err(ApplyError::aws("looking up the failure queue"))
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let Some(url) = url(run).await? else {
        return Ok(());
    };
    let have = run.prior.map(desired::part_tags).unwrap_or_default();
    sqs::sync_tags(&run.aws.sqs, &url, &have, &desired::part_tags(run.want))
        .await
        .map_err(ApplyError::aws("tagging the failure queue"))
}

/// How many messages the queue holds; `None` when there is no queue.
pub async fn messages(run: &Run<'_>) -> Result<Option<u64>, ApplyError> {
    let Some(url) = url(run).await? else {
        return Ok(None);
    };
    Ok(sqs::queue(&run.aws.sqs, &url)
        .await
        .map_err(ApplyError::aws(
            "checking whether the failure queue is empty",
        ))?
        .map(|q| q.messages))
}

pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    if let Some(url) = url(run).await? {
        sqs::delete_queue(&run.aws.sqs, &url)
            .await
            .map_err(ApplyError::aws(run.step(
                "deleting the failure queue",
                "rolling back the failure queue",
            )))?;
    }
    run.removed([Part::FailureQueue]);
    Ok(())
}
