//! The function's CloudWatch Logs group, made before the function.

use tfsdk::access::Field;

use super::super::defaults::DEFAULT_RETENTION_DAYS;
use super::super::naming;
use super::super::part::Part;
use super::super::step::{Change, Op};
use super::{Converge, Merge, Plan};

/// Made, or its retention and tags updated, before the function (which
/// names it).
pub fn converge(c: &mut Converge) {
    let want = c.want;
    c.at.log_group = match c.make(Part::LogGroup) {
        Some(op) => c.steps.chain([op], []),
        None => {
            let mut ops = Vec::new();
            if c.changed(|p| p.log_group_retention_in_days != want.log_group_retention_in_days) {
                ops.push(Op::Update(Part::LogGroup, Change::Retention));
            }
            if c.retag() {
                ops.push(Op::Update(Part::LogGroup, Change::Tags));
            }
            c.steps.chain(ops, [])
        }
    };
}

/// The group under the function's old name goes after that function,
/// unless `logs.keep_on_destroy` keeps it.
pub fn delete_old(c: &mut Converge) {
    let keep_logs = c
        .prior
        .and_then(|p| p.logs.as_ref())
        .is_some_and(|l| l.keep_on_destroy);
    if c.renamed.contains(Part::LogGroup) && !keep_logs {
        let old_function = c.at.old_function;
        c.steps.add(Op::DeleteOld(Part::LogGroup), [old_function]);
    }
}

/// The retention the group has ("0 days" for one that never expires).
pub fn merge(m: &mut Merge) {
    if let Some(g) = &m.seen.log_group {
        m.s.log_group_retention_in_days = Some(g.retention_in_days.map_or(0, i64::from));
    }
}

/// The group is named after the function; its retention is the
/// configuration's or the default.
pub fn plan(p: &mut Plan) {
    p.s.log_group_name =
        p.s.function_name
            .clone()
            .map(|f| naming::log_group_name(&f));
    p.s.log_group_retention_in_days = match &p.config.logs {
        Field::Known(l) => l.retention_in_days.clone(),
        Field::Null => Field::Known(DEFAULT_RETENTION_DAYS),
        Field::Unknown => Field::Unknown,
    };
}
