//! Bring your own bucket: pipelines with `create_bucket = false` on a
//! bucket someone else made, which holds objects and other teams'
//! notifications. The pipelines add only their own notification
//! configurations, refuse at plan time a trigger that would overlap any
//! configuration on the bucket, and leave the bucket as they found it.
//! Everything is checked with the tests' own AWS client.

mod common;

use std::collections::BTreeMap;

use common::*;
use tests::{Moto, TerraformCli, Workspace};

/// The other team's bucket.
const BUCKET: &str = "shared-data";

/// `ingest` on `data/*.json`, `reports` on `reports/`, both on `bucket`.
fn two_pipelines(bucket: &str, reports_extra: &[String]) -> String {
    let ingest = Pipeline::on_existing_bucket("ingest", bucket).hcl();
    let mut triggers = vec![trigger_hcl(&["s3:ObjectCreated:*"], Some("reports/"), None)];
    triggers.extend(reports_extra.iter().cloned());
    let reports = Pipeline::on_existing_bucket("reports", bucket)
        .triggers(&triggers)
        .hcl();
    format!("{ingest}{reports}")
}

/// A plan that must fail; its output with boxes and wrapping removed.
fn failing_plan(ws: &Workspace) -> String {
    let out = ws
        .run(&["plan"])
        .expect("plan runs")
        .failed()
        .expect("the plan must fail");
    flat(&out)
}

