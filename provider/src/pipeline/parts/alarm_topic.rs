//! The SNS topic the pipeline makes for `alarms.emails` (`<name>-alarms`),
//! with one email subscription per address.

use super::super::desired;
use super::super::part::Part;
use super::super::step::{Change, Op};
use super::{Converge, Merge};

/// Made, or its subscriptions brought to `alarms.emails`, or retagged,
/// before the alarms that notify it.
pub fn converge(c: &mut Converge) {
    let emails = |s: &super::super::state::State<super::super::state::Known>| {
        s.alarms.as_ref().and_then(|a| a.emails.clone())
    };
    let want = c.want;
    c.at.alarm_topic = if c.wants(Part::AlarmTopic) {
        match c.make(Part::AlarmTopic) {
            Some(op) => c.steps.chain([op], []),
            None => {
                let mut ops: Vec<Op> = c.claim(Part::AlarmTopic).into_iter().collect();
                if c.changed(|p| emails(p) != emails(want)) {
                    ops.push(Op::Update(Part::AlarmTopic, Change::Settings));
                }
                if c.retag() {
                    ops.push(Op::Update(Part::AlarmTopic, Change::Tags));
                }
                c.steps.chain(ops, [])
            }
        }
    } else {
        None
    };
}

/// A topic no longer wanted (the block removed, or switched to a
/// `topic_arn`) goes once no alarm notifies it; one under the pipeline's
/// old name likewise.
pub fn drop(c: &mut Converge) {
    let alarms = c.at.alarms;
    if !c.wants(Part::AlarmTopic) && c.had_or_left(Part::AlarmTopic) {
        c.steps.add(Op::Delete(Part::AlarmTopic), [alarms]);
    }
    if c.renamed.contains(Part::AlarmTopic) {
        c.steps.add(Op::DeleteOld(Part::AlarmTopic), [alarms]);
    }
}

/// The addresses subscribed (confirmed or waiting for confirmation), in the
/// order the configuration lists them (and tags as the plan's): one unsubscribed outside Terraform
/// is left out, so the next plan shows it and the apply subscribes it again.
pub fn merge(m: &mut Merge) {
    let Some(topic) = &m.seen.alarm_topic else {
        return;
    };
    // Tags changed outside Terraform, or left behind by an apply that
    // failed after retagging the function: compared with the tags this
    // refresh records (the function's), and shown as missing when they
    // differ, so the apply puts them back (the topic found is ours by the
    // state).
    if topic.tags != desired::part_tags(&m.s) {
        m.s.mark_missing(Part::AlarmTopic);
    }
    if let Some(a) = &mut m.s.alarms
        && let Some(emails) = &mut a.emails
    {
        emails.retain(|e| topic.emails.iter().any(|s| s == e));
    }
}
