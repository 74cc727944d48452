//! The `eventpipe_event_pipeline` resource: bucket, role and inline policy,
//! function, invoke permission and bucket notification as one unit.
//!
//! `schema` declares it; `plan` decides what a change means; the apply,
//! read, import and delete operations turn that into AWS calls through
//! [`crate::aws`]. Nothing here knows about gRPC.

mod apply;
mod delete;
mod errors;
mod model;
mod naming;
pub mod package;
mod plan;
mod policy;
mod read;
mod runtimes;
pub mod schema;
pub mod source;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::aws::AwsClients;
use errors::ApplyError;
use model::{Have, Private, Spec};
use tfsdk::access::Obj;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::value::{self, Value};

use tfsdk::provider::{Planned, Recorded as Applied};

/// What the configured provider gives the resource.
#[derive(Debug)]
pub struct Context {
    pub aws: Arc<AwsClients>,
    pub default_tags: BTreeMap<String, String>,
    /// Cancelled when Terraform asks the provider to stop.
    pub stop: CancellationToken,
}

/// Config checks that need no AWS call.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    tfsdk::schema::validate_config(
        &schema::schema().block,
        config,
        &AttrPath::root(),
        &mut diags,
    );
    diags.extend(validate::check(config));
    diags
}

/// Where the pipeline goes: region from the provider, account from the prior
/// state when there is one (no AWS call), otherwise from STS (once per process).
async fn location(ctx: &Context, prior: &Value) -> Result<policy::Location, Diagnostic> {
    let region = ctx.aws.region.clone();
    let partition = policy::partition_of(&region).to_owned();
    let from_prior = Obj::new(prior, AttrPath::root())
        .ok()
        .flatten()
        .and_then(|p| p.string("role_arn").ok())
        .and_then(|f| f.known())
        .and_then(|arn| policy::account_of_arn(&arn).map(str::to_owned));
    let account_id = match from_prior {
        Some(a) => a,
        None => ctx.aws.account_id().await.map_err(|e| {
            Diagnostic::error(
                "Cannot determine the AWS account",
                format!(
                    "The plan needs the account id to write the role's policy and ARNs; asking \
                     STS failed: {e}"
                ),
            )
        })?,
    };
    Ok(policy::Location {
        partition,
        region,
        account_id,
    })
}

pub async fn plan(ctx: &Context, prior: &Value, proposed: &Value, config: &Value) -> Planned {
    if proposed.is_null() {
        return Planned::destroy();
    }
    let location = match location(ctx, prior).await {
        Ok(l) => l,
        Err(d) => {
            return Planned {
                state: Value::Null,
                requires_replace: Vec::new(),
                diags: d.into(),
            };
        }
    };
    let env = plan::PlanEnv {
        location,
        default_tags: ctx.default_tags.clone(),
    };
    let mut planned = plan::plan(&env, prior, proposed, config);
    // Terraform validated the configuration already; values that were
    // unknown then (taken from other resources) are checked again here.
    // Only errors: the warnings were shown by the validation.
    if !planned.diags.has_errors() {
        let errors = validate(config).into_iter().filter(Diagnostic::is_error);
        planned.diags.extend(Diagnostics(errors.collect()));
    }
    planned
}

pub async fn apply(
    ctx: &Context,
    prior: &Value,
    planned: &Value,
    _config: &Value,
    private: &[u8],
) -> Applied {
    let private = Private::from_bytes(private);
    if planned.is_null() {
        return destroy(ctx, prior, &private).await;
    }
    let want = match Spec::from_value(planned) {
        Ok(s) => s,
        Err(e) => return failed(prior, &private, Diagnostic::from(e).into()),
    };
    if !planned.is_wholly_known() {
        let d = Diagnostic::from(&ApplyError::BadPlan(
            "some planned values are still unknown".into(),
        ));
        return failed(prior, &private, d.into());
    }
    if prior.is_null() {
        create(ctx, planned, &want, &private).await
    } else {
        update(ctx, prior, planned, &want, &private).await
    }
}

fn failed(state: &Value, private: &Private, diags: Diagnostics) -> Applied {
    Applied {
        state: state.clone(),
        private: private.to_bytes(),
        diags,
    }
}

fn diags_of<'a>(errors: impl IntoIterator<Item = &'a ApplyError>) -> Diagnostics {
    Diagnostics(errors.into_iter().map(Diagnostic::from).collect())
}

