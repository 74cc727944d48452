//! The errors of the commands that talk to AWS, each with the exit code it
//! ends the process with. A command returns `Result<_, CliError>`; `exit`
//! prints the one line and turns it into the process's status.

use std::process::ExitCode;

use thiserror::Error;

use crate::aws::AwsError;
use crate::pipeline::errors::ImportError;

/// Exit status: everything is as it should be.
pub const EXIT_OK: u8 = 0;
/// Exit status: the command could not do its job (AWS refused, a pipeline
/// or queue that does not exist, unreadable input).
pub const EXIT_ERROR: u8 = 1;
/// Exit status: the command line itself is wrong (clap's own status).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the command worked and found the pipeline degraded (a
/// trigger missing, alarms firing, failed events waiting), or some records
/// could not be sent again.
pub const EXIT_DEGRADED: u8 = 3;

#[derive(Debug, Error)]
pub enum CliError {
    #[error("no pipeline named {name:?} in {region}: no Lambda function by that name")]
    NoPipeline { name: String, region: String },
    #[error(
        "Lambda function {0:?} is not an eventpipe pipeline (no eventpipe:pipeline tag); \
         import it with the id adopt:{0} first"
    )]
    NotOurs(String),
    #[error("pipeline {name:?}: {message}")]
    Pipeline { name: String, message: String },
    #[error("{}", aws_line(.0))]
    Aws(#[from] AwsError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            _ => EXIT_ERROR,
        }
    }

    /// What a failed pipeline lookup means to someone at a terminal.
    pub fn from_import(name: &str, e: ImportError) -> CliError {
        match e {
            ImportError::Aws(e) => CliError::Aws(e),
            ImportError::NotFound { name, region } => CliError::NoPipeline { name, region },
            ImportError::NotOurs(f) => CliError::NotOurs(f),
            other => CliError::Pipeline {
                name: name.to_owned(),
                message: other.to_string(),
            },
        }
    }
}

/// An AWS error as someone at a terminal needs it: the SDK's words, except
/// where they speak of the provider block or list every credential source
/// tried.
fn aws_line(e: &AwsError) -> String {
    match e {
        AwsError::NoRegion => {
            "no AWS region is configured: give --region, or set AWS_REGION or a profile's region"
                .to_owned()
        }
        AwsError::Transport { operation, message } if message.contains("no credentials found") => {
            format!(
                "{operation}: no AWS credentials found (environment, shared credentials and \
                 config files, SSO, web identity, container and instance metadata were tried): \
                 set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile"
            )
        }
        other => other.to_string(),
    }
}

/// Prints `eventpipe <command>: <error>` on stderr (one line) and returns
/// the error's exit status.
pub fn exit(command: &str, e: &CliError) -> ExitCode {
    let line = e.to_string().replace('\n', " ");
    eprintln!("eventpipe {command}: {line}");
    ExitCode::from(e.exit_code())
}

/// A two-worker runtime for one command's AWS calls (their calls run concurrently).
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Input(format!("cannot start the async runtime: {e}")))
}
