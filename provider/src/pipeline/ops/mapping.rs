//! The event source mappings: Lambda reading the stream, or draining the
//! event queue, and invoking the function with batches.

use std::time::Duration;

use crate::aws::{mappings, sqs};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::part::Part;
use super::super::run::Run;
use super::super::state::{Known, State};

/// Which mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Stream,
    Queue,
}

impl Source {
    fn part(self) -> Part {
        match self {
            Source::Stream => Part::StreamMapping,
            Source::Queue => Part::EventQueueMapping,
        }
    }

    fn arn(self, s: &State<Known>) -> Option<String> {
        match self {
            Source::Stream => s.stream_arn.clone(),
            Source::Queue => s.event_queue_arn.clone(),
        }
        .filter(|a| !a.is_empty())
    }

    fn settings(self, s: &State<Known>) -> Option<mappings::MappingSettings> {
        match self {
            Source::Stream => desired::stream_mapping(s),
            Source::Queue => desired::queue_mapping(s),
        }
    }

    fn recorded(self, s: &State<Known>) -> Option<String> {
        match self {
            Source::Stream => s.stream_mapping_id.clone(),
            Source::Queue => s.queue_mapping_id.clone(),
        }
        .filter(|u| !u.is_empty())
    }
}

/// Makes the mapping, or takes over one from the same source left by an
/// earlier run (a function has at most one mapping per source).
pub async fn make(run: &Run<'_>, source: Source) -> Result<(), ApplyError> {
    let want = run.want;
    let (Some(arn), Some(settings)) = (source.arn(want), source.settings(want)) else {
        return Ok(());
    };
    let step = "creating the event source mapping";
    let lc = &run.aws.lambda;
    let (existing, deleting) = mappings::mapping_and_deleting(lc, &want.function_name, &arn)
        .await
        .map_err(ApplyError::aws(step))?;
    // One being deleted (a destroy elsewhere, or one interrupted) keeps
    // another of this function and source from being made until it is gone.
    if existing.is_none() {
        for uuid in deleting {
            mappings::wait_deleted(lc, &uuid, run.stop)
                .await
                .map_err(ApplyError::aws(step))?;
        }
    }
    let uuid = match existing {
        Some(m) => {
            if m.settings != settings {
                mappings::update_mapping(lc, &m.uuid, &settings, source == Source::Queue, run.stop)
                    .await
                    .map_err(ApplyError::aws("updating the event source mapping"))?;
            }
            run.adopted(source.part());
            m.uuid
        }
        None => {
            let uuid = mappings::create_mapping(
                lc,
                &want.function_name,
                &arn,
                &settings,
                &desired::part_tags(want),
            )
            .await
            .map_err(ApplyError::aws(step))?;
            run.made(source.part());
            uuid
        }
    };
    run.update(|r| match source {
        Source::Stream => r.stream_mapping_id = Some(uuid),
        Source::Queue => r.queue_mapping_id = Some(uuid),
    });
    Ok(())
}

pub async fn update(run: &Run<'_>, source: Source) -> Result<(), ApplyError> {
    let Some(settings) = source.settings(run.want) else {
        return Ok(());
    };
    let uuid = run
        .prior
        .and_then(|p| source.recorded(p))
        .or_else(|| source.recorded(run.want));
    match uuid {
        Some(uuid) => mappings::update_mapping(
            &run.aws.lambda,
            &uuid,
            &settings,
            source == Source::Queue,
            run.stop,
        )
        .await
        .map_err(ApplyError::aws("updating the event source mapping")),
        None => make(run, source).await,
    }
}

/// How long a queue may take to drain before its mapping goes.
const DRAIN: Duration = Duration::from_secs(120);

/// Deletes the mapping. The event queue's is deleted only once the queue is
/// empty (or after a bounded wait), so events already queued are processed.
pub async fn delete(run: &Run<'_>, source: Source) -> Result<(), ApplyError> {
    let from = run.prior.unwrap_or(run.want);
    if source == Source::Queue {
        drain(run, from).await;
    }
    let lc = &run.aws.lambda;
    let uuid = match source.recorded(from) {
        Some(u) => Some(u),
        None => match source.arn(from) {
            Some(arn) => mappings::mapping(lc, &from.function_name, &arn)
                .await
                .map_err(ApplyError::aws("looking up the event source mapping"))?
                .map(|m| m.uuid),
            None => None,
        },
    };
    if let Some(uuid) = uuid {
        let step = run.step(
            "deleting the event source mapping",
            "rolling back the event source mapping",
        );
        mappings::delete_mapping(lc, &uuid)
            .await
            .map_err(ApplyError::aws(step))?;
        // A deleted mapping stays Deleting for a while; until it is gone a
        // mapping of the same function and source is refused.
        mappings::wait_deleted(lc, &uuid, run.stop)
            .await
            .map_err(ApplyError::aws(step))?;
    }
    run.removed([source.part()]);
    Ok(())
}

async fn drain(run: &Run<'_>, from: &State<Known>) {
    let Some(url) = from.event_queue_url.clone().filter(|u| !u.is_empty()) else {
        return;
    };
    let deadline = tokio::time::Instant::now() + DRAIN;
    loop {
        match sqs::queue(&run.aws.sqs, &url).await {
            Ok(Some(q)) if q.messages > 0 && tokio::time::Instant::now() < deadline => {
                tracing::info!(queue = %url, messages = q.messages, "waiting for the event queue to drain");
            }
            _ => return,
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            () = run.stop.cancelled() => return,
        }
    }
}
