//! Figure 12: the fixed cost of every plan. Where the time of a small
//! `terraform plan` goes that its `terraform_data` baseline does not pay:
//! how many times Terraform starts the provider in one plan, what each
//! process is asked (read from Terraform's own trace log), and how long
//! each request takes inside the provider (the provider's `request handled`
//! debug lines with their `elapsed_us`, plus its lines for building the
//! SDK clients and for the account lookup).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tests::{Moto, ProviderMirror, TerraformCli};

use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio};
use crate::{Sizes, tf};

/// One provider process of a traced plan, as Terraform's log shows it.
#[derive(Debug, Default, Clone)]
pub struct Process {
    /// `configuring client automatic mTLS` → `starting plugin`: Terraform
    /// making its client certificate for this process.
    pub mtls: f64,
    /// `starting plugin` → `using plugin` (spawn, handshake line, Terraform's client set-up).
    pub start: f64,
    /// `using plugin` → `Close` (the requests, and Terraform's work between them).
    pub serving: f64,
    /// `Close` → `plugin exited` (Shutdown, the process's exit, Terraform reaping it).
    pub stop: f64,
    /// Requests the provider handled, in order, with its own time for each.
    pub rpcs: Vec<(String, f64)>,
    /// The provider's own line: SDK configuration and clients built.
    pub sdk_setup: Option<f64>,
    /// The provider's own line: the STS account lookup.
    pub account: Option<f64>,
}

impl Process {
    pub fn lifetime(&self) -> f64 {
        self.mtls + self.start + self.serving + self.stop
    }

    /// What the process is for, by its requests.
    pub fn purpose(&self) -> &'static str {
        let has = |n: &str| self.rpcs.iter().any(|(r, _)| r == n);
        if has("PlanResourceChange") || has("ConfigureProvider") {
            "plan walk (configure, validate, plan)"
        } else if has("ValidateResourceConfig") {
            "validate walk"
        } else {
            "schema load"
        }
    }
}

/// One traced `terraform plan`.
#[derive(Debug, Default)]
pub struct Trace {
    /// First to last log line.
    pub total: f64,
    /// First log line to the first `starting plugin`.
    pub before_first_start: f64,
    /// From `fillMetaCache: including … as a candidate package` to the next
    /// line: Terraform hashing the installed provider package to check it
    /// against the lock file's hashes, on every command.
    pub package_check: f64,
    pub processes: Vec<Process>,
}

/// Seconds since midnight of a `2026-12-02T00:57:06.527Z [...` line.
fn stamp(line: &str) -> Option<f64> {
    let t = line.get(11..23)?;
    let (h, rest) = t.split_once(':')?;
    let (m, s) = rest.split_once(':')?;
    Some(h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
}

/// The value of `key=` in a log line (hclog's `key=value` form).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    line[at..].split_whitespace().next()
}

fn micros(line: &str) -> Option<f64> {
    field(line, "elapsed_us")?
        .parse::<f64>()
        .ok()
        .map(|us| us / 1e6)
}

/// Reads Terraform's trace log (TF_LOG=trace) of one plan.
pub fn parse(log: &str) -> Result<Trace> {
    let mut trace = Trace::default();
    let (mut first, mut last) = (None, None);
    let mut current: Option<(Process, f64, Option<f64>, Option<f64>)> = None;
    let mut mtls: Option<f64> = None;
    let mut candidate: Option<f64> = None;
    for line in log.lines() {
        let Some(t) = stamp(line) else { continue };
        first.get_or_insert(t);
        last = Some(t);
        if let Some(c) = candidate.take() {
            trace.package_check += t - c;
        }
        if line.contains("fillMetaCache: including") {
            candidate = Some(t);
            continue;
        }
        if line.contains("provider: configuring client automatic mTLS") {
            mtls = Some(t);
            continue;
        }
        if line.contains("provider: starting plugin:") {
            let began = mtls.take().unwrap_or(t);
            if trace.processes.is_empty() && current.is_none() {
                trace.before_first_start = began - first.unwrap_or(began);
            }
            let p = Process {
                mtls: t - began,
                ..Process::default()
            };
            current = Some((p, t, None, None));
            continue;
        }
        let Some((p, started, serving, closed)) = current.as_mut() else {
            continue;
        };
        if line.contains("provider: using plugin:") {
            *serving = Some(t);
        } else if line.contains("GRPCProvider.v6: Close") {
            *closed = Some(t);
        } else if line.contains(": request handled:") {
            let rpc = field(line, "rpc")
                .and_then(|r| r.rsplit('/').next())
                .unwrap_or("?")
                .to_owned();
            p.rpcs.push((rpc, micros(line).unwrap_or(f64::NAN)));
        } else if line.contains("AWS SDK configuration and clients built") {
            p.sdk_setup = micros(line);
        } else if line.contains("account looked up") {
            p.account = micros(line);
        } else if line.trim_end().ends_with("provider: plugin exited") {
            let serving = serving.context("a provider process without `using plugin`")?;
            let closed = closed.unwrap_or(t);
            p.start = serving - *started;
            p.serving = closed - serving;
            p.stop = t - closed;
            let done = std::mem::take(p);
            trace.processes.push(done);
            current = None;
        }
    }
    trace.total = last.unwrap_or(0.0) - first.unwrap_or(0.0);
    if trace.processes.is_empty() {
        bail!("the trace shows no provider process");
    }
    Ok(trace)
}

