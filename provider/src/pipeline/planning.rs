//! A plan as a whole: the pure [`plan::plan`], then the checks that follow
//! it (cross-attribute and file system checks, the runtime's dates, the
//! plan's looks at AWS) and what an adoption not yet applied forbids.
//! [`super::plan`] decodes Terraform's values, calls [`plan`] and encodes.

use tfsdk::diag::{Diagnostic, Diagnostics};

use super::context::Context;
use super::errors::PlanError;
use super::package::Build;
use super::part::Part;
use super::plan::{self, PlannedState};
use super::private::Private;
use super::state::{self, Known, Planning, State};
use super::{
    bucket_check, create_check, desired, image_plan, import, key_look, policy, runtimes, validate,
};

/// Plans a create, update or replace of `cfg` (with the schema's defaults)
/// over `prior`. The errors are the plan's diagnostics when it fails.
pub(super) async fn plan(
    ctx: &Context,
    prior: Option<&State<Known>>,
    cfg: &State<Planning>,
    private: &Private,
) -> Result<PlannedState, Diagnostics> {
    // The account, an image's base and the keys that encrypt the
    // pipeline's data, at the same time.
    let (location, base, keys) = tokio::join!(
        location(ctx, prior),
        image_plan::resolve(&cfg.function),
        key_look::look(&ctx.aws, &ctx.keys, cfg)
    );
    let location = location.map_err(|e| -> Diagnostics { Diagnostic::from(&e).into() })?;
    let env = plan::PlanEnv {
        location,
        default_tags: ctx.default_tags.clone(),
        keys: keys.grants,
    };
    // One scan of the source serves the checks and the hash.
    let build = Build::of(&cfg.function).with_base(base.digest);
    let mut planned = plan::plan(&env, prior, cfg, &build, private.backfill.is_some());
    let mut diags = base.diags;
    diags.extend(keys.diags);
    diags.extend(key_look::cross_account(
        &env.keys,
        &env.location,
        planned.state.role_arn.as_known().map(String::as_str),
    ));
    diags.extend(std::mem::take(&mut planned.diags));
    if !diags.has_errors() {
        let errors = validate::check(cfg, &build)
            .into_iter()
            .filter(Diagnostic::is_error);
        diags.extend(Diagnostics(errors.collect()));
    }
    if !diags.has_errors() {
        // A function made anew, by a replacement or under a new name, is
        // a create for the runtime's deprecation dates.
        let new_function = !planned.requires_replace.is_empty()
            || planned
                .rename
                .as_ref()
                .is_some_and(|r| r.replaces(Part::Function));
        diags.extend(runtime_check(prior, &planned.state, new_function));
    }
    if !diags.has_errors() {
        // The plan's looks at AWS, at the same time: the existing bucket's
        // notifications, for a create whether its names are free, and
        // whether a given image repository exists.
        let live = bucket_check::check(&ctx.aws, &ctx.views, &planned.state, prior);
        let create = async {
            match prior {
                None => create_check::check(&ctx.aws, &planned.state).await,
                Some(_) => Diagnostics::new(),
            }
        };
        let repository = create_check::given_repository(&ctx.aws, &planned.state, prior);
        let (live, create, repository) = tokio::join!(live, create, repository);
        diags.extend(live);
        diags.extend(create);
        diags.extend(repository);
    }
    if diags.has_errors() {
        return Err(diags);
    }
    if let (Some(adopted), Some(prior)) = (&private.adopted, prior) {
        if let Some(refused) = replaces_adopted(&planned) {
            diags.push(refused);
            return Err(diags);
        }
        diags.push(import::first_apply_warning(prior, adopted, &planned.state));
    }
    planned.diags = diags;
    Ok(planned)
}

/// Where the pipeline goes: region from the provider, account from the prior
/// state when there is one (no AWS call), otherwise from STS (once per process).
async fn location(
    ctx: &Context,
    prior: Option<&State<Known>>,
) -> Result<policy::Location, PlanError> {
    let region = ctx.aws.region.clone();
    let partition = policy::partition_of(&region).to_owned();
    let from_prior = prior.and_then(|p| policy::account_of_arn(&p.role_arn).map(str::to_owned));
    let account_id = match from_prior {
        Some(a) => a,
        None => ctx.aws.account_id().await.map_err(PlanError::Account)?,
    };
    Ok(policy::Location {
        partition,
        region,
        account_id,
    })
}

/// The error when a plan of a pipeline adopted (first apply not run yet)
/// would replace it, or give the function or role a new name: either would
/// delete the adopted function and role.
fn replaces_adopted(planned: &PlannedState) -> Option<Diagnostic> {
    let renamed = planned
        .rename
        .as_ref()
        .is_some_and(|r| r.replaces(Part::Function) || r.replaces(Part::Role));
    let name_at = state::path::top(state::attr::NAME);
    let replaced = planned.requires_replace.first();
    let attr = replaced.or(renamed.then_some(&name_at))?;
    // A replacement would destroy the function and role just adopted.
    let fix = if *attr == name_at {
        "The pipeline may have another name than the adopted one when the parts that \
         take their names from it are named: set `function_name` and `role_name` to the \
         adopted values (see the warning about renaming)."
    } else {
        "Set it to the adopted value (the import recorded it; see `terraform state show`)."
    };
    Some(
        Diagnostic::error(
            "Replacement of an adopted pipeline",
            format!(
                "This pipeline was adopted with `terraform import … adopt:` and its first \
                 apply has not run yet; the configuration's `{attr}` differs from what \
                 was adopted, which would replace the pipeline and delete the adopted \
                 function and role. {fix}"
            ),
        )
        .at(attr.clone()),
    )
}

/// The runtime's dates against today's, for what this plan does with the
/// function.
fn runtime_check(
    prior: Option<&State<Known>>,
    planned: &State<Planning>,
    replace: bool,
) -> Diagnostics {
    use runtimes::{Use, Verdict};
    let Some(runtime) = planned.function.runtime.as_known() else {
        return Diagnostics::new();
    };
    let usage = match (prior, replace) {
        (None, _) | (Some(_), true) => Use::Create,
        (Some(p), false) => match planned.known() {
            Ok(k)
                if k.source_code_hash == p.source_code_hash
                    && desired::same_settings(
                        &desired::function_settings(p),
                        &desired::function_settings(&k),
                    )
                    && k.function.architecture == p.function.architecture =>
            {
                Use::Keep
            }
            _ => Use::Update,
        },
    };
    let at = state::path::function(state::attr::RUNTIME);
    match runtimes::verdict(runtime, usage, runtimes::Day::today()) {
        Verdict::Fine => Diagnostics::new(),
        Verdict::Warning(w) => {
            Diagnostic::warning("Runtime near or past deprecation", format!("`{at}`: {w}."))
                .at(at)
                .into()
        }
        Verdict::Error(e) => {
            Diagnostic::error("Runtime no longer accepted", format!("`{at}`: {e}."))
                .at(at)
                .into()
        }
    }
}
