//! The fault tables for pipelines on a bucket they do not manage
//! (`create_bucket = false`), end to end: the plan reads the bucket, the
//! apply adds and verifies only the pipeline's notification configurations,
//! and switching `create_bucket` takes the bucket over and lets it go. A
//! failure at any of those calls keeps the state (or rolls the create back),
//! the next `apply` converges, and the last `destroy` leaves only the
//! pre-existing buckets, as they were. Also: a throttled notification write
//! on a shared bucket reads the bucket again before writing again.
//!
//! The call sites are recorded by a calibration run of one such pipeline
//! through every phase, one pipeline per call site.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::Instant;

use common::calibration::FUNCTION_LOOK;
use common::fault_table::{
    Site, arm, assert_covers, assert_each_failed, names, op_counts, print_table, sites, table,
};
use common::rig::Rig;
use common::{Foreign, Pipeline, foreign, newest_cli, ours, pre_existing_bucket, resource};
use tests::Output;
use tests::fault_proxy::{Fault, Outcome, Rule};

/// The plan's look at an existing bucket's default encryption (issue 28).
const ENCRYPTION_LOOK: &str = "s3:GetBucketEncryption";

/// How a pipeline on its own pre-existing bucket (`<name>-bkt`) is
/// configured: `EA` is created, `EB` changes its trigger, `EC` takes the
/// bucket over, and `EB` again lets it go.
#[derive(Clone, Copy)]
struct OnBucket {
    create_bucket: bool,
    prefix: &'static str,
}

const EA: OnBucket = OnBucket {
    create_bucket: false,
    prefix: "data/",
};
const EB: OnBucket = OnBucket {
    create_bucket: false,
    prefix: "in/",
};
const EC: OnBucket = OnBucket {
    create_bucket: true,
    prefix: "in/",
};

fn on_bucket(name: &str, s: OnBucket) -> String {
    let p = Pipeline::seed(name, &format!("{name}-bkt"))
        .force_destroy(false)
        .tags("{ team = \"a\" }")
        .filter_prefix(s.prefix);
    if s.create_bucket {
        p.hcl()
    } else {
        p.extra("  create_bucket = false\n").hcl()
    }
}

impl Rig {
    fn on_buckets(&self, names: &[String], s: OnBucket) {
        let body: String = names.iter().map(|n| on_bucket(n, s)).collect();
        self.configure(&body);
    }

    /// Makes each pipeline's bucket as another team would (objects, a
    /// queue, another team's function); returns what must stay of each.
    fn pre_existing(&self, names: &[String]) -> BTreeMap<String, Foreign> {
        let aws = self.moto.aws().expect("aws");
        names
            .iter()
            .map(|n| {
                let bucket = format!("{n}-bkt");
                pre_existing_bucket(&aws, &bucket);
                (n.clone(), foreign(&aws, &bucket))
            })
            .collect()
    }

    /// What pipeline `name` has in the emulator besides its bucket.
    fn own_parts(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .parts(name)
            .into_iter()
            .filter(|p| p != "bucket")
            .collect();
        let aws = self.moto.aws().expect("aws");
        if !ours(&aws, &format!("{name}-bkt")).is_empty() {
            out.push("notification".to_owned());
        }
        out
    }

