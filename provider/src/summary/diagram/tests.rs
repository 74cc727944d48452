//! The pictures of hand-written plans, a checker for the Mermaid subset the
//! flowcharts use, and random pipelines with hostile names checked by it.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use super::mermaid::{escape, flowchart};
use super::{Graph, Part, Status};
use crate::pipeline::runtimes::Day;
use crate::summary::render::{Format, render, render_with};
use crate::summary::{Options, Summary, summarize};

// ---- plans ---------------------------------------------------------------

#[derive(Clone, Debug)]
struct Alarms {
    topic_arn: Option<String>,
    emails: Vec<String>,
    failed_events: bool,
    error_rate: Option<i64>,
    throttles: bool,
    queue_age: Option<i64>,
    iterator_age: Option<i64>,
    /// `alarm_arns` written (the kinds made), as a state has it.
    arns_known: bool,
}

impl Default for Alarms {
    fn default() -> Self {
        Alarms {
            topic_arn: None,
            emails: vec!["oncall@example.com".into()],
            failed_events: true,
            error_rate: Some(5),
            throttles: true,
            queue_age: Some(300),
            iterator_age: Some(300),
            arns_known: false,
        }
    }
}

#[derive(Clone, Debug)]
struct Trig {
    events: Vec<String>,
    prefix: String,
    suffix: String,
}

fn trig(prefix: &str) -> Trig {
    Trig {
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: prefix.into(),
        suffix: String::new(),
    }
}

/// A pipeline as the plan's JSON holds it.
#[derive(Clone, Debug)]
struct Spec {
    name: String,
    bucket: String,
    create_bucket: bool,
    memory: i64,
    image: Option<Option<String>>,
    triggers: Vec<Trig>,
    queued: bool,
    stream: Option<(Option<String>, bool)>,
    on_failure: Option<Option<String>>,
    alarms: Option<Alarms>,
}

fn spec(name: &str) -> Spec {
    Spec {
        name: name.into(),
        bucket: format!("{name}-bucket"),
        create_bucket: true,
        memory: 512,
        image: None,
        triggers: vec![trig("data/")],
        queued: false,
        stream: None,
        on_failure: None,
        alarms: None,
    }
}

fn kinds_made(s: &Spec) -> Json {
    let Some(al) = &s.alarms else {
        return json!({});
    };
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, on: bool| {
        if on {
            m.insert(
                k.into(),
                json!(format!("arn:aws:cloudwatch:us-east-1:1:alarm:{k}")),
            );
        }
    };
    put("failed-events", al.failed_events && s.on_failure.is_some());
    put("error-rate", al.error_rate.is_some());
    put("throttles", al.throttles);
    put("queue-age", al.queue_age.is_some() && s.queued);
    put(
        "iterator-age",
        al.iterator_age.is_some() && s.stream.is_some(),
    );
    Json::Object(m)
}

fn value(s: &Spec) -> Json {
    let stream = s.stream.as_ref().map(|(arn, put)| {
        json!({"arn": arn, "shard_count": null, "retention_period": 24,
            "starting_position": "LATEST", "batch_size": 100, "maximum_batching_window": 0,
            "parallelization_factor": 1, "bisect_batch_on_function_error": false,
            "maximum_retry_attempts": -1, "maximum_record_age": -1,
            "report_batch_item_failures": false, "allow_put_records": put})
    });
    let alarms = s.alarms.as_ref().map(|al| {
        json!([{"topic_arn": al.topic_arn,
            "emails": if al.emails.is_empty() { Json::Null } else { json!(al.emails) },
            "failed_events": al.failed_events, "error_rate_percent": al.error_rate,
            "throttles": al.throttles, "queue_age_seconds": al.queue_age,
            "iterator_age_seconds": al.iterator_age}])
    });
    let arns_known = s.alarms.as_ref().is_some_and(|a| a.arns_known);
    json!({
        "id": s.name, "name": s.name, "bucket_name": s.bucket, "create_bucket": s.create_bucket,
        "force_destroy": true, "require_tls": true, "output_prefix": null,
        "function_name": s.name, "role_name": format!("{}-role", s.name),
        "policy_json": "{}", "source_code_hash": "h", "source_files": {}, "source_file_count": 0,
        "delivery": if s.queued { "queue" } else { "direct" },
        "queue": if s.queued { json!({"visibility_timeout": 180, "max_receive_count": 5,
            "batch_size": 10, "maximum_batching_window": 0, "maximum_concurrency": 4,
            "report_batch_item_failures": false}) } else { Json::Null },
        "event_queue_arn": if s.queued { json!(format!("arn:aws:sqs:us-east-1:1:{}-events", s.name)) } else { Json::Null },
        "stream": stream,
        "stream_name": s.stream.as_ref().map(|_| s.name.clone()),
        "on_failure": s.on_failure.as_ref().map(|arn| json!({"maximum_retry_attempts": 2,
            "maximum_event_age": 21600, "queue_arn": arn, "force_delete": false})),
        "failure_queue_arn": s.on_failure.as_ref().map(|arn| arn.clone()
            .unwrap_or_else(|| format!("arn:aws:sqs:us-east-1:1:{}-failed", s.name))),
        "logs": null,
        "alarms": alarms,
        "alarm_arns": if arns_known { kinds_made(s) } else { Json::Null },
        "alarm_topic_arn": null,
        "function": {
            "source_dir": "./src", "handler": "main.handler", "runtime": "python3.12",
            "memory_size": s.memory, "timeout": 30, "environment": {"API_KEY": "secret"},
            "package_type": if s.image.is_some() { "image" } else { "zip" },
            "image": s.image.as_ref().map(|base| json!({"base_image": base})),
        },
        "trigger": s.triggers.iter().map(|t| json!({"events": t.events,
            "filter_prefix": if t.prefix.is_empty() { Json::Null } else { json!(t.prefix) },
            "filter_suffix": if t.suffix.is_empty() { Json::Null } else { json!(t.suffix) }}))
            .collect::<Vec<_>>(),
    })
}

