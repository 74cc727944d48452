//! What the two queues the pipeline makes share: find one by name, then
//! create it or adopt it when its tags say it is ours; look its URL up;
//! keep its tags; count its messages; delete it. [`FAILURE`] and
//! [`EVENTS`] say which queue and how its steps are named.

use crate::aws::{AwsError, sqs};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::naming;
use super::super::ownership::adopt_if_ours;
use super::super::part::Part;
use super::super::run::{Record, Run};
use super::super::state::{Known, State};

/// One of the pipeline's queues: its part, name, where its URL is kept,
/// and the words its steps' errors use.
pub struct Queue {
    part: Part,
    name: fn(&str) -> String,
    recorded: fn(&Record) -> Option<String>,
    record: fn(&mut Record, String),
    in_state: fn(&State<Known>) -> Option<&String>,
    says: Says,
}

/// How each step on the queue is named in a diagnostic.
struct Says {
    creating: &'static str,
    configuring: &'static str,
    tagging: &'static str,
    looking_up: &'static str,
    counting: &'static str,
    deleting: &'static str,
    rolling_back: &'static str,
}

/// `<name>-failed`, where failed events go.
pub const FAILURE: Queue = Queue {
    part: Part::FailureQueue,
    name: naming::failure_queue_name,
    recorded: |r| r.queue_url.clone(),
    record: |r, url| r.queue_url = Some(url),
    in_state: |s| s.failure_queue_url.as_ref(),
    says: Says {
        creating: "creating the failure queue",
        configuring: "configuring the failure queue",
        tagging: "tagging the failure queue",
        looking_up: "looking up the failure queue",
        counting: "checking whether the failure queue is empty",
        deleting: "deleting the failure queue",
        rolling_back: "rolling back the failure queue",
    },
};

/// `<name>-events`, which S3 notifies with `delivery = "queue"`.
pub const EVENTS: Queue = Queue {
    part: Part::EventQueue,
    name: naming::event_queue_name,
    recorded: |r| r.event_queue_url.clone(),
    record: |r, url| r.event_queue_url = Some(url),
    in_state: |s| s.event_queue_url.as_ref(),
    says: Says {
        creating: "creating the event queue",
        configuring: "configuring the event queue",
        tagging: "tagging the event queue",
        looking_up: "looking up the event queue",
        counting: "checking whether the event queue is empty",
        deleting: "deleting the event queue",
        rolling_back: "rolling back the event queue",
    },
};

impl Queue {
    /// Makes the queue with `settings`, or adopts one of its name left by
    /// an earlier run of this pipeline and brings its settings and tags to
    /// these; records its URL.
    pub async fn make(
        &self,
        run: &Run<'_>,
        settings: &sqs::QueueSettings,
    ) -> Result<(), ApplyError> {
        let (client, want) = (&run.aws.sqs, run.want);
        let queue = (self.name)(&want.name);
        let step = self.says.creating;
        let tags = desired::part_tags(want);
        // SQS answers CreateQueue with an existing queue's URL when its
        // attributes match, so look first to tell ours from someone else's.
        let existing = sqs::queue_url(client, &queue)
            .await
            .map_err(ApplyError::aws(step))?;
        let url = match existing {
            None => {
                let url = sqs::create_queue(client, &queue, settings, &tags, run.stop)
                    .await
                    .map_err(ApplyError::aws(step))?;
                run.made(self.part);
                url
            }
            Some(url) => {
                let q = sqs::queue(client, &url)
                    .await
                    .map_err(ApplyError::aws(step))?
                    .ok_or_else(|| ApplyError::Aws {
                        step,
                        source: AwsError::Unexpected(format!(
                            "queue {queue} both exists and does not"
                        )),
                    })?;
                adopt_if_ours(format!("SQS queue {queue:?}"), &q.tags, &want.name)?;
                run.adopted(self.part);
                if !settings.matches(&q.settings) {
                    sqs::set_settings(client, &url, settings)
                        .await
                        .map_err(ApplyError::aws(self.says.configuring))?;
                }
                sqs::sync_tags(client, &url, &q.tags, &tags)
                    .await
                    .map_err(ApplyError::aws(self.says.tagging))?;
                url
            }
        };
        run.update(|r| (self.record)(r, url));
        Ok(())
    }

    /// The queue's URL: from this run, the plan or the prior state, or SQS.
    async fn url(&self, run: &Run<'_>) -> Result<Option<String>, ApplyError> {
        if let Some(u) = (self.recorded)(&run.record()) {
            return Ok(Some(u));
        }
        for s in [Some(run.want), run.prior].into_iter().flatten() {
            if let Some(u) = (self.in_state)(s).filter(|u| !u.is_empty()) {
                return Ok(Some(u.clone()));
            }
        }
        sqs::queue_url(&run.aws.sqs, &(self.name)(&run.want.name))
            .await
            .map_err(ApplyError::aws(self.says.looking_up))
    }

    /// Brings the queue's settings to `settings`.
    pub async fn configure(
        &self,
        run: &Run<'_>,
        settings: &sqs::QueueSettings,
    ) -> Result<(), ApplyError> {
        let Some(url) = self.url(run).await? else {
            return Ok(());
        };
        sqs::set_settings(&run.aws.sqs, &url, settings)
            .await
            .map_err(ApplyError::aws(self.says.configuring))
    }

    /// Moves the queue's tags from the prior state's to the plan's.
    pub async fn update_tags(&self, run: &Run<'_>) -> Result<(), ApplyError> {
        let Some(url) = self.url(run).await? else {
            return Ok(());
        };
        let have = run.prior.map(desired::part_tags).unwrap_or_default();
        sqs::sync_tags(&run.aws.sqs, &url, &have, &desired::part_tags(run.want))
            .await
            .map_err(ApplyError::aws(self.says.tagging))
    }

    /// How many messages the queue holds; `None` when there is no queue.
    pub async fn messages(&self, run: &Run<'_>) -> Result<Option<u64>, ApplyError> {
        let Some(url) = self.url(run).await? else {
            return Ok(None);
        };
        Ok(sqs::queue(&run.aws.sqs, &url)
            .await
            .map_err(ApplyError::aws(self.says.counting))?
            .map(|q| q.messages))
    }

    /// Deletes the queue when there is one, and records it removed.
    pub async fn delete(&self, run: &Run<'_>) -> Result<(), ApplyError> {
        if let Some(url) = self.url(run).await? {
            sqs::delete_queue(&run.aws.sqs, &url)
                .await
                .map_err(ApplyError::aws(
                    run.step(self.says.deleting, self.says.rolling_back),
                ))?;
        }
        run.removed([self.part]);
        Ok(())
    }
}
