//! Planning: derived names, replacement, and the values a reviewer needs to
//! see in the plan (`policy_json`, `source_code_hash`).
//!
//! Planning is pure: the account and region come in through [`PlanEnv`],
//! the source tree was scanned once beforehand ([`Source`]), and the same
//! inputs always give the same plan, so Terraform's apply-time re-plan
//! matches the saved one.

use std::collections::BTreeMap;

use tfsdk::access::Field;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};

use super::package::Build;
use super::part::Part;
use super::parts::{self, Plan};
use super::state::{DELIVERY_QUEUE, Known, PACKAGE_IMAGE, Planning, State, attr, path};
use super::{naming, policy};

/// What planning needs to know about where the pipeline goes.
#[derive(Clone, Debug)]
pub struct PlanEnv {
    pub location: policy::Location,
    pub default_tags: BTreeMap<String, String>,
    /// The customer-managed keys the plan's looks found.
    pub keys: policy::KeyGrants,
}

/// A planned state and the attributes whose change forces a replacement.
#[derive(Debug)]
pub struct PlannedState {
    pub state: State<Planning>,
    pub requires_replace: Vec<AttrPath>,
    pub diags: Diagnostics,
    /// What a change of `name` does to each part, when it changes.
    pub rename: Option<Rename>,
}

/// Plans a create, update or replace. `config` is the configuration with
/// the schema's defaults filled in; `build` the scan of its `source_dir`
/// and the dependencies it declares;
/// `backfill_pending` says an earlier backfill did not finish.
pub fn plan(
    env: &PlanEnv,
    prior: Option<&State<Known>>,
    config: &State<Planning>,
    build: &Build,
    backfill_pending: bool,
) -> PlannedState {
    let name = config.name.clone();

    // Replacement: identity attributes that changed (or may change).
    let mut requires_replace = Vec::new();
    let mut rename = None;
    if let Some(prior) = prior {
        if name != Field::Known(prior.name.clone()) {
            // A new name is taken in place; the parts named after it are
            // made anew under it, the old ones deleted after (steps::renamed).
            rename = Some(Rename::of(prior, config));
        }
        // Set names that differ from the recorded ones (unset ones keep
        // or derive theirs).
        for (name, given, recorded) in [
            (attr::BUCKET_NAME, &config.bucket_name, &prior.bucket_name),
            (
                attr::FUNCTION_NAME,
                &config.function_name,
                &prior.function_name,
            ),
            (attr::ROLE_NAME, &config.role_name, &prior.role_name),
        ] {
            if !given.is_null() && *given != Field::Known(recorded.clone()) {
                requires_replace.push(path::top(name));
            }
        }
    }
    let same_identity = prior.filter(|_| requires_replace.is_empty());

    let mut p = Plan {
        loc: &env.location,
        keys: &env.keys,
        config,
        same_identity,
        // A part named after a changed `name` takes the new one.
        renamed: Part::ALL
            .into_iter()
            .filter(|p| rename.as_ref().is_some_and(|r| r.replaces(*p)))
            .collect(),
        build,
        s: config.clone(),
        diags: Diagnostics::new(),
    };
    for decide in PLAN {
        decide(&mut p);
    }
    let (mut s, mut diags) = (p.s, p.diags);
    s.id = name.clone();
    s.backfilled_objects = backfilled_objects(prior, config, backfill_pending);
    // Tags: provider defaults under the resource's own.
    s.tags_all = match &config.tags {
        Field::Unknown => Field::Unknown,
        tags => {
            let mut all = env.default_tags.clone();
            all.extend(tags.as_known().cloned().unwrap_or_default());
            Field::Known(all)
        }
    };

    if let Some(w) = same_identity.and_then(|p| bucket_switch(p, &s)) {
        diags.push(w);
    }
    if let Some(w) = same_identity.and_then(|p| package_switch(p, &s)) {
        diags.push(w);
    }
    if let (Some(prior), Some(r)) = (prior, &rename) {
        diags.push(r.warning(prior, &s));
    }

    PlannedState {
        state: s,
        requires_replace,
        diags,
        rename,
    }
}

/// The parts' plan decisions, in an order where each comes after what it
/// reads: the policy scopes every name the others plan.
const PLAN: &[fn(&mut Plan)] = &[
    parts::bucket::plan,
    parts::function::plan,
    parts::role::plan,
    parts::notification::plan,
    parts::log_group::plan,
    parts::failure_queue::plan,
    parts::stream::plan,
    parts::stream_mapping::plan,
    parts::repository::plan,
    parts::event_queue::plan,
    parts::event_queue_mapping::plan,
    parts::permission::plan,
    parts::policy::plan,
    parts::alarms::plan,
];

/// What a change of `name` does to each part. A part keeps its own name
/// and is retagged in place, unless its name derives from `name`: the
/// function and the role when `function_name` / `role_name` are not set,
/// the failure queue `<name>-failed`, the event queue `<name>-events` and
/// the stream `<name>` the pipeline makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rename {
    /// The parts whose names would change: `(part, old name, new name)`;
    /// the new name is `None` while `name` is unknown.
    pub replaced: Vec<(Part, String, Option<String>)>,
}

