//! What AWS answers for a while and then no more, end to end: throttling,
//! 5xx, dropped connections and IAM propagation are retried to success;
//! ten pipelines converge with 30% of all calls throttled, and fifty apply,
//! plan empty and destroy with `-parallelism=10`.

mod common;

use std::time::Instant;

use common::calibration::{A, Shape};
use common::fault_table::names;
use common::rig::Rig;
use common::{assert_emulator_empty, flat, newest_cli};
use tests::Moto;
use tests::fault_proxy::{Fault, FaultProxy, Outcome, Rule};

#[test]
fn throttling_5xx_drops_and_iam_propagation_are_retried_to_success() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(3));
    let name = "ip01".to_owned();
    let one = std::slice::from_ref(&name);
    let p = &rig.proxy;
    // Our own bounded retry: IAM propagation and S3's destination check.
    p.add_rule(
        Rule::on("lambda:CreateFunction")
            .first(3)
            .fail(Fault::RoleNotAssumable),
    );
    p.add_rule(
        Rule::on("s3:PutBucketNotificationConfiguration")
            .first(2)
            .fail(Fault::DestinationNotValidated),
    );
    // The SDK's retry: 500, 503 SlowDown, throttling, a dropped connection.
    p.add_rule(Rule::on("iam:CreateRole").nth(1).fail(Fault::InternalError));
    p.add_rule(Rule::on("s3:CreateBucket").nth(1).fail(Fault::SlowDown));
    p.add_rule(
        Rule::on("lambda:AddPermission")
            .nth(1)
            .fail(Fault::Throttling),
    );
    p.add_rule(Rule::on("iam:PutRolePolicy").nth(1).drop_connection());
    rig.pipelines(one, A);
    rig.apply();
    assert_eq!(
        p.count("lambda:CreateFunction"),
        4,
        "3 refusals, then success"
    );
    assert_eq!(p.count("s3:PutBucketNotificationConfiguration"), 3);
    assert_eq!(p.count("iam:CreateRole"), 2);
    assert_eq!(p.count("s3:CreateBucket"), 2);
    assert_eq!(p.count("lambda:AddPermission"), 2);
    assert_eq!(p.count("iam:PutRolePolicy"), 2);

    // The same for a settings update.
    p.clear_rules();
    p.add_rule(
        Rule::on("lambda:UpdateFunctionConfiguration")
            .first(2)
            .fail(Fault::RoleNotAssumable),
    );
    rig.pipelines(one, Shape { memory: 1024, ..A });
    rig.apply();
    assert_eq!(p.count("lambda:UpdateFunctionConfiguration"), 3);
    let aws = rig.moto.aws().expect("aws");
    let f = aws
        .block_on(aws.lambda().get_function().function_name(&name).send())
        .expect("function");
    assert_eq!(f.configuration().and_then(|c| c.memory_size()), Some(1024));
    p.clear_rules();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();

    // An error we do not retry ends at once, in AWS's words.
    p.add_rule(Rule::on("lambda:CreateFunction").fail(Fault::Custom {
        status: 400,
        code: "InvalidParameterValueException".into(),
        message: "Uploaded file must be a non-empty zip".into(),
    }));
    let out = rig.apply_failing();
    assert!(
        out.combined()
            .contains("Uploaded file must be a non-empty zip"),
        "{out}"
    );
    p.clear_rules();
    assert_emulator_empty(&rig.moto);

    // The one call made at plan time for a new pipeline: the account id.
    p.add_rule(
        Rule::on("sts:GetCallerIdentity")
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let out = rig.apply_failing();
    let text = flat(&out);
    assert!(
        text.contains("Cannot determine the AWS account")
            && text.contains("not authorized to perform: sts:GetCallerIdentity"),
        "{out}"
    );
    assert_emulator_empty(&rig.moto);
    p.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
}

#[test]
fn ten_pipelines_apply_and_destroy_with_30_percent_of_calls_throttled() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let proxy = FaultProxy::start_seeded(&moto.endpoint(), 30).expect("proxy");
    // Enough attempts that 30% throttling practically never exhausts them
    // (0.3^11 per call).
    let rig = Rig::with(&tf, moto, proxy, Some(10));
    let names = names("th", 10);
    rig.pipelines(&names, A);
    rig.proxy
        .add_rule(Rule::any().percent(30).fail(Fault::Throttling));
    let started = Instant::now();
    rig.apply();
    let applied = started.elapsed();
    let t = Instant::now();
    rig.assert_plan_empty();
    let planned = t.elapsed();
    let t = Instant::now();
    rig.ws.destroy_auto().expect("destroy");
    let destroyed = t.elapsed();
    rig.proxy.clear_rules();
    assert_emulator_empty(&rig.moto);
    let calls = rig.proxy.calls();
    let throttled = calls
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed(..)))
        .count();
    assert!(
        throttled * 100 >= calls.len() * 20,
        "{throttled} of {} calls throttled",
        calls.len()
    );
    eprintln!(
        "\n30% throttling, 10 pipelines: {throttled} of {} calls throttled; apply {:.1} s, \
         plan {:.1} s, destroy {:.1} s",
        calls.len(),
        applied.as_secs_f64(),
        planned.as_secs_f64(),
        destroyed.as_secs_f64()
    );
}

#[test]
fn fifty_pipelines_apply_plan_empty_and_destroy_with_parallelism_ten() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let names = names("cc", 50);
    rig.pipelines(&names, A);
    let started = Instant::now();
    rig.ws
        .run_ok(&["apply", "-auto-approve", "-parallelism=10"])
        .expect("apply");
    let applied = started.elapsed();
    let inv = rig.moto.aws().expect("aws").list_everything().expect("inv");
    assert_eq!(inv.buckets.len(), 50);
    assert_eq!(inv.functions.len(), 50);
    assert_eq!(inv.roles.len(), 50);
    assert_eq!(rig.state().len(), 50);
    let t = Instant::now();
    let plan = rig
        .ws
        .run(&["plan", "-detailed-exitcode", "-parallelism=10"])
        .expect("plan");
    assert_eq!(plan.code, Some(0), "{plan}");
    let planned = t.elapsed();
    let t = Instant::now();
    rig.ws
        .run_ok(&["destroy", "-auto-approve", "-parallelism=10"])
        .expect("destroy");
    let destroyed = t.elapsed();
    assert_emulator_empty(&rig.moto);
    let counts = rig.proxy.counts();
    eprintln!(
        "\n50 pipelines, -parallelism=10: apply {:.1} s, plan {:.1} s, destroy {:.1} s; \
         AWS calls: {counts:?}",
        applied.as_secs_f64(),
        planned.as_secs_f64(),
        destroyed.as_secs_f64()
    );
}
