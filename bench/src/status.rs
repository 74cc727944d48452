//! Figure 14 (`status` part): `eventpipe status` against a pipeline with a
//! failure queue, every call +50 ms, against the slowest single call it
//! makes. The command's own code (`cli::status::report`) runs in this
//! process, twice over: with credentials that name their account (as
//! `AWS_ACCOUNT_ID`, a profile's `aws_account_id`, SSO or an assumed role
//! do), where every call is made in one round, and with bare static keys,
//! where the bucket and the queues' counts wait for a first answer. Each
//! of its calls is then made alone, one after another, through the same
//! wrappers, and timed.

use std::collections::BTreeMap;
use std::future::Future;
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
    let warm = rt
        .block_on(eventpipe::cli::status::report(&aws, NAME))
        .map_err(|e| anyhow!("status: {e}"))?;
    let warm_bare = rt
        .block_on(eventpipe::cli::status::report(&bare, NAME))
        .map_err(|e| anyhow!("status: {e}"))?;
    let mut singles = BTreeMap::new();
    rt.block_on(single_calls(&aws, &mut BTreeMap::new()))?;

    let repeats = sizes.critical_repeats.max(3);
    let (mut status, mut status_bare) = (Samples::default(), Samples::default());
    let (mut calls, mut calls_bare) = (0, 0);
    for _ in 0..repeats {
        for (clients, samples, count) in [
            (&aws, &mut status, &mut calls),
            (&bare, &mut status_bare, &mut calls_bare),
        ] {
            proxy.clear_calls();
            let start = Instant::now();
            rt.block_on(eventpipe::cli::status::report(clients, NAME))
                .map_err(|e| anyhow!("status: {e}"))?;
            samples.push_duration(start.elapsed());
            *count = proxy.calls().len();
        }
        rt.block_on(single_calls(&aws, &mut singles))?;
    }
    drop(proxy);
    moto.reset()?;

    let (slowest_op, slowest) = singles
        .iter()
        .map(|(op, s)| (*op, s.median()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .context("no single call timed")?;
    let slowest_samples = singles.get(slowest_op).cloned().unwrap_or_default();
    rep.row(Row {
        figure: "14",
        what: format!(
            "`eventpipe status` ({calls} calls), every call +{} ms, the account known up front",
            LATENCY.as_millis()
        ),
        result: status.show(Unit::Ms),
        baseline: format!(
            "the slowest single call it makes, `{slowest_op}`: {}",
            slowest_samples.show(Unit::Ms)
        ),
        ratio: ratio(status.median(), slowest),
        target: "≤ 1.3×".into(),
        met: Some(status.median() / slowest <= 1.3),
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
    let mut table = String::from("| call, made alone | every call +50 ms |\n|---|---|\n");
    for (op, s) in &singles {
        table.push_str(&format!("| `{op}` | {} |\n", s.show(Unit::Ms)));
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
         queues' URLs and, beside them, their counts at the URLs SQS forms from the account, \
         kept when the answer's queue ARN is the queue's, and the notifications of the bucket \
         the pipeline derives from its name and the account (with `--state`, the state's \
         bucket), kept when the function's tag names that bucket. A guess that does not hold \
         is asked again by the name found, in a second round, so it costs time, never a wrong \
         report. With bare static keys (healthy: {}) the account is not known before an \
         answer: the bucket's notifications follow GetFunction and each queue's counts follow \
         its GetQueueUrl ({calls_bare} calls, two rounds deep); that is the second row, \
         measured against its own two-call floor.\n\n{table}",
        LATENCY.as_millis(),
        warm.healthy,
        warm_bare.healthy,
    );
    rep.section("14. `eventpipe status`", body);
    Ok(())
}
