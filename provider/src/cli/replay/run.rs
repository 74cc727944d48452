//! The replay loop: receive failure-queue messages ten at a time (a few
//! receives ahead), re-deliver
//! them with bounded concurrency (in the order received), delete the ones
//! whose re-delivery was accepted in batches of ten, and make every message
//! kept visible again at the end. A message is deleted only after its
//! re-delivery was accepted; a run that stops anywhere leaves the rest on
//! the queue for the next one.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::task::JoinHandle;

use crate::aws::AwsClients;
use crate::aws::sqs::{self, Received};

use super::deliver::{self, Action, Outcome, Pipeline, Task};

/// How one run goes.
#[derive(Clone, Debug)]
pub struct Settings {
    pub queue_url: String,
    pub dry_run: bool,
    /// Failure records to handle, at most.
    pub max: Option<u64>,
    /// Re-deliveries in flight, at most.
    pub concurrency: usize,
    /// Seconds a received message stays hidden while it is handled.
    pub visibility_s: i32,
}

/// One message's line in the report.
#[derive(Clone, Debug)]
pub struct Line {
    pub message_id: String,
    pub what: String,
    /// `None` in a dry run: what would be done is in `plan`.
    pub outcome: Option<Outcome>,
    pub plan: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<Line>,
    /// Errors that stopped the run or left something undone.
    pub errors: Vec<String>,
}

/// Called after each message is done (for the progress bar).
pub type Tick<'a> = &'a (dyn Fn(&Report) + Sync);

type Running = JoinHandle<Vec<(Task, Outcome)>>;
/// A receive in flight, with how many messages it asked for.
type Receiving = JoinHandle<(i32, Result<Vec<Received>, crate::aws::AwsError>)>;

/// ReceiveMessage calls in flight at once, at most: with AWS's latency one
/// receive of ten at a time would hold back sixteen re-deliveries, and a
/// receive slower than a re-delivery (a long queue, a busy endpoint) would
/// hold them back with three.
const RECEIVERS: usize = 6;

/// Messages received ahead, at most, per re-delivery in flight: enough to
/// keep them all busy while the next receives are on their way.
const AHEAD: usize = 4;

struct Loop<'a> {
    aws: Arc<AwsClients>,
    pipeline: Arc<Pipeline>,
    s: &'a Settings,
    seen: HashSet<String>,
    /// Messages asked for so far (for `--max`), less what did not come.
    asked: u64,
    exhausted: bool,
    receiving: FuturesUnordered<Receiving>,
    stop: bool,
    waiting: VecDeque<Vec<Task>>,
    running: FuturesUnordered<Running>,
    to_delete: Vec<Received>,
    deleting: FuturesUnordered<JoinHandle<Vec<(Received, String)>>>,
    kept: Vec<Received>,
    report: Report,
}

/// Replays the failure queue's messages for `pipeline`.
pub async fn run(
    aws: Arc<AwsClients>,
    pipeline: Arc<Pipeline>,
    s: &Settings,
    tick: Tick<'_>,
) -> Report {
    let mut l = Loop {
        aws,
        pipeline,
        s,
        seen: HashSet::new(),
        asked: 0,
        exhausted: false,
        receiving: FuturesUnordered::new(),
        stop: false,
        waiting: VecDeque::new(),
        running: FuturesUnordered::new(),
        to_delete: Vec::new(),
        deleting: FuturesUnordered::new(),
        kept: Vec::new(),
        report: Report::default(),
    };
    loop {
        l.start_more();
        if l.running.is_empty() && l.receiving.is_empty() {
            break;
        }
        tokio::select! {
            Some(done) = l.running.next(), if !l.running.is_empty() => match done {
                Ok(outcomes) => {
                    for (task, outcome) in outcomes {
                        l.finish(task, outcome);
                    }
                }
                Err(e) => l.report.errors.push(format!("a re-delivery task failed: {e}")),
            },
            Some(got) = l.receiving.next(), if !l.receiving.is_empty() => l.received(got),
        }
        tick(&l.report);
    }
    l.leave_waiting();
    l.flush_deletes(0);
    while let Some(r) = l.deleting.next().await {
        l.deleted(r);
    }
    l.show_kept().await;
    tick(&l.report);
    l.report
}

