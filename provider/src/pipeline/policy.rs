//! The function role's trust policy and least-privilege inline policy.
//!
//! The inline policy text is computed at plan time and applied byte for byte,
//! so what a reviewer reads in the plan is exactly what IAM receives.

use serde_json::json;

/// Where the pipeline lives: enough to write ARNs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub partition: String,
    pub region: String,
    pub account_id: String,
}

/// The AWS partition a region belongs to.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

pub fn bucket_arn(partition: &str, bucket: &str) -> String {
    format!("arn:{partition}:s3:::{bucket}")
}

pub fn role_arn(loc: &Location, role_name: &str) -> String {
    format!(
        "arn:{}:iam::{}:role/{role_name}",
        loc.partition, loc.account_id
    )
}

pub fn function_arn(loc: &Location, function_name: &str) -> String {
    format!(
        "arn:{}:lambda:{}:{}:function:{function_name}",
        loc.partition, loc.region, loc.account_id
    )
}

pub fn queue_arn(loc: &Location, queue_name: &str) -> String {
    format!(
        "arn:{}:sqs:{}:{}:{queue_name}",
        loc.partition, loc.region, loc.account_id
    )
}

/// The SNS topic `name`.
pub fn topic_arn(loc: &Location, name: &str) -> String {
    format!(
        "arn:{}:sns:{}:{}:{name}",
        loc.partition, loc.region, loc.account_id
    )
}

/// The CloudWatch alarm `name`.
pub fn alarm_arn(loc: &Location, name: &str) -> String {
    format!(
        "arn:{}:cloudwatch:{}:{}:alarm:{name}",
        loc.partition, loc.region, loc.account_id
    )
}

/// Partition, region and account of an ARN
/// (`arn:<partition>:<service>:<region>:<account>:…`).
pub fn location_of_arn(arn: &str) -> Option<Location> {
    let mut parts = arn.split(':');
    let (_, partition, _, region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (!region.is_empty() && !account.is_empty()).then(|| Location {
        partition: partition.to_owned(),
        region: region.to_owned(),
        account_id: account.to_owned(),
    })
}

/// The URI ECR gives the repository `name`:
/// `<account>.dkr.ecr.<region>.<domain>/<name>`, the domain being the
/// partition's (`amazonaws.com`, `amazonaws.com.cn` in China).
pub fn repository_url(loc: &Location, name: &str) -> String {
    let domain = if loc.partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("{}.dkr.ecr.{}.{domain}/{name}", loc.account_id, loc.region)
}

pub fn stream_arn(loc: &Location, stream_name: &str) -> String {
    format!(
        "arn:{}:kinesis:{}:{}:stream/{stream_name}",
        loc.partition, loc.region, loc.account_id
    )
}

/// The event queue's policy: only S3, for this bucket in this account, may
/// send to it.
pub fn event_queue_policy(queue_arn: &str, bucket_arn: &str, account_id: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "S3SendsThisBucketsEvents",
            "Effect": "Allow",
            "Principal": { "Service": "s3.amazonaws.com" },
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {
                "ArnEquals": { "aws:SourceArn": bucket_arn },
                "StringEquals": { "aws:SourceAccount": account_id }
            }
        }]
    })
    .to_string()
}

/// The account id inside an ARN such as a role's.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// The role's trust policy: only Lambda may assume it, and only on behalf of
/// this account.
pub fn trust_policy(account_id: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": account_id } }
        }]
    })
    .to_string()
}

/// The bucket policy that refuses every request not made over TLS.
pub fn tls_only_bucket_policy(partition: &str, bucket: &str) -> String {
    let arn = bucket_arn(partition, bucket);
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": TLS_STATEMENT_SID,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn.clone(), format!("{arn}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    })
    .to_string()
}

/// The id of the TLS-only statement in a bucket policy.
pub const TLS_STATEMENT_SID: &str = "DenyInsecureTransport";

