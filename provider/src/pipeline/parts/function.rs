//! The Lambda function, with its package.

use tfsdk::access::Field;
use tfsdk::diag::Diagnostic;

use super::super::part::Part;
use super::super::source::Kind;
use super::super::state::{self, path};
use super::super::step::{Change, Op};
use super::super::{desired, naming, policy};
use super::{Converge, Merge, Plan, keep_or};

/// How a refresh marks `source_code_hash` when Lambda's code is not what
/// the provider uploaded last.
pub const CODE_DRIFT: &str = "changed outside Terraform";

/// Whether the function's `package_type` changes.
fn switched(c: &Converge) -> bool {
    c.changed(|p| p.function.package_type != c.want.function.package_type)
}

/// Whether the function's code changes: its source, its architecture or
/// its package type.
fn code_changed(c: &Converge) -> bool {
    switched(c)
        || c.changed(|p| {
            p.source_code_hash != c.want.source_code_hash
                || p.function.architecture != c.want.function.architecture
        })
}

/// How the function is made, when it is: a switch of `package_type`
/// makes it anew.
fn made(c: &Converge) -> Option<Op> {
    match c.make(Part::Function) {
        None if switched(c) => Some(Op::Recreate(Part::Function)),
        made => made,
    }
}

/// The build of the package (a zip) or the image, when the function is
/// made or its code changed; a function made anew with unchanged code
/// deploys the image the plan keeps. Decided before anything else is, so
/// that a package whose size only its build learns (one with
/// dependencies) is built before any part is made or changed
/// (`steps::converge`): over Lambda's limit, the apply stops with nothing
/// made.
pub fn build(c: &mut Converge) {
    let want = c.want;
    let code_changed = code_changed(c);
    let made = made(c).is_some();
    c.at.build = if desired::is_image(want) {
        (code_changed || (made && want.image_uri.is_none()))
            .then(|| c.steps.add(Op::BuildImage, []))
    } else {
        (made || code_changed).then(|| c.steps.add(Op::BuildPackage, []))
    };
}

/// Made or updated after the role, its policy, the log group and the
/// package: its code is packaged when it is made or the code changed, and
/// a package that may be large goes to S3 first. An image is built and
/// pushed instead (never staged). A switch of `package_type` makes the
/// function anew (Lambda cannot change it in place): deleted once the new
/// code is ready, then re-created, with what hangs on it.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let image = desired::is_image(want);
    let switched = switched(c);
    let present = c.make(Part::Function).is_none();
    let made = made(c);
    let code_changed = code_changed(c);
    c.at.function_made = made;
    let built = match c.at.build {
        // Pushed once the repository the pipeline makes is there.
        Some(build) if image => Some(c.steps.add(Op::PushImage, [Some(build), c.at.repository])),
        other => other,
    };
    let may_stage = c.facts.may_stage && !image;
    // A package that may be large goes to S3 first: into the pipeline's
    // bucket once it is there, or into `package_bucket`.
    let stage_in_bucket = want
        .function
        .package_bucket
        .is_none()
        .then_some(c.at.bucket)
        .flatten();
    let package = match built {
        Some(b) if may_stage => Some(c.steps.add(Op::StagePackage, [Some(b), stage_in_bucket])),
        other => other,
    };
    let staging = package.is_some() && may_stage;
    // The old function goes once the new code is ready.
    let package = if present && switched {
        Some(c.steps.add(Op::Delete(Part::Function), [package]))
    } else {
        package
    };
    let concurrency_changed = match c.prior {
        Some(p) => desired::concurrency(p) != desired::concurrency(want),
        None => desired::concurrency(want).is_some(),
    };
    let (role, group, repository) = (c.at.policy.or(c.at.role), c.at.log_group, c.at.repository);
    c.at.function = match made {
        Some(op) => {
            let mut ops = vec![op];
            if desired::concurrency(want).is_some() {
                ops.push(Op::Update(Part::Function, Change::Concurrency));
            }
            c.steps.chain(ops, [role, package, group, repository])
        }
        None => {
            let mut ops: Vec<Op> = c.claim(Part::Function).into_iter().collect();
            if c.changed(|p| {
                !desired::same_settings(
                    &desired::function_settings(p),
                    &desired::function_settings(want),
                )
            }) {
                ops.push(Op::Update(Part::Function, Change::Settings));
            }
            if code_changed {
                ops.push(Op::Update(Part::Function, Change::Code));
            }
            if c.changed(|p| desired::function_tags(p) != desired::function_tags(want))
                && !c.facts.unclaimed.contains(Part::Function)
            {
                ops.push(Op::Update(Part::Function, Change::Tags));
            }
            if concurrency_changed {
                ops.push(Op::Update(Part::Function, Change::Concurrency));
            }
            // After the role and the log group: what the settings name.
            c.steps.chain(ops, [package, role, group, repository])
        }
    };
    if staging {
        let function = c.at.function;
        c.steps.add(Op::PruneStaged, [function]);
    }
}

