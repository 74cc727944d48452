//! The vocabulary of an apply's decision: what one step does ([`Op`],
//! [`Change`]), the steps with what each waits for ([`Steps`]), and what is
//! known to exist when the apply starts ([`Facts`]). [`super::steps`] and
//! the per-part decisions in [`super::parts`] build [`Steps`] with it;
//! [`super::execute`] runs them.

use std::fmt;

use super::part::{Part, PartSet};
#[cfg(test)]
use super::state::{Known, State};

/// What an update changes on a part that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The tags (bucket, role, function).
    Tags,
    /// The bucket's TLS-only policy, on or off.
    TlsPolicy,
    /// The bucket's default encryption (`bucket_encryption`).
    Encryption,
    /// The function's configuration (memory, timeout, handler, …).
    Settings,
    /// The function's code.
    Code,
    /// The inline policy's document.
    Document,
    /// The bucket notification's triggers.
    Triggers,
    /// The invoke permission's statement (an adopted one is replaced by
    /// the pipeline's own, scoped to the bucket and account).
    Statement,
    /// The log group's retention.
    Retention,
    /// The function's reserved concurrency.
    Concurrency,
}

/// One thing an apply does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Make the part. Should one of its name exist already, it is adopted
    /// if its ownership tag names this pipeline (left by an interrupted
    /// run) and brought to the plan, and refused otherwise.
    Create(Part),
    /// Make again a part the prior state recorded but a refresh found gone.
    Recreate(Part),
    /// Make the pipeline's a part the state records but that does not
    /// carry its ownership tag yet: one taken over by `terraform import …
    /// adopt:`, or the bucket when `create_bucket` turns `true`.
    Adopt(Part),
    /// Let go of a part the pipeline keeps using but no longer manages:
    /// the bucket when `create_bucket` turns `false` (its tags go).
    Release(Part),
    /// Remove what an adopted part had that the pipeline replaced: the
    /// old invoke permission statement, once the new one and the
    /// notifications are in place.
    Retire(Part),
    /// Change one aspect of a part that exists.
    Update(Part, Change),
    /// Remove the part; a part already gone is fine. Removing the role
    /// removes its policy, the function its permission, the bucket the
    /// notifications on it.
    Delete(Part),
    /// Remove the part under the name the prior state records, once a
    /// part made under the pipeline's new name has taken its place (a
    /// change of `name` for a part that takes its name from it). As
    /// [`Op::Delete`]: a part already gone is fine.
    DeleteOld(Part),
    /// Zip the function's source (checking it is what was planned).
    BuildPackage,
    /// Build the function's container image onto its base (checking the
    /// source is what was planned), into an OCI layout.
    BuildImage,
    /// Push the image to its ECR repository (only the blobs it lacks).
    PushImage,
    /// At destroy: remove the image the pipeline pushed from a repository
    /// it was given (`image.repository_name`).
    RemoveImage,
    /// Put the package in S3 when it is over the direct-upload limit
    /// (known only once it is built; nothing to do otherwise).
    StagePackage,
    /// Once the code is deployed: delete the function's older staged
    /// packages (only when this run staged one).
    PruneStaged,
    /// With the function: delete its staged packages.
    DeleteStaged,
    /// Wait until a new function is Active.
    AwaitActive,
    /// Before a destroy: refuse, deleting nothing, when the bucket holds
    /// objects and `force_destroy` is off.
    CheckDeletable,
    /// Before an update that stops using the failure queue the pipeline
    /// made: refuse, changing nothing, while it holds failed events
    /// (unless `force_destroy` or `on_failure.force_delete` allow it).
    CheckQueueEmpty,
    /// Delete every object and object version in the bucket (taking the
    /// TLS-only policy off first, so it cannot stand in the way).
    EmptyBucket,
    /// Before anything changes: refuse, changing nothing, when the given
    /// `image.repository_name` does not exist.
    CheckRepository,
    /// Invoke the function for the objects already in the bucket that new
    /// triggers match (and what an earlier backfill left).
    Backfill,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create(p) => write!(f, "create {p}"),
            Op::Recreate(p) => write!(f, "re-create {p}"),
            Op::Adopt(p) => write!(f, "adopt {p}"),
            Op::Release(p) => write!(f, "let go of {p}"),
            Op::Retire(p) => write!(f, "retire the adopted {p}"),
            Op::Update(p, c) => write!(f, "update {p} ({c:?})"),
            Op::Delete(p) => write!(f, "delete {p}"),
            Op::DeleteOld(p) => write!(f, "delete {p} under its old name"),
            Op::BuildPackage => f.write_str("build the package"),
            Op::BuildImage => f.write_str("build the image"),
            Op::PushImage => f.write_str("push the image"),
            Op::RemoveImage => f.write_str("remove the pipeline's image from the repository"),
            Op::StagePackage => f.write_str("stage the package in S3 if it is large"),
            Op::PruneStaged => f.write_str("delete older staged packages"),
            Op::DeleteStaged => f.write_str("delete the staged packages"),
            Op::AwaitActive => f.write_str("wait for the function"),
            Op::CheckDeletable => f.write_str("check the bucket may be deleted"),
            Op::CheckQueueEmpty => f.write_str("check the failure queue is empty"),
            Op::EmptyBucket => f.write_str("empty the bucket"),
            Op::Backfill => f.write_str("backfill existing objects"),
            Op::CheckRepository => f.write_str("check the image repository exists"),
        }
    }
}

