//! Figure 8: what `create_bucket = false` adds to a plan, and what the
//! plan-time looks of a create add. The plan of a pipeline on an existing
//! bucket reads that bucket (its region and its notification
//! configurations, once per bucket); the plan of any created pipeline looks
//! whether its names are free (`s3:HeadBucket` for a bucket it makes,
//! `lambda:GetFunction`, and `lambda:GetAccountSettings` with
//! `reserved_concurrency`). Measured against an earlier release's plan of
//! the same pipelines with owned buckets, with that provider built from its
//! commit and given as `--baseline-provider` (its version as
//! `--baseline-label`, 0.1.0 unless said), in the same run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use tests::fault_proxy::FaultProxy;
use tests::{Moto, ProviderMirror, TerraformCli};

use crate::direct::Clients;
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio};
use crate::{Sizes, tf};

/// The bench pipelines of [`tf::pipelines_hcl`], each on the existing
/// bucket `<prefix>-<i>-existing` instead of a bucket of its own.
pub fn existing_bucket_hcl(prefix: &str, count: usize, source_dir: &Path) -> String {
    tf::pipelines_hcl_with(prefix, count, source_dir, |i| {
        format!("create_bucket = false\n  bucket_name   = \"{prefix}-{i}-existing\"")
    })
}

/// One configuration of the figure: its plan times and its AWS calls.
struct Variant {
    label: String,
    ws: tf::Ws,
    counted: tf::Ws,
    times: Samples,
    calls: BTreeMap<String, usize>,
}