fn acceptance(tf: &TerraformCli) {
    let moto = Moto::start().expect("moto");
    let aws = moto.aws().expect("aws");
    pre_existing_bucket(&aws, BUCKET);
    let before = foreign(&aws, BUCKET);
    assert!(before.tags.is_empty() && !before.public_access_block && before.policy.is_none());
    assert_eq!(before.queues.len(), 1);
    assert_eq!(before.functions.len(), 1);

    // Two pipelines apply on the bucket.
    let ws = workspace(tf, &moto, &two_pipelines(BUCKET, &[]));
    ws.init().expect("init");
    let out = ws.apply_auto().expect("apply");
    assert!(out.contains("Resources: 2 added"), "{out}");
    assert_eq!(
        foreign(&aws, BUCKET),
        before,
        "the bucket gains no public access block, policy or tags, and every object and \
         foreign configuration stays"
    );
    let both = BTreeMap::from([
        (
            "eventpipe-ingest-0".to_owned(),
            Ours::created("ingest", "data/", Some(".json")),
        ),
        (
            "eventpipe-reports-0".to_owned(),
            Ours::created("reports", "reports/", None),
        ),
    ]);
    assert_eq!(ours(&aws, BUCKET), both);
    assert_eq!(
        state_attrs(&ws, "ingest")["notification_ids"],
        serde_json::json!(["eventpipe-ingest-0"])
    );
    assert_eq!(aws.bucket_names().expect("buckets"), [BUCKET]);
    assert_plan_empty(&ws, "two pipelines on an existing bucket replan empty");

    // (a) A trigger overlapping a sibling pipeline's is refused at plan,
    // naming the sibling's configuration.
    let overlap = trigger_hcl(&["s3:ObjectCreated:Put"], Some("data/2026/"), None);
    rewrite_main(
        &ws,
        &moto,
        &two_pipelines(BUCKET, std::slice::from_ref(&overlap)),
    );
    let text = failing_plan(&ws);
    assert!(
        text.contains("Trigger overlaps a configuration on the bucket")
            && text.contains("configuration \"eventpipe-ingest-0\"")
            && text.contains("trigger[1] fires for s3:ObjectCreated:Put"),
        "{text}"
    );
    // The same for two new pipelines planned in one run.
    let twins: String = ["twin-a", "twin-b"]
        .map(|n| {
            Pipeline::on_existing_bucket(n, BUCKET)
                .triggers(&[trigger_hcl(&["s3:ObjectCreated:*"], Some("tmp/"), None)])
                .hcl()
        })
        .concat();
    rewrite_main(
        &ws,
        &moto,
        &format!("{}{twins}", two_pipelines(BUCKET, &[])),
    );
    let text = failing_plan(&ws);
    assert!(
        text.contains("Trigger overlaps a configuration on the bucket")
            && text.contains("planned in this run")
            && (text.contains("configuration \"eventpipe-twin-a-0\"")
                || text.contains("configuration \"eventpipe-twin-b-0\"")),
        "{text}"
    );

    // (b) A trigger overlapping another team's configuration is refused,
    // naming its id, events and filters: the queue told of every removal…
    let removals = trigger_hcl(&["s3:ObjectRemoved:Delete"], Some("reports/"), None);
    rewrite_main(&ws, &moto, &two_pipelines(BUCKET, &[removals]));
    let text = failing_plan(&ws);
    assert!(
        text.contains(&format!(
            "configuration \"{QUEUE_ID}\" (s3:ObjectRemoved:* → queue {}, prefix \"\", \
             suffix \"\")",
            audit_queue_arn(BUCKET)
        )) && text.contains("trigger[1] fires for s3:ObjectRemoved:Delete"),
        "{text}"
    );
    // …and the other team's function on images/.
    let images = trigger_hcl(&["s3:ObjectCreated:*"], Some("images/thumbs/"), None);
    rewrite_main(&ws, &moto, &two_pipelines(BUCKET, &[images]));
    let text = failing_plan(&ws);
    assert!(
        text.contains(&format!(
            "configuration \"{FUNCTION_ID}\" (s3:ObjectCreated:* → function \
             {TEAM_B_FUNCTION}, prefix \"images/\", suffix \"\")"
        )),
        "{text}"
    );
    // Refused plans changed nothing.
    assert_eq!(foreign(&aws, BUCKET), before);
    assert_eq!(ours(&aws, BUCKET), both);

    // Removing one pipeline removes only its configuration.
    rewrite_main(
        &ws,
        &moto,
        &Pipeline::on_existing_bucket("ingest", BUCKET).hcl(),
    );
    let out = ws.apply_auto().expect("apply");
    assert!(
        out.contains("Resources: 0 added, 0 changed, 1 destroyed"),
        "{out}"
    );
    let only_ingest: BTreeMap<_, _> = both
        .iter()
        .filter(|(id, _)| id.contains("ingest"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(ours(&aws, BUCKET), only_ingest);
    assert_eq!(foreign(&aws, BUCKET), before);
    assert_eq!(aws.function_names().expect("functions"), ["ingest"]);
    assert_plan_empty(&ws, "the remaining pipeline replans empty");

    // Destroy leaves the bucket with every object and the foreign
    // configurations, and nothing of the pipelines.
    ws.destroy_auto().expect("destroy");
    assert!(ours(&aws, BUCKET).is_empty());
    assert_eq!(foreign(&aws, BUCKET), before);
    let left = aws.list_everything().expect("inventory");
    assert_eq!(left.buckets, [BUCKET]);
    assert!(left.roles.is_empty() && left.functions.is_empty(), "{left}");
}

#[test]
fn pipelines_on_an_existing_bucket_add_only_their_configurations_and_leave_the_bucket() {
    for tf in clis() {
        let started = std::time::Instant::now();
        acceptance(&tf);
        eprintln!(
            "existing bucket, Terraform {}: {:.1} s",
            tf.label,
            started.elapsed().as_secs_f64()
        );
    }
}

#[test]
fn force_destroy_on_a_bucket_the_pipeline_does_not_manage_is_refused_at_plan() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let aws = moto.aws().expect("aws");
    pre_existing_bucket(&aws, BUCKET);
    let body = Pipeline::on_existing_bucket("fd", BUCKET)
        .force_destroy(true)
        .hcl();
    let ws = workspace(&tf, &moto, &body);
    ws.init().expect("init");
    let text = failing_plan(&ws);
    assert!(
        text.contains("force_destroy with a bucket the pipeline does not manage")
            && text.contains("force_destroy = true")
            && text.contains("the bucket is not managed by the pipeline"),
        "{text}"
    );
    assert_eq!(aws.list_everything().expect("inventory").functions.len(), 0);
}

#[test]
fn an_existing_bucket_that_is_missing_is_refused_at_plan_naming_bucket_name() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let ws = workspace(
        &tf,
        &moto,
        &Pipeline::on_existing_bucket("nb", "no-such-bucket").hcl(),
    );
    ws.init().expect("init");
    let text = failing_plan(&ws);
    assert!(
        text.contains("Bucket does not exist")
            && text.contains("bucket_name = \"no-such-bucket\"")
            && text.contains("there is no bucket \"no-such-bucket\""),
        "{text}"
    );
    assert_emulator_empty(&moto);
}

/// The actions of the saved plan for the one pipeline `name`.
fn actions(ws: &Workspace, name: &str) -> Vec<String> {
    planned_actions(ws)
        .remove(&format!("eventpipe_event_pipeline.{name}"))
        .unwrap_or_default()
}

