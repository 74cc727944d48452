//! The role's inline least-privilege policy (`policy_json`).

use tfsdk::access::Field;

use super::super::part::Part;
use super::super::policy;
use super::super::step::{Change, Op};
use super::{Converge, Merge, Plan};

/// Made with its role, or its document updated, after the role.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let op = match (c.at.role_made, c.make(Part::Policy)) {
        (Some(Op::Recreate(_)), _) => Some(Op::Recreate(Part::Policy)),
        (Some(_), _) => Some(Op::Create(Part::Policy)),
        (None, Some(op)) => Some(op),
        (None, None) if c.changed(|p| p.policy_json != want.policy_json) => {
            Some(Op::Update(Part::Policy, Change::Document))
        }
        (None, None) => None,
    };
    let role = c.at.role;
    c.at.policy = op.map(|op| c.steps.add(op, [role]));
}

/// The document IAM has, unless it means what the state records; none
/// without a role.
pub fn merge(m: &mut Merge) {
    if m.seen.found.contains(Part::Role) {
        let actual = m.seen.policy.clone().unwrap_or_default();
        if !same_json(&m.state.policy_json, &actual) {
            m.s.policy_json = actual;
        }
    } else {
        m.s.mark_missing(Part::Policy);
    }
}

/// Two policy texts with the same meaning (IAM may reformat JSON).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The exact inline policy the role gets, once every name it scopes is
/// known: after the bucket, function, queues and stream are planned.
pub fn plan(p: &mut Plan) {
    let config = p.config;
    let prefixes: Field<Vec<Option<String>>> = match &config.trigger {
        Field::Known(triggers) => {
            let mut all = Vec::with_capacity(triggers.len());
            let mut unknown = false;
            for t in triggers {
                match &t.filter_prefix {
                    Field::Known(p) => all.push(Some(p.clone())),
                    Field::Null => all.push(None),
                    Field::Unknown => unknown = true,
                }
            }
            if unknown {
                Field::Unknown
            } else {
                Field::Known(all)
            }
        }
        Field::Null => Field::Known(Vec::new()),
        Field::Unknown => Field::Unknown,
    };
    let allow_put = match &config.stream {
        Field::Known(st) => st.allow_put_records.clone(),
        _ => Field::Known(false),
    };
    let s = &p.s;
    p.s.policy_json = match (
        &s.bucket_name,
        &s.function_name,
        &prefixes,
        &config.output_prefix,
        &s.failure_queue_arn,
        &s.stream_arn,
        &allow_put,
        &s.event_queue_arn,
    ) {
        (
            Field::Known(b),
            Field::Known(f),
            Field::Known(pre),
            out,
            queue,
            stream,
            Field::Known(put),
            events,
        ) if !out.is_unknown()
            && !queue.is_unknown()
            && !stream.is_unknown()
            && !events.is_unknown() =>
        {
            Field::Known(policy::inline_policy(
                p.loc,
                b,
                f,
                pre,
                policy::Extras {
                    output_prefix: out.as_known().map(String::as_str),
                    failure_queue: queue.as_known().map(String::as_str),
                    stream: stream.as_known().map(|a| (a.as_str(), *put)),
                    event_queue: events.as_known().map(String::as_str),
                    keys: p.keys,
                },
            ))
        }
        _ => Field::Unknown,
    };
}