    /// After the last destroy: only the pre-existing buckets are left,
    /// each with its objects and other teams' configurations, and with no
    /// configuration of the pipelines. `settings` also compares the tags,
    /// public access block, policy and encryption (unchanged unless the
    /// pipeline took the bucket over and let it go).
    fn assert_only_buckets_left(&self, before: &BTreeMap<String, Foreign>, settings: bool) {
        let aws = self.moto.aws().expect("aws");
        let inv = aws
            .list_everything()
            .expect("inventory")
            .without_lambda_log_groups();
        let buckets: Vec<String> = before.keys().map(|n| format!("{n}-bkt")).collect();
        assert_eq!(inv.buckets, buckets, "{inv}");
        assert!(
            inv.roles.is_empty() && inv.functions.is_empty() && inv.log_groups.is_empty(),
            "0 orphans:\n{inv}"
        );
        for (name, was) in before {
            let bucket = format!("{name}-bkt");
            assert!(ours(&aws, &bucket).is_empty(), "{bucket}");
            let now = foreign(&aws, &bucket);
            if settings {
                assert_eq!(&now, was, "{bucket}");
            } else {
                assert_eq!(
                    (&now.objects, &now.queues, &now.functions),
                    (&was.objects, &was.queues, &was.functions),
                    "{bucket}"
                );
                assert!(now.tags.is_empty(), "{bucket}: {:?}", now.tags);
            }
        }
    }
}

/// Every call one pipeline on a pre-existing bucket makes, by phase: each
/// phase's plan (refresh and bucket check), then its apply's own calls,
/// numbered after the plan's.
#[derive(Debug)]
struct ExistingCalibration {
    create_plan: Vec<Site>,
    create: Vec<Site>,
    update_plan: Vec<Site>,
    update: Vec<Site>,
    adopt_plan: Vec<Site>,
    adopt: Vec<Site>,
    release_plan: Vec<Site>,
    release: Vec<Site>,
    delete_plan: Vec<Site>,
    delete: Vec<Site>,
}

/// Records `plan <plan_args>`, then `act`: the plan's sites, and the
/// sites of `act` numbered after the plan's calls (its own plan walk makes
/// them again).
fn record_phase(
    rig: &Rig,
    name: &str,
    plan_args: &[&str],
    act: impl FnOnce(),
) -> (Vec<Site>, Vec<Site>) {
    rig.proxy.clear_calls();
    rig.ws.plan(plan_args).expect("plan");
    let calls = rig.proxy.calls();
    let planned = sites(&calls, name, &BTreeMap::new());
    let reads = op_counts(&calls, name);
    rig.proxy.clear_calls();
    act();
    (planned, sites(&rig.proxy.calls(), name, &reads))
}

fn existing_calibration() -> &'static ExistingCalibration {
    static CAL: OnceLock<ExistingCalibration> = OnceLock::new();
    CAL.get_or_init(|| {
        let tf = newest_cli();
        let rig = Rig::new(&tf, Some(0));
        let name = "ecal01".to_owned();
        let one = std::slice::from_ref(&name);
        let before = rig.pre_existing(one);
        let apply = || {
            rig.apply();
        };
        rig.on_buckets(one, EA);
        let (mut create_plan, mut create) = record_phase(&rig, &name, &[], apply);
        // The function-name look has its own table (a denied look is a
        // warning); in a create, only the looks call GetFunction.
        create_plan.retain(|s| s.op != FUNCTION_LOOK);
        create.retain(|s| s.op != FUNCTION_LOOK);
        rig.on_buckets(one, EB);
        let (update_plan, update) = record_phase(&rig, &name, &[], apply);
        rig.on_buckets(one, EC);
        let (adopt_plan, adopt) = record_phase(&rig, &name, &[], apply);
        rig.assert_plan_empty();
        rig.on_buckets(one, EB);
        let (release_plan, release) = record_phase(&rig, &name, &[], apply);
        rig.assert_plan_empty();
        let (delete_plan, delete) = record_phase(&rig, &name, &["-destroy"], || {
            rig.ws.destroy_auto().expect("destroy");
        });
        rig.assert_only_buckets_left(&before, false);
        let mut cal = ExistingCalibration {
            create_plan,
            create,
            update_plan,
            update,
            adopt_plan,
            adopt,
            release_plan,
            release,
            delete_plan,
            delete,
        };
        // The look at the bucket's encryption (and at a managed bucket's,
        // in a refresh) has its own table in faults_kms.rs: a denied look
        // is a warning, checked in kms.rs.
        for phase in [
            &mut cal.create_plan,
            &mut cal.create,
            &mut cal.update_plan,
            &mut cal.update,
            &mut cal.adopt_plan,
            &mut cal.adopt,
            &mut cal.release_plan,
            &mut cal.release,
            &mut cal.delete_plan,
            &mut cal.delete,
        ] {
            phase.retain(|s| s.op != ENCRYPTION_LOOK);
        }
        eprintln!("calibration on an existing bucket: {cal:#?}");
        cal
    })
}

