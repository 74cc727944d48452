//! Figure 14 (the `replay` part): `eventpipe replay` of N failure records
//! with every AWS call delayed by 50 ms in the fault proxy, bounded
//! concurrency (the default, 16 in flight) against one at a time (the same
//! code with `--concurrency 1`), records/s, and the command's peak RSS
//! (the command's own `ru_maxrss`, from GNU time).
//!
//! The pipeline (`on_failure {}`) is made by Terraform on the emulator; the
//! records, Lambda's on-failure records of S3 events in AWS's shape, are put
//! on its failure queue straight into the emulator, ten at a time.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;
use tests::fault_proxy::{FaultProxy, Rule};
use tests::{Moto, ProviderMirror, TerraformCli};

use crate::report::{Report, Row};
use crate::stats::{Samples, Unit};
use crate::tf;

const LATENCY: Duration = Duration::from_millis(50);
const NAME: &str = "replay-0";
/// The target's megabyte, as the report's (10^6 bytes).
const MB: f64 = 1e6;

/// The emulator's SQS (moto 5.2.5) checks every message it hands out
/// against the queue's retention period by computing all of the queue's
/// attributes, three counts over every message in the queue among them: a
/// ReceiveMessage of ten from a queue of 1000 costs it ~0.6 s of its one
/// interpreter, so its receives alone take tens of seconds for this
/// figure and bound any client, one at a time or not. For this figure the
/// emulator reads only the retention period for that check: the same
/// answer, in time independent of the queue's length (a receive of ten
/// from 1000: ~16 ms). Loaded as `sitecustomize` through `PYTHONPATH`;
/// the marker line it prints shows in the emulator's log.
const RETENTION_CHECK: &str = r#"import sys
from moto.sqs import models as _sqs
from moto.core.utils import unix_time as _unix_time


def _retained(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retention = int(queue.message_retention_period)
    return retention + message.sent_timestamp / 1000 > _unix_time()


_sqs.SQSBackend.is_message_valid_based_on_retention_period = _retained
print("bench: SQS retention check reads the retention period only", file=sys.stderr)
"#;
const RETENTION_MARKER: &str = "bench: SQS retention check reads the retention period only";

/// An emulator whose receives cost the same however long the queue (see
/// [`RETENTION_CHECK`]); the directory holding the patch lives as long.
fn fast_receive_moto() -> Result<(Moto, tempfile::TempDir)> {
    let dir = tempfile::tempdir().context("a directory for the emulator patch")?;
    std::fs::write(dir.path().join("sitecustomize.py"), RETENTION_CHECK)
        .context("writing sitecustomize.py")?;
    let path = dir.path().to_str().context("a UTF-8 temporary path")?;
    let moto = Moto::start_with_env(&[("PYTHONPATH", path)])?;
    if !moto.log().contains(RETENTION_MARKER) {
        bail!("figure 14: the emulator did not load the retention check patch");
    }
    Ok((moto, dir))
}

/// One run of the command: seconds and peak RSS in bytes.
struct Measured {
    seconds: f64,
    rss: f64,
}

fn record(i: usize) -> String {
    let key = format!("in/{i:06}.json");
    json!({
        "version": "1.0",
        "timestamp": "2026-12-06T12:00:05.568Z",
        "requestContext": {
            "requestId": format!("bench-{i}"),
            "functionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:{NAME}:$LATEST"),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": {"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0",
                   "bucket": {"name": "bench-bucket", "arn": "arn:aws:s3:::bench-bucket"},
                   "object": {"key": key, "size": 1024}}
        }]},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom"}
    })
    .to_string()
}

/// Puts `n` records on the queue at `url`, ten per call.
fn fill(aws: &tests::Aws, url: &str, n: usize) -> Result<()> {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    for start in (0..n).step_by(10) {
        let entries = (start..(start + 10).min(n))
            .map(|i| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("r{i}"))
                    .message_body(record(i))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = aws
            .block_on(
                aws.sqs()
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(entries))
                    .send(),
            )
            .context("SendMessageBatch")?;
        if !out.failed().is_empty() {
            bail!("figure 14: {} records not put", out.failed().len());
        }
    }
    Ok(())
}

