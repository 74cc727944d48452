//! One bucket shared by many pipelines, with no lost writes: separate
//! Terraform workspaces (separate provider processes, so nothing but S3 is
//! shared between them) apply and destroy pipelines on one pre-existing
//! bucket at the same moment. S3 keeps a bucket's notifications as one
//! document with no conditional write, so each provider writes, reads back
//! and writes again until its configurations are there; at the end every
//! pipeline's configuration is present, and another team's are untouched.
//!
//! `EVENTPIPE_SHARED_BUCKET_ROUNDS` (default 1) runs the whole scenario
//! that many times in a row, on one emulator reset between rounds. The
//! providers reach the emulator through the fault proxy with no rules, only
//! to count the notification writes: more than one per pipeline and
//! operation means a provider found its write lost and wrote again.
//! `EVENTPIPE_SHARED_BUCKET_WRITE_DELAY_MS` makes the proxy hold each
//! notification write that long first, as a slow or loaded S3 would: a
//! provider must then wait longer before trusting its read-back, or another
//! writer's late write drops its configuration unseen.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use tests::fault_proxy::{Departure, FaultProxy, Rule};
use tests::{Aws, Moto, Output, TerraformCli, Workspace};

const ROUNDS_ENV: &str = "EVENTPIPE_SHARED_BUCKET_ROUNDS";
const DELAY_ENV: &str = "EVENTPIPE_SHARED_BUCKET_WRITE_DELAY_MS";
const BUCKET: &str = "shared-bucket";
/// Terraform processes applying at once, and pipelines in each.
const WORKSPACES: usize = 4;
const PER_WORKSPACE: usize = 2;

fn number(var: &str) -> Option<u64> {
    std::env::var(var).ok().filter(|v| !v.is_empty()).map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a number"))
    })
}

fn rounds() -> u64 {
    number(ROUNDS_ENV).unwrap_or(1)
}

fn write_delay() -> Option<Duration> {
    number(DELAY_ENV)
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

/// The pipelines of workspace `w`: `s<w>a`, `s<w>b`, …
fn names(w: usize) -> Vec<String> {
    (0..PER_WORKSPACE)
        .map(|i| format!("s{w}{}", char::from(b'a' + i as u8)))
        .collect()
}

/// Each pipeline on new objects under its own prefix: disjoint triggers.
fn prefix(name: &str) -> String {
    format!("in/{name}/")
}

fn config(w: usize) -> String {
    names(w)
        .iter()
        .map(|n| {
            Pipeline::on_existing_bucket(n, BUCKET)
                .triggers(&[trigger_hcl(&["s3:ObjectCreated:*"], Some(&prefix(n)), None)])
                .hcl()
        })
        .collect()
}

/// The configurations the pipelines of `workspaces` put on the bucket.
fn expected(workspaces: impl IntoIterator<Item = usize>) -> BTreeMap<String, Ours> {
    workspaces
        .into_iter()
        .flat_map(names)
        .map(|n| {
            (
                format!("eventpipe-{n}-0"),
                Ours::created(&n, &prefix(&n), None),
            )
        })
        .collect()
}

/// Runs `terraform <args>` in each of `which` at the same moment; every
/// run must succeed. Returns how long the slowest took.
fn all_at_once(spaces: &[Workspace], which: &[usize], args: &[&str]) -> Duration {
    let started = Instant::now();
    let outs: Vec<(usize, Output)> = std::thread::scope(|s| {
        let runs: Vec<_> = which
            .iter()
            .map(|&w| (w, s.spawn(move || spaces[w].run(args))))
            .collect();
        runs.into_iter()
            .map(|(w, h)| (w, h.join().expect("thread").expect("terraform runs")))
            .collect()
    });
    for (w, out) in &outs {
        assert!(out.success(), "workspace {w}: {}\n{out}", args.join(" "));
    }
    started.elapsed()
}

/// Asserts the pipelines' configurations on the bucket are exactly those
/// of `live`, and nothing else on it changed.
fn assert_bucket(aws: &Aws, before: &Foreign, live: &[usize], when: &str) {
    let seen = ours(aws, BUCKET);
    let want = expected(live.iter().copied());
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{when}: the pipelines' configurations on the bucket"
    );
    assert_eq!(seen, want, "{when}");
    assert_eq!(
        &foreign(aws, BUCKET),
        before,
        "{when}: the bucket and other teams' configurations are untouched"
    );
}

/// Times of one round, and how many notification writes it took.
struct Round {
    apply: Duration,
    destroy_half: Duration,
    destroy_rest: Duration,
    writes: usize,
}

const WRITE: &str = "s3:PutBucketNotificationConfiguration";