/// Index of a step in its [`Steps`].
pub type StepId = usize;

/// A step and the steps it waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub op: Op,
    pub after: Vec<StepId>,
}

/// The steps of one apply, in an order where every step comes after the
/// steps it waits for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Steps(pub Vec<Step>);

impl Steps {
    pub(super) fn add(
        &mut self,
        op: Op,
        after: impl IntoIterator<Item = Option<StepId>>,
    ) -> StepId {
        let mut after: Vec<StepId> = after.into_iter().flatten().collect();
        after.sort_unstable();
        after.dedup();
        self.0.push(Step { op, after });
        self.0.len() - 1
    }

    /// Adds `ops` one after the other, the first after `after`; returns the
    /// last one added (or the newest of `after` when `ops` is empty).
    pub(super) fn chain(
        &mut self,
        ops: impl IntoIterator<Item = Op>,
        after: impl IntoIterator<Item = Option<StepId>>,
    ) -> Option<StepId> {
        let mut after: Vec<Option<StepId>> = after.into_iter().collect();
        let mut last = None;
        for op in ops {
            let id = self.add(op, after.drain(..).chain([last]));
            last = Some(id);
        }
        last.or_else(|| after.into_iter().flatten().max())
    }

    #[cfg(test)]
    pub fn ops(&self) -> Vec<Op> {
        self.0.iter().map(|s| s.op).collect()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The step doing `op`, if there is one.
    #[cfg(test)]
    pub fn find(&self, op: Op) -> Option<StepId> {
        self.0.iter().position(|s| s.op == op)
    }

    /// Whether the step `a` waits, directly or through others, for the
    /// step `b`; panics when either is not in the list (for tests).
    #[cfg(test)]
    pub fn waits_for(&self, a: Op, b: Op) -> bool {
        let target = self
            .find(b)
            .unwrap_or_else(|| panic!("no {b} in {:?}", self.ops()));
        let mut todo = vec![
            self.find(a)
                .unwrap_or_else(|| panic!("no {a} in {:?}", self.ops())),
        ];
        while let Some(i) = todo.pop() {
            for &d in &self.0[i].after {
                if d == target {
                    return true;
                }
                todo.push(d);
            }
        }
        false
    }
}

/// What is known to exist when an apply starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Parts that exist: for an update, the ones the refresh found
    /// ([`State::present`]); for a create, none.
    pub present: PartSet,
    /// Parts that exist but do not carry the pipeline's ownership tag yet
    /// (taken over by `terraform import … adopt:`).
    pub unclaimed: PartSet,
    /// An earlier backfill stopped before it sent every object.
    pub backfill_pending: bool,
    /// The package may be over Lambda's direct-upload limit once built
    /// (`package::may_need_staging`): it gets a staging step.
    pub may_stage: bool,
}

#[cfg(test)]
impl Facts {
    /// Everything the state says exists, all of it the pipeline's.
    pub fn of(state: &State<Known>) -> Facts {
        Facts {
            present: state.present(),
            ..Facts::default()
        }
    }
}