/// `existing` (a bucket policy, or none) with the TLS-only statement
/// added, or replaced when it is there; every other statement is kept.
pub fn with_tls_statement(existing: Option<&str>, partition: &str, bucket: &str) -> String {
    let ours: serde_json::Value =
        serde_json::from_str(&tls_only_bucket_policy(partition, bucket)).unwrap_or_default();
    let Some(mut doc) = existing.and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok())
    else {
        return ours.to_string();
    };
    let statement = ours["Statement"][0].clone();
    match doc["Statement"].as_array_mut() {
        Some(list) => {
            list.retain(|st| st["Sid"] != TLS_STATEMENT_SID);
            list.push(statement);
        }
        None => doc["Statement"] = serde_json::Value::Array(vec![statement]),
    }
    doc.to_string()
}

/// `existing` without the TLS-only statement; `None` when nothing else is
/// left (the policy should go).
pub fn without_tls_statement(existing: &str) -> Option<String> {
    let mut doc = serde_json::from_str::<serde_json::Value>(existing).ok()?;
    let list = doc["Statement"].as_array_mut()?;
    list.retain(|st| st["Sid"] != TLS_STATEMENT_SID);
    (!list.is_empty()).then(|| doc.to_string())
}

/// The inline policy: read the objects the triggers can deliver, write logs
/// to the function's own log group, nothing else.
///
/// `prefixes` holds each trigger's prefix; when every trigger has a
/// non-empty one, reads are narrowed to those prefixes.
/// What the function's role may do, beside reading its objects and writing
/// its logs.
#[derive(Clone, Copy, Debug)]
pub struct Extras<'a> {
    /// Write results under this prefix.
    pub output_prefix: Option<&'a str>,
    /// Send failed events to this queue.
    pub failure_queue: Option<&'a str>,
    /// Read this stream, and with `true` also write to it.
    pub stream: Option<(&'a str, bool)>,
    /// Drain this queue (`delivery = "queue"`).
    pub event_queue: Option<&'a str>,
    /// The customer-managed keys the bucket, the failure queue and the
    /// stream encrypt with.
    pub keys: &'a KeyGrants,
}

impl Default for Extras<'_> {
    fn default() -> Self {
        static NO_KEYS: KeyGrants = KeyGrants {
            bucket: None,
            failure_queue: None,
            stream: None,
        };
        Extras {
            output_prefix: None,
            failure_queue: None,
            stream: None,
            event_queue: None,
            keys: &NO_KEYS,
        }
    }
}

/// The customer-managed KMS keys the role needs, as the plan found them.
/// AWS-managed keys (`aws/s3`, `aws/sqs`, `aws/kinesis`) are never here:
/// their own key policies let the services use them for the account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyGrants {
    /// The bucket's default encryption key.
    pub bucket: Option<BucketKey>,
    /// The key of an existing failure queue (`on_failure.queue_arn`).
    pub failure_queue: Option<String>,
    /// The key of an existing stream (`stream.arn`).
    pub stream: Option<String>,
}

/// The key a bucket's objects are encrypted with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketKey {
    /// The key's ARN.
    pub arn: String,
    /// S3 Bucket Keys are on: KMS sees the bucket's ARN as the encryption
    /// context instead of the object's.
    pub bucket_key: bool,
}

/// The host a service calls KMS from, for `kms:ViaService`.
fn via(service: &str, loc: &Location) -> String {
    let domain = if loc.partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("{service}.{}.{domain}", loc.region)
}

/// A grant on the bucket's key for `actions` on `objects`, through S3 only
/// and for those objects only (their ARNs are the encryption context S3
/// gives KMS; with Bucket Keys the context is the bucket's ARN).
fn bucket_key_statement(
    sid: &str,
    action: &str,
    key: &BucketKey,
    loc: &Location,
    bucket_arn: &str,
    objects: &[String],
) -> serde_json::Value {
    let mut context: Vec<String> = objects.to_vec();
    if key.bucket_key {
        context.insert(0, bucket_arn.to_owned());
    }
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": action,
        "Resource": key.arn,
        "Condition": {
            "StringEquals": { "kms:ViaService": via("s3", loc) },
            "StringLike": { "kms:EncryptionContext:aws:s3:arn": context },
        },
    })
}

