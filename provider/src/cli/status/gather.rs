//! What `eventpipe status` reads from AWS, in as few round trips as the
//! answers allow. The first round asks everything the pipeline's name
//! alone determines, at once: the function (with the ownership check
//! `terraform import NAME` makes, [`import::check_owner`]), its invoke
//! configuration and event source mappings, the queues named after the
//! pipeline and its alarms. The second asks, at once, what the first
//! named: the bucket's notifications, the queues' message counts and the
//! metrics. Only a failure queue found nowhere but in the event queue's
//! redrive policy costs a third.

use crate::aws::metrics::{self, AlarmState, MetricQuery};
use crate::aws::sqs::QueueDepth;
use crate::aws::{AwsClients, AwsError, lambda, mappings, s3, sqs};
use crate::pipeline::import;
use crate::pipeline::naming::{self, ALARM_KINDS};
use crate::pipeline::ownership::BUCKET_TAG;

use super::super::error::CliError;

/// How far back a metric's latest value is looked for.
pub const METRIC_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A queue of the pipeline: its name and ARN, its message counts (`None`
/// when it no longer exists) and the age of its oldest message in seconds
/// (`None` when CloudWatch has no datapoint).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueFacts {
    pub name: String,
    pub arn: String,
    pub depth: Option<QueueDepth>,
    pub oldest_age_s: Option<f64>,
}

/// The stream the function reads, with its iterator age in milliseconds
/// (`None` when CloudWatch has no datapoint).
#[derive(Clone, Debug, PartialEq)]
pub struct StreamFacts {
    pub name: String,
    pub arn: String,
    pub iterator_age_ms: Option<f64>,
}

/// Everything `status` reports, as AWS has it now.
#[derive(Clone, Debug)]
pub struct Facts {
    pub name: String,
    pub region: String,
    pub function: lambda::Function,
    pub status: lambda::FunctionStatus,
    pub bucket: String,
    /// Every notification configuration of the bucket; `None` when the
    /// bucket does not exist.
    pub notifications: Option<Vec<s3::Notification>>,
    pub failure_queue: Option<QueueFacts>,
    pub event_queue: Option<QueueFacts>,
    pub stream: Option<StreamFacts>,
    /// The pipeline's alarms that exist (`<name>-<kind>`), in any state.
    pub alarms: Vec<AlarmState>,
}

/// What the first round found.
struct First {
    function: lambda::Function,
    status: lambda::FunctionStatus,
    invoke_config: Option<lambda::InvokeConfig>,
    mappings: Vec<mappings::Mapping>,
    managed_failure_url: Option<String>,
    event_queue_url: Option<String>,
    alarms: Vec<AlarmState>,
}

