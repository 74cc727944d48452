//! Each pipeline change as a picture: its parts (bucket, event queue,
//! function, stream, failure queue, alarms and their topic) and how events
//! flow between them, each part and connection marked with what the plan
//! does to it. Pure; [`mermaid`] writes the [`Graph`] as a Mermaid
//! flowchart.
//!
//! Both sides of the change are sketched the same way, then compared part
//! by part: a part on one side only is added or removed, on both it is
//! kept, changed, or (when the whole pipeline is replaced) replaced. A part
//! the pipeline does not own (a bucket with `create_bucket = false`, a
//! stream, failure queue or alarm topic given by ARN) is never added,
//! removed or replaced: only its connections are.

use serde_json::Value as Json;

use super::plan_json::{ResourceChange, Step, marked};
use super::sections::{PipelineAction, Trigger, TriggerChange, a, get, trigger_list};
use crate::pipeline::naming::{self, ALARM_KINDS};
use crate::pipeline::state::{DELIVERY_QUEUE, PACKAGE_IMAGE, attr};

pub mod mermaid;

#[cfg(test)]
mod tests;

/// The `alarms` block and its computed attributes, as the resource's schema
/// declares them.
pub mod alarm_attr {
    pub use crate::pipeline::state::alarms_attr::{
        EMAILS, ERROR_RATE_PERCENT, FAILED_EVENTS, ITERATOR_AGE_SECONDS, QUEUE_AGE_SECONDS,
        THROTTLES, TOPIC_ARN,
    };
    pub use crate::pipeline::state::state_attr::{ALARM_ARNS, ALARM_TOPIC_ARN, ALARMS};
}

/// What the plan does to a part or a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Kept,
    Added,
    Changed,
    Removed,
    /// Deleted and made again: the whole pipeline is replaced.
    Replaced,
}

impl Status {
    /// The marker that says it without colour, as Terraform's plan does.
    pub fn marker(self) -> &'static str {
        match self {
            Status::Kept => "",
            Status::Added => "+",
            Status::Changed => "~",
            Status::Removed => "\u{2212}",
            Status::Replaced => "\u{2212}/+",
        }
    }
}

/// A part of a pipeline. Its id in the diagram comes from here, never from
/// a name a user wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Bucket,
    EventQueue,
    Function,
    Stream,
    FailureQueue,
    /// The alarm of [`ALARM_KINDS`]`[i]`.
    Alarm(usize),
    Topic,
}

impl Part {
    pub fn id(self) -> String {
        match self {
            Part::Bucket => "bucket".into(),
            Part::EventQueue => "events".into(),
            Part::Function => "func".into(),
            Part::Stream => "stream".into(),
            Part::FailureQueue => "failed".into(),
            Part::Alarm(i) => format!("alarm{i}"),
            Part::Topic => "topic".into(),
        }
    }
}

/// How a connection is drawn: events and records flow on solid lines;
/// failures and monitoring on dotted ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Line {
    Solid,
    Dotted,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub part: Part,
    pub status: Status,
    /// The lines of its label, plain text (the first names the part).
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: Part,
    pub to: Part,
    pub line: Line,
    /// Plain text.
    pub label: Option<String>,
    pub status: Status,
}

/// One pipeline's picture: parts in a fixed order, then connections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// What is drawn of the pipeline: which sides there are and how parts on
/// both compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Create,
    /// An update, or an import or adoption (then what follows it).
    Update,
    Replace,
    Delete,
    /// Removed from the state: every part stays as it is.
    Forget,
}

