//! The seven figures, in the order of the issue, each beside its baseline.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tests::fault_proxy::{FaultProxy, Rule};
use tests::{Moto, ProviderMirror, TerraformCli, Workspace};

use crate::direct::{self, Clients, InProcess};
use crate::report::{Report, Row};
use crate::rss::RssMirror;
use crate::stats::{Samples, Unit, ratio, timed};
use crate::{Opts, Sizes, hashing, machine, report, startup, tf};

const MB: f64 = 1e6;
/// Added to every AWS call in the "AWS-like latency" runs of figure 5.
const LATENCY: std::time::Duration = std::time::Duration::from_millis(50);

pub fn run_all(opts: &Opts) -> Result<()> {
    let started = Instant::now();
    let sizes = &opts.sizes;
    let machine = machine::describe();
    tests::tools::ensure_tools()?;
    let terraform = newest_terraform()?;
    eprintln!(
        "[bench] provider {}, terraform {}",
        opts.provider.display(),
        terraform.label
    );
    let mut rep = Report::default();

    let wanted = |n: u8| sizes.only.is_empty() || sizes.only.contains(&n);
    let idle_rss = if wanted(1) || wanted(2) {
        figure_1(opts, &mut rep)?
    } else {
        Samples::default()
    };
    let moto = Moto::start()?;
    let src = tempfile::Builder::new()
        .prefix("eventpipe-bench-src-")
        .tempdir()?;
    std::fs::write(src.path().join("app.py"), tf::HANDLER)?;
    let plain = tempfile::Builder::new()
        .prefix("eventpipe-bench-mirror-")
        .tempdir()?;
    let mirror = ProviderMirror::create(plain.path(), &opts.provider)?;
    let rss = RssMirror::new(&opts.provider)?;

    if wanted(2) || wanted(3) || wanted(4) {
        figures_2_3_4(
            opts,
            &terraform,
            &moto,
            &mirror,
            &rss,
            src.path(),
            idle_rss,
            &mut rep,
        )?;
    }
    if wanted(5) {
        figure_5(sizes, &terraform, &moto, &mirror, src.path(), &mut rep)?;
    }
    if wanted(6) {
        figure_6(sizes, &mut rep)?;
    }
    if wanted(7) {
        figure_7(sizes, &terraform, &moto, &rss, src.path(), &mut rep)?;
    }
    if wanted(8) {
        let dir = tempfile::Builder::new()
            .prefix("eventpipe-bench-baseline-")
            .tempdir()?;
        let baseline = match &opts.baseline_provider {
            Some(bin) => Some(ProviderMirror::create(dir.path(), bin)?),
            None => None,
        };
        crate::existing_bucket::figure_8(
            sizes,
            &terraform,
            &moto,
            &mirror,
            baseline.as_ref().map(|m| (m, opts.baseline_label.as_str())),
            src.path(),
            &mut rep,
        )?;
    }
    if wanted(9) {
        crate::critical_parts::figure_9(sizes, &moto, src.path(), &mut rep)?;
    }
    if wanted(14) {
        crate::status::figure_14(sizes, &moto, src.path(), &mut rep)?;
    }
    if wanted(10) {
        crate::summary::figure_10(opts, &terraform, &moto, &mirror, &mut rep)?;
    }
    if wanted(11) {
        crate::packaging::figure(sizes, &mut rep)?;
    }
    if wanted(12) {
        let dir = tempfile::Builder::new()
            .prefix("eventpipe-bench-noop-")
            .tempdir()?;
        let noop_mirror = crate::noop::mirror(dir.path())?;
        let ours_size = std::fs::metadata(mirror.package())?.len();
        let padded_mirror = crate::noop::padded_mirror(dir.path(), ours_size)?;
        crate::fixed_cost::figure_12(
            sizes,
            &terraform,
            &moto,
            &mirror,
            [&noop_mirror, &padded_mirror],
            src.path(),
            &mut rep,
        )?;
    }
    if wanted(13) {
        crate::image_build::figure_13(sizes, &opts.provider, &mut rep)?;
    }
    if wanted(14) {
        crate::replay::figure_14(opts, &terraform, &mirror, src.path(), &mut rep)?;
    }
    if wanted(15) {
        crate::lock_install::figure_15_install(sizes, &mut rep)?;
        crate::lock_plan::figure_15_plan(sizes, &mut rep)?;
        crate::bundle::figure_15_bundle(sizes, &mut rep)?;
    }

    rep.section(
        "Run",
        format!(
            "The whole run took {:.0} s.",
            started.elapsed().as_secs_f64()
        ),
    );
    let text = rep.render(&machine, &opts.command, sizes.quick, &terraform.label);
    report::write(&opts.out, &text)?;
    eprintln!("[bench] wrote {}", opts.out.display());
    Ok(())
}

