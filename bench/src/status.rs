//! Figure 14 (`status` part): `eventpipe status` against a pipeline with a
//! failure queue, every call +50 ms, against the slowest single call it
//! makes. The command's own code (`cli::status::report`) runs in this
//! process, twice over: with credentials that name their account (as
//! `AWS_ACCOUNT_ID`, a profile's `aws_account_id`, SSO or an assumed role
//! do), where every call is made in one round, and with bare static keys,
//! where the bucket and the queues' counts wait for a first answer. Each
//! of its calls is then made alone, one after another, through the same
//! wrappers, and timed.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use eventpipe::aws::metrics::{self, MetricQuery};
use eventpipe::aws::{AwsClients, AwsSettings, lambda, mappings, s3, sqs};
use eventpipe::pipeline::ownership::BUCKET_TAG;
use tests::Moto;
use tests::fault_proxy::{FaultProxy, Rule};

use crate::Sizes;
use crate::direct::{InProcess, REGION};
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio};

const LATENCY: Duration = Duration::from_millis(50);
const NAME: &str = "status14";
/// The emulator's account.
const ACCOUNT: &str = "123456789012";
/// Runs of status, and of its calls alone, through the timing relay.
const TRACE_RUNS: usize = 5;

/// One call as the emulator served it: when its request reached the
/// emulator and when the emulator's answer ended.
#[derive(Clone, Debug)]
struct Served {
    op: String,
    start: Instant,
    end: Instant,
}

impl Served {
    fn took(&self) -> f64 {
        self.end.duration_since(self.start).as_secs_f64()
    }
}

/// A byte relay in front of the emulator, on a thread of its own, that
/// notes when each call reaches the emulator and when its answer ends:
/// where the time of status's round goes. The fault proxy sends one call
/// per connection (`Connection: close`), so a connection is a call.
struct Relay {
    addr: SocketAddr,
    served: Arc<Mutex<Vec<Served>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    fn start(upstream: &str) -> Result<Relay> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .with_context(|| format!("the emulator's address {upstream:?}"))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let served = Arc::new(Mutex::new(Vec::new()));
        let log = served.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let accept = async {
                    loop {
                        if let Ok((client, _)) = listener.accept().await {
                            tokio::spawn(relay_one(client, upstream, log.clone()));
                        }
                    }
                };
                tokio::select! {
                    _ = stopped => {}
                    () = accept => {}
                }
            });
        });
        Ok(Relay {
            addr,
            served,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The calls served since the last take, in the order they arrived.
    /// A call is noted when its connection closes, which can come just
    /// after its caller has the answer: the relay is given a moment first.
    async fn take(&self) -> Vec<Served> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut v = std::mem::take(&mut *self.served.lock().unwrap_or_else(|p| p.into_inner()));
        v.sort_by_key(|s| s.start);
        v
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn relay_one(
    client: tokio::net::TcpStream,
    upstream: SocketAddr,
    log: Arc<Mutex<Vec<Served>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut cr, mut cw) = client.into_split();
    let mut first = vec![0u8; 64 * 1024];
    let n = match cr.read(&mut first).await {
        Ok(n) if n > 0 => n,
        _ => return,
    };
    let start = Instant::now();
    let op = operation_of(&first[..n]);
    let Ok(up) = tokio::net::TcpStream::connect(upstream).await else {
        return;
    };
    let (mut ur, mut uw) = up.into_split();
    if uw.write_all(&first[..n]).await.is_err() {
        return;
    }
    let forward = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut cr, &mut uw).await;
    });
    // The answer ends with its last byte (the emulator may close the
    // connection a little later).
    let mut end = Instant::now();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match ur.read(&mut chunk).await {
            Ok(n) if n > 0 => {
                end = Instant::now();
                if cw.write_all(&chunk[..n]).await.is_err() {
                    break;
                }
            }
            _ => break,
        }
    }
    let _ = cw.shutdown().await;
    forward.abort();
    log.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Served { op, start, end });
}

