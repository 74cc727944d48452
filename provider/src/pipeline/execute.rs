//! Running decided [`Steps`] against AWS: every step whose dependencies are
//! done starts at once, so the schedule is exactly the one the steps
//! describe. The [`Run`] is what every step's AWS operation shares: the
//! clients, the states, and a [`Record`] of what this run made, adopted
//! and removed, which the caller turns into the state to record.

use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::aws::AwsClients;

use super::errors::ApplyError;
use super::ops;
use super::package::Package;
use super::parts::{Part, PartSet};
use super::policy;
use super::state::{Known, State};
use super::steps::{Change, Op, Steps};

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
}

/// Everything a step's AWS operation needs.
pub struct Run<'a> {
    pub aws: &'a AwsClients,
    pub stop: &'a CancellationToken,
    /// The pipeline as it is to be: the plan, or for a destroy the prior
    /// state.
    pub want: &'a State<Known>,
    /// The state Terraform recorded before this apply, if any.
    pub prior: Option<&'a State<Known>>,
    pub purpose: Purpose,
    record: Mutex<Record>,
}

impl<'a> Run<'a> {
    pub fn new(
        aws: &'a AwsClients,
        stop: &'a CancellationToken,
        want: &'a State<Known>,
        prior: Option<&'a State<Known>>,
        purpose: Purpose,
    ) -> Self {
        Run {
            aws,
            stop,
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
            aws: self.aws,
            stop: self.stop,
            want: self.want,
            prior: self.prior,
            purpose,
            record: Mutex::new(self.record()),
        }
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

    /// One step: the AWS operation for `op`.
    async fn op(&self, op: Op) -> Result<(), ApplyError> {
        use Part::*;
        match op {
            Op::Create(Bucket) | Op::Recreate(Bucket) | Op::Adopt(Bucket) => {
                ops::bucket::make(self).await
            }
            Op::Update(Bucket, Change::TlsPolicy) => ops::bucket::update_tls_policy(self).await,
            Op::Update(Bucket, _) => ops::bucket::update_tags(self).await,
            Op::CheckDeletable => ops::bucket::check_deletable(self).await,
            Op::EmptyBucket => ops::bucket::empty(self).await,
            Op::Delete(Bucket) => ops::bucket::delete(self).await,

            Op::Create(Role) | Op::Recreate(Role) | Op::Adopt(Role) => ops::role::make(self).await,
            Op::Update(Role, _) => ops::role::update_tags(self).await,
            Op::Delete(Role) => ops::role::delete(self).await,
            Op::Delete(Policy) => ops::role::delete_policy(self).await,
            Op::Create(Policy)
            | Op::Recreate(Policy)
            | Op::Adopt(Policy)
            | Op::Update(Policy, _) => ops::role::put_policy(self).await,

            Op::BuildPackage => ops::function::build_package(self).await,
            Op::Create(Function) | Op::Recreate(Function) | Op::Adopt(Function) => {
                ops::function::make(self).await
            }
            Op::Update(Function, Change::Code) => ops::function::update_code(self).await,
            Op::Update(Function, Change::Tags) => ops::function::update_tags(self).await,
            Op::Update(Function, _) => ops::function::update_settings(self).await,
            Op::AwaitActive => ops::function::await_active(self).await,
            Op::Delete(Function) => ops::function::delete(self).await,
            Op::Delete(Permission) => ops::permission::remove(self).await,

            Op::Create(Permission)
            | Op::Recreate(Permission)
            | Op::Adopt(Permission)
            | Op::Update(Permission, _) => ops::permission::add(self).await,

            Op::Create(Notification)
            | Op::Recreate(Notification)
            | Op::Adopt(Notification)
            | Op::Update(Notification, _) => ops::notification::put(self).await,
            Op::Delete(Notification) => ops::notification::remove(self).await,
        }
    }
}

/// What to do with the other steps once one failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Start nothing new; let the steps under way finish (create, update).
    Stop,
    /// Go on with every step that does not wait for a failed one
    /// (teardowns: remove as much as can be removed).
    Continue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    Waiting,
    Running,
    Done,
    Failed,
}

/// Runs `steps`, each as soon as the steps it waits for are done. Returns
/// every error; Terraform asking the provider to stop ends the run at the
/// next step boundary with [`ApplyError::Cancelled`].
pub async fn execute(
    run: &Run<'_>,
    steps: &Steps,
    on_error: OnError,
) -> Result<(), Vec<ApplyError>> {
    let mut progress = vec![Progress::Waiting; steps.0.len()];
    let mut running = FuturesUnordered::new();
    let mut errors = Vec::new();
    loop {
        let may_start =
            (errors.is_empty() || on_error == OnError::Continue) && !run.stop.is_cancelled();
        if may_start {
            for (i, step) in steps.0.iter().enumerate() {
                let ready = step.after.iter().all(|d| progress[*d] == Progress::Done);
                if progress[i] == Progress::Waiting && ready {
                    progress[i] = Progress::Running;
                    let span = tracing::info_span!("step", op = %step.op);
                    running.push(async move { (i, run.op(step.op).instrument(span).await) });
                }
            }
        }
        match running.next().await {
            Some((i, Ok(()))) => progress[i] = Progress::Done,
            Some((i, Err(e))) => {
                tracing::warn!(op = %steps.0[i].op, error = %e, "step failed");
                progress[i] = Progress::Failed;
                errors.push(e);
            }
            None => break,
        }
    }
    if errors.is_empty()
        && let Some(i) = progress.iter().position(|p| *p != Progress::Done)
    {
        errors.push(ApplyError::Cancelled {
            before: steps.0[i].op.to_string(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
