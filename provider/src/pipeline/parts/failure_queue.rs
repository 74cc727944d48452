//! The SQS queue failed events go to, when the pipeline makes it.

use tfsdk::access::Field;

use super::super::part::Part;
use super::super::step::{Change, Op};
use super::super::{naming, policy};
use super::{Converge, Merge, Plan};

/// A failure queue that goes (dropped, or made anew under a new name)
/// holds failed events no one has seen yet: unless `force_destroy` or
/// `on_failure.force_delete` allow deleting them, check it is empty
/// before anything changes.
pub fn check_empty(c: &mut Converge) {
    let drops = !c.wants(Part::FailureQueue) && c.had(Part::FailureQueue);
    let replaces = c.renamed.contains(Part::FailureQueue);
    if (drops || replaces) && !c.want.may_delete_failed_events(c.prior) {
        c.at.queue_check = Some(c.steps.add(Op::CheckQueueEmpty, []));
    }
}

/// Made, or retagged, beside everything else.
pub fn converge(c: &mut Converge) {
    c.at.failure_queue = if c.wants(Part::FailureQueue) {
        match c.make(Part::FailureQueue) {
            Some(op) => c.steps.chain([op], []),
            None if c.retag() => c
                .steps
                .chain([Op::Update(Part::FailureQueue, Change::Tags)], []),
            None => None,
        }
    } else {
        None
    };
}

/// A failure queue the pipeline no longer uses goes once nothing sends to
/// it: not the invoke config, the stream's mapping or the event queue's
/// redrive.
pub fn drop(c: &mut Converge) {
    if !c.wants(Part::FailureQueue) && c.had(Part::FailureQueue) {
        let at = &c.at;
        let after = [
            at.invoke_config,
            at.stream_mapping,
            at.event_queue,
            at.queue_check,
        ];
        c.steps.add(Op::Delete(Part::FailureQueue), after);
    }
}

/// The queue under its old name goes once nothing sends to it.
pub fn delete_old(c: &mut Converge) {
    if c.renamed.contains(Part::FailureQueue) {
        let at = &c.at;
        let after = [
            at.invoke_config,
            at.stream_mapping,
            at.event_queue,
            at.old_function,
            at.old_stream_mapping,
            at.old_event_queue_mapping,
            at.queue_check,
        ];
        c.steps.add(Op::DeleteOld(Part::FailureQueue), after);
    }
}

/// The queue's URL.
pub fn merge(m: &mut Merge) {
    if let Some(q) = &m.seen.queue {
        m.s.failure_queue_url = Some(q.url.clone());
    }
}

/// The queue failed events go to: the one `on_failure.queue_arn` names,
/// or the one the pipeline makes, named after `name`.
pub fn plan(p: &mut Plan) {
    let name = &p.config.name;
    (p.s.failure_queue_arn, p.s.failure_queue_url) = match &p.config.on_failure {
        Field::Null => (Field::Null, Field::Null),
        Field::Unknown => (Field::Unknown, Field::Unknown),
        Field::Known(f) => match &f.queue_arn {
            Field::Known(q) => (Field::Known(q.clone()), Field::Null),
            Field::Unknown => (Field::Unknown, Field::Unknown),
            Field::Null => {
                let arn = name
                    .clone()
                    .map(|n| policy::queue_arn(p.loc, &naming::failure_queue_name(&n)));
                // The URL is the queue's own answer; kept once known.
                let url = match p.same_identity.and_then(|p| p.failure_queue_url.clone()) {
                    Some(u) if !u.is_empty() && !p.renames(Part::FailureQueue) => Field::Known(u),
                    _ => Field::Unknown,
                };
                (arn, url)
            }
        },
    };
}