impl Rename {
    /// Which parts of `prior` a configuration with another `name` would
    /// have to make anew. An unknown `name` may change any derived name.
    pub fn of(prior: &State<Known>, config: &State<Planning>) -> Rename {
        let new = config.name.as_known();
        let mut replaced = Vec::new();
        let mut derived = |part: Part, old: &str, of: &dyn Fn(&str) -> String| {
            let new = new.map(|n| of(n));
            if new.as_deref() != Some(old) {
                replaced.push((part, old.to_owned(), new));
            }
        };
        if config.function_name.is_null() {
            derived(Part::Function, &prior.function_name, &naming::function_name);
        }
        if config.role_name.is_null() {
            derived(Part::Role, &prior.role_name, &naming::role_name);
        }
        let wanted = prior.wanted();
        let own_failure_queue = match &config.on_failure {
            Field::Known(f) => f.queue_arn.is_null(),
            Field::Unknown => true,
            Field::Null => false,
        };
        if own_failure_queue && wanted.contains(Part::FailureQueue) {
            derived(
                Part::FailureQueue,
                &naming::failure_queue_name(&prior.name),
                &naming::failure_queue_name,
            );
        }
        let queued = !matches!(config.delivery.as_known(), Some(d) if d != DELIVERY_QUEUE);
        if queued && wanted.contains(Part::EventQueue) {
            derived(
                Part::EventQueue,
                &naming::event_queue_name(&prior.name),
                &naming::event_queue_name,
            );
        }
        let own_stream = match &config.stream {
            Field::Known(st) => st.arn.is_null(),
            Field::Unknown => true,
            Field::Null => false,
        };
        if own_stream && wanted.contains(Part::Stream) {
            let old = prior
                .stream_name
                .clone()
                .unwrap_or_else(|| prior.name.clone());
            derived(Part::Stream, &old, &|n| n.to_owned());
        }
        if makes_repository(config) && wanted.contains(Part::Repository) {
            derived(
                Part::Repository,
                &naming::repository_name(&prior.name),
                &naming::repository_name,
            );
        }
        Rename { replaced }
    }

    /// Whether `part` gets a new name.
    pub fn replaces(&self, part: Part) -> bool {
        self.replaced.iter().any(|(p, ..)| *p == part)
    }

    /// The plan's note of what the new name does: which parts take their
    /// names from `name` and are made anew under it (and how to keep the
    /// function and the role), and which are retagged in place.
    fn warning(&self, prior: &State<Known>, planned: &State<Planning>) -> Diagnostic {
        let at = path::top(attr::NAME);
        let new = planned
            .name
            .as_known()
            .map_or_else(|| "(known after apply)".to_owned(), |n| format!("{n:?}"));
        let mut retagged = Vec::new();
        if prior.create_bucket {
            retagged.push(format!("the bucket {:?}", prior.bucket_name));
        }
        if !self.replaces(Part::Role) {
            retagged.push(format!("the role {:?}", prior.role_name));
        }
        if !self.replaces(Part::Function) {
            retagged.push(format!("the function {:?}", prior.function_name));
            if !prior.log_group_name.is_empty() {
                retagged.push(format!("the log group {:?}", prior.log_group_name));
            }
        }
        let wanted = prior.wanted();
        for (part, old) in [
            (Part::FailureQueue, naming::failure_queue_name(&prior.name)),
            (Part::EventQueue, naming::event_queue_name(&prior.name)),
            (Part::Stream, prior.stream_name.clone().unwrap_or_default()),
            (Part::Repository, naming::repository_name(&prior.name)),
        ] {
            // A repository the configuration no longer has the pipeline
            // make is deleted, not retagged.
            let kept = part != Part::Repository || makes_repository(planned);
            if wanted.contains(part) && !self.replaces(part) && kept {
                retagged.push(format!("{part} {old:?}"));
            }
        }
        let ids = match &planned.notification_ids {
            Field::Known(ids) => format!("{ids:?}"),
            _ => "the new name's".to_owned(),
        };
        let retag = format!(
            "the apply retags {} with {} = {new}, and rewrites the pipeline's notification \
             configurations {:?} as {ids} in one write.",
            retagged.join(", "),
            super::ownership::OWNER_TAG,
            prior.notification_ids,
        );
        if self.replaced.is_empty() {
            return Diagnostic::warning(
                "Renaming the pipeline in place",
                format!(
                    "name changes from {:?} to {new}. No part takes its name from `name`, so \
                     nothing is replaced: {retag}",
                    prior.name
                ),
            )
            .at(at);
        }
        let mut parts: Vec<String> = self
            .replaced
            .iter()
            .map(|(part, old, new)| match new {
                Some(n) => format!("{part} {old:?} (new: {n:?})"),
                None => format!("{part} {old:?}"),
            })
            .collect();
        if self.replaces(Part::Function) && !prior.log_group_name.is_empty() {
            let new_group = planned.log_group_name.as_known();
            parts.push(match new_group {
                Some(g) => format!("the log group {:?} (new: {g:?})", prior.log_group_name),
                None => format!("the log group {:?}", prior.log_group_name),
            });
        }
        let mut keep = Vec::new();
        if self.replaces(Part::Function) {
            keep.push(format!("function_name = {:?}", prior.function_name));
        }
        if self.replaces(Part::Role) {
            keep.push(format!("role_name = {:?}", prior.role_name));
        }
        let advice = if keep.is_empty() {
            String::new()
        } else {
            format!(
                " To keep the function and the role under their names, set {}.",
                keep.join(" and ")
            )
        };
        let forced = planned.force_destroy.as_known() == Some(&true)
            || matches!(&planned.on_failure, Field::Known(f)
                if f.force_delete.as_known() == Some(&true));
        let queue = match (self.replaces(Part::FailureQueue), forced) {
            (false, _) => "",
            (true, false) => {
                " The old failure queue is deleted only while it is empty, unless \
                 on_failure.force_delete (or force_destroy) is set: otherwise the apply refuses \
                 before it changes anything."
            }
            (true, true) => {
                " The old failure queue is deleted with any failed events it holds \
                 (on_failure.force_delete or force_destroy is set)."
            }
        };
        let repository = if self.replaces(Part::Repository) {
            " The function's image is pushed to the new image repository, and the old one is \
             deleted with the images in it."
        } else {
            ""
        };
        Diagnostic::warning(
            "Renaming the pipeline replaces the parts named after it",
            format!(
                "name changes from {:?} to {new}. These parts take their names from `name` and \
                 are replaced: each is made under the new name, what uses it is pointed at the \
                 new one, and only then is the old one deleted: {}.{queue}{repository} Nothing \
                 else is replaced: {retag}{advice}",
                prior.name,
                parts.join(", ")
            ),
        )
        .at(at)
    }
}

