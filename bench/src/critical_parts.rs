//! Figure 9: the create's critical path with the function's log group and
//! the failure queue (`on_failure {}`), against figure 5's dependency-chain
//! baseline, every call +50 ms. The provider is driven in this process as in
//! figure 5; the script makes figure 5's minimal calls and the log group's,
//! the queue's and the invoke configuration's, one after another, each
//! timed, and the bounds follow the dependencies through those latencies.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use tests::Moto;
use tests::fault_proxy::{FaultProxy, Rule};

use crate::Sizes;
use crate::direct::{self, CallTimes, Clients, InProcess, REGION, Step};
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio};

const ACCOUNT: &str = "123456789012";
const LATENCY: Duration = Duration::from_millis(50);

/// The latencies of the log group's, the queue's and the invoke
/// configuration's minimal calls.
#[derive(Debug, Default, Clone, Copy)]
struct Extra {
    create_group: Duration,
    retention: Duration,
    create_queue: Duration,
    invoke_config: Duration,
}

async fn timed_call<T, E: std::fmt::Debug>(
    op: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<Duration> {
    let start = Instant::now();
    fut.await.map_err(|e| anyhow!("{op}: {e:?}"))?;
    Ok(start.elapsed())
}

/// The extra calls for the pipeline `name` (whose function exists).
async fn extra_calls(c: &Clients, name: &str) -> Result<Extra> {
    let group = format!("/aws/lambda/{name}");
    let queue = format!("{name}-failed");
    let create_group = timed_call(
        "logs:CreateLogGroup",
        c.logs
            .create_log_group()
            .log_group_name(&group)
            .tags("eventpipe:pipeline", name)
            .send(),
    )
    .await?;
    let retention = timed_call(
        "logs:PutRetentionPolicy",
        c.logs
            .put_retention_policy()
            .log_group_name(&group)
            .retention_in_days(30)
            .send(),
    )
    .await?;
    let create_queue = timed_call(
        "sqs:CreateQueue",
        c.sqs
            .create_queue()
            .queue_name(&queue)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::MessageRetentionPeriod,
                "1209600",
            )
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::SqsManagedSseEnabled,
                "true",
            )
            .tags("eventpipe:pipeline", name)
            .send(),
    )
    .await?;
    let destination = aws_sdk_lambda::types::DestinationConfig::builder()
        .on_failure(
            aws_sdk_lambda::types::OnFailure::builder()
                .destination(format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"))
                .build(),
        )
        .build();
    let invoke_config = timed_call(
        "lambda:PutFunctionEventInvokeConfig",
        c.lambda
            .put_function_event_invoke_config()
            .function_name(name)
            .maximum_retry_attempts(2)
            .maximum_event_age_in_seconds(21600)
            .destination_config(destination)
            .send(),
    )
    .await?;
    Ok(Extra {
        create_group,
        retention,
        create_queue,
        invoke_config,
    })
}

/// Figure 5's chain with the new parts: the function waits for its log group
/// (made and given its retention first, so Lambda never makes it); the
/// invoke configuration needs the function and the queue.
fn bound_with_parts(t: &CallTimes, e: &Extra) -> Duration {
    let of = |s: Step| t.sum_of(&[s.op()]);
    let bucket = of(Step::CreateBucket)
        + of(Step::TagBucket)
        + of(Step::BlockPublicAccess)
        + of(Step::EncryptBucket);
    let ready = of(Step::CreateRole)
        .max(of(Step::Package))
        .max(e.create_group + e.retention);
    let function = ready + of(Step::CreateFunction);
    let permission = function + of(Step::AddPermission);
    let policy = of(Step::CreateRole) + of(Step::PutRolePolicy);
    let invoke = function.max(e.create_queue) + e.invoke_config;
    (bucket.max(permission) + of(Step::PutNotification))
        .max(policy)
        .max(invoke)
}

