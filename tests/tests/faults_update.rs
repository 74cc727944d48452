//! Fault tolerance of an update, end to end: a failure at any call of an
//! update, of the refresh before it, or of a rename (a new function and
//! role under the new name, the old ones deleted) keeps the pipeline in the
//! state, untainted, and the next `apply` converges with 0 orphans.
//!
//! The call sites are recorded by a calibration run (common/calibration.rs
//! for the update and refresh, this file for the rename), one pipeline per
//! call site.

mod common;

use std::time::Instant;

use common::calibration::{A, APP_PY_V2, B, calibration};
use common::fault_table::{
    Site, arm, assert_covers, assert_each_failed, names, op_counts, print_table, sites,
};
use common::rig::Rig;
use common::{APP_PY, Pipeline, newest_cli};

#[test]
fn a_failure_at_any_update_or_refresh_call_keeps_the_state_then_apply_converges() {
    let cal = calibration();
    assert_covers(
        "update",
        &cal.update,
        &[
            "lambda:UpdateFunctionConfiguration",
            "lambda:UpdateFunctionCode",
            "lambda:TagResource",
            "lambda:UntagResource",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:PutRolePolicy",
            "s3:PutBucketTagging",
            "s3:DeleteBucketPolicy",
            "s3:PutBucketNotificationConfiguration",
        ],
    );
    assert_covers(
        "refresh",
        &cal.refresh,
        &["s3:GetBucketTagging", "iam:GetRole", "lambda:GetFunction"],
    );
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let update_names = names("fu", cal.update.len());
    let mut rows = Vec::new();
    rig.pipelines(&update_names, A);
    rig.apply();

    // Round 1: a failure at each call of the update itself.
    let table: Vec<(String, Site)> = update_names
        .iter()
        .cloned()
        .zip(cal.update.clone())
        .collect();
    rig.pipelines(&update_names, B);
    rig.ws.write("app/app.py", APP_PY_V2).expect("app.py");
    arm(&rig.proxy, &table);
    let out = rig.apply_failing();
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    for (name, site) in &table {
        assert_eq!(
            state.get(name),
            Some(&false),
            "{name}: a failed update keeps the pipeline in state, untainted"
        );
        rows.push((name.clone(), site.clone(), "prior state kept".to_owned()));
    }
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();

    // Round 2: a failure at each refresh call stops the plan, changing nothing.
    let refresh_names: Vec<String> = update_names
        .iter()
        .take(cal.refresh.len())
        .cloned()
        .collect();
    assert_eq!(refresh_names.len(), cal.refresh.len());
    let table: Vec<(String, Site)> = refresh_names
        .iter()
        .cloned()
        .zip(cal.refresh.clone())
        .collect();
    rig.pipelines(&update_names, A);
    rig.ws.write("app/app.py", APP_PY).expect("app.py");
    arm(&rig.proxy, &table);
    let out = rig.apply_failing();
    assert_each_failed(&out, &table, &rig.proxy);
    for (name, site) in &table {
        rows.push((
            name.clone(),
            site.clone(),
            "refresh failed, nothing changed".to_owned(),
        ));
    }
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    print_table(
        &format!(
            "update: {} + refresh: {} call sites, {:.0} s",
            cal.update.len(),
            cal.refresh.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

/// Pipeline `label` with a failure queue, its function and role named after
/// `name` (the resource keeps the address `label`).
fn named_after(label: &str, name: &str) -> String {
    Pipeline::seed(label, &format!("{label}-bkt"))
        .timeout(30)
        .extra("  on_failure {}\n")
        .hcl()
        .replace(
            &format!("name          = \"{label}\""),
            &format!("name          = \"{name}\""),
        )
}

fn renamed_pipelines(rig: &Rig, labels: &[String], renamed: bool) {
    let body: String = labels
        .iter()
        .map(|l| {
            let name = if renamed { format!("{l}r") } else { l.clone() };
            named_after(l, &name)
        })
        .collect();
    rig.configure(&body);
}

#[test]
fn a_failure_at_any_call_of_a_rename_keeps_the_state_then_apply_converges_with_no_orphans() {
    let tf = newest_cli();
    // The rename's own calls, recorded from one pipeline (a new name
    // contains the old one, so every call mentions the old name).
    let rename = {
        let rig = Rig::new(&tf, Some(0));
        let one = vec!["rc01".to_owned()];
        renamed_pipelines(&rig, &one, false);
        rig.apply();
        renamed_pipelines(&rig, &one, true);
        rig.proxy.clear_calls();
        rig.ws.plan(&[]).expect("plan");
        let reads = op_counts(&rig.proxy.calls(), "rc01");
        rig.proxy.clear_calls();
        rig.apply();
        let sites = sites(&rig.proxy.calls(), "rc01", &reads);
        rig.assert_plan_empty();
        rig.destroy_and_assert_empty();
        sites
    };
    assert_covers(
        "rename",
        &rename,
        &[
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "logs:CreateLogGroup",
            "sqs:CreateQueue",
            "lambda:CreateFunction",
            "lambda:AddPermission",
            "lambda:PutFunctionEventInvokeConfig",
            "s3:PutBucketNotificationConfiguration",
            "lambda:DeleteFunction",
            "iam:DeleteRole",
            "logs:DeleteLogGroup",
            "sqs:DeleteQueue",
        ],
    );
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let labels = names("fr", rename.len());
    renamed_pipelines(&rig, &labels, false);
    rig.apply();
    let table: Vec<(String, Site)> = labels.iter().cloned().zip(rename.clone()).collect();
    renamed_pipelines(&rig, &labels, true);
    arm(&rig.proxy, &table);
    let out = rig.apply_failing();
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    let mut rows = Vec::new();
    for (label, site) in &table {
        assert_eq!(
            state.get(label),
            Some(&false),
            "{label}: a failed rename keeps the pipeline in state, untainted"
        );
        rows.push((label.clone(), site.clone(), "prior state kept".to_owned()));
    }
    // The next apply adopts what the failed one made under the new name
    // (its tag names the pipeline) and deletes what is left of the old.
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    let inv = rig.moto.aws().expect("aws").list_everything().expect("inv");
    let new =
        |suffix: &str| -> Vec<String> { labels.iter().map(|l| format!("{l}r{suffix}")).collect() };
    assert_eq!(inv.functions, new(""), "no function left under an old name");
    assert_eq!(
        inv.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        new("-role")
    );
    assert_eq!(inv.queues, new("-failed"));
    let groups: Vec<String> = labels.iter().map(|l| format!("/aws/lambda/{l}r")).collect();
    assert_eq!(inv.log_groups, groups);
    rig.destroy_and_assert_empty();
    print_table(
        &format!(
            "rename: {} call sites, {:.0} s",
            table.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

/// A switch of `delivery` that fails after the notification moved: the
/// refresh reads the new delivery from the bucket while the old way in is
/// still there. The next apply deletes it, in both directions, and leaves
/// nothing behind.
#[test]
fn a_switch_of_delivery_that_fails_half_way_is_finished_by_the_next_apply() {
    use tests::fault_proxy::{Fault, Rule};

    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let n = "dx01";
    let hcl = |queue: bool| {
        Pipeline::seed(n, &format!("{n}-bkt"))
            .extra(if queue {
                "  delivery = \"queue\"\n"
            } else {
                ""
            })
            .hcl()
    };
    let aws = rig.moto.aws().expect("emulator client");
    let ours = |s: &tests::Sources| {
        let queues: Vec<&String> = s.queues.iter().filter(|q| q.starts_with(n)).collect();
        let mappings: Vec<&String> = s.mappings.iter().filter(|m| m.contains(n)).collect();
        format!("queues {queues:?}, mappings {mappings:?}")
    };

    // queue → direct, DeleteEventSourceMapping fails once.
    rig.configure(&hcl(true));
    rig.apply();
    let uuid = common::resource(&rig.ws, n)["values"]["queue_mapping_id"]
        .as_str()
        .expect("a mapping id")
        .to_owned();
    rig.configure(&hcl(false));
    rig.proxy.add_rule(
        Rule::on("lambda:DeleteEventSourceMapping")
            .containing(&uuid)
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let out = rig.apply_failing();
    assert!(
        common::flat(&out).contains("deleting the event source mapping"),
        "{}",
        common::flat(&out)
    );
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    let left = aws.sources().expect("sources");
    assert_eq!(
        ours(&left),
        "queues [], mappings []",
        "the event queue and its mapping outlived the switch"
    );

    // direct → queue, RemovePermission fails once.
    rig.configure(&hcl(true));
    rig.proxy.add_rule(
        Rule::on("lambda:RemovePermission")
            .containing(n)
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    rig.apply_failing();
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    let policy = aws.block_on(aws.lambda().get_policy().function_name(n).send());
    if let Ok(p) = policy {
        let doc = p.policy().unwrap_or_default();
        assert!(
            !doc.contains("s3.amazonaws.com"),
            "S3 may still invoke the function after the switch to queue delivery: {doc}"
        );
    }
    rig.destroy_and_assert_empty();
}
