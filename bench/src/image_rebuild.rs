//! Figure 13's cached rebuild: what apply's image build step costs when
//! everything is cached (the base's blobs, and the image's layout under its
//! key, as an earlier apply of the same inputs left them), against the
//! plan-time hash of the same inputs (the base resolved with the cache, the
//! source scanned and hashed), paired in one run.
//!
//! Both sides are the provider's own functions, called as plan and apply
//! call them:
//! - plan (`image_plan.rs`'s lookup, then `package::Build`): the registry
//!   client's `resolve` of the base's tag with the image cache (one manifest
//!   HEAD), `Source::of_kind(.., Image)` and `Build::hash` (the scan and the
//!   read and hash of every file), then `package::image_hash` with the
//!   base's digest;
//! - apply (`ops::image::build` when the layout is cached): the base opened
//!   pinned to the plan's digest from the cache
//!   (`BaseImage::from_registry`), the layout's key from the plan's
//!   `source_code_hash` (`layout::cache_key`) and the layout found complete
//!   there (`layout::complete_manifest`). The source is not read again: the
//!   plan's hash already covers every file, and apply refuses nothing it
//!   would find changed, because the layout under that key was built from
//!   the inputs the plan hashed.
//!
//! The cache is filled first, not timed, by the build apply makes the first
//! time (`package::stage`, `image::build` into `layouts/<key>`).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow, ensure};
use eventpipe::pipeline::package::cache::Cache;
use eventpipe::pipeline::package::image::base::{BaseImage, oci_arch};
use eventpipe::pipeline::package::image::{self, layout};
use eventpipe::pipeline::package::{self, Build, Settings, limits};
use eventpipe::pipeline::source::{Kind, Source};
use eventpipe::registry::{self, BlobStore, Registry as Client};

use crate::stats::{Samples, timed};

const ARCH: &str = "x86_64";
const HANDLER: &str = "app.handler";

pub struct Rebuild {
    /// The plan's base resolution and hash of the tree.
    pub plan: Samples,
    /// Apply's image step finding the cached image.
    pub rebuild: Samples,
    /// The tree's size and file count, as hashed.
    pub bytes: u64,
    pub files: usize,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building a runtime")
}

/// Measures `repeats` pairs of (plan hash, cached rebuild) of the function
/// whose source is `tree`, on the base image of the layout `base_layout`
/// (`oci:DIR:base`) served by the tests' registry.
pub fn measure(root: &Path, tree: &Path, base_layout: &Path, repeats: usize) -> Result<Rebuild> {
    let registry = tests::Registry::start()?;
    let host = registry.host();
    let base_tag = format!("{host}/lambda/python:base");
    tests::Skopeo::new()?.copy_all(
        &format!("oci:{}:base", base_layout.display()),
        &format!("docker://{base_tag}"),
    )?;
    let cache = Cache::at(root.join("rebuild-cache"));
    let rt = runtime()?;
    let settings = Settings {
        source_dir: tree.into(),
        runtime: "python3.12".into(),
        architecture: ARCH.into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    };
    let dir = tree.to_str().context("a UTF-8 path")?.to_owned();

    // Plan: the base's digest (`image_base_digest`) and `source_code_hash`.
    let plan = || -> Result<(String, String)> {
        let parsed = registry::parse_reference(&base_tag)?;
        let client = Client::for_reference(&parsed);
        let store = BlobStore::at(cache.images_dir());
        let resolved = rt.block_on(client.resolve(&store, &parsed, &oci_arch(ARCH).to_string()))?;
        let build = Build::new(Source::of_kind(Some(&dir), Kind::Image), Some(&settings));
        let package = build
            .hash()
            .context("the package's inputs are known")?
            .map_err(|(attr, e)| anyhow!("{attr}: {e}"))?;
        Ok((
            package::image_hash(&package, &resolved.manifest_digest),
            resolved.manifest_digest,
        ))
    };
    let open_base = |base_digest: &str| -> Result<BaseImage> {
        let pinned = format!("{host}/lambda/python@{base_digest}");
        let store = BlobStore::at(cache.images_dir());
        Ok(rt
            .block_on(BaseImage::from_registry(&pinned, ARCH, store))?
            .0)
    };
    // Apply, with the image in the cache: the manifest digest it deploys.
    let rebuild = |hash: &str, base_digest: &str| -> Result<String> {
        let base = open_base(base_digest)?;
        let key = layout::cache_key(hash, &base.manifest_digest, HANDLER, ARCH);
        layout::complete_manifest(&cache.layouts_dir().join(key))
            .context("no complete layout under the plan's key")
    };

    // The first apply's build, into the cache under its key (not timed).
    let (hash, base_digest) = plan()?;
    let base = open_base(&base_digest)?;
    let staged = package::stage(&settings, Some(&cache), limits::MAX_IMAGE_UNZIPPED_BYTES)?;
    ensure!(
        staged.image_hash(&base.manifest_digest)? == hash,
        "apply's hash of the staged package differs from the plan's"
    );
    let key = layout::cache_key(&hash, &base.manifest_digest, HANDLER, ARCH);
    let out = cache.layouts_dir().join(key);
    fs::create_dir_all(&out)?;
    let built = image::build(
        &staged,
        HANDLER,
        &base,
        &layout::LayoutWriter::create(&out)?,
    )?;
    let mut m = Rebuild {
        plan: Samples::default(),
        rebuild: Samples::default(),
        bytes: staged.source.total_size(),
        files: staged.source.files.len(),
    };
    drop(staged);

    for _ in 0..repeats {
        let (r, d) = timed(plan);
        let (h, b) = r?;
        ensure!(h == hash && b == base_digest, "the plan's hash moved");
        m.plan.push_duration(d);
        let (r, d) = timed(|| rebuild(&hash, &base_digest));
        ensure!(
            r? == built.manifest_digest,
            "the cached rebuild found another image"
        );
        m.rebuild.push_duration(d);
    }
    fs::remove_dir_all(root.join("rebuild-cache")).ok();
    Ok(m)
}
