//! CloudWatch metric alarms: put (create or replace), read back by name,
//! tags, delete. An alarm is described with plain types ([`AlarmSettings`],
//! [`AlarmMetric`]) so the rest of the provider can decide and compare
//! without the SDK's.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, Statistic, Tag,
};

use super::AwsError;
use super::error::{err, found};

/// One metric with its statistic over a period.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric_name: String,
    /// `Sum`, `Maximum`, …
    pub statistic: String,
    /// Dimension name → value.
    pub dimensions: BTreeMap<String, String>,
    pub period: i32,
}

/// What an alarm watches.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmMetric {
    /// One metric.
    Single(MetricQuery),
    /// An expression over metrics (metric math): the expression's id, the
    /// expression, and the metrics it names, by id.
    Math {
        id: String,
        expression: String,
        inputs: Vec<(String, MetricQuery)>,
    },
}

/// A metric alarm: its metric, its threshold (`GreaterThanThreshold`, one
/// period), its actions and how missing data counts.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmSettings {
    pub name: String,
    pub description: String,
    pub metric: AlarmMetric,
    pub threshold: f64,
    pub comparison: String,
    pub evaluation_periods: i32,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub treat_missing_data: String,
}

/// An alarm as CloudWatch reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub arn: String,
    pub settings: AlarmSettings,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
}

/// The comparison every alarm of a pipeline uses.
pub const GREATER_THAN: &str = "GreaterThanThreshold";

fn dimensions(d: &BTreeMap<String, String>) -> Vec<Dimension> {
    d.iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect()
}

fn metric_stat(q: &MetricQuery) -> MetricStat {
    MetricStat::builder()
        .metric(
            Metric::builder()
                .namespace(&q.namespace)
                .metric_name(&q.metric_name)
                .set_dimensions(Some(dimensions(&q.dimensions)))
                .build(),
        )
        .period(q.period)
        .stat(&q.statistic)
        .build()
}

/// Creates the alarm, or replaces every setting of the one of that name
/// (CloudWatch's `PutMetricAlarm` is an upsert). `tags` apply only to a
/// new alarm: CloudWatch ignores them on an existing one ([`sync_tags`]).
pub async fn put_alarm(
    cw: &Client,
    a: &AlarmSettings,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let mut req = cw
        .put_metric_alarm()
        .alarm_name(&a.name)
        .alarm_description(&a.description)
        .actions_enabled(true)
        .set_alarm_actions(Some(a.alarm_actions.clone()))
        .set_ok_actions(Some(a.ok_actions.clone()))
        .threshold(a.threshold)
        .comparison_operator(ComparisonOperator::from(a.comparison.as_str()))
        .evaluation_periods(a.evaluation_periods)
        .treat_missing_data(&a.treat_missing_data)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ));
    match &a.metric {
        AlarmMetric::Single(q) => {
            req = req
                .namespace(&q.namespace)
                .metric_name(&q.metric_name)
                .statistic(Statistic::from(q.statistic.as_str()))
                .set_dimensions(Some(dimensions(&q.dimensions)))
                .period(q.period);
        }
        AlarmMetric::Math {
            id,
            expression,
            inputs,
        } => {
            req = req.metrics(
                MetricDataQuery::builder()
                    .id(id)
                    .expression(expression)
                    .return_data(true)
                    .build(),
            );
            for (input_id, q) in inputs {
                req = req.metrics(
                    MetricDataQuery::builder()
                        .id(input_id)
                        .metric_stat(metric_stat(q))
                        .return_data(false)
                        .build(),
                );
            }
        }
    }
    req.send().await.map_err(err("monitoring:PutMetricAlarm"))?;
    Ok(())
}

fn query_of(m: Option<&Metric>, period: Option<i32>, stat: Option<&str>) -> MetricQuery {
    MetricQuery {
        namespace: m.and_then(Metric::namespace).unwrap_or_default().to_owned(),
        metric_name: m
            .and_then(Metric::metric_name)
            .unwrap_or_default()
            .to_owned(),
        statistic: stat.unwrap_or_default().to_owned(),
        dimensions: m
            .map(Metric::dimensions)
            .unwrap_or_default()
            .iter()
            .map(|d| {
                (
                    d.name().unwrap_or_default().to_owned(),
                    d.value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        period: period.unwrap_or_default(),
    }
}

fn metric_of(a: &MetricAlarm) -> AlarmMetric {
    let queries = a.metrics();
    let Some(expr) = queries.iter().find(|q| q.expression().is_some()) else {
        let dims = a.dimensions().to_vec();
        let metric = Metric::builder()
            .set_namespace(a.namespace().map(str::to_owned))
            .set_metric_name(a.metric_name().map(str::to_owned))
            .set_dimensions(Some(dims))
            .build();
        return AlarmMetric::Single(query_of(
            Some(&metric),
            a.period(),
            a.statistic().map(Statistic::as_str),
        ));
    };
    AlarmMetric::Math {
        id: expr.id().unwrap_or_default().to_owned(),
        expression: expr.expression().unwrap_or_default().to_owned(),
        inputs: queries
            .iter()
            .filter_map(|q| {
                let s = q.metric_stat()?;
                Some((
                    q.id().unwrap_or_default().to_owned(),
                    query_of(s.metric(), s.period(), s.stat()),
                ))
            })
            .collect(),
    }
}

fn alarm_of(a: &MetricAlarm) -> Alarm {
    Alarm {
        arn: a.alarm_arn().unwrap_or_default().to_owned(),
        state: a
            .state_value()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        settings: AlarmSettings {
            name: a.alarm_name().unwrap_or_default().to_owned(),
            description: a.alarm_description().unwrap_or_default().to_owned(),
            metric: metric_of(a),
            threshold: a.threshold().unwrap_or_default(),
            comparison: a
                .comparison_operator()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            evaluation_periods: a.evaluation_periods().unwrap_or_default(),
            alarm_actions: a.alarm_actions().to_vec(),
            ok_actions: a.ok_actions().to_vec(),
            treat_missing_data: a.treat_missing_data().unwrap_or_default().to_owned(),
        },
    }
}

/// The metric alarms of these names that exist (one call: CloudWatch
/// takes up to 100 names).
pub async fn alarms(cw: &Client, names: &[String]) -> Result<Vec<Alarm>, AwsError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let out = cw
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .max_records(100)
        .send()
        .await
        .map_err(err("monitoring:DescribeAlarms"))?;
    Ok(out.metric_alarms().iter().map(alarm_of).collect())
}

/// The alarm's tags; `None` when it does not exist.
pub async fn tags(cw: &Client, arn: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let out = found(
        cw.list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(err("monitoring:ListTagsForResource")),
    )?;
    Ok(out.map(|o| {
        o.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }))
}

/// Sets the alarm's tags to exactly `want`, given what it has.
pub async fn sync_tags(
    cw: &Client,
    arn: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    if !diff.remove.is_empty() {
        cw.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(diff.remove))
            .send()
            .await
            .map_err(err("monitoring:UntagResource"))?;
    }
    if !diff.set.is_empty() {
        cw.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(
                diff.set
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(err("monitoring:TagResource"))?;
    }
    Ok(())
}

/// Deletes the alarms of these names; ones already gone are fine.
pub async fn delete_alarms(cw: &Client, names: &[String]) -> Result<(), AwsError> {
    if names.is_empty() {
        return Ok(());
    }
    let r = cw
        .delete_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(err("monitoring:DeleteAlarms"));
    found(r).map(|_| ())
}
