//! From a plan to what a reviewer reads: one [`Pipeline`] section per
//! `eventpipe_event_pipeline` change, and counts for everything else. Pure:
//! the same plan and day give the same summary.
//!
//! Sensitive values never reach a section: `function.environment` is never
//! read, and a value the plan marks sensitive (before or after) is kept
//! only as [`Shown::Sensitive`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::diagram;
use super::iam;
use super::keys::{self, BucketKey};
use super::plan_json::{Action, Plan, ResourceChange, Step, marked};
use crate::pipeline::runtimes::{self, Day, Use, Verdict};
use crate::pipeline::schema;
use crate::pipeline::state::{PACKAGE_ZIP, attr};

/// What summarizing depends on beside the plan.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// The day runtime deprecations are judged on.
    pub today: Day,
    /// `--expect-kms-key`: the KMS key ARNs a pipeline's bucket may be
    /// encrypted with. Empty: no expectation.
    pub expect_kms_keys: &'a [String],
}

impl Options<'static> {
    /// Judged on today's date, from the system clock; no key expected.
    pub fn today() -> Options<'static> {
        Options {
            today: Day::today(),
            expect_kms_keys: &[],
        }
    }
}

/// What happens to a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PipelineAction {
    Create,
    Update,
    /// Forced by these attributes (paths such as `name`), or by `-replace`
    /// when `requested`.
    Replace {
        forced_by: Vec<String>,
        requested: bool,
    },
    Delete,
    /// Removed from the state, left in AWS.
    Forget,
    /// `import` of an existing pipeline, then `then` (no-op or update).
    Import {
        id: String,
        then: Action,
    },
    /// `import` with an `adopt:` id: a pipeline wired by hand taken over.
    Adopt {
        id: String,
        then: Action,
    },
}

/// How a value appears in the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Not set.
    Absent,
    /// Rendered as HCL-like text.
    Value(String),
    Unknown,
    Sensitive,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// `function.memory_size`, `stream.shard_count`, …
    pub name: String,
    pub old: Shown,
    pub new: Shown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub events: Vec<String>,
    pub prefix: String,
    pub suffix: String,
}