/// The newest CLI that has `terraform_data` (1.4+).
fn newest_terraform() -> Result<TerraformCli> {
    tests::terraform_versions()?
        .into_iter()
        .filter(|t| t.at_least(1, 4))
        .max_by_key(|t| t.version())
        .context("figure 3 needs a Terraform CLI >= 1.4 (terraform_data) on PATH")
}

fn met(value: f64, limit: f64) -> Option<bool> {
    Some(value.is_finite() && value <= limit)
}

fn figure_1(opts: &Opts, rep: &mut Report) -> Result<Samples> {
    eprintln!("[bench] figure 1: start-up");
    let s = startup::run(&opts.provider, opts.sizes.startup_runs)?;
    rep.row(Row {
        figure: "1",
        what: "Start → handshake line".into(),
        result: s.handshake.show(Unit::Ms),
        baseline: format!(
            "`/bin/echo` of a handshake-sized line: {}",
            s.floor.show(Unit::Ms)
        ),
        ratio: ratio(s.handshake.median(), s.floor.median()),
        target: "≤ 10 ms median".into(),
        met: met(s.handshake.median(), 0.010),
    });
    rep.row(Row {
        figure: "1",
        what: "GetProviderSchema on an open mTLS connection".into(),
        result: s.schema.show(Unit::Ms),
        baseline: format!(
            "gRPC health check, same connection: {}",
            s.health.show(Unit::Ms)
        ),
        ratio: ratio(s.schema.median(), s.health.median()),
        target: "report".into(),
        met: None,
    });
    rep.section(
        "1. Start-up",
        format!(
            "The provider binary is spawned with Terraform's environment (magic cookie, \
             protocol 6, port range, a P-521 AutoMTLS client certificate as Terraform makes \
             it); the time runs from just before `spawn` to reading the handshake line on its \
             stdout. Baseline: `/bin/echo` printing a line of the same length, timed the same \
             way — the cost of starting any process and reading a pipe. {} alternating runs, \
             after one unmeasured start of each.\n\n\
             Then, like Terraform, the bench opens the TLS connection (client certificate, \
             ALPN h2) and calls `GetProviderSchema`:\n\n\
             - TLS connect + first `GetProviderSchema`: {}\n\
             - `GetProviderSchema` on the open connection: {}\n\
             - gRPC health check on the same connection (transport floor): {}\n\
             - resident memory right after the handshake: {}",
            opts.sizes.startup_runs,
            s.first_schema.show(Unit::Ms),
            s.schema.show(Unit::Ms),
            s.health.show(Unit::Ms),
            s.idle_rss.show(Unit::Mb)
        ),
    );
    Ok(s.idle_rss)
}

/// Binary size after `strip` (the release profile already strips).
pub fn stripped_size(binary: &Path) -> Result<(f64, bool)> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("stripped");
    let ok = std::process::Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok((std::fs::metadata(&out)?.len() as f64, true))
    } else {
        Ok((std::fs::metadata(binary)?.len() as f64, false))
    }
}

