//! The pipeline's CloudWatch alarms: each wanted one put when it is not
//! there or not as the plan wants it (an alarm of our name found on a
//! create is adopted when tagged ours, refused otherwise), tags brought to
//! the plan's, and our alarms of kinds no longer wanted deleted.

use std::collections::BTreeMap;

use crate::aws::cloudwatch::{self, Alarm};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::ownership::{OWNER_TAG, adopt_if_ours};
use super::super::part::Part;
use super::super::run::Run;

/// Each of the pipeline's alarms that exists (of every kind), with its tags.
async fn existing(run: &Run<'_>) -> Result<Vec<(Alarm, BTreeMap<String, String>)>, ApplyError> {
    let cw = &run.aws.cloudwatch;
    let step = run.step("reading the alarms", "rolling back the alarms");
    let names = desired::every_alarm_name(&run.want.name);
    let found = cloudwatch::alarms(cw, &names)
        .await
        .map_err(ApplyError::aws(step))?;
    let mut out = Vec::with_capacity(found.len());
    for a in found {
        let tags = cloudwatch::tags(cw, &a.arn)
            .await
            .map_err(ApplyError::aws(step))?
            .unwrap_or_default();
        out.push((a, tags));
    }
    Ok(out)
}

/// Puts the alarms the plan wants and deletes ours it no longer wants.
pub async fn put(run: &Run<'_>) -> Result<(), ApplyError> {
    let cw = &run.aws.cloudwatch;
    let want = desired::alarms(run.want);
    let tags = desired::part_tags(run.want);
    let found = existing(run).await?;
    // A kind the prior state had is the pipeline's already.
    let had: Vec<&str> = run.prior.map(|p| p.alarm_kinds()).unwrap_or_default();
    // Refused before anything is put: an alarm of our name that is not ours.
    for (kind, settings) in &want {
        let have = found.iter().find(|(a, _)| a.settings.name == settings.name);
        if let Some((_, have_tags)) = have
            && !had.contains(kind)
        {
            adopt_if_ours(
                format!("CloudWatch alarm {:?}", settings.name),
                have_tags,
                &run.want.name,
            )?;
            run.adopted(Part::Alarms);
        }
    }
    let step = "putting the alarms";
    for (_, settings) in &want {
        let have = found.iter().find(|(a, _)| a.settings.name == settings.name);
        match have {
            None => {
                cloudwatch::put_alarm(cw, settings, &tags)
                    .await
                    .map_err(ApplyError::aws(step))?;
                // Recorded at once: a roll-back removes what was put.
                run.made(Part::Alarms);
            }
            Some((a, have_tags)) => {
                if !desired::same_alarm(&a.settings, settings) {
                    cloudwatch::put_alarm(cw, settings, &tags)
                        .await
                        .map_err(ApplyError::aws(step))?;
                }
                if *have_tags != tags {
                    cloudwatch::sync_tags(cw, &a.arn, have_tags, &tags)
                        .await
                        .map_err(ApplyError::aws("tagging the alarms"))?;
                }
            }
        }
    }
    let unwanted: Vec<String> = found
        .iter()
        .filter(|(a, t)| {
            !want.iter().any(|(_, w)| w.name == a.settings.name) && is_ours(t, &run.want.name)
        })
        .map(|(a, _)| a.settings.name.clone())
        .collect();
    cloudwatch::delete_alarms(cw, &unwanted)
        .await
        .map_err(ApplyError::aws("deleting alarms no longer wanted"))
}

fn is_ours(tags: &BTreeMap<String, String>, pipeline: &str) -> bool {
    tags.get(OWNER_TAG).map(String::as_str) == Some(pipeline)
}

/// Brings the tags of the pipeline's alarms to the plan's.
pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let cw = &run.aws.cloudwatch;
    let tags = desired::part_tags(run.want);
    for (a, have) in existing(run).await? {
        if have != tags && is_ours(&have, &run.want.name) {
            cloudwatch::sync_tags(cw, &a.arn, &have, &tags)
                .await
                .map_err(ApplyError::aws("tagging the alarms"))?;
        }
    }
    Ok(())
}

/// Deletes the pipeline's alarms, of every kind: those tagged with its
/// name (someone else's alarm of the same name stays).
pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    let ours: Vec<String> = existing(run)
        .await?
        .into_iter()
        .filter(|(_, t)| is_ours(t, &run.want.name))
        .map(|(a, _)| a.settings.name)
        .collect();
    let step = run.step("deleting the alarms", "rolling back the alarms");
    cloudwatch::delete_alarms(&run.aws.cloudwatch, &ours)
        .await
        .map_err(ApplyError::aws(step))?;
    run.removed([Part::Alarms]);
    Ok(())
}