impl Trigger {
    pub fn matches_everything(&self) -> bool {
        self.prefix.is_empty() && self.suffix.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerChange {
    /// `index` is the trigger's position in the new configuration.
    Added { index: usize, trigger: Trigger },
    /// `index` is its position in the old one.
    Removed { index: usize, trigger: Trigger },
    Changed {
        index: usize,
        old: Trigger,
        new: Trigger,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileChangeKind {
    Added,
    Removed,
    Modified,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub kind: FileChangeKind,
}

/// The function's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub old_hash: Option<String>,
    pub new_hash: Shown,
    /// The files that changed, when both sides list them.
    pub files: Vec<FileChange>,
    /// Set when a side holds more files than the state lists: the counts
    /// before and after.
    pub unlisted: Option<(Option<u64>, Option<u64>)>,
    /// The new file list is known only after apply.
    pub files_unknown: bool,
    /// An image's base digest (`image_base_digest`) when it changes: before
    /// and after.
    pub base: Option<(Option<String>, Shown)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Iam {
    Unchanged,
    /// The new policy is known only after apply.
    Unknown,
    /// A side could not be read as a policy.
    Unreadable(String),
    Changed(iam::Diff),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Risk {
    TlsOff,
    BucketNotManaged {
        bucket: String,
    },
    BucketDeleted {
        bucket: String,
        force_destroy: bool,
    },
    TriggerMatchesEverything {
        index: usize,
    },
    Runtime {
        message: String,
        blocked: bool,
    },
    /// A new `name` replaces a part named after it (function, role, queue,
    /// stream): a new one is made under the new name, the old one deleted.
    PartRenamed {
        part: &'static str,
        old: String,
        new: String,
    },
    /// `function.package_type` changes: Lambda cannot change it in place,
    /// so the function alone is replaced; the data stays.
    PackageTypeChanged {
        from: String,
        to: String,
    },
    /// `--expect-kms-key`: the bucket is not encrypted with an expected key.
    UnexpectedKmsKey {
        bucket: String,
        expected: Vec<String>,
        found: BucketKey,
    },
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Risk::TlsOff => write!(
                f,
                "require_tls is off: the bucket accepts requests without TLS"
            ),
            Risk::BucketNotManaged { bucket } => write!(
                f,
                "create_bucket = false: the pipeline does not manage bucket {bucket} (its \
                 encryption, public access block and TLS policy are someone else's)"
            ),
            Risk::BucketDeleted {
                bucket,
                force_destroy: true,
            } => write!(
                f,
                "bucket {bucket} is deleted, and force_destroy = true deletes every object in it"
            ),
            Risk::BucketDeleted {
                bucket,
                force_destroy: false,
            } => write!(
                f,
                "bucket {bucket} is deleted; force_destroy = false, so the destroy fails (and \
                 deletes nothing) if it still holds objects"
            ),
            Risk::TriggerMatchesEverything { index } => write!(
                f,
                "trigger {} has no prefix or suffix: it fires on every object in the bucket",
                index + 1
            ),
            Risk::Runtime { message, .. } => write!(f, "runtime: {message}"),
            Risk::PartRenamed { part, old, new } => write!(
                f,
                "the {part} {old} is replaced by {new}: the new name makes a new one, and the \
                 old one is deleted"
            ),
            Risk::PackageTypeChanged { from, to } => write!(
                f,
                "function replaced (package_type {from} → {to}); data kept: the bucket and its \
                 objects, the queues, the stream and the log group stay"
            ),
            Risk::UnexpectedKmsKey {
                bucket,
                expected,
                found,
            } => {
                let which = match expected.as_slice() {
                    [one] => format!("the expected key {one}"),
                    many => format!("an expected key ({})", many.join(" or ")),
                };
                write!(
                    f,
                    "bucket {bucket} is not encrypted with {which} (found: {found})"
                )
            }
        }
    }
}

/// One pipeline's section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    pub address: String,
    /// The pipeline's `name` (after, or before for a delete), when known.
    pub name: Option<String>,
    pub action: PipelineAction,
    pub iam: Iam,
    pub code: Option<Code>,
    pub triggers: Vec<TriggerChange>,
    pub settings: Vec<Setting>,
    pub risks: Vec<Risk>,
    /// The pipeline's parts and what the plan does to each.
    pub diagram: diagram::Graph,
}

/// Resources of another type, counted by action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Others {
    pub by_action: BTreeMap<Action, usize>,
    pub types: BTreeSet<String>,
}

/// A risk flag of a pipeline the plan leaves unchanged (only
/// `--expect-kms-key` flags one: the expectation holds for every pipeline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnchangedRisk {
    pub address: String,
    pub name: Option<String>,
    pub risk: Risk,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub terraform_version: String,
    pub pipelines: Vec<Pipeline>,
    pub unchanged_pipelines: usize,
    /// Risk flags of unchanged pipelines.
    pub unchanged_risks: Vec<UnchangedRisk>,
    pub others: Others,
}

impl Summary {
    pub fn iam_change(&self) -> bool {
        self.pipelines
            .iter()
            .any(|p| matches!(&p.iam, Iam::Changed(_) | Iam::Unknown | Iam::Unreadable(_)))
    }

    /// Whether any pipeline may do more than before. A policy not known
    /// until apply, or unreadable, counts: it cannot be shown not to widen.
    pub fn iam_widening(&self) -> bool {
        self.pipelines.iter().any(|p| match &p.iam {
            Iam::Changed(d) => !d.widenings.is_empty(),
            Iam::Unknown | Iam::Unreadable(_) => true,
            Iam::Unchanged => false,
        })
    }

    /// Any resource replaced, pipeline or not.
    pub fn replace(&self) -> bool {
        self.others.by_action.contains_key(&Action::Replace)
            || self
                .pipelines
                .iter()
                .any(|p| matches!(p.action, PipelineAction::Replace { .. }))
    }