impl Loop<'_> {
    /// Starts re-deliveries up to the concurrency, in the order received,
    /// and receives ahead while fewer than [`AHEAD`] times that many wait.
    fn start_more(&mut self) {
        while !self.stop && self.running.len() < self.s.concurrency {
            let Some(group) = self.waiting.pop_front() else {
                break;
            };
            self.start(group);
        }
        let waiting: usize = self.waiting.iter().map(Vec::len).sum();
        while !self.stop
            && !self.exhausted
            && self.receiving.len() < RECEIVERS
            && waiting + 10 * self.receiving.len() < AHEAD * self.s.concurrency
        {
            let left = self.s.max.map_or(10, |m| m.saturating_sub(self.asked));
            if left == 0 {
                self.exhausted = true;
                break;
            }
            let want = i32::try_from(left.min(10)).unwrap_or(10);
            self.asked += want as u64;
            let aws = self.aws.clone();
            let url = self.s.queue_url.clone();
            let visibility = self.s.visibility_s;
            self.receiving.push(tokio::spawn(async move {
                (
                    want,
                    sqs::receive(&aws.sqs, &url, want, visibility, 1).await,
                )
            }));
        }
    }

    fn received(
        &mut self,
        got: Result<(i32, Result<Vec<Received>, crate::aws::AwsError>), tokio::task::JoinError>,
    ) {
        let (want, batch) = match got {
            Ok(g) => g,
            Err(e) => {
                self.report
                    .errors
                    .push(format!("a receive task failed: {e}"));
                self.exhausted = true;
                return;
            }
        };
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                self.asked = self.asked.saturating_sub(want as u64);
                self.report.errors.push(e.to_string());
                self.exhausted = true;
                return;
            }
        };
        let fresh: Vec<Received> = batch
            .into_iter()
            .filter(|m| self.seen.insert(m.id.clone()))
            .collect();
        self.asked = self
            .asked
            .saturating_sub((want as u64).saturating_sub(fresh.len() as u64));
        if fresh.is_empty() {
            self.exhausted = true;
            return;
        }
        let tasks: Vec<Task> = fresh
            .into_iter()
            .map(|m| deliver::decide(&self.pipeline, m))
            .collect();
        if self.s.dry_run {
            for t in tasks {
                self.dry(t);
            }
            return;
        }
        // S3 events of one receive go back in one batch; the rest one by one.
        let (back, one_by_one): (Vec<Task>, Vec<Task>) = tasks
            .into_iter()
            .partition(|t| matches!(t.action, Action::SendBack { .. }));
        if !back.is_empty() {
            self.waiting.push_back(back);
        }
        self.waiting.extend(one_by_one.into_iter().map(|t| vec![t]));
    }

    fn start(&mut self, group: Vec<Task>) {
        let aws = self.aws.clone();
        let pipeline = self.pipeline.clone();
        let handle = tokio::spawn(async move {
            if matches!(
                group.first().map(|t| &t.action),
                Some(Action::SendBack { .. })
            ) {
                let url = pipeline.event_queue_url.clone().unwrap_or_default();
                let bodies = group.iter().map(|t| t.message.body.clone()).collect();
                let outcomes = deliver::send_back(aws, url, bodies).await;
                return group.into_iter().zip(outcomes).collect();
            }
            let mut out = Vec::with_capacity(group.len());
            for t in group {
                let o = deliver::deliver(aws.clone(), pipeline.clone(), t.action.clone()).await;
                out.push((t, o));
            }
            out
        });
        self.running.push(handle);
    }

    fn finish(&mut self, task: Task, outcome: Outcome) {
        if matches!(outcome, Outcome::FailedAgain { refused: true, .. }) {
            // AWS refused: the rest would most likely be refused too.
            self.stop = true;
        }
        if outcome == Outcome::Replayed {
            self.to_delete.push(task.message.clone());
            self.flush_deletes(10);
        } else {
            self.kept.push(task.message.clone());
        }
        self.report.lines.push(Line {
            message_id: task.message.id,
            what: task.what,
            outcome: Some(outcome),
            plan: String::new(),
        });
    }

    fn dry(&mut self, t: Task) {
        let plan = match &t.action {
            Action::Invoke { .. } if self.pipeline.sync => {
                format!("would invoke {} (RequestResponse)", self.pipeline.function)
            }
            Action::Invoke { .. } => format!("would invoke {}", self.pipeline.function),
            Action::SendBack { .. } => "would send back to the event queue".to_owned(),
            Action::Stream(_) => {
                format!("would read again and invoke {}", self.pipeline.function)
            }
            Action::Skip(why) => format!("would skip: {why}"),
        };
        self.kept.push(t.message.clone());
        self.report.lines.push(Line {
            message_id: t.message.id,
            what: t.what,
            outcome: None,
            plan,
        });
    }

    /// After a stop, the messages received but not started stay.
    fn leave_waiting(&mut self) {
        for group in std::mem::take(&mut self.waiting) {
            for t in group {
                self.finish(
                    t,
                    Outcome::Left("not sent: the run stopped after a refusal".into()),
                );
            }
        }
    }

    /// Deletes the accepted messages in batches of ten, once at least
    /// `min` wait (0: all of them).
    fn flush_deletes(&mut self, min: usize) {
        while !self.to_delete.is_empty() && self.to_delete.len() >= min.max(1) {
            let n = self.to_delete.len().min(10);
            let batch: Vec<Received> = self.to_delete.drain(..n).collect();
            let aws = self.aws.clone();
            let url = self.s.queue_url.clone();
            self.deleting.push(tokio::spawn(async move {
                let receipts: Vec<String> = batch.iter().map(|m| m.receipt.clone()).collect();
                let failed = batch_call(&aws, &url, BatchCall::Delete, &receipts).await;
                failed
                    .into_iter()
                    .map(|(i, why)| (batch[i].clone(), why))
                    .collect()
            }));
        }
    }

    fn deleted(&mut self, r: Result<Vec<(Received, String)>, tokio::task::JoinError>) {
        match r {
            Err(e) => self
                .report
                .errors
                .push(format!("a delete task failed: {e}")),
            Ok(failed) if !failed.is_empty() => {
                let why = &failed[0].1;
                self.report.errors.push(format!(
                    "{} replayed message(s) could not be deleted ({why}); the next run \
                     sends them again",
                    failed.len()
                ));
                for (m, _) in failed {
                    if let Some(line) = self.report.lines.iter_mut().find(|l| l.message_id == m.id)
                    {
                        line.outcome = Some(Outcome::Left(
                            "replayed, but not deleted: the next run sends it again".into(),
                        ));
                    }
                    self.kept.push(m);
                }
            }
            Ok(_) => {}
        }
    }

    /// Makes the kept messages visible again at once.
    async fn show_kept(&mut self) {
        for chunk in self.kept.chunks(10) {
            let receipts: Vec<String> = chunk.iter().map(|m| m.receipt.clone()).collect();
            let url = &self.s.queue_url;
            let failed = batch_call(&self.aws, url, BatchCall::Show, &receipts).await;
            if let Some((_, why)) = failed.first() {
                self.report.errors.push(format!(
                    "{} kept message(s) stay hidden for up to {} s ({why})",
                    failed.len(),
                    self.s.visibility_s
                ));
            }
        }
    }
}

