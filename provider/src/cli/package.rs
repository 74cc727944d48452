//! `eventpipe package`: builds exactly the zip that apply would deploy,
//! through the same code (`pipeline::package::assemble`), with the same
//! dependency installation and cache.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::pipeline::package::{self, Settings, cache::Cache};
use crate::pipeline::runtimes;

/// Exit status when the package cannot be built or written.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a usage error: an unknown `--runtime`, as for clap's own.
pub const EXIT_USAGE: u8 = 2;

/// Build the package that apply would deploy, and print its SHA-256 in base64
/// (the form of Lambda's `CodeSha256`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Dependencies are installed as apply installs them: a Python \
    runtime's requirements.txt (or --requirements-file) with pip for Lambda's platform, a \
    Node.js runtime's package.json and package-lock.json with `npm ci --omit=dev`. Installed \
    trees and zips are cached in $EVENTPIPE_CACHE_DIR (default ~/.cache/eventpipe).\n\nExit \
    status:\n  0   the zip is written; its SHA-256 is printed\n  1   the package cannot be built \
    or written (one line on stderr)\n  2   usage error, among them a --runtime Lambda does not \
    know (one line on stderr naming the runtimes it knows)"
)]
pub struct Args {
    /// The function's source directory (the pipeline's `function.source_dir`).
    #[arg(long, value_name = "DIR")]
    pub source_dir: PathBuf,
    /// The Lambda runtime, e.g. python3.12 (one Lambda knows; see the exit status).
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

/// Why `runtime` is refused, naming the runtimes Lambda's table knows;
/// `None` when it is one of them.
pub fn unknown_runtime(runtime: &str) -> Option<String> {
    if runtimes::lookup(runtime).is_some() {
        return None;
    }
    let current = runtimes::current(runtimes::Day::today());
    let deprecated: Vec<&str> = runtimes::TABLE
        .iter()
        .map(|r| r.id)
        .filter(|id| !current.contains(id))
        .collect();
    Some(format!(
        "unknown runtime {runtime:?}; the runtimes it knows are {} (deprecated, still \
         accepted: {})",
        current.join(", "),
        deprecated.join(", ")
    ))
}

pub fn run(args: &Args) -> ExitCode {
    if let Some(why) = unknown_runtime(&args.runtime) {
        eprintln!("eventpipe package: {why}");
        return ExitCode::from(EXIT_USAGE);
    }
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
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if let Err(e) = std::fs::write(&args.output, &pkg.zip) {
        eprintln!(
            "eventpipe package: cannot write {}: {e}",
            args.output.display()
        );
        return ExitCode::from(EXIT_FAILED);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_runtime_is_refused_naming_the_known_ones() {
        assert_eq!(unknown_runtime("python3.13"), None);
        assert_eq!(
            unknown_runtime("python3.8"),
            None,
            "deprecated, still known"
        );
        let why = unknown_runtime("python9").expect("refused");
        assert!(why.starts_with("unknown runtime \"python9\"; the runtimes it knows are "));
        assert!(
            why.contains("python3.13") && why.contains("nodejs22.x"),
            "{why}"
        );
        assert!(why.contains("deprecated, still accepted: ") && why.contains("python2.7"));
        assert!(!why.contains('\n'));
    }
}