/// The picture of one pipeline change. `triggers` is the section's own
/// pairing of old and new triggers.
pub fn graph(c: &ResourceChange, action: &PipelineAction, triggers: &[TriggerChange]) -> Graph {
    let mode = match action {
        PipelineAction::Create => Mode::Create,
        PipelineAction::Replace { .. } => Mode::Replace,
        PipelineAction::Delete => Mode::Delete,
        PipelineAction::Forget => Mode::Forget,
        PipelineAction::Update | PipelineAction::Import { .. } | PipelineAction::Adopt { .. } => {
            Mode::Update
        }
    };
    let none = Json::Null;
    let before = match mode {
        Mode::Create => None,
        _ => c.before.as_ref().map(|v| {
            sketch(&Side {
                v,
                mask: &none,
                sens: &c.before_sensitive,
            })
        }),
    };
    let after = match mode {
        Mode::Delete | Mode::Forget => None,
        _ => c.after.as_ref().map(|v| {
            sketch(&Side {
                v,
                mask: &c.after_unknown,
                sens: &c.after_sensitive,
            })
        }),
    };
    let mut g = Graph {
        nodes: nodes(mode, before.as_ref(), after.as_ref()),
        edges: trigger_edges(mode, before.as_ref(), after.as_ref(), triggers),
    };
    g.edges
        .extend(other_edges(mode, before.as_ref(), after.as_ref()));
    g
}

// ---- one side ------------------------------------------------------------

/// One side of the change: its value, which of its values are known only
/// after apply (`after_unknown`; nothing for `before`), and which the plan
/// marks sensitive (a sensitive value is compared, never shown).
struct Side<'v> {
    v: &'v Json,
    mask: &'v Json,
    sens: &'v Json,
}

const LATER: &str = "(known after apply)";
const SENSITIVE: &str = "(sensitive)";

impl<'v> Side<'v> {
    fn unknown(&self, path: &[Step]) -> bool {
        marked(self.mask, path)
    }

    fn get(&self, path: &[Step]) -> Option<&'v Json> {
        get(Some(self.v), path)
    }

    fn str(&self, path: &[Step]) -> Option<&'v str> {
        self.get(path).and_then(Json::as_str)
    }

    fn bool(&self, path: &[Step]) -> Option<bool> {
        self.get(path).and_then(Json::as_bool)
    }

    /// A block's path: a single block is an object, a list block of at
    /// most one (`alarms`) its first element. `None` when it is absent;
    /// a block known only after apply is there.
    fn block(&self, name: &str) -> Option<Vec<Step>> {
        match self.get(&[a(name)]) {
            Some(Json::Array(l)) if !l.is_empty() => Some(vec![a(name), Step::Index(0)]),
            Some(Json::Object(_)) => Some(vec![a(name)]),
            _ => self.unknown(&[a(name)]).then(|| vec![a(name)]),
        }
    }

    /// The text of a value: a string as it is, another value as JSON.
    fn text(&self, path: &[Step]) -> Option<String> {
        if marked(self.sens, path) && self.get(path).is_some() {
            return Some(SENSITIVE.to_owned());
        }
        match self.get(path) {
            Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Json::String(_)) | None => self.unknown(path).then(|| LATER.to_owned()),
            Some(v) => Some(v.to_string()),
        }
    }

    /// The pipeline's `name`, when known.
    fn name(&self) -> Option<&'v str> {
        self.str(&[a(attr::NAME)]).filter(|s| !s.is_empty())
    }

    /// A part's name: the attribute's value (the last field of an ARN), or
    /// the name `name` gives it.
    fn part_name(&self, at: &str, arn: bool, derive: fn(&str) -> String) -> String {
        let p = [a(at)];
        if marked(self.sens, &p) || marked(self.sens, &[a(attr::NAME)]) {
            return SENSITIVE.to_owned();
        }
        match self.str(&p).filter(|s| !s.is_empty()) {
            Some(v) if arn => last_field(v),
            Some(v) => v.to_owned(),
            None => self.name().map_or(LATER.to_owned(), derive),
        }
    }

    /// What a part is compared by: these values, and whether each is known.
    fn key(&self, paths: &[Vec<Step>]) -> Vec<Json> {
        paths
            .iter()
            .flat_map(|p| {
                [
                    self.get(p).cloned().unwrap_or(Json::Null),
                    Json::Bool(self.unknown(p)),
                ]
            })
            .collect()
    }
}