#[derive(Clone, Copy)]
enum BatchCall {
    Delete,
    /// Visibility timeout 0.
    Show,
}

impl BatchCall {
    fn op(self) -> &'static str {
        match self {
            BatchCall::Delete => "sqs:DeleteMessageBatch",
            BatchCall::Show => "sqs:ChangeMessageVisibilityBatch",
        }
    }
}

/// One batch call, tried again once for the entries (or the whole call)
/// that failed; the entries that still failed, by index, with why.
async fn batch_call(
    aws: &AwsClients,
    url: &str,
    call: BatchCall,
    receipts: &[String],
) -> Vec<(usize, String)> {
    let mut pending: Vec<usize> = (0..receipts.len()).collect();
    let mut last: Vec<(usize, String)> = Vec::new();
    for _attempt in 0..2 {
        if pending.is_empty() {
            break;
        }
        let refs: Vec<&str> = pending.iter().map(|&i| receipts[i].as_str()).collect();
        let r = match call {
            BatchCall::Delete => sqs::delete_batch(&aws.sqs, url, &refs).await,
            BatchCall::Show => sqs::change_visibility_batch(&aws.sqs, url, &refs, 0).await,
        };
        last = match r {
            Err(e) => pending.iter().map(|&i| (i, e.to_string())).collect(),
            Ok(failed) => failed
                .into_iter()
                .filter_map(|f| {
                    let i = *pending.get(f.index)?;
                    Some((i, format!("{}: {}: {}", call.op(), f.code, f.message)))
                })
                .collect(),
        };
        pending = last.iter().map(|(i, _)| *i).collect();
    }
    last
}
