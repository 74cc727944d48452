//! The `tfplugin6.Provider` gRPC service. Each handler converts the request
//! ([`super::fromproto`]), calls the provider, and converts the answer
//! ([`super::toproto`]). Protocol types end here; the provider below sees
//! [`crate::value::Value`]s and diagnostics.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use super::ServeOptions;
use super::fromproto::{decode, identity, raw_state};
use super::toproto::{
    diagnostic_to_proto, diags_to_proto, encode, identity_data, identity_schemas, null_value,
    path_to_proto, schema_table,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::{Applied, Imported, ListRequest, Listed, Provider, Refreshed};
use crate::schema::{IdentitySchema, Schema};
use crate::value::{Type, Value};

// Their paths before the conversions had a module of their own.
pub use super::toproto::{schema_problems, schema_to_proto};

/// Serves a [`Provider`] as Terraform's `tfplugin6.Provider` gRPC service.
pub struct ProviderService<P> {
    provider: Arc<P>,
    /// The name used in messages, e.g. "the eventpipe provider".
    name: &'static str,
    /// Whether the CLI that configured this process reads identity data
    /// (protocol 6.9, Terraform 1.12): an older CLI is never sent it.
    identity_aware: AtomicBool,
}

/// Whether Terraform `version` (as ConfigureProvider gives it) speaks
/// protocol 6.9 or later. An unreadable version is taken as new: fields a
/// CLI does not know are skipped by protobuf anyway.
pub(super) fn reads_identity(version: &str) -> bool {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    let number = |p: Option<&str>| p.and_then(|p| p.parse::<u64>().ok());
    match (number(parts.next()), number(parts.next())) {
        (Some(major), Some(minor)) => (major, minor) >= (1, 12),
        _ => true,
    }
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: Arc<P>, opts: ServeOptions) -> Self {
        ProviderService {
            provider,
            name: opts.display_name,
            identity_aware: AtomicBool::new(true),
        }
    }

    fn resource_type(&self, type_name: &str) -> Result<Type, Diagnostic> {
        self.provider
            .schemas()
            .resource(type_name)
            .map(Schema::value_type)
            .ok_or_else(|| {
                Diagnostic::error(
                    "Unknown resource type",
                    format!(
                        "The {} provider has no resource type {type_name:?}.",
                        self.name
                    ),
                )
            })
    }

    fn identity_schema(&self, type_name: &str) -> Result<&IdentitySchema, Diagnostic> {
        self.provider.schemas().identity(type_name).ok_or_else(|| {
            Diagnostic::error(
                "No resource identity",
                format!(
                    "The {} provider's resource type {type_name:?} has no identity.",
                    self.name
                ),
            )
        })
    }

    /// The identity of the object `state` describes, for a response: `None`
    /// when the type has no identity or the object does not exist.
    fn identity_of(
        &self,
        type_name: &str,
        state: &Value,
    ) -> Result<Option<pb::ResourceIdentityData>, Diagnostic> {
        if !self.identity_aware.load(Ordering::Relaxed) {
            return Ok(None);
        }
        match self.provider.schemas().identity(type_name) {
            Some(schema) if !state.is_null() => {
                identity_data(&self.provider.identity(type_name, state), schema)
            }
            _ => Ok(None),
        }
    }

    fn provider_type(&self) -> Type {
        self.provider.schemas().provider.value_type()
    }

    /// Runs a handler, turning a panic into an error diagnostic so one bad
    /// request never takes the plugin (and every other request) down.
    async fn guarded<T>(&self, fut: impl Future<Output = T>) -> Result<T, Diagnostic> {
        AssertUnwindSafe(fut).catch_unwind().await.map_err(|panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(panic = %msg, "request handler panicked");
            Diagnostic::error(
                format!("Internal error in the {} provider", self.name),
                format!(
                    "The provider hit a bug and stopped this operation safely: {msg}. Please \
                     report it."
                ),
            )
        })
    }
}

impl<P: Provider> ProviderService<P> {
    fn list_type(&self, type_name: &str) -> Result<Type, Diagnostic> {
        self.provider
            .schemas()
            .list(type_name)
            .map(Schema::value_type)
            .ok_or_else(|| {
                Diagnostic::error(
                    "Unknown list resource type",
                    format!("The {} provider cannot list {type_name:?}.", self.name),
                )
            })
    }

    /// The types a list of `type_name` needs: its config's, its resource
    /// objects' and its identity's.
    fn list_types(&self, type_name: &str) -> Result<(Type, Type, Type), Diagnostic> {
        Ok((
            self.list_type(type_name)?,
            self.resource_type(type_name)?,
            self.identity_schema(type_name)?.value_type(),
        ))
    }
}

