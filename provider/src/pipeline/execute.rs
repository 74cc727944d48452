//! Running decided [`Steps`] against AWS: every step whose dependencies are
//! done starts at once, so the schedule is exactly the one the steps
//! describe. Each step's AWS operation is in [`super::ops`]; what they share
//! is the [`Run`].

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tracing::Instrument as _;

use super::desired;
use super::errors::ApplyError;
use super::ops;
use super::ops::mapping::Source;
use super::ops::queue;
use super::part::Part;
use super::run::Run;
use super::steps::{Change, Op, Steps};

/// A step on the bucket.
async fn bucket_op(run: &Run<'_>, op: Op) -> Result<(), ApplyError> {
    match op {
        Op::Create(_) | Op::Recreate(_) => ops::bucket::make(run).await,
        Op::Adopt(_) => ops::bucket::adopt(run).await,
        Op::Release(_) => ops::bucket::release(run).await,
        Op::Update(_, Change::TlsPolicy) => ops::bucket::update_tls_policy(run).await,
        Op::Update(_, Change::Encryption) => ops::bucket::update_encryption(run).await,
        Op::Update(_, _) => ops::bucket::update_tags(run).await,
        Op::EmptyBucket => ops::bucket::empty(run).await,
        _ => ops::bucket::delete(run).await,
    }
}

/// One step: the AWS operation for `op`.
async fn run_op(run: &Run<'_>, op: Op) -> Result<(), ApplyError> {
    use Part::*;
    match op {
        Op::Create(Alarms | AlarmTopic)
        | Op::Recreate(Alarms | AlarmTopic)
        | Op::Adopt(Alarms | AlarmTopic)
        | Op::Update(Alarms | AlarmTopic, _)
        | Op::Delete(Alarms | AlarmTopic) => alarm_op(run, op).await,
        Op::Create(Bucket)
        | Op::Recreate(Bucket)
        | Op::Adopt(Bucket)
        | Op::Release(Bucket)
        | Op::Update(Bucket, _)
        | Op::EmptyBucket
        | Op::Delete(Bucket) => bucket_op(run, op).await,
        Op::CheckDeletable => ops::check::deletable(run).await,
        Op::CheckQueueEmpty => ops::check::queue_empty(run).await,

        Op::Create(Role) | Op::Recreate(Role) => ops::role::make(run).await,
        Op::Adopt(Role) => ops::role::adopt(run).await,
        Op::Update(Role, _) => ops::role::update_tags(run).await,
        Op::Delete(Role) => ops::role::delete(run).await,
        Op::Delete(Policy) => ops::role::delete_policy(run).await,
        Op::Create(Policy) | Op::Recreate(Policy) | Op::Adopt(Policy) | Op::Update(Policy, _) => {
            ops::role::put_policy(run).await
        }

        Op::BuildPackage => ops::function::build_package(run).await,
        Op::BuildImage => ops::image::build(run).await,
        Op::PushImage => ops::image::push(run).await,
        Op::RemoveImage => ops::image::remove(run).await,
        Op::StagePackage => ops::staging::stage(run).await,
        Op::PruneStaged => ops::staging::prune(run).await,
        Op::DeleteStaged => ops::staging::delete_all(run).await,
        Op::Create(Function) | Op::Recreate(Function) => ops::function::make(run).await,
        Op::Adopt(Function) => ops::function::adopt(run).await,
        Op::Update(Function, Change::Code) => ops::function::update_code(run).await,
        Op::Update(Function, Change::Tags) => ops::function::update_tags(run).await,
        Op::Update(Function, Change::Concurrency) => ops::function::update_concurrency(run).await,
        Op::Update(Function, _) => ops::function::update_settings(run).await,
        Op::AwaitActive => ops::function::await_active(run).await,
        Op::Delete(Function) => ops::function::delete(run).await,
        Op::Delete(Permission) => ops::permission::remove(run).await,
        Op::DeleteOld(part) => delete_old(run, part).await,
        Op::Retire(Permission) => ops::permission::retire(run).await,
        Op::Backfill => ops::backfill::run(run).await,

        Op::Create(Repository) | Op::Recreate(Repository) | Op::Adopt(Repository) => {
            ops::repository::make(run).await
        }
        Op::Update(Repository, Change::Tags) => ops::repository::update_tags(run).await,
        Op::Update(Repository, _) => ops::repository::update(run).await,
        Op::Delete(Repository) => ops::repository::delete(run).await,
        Op::CheckRepository => ops::repository::check_given(run).await,
        Op::Create(LogGroup) | Op::Recreate(LogGroup) | Op::Adopt(LogGroup) => {
            ops::log_group::make(run).await
        }
        Op::Update(LogGroup, Change::Tags) => ops::log_group::update_tags(run).await,
        Op::Update(LogGroup, _) => ops::log_group::update_retention(run).await,
        Op::Delete(LogGroup) => ops::log_group::delete(run).await,
        Op::Create(FailureQueue) | Op::Recreate(FailureQueue) | Op::Adopt(FailureQueue) => {
            queue::FAILURE.make(run, &desired::FAILURE_QUEUE).await
        }
        Op::Update(FailureQueue, _) => queue::FAILURE.update_tags(run).await,
        Op::Delete(FailureQueue) => queue::FAILURE.delete(run).await,

        Op::Create(InvokeConfig)
        | Op::Recreate(InvokeConfig)
        | Op::Adopt(InvokeConfig)
        | Op::Update(InvokeConfig, _) => ops::invoke_config::put(run).await,
        Op::Delete(InvokeConfig) => ops::invoke_config::delete(run).await,

        Op::Create(Stream) | Op::Recreate(Stream) | Op::Adopt(Stream) => {
            ops::stream::make(run).await
        }
        Op::Update(Stream, Change::Tags) => ops::stream::update_tags(run).await,
        Op::Update(Stream, _) => ops::stream::update(run).await,
        Op::Delete(Stream) => ops::stream::delete(run).await,

        Op::Create(StreamMapping) | Op::Recreate(StreamMapping) | Op::Adopt(StreamMapping) => {
            ops::mapping::make(run, Source::Stream).await
        }
        Op::Update(StreamMapping, _) => ops::mapping::update(run, Source::Stream).await,
        Op::Delete(StreamMapping) => ops::mapping::delete(run, Source::Stream).await,

        Op::Create(EventQueue) | Op::Recreate(EventQueue) | Op::Adopt(EventQueue) => {
            match desired::event_queue(run.want) {
                Some(settings) => queue::EVENTS.make(run, &settings).await,
                None => Ok(()),
            }
        }
        Op::Update(EventQueue, Change::Tags) => queue::EVENTS.update_tags(run).await,
        Op::Update(EventQueue, _) => match desired::event_queue(run.want) {
            Some(settings) => queue::EVENTS.configure(run, &settings).await,
            None => Ok(()),
        },
        Op::Delete(EventQueue) => queue::EVENTS.delete(run).await,

        Op::Create(EventQueueMapping)
        | Op::Recreate(EventQueueMapping)
        | Op::Adopt(EventQueueMapping) => ops::mapping::make(run, Source::Queue).await,
        Op::Update(EventQueueMapping, _) => ops::mapping::update(run, Source::Queue).await,
        Op::Delete(EventQueueMapping) => ops::mapping::delete(run, Source::Queue).await,
        // Parts with nothing to take over, let go of or retire.
        Op::Release(part) | Op::Retire(part) => {
            Err(ApplyError::Internal(format!("no step to {op} ({part})")))
        }

        Op::Create(Permission)
        | Op::Recreate(Permission)
        | Op::Adopt(Permission)
        | Op::Update(Permission, _) => ops::permission::add(run).await,

        Op::Create(Notification)
        | Op::Recreate(Notification)
        | Op::Adopt(Notification)
        | Op::Update(Notification, _) => ops::notification::put(run).await,
        Op::Delete(Notification) => ops::notification::remove(run).await,
    }
}

