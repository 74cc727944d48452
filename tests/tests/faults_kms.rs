//! The fault table of the KMS call sites (issue 28), end to end: the plan's
//! looks at the keys (`s3:GetBucketEncryption` of an existing bucket,
//! `kms:DescribeKey`, `sqs:GetQueueAttributes` of an existing failure
//! queue, `kinesis:DescribeStreamSummary` of an existing stream), the
//! refresh's read of an owned bucket's encryption, and the apply's
//! `s3:PutBucketEncryption` with SSE-KMS, at a create and at an update.
//! Each fails once (HTTP 500, with no retries: a denied look is a warning,
//! and kms.rs checks that): the plan or apply fails with the operation
//! named, nothing is made or the prior state is kept, the next apply
//! converges, and destroy leaves only what the test made (0 orphans).

mod common;

use std::time::Instant;

use common::fault_table::errors_by_resource;
use common::rig::Rig;
use common::{Pipeline, newest_cli, state_attrs};
use serde_json::Value as Json;
use tests::fault_proxy::{Fault, Outcome, Rule};

/// A failure of one call, for one pipeline: the call's operation, and what
/// in its request names the pipeline's part.
struct Row {
    name: &'static str,
    op: &'static str,
    needle: String,
}

fn bucket_encryption(key: &str) -> String {
    format!("  bucket_encryption {{\n    kms_key_arn = \"{key}\"\n  }}\n")
}