/// Whether a configuration has the pipeline make the image repository
/// (`package_type = "image"` without `image.repository_name`), as far as
/// it is known: an unknown type or repository name may.
fn makes_repository(config: &State<Planning>) -> bool {
    let f = &config.function;
    match (&f.package_type, &f.image) {
        (Field::Known(t), _) if t != PACKAGE_IMAGE => false,
        (Field::Null, _) => false,
        (_, Field::Known(i)) => !matches!(i.repository_name, Field::Known(_)),
        (_, Field::Null | Field::Unknown) => true,
    }
}

/// What turning `create_bucket` on or off does to the bucket, which no
/// attribute of the plan shows: a warning that lists it.
fn bucket_switch(prior: &State<Known>, planned: &State<Planning>) -> Option<Diagnostic> {
    let (Field::Known(now), Field::Known(bucket)) = (&planned.create_bucket, &planned.bucket_name)
    else {
        return None;
    };
    if *now == prior.create_bucket {
        return None;
    }
    let at = path::top(attr::CREATE_BUCKET);
    if !*now {
        let mut tags: Vec<String> = prior.tags_all.keys().cloned().collect();
        tags.insert(0, super::ownership::OWNER_TAG.to_owned());
        return Some(
            Diagnostic::warning(
                "Letting go of the bucket",
                format!(
                    "create_bucket turns false: the apply removes the pipeline's tags ({}) from \
                     bucket {bucket:?} and leaves everything else on it as it is (public access \
                     block, encryption, policy, objects). From then on destroy leaves the bucket \
                     and removes only the pipeline's notifications.",
                    tags.join(", ")
                ),
            )
            .at(at),
        );
    }
    // The configured name: a new one is taken in place.
    let owner = planned.name.as_known().unwrap_or(&prior.name);
    let mut tags = vec![format!(
        "{} = {:?}",
        super::ownership::OWNER_TAG,
        owner.as_str()
    )];
    if let Field::Known(all) = &planned.tags_all {
        tags.extend(all.iter().map(|(k, v)| format!("{k} = {v:?}")));
    }
    let tls = match planned.require_tls {
        Field::Known(false) => "",
        _ => "; adds the TLS-only statement to its bucket policy (other statements stay)",
    };
    let destroy = match planned.force_destroy {
        Field::Known(true) => "deletes the bucket with every object in it",
        _ => "deletes the bucket, and refuses while it holds objects",
    };
    Some(
        Diagnostic::warning(
            "Taking over the bucket",
            format!(
                "create_bucket turns true: the apply takes bucket {bucket:?} over in place. It \
                 adds the tags {}; blocks all public access; sets default encryption (SSE-S3){tls}. \
                 The bucket's objects and other settings stay. From then on destroy {destroy}.",
                tags.join(", ")
            ),
        )
        .at(at),
    )
}

/// What a change of `function.package_type` does, which no attribute of the
/// plan shows: Lambda cannot change a function's package type in place, so
/// the function alone is replaced and everything else stays.
fn package_switch(prior: &State<Known>, planned: &State<Planning>) -> Option<Diagnostic> {
    let now = planned.function.package_type.as_known()?;
    let was = &prior.function.package_type;
    if now == was {
        return None;
    }
    let function = planned
        .function_name
        .as_known()
        .unwrap_or(&prior.function_name);
    let mut kept = Vec::new();
    if prior.create_bucket {
        kept.push(format!(
            "the bucket {:?} and its objects",
            prior.bucket_name
        ));
    } else {
        kept.push(format!(
            "the notifications on bucket {:?}",
            prior.bucket_name
        ));
    }
    if prior.failure_queue_arn.is_some() {
        kept.push("the failure queue and its messages".to_owned());
    }
    if prior.event_queue_arn.is_some() {
        kept.push("the event queue and its messages".to_owned());
    }
    if prior.stream_arn.is_some() {
        kept.push("the stream and its records".to_owned());
    }
    if !prior.log_group_name.is_empty() {
        kept.push(format!("the log group {:?}", prior.log_group_name));
    }
    kept.push(format!("the role {:?}", prior.role_name));
    Some(
        Diagnostic::warning(
            "Changing package_type replaces the function",
            format!(
                "function.package_type changes from {was:?} to {now:?}. Lambda cannot change a \
                 function's package type in place, so the apply replaces the function {function:?} \
                 alone: it deletes it and makes it again under the same name as {}, with its \
                 settings, permission and event source mappings. Nothing else is replaced: {} \
                 stay as they are.",
                if now == super::state::PACKAGE_IMAGE {
                    "a container image"
                } else {
                    "a zip"
                },
                kept.join(", ")
            ),
        )
        .at(path::function(attr::PACKAGE_TYPE)),
    )
}

