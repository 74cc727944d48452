//! SNS: the topic a pipeline's alarms notify, its tags and its email
//! subscriptions.

use std::collections::BTreeMap;

use aws_sdk_sns::Client;
use aws_sdk_sns::types::Tag;

use super::AwsError;
use super::error::{err, found};

/// What SNS lists for a subscription not confirmed yet, instead of its ARN.
pub const PENDING: &str = "PendingConfirmation";

/// One subscription of a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The subscription's ARN, or [`PENDING`] while not confirmed.
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
}

impl Subscription {
    /// Confirmed by its endpoint (an email's owner clicked the link).
    pub fn confirmed(&self) -> bool {
        self.arn.starts_with("arn:")
    }
}

fn sns_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

/// Creates the topic with `tags` and returns its ARN. SNS answers with the
/// ARN of a topic of that name that exists (and refuses when its tags
/// differ), so callers look first ([`exists`]).
pub async fn create_topic(
    sns: &Client,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let out = sns
        .create_topic()
        .name(name)
        .set_tags(Some(sns_tags(tags)?))
        .send()
        .await
        .map_err(err("sns:CreateTopic"))?;
    out.topic_arn()
        .map(str::to_owned)
        .ok_or_else(|| AwsError::Unexpected(format!("sns:CreateTopic of {name} gave no ARN")))
}

/// Whether the topic exists.
pub async fn exists(sns: &Client, arn: &str) -> Result<bool, AwsError> {
    let r = sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .map_err(err("sns:GetTopicAttributes"));
    Ok(found(r)?.is_some())
}

/// The topic's tags; `None` when it does not exist.
pub async fn tags(sns: &Client, arn: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let r = sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(err("sns:ListTagsForResource"));
    Ok(found(r)?.map(|o| {
        o.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }))
}

/// Sets the topic's tags to exactly `want`, given what it has.
pub async fn sync_tags(
    sns: &Client,
    arn: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    if !diff.remove.is_empty() {
        sns.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(diff.remove))
            .send()
            .await
            .map_err(err("sns:UntagResource"))?;
    }
    if !diff.set.is_empty() {
        sns.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sns_tags(&diff.set)?))
            .send()
            .await
            .map_err(err("sns:TagResource"))?;
    }
    Ok(())
}

/// Every subscription of the topic (all pages); `None` when the topic
/// does not exist.
pub async fn subscriptions(sns: &Client, arn: &str) -> Result<Option<Vec<Subscription>>, AwsError> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let r = sns
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(err("sns:ListSubscriptionsByTopic"));
        let Some(out) = found(r)? else {
            return Ok(None);
        };
        all.extend(out.subscriptions().iter().map(|s| Subscription {
            arn: s.subscription_arn().unwrap_or_default().to_owned(),
            protocol: s.protocol().unwrap_or_default().to_owned(),
            endpoint: s.endpoint().unwrap_or_default().to_owned(),
        }));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(Some(all));
        }
    }
}

/// Subscribes an email address (SNS mails it a confirmation link).
pub async fn subscribe_email(sns: &Client, arn: &str, email: &str) -> Result<(), AwsError> {
    sns.subscribe()
        .topic_arn(arn)
        .protocol("email")
        .endpoint(email)
        .send()
        .await
        .map_err(err("sns:Subscribe"))?;
    Ok(())
}

/// Removes a confirmed subscription; one already gone is fine.
pub async fn unsubscribe(sns: &Client, subscription_arn: &str) -> Result<(), AwsError> {
    let r = sns
        .unsubscribe()
        .subscription_arn(subscription_arn)
        .send()
        .await
        .map_err(err("sns:Unsubscribe"));
    found(r).map(|_| ())
}

/// Deletes the topic with its subscriptions; one already gone is fine.
pub async fn delete_topic(sns: &Client, arn: &str) -> Result<(), AwsError> {
    let r = sns
        .delete_topic()
        .topic_arn(arn)
        .send()
        .await
        .map_err(err("sns:DeleteTopic"));
    found(r).map(|_| ())
}
