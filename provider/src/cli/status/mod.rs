//! `eventpipe status NAME`: is the pipeline working? Its function's state,
//! its code against the state's, its triggers as S3 has them, its queues'
//! depth and age, its stream's iterator age, its backfill and its alarms,
//! read in one round trip of concurrent calls when the account is known up
//! front (two otherwise: `gather`), then
//! judged and printed (`report`). `--state` reads Terraform's state
//! (`state_file`).

mod gather;
mod report;
mod state_file;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::aws::AwsClients;

use super::aws_args::{AwsArgs, OutputArgs};
use super::error::{self, CliError, EXIT_DEGRADED, EXIT_OK};

pub use report::Report;

/// Show whether a pipeline is working, and exit 3 when it is degraded.
///
/// Exit status: 0 healthy; 3 degraded (a trigger missing or changed
/// outside Terraform, an alarm in ALARM, failed events waiting in the
/// failure queue, the function failed, the deployed code not the state's,
/// a queue or the bucket gone); 1 error (no such pipeline, a function
/// that is not a pipeline's, AWS unreachable or refusing, an unreadable
/// --state file), one line on stderr; 2 usage error.
#[derive(Debug, clap::Args)]
#[command(after_help = "Reads, at once: the function (State, LastUpdateStatus, \
    CodeSha256, reserved concurrency), the bucket's notifications, the failure and event \
    queues (ApproximateNumberOfMessages; ApproximateAgeOfOldestMessage from CloudWatch \
    GetMetricData), the stream's IteratorAge, and the alarms <name>-<kind>. A metric \
    CloudWatch has no datapoint of in the last 15 minutes shows as unknown. All of it \
    is asked in one round when the account is known before the first answer (the \
    credentials name it: AWS_ACCOUNT_ID, a profile's aws_account_id, SSO, an assumed role; \
    or --state); otherwise the bucket's notifications wait for the function and each \
    queue's counts for its URL. Without \
    --state the triggers are checked against the pipeline's own numbering \
    (eventpipe-<name>-<i>); with it, against the state's triggers, and the code and \
    backfilled_objects are read from it: with `terraform show -json` the source hash the \
    state records is compared with the one the function was deployed from; with a state \
    file (`terraform state pull`) the CodeSha256 of the provider's last upload is compared \
    with the deployed one, which also finds code changed outside Terraform.\n\nExit status:\n  0   healthy\n  1   error: no \
    such pipeline, a function that is not a pipeline's, AWS unreachable or refusing, an \
    unreadable --state file (one line on stderr)\n  2   usage error\n  3   degraded: a \
    trigger missing or changed outside Terraform, an alarm in ALARM, failed events \
    waiting, the function failed, the deployed code not the state's, a queue or the \
    bucket gone")]
pub struct Args {
    /// The pipeline's name (its `name` attribute).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The output of `terraform show -json` (or `terraform state pull`, which
    /// also lets the code be compared by CodeSha256): compare the deployed code
    /// and the triggers with the state's, and report `backfilled_objects`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The report on pipeline `args.name`.
pub async fn status(args: &Args) -> Result<Report, CliError> {
    // The state file first: a bad one costs no AWS call.
    let recorded = match &args.state {
        Some(p) => Some(state_file::read(p, &args.name)?),
        None => None,
    };
    let aws = args.aws.connect().await?;
    report_with(&aws, &args.name, recorded.as_ref()).await
}

/// The report on pipeline `name`, read with `aws` (no state file).
pub async fn report(aws: &AwsClients, name: &str) -> Result<Report, CliError> {
    report_with(aws, name, None).await
}

async fn report_with(
    aws: &AwsClients,
    name: &str,
    recorded: Option<&state_file::Recorded>,
) -> Result<Report, CliError> {
    // What names the pipeline's parts before the first answer: the state's
    // bucket and account, else the account the credentials name.
    let mut known = gather::Known {
        account: recorded.and_then(|r| r.account.clone()),
        bucket: recorded.and_then(|r| r.bucket.clone()),
    };
    if known.account.is_none() {
        known.account = aws.known_account_id().await;
    }
    let facts = gather::gather(aws, name, &known).await?;
    Ok(report::build(&facts, recorded))
}

pub fn run(args: &Args) -> ExitCode {
    let result = error::runtime().and_then(|rt| rt.block_on(status(args)));
    let report = match result {
        Ok(r) => r,
        Err(e) => return error::exit("status", &e),
    };
    let text = if args.output.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => j,
            Err(e) => {
                return error::exit(
                    "status",
                    &CliError::Input(format!("cannot write JSON: {e}")),
                );
            }
        }
    } else {
        report::render(&report)
    };
    // A closed output (a pager quit) is no panic; the status still tells.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end()).and_then(|()| out.flush());
    ExitCode::from(if report.healthy {
        EXIT_OK
    } else {
        EXIT_DEGRADED
    })
}
