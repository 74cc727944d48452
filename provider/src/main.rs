//! `terraform-provider-eventpipe`: started by Terraform, never by hand.

use std::sync::Arc;

use eventpipe::plugin::{self, provider_service::ProviderService};
use eventpipe::provider::Provider;

fn main() -> std::process::ExitCode {
    plugin::run(|shutdown| ProviderService::new(Arc::new(Provider::new(shutdown))))
}