fn change(actions: &[&str], before: Option<&Spec>, after: Option<&Spec>, unknown: Json) -> Json {
    let sens = json!({"function": {"environment": true}});
    json!({
        "address": "module.m.eventpipe_event_pipeline.p", "mode": "managed",
        "type": "eventpipe_event_pipeline", "name": "p",
        "change": {"actions": actions, "before": before.map(value), "after": after.map(value),
            "after_unknown": unknown, "before_sensitive": sens, "after_sensitive": sens}
    })
}

fn summary_of(changes: Vec<Json>) -> Summary {
    let plan = json!({"format_version": "1.2", "terraform_version": "1.11.4",
        "planned_values": {}, "resource_changes": changes});
    let opts = Options {
        today: Day::new(2026, 12, 1),
        expect_kms_keys: &[],
    };
    summarize(plan.to_string().as_bytes(), opts).expect("a plan")
}

fn graph_of(actions: &[&str], before: Option<&Spec>, after: Option<&Spec>) -> Graph {
    let s = summary_of(vec![change(actions, before, after, json!({}))]);
    s.pipelines[0].diagram.clone()
}

/// An import of `s` that changes nothing (a plain no-op is not summarized).
fn imported(s: &Spec) -> Graph {
    let mut c = change(&["no-op"], Some(s), Some(s), json!({}));
    c["change"]["importing"] = json!({"id": "p"});
    summary_of(vec![c]).pipelines[0].diagram.clone()
}

fn status(g: &Graph, part: Part) -> Option<Status> {
    g.nodes.iter().find(|n| n.part == part).map(|n| n.status)
}

fn everything(name: &str) -> Spec {
    Spec {
        queued: true,
        stream: Some((None, true)),
        on_failure: Some(None),
        alarms: Some(Alarms::default()),
        ..spec(name)
    }
}

// ---- hand-written plans --------------------------------------------------

#[test]
fn a_new_pipeline_with_every_part_is_drawn_added_part_by_part() {
    let g = graph_of(&["create"], None, Some(&everything("orders")));
    let got = flowchart(&g);
    let want = r##"flowchart LR
  bucket[("+ bucket orders-bucket")]
  events[["+ event queue orders-events<br/>at most 4 at once"]]
  func("+ function orders<br/>python3.12")
  stream[["+ stream orders"]]
  failed[["+ failure queue orders-failed"]]
  alarm0>"+ alarm failed-events<br/>messages waiting #gt; 0"]
  alarm1>"+ alarm error-rate<br/>errors ≥ 5 #37; of invocations, 5 min"]
  alarm2>"+ alarm throttles<br/>throttles #gt; 0"]
  alarm3>"+ alarm queue-age<br/>oldest message ≥ 300 s"]
  alarm4>"+ alarm iterator-age<br/>iterator age ≥ 300 s"]
  topic(["+ alarm topic orders-alarms<br/>emails oncall@example.com"])
  bucket -->|"+ 1: s3:ObjectCreated:* · prefix data/"| events
  events -->|"+ batches of 10"| func
  stream -->|"+ batches of 100"| func
  func -->|"+ puts records"| stream
  events -.->|"+ failed events, after 5 receives"| failed
  stream -.->|"+ failed batches"| failed
  failed -.->|"+"| alarm0
  alarm0 -.->|"+"| topic
  func -.->|"+"| alarm1
  alarm1 -.->|"+"| topic
  func -.->|"+"| alarm2
  alarm2 -.->|"+"| topic
  events -.->|"+"| alarm3
  alarm3 -.->|"+"| topic
  stream -.->|"+"| alarm4
  alarm4 -.->|"+"| topic
  classDef added fill:#dafbe1,stroke:#1a7f37,color:#1f2328
  class bucket,events,func,stream,failed,alarm0,alarm1,alarm2,alarm3,alarm4,topic added
  linkStyle 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 stroke:#1a7f37,stroke-width:2px