/// The backfill count: unknown (it changes at apply) when this apply will
/// backfill, the recorded count otherwise.
fn backfilled_objects(
    prior: Option<&State<Known>>,
    config: &State<Planning>,
    pending: bool,
) -> Field<i64> {
    let recorded = prior.map_or(0, |p| p.backfilled_objects);
    match (&config.backfill, &config.trigger) {
        (Field::Known(false), _) => Field::Known(recorded),
        (Field::Known(true), Field::Known(triggers)) => {
            let Some(prior) = prior else {
                return Field::Unknown;
            };
            let new_trigger = triggers.iter().any(|t| match t.known_filter() {
                Some((events, prefix, suffix)) => !prior
                    .trigger
                    .iter()
                    .any(|p| p.events == events && p.prefix() == prefix && p.suffix() == suffix),
                None => true,
            });
            if new_trigger || pending {
                Field::Unknown
            } else {
                Field::Known(recorded)
            }
        }
        _ => Field::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfsdk::value::{Number, Value};

    fn env() -> PlanEnv {
        PlanEnv {
            location: policy::Location {
                partition: "aws".into(),
                region: "us-east-1".into(),
                account_id: "123456789012".into(),
            },
            default_tags: BTreeMap::from([("team".to_owned(), "data".to_owned())]),
            keys: policy::KeyGrants::default(),
        }
    }

    /// A config as Terraform sends it (every attribute present, unset ones
    /// null), with the schema's defaults filled in.
    fn config_value(name: &str, dir: &str, bucket: Option<&str>) -> Value {
        let null = || Value::Null;
        let mut v = Value::object([
            (attr::ID, null()),
            (attr::NAME, Value::String(name.into())),
            (
                attr::BUCKET_NAME,
                bucket.map_or(Value::Null, |b| Value::String(b.into())),
            ),
            (attr::FORCE_DESTROY, null()),
            (attr::REQUIRE_TLS, null()),
            (attr::OUTPUT_PREFIX, null()),
            (attr::TAGS, null()),
            (attr::TAGS_ALL, null()),
            (attr::BUCKET_ARN, null()),
            (attr::ROLE_NAME, null()),
            (attr::ROLE_ARN, null()),
            (attr::FUNCTION_NAME, null()),
            (attr::FUNCTION_ARN, null()),
            (attr::S3_PERMISSION_ID, null()),
            (attr::SOURCE_CODE_HASH, null()),
            (attr::POLICY_JSON, null()),
            (attr::CREATE_BUCKET, null()),
            (attr::NOTIFICATION_IDS, null()),
            (attr::BACKFILL, null()),
            (attr::BACKFILLED_OBJECTS, null()),
            (attr::FAILURE_QUEUE_ARN, null()),
            (attr::FAILURE_QUEUE_URL, null()),
            (attr::LOG_GROUP_NAME, null()),
            (attr::LOG_GROUP_RETENTION_IN_DAYS, null()),
            (attr::ON_FAILURE, null()),
            (attr::LOGS, null()),
            (attr::DELIVERY, null()),
            (attr::STREAM_ARN, null()),
            (attr::STREAM_NAME, null()),
            (attr::STREAM_MAPPING_ID, null()),
            (attr::EVENT_QUEUE_ARN, null()),
            (attr::EVENT_QUEUE_URL, null()),
            (attr::QUEUE_MAPPING_ID, null()),
            (attr::STREAM, null()),
            (attr::QUEUE, null()),
            (
                attr::FUNCTION,
                Value::object([
                    (attr::SOURCE_DIR, Value::String(dir.into())),
                    (attr::HANDLER, null()),
                    (attr::RUNTIME, null()),
                    (attr::MEMORY_SIZE, Value::Number(Number::from(512i64))),
                    (attr::TIMEOUT, null()),
                    (attr::ENVIRONMENT, null()),
                    (attr::ARCHITECTURE, null()),
                    (attr::DESCRIPTION, null()),
                    (attr::RESERVED_CONCURRENCY, null()),
                    (attr::EPHEMERAL_STORAGE, null()),
                    (attr::LAYERS, null()),
                ]),
            ),
            (
                attr::TRIGGER,
                Value::List(vec![Value::object([
                    (attr::EVENTS, null()),
                    (attr::FILTER_PREFIX, Value::String("data/".into())),
                    (attr::FILTER_SUFFIX, Value::String(".json".into())),
                ])]),
            ),
        ]);
        let cfg = v.clone();
        tfsdk::schema::apply_defaults(&super::super::schema::schema().block, &cfg, &mut v);
        v
    }

    fn config(name: &str, dir: &str, bucket: Option<&str>) -> State<Planning> {
        State::from_value(&config_value(name, dir, bucket)).unwrap()
    }

    fn planned(prior: Option<&State<Known>>, cfg: &State<Planning>) -> PlannedState {
        plan(&env(), prior, cfg, &Build::of(&cfg.function), false)
    }

    fn source() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.py"), "def handler(e, c):\n    pass\n").unwrap();
        d
    }

    #[test]
    fn create_plans_defaults_names_policy_and_hash() {
        let src = source();
        let cfg = config("orders", src.path().to_str().unwrap(), None);
        let p = planned(None, &cfg);
        assert!(!p.diags.has_errors(), "{:?}", p.diags);
        assert!(p.requires_replace.is_empty());
        let s = p.state.known().expect("wholly known");
        assert!(s.bucket_name.starts_with("orders-"), "{}", s.bucket_name);
        assert_eq!(s.role_arn, "arn:aws:iam::123456789012:role/orders-role");
        assert_eq!(s.function.handler, "app.handler");
        assert_eq!(s.function.memory_size, 512);
        assert_eq!(s.function.timeout, 3);
        assert!(
            s.policy_json
                .contains(&format!("arn:aws:s3:::{}/data/*", s.bucket_name)),
            "{}",
            s.policy_json
        );
        assert_eq!(s.source_code_hash.len(), 64);
        // Each file by the start of its content's SHA-256, as sha256sum prints it.
        let app = std::fs::read(src.path().join("app.py")).unwrap();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&app));
        assert_eq!(s.source_files.get("app.py"), Some(&sha[..12].to_owned()));
        assert_eq!(s.source_file_count, 1);
        assert_eq!(s.tags_all.get("team").map(String::as_str), Some("data"));
        assert_eq!(s.trigger[0].events, ["s3:ObjectCreated:*"]);
    }

    fn as_image(mut cfg: State<Planning>) -> State<Planning> {
        cfg.function.package_type = Field::Known(super::super::state::PACKAGE_IMAGE.into());
        cfg
    }

    /// An image's plan with its base resolved (to a made-up digest).
    fn planned_as_image(prior: Option<&State<Known>>, cfg: &State<Planning>) -> PlannedState {
        let base = format!("sha256:{}", "1".repeat(64));
        let build = Build::of(&cfg.function).with_base(Some(base));
        plan(&env(), prior, cfg, &build, false)
    }

    fn planned_on(cfg: &State<Planning>, base: Option<&str>) -> PlannedState {
        let build = Build::of(&cfg.function).with_base(base.map(str::to_owned));
        plan(&env(), None, cfg, &build, false)
    }

    #[test]
    fn an_images_hash_covers_the_package_type_and_its_base_and_a_zips_is_unchanged() {
        let src = source();
        let zip = config("orders", src.path().to_str().unwrap(), None);
        let tree =
            crate::pipeline::source::tree_hash(&crate::pipeline::source::scan(src.path()).unwrap())
                .unwrap();
        // A zip: the source tree's hash, as before images; no base.
        let z = planned_on(&zip, None).state.known().unwrap();
        assert_eq!(z.source_code_hash, tree);
        assert_eq!(z.image_base_digest, None);
        let (d1, d2) = (
            format!("sha256:{}", "1".repeat(64)),
            format!("sha256:{}", "2".repeat(64)),
        );
        let image = as_image(zip.clone());
        // (The image it runs is unknown until it is pushed.)
        let i1 = planned_on(&image, Some(&d1)).state;
        assert_eq!(i1.image_base_digest, Field::Known(d1.clone()));
        assert_eq!(
            i1.source_code_hash,
            Field::Known(crate::pipeline::package::image_hash(&tree, &d1))
        );
        assert_ne!(
            i1.source_code_hash,
            Field::Known(z.source_code_hash.clone())
        );
        // A base that moved: another digest, another hash.
        let i2 = planned_on(&image, Some(&d2)).state;
        assert_ne!(i2.source_code_hash, i1.source_code_hash);
        // A base not known at plan: both unknown.
        let u = planned_on(&image, None);
        assert!(u.state.image_base_digest.is_unknown());
        assert!(u.state.source_code_hash.is_unknown());
        // Nor is anything known while the type is not.
        let mut unknown = zip.clone();
        unknown.function.package_type = Field::Unknown;
        let u = planned_on(&unknown, Some(&d1));
        assert!(u.state.image_base_digest.is_unknown());
        assert!(u.state.source_code_hash.is_unknown());
    }

    #[test]
    fn switching_package_type_says_only_the_function_is_replaced() {
        let src = source();
        let zip = config("orders", src.path().to_str().unwrap(), Some("data"));
        let prior = planned(None, &zip).state.known().unwrap();
        let digest = format!("sha256:{}", "1".repeat(64));
        let image = as_image(zip.clone());
        let build = Build::of(&image.function).with_base(Some(digest));
        let p = plan(&env(), Some(&prior), &image, &build, false);
        assert!(p.requires_replace.is_empty(), "{:?}", p.requires_replace);
        let d = p
            .diags
            .iter()
            .find(|d| d.summary == "Changing package_type replaces the function")
            .expect("the warning");
        assert!(!d.is_error());
        assert_eq!(d.path, Some(path::function(attr::PACKAGE_TYPE)));
        for part in [
            "from \"zip\" to \"image\"",
            "the function \"orders\"",
            "alone",
            "the bucket \"data\" and its objects",
            "the log group \"/aws/lambda/orders\"",
        ] {
            assert!(d.detail.contains(part), "{part} missing from {}", d.detail);
        }
        // No switch, no warning.
        let again = planned(Some(&prior), &zip);
        let w = warnings(&again);
        assert!(!w.contains("replaces the function"), "{w}");
    }

    #[test]
    fn replanning_an_applied_pipeline_changes_nothing() {
        let src = source();
        let cfg = config("orders", src.path().to_str().unwrap(), Some("my-bucket"));
        let first = planned(None, &cfg).state.known().unwrap();
        let again = planned(Some(&first), &cfg);
        assert_eq!(again.state.known().unwrap(), first);
        assert!(again.requires_replace.is_empty());
    }

    #[test]
    fn switching_create_bucket_says_what_the_apply_does_to_the_bucket() {
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        let owned = planned(None, &config("orders", &dir, Some("shared")))
            .state
            .known()
            .unwrap();
        let mut not_owned = owned.clone();
        not_owned.create_bucket = false;
        let warning = |p: &PlannedState| {
            p.diags
                .0
                .iter()
                .map(|d| format!("{}: {}", d.summary, d.detail))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut take = config("orders", &dir, Some("shared"));
        take.create_bucket = Field::Known(true);
        let p = planned(Some(&not_owned), &take);
        let w = warning(&p);
        assert!(w.contains("Taking over the bucket"), "{w}");
        assert!(w.contains("eventpipe:pipeline = \"orders\""), "{w}");
        assert!(w.contains("team = \"data\""), "{w}");
        assert!(w.contains("blocks all public access"), "{w}");
        assert!(w.contains(attr::CREATE_BUCKET), "{w}");
        assert!(p.requires_replace.is_empty());
        let mut leave = config("orders", &dir, Some("shared"));
        leave.create_bucket = Field::Known(false);
        let w = warning(&planned(Some(&owned), &leave));
        assert!(w.contains("Letting go of the bucket"), "{w}");
        assert!(w.contains("eventpipe:pipeline, team"), "{w}");
        // No switch, no warning.
        let w = warning(&planned(
            Some(&owned),
            &config("orders", &dir, Some("shared")),
        ));
        assert!(!w.contains("bucket"), "{w}");
    }

    #[test]
    fn a_role_under_a_path_keeps_its_arn() {
        let src = source();
        let cfg = config("orders", src.path().to_str().unwrap(), Some("my-bucket"));
        let mut prior = planned(None, &cfg).state.known().unwrap();
        prior.role_arn = "arn:aws:iam::123456789012:role/service-role/orders-role".into();
        let again = planned(Some(&prior), &cfg).state.known().unwrap();
        assert_eq!(again.role_arn, prior.role_arn);
        // A role the refresh found gone is made again, at the root path.
        prior.role_arn.clear();
        let again = planned(Some(&prior), &cfg).state.known().unwrap();
        assert_eq!(again.role_arn, "arn:aws:iam::123456789012:role/orders-role");
    }

    #[test]
    fn editing_a_handler_file_changes_only_the_hash_and_that_files_entry() {
        let src = source();
        let cfg = config("orders", src.path().to_str().unwrap(), Some("my-bucket"));
        let first = planned(None, &cfg).state.known().unwrap();
        std::fs::write(
            src.path().join("app.py"),
            "def handler(e, c):\n    return 2\n",
        )
        .unwrap();
        let second = planned(Some(&first), &cfg);
        assert!(second.requires_replace.is_empty());
        let second = second.state.known().unwrap();
        assert_ne!(second.source_code_hash, first.source_code_hash);
        assert_ne!(second.source_files["app.py"], first.source_files["app.py"]);
        assert_eq!(second.source_files.len(), 1);
        assert_eq!(second.source_file_count, 1);
        let mut same = second.clone();
        same.source_code_hash = first.source_code_hash.clone();
        same.source_files = first.source_files.clone();
        assert_eq!(same, first);
    }

    #[test]
    fn renaming_or_moving_the_bucket_forces_replacement() {
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        let first = planned(None, &config("orders", &dir, Some("my-bucket")))
            .state
            .known()
            .unwrap();
        // A new name replaces no pipeline: only the parts named after it.
        let p = planned(Some(&first), &config("orders2", &dir, Some("my-bucket")));
        assert!(p.requires_replace.is_empty(), "{:?}", p.requires_replace);
        let p = planned(Some(&first), &config("orders", &dir, Some("other-bucket")));
        assert_eq!(p.requires_replace, vec![path::top(attr::BUCKET_NAME)]);
    }

    /// `config` with its function and role named.
    fn named(mut cfg: State<Planning>, function: &str, role: &str) -> State<Planning> {
        cfg.function_name = Field::Known(function.into());
        cfg.role_name = Field::Known(role.into());
        cfg
    }

    fn warnings(p: &PlannedState) -> String {
        p.diags
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_new_name_is_taken_in_place_when_no_part_takes_its_name_from_it() {
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        // As an adoption records a hand-wired pipeline: named after its
        // function, with every part named explicitly.
        let adopted = named(
            config("legacy-fn", &dir, Some("legacy-data")),
            "legacy-fn",
            "legacy-role",
        );
        let prior = planned(None, &adopted).state.known().unwrap();
        let cfg = named(
            config("orders", &dir, Some("legacy-data")),
            "legacy-fn",
            "legacy-role",
        );
        let p = planned(Some(&prior), &cfg);
        assert!(p.requires_replace.is_empty(), "{:?}", p.requires_replace);
        let s = p.state.known().unwrap();
        // Every part keeps its name; the notifications take the new one.
        assert_eq!(s.name, "orders");
        assert_eq!(s.id, "orders");
        assert_eq!(
            (&*s.function_name, &*s.role_name, &*s.bucket_name),
            ("legacy-fn", "legacy-role", "legacy-data")
        );
        assert_eq!(s.role_arn, prior.role_arn);
        assert_eq!(s.log_group_name, prior.log_group_name);
        assert_eq!(s.notification_ids, ["eventpipe-orders-0"]);
        assert_eq!(s.policy_json, prior.policy_json);
        let w = warnings(&p);
        assert!(w.contains("Renaming the pipeline in place"), "{w}");
        for part in [
            "the role \"legacy-role\"",
            "the function \"legacy-fn\"",
            "the bucket \"legacy-data\"",
            "eventpipe:pipeline = \"orders\"",
        ] {
            assert!(w.contains(part), "{part} missing from {w}");
        }
        assert_eq!(
            p.diags.iter().next().unwrap().path,
            Some(path::top(attr::NAME))
        );
        // A derived bucket name stays the bucket's: it is not renamed.
        let own_bucket = planned(None, &named(config("a", &dir, None), "fn", "role"))
            .state
            .known()
            .unwrap();
        let p = planned(
            Some(&own_bucket),
            &named(config("b", &dir, None), "fn", "role"),
        );
        assert!(p.requires_replace.is_empty());
        assert_eq!(
            p.state.bucket_name.as_known(),
            Some(&own_bucket.bucket_name)
        );
    }

    #[test]
    fn a_new_name_replaces_only_the_parts_that_take_their_name_from_it() {
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        let prior = planned(None, &config("orders", &dir, Some("b")))
            .state
            .known()
            .unwrap();
        // Function and role named after the pipeline: new ones under the
        // new name, the pipeline itself updated in place.
        let p = planned(Some(&prior), &config("sales", &dir, Some("b")));
        assert!(p.requires_replace.is_empty(), "{:?}", p.requires_replace);
        let w = warnings(&p);
        assert!(
            w.contains("Renaming the pipeline replaces the parts named after it"),
            "{w}"
        );
        assert!(
            w.contains("the function \"orders\" (new: \"sales\")")
                && w.contains("the role \"orders-role\" (new: \"sales-role\")")
                && w.contains("the log group \"/aws/lambda/orders\" (new: \"/aws/lambda/sales\")")
                && w.contains("retags the bucket \"b\"")
                && w.contains("function_name = \"orders\"")
                && w.contains("role_name = \"orders-role\""),
            "{w}"
        );
        // The planned state names the new parts; what AWS gives them
        // (a role's path, a queue's URL, a mapping's id) is not kept.
        let s = &p.state;
        assert_eq!(s.function_name, Field::Known("sales".into()));
        assert_eq!(s.role_name, Field::Known("sales-role".into()));
        assert_eq!(s.log_group_name, Field::Known("/aws/lambda/sales".into()));
        assert_eq!(
            s.role_arn,
            Field::Known("arn:aws:iam::123456789012:role/sales-role".into())
        );
        assert!(
            s.function_arn
                .as_known()
                .unwrap()
                .ends_with(":function:sales")
        );
        assert_eq!(s.bucket_name, Field::Known("b".into()));
        let policy = s.policy_json.as_known().unwrap();
        assert!(policy.contains("/aws/lambda/sales") && !policy.contains("/aws/lambda/orders"));
        // Named explicitly, they stay: in place.
        let p = planned(
            Some(&prior),
            &named(config("sales", &dir, Some("b")), "orders", "orders-role"),
        );
        assert!(p.requires_replace.is_empty(), "{}", warnings(&p));
        assert!(warnings(&p).contains("Renaming the pipeline in place"));
        assert_eq!(p.state.function_name, Field::Known("orders".into()));
    }

    #[test]
    fn the_queues_and_the_stream_the_pipeline_makes_follow_the_name() {
        use crate::pipeline::state::{DELIVERY_QUEUE, OnFailure, tests::stream_block};
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        let base = planned(None, &named(config("orders", &dir, Some("b")), "f", "r"))
            .state
            .known()
            .unwrap();
        let renamed = named(config("sales", &dir, Some("b")), "f", "r");
        let mut failure = base.clone();
        failure.on_failure = Some(OnFailure {
            maximum_retry_attempts: Some(2),
            maximum_event_age: Some(21_600),
            queue_arn: None,
            force_delete: false,
        });
        failure.failure_queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:orders-failed".into());
        failure.failure_queue_url = Some("https://sqs/orders-failed".into());
        let mut events = base.clone();
        events.delivery = DELIVERY_QUEUE.into();
        events.event_queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:orders-events".into());
        events.event_queue_url = Some("https://sqs/orders-events".into());
        let mut stream = base.clone();
        stream.stream = Some(stream_block());
        stream.stream_name = Some("orders".into());
        stream.stream_arn = Some("arn:aws:kinesis:us-east-1:123456789012:stream/orders".into());
        let mut with_queue = renamed.clone();
        with_queue.on_failure = Field::Known(OnFailure {
            maximum_retry_attempts: Field::Known(2),
            maximum_event_age: Field::Known(21_600),
            queue_arn: Field::Null,
            force_delete: Field::Known(false),
        });
        let p = planned(Some(&failure), &with_queue);
        assert!(p.requires_replace.is_empty());
        let w = warnings(&p);
        assert!(
            w.contains("the failure queue \"orders-failed\" (new: \"sales-failed\")")
                && w.contains("on_failure.force_delete"),
            "{w}"
        );
        // The new queue's URL is SQS's answer: known after apply.
        assert_eq!(p.state.failure_queue_url, Field::Unknown);
        assert_eq!(
            p.state.failure_queue_arn,
            Field::Known("arn:aws:sqs:us-east-1:123456789012:sales-failed".into())
        );
        // Someone else's queue is not the pipeline's to rename.
        let mut theirs = with_queue.clone();
        if let Field::Known(f) = &mut theirs.on_failure {
            f.queue_arn = Field::Known("arn:aws:sqs:us-east-1:123456789012:theirs".into());
        }
        let mut prior_theirs = failure.clone();
        if let Some(f) = &mut prior_theirs.on_failure {
            f.queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:theirs".into());
        }
        let p = planned(Some(&prior_theirs), &theirs);
        assert!(!p.rename.unwrap().replaces(Part::FailureQueue));
        let mut queued = renamed.clone();
        queued.delivery = Field::Known(DELIVERY_QUEUE.into());
        let p = planned(Some(&events), &queued);
        assert!(p.requires_replace.is_empty());
        assert!(warnings(&p).contains("the event queue \"orders-events\" (new: \"sales-events\")"));
        assert_eq!(p.state.event_queue_url, Field::Unknown);
        assert_eq!(p.state.queue_mapping_id, Field::Unknown);
        let r = Rename::of(&stream, &{
            let mut c = renamed.clone();
            c.stream = Field::Unknown;
            c
        });
        assert_eq!(
            r.replaced,
            [(Part::Stream, "orders".to_owned(), Some("sales".to_owned()))]
        );
    }

    #[test]
    fn unknown_inputs_make_dependent_values_unknown() {
        let src = source();
        let mut cfg = config("orders", src.path().to_str().unwrap(), None);
        cfg.name = Field::Unknown;
        let p = planned(None, &cfg);
        assert!(!p.diags.has_errors());
        let s = &p.state;
        assert!(s.bucket_name.is_unknown());
        assert!(s.role_arn.is_unknown());
        assert!(s.policy_json.is_unknown());
        assert!(s.function_arn.is_unknown());
        assert!(s.source_code_hash.as_known().is_some());
    }

    #[test]
    fn a_missing_source_dir_is_reported_on_its_attribute() {
        let cfg = config("orders", "/nonexistent/eventpipe-src", None);
        let p = planned(None, &cfg);
        let d = p.diags.iter().next().unwrap();
        assert_eq!(d.path, Some(path::function(attr::SOURCE_DIR)));
        assert!(d.detail.contains("does not exist"), "{}", d.detail);
    }

    #[test]
    fn a_new_name_lists_the_image_repository_the_pipeline_makes() {
        use crate::pipeline::state::ImageBlock;
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        let image = |name: &str, given: Option<&str>| {
            let mut c = named(config(name, &dir, Some("b")), "f", "r");
            c.function.package_type = Field::Known(PACKAGE_IMAGE.into());
            c.function.image = Field::Known(ImageBlock {
                base_image: Field::Null,
                repository_name: given.map_or(Field::Null, |g| Field::Known(g.to_owned())),
                keep_images: Field::Known(10),
                scan_on_push: Field::Known(true),
            });
            c
        };
        let mut first = planned_as_image(None, &image("Orders", None)).state;
        first.image_uri = Field::Known("r.example/orders@sha256:aa".into());
        let prior = first.known().unwrap();
        let w = warnings(&planned_as_image(Some(&prior), &image("sales", None)));
        assert!(
            w.contains("Renaming the pipeline replaces the parts named after it")
                && w.contains("the image repository \"orders\" (new: \"sales\")")
                && w.contains("the old one is deleted with the images in it"),
            "{w}"
        );
        // A change of case only keeps the repository (its name is in lower
        // case): it is retagged.
        let w = warnings(&planned_as_image(Some(&prior), &image("ORDERS", None)));
        assert!(w.contains("Renaming the pipeline in place"), "{w}");
        assert!(w.contains("the image repository \"orders\""), "{w}");
        // A given repository is not the pipeline's: not listed.
        let w = warnings(&planned_as_image(
            Some(&prior),
            &image("sales", Some("team/app")),
        ));
        assert!(!w.contains("image repository"), "{w}");
    }

    #[test]
    fn image_uri_is_kept_while_the_image_stays_unknown_when_it_changes_null_for_a_zip() {
        use crate::pipeline::state::{PACKAGE_IMAGE, PACKAGE_ZIP};
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        let zip_cfg = config("orders", &dir, Some("b"));
        let zip = planned(None, &zip_cfg).state.known().unwrap();
        assert_eq!(zip.image_uri, None);
        let mut cfg = config("orders", &dir, Some("b"));
        cfg.function.package_type = Field::Known(PACKAGE_IMAGE.into());
        let mut first = planned_as_image(None, &cfg).state;
        assert_eq!(first.image_uri, Field::Unknown);
        let uri = "127.0.0.1:5000/orders@sha256:aa".to_owned();
        first.image_uri = Field::Known(uri.clone());
        let applied = first.known().unwrap();
        assert_eq!(
            planned_as_image(Some(&applied), &cfg).state.image_uri,
            Field::Known(uri)
        );
        // The code changes: a new image.
        std::fs::write(
            src.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        assert_eq!(
            planned_as_image(Some(&applied), &cfg).state.image_uri,
            Field::Unknown
        );
        // To a zip: null; from a zip: a new image.
        assert_eq!(
            zip_cfg.function.package_type,
            Field::Known(PACKAGE_ZIP.into())
        );
        assert_eq!(
            planned(Some(&applied), &zip_cfg).state.image_uri,
            Field::Null
        );
        assert_eq!(
            planned_as_image(Some(&zip), &cfg).state.image_uri,
            Field::Unknown
        );
    }
}
