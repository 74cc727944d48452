//! The `alarms {}` block end to end, on every Terraform CLI: the alarms
//! that fit the pipeline and the topic `<name>-alarms` with its email
//! subscriptions, read back with the tests' own client; an alarm deleted or
//! edited outside Terraform put back by the next apply; destroy leaving no
//! alarm and no topic (with a warning naming the confirmed subscriptions);
//! a stream's iterator-age alarm on a topic of the user's; import; the
//! plan's refusals; and each new call site failed once through the fault
//! proxy, then converging with nothing left over.

mod common;

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::MetricAlarm;
use common::fault_table::{Site, arm, assert_each_failed, names, table};
use common::rig::Rig;
use common::*;
use serde_json::Value as Json;
use tests::{Aws, Moto, Workspace};

const ACCOUNT: &str = "123456789012";
const EMAILS: [&str; 2] = ["oncall@example.com", "lead@example.com"];

fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:us-east-1:{ACCOUNT}:{name}")
}

fn alarm_arn(name: &str) -> String {
    format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}")
}

/// A pipeline with a failure queue, queue delivery and alarms to
/// [`EMAILS`], with the error rate on.
fn queued_with_emails(name: &str) -> String {
    Pipeline::named(name)
        .extra(
            "  delivery      = \"queue\"\n  on_failure {}\n  alarms {\n    emails             = \
             [\"oncall@example.com\", \"lead@example.com\"]\n    error_rate_percent = 5\n  }\n",
        )
        .hcl()
}

fn alarm(aws: &Aws, name: &str) -> MetricAlarm {
    aws.metric_alarm(name)
        .unwrap()
        .unwrap_or_else(|| panic!("no alarm {name}"))
}

fn dimensions(a: &MetricAlarm) -> BTreeMap<String, String> {
    a.dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_owned(),
                d.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A single-metric alarm as the pipeline makes it: the metric, statistic,
/// dimension, threshold, comparison, both actions to `topic`, missing data
/// as OK, and the pipeline's tags.
fn assert_alarm(
    aws: &Aws,
    pipeline: &str,
    kind: &str,
    (namespace, metric, statistic): (&str, &str, &str),
    dim: (&str, &str),
    threshold: f64,
    topic: &str,
) {
    let name = format!("{pipeline}-{kind}");
    let a = alarm(aws, &name);
    assert_eq!(a.namespace(), Some(namespace), "{name}");
    assert_eq!(a.metric_name(), Some(metric), "{name}");
    assert_eq!(a.statistic().map(|s| s.as_str()), Some(statistic), "{name}");
    assert_eq!(
        dimensions(&a),
        BTreeMap::from([(dim.0.to_owned(), dim.1.to_owned())]),
        "{name}"
    );
    assert_common(aws, pipeline, &a, threshold, topic);
}

fn assert_common(aws: &Aws, pipeline: &str, a: &MetricAlarm, threshold: f64, topic: &str) {
    let name = a.alarm_name().unwrap_or_default();
    assert_eq!(a.threshold(), Some(threshold), "{name}");
    assert_eq!(
        a.comparison_operator().map(|c| c.as_str()),
        Some("GreaterThanThreshold"),
        "{name}"
    );
    assert_eq!(a.alarm_actions(), [topic.to_owned()], "{name}");
    assert_eq!(a.ok_actions(), [topic.to_owned()], "{name}");
    assert_eq!(a.treat_missing_data(), Some("notBreaching"), "{name}");
    let tags = aws.alarm_tags(a.alarm_arn().unwrap()).unwrap();
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some(pipeline),
        "{name}: {tags:?}"
    );
    assert_eq!(
        tags.get("team").map(String::as_str),
        Some("alarms"),
        "{tags:?}"
    );
}

/// The error-rate alarm: `100 * errors / invocations` over the function's
/// Errors and Invocations sums, above `threshold` percent.
fn assert_error_rate(aws: &Aws, pipeline: &str, threshold: f64, topic: &str) {
    let a = alarm(aws, &format!("{pipeline}-error-rate"));
    let queries = a.metrics();
    let expr = queries
        .iter()
        .find(|q| q.expression().is_some())
        .expect("an expression");
    assert_eq!(expr.expression(), Some("100 * errors / invocations"));
    for (id, metric) in [("errors", "Errors"), ("invocations", "Invocations")] {
        let q = queries
            .iter()
            .find(|q| q.id() == Some(id))
            .unwrap_or_else(|| panic!("no {id} in {queries:?}"));
        let stat = q.metric_stat().expect("a metric");
        let m = stat.metric().expect("a metric");
        assert_eq!(m.namespace(), Some("AWS/Lambda"));
        assert_eq!(m.metric_name(), Some(metric));
        assert_eq!(stat.stat(), Some("Sum"));
        assert_eq!(stat.period(), Some(300));
        let dims: Vec<_> = m
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap(), d.value().unwrap()))
            .collect();
        assert_eq!(dims, [("FunctionName", pipeline)]);
    }
    assert_common(aws, pipeline, &a, threshold, topic);
}

