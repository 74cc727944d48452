//! `eventpipe package`: builds exactly the zip that apply would deploy,
//! through the same code (`pipeline::package::assemble`), with the same
//! dependency installation and cache.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::pipeline::package::{self, Settings, cache::Cache};

/// Build the package that apply would deploy, and print its SHA-256 in base64
/// (the form of Lambda's `CodeSha256`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Dependencies are installed as apply installs them: a Python \
    runtime's requirements.txt (or --requirements-file) with pip for Lambda's platform, a \
    Node.js runtime's package.json and package-lock.json with `npm ci --omit=dev`. Installed \
    trees and zips are cached in $EVENTPIPE_CACHE_DIR (default ~/.cache/eventpipe)."
)]
pub struct Args {
    /// The function's source directory (the pipeline's `function.source_dir`).
    #[arg(long, value_name = "DIR")]
    pub source_dir: PathBuf,
    /// The Lambda runtime, e.g. python3.12.
    #[arg(long, value_name = "R")]
    pub runtime: String,
    /// The instruction set: x86_64 or arm64.
    #[arg(long, value_name = "A", default_value = "x86_64", value_parser = ["x86_64", "arm64"])]
    pub architecture: String,
    /// The requirements file (the pipeline's `function.requirements_file`), relative to
    /// the source directory or absolute.
    #[arg(long, value_name = "FILE")]
    pub requirements_file: Option<String>,
    /// Where to write the zip.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: &Args) -> ExitCode {
    let settings = Settings {
        source_dir: args.source_dir.clone(),
        runtime: args.runtime.clone(),
        architecture: args.architecture.clone(),
        requirements_file: args.requirements_file.clone(),
    };
    let pkg = match package::assemble(&settings, None, Cache::from_env().as_ref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("eventpipe package: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&args.output, &pkg.zip) {
        eprintln!(
            "eventpipe package: cannot write {}: {e}",
            args.output.display()
        );
        return ExitCode::FAILURE;
    }
    if package::limits::needs_staging(pkg.zip.len()) {
        eprintln!(
            "eventpipe package: {} bytes zipped: over 50 MB, apply stages it in S3",
            pkg.zip.len()
        );
    }
    println!("{}", pkg.code_sha256);
    ExitCode::SUCCESS
}
