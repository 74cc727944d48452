//! Fault tolerance end to end: the provider reaches the emulator through the
//! fault-injection proxy, which fails, delays, drops or holds chosen AWS
//! calls. After any single failure — an AWS error at any call, throttling, a
//! killed provider, a Ctrl-C — the next `apply` converges, the next plan is
//! empty, and `destroy` leaves nothing in the emulator.
//!
//! The call sites are not listed by hand: a calibration run records every
//! call one pipeline makes during create, refresh, update and delete, and
//! the tables inject a failure at each of them (one pipeline per call site,
//! all in one configuration, each fault aimed at its pipeline by name). A
//! second calibration does the same for a pipeline on a bucket it does not
//! manage (`create_bucket = false`): the plan's look at the bucket, the
//! verified notification writes, and taking the bucket over and letting it
//! go.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::fault_table::{
    Site, arm, denied_words, fired, op_counts, pids, print_table, signal, sites,
};
use common::rig::Rig;
use common::{
    APP_PY, Foreign, Pipeline, assert_emulator_empty, flat, foreign, function_policy, is_tainted,
    lambda_notifications, newest_cli, ours, pre_existing_bucket, resource, role_tags,
};
use tests::fault_proxy::{AccountLimits, Call, Fault, FaultProxy, Outcome, Rule};
use tests::{Moto, Output, TerraformCli, Workspace};

const WAIT: Duration = Duration::from_secs(120);

/// How a pipeline is configured; `A` is created, `B` is what an update
/// changes it to (memory, tags, trigger prefix, TLS policy; the handler
/// file changes alongside).
#[derive(Clone, Copy)]
struct Shape {
    memory: u32,
    team: &'static str,
    extra_tag: &'static str,
    prefix: &'static str,
    require_tls: bool,
}

const A: Shape = Shape {
    memory: 512,
    team: "a",
    extra_tag: "gone",
    prefix: "data/",
    require_tls: true,
};
const B: Shape = Shape {
    memory: 256,
    team: "b",
    extra_tag: "new",
    prefix: "in/",
    require_tls: false,
};
const APP_PY_V2: &str = "def handler(event, context):\n    return {\"version\": 2}\n";

impl Shape {
    /// Pipeline `name` (on bucket `<name>-bkt`) in this shape.
    fn pipeline(self, name: &str) -> Pipeline {
        Pipeline::seed(name, &format!("{name}-bkt"))
            .require_tls(self.require_tls)
            .tags(&format!(
                "{{ team = \"{}\", {} = \"x\" }}",
                self.team, self.extra_tag
            ))
            .timeout(30)
            .memory(self.memory)
            .filter_prefix(self.prefix)
    }
}

impl Rig {
    fn pipelines(&self, names: &[String], shape: Shape) {
        let body: String = names.iter().map(|n| shape.pipeline(n).hcl()).collect();
        self.configure(&body);
    }

    /// Which parts of pipeline `name` exist in the emulator.
    fn parts(&self, name: &str) -> Vec<String> {
        let inv = self
            .moto
            .aws()
            .expect("aws")
            .list_everything()
            .expect("inv");
        let mut out = Vec::new();
        if inv.buckets.iter().any(|b| *b == format!("{name}-bkt")) {
            out.push("bucket".to_owned());
        }
        if inv.roles.iter().any(|r| r.name == format!("{name}-role")) {
            out.push("role".to_owned());
        }
        if inv.functions.iter().any(|f| f == name) {
            out.push("function".to_owned());
        }
        out
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i:02}")).collect()
}

/// Terraform's diagnostics, flattened, by the pipeline they are about.
fn errors_by_resource(out: &Output) -> BTreeMap<String, Vec<String>> {
    let text = flat(out);
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in text.split("Error: ").skip(1) {
        // Plan and apply errors carry the resource address; destroy errors
        // carry none, so the provider names the pipeline in the text.
        let owner = block
            .split("with eventpipe_event_pipeline.")
            .nth(1)
            .and_then(|r| r.split([',', ' ']).next())
            .or_else(|| {
                block
                    .split("Destroying pipeline \"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
            })
            .unwrap_or("")
            .to_owned();
        map.entry(owner).or_default().push(block.to_owned());
    }
    map
}

/// Every call one pipeline makes, by phase.
#[derive(Debug)]
struct Calibration {
    create: Vec<Site>,
    /// The refresh before an update or destroy.
    refresh: Vec<Site>,
    /// The update's own calls, numbered after the refresh's.
    update: Vec<Site>,
    delete: Vec<Site>,
}

fn calibration() -> &'static Calibration {
    static CAL: OnceLock<Calibration> = OnceLock::new();
    CAL.get_or_init(|| {
        let tf = newest_cli();
        let rig = Rig::new(&tf, Some(0));
        let name = "cal01".to_owned();
        let one = std::slice::from_ref(&name);
        rig.pipelines(one, A);
        let looks = create_looks(&rig, &name);
        rig.apply();
        let create = sites(&rig.proxy.calls(), &name, &looks);

        rig.pipelines(one, B);
        rig.ws.write("app/app.py", APP_PY_V2).expect("app.py");
        rig.proxy.clear_calls();
        rig.ws.plan(&[]).expect("plan");
        let refresh_calls = rig.proxy.calls();
        let refresh = sites(&refresh_calls, &name, &BTreeMap::new());
        let reads = op_counts(&refresh_calls, &name);

        rig.proxy.clear_calls();
        rig.apply();
        let update = sites(&rig.proxy.calls(), &name, &reads);
        rig.assert_plan_empty();

        rig.proxy.clear_calls();
        rig.ws.destroy_auto().expect("destroy");
        let delete = sites(&rig.proxy.calls(), &name, &reads);
        assert_emulator_empty(&rig.moto);
        let cal = Calibration {
            create,
            refresh,
            update,
            delete,
        };
        eprintln!("calibration: {cal:#?}");
        cal
    })
}