/// Everything `queued_with_emails(name)` makes, read back.
fn assert_queued_alarms(ws: &Workspace, aws: &Aws, name: &str) {
    let topic = topic_arn(&format!("{name}-alarms"));
    assert!(aws.topic_arns().unwrap().contains(&topic), "the topic");
    let tags = aws.topic_tags(&topic).unwrap();
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some(name)
    );
    assert_eq!(tags.get("team").map(String::as_str), Some("alarms"));
    let mut subscribed: Vec<(String, String)> = aws
        .topic_subscriptions(&topic)
        .unwrap()
        .into_iter()
        .map(|(p, e, _)| (p, e))
        .collect();
    subscribed.sort();
    let mut want: Vec<(String, String)> = EMAILS
        .iter()
        .map(|e| ("email".to_owned(), (*e).to_owned()))
        .collect();
    want.sort();
    assert_eq!(subscribed, want);

    let failed = ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum");
    let queue_failed = ("QueueName", format!("{name}-failed"));
    assert_alarm(
        aws,
        name,
        "failed-events",
        failed,
        (queue_failed.0, &queue_failed.1),
        0.0,
        &topic,
    );
    let throttles = ("AWS/Lambda", "Throttles", "Sum");
    assert_alarm(
        aws,
        name,
        "throttles",
        throttles,
        ("FunctionName", name),
        0.0,
        &topic,
    );
    let age = ("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum");
    let events = format!("{name}-events");
    assert_alarm(
        aws,
        name,
        "queue-age",
        age,
        ("QueueName", &events),
        300.0,
        &topic,
    );
    assert_error_rate(aws, name, 5.0, &topic);
    assert!(
        aws.metric_alarm(&format!("{name}-iterator-age"))
            .unwrap()
            .is_none(),
        "no stream, no iterator-age alarm"
    );

    let state = state_attrs(ws, name);
    assert_eq!(state["alarm_topic_arn"], topic.as_str());
    let arns: BTreeMap<String, String> =
        serde_json::from_value(state["alarm_arns"].clone()).expect("a map");
    let want: BTreeMap<String, String> = ["failed-events", "error-rate", "throttles", "queue-age"]
        .iter()
        .map(|k| ((*k).to_owned(), alarm_arn(&format!("{name}-{k}"))))
        .collect();
    assert_eq!(arns, want);
    for (kind, arn) in &arns {
        let a = alarm(aws, &format!("{name}-{kind}"));
        assert_eq!(a.alarm_arn(), Some(arn.as_str()));
    }
}

fn with_team_tag(hcl: &str) -> String {
    hcl.replacen(
        "  require_tls   = false\n",
        "  require_tls   = false\n  tags          = { team = \"alarms\" }\n",
        1,
    )
}

