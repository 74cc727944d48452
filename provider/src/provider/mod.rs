//! The provider: its schemas, its configuration, and the dispatch of each
//! Terraform operation to the resource type it names.

pub mod config;

use std::sync::{Arc, OnceLock, RwLock};

use tokio_util::sync::CancellationToken;

use crate::aws::AwsClients;
use crate::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::pipeline::{self, Applied, Planned};
use crate::schema::Schema;
use crate::value::Value;

pub use config::ProviderSettings;

/// The provider address users put in `required_providers`.
pub const SOURCE_ADDRESS: &str = "registry.terraform.io/eventpipe/eventpipe";

/// Every schema the provider serves, built once.
pub struct Schemas {
    pub provider: Schema,
    pub resources: Vec<(&'static str, Schema)>,
}

pub fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas {
        provider: config::schema(),
        resources: vec![(pipeline::schema::TYPE_NAME, pipeline::schema::schema())],
    })
}

pub fn resource_schema(type_name: &str) -> Option<&'static Schema> {
    schemas()
        .resources
        .iter()
        .find(|(n, _)| *n == type_name)
        .map(|(_, s)| s)
}

fn unknown_type(type_name: &str) -> Diagnostic {
    Diagnostic::error(
        "Unknown resource type",
        format!("The eventpipe provider has no resource type {type_name:?}."),
    )
}

fn not_configured() -> Diagnostic {
    Diagnostic::error(
        "Provider not configured",
        "Terraform called the provider before configuring it. This is a bug; please report it.",
    )
}

pub struct Provider {
    context: RwLock<Option<Arc<pipeline::Context>>>,
    stop: CancellationToken,
}

impl Provider {
    pub fn new(stop: CancellationToken) -> Self {
        Provider {
            context: RwLock::new(None),
            // A child token: StopProvider cancels in-flight work, not the server.
            stop: stop.child_token(),
        }
    }

    fn context(&self) -> Result<Arc<pipeline::Context>, Diagnostic> {
        self.context
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(not_configured)
    }

    pub fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        crate::schema::validate_config(
            &schemas().provider.block,
            config,
            &AttrPath::root(),
            &mut diags,
        );
        diags
    }

    /// Builds the AWS clients once; no AWS call unless `validate_credentials`.
    pub async fn configure(&self, terraform_version: &str, config: &Value) -> Diagnostics {
        tracing::info!(terraform_version, "configuring provider");
        let mut diags = self.validate_provider_config(config);
        if diags.has_errors() {
            return diags;
        }
        let settings = match ProviderSettings::from_value(config) {
            Ok(s) => s,
            Err(d) => {
                diags.extend(d);
                return diags;
            }
        };
        let aws = match AwsClients::connect(&settings.aws).await {
            Ok(a) => a,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "Cannot configure AWS access",
                    e.to_string(),
                ));
                return diags;
            }
        };
        if settings.validate_credentials
            && let Err(e) = aws.account_id().await
        {
            diags.push(
                Diagnostic::error("AWS credentials check failed", e.to_string())
                    .at(AttrPath::attrs(["validate_credentials"])),
            );
            return diags;
        }
        let ctx = pipeline::Context {
            aws: Arc::new(aws),
            default_tags: settings.default_tags,
            stop: self.stop.clone(),
        };
        if let Ok(mut slot) = self.context.write() {
            *slot = Some(Arc::new(ctx));
        }
        diags
    }

    pub fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match type_name {
            pipeline::schema::TYPE_NAME => pipeline::validate(config),
            other => unknown_type(other).into(),
        }
    }

    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json: &[u8],
    ) -> Result<Value, Diagnostics> {
        match type_name {
            pipeline::schema::TYPE_NAME => pipeline::upgrade(version, json),
            other => Err(unknown_type(other).into()),
        }
    }

    pub async fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> Planned {
        if type_name != pipeline::schema::TYPE_NAME {
            return failed_plan(unknown_type(type_name));
        }
        if proposed.is_null() {
            return Planned::default();
        }
        match self.context() {
            Ok(ctx) => pipeline::plan(&ctx, prior, proposed, config).await,
            Err(d) => failed_plan(d),
        }
    }

    pub async fn apply_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &[u8],
    ) -> Applied {
        if type_name != pipeline::schema::TYPE_NAME {
            return failed(prior, unknown_type(type_name));
        }
        match self.context() {
            Ok(ctx) => pipeline::apply(&ctx, prior, planned, config, private).await,
            Err(d) => failed(prior, d),
        }
    }

    pub async fn read_resource(&self, type_name: &str, current: &Value, private: &[u8]) -> Applied {
        if type_name != pipeline::schema::TYPE_NAME {
            return failed(current, unknown_type(type_name));
        }
        match self.context() {
            Ok(ctx) => pipeline::read(&ctx, current, private).await,
            Err(d) => failed(current, d),
        }
    }

    pub async fn import_resource_state(&self, type_name: &str, id: &str) -> Applied {
        if type_name != pipeline::schema::TYPE_NAME {
            return failed(&Value::Null, unknown_type(type_name));
        }
        match self.context() {
            Ok(ctx) => pipeline::import(&ctx, id).await,
            Err(d) => failed(&Value::Null, d),
        }
    }

    /// Terraform asks in-flight work to stop (Ctrl-C).
    pub fn stop(&self) {
        tracing::warn!("stop requested; in-flight operations will end at the next safe point");
        self.stop.cancel();
    }
}

fn failed_plan(d: Diagnostic) -> Planned {
    Planned {
        state: Value::Null,
        requires_replace: Vec::new(),
        diags: d.into(),
    }
}

fn failed(state: &Value, d: Diagnostic) -> Applied {
    Applied {
        state: state.clone(),
        private: Vec::new(),
        diags: d.into(),
    }
}