#[allow(clippy::too_many_arguments)]
pub fn figure_8(
    sizes: &Sizes,
    terraform: &TerraformCli,
    moto: &Moto,
    mirror: &ProviderMirror,
    baseline: Option<(&ProviderMirror, &str)>,
    src: &Path,
    rep: &mut Report,
) -> Result<()> {
    eprintln!("[bench] figure 8: plan cost of create_bucket = false");
    let n = sizes.pipelines;
    let repeats = sizes.repeats;
    moto.reset()?;
    // The existing buckets, made the way another team would have made them.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let clients = Clients::new(&moto.endpoint());
    rt.block_on(async {
        for i in 0..n {
            clients
                .s3
                .create_bucket()
                .bucket(format!("existing-{i}-existing"))
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("creating a bucket: {e:?}"))?;
        }
        Ok::<_, anyhow::Error>(())
    })?;

    let proxy = FaultProxy::start(&moto.endpoint())?;
    let variant = |label: &str, m: &ProviderMirror, hcl: &str| -> Result<Variant> {
        let ws = tf::workspace(terraform, Some(m), moto)?;
        ws.write("main.tf", hcl)?;
        ws.init()?;
        let mut counted = tf::workspace(terraform, Some(m), moto)?;
        counted.env("AWS_ENDPOINT_URL", proxy.endpoint());
        counted.write("main.tf", hcl)?;
        counted.init()?;
        Ok(Variant {
            label: label.to_owned(),
            ws,
            counted,
            times: Samples::default(),
            calls: BTreeMap::new(),
        })
    };
    let mut variants = vec![
        variant(
            "now, `create_bucket = false` (existing buckets)",
            mirror,
            &existing_bucket_hcl("existing", n, src),
        )?,
        variant(
            "now, owned buckets",
            mirror,
            &tf::pipelines_hcl("owned", n, src),
        )?,
    ];
    if let Some((b, version)) = baseline {
        variants.push(variant(
            &format!("{version}, owned buckets"),
            b,
            &tf::pipelines_hcl("owned", n, src),
        )?);
    }
    // Calls: one untimed plan of each through the recording proxy.
    for v in &mut variants {
        tf::run_timed(&v.ws, &["plan"])?;
        proxy.clear_calls();
        tf::run_timed(&v.counted, &["plan"])?;
        v.calls = proxy.counts();
    }
    drop(proxy);
    for _ in 0..repeats {
        for v in &mut variants {
            v.times.push_duration(tf::run_timed(&v.ws, &["plan"])?);
        }
    }

    let total = |c: &BTreeMap<String, usize>| c.values().sum::<usize>();
    let ours = &variants[0];
    let base = variants.last().unwrap_or(ours);
    let extra_calls = total(&ours.calls) as f64 - total(&base.calls) as f64;
    let per = |s: &Samples| s.median() / n as f64;
    rep.row(Row {
        figure: "8",
        what: format!("`terraform plan` (create) of {n} pipelines on existing buckets"),
        result: format!(
            "{} ({} per pipeline), {} AWS calls",
            ours.times.show(Unit::Ms),
            Unit::Ms.fmt(per(&ours.times)),
            total(&ours.calls)
        ),
        baseline: format!(
            "{}: {} ({} per pipeline), {} AWS calls",
            base.label,
            base.times.show(Unit::Ms),
            Unit::Ms.fmt(per(&base.times)),
            total(&base.calls)
        ),
        ratio: ratio(ours.times.median(), base.times.median()),
        target: "report: calls and time added per pipeline".into(),
        met: None,
    });

    let mut ops: Vec<&String> = variants.iter().flat_map(|v| v.calls.keys()).collect();
    ops.sort();
    ops.dedup();
    let mut table = String::from("| Operation |");
    for v in &variants {
        let _ = write!(table, " {} |", v.label);
    }
    table.push_str("\n|---|");
    table.push_str(&"---|".repeat(variants.len()));
    table.push('\n');
    for op in ops {
        let _ = write!(table, "| `{op}` |");
        for v in &variants {
            let c = v.calls.get(op).copied().unwrap_or(0);
            let _ = write!(table, " {c} ({:.2} per pipeline) |", c as f64 / n as f64);
        }
        table.push('\n');
    }
    table.push_str("| **total** |");
    for v in &variants {
        let _ = write!(table, " **{}** |", total(&v.calls));
    }
    table.push_str("\n| `terraform plan` |");
    for v in &variants {
        let _ = write!(
            table,
            " {} ({} per pipeline) |",
            v.times.show(Unit::Ms),
            Unit::Ms.fmt(per(&v.times))
        );
    }
    table.push('\n');
    let time_added = (ours.times.median() - base.times.median()) / n as f64;
    let body = format!(
        "Command: `terraform plan` from an empty state (a create plan) of {n} pipelines, \
         {repeats} runs of each configuration, in turn. Ours: each pipeline on its own \
         bucket that exists before the plan (made by the bench with the SDK, untagged), with \
         `create_bucket = false`. Baselines, in the same run: the same pipelines with buckets \
         of their own (`create_bucket` left at `true`), planned by this provider{}. The AWS calls of each plan were counted in one more, untimed plan through the \
         recording proxy (`tests::fault_proxy`).\n\n{table}\n\
         `create_bucket = false` adds {:+.0} calls to the plan of {n} pipelines against {} \
         ({:+.2} per pipeline: the look at each bucket, `s3:HeadBucket` for its region and \
         `s3:GetBucketNotificationConfiguration` for the configurations a trigger must not \
         overlap, and `s3:GetBucketEncryption` for the key its objects are encrypted with \
         (`kms:DescribeKey` follows only for a bucket under a KMS key it names; these buckets \
         are SSE-S3), all concurrent within a pipeline, besides `lambda:GetFunction`, which \
         every create's plan makes, see below), and {} per pipeline.{}",
        match baseline {
            Some((_, version)) => {
                format!(" and by {version} (built from its commit, `--baseline-provider`)")
            }
            None => " (no `--baseline-provider` was given, so no earlier release was measured)"
                .to_owned(),
        },
        extra_calls,
        base.label,
        extra_calls / n as f64,
        format_args!("{:+.1} ms", time_added * 1e3),
        if baseline.is_some() {
            ""
        } else {
            " Without `--baseline-provider` the baseline is this provider's owned-bucket plan."
        },
    );
    // The looks of a create: this provider's owned-bucket plan against
    // the earlier release's (0.1.0 and 0.2.0 made none).
    let owned_now = &variants[1];
    let looks = match variants.get(2) {
        Some(old) => {
            let added = total(&owned_now.calls) as f64 - total(&old.calls) as f64;
            let time = (owned_now.times.median() - old.times.median()) / n as f64;
            rep.row(Row {
                figure: "8",
                what: format!(
                    "plan-time looks of a create: `terraform plan` of {n} pipelines with owned \
                     buckets"
                ),
                result: format!(
                    "{:+.2} AWS calls per created pipeline, {:+.1} ms per pipeline",
                    added / n as f64,
                    time * 1e3
                ),
                baseline: format!("{}: {} AWS calls", old.label, total(&old.calls)),
                ratio: ratio(owned_now.times.median(), old.times.median()),
                target: "report: calls and time added per created pipeline".into(),
                met: None,
            });
            format!(
                "\n\nThe plan of a create looks whether the names it would take are free \
                 (`s3:HeadBucket` for the bucket it makes, `lambda:GetFunction` for the \
                 function; `lambda:GetAccountSettings` too when `reserved_concurrency` is set, \
                 not in these pipelines), concurrently with its other calls: {:+.0} calls for \
                 {n} created pipelines against {}'s owned-bucket plan ({:+.2} per created \
                 pipeline), and {:+.1} ms per pipeline. Terraform plans a create twice in an \
                 `apply` (the plan, then again at apply), so an apply makes these looks twice.",
                added,
                old.label.trim_end_matches(", owned buckets"),
                added / n as f64,
                time * 1e3
            )
        }
        None => "\n\nThe plan of a create also looks whether the names it would take are \
                 free (`s3:HeadBucket`, `lambda:GetFunction`, and `lambda:GetAccountSettings` \
                 with `reserved_concurrency`); without `--baseline-provider` they are counted \
                 in the owned-bucket column only."
            .to_owned(),
    };
    rep.section(
        "8. Plan cost of `create_bucket = false`",
        format!("{body}{looks}"),
    );
    Ok(())
}