pub fn inline_policy(
    loc: &Location,
    bucket: &str,
    function_name: &str,
    prefixes: &[Option<String>],
    extras: Extras<'_>,
) -> String {
    let bucket = bucket_arn(&loc.partition, bucket);
    let mut statements = object_statements(loc, &bucket, prefixes, &extras);
    let log_group = format!(
        "arn:{}:logs:{}:{}:log-group:{}",
        loc.partition,
        loc.region,
        loc.account_id,
        super::naming::log_group_name(function_name)
    );
    // The pipeline makes the group before the function, so the function
    // never needs to create it.
    statements.push(json!({
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [log_group.clone(), format!("{log_group}:*")],
    }));
    statements.extend(source_statements(loc, &extras));
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

/// Reading the triggering objects (under the triggers' prefixes, when each
/// has one), writing results under `output_prefix`, and the bucket's
/// customer-managed key for each.
fn object_statements(
    loc: &Location,
    bucket: &str,
    prefixes: &[Option<String>],
    extras: &Extras<'_>,
) -> Vec<serde_json::Value> {
    let narrowed: Option<Vec<&str>> = prefixes
        .iter()
        .map(|p| p.as_deref().filter(|p| !p.is_empty()))
        .collect();
    let mut objects: Vec<String> = match narrowed {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|p| format!("{bucket}/{}*", escape_iam_wildcards(p)))
            .collect(),
        _ => vec![format!("{bucket}/*")],
    };
    objects.sort();
    objects.dedup();
    let key = extras.keys.bucket.as_ref();
    let mut statements = vec![json!({
        "Sid": "ReadTriggeringObjects",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": objects,
    })];
    if let Some(key) = key {
        statements.push(bucket_key_statement(
            "DecryptTriggeringObjects",
            "kms:Decrypt",
            key,
            loc,
            bucket,
            &objects,
        ));
    }
    if let Some(out) = extras.output_prefix {
        let results = format!("{bucket}/{}*", escape_iam_wildcards(out));
        statements.push(json!({
            "Sid": "WriteResults",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": results,
        }));
        if let Some(key) = key {
            statements.push(bucket_key_statement(
                "EncryptResults",
                "kms:GenerateDataKey",
                key,
                loc,
                bucket,
                &[results],
            ));
        }
    }
    statements
}

/// Sending failed events, draining the event queue, reading (and writing)
/// the stream, and the customer-managed keys of an existing failure queue
/// and stream.
fn source_statements(loc: &Location, extras: &Extras<'_>) -> Vec<serde_json::Value> {
    let keys = extras.keys;
    let mut statements = Vec::new();
    if let Some(queue) = extras.failure_queue {
        statements.push(json!({
            "Sid": "SendFailedEvents",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": queue,
        }));
        // Lambda sends the failed events as the role: SQS then asks KMS
        // for a data key on the role's behalf.
        if let Some(key) = &keys.failure_queue {
            statements.push(json!({
                "Sid": "EncryptFailedEvents",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key,
                "Condition": { "StringEquals": { "kms:ViaService": via("sqs", loc) } },
            }));
        }
    }
    if let Some(queue) = extras.event_queue {
        statements.push(json!({
            "Sid": "DrainEventQueue",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": queue,
        }));
    }
    if let Some((stream, put)) = extras.stream {
        statements.push(json!({
            "Sid": "ReadStream",
            "Effect": "Allow",
            "Action": [
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
                "kinesis:SubscribeToShard"
            ],
            "Resource": stream,
        }));
        // The event source mapping reads the records as the role.
        // Writing to it (`allow_put_records`) needs a data key as well.
        if let Some(key) = &keys.stream {
            let actions = if put {
                json!(["kms:Decrypt", "kms:GenerateDataKey"])
            } else {
                json!("kms:Decrypt")
            };
            statements.push(json!({
                "Sid": "DecryptStream",
                "Effect": "Allow",
                "Action": actions,
                "Resource": key,
                "Condition": { "StringEquals": { "kms:ViaService": via("kinesis", loc) } },
            }));
        }
        if put {
            statements.push(json!({
                "Sid": "WriteStream",
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                "Resource": stream,
            }));
        }
    }
    statements
}

