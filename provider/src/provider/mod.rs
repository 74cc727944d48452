//! The provider: its schemas, its configuration, and the dispatch of each
//! Terraform operation to the resource type it names. This is where the
//! eventpipe crate meets [`tfsdk::Provider`].

pub mod config;
mod shown;

use std::sync::{Arc, OnceLock, RwLock};

use futures::stream::BoxStream;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::provider::{
    Applied, Imported, ListRequest, Listed, Planned, Recorded, Refreshed, Schemas,
};
use tfsdk::value::Value;
use tokio_util::sync::CancellationToken;

use crate::aws::AwsClients;
use crate::pipeline;

pub use config::ProviderSettings;

/// The provider address users put in `required_providers`.
pub const SOURCE_ADDRESS: &str = "registry.terraform.io/eventpipe/eventpipe";

/// Every schema the provider serves, built once.
pub fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas {
        provider: config::schema(),
        resources: vec![(pipeline::schema::TYPE_NAME, pipeline::schema::schema())],
        identities: vec![(pipeline::schema::TYPE_NAME, pipeline::identity::schema())],
        lists: vec![(pipeline::schema::TYPE_NAME, pipeline::list::schema())],
    })
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

/// The eventpipe provider: configured once, then serving its one resource.
pub struct EventpipeProvider {
    context: RwLock<Option<Arc<pipeline::Context>>>,
    /// Warnings this Terraform command has shown already.
    shown: shown::Shown,
    stop: CancellationToken,
}

impl EventpipeProvider {
    pub fn new(stop: CancellationToken) -> Self {
        EventpipeProvider {
            context: RwLock::new(None),
            shown: shown::Shown::default(),
            // A child token: StopProvider cancels in-flight work, not the server.
            stop: stop.child_token(),
        }
    }

    /// The context for an operation on `type_name`, which must be the
    /// pipeline's.
    fn pipeline_context(&self, type_name: &str) -> Result<Arc<pipeline::Context>, Diagnostic> {
        if type_name != pipeline::schema::TYPE_NAME {
            return Err(unknown_type(type_name));
        }
        self.context()
    }

    fn context(&self) -> Result<Arc<pipeline::Context>, Diagnostic> {
        self.context
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(not_configured)
    }
}

impl tfsdk::Provider for EventpipeProvider {
    fn schemas(&self) -> &Schemas {
        schemas()
    }

    fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        tfsdk::schema::validate_config(
            &schemas().provider.block,
            config,
            &AttrPath::root(),
            &mut diags,
        );
        diags
    }

    /// Builds the AWS clients once (each SDK client on first use); no AWS
    /// call unless `validate_credentials`.
    async fn configure(&self, terraform_version: &str, config: &Value) -> Diagnostics {
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
        let started = std::time::Instant::now();
        let aws = match AwsClients::connect(&settings.aws).await {
            Ok(a) => {
                tracing::debug!(
                    elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                    "AWS SDK configuration and clients built"
                );
                a
            }
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
        let ctx = pipeline::Context::new(Arc::new(aws), settings.default_tags, self.stop.clone());
        if let Ok(mut slot) = self.context.write() {
            *slot = Some(Arc::new(ctx));
        }
        diags
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match type_name {
            pipeline::schema::TYPE_NAME => {
                let diags = pipeline::validate(config);
                self.shown.first_time(pipeline::name_of(config), diags)
            }
            other => unknown_type(other).into(),
        }
    }

    fn upgrade_resource_state(
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

    async fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        proposed: &Value,
        config: &Value,
        prior_private: &[u8],
    ) -> Planned {
        if type_name != pipeline::schema::TYPE_NAME {
            return Planned::failed(unknown_type(type_name));
        }
        if proposed.is_null() {
            return Planned::destroy();
        }
        match self.context() {
            Ok(ctx) => {
                let mut planned =
                    pipeline::plan(&ctx, prior, proposed, config, prior_private).await;
                // `apply` plans again in its apply walk: warn once.
                planned.diags = self
                    .shown
                    .first_time(pipeline::name_of(config), planned.diags);
                planned
            }
            Err(d) => Planned::failed(d),
        }
    }

    async fn apply_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &[u8],
    ) -> Applied {
        if type_name != pipeline::schema::TYPE_NAME {
            return Applied(Recorded::unchanged(prior, &[], unknown_type(type_name)));
        }
        match self.context() {
            Ok(ctx) => Applied(pipeline::apply(&ctx, prior, planned, config, private).await),
            Err(d) => Applied(Recorded::unchanged(prior, &[], d)),
        }
    }

    async fn read_resource(&self, type_name: &str, current: &Value, private: &[u8]) -> Refreshed {
        if type_name != pipeline::schema::TYPE_NAME {
            return Refreshed(Recorded::unchanged(current, &[], unknown_type(type_name)));
        }
        match self.context() {
            Ok(ctx) => Refreshed(pipeline::read(&ctx, current, private).await),
            Err(d) => Refreshed(Recorded::unchanged(current, &[], d)),
        }
    }

    async fn import_resource_state(&self, type_name: &str, id: &str) -> Imported {
        match self.pipeline_context(type_name) {
            Ok(ctx) => Imported(pipeline::import(&ctx, id).await),
            Err(d) => Imported(Recorded::unchanged(&Value::Null, &[], d)),
        }
    }

    fn identity(&self, type_name: &str, state: &Value) -> Value {
        match type_name {
            pipeline::schema::TYPE_NAME => {
                pipeline::identity(self.context().ok().as_deref(), state)
            }
            _ => Value::Null,
        }
    }

    fn upgrade_identity(
        &self,
        type_name: &str,
        version: i64,
        json: &[u8],
    ) -> Result<Value, Diagnostics> {
        match type_name {
            pipeline::schema::TYPE_NAME => pipeline::upgrade_identity(version, json),
            other => Err(unknown_type(other).into()),
        }
    }

    async fn import_by_identity(&self, type_name: &str, identity: &Value) -> Imported {
        match self.pipeline_context(type_name) {
            Ok(ctx) => Imported(pipeline::import_by_identity(&ctx, identity).await),
            Err(d) => Imported(Recorded::unchanged(&Value::Null, &[], d)),
        }
    }

    fn validate_list_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match type_name {
            pipeline::schema::TYPE_NAME => pipeline::list::validate(config),
            other => unknown_type(other).into(),
        }
    }

    fn list_resource(&self, type_name: &str, request: ListRequest) -> BoxStream<'static, Listed> {
        let refused = |d: Diagnostic| -> BoxStream<'static, Listed> {
            Box::pin(futures::stream::once(async move { Listed::problem(d) }))
        };
        if type_name != pipeline::schema::TYPE_NAME {
            return refused(unknown_type(type_name));
        }
        match self.context() {
            Ok(ctx) => pipeline::list::list(ctx, request),
            Err(d) => refused(d),
        }
    }

    fn generates_config(&self) -> bool {
        true
    }

    fn generate_resource_config(
        &self,
        type_name: &str,
        state: &Value,
    ) -> Result<Value, Diagnostics> {
        match type_name {
            pipeline::schema::TYPE_NAME => Ok(pipeline::generate_config(state)),
            other => Err(unknown_type(other).into()),
        }
    }

    /// Terraform asks in-flight work to stop (Ctrl-C).
    fn stop(&self) {
        tracing::warn!("stop requested; in-flight operations will end at the next safe point");
        self.stop.cancel();
    }
}
