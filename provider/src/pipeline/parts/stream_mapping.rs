//! Lambda reading the stream (an event source mapping).

use tfsdk::access::Field;

use super::super::desired;
use super::super::part::Part;
use super::super::state::{Known, State};
use super::super::step::{Change, Op};
use super::{Converge, Merge, Plan};

/// A mapping's source and starting position are set when it is made:
/// changing either makes it again, so the old one goes first (as does
/// one no longer wanted).
pub fn drop_old(c: &mut Converge) {
    let want = c.want;
    let position = |st: &State<Known>| st.stream.as_ref().map(|b| b.starting_position.clone());
    let goes = c.had(Part::StreamMapping)
        && (!c.wants(Part::StreamMapping)
            || c.changed(|p| p.stream_arn != want.stream_arn || position(p) != position(want)));
    c.at.old_stream_mapping = goes.then(|| c.steps.add(Op::Delete(Part::StreamMapping), []));
}

/// Made, made again, or its settings updated, once the function, the
/// stream, the policy and the failure queue (where failed batches go)
/// are there. A mapping on the old function goes once the new one reads.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let old = c.at.old_stream_mapping;
    c.at.stream_mapping = if c.wants(Part::StreamMapping) {
        let op = match c.make(Part::StreamMapping) {
            _ if old.is_some() || !c.had(Part::StreamMapping) => {
                Some(Op::Create(Part::StreamMapping))
            }
            Some(op) => Some(op),
            None if c.at.function_made.is_some() => Some(Op::Recreate(Part::StreamMapping)),
            None if c.changed(|p| desired::stream_mapping(p) != desired::stream_mapping(want)) => {
                Some(Op::Update(Part::StreamMapping, Change::Settings))
            }
            None => None,
        };
        let at = &c.at;
        let after = [at.function, at.stream, at.policy, old, at.failure_queue];
        op.map(|op| c.steps.add(op, after))
    } else {
        None
    };
    if old.is_none() && c.renamed.contains(Part::StreamMapping) {
        let mapping = c.at.stream_mapping;
        c.at.old_stream_mapping = Some(c.steps.add(Op::Delete(Part::StreamMapping), [mapping]));
    }
}

/// The mapping's id and settings as Lambda has them.
pub fn merge(m: &mut Merge) {
    let Some(mapping) = &m.seen.stream_mapping else {
        return;
    };
    m.s.stream_mapping_id = Some(mapping.uuid.clone());
    if let Some(st) = &mut m.s.stream {
        let ms = &mapping.settings;
        if let Some(p) = &ms.starting_position {
            st.starting_position.clone_from(p);
        }
        st.batch_size = i64::from(ms.batch_size);
        st.maximum_batching_window = i64::from(ms.maximum_batching_window_s);
        if let Some(p) = ms.parallelization_factor {
            st.parallelization_factor = i64::from(p);
        }
        if let Some(b) = ms.bisect_batch_on_function_error {
            st.bisect_batch_on_function_error = b;
        }
        if let Some(r) = ms.maximum_retry_attempts {
            st.maximum_retry_attempts = i64::from(r);
        }
        if let Some(a) = ms.maximum_record_age_s {
            st.maximum_record_age = i64::from(a);
        }
        st.report_batch_item_failures = ms.report_batch_item_failures;
    }
}

/// The mapping's id, kept while it reads the same stream from the same
/// position for the same function; made again (so unknown) otherwise.
pub fn plan(p: &mut Plan) {
    p.s.stream_mapping_id = match &p.config.stream {
        Field::Null => Field::Null,
        Field::Unknown => Field::Unknown,
        Field::Known(st) => {
            let arn = &p.s.stream_arn;
            let same_mapping = p.same_identity.is_some_and(|prior| {
                !p.renames(Part::Function)
                    && arn.as_known() == prior.stream_arn.as_ref()
                    && st.starting_position.as_known()
                        == prior.stream.as_ref().map(|b| &b.starting_position)
            });
            if same_mapping {
                p.keep(|prior| &prior.stream_mapping_id)
            } else {
                Field::Unknown
            }
        }
    };
}
