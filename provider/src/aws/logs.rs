//! CloudWatch Logs: the function's log group, made before the function so
//! its retention and tags are the pipeline's and Lambda needs no right to
//! create it.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cloudwatchlogs::Client;

use super::AwsError;
use super::error::{err, found};

/// A log group as CloudWatch Logs reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroup {
    pub arn: String,
    /// `None` means "never expire".
    pub retention_in_days: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

/// Creates the group with `tags`; `Ok(false)` when a group of that name
/// exists already.
pub async fn create_log_group(
    logs: &Client,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<bool, AwsError> {
    let tags: HashMap<String, String> = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let r = logs
        .create_log_group()
        .log_group_name(name)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(err("logs:CreateLogGroup"));
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ResourceAlreadyExistsException") => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn put_retention(logs: &Client, name: &str, days: i32) -> Result<(), AwsError> {
    logs.put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map_err(err("logs:PutRetentionPolicy"))?;
    Ok(())
}

/// The group, or `None` when there is none of that name.
pub async fn log_group(logs: &Client, name: &str) -> Result<Option<LogGroup>, AwsError> {
    let out = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(err("logs:DescribeLogGroups"))?;
    let Some(g) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
    else {
        return Ok(None);
    };
    let arn = g
        .arn()
        .unwrap_or_default()
        .trim_end_matches(":*")
        .to_owned();
    let tags = found(
        logs.list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(err("logs:ListTagsForResource")),
    )?
    .and_then(|t| t.tags)
    .map(|t| t.into_iter().collect())
    .unwrap_or_default();
    Ok(Some(LogGroup {
        arn,
        retention_in_days: g.retention_in_days(),
        tags,
    }))
}

/// Sets the tags of the group `arn` to exactly `want`, given what it has.
pub async fn sync_tags(
    logs: &Client,
    arn: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    if !diff.remove.is_empty() {
        logs.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(diff.remove))
            .send()
            .await
            .map_err(err("logs:UntagResource"))?;
    }
    if !diff.set.is_empty() {
        logs.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(diff.set.into_iter().collect()))
            .send()
            .await
            .map_err(err("logs:TagResource"))?;
    }
    Ok(())
}

/// Deletes the group; one already gone is fine.
pub async fn delete_log_group(logs: &Client, name: &str) -> Result<(), AwsError> {
    let r = logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
        .map_err(err("logs:DeleteLogGroup"));
    found(r).map(|_| ())
}

/// One event of a log group, as `FilterLogEvents` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub event_id: String,
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
}

/// The group's events from `start_ms` on (every page), across its streams,
/// that match `pattern` (CloudWatch's filter pattern syntax); `None` when
/// there is no such group. Sorted by time, then event id.
pub async fn events_since(
    logs: &Client,
    group: &str,
    start_ms: i64,
    pattern: Option<&str>,
) -> Result<Option<Vec<LogEvent>>, AwsError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let r = logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .set_filter_pattern(pattern.map(str::to_owned))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(err("logs:FilterLogEvents"));
        let Some(out) = found(r)? else {
            return Ok(None);
        };
        events.extend(out.events().iter().map(|e| LogEvent {
            event_id: e.event_id().unwrap_or_default().to_owned(),
            stream: e.log_stream_name().unwrap_or_default().to_owned(),
            timestamp: e.timestamp().unwrap_or_default(),
            message: e.message().unwrap_or_default().to_owned(),
        }));
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    events.sort_by(|a, b| (a.timestamp, &a.event_id).cmp(&(b.timestamp, &b.event_id)));
    Ok(Some(events))
}
