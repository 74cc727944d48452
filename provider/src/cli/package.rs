//! `eventpipe package`: builds exactly the zip that apply would deploy.

use std::path::PathBuf;
use std::process::ExitCode;

/// Build the package that apply would deploy, and print its SHA-256 in base64
/// (the form of Lambda's `CodeSha256`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The function's source directory (the pipeline's `function.source_dir`).
    #[arg(long, value_name = "DIR")]
    pub source_dir: PathBuf,
    /// The Lambda runtime, e.g. python3.12.
    #[arg(long, value_name = "R")]
    pub runtime: String,
    /// The instruction set: x86_64 or arm64.
    #[arg(long, value_name = "A", default_value = "x86_64")]
    pub architecture: String,
    /// Where to write the zip.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(_args: &Args) -> ExitCode {
    eprintln!("eventpipe package: not built yet");
    ExitCode::FAILURE
}