/// One round. `validating`: the proxy checks every destination of each
/// notification write as S3 does, so the other team's configurations name
/// a real function and a queue that lets S3 send to it, and the second half
/// is destroyed one workspace (two pipelines) at a time.
fn round(tf: &TerraformCli, moto: &Moto, proxy: &FaultProxy, n: u64, validating: bool) -> Round {
    moto.reset().expect("reset");
    proxy.clear_calls();
    proxy.validate_destinations(validating);
    let aws = moto.aws().expect("aws");
    pre_existing_bucket(&aws, BUCKET);
    if validating {
        allow_s3_to_audit_queue(&aws, BUCKET);
        make_team_b_function(&aws, BUCKET);
    }
    let before = foreign(&aws, BUCKET);
    let provider = ProviderBlock::new(&proxy.endpoint()).hcl();
    let spaces: Vec<Workspace> = (0..WORKSPACES)
        .map(|w| {
            let mut ws = workspace_with(tf, &format!("{provider}{}", config(w)));
            ws.timeout(Duration::from_secs(600));
            ws
        })
        .collect();
    let every: Vec<usize> = (0..WORKSPACES).collect();
    all_at_once(&spaces, &every, &["init"]);

    let apply = all_at_once(&spaces, &every, &["apply", "-auto-approve"]);
    assert_bucket(
        &aws,
        &before,
        &every,
        &format!("round {n}, after the applies"),
    );
    for ws in &spaces {
        assert_plan_empty(ws, "a pipeline on the shared bucket replans empty");
    }

    let (half, rest) = every.split_at(WORKSPACES / 2);
    let destroy_half = all_at_once(&spaces, half, &["destroy", "-auto-approve"]);
    assert_bucket(
        &aws,
        &before,
        rest,
        &format!("round {n}, after destroying workspaces {half:?}"),
    );
    for &w in rest {
        assert_plan_empty(&spaces[w], "the other half replans empty");
    }

    let destroy_rest = if validating {
        let started = Instant::now();
        for (i, &w) in rest.iter().enumerate() {
            all_at_once(&spaces, &[w], &["destroy", "-auto-approve"]);
            assert_bucket(
                &aws,
                &before,
                &rest[i + 1..],
                &format!("round {n}, after destroying workspace {w} alone"),
            );
        }
        started.elapsed()
    } else {
        all_at_once(&spaces, rest, &["destroy", "-auto-approve"])
    };
    assert_bucket(
        &aws,
        &before,
        &[],
        &format!("round {n}, after destroying all"),
    );
    let left = aws.list_everything().expect("inventory");
    assert_eq!(left.buckets, [BUCKET], "{left}");
    let (roles, functions): (&[&str], &[&str]) = if validating {
        (&["team-b-role"], &["team-b-thumbnailer"])
    } else {
        (&[], &[])
    };
    assert_eq!(
        left.roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        roles,
        "{left}"
    );
    assert_eq!(left.functions, functions, "{left}");
    Round {
        apply,
        destroy_half,
        destroy_rest,
        writes: proxy.count(WRITE),
    }
}

#[test]
fn four_terraform_processes_share_one_bucket_and_lose_no_configuration() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
    if let Some(delay) = write_delay() {
        proxy.add_rule(Rule::on(WRITE).delay(delay));
    }
    let rounds = rounds();
    let started = Instant::now();
    let mut rows = Vec::new();
    // One write per pipeline to add its configuration, one to remove it.
    let least = 2 * WORKSPACES * PER_WORKSPACE;
    for n in 1..=rounds {
        let t = Instant::now();
        let r = round(&tf, &moto, &proxy, n, false);
        assert!(r.writes >= least, "{} writes", r.writes);
        rows.push(format!(
            "| {n} | {:.1} | {:.1} | {:.1} | {:.1} | {} ({} again) |",
            r.apply.as_secs_f64(),
            r.destroy_half.as_secs_f64(),
            r.destroy_rest.as_secs_f64(),
            t.elapsed().as_secs_f64(),
            r.writes,
            r.writes - least
        ));
    }
    eprintln!(
        "\n{WORKSPACES} workspaces × {PER_WORKSPACE} pipelines on one bucket, {rounds} round(s) \
         in {:.0} s, notification writes delayed by {:?}\n| round | apply all (s) | destroy half (s) | destroy rest (s) | round (s) \
         | notification writes |\n|---|---|---|---|---|---|\n{}",
        started.elapsed().as_secs_f64(),
        write_delay().unwrap_or_default(),
        rows.join("\n")
    );
}

/// The same four workspaces against an S3 that validates every destination
/// of a notification document on each write, as AWS does: a destroy takes
/// its configurations off and reads them back before its functions go, so
/// two destroys at once, and then one workspace's two pipelines, each
/// remove exactly their own configurations and succeed, and no write of
/// anyone's is refused for naming a function that is gone.
#[test]
fn against_an_s3_that_validates_destinations_concurrent_destroys_remove_only_their_own() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
    let started = Instant::now();
    let r = round(&tf, &moto, &proxy, 1, true);
    let refused: Vec<Departure> = proxy
        .departures()
        .into_iter()
        .filter(|d| matches!(d, Departure::DestinationsRefused(..)))
        .collect();
    eprintln!(
        "validating S3: apply all {:.1} s, destroy half at once {:.1} s, the rest one by one \
         {:.1} s, {} notification writes, {} refused, {:.0} s in all",
        r.apply.as_secs_f64(),
        r.destroy_half.as_secs_f64(),
        r.destroy_rest.as_secs_f64(),
        r.writes,
        refused.len(),
        started.elapsed().as_secs_f64()
    );
    // A refusal can only come from a write that read the document before
    // another destroy's removal landed and wrote after that destroy's
    // function went (the settle pause makes that rare); the writer then
    // reads again. What is left on the bucket was checked by the round.
    assert!(
        r.destroy_half < Duration::from_secs(90),
        "no destroy waited out S3's refusals: {:?}",
        r.destroy_half
    );
}
