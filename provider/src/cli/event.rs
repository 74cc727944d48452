//! `eventpipe event s3`: prints the event S3 sends for one object, built by
//! the same code as backfill's events (`pipeline::s3_event`). Needs no AWS.

use std::process::ExitCode;

use crate::pipeline::s3_event::{self, ObjectEvent};

use super::error::{CliError, exit};

/// The account the event names when `--account` is not given: the one
/// AWS's own documentation uses in its examples.
pub const EXAMPLE_ACCOUNT: &str = "123456789012";

/// The notification id the event names when `--configuration-id` is not
/// given.
pub const DEFAULT_CONFIGURATION_ID: &str = "eventpipe-event";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub kind: Kind,
}

#[derive(Debug, clap::Subcommand)]
pub enum Kind {
    /// Print the event S3 sends to Lambda for one object (the same event a
    /// pipeline's backfill sends), as JSON.
    S3(S3Args),
}

/// Print the S3 event notification for one object as JSON.
///
/// Exit status: 0 when the event is printed; 2 for a usage error (an
/// unknown `--event`, a missing `--bucket` or `--key`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status:\n  0  the event is printed\n  2  usage error (an unknown \
                        --event, a missing --bucket or --key)"
)]
pub struct S3Args {
    /// The bucket the object is in.
    #[arg(long, value_name = "B")]
    pub bucket: String,
    /// The object's key, as it is (the event carries it form-encoded, as S3
    /// writes it).
    #[arg(long, value_name = "K")]
    pub key: String,
    /// The object's size in bytes.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub size: i64,
    /// The object's ETag (left out of the event when not given).
    #[arg(long, value_name = "ETAG")]
    pub etag: Option<String>,
    /// The event's name, with or without `s3:` (ObjectCreated:Put,
    /// ObjectRemoved:Delete, ...).
    #[arg(long = "event", value_name = "NAME", default_value = s3_event::OBJECT_CREATED_PUT)]
    pub event: String,
    /// The bucket's region (default: AWS_REGION, else AWS_DEFAULT_REGION,
    /// else us-east-1).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// The account that owns the bucket.
    #[arg(long, value_name = "ID", default_value = EXAMPLE_ACCOUNT)]
    pub account: String,
    /// The id of the notification configuration that fired (a pipeline's
    /// are eventpipe-<name>-<index>).
    #[arg(long, value_name = "ID", default_value = DEFAULT_CONFIGURATION_ID)]
    pub configuration_id: String,
}

/// The region an event is for when `--region` is not given.
pub fn default_region() -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// The event's JSON, or why it cannot be made.
pub fn s3_event(args: &S3Args) -> Result<serde_json::Value, CliError> {
    let event_name = s3_event::event_name(&args.event).map_err(CliError::Usage)?;
    let region = args.region.clone().unwrap_or_else(default_region);
    let removal =
        event_name.starts_with("ObjectRemoved:") || event_name.starts_with("LifecycleExpiration:");
    Ok(ObjectEvent {
        event_name: &event_name,
        region: &region,
        account: &args.account,
        configuration_id: &args.configuration_id,
        bucket: &args.bucket,
        bucket_arn: &s3_event::bucket_arn(&region, &args.bucket),
        key: &args.key,
        // S3 sends no size for a removed object.
        size: (!removal).then_some(args.size),
        etag: args.etag.as_deref(),
        time: s3_event::now(),
    }
    .to_json())
}

pub fn run(args: &Args) -> ExitCode {
    match &args.kind {
        Kind::S3(a) => match s3_event(a) {
            Ok(event) => {
                let text = serde_json::to_string_pretty(&event).unwrap_or_default();
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => exit("event s3", &e),
        },
    }
}