"##;
    assert_eq!(got, want, "{got}");
    check(&got).unwrap();
}

#[test]
fn only_the_alarms_that_fit_the_parts_are_drawn() {
    // Direct delivery, no stream, no failure queue: error rate and
    // throttles only; a topic given by ARN is not the pipeline's.
    let mut s = spec("p");
    s.alarms = Some(Alarms {
        topic_arn: Some("arn:aws:sns:us-east-1:1:ops".into()),
        emails: vec![],
        ..Alarms::default()
    });
    let g = graph_of(&["create"], None, Some(&s));
    let alarms: Vec<Part> = g
        .nodes
        .iter()
        .map(|n| n.part)
        .filter(|p| matches!(p, Part::Alarm(_)))
        .collect();
    assert_eq!(alarms, [Part::Alarm(1), Part::Alarm(2)]);
    let topic = g.nodes.iter().find(|n| n.part == Part::Topic).unwrap();
    assert_eq!(
        topic.lines,
        ["alarm topic ops", "not managed by the pipeline"]
    );
    assert_eq!(topic.status, Status::Kept);
    // Where the state lists the alarms made, it says which there are.
    let mut known = everything("p");
    known.alarms.as_mut().unwrap().arns_known = true;
    known.alarms.as_mut().unwrap().throttles = false;
    let g = imported(&known);
    assert_eq!(status(&g, Part::Alarm(2)), None);
    assert_eq!(status(&g, Part::Alarm(4)), Some(Status::Kept));
}

#[test]
fn an_update_marks_what_changes_and_keeps_the_rest_plain() {
    let before = spec("p");
    let mut after = spec("p");
    after.memory = 1024;
    after.triggers = vec![trig("incoming/"), trig("logs/")];
    after.on_failure = Some(None);
    let g = graph_of(&["update"], Some(&before), Some(&after));
    assert_eq!(status(&g, Part::Bucket), Some(Status::Kept));
    assert_eq!(status(&g, Part::Function), Some(Status::Changed));
    assert_eq!(status(&g, Part::FailureQueue), Some(Status::Added));
    let got = flowchart(&g);
    for want in [
        "  bucket[(\"bucket p-bucket\")]\n",
        "  func(\"~ function p<br/>python3.12\")\n",
        "  bucket -->|\"~ 1: s3:ObjectCreated:* · prefix data/ → incoming/\"| func\n",
        "  bucket -->|\"+ 2: s3:ObjectCreated:* · prefix logs/\"| func\n",
        "  func -.->|\"+ failed events, after 2 retries\"| failed\n",
        "  class func changed\n",
        "  class failed added\n",
    ] {
        assert!(got.contains(want), "{want:?} not in\n{got}");
    }
    check(&got).unwrap();
    // Nothing changed: nothing marked.
    let g = imported(&before);
    let same = flowchart(&g);
    assert!(
        !same.contains("class ") && !same.contains("linkStyle"),
        "{same}"
    );
}

#[test]
fn a_new_delivery_moves_every_trigger_to_the_event_queue() {
    let before = spec("p");
    let mut after = spec("p");
    after.queued = true;
    let got = flowchart(&graph_of(&["update"], Some(&before), Some(&after)));
    for want in [
        "  bucket -->|\"+ 1: s3:ObjectCreated:* · prefix data/\"| events\n",
        "  bucket -->|\"− 1: s3:ObjectCreated:* · prefix data/\"| func\n",
        "  events[[\"+ event queue p-events<br/>at most 4 at once\"]]\n",
    ] {
        assert!(got.contains(want), "{want:?} not in\n{got}");
    }
    check(&got).unwrap();
}

#[test]
fn a_delete_removes_the_parts_the_pipeline_owns_and_leaves_the_rest() {
    let mut s = everything("p");
    s.create_bucket = false;
    s.on_failure = Some(Some("arn:aws:sqs:us-east-1:1:theirs".into()));
    let g = graph_of(&["delete"], Some(&s), None);
    assert_eq!(status(&g, Part::Bucket), Some(Status::Kept));
    assert_eq!(status(&g, Part::FailureQueue), Some(Status::Kept));
    assert_eq!(status(&g, Part::Function), Some(Status::Removed));
    assert_eq!(status(&g, Part::Alarm(0)), Some(Status::Removed));
    assert!(g.edges.iter().all(|e| e.status == Status::Removed));
    let got = flowchart(&g);
    assert!(
        got.contains("  bucket[(\"bucket p-bucket<br/>not managed by the pipeline\")]\n"),
        "{got}"
    );
    assert!(
        got.contains("  failed[[\"failure queue theirs<br/>not managed"),
        "{got}"
    );
    check(&got).unwrap();
    // Forgotten: everything stays, nothing marked.
    let g = graph_of(&["forget"], Some(&s), None);
    assert!(g.nodes.iter().all(|n| n.status == Status::Kept));
    assert!(g.edges.iter().all(|e| e.status == Status::Kept));
}

