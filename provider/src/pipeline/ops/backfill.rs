//! Backfill: the objects already in the bucket that a new trigger matches
//! are sent to the function, one asynchronous invocation each, as the
//! event S3 sends for a new object. Objects go in key order, a few at a
//! time; the last key sent is recorded, so a backfill that stops (Ctrl-C,
//! an error) resumes there on the next apply. Delivery is at least once,
//! as S3's own.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::aws::{lambda, s3};

use super::super::errors::ApplyError;
use super::super::naming;
use super::super::private::{Backfill, BackfillTrigger};
use super::super::run::Run;
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

/// An object key as S3 writes it into events: form-encoded (a space is
/// `+`), with `/` left as it is.
fn event_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `2026-12-01T12:00:00.000Z` for a time since the epoch.
fn event_time(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days to a civil date (proleptic Gregorian), after H. Hinnant.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since_epoch.subsec_millis()
    )
}

/// The event S3 sends for a new object (`ObjectCreated:Put`).
fn event(run: &Run<'_>, want: &State<Known>, trigger: usize, o: &s3::Object) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let account = run.account().unwrap_or_default();
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": run.aws.region,
            "eventTime": event_time(now),
            "eventName": "ObjectCreated:Put",
            "userIdentity": { "principalId": format!("AWS:{account}") },
            "requestParameters": { "sourceIPAddress": "127.0.0.1" },
            "responseElements": {
                "x-amz-request-id": "eventpipe-backfill",
                "x-amz-id-2": "eventpipe-backfill"
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": naming::notification_id(&want.name, trigger),
                "bucket": {
                    "name": want.bucket_name, // AWS's key
                    "ownerIdentity": { "principalId": account },
                    "arn": want.bucket_arn
                },
                "object": {
                    "key": event_key(&o.key),
                    "size": o.size,
                    "eTag": o.etag,
                    "sequencer": format!("{:016X}", now.as_nanos() as u64)
                }
            }
        }]
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_as_s3_writes_them_into_events() {
        assert_eq!(event_key("data/x.json"), "data/x.json");
        assert_eq!(event_key("data/my file+1.json"), "data/my+file%2B1.json");
        assert_eq!(event_key("ü"), "%C3%BC");
    }

    #[test]
    fn event_times_are_iso_8601_with_milliseconds() {
        let t = std::time::Duration::from_millis(1_795_922_659_123);
        assert_eq!(event_time(t), "2026-11-29T03:24:19.123Z");
        assert_eq!(
            event_time(std::time::Duration::ZERO),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
