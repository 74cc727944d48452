//! The CloudWatch alarms of the `alarms` block: those that fit the
//! pipeline's parts, put together (CloudWatch's `PutMetricAlarm` creates
//! or replaces), after the topic they notify.

use tfsdk::access::Field;
use tfsdk::diag::Diagnostic;

use super::super::part::Part;
use super::super::state::{AlarmsBlock, Planning, Tags, attr, path};
use super::super::step::{Change, Op};
use super::super::{desired, naming, policy};
use super::{Converge, Merge, Plan};

/// Put (made, or edited ones put back, or a changed block applied) once
/// the topic they notify is there; retagged beside.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let topic = c.at.alarm_topic;
    c.at.alarms = if c.wants(Part::Alarms) {
        match c.make(Part::Alarms) {
            Some(op) => c.steps.chain([op], [topic]),
            None => {
                let mut ops: Vec<Op> = c.claim(Part::Alarms).into_iter().collect();
                if c.changed(|p| desired::alarms(p) != desired::alarms(want)) {
                    ops.push(Op::Update(Part::Alarms, Change::Settings));
                } else if c.retag() {
                    ops.push(Op::Update(Part::Alarms, Change::Tags));
                }
                c.steps.chain(ops, [topic])
            }
        }
    } else {
        None
    };
}

/// Alarms no longer wanted (the block removed, or no kind fits any more)
/// go; those under the pipeline's old name once the new ones are put.
pub fn drop(c: &mut Converge) {
    if !c.wants(Part::Alarms) && c.had_or_left(Part::Alarms) {
        c.at.alarms = Some(c.steps.add(Op::Delete(Part::Alarms), []));
    }
    if c.renamed.contains(Part::Alarms) {
        let after = [c.at.alarms];
        c.at.alarms = Some(c.steps.add(Op::DeleteOld(Part::Alarms), after));
    }
}

/// The ARNs of the alarms CloudWatch holds as the plan wants them (the
/// same metric, threshold, actions and tags); an alarm deleted or edited
/// outside Terraform is left out, so the next plan shows it and the apply
/// puts it back.
pub fn merge(m: &mut Merge) {
    if m.state.alarms.is_none() {
        return;
    }
    // The tags this refresh records (the function's): an apply that failed
    // after retagging the function leaves the alarms to retag.
    let tags = desired::part_tags(&m.s);
    let arns: Tags = desired::alarms(m.state)
        .into_iter()
        .filter_map(|(kind, want)| {
            let have = m
                .seen
                .alarms
                .iter()
                .find(|a| a.alarm.settings.name == want.name)?;
            (desired::same_alarm(&have.alarm.settings, &want) && have.tags == tags)
                .then(|| (kind.to_owned(), have.alarm.arn.clone()))
        })
        .collect();
    m.s.alarm_arns = Some(arns);
}

/// Whether the kinds of alarm that fit are known, and which they are.
fn kinds(p: &Plan, a: &AlarmsBlock<Planning>) -> Option<Vec<&'static str>> {
    let present = |f: Field<()>| match f {
        Field::Known(()) => Some(true),
        Field::Null => Some(false),
        Field::Unknown => None,
    };
    let on_failure = present(p.config.on_failure.as_ref().map(|_| ()))?;
    let stream = present(p.config.stream.as_ref().map(|_| ()))?;
    let errors = present(a.error_rate_percent.as_ref().map(|_| ()))?;
    let queued = p
        .queued()
        .or(p.config.delivery.is_null().then_some(false))?;
    let failed = *a.failed_events.as_known()?;
    let throttles = *a.throttles.as_known()?;
    let [k_failed, k_errors, k_throttles, k_queue, k_iterator] = naming::ALARM_KINDS;
    Some(
        [
            (k_failed, failed && on_failure),
            (k_errors, errors),
            (k_throttles, throttles),
            (k_queue, queued),
            (k_iterator, stream),
        ]
        .into_iter()
        .filter_map(|(k, fits)| fits.then_some(k))
        .collect(),
    )
}

