//! Lambda draining the event queue (an event source mapping).

use tfsdk::access::Field;

use super::super::desired;
use super::super::part::Part;
use super::super::step::{Change, Op};
use super::{Converge, Merge, Plan};

/// Made, made again for a new function, or its settings updated, once the
/// function, the queue and the policy are there.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    c.at.event_queue_mapping = if c.wants(Part::EventQueueMapping) {
        let op = match c.make(Part::EventQueueMapping) {
            _ if !c.had(Part::EventQueueMapping) && c.prior.is_some() => {
                Some(Op::Create(Part::EventQueueMapping))
            }
            Some(op) => Some(op),
            None if c.at.function_made.is_some() => Some(Op::Recreate(Part::EventQueueMapping)),
            None if c.changed(|p| desired::queue_mapping(p) != desired::queue_mapping(want)) => {
                Some(Op::Update(Part::EventQueueMapping, Change::Settings))
            }
            None => None,
        };
        let at = &c.at;
        let after = [at.function, at.event_queue, at.policy];
        op.map(|op| c.steps.add(op, after))
    } else {
        None
    };
}

/// The mapping on the old function goes once the new one and the
/// notification are in use.
pub fn delete_old(c: &mut Converge) {
    if c.renamed.contains(Part::EventQueueMapping) {
        let after = [c.at.event_queue_mapping, c.at.notification];
        c.at.old_event_queue_mapping =
            Some(c.steps.add(Op::Delete(Part::EventQueueMapping), after));
    }
}

/// A mapping no longer wanted goes once the notification no longer sends
/// to its queue. The prior state may say direct delivery and still record
/// the mapping: a switch that failed after the notification moved, read
/// back by the refresh.
pub fn drop(c: &mut Converge) {
    if c.had_or_left(Part::EventQueueMapping) && !c.wants(Part::EventQueueMapping) {
        let notification = c.at.notification;
        c.at.dropped_event_queue_mapping = Some(
            c.steps
                .add(Op::Delete(Part::EventQueueMapping), [notification]),
        );
    }
}

/// The mapping's id and settings as Lambda has them.
pub fn merge(m: &mut Merge) {
    let Some(mapping) = &m.seen.queue_mapping else {
        return;
    };
    m.s.queue_mapping_id = Some(mapping.uuid.clone());
    if let Some(block) = &mut m.s.queue {
        let ms = &mapping.settings;
        block.batch_size = i64::from(ms.batch_size);
        block.maximum_batching_window = i64::from(ms.maximum_batching_window_s);
        block.maximum_concurrency = ms.maximum_concurrency.map(i64::from);
        block.report_batch_item_failures = ms.report_batch_item_failures;
    }
}

/// The mapping's id, kept unless the queue or the function is made anew.
pub fn plan(p: &mut Plan) {
    p.s.queue_mapping_id = match p.queued() {
        Some(false) => Field::Null,
        None => Field::Unknown,
        Some(true) if p.renames(Part::EventQueue) || p.renames(Part::Function) => Field::Unknown,
        Some(true) => p.keep(|prior| &prior.queue_mapping_id),
    };
}