#[test]
fn alarms_with_emails_are_made_put_back_when_deleted_or_edited_and_destroyed() {
    for tf in clis() {
        let moto = Moto::start().unwrap();
        let aws = moto.aws().unwrap();
        let name = "watched";
        let ws = applied(&tf, &moto, &with_team_tag(&queued_with_emails(name)));
        assert_queued_alarms(&ws, &aws, name);
        assert_plan_empty(&ws, "the plan after the create must be empty");

        // One alarm deleted and one edited outside Terraform: the plan
        // shows both, the apply puts them back.
        aws.block_on(
            aws.cloudwatch()
                .delete_alarms()
                .alarm_names(format!("{name}-throttles"))
                .send(),
        )
        .unwrap();
        let edited = alarm(&aws, &format!("{name}-queue-age"));
        aws.block_on(
            aws.cloudwatch()
                .put_metric_alarm()
                .alarm_name(edited.alarm_name().unwrap())
                .namespace("AWS/SQS")
                .metric_name("ApproximateAgeOfOldestMessage")
                .statistic(aws_sdk_cloudwatch::types::Statistic::Maximum)
                .period(300)
                .evaluation_periods(1)
                .threshold(9999.0)
                .comparison_operator(
                    aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
                )
                .send(),
        )
        .unwrap();
        let plan = ws.plan_detailed_exitcode().unwrap();
        assert!(plan.has_changes, "{}", plan.output);
        assert!(plan.output.contains("alarm_arns"), "{}", plan.output);
        assert!(plan.output.contains("throttles"), "{}", plan.output);
        assert!(plan.output.contains("queue-age"), "{}", plan.output);
        ws.apply_auto().unwrap();
        assert_queued_alarms(&ws, &aws, name);
        assert_plan_empty(&ws, "the plan after the repair must be empty");

        // An address unsubscribed outside Terraform is subscribed again.
        let topic = topic_arn(&format!("{name}-alarms"));
        let (_, _, sub) = aws
            .topic_subscriptions(&topic)
            .unwrap()
            .into_iter()
            .find(|(_, e, _)| e == EMAILS[1])
            .unwrap();
        aws.block_on(aws.sns().unsubscribe().subscription_arn(sub).send())
            .unwrap();
        let plan = ws.plan_detailed_exitcode().unwrap();
        assert!(plan.has_changes, "{}", plan.output);
        ws.apply_auto().unwrap();
        assert_queued_alarms(&ws, &aws, name);

        // Destroy: nothing left, and the warning names the confirmed
        // subscriptions the topic took with it (moto confirms at once).
        let out = ws.destroy_auto().unwrap();
        assert!(out.contains("confirmed subscription"), "{out}");
        for e in EMAILS {
            assert!(out.contains(e), "{e} in {out}");
        }
        assert_emulator_empty(&moto);
    }
}

#[test]
fn an_address_removed_from_emails_is_unsubscribed_and_turning_a_kind_off_deletes_its_alarm() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let name = "trim";
    let ws = applied(&tf, &moto, &with_team_tag(&queued_with_emails(name)));
    let fewer = queued_with_emails(name)
        .replace(
            "[\"oncall@example.com\", \"lead@example.com\"]",
            "[\"oncall@example.com\"]",
        )
        .replace(
            "error_rate_percent = 5",
            "error_rate_percent = 5\n    throttles = false",
        );
    ws.write(
        "main.tf",
        format!("{}{}", provider_hcl(&moto), with_team_tag(&fewer)),
    )
    .unwrap();
    ws.apply_auto().unwrap();
    let topic = topic_arn(&format!("{name}-alarms"));
    let emails: Vec<String> = aws
        .topic_subscriptions(&topic)
        .unwrap()
        .into_iter()
        .map(|(_, e, _)| e)
        .collect();
    assert_eq!(emails, [EMAILS[0]]);
    assert!(
        aws.metric_alarm(&format!("{name}-throttles"))
            .unwrap()
            .is_none()
    );
    let state = state_attrs(&ws, name);
    assert!(state["alarm_arns"].get("throttles").is_none(), "{state:#}");
    assert_plan_empty(&ws, "the plan after the change must be empty");
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn a_stream_pipeline_gets_its_iterator_age_alarm_on_a_topic_of_its_own() {
    for tf in clis() {
        let moto = Moto::start().unwrap();
        let aws = moto.aws().unwrap();
        let given = aws
            .block_on(aws.sns().create_topic().name("team-pager").send())
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_owned();
        let name = "flow";
        let body = Pipeline::named(name)
            .extra(&format!(
                "  tags          = {{ team = \"alarms\" }}\n  stream {{}}\n  alarms {{\n    \
                 topic_arn            = \"{given}\"\n    throttles            = false\n    \
                 iterator_age_seconds = 120\n  }}\n"
            ))
            .hcl();
        let ws = applied(&tf, &moto, &body);
        let age = ("AWS/Lambda", "IteratorAge", "Maximum");
        assert_alarm(
            &aws,
            name,
            "iterator-age",
            age,
            ("FunctionName", name),
            120_000.0,
            &given,
        );
        assert_eq!(aws.alarm_names().unwrap(), [format!("{name}-iterator-age")]);
        assert_eq!(
            aws.topic_arns().unwrap(),
            vec![given.clone()],
            "no topic made"
        );
        let state = state_attrs(&ws, name);
        assert_eq!(state["alarm_topic_arn"], given.as_str());
        assert_eq!(
            state["alarm_arns"],
            serde_json::json!({ "iterator-age": alarm_arn(&format!("{name}-iterator-age")) })
        );
        assert_plan_empty(&ws, "the plan after the create must be empty");
        ws.destroy_auto().unwrap();
        assert_eq!(
            aws.topic_arns().unwrap(),
            vec![given.clone()],
            "the user's topic stays"
        );
        aws.block_on(aws.sns().delete_topic().topic_arn(&given).send())
            .unwrap();
        assert_emulator_empty(&moto);
    }
}

