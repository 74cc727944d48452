//! The SQS queue S3 notifies with `delivery = "queue"`.

use tfsdk::access::Field;

use super::super::desired;
use super::super::part::Part;
use super::super::step::{Change, Op};
use super::super::{naming, policy};
use super::{Converge, Merge, Plan};

/// Made, or its settings and tags updated, after the failure queue its
/// redrive names.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let queue = c.at.failure_queue;
    c.at.event_queue = if c.wants(Part::EventQueue) {
        match c.make(Part::EventQueue) {
            _ if !c.had(Part::EventQueue) && c.prior.is_some() => {
                c.steps.chain([Op::Create(Part::EventQueue)], [queue])
            }
            Some(op) => c.steps.chain([op], [queue]),
            None => {
                let mut ops = Vec::new();
                if c.changed(|p| desired::event_queue(p) != desired::event_queue(want)) {
                    ops.push(Op::Update(Part::EventQueue, Change::Settings));
                }
                if c.retag() {
                    ops.push(Op::Update(Part::EventQueue, Change::Tags));
                }
                c.steps.chain(ops, [queue])
            }
        }
    } else {
        None
    };
}

/// The queue under its old name goes once the notification and the
/// mapping use the new one.
pub fn delete_old(c: &mut Converge) {
    if c.renamed.contains(Part::EventQueue) {
        let at = &c.at;
        let after = [at.event_queue, at.notification, at.old_event_queue_mapping];
        c.steps.add(Op::DeleteOld(Part::EventQueue), after);
    }
}

/// A queue no longer wanted goes after its mapping, if that is still
/// there. As for the mapping, the prior state may say direct delivery and
/// still record the queue.
pub fn drop(c: &mut Converge) {
    if c.had_or_left(Part::EventQueue) && !c.wants(Part::EventQueue) {
        let mapping = c.at.dropped_event_queue_mapping;
        c.steps.add(Op::Delete(Part::EventQueue), [mapping]);
    }
}

/// The queue's URL, visibility timeout and redrive as SQS has them.
pub fn merge(m: &mut Merge) {
    if let Some(q) = &m.seen.event_queue {
        m.s.event_queue_url = Some(q.url.clone());
        if let (Some(block), Some(v)) = (&mut m.s.queue, q.settings.visibility_timeout_s) {
            block.visibility_timeout = i64::from(v);
        }
        if let (Some(block), Some((_, n))) = (&mut m.s.queue, &q.settings.redrive) {
            block.max_receive_count = i64::from(*n);
        }
    }
}

/// With queue delivery: the queue named after `name`, its URL kept once
/// known, and a visibility timeout of six times the function's timeout
/// unless set.
pub fn plan(p: &mut Plan) {
    let name = &p.config.name;
    (p.s.event_queue_arn, p.s.event_queue_url) = match p.queued() {
        Some(false) => (Field::Null, Field::Null),
        None => (Field::Unknown, Field::Unknown),
        Some(true) => (
            name.clone()
                .map(|n| policy::queue_arn(p.loc, &naming::event_queue_name(&n))),
            if p.renames(Part::EventQueue) {
                Field::Unknown
            } else {
                p.keep(|prior| &prior.event_queue_url)
            },
        ),
    };
    if let (Field::Known(q), Field::Known(t)) = (&mut p.s.queue, &p.config.function.timeout)
        && q.visibility_timeout.is_null()
    {
        q.visibility_timeout = Field::Known(t * 6);
    }
}
