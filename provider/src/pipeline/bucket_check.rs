//! The plan's look at an existing bucket: that it exists in the provider's
//! region, and that no trigger overlaps a notification configuration
//! already on it (anyone's) or one another pipeline of this run plans for
//! it. AWS itself refuses an overlap only at apply, as "Configurations
//! overlap", without naming the configuration in the way.

use tfsdk::access::Field;
use tfsdk::diag::{Diagnostic, Diagnostics};

use crate::aws::{AwsClients, AwsError, s3};

use super::naming;
use super::shared::{BucketView, BucketViews};
use super::state::{Known, Planning, State, Trigger, attr, path};
use super::validate::{events_overlap, filters_overlap};

async fn look(aws: &AwsClients, bucket: &str) -> Result<BucketView, AwsError> {
    let (region, notifications) = tokio::join!(
        s3::bucket_region(&aws.s3, bucket),
        s3::notifications(&aws.s3, bucket)
    );
    Ok(BucketView {
        region: region?,
        notifications: notifications?.unwrap_or_default(),
    })
}

fn describe(n: &s3::Notification) -> String {
    let target = match &n.destination {
        s3::Destination::Function(a) => format!("function {a}"),
        s3::Destination::Queue(a) => format!("queue {a}"),
        s3::Destination::Topic(a) => format!("topic {a}"),
    };
    format!(
        "configuration {:?} ({} → {target}, prefix {:?}, suffix {:?})",
        n.id,
        n.events.join(", "),
        n.prefix.as_deref().unwrap_or(""),
        n.suffix.as_deref().unwrap_or("")
    )
}

/// Checks `planned` against the bucket it names, when the plan should:
/// always for a bucket the pipeline does not manage, and for its own
/// bucket when the triggers change.
pub async fn check(
    aws: &AwsClients,
    views: &BucketViews,
    planned: &State<Planning>,
    prior: Option<&State<Known>>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let (Field::Known(bucket), Field::Known(name), Field::Known(triggers)) =
        (&planned.bucket_name, &planned.name, &planned.trigger)
    else {
        return diags;
    };
    let unmanaged = planned.create_bucket == Field::Known(false);
    let mine = planned_notifications(planned, name, triggers);
    let updating_triggers = prior.is_some_and(|p| triggers_changed(p, &mine));
    if !(unmanaged || updating_triggers) {
        return diags;
    }
    let view = match views.get(bucket, || look(aws, bucket)).await {
        Ok(v) => v,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "Cannot read the bucket",
                    format!("Looking up bucket {bucket:?} for the plan failed: {e}"),
                )
                .at(path::top(attr::BUCKET_NAME)),
            );
            return diags;
        }
    };
    if let Some(d) = region_problem(aws, bucket, view.region.as_deref(), unmanaged) {
        diags.push(d);
        return diags;
    }
    // Configurations that are not this pipeline's: its own prefix, and
    // what its state records (adopted ones it replaces), are its own.
    let own = |id: &str| {
        naming::own_notification_index(name, id).is_some()
            || prior.is_some_and(|p| p.notification_ids.iter().any(|i| i == id))
    };
    let siblings = views.plan(bucket, name, mine.clone());
    let others: Vec<(String, &s3::Notification)> = view
        .notifications
        .iter()
        .filter(|n| !own(&n.id))
        .map(|n| (describe(n), n))
        .chain(siblings.iter().map(|(p, n)| {
            (
                format!("{} of pipeline {p:?}, planned in this run", describe(n)),
                n,
            )
        }))
        .collect();
    check_overlaps(&mine, &others, &mut diags);
    diags
}

/// The notification configurations the pipeline's known triggers make.
fn planned_notifications(
    planned: &State<Planning>,
    name: &str,
    triggers: &[Trigger<Planning>],
) -> Vec<s3::Notification> {
    triggers
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let (events, prefix, suffix) = t.known_filter()?;
            Some(s3::Notification {
                id: naming::notification_id(name, i),
                destination: s3::Destination::Function(
                    planned.function_arn.as_known().cloned().unwrap_or_default(),
                ),
                events,
                prefix: Some(prefix.to_owned()),
                suffix: Some(suffix.to_owned()),
            })
        })
        .collect()
}

/// Whether the planned triggers differ from the prior state's.
fn triggers_changed(prior: &State<Known>, mine: &[s3::Notification]) -> bool {
    prior.trigger.len() != mine.len()
        || prior.trigger.iter().zip(mine).any(|(a, b)| {
            a.events != b.events
                || Some(a.prefix()) != b.prefix.as_deref()
                || Some(a.suffix()) != b.suffix.as_deref()
        })
}

/// An existing bucket that is missing, or in another region than the
/// provider's.
fn region_problem(
    aws: &AwsClients,
    bucket: &str,
    region: Option<&str>,
    unmanaged: bool,
) -> Option<Diagnostic> {
    let d = match region {
        None if unmanaged => Diagnostic::error(
            "Bucket does not exist",
            format!(
                "With create_bucket = false the pipeline uses an existing bucket, and \
                 there is no bucket {bucket:?}. Create it first, or set \
                 create_bucket = true."
            ),
        ),
        Some(region) if region != aws.region => Diagnostic::error(
            "Bucket in another region",
            format!(
                "Bucket {bucket:?} is in {region}, and this provider works in {}: \
                 S3 notifies only functions in the bucket's region. Use a provider \
                 configured for {region}.",
                aws.region
            ),
        ),
        _ => return None,
    };
    Some(d.at(path::top(attr::BUCKET_NAME)))
}

/// A trigger of `mine` that fires for an event one of `others` (described)
/// fires for, on keys both match.
fn check_overlaps(
    mine: &[s3::Notification],
    others: &[(String, &s3::Notification)],
    diags: &mut Diagnostics,
) {
    for (i, t) in mine.iter().enumerate() {
        let filter = (
            t.prefix.as_deref().unwrap_or(""),
            t.suffix.as_deref().unwrap_or(""),
        );
        for (what, o) in others {
            let shared = t
                .events
                .iter()
                .find(|e| o.events.iter().any(|f| events_overlap(e, f)));
            let theirs = (
                o.prefix.as_deref().unwrap_or(""),
                o.suffix.as_deref().unwrap_or(""),
            );
            if let Some(event) = shared
                && filters_overlap(filter, theirs)
            {
                diags.push(
                    Diagnostic::error(
                        "Trigger overlaps a configuration on the bucket",
                        format!(
                            "trigger[{i}] fires for {event} on keys that {what} also matches; \
                             S3 refuses two configurations for the same event on overlapping \
                             keys. Make the prefixes or suffixes disjoint."
                        ),
                    )
                    .at(path::trigger(i)),
                );
            }
        }
    }
}
