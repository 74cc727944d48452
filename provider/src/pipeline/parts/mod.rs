//! The decisions of each part, one file per [`Part`]: how it converges
//! (the steps an apply takes for it), how a refresh writes what AWS holds
//! of it into the state (`merge`), and what a plan derives for it
//! (`plan`), where it has any. `steps::converge`, `refresh::merge` and
//! `plan::plan` are lists of these functions; a new part is a new file
//! here plus its line in each list.
//!
//! Each decision reads and writes one of three contexts: [`Converge`],
//! [`Merge`] and [`Plan`]. All of them are pure: nothing asynchronous, no AWS call.

pub mod alarm_topic;
pub mod alarms;
pub mod bucket;
pub mod event_queue;
pub mod event_queue_mapping;
pub mod failure_queue;
pub mod function;
pub mod invoke_config;
pub mod log_group;
pub mod notification;
pub mod permission;
pub mod policy;
pub mod repository;
pub mod role;
pub mod stream;
pub mod stream_mapping;

use tfsdk::access::Field;
use tfsdk::diag::Diagnostics;

use super::desired;
use super::observed::Observed;
use super::package::Build;
use super::part::{Part, PartSet};
use super::policy::Location;
use super::private::Private;
use super::state::{DELIVERY_QUEUE, Known, Planning, State};
use super::step::{Facts, Op, StepId, Steps};

/// What the converge decisions of one apply share: the states, the facts,
/// the steps decided so far and the ones later parts wait for.
pub struct Converge<'a> {
    pub want: &'a State<Known>,
    /// The state Terraform recorded (none for a create).
    pub prior: Option<&'a State<Known>>,
    pub facts: Facts,
    /// Parts named after a changed `name`, made anew under the new one
    /// (`steps::renamed`).
    pub renamed: PartSet,
    /// What exists and keeps its name: the facts' parts, less `renamed`.
    present: PartSet,
    pub steps: Steps,
    pub at: At,
}

/// The steps (and the ways of making) that later decisions wait for or
/// look at; `None` when this apply has none.
#[derive(Default)]
pub struct At {
    /// The check that the failure queue is empty: every other step waits
    /// for it.
    pub queue_check: Option<StepId>,
    /// The check that a given `image.repository_name` exists: every other
    /// step waits for it too.
    pub repository_check: Option<StepId>,
    pub bucket: Option<StepId>,
    /// How the bucket is made, when it is.
    pub bucket_made: Option<Op>,
    pub role: Option<StepId>,
    /// How the role is made, when it is.
    pub role_made: Option<Op>,
    pub policy: Option<StepId>,
    pub log_group: Option<StepId>,
    pub failure_queue: Option<StepId>,
    pub function: Option<StepId>,
    /// How the function is made, when it is.
    pub function_made: Option<Op>,
    /// The wait for a function made by this apply to become Active.
    pub active: Option<StepId>,
    pub invoke_config: Option<StepId>,
    pub permission: Option<StepId>,
    /// What happens to the permission.
    pub permission_op: Option<Op>,
    pub stream: Option<StepId>,
    pub stream_mapping: Option<StepId>,
    /// The deletion of a stream mapping that is no longer wanted, reads
    /// another stream, or reads for the function's old name.
    pub old_stream_mapping: Option<StepId>,
    pub event_queue: Option<StepId>,
    pub event_queue_mapping: Option<StepId>,
    /// The deletion of the event queue's mapping on the old function.
    pub old_event_queue_mapping: Option<StepId>,
    /// The deletion of an event queue mapping no longer wanted.
    pub dropped_event_queue_mapping: Option<StepId>,
    pub notification: Option<StepId>,
    /// The image repository the pipeline makes.
    pub repository: Option<StepId>,
    /// The build of the function's package or image, when this apply
    /// builds one.
    pub build: Option<StepId>,
    /// The deletion of the function under its old name.
    pub old_function: Option<StepId>,
    /// The alarms' topic the pipeline makes.
    pub alarm_topic: Option<StepId>,
    /// The alarms put (or deleted).
    pub alarms: Option<StepId>,
}

