//! `cargo run --release -p bench [-- --quick] [--only 1,6] [--out FILE] [--provider BIN]
//! [--baseline-provider BIN] [--baseline-label VERSION]`
//!
//! Measures the seven figures of the performance issue in one run, each
//! beside a baseline measured in the same run, and writes `BENCHMARKS.md`
//! (median and min–max of every repeated measurement, with the machine and
//! the command). `--quick` uses small sizes and few repeats: the test suite
//! runs it to prove the bench works, without looking at the numbers.

mod bundle;
mod critical_parts;
mod direct;
mod existing_bucket;
mod figures;
mod fixed_cost;
mod hashing;
mod image_build;
mod image_push;
mod image_rebuild;
mod lock_install;
mod lock_plan;
mod machine;
mod noop;
mod packaging;
mod replay;
mod report;
mod rss;
mod startup;
mod stats;
mod status;
mod summary;
mod tf;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

/// `eventpipe replay`'s default concurrency (figure 14).
pub const REPLAY_CONCURRENCY: u16 = eventpipe::cli::replay::CONCURRENCY;

/// How big and how often.
#[derive(Clone, Debug)]
pub struct Sizes {
    pub quick: bool,
    pub startup_runs: usize,
    /// Pipelines in figures 2, 3 and 4.
    pub pipelines: usize,
    pub repeats: usize,
    pub critical_repeats: usize,
    pub parallel_pipelines: usize,
    pub parallel_repeats: usize,
    pub tree_files: usize,
    pub tree_file_size: usize,
    pub hash_repeats: usize,
    pub scaling: Vec<usize>,
    pub scaling_repeats: usize,
    /// Pipelines in the plan of figure 10, and its runs.
    pub summary_pipelines: usize,
    pub summary_repeats: usize,
    /// Figures to run (`--only 1,6`); empty = all.
    pub only: Vec<u8>,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            quick: false,
            startup_runs: 40,
            pipelines: 50,
            repeats: 5,
            critical_repeats: 7,
            parallel_pipelines: 10,
            parallel_repeats: 3,
            tree_files: 4000,
            tree_file_size: 62_500,
            hash_repeats: 5,
            scaling: vec![1, 10, 50, 100],
            scaling_repeats: 3,
            summary_pipelines: 100,
            summary_repeats: 15,
            only: Vec::new(),
        }
    }

    fn quick() -> Sizes {
        Sizes {
            quick: true,
            startup_runs: 5,
            pipelines: 2,
            repeats: 2,
            critical_repeats: 2,
            parallel_pipelines: 2,
            parallel_repeats: 1,
            tree_files: 60,
            tree_file_size: 20_000,
            hash_repeats: 2,
            scaling: vec![1, 2],
            scaling_repeats: 1,
            summary_pipelines: 5,
            summary_repeats: 2,
            only: Vec::new(),
        }
    }
}

pub struct Opts {
    pub sizes: Sizes,
    pub out: PathBuf,
    pub provider: PathBuf,
    /// An earlier release's provider, for figure 8's same-run baseline.
    pub baseline_provider: Option<PathBuf>,
    /// The version that binary is (`--baseline-label`, default 0.1.0).
    pub baseline_label: String,
    pub command: String,
}

fn parse(args: &[String]) -> Result<Opts> {
    let root = tests::tools::repo_root();
    let mut sizes = Sizes::full();
    let mut out = root.join("BENCHMARKS.md");
    let mut provider = tests::tools::target_dir().join("release/terraform-provider-eventpipe");
    let mut only = Vec::new();
    let mut baseline_provider = None;
    let mut baseline_label = "0.1.0".to_owned();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => sizes = Sizes::quick(),
            "--out" => out = PathBuf::from(it.next().context("--out needs a file")?),
            "--only" => {
                let list = it.next().context("--only needs figure numbers, e.g. 1,6")?;
                for n in list.split(',') {
                    only.push(n.trim().parse().context("--only takes figure numbers")?);
                }
            }
            "--provider" => {
                provider = PathBuf::from(it.next().context("--provider needs a binary")?)
            }
            "--baseline-provider" => {
                let bin = PathBuf::from(it.next().context("--baseline-provider needs a binary")?);
                if !bin.is_file() {
                    bail!("baseline provider binary {} not found", bin.display());
                }
                baseline_provider = Some(bin.canonicalize()?);
            }
            "--baseline-label" => {
                baseline_label = it
                    .next()
                    .context("--baseline-label needs the baseline's version, e.g. 0.2.0")?
                    .clone()
            }
            other => bail!(
                "unknown argument {other:?}\nusage: bench [--quick] [--only 1,6] [--out FILE] [--provider BIN] [--baseline-provider BIN] [--baseline-label VERSION]"
            ),
        }
    }
    sizes.only = only;
    if !provider.is_file() {
        bail!(
            "provider binary {} not found: build it first (make bench does)",
            provider.display()
        );
    }
    let command = if args.is_empty() {
        "make bench (cargo run --release -p bench)".to_owned()
    } else {
        format!("cargo run --release -p bench -- {}", args.join(" "))
    };
    Ok(Opts {
        sizes,
        out,
        provider: provider.canonicalize()?,
        baseline_provider,
        baseline_label,
        command,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(rss::WRAP_ARG) {
        return match rss::wrap(&args[1..]) {
            Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Err(e) => {
                eprintln!("bench wrapper: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match parse(&args).and_then(|opts| figures::run_all(&opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
