//! `terraform-provider-eventpipe`: started by Terraform, never by hand.

use eventpipe::provider::{EventpipeProvider, SOURCE_ADDRESS};

fn main() -> std::process::ExitCode {
    let opts = tfsdk::ServeOptions {
        address: SOURCE_ADDRESS,
        binary_name: "terraform-provider-eventpipe",
        version: env!("CARGO_PKG_VERSION"),
        display_name: "eventpipe",
        quiet_log_targets: eventpipe::aws::LOG_TARGETS,
        crypto: eventpipe::crypto::CRYPTO,
    };
    tfsdk::serve(opts, EventpipeProvider::new)
}