/// The AWS operation a request carries, named as the bench names it,
/// from the first bytes of the request.
fn operation_of(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(request);
    let line = text.lines().next().unwrap_or_default();
    let path = line.split(' ').nth(1).unwrap_or_default();
    let header = |name: &str| {
        text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    if let Some(target) = header("x-amz-target") {
        let op = target.rsplit('.').next().unwrap_or(&target);
        return format!("sqs:{op}");
    }
    // CloudWatch (the Query protocol): the action is in the form body.
    if let Some((_, rest)) = text.split_once("Action=") {
        let op = rest.split(['&', '\r', '\n']).next().unwrap_or_default();
        return format!("monitoring:{op}");
    }
    if path.contains("?notification") {
        return "s3:GetBucketNotificationConfiguration".into();
    }
    if path.contains("event-invoke-config") {
        return "lambda:GetFunctionEventInvokeConfig".into();
    }
    if path.contains("event-source-mappings") {
        return "lambda:ListEventSourceMappings".into();
    }
    if path.contains("/functions/") {
        return "lambda:GetFunction".into();
    }
    line.to_owned()
}

async fn timed<T, E: std::fmt::Display>(
    op: &'static str,
    f: impl Future<Output = Result<T, E>>,
    into: &mut BTreeMap<&'static str, Samples>,
) -> Result<T> {
    let start = Instant::now();
    let v = f.await.map_err(|e| anyhow!("{op}: {e}"))?;
    into.entry(op).or_default().push_duration(start.elapsed());
    Ok(v)
}

/// Each call `status` makes, alone and in turn.
async fn single_calls(aws: &AwsClients, into: &mut BTreeMap<&'static str, Samples>) -> Result<()> {
    let failed = format!("{NAME}-failed");
    let events = format!("{NAME}-events");
    let alarms: Vec<String> = [
        "failed-events",
        "error-rate",
        "throttles",
        "queue-age",
        "iterator-age",
    ]
    .iter()
    .map(|k| format!("{NAME}-{k}"))
    .collect();
    let f = timed(
        "lambda:GetFunction",
        lambda::get_function_and_status(&aws.lambda, NAME),
        into,
    )
    .await?
    .context("the bench pipeline's function")?;
    let bucket = f.0.tags.get(BUCKET_TAG).cloned().unwrap_or_default();
    timed(
        "lambda:GetFunctionEventInvokeConfig",
        lambda::invoke_config(&aws.lambda, NAME),
        into,
    )
    .await?;
    timed(
        "lambda:ListEventSourceMappings",
        mappings::mappings(&aws.lambda, NAME),
        into,
    )
    .await?;
    let url = timed("sqs:GetQueueUrl", sqs::queue_url(&aws.sqs, &failed), into)
        .await?
        .context("the failure queue")?;
    timed("sqs:GetQueueUrl", sqs::queue_url(&aws.sqs, &events), into).await?;
    timed(
        "monitoring:DescribeAlarms",
        metrics::alarm_states(&aws.cloudwatch, &alarms),
        into,
    )
    .await?;
    timed(
        "s3:GetBucketNotificationConfiguration",
        s3::notifications(&aws.s3, &bucket),
        into,
    )
    .await?;
    timed("sqs:GetQueueAttributes", sqs::depth(&aws.sqs, &url), into).await?;
    let age = |queue: &str| MetricQuery {
        namespace: "AWS/SQS".into(),
        metric: "ApproximateAgeOfOldestMessage".into(),
        dimensions: vec![("QueueName".into(), queue.to_owned())],
        stat: "Maximum".into(),
    };
    let queries = [
        age(&failed),
        age(&events),
        MetricQuery {
            namespace: "AWS/Lambda".into(),
            metric: "IteratorAge".into(),
            dimensions: vec![("FunctionName".into(), NAME.to_owned())],
            stat: "Maximum".into(),
        },
    ];
    timed(
        "monitoring:GetMetricData",
        metrics::latest(&aws.cloudwatch, &queries, Duration::from_secs(900)),
        into,
    )
    .await?;
    Ok(())
}

/// `eventpipe status` of the bench's pipeline, as the command runs it.
async fn status_of(aws: &AwsClients) -> Result<eventpipe::cli::status::Report> {
    eventpipe::cli::status::report(aws, NAME)
        .await
        .map_err(|e| anyhow!("status: {e}"))
}

/// Where status's time goes: status, then each of its calls alone, run
/// `TRACE_RUNS` times through a second fault proxy (the same +50 ms)
/// whose upstream is a [`Relay`] in front of the emulator. The timed runs
/// above do not pass through the relay. Returns the figure's text on it.
async fn trace(moto: &Moto, settings: &AwsSettings) -> Result<String> {
    let relay = Relay::start(&moto.endpoint())?;
    let proxy = FaultProxy::start(&relay.endpoint())?;
    proxy.add_rule(Rule::any().delay(LATENCY));
    let aws = AwsClients::connect(&AwsSettings {
        account_id: Some(ACCOUNT.to_owned()),
        endpoint_url: Some(proxy.endpoint()),
        ..settings.clone()
    })
    .await?;
    status_of(&aws).await?;
    single_calls(&aws, &mut BTreeMap::new()).await?;
    relay.take().await;
    // Per operation: the emulator's time for it alone.
    let mut alone: BTreeMap<String, Samples> = BTreeMap::new();
    let (mut reach, mut busy, mut total) =
        (Samples::default(), Samples::default(), Samples::default());
    let mut rounds = Vec::new();
    for _ in 0..TRACE_RUNS {
        let started = Instant::now();
        status_of(&aws).await?;
        let took = started.elapsed();
        let round = relay.take().await;
        single_calls(&aws, &mut BTreeMap::new()).await?;
        for s in relay.take().await {
            alone.entry(s.op.clone()).or_default().push(s.took());
        }
        let (Some(first), Some(last)) = (
            round.iter().map(|s| s.start).min(),
            round.iter().map(|s| s.end).max(),
        ) else {
            return Err(anyhow!("status made no call through the relay"));
        };
        reach.push_duration(first.duration_since(started));
        busy.push_duration(last.duration_since(first));
        total.push_duration(took);
        rounds.push((started, round));
    }
    drop(proxy);
    // The emulator's times for the round's calls made alone, added up:
    // their medians, and their quickest (the emulator's own work with the
    // least noise from the rest of the machine).
    let (_, any_round) = rounds.first().context("no traced run")?;
    let add_up = |f: fn(&Samples) -> f64| -> f64 {
        any_round
            .iter()
            .map(|s| alone.get(&s.op).map_or(0.0, f))
            .sum()
    };
    let (summed, quickest) = (add_up(Samples::median), add_up(Samples::min));
    // The run whose time is the median's, call by call.
    let mut order: Vec<usize> = (0..rounds.len()).collect();
    order.sort_by(|a, b| total.0[*a].total_cmp(&total.0[*b]));
    let (started, round) = &rounds[order[order.len() / 2]];
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e3);
    let mut table = String::from(
        "| call (status's median run) | reaches the emulator | answered | \
         the emulator's time for it alone |\n|---|---|---|---|\n",
    );
    for s in round {
        table.push_str(&format!(
            "| `{}` | {} ms | {} ms | {} |\n",
            s.op,
            ms(s.start.duration_since(*started)),
            ms(s.end.duration_since(*started)),
            alone
                .get(&s.op)
                .map_or_else(|| "–".to_owned(), |a| a.show(Unit::Ms)),
        ));
    }
    Ok(format!(
        "Where the time goes: {TRACE_RUNS} more runs of status with the account known, each \
         followed by its calls alone, through a second fault proxy (the same +{} ms, added \
         before a call is forwarded) whose upstream is a byte relay in front of the emulator \
         that notes when each call reaches the emulator and when its answer ends (the timed \
         runs above do not pass through it). Status's first call reaches the emulator {} \
         after status starts ({} ms of it the proxy's delay); from then until its last answer \
         the emulator is busy {} for status's {} calls, while the emulator's times for the same \
         calls made alone add up to {} (their medians; their quickest: {}); status takes {} in \
         these runs.\n\n{table}",
        LATENCY.as_millis(),
        reach.show(Unit::Ms),
        LATENCY.as_millis(),
        busy.show(Unit::Ms),
        round.len(),
        Unit::Ms.fmt(summed),
        Unit::Ms.fmt(quickest),
        total.show(Unit::Ms),
    ))
}