/// The topic's ARN (given, or the one the pipeline makes, known from the
/// account, region and name) and each alarm's, known from its name. A
/// given topic must be an SNS topic in the provider's region, and exactly
/// one of `topic_arn` and `emails` is set.
pub fn plan(p: &mut Plan) {
    let a = match &p.config.alarms {
        Field::Null => {
            (p.s.alarm_arns, p.s.alarm_topic_arn) = (Field::Null, Field::Null);
            return;
        }
        Field::Unknown => {
            (p.s.alarm_arns, p.s.alarm_topic_arn) = (Field::Unknown, Field::Unknown);
            return;
        }
        Field::Known(a) => a,
    };
    let loc = p.loc;
    let topic_problem = match (&a.topic_arn, &a.emails) {
        (Field::Known(_), Field::Known(_)) => Some((
            path::alarms(attr::TOPIC_ARN),
            "Both topic_arn and emails",
            "Set one of them: topic_arn for a topic of yours, or emails for the topic \
             <name>-alarms the pipeline makes.",
        )),
        (Field::Null, Field::Null) => Some((
            path::top(attr::ALARMS),
            "No topic for the alarms",
            "Set topic_arn to a topic of yours, or emails to have the pipeline make the topic \
             <name>-alarms with one email subscription each.",
        )),
        _ => None,
    };
    if let Some((at, summary, detail)) = topic_problem {
        p.diags.push(Diagnostic::error(summary, detail).at(at));
    }
    if let Field::Known(arn) = &a.topic_arn
        && let Some(region) = arn.split(':').nth(3)
        && region != loc.region
    {
        p.diags.push(
            Diagnostic::error(
                "Alarm topic in another region",
                format!(
                    "CloudWatch alarms can only notify a topic in their own region: the \
                     pipeline is in {}, and {arn:?} is in {region}. Use a topic in {}.",
                    loc.region, loc.region
                ),
            )
            .at(path::alarms(attr::TOPIC_ARN)),
        );
    }
    p.s.alarm_topic_arn = match (&a.topic_arn, &p.config.name) {
        (Field::Known(t), _) => Field::Known(t.clone()),
        (Field::Unknown, _) | (Field::Null, Field::Unknown) => Field::Unknown,
        (Field::Null, Field::Known(n)) => {
            Field::Known(policy::topic_arn(loc, &naming::alarm_topic_name(n)))
        }
        (Field::Null, Field::Null) => Field::Null,
    };
    let kinds = kinds(p, a);
    p.s.alarm_arns = match (kinds, &p.config.name) {
        (Some(kinds), Field::Known(n)) => Field::Known(
            kinds
                .into_iter()
                .map(|k| {
                    (
                        k.to_owned(),
                        policy::alarm_arn(loc, &naming::alarm_name(n, k)),
                    )
                })
                .collect(),
        ),
        _ => Field::Unknown,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::observed::{Alarm, AlarmFound, Observed};
    use crate::pipeline::part::PartSet;
    use crate::pipeline::private::Private;
    use crate::pipeline::state::tests::known_state;
    use crate::pipeline::state::{Known, OnFailure, State};
    use crate::pipeline::steps::{self, Facts};

    /// A pipeline with a failure queue and `alarms { emails = [...] }`, its
    /// ARNs filled in as a plan would.
    fn alarmed(name: &str) -> State<Known> {
        let mut s = known_state(name);
        s.on_failure = Some(OnFailure {
            maximum_retry_attempts: Some(2),
            maximum_event_age: Some(21_600),
            queue_arn: None,
            force_delete: false,
        });
        s.failure_queue_arn = Some(format!("arn:aws:sqs:us-east-1:123456789012:{name}-failed"));
        s.failure_queue_url = Some("https://sqs/x".into());
        s.alarms = Some(AlarmsBlock {
            topic_arn: None,
            emails: Some(vec!["oncall@example.com".into()]),
            failed_events: true,
            error_rate_percent: Some(5.0),
            throttles: true,
            queue_age_seconds: 300,
            iterator_age_seconds: 300,
        });
        desired::fill_alarm_arns(&mut s);
        s
    }

    #[test]
    fn only_the_kinds_that_fit_are_wanted() {
        let s = alarmed("orders");
        assert_eq!(
            s.alarm_kinds(),
            ["failed-events", "error-rate", "throttles"]
        );
        let arns = s.alarm_arns.clone().unwrap();
        assert_eq!(
            arns["throttles"],
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-throttles"
        );
        assert_eq!(
            s.alarm_topic_arn.as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:orders-alarms")
        );
        assert!(s.present().contains(Part::Alarms) && s.present().contains(Part::AlarmTopic));
        let mut off = s.clone();
        off.alarms.as_mut().unwrap().throttles = false;
        off.alarms.as_mut().unwrap().error_rate_percent = None;
        off.on_failure = None;
        assert!(off.alarm_kinds().is_empty());
        assert!(!off.wanted().contains(Part::Alarms));
    }

    #[test]
    fn a_create_makes_the_topic_before_the_alarms_and_a_roll_back_deletes_both() {
        let want = alarmed("orders");
        let s = steps::converge(&want, None, Facts::default());
        assert!(s.waits_for(Op::Create(Part::Alarms), Op::Create(Part::AlarmTopic)));
        let undo = steps::roll_back(PartSet::from([Part::Alarms, Part::AlarmTopic]));
        assert!(undo.waits_for(Op::Delete(Part::AlarmTopic), Op::Delete(Part::Alarms)));
        let d = steps::destroy(&want);
        assert!(d.waits_for(Op::Delete(Part::AlarmTopic), Op::Delete(Part::Alarms)));
    }

    #[test]
    fn a_changed_threshold_puts_the_alarms_and_a_removed_block_deletes_them() {
        let prior = alarmed("orders");
        let mut want = prior.clone();
        want.alarms.as_mut().unwrap().error_rate_percent = Some(10.0);
        let s = steps::converge(&want, Some(&prior), Facts::of(&prior));
        assert_eq!(s.ops(), [Op::Update(Part::Alarms, Change::Settings)]);
        let unchanged = steps::converge(&prior, Some(&prior), Facts::of(&prior));
        assert!(unchanged.is_empty(), "{:?}", unchanged.ops());
        let mut gone = prior.clone();
        gone.alarms = None;
        desired::fill_alarm_arns(&mut gone);
        let s = steps::converge(&gone, Some(&prior), Facts::of(&prior));
        assert!(s.waits_for(Op::Delete(Part::AlarmTopic), Op::Delete(Part::Alarms)));
    }

    #[test]
    fn a_new_name_puts_the_alarms_and_topic_anew_and_deletes_the_old_ones_after() {
        let prior = alarmed("orders");
        let mut want = alarmed("billing");
        want.function_name = prior.function_name.clone();
        want.role_name = prior.role_name.clone();
        want.log_group_name = prior.log_group_name.clone();
        let s = steps::converge(&want, Some(&prior), Facts::of(&prior));
        for (new, old) in [
            (Op::Recreate(Part::Alarms), Op::DeleteOld(Part::Alarms)),
            (
                Op::Recreate(Part::AlarmTopic),
                Op::DeleteOld(Part::AlarmTopic),
            ),
        ] {
            assert!(s.waits_for(old, new), "{old} after {new}: {:?}", s.ops());
        }
        assert!(s.waits_for(Op::DeleteOld(Part::AlarmTopic), Op::DeleteOld(Part::Alarms)));
    }

    #[test]
    fn an_alarm_deleted_or_edited_outside_terraform_leaves_alarm_arns() {
        let state = alarmed("orders");
        let tags = desired::part_tags(&state);
        let mut alarms: Vec<AlarmFound> = desired::alarms(&state)
            .into_iter()
            .map(|(kind, settings)| AlarmFound {
                alarm: Alarm {
                    arn: state.alarm_arns.as_ref().unwrap()[kind].clone(),
                    settings,
                    state: "OK".into(),
                },
                tags: tags.clone(),
            })
            .collect();
        let seen = |alarms: Vec<AlarmFound>| Observed {
            found: state.wanted(),
            alarms,
            ..Observed::default()
        };
        let mut m = Merge {
            s: state.clone(),
            state: &state,
            seen: &seen(Vec::new()),
            private: &Private::default(),
        };
        merge(&mut m);
        assert!(m.s.alarm_arns.as_ref().unwrap().is_empty());
        // One edited, one deleted: only the third is as planned.
        alarms[0].alarm.settings.threshold = 7.0;
        alarms.remove(1);
        let observed = seen(alarms);
        let mut m = Merge {
            s: state.clone(),
            state: &state,
            seen: &observed,
            private: &Private::default(),
        };
        merge(&mut m);
        let arns = m.s.alarm_arns.clone().unwrap();
        assert_eq!(arns.keys().collect::<Vec<_>>(), ["throttles"]);
        assert!(!m.s.present().contains(Part::Alarms));
        let s = steps::converge(&state, Some(&m.s), Facts::of(&m.s));
        assert_eq!(s.ops(), [Op::Recreate(Part::Alarms)]);
    }
}
