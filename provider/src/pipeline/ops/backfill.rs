//! Backfill: the objects already in the bucket that a new trigger matches
//! are sent to the function, one asynchronous invocation each, as the
//! event S3 sends for a new object. Objects go in key order, a few at a
//! time; the last key sent is recorded, so a backfill that stops (Ctrl-C,
//! an error) resumes there on the next apply. Delivery is at least once,
//! as S3's own.

use crate::aws::{lambda, s3};

use super::super::errors::ApplyError;
use super::super::naming;
use super::super::private::{Backfill, BackfillTrigger};
use super::super::run::Run;
use super::super::s3_event;
use super::super::state::{Known, State};

/// Objects listed per page.
const PAGE: i32 = 1000;
/// Invocations in flight at once.
const CONCURRENCY: usize = 8;

/// What this apply has to send: what an earlier backfill left, then every
/// trigger new in this apply that fires for new objects.
fn work(run: &Run<'_>) -> Vec<BackfillTrigger> {
    let mut todo: Vec<BackfillTrigger> = run
        .private
        .backfill
        .as_ref()
        .map(|b| b.pending.clone())
        .unwrap_or_default();
    for t in &run.want.trigger {
        let is_new = run
            .prior
            .is_none_or(|p| !p.trigger.iter().any(|o| o.same_as(t)));
        let creates = t.events.iter().any(|e| e.starts_with("s3:ObjectCreated:"));
        let pending = todo
            .iter()
            .any(|w| w.events == t.events && w.prefix == t.prefix() && w.suffix == t.suffix());
        if is_new && creates && !pending {
            todo.push(BackfillTrigger {
                events: t.events.clone(),
                prefix: t.prefix().to_owned(),
                suffix: t.suffix().to_owned(),
                after: None,
            });
        }
    }
    // A pending trigger that is no longer configured is dropped.
    todo.retain(|w| {
        run.want
            .trigger
            .iter()
            .any(|t| w.events == t.events && w.prefix == t.prefix() && w.suffix == t.suffix())
    });
    todo
}

/// Sends every object of the work list. Stops early, recording what is
/// left, when Terraform asks to stop or an invocation fails.
pub async fn run(run: &Run<'_>) -> Result<(), ApplyError> {
    let mut todo = work(run);
    let want = run.want;
    let mut sent = 0i64;
    let mut problem = None;
    let mut finished = vec![false; todo.len()];
    'triggers: for i in 0..todo.len() {
        let index = trigger_index(want, &todo[i]);
        loop {
            if run.stop.is_cancelled() {
                break 'triggers;
            }
            let (prefix, after) = (todo[i].prefix.clone(), todo[i].after.clone());
            let page = match s3::list_objects(
                &run.aws.s3,
                &want.bucket_name,
                &prefix,
                after.as_deref(),
                PAGE,
            )
            .await
            {
                Ok(p) => p,
                Err(e) => {
                    problem = Some(ApplyError::aws("listing the bucket for backfill")(e));
                    break 'triggers;
                }
            };
            let Some(last) = page.last().map(|o| o.key.clone()) else {
                break;
            };
            let matching: Vec<&s3::Object> = page
                .iter()
                .filter(|o| o.key.ends_with(&todo[i].suffix))
                .collect();
            // In order, a few at a time: after each chunk every key up to
            // its last has been sent, so that is where a resume starts.
            for chunk in matching.chunks(CONCURRENCY) {
                if run.stop.is_cancelled() {
                    break 'triggers;
                }
                let mut calls = Vec::with_capacity(chunk.len());
                for o in chunk {
                    let payload = event(run, want, index, o);
                    calls.push(lambda::invoke_async(
                        &run.aws.lambda,
                        &want.function_name,
                        payload,
                    ));
                }
                let results = futures::future::join_all(calls).await;
                if let Some(e) = results.into_iter().find_map(Result::err) {
                    problem = Some(ApplyError::aws("invoking the function for backfill")(e));
                    break 'triggers;
                }
                sent += chunk.len() as i64;
                todo[i].after = chunk.last().map(|o| o.key.clone());
                tracing::info!(
                    pipeline = %want.name,
                    sent,
                    after = todo[i].after.as_deref().unwrap_or_default(),
                    "backfill progress"
                );
            }
            todo[i].after = Some(last);
        }
        finished[i] = true;
    }
    let todo: Vec<BackfillTrigger> = todo
        .into_iter()
        .zip(finished)
        .filter_map(|(w, done)| (!done).then_some(w))
        .collect();
    let left = (!todo.is_empty()).then_some(Backfill { pending: todo });
    tracing::info!(pipeline = %want.name, sent, finished = left.is_none(), "backfill");
    run.update(|r| {
        r.backfill_ran = true;
        r.backfilled += sent;
        r.backfill_left = left;
        r.backfill_problem = problem.map(|e| e.to_string());
    });
    Ok(())
}

fn trigger_index(want: &State<Known>, w: &BackfillTrigger) -> usize {
    want.trigger
        .iter()
        .position(|t| t.events == w.events && t.prefix() == w.prefix && t.suffix() == w.suffix)
        .unwrap_or(0)
}

/// The event S3 sends for a new object (`ObjectCreated:Put`).
fn event(run: &Run<'_>, want: &State<Known>, trigger: usize, o: &s3::Object) -> Vec<u8> {
    let account = run.account().unwrap_or_default();
    s3_event::ObjectEvent {
        event_name: s3_event::OBJECT_CREATED_PUT,
        region: &run.aws.region,
        account,
        configuration_id: &naming::notification_id(&want.name, trigger),
        bucket: &want.bucket_name,
        bucket_arn: &want.bucket_arn,
        key: &o.key,
        size: Some(o.size),
        etag: Some(&o.etag),
        time: s3_event::now(),
    }
    .to_bytes()
}
