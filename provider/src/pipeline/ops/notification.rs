//! The pipeline's notification configurations on the bucket, written
//! beside whatever else the bucket notifies (queues, topics, other
//! functions), which stays exactly as it is.
//!
//! S3 keeps a bucket's notifications as one document and has no
//! conditional write, so two writers can lose each other's changes. Within
//! one provider process the writes to a bucket take turns
//! ([`super::super::shared::BucketLocks`]); across processes each write is
//! read back after a pause and made again until the pipeline's own
//! configurations are there as written.
//!
//! The read-back sees a write of another process only once it has landed.
//! Another writer that read the document before this write landed, and
//! writes it back after the read-back, would drop this pipeline's
//! configurations unseen. So the pause is longer than another writer's
//! read-modify-write may take: at least twice as long as this process's own
//! took, as the others talk to the same S3 under the same load.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::aws::retry::{Backoff, until_consistent};
use crate::aws::{AwsError, s3};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::naming;
use super::super::part::Part;
use super::super::run::Run;

/// How many times a write is made before giving up.
const ATTEMPTS: u32 = 8;

/// S3 checks that it may invoke the function when the notification is put;
/// a permission added a moment ago may not be visible to it yet.
fn permission_not_visible(e: &AwsError) -> bool {
    s3::unvalidated_destinations(e).is_some()
}

/// The ARN a configuration sends to.
fn arn_of(d: &s3::Destination) -> &str {
    match d {
        s3::Destination::Function(a) | s3::Destination::Queue(a) | s3::Destination::Topic(a) => a,
    }
}

/// The destinations S3 refused that are not among `triggers` (this
/// pipeline's): those of someone else's configurations, which no wait
/// makes valid. Empty for any other error, or when S3 named only ours (or
/// none): then it is a permission of ours not visible to S3 yet.
fn foreign_refused(e: &AwsError, triggers: &[s3::Trigger]) -> Vec<String> {
    let Some(arns) = s3::unvalidated_destinations(e) else {
        return Vec::new();
    };
    arns.into_iter()
        .filter(|a| !triggers.iter().any(|t| arn_of(&t.target) == a))
        .collect()
}

/// Whether a configuration id is the pipeline's: its own prefix, or an id
/// the state records (adopted configurations, replaced by the pipeline's).
fn ours<'a>(run: &'a Run<'_>) -> impl Fn(&str) -> bool + 'a {
    move |id: &str| {
        naming::own_notification_index(&run.want.name, id).is_some()
            || run.want.notification_ids.iter().any(|i| i == id)
            || run
                .prior
                .is_some_and(|p| p.notification_ids.iter().any(|i| i == id))
    }
}

/// The longest a pause stretches for a slow write.
const MAX_SETTLE: Duration = Duration::from_secs(20);

/// A pause before reading a write back: long enough for another process's
/// read-modify-write to land, with jitter so retries do not march in step.
fn settle(run: &Run<'_>, attempt: u32, took: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = run
        .want
        .name
        .bytes()
        .fold(nanos, |h, b| h.rotate_left(5) ^ u32::from(b));
    pause(attempt, took, Duration::from_millis(u64::from(seed % 300)))
}

/// The pause after the `attempt`th write, whose read-modify-write took
/// `took`: longer with each attempt, and at least twice `took` (up to
/// [`MAX_SETTLE`]), plus `jitter`.
fn pause(attempt: u32, took: Duration, jitter: Duration) -> Duration {
    let floor = Duration::from_millis(200 * u64::from(attempt));
    floor.max((took * 2).min(MAX_SETTLE)) + jitter
}

/// Same configurations, whatever their order.
fn same(mut a: Vec<s3::Trigger>, mut b: Vec<s3::Trigger>) -> bool {
    let key = |t: &s3::Trigger| t.id.clone();
    a.sort_by_key(key);
    b.sort_by_key(key);
    let norm = |t: &mut s3::Trigger| {
        t.prefix = t.prefix.take().filter(|p| !p.is_empty());
        t.suffix = t.suffix.take().filter(|s| !s.is_empty());
    };
    a.iter_mut().for_each(norm);
    b.iter_mut().for_each(norm);
    a == b
}

