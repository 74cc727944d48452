//! What a provider implements to be served: the [`Provider`] trait and the
//! outcome of each operation. The transport ([`crate::plugin`]) decodes
//! Terraform's requests into [`Value`]s with the schemas the provider
//! declares, calls the provider, and encodes its answers; the provider never
//! sees a protocol type.

use std::future::Future;

use futures::stream::BoxStream;

use crate::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::schema::{IdentitySchema, Schema};
use crate::value::Value;

/// Every schema a provider serves.
#[derive(Debug, Default)]
pub struct Schemas {
    pub provider: Schema,
    /// Resource type name → schema.
    pub resources: Vec<(&'static str, Schema)>,
    /// Resource type name → identity schema (protocol 6.9). A resource type
    /// without one has no identity: Terraform neither imports nor lists it
    /// by identity.
    pub identities: Vec<(&'static str, IdentitySchema)>,
    /// Resource type name → the schema of its `list` block's `config`
    /// (protocol 6.10). Listing needs the type's identity schema too.
    pub lists: Vec<(&'static str, Schema)>,
}

impl Schemas {
    pub fn resource(&self, type_name: &str) -> Option<&Schema> {
        find(&self.resources, type_name)
    }

    pub fn identity(&self, type_name: &str) -> Option<&IdentitySchema> {
        find(&self.identities, type_name)
    }

    pub fn list(&self, type_name: &str) -> Option<&Schema> {
        find(&self.lists, type_name)
    }
}

fn find<'a, T>(table: &'a [(&'static str, T)], type_name: &str) -> Option<&'a T> {
    table.iter().find(|(n, _)| *n == type_name).map(|(_, s)| s)
}

/// What a `list` block asks for (protocol 6.10).
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The `config` block, with the list schema's type (null when the block
    /// is absent).
    pub config: Value,
    /// Each result should carry the full resource object.
    pub include_resource: bool,
    /// The most results Terraform wants; the transport stops the stream
    /// there too.
    pub limit: i64,
}

/// One resource a list found, or only diagnostics (then `identity` is null).
#[derive(Debug, Clone)]
pub struct Listed {
    /// Identity data, with the type's identity schema.
    pub identity: Value,
    pub display_name: String,
    /// The resource object as import would build it, when asked for.
    pub resource: Option<Value>,
    pub diags: Diagnostics,
}

impl Listed {
    /// An event that carries only a problem.
    pub fn problem(d: Diagnostic) -> Self {
        Listed {
            identity: Value::Null,
            display_name: String::new(),
            resource: None,
            diags: d.into(),
        }
    }
}

fn unsupported(what: &str) -> Diagnostic {
    Diagnostic::error(
        format!("{what} is not supported"),
        format!("This provider does not support {what} for this resource type."),
    )
}

/// The answer to PlanResourceChange.
#[derive(Debug)]
pub struct Planned {
    /// The planned new state (null for a destroy or when planning failed).
    pub state: Value,
    /// Attributes whose change forces a replacement.
    pub requires_replace: Vec<AttrPath>,
    /// The private data apply receives; `None` keeps the prior state's.
    pub private: Option<Vec<u8>>,
    pub diags: Diagnostics,
}

impl Planned {
    /// The plan of a destroy: nothing.
    pub fn destroy() -> Self {
        Planned {
            state: Value::Null,
            requires_replace: Vec::new(),
            private: None,
            diags: Diagnostics::new(),
        }
    }

    /// Planning failed; Terraform shows the diagnostics.
    pub fn failed(diags: impl Into<Diagnostics>) -> Self {
        Planned {
            diags: diags.into(),
            ..Planned::destroy()
        }
    }
}

/// The state to record after an operation (null when nothing exists), the
/// private data to keep with it, and what to tell the user.
#[derive(Debug)]
pub struct Recorded {
    pub state: Value,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

impl Recorded {
    /// Nothing exists (a finished delete, a vanished resource).
    pub fn gone() -> Self {
        Recorded {
            state: Value::Null,
            private: Vec::new(),
            diags: Diagnostics::new(),
        }
    }

    /// Keeps `state` and `private` as they were and reports `diags`.
    pub fn unchanged(state: &Value, private: &[u8], diags: impl Into<Diagnostics>) -> Self {
        Recorded {
            state: state.clone(),
            private: private.to_vec(),
            diags: diags.into(),
        }
    }
}

/// The answer to ApplyResourceChange.
#[derive(Debug)]
pub struct Applied(pub Recorded);

/// The answer to ReadResource.
#[derive(Debug)]
pub struct Refreshed(pub Recorded);

/// The answer to ImportResourceState (one resource; null state with errors
/// when nothing could be imported).
#[derive(Debug)]
pub struct Imported(pub Recorded);

/// A Terraform provider. Resource operations are only called for type names
/// the provider's [`Schemas`] declare; values conform to those schemas.
pub trait Provider: Send + Sync + 'static {
    /// Every schema this provider serves, built once.
    fn schemas(&self) -> &Schemas;

    /// Checks the provider block (configure has not happened yet).
    fn validate_provider_config(&self, config: &Value) -> Diagnostics;

    /// Configures the provider from its block.
    fn configure(
        &self,
        terraform_version: &str,
        config: &Value,
    ) -> impl Future<Output = Diagnostics> + Send;

    /// Checks one resource's configuration (values may be unknown).
    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics;

    /// Brings a stored state (JSON, written at schema `version`) up to the
    /// current schema.
    fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json: &[u8],
    ) -> Result<Value, Diagnostics>;

    fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        proposed: &Value,
        config: &Value,
        prior_private: &[u8],
    ) -> impl Future<Output = Planned> + Send;

    fn apply_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &[u8],
    ) -> impl Future<Output = Applied> + Send;

    fn read_resource(
        &self,
        type_name: &str,
        current: &Value,
        private: &[u8],
    ) -> impl Future<Output = Refreshed> + Send;

    fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> impl Future<Output = Imported> + Send;

    /// Terraform asks in-flight work to stop (Ctrl-C).
    fn stop(&self);

    /// The identity of the object `state` describes, with the type's identity
    /// schema (protocol 6.9); null when the type has none or `state` is null.
    /// Values may be unknown only while the object is yet to be created.
    fn identity(&self, _type_name: &str, _state: &Value) -> Value {
        Value::Null
    }

    /// Brings stored identity data (JSON, written at identity `version`) up
    /// to the current identity schema.
    fn upgrade_identity(
        &self,
        _type_name: &str,
        _version: i64,
        _json: &[u8],
    ) -> Result<Value, Diagnostics> {
        Err(unsupported("Resource identity").into())
    }

    /// `import { identity = { … } }`: imports the object the identity names.
    fn import_by_identity(
        &self,
        _type_name: &str,
        _identity: &Value,
    ) -> impl Future<Output = Imported> + Send {
        async {
            Imported(Recorded::unchanged(
                &Value::Null,
                &[],
                unsupported("Import by identity"),
            ))
        }
    }

    /// Checks a `list` block's `config` (values may be unknown).
    fn validate_list_config(&self, _type_name: &str, _config: &Value) -> Diagnostics {
        unsupported("Listing").into()
    }

    /// `terraform query`: the resources a `list` block finds, as they are
    /// found.
    fn list_resource(&self, _type_name: &str, _request: ListRequest) -> BoxStream<'static, Listed> {
        Box::pin(futures::stream::once(async {
            Listed::problem(unsupported("Listing"))
        }))
    }

    /// Whether [`Self::generate_resource_config`] is implemented: the
    /// `generate_resource_config` server capability (protocol 6.10).
    fn generates_config(&self) -> bool {
        false
    }

    /// The configuration `-generate-config-out` writes for `state`: what a
    /// user would write, without computed or default values.
    fn generate_resource_config(
        &self,
        _type_name: &str,
        _state: &Value,
    ) -> Result<Value, Diagnostics> {
        Err(unsupported("Generating configuration").into())
    }
}