/// GNU time, which starts the command from its own small process and
/// writes the command's `ru_maxrss`. Started straight from this process,
/// the command's `ru_maxrss` would be at least this process's RSS: Linux
/// keeps the high-water RSS of the image an exec replaces (here a copy of
/// this process) in the new image's `ru_maxrss`.
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `eventpipe replay` through `endpoint` under [`GNU_TIME`].
fn replay(eventpipe: &Path, endpoint: &str, concurrency: u16) -> Result<Measured> {
    if !Path::new(GNU_TIME).is_file() {
        bail!("figure 14 needs GNU time at {GNU_TIME} (Debian package `time`) for the peak RSS");
    }
    let rss_file = tempfile::NamedTempFile::new().context("a file for the peak RSS")?;
    let start = Instant::now();
    let status = Command::new(GNU_TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file.path())
        .arg(eventpipe)
        .args([
            "replay",
            NAME,
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
            "--json",
        ])
        .args(["--concurrency", &concurrency.to_string()])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("starting {} under {GNU_TIME}", eventpipe.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("figure 14: eventpipe replay exited with {status}");
    }
    let text = std::fs::read_to_string(rss_file.path()).context("reading the peak RSS")?;
    let kb: f64 = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("{GNU_TIME} wrote no peak RSS: {text:?}"))?;
    Ok(Measured {
        seconds,
        rss: kb * 1024.0,
    })
}

/// The queue must be empty after a replay (all records sent and deleted).
fn assert_empty(aws: &tests::Aws, url: &str) -> Result<()> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let out = aws
        .block_on(
            aws.sqs()
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::All)
                .send(),
        )
        .context("GetQueueAttributes")?;
    let a = out.attributes().cloned().unwrap_or_default();
    for k in [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ] {
        if a.get(&k).is_some_and(|v| v != "0") {
            bail!("figure 14: the failure queue is not empty after replay ({k:?})");
        }
    }
    Ok(())
}