#[test]
fn import_of_a_pipeline_with_alarms_plans_empty() {
    for tf in clis() {
        let moto = Moto::start().unwrap();
        let name = "imported";
        let ws = applied(&tf, &moto, &with_team_tag(&queued_with_emails(name)));
        let before = state_attrs(&ws, name);
        let address = format!("eventpipe_event_pipeline.{name}");
        ws.run_ok(&["state", "rm", &address]).unwrap();
        ws.run_ok(&["import", &address, name]).unwrap();
        assert_plan_empty(&ws, "the plan after the import must be empty");
        let after = state_attrs(&ws, name);
        for attr in ["alarm_arns", "alarm_topic_arn", "alarms"] {
            assert_eq!(before[attr], after[attr], "{attr}");
        }
        destroy_and_assert_empty(&ws, &moto);
    }
}

/// The errors of `terraform plan -json` of the seed pipeline with
/// `alarms` lines: (summary and detail, the configuration line each points
/// at), whitespace folded.
fn refused(ws: &Workspace, moto: &Moto, lines: &str) -> Vec<(String, String)> {
    let body = Pipeline::named("bad")
        .extra(&format!("  on_failure {{}}\n  alarms {{\n{lines}  }}\n"))
        .hcl();
    ws.write("main.tf", format!("{}{body}", provider_hcl(moto)))
        .unwrap();
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(1), "{lines}: the plan must fail\n{out}");
    assert!(!out.combined().contains("panic"), "{out}");
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(|m| m["type"] == "diagnostic" && m["diagnostic"]["severity"] == "error")
        .map(|m| {
            let d = &m["diagnostic"];
            let text = |v: &Json| folded(v.as_str().unwrap_or(""));
            (
                format!("{} {}", text(&d["summary"]), text(&d["detail"])),
                text(&d["snippet"]["code"]).trim().to_owned(),
            )
        })
        .collect()
}

