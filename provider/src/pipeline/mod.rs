//! The `eventpipe_event_pipeline` resource: bucket, role and inline policy,
//! function, invoke permission and bucket notification as one unit.
//!
//! Values flow one way: Terraform's values are read into the typed
//! [`state::State`]; [`plan`] decides the planned state; at apply,
//! [`steps`] decides what to do, before any AWS call, and [`execute`] does
//! it through [`ops`] and [`crate::aws`]. [`refresh`] and [`import`] read
//! AWS back into a state. Nothing here knows about gRPC.

mod apply;
mod bucket_check;
mod context;
mod create_check;
mod declare;
pub mod defaults;
mod desired;
/// The image repository's lifecycle and repository policies (issue 25;
/// public until the repository part uses them).
pub mod ecr_policy;
pub(crate) mod errors;
pub mod exclude;
mod execute;
mod generate;
mod handler_check;
pub mod identity;
mod image_plan;
pub(crate) mod import;
mod key_look;
pub mod list;
pub(crate) mod naming;
mod observed;
mod ops;
pub mod ownership;
pub mod package;
mod part;
pub(crate) mod parts;
mod plan;
mod planning;
mod policy;
pub(crate) mod private;
pub mod publish;
mod refresh;
mod rules;
mod run;
pub(crate) mod runtimes;
pub mod s3_event;
pub mod schema;
mod shared;
pub mod source;
pub(crate) mod state;
mod step;
mod steps;
mod upgrade;
mod validate;
mod wiring;

use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::provider::{Planned, Recorded};
use tfsdk::value::Value;

use errors::ApplyError;
use package::Build;
use private::Private;
use state::{Known, Planning, State};

pub use context::Context;
pub use upgrade::upgrade;

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
    let private = Private::from_bytes(prior_private);
    match planning::plan(ctx, prior.as_ref(), &cfg, &private).await {
        Ok(planned) => Planned {
            state: planned.state.to_value(),
            requires_replace: planned.requires_replace,
            private: None,
            diags: planned.diags,
        },
        Err(diags) => Planned::failed(diags),
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
            Some(p) => apply::destroy(ctx, &p, prior, private).await,
            None => Recorded::gone(),
        };
    }
    let want = match apply::apply_time_state(planned, prior_state.as_ref()) {
        Ok(s) => s,
        Err(e) => return kept(Diagnostic::from(&e).into()),
    };
    match prior_state {
        None => apply::create(ctx, &want, &private_data).await,
        Some(p) => apply::update(ctx, &p, &want, prior, &private_data).await,
    }
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
            let mut d = context::setting(ctx, &state).explain(Diagnostic::from(&err), Some(&err.0));
            d.detail = format!("Refreshing pipeline {:?}: {}", state.name, d.detail);
            kept(d.into())
        }
    }
}

/// The identity of the pipeline `state` (or a planned state) describes.
pub fn identity(ctx: Option<&Context>, state: &Value) -> Value {
    let region = ctx.map(|c| c.aws.region.as_str()).unwrap_or_default();
    let account = ctx.and_then(|c| c.aws.looked_up_account_id());
    identity::Identity::of_state(state, region, account).to_value()
}

/// `import { identity = { name = …, adopt = … } }`: the same import as the
/// ID `NAME` (or `adopt:NAME`) the identity stands for.
pub async fn import_by_identity(ctx: &Context, wanted: &Value) -> Recorded {
    let id = async {
        let wanted = identity::Identity::from_import(wanted)?;
        let account = ctx.aws.account_id().await?;
        Ok::<_, errors::ImportError>(wanted.import_id(&ctx.aws.region, &account)?)
    };
    match id.await {
        Ok(id) => import(ctx, &id).await,
        Err(e) => Recorded::unchanged(&Value::Null, &[], Diagnostic::from(&e)),
    }
}

/// GenerateResourceConfig: the configuration a user would write for a
/// pipeline's state.
pub fn generate_config(state: &Value) -> Value {
    generate::config_of(state)
}

/// Identity data stored at an earlier identity version.
pub fn upgrade_identity(version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
    identity::upgrade(version, json).map_err(|e| Diagnostic::from(&e).into())
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