    /// Any resource deleted, pipeline or not (a replacement is `replace`).
    pub fn delete(&self) -> bool {
        self.others.by_action.contains_key(&Action::Delete)
            || self
                .pipelines
                .iter()
                .any(|p| p.action == PipelineAction::Delete)
    }

    pub fn risk(&self) -> bool {
        !self.unchanged_risks.is_empty() || self.pipelines.iter().any(|p| !p.risks.is_empty())
    }

    /// Whether a pipeline's bucket is not encrypted with the key
    /// `--expect-kms-key` expects.
    pub fn unexpected_kms_key(&self) -> bool {
        self.pipelines
            .iter()
            .flat_map(|p| &p.risks)
            .chain(self.unchanged_risks.iter().map(|u| &u.risk))
            .any(|r| matches!(r, Risk::UnexpectedKmsKey { .. }))
    }
}

/// Builds the summary of `plan`.
pub fn summarize(plan: &Plan, opts: Options) -> Summary {
    let mut pipelines = Vec::new();
    let mut unchanged = 0;
    let mut unchanged_risks = Vec::new();
    let mut others = Others {
        by_action: BTreeMap::new(),
        types: BTreeSet::new(),
    };
    for c in plan.changes.iter().filter(|c| c.mode == "managed") {
        if c.type_name != schema::TYPE_NAME {
            *others.by_action.entry(c.action).or_default() += 1;
            others.types.insert(c.type_name.clone());
        } else if c.action == Action::NoOp && c.importing.is_none() {
            unchanged += 1;
            if let Some(risk) = unexpected_kms_key(c, opts) {
                unchanged_risks.push(UnchangedRisk {
                    address: c.address.clone(),
                    name: get_str(c.after.as_ref(), &[a(attr::NAME)]),
                    risk,
                });
            }
        } else {
            pipelines.push(pipeline(c, opts));
        }
    }
    Summary {
        terraform_version: plan.terraform_version.clone(),
        pipelines,
        unchanged_pipelines: unchanged,
        unchanged_risks,
        others,
    }
}

pub(super) fn a(name: &str) -> Step {
    Step::Attr(name.to_owned())
}

pub(super) fn get<'v>(v: Option<&'v Json>, path: &[Step]) -> Option<&'v Json> {
    let mut at = v?;
    for s in path {
        at = match (s, at) {
            (Step::Attr(k), Json::Object(o)) => o.get(k)?,
            (Step::Index(i), Json::Array(l)) => l.get(usize::try_from(*i).ok()?)?,
            _ => return None,
        };
    }
    (!at.is_null()).then_some(at)
}

fn get_str(v: Option<&Json>, path: &[Step]) -> Option<String> {
    get(v, path).and_then(Json::as_str).map(str::to_owned)
}

fn get_bool(v: Option<&Json>, path: &[Step]) -> Option<bool> {
    get(v, path).and_then(Json::as_bool)
}

