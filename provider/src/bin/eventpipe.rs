//! `eventpipe`: the command line for people. `package` builds the zip a
//! pipeline deploys; `plan-summary` turns a plan into a review; `status`,
//! `logs`, `replay`, `event` and `invoke` are for running pipelines.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eventpipe::cli;

#[derive(Debug, Parser)]
#[command(
    name = "eventpipe",
    version,
    about = "Tools for eventpipe pipelines: build their packages, review their plans, watch, replay and run them"
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
    /// Print an event as AWS sends it (`event s3`: the event S3 sends for one object).
    Event(cli::event::Args),
    /// Send the event for one key to a pipeline's function, or run its handler here (--local).
    Invoke(cli::invoke::Args),
    /// Send a pipeline's failed events through again (at least once, resumably).
    Replay(cli::replay::Args),
    /// Show whether a pipeline is working: exit 0 healthy, 3 degraded, 1 error.
    Status(cli::status::Args),
    /// Show the function's logs in time order across its log streams.
    Logs(cli::logs::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Package(args) => cli::package::run(&args),
        Command::PlanSummary(args) => cli::plan_summary::run(&args),
        Command::Event(args) => cli::event::run(&args),
        Command::Invoke(args) => cli::invoke::run(&args),
        Command::Replay(args) => cli::replay::run(&args),
        Command::Status(args) => cli::status::run(&args),
        Command::Logs(args) => cli::logs::run(&args),
    }
}