impl<'a> Converge<'a> {
    pub fn new(
        want: &'a State<Known>,
        prior: Option<&'a State<Known>>,
        facts: Facts,
        renamed: PartSet,
    ) -> Converge<'a> {
        Converge {
            want,
            prior,
            facts,
            renamed,
            // Parts named after a changed `name` are made anew, as if gone.
            present: facts.present.minus(renamed),
            steps: Steps::default(),
            at: At::default(),
        }
    }

    /// How `part` comes to exist in this apply, if it has to.
    pub fn make(&self, part: Part) -> Option<Op> {
        match (self.prior, self.present.contains(part)) {
            (None, _) => Some(Op::Create(part)),
            (Some(_), false) => Some(Op::Recreate(part)),
            (Some(_), true) => None,
        }
    }

    /// Whether there is a prior state and `f` holds of it.
    pub fn changed(&self, f: impl FnOnce(&State<Known>) -> bool) -> bool {
        self.prior.is_some_and(f)
    }

    /// Taking `part` over, when it does not carry the ownership tag yet.
    pub fn claim(&self, part: Part) -> Option<Op> {
        self.facts
            .unclaimed
            .contains(part)
            .then_some(Op::Adopt(part))
    }

    /// The tags every part carries (the user's, and the pipeline's name)
    /// changed.
    pub fn retag(&self) -> bool {
        self.changed(|p| desired::part_tags(p) != desired::part_tags(self.want))
    }

    /// The plan wants `part`.
    pub fn wants(&self, part: Part) -> bool {
        self.want.wanted().contains(part)
    }

    /// The prior state wanted `part`.
    pub fn had(&self, part: Part) -> bool {
        self.prior.is_some_and(|p| p.wanted().contains(part))
    }

    /// The prior state wanted `part` or still records it as existing. A
    /// switch of delivery that failed after the notification moved leaves
    /// both: the refresh reads the new delivery from the bucket, while the
    /// old way in is still there and recorded.
    pub fn had_or_left(&self, part: Part) -> bool {
        self.had(part) || self.prior.is_some_and(|p| p.present().contains(part))
    }
}

/// What a refresh's merge decisions share: the state being written, the
/// state it started from, what AWS holds and the private data.
pub struct Merge<'a> {
    pub s: State<Known>,
    pub state: &'a State<Known>,
    pub seen: &'a Observed,
    pub private: &'a Private,
}

/// `actual`, or `prior` when it means the same (an absent value and an
/// empty one are the same to AWS).
pub fn keep_or<T: Default + PartialEq>(prior: &Option<T>, actual: T) -> Option<T> {
    match prior {
        None if actual == T::default() => None,
        _ => Some(actual),
    }
}

/// What a plan's decisions share: where the pipeline goes, the
/// configuration, the prior state when its identity stays, and the
/// planned state being written.
pub struct Plan<'a> {
    pub loc: &'a Location,
    /// The customer-managed keys the role needs, as the plan's looks found.
    pub keys: &'a super::policy::KeyGrants,
    /// The configuration, with the schema's defaults filled in.
    pub config: &'a State<Planning>,
    /// The prior state, when no identity attribute changes.
    pub same_identity: Option<&'a State<Known>>,
    /// The parts a new `name` makes anew under it.
    pub renamed: PartSet,
    /// The scan of `source_dir` and the dependencies it declares.
    pub build: &'a Build,
    pub s: State<Planning>,
    pub diags: Diagnostics,
}

impl Plan<'_> {
    /// A changed `name` makes `part` anew.
    pub fn renames(&self, part: Part) -> bool {
        self.renamed.contains(part)
    }

    /// `delivery = "queue"`, when the delivery is known.
    pub fn queued(&self) -> Option<bool> {
        self.config.delivery.as_known().map(|d| d == DELIVERY_QUEUE)
    }

    /// What the prior state (same identity) records in `f`, unknown when
    /// it records nothing.
    pub fn keep(&self, f: fn(&State<Known>) -> &Option<String>) -> Field<String> {
        match self.same_identity.map(f) {
            Some(Some(v)) if !v.is_empty() => Field::Known(v.clone()),
            _ => Field::Unknown,
        }
    }
}
