//! The do-nothing provider: an empty provider block and two resource types
//! whose state is their configuration. `noop_thing` (`name` required, `id`
//! computed) is the smallest resource; `noop_pipeline` has the schema of
//! `eventpipe_event_pipeline`, so that Terraform's own work on a resource of
//! that size (decoding, validating and planning its configuration, drawing
//! its plan) is measured without any of ours: its plan is Terraform's
//! proposed state as it is. No operation makes a call or touches a file.

use std::sync::OnceLock;

use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::provider::{Applied, Imported, Planned, Recorded, Refreshed, Schemas};
use tfsdk::schema::{Attribute, Block, Schema};
use tfsdk::value::Value;
use tokio_util::sync::CancellationToken;

/// The address the bench's mirror installs it under (our namespace, which
/// the harness's CLI configuration already routes to a mirror).
pub const SOURCE_ADDRESS: &str = "registry.terraform.io/eventpipe/noop";
pub const TYPE_NAME: &str = "noop_thing";
/// The resource with the pipeline's schema and none of its work.
pub const PIPELINE_TYPE: &str = "noop_pipeline";
const NAME: &str = "name";
const ID: &str = "id";

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas {
        provider: Schema {
            version: 0,
            block: Block::new("The do-nothing provider takes no settings."),
        },
        resources: vec![
            (
                TYPE_NAME,
                Schema {
                    version: 0,
                    block: Block::new("A thing that exists only in Terraform's state.")
                        .attr(
                            Attribute::string(NAME)
                                .required()
                                .force_new()
                                .describe("The thing's name; changing it replaces the thing."),
                        )
                        .attr(
                            Attribute::string(ID)
                                .computed()
                                .describe("The name, once the thing is created."),
                        ),
                },
            ),
            (
                PIPELINE_TYPE,
                Schema {
                    version: 0,
                    block: eventpipe::pipeline::schema::schema().block,
                },
            ),
        ],
        ..Schemas::default()
    })
}

fn unknown_type(type_name: &str) -> Diagnostic {
    Diagnostic::error(
        "Unknown resource type",
        format!("The noop provider has no resource type {type_name:?}."),
    )
}

fn thing(name: Value, id: Value) -> Value {
    Value::object([(NAME, name), (ID, id)])
}

fn name_of(state: &Value) -> Value {
    state.get_attr(NAME).cloned().unwrap_or(Value::Null)
}

pub struct NoopProvider;

impl NoopProvider {
    pub fn new(_shutdown: CancellationToken) -> Self {
        NoopProvider
    }
}

impl tfsdk::Provider for NoopProvider {
    fn schemas(&self) -> &Schemas {
        schemas()
    }

    fn validate_provider_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn configure(&self, _terraform_version: &str, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        if type_name == PIPELINE_TYPE {
            return Diagnostics::new();
        }
        if type_name != TYPE_NAME {
            return unknown_type(type_name).into();
        }
        match name_of(config).as_str() {
            Some("") => Diagnostic::error("Invalid value for name", "`name` must not be empty.")
                .at(AttrPath::attrs([NAME]))
                .into(),
            _ => Diagnostics::new(),
        }
    }

    fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json: &[u8],
    ) -> Result<Value, Diagnostics> {
        let schema = schemas()
            .resource(type_name)
            .ok_or_else(|| unknown_type(type_name))?;
        if version != schema.version {
            return Err(Diagnostic::error(
                "Unknown state version",
                format!("{type_name} has only schema version 0, not {version}."),
            )
            .into());
        }
        tfsdk::value::decode_json(json, &schema.value_type()).map_err(|e| {
            Diagnostic::error("Unreadable state", format!("The stored state: {e}")).into()
        })
    }

    async fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        proposed: &Value,
        _config: &Value,
        _prior_private: &[u8],
    ) -> Planned {
        if type_name != TYPE_NAME && type_name != PIPELINE_TYPE {
            return Planned::failed(unknown_type(type_name));
        }
        if proposed.is_null() {
            return Planned::destroy();
        }
        if type_name == PIPELINE_TYPE {
            return Planned {
                state: proposed.clone(),
                requires_replace: Vec::new(),
                private: None,
                diags: Diagnostics::new(),
            };
        }
        let name = name_of(proposed);
        let replaced = prior.is_null() || name_of(prior) != name;
        let id = if replaced {
            Value::Unknown
        } else {
            prior.get_attr(ID).cloned().unwrap_or(Value::Unknown)
        };
        Planned {
            state: thing(name, id),
            requires_replace: if replaced && !prior.is_null() {
                vec![AttrPath::attrs([NAME])]
            } else {
                Vec::new()
            },
            private: None,
            diags: Diagnostics::new(),
        }
    }

    async fn apply_resource_change(
        &self,
        type_name: &str,
        _prior: &Value,
        planned: &Value,
        _config: &Value,
        _private: &[u8],
    ) -> Applied {
        if type_name == PIPELINE_TYPE {
            return Applied(if planned.is_null() {
                Recorded::gone()
            } else {
                Recorded::unchanged(planned, &[], Diagnostics::new())
            });
        }
        if type_name != TYPE_NAME {
            return Applied(Recorded::unchanged(
                &Value::Null,
                &[],
                unknown_type(type_name),
            ));
        }
        if planned.is_null() {
            return Applied(Recorded::gone());
        }
        let name = name_of(planned);
        Applied(Recorded {
            state: thing(name.clone(), name),
            private: Vec::new(),
            diags: Diagnostics::new(),
        })
    }

    async fn read_resource(&self, _type_name: &str, current: &Value, private: &[u8]) -> Refreshed {
        Refreshed(Recorded::unchanged(current, private, Diagnostics::new()))
    }

    async fn import_resource_state(&self, type_name: &str, id: &str) -> Imported {
        if type_name != TYPE_NAME {
            return Imported(Recorded::unchanged(
                &Value::Null,
                &[],
                unknown_type(type_name),
            ));
        }
        Imported(Recorded {
            state: thing(Value::string(id), Value::string(id)),
            private: Vec::new(),
            diags: Diagnostics::new(),
        })
    }

    fn stop(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfsdk::Provider as _;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(f)
    }

    fn config(name: &str) -> Value {
        thing(Value::string(name), Value::Null)
    }

    #[test]
    fn a_create_plans_an_unknown_id_and_applies_the_name_as_id() {
        let p = NoopProvider;
        let planned = block_on(p.plan_resource_change(
            TYPE_NAME,
            &Value::Null,
            &config("a"),
            &config("a"),
            &[],
        ));
        assert!(!planned.diags.has_errors());
        assert_eq!(planned.state, thing(Value::string("a"), Value::Unknown));
        assert!(planned.requires_replace.is_empty());
        let Applied(out) = block_on(p.apply_resource_change(
            TYPE_NAME,
            &Value::Null,
            &planned.state,
            &config("a"),
            &[],
        ));
        assert_eq!(out.state, thing(Value::string("a"), Value::string("a")));
    }

    #[test]
    fn a_new_name_replaces_the_thing_and_the_same_name_keeps_its_id() {
        let p = NoopProvider;
        let prior = thing(Value::string("a"), Value::string("a"));
        let same =
            block_on(p.plan_resource_change(TYPE_NAME, &prior, &config("a"), &config("a"), &[]));
        assert_eq!(same.state, prior);
        assert!(same.requires_replace.is_empty());
        let renamed =
            block_on(p.plan_resource_change(TYPE_NAME, &prior, &config("b"), &config("b"), &[]));
        assert_eq!(renamed.state, thing(Value::string("b"), Value::Unknown));
        assert_eq!(renamed.requires_replace, vec![AttrPath::attrs([NAME])]);
    }

    #[test]
    fn an_empty_name_is_refused_on_its_attribute() {
        let diags = NoopProvider.validate_resource_config(TYPE_NAME, &config(""));
        let d = diags.iter().next().expect("a diagnostic");
        assert!(d.is_error());
        assert_eq!(d.path, Some(AttrPath::attrs([NAME])));
        assert!(
            NoopProvider
                .validate_resource_config(TYPE_NAME, &config("x"))
                .is_empty()
        );
    }

    #[test]
    fn the_pipeline_twin_has_the_pipelines_schema_and_plans_what_terraform_proposes() {
        let p = NoopProvider;
        let ours = eventpipe::pipeline::schema::schema().block;
        let twin = &p.schemas().resource(PIPELINE_TYPE).expect("the twin").block;
        assert_eq!(format!("{twin:?}"), format!("{ours:?}"));
        let proposed = Value::object([("name", Value::string("p"))]);
        let planned = block_on(p.plan_resource_change(
            PIPELINE_TYPE,
            &Value::Null,
            &proposed,
            &proposed,
            &[],
        ));
        assert_eq!(planned.state, proposed);
        assert!(!planned.diags.has_errors());
        assert!(
            p.validate_resource_config(PIPELINE_TYPE, &proposed)
                .is_empty()
        );
        let gone = block_on(p.plan_resource_change(
            PIPELINE_TYPE,
            &proposed,
            &Value::Null,
            &Value::Null,
            &[],
        ));
        assert!(gone.state.is_null());
    }

    #[test]
    fn stored_state_reads_back_and_another_type_is_refused() {
        let p = NoopProvider;
        let state = p
            .upgrade_resource_state(TYPE_NAME, 0, br#"{"name":"a","id":"a"}"#)
            .expect("version 0 reads");
        assert_eq!(state, thing(Value::string("a"), Value::string("a")));
        assert!(p.upgrade_resource_state(TYPE_NAME, 1, b"{}").is_err());
        assert!(p.upgrade_resource_state("noop_other", 0, b"{}").is_err());
        assert!(
            p.validate_resource_config("noop_other", &config("a"))
                .has_errors()
        );
    }
}
