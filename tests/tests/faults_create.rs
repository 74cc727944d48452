//! Fault tolerance of a create, end to end: the provider reaches the
//! emulator through the fault-injection proxy. A failure at any call of a
//! create rolls the pipeline back or leaves it tainted in the state, and the
//! next `apply` converges with 0 orphans; a denied look of the create's plan
//! is a warning; a name taken by something else is refused and left alone.
//!
//! The call sites are not listed by hand: a calibration run
//! (common/calibration.rs) records every call one pipeline makes, and the
//! table injects a failure at each of them (one pipeline per call site, all
//! in one configuration, each fault aimed at its pipeline by name).

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::calibration::{A, FUNCTION_LOOK, calibration};
use common::fault_table::{
    Site, arm, assert_covers, assert_each_failed, denied_words, errors_by_resource, names,
    print_table, sites, table,
};
use common::rig::Rig;
use common::{is_tainted, newest_cli, resource, role_tags};
use tests::fault_proxy::{AccountLimits, Fault, Outcome, Rule};

#[test]
fn a_failure_at_any_create_call_rolls_back_or_taints_then_apply_converges() {
    let cal = calibration();
    assert_covers(
        "create",
        &cal.create,
        &[
            "s3:CreateBucket",
            "s3:PutBucketTagging",
            "s3:PutPublicAccessBlock",
            "s3:PutBucketEncryption",
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "lambda:CreateFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:AddPermission",
            "s3:PutBucketNotificationConfiguration",
        ],
    );
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let names = names("fc", cal.create.len());
    let table: Vec<(String, Site)> = names.iter().cloned().zip(cal.create.clone()).collect();
    // One more pipeline whose rollback fails too: it must stay in the
    // state, tainted, with only the parts that exist recorded.
    let undo = "fx01".to_owned();
    let mut all = names.clone();
    all.push(undo.clone());
    rig.pipelines(&all, A);
    arm(&rig.proxy, &table);
    rig.proxy.add_rule(
        Rule::on("lambda:AddPermission")
            .containing(&undo)
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    rig.proxy.add_rule(
        Rule::on("iam:DeleteRole")
            .containing(&undo)
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let started = Instant::now();
    let out = rig.apply_failing();
    assert_each_failed(&out, &table, &rig.proxy);
    let undo_errors = errors_by_resource(&out)
        .get(&undo)
        .cloned()
        .unwrap_or_default()
        .join("\n");
    assert!(
        undo_errors.contains("adding the permission")
            && undo_errors.contains("rolling back the role failed: iam:DeleteRole"),
        "{undo_errors}"
    );
    let undo_state = resource(&rig.ws, &undo);
    assert!(is_tainted(&undo_state), "{undo_state}");
    assert_eq!(
        rig.parts(&undo),
        ["role"],
        "only the role survived the undo"
    );
    assert_eq!(
        undo_state["values"]["s3_permission_id"], "",
        "the state does not claim the missing permission: {undo_state}"
    );

    // Nothing made by a failed create is unknown to Terraform: either it was
    // rolled back, or the state holds it (tainted).
    let state = rig.state();
    let mut rows = Vec::new();
    for (name, site) in &table {
        let parts = rig.parts(name);
        let outcome = match state.get(name) {
            Some(true) => format!("tainted in state; left {parts:?}"),
            Some(false) => panic!("{name}: a failed create must not be recorded as healthy"),
            None if parts.is_empty() => "rolled back, nothing left".to_owned(),
            None => panic!("{name}: failed at {site}, not in state, but left {parts:?}"),
        };
        rows.push((name.clone(), site.clone(), outcome));
    }

    rows.push((
        undo.clone(),
        Site {
            op: "lambda:AddPermission, then iam:DeleteRole in the undo".into(),
            nth: 1,
        },
        "tainted in state; left [\"role\"]".into(),
    ));

    rig.proxy.clear_rules();
    let out = rig.apply();
    assert!(
        out.contains(&format!("eventpipe_event_pipeline.{undo} is tainted")),
        "the tainted pipeline is replaced\n{out}"
    );
    assert!(rig.state().values().all(|tainted| !tainted));
    assert_eq!(rig.state().len(), all.len());
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    print_table(
        &format!(
            "create: {} call sites, {:.0} s",
            table.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

#[test]
fn a_name_taken_by_something_else_is_refused_and_left_alone() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let aws = rig.moto.aws().expect("aws");
    // fo01's bucket exists untagged; fo02's role belongs to another
    // pipeline; fo03's function belongs to another pipeline.
    aws.create_bucket("fo01-bkt").expect("bucket");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let tag = |v: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key("eventpipe:pipeline")
            .value(v)
            .build()
            .expect("tag")
    };
    aws.block_on(
        aws.iam()
            .create_role()
            .role_name("fo02-role")
            .assume_role_policy_document(trust)
            .tags(tag("someone-else"))
            .send(),
    )
    .expect("role");
    let exec = aws
        .block_on(
            aws.iam()
                .create_role()
                .role_name("foreign-exec")
                .assume_role_policy_document(trust)
                .send(),
        )
        .expect("exec role");
    // The smallest zip: an empty archive.
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    aws.block_on(
        aws.lambda()
            .create_function()
            .function_name("fo03")
            .role(exec.role().map(|r| r.arn()).unwrap_or_default())
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .handler("x.handler")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                    .build(),
            )
            .tags("eventpipe:pipeline", "someone-else")
            .send(),
    )
    .expect("function");
    let before = aws.list_everything().expect("inventory");

    // The bucket and the function are refused at plan: nothing is made.
    let names: Vec<String> = ["fo01", "fo02", "fo03"].map(String::from).to_vec();
    rig.pipelines(&names, A);
    let out = rig.apply_failing();
    let errors = errors_by_resource(&out);
    for (name, what) in [
        (
            "fo01",
            "Bucket \"fo01-bkt\" exists in this account (it has no eventpipe:pipeline tag)",
        ),
        (
            "fo03",
            "Lambda function \"fo03\" already exists and belongs to pipeline \"someone-else\"",
        ),
    ] {
        let mine = errors.get(name).cloned().unwrap_or_default().join("\n");
        assert!(mine.contains(what), "{name}: {mine:?}\n{out}");
    }
    assert_eq!(aws.list_everything().expect("inventory"), before);
    // The role is refused when the apply reaches it, and the rest of the
    // pipeline is rolled back.
    rig.pipelines(&names[1..2], A);
    let out = rig.apply_failing();
    let errors = errors_by_resource(&out);
    let mine = errors.get("fo02").cloned().unwrap_or_default().join("\n");
    assert!(
        mine.contains(
            "IAM role \"fo02-role\" already exists and is not managed by pipeline \"fo02\""
        ) && mine.contains("belongs to pipeline \"someone-else\""),
        "{mine:?}\n{out}"
    );
    // The foreign parts are untouched and ours were rolled back.
    assert_eq!(aws.list_everything().expect("inventory"), before);
    assert!(rig.state().is_empty());
    assert_eq!(
        role_tags(&aws, "fo02-role"),
        [("eventpipe:pipeline".to_owned(), "someone-else".to_owned())]
    );
}

/// The plan of a create looks whether its names are free and whether the
/// account can reserve its concurrency. Each look, denied, is a warning
/// naming the permission: the plan goes on, and the apply converges. (A
/// 403 on `s3:HeadBucket` is S3's answer for another account's bucket, a
/// refusal: see validation.rs.)
#[test]
fn a_denied_look_of_a_create_plan_is_a_warning_and_the_plan_still_succeeds() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    rig.proxy.answer_account_settings(Some(AccountLimits {
        concurrent_executions: 1000,
        unreserved_concurrent_executions: 1000,
    }));
    let aws = rig.moto.aws().expect("aws");
    // Each pipeline reserves concurrency, and its bucket exists, left by
    // an interrupted apply and tagged as its own, so the plan reads its
    // tags too (and the apply adopts it).
    let pipeline_of = |name: &str| {
        A.pipeline(name).hcl().replace(
            "    memory_size = 512\n",
            "    memory_size = 512\n    reserved_concurrency = 5\n",
        )
    };
    let leftover = |name: &str| {
        aws.create_bucket_then_tag(&format!("{name}-bkt"), &[("eventpipe:pipeline", name)])
            .expect("bucket");
    };
    let cal = "lkcal01".to_owned();
    leftover(&cal);
    rig.configure(&pipeline_of(&cal));
    rig.proxy.clear_calls();
    rig.ws.plan(&[]).expect("plan");
    let looks = sites(&rig.proxy.calls(), &cal, &BTreeMap::new());
    assert_covers(
        "create plan",
        &looks,
        &["s3:HeadBucket", "s3:GetBucketTagging", FUNCTION_LOOK],
    );
    assert!(
        rig.proxy.count("lambda:GetAccountSettings") >= 1,
        "the plan checks the reservation"
    );
    let denied: Vec<Site> = looks
        .iter()
        .filter(|s| s.op != "s3:HeadBucket")
        .cloned()
        .collect();
    let names = names("lk", denied.len());
    for n in &names {
        leftover(n);
    }
    let t = table(&names, &denied);
    let mut all = names.clone();
    all.push(cal.clone());
    rig.configure(&all.iter().map(|n| pipeline_of(n)).collect::<String>());
    arm(&rig.proxy, &t);
    // GetAccountSettings names no pipeline: its first call is denied, and
    // the pipeline that made it says so.
    rig.proxy.add_rule(
        Rule::on("lambda:GetAccountSettings")
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let started = Instant::now();
    let out = rig.ws.run(&["plan", "-json"]).expect("plan runs");
    assert_eq!(out.code, Some(0), "the plan succeeds:\n{out}");
    let warnings = common::fault_table::json_diagnostics(&out, "warning");
    let mut rows = Vec::new();
    for (name, site) in &t {
        let fired = rig.proxy.calls().iter().any(|c| {
            c.op == site.op && c.mentions(name) && matches!(c.outcome, Outcome::Failed(403, _))
        });
        assert!(fired, "the fault at {site} for {name} never fired");
        let mine = warnings.get(name).cloned().unwrap_or_default().join("\n");
        assert!(
            mine.contains(&format!("Could not check at plan: {} denied", site.op))
                && mine.contains(&format!("the provider's credentials lack {}", site.op))
                && mine.contains(&denied_words(&site.op)),
            "{name}: a warning naming {} expected; got {mine:?}\n{out}",
            site.op
        );
        rows.push((
            name.clone(),
            site.clone(),
            "warning; the plan goes on".to_owned(),
        ));
    }
    let every: String = warnings.values().flatten().cloned().collect();
    assert!(
        every.contains("Could not check at plan: lambda:GetAccountSettings denied")
            && every.contains("the provider's credentials lack lambda:GetAccountSettings"),
        "{out}"
    );
    rows.push((
        "(any)".to_owned(),
        Site {
            op: "lambda:GetAccountSettings".to_owned(),
            nth: 1,
        },
        "warning; the plan goes on".to_owned(),
    ));
    assert!(rig.state().is_empty());

    // A 403 on HeadBucket is S3's answer for another account's bucket: the
    // plan refuses it, on bucket_name, and nothing is made.
    rig.proxy.clear_rules();
    let head = Site {
        op: "s3:HeadBucket".to_owned(),
        nth: 1,
    };
    arm(&rig.proxy, &[(cal.clone(), head.clone())]);
    let out = rig.ws.run(&["plan", "-json"]).expect("plan runs");
    assert_eq!(out.code, Some(1), "{out}");
    let errors = common::fault_table::json_diagnostics(&out, "error");
    let mine = errors.get(&cal).cloned().unwrap_or_default().join("\n");
    assert!(
        mine.contains(
            "Bucket already exists: Bucket \"lkcal01-bkt\" exists: owned by another account"
        ),
        "{mine:?}\n{out}"
    );
    assert_eq!(errors.len(), 1, "only that pipeline is refused: {errors:?}");
    assert!(rig.state().is_empty());
    rows.push((
        cal.clone(),
        head,
        "plan refused: another account's bucket".to_owned(),
    ));

    rig.proxy.clear_rules();
    rig.apply();
    assert_eq!(rig.state().len(), all.len());
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    print_table(
        &format!(
            "create plan looks: {} call sites, {:.0} s",
            rows.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}
