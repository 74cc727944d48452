//! `eventpipe`: the command line for people. `package` builds the zip a
//! pipeline deploys; `plan-summary` turns a plan into a review.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eventpipe::cli;

#[derive(Debug, Parser)]
#[command(
    name = "eventpipe",
    version,
    about = "Tools for eventpipe pipelines: build their packages, review their plans"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build exactly the zip that apply would deploy and print its base64 SHA-256
    /// (with --image: the container image, as an OCI layout, and its manifest digest).
    Package(cli::package::Args),
    /// Summarize `terraform show -json` output for a pull-request review.
    PlanSummary(cli::plan_summary::Args),
    /// Show whether a pipeline is working: exit 0 healthy, 3 degraded, 1 error.
    Status(cli::status::Args),
    /// Show the function's logs in time order across its log streams.
    Logs(cli::logs::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Package(args) => cli::package::run(&args),
        Command::PlanSummary(args) => cli::plan_summary::run(&args),
        Command::Status(args) => cli::status::run(&args),
        Command::Logs(args) => cli::logs::run(&args),
    }
}