fn path_text(path: &[Step]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Step::Attr(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn pipeline(c: &ResourceChange, opts: Options) -> Pipeline {
    let before = c.before.as_ref();
    let after = c.after.as_ref();
    let name = get_str(after, &[a(attr::NAME)]).or_else(|| get_str(before, &[a(attr::NAME)]));
    let action = match (&c.importing, c.action) {
        (Some(id), then) if id.starts_with(crate::pipeline::ownership::ADOPT_PREFIX) => {
            PipelineAction::Adopt {
                id: id.clone(),
                then,
            }
        }
        (Some(id), then) => PipelineAction::Import {
            id: id.clone(),
            then,
        },
        (None, Action::Replace) => PipelineAction::Replace {
            forced_by: forced_by(c),
            requested: c.action_reason.as_deref() == Some("replace_by_request"),
        },
        (None, Action::Delete) => PipelineAction::Delete,
        (None, Action::Forget) => PipelineAction::Forget,
        (None, Action::Create) => PipelineAction::Create,
        (None, _) => PipelineAction::Update,
    };
    let going = matches!(c.action, Action::Delete | Action::Forget);
    let iam = if going { Iam::Unchanged } else { iam_of(c) };
    let code = if going { None } else { code_of(c) };
    let triggers = if going { Vec::new() } else { triggers_of(c) };
    let settings = if c.before.is_some() && !going {
        settings_of(c)
    } else {
        Vec::new()
    };
    let risks = risks_of(c, &triggers, opts);
    let diagram = diagram::graph(c, &action, &triggers);
    Pipeline {
        address: c.address.clone(),
        name,
        action,
        iam,
        code,
        triggers,
        settings,
        risks,
        diagram,
    }
}

/// The attributes that force a replacement: the plan's `replace_paths`
/// (1.1+), or on 1.0 the schema's force-new attributes whose value changes.
/// There a name derived from `name` (function, role, bucket) that changes
/// only because `name` does is left out, as the provider itself does.
fn forced_by(c: &ResourceChange) -> Vec<String> {
    if let Some(paths) = &c.replace_paths {
        return paths.iter().map(|p| path_text(p)).collect();
    }
    let (before, after) = (c.before.as_ref(), c.after.as_ref());
    let names = (
        get_str(before, &[a(attr::NAME)]),
        get_str(after, &[a(attr::NAME)]),
    );
    let renamed = matches!(&names, (Some(o), Some(n)) if o != n);
    // Partition, region and account, from the function's ARN.
    let loc = get_str(before, &[a(attr::FUNCTION_ARN)]).and_then(|arn| {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        (parts.len() == 6).then(|| {
            (
                parts[1].to_owned(),
                parts[3].to_owned(),
                parts[4].to_owned(),
            )
        })
    });
    let derived = |attribute: &str, name: &str| -> Option<String> {
        use crate::pipeline::naming;
        match attribute {
            x if x == attr::FUNCTION_NAME => Some(naming::function_name(name)),
            x if x == attr::ROLE_NAME => Some(naming::role_name(name)),
            x if x == attr::BUCKET_NAME => loc
                .as_ref()
                .map(|(p, r, acct)| naming::derived_bucket_name(name, p, acct, r)),
            _ => None,
        }
    };
    let follows_name = |attribute: &str| -> bool {
        let (Some(old_name), Some(new_name)) = (&names.0, &names.1) else {
            return false;
        };
        let p = [a(attribute)];
        renamed
            && get_str(before, &p) == derived(attribute, old_name)
            && get_str(after, &p) == derived(attribute, new_name)
    };
    let mut forced: Vec<String> = schema::schema()
        .block
        .attributes
        .iter()
        .filter(|at| at.force_new)
        .filter(|at| {
            let p = [a(at.name)];
            let changed = get(before, &p) != get(after, &p);
            // A name left unset shows as unknown when another one changes;
            // only a changed known value forces.
            changed && !marked(&c.after_unknown, &p) && !follows_name(at.name)
        })
        .map(|at| at.name.to_owned())
        .collect();
    // A new `name` is taken in place unless a part derives its name from
    // it; a replacement nothing else explains is that case.
    if forced.is_empty() && renamed {
        forced.push(attr::NAME.to_owned());
    }
    forced
}

fn iam_of(c: &ResourceChange) -> Iam {
    let p = [a(attr::POLICY_JSON)];
    if marked(&c.after_unknown, &p) {
        return Iam::Unknown;
    }
    let before = get_str(c.before.as_ref(), &p);
    let after = get_str(c.after.as_ref(), &p);
    if before == after {
        return Iam::Unchanged;
    }
    let read = |t: &Option<String>| match t.as_deref().filter(|t| !t.is_empty()) {
        None => Ok(iam::Policy::default()),
        Some(t) => iam::parse(t),
    };
    match (read(&before), read(&after)) {
        (Ok(old), Ok(new)) => {
            let d = iam::diff(&old, &new);
            if d.is_empty() {
                Iam::Unchanged
            } else {
                Iam::Changed(d)
            }
        }
        (Err(e), _) | (_, Err(e)) => Iam::Unreadable(e.to_string()),
    }
}

fn file_map(v: Option<&Json>) -> Option<BTreeMap<String, String>> {
    let Json::Object(o) = get(v, &[a(attr::SOURCE_FILES)])? else {
        return None;
    };
    Some(
        o.iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
    )
}

fn file_count(v: Option<&Json>) -> Option<u64> {
    get(v, &[a(attr::SOURCE_FILE_COUNT)]).and_then(Json::as_u64)
}

fn code_of(c: &ResourceChange) -> Option<Code> {
    let p = [a(attr::SOURCE_CODE_HASH)];
    let old_hash = get_str(c.before.as_ref(), &p);
    let new_hash = if marked(&c.after_unknown, &p) {
        Shown::Unknown
    } else {
        get_str(c.after.as_ref(), &p).map_or(Shown::Absent, Shown::Value)
    };
    if Shown::Value(old_hash.clone().unwrap_or_default()) == new_hash {
        return None;
    }
    let files_unknown = marked(&c.after_unknown, &[a(attr::SOURCE_FILES)]);
    let old_files = file_map(c.before.as_ref()).unwrap_or_default();
    let new_files = if files_unknown {
        BTreeMap::new()
    } else {
        file_map(c.after.as_ref()).unwrap_or_default()
    };
    let (old_count, new_count) = (file_count(c.before.as_ref()), file_count(c.after.as_ref()));
    let listed = |files: &BTreeMap<String, String>, count: Option<u64>| {
        count.is_none_or(|n| n == files.len() as u64)
    };
    let unlisted = (!listed(&old_files, old_count) && c.before.is_some()
        || !files_unknown && !listed(&new_files, new_count))
    .then_some((old_count, new_count));
    let mut files = Vec::new();
    if unlisted.is_none() && !files_unknown {
        for (path, hash) in &new_files {
            match old_files.get(path) {
                None => files.push(FileChange {
                    path: path.clone(),
                    kind: FileChangeKind::Added,
                }),
                Some(h) if h != hash => files.push(FileChange {
                    path: path.clone(),
                    kind: FileChangeKind::Modified,
                }),
                Some(_) => {}
            }
        }
        for path in old_files.keys().filter(|k| !new_files.contains_key(*k)) {
            files.push(FileChange {
                path: path.clone(),
                kind: FileChangeKind::Removed,
            });
        }
        files.sort_by(|x, y| x.path.cmp(&y.path));
    }
    Some(Code {
        old_hash,
        new_hash,
        files,
        unlisted,
        files_unknown,
        base: base_change(c),
    })
}

/// `image_base_digest` before and after, when it changes (a base that
/// moved, or a switch of package_type).
fn base_change(c: &ResourceChange) -> Option<(Option<String>, Shown)> {
    let p = [a(attr::IMAGE_BASE_DIGEST)];
    let old = get_str(c.before.as_ref(), &p);
    let new = if marked(&c.after_unknown, &p) {
        Shown::Unknown
    } else {
        get_str(c.after.as_ref(), &p).map_or(Shown::Absent, Shown::Value)
    };
    let same = match (&old, &new) {
        (None, Shown::Absent) => true,
        (Some(o), Shown::Value(n)) => o == n,
        _ => false,
    };
    (!same).then_some((old, new))
}

pub(super) fn trigger_list(v: Option<&Json>) -> Vec<Trigger> {
    let Some(Json::Array(list)) = get(v, &[a(attr::TRIGGER)]) else {
        return Vec::new();
    };
    list.iter()
        .map(|t| {
            let s = |k: &str| get_str(Some(t), &[a(k)]).unwrap_or_default();
            let mut events: Vec<String> = match get(Some(t), &[a(attr::EVENTS)]) {
                Some(Json::Array(e)) => e
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            events.sort();
            Trigger {
                events,
                prefix: s(attr::FILTER_PREFIX),
                suffix: s(attr::FILTER_SUFFIX),
            }
        })
        .collect()
}

/// Pairs identical triggers first (wherever they moved), then the rest by
/// position; what is left over was added or removed.
fn triggers_of(c: &ResourceChange) -> Vec<TriggerChange> {
    let old = trigger_list(c.before.as_ref());
    let new = trigger_list(c.after.as_ref());
    let mut old_left: Vec<Option<&Trigger>> = old.iter().map(Some).collect();
    let mut new_left: Vec<Option<&Trigger>> = new.iter().map(Some).collect();
    for n in new_left.iter_mut() {
        if let Some(slot) = old_left.iter_mut().find(|o| *o == &*n) {
            *slot = None;
            *n = None;
        }
    }
    let olds: Vec<(usize, &Trigger)> = old_left
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (i, t)))
        .collect();
    let news: Vec<(usize, &Trigger)> = new_left
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (i, t)))
        .collect();
    let mut out = Vec::new();
    for k in 0..olds.len().max(news.len()) {
        match (olds.get(k), news.get(k)) {
            (Some((_, o)), Some((i, n))) => out.push(TriggerChange::Changed {
                index: *i,
                old: (*o).clone(),
                new: (*n).clone(),
            }),
            (None, Some((i, n))) => out.push(TriggerChange::Added {
                index: *i,
                trigger: (*n).clone(),
            }),
            (Some((i, o)), None) => out.push(TriggerChange::Removed {
                index: *i,
                trigger: (*o).clone(),
            }),
            (None, None) => {}
        }
    }
    out
}