/// The `bucket_name` of every pipeline in the state, by pipeline name.
fn bucket_names(ws: &Workspace) -> Result<Vec<(String, String)>> {
    let state = ws.show_json()?;
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .context("no resources in the state")?;
    Ok(resources
        .iter()
        .filter(|r| r["type"] == "eventpipe_event_pipeline")
        .filter_map(|r| {
            let v = &r["values"];
            Some((
                v["name"].as_str()?.to_owned(),
                v["bucket_name"].as_str()?.to_owned(),
            ))
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn figures_2_3_4(
    opts: &Opts,
    terraform: &TerraformCli,
    moto: &Moto,
    mirror: &ProviderMirror,
    rss: &RssMirror,
    src: &Path,
    idle_rss: Samples,
    rep: &mut Report,
) -> Result<()> {
    let n = opts.sizes.pipelines;
    let repeats = opts.sizes.repeats;
    eprintln!("[bench] figures 2-4: applying {n} pipelines and {n} terraform_data");
    moto.reset()?;
    let pipelines_hcl = tf::pipelines_hcl("bench", n, src);
    let ws = tf::workspace(terraform, Some(mirror), moto)?;
    ws.write("main.tf", &pipelines_hcl)?;
    ws.init()?;
    let apply = tf::run_timed(&ws, &["apply", "-auto-approve"])?;
    let data = tf::workspace(terraform, None, moto)?;
    data.write("main.tf", tf::terraform_data_hcl("bench", n, src))?;
    data.init()?;
    data.run_ok(&["apply", "-auto-approve"])?;

    // Figure 3: plan -refresh=false, both against a state of n resources.
    let mut ours = Samples::default();
    let mut builtin = Samples::default();
    for _ in 0..repeats.max(3) {
        ours.push_duration(tf::run_timed(&ws, &["plan", "-refresh=false"])?);
        builtin.push_duration(tf::run_timed(&data, &["plan", "-refresh=false"])?);
    }

    // Figure 4: refresh against the script's minimal reads.
    let buckets = bucket_names(&ws)?;
    if buckets.len() != n {
        bail!(
            "expected {n} pipelines in the state, found {}",
            buckets.len()
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let clients = Clients::new(&moto.endpoint());
    let mut refresh = Samples::default();
    let mut script = Samples::default();
    let mut script_calls = 0;
    for _ in 0..repeats {
        refresh.push_duration(tf::run_timed(&ws, &["plan"])?);
        let (calls, took) = timed(|| {
            rt.block_on(async {
                let mut calls = 0;
                for (name, bucket) in &buckets {
                    calls += direct::read_pipeline(&clients, name, bucket).await?;
                }
                Ok::<_, anyhow::Error>(calls)
            })
        });
        script_calls = calls?;
        script.push_duration(took);
    }
    // Count the provider's calls through a recording proxy (not timed).
    let proxy = FaultProxy::start(&moto.endpoint())?;
    let mut counted = tf::workspace(terraform, Some(mirror), moto)?;
    counted.env("AWS_ENDPOINT_URL", proxy.endpoint());
    counted.write("main.tf", &pipelines_hcl)?;
    std::fs::copy(
        ws.dir().join("terraform.tfstate"),
        counted.dir().join("terraform.tfstate"),
    )?;
    counted.init()?;
    proxy.clear_calls();
    counted.run_ok(&["plan", "-refresh=false"])?;
    let plan_calls = proxy.calls().len();
    proxy.clear_calls();
    counted.run_ok(&["plan"])?;
    let counts = proxy.counts();
    let refresh_calls: usize = counts.values().sum();
    drop(proxy);

    // Figure 2: footprint, with the wrapper recording peak RSS.
    let sized = tf::workspace(terraform, Some(&rss.mirror), moto)?;
    sized.write("main.tf", &pipelines_hcl)?;
    std::fs::copy(
        ws.dir().join("terraform.tfstate"),
        sized.dir().join("terraform.tfstate"),
    )?;
    sized.init()?;
    let mut peak = Samples::default();
    let mut processes = 0;
    for _ in 0..repeats.min(3) {
        rss.clear()?;
        sized.run_ok(&["plan"])?;
        peak.push(rss.max_peak()?);
        processes = rss.peaks()?.len();
    }
    let (size, stripped) = stripped_size(&opts.provider)?;
    let tf_size = std::fs::metadata(&terraform.path)?.len() as f64;

    rep.row(Row {
        figure: "2",
        what: "Binary size (stripped)".into(),
        result: Unit::Mb.fmt(size),
        baseline: format!(
            "the Terraform {} binary (Go): {}",
            terraform.label,
            Unit::Mb.fmt(tf_size)
        ),
        ratio: ratio(size, tf_size),
        target: format!("≤ {} MB", crate::fixed_cost::BINARY_TARGET_MB),
        met: met(size, crate::fixed_cost::BINARY_TARGET_MB * MB),
    });
    rep.row(Row {
        figure: "2",
        what: format!("Peak RSS of the provider, `terraform plan` of {n} pipelines"),
        result: peak.show(Unit::Mb),
        baseline: format!("idle after handshake: {}", idle_rss.show(Unit::Mb)),
        ratio: ratio(peak.median(), idle_rss.median()),
        target: "≤ 50 MB".into(),
        met: met(peak.median(), 50.0 * MB),
    });
    rep.row(Row {
        figure: "3",
        what: format!("`terraform plan -refresh=false`, {n} pipelines"),
        result: ours.show(Unit::Ms),
        baseline: format!("{n} `terraform_data`: {}", builtin.show(Unit::Ms)),
        ratio: ratio(ours.median(), builtin.median()),
        target: "≤ 1.3×".into(),
        met: met(ours.median() / builtin.median(), 1.3),
    });
    rep.row(Row {
        figure: "4",
        what: format!("`terraform plan` (refresh), {n} pipelines"),
        result: refresh.show(Unit::S),
        baseline: format!(
            "script, minimal reads one after another: {}",
            script.show(Unit::S)
        ),
        ratio: ratio(refresh.median(), script.median()),
        target: format!(
            "minimal calls: {:.1} per pipeline read (script: {:.1})",
            refresh_calls as f64 / n as f64,
            script_calls as f64 / n as f64
        ),
        met: Some(refresh_calls <= script_calls),
    });

    let mut count_lines = String::new();
    for (op, c) in &counts {
        let _ = writeln!(
            count_lines,
            "| `{op}` | {c} | {:.2} |",
            *c as f64 / n as f64
        );
    }
    rep.section(
        "2. Footprint",
        format!(
            "Binary: `{}`, {} ({}). Baseline for scale: the Terraform CLI binary.\n\n\
             Peak RSS: the filesystem mirror holds a wrapper script that execs the bench binary \
             in wrapper mode; it runs the real provider as its child and records the child's \
             `ru_maxrss` from `wait4` when it exits (exact peak, no sampling). Command: \
             `terraform plan` (with refresh) of {n} applied pipelines; the figure is the largest \
             peak among the {processes} provider processes Terraform started in that plan, over \
             {} plans. Baseline: the provider's resident memory right after its handshake \
             (figure 1).",
            opts.provider.display(),
            Unit::Mb.fmt(size),
            if stripped {
                "measured on a copy passed through `strip`"
            } else {
                "as built; `strip` was not available"
            },
            peak.len()
        ),
    );
    rep.section(
        "3. Plan overhead",
        format!(
            "Command: `terraform plan -refresh=false` in two workspaces, alternating, {} times \
             each, both after `apply` so the plan compares configuration with state. Ours: {n} \
             `eventpipe_event_pipeline` resources (27 attributes each in state, incl. the \
             nested `function` block and one `trigger`); the provider hashes each source \
             directory and renders each policy at plan time. Baseline: {n} `terraform_data` \
             resources whose `input` object has the same 27 leaf values in the same shape \
             (built into Terraform, no plugin process). The first {n}-pipeline apply took \
             {:.1} s. AWS calls during `plan -refresh=false`: {plan_calls}.",
            ours.len(),
            apply.as_secs_f64()
        ),
    );
    rep.section(
        "4. Refresh",
        format!(
            "Command: `terraform plan` (refresh on) of {n} applied pipelines, {} times. \
             Baseline: a Rust program using the same AWS SDK that reads the same {n} \
             pipelines one after another with the minimal calls ({} per pipeline, one per \
             setting the pipeline manages: bucket tagging, bucket policy, bucket encryption, \
             bucket notifications, role, the role's inline policy, the function with its \
             tags, the function's resource policy, the log group and the log group's tags). \
             The provider's \
             calls were counted in a separate, untimed plan through a recording proxy \
             (`tests::fault_proxy`):\n\n\
             | Operation | Calls | Per pipeline |\n|---|---|---|\n{count_lines}\
             | **total** | {refresh_calls} | {:.2} |",
            refresh.len(),
            script_calls / n.max(1),
            refresh_calls as f64 / n as f64
        ),
    );
    Ok(())
}

/// One pipeline's create by the provider and by the scripts, against `endpoint`.
struct Critical {
    ours: Samples,
    bound: Samples,
    parallel: Samples,
    sequential: Samples,
    breakdown: Vec<(&'static str, std::time::Duration)>,
    /// The provider's calls during one create, in arrival order.
    provider_calls: Vec<String>,
}

fn critical(
    rt: &tokio::runtime::Runtime,
    endpoint: &str,
    src: &Path,
    repeats: usize,
    tag: &str,
    recorder: Option<&FaultProxy>,
) -> Result<Critical> {
    let clients = Clients::new(endpoint);
    let provider = rt.block_on(InProcess::new(endpoint))?;
    // Warm both paths (moto loads each service on first use).
    rt.block_on(provider.create(&format!("warm-{tag}"), src))?;
    rt.block_on(direct::create_pipeline(
        &clients,
        &format!("warmd-{tag}"),
        src,
    ))?;
    let mut c = Critical {
        ours: Samples::default(),
        bound: Samples::default(),
        parallel: Samples::default(),
        sequential: Samples::default(),
        breakdown: Vec::new(),
        provider_calls: Vec::new(),
    };
    for r in 0..repeats {
        c.ours
            .push_duration(rt.block_on(provider.create(&format!("crit-{tag}-{r}"), src))?);
        let t = rt.block_on(direct::create_pipeline(
            &clients,
            &format!("seq-{tag}-{r}"),
            src,
        ))?;
        c.bound.push_duration(direct::critical_path(&t));
        c.sequential.push_duration(t.total());
        c.breakdown = t.0;
        let (r, took) = timed(|| {
            rt.block_on(direct::create_pipeline_parallel(
                &clients,
                &format!("par-{tag}-{r}"),
                src,
            ))
        });
        r?;
        c.parallel.push_duration(took);
    }
    if let Some(proxy) = recorder {
        proxy.clear_calls();
        rt.block_on(provider.create(&format!("calls-{tag}"), src))?;
        c.provider_calls = proxy.calls().into_iter().map(|call| call.op).collect();
    }
    Ok(c)
}

/// `terraform apply -parallelism=n` of n pipelines against the script
/// creating them one after another, both talking to `endpoint`.
fn many(
    rt: &tokio::runtime::Runtime,
    ws: &tf::Ws,
    moto: &Moto,
    endpoint: &str,
    src: &Path,
    n: usize,
    repeats: usize,
) -> Result<(Samples, Samples)> {
    let clients = Clients::new(endpoint);
    let parallelism = format!("-parallelism={n}");
    let mut apply = Samples::default();
    let mut script = Samples::default();
    for _ in 0..repeats {
        moto.reset()?;
        tf::forget_state(ws);
        apply.push_duration(tf::run_timed(
            ws,
            &["apply", "-auto-approve", &parallelism],
        )?);
        moto.reset()?;
        let (r, took) = timed(|| {
            rt.block_on(async {
                for i in 0..n {
                    direct::create_pipeline(&clients, &format!("many-{i}"), src).await?;
                }
                Ok::<_, anyhow::Error>(())
            })
        });
        r?;
        script.push_duration(took);
    }
    moto.reset()?;
    Ok((apply, script))
}

fn figure_5(
    sizes: &Sizes,
    terraform: &TerraformCli,
    moto: &Moto,
    mirror: &ProviderMirror,
    src: &Path,
    rep: &mut Report,
) -> Result<()> {
    eprintln!("[bench] figure 5: apply critical path");
    moto.reset()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let direct = critical(
        &rt,
        &moto.endpoint(),
        src,
        sizes.critical_repeats,
        "moto",
        None,
    )?;

    // The same with AWS-like latency: every call delayed by LATENCY in a proxy.
    let proxy = FaultProxy::start(&moto.endpoint())?;
    proxy.add_rule(Rule::any().delay(LATENCY));
    let slow_repeats = sizes.critical_repeats.min(3);
    let slow = critical(
        &rt,
        &proxy.endpoint(),
        src,
        slow_repeats,
        "slow",
        Some(&proxy),
    )?;

    let n = sizes.parallel_pipelines;
    let mut ws = tf::workspace(terraform, Some(mirror), moto)?;
    ws.write("main.tf", tf::pipelines_hcl("many", n, src))?;
    ws.init()?;
    let (apply, script) = many(
        &rt,
        &ws,
        moto,
        &moto.endpoint(),
        src,
        n,
        sizes.parallel_repeats,
    )?;
    // Terraform's own floor for the same apply: n terraform_data, no plugin.
    let data = tf::workspace(terraform, None, moto)?;
    data.write("main.tf", tf::terraform_data_hcl("many", n, src))?;
    data.init()?;
    let mut floor = Samples::default();
    for _ in 0..sizes.parallel_repeats {
        tf::forget_state(&data);
        floor.push_duration(tf::run_timed(
            &data,
            &["apply", "-auto-approve", &format!("-parallelism={n}")],
        )?);
    }
    ws.env("AWS_ENDPOINT_URL", proxy.endpoint());
    let (slow_apply, slow_script) = many(
        &rt,
        &ws,
        moto,
        &proxy.endpoint(),
        src,
        n,
        sizes.parallel_repeats.min(2),
    )?;
    drop(proxy);

    let ms = LATENCY.as_millis();
    rep.row(Row {
        figure: "5",
        what: "Create of one pipeline (the provider's ApplyResourceChange), moto".into(),
        result: direct.ours.show(Unit::Ms),
        baseline: format!(
            "sum of call latencies on the dependency chain: {}",
            direct.bound.show(Unit::Ms)
        ),
        ratio: ratio(direct.ours.median(), direct.bound.median()),
        target: "≤ 1.2×".into(),
        met: met(direct.ours.median() / direct.bound.median(), 1.2),
    });
    rep.row(Row {
        figure: "5",
        what: format!("The same, every call +{ms} ms (AWS-like latency)"),
        result: slow.ours.show(Unit::Ms),
        baseline: format!("dependency chain: {}", slow.bound.show(Unit::Ms)),
        ratio: ratio(slow.ours.median(), slow.bound.median()),
        target: "≤ 1.2×".into(),
        met: met(slow.ours.median() / slow.bound.median(), 1.2),
    });
    rep.row(Row {
        figure: "5",
        what: format!("`terraform apply -parallelism={n}`, {n} pipelines, moto"),
        result: apply.show(Unit::S),
        baseline: format!(
            "script, same minimal calls one after another: {}",
            script.show(Unit::S)
        ),
        ratio: ratio(apply.median(), script.median()),
        target: "≤ 1.0×".into(),
        met: met(apply.median() / script.median(), 1.0),
    });
    rep.row(Row {
        figure: "5",
        what: format!("The same, every call +{ms} ms"),
        result: slow_apply.show(Unit::S),
        baseline: format!("script: {}", slow_script.show(Unit::S)),
        ratio: ratio(slow_apply.median(), slow_script.median()),
        target: "≤ 1.0×".into(),
        met: met(slow_apply.median() / slow_script.median(), 1.0),
    });
    let mut lines = String::new();
    for ((op, d), (_, slow_d)) in direct.breakdown.iter().zip(&slow.breakdown) {
        let _ = writeln!(
            lines,
            "| `{op}` | {:.1} ms | {:.1} ms |",
            d.as_secs_f64() * 1e3,
            slow_d.as_secs_f64() * 1e3
        );
    }
    rep.section(
        "5. Apply critical path",
        format!(
            "One pipeline: the provider is configured against the emulator and driven in this \
             process through the same entry points its gRPC service calls \
             (`PlanResourceChange` untimed, then `ApplyResourceChange` timed), {} creates \
             after one warm-up. Baseline: in the same run, a script with the same SDK makes \
             the minimal calls of one create one after another, timing each; the lower bound \
             is the longest chain of dependencies through those latencies: \
             bucket → tags → public access block → encryption (S3 refuses concurrent \
             configuration changes of one bucket); (role ‖ packaging) → \
             function → invoke permission; role → inline policy; then the notification, which \
             needs the bucket and the permission (a new bucket has no notifications to keep, \
             so it is written without being read).\n\n\
             | | moto | every call +{ms} ms |\n|---|---|---|\n\
             | provider create | {} | {} |\n\
             | lower bound (dependency chain) | {} | {} |\n\
             | script, each call as soon as its inputs exist (`tokio::try_join!`) | {} | {} |\n\
             | script, every call one after another | {} | {} |\n\n\
             The \"+{ms} ms\" columns send both the provider and the script through \
             `tests::fault_proxy` with a {ms} ms delay on every call (and one connection per \
             call), to see the schedule with latencies like AWS's instead of moto's few \
             milliseconds of Python per call.\n\n\
             The provider's calls during one create, in the order they reached the proxy \
             ({} calls): {}.\n\n\
             Call latencies of the last sequential script create:\n\n\
             | Call | moto | +{ms} ms |\n|---|---|---|\n{lines}\n\
             {n} pipelines: `terraform apply -auto-approve -parallelism={n}` from an empty \
             state (emulator reset before each run; includes Terraform's own plan, provider \
             start and account lookup) vs the script creating the same {n} pipelines with the \
             minimal calls one after another: {} / {} runs (moto / +{ms} ms). Terraform's \
             own floor for an apply of {n} resources — `terraform apply` of {n} \
             `terraform_data` from an empty state, no plugin — was {}.",
            direct.ours.len(),
            direct.ours.show(Unit::Ms),
            slow.ours.show(Unit::Ms),
            direct.bound.show(Unit::Ms),
            slow.bound.show(Unit::Ms),
            direct.parallel.show(Unit::Ms),
            slow.parallel.show(Unit::Ms),
            direct.sequential.show(Unit::Ms),
            slow.sequential.show(Unit::Ms),
            slow.provider_calls.len(),
            slow.provider_calls
                .iter()
                .map(|op| format!("`{op}`"))
                .collect::<Vec<_>>()
                .join(", "),
            apply.len(),
            slow_apply.len(),
            floor.show(Unit::S),
        ),
    );
    Ok(())
}

fn figure_6(sizes: &Sizes, rep: &mut Report) -> Result<()> {
    eprintln!("[bench] figure 6: source hashing");
    let dir = tempfile::Builder::new()
        .prefix("eventpipe-bench-tree-")
        .tempdir()?;
    let h = hashing::run(
        dir.path(),
        sizes.tree_files,
        sizes.tree_file_size,
        sizes.hash_repeats,
    )?;
    let throughput = |s: &Samples| h.bytes as f64 / s.median();
    rep.row(Row {
        figure: "6",
        what: format!(
            "Plan-time source hash, {} files, {}",
            h.files,
            Unit::Mb.fmt(h.bytes as f64)
        ),
        result: format!(
            "{} ({})",
            h.plan_hash.show(Unit::Ms),
            Unit::MbPerS.fmt(throughput(&h.plan_hash))
        ),
        baseline: format!(
            "`sha256sum` over the same files: {} ({})",
            h.sha256sum.show(Unit::Ms),
            Unit::MbPerS.fmt(throughput(&h.sha256sum))
        ),
        ratio: ratio(h.plan_hash.median(), h.sha256sum.median()),
        target: "≤ 1.2×".into(),
        met: met(h.plan_hash.median() / h.sha256sum.median(), 1.2),
    });
    rep.row(Row {
        figure: "6",
        what: "Zip build at apply (scan + deflate)".into(),
        result: format!(
            "{} ({})",
            h.zip.show(Unit::S),
            Unit::MbPerS.fmt(throughput(&h.zip))
        ),
        baseline: format!(
            "plan-time hash of the same tree: {}",
            h.plan_hash.show(Unit::Ms)
        ),
        ratio: ratio(h.zip.median(), h.plan_hash.median()),
        target: "report".into(),
        met: None,
    });
    rep.section(
        "6. Source hashing",
        format!(
            "A generated tree of {} Python-like files ({} each, {} in all, in 100 \
             directories). Ours: `eventpipe::pipeline::source::scan` + `tree_hash`, exactly \
             what `PlanResourceChange` runs. Baseline: `find . -type f -print0 | xargs -0 \
             sha256sum` over the same files. Both after a warm-up pass, so both read from the \
             page cache; {} alternating runs. Of the plan-time figure, `scan` alone (walk, stat, \
             sort) took {}. Zip: `scan` + `package::build` (what apply runs \
             after re-checking the hash), {} runs; the package is {} ({:.1}× smaller than the \
             files).",
            h.files,
            Unit::Mb.fmt(sizes.tree_file_size as f64),
            Unit::Mb.fmt(h.bytes as f64),
            h.plan_hash.len(),
            h.scan.show(Unit::Ms),
            h.zip.len(),
            Unit::Mb.fmt(h.zipped_bytes as f64),
            h.bytes as f64 / h.zipped_bytes.max(1) as f64
        ),
    );
    Ok(())
}

fn figure_7(
    sizes: &Sizes,
    terraform: &TerraformCli,
    moto: &Moto,
    rss: &RssMirror,
    src: &Path,
    rep: &mut Report,
) -> Result<()> {
    eprintln!("[bench] figure 7: scaling");
    let mut table = String::from(
        "| Pipelines | `plan` (create) | `apply` | apply: added time per added pipeline | script (sequential) | script: added time per added pipeline | provider peak RSS, plan | provider peak RSS, apply |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    // (pipelines, median apply seconds)
    let mut applies: Vec<(usize, f64)> = Vec::new();
    let mut marginals: Vec<(usize, usize, f64)> = Vec::new();
    // The emulator's own scaling: the script creating n pipelines.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let clients = Clients::new(&moto.endpoint());
    let mut scripts: Vec<(usize, f64)> = Vec::new();
    let mut script_marginals: Vec<f64> = Vec::new();
    for &n in &sizes.scaling {
        eprintln!("[bench] figure 7: {n} pipelines");
        let ws = tf::workspace(terraform, Some(&rss.mirror), moto)?;
        ws.write("main.tf", tf::pipelines_hcl("scale", n, src))?;
        ws.init()?;
        let (mut plan, mut apply) = (Samples::default(), Samples::default());
        let (mut plan_rss, mut apply_rss) = (Samples::default(), Samples::default());
        for _ in 0..sizes.scaling_repeats {
            moto.reset()?;
            tf::forget_state(&ws);
            rss.clear()?;
            plan.push_duration(tf::run_timed(&ws, &["plan"])?);
            plan_rss.push(rss.max_peak()?);
            rss.clear()?;
            apply.push_duration(tf::run_timed(&ws, &["apply", "-auto-approve"])?);
            apply_rss.push(rss.max_peak()?);
        }
        let mut script = Samples::default();
        for _ in 0..sizes.scaling_repeats.min(2) {
            moto.reset()?;
            let (r, took) = timed(|| {
                rt.block_on(async {
                    for i in 0..n {
                        direct::create_pipeline(&clients, &format!("scale-{i}"), src).await?;
                    }
                    Ok::<_, anyhow::Error>(())
                })
            });
            r?;
            script.push_duration(took);
        }
        let script_marginal = match scripts.last() {
            Some(&(m, t)) => {
                let per = (script.median() - t) / (n - m) as f64;
                script_marginals.push(per);
                Unit::Ms.fmt(per)
            }
            None => "—".to_owned(),
        };
        scripts.push((n, script.median()));
        let marginal = match applies.last() {
            Some(&(m, t)) => {
                let per = (apply.median() - t) / (n - m) as f64;
                marginals.push((m, n, per));
                format!("{} ({m}→{n})", Unit::Ms.fmt(per))
            }
            None => "—".to_owned(),
        };
        applies.push((n, apply.median()));
        let _ = writeln!(
            table,
            "| {n} | {} | {} | {marginal} | {} | {script_marginal} | {} | {} |",
            plan.show(Unit::Ms),
            apply.show(Unit::S),
            script.show(Unit::S),
            plan_rss.show(Unit::Mb),
            apply_rss.show(Unit::Mb)
        );
    }
    moto.reset()?;
    // Linear or better: the cost of one more pipeline does not grow with
    // how many there are. Compare the last step with the one before it
    // (with only one step, with the whole apply of the smallest size).
    let last = marginals.last().copied();
    let before = if marginals.len() >= 2 {
        marginals.get(marginals.len() - 2).copied()
    } else {
        applies.first().map(|&(n, t)| (0, n, t / n as f64))
    };
    let script_growth = match script_marginals.as_slice() {
        [.., a, b] => Some(b / a),
        [b] => scripts.first().map(|&(n, t)| b / (t / n as f64)),
        [] => None,
    };
    if let (Some(last), Some(before)) = (last, before) {
        let growth = last.2 / before.2;
        let script_growth = script_growth.unwrap_or(f64::NAN);
        rep.row(Row {
            figure: "7",
            what: format!(
                "Scaling: `apply` time added per pipeline from {} to {}",
                last.0, last.1
            ),
            result: Unit::Ms.fmt(last.2),
            baseline: format!(
                "from {} to {}: {}; the script's added time per pipeline grew {:.2}× over the same steps",
                before.0,
                before.1,
                Unit::Ms.fmt(before.2),
                script_growth
            ),
            ratio: ratio(last.2, before.2),
            target: "linear or better: ≤ 1.1× (noise), or no more than the emulator's own growth".into(),
            met: Some(growth <= 1.1 || growth <= script_growth * 1.1),
        });
    }
    rep.section(
        "7. Scaling",
        format!(
            "Commands: `terraform plan` then `terraform apply -auto-approve` (default \
             parallelism 10) from an empty state, moto reset before each of {} runs per size. \
             Memory: the largest peak RSS among the provider processes of that command, \
             recorded by the wrapper of figure 2. The provider is started through the wrapper \
             here (one extra exec per start). Script: the same n pipelines created one after \
             another with the minimal calls (figure 5) on the reset emulator, to show how the \
             emulator itself scales.\n\n{table}",
            sizes.scaling_repeats
        ),
    );
    Ok(())
}
