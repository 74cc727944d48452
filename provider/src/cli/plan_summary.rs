//! `eventpipe plan-summary`: a reviewer's summary of a Terraform plan.

use std::path::PathBuf;
use std::process::ExitCode;

/// Summarize the JSON of `terraform show -json <planfile>` for a review.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plan JSON, or `-` (the default) for standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub file: PathBuf,
}

pub fn run(_args: &Args) -> ExitCode {
    eprintln!("eventpipe plan-summary: not built yet");
    ExitCode::FAILURE
}