/// Runs figure 14's replay part and adds its row and section.
pub fn figure_14(
    opts: &crate::Opts,
    terraform: &TerraformCli,
    mirror: &ProviderMirror,
    src: &Path,
    rep: &mut Report,
) -> Result<()> {
    eprintln!("[bench] figure 14: replay");
    let (moto, _patch) = fast_receive_moto()?;
    let moto = &moto;
    let (records, repeats) = if opts.sizes.quick { (30, 1) } else { (1000, 3) };
    let eventpipe = opts.provider.with_file_name("eventpipe");
    if !eventpipe.is_file() {
        bail!("figure 14 needs {}", eventpipe.display());
    }
    let ws = tf::workspace(terraform, Some(mirror), moto)?;
    let hcl = tf::pipelines_hcl("replay", 1, src).replace(
        "  tags          = { bench = \"true\" }\n",
        "  tags          = { bench = \"true\" }\n  on_failure {}\n",
    );
    if !hcl.contains("on_failure {}") {
        bail!("figure 14: the pipeline has no on_failure block");
    }
    ws.write("main.tf", &hcl)?;
    ws.init()?;
    ws.apply_auto()?;
    let aws = moto.aws()?;
    let url = aws
        .block_on(
            aws.sqs()
                .get_queue_url()
                .queue_name(format!("{NAME}-failed"))
                .send(),
        )
        .context("GetQueueUrl")?
        .queue_url()
        .context("no queue URL")?
        .to_owned();
    let proxy = FaultProxy::start(&moto.endpoint())?;
    // The emulator runs each Invoke in its one interpreter (~5 ms of it
    // each, 1000 of them ~5 s, one at a time however many are sent at
    // once), which would measure the emulator, not replay: the proxy
    // answers Invoke itself, as Lambda answers an asynchronous invoke
    // (202, no body), after the same latency. It still counts and keeps
    // every Invoke, so the check below holds.
    proxy.add_rule(
        Rule::on("lambda:Invoke")
            .answer(202, &[("x-amzn-RequestId", "bench-replay")], b"")
            .after(LATENCY),
    );
    proxy.add_rule(Rule::any().delay(LATENCY));
    let (mut bounded, mut serial) = (Samples::default(), Samples::default());
    let mut rss = Samples::default();
    for _ in 0..repeats {
        for (concurrency, samples) in [(crate::REPLAY_CONCURRENCY, &mut bounded), (1, &mut serial)]
        {
            fill(&aws, &url, records)?;
            proxy.clear_calls();
            let m = replay(&eventpipe, &proxy.endpoint(), concurrency)?;
            assert_empty(&aws, &url)?;
            let invokes = proxy.count("lambda:Invoke");
            if invokes != records {
                bail!("figure 14: {invokes} invokes for {records} records");
            }
            samples.push(m.seconds);
            rss.push(m.rss);
        }
    }
    ws.destroy_auto()?;
    let rate = |s: &Samples| records as f64 / s.median();
    let speedup = serial.median() / bounded.median();
    rep.row(Row {
        figure: "14",
        what: format!(
            "`eventpipe replay` of {records} failure records, every call +{} ms",
            LATENCY.as_millis()
        ),
        result: format!(
            "{} ({:.0} records/s)",
            bounded.show(Unit::S),
            rate(&bounded)
        ),
        baseline: format!(
            "one at a time (`--concurrency 1`): {} ({:.0} records/s)",
            serial.show(Unit::S),
            rate(&serial)
        ),
        ratio: format!("{speedup:.1}× faster"),
        target: "≥ 10× faster".into(),
        met: Some(speedup >= 10.0),
    });
    rep.row(Row {
        figure: "14",
        what: "Peak RSS of `eventpipe replay`".into(),
        result: rss.show(Unit::Mb),
        baseline: "—".into(),
        ratio: "—".into(),
        target: "≤ 32 MB".into(),
        met: Some(rss.max() <= 32.0 * MB),
    });
    rep.section(
        "14. Replay",
        format!(
            "One pipeline with `on_failure {{}}` applied by Terraform {} on an emulator of its \
             own; {records} Lambda on-failure records (AWS's shape, an S3 event each) put on its \
             failure queue straight into the emulator before each run. The release `eventpipe \
             replay` then runs through `tests::fault_proxy` with {} ms added to every call: \
             ReceiveMessage ten at a time, an asynchronous Invoke per record, DeleteMessageBatch \
             per ten. Ours: {} in flight (the default); baseline: the same binary with \
             `--concurrency 1`, alternating, {} runs each. After each run the queue is empty and \
             the proxy saw exactly {records} Invoke calls. Peak RSS is the command's own \
             `ru_maxrss`, written by GNU time, over every run (read with `wait4` straight from \
             the bench, it would include the bench's own RSS: Linux keeps the high-water RSS \
             of the image an exec replaces). The emulator's SQS (moto 5.2.5) checks each \
             message it hands out against the queue's retention by computing every attribute \
             of the queue, three counts over all its messages among them: a ReceiveMessage of \
             ten from a queue of 1000 costs it ~0.6 s of its single interpreter, and its \
             receives alone (~40 s for 1000 records) bound both runs, so the emulator for this \
             figure loads a `sitecustomize` that makes that check read only the retention \
             period: the same answer, in time independent of the queue's length (~16 ms for \
             ten of 1000). The emulator also runs each Invoke in that one interpreter (~5 ms \
             each, one at a time however many arrive at once), so the proxy answers every \
             `lambda:Invoke` itself, as Lambda answers an asynchronous invoke (202, no body), \
             after the same {} ms, without forwarding it; it still records each one, which is \
             what the count of 1000 checks. ReceiveMessage, DeleteMessageBatch and every \
             lookup still go to the emulator.",
            terraform.label,
            LATENCY.as_millis(),
            crate::REPLAY_CONCURRENCY,
            bounded.len(),
            LATENCY.as_millis(),
        ),
    );
    Ok(())
}