#[test]
fn bad_alarm_blocks_are_refused_at_plan_on_their_attributes() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = workspace(&tf, &moto, "");
    ws.init().unwrap();
    let topic = topic_arn("pager");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("    topic_arn = \"{topic}\"\n    emails = [\"a@example.com\"]\n"),
            "Both topic_arn and emails",
            "topic_arn",
        ),
        (
            "    throttles = true\n".to_owned(),
            "No topic for the alarms",
            // The block has neither attribute to point at: Terraform
            // shows the resource.
            "resource",
        ),
        (
            "    topic_arn = \"arn:aws:sqs:us-east-1:123456789012:q\"\n".to_owned(),
            "is not an SNS topic ARN",
            "topic_arn",
        ),
        (
            "    emails = [\"not-an-address\"]\n".to_owned(),
            "is not an email address",
            "emails",
        ),
        (
            "    emails = []\n".to_owned(),
            "lists no email address",
            "emails",
        ),
        (
            format!("    topic_arn = \"{topic}\"\n    error_rate_percent = 0\n"),
            "is not a percentage",
            "error_rate_percent",
        ),
        (
            format!("    topic_arn = \"{topic}\"\n    error_rate_percent = 150\n"),
            "is not a percentage",
            "error_rate_percent",
        ),
        (
            format!("    topic_arn = \"{topic}\"\n    queue_age_seconds = 0\n"),
            "out of range",
            "queue_age_seconds",
        ),
        (
            format!("    topic_arn = \"{topic}\"\n    iterator_age_seconds = 0\n"),
            "out of range",
            "iterator_age_seconds",
        ),
        (
            "    topic_arn = \"arn:aws:sns:eu-west-1:123456789012:pager\"\n".to_owned(),
            "Alarm topic in another region",
            "topic_arn",
        ),
    ];
    let mut failures = Vec::new();
    for (lines, words, attribute) in &cases {
        let errors = refused(&ws, &moto, lines);
        let hit = errors
            .iter()
            .any(|(text, code)| text.contains(words) && code.starts_with(attribute));
        if !hit {
            failures.push(format!(
                "{lines}: want {words:?} at {attribute}: {errors:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_emulator_empty(&moto);
}

/// A pipeline of the fault tables: a failure queue, and alarms to two
/// addresses (the failed-events and throttles alarms, the error rate at
/// `percent`), tagged with `tags`.
fn faulted(name: &str, percent: u32, emails: &str, tags: &str) -> String {
    Pipeline::seed(name, &format!("{name}-bkt"))
        .tags(tags)
        .extra(&format!(
            "  on_failure {{}}\n  alarms {{\n    emails             = [{emails}]\n    \
             error_rate_percent = {percent}\n  }}\n"
        ))
        .hcl()
}

fn at(ops: &[&str]) -> Vec<Site> {
    ops.iter()
        .map(|op| Site {
            op: (*op).to_owned(),
            nth: 1,
        })
        .collect()
}

/// Each new call site of a create, a refresh, an update and a destroy
/// fails once through Terraform (a failed create rolls back: nothing of it
/// is left, and it is not in the state); the next run converges, and
/// destroy leaves no alarm and no topic.
#[test]
fn each_alarm_call_site_fails_once_then_the_pipeline_converges() {
    let rig = Rig::new(&newest_cli(), None);
    let two = "\"a@example.com\", \"b@example.com\"";
    let create = at(&[
        "monitoring:DescribeAlarms",
        "monitoring:PutMetricAlarm",
        "sns:GetTopicAttributes",
        "sns:CreateTopic",
        "sns:ListSubscriptionsByTopic",
        "sns:Subscribe",
    ]);
    let pipelines = names("alf", create.len());
    let body = |percent: u32, emails: &str, tags: &str| -> String {
        pipelines
            .iter()
            .map(|n| faulted(n, percent, emails, tags))
            .collect()
    };
    rig.configure(&body(5, two, "{ team = \"x\" }"));
    let t = table(&pipelines, &create);
    arm(&rig.proxy, &t);
    let out = rig.apply_failing();
    assert_each_failed(&out, &t, &rig.proxy);
    assert!(
        rig.state().is_empty(),
        "rolled back: {:?}\n{out}",
        rig.state()
    );
    let left = rig.aws.list_everything().expect("inventory");
    assert!(
        left.alarms.is_empty() && left.topics.is_empty(),
        "rolled back: {left}"
    );
    rig.proxy.clear_rules();
    rig.apply();
    assert_eq!(
        rig.aws.alarm_names().expect("alarms").len(),
        3 * pipelines.len()
    );
    rig.assert_plan_empty();

    // The refresh's reads.
    let refresh = at(&[
        "monitoring:DescribeAlarms",
        "monitoring:ListTagsForResource",
        "sns:ListTagsForResource",
        "sns:ListSubscriptionsByTopic",
    ]);
    let t = table(&pipelines, &refresh);
    arm(&rig.proxy, &t);
    let out = rig
        .ws
        .run(&["plan"])
        .expect("plan runs")
        .failed()
        .expect("plan must fail");
    assert_each_failed(&out, &t, &rig.proxy);
    rig.proxy.clear_rules();
    rig.assert_plan_empty();

    // An update: another tag key, one address fewer, another threshold.
    rig.configure(&body(7, "\"a@example.com\"", "{ owner = \"y\" }"));
    let update = at(&[
        "monitoring:PutMetricAlarm",
        "monitoring:TagResource",
        "monitoring:UntagResource",
        "sns:TagResource",
        "sns:UntagResource",
        "sns:Unsubscribe",
    ]);
    let t = table(&pipelines, &update);
    arm(&rig.proxy, &t);
    let out = rig.apply_failing();
    assert_each_failed(&out, &t, &rig.proxy);
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    for n in &pipelines {
        let a = alarm(&rig.aws, &format!("{n}-error-rate"));
        assert_eq!(a.threshold(), Some(7.0), "{n}");
        let tags = rig.aws.alarm_tags(a.alarm_arn().unwrap()).unwrap();
        assert_eq!(tags.get("owner").map(String::as_str), Some("y"), "{n}");
        assert!(!tags.contains_key("team"), "{n}: {tags:?}");
        let topic = topic_arn(&format!("{n}-alarms"));
        let emails: Vec<String> = rig
            .aws
            .topic_subscriptions(&topic)
            .unwrap()
            .into_iter()
            .map(|(_, e, _)| e)
            .collect();
        assert_eq!(emails, ["a@example.com"], "{n}");
        let tags = rig.aws.topic_tags(&topic).unwrap();
        assert_eq!(tags.get("owner").map(String::as_str), Some("y"), "{n}");
    }

    // The destroy.
    let t = table(
        &pipelines,
        &at(&["monitoring:DeleteAlarms", "sns:DeleteTopic"]),
    );
    arm(&rig.proxy, &t);
    let out = rig
        .ws
        .run(&["destroy", "-auto-approve"])
        .expect("destroy runs")
        .failed()
        .expect("destroy must fail");
    assert_each_failed(&out, &t, &rig.proxy);
    rig.proxy.clear_rules();
    rig.destroy_and_assert_empty();
}

/// An alarm or a topic of the pipeline's name found by a create is adopted
/// when tagged with this pipeline (left by an interrupted run), and refused,
/// naming its owner, when another pipeline's.
#[test]
fn an_alarm_or_topic_left_by_this_pipeline_is_adopted_and_another_s_refused() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let tag = |owner: &str| {
        aws_sdk_cloudwatch::types::Tag::builder()
            .key("eventpipe:pipeline")
            .value(owner)
            .build()
    };
    for (name, owner) in [("mine", "mine"), ("theirs", "someone")] {
        aws.block_on(
            aws.cloudwatch()
                .put_metric_alarm()
                .alarm_name(format!("{name}-throttles"))
                .namespace("AWS/Lambda")
                .metric_name("Throttles")
                .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
                .period(60)
                .evaluation_periods(1)
                .threshold(3.0)
                .comparison_operator(
                    aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
                )
                .tags(tag(owner))
                .send(),
        )
        .unwrap();
    }
    let ws = workspace(
        &tf,
        &moto,
        &with_team_tag(&queued_with_emails("mine")).replace("delivery      = \"queue\"\n", ""),
    );
    ws.init().unwrap();
    ws.apply_auto().unwrap();
    let a = alarm(&aws, "mine-throttles");
    assert_eq!(a.threshold(), Some(0.0), "adopted and brought to the plan");
    assert_plan_empty(&ws, "the plan after the adoption must be empty");
    ws.destroy_auto().unwrap();

    let body = format!(
        "{}{}",
        provider_hcl(&moto),
        with_team_tag(&queued_with_emails("theirs")).replace("delivery      = \"queue\"\n", "")
    );
    ws.write("main.tf", body).unwrap();
    let out = ws
        .run(&["apply", "-auto-approve"])
        .unwrap()
        .failed()
        .unwrap();
    let text = folded(&out.combined());
    assert!(text.contains("theirs-throttles"), "{out}");
    assert!(text.contains("belongs to pipeline \"someone\""), "{out}");
    assert_eq!(
        aws.alarm_names().unwrap(),
        ["theirs-throttles"],
        "theirs stays"
    );
    assert!(
        aws.topic_arns().unwrap().is_empty(),
        "the topic made was rolled back"
    );
    assert_eq!(alarm(&aws, "theirs-throttles").threshold(), Some(3.0));
    aws.block_on(
        aws.cloudwatch()
            .delete_alarms()
            .alarm_names("theirs-throttles")
            .send(),
    )
    .unwrap();
    assert_emulator_empty(&moto);
}

/// As SNS keeps them, email subscriptions stay pending until confirmed
/// (the proxy's `sns_pending_emails`; moto confirms at once): a pending
/// address counts as subscribed (no second Subscribe, an empty plan), one
/// removed from the list cannot be unsubscribed (SNS lets it lapse), and
/// destroy warns of no confirmed subscription.
#[test]
fn pending_email_subscriptions_count_as_subscribed_and_are_not_warned_of() {
    let rig = Rig::new(&newest_cli(), None);
    rig.proxy.sns_pending_emails(true);
    let two = "\"a@example.com\", \"b@example.com\"";
    rig.configure(&faulted("pend", 5, two, "{ team = \"x\" }"));
    rig.apply();
    rig.assert_plan_empty();
    let count = |op: &str| rig.proxy.calls().iter().filter(|c| c.op == op).count();
    assert_eq!(count("sns:Subscribe"), 2);
    rig.apply();
    assert_eq!(
        count("sns:Subscribe"),
        2,
        "a pending address is not subscribed again"
    );
    rig.configure(&faulted("pend", 5, "\"a@example.com\"", "{ team = \"x\" }"));
    rig.apply();
    assert_eq!(
        count("sns:Unsubscribe"),
        0,
        "a pending subscription cannot be removed"
    );
    rig.assert_plan_empty();
    let out = rig.ws.destroy_auto().expect("destroy");
    assert!(!out.contains("confirmed subscription"), "{out}");
    common::assert_emulator_empty(&rig.moto);
}