/// The last part of an ARN (a queue's name), or of a stream ARN's path.
fn name_of(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

async fn first_round(aws: &AwsClients, name: &str) -> Result<First, CliError> {
    let function_name = naming::function_name(name);
    let alarm_names: Vec<String> = ALARM_KINDS
        .iter()
        .map(|k| naming::alarm_name(name, k))
        .collect();
    let failure_name = naming::failure_queue_name(name);
    let event_name = naming::event_queue_name(name);
    // Boxed: the SDK's futures are large, and joined unboxed they can
    // overflow a worker thread's stack in a debug build.
    let (function, invoke_config, mappings, failure_url, event_url, alarms) = tokio::join!(
        Box::pin(lambda::get_function_and_status(&aws.lambda, &function_name)),
        Box::pin(lambda::invoke_config(&aws.lambda, &function_name)),
        Box::pin(mappings::mappings(&aws.lambda, &function_name)),
        Box::pin(sqs::queue_url(&aws.sqs, &failure_name)),
        Box::pin(sqs::queue_url(&aws.sqs, &event_name)),
        Box::pin(metrics::alarm_states(&aws.cloudwatch, &alarm_names)),
    );
    // The function decides first: no such pipeline, or not ours, is the
    // answer whatever the other calls said.
    let (function, status) = function?.ok_or_else(|| CliError::NoPipeline {
        name: function_name.clone(),
        region: aws.region.clone(),
    })?;
    import::check_owner(name, &function_name, &function)
        .map_err(|e| CliError::from_import(name, e))?;
    Ok(First {
        function,
        status,
        invoke_config: invoke_config?,
        mappings: mappings?,
        managed_failure_url: failure_url?,
        event_queue_url: event_url?,
        alarms: alarms?,
    })
}

/// The failure queue's ARN as the function's settings name it: its invoke
/// configuration's on-failure destination, or its stream mapping's.
fn failure_queue_arn(first: &First) -> Option<String> {
    first
        .invoke_config
        .as_ref()
        .and_then(|c| c.on_failure.clone())
        .or_else(|| {
            first
                .mappings
                .iter()
                .find_map(|m| m.settings.on_failure.clone())
        })
}

/// The queue's URL: the one found by name in the first round when it is
/// that queue, else looked up now.
async fn url_of(
    aws: &AwsClients,
    queue_name: &str,
    known: Option<(&str, &Option<String>)>,
) -> Result<Option<String>, AwsError> {
    match known {
        Some((n, url)) if n == queue_name => Ok(url.clone()),
        _ => sqs::queue_url(&aws.sqs, queue_name).await,
    }
}

async fn depth_at(aws: &AwsClients, url: Option<String>) -> Result<Option<QueueDepth>, AwsError> {
    match url {
        Some(u) => sqs::depth(&aws.sqs, &u).await,
        None => Ok(None),
    }
}

fn age_query(queue: &str) -> MetricQuery {
    MetricQuery {
        namespace: "AWS/SQS".into(),
        metric: "ApproximateAgeOfOldestMessage".into(),
        dimensions: vec![("QueueName".into(), queue.to_owned())],
        stat: "Maximum".into(),
    }
}

fn iterator_age_query(function: &str) -> MetricQuery {
    MetricQuery {
        namespace: "AWS/Lambda".into(),
        metric: "IteratorAge".into(),
        dimensions: vec![("FunctionName".into(), function.to_owned())],
        stat: "Maximum".into(),
    }
}

/// The pipeline `name` as AWS has it now.
pub async fn gather(aws: &AwsClients, name: &str) -> Result<Facts, CliError> {
    let first = first_round(aws, name).await?;
    let function_name = naming::function_name(name);
    let bucket = first
        .function
        .tags
        .get(BUCKET_TAG)
        .cloned()
        .ok_or_else(|| CliError::Pipeline {
            name: name.to_owned(),
            message: format!("its function has no {BUCKET_TAG} tag naming its bucket"),
        })?;
    let managed_failure = naming::failure_queue_name(name);
    let failure_arn = failure_queue_arn(&first);
    let failure_name = failure_arn
        .as_deref()
        .map(name_of)
        .map(str::to_owned)
        .or_else(|| {
            first
                .managed_failure_url
                .as_ref()
                .map(|_| managed_failure.clone())
        });
    let event_arn = first
        .mappings
        .iter()
        .find(|m| m.source_arn.contains(":sqs:"))
        .map(|m| m.source_arn.clone());
    let stream_arn = first
        .mappings
        .iter()
        .find(|m| m.source_arn.contains(":kinesis:"))
        .map(|m| m.source_arn.clone());
    let event_name = event_arn.as_deref().map(|a| name_of(a).to_owned());

    let mut queries = Vec::new();
    if let Some(n) = &failure_name {
        queries.push(age_query(n));
    }
    if let Some(n) = &event_name {
        queries.push(age_query(n));
    }
    if stream_arn.is_some() {
        queries.push(iterator_age_query(&function_name));
    }
    let managed = (managed_failure.as_str(), &first.managed_failure_url);
    let own_events = (naming::event_queue_name(name), &first.event_queue_url);
    let (notifications, failure_depth, event_depth, values) = tokio::join!(
        Box::pin(s3::notifications(&aws.s3, &bucket)),
        Box::pin(async {
            match &failure_name {
                Some(n) => depth_at(aws, url_of(aws, n, Some(managed)).await?).await,
                None => Ok(None),
            }
        }),
        Box::pin(async {
            match &event_name {
                Some(n) => {
                    let known = Some((own_events.0.as_str(), own_events.1));
                    depth_at(aws, url_of(aws, n, known).await?).await
                }
                None => Ok(None),
            }
        }),
        Box::pin(metrics::latest(&aws.cloudwatch, &queries, METRIC_WINDOW)),
    );
    let (notifications, failure_depth, event_depth, values) =
        (notifications?, failure_depth?, event_depth?, values?);
    let mut values = values.into_iter();
    let mut failure_queue = failure_name.map(|n| QueueFacts {
        arn: failure_arn
            .clone()
            .or_else(|| failure_depth.as_ref().map(|d| d.arn.clone()))
            .unwrap_or_default(),
        name: n,
        depth: failure_depth,
        oldest_age_s: values.next().flatten(),
    });
    let event_queue = event_name.map(|n| QueueFacts {
        name: n,
        arn: event_arn.clone().unwrap_or_default(),
        depth: event_depth,
        oldest_age_s: values.next().flatten(),
    });
    let stream = stream_arn.map(|arn| StreamFacts {
        name: name_of(&arn).to_owned(),
        arn,
        iterator_age_ms: values.next().flatten(),
    });
    // A failure queue named only by the event queue's redrive policy.
    if failure_queue.is_none()
        && let Some(dlq) = event_queue
            .as_ref()
            .and_then(|q| q.depth.as_ref())
            .and_then(|d| d.dead_letter_arn.clone())
    {
        failure_queue = Some(redrive_target(aws, &dlq).await?);
    }
    Ok(Facts {
        name: name.to_owned(),
        region: aws.region.clone(),
        function: first.function,
        status: first.status,
        bucket,
        notifications,
        failure_queue,
        event_queue,
        stream,
        alarms: first.alarms,
    })
}

/// The dead-letter queue `arn`, read on its own.
async fn redrive_target(aws: &AwsClients, arn: &str) -> Result<QueueFacts, CliError> {
    let queue = name_of(arn).to_owned();
    let queries = [age_query(&queue)];
    let (depth, age) = tokio::join!(
        Box::pin(async { depth_at(aws, sqs::queue_url(&aws.sqs, &queue).await?).await }),
        Box::pin(metrics::latest(&aws.cloudwatch, &queries, METRIC_WINDOW)),
    );
    Ok(QueueFacts {
        name: queue,
        arn: arn.to_owned(),
        depth: depth?,
        oldest_age_s: age?.into_iter().next().flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_queue_and_stream_arns() {
        assert_eq!(
            name_of("arn:aws:sqs:us-east-1:123456789012:orders-failed"),
            "orders-failed"
        );
        assert_eq!(
            name_of("arn:aws:kinesis:us-east-1:123456789012:stream/orders"),
            "orders"
        );
    }
}