/// The plans of the take-over, the letting go and the destroy make no call
/// another table does not fail already: the refresh and bucket check of
/// the trigger update's plan, and the refresh of a managed bucket (its tags
/// and policy, in the first table's refresh round).
fn assert_plan_calls_covered(cal: &ExistingCalibration) {
    let covered: BTreeSet<&str> = cal
        .update_plan
        .iter()
        .map(|s| s.op.as_str())
        .chain(["s3:GetBucketTagging", "s3:GetBucketPolicy"])
        .collect();
    for (phase, sites) in [
        ("take-over plan", &cal.adopt_plan),
        ("letting-go plan", &cal.release_plan),
        ("destroy plan", &cal.delete_plan),
    ] {
        for s in sites {
            assert!(
                covered.contains(s.op.as_str()),
                "{phase}: {s} is failed by no table"
            );
        }
    }
}

/// Arms `table` and runs `run`, which must fail with each fault reported
/// against its pipeline.
fn fail_each(rig: &Rig, table: &[(String, Site)], run: impl FnOnce() -> Output) {
    arm(&rig.proxy, table);
    let out = run();
    assert_each_failed(&out, table, &rig.proxy);
    rig.proxy.clear_rules();
}

#[test]
fn on_an_existing_bucket_a_failure_at_any_plan_or_create_call_then_apply_converges() {
    let cal = existing_calibration();
    assert_covers(
        "create (plan)",
        &cal.create_plan,
        &["s3:HeadBucket", "s3:GetBucketNotificationConfiguration"],
    );
    assert_covers(
        "create",
        &cal.create,
        &[
            "s3:HeadBucket",
            "s3:GetBucketNotificationConfiguration",
            "s3:PutBucketNotificationConfiguration",
            "iam:CreateRole",
            "lambda:CreateFunction",
            "lambda:AddPermission",
        ],
    );
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let plan_names = names("ep", cal.create_plan.len());
    let create_names = names("ec", cal.create.len());
    let all: Vec<String> = plan_names.iter().chain(&create_names).cloned().collect();
    let before = rig.pre_existing(&all);
    let mut rows = Vec::new();

    // Round 1: a failure at each call of the plan stops it; nothing is made.
    let t = table(&plan_names, &cal.create_plan);
    rig.on_buckets(&plan_names, EA);
    fail_each(&rig, &t, || rig.apply_failing());
    assert!(rig.state().is_empty());
    for (name, site) in t {
        assert!(rig.own_parts(&name).is_empty(), "{name}");
        rows.push((name, site, "plan refused, nothing made".to_owned()));
    }

    // Round 2: a failure at each call of the create (its apply-time plan
    // included) rolls back or taints.
    let t = table(&create_names, &cal.create);
    rig.on_buckets(&all, EA);
    fail_each(&rig, &t, || rig.apply_failing());
    let state = rig.state();
    for (name, site) in t {
        let parts = rig.own_parts(&name);
        let outcome = match state.get(&name) {
            Some(true) => format!("tainted in state; left {parts:?}"),
            Some(false) => panic!("{name}: a failed create must not be recorded as healthy"),
            None if parts.is_empty() => "rolled back, bucket as it was".to_owned(),
            None => panic!("{name}: failed at {site}, not in state, but left {parts:?}"),
        };
        rows.push((name, site, outcome));
    }
    rig.apply();
    assert!(rig.state().values().all(|tainted| !tainted));
    assert_eq!(rig.state().len(), all.len());
    rig.assert_plan_empty();
    rig.ws.destroy_auto().expect("destroy");
    rig.assert_only_buckets_left(&before, true);
    print_table(
        &format!(
            "existing bucket, plan: {} + create: {} call sites, {:.0} s",
            cal.create_plan.len(),
            cal.create.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

#[test]
fn on_an_existing_bucket_a_failure_at_any_trigger_update_or_its_plan_keeps_the_state() {
    let cal = existing_calibration();
    assert_covers(
        "update (plan)",
        &cal.update_plan,
        &[
            "s3:HeadBucket",
            "s3:GetBucketNotificationConfiguration",
            "iam:GetRole",
            "lambda:GetFunction",
        ],
    );
    assert_covers(
        "update",
        &cal.update,
        &[
            "s3:GetBucketNotificationConfiguration",
            "s3:PutBucketNotificationConfiguration",
            "iam:PutRolePolicy",
        ],
    );
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let names = names("eu", cal.update.len().max(cal.update_plan.len()));
    let before = rig.pre_existing(&names);
    rig.on_buckets(&names, EA);
    rig.apply();
    let mut rows = Vec::new();

    // Round 1: a failure at each call of the update keeps the prior state.
    let t = table(&names, &cal.update);
    rig.on_buckets(&names, EB);
    fail_each(&rig, &t, || rig.apply_failing());
    let state = rig.state();
    for (name, site) in t {
        assert_eq!(state.get(&name), Some(&false), "{name}");
        rows.push((name, site, "prior state kept".to_owned()));
    }
    rig.apply();
    rig.assert_plan_empty();

    // Round 2: a failure at each call of the refresh and bucket check
    // stops the plan, changing nothing.
    let t = table(&names, &cal.update_plan);
    rig.on_buckets(&names, EA);
    fail_each(&rig, &t, || rig.apply_failing());
    for (name, site) in t {
        rows.push((name, site, "plan refused, nothing changed".to_owned()));
    }
    rig.apply();
    rig.assert_plan_empty();
    rig.ws.destroy_auto().expect("destroy");
    rig.assert_only_buckets_left(&before, true);
    print_table(
        &format!(
            "existing bucket, trigger update: {} + its plan: {} call sites, {:.0} s",
            cal.update.len(),
            cal.update_plan.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

#[test]
fn a_failure_at_any_call_taking_a_bucket_over_or_letting_it_go_keeps_the_state() {
    let cal = existing_calibration();
    assert_covers(
        "adopt",
        &cal.adopt,
        &[
            "s3:GetBucketTagging",
            "s3:PutBucketTagging",
            "s3:PutPublicAccessBlock",
            "s3:PutBucketEncryption",
        ],
    );
    assert_covers(
        "release",
        &cal.release,
        &["s3:GetBucketTagging", "s3:DeleteBucketTagging"],
    );
    assert_plan_calls_covered(cal);
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let names = names("es", cal.adopt.len().max(cal.release.len()));
    let before = rig.pre_existing(&names);
    rig.on_buckets(&names, EB);
    rig.apply();
    let mut rows = Vec::new();

    // Round 1: create_bucket turns true; a failure at each call keeps the
    // bucket unmanaged in the state.
    let t = table(&names, &cal.adopt);
    rig.on_buckets(&names, EC);
    fail_each(&rig, &t, || rig.apply_failing());
    for (name, site) in t {
        let s = resource(&rig.ws, &name);
        assert_eq!(s["values"]["create_bucket"], false, "{name}: {s}");
        rows.push((name, site, "take-over: prior state kept".to_owned()));
    }
    rig.apply();
    rig.assert_plan_empty();
    let aws = rig.moto.aws().expect("aws");
    for name in &names {
        let tags = aws.bucket_tags(&format!("{name}-bkt")).expect("tags");
        assert_eq!(
            tags.get("eventpipe:pipeline"),
            Some(name),
            "{name}: taken over"
        );
    }

    // Round 2: create_bucket turns false again; a failure at each call
    // keeps the bucket managed in the state.
    let t = table(&names, &cal.release);
    rig.on_buckets(&names, EB);
    fail_each(&rig, &t, || rig.apply_failing());
    for (name, site) in t {
        let s = resource(&rig.ws, &name);
        assert_eq!(s["values"]["create_bucket"], true, "{name}: {s}");
        rows.push((name, site, "letting go: prior state kept".to_owned()));
    }
    rig.apply();
    rig.assert_plan_empty();
    rig.ws.destroy_auto().expect("destroy");
    // The take-over left its secure defaults; everything else is as it was.
    rig.assert_only_buckets_left(&before, false);
    print_table(
        &format!(
            "existing bucket, take over: {} + let go: {} call sites, {:.0} s",
            cal.adopt.len(),
            cal.release.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

#[test]
fn on_an_existing_bucket_a_failure_at_any_delete_call_keeps_the_state_then_destroy_converges() {
    let cal = existing_calibration();
    assert_covers(
        "delete",
        &cal.delete,
        &[
            "s3:GetBucketNotificationConfiguration",
            "s3:PutBucketNotificationConfiguration",
            "lambda:DeleteFunction",
            "iam:DeleteRole",
        ],
    );
    assert_plan_calls_covered(cal);
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let names = names("ex", cal.delete.len());
    let before = rig.pre_existing(&names);
    rig.on_buckets(&names, EB);
    rig.apply();
    let t = table(&names, &cal.delete);
    fail_each(&rig, &t, || {
        rig.ws
            .run(&["destroy", "-auto-approve"])
            .expect("destroy runs")
            .failed()
            .expect("destroy must fail")
    });
    let state = rig.state();
    let mut rows = Vec::new();
    for (name, site) in t {
        assert!(state.contains_key(&name), "{name}: kept in state");
        let left = rig.own_parts(&name);
        rows.push((name, site, format!("kept in state; left {left:?}")));
    }
    rig.apply();
    rig.assert_plan_empty();
    rig.ws.destroy_auto().expect("destroy");
    rig.assert_only_buckets_left(&before, true);
    print_table(
        &format!(
            "existing bucket, delete: {} call sites, {:.0} s",
            cal.delete.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

#[test]
fn a_throttled_notification_write_on_a_shared_bucket_reads_the_bucket_again_before_writing_again() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(3));
    let name = "th01".to_owned();
    let one = std::slice::from_ref(&name);
    let before = rig.pre_existing(one);
    rig.on_buckets(one, EA);
    let p = &rig.proxy;
    p.add_rule(
        Rule::on("s3:PutBucketNotificationConfiguration")
            .nth(1)
            .fail(Fault::SlowDown),
    );
    rig.apply();
    // A retry of the same request would resend the document read before
    // the backoff, undoing whatever another writer did meanwhile: the
    // bucket is read again between the throttled write and the next one.
    let ops: Vec<(String, bool)> = p
        .calls()
        .into_iter()
        .filter(|c| c.op.contains("BucketNotificationConfiguration"))
        .map(|c| (c.op.clone(), matches!(c.outcome, Outcome::Failed(..))))
        .collect();
    let throttled = ops
        .iter()
        .position(|(op, failed)| op.starts_with("s3:Put") && *failed)
        .expect("the write was throttled");
    let next_put = throttled
        + 1
        + ops[throttled + 1..]
            .iter()
            .position(|(op, _)| op.starts_with("s3:Put"))
            .expect("written again");
    assert!(
        ops[throttled + 1..next_put]
            .iter()
            .any(|(op, _)| op == "s3:GetBucketNotificationConfiguration"),
        "no read between the throttled write and the next: {ops:?}"
    );
    rig.assert_plan_empty();
    p.clear_rules();
    rig.ws.destroy_auto().expect("destroy");
    rig.assert_only_buckets_left(&before, false);
}
