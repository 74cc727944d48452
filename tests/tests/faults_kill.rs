//! Killed processes, end to end: a provider killed (SIGKILL) at chosen
//! points of a create, and Terraform interrupted (SIGINT, a Ctrl-C) in the
//! middle of an apply of ten. What exists is recorded or adopted by the
//! next `apply`, which converges; the next plan is empty, and `destroy`
//! leaves nothing in the emulator.

mod common;

use std::time::{Duration, Instant};

use common::calibration::A;
use common::fault_table::{names, pids, signal};
use common::rig::Rig;
use common::{function_policy, lambda_notifications, newest_cli};
use tests::fault_proxy::{Outcome, Rule};

const WAIT: Duration = Duration::from_secs(120);

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
