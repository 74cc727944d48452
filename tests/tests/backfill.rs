//! Backfill end to end: with `backfill = true`, creating a pipeline or
//! adding a trigger sends each object already in the bucket that the new
//! trigger matches to the function, once, as the event S3 sends for a new
//! object. A direct `Invoke` leaves no trace in moto, so invocations are
//! counted (and their payloads read) through the recording proxy.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::fault_table::{self, Site, pids, signal};
use common::rig::Rig;
use common::*;
use serde_json::Value as Json;
use tests::fault_proxy::{Call, Outcome, Rule};
use tests::{Aws, TerraformCli};

/// The rig with `max_retries = 0`; backfill reports its progress in the
/// provider's log.
fn rig(tf: &TerraformCli) -> Rig {
    let mut rig = Rig::new(tf, Some(0));
    rig.ws.env("TF_LOG_PROVIDER", "INFO");
    rig
}

impl Rig {
    /// The `Invoke` calls the proxy saw for `function`.
    fn invokes(&self, function: &str) -> Vec<Call> {
        invokes_of(&self.proxy.calls(), function)
    }

    fn backfilled(&self, name: &str) -> i64 {
        state_attrs(&self.ws, name)["backfilled_objects"]
            .as_i64()
            .unwrap_or_else(|| panic!("no backfilled_objects for {name}"))
    }
}

fn invokes_of(calls: &[Call], function: &str) -> Vec<Call> {
    let path = format!("/functions/{function}/invocations");
    calls
        .iter()
        .filter(|c| c.op == "lambda:Invoke" && c.target.contains(&path))
        .cloned()
        .collect()
}

/// One trigger block.
fn trigger(prefix: &str, suffix: &str) -> String {
    format!(
        "\n  trigger {{\n    events        = [\"s3:ObjectCreated:*\"]\n    filter_prefix = \
         \"{prefix}\"\n    filter_suffix = \"{suffix}\"\n  }}\n"
    )
}

/// Puts `keys` into `bucket`, each with a body of its own length.
fn put_all(aws: &Aws, bucket: &str, keys: &[&str]) {
    for (i, key) in keys.iter().enumerate() {
        let body = format!("{{\"n\":{i},\"key\":\"{key}\"}}");
        aws.put_object(bucket, key, body).expect("put object");
    }
}

/// A key as S3 writes it into an event: form-encoded, `/` kept.
fn event_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Size and ETag (unquoted) of each object under `prefix`, by key.
fn listing(aws: &Aws, bucket: &str) -> Vec<(String, i64, String)> {
    let out = aws
        .block_on(aws.s3().list_objects_v2().bucket(bucket).send())
        .expect("list objects");
    out.contents()
        .iter()
        .map(|o| {
            (
                o.key().unwrap_or_default().to_owned(),
                o.size().unwrap_or_default(),
                o.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
            )
        })
        .collect()
}

