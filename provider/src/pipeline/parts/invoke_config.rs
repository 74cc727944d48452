//! The function's asynchronous invoke configuration (retries, event age,
//! where failed events go).

use super::super::desired;
use super::super::part::Part;
use super::super::step::{Change, Op};
use super::{Converge, Merge};

/// Where failed events go, once the function and the queue are there;
/// deleted when `on_failure` goes.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let (function, queue) = (c.at.function, c.at.failure_queue);
    c.at.invoke_config = if want.on_failure.is_some() {
        let op = match (c.at.function_made, c.make(Part::InvokeConfig)) {
            (Some(_), _) => Some(Op::Create(Part::InvokeConfig)),
            (None, Some(op)) => Some(op),
            (None, None)
                if c.changed(|p| desired::invoke_config(p) != desired::invoke_config(want)) =>
            {
                Some(Op::Update(Part::InvokeConfig, Change::Settings))
            }
            (None, None) => None,
        };
        op.map(|op| c.steps.add(op, [function, queue]))
    } else if c.prior.is_some_and(|p| p.on_failure.is_some()) {
        Some(c.steps.add(Op::Delete(Part::InvokeConfig), [function]))
    } else {
        None
    };
}

/// Retries, event age and destination as Lambda has them.
pub fn merge(m: &mut Merge) {
    if let (Some(c), Some(f)) = (&m.seen.invoke_config, &mut m.s.on_failure) {
        f.maximum_retry_attempts = Some(i64::from(c.maximum_retry_attempts));
        f.maximum_event_age = Some(i64::from(c.maximum_event_age_s));
        m.s.failure_queue_arn = Some(c.on_failure.clone().unwrap_or_default());
    }
}
