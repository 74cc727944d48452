//! The `eventpipe_event_pipeline` resource: bucket, role and inline policy,
//! function, invoke permission and bucket notification as one unit.
//!
//! Values flow one way: Terraform's values are read into the typed
//! [`state::State`]; [`plan`] decides the planned state; at apply,
//! [`steps`] decides what to do, before any AWS call, and [`execute`] does
//! it through [`ops`] and [`crate::aws`]. [`refresh`] and [`import`] read
//! AWS back into a state. Nothing here knows about gRPC.

mod bucket_check;
mod create_check;
mod defaults;
mod desired;
mod errors;
mod execute;
mod handler_check;
pub(crate) mod import;
pub(crate) mod naming;
mod ops;
pub mod ownership;
pub mod package;
mod parts;
mod plan;
mod policy;
mod private;
mod refresh;
mod run;
pub(crate) mod runtimes;
pub mod schema;
mod shared;
pub mod source;
pub(crate) mod state;
mod steps;
mod upgrade;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::provider::{Planned, Recorded};
use tfsdk::value::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::aws::AwsClients;
use errors::{ApplyError, PlanError, Setting};
use execute::{OnError, execute};
use package::Build;
use private::Private;
use run::{Purpose, Run};
use state::{Known, Planning, State};

pub use upgrade::upgrade;

/// What the configured provider gives the resource.
#[derive(Debug)]
pub struct Context {
    pub aws: Arc<AwsClients>,
    pub default_tags: BTreeMap<String, String>,
    /// Cancelled when Terraform asks the provider to stop.
    pub stop: CancellationToken,
    /// Notification writes to one bucket take turns.
    buckets: shared::BucketLocks,
    /// What plans learnt of existing buckets.
    views: shared::BucketViews,
}

impl Context {
    pub fn new(
        aws: Arc<AwsClients>,
        default_tags: BTreeMap<String, String>,
        stop: CancellationToken,
    ) -> Context {
        Context {
            aws,
            default_tags,
            stop,
            buckets: shared::BucketLocks::default(),
            views: shared::BucketViews::default(),
        }
    }
}

/// Config checks that need no AWS call (ValidateResourceConfig).
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = schema_checks(config);
    match State::<Planning>::from_value(config) {
        Ok(cfg) => {
            // The package is built with the defaults (runtime, architecture).
            let mut with_defaults = config.clone();
            tfsdk::schema::apply_defaults(&schema::schema().block, config, &mut with_defaults);
            let build = match State::<Planning>::from_value(&with_defaults) {
                Ok(d) => Build::of(&d.function),
                Err(_) => Build::of(&cfg.function),
            };
            diags.extend(validate::check(&cfg, &build));
        }
        // The schema checks above already said what is wrong with it.
        Err(_) if diags.has_errors() => {}
        Err(e) => diags.push(e.into()),
    }
    diags
}

/// The configured `name`, when it is known.
pub fn name_of(config: &Value) -> Option<&str> {
    match config {
        Value::Object(m) => m.get(state::attr::NAME).and_then(Value::as_str),
        _ => None,
    }
}

