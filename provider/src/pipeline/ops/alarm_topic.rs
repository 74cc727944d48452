//! The SNS topic the pipeline makes for `alarms.emails`: made (or, found
//! on a create, adopted when tagged ours and refused otherwise), tagged,
//! one email subscription per address (an address no longer listed is
//! unsubscribed), deleted with a warning naming the confirmed
//! subscriptions it takes with it.

use crate::aws::{AwsError, sns};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::naming;
use super::super::ownership::adopt_if_ours;
use super::super::part::Part;
use super::super::run::Run;

const EMAIL: &str = "email";

/// The topic's ARN, as the plan knows it.
fn arn<'a>(run: &Run<'a>) -> Result<&'a str, ApplyError> {
    run.want
        .alarm_topic_arn
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApplyError::BadPlan("the alarm topic's ARN is not known".into()))
}

pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let client = &run.aws.sns;
    let arn = arn(run)?;
    let name = naming::alarm_topic_name(&run.want.name);
    let tags = desired::part_tags(run.want);
    let step = "creating the alarm topic";
    let exists = sns::exists(client, arn)
        .await
        .map_err(ApplyError::aws(step))?;
    if exists {
        let have = sns::tags(client, arn)
            .await
            .map_err(ApplyError::aws(step))?
            .unwrap_or_default();
        let ours = run
            .prior
            .is_some_and(|p| p.makes_alarm_topic() && p.name == run.want.name);
        if !ours {
            adopt_if_ours(format!("SNS topic {name:?}"), &have, &run.want.name)?;
            run.adopted(Part::AlarmTopic);
        }
        sns::sync_tags(client, arn, &have, &tags)
            .await
            .map_err(ApplyError::aws("tagging the alarm topic"))?;
    } else {
        let made = sns::create_topic(client, &name, &tags)
            .await
            .map_err(ApplyError::aws(step))?;
        run.made(Part::AlarmTopic);
        if made != arn {
            return Err(ApplyError::Aws {
                step,
                source: AwsError::Unexpected(format!(
                    "SNS made the topic {made}, not the planned {arn}"
                )),
            });
        }
    }
    subscribe(run).await
}

/// One email subscription per address of `alarms.emails`, confirmed or
/// waiting for confirmation; a confirmed one of an address no longer
/// listed is removed (SNS lets no one remove one not confirmed yet: it
/// lapses after three days).
pub async fn subscribe(run: &Run<'_>) -> Result<(), ApplyError> {
    let client = &run.aws.sns;
    let arn = arn(run)?;
    let step = "subscribing the alarm emails";
    let have = sns::subscriptions(client, arn)
        .await
        .map_err(ApplyError::aws(step))?
        .unwrap_or_default();
    let want = run
        .want
        .alarms
        .as_ref()
        .and_then(|a| a.emails.clone())
        .unwrap_or_default();
    for email in &want {
        if !have
            .iter()
            .any(|s| s.protocol == EMAIL && s.endpoint == *email)
        {
            sns::subscribe_email(client, arn, email)
                .await
                .map_err(ApplyError::aws(step))?;
        }
    }
    for s in have
        .iter()
        .filter(|s| s.protocol == EMAIL && s.confirmed() && !want.contains(&s.endpoint))
    {
        sns::unsubscribe(client, &s.arn)
            .await
            .map_err(ApplyError::aws("unsubscribing an alarm email"))?;
    }
    Ok(())
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let client = &run.aws.sns;
    let arn = arn(run)?;
    let step = "tagging the alarm topic";
    let have = sns::tags(client, arn)
        .await
        .map_err(ApplyError::aws(step))?
        .unwrap_or_default();
    sns::sync_tags(client, arn, &have, &desired::part_tags(run.want))
        .await
        .map_err(ApplyError::aws(step))
}

/// Deletes the topic with its subscriptions; the confirmed ones are named
/// in a warning, since their owners will hear nothing more. One already
/// gone is fine.
pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    let client = &run.aws.sns;
    let Some(arn) = run
        .want
        .alarm_topic_arn
        .as_deref()
        .filter(|a| !a.is_empty())
    else {
        return Ok(());
    };
    let step = run.step("deleting the alarm topic", "rolling back the alarm topic");
    let subs = sns::subscriptions(client, arn)
        .await
        .map_err(ApplyError::aws(step))?;
    let Some(subs) = subs else {
        run.removed([Part::AlarmTopic]);
        return Ok(());
    };
    let confirmed: Vec<String> = subs
        .iter()
        .filter(|s| s.confirmed())
        .map(|s| format!("{} ({})", s.endpoint, s.protocol))
        .collect();
    sns::delete_topic(client, arn)
        .await
        .map_err(ApplyError::aws(step))?;
    run.removed([Part::AlarmTopic]);
    if !confirmed.is_empty() {
        let topic = naming::alarm_topic_name(&run.want.name);
        run.update(|r| {
            r.warnings.push((
                "Alarm topic deleted with confirmed subscriptions".to_owned(),
                format!(
                    "The topic {topic} was deleted with {} confirmed subscription(s), which \
                     will receive no more alarms: {}.",
                    confirmed.len(),
                    confirmed.join(", ")
                ),
            ));
        });
    }
    Ok(())
}
