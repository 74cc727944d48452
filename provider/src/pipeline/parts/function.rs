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

/// Made or updated after the role, its policy, the log group and the
/// package: its code is packaged when it is made or the code changed, and
/// a package that may be large goes to S3 first.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let made = c.make(Part::Function);
    c.at.function_made = made;
    let code_changed = c.changed(|p| {
        p.source_code_hash != want.source_code_hash
            || p.function.architecture != want.function.architecture
    });
    let built = (made.is_some() || code_changed).then(|| c.steps.add(Op::BuildPackage, []));
    // A package that may be large goes to S3 first: into the pipeline's
    // bucket once it is there, or into `package_bucket`.
    let stage_in_bucket = want
        .function
        .package_bucket
        .is_none()
        .then_some(c.at.bucket)
        .flatten();
    let package = match built {
        Some(b) if c.facts.may_stage => {
            Some(c.steps.add(Op::StagePackage, [Some(b), stage_in_bucket]))
        }
        other => other,
    };
    let staging = package.is_some() && c.facts.may_stage;
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
    func.handler = st.handler.clone();
    func.runtime = st.runtime.clone();
    func.memory_size = i64::from(st.memory_mb);
    func.timeout = i64::from(st.timeout_s);
    func.architecture = f.architecture.clone();
    func.description = keep_or(&state.function.description, st.description.clone());
    func.environment = keep_or(&state.function.environment, st.environment.clone());
    // Code changed outside Terraform: not what we uploaded last.
    if m.private
        .code_sha256
        .as_deref()
        .is_some_and(|c| c != f.code_sha256)
    {
        s.source_code_hash = format!("{CODE_DRIFT} (CodeSha256 {})", f.code_sha256);
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
}
