//! `eventpipe replay NAME`: sends a pipeline's failed events through again,
//! at least once and resumably. Each message on the failure queue is read
//! by its shape ([`record`]): Lambda's on-failure record is invoked again
//! with its `requestPayload`, an S3 event redriven from the event queue is
//! sent back to it, a Kinesis on-failure record's range is read again from
//! the stream ([`stream`]) and invoked. A message is deleted only after its
//! re-delivery was accepted ([`run`]); anything else stays on the queue.

pub mod deliver;
pub mod find;
pub mod record;
pub mod run;
pub mod stream;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::aws_args::{AwsArgs, OutputArgs};
use super::error::{self, CliError, EXIT_DEGRADED, EXIT_ERROR, EXIT_OK};
use deliver::{Outcome, Pipeline};
use run::{Line, Report, Settings};

/// Re-deliveries in flight at once, by default.
pub const CONCURRENCY: u16 = 16;

/// Send a pipeline's failed events through again.
///
/// Each message on the failure queue is re-delivered as its shape says:
/// Lambda's on-failure record → its `requestPayload` invoked again
/// (asynchronously; `--sync`: RequestResponse, and a function that fails
/// again keeps its message); an S3 event redriven from the event queue
/// (`delivery = "queue"`) → sent back to the event queue; a Kinesis
/// on-failure record → its shard range read again from the stream, while
/// the stream still holds it, and invoked. A message is deleted only after
/// its re-delivery was accepted; messages of an unknown shape are kept.
///
/// Exit status: 0 when every message was replayed; 3 when some failed
/// again, were skipped (unknown shape) or left (lost to retention, or not
/// sent after a refusal): they stay on the queue; 1 on an error (unknown
/// pipeline, no credentials, a failure queue that does not exist, AWS
/// refusing to hand out or delete messages); 2 for a usage error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status:\n  0  every message was replayed (or, with --dry-run, would be)\n  \
                  1  error: unknown pipeline, no credentials, no failure queue, AWS refused \
                  to receive or delete\n  2  usage error\n  3  some messages failed again, \
                  were skipped (unknown shape) or were left (lost to retention, or not sent \
                  after a refusal); they stay on the queue"
)]
pub struct Args {
    /// The pipeline's name.
    pub name: String,
    /// List what would be sent, one line per record, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Handle at most N failure records.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max: Option<u64>,
    /// Invoke with RequestResponse and keep the message when the function
    /// fails again.
    #[arg(long)]
    pub sync: bool,
    /// Re-deliveries in flight at once.
    #[arg(long, hide = true, default_value_t = CONCURRENCY,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &Args) -> ExitCode {
    let result = error::runtime().and_then(|rt| rt.block_on(replay(args)));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => error::exit("replay", &e),
    }
}

async fn replay(args: &Args) -> Result<u8, CliError> {
    let aws = Arc::new(args.aws.connect().await?);
    let found = find::find(&aws, &args.name).await?;
    let (queue_url, queue_name) = found.failure_queue.clone();
    let pipeline = Arc::new(Pipeline {
        function: found.function.clone(),
        region: aws.region.clone(),
        role_arn: found.role_arn.clone(),
        stream_arn: found.stream_arn.clone(),
        event_queue_url: found.event_queue_url.clone(),
        sync: args.sync,
    });
    // Long enough for a synchronous run of the function, twice over.
    let timeout = found.timeout_s;
    let settings = Settings {
        queue_url,
        dry_run: args.dry_run,
        max: args.max,
        concurrency: usize::from(args.concurrency),
        visibility_s: if args.dry_run {
            30
        } else {
            timeout.saturating_mul(2).saturating_add(60).max(300)
        },
    };
    let bar = progress(args.output.json);
    let tick = |r: &Report| bar.set_message(counts(r).to_string());
    let report = run::run(aws, pipeline, &settings, &tick).await;
    bar.finish_and_clear();
    print(args, &queue_name, &report);
    if let Some(first) = report.errors.first() {
        let more = report.errors.len() - 1;
        let line = if more == 0 {
            first.clone()
        } else {
            format!("{first} (and {more} more)")
        };
        error::exit("replay", &CliError::Input(line));
        return Ok(EXIT_ERROR);
    }
    let c = counts(&report);
    Ok(if c.kept() == 0 && !(args.dry_run && c.would_skip > 0) {
        EXIT_OK
    } else {
        EXIT_DEGRADED
    })
}

/// A spinner on stderr, only for a person at a terminal.
fn progress(json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} replaying: {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// The summary's numbers.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    replayed: usize,
    failed_again: usize,
    skipped: usize,
    left: usize,
    would_send: usize,
    would_skip: usize,
}

impl Counts {
    fn kept(&self) -> usize {
        self.failed_again + self.skipped + self.left
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "replayed {}, failed again {}, skipped {}, left {}",
            self.replayed, self.failed_again, self.skipped, self.left
        )
    }
}

fn counts(r: &Report) -> Counts {
    let mut c = Counts::default();
    for l in &r.lines {
        match &l.outcome {
            Some(Outcome::Replayed) => c.replayed += 1,
            Some(Outcome::FailedAgain { .. }) => c.failed_again += 1,
            Some(Outcome::Skipped(_)) => c.skipped += 1,
            Some(Outcome::Left(_)) => c.left += 1,
            None if l.plan.starts_with("would skip") => c.would_skip += 1,
            None => c.would_send += 1,
        }
    }
    c
}

fn print(args: &Args, queue: &str, r: &Report) {
    let c = counts(r);
    if args.output.json {
        let doc = json!({
            "pipeline": args.name,
            "queue": queue,
            "dry_run": args.dry_run,
            "replayed": c.replayed,
            "failed_again": c.failed_again,
            "skipped": c.skipped,
            "left": c.left,
            "kept": c.kept() + if args.dry_run { c.would_send + c.would_skip } else { 0 },
            "records": r.lines.iter().map(line_json).collect::<Vec<_>>(),
            "errors": r.errors,
        });
        println!("{doc:#}");
        return;
    }
    for l in &r.lines {
        match &l.outcome {
            None => println!("{}: {}", l.plan, l.what),
            Some(Outcome::Replayed) => {}
            Some(Outcome::FailedAgain { why, .. }) => println!("failed again: {}: {why}", l.what),
            Some(Outcome::Skipped(why)) => println!("skipped: {}: {why}", l.what),
            Some(Outcome::Left(why)) => println!("left: {}: {why}", l.what),
        }
    }
    if args.dry_run {
        println!(
            "dry run: {} to send, {} to skip; nothing was sent or deleted ({queue})",
            c.would_send, c.would_skip
        );
    } else if c.kept() > 0 {
        println!("{c}; {} message(s) stay on {queue}", c.kept());
    } else {
        println!("{c}");
    }
}

fn line_json(l: &Line) -> serde_json::Value {
    let (outcome, detail) = match &l.outcome {
        None => ("dry_run", l.plan.clone()),
        Some(Outcome::Replayed) => ("replayed", String::new()),
        Some(Outcome::FailedAgain { why, .. }) => ("failed_again", why.clone()),
        Some(Outcome::Skipped(why)) => ("skipped", why.clone()),
        Some(Outcome::Left(why)) => ("left", why.clone()),
    };
    json!({ "message_id": l.message_id, "what": l.what, "outcome": outcome, "detail": detail })
}
