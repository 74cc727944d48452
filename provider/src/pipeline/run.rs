//! What every step's AWS operation shares while steps run: the clients,
//! the states, and a [`Record`] of what this run made, adopted and
//! removed, which the caller turns into the state to record.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use crate::aws::AwsClients;

use super::context::Context;
use super::errors::ApplyError;
use super::package::Package;
use super::part::{Part, PartSet};
use super::policy;
use super::private::{Backfill, Private};
use super::state::{Known, State};

/// Why the steps run; it names the steps' errors ("deleting the role",
/// "rolling back the role").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Create or update towards the plan.
    Converge,
    /// Destroy the pipeline.
    Destroy,
    /// Undo what a failed create made.
    RollBack,
}

/// What the run did, as it did it.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// Parts this run made or adopted: a failed create rolls them back.
    pub made: PartSet,
    /// Parts found (left by an interrupted run) and adopted.
    pub adopted: PartSet,
    /// Parts a teardown removed.
    pub removed: PartSet,
    /// The bucket was made by this run: it holds no one else's
    /// notifications, so they are written without reading them first.
    pub bucket_new: bool,
    /// Whether the bucket exists, when a destroy has looked.
    pub bucket_exists: Option<bool>,
    /// The TLS-only bucket policy is already off (emptying took it off).
    pub bucket_policy_removed: bool,
    /// The package built for the function.
    pub package: Option<Arc<Package>>,
    /// The function's image, built into a layout (`package_type = "image"`).
    pub image: Option<Arc<super::ops::image::Built>>,
    /// The image this run pushed, by digest: what the function deploys.
    pub image_uri: Option<String>,
    /// Where the package was staged in S3 (bucket, key), when it was.
    pub staged: Option<(String, String)>,
    /// The `CodeSha256` an adopted function had when this run made it the
    /// pipeline's.
    pub adopted_code: Option<String>,
    /// The `CodeSha256` of code an update uploaded (a failed update still
    /// records it: the code is deployed).
    pub uploaded: Option<String>,
    /// The backfill step ran (to its end or until it stopped).
    pub backfill_ran: bool,
    /// Objects backfill sent to the function in this run.
    pub backfilled: i64,
    /// What backfill still has to send, when it stopped early.
    pub backfill_left: Option<Backfill>,
    /// Why backfill stopped early, when it failed.
    pub backfill_problem: Option<String>,
    /// The URL of the failure queue this run made or found.
    pub queue_url: Option<String>,
    /// The URL of the event queue this run made or found.
    pub event_queue_url: Option<String>,
    /// The event source mappings this run made or found.
    pub stream_mapping_id: Option<String>,
    pub queue_mapping_id: Option<String>,
    /// The URI of the image repository this run made or found.
    pub repository_url: Option<String>,
    /// Warnings for the user (summary, detail): what a step did that
    /// someone should know of (an alarm topic deleted with confirmed
    /// subscriptions).
    pub warnings: Vec<(String, String)>,
}

/// Everything a step's AWS operation needs.
pub struct Run<'a> {
    pub ctx: &'a Context,
    pub aws: &'a AwsClients,
    pub stop: &'a CancellationToken,
    /// The pipeline as it is to be: the plan, or for a destroy the prior
    /// state.
    pub want: &'a State<Known>,
    /// The state Terraform recorded before this apply, if any.
    pub prior: Option<&'a State<Known>>,
    /// The private data recorded with the prior state.
    pub private: &'a Private,
    pub purpose: Purpose,
    record: Mutex<Record>,
}

impl<'a> Run<'a> {
    pub fn new(
        ctx: &'a Context,
        want: &'a State<Known>,
        prior: Option<&'a State<Known>>,
        private: &'a Private,
        purpose: Purpose,
    ) -> Self {
        Run {
            ctx,
            aws: &ctx.aws,
            stop: &ctx.stop,
            private,
            want,
            prior,
            purpose,
            record: Mutex::new(Record::default()),
        }
    }

    /// The same pipeline, another purpose, starting from what `self` did
    /// (a roll-back after a failed create).
    pub fn then(&self, purpose: Purpose) -> Run<'a> {
        Run {
            ctx: self.ctx,
            private: self.private,
            aws: self.aws,
            stop: self.stop,
            want: self.want,
            prior: self.prior,
            purpose,
            record: Mutex::new(self.record()),
        }
    }

    /// The same run acting on the pipeline as the prior state records it,
    /// with a record of its own: what deletes a part under its old name
    /// after a change of `name` (the run's own record names the new parts).
    /// `None` without a prior state.
    pub fn old_parts(&self) -> Option<Run<'a>> {
        self.prior.map(|prior| Run {
            ctx: self.ctx,
            private: self.private,
            aws: self.aws,
            stop: self.stop,
            want: prior,
            prior: None,
            purpose: self.purpose,
            record: Mutex::new(Record::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        // A step never panics while holding the lock; should one have,
        // the record is still the best account of what exists.
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the run has done so far.
    pub fn record(&self) -> Record {
        self.lock().clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut Record)) {
        f(&mut self.lock());
    }

    /// Records that `part` now exists because of this run.
    pub fn made(&self, part: Part) {
        self.update(|r| r.made.insert(part));
    }

    /// Records that `part` was found and adopted.
    pub fn adopted(&self, part: Part) {
        self.update(|r| {
            r.made.insert(part);
            r.adopted.insert(part);
        });
    }

    /// Records that `parts` are gone.
    pub fn removed(&self, parts: impl IntoIterator<Item = Part>) {
        self.update(|r| {
            for p in parts {
                r.removed.insert(p);
            }
        });
    }

    /// The step name for errors: `converge` or `destroy` text by purpose;
    /// a roll-back says "rolling back …".
    pub fn step(&self, doing: &'static str, undoing: &'static str) -> &'static str {
        match self.purpose {
            Purpose::RollBack => undoing,
            Purpose::Converge | Purpose::Destroy => doing,
        }
    }

    /// The account the pipeline lives in, from its role's ARN.
    pub fn account(&self) -> Result<&'a str, ApplyError> {
        policy::account_of_arn(&self.want.role_arn).ok_or_else(|| {
            ApplyError::BadPlan(format!(
                "the role ARN {:?} names no account",
                self.want.role_arn
            ))
        })
    }

    /// The package the BuildPackage step made.
    pub fn package(&self) -> Result<Arc<Package>, ApplyError> {
        self.lock()
            .package
            .clone()
            .ok_or_else(|| ApplyError::Internal("the function's package was not built".into()))
    }
}
