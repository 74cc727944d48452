//! The options every command that talks to AWS takes: the standard AWS
//! chain (environment, shared config and credentials files) with
//! `--region`, `--profile` and `--endpoint-url` on top, and `--json`.

use crate::aws::{AwsClients, AwsSettings};

use super::error::CliError;

#[derive(Clone, Debug, Default, clap::Args)]
pub struct AwsArgs {
    /// The AWS region (default: from AWS_REGION or the profile).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The named profile from the shared AWS config files.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// One endpoint for every AWS service, e.g. an emulator's
    /// (`http://127.0.0.1:5000`).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    /// The clients, built the way the provider builds its own. No AWS call
    /// is made here: missing credentials show on the first call.
    pub async fn connect(&self) -> Result<AwsClients, CliError> {
        let settings = AwsSettings {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            ..AwsSettings::default()
        };
        Ok(AwsClients::connect(&settings).await?)
    }
}

/// How a command prints: for people (the default) or as JSON for scripts.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct OutputArgs {
    /// Print JSON for scripts instead of text for people.
    #[arg(long)]
    pub json: bool,
}
