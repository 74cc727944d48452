//! What a provider implements to be served: the [`Provider`] trait and the
//! outcome of each operation. The transport ([`crate::plugin`]) decodes
//! Terraform's requests into [`Value`]s with the schemas the provider
//! declares, calls the provider, and encodes its answers; the provider never
//! sees a protocol type.

use std::future::Future;

use crate::diag::{AttrPath, Diagnostics};
use crate::schema::Schema;
use crate::value::Value;

/// Every schema a provider serves.
#[derive(Debug)]
pub struct Schemas {
    pub provider: Schema,
    /// Resource type name → schema.
    pub resources: Vec<(&'static str, Schema)>,
}

impl Schemas {
    pub fn resource(&self, type_name: &str) -> Option<&Schema> {
        self.resources
            .iter()
            .find(|(n, _)| *n == type_name)
            .map(|(_, s)| s)
    }
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
}
