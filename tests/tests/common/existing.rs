//! A bucket another team made, for pipelines with `create_bucket = false`:
//! how the tests make it (objects, a queue told of every removal, another
//! team's function told of new images), and what of it must stay as it was
//! ([`Foreign`]) beside the pipelines' own configurations ([`ours`]).

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
};
use tests::Aws;

use super::emulator::filter_rules;

/// The objects in a pre-existing bucket.
pub const OBJECTS: [&str; 4] = [
    "data/2026/a.json",
    "images/cat.png",
    "logs/app.log",
    "reports/q1.csv",
];
/// The queue configuration, on every `s3:ObjectRemoved:*`, no filter.
pub const QUEUE_ID: &str = "audit-removals";
/// The other team's function configuration, on new objects under `images/`.
pub const FUNCTION_ID: &str = "team-b-thumbnails";
pub const TEAM_B_FUNCTION: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:team-b-thumbnailer";

/// The ARN of the queue [`pre_existing_bucket`] makes for `bucket`.
pub fn audit_queue_arn(bucket: &str) -> String {
    format!("arn:aws:sqs:us-east-1:123456789012:{bucket}-audit")
}

fn prefix_filter(prefix: &str) -> NotificationConfigurationFilter {
    NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value(prefix)
                        .build(),
                )
                .build(),
        )
        .build()
}

/// Makes `bucket` as another team would: untagged, with [`OBJECTS`], a
/// queue told of every removal ([`QUEUE_ID`]) and another team's function
/// told of new images ([`FUNCTION_ID`]). moto checks neither that the
/// function exists nor the queue's policy; the queue is real, the function
/// only an ARN.
pub fn pre_existing_bucket(aws: &Aws, bucket: &str) {
    aws.create_bucket(bucket).expect("bucket");
    for key in OBJECTS {
        aws.put_object(bucket, key, format!("object {key}"))
            .expect("object");
    }
    let queue = aws.create_queue(&format!("{bucket}-audit")).expect("queue");
    assert_eq!(queue, audit_queue_arn(bucket));
    let cfg = NotificationConfiguration::builder()
        .queue_configurations(
            QueueConfiguration::builder()
                .id(QUEUE_ID)
                .queue_arn(queue)
                .events(Event::from("s3:ObjectRemoved:*"))
                .build()
                .expect("queue configuration"),
        )
        .lambda_function_configurations(
            LambdaFunctionConfiguration::builder()
                .id(FUNCTION_ID)
                .lambda_function_arn(TEAM_B_FUNCTION)
                .events(Event::from("s3:ObjectCreated:*"))
                .filter(prefix_filter("images/"))
                .build()
                .expect("function configuration"),
        )
        .build();
    aws.put_notifications(bucket, cfg).expect("notifications");
}

/// What a bucket holds that is not the pipelines': its settings, its
/// objects and every notification configuration but eventpipe's.
#[derive(Debug, PartialEq)]
pub struct Foreign {
    pub tags: BTreeMap<String, String>,
    pub public_access_block: bool,
    pub policy: Option<String>,
    pub encryption: Vec<String>,
    pub objects: Vec<String>,
    pub queues: Vec<QueueConfiguration>,
    pub functions: Vec<LambdaFunctionConfiguration>,
}

pub fn foreign(aws: &Aws, bucket: &str) -> Foreign {
    let cfg = aws.notifications(bucket).expect("notifications");
    Foreign {
        tags: aws.bucket_tags(bucket).expect("tags"),
        public_access_block: aws
            .public_access_block(bucket)
            .expect("public access block")
            .is_some(),
        policy: aws.bucket_policy(bucket).expect("policy"),
        encryption: aws.bucket_encryption(bucket).expect("encryption"),
        objects: aws.object_keys(bucket).expect("objects"),
        queues: cfg.queue_configurations().to_vec(),
        functions: cfg
            .lambda_function_configurations()
            .iter()
            .filter(|c| !c.id().unwrap_or_default().starts_with("eventpipe-"))
            .cloned()
            .collect(),
    }
}

/// One of the pipelines' notification configurations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ours {
    pub function_arn: String,
    pub events: Vec<String>,
    /// (`prefix` | `suffix`, value) pairs.
    pub rules: Vec<(String, String)>,
}

impl Ours {
    /// The configuration of function `function` on new objects under
    /// `prefix` (ending in `suffix`).
    pub fn created(function: &str, prefix: &str, suffix: Option<&str>) -> Ours {
        let mut rules = vec![("prefix".to_owned(), prefix.to_owned())];
        if let Some(s) = suffix {
            rules.push(("suffix".to_owned(), s.to_owned()));
        }
        Ours {
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
            events: vec!["s3:ObjectCreated:*".to_owned()],
            rules,
        }
    }
}

/// The pipelines' configurations on `bucket` (ids `eventpipe-…`), by id.
pub fn ours(aws: &Aws, bucket: &str) -> BTreeMap<String, Ours> {
    aws.notifications(bucket)
        .expect("notifications")
        .lambda_function_configurations()
        .iter()
        .filter(|c| c.id().unwrap_or_default().starts_with("eventpipe-"))
        .map(|c| {
            (
                c.id().unwrap_or_default().to_owned(),
                Ours {
                    function_arn: c.lambda_function_arn().to_owned(),
                    events: c.events().iter().map(|e| e.as_str().to_owned()).collect(),
                    rules: filter_rules(c),
                },
            )
        })
        .collect()
}

/// Lets S3 send `bucket`'s events to the audit queue [`pre_existing_bucket`]
/// made, as a queue S3 notifies must (S3 checks it on every notification
/// write; moto does not).
pub fn allow_s3_to_audit_queue(aws: &Aws, bucket: &str) {
    let url = aws
        .block_on(
            aws.sqs()
                .get_queue_url()
                .queue_name(format!("{bucket}-audit"))
                .send(),
        )
        .expect("audit queue URL")
        .queue_url()
        .expect("URL")
        .to_owned();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": audit_queue_arn(bucket),
            "Condition": {"ArnLike": {"aws:SourceArn": format!("arn:aws:s3:::{bucket}")}},
        }],
    });
    aws.block_on(
        aws.sqs()
            .set_queue_attributes()
            .queue_url(url)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::Policy,
                policy.to_string(),
            )
            .send(),
    )
    .expect("audit queue policy");
}

/// Makes the other team's function [`TEAM_B_FUNCTION`] real, S3 allowed to
/// invoke it for `bucket`, so every destination [`pre_existing_bucket`]'s
/// configurations name passes S3's check (with
/// [`allow_s3_to_audit_queue`]). Its role is `team-b-role`.
pub fn make_team_b_function(aws: &Aws, bucket: &str) {
    let role = aws
        .create_service_role("team-b-role", "/", "lambda.amazonaws.com")
        .expect("team-b role");
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    let (arn, _) = aws
        .create_function(&tests::aws::NewFunction {
            name: "team-b-thumbnailer",
            role_arn: &role,
            runtime: "python3.12",
            handler: "app.handler",
            memory_mb: 128,
            timeout_s: 3,
            zip: &zip,
        })
        .expect("team-b function");
    assert_eq!(arn, TEAM_B_FUNCTION);
    aws.add_s3_invoke_permission(
        "team-b-thumbnailer",
        "s3-invoke",
        &format!("arn:aws:s3:::{bucket}"),
    )
    .expect("team-b permission");
}