/// Replaces the pipeline's configurations with `triggers`, and reads them
/// back until they are there as written. `landed` turns `true` once S3
/// accepted a write.
async fn write(
    run: &Run<'_>,
    triggers: &[s3::Trigger],
    step: &'static str,
    landed: &mut bool,
) -> Result<(), ApplyError> {
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    let is_ours = ours(run);
    for attempt in 1..=ATTEMPTS {
        // When the read-modify-write that succeeded started (not counting
        // waits for the permission to become visible).
        let mut began = Instant::now();
        // The write is not retried by the SDK (a retry would resend a
        // stale document): throttling and 5xx are retried here, reading
        // again, as many times as the provider's max_retries allows.
        let transient_left = AtomicU32::new(run.aws.max_retries);
        let retryable = |e: &AwsError| {
            (permission_not_visible(e) && foreign_refused(e, triggers).is_empty())
                || (e.is_transient()
                    && transient_left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok())
        };
        let written = until_consistent(
            "s3:PutBucketNotificationConfiguration",
            Backoff::PROPAGATION,
            run.stop,
            retryable,
            || {
                began = Instant::now();
                s3::replace_triggers(s3c, bucket, &is_ours, triggers)
            },
        )
        .await;
        if let Err(e) = &written {
            let foreign = foreign_refused(e, triggers);
            if !foreign.is_empty() {
                dangling(run, &is_ours, &foreign, e, step).await?;
                // Gone from the document since it was read: another
                // writer removed it meanwhile. Read again and write again.
                continue;
            }
        }
        written.map_err(ApplyError::aws(step))?;
        *landed = true;
        let took = began.elapsed();
        tokio::select! {
            () = tokio::time::sleep(settle(run, attempt, took)) => {}
            () = run.stop.cancelled() => return Ok(()),
        }
        let back = s3::triggers(s3c, bucket, &is_ours)
            .await
            .map_err(ApplyError::aws(step))?
            .unwrap_or_default();
        if same(back, triggers.to_vec()) {
            return Ok(());
        }
        tracing::warn!(
            bucket = %bucket,
            attempt,
            "another writer changed the bucket's notifications at the same time; writing again"
        );
    }
    Err(ApplyError::NotificationsContended {
        bucket: bucket.clone(),
        attempts: ATTEMPTS,
    })
}

/// S3 refused the document for `refused`, destinations of configurations
/// that are not this pipeline's. Those still on the bucket are someone
/// else's configurations left pointing at a function or queue that is gone
/// (or that does not let S3 send to it): no wait helps, and they are never
/// this pipeline's to drop, so the error names them. `Ok` when none is
/// there any more (another writer removed them meanwhile).
async fn dangling(
    run: &Run<'_>,
    is_ours: &impl Fn(&str) -> bool,
    refused: &[String],
    e: &AwsError,
    step: &'static str,
) -> Result<(), ApplyError> {
    let bucket = &run.want.bucket_name;
    let all = s3::notifications(&run.aws.s3, bucket)
        .await
        .map_err(ApplyError::aws(step))?
        .unwrap_or_default();
    let found: Vec<(String, String)> = all
        .into_iter()
        .filter(|n| !is_ours(&n.id) && refused.iter().any(|a| a == arn_of(&n.destination)))
        .map(|n| (n.id.clone(), arn_of(&n.destination).to_owned()))
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    Err(ApplyError::DanglingNotification {
        bucket: bucket.clone(),
        configurations: found,
        reason: e.message(),
    })
}

