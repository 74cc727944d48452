//! `eventpipe invoke NAME --key K`: the event S3 would send for that key
//! (built by `pipeline::s3_event`, the builder backfill uses), refused when
//! no trigger of the pipeline fires for it, then either sent to the deployed
//! function and answered (`RequestResponse`, with the end of its log), or
//! with `--local` run on this machine ([`local`]).

mod config;
pub mod local;

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value as Json, json};

use crate::aws::lambda;
use crate::pipeline::s3_event::{self, ObjectEvent};

use super::aws_args::{AwsArgs, OutputArgs};
use super::error::{CliError, EXIT_DEGRADED, exit, runtime};
use super::target;

pub use config::{Pipeline, parse_var_file};

const COMMAND: &str = "invoke";

/// Send the event S3 would send for one key to a pipeline's function, or
/// run its handler on this machine.
///
/// Exit status: 0 when the function (or handler) returned; 1 when the
/// command could not do its job (an unknown pipeline, AWS refused or is out
/// of reach, unreadable --state or --var-file, no Python or Node.js to run
/// the handler with); 2 for a usage error, and for a key no trigger of the
/// pipeline fires for; 3 when the function or handler failed (its error is
/// printed).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status:\n  0  the function (or, with --local, the handler) \
                        returned\n  1  error: unknown pipeline, AWS refused or out of reach, \
                        unreadable --state or --var-file, no python3/node to run the handler\n  \
                        2  usage error, or a key no trigger of the pipeline fires for\n  3  the \
                        function or handler failed (its error is printed)\n\nWithout --local the \
                        pipeline is read from AWS. With --local and --state, from the state \
                        file alone (source_dir, handler, runtime, environment, triggers); with \
                        --local and no --state, from AWS (source_dir as the function's tag \
                        records it, the environment from the function's configuration).\n\n\
                        --var-file: extra environment for the handler, a JSON object of names \
                        to values, or lines NAME = \"value\" (or NAME=value), # for comments.\n\n\
                        With --local the handler gets the package's own dependencies, from the \
                        package cache (installed into it first when missing): installed for \
                        Lambda's platform, so a compiled one loads only on Linux with the \
                        runtime's Python version."
)]
pub struct Args {
    /// The pipeline's name.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The object's key, as it is (required; checked by the command, so a
    /// missing one is one line).
    #[arg(long, value_name = "K")]
    pub key: Option<String>,
    /// The object's size in bytes, as the event says it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub size: i64,
    /// The event's name (ObjectCreated:Put, ObjectRemoved:Delete, ...).
    #[arg(long = "event", value_name = "NAME", default_value = s3_event::OBJECT_CREATED_PUT)]
    pub event: String,
    /// Run the handler on this machine (python3, or the runtime's pythonX.Y,
    /// or node) with its source, its installed dependencies (the package
    /// cache's) and the function's environment, instead of the deployed
    /// function.
    #[arg(long)]
    pub local: bool,
    /// With --local: the pipeline from this `terraform show -json` output
    /// instead of from AWS.
    #[arg(long, value_name = "FILE", requires = "local")]
    pub state: Option<PathBuf>,
    /// With --local: extra environment for the handler (see below).
    #[arg(long, value_name = "FILE", requires = "local")]
    pub var_file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `--key`, which every run needs.
fn key(args: &Args) -> Result<&str, CliError> {
    args.key.as_deref().ok_or_else(|| {
        CliError::Usage("--key K is required: the key of the object the event is for".into())
    })
}

/// The pipeline and the region it is in.
async fn pipeline(args: &Args) -> Result<(Pipeline, String), CliError> {
    if let Some(path) = &args.state {
        let p = config::from_state_file(path, &args.name)?;
        let region = args
            .aws
            .region
            .clone()
            .or_else(|| p.arn_part(3).map(str::to_owned))
            .unwrap_or_else(super::event::default_region);
        return Ok((p, region));
    }
    let aws = args.aws.connect().await?;
    let t = target::find(&aws, &args.name).await?;
    Ok((Pipeline::of_state(&t.state), aws.region.clone()))
}

/// The event for `args.key`, from the trigger that fires for it.
fn event(args: &Args, p: &Pipeline, region: &str) -> Result<(Json, usize), CliError> {
    let key = key(args)?;
    let event_name = s3_event::event_name(&args.event).map_err(CliError::Usage)?;
    let Some(index) = s3_event::matching_trigger(&p.triggers, &event_name, key) else {
        let filters: Vec<String> = p
            .triggers
            .iter()
            .map(|t| format!("{} {}*{}", t.events.join("|"), t.prefix(), t.suffix()))
            .collect();
        return Err(CliError::Usage(format!(
            "no trigger of pipeline {:?} fires for {event_name} of {:?} (its triggers: {})",
            p.name,
            key,
            if filters.is_empty() {
                "none".to_owned()
            } else {
                filters.join("; ")
            }
        )));
    };
    let account = p.arn_part(4).unwrap_or(super::event::EXAMPLE_ACCOUNT);
    let bucket_arn = if p.bucket_arn.is_empty() {
        s3_event::bucket_arn(region, &p.bucket)
    } else {
        p.bucket_arn.clone()
    };
    let removal =
        event_name.starts_with("ObjectRemoved:") || event_name.starts_with("LifecycleExpiration:");
    let e = ObjectEvent {
        event_name: &event_name,
        region,
        account,
        configuration_id: &p.configuration_id(index),
        bucket: &p.bucket,
        bucket_arn: &bucket_arn,
        key,
        size: (!removal).then_some(args.size),
        etag: None,
        time: s3_event::now(),
    };
    let notification = e.to_json();
    let event = match &p.event_queue_arn {
        // With queue delivery the function is given S3's notification as
        // the body of one SQS message.
        Some(queue) => s3_event::sqs_envelope(
            &notification,
            queue,
            region,
            &local::request_id(),
            s3_event::now(),
        ),
        None => notification,
    };
    Ok((event, index))
}

/// The S3 record of an event, wrapped in an SQS message or not.
fn s3_record(event: &Json) -> Json {
    let r = &event["Records"][0];
    match r["body"].as_str() {
        Some(body) => serde_json::from_str::<Json>(body).unwrap_or_default()["Records"][0].clone(),
        None => r.clone(),
    }
}

/// A payload as JSON when it is JSON, else as text.
fn as_json(bytes: &[u8]) -> Json {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn pretty(v: &Json) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// One line for an error in Lambda's shape.
fn error_line(e: &Json) -> String {
    match (e["errorType"].as_str(), e["errorMessage"].as_str()) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (None, Some(m)) => m.to_owned(),
        _ => e.to_string(),
    }
    .replace('\n', " ")
}

/// What an invocation printed and how it ended.
struct Report {
    json: Json,
    text: String,
    /// The one line on stderr when the function failed.
    failed: Option<String>,
}

fn print(args: &Args, r: &Report) -> ExitCode {
    if args.output.json {
        println!("{}", r.json);
    } else {
        print!("{}", r.text);
    }
    match &r.failed {
        Some(line) => {
            eprintln!("eventpipe {COMMAND}: {line}");
            ExitCode::from(EXIT_DEGRADED)
        }
        None => ExitCode::SUCCESS,
    }
}

fn section(title: &str, body: &str) -> String {
    let body = body.trim_end();
    if body.is_empty() {
        format!("{title}: (none)\n")
    } else {
        format!("{title}:\n{body}\n")
    }
}

async fn deployed(args: &Args) -> Result<Report, CliError> {
    let aws = args.aws.connect().await?;
    let t = target::find(&aws, &args.name).await?;
    let p = Pipeline::of_state(&t.state);
    let (event, index) = event(args, &p, &aws.region)?;
    let payload = event.to_string().into_bytes();
    let r = lambda::invoke_sync(&aws.lambda, &p.function_name, payload, true).await?;
    let answer = as_json(&r.payload);
    let log = r.log_tail.clone().unwrap_or_default();
    let failed = r
        .function_error
        .as_ref()
        .map(|kind| format!("the function failed ({kind}): {}", error_line(&answer)));
    let head = format!(
        "invoked {} with {} of s3://{}/{} (trigger {index})\n",
        p.function_name,
        s3_record(&event)["eventName"].as_str().unwrap_or_default(),
        p.bucket,
        key(args)?
    );
    let title = if r.function_error.is_some() {
        "error"
    } else {
        "result"
    };
    let text = format!(
        "{head}{}{}",
        section(title, &pretty(&answer)),
        section("log tail", &log)
    );
    let json = json!({
        "pipeline": p.name,
        "function": p.function_name,
        "local": false,
        "trigger": index,
        "event": event,
        "status": r.status,
        "function_error": r.function_error,
        "result": if failed.is_none() { answer.clone() } else { Json::Null },
        "error": if failed.is_some() { answer } else { Json::Null },
        "log": r.log_tail,
    });
    Ok(Report { json, text, failed })
}

async fn local_run(args: &Args) -> Result<Report, CliError> {
    let (p, region) = pipeline(args).await?;
    let (event, index) = event(args, &p, &region)?;
    let extra = match &args.var_file {
        Some(path) => config::read_var_file(path)?,
        None => Default::default(),
    };
    let ran = local::Local {
        pipeline: &p,
        region: &region,
        extra_env: &extra,
        endpoint_url: args.aws.endpoint_url.as_deref(),
        profile: args.aws.profile.as_deref(),
    }
    .run(&event)?;
    let (title, value) = match &ran.outcome {
        Ok(v) => ("result", v.clone()),
        Err(e) => ("error", e.clone()),
    };
    let failed = ran
        .outcome
        .as_ref()
        .err()
        .map(|e| format!("the handler failed: {}", error_line(e)));
    let head = format!(
        "ran {} ({}, {}) locally with {} of s3://{}/{} (trigger {index})\n",
        p.handler,
        p.runtime,
        p.source_dir,
        s3_record(&event)["eventName"].as_str().unwrap_or_default(),
        p.bucket,
        key(args)?
    );
    let text = format!(
        "{head}{}{}",
        section("log", &ran.log),
        section(title, &pretty(&value))
    );
    let json = json!({
        "pipeline": p.name,
        "function": p.function_name,
        "local": true,
        "trigger": index,
        "event": event,
        "result": ran.outcome.as_ref().ok(),
        "error": ran.outcome.as_ref().err(),
        "log": ran.log,
    });
    Ok(Report { json, text, failed })
}

pub fn run(args: &Args) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return exit(COMMAND, &e),
    };
    if let Err(e) = key(args) {
        return exit(COMMAND, &e);
    }
    let result = if args.local {
        rt.block_on(local_run(args))
    } else {
        rt.block_on(deployed(args))
    };
    match result {
        Ok(report) => print(args, &report),
        Err(e) => exit(COMMAND, &e),
    }
}
