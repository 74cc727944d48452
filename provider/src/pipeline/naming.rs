//! Names derived from the pipeline's `name`.

use sha2::{Digest, Sha256};

pub fn function_name(name: &str) -> String {
    name.to_owned()
}

pub fn role_name(name: &str) -> String {
    format!("{name}-role")
}

/// The log group Lambda writes the function's logs to.
pub fn log_group_name(function_name: &str) -> String {
    format!("/aws/lambda/{function_name}")
}

/// The ECR repository a pipeline with `package_type = "image"` makes when
/// `image.repository_name` is not set: its name in lower case (ECR allows
/// no capitals).
pub fn repository_name(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The queue a pipeline makes for its failed events.
pub fn failure_queue_name(name: &str) -> String {
    format!("{name}-failed")
}

/// The queue S3 notifies with `delivery = "queue"`.
pub fn event_queue_name(name: &str) -> String {
    format!("{name}-events")
}

/// The kinds of alarm a pipeline can have (`alarms {}`), each named
/// `<name>-<kind>` and keyed by its kind in `alarm_arns`.
#[allow(dead_code)] // the alarms part (issue 26) names them
pub const ALARM_KINDS: [&str; 5] = [
    "failed-events",
    "error-rate",
    "throttles",
    "queue-age",
    "iterator-age",
];

/// The CloudWatch alarm of one kind (one of [`ALARM_KINDS`]).
#[allow(dead_code)]
pub fn alarm_name(name: &str, kind: &str) -> String {
    format!("{name}-{kind}")
}

/// The SNS topic the pipeline makes for its alarms (`alarms.emails`).
#[allow(dead_code)]
pub fn alarm_topic_name(name: &str) -> String {
    format!("{name}-alarms")
}

/// The role's inline policy's name.
pub const POLICY_NAME: &str = "eventpipe";

/// Statement id of the permission that lets S3 invoke the function.
pub const PERMISSION_SID: &str = "eventpipe-s3-invoke";

/// Id of the bucket notification configuration of trigger `index`.
pub fn notification_id(name: &str, index: usize) -> String {
    format!("eventpipe-{name}-{index}")
}

/// Prefix of the notification ids this pipeline owns.
pub fn notification_id_prefix(name: &str) -> String {
    format!("eventpipe-{name}-")
}

/// The trigger index of `id` when it is one of pipeline `name`'s own ids
/// (`eventpipe-<name>-<index>`), so `orders` never takes
/// `eventpipe-orders-eu-0` (pipeline `orders-eu`'s) for its own.
pub fn own_notification_index(name: &str, id: &str) -> Option<usize> {
    let rest = id.strip_prefix(&notification_id_prefix(name))?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        .then(|| rest.parse().ok())
        .flatten()
}

/// A bucket name for a pipeline that does not name its bucket: the pipeline
/// name made S3-safe, plus a hash of account, region and name so the same
/// pipeline name in two accounts or regions does not collide. The same
/// inputs always give the same name, so plans are stable.
pub fn derived_bucket_name(name: &str, partition: &str, account: &str, region: &str) -> String {
    let digest = Sha256::digest(format!("{partition}/{account}/{region}/{name}").as_bytes());
    let suffix = &hex::encode(digest)[..10];
    let mut slug: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    // Collapse runs of '-' and trim to leave room for "-" + suffix.
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    slug.truncate(63 - 1 - suffix.len());
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() || slug.starts_with("xn-") || slug.starts_with("sthree-") {
        format!("ep-{slug}")
    } else {
        slug.to_owned()
    };
    let slug = slug.trim_end_matches('-');
    let mut out = format!("{slug}-{suffix}");
    out.truncate(63);
    out
}

/// Where packages over Lambda's direct-upload limit are staged in a
/// bucket; no trigger may match it.
pub const STAGING_PREFIX: &str = ".eventpipe/packages/";

/// The staged packages of `function`.
pub fn staging_prefix(function: &str) -> String {
    format!("{STAGING_PREFIX}{function}/")
}

/// The key of `function`'s package with `hash` (its `source_code_hash`).
pub fn staged_key(function: &str, hash: &str) -> String {
    format!("{}{hash}.zip", staging_prefix(function))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipeline_owns_only_its_own_notification_ids() {
        assert_eq!(
            own_notification_index("orders", "eventpipe-orders-0"),
            Some(0)
        );
        assert_eq!(
            own_notification_index("orders", "eventpipe-orders-12"),
            Some(12)
        );
        assert_eq!(
            own_notification_index("orders", "eventpipe-orders-eu-0"),
            None
        );
        assert_eq!(own_notification_index("orders", "eventpipe-orders-"), None);
        assert_eq!(
            own_notification_index("orders-eu", "eventpipe-orders-eu-0"),
            Some(0)
        );
    }

    fn valid_bucket(s: &str) -> bool {
        (3..=63).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
    }

    #[test]
    fn derived_names_are_valid_stable_and_distinct() {
        let a = derived_bucket_name("Orders_Ingest", "aws", "123456789012", "us-east-1");
        assert!(a.starts_with("orders-ingest-"), "{a}");
        assert!(valid_bucket(&a), "{a}");
        assert_eq!(
            a,
            derived_bucket_name("Orders_Ingest", "aws", "123456789012", "us-east-1")
        );
        assert_ne!(
            a,
            derived_bucket_name("Orders_Ingest", "aws", "210987654321", "us-east-1")
        );
        assert_ne!(
            a,
            derived_bucket_name("Orders_Ingest", "aws", "123456789012", "eu-west-1")
        );
        for n in ["_", "-x-", "xn--bad", &"long".repeat(30)] {
            let b = derived_bucket_name(n, "aws", "123456789012", "us-east-1");
            assert!(valid_bucket(&b), "{n} -> {b}");
        }
    }
}
