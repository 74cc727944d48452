//! Figure 10: `eventpipe plan-summary` over the plan of 100 pipelines,
//! against `jq .` (pretty-printing the same file) as the baseline.
//!
//! The plan is Terraform's own: one pipeline is applied on the emulator,
//! then changed (memory, an edited file, a moved trigger prefix, a second
//! trigger), planned with `-out` and shown with `show -json`. Its resource
//! change is repeated under 100 module addresses, each with its own name,
//! in that same document, so every entry has the full before/after of a
//! real update.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;
use tests::{Moto, ProviderMirror, TerraformCli};

use crate::stats::Samples;
use crate::tf;

pub struct Summary {
    pub pipelines: usize,
    pub bytes: u64,
    pub baseline: String,
    /// The `eventpipe plan-summary` process, start to exit.
    pub ours: Samples,
    /// The library alone (parse, summarize, render) in this process.
    pub in_process: Samples,
    pub base: Samples,
    pub summary_lines: usize,
}

/// One real update plan of one pipeline, as `terraform show -json` writes it.
fn one_update(terraform: &TerraformCli, mirror: &ProviderMirror, moto: &Moto) -> Result<Json> {
    let src = tempfile::Builder::new()
        .prefix("eventpipe-bench-summary-src-")
        .tempdir()?;
    std::fs::write(src.path().join("app.py"), tf::HANDLER)?;
    for i in 0..9 {
        std::fs::write(
            src.path().join(format!("lib{i}.py")),
            format!("VALUE = {i}\n"),
        )?;
    }
    let ws = tf::workspace(terraform, Some(mirror), moto)?;
    let hcl = tf::pipelines_hcl("summary", 1, src.path());
    ws.write("main.tf", &hcl)?;
    ws.init()?;
    ws.apply_auto()?;
    std::fs::write(
        src.path().join("app.py"),
        format!("{}# edited\n", tf::HANDLER),
    )?;
    let changed = hcl
        .replace("memory_size = 128", "memory_size = 256")
        .replace(
            "  trigger {\n    filter_prefix = \"in/\"",
            "  trigger {\n    filter_prefix = \"reports/\"\n    filter_suffix = \".csv\"\n  }\n\n  \
         trigger {\n    filter_prefix = \"incoming/\"",
        );
    if changed == hcl {
        bail!("figure 10: the pipeline's HCL did not change");
    }
    ws.write("main.tf", changed)?;
    ws.plan(&["-out=tfplan"])?;
    let doc = ws.run_ok(&["show", "-json", "tfplan"])?.json()?;
    ws.destroy_auto()?;
    Ok(doc)
}

/// `doc` with its one pipeline change repeated `n` times under module
/// addresses.
fn many(doc: &Json, n: usize) -> Result<Json> {
    let change = doc["resource_changes"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["type"] == "eventpipe_event_pipeline"))
        .context("figure 10: the plan has no pipeline change")?
        .clone();
    let changes: Vec<Json> = (0..n)
        .map(|i| {
            let mut c = change.clone();
            let module = format!("module.team{i:03}");
            c["address"] = Json::String(format!("{module}.eventpipe_event_pipeline.p0"));
            c["module_address"] = Json::String(module);
            for side in ["before", "after"] {
                if c["change"][side].is_object() {
                    c["change"][side]["name"] = Json::String(format!("summary-{i}"));
                }
            }
            c
        })
        .collect();
    let mut out = doc.clone();
    out["resource_changes"] = Json::Array(changes);
    Ok(out)
}

fn jq_works() -> bool {
    Command::new("jq")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn time_process(program: &Path, args: &[&str], plan: &Path, want: &[i32]) -> Result<f64> {
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .arg(plan)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("running {}", program.display()))?;
    let took = start.elapsed().as_secs_f64();
    if !status.code().is_some_and(|c| want.contains(&c)) {
        bail!("{} {args:?} exited with {status}", program.display());
    }
    Ok(took)
}

