//! Lambda event source mappings: Lambda polling a Kinesis stream or an SQS
//! queue and invoking the function with batches of records.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::{
    DestinationConfig, EventSourcePosition, FunctionResponseType, OnFailure, ScalingConfig,
};

use tokio_util::sync::CancellationToken;

use super::AwsError;
use super::error::{err, found};
use super::retry::{Backoff, DELETE_BOUND, until_consistent, until_gone};

/// How Lambda reads from its source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingSettings {
    pub batch_size: i32,
    pub maximum_batching_window_s: i32,
    /// Streams: `LATEST` or `TRIM_HORIZON` (set when made, not changeable).
    pub starting_position: Option<String>,
    pub parallelization_factor: Option<i32>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub maximum_retry_attempts: Option<i32>,
    pub maximum_record_age_s: Option<i32>,
    /// Queues: how many invocations may run at once.
    pub maximum_concurrency: Option<i32>,
    pub report_batch_item_failures: bool,
    /// Streams: where records of failed batches go (an SQS queue ARN).
    pub on_failure: Option<String>,
}

/// A mapping as Lambda reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub uuid: String,
    /// The function it invokes (its ARN).
    pub function_arn: String,
    pub source_arn: String,
    pub settings: MappingSettings,
    /// `Creating`, `Enabled`, `Disabled`, `Updating`, `Deleting`, ….
    pub state: String,
}

impl Mapping {
    /// Being deleted: as good as gone, but its function and source cannot
    /// have another mapping until it is.
    pub fn is_deleting(&self) -> bool {
        self.state.eq_ignore_ascii_case("Deleting")
    }
}

fn destination(arn: &Option<String>) -> Option<DestinationConfig> {
    arn.as_ref().map(|a| {
        DestinationConfig::builder()
            .on_failure(OnFailure::builder().destination(a).build())
            .build()
    })
}

fn response_types(s: &MappingSettings) -> Option<Vec<FunctionResponseType>> {
    Some(if s.report_batch_item_failures {
        vec![FunctionResponseType::ReportBatchItemFailures]
    } else {
        Vec::new()
    })
}

fn scaling(s: &MappingSettings) -> Option<ScalingConfig> {
    s.maximum_concurrency
        .map(|n| ScalingConfig::builder().maximum_concurrency(n).build())
}

pub async fn create_mapping(
    lambda: &Client,
    function: &str,
    source_arn: &str,
    s: &MappingSettings,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let out = lambda
        .create_event_source_mapping()
        .function_name(function)
        .event_source_arn(source_arn)
        .enabled(true)
        .batch_size(s.batch_size)
        .maximum_batching_window_in_seconds(s.maximum_batching_window_s)
        .set_starting_position(
            s.starting_position
                .as_deref()
                .map(EventSourcePosition::from),
        )
        .set_parallelization_factor(s.parallelization_factor)
        .set_bisect_batch_on_function_error(s.bisect_batch_on_function_error)
        .set_maximum_retry_attempts(s.maximum_retry_attempts)
        .set_maximum_record_age_in_seconds(s.maximum_record_age_s)
        .set_scaling_config(scaling(s))
        .set_function_response_types(response_types(s))
        .set_destination_config(destination(&s.on_failure))
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ))
        .send()
        .await
        .map_err(err("lambda:CreateEventSourceMapping"))?;
    Ok(out.uuid.unwrap_or_default())
}

/// Sets the mapping to `s`. A setting `s` leaves out is cleared, not kept:
/// for a queue's mapping (`queue`) the maximum concurrency, for a stream's
/// the failure destination (each kind accepts only its own).
pub async fn update_mapping(
    lambda: &Client,
    uuid: &str,
    s: &MappingSettings,
    queue: bool,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    let (scaling, destination) = if queue {
        (
            Some(scaling(s).unwrap_or_else(|| ScalingConfig::builder().build())),
            None,
        )
    } else {
        let none = || {
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().build())
                .build()
        };
        (None, Some(destination(&s.on_failure).unwrap_or_else(none)))
    };
    // A mapping still `Creating` or `Updating` refuses another change
    // (ResourceInUseException) until it settles.
    let busy = |e: &AwsError| e.code() == Some("ResourceInUseException");
    until_consistent(
        "lambda:UpdateEventSourceMapping",
        SETTLE,
        stop,
        busy,
        || update_once(lambda, uuid, s, scaling.clone(), destination.clone()),
    )
    .await
}

/// How long a mapping may stay `Creating` or `Updating`.
const SETTLE: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(5),
    give_up_after: Duration::from_secs(300),
};

async fn update_once(
    lambda: &Client,
    uuid: &str,
    s: &MappingSettings,
    scaling: Option<ScalingConfig>,
    destination: Option<DestinationConfig>,
) -> Result<(), AwsError> {
    lambda
        .update_event_source_mapping()
        .uuid(uuid)
        .batch_size(s.batch_size)
        .maximum_batching_window_in_seconds(s.maximum_batching_window_s)
        .set_parallelization_factor(s.parallelization_factor)
        .set_bisect_batch_on_function_error(s.bisect_batch_on_function_error)
        .set_maximum_retry_attempts(s.maximum_retry_attempts)
        .set_maximum_record_age_in_seconds(s.maximum_record_age_s)
        .set_scaling_config(scaling)
        .set_function_response_types(response_types(s))
        .set_destination_config(destination)
        .send()
        .await
        .map_err(err("lambda:UpdateEventSourceMapping"))?;
    Ok(())
}