/// A function made by this apply is waited for beside the notification.
pub fn await_active(c: &mut Converge) {
    if matches!(c.at.function_made, Some(Op::Create(_) | Op::Recreate(_))) {
        let function = c.at.function;
        c.at.active = Some(c.steps.add(Op::AwaitActive, [function]));
    }
}

/// The function under its old name goes once nothing names it: not a
/// notification, a mapping, an invoke configuration or a permission.
pub fn delete_old(c: &mut Converge) {
    if c.renamed.contains(Part::Function) {
        let at = &c.at;
        let after = [
            at.function,
            at.notification,
            at.invoke_config,
            at.permission,
            at.old_stream_mapping,
            at.old_event_queue_mapping,
        ];
        c.at.old_function = Some(c.steps.add(Op::DeleteOld(Part::Function), after));
    }
}

/// The settings, code, tags, concurrency and logging Lambda has.
pub fn merge(m: &mut Merge) {
    let Some(f) = &m.seen.function else {
        return;
    };
    let (state, s) = (m.state, &mut m.s);
    let st = &f.settings;
    let func = &mut s.function;
    if st.image {
        // An image has no runtime of its own in Lambda's answer, and its
        // handler is its command, which some emulators do not echo.
        if !st.handler.is_empty() {
            func.handler = st.handler.clone();
        }
    } else {
        func.handler = st.handler.clone();
        func.runtime = st.runtime.clone();
    }
    func.package_type = if st.image {
        state::PACKAGE_IMAGE
    } else {
        state::PACKAGE_ZIP
    }
    .to_owned();
    func.memory_size = i64::from(st.memory_mb);
    func.timeout = i64::from(st.timeout_s);
    func.architecture = f.architecture.clone();
    func.description = keep_or(&state.function.description, st.description.clone());
    func.environment = keep_or(&state.function.environment, st.environment.clone());
    // Code changed outside Terraform: not what we uploaded last (for an
    // image: not the image the state records).
    if st.image {
        if state.image_uri.is_some() && f.image_uri != state.image_uri {
            let now = f.image_uri.as_deref().unwrap_or("none");
            s.source_code_hash = format!("{CODE_DRIFT} (ImageUri {now})");
        }
        s.image_uri.clone_from(&f.image_uri);
    } else {
        if m.private
            .code_sha256
            .as_deref()
            .is_some_and(|c| c != f.code_sha256)
        {
            s.source_code_hash = format!("{CODE_DRIFT} (CodeSha256 {})", f.code_sha256);
        }
        s.image_uri = None;
    }
    s.tags_all = super::super::ownership::user_tags(&f.tags);
    let func = &mut s.function;
    func.reserved_concurrency = f.reserved_concurrency.map(i64::from);
    func.ephemeral_storage = i64::from(st.ephemeral_mb);
    func.layers = keep_or(&state.function.layers, st.layers.clone());
    if let (Some(l), Some(logs)) = (&st.logging, &mut s.logs) {
        // With JSON logs Lambda reports a level left unset as its
        // default: that is no change to show.
        logs.format.clone_from(&l.format);
        logs.application_log_level =
            desired::level_as_configured(&logs.application_log_level, l.application_level.clone());
        logs.system_log_level =
            desired::level_as_configured(&logs.system_log_level, l.system_level.clone());
    }
}