fn schema_checks(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    tfsdk::schema::validate_config(
        &schema::schema().block,
        config,
        &AttrPath::root(),
        &mut diags,
    );
    diags
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

/// PlanResourceChange for a create, update or replace (a destroy is
/// planned by the provider before it gets here).
pub async fn plan(
    ctx: &Context,
    prior: &Value,
    _proposed: &Value,
    config: &Value,
    prior_private: &[u8],
) -> Planned {
    // Values that were unknown at validation (taken from other resources)
    // are checked again now; only errors, as the warnings were shown then.
    let mut with_defaults = config.clone();
    tfsdk::schema::apply_defaults(&schema::schema().block, config, &mut with_defaults);
    let schema_errors = schema_checks(config);
    if schema_errors.has_errors() {
        return Planned::failed(schema_errors);
    }
    let cfg = match State::<Planning>::from_value(&with_defaults) {
        Ok(c) => c,
        Err(e) => return Planned::failed(Diagnostic::from(e)),
    };
    let prior = match prior {
        Value::Null => None,
        v => match State::<Known>::from_value(v) {
            Ok(p) => Some(p),
            Err(e) => return Planned::failed(Diagnostic::from(e)),
        },
    };
    let location = match location(ctx, prior.as_ref()).await {
        Ok(l) => l,
        Err(e) => return Planned::failed(Diagnostic::from(&e)),
    };
    let env = plan::PlanEnv {
        location,
        default_tags: ctx.default_tags.clone(),
    };
    // One scan of the source serves the checks and the hash.
    let build = Build::of(&cfg.function);
    let private = Private::from_bytes(prior_private);
    let planned = plan::plan(
        &env,
        prior.as_ref(),
        &cfg,
        &build,
        private.backfill.is_some(),
    );
    let mut diags = planned.diags;
    if !diags.has_errors() {
        let errors = validate::check(&cfg, &build)
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
                .is_some_and(|r| r.replaces(parts::Part::Function));
        diags.extend(runtime_check(prior.as_ref(), &planned.state, new_function));
    }
    if !diags.has_errors() {
        // The plan's looks at AWS, at the same time: the existing bucket's
        // notifications, and for a create whether its names are free.
        let live = bucket_check::check(&ctx.aws, &ctx.views, &planned.state, prior.as_ref());
        let create = async {
            match &prior {
                None => create_check::check(&ctx.aws, &planned.state).await,
                Some(_) => Diagnostics::new(),
            }
        };
        let (live, create) = tokio::join!(live, create);
        diags.extend(live);
        diags.extend(create);
    }
    if diags.has_errors() {
        return Planned::failed(diags);
    }
    if let (Some(adopted), Some(prior)) = (&private.adopted, &prior) {
        // A new name for the function or role would delete the adopted one.
        let renamed = planned
            .rename
            .as_ref()
            .is_some_and(|r| r.replaces(parts::Part::Function) || r.replaces(parts::Part::Role));
        let name_at = state::path::top(state::attr::NAME);
        let replaced = planned.requires_replace.first();
        if let Some(attr) = replaced.or(renamed.then_some(&name_at)) {
            // A replacement would destroy the function and role just adopted.
            let fix = if *attr == name_at {
                "The pipeline may have another name than the adopted one when the parts that \
                 take their names from it are named: set `function_name` and `role_name` to the \
                 adopted values (see the warning about renaming)."
            } else {
                "Set it to the adopted value (the import recorded it; see `terraform state show`)."
            };
            diags.push(
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
            );
            return Planned::failed(diags);
        }
        diags.push(import::first_apply_warning(prior, adopted, &planned.state));
    }
    Planned {
        state: planned.state.to_value(),
        requires_replace: planned.requires_replace,
        private: None,
        diags,
    }
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

/// ApplyResourceChange: create, update or destroy.
pub async fn apply(
    ctx: &Context,
    prior: &Value,
    planned: &Value,
    _config: &Value,
    private: &[u8],
) -> Recorded {
    let private_data = Private::from_bytes(private);
    let kept = |diags: Diagnostics| Recorded::unchanged(prior, private, diags);
    let prior_state = match prior {
        Value::Null => None,
        v => match State::<Known>::from_value(v) {
            Ok(p) => Some(p),
            Err(e) => return kept(Diagnostic::from(&ApplyError::from(e)).into()),
        },
    };
    if planned.is_null() {
        return match prior_state {
            Some(p) => destroy(ctx, &p, prior, private).await,
            None => Recorded::gone(),
        };
    }
    let want = match apply_time_state(planned, prior_state.as_ref()) {
        Ok(s) => s,
        Err(e) => return kept(Diagnostic::from(&e).into()),
    };
    match prior_state {
        None => create(ctx, &want, &private_data).await,
        Some(p) => update(ctx, &p, &want, prior, &private_data).await,
    }
}

/// The planned state, with the values only the apply learns (the backfill
/// count, the URL of a failure queue still to be made) filled in with what
/// they were. A queue URL not known yet is empty: the queue is not there
/// yet, and the step that makes it records its URL ([`recorded`]).
fn apply_time_state(
    planned: &Value,
    prior: Option<&State<Known>>,
) -> Result<State<Known>, ApplyError> {
    use tfsdk::access::Field;
    let mut s = State::<Planning>::from_value(planned)?;
    if s.backfilled_objects.is_unknown() {
        s.backfilled_objects = Field::Known(prior.map_or(0, |p| p.backfilled_objects));
    }
    // What only AWS's answers give (queue URLs, mapping ids): "" until
    // they come.
    for f in [
        &mut s.failure_queue_url,
        &mut s.event_queue_url,
        &mut s.stream_mapping_id,
        &mut s.queue_mapping_id,
    ] {
        if f.is_unknown() {
            *f = Field::Known(String::new());
        }
    }
    if s.failure_queue_url.is_unknown() {
        let url = prior.and_then(|p| p.failure_queue_url.clone());
        s.failure_queue_url = tfsdk::access::Field::Known(url.unwrap_or_default());
    }
    Ok(s.known()?)
}

/// What an apply records: `state` with what the run learnt (the backfill
/// count), and the private data to keep with it.
fn recorded(
    state: &State<Known>,
    private: &Private,
    run: &Run<'_>,
    mut diags: Diagnostics,
) -> Recorded {
    let record = run.record();
    let mut private = private.clone();
    if let Some(pkg) = &record.package {
        private.code_sha256 = Some(pkg.code_sha256.clone());
    }
    // Tagged and in use: an adoption is complete once an apply succeeded.
    if !diags.has_errors() {
        private.adopted = None;
    }
    let mut state = state.clone();
    state.backfilled_objects += record.backfilled;
    for (learnt, field) in [
        (&record.queue_url, &mut state.failure_queue_url),
        (&record.event_queue_url, &mut state.event_queue_url),
        (&record.stream_mapping_id, &mut state.stream_mapping_id),
        (&record.queue_mapping_id, &mut state.queue_mapping_id),
    ] {
        if let Some(v) = learnt {
            *field = Some(v.clone());
        }
    }
    // What is left to send is what the last backfill left, also when it
    // had nothing more to send (a resume that found the rest empty).
    if record.backfill_ran {
        private.backfill = record.backfill_left.clone();
    }
    if let Some(left) = &record.backfill_left {
        let why = record
            .backfill_problem
            .clone()
            .unwrap_or_else(|| "Terraform asked the provider to stop".to_owned());
        diags.push(Diagnostic::warning(
            "Backfill not finished",
            format!(
                "Backfill sent {} existing objects to the function and stopped: {why}. {} \
                 trigger(s) still have objects to send; the next apply continues where this \
                 one stopped.",
                record.backfilled,
                left.pending.len()
            ),
        ));
    }
    Recorded {
        state: state.to_value(),
        private: private.to_bytes(),
        diags,
    }
}

/// What the diagnostics of `state`'s errors may use to explain them.
fn setting(ctx: &Context, state: &State<Known>) -> Setting {
    Setting {
        s3_plain_http: ctx.aws.s3_plain_http,
        require_tls: state.require_tls,
    }
}

async fn create(ctx: &Context, want: &State<Known>, private: &Private) -> Recorded {
    let facts = steps::Facts {
        may_stage: may_stage(want),
        ..steps::Facts::default()
    };
    let steps = steps::converge(want, None, facts);
    let run = Run::new(ctx, want, None, private, Purpose::Converge);
    let span = tracing::info_span!("create", pipeline = %want.name);
    let Err(errors) = execute(&run, &steps, OnError::Stop).instrument(span).await else {
        return recorded(want, private, &run, Diagnostics::new());
    };
    let made = run.record().made;
    let interrupted = ctx.stop.is_cancelled()
        || errors
            .iter()
            .any(|e| matches!(e, ApplyError::Cancelled { .. }));
    if interrupted {
        // Terraform was interrupted: stop now, undo nothing, and hand back
        // what exists so Terraform records it (tainted).
        tracing::warn!(?made, "create interrupted; returning what exists");
        let diags = setting(ctx, want).diagnostics(&errors);
        if made.is_empty() {
            return Recorded::unchanged(&Value::Null, &[], diags);
        }
        return recorded(&want.with_only(made), private, &run, diags);
    }
    tracing::warn!(?made, "create failed; rolling back");
    let undo = run.then(Purpose::RollBack);
    let undone = execute(&undo, &steps::roll_back(made), OnError::Continue)
        .instrument(tracing::info_span!("roll back", pipeline = %want.name))
        .await;
    let mut diags = setting(ctx, want).diagnostics(&errors);
    let left = made.minus(undo.record().removed);
    if let Err(undo_errors) = undone {
        diags.extend(setting(ctx, want).diagnostics(&undo_errors));
    }
    if left.is_empty() {
        // Nothing of this create is left: record nothing.
        Recorded::unchanged(&Value::Null, &[], diags)
    } else {
        // Keep what could not be undone in the state (tainted), so
        // Terraform still knows about it and replaces it next time.
        recorded(&want.with_only(left), private, &run, diags)
    }
}

async fn update(
    ctx: &Context,
    prior: &State<Known>,
    want: &State<Known>,
    prior_value: &Value,
    private: &Private,
) -> Recorded {
    let facts = steps::Facts {
        present: prior.present(),
        unclaimed: private
            .adopted
            .as_ref()
            .map(|_| import::CLAIMED)
            .unwrap_or_default(),
        backfill_pending: private.backfill.is_some(),
        may_stage: may_stage(want),
    };
    let steps = steps::converge(want, Some(prior), facts);
    let run = Run::new(ctx, want, Some(prior), private, Purpose::Converge);
    let span = tracing::info_span!("update", pipeline = %want.name);
    match execute(&run, &steps, OnError::Stop).instrument(span).await {
        Ok(()) => recorded(want, private, &run, Diagnostics::new()),
        // The prior state stays; the next refresh sees what did change.
        // Code this update deployed is the provider's own, not a change
        // made outside Terraform.
        Err(errors) => {
            let mut kept = private.clone();
            if let Some(sha) = run.record().uploaded {
                kept.code_sha256 = Some(sha);
            }
            let diags = setting(ctx, want).diagnostics(&errors);
            Recorded::unchanged(prior_value, &kept.to_bytes(), diags)
        }
    }
}

async fn destroy(
    ctx: &Context,
    prior: &State<Known>,
    prior_value: &Value,
    private: &[u8],
) -> Recorded {
    let steps = steps::destroy(prior);
    let private_data = Private::from_bytes(private);
    let run = Run::new(ctx, prior, None, &private_data, Purpose::Destroy);
    let span = tracing::info_span!("delete", pipeline = %prior.name);
    match execute(&run, &steps, OnError::Continue)
        .instrument(span)
        .await
    {
        Ok(()) => Recorded::gone(),
        Err(errors) => {
            // Terraform shows no resource address with destroy errors, so
            // say which pipeline they are about.
            let mut diags = setting(ctx, prior).diagnostics(&errors);
            for d in &mut diags.0 {
                d.detail = format!("Destroying pipeline {:?}: {}", prior.name, d.detail);
            }
            Recorded::unchanged(prior_value, private, diags)
        }
    }
}

/// Whether the package `want` deploys may have to be staged in S3 (a
/// look at the source's sizes and dependency files, no reads of content).
fn may_stage(want: &State<Known>) -> bool {
    package::may_need_staging(&ops::function::package_settings(want))
}

/// ReadResource: refreshes the state from AWS; null when every part is gone.
pub async fn read(ctx: &Context, current: &Value, private: &[u8]) -> Recorded {
    let kept = |diags: Diagnostics| Recorded::unchanged(current, private, diags);
    let state = match State::<Known>::from_value(current) {
        Ok(s) => s,
        Err(e) => return kept(Diagnostic::from(e).into()),
    };
    let private_data = Private::from_bytes(private);
    match refresh::observe(&ctx.aws, &refresh::Names::of(&state)).await {
        Ok(seen) if seen.nothing_left(state.create_bucket) => Recorded::gone(),
        Ok(seen) => Recorded {
            state: refresh::merge(&state, &seen, &private_data).to_value(),
            private: private.to_vec(),
            diags: Diagnostics::new(),
        },
        Err(e) => {
            // Terraform shows no resource address with the errors of a
            // refresh that follows an import: say which pipeline it is.
            let err = errors::RefreshError(e);
            let mut d = setting(ctx, &state).explain(Diagnostic::from(&err), Some(&err.0));
            d.detail = format!("Refreshing pipeline {:?}: {}", state.name, d.detail);
            kept(d.into())
        }
    }
}

/// ImportResourceState: `terraform import eventpipe_event_pipeline.x NAME`.
pub async fn import(ctx: &Context, id: &str) -> Recorded {
    match Box::pin(import::import(&ctx.aws, id, &ctx.default_tags)).await {
        Ok(i) => Recorded {
            state: i.state.to_value(),
            private: i.private.to_bytes(),
            diags: i.diags,
        },
        Err(e) => {
            // Nor with an import's errors (from an `import` block).
            let mut d = Diagnostic::from(&e);
            d.detail = format!("Importing {id:?}: {}", d.detail);
            Recorded::unchanged(&Value::Null, &[], d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::state::{OnFailure, tests::known_state};

    #[test]
    fn a_failure_queue_still_to_be_made_has_no_url_at_apply() {
        let mut s = known_state("orders");
        s.on_failure = Some(OnFailure {
            maximum_retry_attempts: Some(2),
            maximum_event_age: Some(21_600),
            queue_arn: None,
            force_delete: false,
        });
        s.failure_queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:orders-failed".into());
        let mut planned = s.to_value();
        if let Value::Object(m) = &mut planned {
            m.insert(state::attr::FAILURE_QUEUE_URL.into(), Value::Unknown);
        }
        let want = apply_time_state(&planned, None).expect("a known state");
        assert_eq!(want.failure_queue_url.as_deref(), Some(""));
        assert!(!want.present().contains(parts::Part::FailureQueue));
    }
}