pub fn run(
    eventpipe: &Path,
    terraform: &TerraformCli,
    mirror: &ProviderMirror,
    moto: &Moto,
    pipelines: usize,
    repeats: usize,
) -> Result<Summary> {
    if !eventpipe.is_file() {
        bail!(
            "figure 10 needs the eventpipe binary beside the provider: {} not found",
            eventpipe.display()
        );
    }
    let doc = many(&one_update(terraform, mirror, moto)?, pipelines)?;
    let dir = tempfile::Builder::new()
        .prefix("eventpipe-bench-plan-")
        .tempdir()?;
    let plan: PathBuf = dir.path().join("plan.json");
    let text = serde_json::to_vec(&doc)?;
    std::fs::write(&plan, &text)?;
    let (base_prog, base_args, baseline): (PathBuf, Vec<&str>, String) = if jq_works() {
        ("jq".into(), vec!["."], "`jq .`".into())
    } else {
        (
            "python3".into(),
            vec!["-m", "json.tool"],
            "`python3 -m json.tool` (jq is not installed)".into(),
        )
    };
    // A warm-up of each, so both read the file from the page cache.
    time_process(eventpipe, &["plan-summary"], &plan, &[0])?;
    time_process(&base_prog, &base_args, &plan, &[0])?;
    let (mut ours, mut base, mut in_process) =
        (Samples::default(), Samples::default(), Samples::default());
    let opts = eventpipe::summary::Options::today();
    let mut summary_lines = 0;
    for _ in 0..repeats {
        ours.push(time_process(eventpipe, &["plan-summary"], &plan, &[0])?);
        base.push(time_process(&base_prog, &base_args, &plan, &[0])?);
        let start = Instant::now();
        let bytes = std::fs::read(&plan)?;
        let s = eventpipe::summary::summarize(&bytes, opts)?;
        let md = eventpipe::summary::render::render(&s, eventpipe::summary::Format::Markdown);
        in_process.push(start.elapsed().as_secs_f64());
        summary_lines = md.lines().count();
        if s.pipelines.len() != pipelines {
            bail!("figure 10: {} pipelines summarized", s.pipelines.len());
        }
    }
    Ok(Summary {
        pipelines,
        bytes: text.len() as u64,
        baseline,
        ours,
        in_process,
        base,
        summary_lines,
    })
}

/// Runs figure 10 and adds its row and section.
pub fn figure_10(
    opts: &crate::Opts,
    terraform: &TerraformCli,
    moto: &Moto,
    mirror: &ProviderMirror,
    rep: &mut crate::report::Report,
) -> Result<()> {
    use crate::report::Row;
    use crate::stats::{Unit, ratio};
    eprintln!("[bench] figure 10: plan-summary");
    let sizes = &opts.sizes;
    let eventpipe = opts.provider.with_file_name("eventpipe");
    moto.reset()?;
    let s = run(
        &eventpipe,
        terraform,
        mirror,
        moto,
        sizes.summary_pipelines,
        sizes.summary_repeats,
    )?;
    rep.row(Row {
        figure: "10",
        what: format!(
            "`eventpipe plan-summary`, plan of {} pipeline updates ({})",
            s.pipelines,
            Unit::Mb.fmt(s.bytes as f64)
        ),
        result: s.ours.show(Unit::Ms),
        baseline: format!(
            "{} over the same file: {}",
            s.baseline,
            s.base.show(Unit::Ms)
        ),
        ratio: ratio(s.ours.median(), s.base.median()),
        target: "< 100 ms".into(),
        met: Some(s.ours.median().is_finite() && s.ours.median() < 0.1),
    });
    rep.section(
        "10. Plan summary",
        format!(
            "The plan is Terraform {}'s own `show -json` of a real update (memory, an edited \
             file of ten, a moved trigger prefix, a second trigger), applied and planned on the \
             emulator, with its pipeline change repeated under {} module addresses in one \
             document ({}). Ours: the release `eventpipe plan-summary FILE` process, start to \
             exit, output to /dev/null ({} runs; a {}-line Markdown summary). Baseline: {} \
             over the same file, alternating with ours, both after a warm-up run. Of our time, \
             reading, summarizing and rendering in-process took {}; the rest is process \
             start-up.",
            terraform.label,
            s.pipelines,
            Unit::Mb.fmt(s.bytes as f64),
            s.ours.len(),
            s.summary_lines,
            s.baseline,
            s.in_process.show(Unit::Ms),
        ),
    );
    Ok(())
}
