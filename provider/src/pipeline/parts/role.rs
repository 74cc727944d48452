//! The function's IAM execution role.

use tfsdk::access::Field;

use super::super::part::Part;
use super::super::step::{Change, Op};
use super::super::{naming, policy};
use super::{Converge, Plan};

/// Made, adopted, or retagged.
pub fn converge(c: &mut Converge) {
    let made = c.make(Part::Role);
    c.at.role_made = made;
    c.at.role = match (made, c.claim(Part::Role)) {
        (Some(op), _) | (None, Some(op)) => c.steps.chain([op], []),
        (None, None) if c.retag() => c.steps.chain([Op::Update(Part::Role, Change::Tags)], []),
        (None, None) => None,
    };
}

/// The role under its old name goes once the function uses the new one.
pub fn delete_old(c: &mut Converge) {
    if c.renamed.contains(Part::Role) {
        let at = &c.at;
        let after = [at.function, at.old_function, at.policy];
        c.steps.add(Op::DeleteOld(Part::Role), after);
    }
}

/// The role's name (kept, given, or derived from `name`) and ARN.
pub fn plan(p: &mut Plan) {
    let (config, name) = (p.config, &p.config.name);
    p.s.role_name = match (&config.role_name, p.same_identity) {
        (Field::Null, Some(prior)) if !p.renames(Part::Role) => {
            Field::Known(prior.role_name.clone())
        }
        (Field::Null, _) => name.clone().map(|n| naming::role_name(&n)),
        (given, _) => given.clone(),
    };
    // A role that exists keeps the ARN IAM gave it: one taken over by an
    // import may sit under a path (`role/service-role/<name>`), which the
    // name alone does not tell.
    p.s.role_arn = match (p.same_identity, &p.s.role_name) {
        (Some(prior), Field::Known(r)) if *r == prior.role_name && !prior.role_arn.is_empty() => {
            Field::Known(prior.role_arn.clone())
        }
        _ => p.s.role_name.clone().map(|r| policy::role_arn(p.loc, &r)),
    };
}
