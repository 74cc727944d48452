//! The fault tables for the parts added since 0.1.0, end to end: failure
//! handling, logs and concurrency (the calls a pipeline that loses nothing
//! makes beyond the standard pipeline's), and streams and queue delivery
//! (every call to Kinesis, to the event queue and to the event source
//! mappings). A failure at any of those calls rolls back, taints or keeps
//! the state; the next `apply` converges with 0 orphans.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::calibration::{A, APP_PY_V2, B, Calibration, Phase, Shape, calibration, record};
use common::fault_table::{
    Site, arm, assert_covers, assert_each_failed, denied_words, errors_by_resource, names,
    op_counts, print_table, sites,
};
use common::rig::Rig;
use common::{APP_PY, Pipeline, assert_emulator_empty, newest_cli};
use tests::fault_proxy::{Call, Outcome};
use tests::{TerraformCli, Workspace};

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
    let cal = record(&rig, &name, |phase| match phase {
        Phase::Create => nothing_lost_pipelines(&rig, one, A, Version::First),
        Phase::Update => nothing_lost_pipelines(&rig, one, B, Version::Second),
    });

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
    (cal, removal)
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

    /// How many calls of each operation are about each subject of `name`.
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

    /// The targeted calls about `name`, in the order they were made,
    /// numbered per operation and subject (unlike `fault_table::sites`,
    /// which numbers the calls mentioning one name per operation), those
    /// numbered at most `skip` (the refresh before) left out.
    fn targeted_sites(
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
                        targeted_sites(&calls, "kcal01", &ids[0], &BTreeMap::new()),
                        targeted_sites(&calls, "qcal01", &ids[1], &BTreeMap::new()),
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
                targeted_sites(&calls, "kcal01", &ids[0], &reads[0]),
                targeted_sites(&calls, "qcal01", &ids[1], &reads[1]),
            ));
        }
        assert_emulator_empty(&rig.moto);
        out
    }

    /// Arms one AccessDenied per (pipeline, site), aimed at what the site is
    /// about; returns what each rule looks for in its call (the name, or
    /// the mapping's UUID).
    fn arm_about(rig: &Rig, table: &[(String, Site)]) -> Vec<String> {
        let aimed: Vec<(String, common::fault_table::Site)> = table
            .iter()
            .map(|(name, site)| {
                let needle = match site.about {
                    About::Name => name.clone(),
                    about => uuids(&rig.ws, name)
                        .into_iter()
                        .find(|(a, _)| *a == about)
                        .map(|(_, id)| id)
                        .unwrap_or_else(|| panic!("{name} has no {about:?} in the state")),
                };
                let site = common::fault_table::Site {
                    op: site.op.clone(),
                    nth: site.nth,
                };
                (needle, site)
            })
            .collect();
        common::fault_table::arm(&rig.proxy, &aimed);
        aimed.into_iter().map(|(needle, _)| needle).collect()
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
            let needles = arm_about(&rig, &table);
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
        // The first column is "phase: pipeline".
        print_table(
            &format!(
                "streams and queues: {total} call sites ({failed_sites} failed the run, \
                 {tolerated_sites} tolerated), calibration {:.0} s, all {:.0} s",
                calibrated.as_secs_f64(),
                started.elapsed().as_secs_f64()
            ),
            &rows,
        );
    }
}
