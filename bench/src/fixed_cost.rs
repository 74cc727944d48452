//! Figure 12: the fixed cost of every plan. A small create plan against the
//! do-nothing provider's (the floor any plugin pays: lock-file check of its
//! package, AutoMTLS, start, handshake, stop), against the same provider
//! padded to our binary's size, and beside `terraform_data` (which pays none
//! of it); the plan of many pipelines beside the floors under it (many
//! `noop_thing`, many `noop_pipeline` with our schema, and ours with the
//! plan's looks answered by a proxy); the provider binary's size, and where the time
//! goes: how many times Terraform starts the provider in one plan, what
//! each process is asked (read from Terraform's own trace log), and how
//! long each request takes inside the provider (the provider's `request
//! handled` debug lines with their `elapsed_us`, plus its lines for
//! building the SDK clients and for the account lookup).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tests::fault_proxy::{FaultProxy, Rule};
use tests::{Moto, ProviderMirror, TerraformCli};

use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio};
use crate::{Sizes, noop, tf};

/// The create plan of `many` pipelines through a proxy that answers the
/// plan's looks itself: a bucket name and a function name that are free, as
/// AWS answers them, with no work by the emulator, whose one interpreter
/// serves the calls one at a time. Everything else (the account lookup) is
/// forwarded. Returns the timed plans and what the proxy saw in them.
fn looks_answered(
    terraform: &TerraformCli,
    moto: &Moto,
    mirror: &ProviderMirror,
    src: &Path,
    many: usize,
    repeats: usize,
) -> Result<(Samples, String)> {
    let proxy = FaultProxy::start(&moto.endpoint())?;
    proxy.add_rule(Rule::on("s3:HeadBucket").answer(404, &[], b""));
    proxy.add_rule(Rule::on("lambda:GetFunction").answer(
        404,
        &[
            ("x-amzn-ErrorType", "ResourceNotFoundException"),
            ("Content-Type", "application/json"),
        ],
        br#"{"Type":"User","Message":"Function not found"}"#,
    ));
    let mut ws = tf::workspace(terraform, Some(mirror), moto)?;
    ws.env("AWS_ENDPOINT_URL", proxy.endpoint());
    ws.write("main.tf", tf::pipelines_hcl("fixed", many, src))?;
    ws.init()?;
    tf::run_timed(&ws, &["plan"])?;
    proxy.clear_calls();
    let [timed] = timed_in_turn(&[&ws], repeats)?;
    let (heads, gets) = (
        proxy.count("s3:HeadBucket"),
        proxy.count("lambda:GetFunction"),
    );
    if heads != many * repeats || gets != many * repeats {
        bail!(
            "figure 12: {repeats} plans of {many} pipelines made {heads} HeadBucket and \
             {gets} GetFunction calls through the proxy, not one of each per pipeline"
        );
    }
    let seen = proxy
        .counts()
        .into_iter()
        .map(|(op, n)| format!("{n} `{op}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok((timed, format!("the proxy saw {seen} in {repeats} plans")))
}

/// `repeats` timed plans of each workspace, one of each in turn, so that the
/// machine's drift is shared by all of them.
fn timed_in_turn<const N: usize>(
    workspaces: &[&tf::Ws; N],
    repeats: usize,
) -> Result<[Samples; N]> {
    let mut timed = std::array::from_fn(|_| Samples::default());
    for _ in 0..repeats {
        for (ws, samples) in workspaces.iter().zip(timed.iter_mut()) {
            samples.push_duration(tf::run_timed(ws, &["plan"])?);
        }
    }
    Ok(timed)
}

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

/// Runs `terraform plan` `repeats` times in `ws` with `TF_LOG=trace` and
/// reads each log.
fn traced_plans(ws: &mut tf::Ws, repeats: usize) -> Result<Vec<String>> {
    let log = ws.dir().join("trace.log");
    ws.env("TF_LOG", "trace");
    ws.env("TF_LOG_PATH", log.as_os_str());
    let mut logs = Vec::new();
    for _ in 0..repeats {
        let _ = std::fs::remove_file(&log);
        tf::run_timed(ws, &["plan"])?;
        logs.push(std::fs::read_to_string(&log)?);
    }
    Ok(logs)
}

/// The processes of `traces` as table rows: one per process index, medians
/// over the runs, `label` before the process number.
fn process_rows(label: &str, traces: &[Trace], body: &mut String) {
    let starts = traces.first().map_or(0, |t| t.processes.len());
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
        for t in traces {
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
            "| {label} {} ({}) | {} | {} | {} | {} | {} | {rpcs} |",
            i + 1,
            p.purpose(),
            Unit::Ms.fmt(of(&|p| p.mtls).median()),
            Unit::Ms.fmt(of(&|p| p.start).median()),
            Unit::Ms.fmt(of(&|p| p.serving).median()),
            Unit::Ms.fmt(of(&|p| p.stop).median()),
            Unit::Ms.fmt(of(&|p| p.lifetime()).median()),
        );
    }
}

/// Medians of one provider's traced plans.
struct TraceSummary {
    total: Samples,
    before_first_start: Samples,
    package_check: Samples,
    lifetimes: Samples,
}

impl TraceSummary {
    fn of(traces: &[Trace]) -> Self {
        let over = |f: &dyn Fn(&Trace) -> f64| Samples(traces.iter().map(f).collect());
        TraceSummary {
            total: over(&|t| t.total),
            before_first_start: over(&|t| t.before_first_start),
            package_check: over(&|t| t.package_check),
            lifetimes: over(&|t| t.processes.iter().map(Process::lifetime).sum()),
        }
    }
}

/// The issue's target for the stripped provider binary (issue 29).
pub const BINARY_TARGET_MB: f64 = 20.0;
/// A 1-pipeline create plan against the do-nothing provider's (issue 29).
const ONE_PIPELINE_TARGET: f64 = 1.3;
/// The n-pipeline create plan against n `terraform_data`.
const MANY_PIPELINES_TARGET: f64 = 1.0;

#[allow(clippy::too_many_arguments)]
pub fn figure_12(
    sizes: &Sizes,
    terraform: &TerraformCli,
    moto: &Moto,
    mirror: &ProviderMirror,
    [noop_mirror, padded_mirror]: [&ProviderMirror; 2],
    src: &Path,
    rep: &mut Report,
) -> Result<()> {
    eprintln!("[bench] figure 12: the fixed cost of a plan");
    moto.reset()?;
    let repeats = if sizes.quick { 2 } else { 9 };
    let many = sizes.pipelines;

    // One pipeline, one `noop_thing`, one of the padded do-nothing provider
    // and one `terraform_data`, in turn; then `many` pipelines, `many`
    // `noop_thing`, `many` `noop_pipeline` and `many` `terraform_data`.
    let ours_1 = tf::workspace(terraform, Some(mirror), moto)?;
    ours_1.write("main.tf", tf::pipelines_hcl("fixed", 1, src))?;
    let noop_1 = tf::workspace(terraform, Some(noop_mirror), moto)?;
    noop_1.write("main.tf", noop::things_hcl("fixed", 1))?;
    let padded_1 = tf::workspace(terraform, Some(padded_mirror), moto)?;
    padded_1.write("main.tf", noop::things_hcl("fixed", 1))?;
    let data_1 = tf::workspace(terraform, None, moto)?;
    data_1.write("main.tf", tf::terraform_data_hcl("fixed", 1, src))?;
    let ours_n = tf::workspace(terraform, Some(mirror), moto)?;
    ours_n.write("main.tf", tf::pipelines_hcl("fixed", many, src))?;
    let noop_n = tf::workspace(terraform, Some(noop_mirror), moto)?;
    noop_n.write("main.tf", noop::things_hcl("fixed", many))?;
    let twin_n = tf::workspace(terraform, Some(noop_mirror), moto)?;
    twin_n.write("main.tf", noop::pipelines_hcl("fixed", many, src))?;
    let data_n = tf::workspace(terraform, None, moto)?;
    data_n.write("main.tf", tf::terraform_data_hcl("fixed", many, src))?;
    let one = [&ours_1, &noop_1, &padded_1, &data_1];
    let n = [&ours_n, &noop_n, &twin_n, &data_n];
    for ws in one.iter().chain(n.iter()) {
        ws.init()?;
        // One unmeasured plan of each (page cache, moto's first STS call).
        tf::run_timed(ws, &["plan"])?;
    }
    let [ours, noop_plan, padded_plan, data] = timed_in_turn(&one, repeats)?;
    let [ours_many, noop_many, twin_many, data_many] = timed_in_turn(&n, repeats)?;
    let (answered_many, answered_calls) =
        looks_answered(terraform, moto, mirror, src, many, repeats)?;

    // Traced plans of one pipeline and of one `noop_thing`: Terraform's log
    // with the providers' lines in it.
    let traced_runs = repeats.min(5);
    let mut traced = tf::workspace(terraform, Some(mirror), moto)?;
    traced.write("main.tf", tf::pipelines_hcl("fixed", 1, src))?;
    traced.init()?;
    let logs = traced_plans(&mut traced, traced_runs)?;
    if let (Some(keep), Some(last)) = (std::env::var_os("EVENTPIPE_BENCH_KEEP_TRACE"), logs.last())
    {
        std::fs::write(keep, last)?;
    }
    let traces = logs.iter().map(|l| parse(l)).collect::<Result<Vec<_>>>()?;
    let mut noop_traced = tf::workspace(terraform, Some(noop_mirror), moto)?;
    noop_traced.write("main.tf", noop::things_hcl("fixed", 1))?;
    noop_traced.init()?;
    let noop_traces = traced_plans(&mut noop_traced, traced_runs)?
        .iter()
        .map(|l| parse(l))
        .collect::<Result<Vec<_>>>()?;
    let mut base_traced = tf::workspace(terraform, None, moto)?;
    base_traced.write("main.tf", tf::terraform_data_hcl("fixed", 1, src))?;
    base_traced.init()?;
    let mut base_totals = Samples::default();
    for text in traced_plans(&mut base_traced, traced_runs)? {
        let stamps: Vec<f64> = text.lines().filter_map(stamp).collect();
        if let (Some(a), Some(b)) = (stamps.first(), stamps.last()) {
            base_totals.push(b - a);
        }
    }

    rep.row(Row {
        figure: "12",
        what: "`terraform plan`, create of 1 pipeline".into(),
        result: ours.show(Unit::Ms),
        baseline: format!(
            "the do-nothing provider (tfsdk, one resource, no I/O), create of 1 `noop_thing`: {}",
            noop_plan.show(Unit::Ms)
        ),
        ratio: ratio(ours.median(), noop_plan.median()),
        target: format!("≤ {ONE_PIPELINE_TARGET}×"),
        met: Some(ours.median() / noop_plan.median() <= ONE_PIPELINE_TARGET),
    });
    rep.row(Row {
        figure: "12",
        what: "the same plans beside Terraform's built-in `terraform_data`".into(),
        result: format!(
            "1 pipeline {}; 1 `noop_thing` {}",
            Unit::Ms.fmt(ours.median()),
            Unit::Ms.fmt(noop_plan.median())
        ),
        baseline: format!("1 `terraform_data`, same shape: {}", data.show(Unit::Ms)),
        ratio: format!(
            "{}; {}",
            ratio(ours.median(), data.median()),
            ratio(noop_plan.median(), data.median())
        ),
        target: "report".into(),
        met: None,
    });
    rep.row(Row {
        figure: "12",
        what: format!(
            "the same plan of 1 pipeline against the do-nothing provider padded to the same \
             file size ({}), which Terraform reads as long to check it against the lock file",
            Unit::Mb.fmt(std::fs::metadata(padded_mirror.package())?.len() as f64)
        ),
        result: ours.show(Unit::Ms),
        baseline: format!(
            "1 `noop_thing`, padded provider: {}",
            padded_plan.show(Unit::Ms)
        ),
        ratio: ratio(ours.median(), padded_plan.median()),
        target: "report: the binary's size alone, within its 20 MB target".into(),
        met: None,
    });
    rep.row(Row {
        figure: "12",
        what: format!("`terraform plan`, create of {many} pipelines"),
        result: ours_many.show(Unit::Ms),
        baseline: format!(
            "{many} `terraform_data`, same shape: {}",
            data_many.show(Unit::Ms)
        ),
        ratio: ratio(ours_many.median(), data_many.median()),
        target: format!("≤ {MANY_PIPELINES_TARGET}×"),
        met: Some(ours_many.median() / data_many.median() <= MANY_PIPELINES_TARGET),
    });
    // The floors under that target, each beside the same `terraform_data` plans.
    let beside_data = |what: String, result: String, floor: &Samples, target: &str| Row {
        figure: "12",
        what,
        result,
        baseline: format!(
            "{many} `terraform_data`: {}",
            Unit::Ms.fmt(data_many.median())
        ),
        ratio: ratio(floor.median(), data_many.median()),
        target: format!("report: {target}"),
        met: None,
    };
    let ours_against = |resource: &str, floor: &Samples| {
        format!(
            "{many} `{resource}` {}; {many} pipelines {}",
            floor.show(Unit::Ms),
            ratio(ours_many.median(), floor.median())
        )
    };
    rep.row(beside_data(
        format!(
            "the floor under that target: create of {many} `noop_thing` (the do-nothing \
             provider), and our {many} pipelines against it"
        ),
        ours_against("noop_thing", &noop_many),
        &noop_many,
        "what any plugin pays",
    ));
    rep.row(beside_data(
        format!(
            "Terraform's own work on {many} resources of the pipeline's schema: create of \
             {many} `noop_pipeline` (the do-nothing provider with \
             `eventpipe_event_pipeline`'s schema, whose plan is Terraform's proposed state), \
             and our {many} pipelines against it"
        ),
        ours_against("noop_pipeline", &twin_many),
        &twin_many,
        "what a resource of this schema costs Terraform",
    ));
    rep.row(beside_data(
        format!(
            "the same plan of {many} pipelines with the plan's looks (`s3:HeadBucket`, \
             `lambda:GetFunction`) answered \"not found\" by a proxy at once, so the \
             emulator, which serves one call at a time, does no work for them"
        ),
        format!("{}; {}", answered_many.show(Unit::Ms), answered_calls),
        &answered_many,
        "what the emulator's looks add",
    ));
    let (size, stripped) = crate::figures::stripped_size(mirror.package())?;
    let (noop_size, _) = crate::figures::stripped_size(noop_mirror.package())?;
    rep.row(Row {
        figure: "12",
        what: "Provider binary (stripped), which Terraform hashes against the lock file on \
               every command"
            .into(),
        result: Unit::Mb.fmt(size),
        baseline: format!(
            "the do-nothing provider, same profile, transport and crypto: {}",
            Unit::Mb.fmt(noop_size)
        ),
        ratio: ratio(size, noop_size),
        target: format!("≤ {BINARY_TARGET_MB} MB"),
        met: Some(size.is_finite() && size <= BINARY_TARGET_MB * 1e6),
    });

    let starts = traces.first().map_or(0, |t| t.processes.len());
    let same_shape = traces.iter().all(|t| t.processes.len() == starts);
    let mut body = format!(
        "Commands: `terraform plan` from an empty state (a create plan) of 1 pipeline, of 1 \
         `noop_thing` of the do-nothing provider, of 1 `noop_thing` of the do-nothing \
         provider padded to our binary's size and of 1 `terraform_data` of the pipeline's \
         shape (figure 3's baseline), in turn, {repeats} runs each; then of {many} pipelines, \
         {many} `noop_thing`, {many} `noop_pipeline` (the same blocks as the pipelines) and \
         {many} `terraform_data`, in turn, {repeats} runs each; then {repeats} more of the \
         {many} pipelines through a proxy that answers the plan's looks itself; every \
         workspace planned once, unmeasured, first.\n\n\
         The do-nothing provider (`bench/src/bin/terraform-provider-noop/`, built with the \
         bench in the same profile) is the floor any plugin pays: it is served by the same \
         `tfsdk` transport with the same AutoMTLS cryptography (`eventpipe::crypto`), \
         installed from a filesystem mirror as ours is, so `terraform init` writes its hashes \
         to the lock file and every command checks its package against them, and Terraform \
         starts, handshakes with and stops it as often; its one resource, `noop_thing` \
         (`name` required, `id` computed), makes no call and touches no file; its second, \
         `noop_pipeline`, has our resource's schema and plans what Terraform proposes, so \
         it measures Terraform's own work on a resource of that size with none of ours. \
         `terraform_data` is built into Terraform and pays none of that. The padded copy is \
         the same binary with bytes appended up to our provider's file size: the loader maps \
         only its segments, so it differs from the do-nothing provider only in what \
         Terraform reads to check the package against the lock file, and shows what a \
         binary of our size costs a plan by its size alone.\n\n\
         Binary sizes: `{}`, {}; the do-nothing provider, {} ({}).\n\n\
         Breakdown: {} more plans of one pipeline and of one `noop_thing` with \
         `TF_LOG=trace` (Terraform's log with the provider's lines in it, millisecond \
         timestamps). Terraform started the provider {starts} times in each plan{}. Per \
         process, Terraform's making of its client certificate (`configuring client automatic \
         mTLS` to `starting plugin`), the time from `starting plugin` to `using plugin` \
         (spawn, handshake, Terraform's gRPC client), from there to `Close` (the requests and \
         Terraform's work between them), and from `Close` to `plugin exited` (Shutdown, \
         exit, reaping); then each request the provider handled, with the provider's own \
         time for it (its `request handled` line, `elapsed_us`). Medians over the traced \
         runs; tracing itself slows Terraform down, so the traced total is longer than the \
         timed one.\n\n\
         | Process | mTLS certificate | Start | Serving | Stop | Lifetime | Requests (the provider's own time) |\n\
         |---|---|---|---|---|---|---|\n",
        mirror.package().display(),
        Unit::Mb.fmt(size),
        Unit::Mb.fmt(noop_size),
        if stripped {
            "both measured on copies passed through `strip`"
        } else {
            "both as built; `strip` was not available"
        },
        traces.len(),
        if same_shape {
            ""
        } else {
            " (not the same count in every run)"
        },
    );
    process_rows("eventpipe", &traces, &mut body);
    process_rows("do-nothing", &noop_traces, &mut body);
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
    let ours_t = TraceSummary::of(&traces);
    let noop_t = TraceSummary::of(&noop_traces);
    let binary = std::fs::metadata(mirror.package())
        .map(|m| m.len() as f64)
        .unwrap_or(f64::NAN);
    let noop_binary = std::fs::metadata(noop_mirror.package())
        .map(|m| m.len() as f64)
        .unwrap_or(f64::NAN);
    let _ = write!(
        body,
        "\nInside ConfigureProvider, building the SDK configuration (credential and region \
         chains; the service clients are built when first used): {}. The account lookup \
         (`sts:GetCallerIdentity`, once per process, made by the create plan that first \
         needs the account): {}.\n\n\
         | Traced plan | eventpipe, 1 pipeline | do-nothing, 1 `noop_thing` | `terraform_data`, 1 |\n\
         |---|---|---|---|\n\
         | first to last log line | {} | {} | {} |\n\
         | Terraform's work before it starts the provider the first time | {} | {} | — |\n\
         | of which hashing the installed package to check it against the lock file, on every command | {} ({}) | {} ({}) | — |\n\
         | the provider processes' lifetimes together | {} | {} | — |",
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
        ours_t.total.show(Unit::Ms),
        noop_t.total.show(Unit::Ms),
        base_totals.show(Unit::Ms),
        ours_t.before_first_start.show(Unit::Ms),
        noop_t.before_first_start.show(Unit::Ms),
        ours_t.package_check.show(Unit::Ms),
        Unit::Mb.fmt(binary),
        noop_t.package_check.show(Unit::Ms),
        Unit::Mb.fmt(noop_binary),
        ours_t.lifetimes.show(Unit::Ms),
        noop_t.lifetimes.show(Unit::Ms),
    );
    rep.section("12. The fixed cost of a plan", body);
    Ok(())
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