#[allow(clippy::too_many_arguments)]
pub fn figure_12(
    sizes: &Sizes,
    terraform: &TerraformCli,
    moto: &Moto,
    mirror: &ProviderMirror,
    src: &Path,
    rep: &mut Report,
) -> Result<()> {
    eprintln!("[bench] figure 12: the fixed cost of a plan");
    moto.reset()?;
    let repeats = if sizes.quick { 2 } else { 9 };
    let mut timed = Vec::new();
    for n in [1, sizes.pipelines] {
        let ws = tf::workspace(terraform, Some(mirror), moto)?;
        ws.write("main.tf", tf::pipelines_hcl("fixed", n, src))?;
        ws.init()?;
        let data = tf::workspace(terraform, None, moto)?;
        data.write("main.tf", tf::terraform_data_hcl("fixed", n, src))?;
        data.init()?;
        // One unmeasured plan of each (page cache, moto's first STS call).
        tf::run_timed(&ws, &["plan"])?;
        tf::run_timed(&data, &["plan"])?;
        let (mut ours, mut base) = (Samples::default(), Samples::default());
        for _ in 0..repeats {
            ours.push_duration(tf::run_timed(&ws, &["plan"])?);
            base.push_duration(tf::run_timed(&data, &["plan"])?);
        }
        timed.push((n, ours, base));
    }

    // Traced plans of one pipeline: Terraform's log and the provider's.
    let mut traced = tf::workspace(terraform, Some(mirror), moto)?;
    traced.write("main.tf", tf::pipelines_hcl("fixed", 1, src))?;
    traced.init()?;
    let log = traced.dir().join("trace.log");
    traced.env("TF_LOG", "trace");
    traced.env("TF_LOG_PATH", log.as_os_str());
    let mut traces = Vec::new();
    for _ in 0..repeats.min(5) {
        let _ = std::fs::remove_file(&log);
        tf::run_timed(&traced, &["plan"])?;
        let text = std::fs::read_to_string(&log)?;
        if let Some(keep) = std::env::var_os("EVENTPIPE_BENCH_KEEP_TRACE") {
            std::fs::write(keep, &text)?;
        }
        traces.push(parse(&text)?);
    }
    let mut base_traced = tf::workspace(terraform, None, moto)?;
    base_traced.write("main.tf", tf::terraform_data_hcl("fixed", 1, src))?;
    base_traced.init()?;
    let base_log = base_traced.dir().join("trace.log");
    base_traced.env("TF_LOG", "trace");
    base_traced.env("TF_LOG_PATH", base_log.as_os_str());
    let mut base_totals = Samples::default();
    for _ in 0..repeats.min(5) {
        let _ = std::fs::remove_file(&base_log);
        tf::run_timed(&base_traced, &["plan"])?;
        let text = std::fs::read_to_string(&base_log)?;
        let stamps: Vec<f64> = text.lines().filter_map(stamp).collect();
        if let (Some(a), Some(b)) = (stamps.first(), stamps.last()) {
            base_totals.push(b - a);
        }
    }

    for (n, ours, base) in &timed {
        let limit = if *n == 1 { 1.5 } else { 1.0 };
        rep.row(Row {
            figure: "12",
            what: format!("`terraform plan`, create of {n} pipeline{}", plural(*n)),
            result: ours.show(Unit::Ms),
            baseline: format!("{n} `terraform_data`, same shape: {}", base.show(Unit::Ms)),
            ratio: ratio(ours.median(), base.median()),
            target: format!("≤ {limit}×"),
            met: Some(ours.median() / base.median() <= limit),
        });
    }

    let starts = traces.first().map_or(0, |t| t.processes.len());
    let same_shape = traces.iter().all(|t| t.processes.len() == starts);
    let mut body = format!(
        "Commands: `terraform plan` from an empty state (a create plan) of 1 and of {} \
         pipelines, against the same number of `terraform_data` resources of the same \
         shape (figure 3's baseline), alternating, {repeats} runs each after one unmeasured \
         run of each.\n\n\
         Breakdown: {} more plans of one pipeline with `TF_LOG=trace` (Terraform's log with \
         the provider's lines in it, millisecond timestamps). Terraform started the provider \
         {starts} times in each plan{}. Per process, Terraform's making of its client \
         certificate (`configuring client automatic mTLS` to `starting plugin`), the time \
         from `starting plugin` to `using plugin` (spawn, handshake, Terraform's gRPC client), from there to \
         `Close` (the requests and Terraform's work between them), and from `Close` to \
         `plugin exited` (Shutdown, exit, reaping); then each request the provider handled, \
         with the provider's own time for it (its `request handled` line, `elapsed_us`). \
         Medians over the traced runs; tracing itself slows Terraform down, so the traced \
         total is longer than the timed one.\n\n\
         | Process | mTLS certificate | Start | Serving | Stop | Lifetime | Requests (the provider's own time) |\n\
         |---|---|---|---|---|---|---|\n",
        sizes.pipelines,
        traces.len(),
        if same_shape {
            ""
        } else {
            " (not the same count in every run)"
        },
    );
    for i in 0..starts {
        let of = |f: &dyn Fn(&Process) -> f64| {
            Samples(
                traces
                    .iter()
                    .filter_map(|t| t.processes.get(i))
                    .map(f)
                    .collect(),
            )
        };
        let Some(p) = traces.first().and_then(|t| t.processes.get(i)) else {
            continue;
        };
        // The provider's time per request name, median over the runs.
        let mut per_rpc: BTreeMap<String, (usize, Samples)> = BTreeMap::new();
        for t in &traces {
            if let Some(q) = t.processes.get(i) {
                let mut seen: BTreeMap<&str, f64> = BTreeMap::new();
                for (name, s) in &q.rpcs {
                    *seen.entry(name).or_default() += s;
                }
                for (name, s) in seen {
                    let count = q.rpcs.iter().filter(|(r, _)| r == name).count();
                    let e = per_rpc.entry(name.to_owned()).or_default();
                    e.0 = count;
                    e.1.push(s);
                }
            }
        }
        let rpcs = p
            .rpcs
            .iter()
            .map(|(r, _)| r.as_str())
            .fold(Vec::<&str>::new(), |mut v, r| {
                if !v.contains(&r) {
                    v.push(r);
                }
                v
            })
            .iter()
            .map(|r| {
                let (count, s) = &per_rpc[*r];
                let times = if *count > 1 {
                    format!("{count}×, ")
                } else {
                    String::new()
                };
                format!("{r} ({times}{})", Unit::Ms.fmt(s.median()))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            body,
            "| {} ({}) | {} | {} | {} | {} | {} | {rpcs} |",
            i + 1,
            p.purpose(),
            Unit::Ms.fmt(of(&|p| p.mtls).median()),
            Unit::Ms.fmt(of(&|p| p.start).median()),
            Unit::Ms.fmt(of(&|p| p.serving).median()),
            Unit::Ms.fmt(of(&|p| p.stop).median()),
            Unit::Ms.fmt(of(&|p| p.lifetime()).median()),
        );
    }
    let lifetimes = Samples(
        traces
            .iter()
            .map(|t| t.processes.iter().map(Process::lifetime).sum())
            .collect(),
    );
    let sdk = Samples(
        traces
            .iter()
            .flat_map(|t| t.processes.iter().filter_map(|p| p.sdk_setup))
            .collect(),
    );
    let account = Samples(
        traces
            .iter()
            .flat_map(|t| t.processes.iter().filter_map(|p| p.account))
            .collect(),
    );
    let totals = Samples(traces.iter().map(|t| t.total).collect());
    let before = Samples(traces.iter().map(|t| t.before_first_start).collect());
    let check = Samples(traces.iter().map(|t| t.package_check).collect());
    let binary = std::fs::metadata(mirror_binary(mirror))
        .map(|m| m.len() as f64)
        .unwrap_or(f64::NAN);
    let _ = write!(
        body,
        "\nInside ConfigureProvider, building the SDK configuration (credential and region \
         chains) and the service clients: {}. Inside the first PlanResourceChange of a \
         process, the account lookup (`sts:GetCallerIdentity`, once per process): {}.\n\n\
         Traced plan, first to last log line: {} (baseline, 1 `terraform_data`: {}); \
         Terraform's work before it starts the provider the first time: {}, of which {} \
         hashing the installed provider package ({}) to check it against the lock file, on \
         every command; the provider processes' lifetimes together: {}.",
        if sdk.len() > 0 {
            sdk.show(Unit::Ms)
        } else {
            "not logged".to_owned()
        },
        if account.len() > 0 {
            account.show(Unit::Ms)
        } else {
            "no lookup".to_owned()
        },
        totals.show(Unit::Ms),
        base_totals.show(Unit::Ms),
        before.show(Unit::Ms),
        check.show(Unit::Ms),
        Unit::Mb.fmt(binary),
        lifetimes.show(Unit::Ms),
    );
    rep.section("12. The fixed cost of a plan", body);
    Ok(())
}

/// The provider binary inside a mirror.
fn mirror_binary(mirror: &ProviderMirror) -> std::path::PathBuf {
    mirror.root().join(tests::mirror::package_path())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod trace_log {
    use super::*;

    const LOG: &str = "\
2026-12-02T00:57:06.427Z [INFO]  Terraform version: 1.11.4
2026-12-02T00:57:06.435Z [TRACE] providercache.fillMetaCache: including .terraform/providers/x as a candidate package for y
2026-12-02T00:57:06.519Z [DEBUG] checking for provisioner in \".\"
2026-12-02T00:57:06.520Z [INFO]  provider: configuring client automatic mTLS
2026-12-02T00:57:06.527Z [DEBUG] provider: starting plugin: path=x args=[x]
2026-12-02T00:57:06.530Z [DEBUG] provider: plugin started: path=x pid=1
2026-12-02T00:57:06.536Z [DEBUG] provider: using plugin: version=6
2026-12-02T00:57:06.541Z [TRACE] GRPCProvider.v6: GetProviderSchema
2026-12-02T00:57:06.541Z [DEBUG] provider.terraform-provider-eventpipe_v0.1.0: request handled: rpc=/tfplugin6.Provider/GetProviderSchema elapsed_us=250 @module=provider timestamp=2026-12-02T00:57:06.541Z
2026-12-02T00:57:06.542Z [TRACE] GRPCProvider.v6: Close
2026-12-02T00:57:06.546Z [INFO]  provider: plugin process exited: plugin=x id=1
2026-12-02T00:57:06.552Z [DEBUG] provider: plugin exited
2026-12-02T00:57:06.600Z [DEBUG] provider: starting plugin: path=x args=[x]
2026-12-02T00:57:06.606Z [DEBUG] provider: using plugin: version=6
2026-12-02T00:57:06.612Z [DEBUG] provider.terraform-provider-eventpipe_v0.1.0: AWS SDK configuration and clients built: elapsed_us=2000 @module=provider
2026-12-02T00:57:06.613Z [DEBUG] provider.terraform-provider-eventpipe_v0.1.0: request handled: rpc=/tfplugin6.Provider/ConfigureProvider elapsed_us=2100 @module=provider
2026-12-02T00:57:06.620Z [DEBUG] provider.terraform-provider-eventpipe_v0.1.0: account looked up (sts:GetCallerIdentity): elapsed_us=5000 @module=provider
2026-12-02T00:57:06.621Z [DEBUG] provider.terraform-provider-eventpipe_v0.1.0: request handled: rpc=/tfplugin6.Provider/PlanResourceChange elapsed_us=6000 @module=provider
2026-12-02T00:57:06.661Z [TRACE] GRPCProvider.v6: Close
2026-12-02T00:57:06.669Z [DEBUG] provider: plugin exited
2026-12-02T00:57:06.676Z [TRACE] statemgr.Filesystem: unlocking
";

    #[test]
    fn a_trace_reads_as_processes_and_requests() {
        let t = parse(LOG).unwrap();
        assert!((t.total - 0.249).abs() < 1e-6, "{t:?}");
        assert!((t.before_first_start - 0.093).abs() < 1e-6);
        assert!((t.package_check - 0.084).abs() < 1e-6);
        assert_eq!(t.processes.len(), 2);
        let first = &t.processes[0];
        assert!((first.mtls - 0.007).abs() < 1e-6);
        assert!((first.start - 0.009).abs() < 1e-6);
        assert!((first.serving - 0.006).abs() < 1e-6);
        assert!((first.stop - 0.010).abs() < 1e-6);
        assert_eq!(first.rpcs, vec![("GetProviderSchema".to_owned(), 0.000250)]);
        assert_eq!(first.purpose(), "schema load");
        let plan = &t.processes[1];
        assert_eq!(plan.purpose(), "plan walk (configure, validate, plan)");
        assert_eq!(plan.sdk_setup, Some(0.002));
        assert_eq!(plan.account, Some(0.005));
        assert_eq!(plan.rpcs.len(), 2);
    }

    #[test]
    fn a_log_without_a_provider_is_an_error() {
        assert!(parse("2026-12-02T00:57:06.427Z [INFO]  Terraform version: 1.11.4\n").is_err());
    }
}