#[test]
fn a_replacement_replaces_what_the_pipeline_owns() {
    let before = everything("p");
    let mut after = everything("q");
    after.stream = Some((
        Some("arn:aws:kinesis:us-east-1:1:stream/shared".into()),
        false,
    ));
    let g = graph_of(&["delete", "create"], Some(&before), Some(&after));
    assert_eq!(status(&g, Part::Bucket), Some(Status::Replaced));
    assert_eq!(status(&g, Part::Function), Some(Status::Replaced));
    // A stream given by ARN is not the pipeline's: changed, not replaced.
    assert_eq!(status(&g, Part::Stream), Some(Status::Changed));
    let got = flowchart(&g);
    assert!(
        got.contains("  func(\"−/+ function q<br/>python3.12\")\n"),
        "{got}"
    );
    assert!(
        got.contains("  stream[[\"~ stream shared<br/>not managed"),
        "{got}"
    );
    assert!(
        got.contains("  func -->|\"− puts records\"| stream\n"),
        "{got}"
    );
    check(&got).unwrap();
}

#[test]
fn values_known_only_after_apply_are_said_so() {
    let mut s = everything("p");
    s.image = Some(Some("public.ecr.aws/lambda/python:3.13".into()));
    let mut c = change(&["create"], None, Some(&s), json!({"bucket_name": true}));
    c["change"]["after"]["bucket_name"] = Json::Null;
    c["change"]["after"]["stream_name"] = Json::Null;
    let summary = summary_of(vec![c]);
    let got = flowchart(&summary.pipelines[0].diagram);
    assert!(
        got.contains("bucket[(\"+ bucket #40;known after apply#41;\")]"),
        "{got}"
    );
    // A stream's name the plan does not know yet is the pipeline's name.
    assert!(got.contains("stream[[\"+ stream p\"]]"), "{got}");
    assert!(
        got.contains("func(\"+ function p<br/>image on public.ecr.aws/lambda/python:3.13\")"),
        "{got}"
    );
}

#[test]
fn hostile_names_stay_inside_their_labels() {
    let mut s = spec("p\"]-->x[\"pwn");
    s.bucket = "b#quot;<script>|x|`%%;&\n".into();
    s.triggers = vec![Trig {
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: "a\"|b".into(),
        suffix: "(c)[d]{e}".into(),
    }];
    let got = flowchart(&graph_of(&["create"], None, Some(&s)));
    check(&got).unwrap();
    assert!(
        got.contains(
            "bucket[(\"+ bucket b#35;quot;#lt;script#gt;#124;x#124;#96;#37;#37;;#amp;#92;n\")]"
        ),
        "{got}"
    );
    assert!(
        got.contains("func(\"+ function p#quot;#93;--#gt;x#91;#quot;pwn"),
        "{got}"
    );
    assert!(
        got.contains("prefix a#quot;#124;b · suffix #40;c#41;#91;d#93;#123;e#125;"),
        "{got}"
    );
}

#[test]
fn markdown_has_one_flowchart_per_pipeline_text_none_and_it_can_be_turned_off() {
    let s = summary_of(vec![
        change(&["create"], None, Some(&spec("a")), json!({})),
        change(&["delete"], Some(&spec("b")), None, json!({})),
    ]);
    let md = render(&s, Format::Markdown);
    assert_eq!(blocks(&md).len(), 2, "{md}");
    // Each at the end of its own section.
    let second = md
        .find("### `module.m.eventpipe_event_pipeline.p` (`b`)")
        .unwrap();
    assert!(md[..second].contains("```mermaid"), "{md}");
    assert!(md.trim_end().ends_with("```"), "{md}");
    for b in blocks(&md) {
        check(&b).unwrap();
    }
    assert!(!render(&s, Format::Text).contains("flowchart"));
    let off = render_with(&s, Format::Markdown, false);
    assert!(
        !off.contains("```mermaid") && !off.contains("flowchart"),
        "{off}"
    );
    // Otherwise the same summary.
    let mut stripped = md.clone();
    for b in blocks(&md) {
        stripped = stripped.replace(&format!("\n```mermaid\n{b}```\n"), "");
    }
    assert_eq!(stripped.trim_end(), off.trim_end());
}