/// The longest run of a user's text kept in a label, in characters; the
/// summary's text says the rest.
const LONGEST: usize = 60;

/// A user's text for a label: cut past [`LONGEST`] characters.
fn cut(s: &str) -> String {
    if s.chars().count() <= LONGEST + 1 {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(LONGEST).collect();
    out.push('…');
    out
}

fn last_field(arn: &str) -> String {
    arn.rsplit(':').next().unwrap_or(arn).to_owned()
}

fn under(base: &[Step], name: &str) -> Vec<Step> {
    let mut p = base.to_vec();
    p.push(a(name));
    p
}

/// A part as one side has it.
struct Drawn {
    part: Part,
    /// Made and deleted by the pipeline (not given by name or ARN).
    owned: bool,
    /// The part's own name: a new one on an update makes a new part (and
    /// deletes the old one), as a new `name` does to the parts named
    /// after it.
    ident: String,
    lines: Vec<String>,
    key: Vec<Json>,
}

/// A connection as one side has it.
struct Link {
    from: Part,
    to: Part,
    line: Line,
    label: Option<String>,
}

/// One side's parts and connections.
struct Sketch {
    parts: Vec<Drawn>,
    links: Vec<Link>,
    /// Where the bucket's triggers lead: the event queue or the function.
    entry: Part,
    /// The pipeline's `name`, when known.
    name: Option<String>,
    triggers: Vec<Trigger>,
}

impl Sketch {
    fn part(&self, part: Part) -> Option<&Drawn> {
        self.parts.iter().find(|d| d.part == part)
    }

    fn has(&self, part: Part) -> bool {
        self.part(part).is_some()
    }

    fn link(&mut self, from: Part, to: Part, line: Line, label: Option<String>) {
        self.links.push(Link {
            from,
            to,
            line,
            label,
        });
    }
}

fn sketch(s: &Side) -> Sketch {
    let queued = s.str(&[a(attr::DELIVERY)]) == Some(DELIVERY_QUEUE);
    let mut k = Sketch {
        parts: vec![bucket(s), function(s)],
        links: Vec::new(),
        entry: if queued {
            Part::EventQueue
        } else {
            Part::Function
        },
        triggers: trigger_list(Some(s.v)),
        name: s.name().map(str::to_owned),
    };
    if queued {
        let q = s.block(attr::QUEUE).unwrap_or_else(|| vec![a(attr::QUEUE)]);
        k.parts.push(event_queue(s, &q));
        let batch = s.text(&under(&q, attr::BATCH_SIZE));
        let label = batch.map(|b| format!("batches of {b}"));
        k.link(Part::EventQueue, Part::Function, Line::Solid, label);
    }
    if let Some(st) = s.block(attr::STREAM) {
        k.parts.push(stream(s, &st));
        let batch = s.text(&under(&st, attr::BATCH_SIZE));
        let label = batch.map(|b| format!("batches of {b}"));
        k.link(Part::Stream, Part::Function, Line::Solid, label);
        if s.bool(&under(&st, attr::ALLOW_PUT_RECORDS)) == Some(true) {
            k.link(
                Part::Function,
                Part::Stream,
                Line::Solid,
                Some("puts records".into()),
            );
        }
    }
    if let Some(of) = s.block(attr::ON_FAILURE) {
        k.parts.push(failure_queue(s, &of));
        failure_links(s, &mut k, &of, queued);
    }
    alarms(s, &mut k);
    k
}

fn bucket(s: &Side) -> Drawn {
    let owned = s.bool(&[a(attr::CREATE_BUCKET)]) != Some(false);
    let name = s
        .text(&[a(attr::BUCKET_NAME)])
        .unwrap_or_else(|| "(not set)".into());
    let mut lines = vec![format!("bucket {}", cut(&name))];
    if !owned {
        lines.push("not managed by the pipeline".into());
    }
    let key = s.key(&[
        vec![a(attr::BUCKET_NAME)],
        vec![a(attr::CREATE_BUCKET)],
        vec![a(attr::REQUIRE_TLS)],
        vec![a(attr::FORCE_DESTROY)],
        vec![a(attr::OUTPUT_PREFIX)],
    ]);
    Drawn {
        part: Part::Bucket,
        owned,
        ident: name,
        lines,
        key,
    }
}

fn function(s: &Side) -> Drawn {
    let name = s.part_name(attr::FUNCTION_NAME, false, naming::function_name);
    let f = |k: &str| vec![a(attr::FUNCTION), a(k)];
    let runtime = s.text(&f(attr::RUNTIME)).unwrap_or_default();
    let code = if s.str(&f(attr::PACKAGE_TYPE)) == Some(PACKAGE_IMAGE) {
        let base = vec![a(attr::FUNCTION), a(attr::IMAGE), a(attr::BASE_IMAGE)];
        match s.text(&base) {
            Some(b) => format!("image on {}", cut(&b)),
            None => format!("image, {runtime}"),
        }
    } else {
        runtime
    };
    let key = s.key(&[
        vec![a(attr::FUNCTION)],
        vec![a(attr::FUNCTION_NAME)],
        vec![a(attr::SOURCE_CODE_HASH)],
        vec![a(attr::ROLE_NAME)],
        vec![a(attr::POLICY_JSON)],
        vec![a(attr::LOGS)],
    ]);
    Drawn {
        part: Part::Function,
        owned: true,
        lines: vec![format!("function {}", cut(&name)), code],
        ident: name,
        key,
    }
}

fn event_queue(s: &Side, q: &[Step]) -> Drawn {
    let name = s.part_name(attr::EVENT_QUEUE_ARN, true, naming::event_queue_name);
    let mut lines = vec![format!("event queue {}", cut(&name))];
    if let Some(c) = s.text(&under(q, attr::MAXIMUM_CONCURRENCY)) {
        lines.push(format!("at most {c} at once"));
    }
    Drawn {
        part: Part::EventQueue,
        owned: true,
        ident: name,
        lines,
        key: s.key(&[q.to_vec(), vec![a(attr::DELIVERY)]]),
    }
}

fn stream(s: &Side, st: &[Step]) -> Drawn {
    let given = s.text(&under(st, attr::ARN));
    let owned = given.is_none();
    let name = match &given {
        Some(arn) if arn != LATER => last_field(arn).trim_start_matches("stream/").to_owned(),
        _ => s.part_name(attr::STREAM_NAME, false, str::to_owned),
    };
    let mut lines = vec![format!("stream {}", cut(&name))];
    if !owned {
        lines.push("not managed by the pipeline".into());
    }
    Drawn {
        part: Part::Stream,
        owned,
        ident: name,
        lines,
        key: s.key(&[st.to_vec(), vec![a(attr::STREAM_NAME)]]),
    }
}

fn failure_queue(s: &Side, of: &[Step]) -> Drawn {
    let given = s.text(&under(of, attr::QUEUE_ARN));
    let owned = given.is_none();
    let name = match &given {
        Some(arn) if arn != LATER => last_field(arn),
        _ => s.part_name(attr::FAILURE_QUEUE_ARN, true, naming::failure_queue_name),
    };
    let mut lines = vec![format!("failure queue {}", cut(&name))];
    if !owned {
        lines.push("not managed by the pipeline".into());
    }
    Drawn {
        part: Part::FailureQueue,
        owned,
        ident: name,
        lines,
        key: s.key(&[of.to_vec()]),
    }
}

/// Where failed events go to the failure queue from: the function's
/// asynchronous invocations (direct delivery), the event queue's redrive,
/// the stream mapping's failed batches.
fn failure_links(s: &Side, k: &mut Sketch, of: &[Step], queued: bool) {
    if queued {
        let q = s.block(attr::QUEUE).unwrap_or_else(|| vec![a(attr::QUEUE)]);
        let label = s
            .text(&under(&q, attr::MAX_RECEIVE_COUNT))
            .map_or("failed events".to_owned(), |n| {
                format!("failed events, after {n} receives")
            });
        k.link(
            Part::EventQueue,
            Part::FailureQueue,
            Line::Dotted,
            Some(label),
        );
    } else {
        let label = s
            .text(&under(of, attr::MAXIMUM_RETRY_ATTEMPTS))
            .map_or("failed events".to_owned(), |n| {
                format!("failed events, after {n} retries")
            });
        k.link(
            Part::Function,
            Part::FailureQueue,
            Line::Dotted,
            Some(label),
        );
    }
    if k.has(Part::Stream) {
        k.link(
            Part::Stream,
            Part::FailureQueue,
            Line::Dotted,
            Some("failed batches".into()),
        );
    }
}

// ---- alarms --------------------------------------------------------------

/// An alarm kind: the part it watches, the block's attribute that turns it
/// on (a bool, or a threshold where null turns it off), and what it says.
struct AlarmKind {
    watches: Part,
    setting: &'static str,
    threshold: bool,
    says: fn(&str) -> String,
}

fn alarm_kind(i: usize) -> AlarmKind {
    use alarm_attr::*;
    let k = |watches, setting, threshold, says| AlarmKind {
        watches,
        setting,
        threshold,
        says,
    };
    match ALARM_KINDS.get(i).copied() {
        Some("failed-events") => k(Part::FailureQueue, FAILED_EVENTS, false, |_| {
            "messages waiting > 0".into()
        }),
        Some("error-rate") => k(Part::Function, ERROR_RATE_PERCENT, true, |t| {
            format!("errors ≥ {t} % of invocations, 5 min")
        }),
        Some("throttles") => k(Part::Function, THROTTLES, false, |_| "throttles > 0".into()),
        Some("queue-age") => k(Part::EventQueue, QUEUE_AGE_SECONDS, true, |t| {
            format!("oldest message ≥ {t} s")
        }),
        _ => k(Part::Stream, ITERATOR_AGE_SECONDS, true, |t| {
            format!("iterator age ≥ {t} s")
        }),
    }
}

/// The alarms that fit the side's parts and settings, and their topic.
/// Where `alarm_arns` is known it says which alarms there are.
fn alarms(s: &Side, k: &mut Sketch) {
    use alarm_attr::*;
    let Some(al) = s.block(ALARMS) else { return };
    let arns = match s.get(&[a(ALARM_ARNS)]) {
        Some(Json::Object(m)) if !s.unknown(&[a(ALARM_ARNS)]) => Some(m),
        _ => None,
    };
    for (i, name) in ALARM_KINDS.iter().enumerate() {
        let kind = alarm_kind(i);
        let at = under(&al, kind.setting);
        let on = if kind.threshold {
            s.get(&at).is_some() || s.unknown(&at)
        } else {
            s.bool(&at) != Some(false)
        };
        let fits = k.has(kind.watches);
        let made = arns.map_or(on && fits, |m| m.contains_key(*name) && fits);
        if !made {
            continue;
        }
        let t = s.text(&at).unwrap_or_else(|| "?".into());
        k.parts.push(Drawn {
            part: Part::Alarm(i),
            owned: true,
            ident: (*name).to_owned(),
            lines: vec![format!("alarm {name}"), (kind.says)(&t)],
            key: s.key(std::slice::from_ref(&at)),
        });
        k.link(kind.watches, Part::Alarm(i), Line::Dotted, None);
        k.link(Part::Alarm(i), Part::Topic, Line::Dotted, None);
    }
    k.parts.push(topic(s, &al));
}

/// How many email addresses a topic's label lists before "and N more".
const EMAILS_SHOWN: usize = 3;

fn topic(s: &Side, al: &[Step]) -> Drawn {
    use alarm_attr::*;
    let given = s.text(&under(al, TOPIC_ARN));
    let owned = given.is_none();
    let name = match &given {
        Some(arn) if arn != LATER => last_field(arn),
        _ => s.part_name(ALARM_TOPIC_ARN, true, naming::alarm_topic_name),
    };
    let mut lines = vec![format!("alarm topic {}", cut(&name))];
    if !owned {
        lines.push("not managed by the pipeline".into());
    }
    let emails = under(al, EMAILS);
    match s.get(&emails) {
        Some(_) if marked(s.sens, &emails) => lines.push(format!("emails {SENSITIVE}")),
        Some(Json::Array(list)) if !list.is_empty() => {
            let shown: Vec<String> = list
                .iter()
                .take(EMAILS_SHOWN)
                .map(|e| cut(&e.as_str().map_or_else(|| e.to_string(), str::to_owned)))
                .collect();
            let more = list.len().saturating_sub(EMAILS_SHOWN);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            lines.push(format!("emails {}{tail}", shown.join(", ")));
        }
        _ if s.unknown(&emails) => lines.push(format!("emails {LATER}")),
        _ => {}
    }
    Drawn {
        part: Part::Topic,
        owned,
        ident: name,
        lines,
        key: s.key(&[under(al, TOPIC_ARN), emails]),
    }
}

// ---- comparing the sides -------------------------------------------------

/// A part or connection on both sides: replaced with the pipeline (when
/// the pipeline owns it), else kept or changed.
fn both(mode: Mode, owned: bool, same: bool) -> Status {
    match mode {
        Mode::Replace if owned => Status::Replaced,
        Mode::Forget => Status::Kept,
        _ if same => Status::Kept,
        _ => Status::Changed,
    }
}

/// On one side only: a part the pipeline does not own stays as it is.
fn one(mode: Mode, owned: bool, added: bool) -> Status {
    match (mode, owned, added) {
        (Mode::Forget, _, _) | (_, false, _) => Status::Kept,
        (_, true, true) => Status::Added,
        (_, true, false) => Status::Removed,
    }
}

/// A part of the pipeline's that an update's new `name` renames: a new one
/// is made and the old one deleted.
fn renamed(mode: Mode, names: (&Sketch, &Sketch), before: &Drawn, after: &Drawn) -> bool {
    let (b, n) = names;
    mode == Mode::Update
        && b.name.is_some()
        && n.name.is_some()
        && b.name != n.name
        && before.owned
        && after.owned
        && before.ident != after.ident
        && after.ident != LATER
}

fn nodes(mode: Mode, before: Option<&Sketch>, after: Option<&Sketch>) -> Vec<Node> {
    let mut parts: Vec<Part> = before
        .into_iter()
        .chain(after)
        .flat_map(|k| k.parts.iter().map(|d| d.part))
        .collect();
    parts.sort();
    parts.dedup();
    parts
        .into_iter()
        .filter_map(|part| {
            let b = before.and_then(|k| k.part(part));
            let n = after.and_then(|k| k.part(part));
            let (status, lines) = match (b, n) {
                (Some(bd), Some(nd)) if renamed(mode, (before?, after?), bd, nd) => {
                    (Status::Replaced, &nd.lines)
                }
                (Some(b), Some(n)) => (both(mode, n.owned, b.key == n.key), &n.lines),
                (None, Some(n)) => (one(mode, n.owned, true), &n.lines),
                (Some(b), None) => (one(mode, b.owned, false), &b.lines),
                (None, None) => return None,
            };
            Some(Node {
                part,
                status,
                lines: lines.clone(),
            })
        })
        .collect()
}

fn other_edges(mode: Mode, before: Option<&Sketch>, after: Option<&Sketch>) -> Vec<Edge> {
    fn find<'k>(k: Option<&'k Sketch>, l: &Link) -> Option<&'k Link> {
        k?.links
            .iter()
            .find(|x| (x.from, x.to, x.line) == (l.from, l.to, l.line))
    }
    let edge = |l: &Link, status| Edge {
        from: l.from,
        to: l.to,
        line: l.line,
        label: l.label.clone(),
        status,
    };
    let mut out = Vec::new();
    for l in after.iter().flat_map(|k| &k.links) {
        let status = match find(before, l) {
            Some(b) => both(mode, true, b.label == l.label),
            None => one(mode, true, true),
        };
        out.push(edge(l, status));
    }
    for l in before.iter().flat_map(|k| &k.links) {
        if find(after, l).is_none() {
            out.push(edge(l, one(mode, true, false)));
        }
    }
    out
}

