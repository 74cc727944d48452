//! CloudWatch reads for the day-two commands: the latest value of a few
//! metrics (`GetMetricData`) and the state of named alarms
//! (`DescribeAlarms`). Read-only: the alarms themselves are written by
//! `cloudwatch.rs`.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;

use super::AwsError;
use super::error::err;

/// One metric to read: its namespace, name and dimensions, and the
/// statistic over each minute (`Maximum`, `Sum`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub stat: String,
}

/// DescribeAlarms takes at most this many names at once.
const MAX_ALARM_NAMES: usize = 100;

/// The latest one-minute value of each query over the last `window`, in
/// the order asked; `None` where CloudWatch has no datapoint. One call for
/// all of them (pages followed).
pub async fn latest(
    cw: &Client,
    queries: &[MetricQuery],
    window: Duration,
) -> Result<Vec<Option<f64>>, AwsError> {
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let now = SystemTime::now();
    let start = now.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
    // A minute past now: a datapoint of this very second is inside (the
    // end is exclusive, and whole seconds).
    let end = now + Duration::from_secs(60);
    let mut request = cw
        .get_metric_data()
        .start_time(DateTime::from(start))
        .end_time(DateTime::from(end))
        .scan_by(ScanBy::TimestampDescending);
    for (i, q) in queries.iter().enumerate() {
        request = request.metric_data_queries(data_query(i, q));
    }
    let mut values = vec![None; queries.len()];
    let mut token: Option<String> = None;
    loop {
        let out = request
            .clone()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(err("monitoring:GetMetricData"))?;
        for r in out.metric_data_results() {
            let Some(i) = r.id().and_then(query_index) else {
                continue;
            };
            // Newest first: keep the first value a page gives.
            if let (Some(slot), Some(v)) = (values.get_mut(i), r.values().first()) {
                slot.get_or_insert(*v);
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(values)
}

fn data_query(i: usize, q: &MetricQuery) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.metric)
        .set_dimensions(Some(
            q.dimensions
                .iter()
                .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                .collect(),
        ))
        .build();
    MetricDataQuery::builder()
        .id(format!("m{i}"))
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(60)
                .stat(&q.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The index of a query id `m<i>`.
fn query_index(id: &str) -> Option<usize> {
    id.strip_prefix('m')?.parse().ok()
}

/// A CloudWatch alarm's name, state (`OK`, `ALARM`,
/// `INSUFFICIENT_DATA`) and the reason CloudWatch gives for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmState {
    pub name: String,
    pub state: String,
    pub reason: String,
}

/// The metric alarms of these names that exist, with their state.
pub async fn alarm_states(cw: &Client, names: &[String]) -> Result<Vec<AlarmState>, AwsError> {
    let mut found = Vec::new();
    for chunk in names.chunks(MAX_ALARM_NAMES) {
        let mut token: Option<String> = None;
        loop {
            let out = cw
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(err("monitoring:DescribeAlarms"))?;
            found.extend(out.metric_alarms().iter().map(|a| {
                AlarmState {
                    name: a.alarm_name().unwrap_or_default().to_owned(),
                    state: a
                        .state_value()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    reason: a.state_reason().unwrap_or_default().to_owned(),
                }
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_ids_map_back_to_their_index() {
        let q = MetricQuery {
            namespace: "AWS/SQS".into(),
            metric: "ApproximateAgeOfOldestMessage".into(),
            dimensions: vec![("QueueName".into(), "orders-failed".into())],
            stat: "Maximum".into(),
        };
        let built = data_query(7, &q);
        assert_eq!(built.id(), Some("m7"));
        assert_eq!(built.id().and_then(query_index), Some(7));
        assert_eq!(query_index("x1"), None);
        assert_eq!(query_index("m"), None);
    }
}