/// HCL-like text of a value.
pub fn hcl(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::String(s) => Json::String(s.clone()).to_string(),
        Json::Array(l) => format!("[{}]", l.iter().map(hcl).collect::<Vec<_>>().join(", ")),
        Json::Object(o) => format!(
            "{{ {} }}",
            o.iter()
                .map(|(k, v)| format!("{k} = {}", hcl(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The settings compared, in the order a reviewer reads them. Blocks are
/// compared leaf by leaf.
fn setting_roots() -> Vec<Vec<Step>> {
    let f = |k: &str| vec![a(attr::FUNCTION), a(k)];
    let t = |k: &str| vec![a(k)];
    vec![
        f(attr::MEMORY_SIZE),
        f(attr::TIMEOUT),
        f(attr::RUNTIME),
        f(attr::RESERVED_CONCURRENCY),
        t(attr::ON_FAILURE),
        t(attr::STREAM),
        t(attr::DELIVERY),
        t(attr::QUEUE),
        t(attr::LOGS),
        f(attr::HANDLER),
        f(attr::ARCHITECTURE),
        f(attr::EPHEMERAL_STORAGE),
        f(attr::LAYERS),
        f(attr::DESCRIPTION),
        f(attr::SOURCE_DIR),
        t(attr::OUTPUT_PREFIX),
        t(attr::REQUIRE_TLS),
        t(attr::CREATE_BUCKET),
        t(attr::BUCKET_ENCRYPTION),
        t(attr::FORCE_DESTROY),
        t(attr::BACKFILL),
        t(attr::TAGS),
    ]
}

/// The leaves under `path` of one side: blocks are walked, a map (tags)
/// is one leaf (its keys are data, not attributes), and anything marked
/// sensitive is one opaque leaf.
fn leaves(side: Option<&Json>, sens: &Json, path: Vec<Step>, out: &mut Leaves) {
    let Some(v) = get(side, &path) else { return };
    if marked(sens, &path) {
        out.insert(path_text(&path), (path, Shown::Sensitive, v.clone()));
        return;
    }
    match v {
        Json::Object(o) if !is_map(&path) => {
            for k in o.keys() {
                let mut p = path.clone();
                p.push(a(k));
                leaves(side, sens, p, out);
            }
        }
        _ => {
            out.insert(path_text(&path), (path, Shown::Value(hcl(v)), v.clone()));
        }
    }
}

type Leaves = BTreeMap<String, (Vec<Step>, Shown, Json)>;

fn is_map(path: &[Step]) -> bool {
    matches!(path, [Step::Attr(k)] if k == attr::TAGS)
}

fn settings_of(c: &ResourceChange) -> Vec<Setting> {
    let mut out = Vec::new();
    let shown =
        |x: Option<&(Vec<Step>, Shown, Json)>| x.map_or(Shown::Absent, |(_, s, _)| s.clone());
    for root in setting_roots() {
        let mut old = Leaves::new();
        let mut new = Leaves::new();
        leaves(
            c.before.as_ref(),
            &c.before_sensitive,
            root.clone(),
            &mut old,
        );
        leaves(c.after.as_ref(), &c.after_sensitive, root.clone(), &mut new);
        if marked(&c.after_unknown, &root) && get(c.after.as_ref(), &root).is_none() {
            // The whole block or attribute is known only after apply.
            let was = match get(c.before.as_ref(), &root) {
                None => Shown::Absent,
                Some(_) if marked(&c.before_sensitive, &root) => Shown::Sensitive,
                Some(v) => Shown::Value(hcl(v)),
            };
            out.push(Setting {
                name: path_text(&root),
                old: was,
                new: Shown::Unknown,
            });
            continue;
        }
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for k in keys {
            let (o, n) = (old.get(k), new.get(k));
            let unknown = n.or(o).is_some_and(|(p, _, _)| marked(&c.after_unknown, p));
            let same = match (o, n) {
                (Some((_, _, ov)), Some((_, _, nv))) => ov == nv && !unknown,
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            let new = match shown(n) {
                Shown::Sensitive => Shown::Sensitive,
                _ if unknown && n.is_none() && marked(&c.after_sensitive, &root) => {
                    Shown::Sensitive
                }
                _ if unknown => Shown::Unknown,
                s => s,
            };
            out.push(Setting {
                name: k.clone(),
                old: shown(o),
                new,
            });
        }
    }
    out
}

/// A part a name derives from `name`: what it is called, the attribute
/// that names it, whether that is an ARN, and how `name` gives it.
type NamedPart = (&'static str, &'static str, bool, fn(&str) -> String);

/// The parts an update's new `name` replaces: those whose name changes
/// from the one the old name gives to the one the new name gives.
fn renamed_parts(before: Option<&Json>, after: Option<&Json>) -> Vec<Risk> {
    use crate::pipeline::naming;
    let (Some(old_name), Some(new_name)) = (
        get_str(before, &[a(attr::NAME)]),
        get_str(after, &[a(attr::NAME)]),
    ) else {
        return Vec::new();
    };
    if old_name == new_name {
        return Vec::new();
    }
    let last = |arn: String| arn.rsplit(':').next().unwrap_or_default().to_owned();
    let parts: [NamedPart; 5] = [
        (
            "function",
            attr::FUNCTION_NAME,
            false,
            naming::function_name,
        ),
        ("role", attr::ROLE_NAME, false, naming::role_name),
        (
            "failure queue",
            attr::FAILURE_QUEUE_ARN,
            true,
            naming::failure_queue_name,
        ),
        (
            "event queue",
            attr::EVENT_QUEUE_ARN,
            true,
            naming::event_queue_name,
        ),
        ("stream", attr::STREAM_NAME, false, str::to_owned),
    ];
    parts
        .into_iter()
        .filter_map(|(part, at, is_arn, derive)| {
            let read = |v| get_str(v, &[a(at)]).map(|s| if is_arn { last(s) } else { s });
            let (old, new) = (read(before)?, read(after)?);
            (old == derive(&old_name) && new == derive(&new_name) && old != new)
                .then_some(Risk::PartRenamed { part, old, new })
        })
        .collect()
}

/// An update's switch of `function.package_type` (a state from before
/// images has none: a zip).
fn package_type_switch(before: Option<&Json>, after: Option<&Json>) -> Option<Risk> {
    let at = [a(attr::FUNCTION), a(attr::PACKAGE_TYPE)];
    let to = get_str(after, &at)?;
    let from = get_str(before, &at).unwrap_or_else(|| PACKAGE_ZIP.to_owned());
    (from != to).then_some(Risk::PackageTypeChanged { from, to })
}

/// `--expect-kms-key`: the flag of a pipeline that stays (not deleted or
/// forgotten) whose bucket is not encrypted with an expected key.
fn unexpected_kms_key(c: &ResourceChange, opts: Options) -> Option<Risk> {
    let stays = !matches!(c.action, Action::Delete | Action::Forget) && c.after.is_some();
    if opts.expect_kms_keys.is_empty() || !stays {
        return None;
    }
    let found = keys::bucket_key(c);
    (!found.is_one_of(opts.expect_kms_keys)).then(|| Risk::UnexpectedKmsKey {
        bucket: get_str(c.after.as_ref(), &[a(attr::BUCKET_NAME)])
            .unwrap_or_else(|| "(known after apply)".into()),
        expected: opts.expect_kms_keys.to_vec(),
        found,
    })
}

fn risks_of(c: &ResourceChange, triggers: &[TriggerChange], opts: Options) -> Vec<Risk> {
    let before = c.before.as_ref();
    let after = c.after.as_ref();
    let mut out = Vec::new();
    let arrives = c.action != Action::Delete && c.action != Action::Forget && after.is_some();
    let new_identity =
        matches!(c.action, Action::Create | Action::Replace) || c.importing.is_some();
    if arrives {
        let tls = |v| get_bool(v, &[a(attr::REQUIRE_TLS)]);
        if tls(after) == Some(false) && (new_identity || tls(before) != Some(false)) {
            out.push(Risk::TlsOff);
        }
        let owns = |v| get_bool(v, &[a(attr::CREATE_BUCKET)]);
        // A trigger added or changed on a bucket the pipeline does not
        // manage changes someone else's bucket, as a new pipeline on it does.
        let triggers_change = triggers.iter().any(|t| {
            matches!(
                t,
                TriggerChange::Added { .. } | TriggerChange::Changed { .. }
            )
        });
        if owns(after) == Some(false)
            && (new_identity || owns(before) != Some(false) || triggers_change)
        {
            out.push(Risk::BucketNotManaged {
                bucket: get_str(after, &[a(attr::BUCKET_NAME)])
                    .unwrap_or_else(|| "(known after apply)".into()),
            });
        }
    }
    if c.action == Action::Update {
        out.extend(renamed_parts(before, after));
        out.extend(package_type_switch(before, after));
    }
    if matches!(c.action, Action::Delete | Action::Replace)
        && get_bool(before, &[a(attr::CREATE_BUCKET)]) != Some(false)
    {
        out.push(Risk::BucketDeleted {
            bucket: get_str(before, &[a(attr::BUCKET_NAME)]).unwrap_or_default(),
            force_destroy: get_bool(before, &[a(attr::FORCE_DESTROY)]) == Some(true),
        });
    }
    for t in triggers {
        match t {
            TriggerChange::Added { index, trigger }
            | TriggerChange::Changed {
                index,
                new: trigger,
                ..
            } if trigger.matches_everything() => {
                out.push(Risk::TriggerMatchesEverything { index: *index });
            }
            _ => {}
        }
    }
    if arrives {
        let rt = [a(attr::FUNCTION), a(attr::RUNTIME)];
        if let Some(id) = get_str(after, &rt) {
            let usage = if new_identity {
                Use::Create
            } else {
                Use::Update
            };
            match runtimes::verdict(&id, usage, opts.today) {
                Verdict::Fine => {}
                Verdict::Warning(message) => out.push(Risk::Runtime {
                    message,
                    blocked: false,
                }),
                Verdict::Error(message) => out.push(Risk::Runtime {
                    message,
                    blocked: true,
                }),
            }
        }
    }
    out.extend(unexpected_kms_key(c, opts));
    out
}