fn trigger_text(n: usize, t: &Trigger) -> String {
    let mut parts = vec![format!("{n}: {}", t.events.join(", "))];
    if !t.prefix.is_empty() {
        parts.push(format!("prefix {}", cut(&t.prefix)));
    }
    if !t.suffix.is_empty() {
        parts.push(format!("suffix {}", cut(&t.suffix)));
    }
    if t.matches_everything() {
        parts.push("every object".into());
    }
    parts.join(" · ")
}

fn trigger_change_text(n: usize, old: &Trigger, new: &Trigger) -> String {
    let or_none = |s: &str| {
        if s.is_empty() {
            "(none)".to_owned()
        } else {
            cut(s)
        }
    };
    let mut parts = vec![if old.events == new.events {
        format!("{n}: {}", new.events.join(", "))
    } else {
        format!("{n}: {} → {}", old.events.join(", "), new.events.join(", "))
    }];
    for (what, o, w) in [
        ("prefix", &old.prefix, &new.prefix),
        ("suffix", &old.suffix, &new.suffix),
    ] {
        if o != w {
            parts.push(format!("{what} {} → {}", or_none(o), or_none(w)));
        } else if !w.is_empty() {
            parts.push(format!("{what} {}", cut(w)));
        }
    }
    parts.join(" · ")
}

