//! The pipeline's notification configurations on the bucket, and the
//! backfill of the objects already there.

use tfsdk::access::Field;

use super::super::naming;
use super::super::observed::{Destination, Trigger as Found};
use super::super::part::Part;
use super::super::state::{DELIVERY_DIRECT, DELIVERY_QUEUE, Known, State, Trigger};
use super::super::step::{Change, Op};
use super::{Converge, Merge, Plan, keep_or};

/// Written once what it points at is there: made, or rewritten when the
/// triggers change, when the bucket or the function is made anew (the
/// bucket has none; the old ones named a gone function), or when the
/// event queue is.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let triggers_changed = c.changed(|p| {
        p.notification_ids != want.notification_ids
            || p.delivery != want.delivery
            || p.trigger.len() != want.trigger.len()
            || p.trigger
                .iter()
                .zip(&want.trigger)
                .any(|(a, b)| !a.same_as(b))
    });
    let rewrite = Some(Op::Update(Part::Notification, Change::Triggers));
    let op = match c.make(Part::Notification) {
        Some(op) => Some(op),
        None if triggers_changed => rewrite,
        None if c.at.bucket_made.is_some() || c.at.function_made.is_some() => rewrite,
        None if c.make(Part::EventQueue).is_some() && c.wants(Part::EventQueue) => rewrite,
        None => None,
    };
    let at = &c.at;
    let after = [
        at.bucket,
        at.function,
        at.permission,
        at.event_queue,
        at.event_queue_mapping,
    ];
    c.at.notification = op.map(|op| c.steps.add(op, after));
}

/// Existing objects, once the notification catches new ones: for a new
/// pipeline or new triggers, or what an earlier backfill left.
pub fn backfill(c: &mut Converge) {
    if c.want.backfill && (new_triggers(c.want, c.prior) || c.facts.backfill_pending) {
        let at = &c.at;
        let after = [at.notification, at.active, at.function];
        c.steps.add(Op::Backfill, after);
    }
}

/// Whether `want` has a trigger `prior` does not (every trigger of a new
/// pipeline is new).
pub fn new_triggers(want: &State<Known>, prior: Option<&State<Known>>) -> bool {
    let Some(prior) = prior else {
        return !want.trigger.is_empty();
    };
    want.trigger
        .iter()
        .any(|t| !prior.trigger.iter().any(|p| p.same_as(t)))
}

/// The delivery and the triggers as the bucket has them.
pub fn merge(m: &mut Merge) {
    let (state, seen, s) = (m.state, m.seen, &mut m.s);
    // Where the notifications point says how events are delivered: a
    // switch that stopped half-way, or a notification re-pointed by hand,
    // shows as a change of `delivery`.
    let to_queue = |t: &Found| matches!(t.target, Destination::Queue(_));
    let to_function = |t: &Found| matches!(t.target, Destination::Function(_));
    if !seen.triggers.is_empty() {
        if seen.triggers.iter().all(to_queue) {
            s.delivery = DELIVERY_QUEUE.to_owned();
        } else if seen.triggers.iter().all(to_function) {
            s.delivery = DELIVERY_DIRECT.to_owned();
        }
    }

    // Triggers as the bucket has them, in the state's order (our ids by
    // their index, adopted ones as the state lists them), keeping the
    // prior state's way of saying "no filter".
    let mut triggers = seen.triggers.clone();
    triggers.sort_by_key(|t| {
        let recorded = state.notification_ids.iter().position(|i| *i == t.id);
        let own = naming::own_notification_index(&state.name, &t.id);
        (recorded.is_none(), recorded, own)
    });
    s.notification_ids = triggers.iter().map(|t| t.id.clone()).collect();
    s.trigger = triggers
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let prior = state.trigger.get(i);
            let keep = |p: Option<&Option<String>>, actual: Option<String>| {
                let actual = actual.unwrap_or_default();
                match p {
                    Some(p) if p.as_deref().unwrap_or("") == actual => p.clone(),
                    Some(_) => Some(actual),
                    None => keep_or(&None, actual),
                }
            };
            Trigger {
                events: t.events,
                filter_prefix: keep(prior.map(|p| &p.filter_prefix), t.prefix),
                filter_suffix: keep(prior.map(|p| &p.filter_suffix), t.suffix),
            }
        })
        .collect();
}

/// One notification id per trigger, named after the pipeline.
pub fn plan(p: &mut Plan) {
    p.s.notification_ids = match (&p.config.name, &p.config.trigger) {
        (Field::Known(n), Field::Known(t)) => Field::Known(
            (0..t.len())
                .map(|i| naming::notification_id(n, i))
                .collect(),
        ),
        _ => Field::Unknown,
    };
}
