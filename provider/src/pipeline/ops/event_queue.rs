//! The queue S3 notifies with `delivery = "queue"`, `<name>-events`:
//! encrypted, only this bucket in this account may send to it, messages
//! hidden while the function works on them, redriven to the failure queue
//! after `max_receive_count` receives.

use crate::aws::{AwsError, sqs};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::naming;
use super::super::ownership::adopt_if_ours;
use super::super::part::Part;
use super::super::run::Run;

fn name(run: &Run<'_>) -> String {
    naming::event_queue_name(&run.want.name)
}

pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let (client, want) = (&run.aws.sqs, run.want);
    let Some(settings) = desired::event_queue(want) else {
        return Ok(());
    };
    let queue = name(run);
    let step = "creating the event queue";
    let url = match sqs::queue_url(client, &queue)
        .await
        .map_err(ApplyError::aws(step))?
    {
        None => {
            let url = sqs::create_queue(
                client,
                &queue,
                &settings,
                &desired::part_tags(want),
                run.stop,
            )
            .await
            .map_err(ApplyError::aws(step))?;
            run.made(Part::EventQueue);
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
            run.adopted(Part::EventQueue);
            if !settings.matches(&q.settings) {
                sqs::set_settings(client, &url, &settings)
                    .await
                    .map_err(ApplyError::aws("configuring the event queue"))?;
            }
            url
        }
    };
    run.update(|r| r.event_queue_url = Some(url));
    Ok(())
}

async fn url(run: &Run<'_>) -> Result<Option<String>, ApplyError> {
    if let Some(u) = run.record().event_queue_url {
        return Ok(Some(u));
    }
    for s in [Some(run.want), run.prior].into_iter().flatten() {
        if let Some(u) = s.event_queue_url.as_ref().filter(|u| !u.is_empty()) {
            return Ok(Some(u.clone()));
        }
    }
    sqs::queue_url(&run.aws.sqs, &name(run))
        .await
        .map_err(ApplyError::aws("looking up the event queue"))
}

pub async fn update(run: &Run<'_>) -> Result<(), ApplyError> {
    let (Some(url), Some(settings)) = (url(run).await?, desired::event_queue(run.want)) else {
        return Ok(());
    };
    sqs::set_settings(&run.aws.sqs, &url, &settings)
        .await
        .map_err(ApplyError::aws("configuring the event queue"))
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let Some(url) = url(run).await? else {
        return Ok(());
    };
    let have = run.prior.map(desired::part_tags).unwrap_or_default();
    sqs::sync_tags(&run.aws.sqs, &url, &have, &desired::part_tags(run.want))
        .await
        .map_err(ApplyError::aws("tagging the event queue"))
}

/// How many messages the queue holds; `None` when there is no queue.
pub async fn messages(run: &Run<'_>) -> Result<Option<u64>, ApplyError> {
    let Some(url) = url(run).await? else {
        return Ok(None);
    };
    Ok(sqs::queue(&run.aws.sqs, &url)
        .await
        .map_err(ApplyError::aws("checking whether the event queue is empty"))?
        .map(|q| q.messages))
}

pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    if let Some(url) = url(run).await? {
        sqs::delete_queue(&run.aws.sqs, &url)
            .await
            .map_err(ApplyError::aws(run.step(
                "deleting the event queue",
                "rolling back the event queue",
            )))?;
    }
    run.removed([Part::EventQueue]);
    Ok(())
}