/// One step of the alarms or their topic.
async fn alarm_op(run: &Run<'_>, op: Op) -> Result<(), ApplyError> {
    use Part::{AlarmTopic, Alarms};
    match op {
        Op::Update(Alarms, Change::Tags) => ops::alarms::update_tags(run).await,
        Op::Delete(Alarms) => ops::alarms::delete(run).await,
        Op::Create(Alarms) | Op::Recreate(Alarms) | Op::Adopt(Alarms) | Op::Update(Alarms, _) => {
            ops::alarms::put(run).await
        }
        Op::Update(AlarmTopic, Change::Tags) => ops::alarm_topic::update_tags(run).await,
        Op::Update(AlarmTopic, _) => ops::alarm_topic::subscribe(run).await,
        Op::Delete(AlarmTopic) => ops::alarm_topic::delete(run).await,
        Op::Create(AlarmTopic) | Op::Recreate(AlarmTopic) | Op::Adopt(AlarmTopic) => {
            ops::alarm_topic::make(run).await
        }
        _ => Err(ApplyError::Internal(format!("no alarm step to {op}"))),
    }
}

/// Deletes `part` under the name the prior state records (a rename made
/// its successor): the function with its staged packages.
async fn delete_old(run: &Run<'_>, part: Part) -> Result<(), ApplyError> {
    let Some(old) = run.old_parts() else {
        return Ok(());
    };
    match part {
        Part::Function => {
            ops::function::delete(&old).await?;
            ops::staging::delete_all(&old).await
        }
        Part::Role => ops::role::delete(&old).await,
        Part::LogGroup => ops::log_group::delete(&old).await,
        Part::FailureQueue => queue::FAILURE.delete(&old).await,
        Part::EventQueue => queue::EVENTS.delete(&old).await,
        Part::Stream => ops::stream::delete(&old).await,
        Part::Repository => ops::repository::delete(&old).await,
        Part::Alarms => ops::alarms::delete(&old).await,
        Part::AlarmTopic => ops::alarm_topic::delete(&old).await,
        _ => Err(ApplyError::Internal(format!(
            "no step to delete {part} under its old name"
        ))),
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
                    running.push(async move { (i, run_op(run, step.op).instrument(span).await) });
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