#[test]
fn escaping_keeps_short_text_and_cuts_long_text() {
    assert_eq!(escape("data/2024 · a+b"), "data/2024 · a+b");
    assert_eq!(escape("\"#<>&"), "#quot;#35;#lt;#gt;#amp;");
    assert_eq!(escape("a\u{2028}b\tc"), "a#8232;b#92;tc");
    assert_eq!(escape(&"x".repeat(100)), "x".repeat(100));
    // A right-to-left override cannot reorder what follows it.
    assert_eq!(escape("a\u{202e}b"), "a#92;u#123;202e#125;b");
}

#[test]
fn a_long_value_is_cut_alone_and_the_rest_of_its_label_stays() {
    let mut s = spec("p");
    s.triggers = vec![Trig {
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: "x".repeat(100),
        suffix: ".csv".into(),
    }];
    s.bucket = "b".repeat(61);
    let got = flowchart(&graph_of(&["create"], None, Some(&s)));
    let want = format!("prefix {}… · suffix .csv\"| func", "x".repeat(60));
    assert!(got.contains(&want), "{got}");
    assert!(
        got.contains(&format!("bucket {}\"", "b".repeat(61))),
        "{got}"
    );
}

#[test]
fn a_new_name_replaces_the_parts_named_after_it() {
    let before = everything("orders");
    let after = everything("sales");
    let g = graph_of(&["update"], Some(&before), Some(&after));
    for part in [
        Part::Function,
        Part::EventQueue,
        Part::FailureQueue,
        Part::Stream,
    ] {
        assert_eq!(status(&g, part), Some(Status::Replaced), "{part:?}");
    }
    // Alarms keep their kind; they are retagged in place.
    assert_eq!(status(&g, Part::Alarm(1)), Some(Status::Kept));
}

// ---- the checker ---------------------------------------------------------

/// The flowcharts of a Markdown summary, without their fences.
fn blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = md;
    while let Some(start) = rest.find("```mermaid\n") {
        let body = &rest[start + "```mermaid\n".len()..];
        let end = body.find("\n```").expect("a closing fence");
        out.push(format!("{}\n", &body[..end]));
        rest = &body[end + 4..];
    }
    out
}

const SHAPES: [(&str, &str); 5] = [
    ("[(", ")]"),
    ("([", "])"),
    ("[[", "]]"),
    ("(", ")"),
    (">", "]"),
];

/// Words Mermaid's flowchart grammar reserves, which must not be ids.
const RESERVED: [&str; 12] = [
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "style",
    "class",
    "classDef",
    "click",
    "linkStyle",
    "direction",
    "default",
    "call",
];

fn id(s: &str) -> Result<&str, String> {
    let ok = s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&s)
        // `o` and `x` after an arrow make circle and cross edges.
        && !s.starts_with(['o', 'x']);
    if ok {
        Ok(s)
    } else {
        Err(format!("bad id {s:?}"))
    }
}

/// A label's text between its quotes: no quote, no markup but `<br/>`,
/// every `#` an entity code, no character that could end the label or
/// its shape, no control character.
fn label_text(s: &str) -> Result<(), String> {
    let plain = s.replace("<br/>", "\u{1}");
    let mut chars = plain.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1}' => {}
            '#' => {
                let code: String = chars.by_ref().take_while(|c| *c != ';').collect();
                if !plain.contains(&format!("#{code};")) {
                    return Err(format!("an entity without its ; in {s:?}"));
                }
                let named = !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase());
                let numeric = !code.is_empty() && code.chars().all(|c| c.is_ascii_digit());
                if !(named || numeric) {
                    return Err(format!("bad entity #{code} in {s:?}"));
                }
            }
            '"' | '<' | '>' | '&' | '|' | '[' | ']' | '(' | ')' | '{' | '}' | '`' | '%' | '\\'
            | '\u{2028}' | '\u{2029}' => {
                return Err(format!("unescaped {c:?} in {s:?}"));
            }
            c if c.is_control() => return Err(format!("control {c:?} in {s:?}")),
            _ => {}
        }
    }
    Ok(())
}

/// `ID` then a shape around a quoted label.
fn node(line: &str) -> Result<String, String> {
    let at = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .ok_or("no shape")?;
    let (name, rest) = line.split_at(at);
    let name = id(name)?;
    for (open, close) in SHAPES {
        if let Some(inner) = rest
            .strip_prefix(open)
            .and_then(|r| r.strip_suffix(close))
            .and_then(|r| r.strip_prefix('"'))
            .and_then(|r| r.strip_suffix('"'))
        {
            label_text(inner)?;
            return Ok(name.to_owned());
        }
    }
    Err(format!("not a node: {line:?}"))
}

