//! What `eventpipe status` reads from AWS, in one round trip of
//! concurrent calls whenever the names of the pipeline's parts are known
//! before the first answer. The pipeline's name alone names the function
//! (asked with the ownership check `terraform import NAME` makes,
//! [`import::check_owner`]), its invoke configuration, event source
//! mappings and alarms, and the metrics (queue ages by the queues' names,
//! iterator age by the function's). The queues' counts are asked at the
//! URLs SQS gives `<name>-failed` and `<name>-events` when the account is
//! known up front ([`Known`]), with no GetQueueUrl beside them, and the
//! bucket's notifications under the bucket the state names or, without a
//! state, the name the pipeline derives when it names none. Each of these
//! guesses is checked against what the first answers say (the queue ARN
//! GetQueueAttributes returns, the function's account and bucket tag); a
//! guess that does not hold (another queue's ARN, a refused call, no such
//! queue where a setting names one) is asked again the way it always was,
//! in a second round: GetQueueUrl then the counts, the bucket the
//! function's tag names, another queue's age. So a wrong guess costs time,
//! never a wrong report. Only a failure queue found nowhere but in the
//! event queue's redrive policy costs a third.

use crate::aws::metrics::{self, AlarmState, MetricQuery};
use crate::aws::sqs::QueueDepth;
use crate::aws::{AwsClients, AwsError, lambda, mappings, s3, sqs};
use crate::pipeline::naming::{self, ALARM_KINDS};
use crate::pipeline::ownership::BUCKET_TAG;
use crate::pipeline::{import, s3_event};

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

/// What is known before the first call, to ask everything at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// The account the pipeline lives in (from the credentials, or the
    /// function's ARN in the state).
    pub account: Option<String>,
    /// The pipeline's bucket (from the state).
    pub bucket: Option<String>,
}

/// What the first round asked about one of the pipeline's own queues
/// (`<name>-failed`, `<name>-events`).
enum Probe {
    /// Looked up by name (GetQueueUrl, then the counts at the URL it
    /// gave): `None` when there is no such queue.
    ByName(Option<QueueDepth>),
    /// Asked only at the URL SQS forms for the queue in `account`: the
    /// answer holds when it is that queue's (its ARN), or, for a "no such
    /// queue", when the account is the function's own.
    Formed {
        account: String,
        arn: String,
        answer: Result<Option<QueueDepth>, AwsError>,
    },
}

impl Probe {
    /// The queue's counts as the first round found them (`Some(None)`: no
    /// such queue), or `None` when its answer does not hold and the queue
    /// must be looked up by name. `named`: the ARN the function's settings
    /// give the queue (its on-failure destination, its event source), which
    /// the counts must be of; a queue named so that the formed URL says
    /// does not exist is looked up by name, in case the URL was formed
    /// wrong. `function_account`: the account of the function's ARN.
    fn counts(&self, named: Option<&str>, function_account: &str) -> Option<Option<QueueDepth>> {
        match self {
            Probe::ByName(depth) => match (depth, named) {
                (Some(d), Some(a)) if d.arn != a => None,
                _ => Some(depth.clone()),
            },
            Probe::Formed {
                account,
                arn,
                answer,
            } => match answer {
                Ok(Some(d)) if d.arn == named.unwrap_or(arn) => Some(Some(d.clone())),
                Ok(None) if named.is_none() && account == function_account => Some(None),
                _ => None,
            },
        }
    }
}

/// What the first round found.
struct First {
    function: lambda::Function,
    status: lambda::FunctionStatus,
    invoke_config: Option<lambda::InvokeConfig>,
    mappings: Vec<mappings::Mapping>,
    alarms: Vec<AlarmState>,
    /// The ages of `<name>-failed` and `<name>-events` and the function's
    /// iterator age, as asked up front.
    values: Vec<Option<f64>>,
    failure: Probe,
    events: Probe,
    /// The bucket the function's tag names, and its notifications.
    bucket: String,
    notifications: Option<Vec<s3::Notification>>,
}