fn list_panicked() -> Diagnostic {
    Diagnostic::error(
        "Internal error while listing",
        "The provider hit a bug and stopped listing. Please report it.",
    )
}

fn problem_event(d: &Diagnostic) -> pb::list_resource::Event {
    pb::list_resource::Event {
        diagnostic: vec![diagnostic_to_proto(d)],
        ..Default::default()
    }
}

/// The provider's results as protocol events, ending after `limit` results
/// (when positive) or after an error, since Terraform stops reading there.
fn list_events(
    found: impl futures::Stream<Item = Listed> + Send + 'static,
    resource_ty: Type,
    identity_ty: Type,
    limit: i64,
) -> BoxStream<'static, Result<pb::list_resource::Event, Status>> {
    let limit = if limit > 0 { limit } else { i64::MAX };
    found
        .scan((0_i64, false), move |(results, done), listed| {
            if *done || *results >= limit {
                return futures::future::ready(None);
            }
            let event = list_event(&listed, &resource_ty, &identity_ty);
            *results += i64::from(event.identity.is_some());
            *done = event
                .diagnostic
                .iter()
                .any(|d| d.severity == pb::diagnostic::Severity::Error as i32);
            futures::future::ready(Some(Ok(event)))
        })
        .boxed()
}

fn list_event(listed: &Listed, resource_ty: &Type, identity_ty: &Type) -> pb::list_resource::Event {
    let encoded = (|| {
        let identity = if listed.identity.is_null() {
            None
        } else {
            Some(pb::ResourceIdentityData {
                identity_data: Some(encode(&listed.identity, identity_ty)?),
            })
        };
        let resource_object = match &listed.resource {
            Some(r) => Some(encode(r, resource_ty)?),
            None => None,
        };
        Ok::<_, Diagnostic>((identity, resource_object))
    })();
    match encoded {
        Ok((identity, resource_object)) => pb::list_resource::Event {
            identity,
            display_name: listed.display_name.clone(),
            resource_object,
            diagnostic: diags_to_proto(&listed.diags),
        },
        Err(d) => problem_event(&d),
    }
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let schemas = self.provider.schemas();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(super::toproto::schema_to_proto(&schemas.provider)),
            resource_schemas: schema_table(&schemas.resources),
            list_resource_schemas: schema_table(&schemas.lists),
            data_source_schemas: Default::default(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(pb::ServerCapabilities {
                // Destroys are planned by Terraform itself; saying true would
                // only add a PlanResourceChange per destroyed resource.
                plan_destroy: false,
                // The schemas are static: Terraform >= 1.6 keeps the first
                // answer for the whole run and asks the later processes of
                // the same run (validate, plan, apply walks) no more.
                get_provider_schema_optional: true,
                move_resource_state: false,
                generate_resource_config: self.provider.generates_config(),
            }),
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        let diags = self
            .guarded(async {
                match decode(
                    req.config.as_ref(),
                    &self.provider_type(),
                    "provider configuration",
                ) {
                    Ok(cfg) => self.provider.validate_provider_config(&cfg),
                    Err(d) => d.into(),
                }
            })
            .await
            .unwrap_or_else(Diagnostics::from);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        self.identity_aware
            .store(reads_identity(&req.terraform_version), Ordering::Relaxed);
        let diags = self
            .guarded(async {
                match decode(
                    req.config.as_ref(),
                    &self.provider_type(),
                    "provider configuration",
                ) {
                    Ok(cfg) => self.provider.configure(&req.terraform_version, &cfg).await,
                    Err(d) => d.into(),
                }
            })
            .await
            .unwrap_or_else(Diagnostics::from);
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diags = self
            .guarded(async {
                let ty = match self.resource_type(&req.type_name) {
                    Ok(t) => t,
                    Err(d) => return d.into(),
                };
                match decode(req.config.as_ref(), &ty, "resource configuration") {
                    Ok(cfg) => self.provider.validate_resource_config(&req.type_name, &cfg),
                    Err(d) => d.into(),
                }
            })
            .await
            .unwrap_or_else(Diagnostics::from);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let result = self
            .guarded(async {
                let ty = self
                    .resource_type(&req.type_name)
                    .map_err(Diagnostics::from)?;
                let Some(json) = raw_state(req.raw_state.as_ref())? else {
                    return Ok(null_value());
                };
                let v = self
                    .provider
                    .upgrade_resource_state(&req.type_name, req.version, json)?;
                encode(&v, &ty).map_err(Diagnostics::from)
            })
            .await
            .unwrap_or_else(|d| Err(d.into()));
        let (upgraded_state, diags) = match result {
            Ok(v) => (Some(v), Diagnostics::new()),
            Err(d) => (None, d),
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let result = self
            .guarded(async {
                let ty = self.resource_type(&req.type_name)?;
                let current = decode(req.current_state.as_ref(), &ty, "current state")?;
                let Refreshed(out) = self
                    .provider
                    .read_resource(&req.type_name, &current, &req.private)
                    .await;
                let new_identity = self.identity_of(&req.type_name, &out.state)?;
                Ok::<_, Diagnostic>((
                    encode(&out.state, &ty)?,
                    out.private,
                    out.diags,
                    new_identity,
                ))
            })
            .await
            .and_then(|r| r);
        let resp = match result {
            Ok((state, private, diags, new_identity)) => pb::read_resource::Response {
                new_state: Some(state),
                diagnostics: diags_to_proto(&diags),
                private,
                deferred: None,
                new_identity,
            },
            // Keep what Terraform has: echo the current state back.
            Err(d) => pb::read_resource::Response {
                new_state: req.current_state.clone(),
                diagnostics: vec![diagnostic_to_proto(&d)],
                private: req.private.clone(),
                deferred: None,
                new_identity: req.current_identity.clone(),
            },
        };
        Ok(Response::new(resp))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let result = self
            .guarded(async {
                let ty = self.resource_type(&req.type_name)?;
                let prior = decode(req.prior_state.as_ref(), &ty, "prior state")?;
                let proposed = decode(req.proposed_new_state.as_ref(), &ty, "proposed new state")?;
                let config = decode(req.config.as_ref(), &ty, "configuration")?;
                let planned = self
                    .provider
                    .plan_resource_change(
                        &req.type_name,
                        &prior,
                        &proposed,
                        &config,
                        &req.prior_private,
                    )
                    .await;
                let (state, planned_identity) = if planned.diags.has_errors() {
                    (None, None)
                } else if planned.state.is_null() {
                    // A destroy keeps the identity it had.
                    (
                        Some(encode(&planned.state, &ty)?),
                        req.prior_identity.clone(),
                    )
                } else {
                    (
                        Some(encode(&planned.state, &ty)?),
                        self.identity_of(&req.type_name, &planned.state)?,
                    )
                };
                Ok::<_, Diagnostic>(pb::plan_resource_change::Response {
                    planned_state: state,
                    requires_replace: planned.requires_replace.iter().map(path_to_proto).collect(),
                    planned_private: planned
                        .private
                        .clone()
                        .unwrap_or_else(|| req.prior_private.clone()),
                    diagnostics: diags_to_proto(&planned.diags),
                    legacy_type_system: false,
                    deferred: None,
                    planned_identity,
                })
            })
            .await
            .and_then(|r| r);
        Ok(Response::new(result.unwrap_or_else(|d| {
            pb::plan_resource_change::Response {
                diagnostics: vec![diagnostic_to_proto(&d)],
                ..Default::default()
            }
        })))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let result = self
            .guarded(async {
                let ty = self.resource_type(&req.type_name)?;
                let prior = decode(req.prior_state.as_ref(), &ty, "prior state")?;
                let planned = decode(req.planned_state.as_ref(), &ty, "planned state")?;
                let config = decode(req.config.as_ref(), &ty, "configuration")?;
                let Applied(out) = self
                    .provider
                    .apply_resource_change(
                        &req.type_name,
                        &prior,
                        &planned,
                        &config,
                        &req.planned_private,
                    )
                    .await;
                Ok::<_, Diagnostic>(pb::apply_resource_change::Response {
                    new_state: Some(encode(&out.state, &ty)?),
                    new_identity: self.identity_of(&req.type_name, &out.state)?,
                    private: out.private,
                    diagnostics: diags_to_proto(&out.diags),
                    legacy_type_system: false,
                })
            })
            .await
            .and_then(|r| r);
        Ok(Response::new(result.unwrap_or_else(|d| {
            // Nothing was decided: keep the prior state as it was.
            pb::apply_resource_change::Response {
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: vec![diagnostic_to_proto(&d)],
                legacy_type_system: false,
                new_identity: req.planned_identity.clone(),
            }
        })))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let result = self
            .guarded(async {
                let ty = self.resource_type(&req.type_name)?;
                // An `import` block with `identity` (6.9) sends no ID.
                let by_identity = req
                    .identity
                    .as_ref()
                    .filter(|i| i.identity_data.is_some() && req.id.is_empty());
                let Imported(out) = match by_identity {
                    Some(data) => {
                        let schema = self.identity_schema(&req.type_name)?;
                        let wanted = identity(Some(data), &schema.value_type())?;
                        self.provider
                            .import_by_identity(&req.type_name, &wanted)
                            .await
                    }
                    None => {
                        self.provider
                            .import_resource_state(&req.type_name, &req.id)
                            .await
                    }
                };
                let imported = if out.state.is_null() || out.diags.has_errors() {
                    Vec::new()
                } else {
                    vec![pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(encode(&out.state, &ty)?),
                        identity: self.identity_of(&req.type_name, &out.state)?,
                        private: out.private,
                    }]
                };
                Ok::<_, Diagnostic>(pb::import_resource_state::Response {
                    imported_resources: imported,
                    diagnostics: diags_to_proto(&out.diags),
                    deferred: None,
                })
            })
            .await
            .and_then(|r| r);
        Ok(Response::new(result.unwrap_or_else(|d| {
            pb::import_resource_state::Response {
                diagnostics: vec![diagnostic_to_proto(&d)],
                ..Default::default()
            }
        })))
    }

    async fn get_resource_identity_schemas(
        &self,
        _req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: identity_schemas(self.provider.schemas()),
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        let result = self
            .guarded(async {
                let schema = self
                    .identity_schema(&req.type_name)
                    .map_err(Diagnostics::from)?;
                let Some(json) = raw_state(req.raw_identity.as_ref())? else {
                    return Ok(None);
                };
                let v = self
                    .provider
                    .upgrade_identity(&req.type_name, req.version, json)?;
                identity_data(&v, schema).map_err(Diagnostics::from)
            })
            .await
            .unwrap_or_else(|d| Err(d.into()));
        let (upgraded_identity, diags) = match result {
            Ok(v) => (v, Diagnostics::new()),
            Err(d) => (None, d),
        };
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity,
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn generate_resource_config(
        &self,
        req: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = req.into_inner();
        let result = self
            .guarded(async {
                let ty = self.resource_type(&req.type_name)?;
                let state = decode(req.state.as_ref(), &ty, "state")?;
                Ok::<_, Diagnostic>(
                    match self
                        .provider
                        .generate_resource_config(&req.type_name, &state)
                    {
                        Ok(config) => (Some(encode(&config, &ty)?), Diagnostics::new()),
                        Err(d) => (None, d),
                    },
                )
            })
            .await
            .and_then(|r| r);
        let (config, diags) = result.unwrap_or_else(|d| (None, d.into()));
        Ok(Response::new(pb::generate_resource_config::Response {
            config,
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diags = self
            .guarded(async {
                let ty = match self.list_type(&req.type_name) {
                    Ok(t) => t,
                    Err(d) => return d.into(),
                };
                match decode(req.config.as_ref(), &ty, "list configuration") {
                    Ok(cfg) => self.provider.validate_list_config(&req.type_name, &cfg),
                    Err(d) => d.into(),
                }
            })
            .await
            .unwrap_or_else(Diagnostics::from);
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::list_resource::Event>>, Status> {
        let req = req.into_inner();
        let types = self.list_types(&req.type_name);
        let found = match types.and_then(|(config_ty, resource_ty, identity)| {
            let config = decode(req.config.as_ref(), &config_ty, "list configuration")?;
            Ok((config, resource_ty, identity))
        }) {
            Ok((config, resource_ty, identity)) => {
                let request = ListRequest {
                    config,
                    include_resource: req.include_resource_object,
                    limit: req.limit,
                };
                let stream = AssertUnwindSafe(self.provider.list_resource(&req.type_name, request))
                    .catch_unwind()
                    .map(|r| r.unwrap_or_else(|_| Listed::problem(list_panicked())));
                list_events(stream, resource_ty, identity, req.limit)
            }
            Err(d) => futures::stream::once(async move { Ok(problem_event(&d)) }).boxed(),
        };
        Ok(Response::new(found))
    }

    async fn stop_provider(
        &self,
        _req: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        self.provider.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::reads_identity;

    #[test]
    fn identity_goes_to_terraform_1_12_and_later_only() {
        for old in ["1.0.3", "1.11.4", "0.15.5", "1.11.0-rc1"] {
            assert!(!reads_identity(old), "{old}");
        }
        for new in ["1.12.0", "1.14.0", "1.16.0-rc2", "2.0.0", "", "dev"] {
            assert!(reads_identity(new), "{new:?}");
        }
    }
}