/// The output prefix an inline policy written by [`inline_policy`] grants
/// `s3:PutObject` under, if any (used to rebuild state on import).
pub fn output_prefix_of(policy_json: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(policy_json).ok()?;
    let statement = doc["Statement"]
        .as_array()?
        .iter()
        .find(|s| s["Sid"] == "WriteResults")?;
    let resource = statement["Resource"].as_str()?;
    let (_, key) = resource.split_once(":::")?.1.split_once('/')?;
    let prefix = key.strip_suffix('*')?;
    Some(
        prefix
            .replace("${*}", "*")
            .replace("${?}", "?")
            .replace("${$}", "$"),
    )
}

/// In IAM resource ARNs `*`, `?` and `$` are special; a literal one is
/// written `${*}`, `${?}`, `${$}`.
fn escape_iam_wildcards(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '?' | '$' => {
                out.push_str("${");
                out.push(c);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    fn loc() -> Location {
        Location {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account_id: "123456789012".into(),
        }
    }

    fn resources(policy: &str, sid: &str) -> Vec<String> {
        let stmt = statement(policy, sid).unwrap();
        serde_json::from_value(stmt["Resource"].clone()).unwrap()
    }

    #[test]
    fn reads_are_narrowed_to_prefixes_when_every_trigger_has_one() {
        let p = inline_policy(
            &loc(),
            "b",
            "f",
            &[
                Some("data/".into()),
                Some("in/".into()),
                Some("data/".into()),
            ],
            Extras::default(),
        );
        assert_eq!(
            resources(&p, "ReadTriggeringObjects"),
            ["arn:aws:s3:::b/data/*", "arn:aws:s3:::b/in/*"]
        );
    }

    #[test]
    fn one_trigger_without_prefix_widens_reads_to_the_bucket() {
        let p = inline_policy(
            &loc(),
            "b",
            "f",
            &[Some("data/".into()), None],
            Extras::default(),
        );
        assert_eq!(resources(&p, "ReadTriggeringObjects"), ["arn:aws:s3:::b/*"]);
        let p = inline_policy(&loc(), "b", "f", &[Some(String::new())], Extras::default());
        assert_eq!(resources(&p, "ReadTriggeringObjects"), ["arn:aws:s3:::b/*"]);
    }

    #[test]
    fn failed_events_may_go_to_the_failure_queue_only() {
        let q = "arn:aws:sqs:eu-west-1:123456789012:orders-failed";
        let p = inline_policy(
            &loc(),
            "b",
            "f",
            &[None],
            Extras {
                failure_queue: Some(q),
                ..Extras::default()
            },
        );
        let send = statement(&p, "SendFailedEvents").unwrap();
        assert_eq!(send["Resource"], q);
        assert_eq!(send["Action"], "sqs:SendMessage");
        let p = inline_policy(&loc(), "b", "f", &[None], Extras::default());
        assert!(!p.contains("sqs:"), "{p}");
        assert!(!p.contains("logs:CreateLogGroup"), "{p}");
    }

    #[test]
    fn logs_are_limited_to_the_functions_own_group() {
        let p = inline_policy(&loc(), "b", "fn1", &[None], Extras::default());
        assert_eq!(
            resources(&p, "WriteOwnLogs"),
            [
                "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn1",
                "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn1:*"
            ]
        );
    }

    #[test]
    fn an_output_prefix_grants_put_there_only() {
        let p = inline_policy(
            &loc(),
            "b",
            "f",
            &[Some("in/".into())],
            Extras {
                output_prefix: Some("out/"),
                ..Extras::default()
            },
        );
        let put = statement(&p, "WriteResults").unwrap();
        assert_eq!(put["Action"], "s3:PutObject");
        assert_eq!(put["Resource"], "arn:aws:s3:::b/out/*");
        let none = inline_policy(&loc(), "b", "f", &[Some("in/".into())], Extras::default());
        assert!(!none.contains("PutObject"));
        assert_eq!(output_prefix_of(&p).as_deref(), Some("out/"));
        assert_eq!(output_prefix_of(&none), None);
        let odd = inline_policy(
            &loc(),
            "b",
            "f",
            &[None],
            Extras {
                output_prefix: Some("r*s/"),
                ..Extras::default()
            },
        );
        assert_eq!(output_prefix_of(&odd).as_deref(), Some("r*s/"));
    }

    #[test]
    fn literal_wildcards_in_prefixes_are_escaped() {
        let p = inline_policy(&loc(), "b", "f", &[Some("a*b?/".into())], Extras::default());
        assert_eq!(
            resources(&p, "ReadTriggeringObjects"),
            ["arn:aws:s3:::b/a${*}b${?}/*"]
        );
    }

    fn statement(policy: &str, sid: &str) -> Option<Json> {
        let doc: Json = serde_json::from_str(policy).unwrap();
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .cloned()
    }

    const KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-0000-4000-8000-000000000001";

    #[test]
    fn a_bucket_key_is_granted_through_s3_for_the_triggers_objects_only() {
        let keys = KeyGrants {
            bucket: Some(BucketKey {
                arn: KEY.into(),
                bucket_key: false,
            }),
            ..KeyGrants::default()
        };
        let p = inline_policy(
            &loc(),
            "b",
            "f",
            &[Some("a/".into())],
            Extras {
                keys: &keys,
                ..Extras::default()
            },
        );
        let d = statement(&p, "DecryptTriggeringObjects").expect("a grant on the key");
        assert_eq!(d["Action"], "kms:Decrypt");
        assert_eq!(d["Resource"], KEY);
        assert_eq!(
            d["Condition"]["StringEquals"]["kms:ViaService"],
            "s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            d["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"],
            serde_json::json!(["arn:aws:s3:::b/a/*"])
        );
        assert!(statement(&p, "EncryptResults").is_none());

        // Results under output_prefix get data keys, for those objects;
        // with Bucket Keys the context is the bucket's ARN as well.
        let keys = KeyGrants {
            bucket: Some(BucketKey {
                arn: KEY.into(),
                bucket_key: true,
            }),
            ..KeyGrants::default()
        };
        let p = inline_policy(
            &loc(),
            "b",
            "f",
            &[Some("a/".into())],
            Extras {
                output_prefix: Some("out/"),
                keys: &keys,
                ..Extras::default()
            },
        );
        let e = statement(&p, "EncryptResults").expect("data keys for results");
        assert_eq!(e["Action"], "kms:GenerateDataKey");
        assert_eq!(
            e["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"],
            serde_json::json!(["arn:aws:s3:::b", "arn:aws:s3:::b/out/*"])
        );
        let d = statement(&p, "DecryptTriggeringObjects").unwrap();
        assert_eq!(
            d["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"],
            serde_json::json!(["arn:aws:s3:::b", "arn:aws:s3:::b/a/*"])
        );
    }

    #[test]
    fn queue_and_stream_keys_are_granted_through_their_services() {
        let keys = KeyGrants {
            failure_queue: Some(KEY.into()),
            stream: Some(KEY.into()),
            ..KeyGrants::default()
        };
        let with = |put: bool| {
            inline_policy(
                &loc(),
                "b",
                "f",
                &[None],
                Extras {
                    failure_queue: Some("arn:aws:sqs:eu-west-1:123456789012:q"),
                    stream: Some(("arn:aws:kinesis:eu-west-1:123456789012:stream/s", put)),
                    keys: &keys,
                    ..Extras::default()
                },
            )
        };
        let p = with(false);
        let q = statement(&p, "EncryptFailedEvents").unwrap();
        assert_eq!(
            q["Action"],
            serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey"])
        );
        assert_eq!(
            q["Condition"]["StringEquals"]["kms:ViaService"],
            "sqs.eu-west-1.amazonaws.com"
        );
        let s = statement(&p, "DecryptStream").unwrap();
        assert_eq!(s["Action"], "kms:Decrypt");
        assert_eq!(
            s["Condition"]["StringEquals"]["kms:ViaService"],
            "kinesis.eu-west-1.amazonaws.com"
        );
        assert!(statement(&p, "DecryptTriggeringObjects").is_none());
        let writes = statement(&with(true), "DecryptStream").unwrap();
        assert_eq!(
            writes["Action"],
            serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey"])
        );
    }

    #[test]
    fn no_customer_key_no_kms_statement() {
        let p = inline_policy(
            &loc(),
            "b",
            "f",
            &[Some("x/".into())],
            Extras {
                output_prefix: Some("o/"),
                failure_queue: Some("arn:aws:sqs:eu-west-1:123456789012:q"),
                ..Extras::default()
            },
        );
        assert!(!p.contains("kms:"));
    }

    #[test]
    fn policy_text_is_stable() {
        let a = inline_policy(&loc(), "b", "f", &[Some("x/".into())], Extras::default());
        let b = inline_policy(&loc(), "b", "f", &[Some("x/".into())], Extras::default());
        assert_eq!(a, b);
    }

    #[test]
    fn every_arn_a_pipeline_writes_is_in_its_region_s_partition() {
        for (region, partition) in [
            ("eu-west-1", "aws"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-east-1", "aws-us-gov"),
        ] {
            let loc = Location {
                partition: partition_of(region).into(),
                region: region.into(),
                account_id: "123456789012".into(),
            };
            assert_eq!(loc.partition, partition);
            let failure = queue_arn(&loc, "p-failed");
            let events = queue_arn(&loc, "p-events");
            let stream = stream_arn(&loc, "p");
            let policy = inline_policy(
                &loc,
                "b",
                "f",
                &[Some("data/".into())],
                Extras {
                    output_prefix: Some("out/"),
                    failure_queue: Some(&failure),
                    stream: Some((&stream, true)),
                    event_queue: Some(&events),
                    keys: &KeyGrants::default(),
                },
            );
            let texts = [
                policy,
                tls_only_bucket_policy(&loc.partition, "b"),
                event_queue_policy(&events, &bucket_arn(&loc.partition, "b"), "123456789012"),
                role_arn(&loc, "r"),
                function_arn(&loc, "f"),
            ];
            let want = format!("arn:{partition}:");
            for text in &texts {
                let arns: Vec<&str> = text
                    .match_indices("arn:")
                    .map(|(i, _)| &text[i..])
                    .collect();
                assert!(!arns.is_empty(), "{text}");
                for arn in arns {
                    assert!(arn.starts_with(&want), "{region}: {arn} in {text}");
                }
            }
            assert_eq!(account_of_arn(&role_arn(&loc, "r")), Some("123456789012"));
        }
    }

    #[test]
    fn partitions_and_arns() {
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of("eu-west-1"), "aws");
        assert_eq!(
            account_of_arn("arn:aws:iam::123456789012:role/x"),
            Some("123456789012")
        );
        assert_eq!(account_of_arn("arn:aws:iam:::role/x"), None);
        assert_eq!(
            function_arn(&loc(), "f"),
            "arn:aws:lambda:eu-west-1:123456789012:function:f"
        );
    }
}
