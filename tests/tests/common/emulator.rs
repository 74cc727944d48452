//! What the emulator holds, read with the tests' own AWS client: the check
//! that nothing is left, and the few read-backs several tests make.

use std::collections::HashMap;

use aws_sdk_s3::types::{LambdaFunctionConfiguration, QueueConfiguration};
use serde_json::Value as Json;
use tests::{Aws, Moto};

/// Asserts the emulator holds nothing this project could have made:
/// buckets, roles, functions, log groups and queues. The function's log
/// group `/aws/lambda/<function>` counts too: the pipeline makes and
/// deletes it (moto only writes into the group once it exists), so one left
/// behind is an orphan.
pub fn assert_emulator_empty(moto: &Moto) {
    let inv = moto
        .aws()
        .expect("aws")
        .list_everything()
        .expect("inventory");
    assert!(inv.is_empty(), "the emulator should hold nothing:\n{inv}");
}

/// IAM returns policy documents URL-encoded.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The function's resource policy (its invoke permissions) as JSON.
pub fn function_policy(aws: &Aws, function: &str) -> Json {
    let policy = aws
        .block_on(aws.lambda().get_policy().function_name(function).send())
        .expect("function policy");
    serde_json::from_str(policy.policy().expect("a policy document")).expect("the policy is JSON")
}

/// The function's tags.
pub fn function_tags(aws: &Aws, function: &str) -> HashMap<String, String> {
    let f = aws
        .block_on(aws.lambda().get_function().function_name(function).send())
        .expect("function");
    f.tags().cloned().unwrap_or_default()
}

/// The role's tags, in the order IAM lists them.
pub fn role_tags(aws: &Aws, role: &str) -> Vec<(String, String)> {
    let out = aws
        .block_on(aws.iam().get_role().role_name(role).send())
        .expect("role");
    out.role()
        .map(|r| {
            r.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The bucket's notification configurations that invoke a function.
pub fn lambda_notifications(aws: &Aws, bucket: &str) -> Vec<LambdaFunctionConfiguration> {
    aws.notifications(bucket)
        .expect("bucket notification")
        .lambda_function_configurations()
        .to_vec()
}

/// The bucket's notification configurations that send to a queue.
pub fn queue_notifications(aws: &Aws, bucket: &str) -> Vec<QueueConfiguration> {
    aws.notifications(bucket)
        .expect("bucket notification")
        .queue_configurations()
        .to_vec()
}

/// The ids of the bucket's notification configurations that invoke a
/// function, sorted.
pub fn lambda_notification_ids(aws: &Aws, bucket: &str) -> Vec<String> {
    let mut ids: Vec<String> = lambda_notifications(aws, bucket)
        .iter()
        .filter_map(|n| n.id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// The ids of the bucket's notification configurations that send to a
/// queue.
pub fn queue_notification_ids(aws: &Aws, bucket: &str) -> Vec<String> {
    queue_notifications(aws, bucket)
        .iter()
        .filter_map(|q| q.id().map(str::to_owned))
        .collect()
}

/// A notification's key filter as (`prefix` | `suffix`, value) pairs.
pub fn filter_rules(notification: &LambdaFunctionConfiguration) -> Vec<(String, String)> {
    notification
        .filter()
        .and_then(|f| f.key())
        .map(|k| {
            k.filter_rules()
                .iter()
                .map(|r| {
                    (
                        r.name().expect("rule name").as_str().to_lowercase(),
                        r.value().expect("rule value").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
