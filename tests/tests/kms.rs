//! Customer-managed KMS keys end to end (issue 28): a pipeline on a bucket,
//! failure queue or stream encrypted with a customer key gets exactly the
//! key grant its function needs in `policy_json` (`DecryptTriggeringObjects`,
//! `EncryptResults`, `EncryptFailedEvents`, `DecryptStream`), and one on an
//! AWS-managed key or SSE-S3 gets none; a key switched on the bucket outside
//! Terraform shows in the next plan and the apply makes it; an owned bucket's
//! `bucket_encryption` block makes it SSE-KMS with Bucket Keys and its
//! removal takes it back to SSE-S3 in place; a denied look is a warning and
//! a successful plan. Each role's inline policy is read back with the tests'
//! own client, and destroy leaves nothing of the pipelines.
//!
//! The provider talks to moto through the fault proxy with its KMS fidelity
//! on: moto reports the keys behind its predefined aliases (`alias/aws/s3`)
//! as customer keys, and has none for `alias/aws/sqs` or `alias/aws/kinesis`.

mod common;

use std::collections::BTreeMap;

use common::fault_table::json_diagnostics;
use common::rig::Rig;
use common::*;
use serde_json::{Value as Json, json};
use tests::aws::BucketEncryption;
use tests::fault_proxy::{Departure, Fault, FaultProxy, Rule};
use tests::{Aws, Moto, TerraformCli, Workspace};

const S3_VIA: &str = "s3.us-east-1.amazonaws.com";

/// The role's inline policy name.
const INLINE: &str = "eventpipe";

// ----------------------------------------------------------------------
// The statements the contract names, as the tests expect them.

/// `DecryptTriggeringObjects` on `key` for these encryption contexts.
fn decrypt_objects(key: &str, contexts: &[String]) -> Json {
    json!({
        "Sid": "DecryptTriggeringObjects",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
        "Condition": {
            "StringEquals": {"kms:ViaService": S3_VIA},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": contexts},
        },
    })
}

/// `EncryptResults` on `key` for these encryption contexts.
fn encrypt_results(key: &str, contexts: &[String]) -> Json {
    json!({
        "Sid": "EncryptResults",
        "Effect": "Allow",
        "Action": "kms:GenerateDataKey",
        "Resource": key,
        "Condition": {
            "StringEquals": {"kms:ViaService": S3_VIA},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": contexts},
        },
    })
}

fn encrypt_failed_events(key: &str) -> Json {
    json!({
        "Sid": "EncryptFailedEvents",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}},
    })
}

fn decrypt_stream(key: &str) -> Json {
    json!({
        "Sid": "DecryptStream",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": "kinesis.us-east-1.amazonaws.com"}},
    })
}

/// The encryption contexts of objects under `prefixes` in `bucket`, plus the
/// bucket itself when S3 Bucket Keys are on (S3 then asks KMS with the
/// bucket's ARN as the context).
fn contexts(bucket: &str, prefixes: &[&str], bucket_key: bool) -> Vec<String> {
    let mut out: Vec<String> = prefixes
        .iter()
        .map(|p| format!("arn:aws:s3:::{bucket}/{p}*"))
        .collect();
    if bucket_key {
        out.push(format!("arn:aws:s3:::{bucket}"));
    }
    // Sorted, as every list in policy_json (the bucket's ARN first).
    out.sort();
    out
}