async fn create(ctx: &Context, planned: &Value, want: &Spec, private: &Private) -> Applied {
    let (result, created) =
        apply::converge(&ctx.aws, &ctx.stop, want, None, &Have::nothing(), private)
            .instrument(tracing::info_span!("create", pipeline = %want.name))
            .await;
    match result {
        Ok(private) => Applied {
            state: planned.clone(),
            private: private.to_bytes(),
            diags: Diagnostics::new(),
        },
        Err(e) if matches!(e, ApplyError::Cancelled { .. }) || ctx.stop.is_cancelled() => {
            // Terraform was interrupted: stop now, undo nothing, and hand
            // back what exists so Terraform records it (tainted).
            tracing::warn!(error = %e, ?created, "create interrupted; returning what exists");
            let state = if created.any() {
                apply::partial_state(planned, &created)
            } else {
                Value::Null
            };
            failed(&state, private, diags_of([&e]))
        }
        Err(e) => {
            tracing::warn!(error = %e, ?created, "create failed; rolling back");
            let undo = apply::roll_back(&ctx.aws, want, created).await;
            let mut diags = diags_of([&e]);
            if undo.is_empty() {
                // Nothing of this create is left: record nothing.
                failed(&Value::Null, &Private::default(), diags)
            } else {
                // Keep what could not be undone in the state (tainted), so
                // Terraform still knows about it and replaces it next time.
                diags.extend(diags_of(&undo));
                failed(&apply::partial_state(planned, &created), private, diags)
            }
        }
    }
}

async fn update(
    ctx: &Context,
    prior: &Value,
    planned: &Value,
    want: &Spec,
    private: &Private,
) -> Applied {
    let before = match Spec::from_value(prior) {
        Ok(s) => s,
        Err(e) => return failed(prior, private, Diagnostic::from(e).into()),
    };
    let have = Have::from_spec(&before);
    let (result, _) = apply::converge(&ctx.aws, &ctx.stop, want, Some(&before), &have, private)
        .instrument(tracing::info_span!("update", pipeline = %want.name))
        .await;
    match result {
        Ok(private) => Applied {
            state: planned.clone(),
            private: private.to_bytes(),
            diags: Diagnostics::new(),
        },
        // The prior state stays; the next refresh sees what did change.
        Err(e) => failed(prior, private, diags_of([&e])),
    }
}

async fn destroy(ctx: &Context, prior: &Value, private: &Private) -> Applied {
    let spec = match Spec::from_value(prior) {
        Ok(s) => s,
        Err(e) => return failed(prior, private, Diagnostic::from(e).into()),
    };
    let deleted = delete::delete(&ctx.aws, &spec)
        .instrument(tracing::info_span!("delete", pipeline = %spec.name))
        .await;
    match deleted {
        Ok(()) => Applied::gone(),
        Err(errors) => {
            // Terraform shows no resource address with destroy errors, so
            // say which pipeline they are about.
            let mut diags = diags_of(&errors);
            for d in &mut diags.0 {
                d.detail = format!("Destroying pipeline {:?}: {}", spec.name, d.detail);
            }
            failed(prior, private, diags)
        }
    }
}

/// Refreshes the state from AWS; null when every part is gone.
pub async fn read(ctx: &Context, current: &Value, private: &[u8]) -> Applied {
    let private = Private::from_bytes(private);
    let spec = match Spec::from_value(current) {
        Ok(s) => s,
        Err(e) => return failed(current, &private, Diagnostic::from(e).into()),
    };
    match read::observe(&ctx.aws, &spec.name, &spec.bucket, true).await {
        Ok(seen) if seen.nothing_left() => Applied::gone(),
        Ok(seen) => Applied {
            state: read::merge(current, &seen, &private),
            private: private.to_bytes(),
            diags: Diagnostics::new(),
        },
        Err(e) => failed(
            current,
            &private,
            Diagnostic::error("Cannot refresh the pipeline", e.to_string()).into(),
        ),
    }
}

/// `terraform import eventpipe_event_pipeline.x NAME`.
pub async fn import(ctx: &Context, id: &str) -> Applied {
    match read::import_state(&ctx.aws, id, &ctx.default_tags).await {
        Ok(Some((state, private))) => Applied {
            state,
            private: private.to_bytes(),
            diags: Diagnostics::new(),
        },
        Ok(None) => failed(
            &Value::Null,
            &Private::default(),
            Diagnostic::error(
                "Cannot import non-existent pipeline",
                format!(
                    "No Lambda function named {id:?} exists in {}.",
                    ctx.aws.region
                ),
            )
            .into(),
        ),
        Err(e) => failed(
            &Value::Null,
            &Private::default(),
            Diagnostic::error("Cannot import the pipeline", e.to_string()).into(),
        ),
    }
}

/// Brings stored state up to the current schema version.
pub fn upgrade(version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
    if version > schema::SCHEMA_VERSION {
        return Err(Diagnostic::error(
            "State from a newer provider",
            format!(
                "This state was written by a provider using schema version {version}; this \
                 provider knows up to version {}. Upgrade the provider.",
                schema::SCHEMA_VERSION
            ),
        )
        .into());
    }
    value::decode_json(json, &schema::schema().value_type()).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read stored state",
            format!("The stored state does not match the resource schema: {e}"),
        ))
    })
}