pub fn figure_9(sizes: &Sizes, moto: &Moto, src: &std::path::Path, rep: &mut Report) -> Result<()> {
    eprintln!("[bench] figure 9: create critical path with the log group and the failure queue");
    moto.reset()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let proxy = FaultProxy::start(&moto.endpoint())?;
    proxy.add_rule(Rule::any().delay(LATENCY));
    let endpoint = proxy.endpoint();
    let clients = Clients::new(&endpoint);
    let provider = rt.block_on(InProcess::new(&endpoint))?;
    rt.block_on(provider.create_with("warm9", src, true))?;
    rt.block_on(direct::create_pipeline(&clients, "warm9d", src))?;
    rt.block_on(extra_calls(&clients, "warm9d"))?;

    let repeats = sizes.critical_repeats.min(3);
    let (mut plain, mut parts) = (Samples::default(), Samples::default());
    let (mut bound5, mut bound9, mut latency) =
        (Samples::default(), Samples::default(), Samples::default());
    let mut calls = Vec::new();
    for r in 0..repeats {
        plain.push_duration(rt.block_on(provider.create(&format!("plain9-{r}"), src))?);
        parts.push_duration(rt.block_on(provider.create_with(
            &format!("parts9-{r}"),
            src,
            true,
        ))?);
        let name = format!("seq9-{r}");
        let t = rt.block_on(direct::create_pipeline(&clients, &name, src))?;
        let e = rt.block_on(extra_calls(&clients, &name))?;
        bound5.push_duration(direct::critical_path(&t));
        bound9.push_duration(bound_with_parts(&t, &e));
        for (op, d) in &t.0 {
            if !op.starts_with("zip") {
                latency.push_duration(*d);
            }
        }
    }
    proxy.clear_calls();
    rt.block_on(provider.create_with("calls9", src, true))?;
    calls.extend(proxy.calls().into_iter().map(|c| c.op));
    drop(proxy);
    moto.reset()?;

    let call = latency.median();
    let in_calls = |s: &Samples| s.median() / call;
    let added = in_calls(&parts) - in_calls(&bound5);
    rep.row(Row {
        figure: "9",
        what: format!(
            "Create with its log group and failure queue (`on_failure {{}}`), every call +{} ms",
            LATENCY.as_millis()
        ),
        result: parts.show(Unit::Ms),
        baseline: format!(
            "dependency chain with the same parts: {}",
            bound9.show(Unit::Ms)
        ),
        ratio: ratio(parts.median(), bound9.median()),
        target: "≤ 1.2× (figure 5's)".into(),
        met: Some(parts.median() / bound9.median() <= 1.2),
    });
    rep.row(Row {
        figure: "9",
        what: "Calls the log group and failure queue add to the create's chain".into(),
        result: format!(
            "{:.1} calls ({} vs figure 5's chain {}, at {} per call)",
            added - 1.0,
            Unit::Ms.fmt(parts.median()),
            Unit::Ms.fmt(bound5.median()),
            Unit::Ms.fmt(call)
        ),
        baseline: format!(
            "the bound itself grows {:.1} calls ({} → {})",
            in_calls(&bound9) - in_calls(&bound5),
            Unit::Ms.fmt(bound5.median()),
            Unit::Ms.fmt(bound9.median())
        ),
        ratio: ratio(parts.median(), bound5.median()),
        target: "≤ 1 call".into(),
        met: Some(added - 1.0 <= 1.0),
    });
    let body = format!(
        "The provider is configured against the emulator through `tests::fault_proxy` with \
         {} ms added to every call and driven in this process as in figure 5 \
         (`PlanResourceChange` untimed, `ApplyResourceChange` timed), {repeats} creates of \
         each configuration after one warm-up: figure 5's configuration (its log group is \
         made by default) and the same with `on_failure {{}}` (the queue `<name>-failed` and \
         the invoke configuration that sends failed events to it).\n\n\
         | | every call +{} ms |\n|---|---|\n\
         | provider create, figure 5's configuration (with the log group) | {} |\n\
         | provider create, with the log group and `on_failure {{}}` | {} |\n\
         | figure 5's dependency chain (no log group, no queue) | {} |\n\
         | the chain with the log group and the queue | {} |\n\
         | median latency of one call | {} |\n\n\
         The chain with the new parts: the function waits for its log group \
         (`logs:CreateLogGroup` with its tags, then `logs:PutRetentionPolicy`) beside the \
         role and the package; `sqs:CreateQueue` (attributes and tags in the call) runs \
         beside everything; `lambda:PutFunctionEventInvokeConfig` needs the function and the \
         queue and runs beside the permission and the notification. Calls added to the chain \
         = (provider create with the parts − figure 5's chain) ÷ one call's latency, less \
         the one call figure 5 already explains (the look, `s3:GetBucketTagging`, before \
         `CreateBucket`).\n\n\
         The provider's calls during one create with the parts, in the order they reached \
         the proxy ({} calls): {}.",
        LATENCY.as_millis(),
        LATENCY.as_millis(),
        plain.show(Unit::Ms),
        parts.show(Unit::Ms),
        bound5.show(Unit::Ms),
        bound9.show(Unit::Ms),
        Unit::Ms.fmt(call),
        calls.len(),
        calls
            .iter()
            .map(|op| format!("`{op}`"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    rep.section(
        "9. Create critical path with the log group and the failure queue",
        body,
    );
    Ok(())
}