/// The function's mapping from `source_arn`, if there is one that is not
/// being deleted.
pub async fn mapping(
    lambda: &Client,
    function: &str,
    source_arn: &str,
) -> Result<Option<Mapping>, AwsError> {
    Ok(mapping_and_deleting(lambda, function, source_arn).await?.0)
}

/// The function's mapping from `source_arn` that is not being deleted, if
/// any, and the UUIDs of those that are.
pub async fn mapping_and_deleting(
    lambda: &Client,
    function: &str,
    source_arn: &str,
) -> Result<(Option<Mapping>, Vec<String>), AwsError> {
    let (deleting, live): (Vec<Mapping>, Vec<Mapping>) = list(lambda, function, Some(source_arn))
        .await?
        .into_iter()
        .partition(Mapping::is_deleting);
    Ok((
        live.into_iter().next(),
        deleting.into_iter().map(|m| m.uuid).collect(),
    ))
}

/// Every mapping of the function.
pub async fn mappings(lambda: &Client, function: &str) -> Result<Vec<Mapping>, AwsError> {
    list(lambda, function, None).await
}

async fn list(
    lambda: &Client,
    function: &str,
    source_arn: Option<&str>,
) -> Result<Vec<Mapping>, AwsError> {
    let r = lambda
        .list_event_source_mappings()
        .function_name(function)
        .set_event_source_arn(source_arn.map(str::to_owned))
        .send()
        .await
        .map_err(err("lambda:ListEventSourceMappings"));
    let Some(out) = found(r)? else {
        return Ok(Vec::new());
    };
    Ok(out.event_source_mappings().iter().map(mapping_of).collect())
}

/// Every mapping of the region whose source is an SQS queue, whatever its
/// function, over every page.
pub async fn queue_mappings(lambda: &Client) -> Result<Vec<Mapping>, AwsError> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let out = lambda
            .list_event_source_mappings()
            .set_marker(marker)
            .send()
            .await
            .map_err(err("lambda:ListEventSourceMappings"))?;
        all.extend(
            out.event_source_mappings()
                .iter()
                .map(mapping_of)
                .filter(|m| m.source_arn.starts_with("arn:") && m.source_arn.contains(":sqs:")),
        );
        marker = out
            .next_marker()
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        if marker.is_none() {
            return Ok(all);
        }
    }
}

fn mapping_of(m: &aws_sdk_lambda::types::EventSourceMappingConfiguration) -> Mapping {
    Mapping {
        uuid: m.uuid().unwrap_or_default().to_owned(),
        state: m.state().unwrap_or_default().to_owned(),
        function_arn: m.function_arn().unwrap_or_default().to_owned(),
        source_arn: m.event_source_arn().unwrap_or_default().to_owned(),
        settings: MappingSettings {
            batch_size: m.batch_size().unwrap_or_default(),
            maximum_batching_window_s: m.maximum_batching_window_in_seconds().unwrap_or(0),
            starting_position: m.starting_position().map(|p| p.as_str().to_owned()),
            parallelization_factor: m.parallelization_factor(),
            bisect_batch_on_function_error: m.bisect_batch_on_function_error(),
            maximum_retry_attempts: m.maximum_retry_attempts(),
            maximum_record_age_s: m.maximum_record_age_in_seconds(),
            maximum_concurrency: m.scaling_config().and_then(|c| c.maximum_concurrency()),
            report_batch_item_failures: m
                .function_response_types()
                .contains(&FunctionResponseType::ReportBatchItemFailures),
            on_failure: m
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|f| f.destination())
                .map(str::to_owned),
        },
    }
}

/// Deletes the mapping; one already gone is fine.
pub async fn delete_mapping(lambda: &Client, uuid: &str) -> Result<(), AwsError> {
    let r = lambda
        .delete_event_source_mapping()
        .uuid(uuid)
        .send()
        .await
        .map_err(err("lambda:DeleteEventSourceMapping"));
    found(r).map(|_| ())
}

/// Waits until the mapping is gone: a deleted mapping stays `Deleting` for
/// a while, and a new mapping of the same function and source is refused
/// until it has gone.
pub async fn wait_deleted(
    lambda: &Client,
    uuid: &str,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    until_gone(
        "lambda:GetEventSourceMapping",
        &format!("event source mapping {uuid}"),
        DELETE_BOUND,
        stop,
        || async {
            let r = lambda
                .get_event_source_mapping()
                .uuid(uuid)
                .send()
                .await
                .map_err(err("lambda:GetEventSourceMapping"));
            Ok(found(r)?.is_some())
        },
    )
    .await
}