#[test]
fn create_bucket_true_to_false_lets_go_of_the_bucket_in_place_and_destroy_leaves_it() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let aws = moto.aws().expect("aws");
    let own = |create: bool| {
        let p = Pipeline::seed("own", "own-bkt")
            .force_destroy(false)
            .tags("{ team = \"a\" }");
        if create {
            p.hcl()
        } else {
            p.extra("  create_bucket = false\n").hcl()
        }
    };
    let ws = applied(&tf, &moto, &own(true));
    let tags = aws.bucket_tags("own-bkt").expect("tags");
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some("own")
    );
    aws.put_object("own-bkt", "other/kept.txt", "kept")
        .expect("object");

    rewrite_main(&ws, &moto, &own(false));
    let plan = ws.plan(&[]).expect("plan");
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy.")
            && plan.contains("create_bucket")
            && !plan.contains("must be replaced"),
        "{plan}"
    );
    assert_eq!(actions(&ws, "own"), ["update"]);
    let said = flat(&plan);
    assert!(
        said.contains("Letting go of the bucket")
            && said.contains("removes the pipeline's tags (eventpipe:pipeline, team)"),
        "the plan says what letting go does: {said}"
    );
    ws.apply_auto().expect("apply");
    assert!(
        aws.bucket_tags("own-bkt").expect("tags").is_empty(),
        "the pipeline's tags (ownership and its own) leave the bucket"
    );
    assert_plan_empty(&ws, "after letting go");
    assert_eq!(ours(&aws, "own-bkt").len(), 1);

    ws.destroy_auto().expect("destroy");
    // The bucket stays, with its object and the settings it had.
    assert_eq!(aws.bucket_names().expect("buckets"), ["own-bkt"]);
    assert_eq!(
        aws.object_keys("own-bkt").expect("objects"),
        ["other/kept.txt"]
    );
    assert!(ours(&aws, "own-bkt").is_empty());
    let left = aws.list_everything().expect("inventory");
    assert!(left.roles.is_empty() && left.functions.is_empty(), "{left}");
}

#[test]
fn create_bucket_false_to_true_takes_the_bucket_over_in_place() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let aws = moto.aws().expect("aws");
    pre_existing_bucket(&aws, BUCKET);
    let before = foreign(&aws, BUCKET);
    let adopter = |create: bool| {
        let p = Pipeline::seed("adopter", BUCKET)
            .force_destroy(false)
            .tags("{ team = \"a\" }");
        if create {
            p.hcl()
        } else {
            p.extra("  create_bucket = false\n").hcl()
        }
    };
    let ws = applied(&tf, &moto, &adopter(false));
    assert_eq!(foreign(&aws, BUCKET), before);

    rewrite_main(&ws, &moto, &adopter(true));
    let plan = ws.plan(&[]).expect("plan");
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy.")
            && plan.contains("create_bucket")
            && !plan.contains("must be replaced"),
        "{plan}"
    );
    assert_eq!(actions(&ws, "adopter"), ["update"]);
    let said = flat(&plan);
    assert!(
        said.contains("Taking over the bucket")
            && said.contains("eventpipe:pipeline = \"adopter\", team = \"a\"")
            && said.contains("blocks all public access")
            && said.contains("default encryption (SSE-S3)"),
        "the plan says what taking over does: {said}"
    );
    ws.apply_auto().expect("apply");
    let after = foreign(&aws, BUCKET);
    assert_eq!(
        after.tags,
        BTreeMap::from([
            ("eventpipe:pipeline".to_owned(), "adopter".to_owned()),
            ("team".to_owned(), "a".to_owned()),
        ])
    );
    assert!(after.public_access_block, "public access is blocked");
    assert_eq!(after.encryption, ["AES256"]);
    // Nothing else changes: objects and other teams' notifications stay.
    assert_eq!(after.objects, before.objects);
    assert_eq!(
        (after.queues, after.functions),
        (before.queues, before.functions)
    );
    assert_eq!(ours(&aws, BUCKET).len(), 1);
    assert_plan_empty(&ws, "after taking the bucket over");
    // The bucket is the pipeline's now: destroy would delete it, and so
    // refuses while it holds objects (force_destroy is off).
    let out = ws
        .run(&["destroy", "-auto-approve"])
        .expect("destroy runs")
        .failed()
        .expect("destroy must refuse a non-empty bucket");
    assert!(flat(&out).contains("Bucket is not empty"), "{out}");
    assert_eq!(foreign(&aws, BUCKET).objects, before.objects);
}

#[test]
fn the_plan_warns_of_a_leading_slash_and_words_the_every_object_warning_after_the_events() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let body = Pipeline::seed("warn", "warn-bkt")
        .triggers(&[
            trigger_hcl(&["s3:ObjectCreated:*"], Some("/data/"), None),
            trigger_hcl(&["s3:ObjectRemoved:*"], None, None),
        ])
        .hcl();
    let ws = workspace(&tf, &moto, &body);
    ws.init().expect("init");
    let text = flat(&ws.plan(&[]).expect("plan"));
    assert!(
        text.contains("Warning: Prefix starts with a slash")
            && text.contains("filter_prefix \"/data/\" would never match it. Use \"data/\""),
        "{text}"
    );
    assert!(
        text.contains("Warning: Trigger matches every object")
            && text.contains("so every object removal in the bucket invokes the function")
            && !text.contains("every new object"),
        "{text}"
    );
}