/// The function's name (kept, given, or derived from `name`) and ARN,
/// and its code: the hash computed from the files now, so edits show in
/// the plan, and the files, so the plan names the ones that changed.
pub fn plan(p: &mut Plan) {
    let (config, name) = (p.config, &p.config.name);
    p.s.function_name = match (&config.function_name, p.same_identity) {
        (Field::Null, Some(prior)) if !p.renames(Part::Function) => {
            Field::Known(prior.function_name.clone())
        }
        (Field::Null, _) => name.clone().map(|n| naming::function_name(&n)),
        (given, _) => given.clone(),
    };
    let loc = p.loc;
    p.s.function_arn =
        p.s.function_name
            .clone()
            .map(|f| policy::function_arn(loc, &f));
    (
        p.s.source_code_hash,
        p.s.source_files,
        p.s.source_file_count,
    ) = match (p.build.hash(), p.build.source.digest()) {
        (Some(Ok(h)), Some(Ok(d))) => {
            let (files, count) = state::listed_files(d.files);
            (Field::Known(h), Field::Known(files), Field::Known(count))
        }
        (Some(Err((at, e))), _) => {
            p.diags.push(
                Diagnostic::error("Cannot read the function's source", e).at(path::function(at)),
            );
            (Field::Unknown, Field::Unknown, Field::Unknown)
        }
        _ => (Field::Unknown, Field::Unknown, Field::Unknown),
    };
    // An image's base as the plan resolved it; a zip has none.
    p.s.image_base_digest = match p.build.kind() {
        Some(Kind::Zip) => Field::Null,
        Some(Kind::Image) => p
            .build
            .base_digest()
            .map_or(Field::Unknown, |d| Field::Known(d.to_owned())),
        None => Field::Unknown,
    };
    p.s.image_uri = image_uri(p);
}