/// `A --> B`, `A -.-> B`, each with an optional `|"label"|`.
fn edge(line: &str) -> Result<Option<(String, String)>, String> {
    let Some((from, rest)) = line.split_once(' ') else {
        return Ok(None);
    };
    let Some(rest) = rest
        .strip_prefix("-->")
        .or_else(|| rest.strip_prefix("-.->"))
    else {
        return Ok(None);
    };
    let rest = match rest.strip_prefix("|\"") {
        Some(r) => {
            let end = r.find('"').ok_or("an unclosed edge label")?;
            label_text(&r[..end])?;
            r[end + 1..]
                .strip_prefix('|')
                .ok_or("an edge label not closed by |")?
        }
        None => rest,
    };
    let to = rest.strip_prefix(' ').ok_or("no space before the target")?;
    Ok(Some((id(from)?.to_owned(), id(to)?.to_owned())))
}

fn style(s: &str) -> Result<(), String> {
    for part in s.split(',') {
        let (k, v) = part.split_once(':').ok_or(format!("bad style {s:?}"))?;
        let ok = !k.is_empty()
            && k.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "# .".contains(c));
        if !ok {
            return Err(format!("bad style {part:?}"));
        }
    }
    Ok(())
}

/// Whether `text` is a flowchart of the subset written: the header, then
/// node declarations, edges, `classDef`, `class` and `linkStyle` lines,
/// ids unique and declared before use by an edge or class, classes
/// defined before use, link indexes in range.
fn check(text: &str) -> Result<(), String> {
    let mut lines = text.lines();
    if lines.next() != Some("flowchart LR") {
        return Err(format!("no header: {text}"));
    }
    if !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    let mut ids = BTreeSet::new();
    let mut edges = 0usize;
    let mut defined = BTreeSet::new();
    for line in lines {
        let l = line
            .strip_prefix("  ")
            .ok_or(format!("not indented: {line:?}"))?;
        let fail = |e: String| format!("{e}\n  in {line:?}\n{text}");
        if let Some(rest) = l.strip_prefix("classDef ") {
            let (name, st) = rest.split_once(' ').ok_or("classDef without style")?;
            id(name).map_err(fail)?;
            style(st).map_err(fail)?;
            defined.insert(name.to_owned());
        } else if let Some(rest) = l.strip_prefix("class ") {
            let (list, name) = rest.split_once(' ').ok_or("class without name")?;
            if !defined.contains(name) {
                return Err(fail(format!("class {name} not defined")));
            }
            for n in list.split(',') {
                if !ids.contains(n) {
                    return Err(fail(format!("{n} not declared")));
                }
            }
        } else if let Some(rest) = l.strip_prefix("linkStyle ") {
            let (list, st) = rest.split_once(' ').ok_or("linkStyle without style")?;
            for n in list.split(',') {
                let i: usize = n.parse().map_err(|_| fail(format!("index {n:?}")))?;
                if i >= edges {
                    return Err(fail(format!("link {i} of {edges}")));
                }
            }
            style(st).map_err(fail)?;
        } else if let Some((from, to)) = edge(l).map_err(fail)? {
            for end in [from, to] {
                if !ids.contains(&end) {
                    return Err(fail(format!("{end} not declared")));
                }
            }
            edges += 1;
        } else {
            let n = node(l).map_err(fail)?;
            if edges > 0 {
                return Err(fail("a node after the edges".into()));
            }
            if !ids.insert(n.clone()) {
                return Err(fail(format!("{n} declared twice")));
            }
        }
    }
    Ok(())
}

#[test]
fn the_checker_refuses_what_mermaid_would_misread() {
    let ok = "flowchart LR\n  a[(\"x\")]\n  b(\"y\")\n  a -->|\"t\"| b\n";
    check(ok).unwrap();
    for bad in [
        "graph TD\n  a(\"x\")\n",
        "flowchart LR\n  a(\"x\"y\")\n",
        "flowchart LR\n  a(\"x|y\")\n",
        "flowchart LR\n  a(\"<b>x</b>\")\n",
        "flowchart LR\n  a(\"#x\")\n",
        "flowchart LR\n  a(\"x\")\n  a(\"y\")\n",
        "flowchart LR\n  a(\"x\")\n  a --> b\n",
        "flowchart LR\n  end(\"x\")\n",
        "flowchart LR\n  a(\"x\")\n  class a added\n",
        "flowchart LR\n  a(\"x\")\n  b(\"x\")\n  a --> b\n  linkStyle 1 stroke:#000\n",
        "flowchart LR\n  a(x)\n",
    ] {
        assert!(check(bad).is_err(), "{bad}");
    }
}

// ---- random pipelines ----------------------------------------------------

/// Text with what breaks Mermaid, HTML and Markdown, or any text at all.
fn hostile() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z0-9\"#<>|\\[\\](){}`%;&\\\\:*_~=/. \n\t\r\u{2028}\u{0}\u{1b}-]{0,24}",
        ".{0,80}",
        Just(String::new()),
        Just("end".to_owned()),
        Just("#quot;".to_owned()),
        Just("<br/>".to_owned()),
    ]
    .boxed()
}

