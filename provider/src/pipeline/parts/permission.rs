//! The permission that lets S3 invoke the function (none with queue
//! delivery: S3 then notifies the event queue).

use tfsdk::access::Field;

use super::super::naming;
use super::super::part::Part;
use super::super::step::{Change, Op};
use super::{Converge, Merge, Plan};

/// Made with the function or on its own, or its statement replaced, as
/// soon as the function is there.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let op = if !c.wants(Part::Permission) {
        None
    } else {
        match (c.at.function_made, c.make(Part::Permission)) {
            (Some(Op::Recreate(_)), _) => Some(Op::Recreate(Part::Permission)),
            (Some(_), _) => Some(Op::Create(Part::Permission)),
            (None, _) if c.prior.is_some() && !c.had(Part::Permission) => {
                Some(Op::Create(Part::Permission))
            }
            (None, Some(op)) => Some(op),
            (None, None) if c.changed(|p| p.s3_permission_id != want.s3_permission_id) => {
                Some(Op::Update(Part::Permission, Change::Statement))
            }
            (None, None) => None,
        }
    };
    c.at.permission_op = op;
    let function = c.at.function;
    c.at.permission = op.map(|op| c.steps.add(op, [function]));
}

/// An adopted permission statement goes once the new one is in use.
pub fn retire(c: &mut Converge) {
    if matches!(c.at.permission_op, Some(Op::Update(_, Change::Statement))) {
        let after = [c.at.permission, c.at.notification];
        c.steps.add(Op::Retire(Part::Permission), after);
    }
}

/// The old way in (direct delivery) goes only once the new one is in use.
/// The prior state may say queue delivery and still record the statement:
/// a switch that failed after the notification moved.
pub fn drop(c: &mut Converge) {
    if c.had_or_left(Part::Permission) && !c.wants(Part::Permission) {
        let notification = c.at.notification;
        c.steps.add(Op::Delete(Part::Permission), [notification]);
    }
}

/// Without the function there is no permission on it. A statement found
/// where the state records none (queue delivery, after a switch that failed
/// before the statement went) is recorded, so the next apply deletes it.
pub fn merge(m: &mut Merge) {
    if m.seen.function.is_none() {
        m.s.mark_missing(Part::Permission);
    } else if m.seen.found.contains(Part::Permission) && m.s.s3_permission_id.is_empty() {
        m.s.s3_permission_id = naming::PERMISSION_SID.to_owned();
    }
}

/// The statement's id; none with queue delivery.
pub fn plan(p: &mut Plan) {
    p.s.s3_permission_id = match p.queued() {
        Some(true) => Field::Known(String::new()),
        _ => Field::Known(naming::PERMISSION_SID.to_owned()),
    };
}