/// The bucket's triggers, one connection each to where they lead. When
/// that changes (a new `delivery`), every old one goes and every new one
/// comes.
fn trigger_edges(
    mode: Mode,
    before: Option<&Sketch>,
    after: Option<&Sketch>,
    changes: &[TriggerChange],
) -> Vec<Edge> {
    let edge = |to: Part, label: String, status| Edge {
        from: Part::Bucket,
        to,
        line: Line::Solid,
        label: Some(label),
        status,
    };
    let all = |k: &Sketch, status: Status| -> Vec<Edge> {
        let it = k.triggers.iter().enumerate();
        it.map(|(i, t)| edge(k.entry, trigger_text(i + 1, t), status))
            .collect()
    };
    match (before, after) {
        (None, None) => Vec::new(),
        (Some(b), None) => all(b, one(mode, true, false)),
        (None, Some(n)) => all(n, one(mode, true, true)),
        (Some(b), Some(n)) if b.entry != n.entry => {
            let mut out = all(b, Status::Removed);
            out.extend(all(n, Status::Added));
            out
        }
        (Some(b), Some(n)) => {
            let mut out = Vec::new();
            for (i, t) in n.triggers.iter().enumerate() {
                let change = changes.iter().find_map(|c| match c {
                    TriggerChange::Added { index, .. } if *index == i => Some(None),
                    TriggerChange::Changed { index, old, .. } if *index == i => Some(Some(old)),
                    _ => None,
                });
                out.push(match change {
                    Some(None) => edge(n.entry, trigger_text(i + 1, t), Status::Added),
                    Some(Some(old)) => edge(
                        n.entry,
                        trigger_change_text(i + 1, old, t),
                        both(mode, true, false),
                    ),
                    None => edge(n.entry, trigger_text(i + 1, t), both(mode, true, true)),
                });
            }
            for c in changes {
                if let TriggerChange::Removed { index, trigger } = c {
                    out.push(edge(
                        b.entry,
                        trigger_text(index + 1, trigger),
                        Status::Removed,
                    ));
                }
            }
            out
        }
    }
}