/// The last part of an ARN (a queue's name), or of a stream ARN's path.
fn name_of(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

/// The AWS partition of `region` (as in a bucket's ARN there).
fn partition_of(region: &str) -> String {
    s3_event::bucket_arn(region, "b")
        .split(':')
        .nth(1)
        .unwrap_or("aws")
        .to_owned()
}

/// The URL SQS gives queue `name` of `account`: on the endpoint SQS is
/// reached through when that is not AWS's own, else AWS's.
fn queue_url_in(aws: &AwsClients, account: &str, name: &str) -> String {
    match &aws.sqs_endpoint {
        Some(e) => format!("{}/{account}/{name}", e.trim_end_matches('/')),
        None => {
            let domain = if aws.region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            format!("https://sqs.{}.{domain}/{account}/{name}", aws.region)
        }
    }
}

fn queue_arn_in(aws: &AwsClients, account: &str, name: &str) -> String {
    let partition = partition_of(&aws.region);
    format!("arn:{partition}:sqs:{}:{account}:{name}", aws.region)
}

/// The bucket to ask about before the function's tags are read: the
/// state's, else the name the pipeline derives when it names none.
fn bucket_guess(aws: &AwsClients, name: &str, known: &Known) -> Option<String> {
    known.bucket.clone().or_else(|| {
        let account = known.account.as_deref()?;
        let partition = partition_of(&aws.region);
        Some(naming::derived_bucket_name(
            name,
            &partition,
            account,
            &aws.region,
        ))
    })
}

/// Queue `name`'s counts as the first round asks them. With the account
/// known, only at the URL SQS forms for it (no GetQueueUrl beside it: the
/// answer is checked after the round, [`Probe::counts`], and the queue
/// looked up by name only when it does not hold); else by name, the
/// counts at the URL GetQueueUrl gives.
async fn probe(aws: &AwsClients, account: Option<&str>, name: &str) -> Result<Probe, AwsError> {
    let Some(account) = account else {
        return Ok(Probe::ByName(by_name(aws, name).await?));
    };
    let formed = queue_url_in(aws, account, name);
    Ok(Probe::Formed {
        account: account.to_owned(),
        arn: queue_arn_in(aws, account, name),
        answer: sqs::depth(&aws.sqs, &formed).await,
    })
}

/// Queue `name`'s counts at the URL GetQueueUrl gives (`None`: no such
/// queue).
async fn by_name(aws: &AwsClients, name: &str) -> Result<Option<QueueDepth>, AwsError> {
    match sqs::queue_url(&aws.sqs, name).await? {
        Some(u) => sqs::depth(&aws.sqs, &u).await,
        None => Ok(None),
    }
}

/// A bucket's notifications as read (`None`: no such bucket).
type Notifications = Result<Option<Vec<s3::Notification>>, AwsError>;

/// The function, its status, the bucket its tag names and that bucket's
/// notifications.
type FunctionAndBucket = (
    lambda::Function,
    lambda::FunctionStatus,
    String,
    Option<Vec<s3::Notification>>,
);

/// The function, and then at once the notifications of the bucket its
/// tag names, unless that is the bucket already asked about (`guessed`).
async fn function_and_bucket(
    aws: &AwsClients,
    name: &str,
    function: Result<Option<(lambda::Function, lambda::FunctionStatus)>, AwsError>,
    guessed: Option<(&str, Notifications)>,
) -> Result<FunctionAndBucket, CliError> {
    let function_name = naming::function_name(name);
    let (function, status) = function?.ok_or_else(|| CliError::NoPipeline {
        name: function_name.clone(),
        region: aws.region.clone(),
    })?;
    // No such pipeline, or not ours, is the answer whatever the other
    // calls said; and no bucket of a function not ours is read.
    import::check_owner(name, &function_name, &function)
        .map_err(|e| CliError::from_import(name, e))?;
    let bucket = function
        .tags
        .get(BUCKET_TAG)
        .cloned()
        .ok_or_else(|| CliError::Pipeline {
            name: name.to_owned(),
            message: format!("its function has no {BUCKET_TAG} tag naming its bucket"),
        })?;
    let notifications = match guessed {
        Some((b, n)) if b == bucket => n?,
        _ => s3::notifications(&aws.s3, &bucket).await?,
    };
    Ok((function, status, bucket, notifications))
}

async fn first_round(aws: &AwsClients, name: &str, known: &Known) -> Result<First, CliError> {
    let function_name = naming::function_name(name);
    let alarm_names: Vec<String> = ALARM_KINDS
        .iter()
        .map(|k| naming::alarm_name(name, k))
        .collect();
    let failure_name = naming::failure_queue_name(name);
    let event_name = naming::event_queue_name(name);
    let queries = [
        age_query(&failure_name),
        age_query(&event_name),
        iterator_age_query(&function_name),
    ];
    let account = known.account.as_deref();
    let bucket = bucket_guess(aws, name, known);
    // Boxed: the SDK's futures are large, and joined unboxed they can
    // overflow a worker thread's stack in a debug build.
    let (function, invoke_config, mappings, alarms, values, failure, events) = tokio::join!(
        Box::pin(async {
            // The bucket guessed is asked at once, beside the function.
            let (function, guessed) = tokio::join!(
                Box::pin(lambda::get_function_and_status(&aws.lambda, &function_name)),
                Box::pin(async {
                    match &bucket {
                        Some(b) => Some((b.as_str(), s3::notifications(&aws.s3, b).await)),
                        None => None,
                    }
                }),
            );
            function_and_bucket(aws, name, function, guessed).await
        }),
        Box::pin(lambda::invoke_config(&aws.lambda, &function_name)),
        Box::pin(mappings::mappings(&aws.lambda, &function_name)),
        Box::pin(metrics::alarm_states(&aws.cloudwatch, &alarm_names)),
        Box::pin(metrics::latest(&aws.cloudwatch, &queries, METRIC_WINDOW)),
        Box::pin(probe(aws, account, &failure_name)),
        Box::pin(probe(aws, account, &event_name)),
    );
    let (function, status, bucket, notifications) = function?;
    Ok(First {
        function,
        status,
        invoke_config: invoke_config?,
        mappings: mappings?,
        alarms: alarms?,
        values: values?,
        failure: failure?,
        events: events?,
        bucket,
        notifications,
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

/// A queue's counts and age: from the first round when it asked about
/// that queue and its answer holds (`counts`, `age`), else asked now, by
/// its name.
async fn settle(
    aws: &AwsClients,
    queue: &str,
    counts: Option<Option<QueueDepth>>,
    age: Option<Option<f64>>,
) -> Result<(Option<QueueDepth>, Option<f64>), AwsError> {
    let queries = [age_query(queue)];
    let (depth, values) = tokio::join!(
        Box::pin(async {
            match counts {
                Some(c) => Ok(c),
                None => by_name(aws, queue).await,
            }
        }),
        Box::pin(async {
            match age {
                Some(v) => Ok(v),
                None => metrics::latest(&aws.cloudwatch, &queries, METRIC_WINDOW)
                    .await
                    .map(|v| v.into_iter().next().flatten()),
            }
        }),
    );
    Ok((depth?, values?))
}

/// The pipeline `name` as AWS has it now, asking at once what `known`
/// names up front.
pub async fn gather(aws: &AwsClients, name: &str, known: &Known) -> Result<Facts, CliError> {
    let first = first_round(aws, name, known).await?;
    let managed_failure = naming::failure_queue_name(name);
    let managed_events = naming::event_queue_name(name);
    let failure_arn = failure_queue_arn(&first);
    // The account the function is in: a "no such queue" at a URL formed
    // from it is the answer GetQueueUrl would give.
    let function_account = first.function.arn.split(':').nth(4).unwrap_or_default();
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

    // What the first round could not answer (a queue not named after the
    // pipeline, a guess that did not hold): at once, in a second.
    let (failure, events) = tokio::join!(
        Box::pin(async {
            let (queue, counts) = match failure_arn.as_deref() {
                Some(a) => {
                    let n = name_of(a);
                    let own = n == managed_failure;
                    let counts = own.then(|| first.failure.counts(Some(a), function_account));
                    (n.to_owned(), counts.flatten())
                }
                // Without a failure destination in the function's
                // settings, the pipeline's own failure queue still counts
                // when it exists.
                None => {
                    let counts = match first.failure.counts(None, function_account) {
                        Some(c) => c,
                        None => by_name(aws, &managed_failure).await?,
                    };
                    if counts.is_none() {
                        return Ok(None);
                    }
                    (managed_failure.clone(), Some(counts))
                }
            };
            let own = queue == managed_failure;
            let age = own.then(|| first.values.first().copied().flatten());
            settle(aws, &queue, counts, age)
                .await
                .map(|(depth, age)| Some((queue, depth, age)))
        }),
        Box::pin(async {
            let Some(a) = event_arn.as_deref() else {
                return Ok(None);
            };
            let queue = name_of(a).to_owned();
            let own = queue == managed_events;
            let counts = own
                .then(|| first.events.counts(Some(a), function_account))
                .flatten();
            let age = own.then(|| first.values.get(1).copied().flatten());
            settle(aws, &queue, counts, age)
                .await
                .map(|(depth, age)| Some((queue, depth, age)))
        }),
    );
    let (failure, events) = (failure?, events?);
    let mut failure_queue = failure.map(|(name, depth, age)| QueueFacts {
        arn: failure_arn
            .clone()
            .or_else(|| depth.as_ref().map(|d| d.arn.clone()))
            .unwrap_or_default(),
        name,
        depth,
        oldest_age_s: age,
    });
    let event_queue = events.map(|(name, depth, age)| QueueFacts {
        name,
        arn: event_arn.clone().unwrap_or_default(),
        depth,
        oldest_age_s: age,
    });
    let stream = stream_arn.map(|arn| StreamFacts {
        name: name_of(&arn).to_owned(),
        arn,
        iterator_age_ms: first.values.get(2).copied().flatten(),
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
        bucket: first.bucket,
        notifications: first.notifications,
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
        Box::pin(by_name(aws, &queue)),
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

    const ARN: &str = "arn:aws:sqs:us-east-1:123456789012:orders-failed";

    fn counts_of(arn: &str) -> QueueDepth {
        QueueDepth {
            arn: arn.to_owned(),
            visible: 2,
            ..QueueDepth::default()
        }
    }

    fn formed(answer: Result<Option<QueueDepth>, AwsError>) -> Probe {
        Probe::Formed {
            account: "123456789012".into(),
            arn: ARN.into(),
            answer,
        }
    }

    #[test]
    fn a_formed_urls_counts_hold_only_when_they_are_the_queues() {
        let own = counts_of(ARN);
        let p = formed(Ok(Some(own.clone())));
        assert_eq!(p.counts(None, "123456789012"), Some(Some(own.clone())));
        assert_eq!(p.counts(Some(ARN), "123456789012"), Some(Some(own)));
        // Another account's queue of that name (a wrong account), or a
        // destination that names another queue: looked up by name.
        let other = "arn:aws:sqs:us-east-1:999999999999:orders-failed";
        assert_eq!(
            formed(Ok(Some(counts_of(other)))).counts(None, "123456789012"),
            None
        );
        assert_eq!(p.counts(Some(other), "123456789012"), None);
        // A refused call is a guess that did not hold, not the answer.
        let refused = AwsError::Service {
            operation: "sqs:GetQueueAttributes",
            code: "AccessDenied".into(),
            message: "denied".into(),
            status: Some(403),
        };
        assert_eq!(formed(Err(refused)).counts(None, "123456789012"), None);
    }

    #[test]
    fn no_queue_at_a_formed_url_holds_only_for_the_functions_account_and_an_unnamed_queue() {
        let p = formed(Ok(None));
        // The function is in the account the URL was formed from, and no
        // setting names the queue: there is none (GetQueueUrl would say so).
        assert_eq!(p.counts(None, "123456789012"), Some(None));
        // The function is in another account: the URL may be wrong.
        assert_eq!(p.counts(None, "999999999999"), None);
        // A queue the function's settings name is looked up by name.
        assert_eq!(p.counts(Some(ARN), "123456789012"), None);
    }

    #[test]
    fn counts_looked_up_by_name_hold_unless_another_queue_is_named() {
        let own = counts_of(ARN);
        let p = Probe::ByName(Some(own.clone()));
        assert_eq!(p.counts(Some(ARN), ""), Some(Some(own)));
        assert_eq!(
            p.counts(Some("arn:aws:sqs:us-east-1:123456789012:x"), ""),
            None
        );
        assert_eq!(Probe::ByName(None).counts(Some(ARN), ""), Some(None));
    }

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