/// Of the calls in `singles` that status makes in its one round (`ops`),
/// the one whose median made alone is the slowest, with its samples.
fn slowest_of<'a>(
    singles: &'a BTreeMap<&'static str, Samples>,
    ops: &BTreeSet<String>,
) -> Result<(&'static str, &'a Samples)> {
    singles
        .iter()
        .filter(|(op, _)| ops.contains(**op))
        .map(|(op, s)| (*op, s))
        .max_by(|a, b| a.1.median().total_cmp(&b.1.median()))
        .context("no single call timed")
}

pub fn figure_14(
    sizes: &Sizes,
    moto: &Moto,
    src: &std::path::Path,
    rep: &mut Report,
) -> Result<()> {
    eprintln!("[bench] figure 14: status, every call +50 ms");
    moto.reset()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let proxy = FaultProxy::start(&moto.endpoint())?;
    let endpoint = proxy.endpoint();
    let provider = rt.block_on(InProcess::new(&endpoint))?;
    rt.block_on(provider.create_with(NAME, src, true))?;
    proxy.add_rule(Rule::any().delay(LATENCY));
    let settings = AwsSettings {
        region: Some(REGION.to_owned()),
        access_key: Some("test".to_owned()),
        secret_key: Some("test".to_owned()),
        endpoint_url: Some(endpoint.clone()),
        ..AwsSettings::default()
    };
    // Bare static keys: status does not know the account before its
    // first answers.
    let bare = rt.block_on(AwsClients::connect(&settings))?;
    // The same keys, with the account they belong to (what AWS_ACCOUNT_ID
    // adds to keys from the environment).
    let aws = rt.block_on(AwsClients::connect(&AwsSettings {
        account_id: Some(ACCOUNT.to_owned()),
        ..settings.clone()
    }))?;
    // Warm-up: connections, and the emulator's first use of each service.
    let warm = rt.block_on(status_of(&aws))?;
    let warm_bare = rt.block_on(status_of(&bare))?;
    let mut singles = BTreeMap::new();
    rt.block_on(single_calls(&aws, &mut BTreeMap::new()))?;

    let repeats = sizes.critical_repeats.max(3);
    let (mut status, mut status_bare) = (Samples::default(), Samples::default());
    let (mut calls, mut calls_bare) = (0, 0);
    // The operations status makes with the account known: its baseline is
    // the slowest of these alone.
    let mut ops = BTreeSet::new();
    for _ in 0..repeats {
        for (clients, samples, count, known) in [
            (&aws, &mut status, &mut calls, true),
            (&bare, &mut status_bare, &mut calls_bare, false),
        ] {
            proxy.clear_calls();
            let start = Instant::now();
            rt.block_on(status_of(clients))?;
            samples.push_duration(start.elapsed());
            let made = proxy.calls();
            *count = made.len();
            if known {
                ops.extend(made.into_iter().map(|c| c.op));
            }
        }
        rt.block_on(single_calls(&aws, &mut singles))?;
    }
    // The same again with every call forwarded at once and answered no
    // sooner than LATENCY after it was sent: calls in flight together take
    // LATENCY together, as AWS serves them side by side, unless the
    // emulator needs longer for them.
    proxy.clear_rules();
    proxy.add_rule(Rule::any().taking_at_least(LATENCY));
    rt.block_on(status_of(&aws))?;
    let (mut side, mut side_singles) = (Samples::default(), BTreeMap::new());
    for _ in 0..repeats {
        let start = Instant::now();
        rt.block_on(status_of(&aws))?;
        side.push_duration(start.elapsed());
        rt.block_on(single_calls(&aws, &mut side_singles))?;
    }
    drop(proxy);
    let trace = rt.block_on(trace(moto, &settings))?;
    eprintln!("[bench] figure 14: {trace}");
    moto.reset()?;

    let (slowest_op, slowest_samples) = slowest_of(&singles, &ops)?;
    let slowest = slowest_samples.median();
    rep.row(Row {
        figure: "14",
        what: format!(
            "`eventpipe status` ({calls} calls), every call +{} ms before it reaches the \
             emulator, the account known up front",
            LATENCY.as_millis()
        ),
        result: status.show(Unit::Ms),
        baseline: format!(
            "the slowest single call it makes, `{slowest_op}`: {}",
            slowest_samples.show(Unit::Ms)
        ),
        ratio: ratio(status.median(), slowest),
        target: "report: the emulator answers the round's calls one at a time (the next row \
                 and the section)"
            .into(),
        met: None,
    });
    let (side_op, side_samples) = slowest_of(&side_singles, &ops)?;
    let side_slowest = side_samples.median();
    rep.row(Row {
        figure: "14",
        what: format!(
            "`eventpipe status` ({calls} calls), the account known up front, every call \
             answered {} ms after it is sent at the soonest (forwarded at once, so calls in \
             flight together take that long together, as AWS serves them side by side, \
             unless the emulator needs longer)",
            LATENCY.as_millis()
        ),
        result: side.show(Unit::Ms),
        baseline: format!(
            "the slowest single call it makes, the same way, `{side_op}`: {}",
            side_samples.show(Unit::Ms)
        ),
        ratio: ratio(side.median(), side_slowest),
        target: "≤ 1.3×".into(),
        met: Some(side.median() / side_slowest <= 1.3),
    });
    // Without the account (bare static keys) the bucket is known only
    // from the function's tags, and a queue's counts only by the URL
    // GetQueueUrl gives, so two calls follow one another.
    let worst = |ops: &[&str]| {
        ops.iter()
            .filter_map(|op| singles.get(op).map(Samples::median))
            .fold(0.0, f64::max)
    };
    let depth = worst(&["lambda:GetFunction", "sqs:GetQueueUrl"])
        + worst(&[
            "s3:GetBucketNotificationConfiguration",
            "sqs:GetQueueAttributes",
        ]);
    rep.row(Row {
        figure: "14",
        what: format!(
            "`eventpipe status` ({calls_bare} calls) with bare static keys (no account up front)"
        ),
        result: status_bare.show(Unit::Ms),
        baseline: format!(
            "two dependent calls, GetFunction or GetQueueUrl then the bucket's notifications or \
             the queue's counts, the slowest of each alone, one after the other: {}",
            Unit::Ms.fmt(depth)
        ),
        ratio: ratio(status_bare.median(), depth),
        target: "≤ 1.3× (of its two rounds)".into(),
        met: Some(status_bare.median() / depth <= 1.3),
    });
    let mut table = format!(
        "| call, made alone | every call +{0} ms | answered {0} ms after it is sent at the \
         soonest |\n|---|---|---|\n",
        LATENCY.as_millis()
    );
    for (op, s) in &singles {
        let mark = if ops.contains(*op) {
            ""
        } else {
            " (bare static keys only)"
        };
        let side = side_singles
            .get(op)
            .map_or_else(|| "–".to_owned(), |s| s.show(Unit::Ms));
        table.push_str(&format!(
            "| `{op}`{mark} | {} | {side} |\n",
            s.show(Unit::Ms)
        ));
    }
    let body = format!(
        "A pipeline with `on_failure {{}}` made by the provider in this process; the fault \
         proxy then adds {} ms to every call. `eventpipe status`'s own code \
         (`cli::status::report`) runs {repeats} times after one warm-up (healthy: {}); after \
         each run every call it makes is made again alone, one after another, through the same \
         wrappers. With the account known up front (the credentials name it, as \
         `AWS_ACCOUNT_ID`, a profile's `aws_account_id`, SSO or an assumed role do; or \
         `--state`) status makes its {calls} calls in one round, all at once: the function \
         (with the ownership check), its invoke configuration and mappings, the alarms, the \
         metrics (queue ages by the queues' names, the iterator age by the function's), the \
         queues' counts at the URLs SQS forms from the account (no GetQueueUrl), kept when the \
         answer's queue ARN is the queue's, and the notifications of the bucket the pipeline \
         derives from its name and the account (with `--state`, the state's bucket), kept \
         when the function's tag names that bucket. A guess that does not hold (another \
         queue's ARN, a refusal, no such queue where the function's settings name one) is \
         asked again by name, GetQueueUrl then the counts, in a second round, so it costs \
         time, never a wrong report. The baseline is the slowest, made alone, of the calls \
         status makes in its one round. With bare static keys (healthy: {}) the account is not known before an \
         answer: the bucket's notifications follow GetFunction and each queue's counts follow \
         its GetQueueUrl ({calls_bare} calls, two rounds deep); that is the second row, \
         measured against its own two-call floor. The third row runs status and its calls \
         alone {repeats} more times, alternating, with every call forwarded to the emulator \
         at once and answered no sooner than {} ms after it was sent: the first two rows add \
         the latency before the emulator, whose one interpreter then answers the round's \
         calls one after another, so their own times add up on top of it (the trace below \
         measures that); AWS serves them side by side. The emulator's time still shows \
         where it is longer than the latency.\n\n{table}\n{trace}",
        LATENCY.as_millis(),
        warm.healthy,
        warm_bare.healthy,
        LATENCY.as_millis(),
    );
    rep.section("14. `eventpipe status`", body);
    Ok(())
}