fn statements(policy: &Json) -> Vec<Json> {
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

fn sids(policy: &Json) -> Vec<String> {
    statements(policy)
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn statement(policy: &Json, sid: &str) -> Json {
    statements(policy)
        .into_iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no {sid} statement in {policy:#}"))
}

/// The statements of `policy` that grant anything on KMS.
fn kms_statements(policy: &Json) -> Vec<Json> {
    statements(policy)
        .into_iter()
        .filter(|s| s["Action"].to_string().contains("kms:"))
        .collect()
}

/// The pipeline's `policy_json` in the state, which must be the role's
/// inline policy as IAM holds it (read back with the tests' own client).
fn policy(ws: &Workspace, aws: &Aws, name: &str) -> Json {
    let text = state_attrs(ws, name)["policy_json"]
        .as_str()
        .expect("policy_json")
        .to_owned();
    let stated: Json = serde_json::from_str(&text).expect("policy_json is JSON");
    let held = aws
        .role_inline_policy(&format!("{name}-role"), INLINE)
        .expect("the role's inline policy");
    assert_eq!(
        held, stated,
        "{name}: the role's inline policy is policy_json"
    );
    stated
}

/// What a plan saved to `file` would set `policy_json` of `name` to.
fn planned_policy(ws: &Workspace, file: &str, name: &str) -> Json {
    let plan = ws
        .run_ok(&["show", "-json", file])
        .and_then(|o| o.json())
        .expect("show -json of the plan");
    let change = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no change of {name} in the plan"));
    let text = change["change"]["after"]["policy_json"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: policy_json unknown in the plan: {change:#}"));
    serde_json::from_str(text).expect("planned policy_json is JSON")
}

// ----------------------------------------------------------------------
// The pipelines.

/// A pipeline on `bucket` (not its own) triggered under `prefix`.
fn on_bucket(name: &str, bucket: &str, prefix: &str, extra: &str) -> String {
    Pipeline::on_existing_bucket(name, bucket)
        .filter_prefix(prefix)
        .no_filter_suffix()
        .extra(extra)
        .hcl()
}

/// A pipeline with its own (SSE-S3) bucket `<name>-bucket`, and `extra`.
fn own_bucket(name: &str, extra: &str) -> String {
    Pipeline::named(name).extra(extra).hcl()
}

fn failure_queue(arn: &str) -> String {
    format!("  on_failure {{\n    queue_arn = \"{arn}\"\n  }}\n")
}

fn stream(arn: &str) -> String {
    format!("  stream {{\n    arn = \"{arn}\"\n  }}\n")
}

fn bucket_encryption(key: &str) -> String {
    format!("  bucket_encryption {{\n    kms_key_arn = \"{key}\"\n  }}\n")
}

/// What the first test makes before Terraform runs, as another team would.
struct Estate {
    /// The lake's customer key, also named by `alias/lake`.
    lake: (String, String),
    /// The key of the failure queue and stream.
    events: (String, String),
    /// The key the switched bucket moves to.
    next: (String, String),
    /// The AWS-managed `aws/s3` key's ARN.
    s3_managed: String,
    queues: BTreeMap<&'static str, String>,
    streams: BTreeMap<&'static str, String>,
}

/// The buckets of [`estate`]: name, then how it is encrypted.
const BUCKETS: [&str; 6] = [
    "lake-kms",
    "lake-dsse",
    "lake-alias",
    "lake-switch",
    "lake-s3key",
    "lake-default",
];

fn estate(aws: &Aws) -> Estate {
    let lake = aws.create_kms_key().expect("lake key");
    aws.create_kms_alias("alias/lake", &lake.0).expect("alias");
    let events = aws.create_kms_key().expect("events key");
    let next = aws.create_kms_key().expect("next key");
    let s3_managed = aws.describe_kms_key("alias/aws/s3").expect("aws/s3").arn;
    for b in BUCKETS {
        aws.create_bucket(b).expect("bucket");
        aws.put_object(b, "a/seen.txt", "x").expect("object");
    }
    // By key ARN with Bucket Keys; by alias name; by bare key id; by the
    // AWS-managed key's ARN; SSE-KMS with no key (the aws/s3 key).
    aws.put_bucket_kms_encryption("lake-kms", &lake.1, true)
        .expect("lake-kms");
    aws.put_bucket_default_encryption(
        "lake-dsse",
        aws_sdk_s3::types::ServerSideEncryption::AwsKmsDsse,
        Some(&lake.1),
        false,
    )
    .expect("lake-dsse");
    aws.put_bucket_kms_encryption("lake-alias", "alias/lake", false)
        .expect("lake-alias");
    aws.put_bucket_kms_encryption("lake-switch", &lake.0, false)
        .expect("lake-switch");
    aws.put_bucket_kms_encryption("lake-s3key", &s3_managed, true)
        .expect("lake-s3key");
    aws.put_bucket_default_encryption(
        "lake-default",
        aws_sdk_s3::types::ServerSideEncryption::AwsKms,
        None,
        false,
    )
    .expect("lake-default");
    let queues = BTreeMap::from([
        (
            "dlq-cust",
            aws.create_queue_with_kms("dlq-cust", &events.0)
                .expect("queue"),
        ),
        (
            "dlq-managed",
            aws.create_queue_with_kms("dlq-managed", "alias/aws/sqs")
                .expect("queue"),
        ),
    ]);
    let streams = BTreeMap::from([
        (
            "clicks-cust",
            aws.create_stream_with_kms("clicks-cust", &events.1)
                .expect("stream"),
        ),
        (
            "clicks-managed",
            aws.create_stream_with_kms("clicks-managed", "alias/aws/kinesis")
                .expect("stream"),
        ),
    ]);
    Estate {
        lake,
        events,
        next,
        s3_managed,
        queues,
        streams,
    }
}

fn estate_pipelines(e: &Estate) -> String {
    [
        on_bucket("pa", "lake-kms", "a/", ""),
        on_bucket("pb", "lake-kms", "b/", "  output_prefix = \"results/\"\n"),
        on_bucket("pc", "lake-alias", "a/", ""),
        on_bucket("pg", "lake-dsse", "a/", ""),
        on_bucket("pd", "lake-switch", "a/", ""),
        on_bucket("pe", "lake-s3key", "a/", ""),
        on_bucket("pf", "lake-default", "a/", ""),
        own_bucket("qa", &failure_queue(&e.queues["dlq-cust"])),
        own_bucket("qb", &failure_queue(&e.queues["dlq-managed"])),
        own_bucket("sa", &stream(&e.streams["clicks-cust"])),
        own_bucket("sb", &stream(&e.streams["clicks-managed"])),
    ]
    .concat()
}

/// The buckets' default encryption, to compare before and after.
fn encryptions(aws: &Aws) -> BTreeMap<&'static str, Option<BucketEncryption>> {
    BUCKETS
        .iter()
        .map(|b| (*b, aws.bucket_default_encryption(b).expect("encryption")))
        .collect()
}

#[test]
fn customer_keys_of_existing_buckets_queues_and_streams_are_granted_exactly_and_managed_keys_not() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, None);
    rig.proxy.kms_managed_keys_like_aws(true);
    let aws = &rig.aws;
    let e = estate(aws);
    let before = encryptions(aws);
    rig.configure(&estate_pipelines(&e));
    rig.apply();

    // Two pipelines on one SSE-KMS bucket (key ARN, Bucket Keys on): each
    // may decrypt only its own prefix's objects (and the bucket-level key),
    // through S3 only; with output_prefix also encrypt its results there.
    let (_, lake) = &e.lake;
    let pa = policy(&rig.ws, aws, "pa");
    assert_eq!(
        sids(&pa),
        [
            "ReadTriggeringObjects",
            "DecryptTriggeringObjects",
            "WriteOwnLogs"
        ],
        "{pa:#}"
    );
    assert_eq!(
        statement(&pa, "DecryptTriggeringObjects"),
        decrypt_objects(lake, &contexts("lake-kms", &["a/"], true))
    );
    let pb = policy(&rig.ws, aws, "pb");
    assert_eq!(
        sids(&pb),
        [
            "ReadTriggeringObjects",
            "DecryptTriggeringObjects",
            "WriteResults",
            "EncryptResults",
            "WriteOwnLogs"
        ],
        "{pb:#}"
    );
    assert_eq!(
        statement(&pb, "DecryptTriggeringObjects"),
        decrypt_objects(lake, &contexts("lake-kms", &["b/"], true))
    );
    assert_eq!(
        statement(&pb, "EncryptResults"),
        encrypt_results(lake, &contexts("lake-kms", &["results/"], true))
    );
    // The bucket names its key by alias, or by bare id: the grant names the
    // key's ARN.
    let pc = policy(&rig.ws, aws, "pc");
    assert_eq!(
        kms_statements(&pc),
        [decrypt_objects(
            lake,
            &contexts("lake-alias", &["a/"], false)
        )],
        "{pc:#}"
    );
    let pd = policy(&rig.ws, aws, "pd");
    assert_eq!(
        kms_statements(&pd),
        [decrypt_objects(
            lake,
            &contexts("lake-switch", &["a/"], false)
        )],
        "{pd:#}"
    );
    // DSSE-KMS (two layers, the same key) needs the same grant.
    let pg = policy(&rig.ws, aws, "pg");
    assert_eq!(
        kms_statements(&pg),
        [decrypt_objects(
            lake,
            &contexts("lake-dsse", &["a/"], false)
        )],
        "{pg:#}"
    );
    // The AWS-managed aws/s3 key (by its ARN, or SSE-KMS with no key): no
    // grant, the policy as on an SSE-S3 bucket.
    for name in ["pe", "pf"] {
        let p = policy(&rig.ws, aws, name);
        assert_eq!(
            sids(&p),
            ["ReadTriggeringObjects", "WriteOwnLogs"],
            "{name}: {p:#}"
        );
    }
    assert!(
        rig.proxy
            .departures()
            .contains(&Departure::KmsKeyAwsManaged(e.s3_managed.clone())),
        "the aws/s3 key was looked at and is AWS-managed: {:?}",
        rig.proxy.departures()
    );
    // A failure queue and a stream of the pipeline's own (SSE-S3) bucket,
    // under a customer key: the function may use the queue's key through
    // SQS, the role may decrypt the stream through Kinesis.
    let (_, events) = &e.events;
    let qa = policy(&rig.ws, aws, "qa");
    assert_eq!(
        sids(&qa),
        [
            "ReadTriggeringObjects",
            "WriteOwnLogs",
            "SendFailedEvents",
            "EncryptFailedEvents"
        ],
        "{qa:#}"
    );
    assert_eq!(
        statement(&qa, "EncryptFailedEvents"),
        encrypt_failed_events(events)
    );
    let sa = policy(&rig.ws, aws, "sa");
    assert_eq!(kms_statements(&sa), [decrypt_stream(events)], "{sa:#}");
    let read = sids(&sa).iter().position(|s| s == "ReadStream");
    let decrypt = sids(&sa).iter().position(|s| s == "DecryptStream");
    assert_eq!(
        decrypt,
        read.map(|r| r + 1),
        "DecryptStream follows ReadStream: {sa:#}"
    );
    // Their AWS-managed keys (aws/sqs, aws/kinesis): no grant.
    for name in ["qb", "sb"] {
        let p = policy(&rig.ws, aws, name);
        assert!(kms_statements(&p).is_empty(), "{name}: {p:#}");
    }
    rig.assert_plan_empty();

    // The bucket's key switched outside Terraform: the next plan changes
    // that pipeline's policy, in place, to the new key; the apply makes it.
    let (_, next) = &e.next;
    aws.put_bucket_kms_encryption("lake-switch", next, false)
        .expect("switch the key");
    let plan = rig.ws.plan_detailed_exitcode().expect("plan");
    assert!(plan.has_changes, "{}", plan.output);
    let text = flat(&plan.output);
    assert!(
        text.contains("policy_json") && text.contains(next.as_str()),
        "the plan shows the policy's new key: {text}"
    );
    assert!(
        text.contains("0 to add, 1 to change, 0 to destroy"),
        "{text}"
    );
    let actions = planned_actions(&rig.ws);
    assert_eq!(
        actions
            .get("eventpipe_event_pipeline.pd")
            .map(Vec::as_slice),
        Some(["update".to_owned()].as_slice()),
        "{actions:?}"
    );
    rig.apply();
    let pd = policy(&rig.ws, aws, "pd");
    assert_eq!(
        kms_statements(&pd),
        [decrypt_objects(
            next,
            &contexts("lake-switch", &["a/"], false)
        )],
        "{pd:#}"
    );
    rig.assert_plan_empty();

    // Denied looks: the plan succeeds, each pipeline is warned with the
    // permission it lacks, and its grant is left out.
    let p = &rig.proxy;
    p.add_rule(
        Rule::on("s3:GetBucketEncryption")
            .containing("lake-kms")
            .fail(Fault::AccessDenied),
    );
    p.add_rule(
        Rule::on("kms:DescribeKey")
            .containing("alias/lake")
            .fail(Fault::AccessDenied),
    );
    p.add_rule(
        Rule::on("sqs:GetQueueAttributes")
            .containing("dlq-cust")
            .fail(Fault::AccessDenied),
    );
    p.add_rule(
        Rule::on("kinesis:DescribeStreamSummary")
            .containing("clicks-cust")
            .fail(Fault::AccessDenied),
    );
    let out = rig
        .ws
        .plan(&["-json", "-out", "denied.tfplan"])
        .expect("a denied look still plans");
    let warnings = json_diagnostics(&out, "warning");
    for (name, permission) in [
        ("pa", "s3:GetBucketEncryption"),
        ("pb", "s3:GetBucketEncryption"),
        ("pc", "kms:DescribeKey"),
        ("qa", "sqs:GetQueueAttributes"),
        ("sa", "kinesis:DescribeStreamSummary"),
    ] {
        let mine = warnings.get(name).cloned().unwrap_or_default().join("\n");
        assert!(
            mine.contains(permission),
            "{name}: a warning naming {permission}; warnings: {warnings:#?}"
        );
        let planned = planned_policy(&rig.ws, "denied.tfplan", name);
        assert!(
            kms_statements(&planned).is_empty(),
            "{name}: the grant is left out: {planned:#}"
        );
    }
    assert!(
        !warnings.contains_key("pd") && !warnings.contains_key("pe"),
        "only the denied pipelines are warned: {warnings:#?}"
    );
    p.clear_rules();
    rig.assert_plan_empty();

    // Destroy: the other team's buckets, queues and streams stay as they
    // were (the switched key aside), nothing of the pipelines is left.
    rig.ws.destroy_auto().expect("destroy");
    let inv = aws
        .list_everything()
        .expect("inventory")
        .without_lambda_log_groups();
    assert_eq!(inv.buckets, BUCKETS_SORTED, "{inv}");
    assert!(
        inv.roles.is_empty() && inv.functions.is_empty() && inv.log_groups.is_empty(),
        "0 orphans:\n{inv}"
    );
    assert_eq!(
        inv.queues,
        ["dlq-cust", "dlq-managed"],
        "the queues stay: {inv}"
    );
    assert_eq!(inv.sources.streams, ["clicks-cust", "clicks-managed"]);
    assert!(inv.sources.mappings.is_empty(), "{inv}");
    let mut after = encryptions(aws);
    let switched = after.remove("lake-switch").flatten();
    assert_eq!(
        switched.and_then(|s| s.kms_key).as_deref(),
        Some(next.as_str())
    );
    let mut was = before;
    was.remove("lake-switch");
    assert_eq!(after, was, "the buckets' encryption is theirs");
}

const BUCKETS_SORTED: [&str; 6] = [
    "lake-alias",
    "lake-default",
    "lake-dsse",
    "lake-kms",
    "lake-s3key",
    "lake-switch",
];

/// The owned bucket's `bucket_encryption`, with `tf`: SSE-KMS with the
/// key and Bucket Keys, the grants for its triggers and results (and the
/// bucket-level key's context); returns the workspace.
fn owned_with_key(
    tf: &TerraformCli,
    moto: &Moto,
    aws: &Aws,
    key: &str,
    key_arn: &str,
) -> Workspace {
    let body = own_bucket(
        "own",
        &format!("  output_prefix = \"results/\"\n{}", bucket_encryption(key)),
    );
    let ws = applied(tf, moto, &body);
    assert_eq!(
        aws.bucket_default_encryption("own-bucket")
            .expect("encryption"),
        Some(BucketEncryption {
            algorithm: "aws:kms".into(),
            kms_key: Some(key.to_owned()),
            bucket_key_enabled: true,
        })
    );
    let p = policy(&ws, aws, "own");
    assert_eq!(
        kms_statements(&p),
        [
            decrypt_objects(key_arn, &contexts("own-bucket", &["data/"], true)),
            encrypt_results(key_arn, &contexts("own-bucket", &["results/"], true)),
        ],
        "{p:#}"
    );
    assert_plan_empty(&ws, "the owned bucket's key is as configured");
    ws
}

#[test]
fn bucket_encryption_makes_the_owned_bucket_sse_kms_with_bucket_keys_and_removing_it_is_in_place() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let aws = moto.aws().expect("aws");
    let (key_id, key_arn) = aws.create_kms_key().expect("key");
    let alias_arn = aws.create_kms_alias("alias/owned", &key_id).expect("alias");
    let ws = owned_with_key(&tf, &moto, &aws, &key_arn, &key_arn);

    // Without the block: back to SSE-S3, in place; no grant.
    rewrite_main(
        &ws,
        &moto,
        &own_bucket("own", "  output_prefix = \"results/\"\n"),
    );
    let actions = planned_actions(&ws);
    assert_eq!(
        actions
            .get("eventpipe_event_pipeline.own")
            .map(Vec::as_slice),
        Some(["update".to_owned()].as_slice()),
        "{actions:?}"
    );
    ws.apply_auto().expect("apply");
    let enc = aws
        .bucket_default_encryption("own-bucket")
        .expect("encryption")
        .expect("SSE-S3");
    assert_eq!(enc.algorithm, "AES256", "{enc:?}");
    assert_eq!(enc.kms_key, None, "{enc:?}");
    let p = policy(&ws, &aws, "own");
    assert!(kms_statements(&p).is_empty(), "{p:#}");
    assert_plan_empty(&ws, "SSE-S3 as configured");

    // By alias ARN: the bucket holds the alias as given, the grant names
    // the key's ARN.
    rewrite_main(
        &ws,
        &moto,
        &own_bucket(
            "own",
            &format!(
                "  output_prefix = \"results/\"\n{}",
                bucket_encryption(&alias_arn)
            ),
        ),
    );
    ws.apply_auto().expect("apply");
    let enc = aws
        .bucket_default_encryption("own-bucket")
        .expect("encryption")
        .expect("SSE-KMS");
    assert_eq!(
        (enc.algorithm.as_str(), enc.bucket_key_enabled),
        ("aws:kms", true),
        "{enc:?}"
    );
    let p = policy(&ws, &aws, "own");
    assert_eq!(
        kms_statements(&p),
        [
            decrypt_objects(&key_arn, &contexts("own-bucket", &["data/"], true)),
            encrypt_results(&key_arn, &contexts("own-bucket", &["results/"], true)),
        ],
        "{p:#}"
    );
    assert_plan_empty(&ws, "the alias is as configured");
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn bucket_encryption_on_terraform_1_0_3() {
    let tf = tests::tools::old_terraform().expect("terraform 1.0.3");
    let moto = Moto::start().expect("moto");
    let aws = moto.aws().expect("aws");
    let (_, key_arn) = aws.create_kms_key().expect("key");
    let ws = owned_with_key(&tf, &moto, &aws, &key_arn, &key_arn);
    destroy_and_assert_empty(&ws, &moto);
}

/// The fidelity the first test relies on, against the pinned moto: the
/// keys behind predefined aliases are AWS-managed however they are asked
/// for, a predefined alias moto lacks is made on first use, and a customer
/// key stays the customer's.
#[test]
fn through_the_proxy_kms_reports_aws_managed_keys_as_kms_does() {
    let moto = Moto::start().expect("moto");
    let direct = moto.aws().expect("aws");
    let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
    proxy.kms_managed_keys_like_aws(true);
    let aws = Aws::new(&proxy.endpoint()).expect("aws through the proxy");

    // moto alone: the aws/s3 key is a customer key, aws/sqs does not exist.
    assert_eq!(
        direct
            .describe_kms_key("alias/aws/s3")
            .expect("aws/s3")
            .key_manager,
        "CUSTOMER"
    );
    assert!(direct.describe_kms_key("alias/aws/sqs").is_err());

    let s3 = aws.describe_kms_key("alias/aws/s3").expect("aws/s3");
    assert_eq!(s3.key_manager, "AWS");
    for by in [s3.arn.clone(), s3.key_id.clone()] {
        assert_eq!(
            aws.describe_kms_key(&by).expect("by key").key_manager,
            "AWS"
        );
    }
    for alias in [
        "alias/aws/sqs",
        "arn:aws:kms:us-east-1:123456789012:alias/aws/kinesis",
    ] {
        let k = aws.describe_kms_key(alias).expect("made on first use");
        assert_eq!(k.key_manager, "AWS", "{alias}");
        assert_eq!(
            aws.describe_kms_key(alias).expect("again").key_id,
            k.key_id,
            "{alias}: one key"
        );
    }
    let (id, arn) = direct.create_kms_key().expect("key");
    direct.create_kms_alias("alias/mine", &id).expect("alias");
    for by in [id.as_str(), arn.as_str(), "alias/mine"] {
        assert_eq!(
            aws.describe_kms_key(by).expect("customer key").key_manager,
            "CUSTOMER",
            "{by}"
        );
    }
    assert!(
        aws.describe_kms_key("alias/nope").is_err(),
        "not found stays not found"
    );
    let made: Vec<Departure> = proxy
        .departures()
        .into_iter()
        .filter(|d| matches!(d, Departure::KmsManagedKeyMade(_)))
        .collect();
    assert_eq!(
        made,
        [
            Departure::KmsManagedKeyMade("alias/aws/sqs".into()),
            Departure::KmsManagedKeyMade("alias/aws/kinesis".into()),
        ]
    );
    assert_eq!(proxy.count("kms:DescribeKey"), 11);
}

/// A bucket encrypted with another account's key: the grant is in the
/// policy, and the plan warns that the key's own policy must allow the role
/// too, with the statement to ask for. (moto has no other accounts: the
/// proxy answers `DescribeKey` of that key as KMS would when the key policy
/// lets this account describe it.)
#[test]
fn a_key_of_another_account_is_granted_with_a_warning_and_the_statement_to_ask_for() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, None);
    let theirs = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let described = json!({"KeyMetadata": {
        "AWSAccountId": "999999999999",
        "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
        "Arn": theirs,
        "Enabled": true,
        "KeyState": "Enabled",
        "KeyManager": "CUSTOMER",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "Origin": "AWS_KMS"
    }})
    .to_string();
    rig.proxy.add_rule(
        Rule::on("kms:DescribeKey")
            .containing("999999999999")
            .answer(
                200,
                &[("Content-Type", "application/x-amz-json-1.1")],
                described.as_bytes(),
            ),
    );
    rig.aws.create_bucket("shared-lake").expect("bucket");
    rig.aws
        .put_bucket_kms_encryption("shared-lake", theirs, false)
        .expect("encryption");
    rig.configure(&on_bucket("px", "shared-lake", "a/", ""));
    let out = rig
        .ws
        .plan(&["-json", "-out", "foreign.tfplan"])
        .expect("plan");
    let warnings = json_diagnostics(&out, "warning");
    let mine = warnings.get("px").cloned().unwrap_or_default().join("\n");
    let role = "arn:aws:iam::123456789012:role/px-role".to_owned();
    for needle in [
        "999999999999",
        theirs,
        role.as_str(),
        "kms:Decrypt",
        S3_VIA,
        "key's own policy",
    ] {
        assert!(
            mine.contains(needle),
            "the warning names {needle}: {warnings:#?}"
        );
    }
    let planned = planned_policy(&rig.ws, "foreign.tfplan", "px");
    assert_eq!(
        kms_statements(&planned),
        [decrypt_objects(
            theirs,
            &contexts("shared-lake", &["a/"], false)
        )],
        "{planned:#}"
    );
}