fn trig_strategy() -> BoxedStrategy<Trig> {
    (
        proptest::sample::subsequence(
            vec![
                "s3:ObjectCreated:*",
                "s3:ObjectCreated:Put",
                "s3:ObjectRemoved:*",
            ],
            1..3,
        ),
        hostile(),
        hostile(),
    )
        .prop_map(|(e, prefix, suffix)| Trig {
            events: e.into_iter().map(str::to_owned).collect(),
            prefix,
            suffix,
        })
        .boxed()
}

fn alarms_strategy() -> BoxedStrategy<Alarms> {
    (
        proptest::option::of(hostile()),
        proptest::collection::vec(hostile(), 0..5),
        any::<bool>(),
        proptest::option::of(1i64..100),
        any::<bool>(),
        proptest::option::of(60i64..3600),
        (proptest::option::of(60i64..3600), any::<bool>()),
    )
        .prop_map(
            |(topic_arn, emails, failed_events, error_rate, throttles, queue_age, (it, known))| {
                Alarms {
                    topic_arn,
                    emails,
                    failed_events,
                    error_rate,
                    throttles,
                    queue_age,
                    iterator_age: it,
                    arns_known: known,
                }
            },
        )
        .boxed()
}

fn spec_strategy() -> BoxedStrategy<Spec> {
    (
        (hostile(), hostile(), any::<bool>(), 128i64..2048),
        proptest::option::of(proptest::option::of(hostile())),
        proptest::collection::vec(trig_strategy(), 1..4),
        any::<bool>(),
        proptest::option::of((proptest::option::of(hostile()), any::<bool>())),
        proptest::option::of(proptest::option::of(hostile())),
        proptest::option::of(alarms_strategy()),
    )
        .prop_map(
            |((name, bucket, create_bucket, memory), image, triggers, queued, stream, of, al)| {
                Spec {
                    name,
                    bucket,
                    create_bucket,
                    memory,
                    image,
                    triggers,
                    queued,
                    stream,
                    on_failure: of,
                    alarms: al,
                }
            },
        )
        .boxed()
}

#[derive(Clone, Debug)]
enum Act {
    Create(Spec),
    Update(Spec, Spec),
    Replace(Spec, Spec),
    Delete(Spec),
    Forget(Spec),
    Import(Spec),
}

fn act_strategy() -> BoxedStrategy<Act> {
    prop_oneof![
        spec_strategy().prop_map(Act::Create),
        (spec_strategy(), spec_strategy()).prop_map(|(b, a)| Act::Update(b, a)),
        (spec_strategy(), spec_strategy()).prop_map(|(b, a)| Act::Replace(b, a)),
        spec_strategy().prop_map(Act::Delete),
        spec_strategy().prop_map(Act::Forget),
        spec_strategy().prop_map(Act::Import),
        // An update of one field, so most parts are kept.
        (spec_strategy(), 128i64..2048).prop_map(|(b, m)| {
            let mut a = b.clone();
            a.memory = m;
            Act::Update(b, a)
        }),
    ]
    .boxed()
}

/// The plan's entry for `act`; with `unknown`, what a create does not know
/// yet is left unknown.
fn act_change(act: &Act, unknown: bool) -> Json {
    let mask = if unknown {
        json!({"bucket_name": true, "stream_name": true, "failure_queue_arn": true,
            "event_queue_arn": true, "alarm_arns": true, "alarm_topic_arn": true})
    } else {
        json!({})
    };
    let mut c = match act {
        Act::Create(a) => change(&["create"], None, Some(a), mask),
        Act::Update(b, a) => change(&["update"], Some(b), Some(a), mask),
        Act::Replace(b, a) => change(&["delete", "create"], Some(b), Some(a), mask),
        Act::Delete(b) => change(&["delete"], Some(b), None, json!({})),
        Act::Forget(b) => change(&["forget"], Some(b), None, json!({})),
        Act::Import(b) => {
            let mut c = change(&["no-op"], Some(b), Some(b), json!({}));
            c["change"]["importing"] = json!({"id": "x"});
            c
        }
    };
    let planned = matches!(act, Act::Create(_) | Act::Update(..) | Act::Replace(..));
    if unknown && planned {
        for k in [
            "bucket_name",
            "stream_name",
            "failure_queue_arn",
            "event_queue_arn",
            "alarm_arns",
        ] {
            c["change"]["after"][k] = Json::Null;
        }
    }
    c
}