/// The calls of a create's plan-time looks (whether the names it would take
/// are free), by operation, as an `apply` makes them: twice, as Terraform
/// plans a create again at apply. A denied look is a warning, not a
/// failure, so the looks have their own table
/// ([`a_denied_look_of_a_create_plan_is_a_warning_and_the_plan_still_succeeds`]),
/// and the create tables leave them out. Leaves the recorded calls empty.
fn create_looks(rig: &Rig, name: &str) -> BTreeMap<String, u32> {
    rig.proxy.clear_calls();
    rig.ws.plan(&[]).expect("plan");
    let looks: BTreeMap<String, u32> = op_counts(&rig.proxy.calls(), name)
        .into_iter()
        .map(|(op, n)| (op, 2 * n))
        .collect();
    assert!(
        looks.contains_key("lambda:GetFunction"),
        "a create's plan looks for its function: {looks:?}"
    );
    rig.proxy.clear_calls();
    looks
}

/// The operation of a create's plan-time look at a function name (on a
/// bucket the pipeline does not manage, the plan's other calls are the
/// bucket check's, which fail the plan).
const FUNCTION_LOOK: &str = "lambda:GetFunction";

fn assert_covers(phase: &str, sites: &[Site], must: &[&str]) {
    let ops: BTreeSet<&str> = sites.iter().map(|s| s.op.as_str()).collect();
    for m in must {
        assert!(
            ops.contains(m),
            "{phase}: calibration did not see {m}; saw {ops:?}"
        );
    }
}

/// Every pipeline's error names its step and carries AWS's words.
fn assert_each_failed(out: &Output, table: &[(String, Site)], proxy: &FaultProxy) {
    let errors = errors_by_resource(out);
    for (name, site) in table {
        assert!(
            fired(proxy, name, site),
            "the fault at {site} for {name} never fired"
        );
        let mine = errors.get(name).cloned().unwrap_or_default().join("\n");
        assert!(
            mine.contains(&site.op) && mine.contains(&denied_words(&site.op)),
            "{name}: the error should name {} with AWS's words {:?}; got {mine:?}\n{out}",
            site.op,
            denied_words(&site.op)
        );
    }
}

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

