//! The Kinesis stream the pipeline makes.

use tfsdk::access::Field;

use super::super::desired;
use super::super::part::Part;
use super::super::policy;
use super::super::step::{Change, Op};
use super::{Converge, Merge, Plan};

/// Made (also when the pipeline starts making it), or its settings and
/// tags updated, beside the chain.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    c.at.stream = if c.wants(Part::Stream) {
        match c.make(Part::Stream) {
            Some(op) if c.had(Part::Stream) || c.prior.is_none() => c.steps.chain([op], []),
            Some(_) => c.steps.chain([Op::Create(Part::Stream)], []),
            None => {
                let mut ops = Vec::new();
                if c.changed(|p| desired::stream(p) != desired::stream(want)) {
                    ops.push(Op::Update(Part::Stream, Change::Settings));
                }
                if c.retag() {
                    ops.push(Op::Update(Part::Stream, Change::Tags));
                }
                c.steps.chain(ops, [])
            }
        }
    } else {
        None
    };
}

/// A stream no longer wanted, or the one under the old name, goes once
/// its mapping has gone.
pub fn drop(c: &mut Converge) {
    let old_mapping = c.at.old_stream_mapping;
    if c.had(Part::Stream) && !c.wants(Part::Stream) {
        c.steps.add(Op::Delete(Part::Stream), [old_mapping]);
    }
    if c.renamed.contains(Part::Stream) {
        c.steps.add(Op::DeleteOld(Part::Stream), [old_mapping]);
    }
}

/// The retention and shards Kinesis has.
pub fn merge(m: &mut Merge) {
    if let (Some(k), Some(st)) = (&m.seen.stream, &mut m.s.stream) {
        st.retention_period = i64::from(k.retention_hours);
        // An on-demand stream has no shard count; one switched to shards
        // outside Terraform shows them.
        st.shard_count = k.shards.map(i64::from);
    }
}

/// The stream the function reads: the one `stream.arn` names, or the one
/// the pipeline makes, named `name`.
pub fn plan(p: &mut Plan) {
    let name = &p.config.name;
    (p.s.stream_arn, p.s.stream_name) = match &p.config.stream {
        Field::Null => (Field::Null, Field::Null),
        Field::Unknown => (Field::Unknown, Field::Unknown),
        Field::Known(st) => match &st.arn {
            Field::Known(a) => (
                Field::Known(a.clone()),
                Field::Known(a.rsplit('/').next().unwrap_or_default().to_owned()),
            ),
            Field::Null => (
                name.clone().map(|n| policy::stream_arn(p.loc, &n)),
                name.clone(),
            ),
            Field::Unknown => (Field::Unknown, Field::Unknown),
        },
    };
}