fn labels_start_with(text: &str, markers: &[&str]) -> bool {
    markers.iter().any(|m| {
        text.contains(&format!("(\"{m} "))
            || text.contains(&format!("[\"{m} "))
            || text.contains(&format!(">\"{m} "))
            || text.contains(&format!("|\"{m} "))
            || text.contains(&format!("|\"{m}\"|"))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn random_pipelines_are_valid_mermaid(
        acts in proptest::collection::vec((act_strategy(), any::<bool>()), 1..4)
    ) {
        let changes = acts.iter().map(|(a, u)| act_change(a, *u)).collect();
        let s = summary_of(changes);
        prop_assert_eq!(s.pipelines.len(), acts.len());
        let md = render(&s, Format::Markdown);
        let charts = blocks(&md);
        prop_assert_eq!(charts.len(), acts.len(), "{}", md);
        for ((act, _), (chart, p)) in acts.iter().zip(charts.iter().zip(&s.pipelines)) {
            if let Err(e) = check(chart) {
                return Err(TestCaseError::fail(e));
            }
            save_sample(chart);
            prop_assert_eq!(&flowchart(&p.diagram), chart);
            let parts: BTreeSet<Part> = p.diagram.nodes.iter().map(|n| n.part).collect();
            prop_assert!(parts.contains(&Part::Bucket) && parts.contains(&Part::Function));
            match act {
                Act::Create(_) => prop_assert!(!labels_start_with(chart, &["−", "~", "−/+"]), "{}", chart),
                Act::Delete(_) => prop_assert!(!labels_start_with(chart, &["+", "~", "−/+"]), "{}", chart),
                Act::Forget(_) | Act::Import(_) => prop_assert!(
                    !chart.contains("class ") && !chart.contains("linkStyle"), "{}", chart),
                // Only a new name replaces parts on an update, and never
                // a connection.
                Act::Update(b, a) => {
                    let replaced = |x: &Status| *x == Status::Replaced;
                    prop_assert!(!p.diagram.edges.iter().map(|e| e.status).any(|x| replaced(&x)));
                    if b.name == a.name {
                        prop_assert!(!labels_start_with(chart, &["−/+"]), "{}", chart);
                    }
                }
                Act::Replace(..) => {}
            }
        }
    }

    #[test]
    fn escaped_text_reads_back_as_it_was(s in "[^\\p{Cc}\\p{Cf}\u{2028}\u{2029}]{0,60}") {
        let e = escape(&s);
        prop_assert!(label_text(&e).is_ok(), "{}", e);
        prop_assert_eq!(unescape(&e), s);
    }
}

/// With `EVENTPIPE_MERMAID_SAMPLES=FILE`, each random flowchart is also
/// appended to FILE (separated by `=====` lines) to be read by Mermaid's
/// own parser, which the tests cannot assume installed (it is an npm
/// package, and tests run offline).
fn save_sample(chart: &str) {
    use std::io::Write;
    if let Some(path) = std::env::var_os("EVENTPIPE_MERMAID_SAMPLES") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the samples file");
        write!(f, "{chart}\n=====\n").expect("a sample written");
    }
}

/// Mermaid's reading of entity codes, for the ones `escape` writes.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').expect("an entity") + i;
        let code = &rest[i + 1..end];
        out.push(match code {
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            n => char::from_u32(n.parse().expect("a number")).expect("a char"),
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The example in `examples/ci/README.md` is what this update draws.
#[test]
fn the_documented_example_is_what_the_summary_draws() {
    let mut before = spec("orders");
    before.queued = true;
    before.triggers = vec![trig("incoming/")];
    let mut after = before.clone();
    after.on_failure = Some(None);
    after.alarms = Some(Alarms::default());
    after.triggers = vec![
        trig("incoming/"),
        Trig {
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: "reports/".into(),
            suffix: ".csv".into(),
        },
    ];
    let got = flowchart(&graph_of(&["update"], Some(&before), Some(&after)));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/ci/README.md");
    let doc = std::fs::read_to_string(path).expect("examples/ci/README.md");
    let shown = blocks(&doc);
    assert_eq!(
        shown,
        std::slice::from_ref(&got),
        "the README's flowchart is now:\n{got}"
    );
    check(&got).unwrap();
}

#[test]
fn a_value_the_plan_marks_sensitive_is_never_drawn() {
    let mut s = everything("p");
    s.alarms.as_mut().unwrap().emails = vec!["secret-oncall@example.com".into()];
    s.image = Some(Some("registry.example.com/secret-base:1".into()));
    let mut c = change(&["create"], None, Some(&s), json!({}));
    c["change"]["after_sensitive"] = json!({
        "function": {"environment": true, "image": {"base_image": true}},
        "alarms": [{"emails": true}]
    });
    let got = flowchart(&summary_of(vec![c]).pipelines[0].diagram);
    assert!(!got.contains("secret"), "{got}");
    assert!(got.contains("emails #40;sensitive#41;"), "{got}");
    assert!(got.contains("image on #40;sensitive#41;"), "{got}");
}
