//! The display name of each result, as `terraform query` shows it.
//!
//! - a pipeline this provider made: `orders (bucket orders-in)`;
//! - a wiring made by hand: `bucket → function (prefix, suffix)`, one
//!   `(prefix, suffix)` per configuration (joined by `; `), an empty filter
//!   written `any`; through a queue, `, through queue <name>` follows.

use crate::aws::s3;

/// A pipeline this provider made: its name and its bucket.
pub fn owned(pipeline: &str, bucket: &str) -> String {
    format!("{pipeline} (bucket {bucket})")
}

/// A wiring made by hand: the bucket, the function, each configuration's
/// filter, and the queue it goes through.
pub fn adoptable(
    bucket: &str,
    function: &str,
    notifications: &[s3::Notification],
    queue_arn: Option<&str>,
) -> String {
    let filters: Vec<String> = notifications
        .iter()
        .map(|n| format!("{}, {}", shown(&n.prefix), shown(&n.suffix)))
        .collect();
    let through = queue_arn
        .map(|arn| format!(", through queue {}", arn.rsplit(':').next().unwrap_or(arn)))
        .unwrap_or_default();
    format!("{bucket} → {function} ({}){through}", filters.join("; "))
}

fn shown(filter: &Option<String>) -> &str {
    match filter.as_deref() {
        None | Some("") => "any",
        Some(f) => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(prefix: Option<&str>, suffix: Option<&str>) -> s3::Notification {
        s3::Notification {
            id: "n".into(),
            destination: s3::Destination::Function("arn".into()),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: prefix.map(str::to_owned),
            suffix: suffix.map(str::to_owned),
        }
    }

    #[test]
    fn an_owned_pipeline_shows_its_name_and_bucket() {
        assert_eq!(owned("orders", "orders-in"), "orders (bucket orders-in)");
    }

    #[test]
    fn a_wiring_shows_bucket_function_and_each_filter_with_any_for_none() {
        let one = [notification(Some("data/"), Some(".json"))];
        assert_eq!(
            adoptable("legacy-data", "legacy-handler", &one, None),
            "legacy-data → legacy-handler (data/, .json)"
        );
        let two = [
            notification(Some("in/"), None),
            notification(Some(""), Some(".csv")),
        ];
        assert_eq!(
            adoptable(
                "uploads",
                "worker",
                &two,
                Some("arn:aws:sqs:eu-west-1:123456789012:uploads-q")
            ),
            "uploads → worker (in/, any; any, .csv), through queue uploads-q"
        );
    }
}