/// Writes the pipeline's triggers. On a bucket this run made there is
/// nothing else to keep, so the configuration is written without reading
/// it first (one call fewer on the create's critical path).
pub async fn put(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let triggers = desired::triggers(want);
    let step = "configuring the bucket notification";
    let _turn = run.ctx.buckets.lock(&want.bucket_name).await;
    if run.record().bucket_new {
        until_consistent(
            "s3:PutBucketNotificationConfiguration",
            Backoff::PROPAGATION,
            run.stop,
            permission_not_visible,
            || s3::put_triggers(&run.aws.s3, &want.bucket_name, &triggers),
        )
        .await
        .map_err(ApplyError::aws(step))?;
        run.made(Part::Notification);
    } else {
        // On a bucket this run did not make, the configurations are there
        // from the first write on, also when a later read-back fails: count
        // them made before writing, so that undoing a failed create takes
        // them off again rather than leaving them on someone's bucket,
        // naming a function the undo deletes.
        run.made(Part::Notification);
        let mut landed = false;
        let written = write(run, &triggers, step, &mut landed).await;
        if !landed && matches!(written, Err(ApplyError::DanglingNotification { .. })) {
            // S3 refused every write: nothing of this pipeline's is on the
            // bucket to take off again.
            run.update(|r| r.made.remove(Part::Notification));
        }
        written?;
    }
    Ok(())
}

/// Removes the pipeline's configurations, keeping everyone else's.
pub async fn remove(run: &Run<'_>) -> Result<(), ApplyError> {
    if run.record().bucket_exists != Some(false) {
        let _turn = run.ctx.buckets.lock(&run.want.bucket_name).await;
        let step = run.step(
            "removing the bucket notification",
            "rolling back the bucket notification",
        );
        match write(run, &[], step, &mut false).await {
            // A bucket someone else deleted has no notifications left.
            Err(ApplyError::Aws { source, .. }) if source.is_not_found() => {}
            other => other?,
        }
    }
    run.removed([Part::Notification]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(arns: &[&str]) -> AwsError {
        let detail: Vec<String> = arns
            .iter()
            .map(|a| format!("{a} (Not authorized to invoke function [{a}])"))
            .collect();
        AwsError::Service {
            operation: "s3:PutBucketNotificationConfiguration",
            code: "InvalidArgument".into(),
            message: format!("{}: {}", s3::UNVALIDATED, detail.join("; ")),
            status: Some(400),
        }
    }

    #[test]
    fn a_refused_destination_is_ours_to_wait_for_or_someone_else_s_to_report() {
        let ours = "arn:aws:lambda:us-east-1:123456789012:function:orders";
        let theirs = "arn:aws:lambda:us-east-1:123456789012:function:gone";
        let triggers = [s3::Trigger {
            id: "eventpipe-orders-0".into(),
            target: s3::Destination::Function(ours.into()),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: None,
            suffix: None,
        }];
        // Ours: a permission S3 cannot see yet; retried.
        let e = refused(&[ours]);
        assert!(permission_not_visible(&e));
        assert!(foreign_refused(&e, &triggers).is_empty());
        // S3 named none: as before, taken for ours.
        assert!(foreign_refused(&refused(&[]), &triggers).is_empty());
        // Someone else's: reported, whatever else S3 named.
        assert_eq!(foreign_refused(&refused(&[theirs]), &triggers), [theirs]);
        assert_eq!(
            foreign_refused(&refused(&[ours, theirs]), &triggers),
            [theirs]
        );
        // A removal writes no trigger of ours: every refused one is foreign.
        assert_eq!(foreign_refused(&refused(&[theirs]), &[]), [theirs]);
        // Any other error is neither.
        let other = AwsError::Service {
            operation: "s3:PutBucketNotificationConfiguration",
            code: "SlowDown".into(),
            message: "Please reduce your request rate.".into(),
            status: Some(503),
        };
        assert!(!permission_not_visible(&other));
        assert!(foreign_refused(&other, &triggers).is_empty());
    }

    #[test]
    fn the_pause_outlasts_a_write_as_slow_as_this_one() {
        let ms = Duration::from_millis;
        // A quick write: the floor, longer with each attempt.
        assert_eq!(pause(1, ms(30), ms(0)), ms(200));
        assert_eq!(pause(3, ms(30), ms(7)), ms(607));
        // A slow one (S3 or the network under load): twice as long as it
        // took, since another writer's takes about as long.
        assert_eq!(pause(1, ms(1500), ms(0)), ms(3000));
        assert_eq!(pause(8, ms(1500), ms(0)), ms(3000));
        // Bounded.
        assert_eq!(pause(1, Duration::from_secs(60), ms(0)), MAX_SETTLE);
    }
}