fn kms_statement_sids(policy: &Json) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["Action"].to_string().contains("kms:"))
        .map(|s| s["Sid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

impl Rig {
    fn fail_once(&self, rows: &[Row]) {
        for r in rows {
            self.proxy.add_rule(
                Rule::on(r.op)
                    .containing(&r.needle)
                    .nth(1)
                    .fail(Fault::InternalError),
            );
        }
    }

    /// Each row's fault answered a call, and the run's error about that
    /// pipeline names the operation.
    fn assert_each_failed(&self, out: &tests::Output, rows: &[Row]) {
        let errors = errors_by_resource(out);
        for r in rows {
            assert!(
                self.proxy.calls().iter().any(|c| c.op == r.op
                    && c.mentions(&r.needle)
                    && matches!(c.outcome, Outcome::Failed(500, _))),
                "the fault at {} for {} never fired",
                r.op,
                r.name
            );
            let mine = errors.get(r.name).cloned().unwrap_or_default().join("\n");
            assert!(
                mine.contains(r.op),
                "{}: the error should name {}; got {mine:?}\n{out}",
                r.name,
                r.op
            );
        }
    }

    fn policy_of(&self, name: &str) -> Json {
        serde_json::from_str(
            state_attrs(&self.ws, name)["policy_json"]
                .as_str()
                .expect("policy_json"),
        )
        .expect("JSON")
    }
}

#[test]
fn a_failure_at_any_kms_call_fails_once_then_the_next_apply_converges() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let aws = &rig.aws;
    let (key_id, key_arn) = aws.create_kms_key().expect("key");
    for alias in ["alias/k02", "alias/k05"] {
        aws.create_kms_alias(alias, &key_id).expect("alias");
    }
    let k05_alias = aws.describe_kms_key("alias/k05").expect("alias");
    assert_eq!(k05_alias.arn, key_arn);
    for (bucket, key) in [("k01-bkt", key_arn.as_str()), ("k02-bkt", "alias/k02")] {
        aws.create_bucket(bucket).expect("bucket");
        aws.put_bucket_kms_encryption(bucket, key, true)
            .expect("encryption");
    }
    let queue = aws
        .create_queue_with_kms("k03-dlq", &key_id)
        .expect("queue");
    let stream = aws
        .create_stream_with_kms("k04-clicks", &key_arn)
        .expect("stream");
    let k05_alias_arn = "arn:aws:kms:us-east-1:123456789012:alias/k05";

    let pipelines = |with_new: bool, keyed: bool| -> String {
        let mut body = vec![
            Pipeline::named("k07")
                .extra(&if keyed {
                    bucket_encryption(&key_arn)
                } else {
                    String::new()
                })
                .hcl(),
            Pipeline::named("k08")
                .extra(&bucket_encryption(&key_arn))
                .hcl(),
        ];
        if with_new {
            body.extend([
                Pipeline::on_existing_bucket("k01", "k01-bkt").hcl(),
                Pipeline::on_existing_bucket("k02", "k02-bkt").hcl(),
                Pipeline::named("k03")
                    .extra(&format!(
                        "  on_failure {{\n    queue_arn = \"{queue}\"\n  }}\n"
                    ))
                    .hcl(),
                Pipeline::named("k04")
                    .extra(&format!("  stream {{\n    arn = \"{stream}\"\n  }}\n"))
                    .hcl(),
                Pipeline::named("k05")
                    .extra(&bucket_encryption(k05_alias_arn))
                    .hcl(),
            ]);
        }
        if keyed {
            body.push(
                Pipeline::named("k06")
                    .extra(&bucket_encryption(&key_arn))
                    .hcl(),
            );
        }
        body.concat()
    };
    let mut table = Vec::new();

    // Two owned buckets first: one SSE-S3 (k07), one SSE-KMS (k08).
    rig.configure(&pipelines(false, false));
    rig.apply();

    // Round 1: a failure at each look of the plan, and at the refresh's
    // read of an owned bucket's encryption, fails the plan: nothing is
    // made, nothing changes.
    let looks = [
        Row {
            name: "k01",
            op: "s3:GetBucketEncryption",
            needle: "k01-bkt".into(),
        },
        Row {
            name: "k02",
            op: "kms:DescribeKey",
            needle: "alias/k02".into(),
        },
        Row {
            name: "k03",
            op: "sqs:GetQueueAttributes",
            needle: "k03-dlq".into(),
        },
        Row {
            name: "k04",
            op: "kinesis:DescribeStreamSummary",
            needle: "k04-clicks".into(),
        },
        Row {
            name: "k05",
            op: "kms:DescribeKey",
            needle: "alias/k05".into(),
        },
        Row {
            name: "k08",
            op: "s3:GetBucketEncryption",
            needle: "k08-bucket".into(),
        },
    ];
    rig.configure(&pipelines(true, false));
    rig.proxy.clear_calls();
    rig.fail_once(&looks);
    let out = rig.apply_failing();
    rig.assert_each_failed(&out, &looks);
    let state = rig.state();
    assert_eq!(
        state.keys().map(String::as_str).collect::<Vec<_>>(),
        ["k07", "k08"],
        "the plan failed: nothing made"
    );
    for r in &looks {
        let outcome = if r.name == "k08" {
            "refresh failed, prior state kept"
        } else {
            "plan refused, nothing made"
        };
        table.push((r.name.to_owned(), r.op.to_owned(), outcome.to_owned()));
    }
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    for name in ["k01", "k02", "k05", "k08"] {
        assert_eq!(
            kms_statement_sids(&rig.policy_of(name)),
            ["DecryptTriggeringObjects"],
            "{name}: converged with its grant"
        );
    }
    assert_eq!(
        kms_statement_sids(&rig.policy_of("k03")),
        ["EncryptFailedEvents"]
    );
    assert_eq!(kms_statement_sids(&rig.policy_of("k04")), ["DecryptStream"]);

    // Round 2: PutBucketEncryption with SSE-KMS fails once, at a create
    // (k06: rolled back or tainted) and at an update that adds the block
    // (k07: its prior state kept).
    let puts = [
        Row {
            name: "k06",
            op: "s3:PutBucketEncryption",
            needle: "k06-bucket".into(),
        },
        Row {
            name: "k07",
            op: "s3:PutBucketEncryption",
            needle: "k07-bucket".into(),
        },
    ];
    rig.configure(&pipelines(true, true));
    rig.proxy.clear_calls();
    rig.fail_once(&puts);
    let out = rig.apply_failing();
    rig.assert_each_failed(&out, &puts);
    let state = rig.state();
    let k06 = match state.get("k06") {
        Some(true) => "create: tainted".to_owned(),
        Some(false) => panic!("k06: a failed create must not be recorded as healthy"),
        None => {
            assert!(rig.parts("k06").is_empty(), "k06: rolled back");
            "create: rolled back".to_owned()
        }
    };
    assert_eq!(state.get("k07"), Some(&false));
    assert!(
        kms_statement_sids(&rig.policy_of("k07")).is_empty(),
        "k07: the prior state is kept"
    );
    table.push(("k06".into(), "s3:PutBucketEncryption".into(), k06));
    table.push((
        "k07".into(),
        "s3:PutBucketEncryption".into(),
        "update: prior state kept".into(),
    ));
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    for name in ["k06", "k07"] {
        let enc = aws
            .bucket_default_encryption(&format!("{name}-bucket"))
            .expect("encryption")
            .expect("SSE-KMS");
        assert_eq!(
            (
                enc.algorithm.as_str(),
                enc.kms_key.as_deref(),
                enc.bucket_key_enabled
            ),
            ("aws:kms", Some(key_arn.as_str()), true),
            "{name}"
        );
        assert_eq!(
            kms_statement_sids(&rig.policy_of(name)),
            ["DecryptTriggeringObjects"],
            "{name}"
        );
    }

    // Destroy: what the test made is left, nothing of the pipelines.
    rig.ws.destroy_auto().expect("destroy");
    let inv = aws
        .list_everything()
        .expect("inventory")
        .without_lambda_log_groups();
    assert_eq!(inv.buckets, ["k01-bkt", "k02-bkt"], "{inv}");
    assert!(
        inv.roles.is_empty() && inv.functions.is_empty() && inv.log_groups.is_empty(),
        "0 orphans:\n{inv}"
    );
    assert_eq!(inv.queues, ["k03-dlq"], "{inv}");
    assert_eq!(inv.sources.streams, ["k04-clicks"], "{inv}");
    assert!(inv.sources.mappings.is_empty(), "{inv}");
    eprintln!(
        "\nKMS call sites: {} rows, {:.0} s",
        table.len(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("| pipeline | call site (500, once) | after the failed run | orphans |");
    eprintln!("|---|---|---|---|");
    for (name, site, outcome) in &table {
        eprintln!("| {name} | {site} | {outcome} | 0 |");
    }
}