#[test]
fn a_failure_at_any_delete_call_keeps_the_state_then_apply_and_destroy_converge() {
    let cal = calibration();
    assert_covers(
        "delete",
        &cal.delete,
        &[
            "s3:PutBucketNotificationConfiguration",
            "s3:DeleteBucketPolicy",
            "s3:DeleteBucket",
            "lambda:DeleteFunction",
            "iam:DeleteRolePolicy",
            "iam:DeleteRole",
        ],
    );
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let names = names("fd", cal.delete.len());
    rig.pipelines(&names, B);
    rig.apply();
    let table: Vec<(String, Site)> = names.iter().cloned().zip(cal.delete.clone()).collect();
    arm(&rig.proxy, &table);
    let out = rig
        .ws
        .run(&["destroy", "-auto-approve"])
        .expect("destroy runs")
        .failed()
        .expect("destroy must fail");
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    let mut rows = Vec::new();
    for (name, site) in &table {
        assert!(
            state.contains_key(name),
            "{name}: a failed destroy keeps the pipeline in state"
        );
        rows.push((
            name.clone(),
            site.clone(),
            format!("kept in state; left {:?}", rig.parts(name)),
        ));
    }
    // Whatever the destroy removed, apply rebuilds; then destroy finishes.
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    print_table(
        &format!(
            "delete: {} call sites, {:.0} s",
            table.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

#[test]
fn a_provider_killed_mid_create_leaves_parts_the_next_apply_adopts() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    // S3 applies a bucket's creation tags with the bucket; moto drops
    // them. The proxy writes them as S3 would (emulator fidelity, not a
    // fault), so a create that completes after its provider died leaves a
    // bucket tagged as AWS would leave it.
    rig.proxy.apply_creation_tags(true);
    // Each pipeline stops at its own point; the provider is killed once all
    // are there. "after forward" means AWS did the work but the provider
    // never heard back; "then forward" that the request was still in
    // flight when the provider died, and completed after.
    let points: [(&str, Rule, &str); 7] = [
        (
            "ka01",
            Rule::on("iam:CreateRole").hold(),
            "after the bucket",
        ),
        (
            "ka02",
            Rule::on("iam:PutRolePolicy").hold(),
            "after the role, before its policy",
        ),
        (
            "ka03",
            Rule::on("s3:PutPublicAccessBlock").hold(),
            "after the function, bucket tagged but not secured",
        ),
        (
            "ka04",
            Rule::on("lambda:CreateFunction").hold_after_forward(),
            "function made, answer lost",
        ),
        (
            "ka05",
            Rule::on("lambda:AddPermission").hold_after_forward(),
            "permission made, answer lost",
        ),
        (
            "ka06",
            Rule::on("s3:PutBucketNotificationConfiguration").hold_after_forward(),
            "everything made, answer lost",
        ),
        (
            "ka07",
            Rule::on("s3:CreateBucket").hold_then_forward(),
            "CreateBucket in flight, completed after the kill",
        ),
    ];
    let names: Vec<String> = points.iter().map(|p| p.0.to_owned()).collect();
    rig.pipelines(&names, A);
    for (name, rule, _) in &points {
        rig.proxy.add_rule(rule.clone().containing(name).nth(1));
    }
    let started = Instant::now();
    let killed = std::thread::scope(|s| {
        let run = s.spawn(|| rig.ws.run(&["apply", "-auto-approve"]));
        // ka01's bucket is made alongside its held role: wait for the
        // bucket's last call too, so "after the bucket" is where it dies.
        let all_held = rig.proxy.wait_until(WAIT, |calls, held| {
            held == points.len()
                && calls
                    .iter()
                    .any(|c| c.op == "s3:PutBucketPolicy" && c.mentions("ka01"))
        });
        let providers = pids(rig.ws.dir(), |p| p.contains("terraform-provider-eventpipe"));
        for pid in &providers {
            signal(*pid, libc::SIGKILL);
        }
        rig.proxy.release();
        let out = run.join().expect("apply thread").expect("apply runs");
        assert!(all_held, "not every pipeline reached its kill point");
        assert!(!providers.is_empty(), "no provider process found to kill");
        // ka07's CreateBucket reaches AWS only now, its provider gone.
        assert!(
            rig.proxy.wait_until(WAIT, |_, held| held == 0),
            "the held CreateBucket never completed"
        );
        out
    });
    // The provider asked for the bucket with its ownership tag in the
    // create call itself.
    let create = rig
        .proxy
        .calls()
        .into_iter()
        .find(|c| c.op == "s3:CreateBucket" && c.mentions("ka07"))
        .expect("ka07's CreateBucket");
    assert_eq!(create.outcome, Outcome::HeldThenForwarded);
    assert!(
        create.mentions("<Key>eventpipe:pipeline</Key><Value>ka07</Value>"),
        "CreateBucket must carry the ownership tag: {create}"
    );
    // Every bucket made got its creation tags, ka07's too.
    assert_eq!(rig.proxy.creation_tags_applied(), points.len());
    let aws = rig.moto.aws().expect("aws");
    assert_eq!(
        aws.bucket_tags("ka07-bkt")
            .expect("tags")
            .get("eventpipe:pipeline")
            .map(String::as_str),
        Some("ka07"),
        "the bucket carries the tags it was created with"
    );
    assert!(
        !killed.success(),
        "apply must fail when its provider dies\n{killed}"
    );
    let state = rig.state();
    let mut rows = Vec::new();
    for (name, _, point) in &points {
        let parts = rig.parts(name);
        assert!(
            !parts.is_empty(),
            "{name}: expected parts left by the killed run"
        );
        rows.push(format!(
            "| {name} | {point} | left {parts:?}, in state: {} |",
            state.contains_key(*name)
        ));
    }
    rig.proxy.clear_rules();
    rig.proxy.clear_calls();
    let out = rig.apply();
    // ka07's bucket is adopted, not refused and not made again.
    assert!(!out.contains("already exists and is not managed"), "{out}");
    assert_eq!(
        rig.proxy
            .calls()
            .iter()
            .filter(|c| c.op == "s3:CreateBucket" && c.mentions("ka07"))
            .count(),
        0,
        "the next apply adopts ka07's bucket"
    );
    // No duplicates: one of each part, one permission statement, one
    // notification per pipeline.
    for name in &names {
        assert_eq!(rig.parts(name), ["bucket", "role", "function"], "{name}");
        let doc = function_policy(&aws, name);
        assert_eq!(
            doc["Statement"].as_array().map(Vec::len),
            Some(1),
            "{name}: exactly one invoke permission: {doc}"
        );
        let n = lambda_notifications(&aws, &format!("{name}-bkt"));
        assert_eq!(n.len(), 1, "{name}");
    }
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    eprintln!(
        "\nSIGKILL during create ({:.0} s)\n| pipeline | killed | after the kill |\n|---|---|---|\n{}",
        started.elapsed().as_secs_f64(),
        rows.join("\n")
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
fn ctrl_c_during_an_apply_of_ten_records_what_exists_and_the_next_apply_converges() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let names = names("cx", 10);
    rig.pipelines(&names, A);
    // Slow each permission down so the interrupt lands mid-create.
    rig.proxy
        .add_rule(Rule::on("lambda:AddPermission").delay(Duration::from_millis(1500)));
    let started = Instant::now();
    let out = std::thread::scope(|s| {
        let run = s.spawn(|| rig.ws.run(&["apply", "-auto-approve", "-parallelism=4"]));
        let reached = rig.proxy.wait_until(WAIT, |calls, _| {
            calls
                .iter()
                .filter(|c| c.op == "lambda:AddPermission")
                .count()
                >= 4
        });
        let cli = rig.ws.terraform().path.to_string_lossy().into_owned();
        let terraform = pids(rig.ws.dir(), |p| p == cli);
        for pid in &terraform {
            signal(*pid, libc::SIGINT);
        }
        let out = run.join().expect("apply thread").expect("apply runs");
        assert!(reached, "the apply never reached the permissions\n{out}");
        assert_eq!(terraform.len(), 1, "one terraform process to interrupt");
        out
    });
    let interrupted = started.elapsed();
    // Terraform exits on its own (not killed), reporting the interrupt.
    assert!(out.code.is_some_and(|c| c != 0), "{out}");
    let text = out.combined();
    assert!(text.contains("Interrupt received"), "{out}");
    for bad in ["panic", "Plugin did not respond", "crash"] {
        assert!(!text.contains(bad), "{bad:?} in\n{out}");
    }
    // Everything that exists is in the state (tainted if unfinished).
    let state = rig.state();
    let mut recorded = 0;
    for name in &names {
        let parts = rig.parts(name);
        if !parts.is_empty() {
            assert!(
                state.contains_key(name),
                "{name} left {parts:?} but the state does not know it\n{out}"
            );
            recorded += 1;
        }
    }
    assert!(
        recorded >= 4,
        "the four pipelines past their function must be recorded"
    );
    let tainted = state.values().filter(|t| **t).count();
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    eprintln!(
        "\nCtrl-C after {:.1} s: {} pipelines in state ({tainted} tainted), {recorded} with parts \
         in AWS; converged and destroyed after {:.1} s",
        interrupted.as_secs_f64(),
        state.len(),
        started.elapsed().as_secs_f64()
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

// ---------------------------------------------------------------------------
// The same tables for pipelines on a bucket they do not manage
// (`create_bucket = false`): the plan reads the bucket, the apply adds and
// verifies only the pipeline's notification configurations, and switching
// `create_bucket` takes the bucket over and lets it go.

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
        let cal = ExistingCalibration {
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

fn table(names: &[String], sites: &[Site]) -> Vec<(String, Site)> {
    names.iter().cloned().zip(sites.iter().cloned()).collect()
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

// ---- failure handling, logs and concurrency ---------------------------------

/// The versions of a pipeline that loses nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    /// A managed failure queue, 14 days of logs, 5 reserved.
    First,
    /// The retention and the concurrency changed. (Not the retries: moto
    /// keeps the first invoke configuration put and answers with it ever
    /// after, so a changed one never reads back; failure_and_logs.rs checks
    /// what is sent.)
    Second,
    /// `on_failure` and the reservation taken away.
    Bare,
}

/// A pipeline with `s` and what `v` adds.
fn nothing_lost_pipeline(name: &str, s: Shape, v: Version) -> String {
    let (retention, concurrency) = match v {
        Version::First => (14, Some(5)),
        Version::Second => (7, Some(3)),
        Version::Bare => (7, None),
    };
    let on_failure = if v == Version::Bare {
        ""
    } else {
        "  on_failure {\n    maximum_retry_attempts = 1\n    maximum_event_age      = 3600\n  }\n"
    };
    let concurrency =
        concurrency.map_or_else(String::new, |c| format!("    reserved_concurrency = {c}\n"));
    Pipeline::seed(name, &format!("{name}-bkt"))
        .require_tls(s.require_tls)
        .tags(&format!(
            "{{ team = \"{}\", {} = \"x\" }}",
            s.team, s.extra_tag
        ))
        .extra(&format!(
            "{on_failure}  logs {{\n    retention_in_days = {retention}\n  }}\n"
        ))
        .timeout(30)
        .memory(s.memory)
        .filter_prefix(s.prefix)
        .hcl()
        // A destroy checks the queue is empty first.
        .replace("force_destroy = true", "force_destroy = false")
        .replace(
            &format!("    memory_size = {}\n", s.memory),
            &format!("    memory_size = {}\n{concurrency}", s.memory),
        )
}

fn nothing_lost_pipelines(rig: &Rig, names: &[String], shape: Shape, v: Version) {
    let body: String = names
        .iter()
        .map(|n| nothing_lost_pipeline(n, shape, v))
        .collect();
    rig.configure(&body);
}

/// Which parts of pipeline `name` exist, the log group and the queue too.
fn every_part(rig: &Rig, name: &str) -> Vec<String> {
    let inv = rig.moto.aws().expect("aws").list_everything().expect("inv");
    let mut out = rig.parts(name);
    if inv
        .log_groups
        .iter()
        .any(|g| *g == format!("/aws/lambda/{name}"))
    {
        out.push("log group".to_owned());
    }
    if inv.queues.iter().any(|q| *q == format!("{name}-failed")) {
        out.push("queue".to_owned());
    }
    out
}

/// The calibration of [`calibration`], for a pipeline that loses nothing,
/// and the calls of an update that takes `on_failure` and the reservation
/// away.
fn nothing_lost_calibration() -> (Calibration, Vec<Site>) {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let name = "nlcal01".to_owned();
    let one = std::slice::from_ref(&name);
    nothing_lost_pipelines(&rig, one, A, Version::First);
    let looks = create_looks(&rig, &name);
    rig.apply();
    let create = sites(&rig.proxy.calls(), &name, &looks);

    nothing_lost_pipelines(&rig, one, B, Version::Second);
    rig.ws.write("app/app.py", APP_PY_V2).expect("app.py");
    rig.proxy.clear_calls();
    rig.ws.plan(&[]).expect("plan");
    let refresh_calls = rig.proxy.calls();
    let refresh = sites(&refresh_calls, &name, &BTreeMap::new());
    let reads = op_counts(&refresh_calls, &name);

    rig.proxy.clear_calls();
    rig.apply();
    let update = sites(&rig.proxy.calls(), &name, &reads);
    rig.assert_plan_empty();

    rig.proxy.clear_calls();
    rig.ws.destroy_auto().expect("destroy");
    let delete = sites(&rig.proxy.calls(), &name, &reads);
    assert_emulator_empty(&rig.moto);

    // Taking failure handling and the reservation away again.
    nothing_lost_pipelines(&rig, one, B, Version::Second);
    rig.apply();
    nothing_lost_pipelines(&rig, one, B, Version::Bare);
    rig.proxy.clear_calls();
    rig.ws.plan(&[]).expect("plan");
    let reads = op_counts(&rig.proxy.calls(), &name);
    rig.proxy.clear_calls();
    rig.apply();
    let removal = sites(&rig.proxy.calls(), &name, &reads);
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    (
        Calibration {
            create,
            refresh,
            update,
            delete,
        },
        removal,
    )
}

/// Whether `op` belongs to failure handling, logs or concurrency: CloudWatch
/// Logs, SQS, and Lambda's invoke configuration and concurrency. (The
/// standard pipeline has a log group too, so its calls are also in the
/// standard calibration; they are new since 0.1.0 and failed here again.)
fn is_new_op(op: &str) -> bool {
    op.starts_with("logs:")
        || op.starts_with("sqs:")
        || op.contains("EventInvokeConfig")
        || op.contains("FunctionConcurrency")
}

/// The sites of `with` that `without` does not have, and every site of a
/// call [`is_new_op`].
fn new_sites(with: &[Site], without: &[Site]) -> Vec<Site> {
    with.iter()
        .filter(|s| !without.contains(s) || is_new_op(&s.op))
        .cloned()
        .collect()
}

#[test]
fn a_failure_at_any_new_call_of_failure_handling_logs_or_concurrency_converges() {
    let standard = calibration();
    let (with, removal) = nothing_lost_calibration();
    let create = new_sites(&with.create, &standard.create);
    let refresh = new_sites(&with.refresh, &standard.refresh);
    let update = new_sites(&with.update, &standard.update);
    let delete = new_sites(&with.delete, &standard.delete);
    let removal = new_sites(&removal, &standard.update);
    eprintln!(
        "new call sites: create {create:#?}\nrefresh {refresh:#?}\nupdate {update:#?}\n\
         delete {delete:#?}\nremoval {removal:#?}"
    );
    assert_covers(
        "removal",
        &removal,
        &[
            "lambda:DeleteFunctionEventInvokeConfig",
            "lambda:DeleteFunctionConcurrency",
            "sqs:DeleteQueue",
        ],
    );
    assert_covers(
        "create",
        &create,
        &[
            "sqs:GetQueueUrl",
            "sqs:CreateQueue",
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:PutFunctionConcurrency",
        ],
    );
    assert_covers(
        "refresh",
        &refresh,
        &[
            "logs:DescribeLogGroups",
            "lambda:GetFunctionEventInvokeConfig",
            "sqs:GetQueueAttributes",
        ],
    );
    assert_covers(
        "update",
        &update,
        &["logs:PutRetentionPolicy", "lambda:PutFunctionConcurrency"],
    );
    assert_covers(
        "delete",
        &delete,
        &[
            "sqs:GetQueueAttributes",
            "sqs:DeleteQueue",
            "logs:DeleteLogGroup",
        ],
    );
    let tf = newest_cli();
    let started = Instant::now();

    // Create: each failed create is rolled back or recorded tainted.
    let rig = Rig::new(&tf, Some(0));
    let names_c = names("nlc", create.len());
    let table: Vec<(String, Site)> = names_c.iter().cloned().zip(create.clone()).collect();
    nothing_lost_pipelines(&rig, &names_c, A, Version::First);
    arm(&rig.proxy, &table);
    let out = rig.apply_failing();
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    let mut rows = Vec::new();
    for (name, site) in &table {
        let parts = every_part(&rig, name);
        let outcome = match state.get(name) {
            Some(true) => format!("tainted in state; left {parts:?}"),
            Some(false) => panic!("{name}: a failed create must not be recorded as healthy"),
            None if parts.is_empty() => "rolled back, nothing left".to_owned(),
            None => panic!("{name}: failed at {site}, not in state, but left {parts:?}"),
        };
        rows.push((name.clone(), site.clone(), outcome));
    }
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    drop(rig);

    // Update, then refresh: the prior state is kept, then apply converges.
    let rig = Rig::new(&tf, Some(0));
    let names_u = names("nlu", update.len().max(refresh.len()));
    nothing_lost_pipelines(&rig, &names_u, A, Version::First);
    rig.apply();
    let table: Vec<(String, Site)> = names_u.iter().cloned().zip(update.clone()).collect();
    nothing_lost_pipelines(&rig, &names_u, B, Version::Second);
    rig.ws.write("app/app.py", APP_PY_V2).expect("app.py");
    arm(&rig.proxy, &table);
    let out = rig.apply_failing();
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    for (name, site) in &table {
        assert_eq!(state.get(name), Some(&false), "{name}: kept, untainted");
        rows.push((name.clone(), site.clone(), "prior state kept".to_owned()));
    }
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    let table: Vec<(String, Site)> = names_u.iter().cloned().zip(refresh.clone()).collect();
    nothing_lost_pipelines(&rig, &names_u, A, Version::First);
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
    drop(rig);

    // Removal: an update taking on_failure and the reservation away.
    let rig = Rig::new(&tf, Some(0));
    let names_r = names("nlr", removal.len());
    nothing_lost_pipelines(&rig, &names_r, B, Version::Second);
    rig.apply();
    let table: Vec<(String, Site)> = names_r.iter().cloned().zip(removal.clone()).collect();
    nothing_lost_pipelines(&rig, &names_r, B, Version::Bare);
    arm(&rig.proxy, &table);
    let out = rig.apply_failing();
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    for (name, site) in &table {
        assert_eq!(state.get(name), Some(&false), "{name}: kept, untainted");
        rows.push((
            name.clone(),
            site.clone(),
            format!("removal stopped; left {:?}", every_part(&rig, name)),
        ));
    }
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    drop(rig);

    // Delete: the state is kept; apply rebuilds, destroy finishes.
    let rig = Rig::new(&tf, Some(0));
    let names_d = names("nld", delete.len());
    nothing_lost_pipelines(&rig, &names_d, B, Version::Second);
    rig.apply();
    let table: Vec<(String, Site)> = names_d.iter().cloned().zip(delete.clone()).collect();
    arm(&rig.proxy, &table);
    let out = rig
        .ws
        .run(&["destroy", "-auto-approve"])
        .expect("destroy runs")
        .failed()
        .expect("destroy must fail");
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    for (name, site) in &table {
        assert!(state.contains_key(name), "{name}: kept in state");
        rows.push((
            name.clone(),
            site.clone(),
            format!("kept in state; left {:?}", every_part(&rig, name)),
        ));
    }
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    print_table(
        &format!(
            "failure handling, logs, concurrency: {} new call sites (create {}, refresh {}, \
             update {}, removal {}, delete {}), {:.0} s",
            create.len() + refresh.len() + update.len() + removal.len() + delete.len(),
            create.len(),
            refresh.len(),
            update.len(),
            removal.len(),
            delete.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

/// Streams and queue delivery: every call to Kinesis, to the event queue
/// and to the event source mappings that a stream pipeline and a
/// queue-delivery pipeline make (create, refresh, update, a switch to
/// direct delivery and back, delete) fails once; the next apply converges
/// and nothing is left behind.
mod streams_and_queues {
    use super::*;

    /// What a call is about: the pipeline's name (its stream, queue,
    /// function, bucket), or one of its mappings, which Lambda addresses by
    /// UUID alone.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum About {
        Name,
        StreamMapping,
        QueueMapping,
    }

    /// One call: the `nth` call of `op` about the same thing.
    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Site {
        op: String,
        nth: u32,
        about: About,
    }

    impl std::fmt::Display for Site {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}", self.op)?;
            if self.nth > 1 {
                write!(f, " (call {})", self.nth)?;
            }
            if self.about != About::Name {
                write!(f, " by {:?} UUID", self.about)?;
            }
            Ok(())
        }
    }

    /// The calls this test fails: the ones the standard calibration
    /// cannot see.
    fn targeted(op: &str) -> bool {
        op.starts_with("kinesis:") || op.starts_with("sqs:") || op.contains("EventSourceMapping")
    }

    /// Calls whose failure the provider may shrug off: reading the queue
    /// while waiting for it to drain before its mapping goes (the wait is
    /// best effort; the mapping is deleted either way), in the phases that
    /// delete that mapping.
    fn tolerated(phase: &str, op: &str) -> bool {
        matches!(phase, "switch to direct" | "delete")
            && matches!(op, "sqs:GetQueueAttributes" | "sqs:ListQueueTags")
    }

    /// The mapping UUIDs pipeline `name` has in the state.
    fn uuids(ws: &Workspace, name: &str) -> Vec<(About, String)> {
        let attrs = common::resource(ws, name)["values"].clone();
        [
            (About::StreamMapping, "stream_mapping_id"),
            (About::QueueMapping, "queue_mapping_id"),
        ]
        .into_iter()
        .filter_map(|(about, key)| {
            let id = attrs[key].as_str().filter(|s| !s.is_empty())?;
            Some((about, id.to_owned()))
        })
        .collect()
    }

    fn about(c: &Call, name: &str, ids: &[(About, String)]) -> Option<About> {
        if c.mentions(name) {
            return Some(About::Name);
        }
        ids.iter().find(|(_, id)| c.mentions(id)).map(|(a, _)| *a)
    }

    fn counts(
        calls: &[Call],
        name: &str,
        ids: &[(About, String)],
    ) -> BTreeMap<(String, About), u32> {
        let mut m = BTreeMap::new();
        for c in calls {
            if let Some(a) = about(c, name, ids) {
                *m.entry((c.op.clone(), a)).or_insert(0) += 1;
            }
        }
        m
    }

    /// The targeted calls about `name`, numbered per operation and subject,
    /// those numbered at most `skip` (the refresh before) left out.
    fn sites(
        calls: &[Call],
        name: &str,
        ids: &[(About, String)],
        skip: &BTreeMap<(String, About), u32>,
    ) -> Vec<Site> {
        let mut seen: BTreeMap<(String, About), u32> = BTreeMap::new();
        let mut out = Vec::new();
        for c in calls {
            let Some(a) = about(c, name, ids) else {
                continue;
            };
            let key = (c.op.clone(), a);
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            if targeted(&c.op) && *n > skip.get(&key).copied().unwrap_or(0) {
                out.push(Site {
                    op: c.op.clone(),
                    nth: *n,
                    about: a,
                });
            }
        }
        out
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Stream,
        Queue,
    }

    /// The shapes a pipeline goes through: created as `A`, updated to `B`,
    /// then (queue pipelines) switched to direct delivery and back.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Shape {
        A,
        B,
        Direct,
    }

    fn hcl(kind: Kind, name: &str, shape: Shape) -> String {
        let tags = match shape {
            Shape::A => "{ team = \"a\", gone = \"x\" }",
            Shape::B | Shape::Direct => "{ team = \"b\", new = \"x\" }",
        };
        let lines = match (kind, shape) {
            (Kind::Stream, Shape::A) => "  stream {\n    batch_size = 100\n  }\n".to_owned(),
            (Kind::Stream, _) => "  stream {\n    retention_period        = 48\n    \
                 shard_count             = 2\n    batch_size              = 200\n    \
                 maximum_batching_window = 1\n  }\n"
                .to_owned(),
            (Kind::Queue, Shape::A) => "  delivery = \"queue\"\n  queue {\n    \
                 maximum_concurrency = 5\n  }\n"
                .to_owned(),
            (Kind::Queue, Shape::B) => "  delivery = \"queue\"\n  queue {\n    \
                 visibility_timeout      = 120\n    batch_size              = 20\n    \
                 maximum_batching_window = 2\n    maximum_concurrency     = 10\n  }\n"
                .to_owned(),
            (Kind::Queue, Shape::Direct) => String::new(),
        };
        Pipeline::seed(name, &format!("{name}-bkt"))
            .tags(tags)
            .timeout(30)
            .extra(&lines)
            .hcl()
    }

    /// The phases, in the order both the calibration and the fault rounds
    /// go through them: the shape each kind is configured to.
    const PHASES: [(&str, Shape, Shape); 6] = [
        ("create", Shape::A, Shape::A),
        ("update", Shape::B, Shape::B),
        ("refresh", Shape::B, Shape::B),
        ("switch to direct", Shape::B, Shape::Direct),
        ("switch to queue", Shape::B, Shape::B),
        ("delete", Shape::B, Shape::B),
    ];

    struct Fleet {
        streams: Vec<String>,
        queues: Vec<String>,
    }

    impl Fleet {
        fn configure(&self, rig: &Rig, stream: Shape, queue: Shape) {
            let mut body = String::new();
            for n in &self.streams {
                body.push_str(&hcl(Kind::Stream, n, stream));
            }
            for n in &self.queues {
                body.push_str(&hcl(Kind::Queue, n, queue));
            }
            rig.configure(&body);
        }
    }

    /// Every targeted call of one stream pipeline and one queue pipeline,
    /// by phase.
    fn calibrate(tf: &TerraformCli) -> Vec<(Vec<Site>, Vec<Site>)> {
        let rig = Rig::new(tf, Some(0));
        let fleet = Fleet {
            streams: vec!["kcal01".into()],
            queues: vec!["qcal01".into()],
        };
        let mut out = Vec::new();
        for (phase, s, q) in PHASES {
            fleet.configure(&rig, s, q);
            let ids: Vec<_> = fleet
                .streams
                .iter()
                .chain(&fleet.queues)
                .map(|n| uuids(&rig.ws, n))
                .collect();
            let mut reads = vec![BTreeMap::new(), BTreeMap::new()];
            if phase != "create" {
                rig.proxy.clear_calls();
                rig.ws.plan(&[]).expect("plan");
                let calls = rig.proxy.calls();
                reads = vec![
                    counts(&calls, "kcal01", &ids[0]),
                    counts(&calls, "qcal01", &ids[1]),
                ];
                if phase == "refresh" {
                    out.push((
                        sites(&calls, "kcal01", &ids[0], &BTreeMap::new()),
                        sites(&calls, "qcal01", &ids[1], &BTreeMap::new()),
                    ));
                    continue;
                }
            }
            rig.proxy.clear_calls();
            if phase == "delete" {
                rig.ws.destroy_auto().expect("destroy");
            } else {
                rig.apply();
            }
            let calls = rig.proxy.calls();
            if phase != "delete" {
                rig.assert_plan_empty();
            }
            out.push((
                sites(&calls, "kcal01", &ids[0], &reads[0]),
                sites(&calls, "qcal01", &ids[1], &reads[1]),
            ));
        }
        assert_emulator_empty(&rig.moto);
        out
    }

    /// Arms one AccessDenied per (pipeline, site); returns what each rule
    /// looks for in its call (the name, or the mapping's UUID).
    fn arm(rig: &Rig, table: &[(String, Site)]) -> Vec<String> {
        let mut needles = Vec::new();
        for (name, site) in table {
            let needle = match site.about {
                About::Name => name.clone(),
                about => uuids(&rig.ws, name)
                    .into_iter()
                    .find(|(a, _)| *a == about)
                    .map(|(_, id)| id)
                    .unwrap_or_else(|| panic!("{name} has no {about:?} in the state")),
            };
            rig.proxy.add_rule(
                Rule::on(&site.op)
                    .containing(&needle)
                    .nth(site.nth)
                    .fail(Fault::AccessDenied),
            );
            needles.push(needle);
        }
        needles
    }

    /// What the source parts of `name` are in the emulator.
    fn sources_left(rig: &Rig, name: &str) -> Vec<String> {
        let inv = rig.moto.aws().expect("aws").sources().expect("sources");
        let mut out = Vec::new();
        if inv.streams.iter().any(|s| s == name) {
            out.push("stream".to_owned());
        }
        if inv.queues.iter().any(|q| *q == format!("{name}-events")) {
            out.push("event queue".to_owned());
        }
        if inv
            .mappings
            .iter()
            .any(|m| m.ends_with(&format!(":function:{name}")))
        {
            out.push("mapping".to_owned());
        }
        out
    }

    #[test]
    fn every_stream_queue_and_mapping_call_fails_once_then_apply_converges_with_no_orphans() {
        let tf = newest_cli();
        let started = Instant::now();
        let cal = calibrate(&tf);
        let calibrated = started.elapsed();
        for ((phase, ..), (k, q)) in PHASES.iter().zip(&cal) {
            eprintln!(
                "calibration, {phase}: stream {:?}\n  queue {:?}",
                k.iter().map(ToString::to_string).collect::<Vec<_>>(),
                q.iter().map(ToString::to_string).collect::<Vec<_>>()
            );
        }
        let all: Vec<&str> = cal
            .iter()
            .flat_map(|(k, q)| k.iter().chain(q))
            .map(|s| s.op.as_str())
            .collect();
        for must in [
            "kinesis:CreateStream",
            "kinesis:StartStreamEncryption",
            "kinesis:IncreaseStreamRetentionPeriod",
            "kinesis:UpdateStreamMode",
            "kinesis:UpdateShardCount",
            "kinesis:AddTagsToStream",
            "kinesis:RemoveTagsFromStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:DeleteStream",
            "sqs:CreateQueue",
            "sqs:SetQueueAttributes",
            "sqs:TagQueue",
            "sqs:UntagQueue",
            "sqs:DeleteQueue",
            "lambda:CreateEventSourceMapping",
            "lambda:ListEventSourceMappings",
            "lambda:UpdateEventSourceMapping",
            "lambda:DeleteEventSourceMapping",
            // The wait until a deleted mapping is gone.
            "lambda:GetEventSourceMapping",
        ] {
            assert!(all.contains(&must), "the calibration did not see {must}");
        }

        let rig = Rig::new(&tf, Some(0));
        let most = |f: fn(&(Vec<Site>, Vec<Site>)) -> usize| cal.iter().map(f).max().unwrap_or(0);
        let fleet = Fleet {
            streams: names("ks", most(|c| c.0.len())),
            queues: names("qs", most(|c| c.1.len())),
        };
        let mut rows = Vec::new();
        let mut failed_sites = 0;
        let mut tolerated_sites = 0;
        for ((phase, s, q), (k_sites, q_sites)) in PHASES.iter().zip(&cal) {
            let table: Vec<(String, Site)> = fleet
                .streams
                .iter()
                .cloned()
                .zip(k_sites.iter().cloned())
                .chain(fleet.queues.iter().cloned().zip(q_sites.iter().cloned()))
                .collect();
            fleet.configure(&rig, *s, *q);
            let needles = arm(&rig, &table);
            let out = if *phase == "delete" {
                rig.ws
                    .run(&["destroy", "-auto-approve"])
                    .expect("destroy runs")
            } else {
                rig.ws.run(&["apply", "-auto-approve"]).expect("apply runs")
            };
            let errors = errors_by_resource(&out);
            let state = rig.state();
            let calls = rig.proxy.calls();
            for ((name, site), needle) in table.iter().zip(&needles) {
                let fired = calls.iter().any(|c| {
                    c.op == site.op
                        && c.mentions(needle)
                        && matches!(c.outcome, Outcome::Failed(403, _))
                });
                assert!(fired, "{name}: the fault at {site} never fired\n{out}");
                let mine = errors.get(name).cloned().unwrap_or_default().join("\n");
                let named = mine.contains(&site.op) && mine.contains(&denied_words(&site.op));
                let outcome = if named {
                    failed_sites += 1;
                    match (*phase, state.get(name)) {
                        ("create", Some(true)) => format!(
                            "tainted in state; left {:?} {:?}",
                            rig.parts(name),
                            sources_left(&rig, name)
                        ),
                        ("create", Some(false)) => {
                            panic!("{name}: a failed create must not be recorded as healthy")
                        }
                        ("create", None) => {
                            let left = (rig.parts(name), sources_left(&rig, name));
                            assert!(
                                left.0.is_empty() && left.1.is_empty(),
                                "{name}: failed at {site}, not in state, but left {left:?}"
                            );
                            "rolled back, nothing left".to_owned()
                        }
                        (_, Some(false)) => "prior state kept".to_owned(),
                        (_, other) => panic!("{name}: after a failed {phase}: {other:?}"),
                    }
                } else if tolerated(phase, &site.op) && mine.is_empty() {
                    tolerated_sites += 1;
                    "tolerated (best effort), no error".to_owned()
                } else {
                    panic!(
                        "{name}: the error should name {site} with AWS's words; got {mine:?}\n{out}"
                    );
                };
                rows.push((format!("{phase}: {name}"), site.clone(), outcome));
            }
            rig.proxy.clear_rules();
            if *phase == "delete" {
                // Whatever the destroy removed, apply rebuilds; then destroy finishes.
                rig.apply();
                rig.assert_plan_empty();
                rig.destroy_and_assert_empty();
            } else {
                rig.apply();
                rig.assert_plan_empty();
            }
        }
        let total = rows.len();
        eprintln!(
            "\nstreams and queues: {total} call sites ({failed_sites} failed the run, \
             {tolerated_sites} tolerated), calibration {:.0} s, all {:.0} s",
            calibrated.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        eprintln!(
            "| phase: pipeline | call site (403 AccessDenied) | after the failed run | orphans |"
        );
        eprintln!("|---|---|---|---|");
        for (who, site, outcome) in &rows {
            eprintln!("| {who} | {site} | {outcome} | 0 |");
        }
    }
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
