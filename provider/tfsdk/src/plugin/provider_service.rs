//! The `tfplugin6.Provider` gRPC service: decodes protocol values with the
//! schema's types, calls the provider, and encodes the answers. Protocol
//! types end here; the provider below sees [`Value`]s and diagnostics.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use super::ServeOptions;
use crate::diag::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::provider::{Applied, Imported, Provider, Refreshed};
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::value::{self, Type, Value};

/// Serves a [`Provider`] as Terraform's `tfplugin6.Provider` gRPC service.
pub struct ProviderService<P> {
    provider: Arc<P>,
    /// The name used in messages, e.g. "the eventpipe provider".
    name: &'static str,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: Arc<P>, opts: ServeOptions) -> Self {
        ProviderService {
            provider,
            name: opts.display_name,
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

/// Problems Terraform would refuse a schema for at load time (Terraform
/// >= 1.1 checks these), as messages; empty when the schema is well formed.
pub fn schema_problems(s: &Schema) -> Vec<String> {
    fn check(b: &pb::schema::Block, out: &mut Vec<String>) {
        for a in &b.attributes {
            if !(a.required || a.optional || a.computed) {
                out.push(format!("{} sets no presence", a.name));
            }
            if a.required && (a.optional || a.computed) {
                out.push(format!("{} is required and optional or computed", a.name));
            }
            let good_name = a
                .name
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
            if !good_name {
                out.push(format!("{} is not a valid attribute name", a.name));
            }
            if a.description.is_empty() {
                out.push(format!("{} has no description", a.name));
            }
            if Type::from_json(&a.r#type).is_err() {
                out.push(format!("{} has a type Terraform cannot read", a.name));
            }
        }
        for nb in &b.block_types {
            if nb.nesting == pb::schema::nested_block::NestingMode::Single as i32
                && (nb.min_items != nb.max_items || nb.min_items > 1)
            {
                out.push(format!("block {} has bad item limits", nb.type_name));
            }
            match &nb.block {
                Some(inner) => check(inner, out),
                None => out.push(format!("block {} has no body", nb.type_name)),
            }
        }
    }
    let mut out = Vec::new();
    match schema_to_proto(s).block {
        Some(b) => check(&b, &mut out),
        None => out.push("the schema has no block".to_owned()),
    }
    out
}

// ---- schema ---------------------------------------------------------------

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.to_owned(),
        r#type: a.ty.to_json_bytes(),
        nested_type: None,
        description: a.description.to_owned(),
        required: a.is_required(),
        optional: a.is_optional(),
        computed: a.is_computed(),
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
        write_only: false,
    }
}

fn nested_to_proto(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    pb::schema::NestedBlock {
        type_name: b.name.to_owned(),
        block: Some(block_to_proto(&b.block)),
        nesting: match b.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
        } as i32,
        min_items: i64::from(b.min_items),
        max_items: i64::from(b.max_items),
    }
}

fn block_to_proto(b: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: b.attributes.iter().map(attribute_to_proto).collect(),
        block_types: b.blocks.iter().map(nested_to_proto).collect(),
        description: b.description.to_owned(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
    }
}

pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block)),
    }
}

// ---- values and diagnostics -------------------------------------------------

fn path_to_proto(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attr(n) => Selector::AttributeName(n.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d
            .path
            .as_ref()
            .filter(|p| !p.0.is_empty())
            .map(path_to_proto),
    }
}

fn diags_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diagnostic_to_proto).collect()
}

/// Decodes a value Terraform sent; msgpack first, then JSON; empty = null.
fn decode(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let result = if !dv.msgpack.is_empty() {
        value::decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        value::decode_json(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    result.map_err(|e| {
        Diagnostic::error(
            "Malformed value from Terraform",
            format!("The {what} could not be decoded: {e}"),
        )
    })
}

fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    value::encode_msgpack(v, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider produced a value it cannot encode",
                format!("This is a bug in the provider; please report it: {e}"),
            )
        })
}

// ---- the service ------------------------------------------------------------

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let s = self.provider.schemas();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&s.provider)),
            resource_schemas: s
                .resources
                .iter()
                .map(|(n, sc)| ((*n).to_owned(), schema_to_proto(sc)))
                .collect(),
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
                let raw = req.raw_state.as_ref();
                let json = raw.map(|r| r.json.as_slice()).unwrap_or_default();
                if json.is_empty() {
                    if raw.is_some_and(|r| !r.flatmap.is_empty()) {
                        return Err(Diagnostic::error(
                            "Unsupported state format",
                            "This state was written in the pre-0.12 flatmap format, which this \
                         provider never wrote.",
                        )
                        .into());
                    }
                    return Ok(pb::DynamicValue {
                        msgpack: vec![0xc0],
                        json: Vec::new(),
                    });
                }
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
                Ok::<_, Diagnostic>((encode(&out.state, &ty)?, out.private, out.diags))
            })
            .await
            .and_then(|r| r);
        let resp = match result {
            Ok((state, private, diags)) => pb::read_resource::Response {
                new_state: Some(state),
                diagnostics: diags_to_proto(&diags),
                private,
                deferred: None,
            },
            // Keep what Terraform has: echo the current state back.
            Err(d) => pb::read_resource::Response {
                new_state: req.current_state.clone(),
                diagnostics: vec![diagnostic_to_proto(&d)],
                private: req.private.clone(),
                deferred: None,
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
                let state = if planned.diags.has_errors() {
                    None
                } else {
                    Some(encode(&planned.state, &ty)?)
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
                let Imported(out) = self
                    .provider
                    .import_resource_state(&req.type_name, &req.id)
                    .await;
                let imported = if out.state.is_null() || out.diags.has_errors() {
                    Vec::new()
                } else {
                    vec![pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(encode(&out.state, &ty)?),
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
    use super::*;
    use crate::schema::Attribute;

    #[test]
    fn schema_problems_name_what_terraform_would_refuse() {
        let good = Schema {
            version: 0,
            block: Block::new("x").attr(Attribute::string("name").required().describe("n")),
        };
        assert!(schema_problems(&good).is_empty());
        let bad = Schema {
            version: 0,
            block: Block::new("x").attr(Attribute::string("Name").required()),
        };
        let problems = schema_problems(&bad);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("not a valid attribute name"))
        );
        assert!(problems.iter().any(|p| p.contains("no description")));
    }
}