/// The image the function runs: null for a zip; the one recorded while
/// the code, the architecture and the package type stay; unknown when a
/// new one is pushed.
fn image_uri(p: &Plan) -> Field<String> {
    let f = &p.config.function;
    match &f.package_type {
        Field::Known(t) if t != state::PACKAGE_IMAGE => return Field::Null,
        Field::Known(_) => {}
        _ => return Field::Unknown,
    }
    let Some(prior) = p.same_identity else {
        return Field::Unknown;
    };
    let same = prior.function.package_type == state::PACKAGE_IMAGE
        && p.s.source_code_hash == Field::Known(prior.source_code_hash.clone())
        && f.architecture == Field::Known(prior.function.architecture.clone());
    match &prior.image_uri {
        Some(uri) if same => Field::Known(uri.clone()),
        _ => Field::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::part::Part::*;
    use super::super::super::state::tests::known_state;
    use super::super::super::state::{ImageBlock, Known, PACKAGE_IMAGE, State};
    use super::super::super::steps::{Facts, Steps, converge, destroy};
    use super::*;

    fn image(name: &str, repository: Option<&str>) -> State<Known> {
        let mut s = known_state(name);
        s.function.package_type = PACKAGE_IMAGE.into();
        s.function.layers = None;
        s.function.image = Some(ImageBlock {
            base_image: None,
            repository_name: repository.map(str::to_owned),
            keep_images: 10,
            scan_on_push: true,
        });
        s.image_uri = Some("127.0.0.1:5000/app@sha256:aa".into());
        // The repository the pipeline makes, as the state records it.
        s.image_repository_url = repository
            .is_none()
            .then(|| format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"));
        s
    }

    /// `a` comes after `b`, directly or not.
    fn after(s: &Steps, a: Op, b: Op) -> bool {
        s.waits_for(a, b)
    }

    #[test]
    fn an_image_is_built_and_pushed_before_the_function_and_never_staged() {
        let mut want = image("orders", Some("team/app"));
        want.image_uri = None;
        let s = converge(
            &want,
            None,
            Facts {
                may_stage: true,
                ..Facts::default()
            },
        );
        let ops = s.ops();
        assert!(!ops.contains(&Op::BuildPackage), "{ops:?}");
        assert!(!ops.contains(&Op::StagePackage), "{ops:?}");
        assert!(!ops.contains(&Op::PruneStaged), "{ops:?}");
        assert!(after(&s, Op::PushImage, Op::BuildImage));
        let mut ours = image("orders", None);
        ours.image_uri = None;
        let made = converge(&ours, None, Facts::default());
        assert!(
            after(&made, Op::PushImage, Op::Create(Repository)),
            "{:?}",
            made.ops()
        );
        assert!(after(&s, Op::Create(Function), Op::PushImage));
    }

    #[test]
    fn a_code_edit_pushes_a_new_image_and_updates_the_code() {
        let prior = image("orders", None);
        let mut want = prior.clone();
        want.source_code_hash = "f".repeat(64);
        want.image_uri = None;
        let s = converge(&want, Some(&prior), Facts::of(&prior));
        assert!(after(&s, Op::Update(Function, Change::Code), Op::PushImage));
        // Unchanged: nothing to do.
        assert!(converge(&prior, Some(&prior), Facts::of(&prior)).is_empty());
    }

    #[test]
    fn a_function_gone_with_unchanged_code_is_made_again_from_the_recorded_image() {
        let prior = image("orders", None);
        let mut refreshed = prior.clone();
        refreshed.mark_missing(Function);
        let s = converge(&prior, Some(&refreshed), Facts::of(&refreshed));
        assert!(s.find(Op::Recreate(Function)).is_some(), "{:?}", s.ops());
        assert!(s.find(Op::BuildImage).is_none(), "{:?}", s.ops());
    }

    #[test]
    fn switching_the_package_type_replaces_the_function_alone() {
        let zip = known_state("orders");
        let mut to_image = image("orders", Some("team/app"));
        to_image.image_uri = None;
        to_image.function.layers = zip.function.layers.clone();
        let s = converge(&to_image, Some(&zip), Facts::of(&zip));
        let ops = s.ops();
        assert!(after(&s, Op::Delete(Function), Op::PushImage), "{ops:?}");
        assert!(after(&s, Op::Recreate(Function), Op::Delete(Function)));
        assert!(after(&s, Op::Recreate(Permission), Op::Recreate(Function)));
        for kept in [Bucket, Role, LogGroup, FailureQueue, Stream, EventQueue] {
            assert!(
                !ops.iter().any(|o| matches!(
                    o,
                    Op::Delete(p) | Op::Recreate(p) | Op::Create(p) if *p == kept
                )),
                "{kept:?}: {ops:?}"
            );
        }
        assert!(!ops.contains(&Op::Backfill), "{ops:?}");
        // And back: the zip is built (and staged when it may be large)
        // before the image function goes.
        let back = converge(
            &zip,
            Some(&image("orders", None)),
            Facts {
                may_stage: true,
                ..Facts::of(&zip)
            },
        );
        assert!(after(&back, Op::Delete(Function), Op::StagePackage));
        assert!(after(&back, Op::Recreate(Function), Op::Delete(Function)));
    }

    #[test]
    fn destroy_removes_our_image_from_a_given_repository_only() {
        let given = image("orders", Some("team/app"));
        let s = destroy(&given);
        assert!(after(&s, Op::Delete(Function), Op::RemoveImage));
        assert!(after(&s, Op::Delete(Bucket), Op::RemoveImage));
        assert!(
            destroy(&image("orders", None))
                .find(Op::RemoveImage)
                .is_none()
        );
        assert!(
            destroy(&known_state("orders"))
                .find(Op::RemoveImage)
                .is_none()
        );
    }
}
