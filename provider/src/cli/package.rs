//! `eventpipe package`: builds exactly the zip that apply would deploy,
//! through the same code (`pipeline::package::assemble`), with the same
//! dependency installation and cache. With `--image`, builds the function
//! as a container image instead, from the same staged trees
//! (`pipeline::package::stage`), and writes it as an OCI image layout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::pipeline::defaults::DEFAULT_HANDLER;
use crate::pipeline::exclude::Exclude;
use crate::pipeline::package::image::base::{BaseImage, BaseRef};
use crate::pipeline::package::image::layout::LayoutWriter;
use crate::pipeline::package::image::{self, ImageError};
use crate::pipeline::package::{self, Settings, cache::Cache, limits};
use crate::pipeline::runtimes;
use crate::registry::{BlobStore, RegistryError};

/// Exit status when the package cannot be built or written.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a usage error: an unknown `--runtime`, as for clap's own.
pub const EXIT_USAGE: u8 = 2;
/// Exit status of `--image` when the base image's registry cannot be
/// reached and the cache has no earlier answer for it.
pub const EXIT_UNREACHABLE: u8 = 3;

/// Build the package that apply would deploy, and print its SHA-256 in base64
/// (the form of Lambda's `CodeSha256`); with --image, the function's container
/// image as an OCI image layout, and print its manifest digest.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Dependencies are installed as apply installs them: a Python \
    runtime's requirements.txt (or --requirements-file) with pip for Lambda's platform, a \
    Node.js runtime's package.json and package-lock.json with `npm ci --omit=dev`. Installed \
    trees and zips are cached in $EVENTPIPE_CACHE_DIR (default ~/.cache/eventpipe). With \
    --bundle, the zip holds only esbuild's bundle of the --handler's entry and its source \
    map.\n\nWith --image, the image is the base image for --architecture plus two layers under its \
    LAMBDA_TASK_ROOT (/var/task): the installed dependencies, then the source; its command is \
    the handler. The same inputs give the same manifest digest on every machine. The base is \
    an image in a registry (REGISTRY/REPOSITORY:TAG or @sha256:DIGEST; default: AWS's base \
    image of the runtime, public.ecr.aws/lambda/...), resolved for --architecture and pulled \
    once into the cache (a tag costs one manifest request after that; a pinned digest none), \
    with the credentials of ~/.docker/config.json or anonymously; or a local OCI image layout \
    (--base-image oci:PATH[:NAME]). When the registry cannot be reached, the cached answer is \
    used with a warning on stderr.\n\nExit \
    status:\n  0   the zip is written; its SHA-256 is printed (with --image: the layout is \
    written; its manifest digest is printed)\n  1   the package cannot be built \
    or written (one line on stderr)\n  2   usage error, among them a --runtime Lambda does not \
    know (one line on stderr naming the runtimes it knows)\n  3   --image: the base image's \
    registry cannot be reached and nothing about it is cached (one line on stderr)"
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
    /// Package the slim copy of the installed dependencies (the pipeline's
    /// `function.slim`): no tests, headers, stubs or `__pycache__`, shared objects
    /// stripped of debug symbols. For the zip and for --image.
    #[arg(long)]
    pub slim: bool,
    /// Bundle the handler's entry (`.ts`, `.mts` or `.js`, named by --handler) with
    /// esbuild into one file and its source map (the pipeline's `function.bundle`; a
    /// Node.js runtime). esbuild is the source directory's node_modules/.bin/esbuild,
    /// else the one on PATH.
    #[arg(long, conflicts_with = "image")]
    pub bundle: bool,
    /// Leave files of the source directory out of the package: a gitignore-style pattern
    /// relative to it (the pipeline's `function.exclude`), e.g. `notebooks/`, `*.parquet`,
    /// `!keep.parquet`. Repeat it for several, in order. Every `.venv/`, and the source's
    /// `node_modules/` when npm installs the dependencies, are always left out, as at apply.
    #[arg(long = "exclude", value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Where to write the zip.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        required_unless_present = "image",
        conflicts_with = "image"
    )]
    pub output: Option<PathBuf>,
    /// Build the function's container image instead of a zip (needs --oci-layout).
    #[arg(long, requires = "oci_layout")]
    pub image: bool,
    /// With --image: the directory to write the image to, as an OCI image layout (new,
    /// empty, or a layout written before).
    #[arg(long, value_name = "DIR", requires = "image")]
    pub oci_layout: Option<PathBuf>,
    /// With --image: the base image, in a registry (REGISTRY/REPOSITORY:TAG or
    /// REGISTRY/REPOSITORY@sha256:DIGEST) or as oci:PATH[:NAME] (a local OCI image layout).
    /// Default: AWS's base image of the runtime (public.ecr.aws/lambda/...).
    #[arg(long, value_name = "REF", requires = "image")]
    pub base_image: Option<String>,
    /// The function's handler (the pipeline's `function.handler`): with --image the
    /// image's command, with --bundle the entry to bundle.
    #[arg(long, value_name = "H", default_value = DEFAULT_HANDLER)]
    pub handler: String,
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
    if let Err(e) = Exclude::new(&args.source_dir, &args.exclude, false) {
        eprintln!("eventpipe package: --exclude {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let settings = Settings {
        source_dir: args.source_dir.clone(),
        runtime: args.runtime.clone(),
        architecture: args.architecture.clone(),
        requirements_file: args.requirements_file.clone(),
        slim: args.slim,
        exclude: args.exclude.clone(),
        bundle: args.bundle,
    };
    match (&args.oci_layout, &args.output) {
        (Some(layout), _) if args.image => run_image(args, &settings, layout),
        (_, Some(output)) => run_zip(&settings, &args.handler, output),
        // clap requires one or the other.
        _ => {
            eprintln!("eventpipe package: give -o FILE, or --image with --oci-layout DIR");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_zip(settings: &Settings, handler: &str, output: &Path) -> ExitCode {
    let cache = Cache::from_env();
    let pkg = match package::assemble_function(settings, handler, None, cache.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("eventpipe package: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if let Err(e) = std::fs::write(output, &pkg.zip) {
        eprintln!("eventpipe package: cannot write {}: {e}", output.display());
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

/// The base image `--base-image` names (AWS's for the runtime by default),
/// for `architecture`.
fn open_base(args: &Args) -> Result<BaseImage, ImageError> {
    let reference = match &args.base_image {
        Some(r) => BaseRef::parse(r),
        None => BaseRef::aws_default(&args.runtime),
    };
    match reference {
        BaseRef::Layout { path, name } => {
            BaseImage::from_layout(&path, name.as_deref(), &args.architecture)
        }
        BaseRef::Registry(r) => {
            let store = match Cache::from_env() {
                Some(c) => BlobStore::at(c.images_dir()),
                None => {
                    return Err(ImageError::Base(
                        "no cache directory for the base image: set EVENTPIPE_CACHE_DIR or HOME"
                            .into(),
                    ));
                }
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (base, stale) =
                runtime.block_on(BaseImage::from_registry(&r, &args.architecture, store))?;
            if let Some(stale) = stale {
                eprintln!("eventpipe package: warning: {stale}");
            }
            Ok(base)
        }
    }
}

fn run_image(args: &Args, settings: &Settings, layout: &Path) -> ExitCode {
    let fail = |e: ImageError| {
        eprintln!("eventpipe package: {e}");
        let code = match e {
            ImageError::Registry(RegistryError::Unreachable { .. }) => EXIT_UNREACHABLE,
            _ => EXIT_FAILED,
        };
        ExitCode::from(code)
    };
    // The base first: it is the cheap check, before any install.
    let base = match open_base(args) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let cache = Cache::from_env();
    let staged = match package::stage(settings, cache.as_ref(), limits::MAX_IMAGE_UNZIPPED_BYTES) {
        Ok(s) => s,
        Err(e) => return fail(e.into()),
    };
    let built = LayoutWriter::create(layout)
        .and_then(|out| image::build(&staged, &args.handler, &base, &out));
    match built {
        Ok(image) => {
            println!("{}", image.manifest_digest);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
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