/// Reads every payload as the S3 event of one object and returns the keys
/// (as encoded in the events), checking the record's shape against the
/// bucket's listing.
fn event_keys(calls: &[Call], aws: &Aws, bucket: &str, configuration: &str) -> Vec<String> {
    let listed = listing(aws, bucket);
    let mut keys = Vec::new();
    for c in calls {
        let event: Json = serde_json::from_slice(c.body())
            .unwrap_or_else(|e| panic!("payload is not JSON ({e}): {:?}", c.body()));
        let records = event["Records"].as_array().expect("Records");
        assert_eq!(records.len(), 1, "{event}");
        let r = &records[0];
        assert_eq!(r["eventSource"], "aws:s3", "{r}");
        assert_eq!(r["eventName"], "ObjectCreated:Put", "{r}");
        assert_eq!(r["eventVersion"], "2.1", "{r}");
        assert_eq!(r["awsRegion"], "us-east-1", "{r}");
        assert!(
            r["eventTime"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{r}"
        );
        let s3 = &r["s3"];
        assert_eq!(s3["s3SchemaVersion"], "1.0", "{r}");
        assert_eq!(s3["configurationId"], configuration, "{r}");
        assert_eq!(s3["bucket"]["name"], bucket, "{r}");
        assert_eq!(s3["bucket"]["arn"], format!("arn:aws:s3:::{bucket}"), "{r}");
        let key = s3["object"]["key"].as_str().expect("key").to_owned();
        let (_, size, etag) = listed
            .iter()
            .find(|(k, _, _)| event_key(k) == key)
            .unwrap_or_else(|| panic!("{key} is no object of {bucket}: {listed:?}"));
        assert_eq!(s3["object"]["size"], *size, "{r}");
        assert_eq!(s3["object"]["eTag"], etag.as_str(), "{r}");
        assert!(s3["object"]["sequencer"].is_string(), "{r}");
        keys.push(key);
    }
    keys.sort();
    keys
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = keys.iter().map(|k| event_key(k)).collect();
    v.sort();
    v
}

#[test]
fn backfill_sends_each_matching_object_once_on_create_and_for_an_added_trigger() {
    let tf = newest_cli();
    let rig = rig(&tf);
    let started = Instant::now();
    // The bucket and its data exist before the pipeline.
    rig.aws.create_bucket("bf-data").expect("bucket");
    let matching = ["data/a.json", "data/b.json", "data/2026/c d.json"];
    put_all(&rig.aws, "bf-data", &matching);
    put_all(&rig.aws, "bf-data", &["data/notes.txt", "other/x.json"]);
    let first = trigger("data/", ".json");
    rig.configure(
        &Pipeline::seed("bf", "bf-data")
            .force_destroy(false)
            .extra("  create_bucket = false\n  backfill      = true\n")
            .trigger_blocks(&first)
            .hcl(),
    );
    // Progress goes to the provider's log.
    let out = rig.ws.run_ok(&["apply", "-auto-approve"]).expect("apply");
    let log = out.stderr.as_str();
    assert!(
        log.contains("backfill progress") && log.contains("pipeline=bf") && log.contains("sent=3"),
        "{out}"
    );
    assert!(
        log.contains("after=data/b.json"),
        "the last key sent, as written: {out}"
    );
    let calls = rig.invokes("bf");
    assert_eq!(calls.len(), 3, "3 of 5 objects match\n{out}");
    assert!(calls.iter().all(|c| c.outcome == Outcome::Forwarded));
    let keys = event_keys(&calls, &rig.aws, "bf-data", "eventpipe-bf-0");
    assert_eq!(keys, sorted(&matching), "each matching object once");
    assert!(keys.contains(&"data/2026/c+d.json".to_owned()));
    assert_eq!(rig.backfilled("bf"), 3);
    assert_plan_empty(&rig.ws, "the plan after a backfill is empty");

    // A second trigger: only the objects under it are sent.
    let added = ["more/1.csv", "more/2.csv"];
    put_all(&rig.aws, "bf-data", &added);
    put_all(&rig.aws, "bf-data", &["more/3.txt"]);
    rig.proxy.clear_calls();
    let both = format!("{first}{}", trigger("more/", ".csv"));
    rig.configure(
        &Pipeline::seed("bf", "bf-data")
            .force_destroy(false)
            .extra("  create_bucket = false\n  backfill      = true\n")
            .trigger_blocks(&both)
            .hcl(),
    );
    let plan = rig.ws.plan(&[]).expect("plan");
    assert!(
        flat(&plan).contains("backfilled_objects = 3 -> (known after apply)"),
        "{plan}"
    );
    rig.ws.apply_auto().expect("apply");
    let calls = rig.invokes("bf");
    let keys = event_keys(&calls, &rig.aws, "bf-data", "eventpipe-bf-1");
    assert_eq!(keys, sorted(&added), "only the new trigger's objects");
    assert_eq!(rig.backfilled("bf"), 5);
    assert_plan_empty(&rig.ws, "the plan after the second backfill is empty");

    // A change that adds no trigger sends nothing.
    rig.proxy.clear_calls();
    rig.configure(
        &Pipeline::seed("bf", "bf-data")
            .force_destroy(false)
            .extra("  create_bucket = false\n  backfill      = true\n")
            .trigger_blocks(&both)
            .hcl()
            .replace("512", "256"),
    );
    rig.ws.apply_auto().expect("apply");
    assert!(rig.invokes("bf").is_empty());
    assert_eq!(rig.backfilled("bf"), 5);
    assert_plan_empty(&rig.ws, "after a settings change");
    eprintln!(
        "backfill on create and for an added trigger: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn turning_backfill_on_with_a_new_trigger_sends_only_that_trigger_s_objects() {
    let tf = newest_cli();
    let rig = rig(&tf);
    // A pipeline that makes its bucket, without backfill.
    let first = trigger("data/", ".json");
    rig.configure(
        &Pipeline::seed("bo", "bo-bucket")
            .extra("  create_bucket = true\n  backfill      = false\n")
            .trigger_blocks(&first)
            .hcl(),
    );
    rig.ws.apply_auto().expect("apply");
    put_all(
        &rig.aws,
        "bo-bucket",
        &[
            "data/a.json",
            "data/b.json",
            "in/1.csv",
            "in/2.csv",
            "in/3.txt",
        ],
    );
    rig.proxy.clear_calls();
    let both = format!("{first}{}", trigger("in/", ".csv"));
    rig.configure(
        &Pipeline::seed("bo", "bo-bucket")
            .extra("  create_bucket = true\n  backfill      = true\n")
            .trigger_blocks(&both)
            .hcl(),
    );
    rig.ws.apply_auto().expect("apply");
    let calls = rig.invokes("bo");
    let keys = event_keys(&calls, &rig.aws, "bo-bucket", "eventpipe-bo-1");
    assert_eq!(keys, sorted(&["in/1.csv", "in/2.csv"]));
    assert_eq!(rig.backfilled("bo"), 2);
    assert_plan_empty(&rig.ws, "the plan after the backfill is empty");
    rig.ws.destroy_auto().expect("destroy");
    assert_emulator_empty(&rig.moto);
}

#[test]
fn an_interrupted_backfill_records_what_it_sent_and_the_next_apply_sends_the_rest() {
    const OBJECTS: usize = 40;
    let tf = newest_cli();
    let rig = rig(&tf);
    rig.aws.create_bucket("bi-data").expect("bucket");
    let keys: Vec<String> = (0..OBJECTS).map(|i| format!("data/{i:03}.json")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    put_all(&rig.aws, "bi-data", &refs);
    put_all(&rig.aws, "bi-data", &["data/skip.txt"]);
    rig.configure(
        &Pipeline::seed("bi", "bi-data")
            .force_destroy(false)
            .extra("  create_bucket = false\n  backfill      = true\n")
            .trigger_blocks(&trigger("data/", ".json"))
            .hcl(),
    );
    // Each invocation takes a while, so the interrupt lands mid-backfill.
    rig.proxy
        .add_rule(Rule::on("lambda:Invoke").delay(Duration::from_millis(400)));
    let started = Instant::now();
    let out = std::thread::scope(|s| {
        let run = s.spawn(|| rig.ws.run(&["apply", "-auto-approve"]));
        let reached = rig.proxy.wait_until(Duration::from_secs(120), |calls, _| {
            invokes_of(calls, "bi").len() >= 8
        });
        let cli = rig.ws.terraform().path.to_string_lossy().into_owned();
        let terraform = pids(rig.ws.dir(), |p| p == cli);
        for pid in &terraform {
            signal(*pid, libc::SIGINT);
        }
        let out = run.join().expect("apply thread").expect("apply runs");
        assert!(reached, "the apply never reached the backfill\n{out}");
        assert_eq!(terraform.len(), 1, "one terraform process to interrupt");
        out
    });
    let interrupted = started.elapsed();
    let text = flat(&out);
    assert!(text.contains("Interrupt received"), "{out}");
    for bad in ["panic", "Plugin did not respond", "crash"] {
        assert!(!text.contains(bad), "{bad:?} in\n{out}");
    }
    assert!(text.contains("Backfill not finished"), "{out}");
    let first = rig.invokes("bi").len();
    let recorded = rig.backfilled("bi");
    assert!(
        (8..OBJECTS).contains(&first),
        "the interrupt stops the backfill part way: {first} sent\n{out}"
    );
    assert_eq!(
        usize::try_from(recorded).ok(),
        Some(first),
        "the state records what was sent"
    );
    assert!(
        !tainted_by_name(&rig.ws)["bi"],
        "a stopped backfill leaves the pipeline healthy"
    );

    // The next plan shows there is more to send; the next apply sends the rest.
    let plan = rig.ws.plan_detailed_exitcode().expect("plan");
    assert!(plan.has_changes, "{}", plan.output);
    assert!(
        flat(&plan.output).contains("(known after apply)"),
        "{}",
        plan.output
    );
    rig.proxy.clear_rules();
    rig.proxy.clear_calls();
    rig.ws.apply_auto().expect("apply");
    let second = rig.invokes("bi");
    assert!(
        second.len() < OBJECTS,
        "the second apply does not start over: {} sent",
        second.len()
    );
    assert!(
        first + second.len() >= OBJECTS,
        "every object at least once"
    );
    let resent: BTreeSet<String> = event_keys(&second, &rig.aws, "bi-data", "eventpipe-bi-0")
        .into_iter()
        .collect();
    assert!(
        resent.contains(keys.last().unwrap()),
        "the rest includes the last key"
    );
    assert_eq!(rig.backfilled("bi"), OBJECTS as i64);
    assert_plan_empty(&rig.ws, "the plan after the backfill finished is empty");
    eprintln!(
        "\nCtrl-C after {:.1} s: {first} of {OBJECTS} sent and recorded; the next apply sent {} \
         ({:.1} s in all)",
        interrupted.as_secs_f64(),
        second.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The operations backfill adds; every other call site of a pipeline is in
/// the fault tables of faults_*.rs.
const BACKFILL_OPS: [&str; 2] = ["s3:ListObjectsV2", "lambda:Invoke"];

/// Bucket `<name>-data` with five objects, three under `data/` ending in
/// `.json`; returns those three.
fn bucket_with_data(aws: &Aws, name: &str) -> Vec<&'static str> {
    let bucket = format!("{name}-data");
    aws.create_bucket(&bucket).expect("bucket");
    let matching = vec!["data/a.json", "data/b.json", "data/c.json"];
    put_all(aws, &bucket, &matching);
    put_all(aws, &bucket, &["data/d.txt", "other/e.json"]);
    matching
}

fn backfilling(names: &[String]) -> String {
    names
        .iter()
        .map(|n| {
            Pipeline::seed(n, &format!("{n}-data"))
                .force_destroy(false)
                .extra("  create_bucket = false\n  backfill      = true\n")
                .trigger_blocks(&trigger("data/", ".json"))
                .hcl()
        })
        .collect()
}

#[test]
fn a_failure_at_any_backfill_call_is_a_warning_and_the_next_apply_sends_the_rest() {
    let tf = newest_cli();
    let rig = rig(&tf);
    let started = Instant::now();
    // Calibration: the backfill calls one pipeline makes.
    let cal = vec!["bc00".to_owned()];
    bucket_with_data(&rig.aws, &cal[0]);
    rig.configure(&backfilling(&cal));
    rig.ws.apply_auto().expect("calibration apply");
    let sites: Vec<Site> = fault_table::sites(&rig.proxy.calls(), &cal[0], &Default::default())
        .into_iter()
        .filter(|s| BACKFILL_OPS.contains(&s.op.as_str()))
        .collect();
    eprintln!("backfill call sites: {sites:?}");
    let count = |op: &str| sites.iter().filter(|s| s.op == op).count();
    assert_eq!(count("lambda:Invoke"), 3, "{sites:?}");
    assert!(count("s3:ListObjectsV2") >= 1, "{sites:?}");
    rig.ws
        .destroy_auto()
        .expect("destroy the calibration pipeline");

    // One pipeline per call site, each failing there once.
    let names: Vec<String> = (1..=sites.len()).map(|i| format!("bf{i:02}")).collect();
    let mut matching = Vec::new();
    for n in &names {
        matching.push(bucket_with_data(&rig.aws, n));
    }
    let table: Vec<(String, Site)> = names.iter().cloned().zip(sites.clone()).collect();
    rig.configure(&backfilling(&names));
    rig.proxy.clear_calls();
    fault_table::arm(&rig.proxy, &table);
    let out = rig
        .ws
        .run_ok(&["apply", "-auto-approve", "-json"])
        .expect("a failed backfill does not fail the apply");
    let warnings = fault_table::json_diagnostics(&out, "warning");
    fault_table::assert_each_reported(&out, &warnings, &table, &rig.proxy);
    let mut rows = Vec::new();
    for (name, site) in &table {
        let mine = warnings[name].join("\n");
        assert!(mine.contains("Backfill not finished"), "{name}: {mine}");
        let sent = rig.backfilled(name);
        assert!((0..=3).contains(&sent), "{name}: {sent} recorded");
        rows.push((
            name.clone(),
            site.clone(),
            format!("warning; {sent} of 3 recorded, the rest pending"),
        ));
    }
    let first = rig.proxy.calls();
    let plan = rig.ws.plan_detailed_exitcode().expect("plan");
    assert!(
        plan.has_changes,
        "the rest is still to send\n{}",
        plan.output
    );

    rig.proxy.clear_rules();
    rig.proxy.clear_calls();
    rig.ws.apply_auto().expect("apply");
    let second = rig.proxy.calls();
    for (i, name) in names.iter().enumerate() {
        assert_eq!(rig.backfilled(name), 3, "{name}");
        // Every matching object reached the function at least once.
        let delivered: Vec<Call> = invokes_of(&first, name)
            .into_iter()
            .chain(invokes_of(&second, name))
            .filter(|c| c.outcome == Outcome::Forwarded)
            .collect();
        let keys: BTreeSet<String> = event_keys(
            &delivered,
            &rig.aws,
            &format!("{name}-data"),
            &format!("eventpipe-{name}-0"),
        )
        .into_iter()
        .collect();
        let want: BTreeSet<String> = matching[i].iter().map(|k| (*k).to_owned()).collect();
        assert_eq!(keys, want, "{name}");
    }
    assert_plan_empty(&rig.ws, "the plan after the backfills converged is empty");
    rig.ws.destroy_auto().expect("destroy");
    // Nothing is left but the buckets the pipelines used, as they were.
    let inv = rig.aws.list_everything().expect("inventory");
    assert!(inv.roles.is_empty() && inv.functions.is_empty(), "{inv}");
    for n in cal.iter().chain(&names) {
        let bucket = format!("{n}-data");
        assert!(inv.buckets.contains(&bucket), "{inv}");
        assert_eq!(rig.aws.object_keys(&bucket).expect("objects").len(), 5);
    }
    fault_table::print_table(
        &format!(
            "backfill: {} call sites, {:.0} s",
            table.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}
