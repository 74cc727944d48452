//! The function's deployment package: the source tree plus its installed
//! dependencies, as a zip that is byte-for-byte the same for the same
//! inputs on any machine, so Lambda's `CodeSha256` is stable.
//!
//! - [`Build`] is what a plan knows: the scanned source and the
//!   dependencies it declares, and from them the `source_code_hash`. A plan
//!   never installs.
//! - [`assemble`] is what apply (and `eventpipe package`) runs: install the
//!   dependencies or take them from the cache, zip source + dependencies
//!   (reading each file once), check the hash is the planned one.
//!
//! Without dependencies the hash is the source tree's, as before 0.4.

pub mod bundle;
pub mod cache;
pub mod deps;
pub mod image;
pub mod limits;
pub mod slim;
pub mod zip;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use base64::Engine;
use sha2::{Digest, Sha256};
use tfsdk::access::Field;
use thiserror::Error;

use bundle::{Bundle, BundleError, WorkDir};
use cache::Cache;
use deps::{Deps, DepsError};

use super::exclude::{Exclude, PatternError};
use super::source::{self, Kind, Source, SourceError, SourceFile, SourceTree};
use super::state::{Function, PACKAGE_IMAGE, Planning, attr};

#[derive(Debug, Error)]
pub enum PackageError {
    #[error("{0}")]
    TooLargeUnzipped(String),
    #[error(
        "the zipped package is {} ({size} bytes), over the {} of a direct upload to Lambda, \
         and it cannot be staged in S3 here",
        source::mb(*size as u64), source::mb(limits::MAX_ZIPPED_BYTES)
    )]
    TooLargeZipped { size: usize },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the zip: {0}")]
    Zip(#[from] ::zip::result::ZipError),
    #[error("cannot build the zip: {0}")]
    Write(#[from] std::io::Error),
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("function dependencies: {0}")]
    Deps(#[from] DepsError),
    #[error("function.bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error(
        "the package changed since the plan (planned source_code_hash {planned}, now {now}); \
         run the plan again"
    )]
    Changed { planned: String, now: String },
    #[error("function.exclude[{}]: {}", .0.index, .0)]
    Exclude(#[from] PatternError),
}

/// A built package.
#[derive(Clone, Debug)]
pub struct Package {
    pub zip: Vec<u8>,
    /// base64(sha256(zip)): what Lambda reports as `CodeSha256`.
    pub code_sha256: String,
    /// The package's `source_code_hash`.
    pub hash: String,
}

impl Package {
    fn new(zip: Vec<u8>, hash: String) -> Package {
        let code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
        Package {
            zip,
            code_sha256,
            hash,
        }
    }
}

/// What decides a package besides its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub source_dir: PathBuf,
    pub runtime: String,
    pub architecture: String,
    /// `function.requirements_file` as configured.
    pub requirements_file: Option<String>,
    /// `function.slim`: package the slim copy of the installed
    /// dependencies ([`slim`]).
    pub slim: bool,
    /// `function.exclude`: gitignore-style patterns of files of
    /// `source_dir` left out of the package (empty when not set).
    pub exclude: Vec<String>,
    /// `function.bundle`: bundle a Node.js handler with esbuild.
    pub bundle: bool,
}

impl Settings {
    pub fn deps(&self) -> Result<Option<Deps>, DepsError> {
        deps::detect(
            &self.source_dir,
            &self.runtime,
            &self.architecture,
            self.requirements_file.as_deref(),
        )
    }

    /// What stays out of the package's source: `exclude`, and the default
    /// skips, with the root's `node_modules/` when the provider installs
    /// `deps` there (a Node.js runtime with declared dependencies).
    pub fn exclusions(&self, deps: Option<&Deps>) -> Result<Exclude, PatternError> {
        let installs_node_modules = deps.is_some() && self.runtime.starts_with("nodejs");
        Exclude::new(&self.source_dir, &self.exclude, installs_node_modules)
    }

    /// The source as the package has it (scanned up to `limit` bytes,
    /// without what [`Self::exclusions`] leaves out) and the declared
    /// dependencies: what apply, `eventpipe package` and an image build
    /// read, as a plan's [`Build::of`] does.
    pub fn source(&self, limit: u64) -> Result<(SourceTree, Option<Deps>), PackageError> {
        let deps = self.declared()?;
        let tree = self.tree(deps.as_ref(), limit)?;
        Ok((tree, deps))
    }

    /// The declared dependencies ([`Self::deps`]), where a source
    /// directory that is not there says so first.
    fn declared(&self) -> Result<Option<Deps>, PackageError> {
        self.deps().or_else(|e| {
            source::check_dir(&self.source_dir)?;
            Err(e.into())
        })
    }

    /// The source as the package has it when `deps` are declared:
    /// [`Self::source`]'s tree.
    fn tree(&self, deps: Option<&Deps>, limit: u64) -> Result<SourceTree, PackageError> {
        let exclude = self.exclusions(deps)?;
        Ok(source::scan_excluding(&self.source_dir, limit, &exclude)?)
    }
}

/// What a plan knows of the package: the source scanned once, and the
/// dependencies it declares (`None` while a setting they depend on is
/// unknown).
#[derive(Debug)]
pub struct Build {
    pub source: Source,
    deps: Option<Result<Option<Deps>, Arc<DepsError>>>,
    slim: bool,
    /// `function.package_type`; `None` while unknown.
    kind: Option<Kind>,
    /// An image's base, resolved at plan: its platform manifest's digest
    /// (`None` while not known).
    base_digest: Option<String>,
    /// `function.bundle` and what it bundles.
    bundle: Bundling,
    /// A pattern of `function.exclude` that does not parse (the source is
    /// then not scanned: the hash is unknown and validation says why).
    exclude_error: Option<PatternError>,
    /// The declared dependencies' cache keys, computed once for the hash
    /// and the size check ([`Build::keys`]).
    keys: OnceLock<Option<DepsKeys>>,
}

/// The cache keys of a plan's dependencies.
#[derive(Debug)]
struct DepsKeys {
    /// The installed tree's ([`Deps::key`]).
    installed: String,
    /// The packaged tree's ([`Deps::tree_key`]): the installed tree's, or
    /// with `slim` its slim copy's.
    packaged: String,
}

/// Whether a plan's package is a bundle ([`bundle`]).
#[derive(Clone, Debug)]
pub enum Bundling {
    /// `bundle = false`: the source as it is.
    Off,
    /// `bundle` or a setting the bundle depends on is unknown.
    Unknown,
    /// `bundle = true`: the bundle of the handler's entry, or why it
    /// cannot be made.
    On(Result<Bundle, Arc<BundleError>>),
}

/// An image's `source_code_hash`: the package's (source and dependency
/// inputs, as for a zip), the package type and the base image's digest.
/// A zip's hash is the package's alone.
pub fn image_hash(package_hash: &str, base_digest: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"eventpipe-image-v1\0");
    h.update(package_hash.as_bytes());
    h.update([0]);
    h.update(base_digest.as_bytes());
    hex::encode(h.finalize())
}

impl Build {
    /// The package of a configuration's `function` block.
    pub fn of(f: &Function<Planning>) -> Build {
        let kind = match &f.package_type {
            Field::Known(t) if t == PACKAGE_IMAGE => Some(Kind::Image),
            Field::Known(_) => Some(Kind::Zip),
            // Not set is the default, a zip.
            Field::Null => Some(Kind::Zip),
            Field::Unknown => None,
        };
        let dir = f.source_dir.as_known().map(String::as_str);
        let requirements = match &f.requirements_file {
            Field::Known(r) => Some(Some(r.clone())),
            Field::Null => Some(None),
            Field::Unknown => None,
        };
        // Not set is the default, off (a validation sees the configuration
        // before defaults are filled in).
        let slim = match &f.slim {
            Field::Known(s) => Some(*s),
            Field::Null => Some(false),
            Field::Unknown => None,
        };
        let exclude = match &f.exclude {
            Field::Known(patterns) => Some(patterns.clone()),
            Field::Null => Some(Vec::new()),
            Field::Unknown => None,
        };
        let bundle = match &f.bundle {
            Field::Known(b) => Some(*b),
            Field::Null => Some(false),
            Field::Unknown => None,
        };
        let settings = match (
            f.source_dir.as_known(),
            f.runtime.as_known(),
            f.architecture.as_known(),
            requirements,
            slim,
            exclude,
            bundle,
        ) {
            (
                Some(dir),
                Some(rt),
                Some(arch),
                Some(req),
                Some(slim),
                Some(exclude),
                Some(bundle),
            ) => Some(Settings {
                source_dir: dir.into(),
                runtime: rt.clone(),
                architecture: arch.clone(),
                requirements_file: req,
                slim,
                exclude,
                bundle,
            }),
            _ => None,
        };
        let mut build = match &settings {
            // While the type is unknown, the larger limit: no refusal it may not earn.
            Some(s) => Build::of_settings(s, kind.unwrap_or(Kind::Image)),
            // The default skips alone while a setting is unknown: what the
            // checks of the handler and the size may see.
            None => Build::new(Source::of_kind(dir, kind.unwrap_or(Kind::Image)), None),
        };
        build.kind = kind;
        build.bundle = match (&f.bundle, &settings) {
            (Field::Known(false) | Field::Null, _) => Bundling::Off,
            (Field::Known(true), Some(s)) => build.plan_bundle(s, f.handler.as_known(), kind),
            _ => Bundling::Unknown,
        };
        build
    }

    /// The bundle of `handler`'s entry with `settings`, for a package of
    /// `kind`.
    fn plan_bundle(
        &self,
        settings: &Settings,
        handler: Option<&String>,
        kind: Option<Kind>,
    ) -> Bundling {
        let (Some(handler), Some(kind), Some(tree)) = (handler, kind, self.source.tree()) else {
            return Bundling::Unknown;
        };
        // An unreadable source is reported as such, not as a bundle error.
        let Ok(tree) = tree else {
            return Bundling::Unknown;
        };
        if kind == Kind::Image {
            return Bundling::On(Err(Arc::new(BundleError::Image)));
        }
        Bundling::On(
            Bundle::plan(handler, tree, &settings.runtime, &settings.architecture)
                .map_err(Arc::new),
        )
    }

    /// `function.bundle` and what it bundles.
    pub fn bundling(&self) -> &Bundling {
        &self.bundle
    }

    /// The package of `settings`, its source scanned up to the limit of
    /// `kind` without what `function.exclude` and the default skips leave
    /// out, as [`Settings::source`] scans it at apply.
    pub fn of_settings(settings: &Settings, kind: Kind) -> Build {
        let dir = settings.source_dir.to_str();
        // Dependencies are only looked for in a source directory that is one.
        let deps = settings
            .source_dir
            .is_dir()
            .then(|| settings.deps().map_err(Arc::new));
        let declared = deps.as_ref().and_then(|d| d.as_ref().ok()?.as_ref());
        let (source, exclude_error) = match settings.exclusions(declared) {
            Ok(exclude) => (Source::excluding(dir, kind, exclude), None),
            Err(e) => (Source::of_kind(None, kind), Some(e)),
        };
        let deps = match source.tree() {
            Some(Ok(_)) => deps,
            _ => None,
        };
        Build {
            source,
            deps,
            slim: settings.slim,
            kind: Some(kind),
            base_digest: None,
            bundle: Bundling::Off,
            exclude_error,
            keys: OnceLock::new(),
        }
    }

    /// The first pattern of `function.exclude` that does not parse.
    pub fn exclude_error(&self) -> Option<&PatternError> {
        self.exclude_error.as_ref()
    }

    /// The package as an image on the base whose platform manifest is
    /// `base_digest` (`None`: not known at plan).
    pub fn with_base(mut self, base_digest: Option<String>) -> Build {
        self.base_digest = base_digest;
        self
    }

    /// `function.package_type`; `None` while unknown.
    pub fn kind(&self) -> Option<Kind> {
        self.kind
    }

    /// An image's base digest, when resolved.
    pub fn base_digest(&self) -> Option<&str> {
        self.base_digest.as_deref()
    }

    /// The package of `source` (scanned by the caller, as
    /// [`Build::of_settings`] would) built with `settings` (`None`: not
    /// known).
    pub fn new(source: Source, settings: Option<&Settings>) -> Build {
        // Dependencies are only looked for in a source directory that scans.
        let deps = match (source.tree(), settings) {
            (Some(Ok(_)), Some(s)) => Some(s.deps().map_err(Arc::new)),
            _ => None,
        };
        let slim = settings.is_some_and(|s| s.slim);
        Build {
            source,
            deps,
            slim,
            kind: Some(Kind::Zip),
            base_digest: None,
            bundle: Bundling::Off,
            exclude_error: None,
            keys: OnceLock::new(),
        }
    }

    /// The declared dependencies' cache keys; `None` while unknown or
    /// when there are none.
    fn keys(&self) -> Option<&DepsKeys> {
        self.keys
            .get_or_init(|| {
                let d = self.deps()?.ok()??;
                let installed = d.key();
                let packaged = deps::tree_key_of(installed.clone(), self.slim);
                Some(DepsKeys {
                    installed,
                    packaged,
                })
            })
            .as_ref()
    }

    /// The declared dependencies; `None` while unknown.
    pub fn deps(&self) -> Option<Result<Option<&Deps>, &DepsError>> {
        self.deps
            .as_ref()
            .map(|r| r.as_ref().map(Option::as_ref).map_err(|e| e.as_ref()))
    }

    /// The package's `source_code_hash`, or why it cannot be computed
    /// with the attribute (of `function`) to blame; `None` while unknown
    /// (for an image, also while its base digest is).
    pub fn hash(&self) -> Option<Result<String, (&'static str, String)>> {
        match &self.bundle {
            Bundling::Off => {}
            Bundling::Unknown => return None,
            Bundling::On(b) => return self.bundle_hash(b.as_ref().map_err(Arc::as_ref)),
        }
        let tree = match self.source.hash()? {
            Ok(h) => h,
            Err(e) => return Some(Err((attr::SOURCE_DIR, e.to_string()))),
        };
        let package = match self.deps()? {
            Ok(None) => tree,
            Ok(Some(d)) => match self.keys() {
                Some(k) => deps::package_hash_of(&tree, &k.packaged),
                None => d.package_hash(&tree, self.slim),
            },
            Err(e) => return Some(Err((e.attr(), e.to_string()))),
        };
        match self.kind? {
            Kind::Zip => Some(Ok(package)),
            Kind::Image => Some(Ok(image_hash(&package, self.base_digest.as_deref()?))),
        }
    }

    /// The `source_code_hash` of a bundle (see [`Bundle::package_hash`]).
    fn bundle_hash(
        &self,
        bundle: Result<&Bundle, &BundleError>,
    ) -> Option<Result<String, (&'static str, String)>> {
        let b = match bundle {
            Ok(b) => b,
            Err(e) => return Some(Err((e.attr(), e.to_string()))),
        };
        let tree = match self.source.tree()? {
            Ok(t) => bundle::inputs(t),
            Err(e) => return Some(Err((attr::SOURCE_DIR, e.to_string()))),
        };
        let tree_hash = match source::tree_hash(&tree) {
            Ok(h) => h,
            Err(e) => return Some(Err((attr::SOURCE_DIR, e.to_string()))),
        };
        match self.deps()? {
            Ok(d) => Some(Ok(b.package_hash(&tree_hash, d))),
            Err(e) => Some(Err((e.attr(), e.to_string()))),
        }
    }

    /// The dependency tree that is packaged, when the cache has the
    /// installed one: that tree, or with `slim` its slim copy (made from it
    /// here the first time: local work, no installer runs at plan).
    pub fn cached_deps(&self, cache: Option<&Cache>) -> Option<PathBuf> {
        let d = self.deps()?.ok()??;
        let cache = cache?;
        let installed = cache.installed(&self.keys()?.installed)?;
        if !self.slim {
            return Some(installed);
        }
        match slim_tree(d, &installed, Some(cache)) {
            Ok(dir) => Some(dir),
            Err(e) => {
                tracing::warn!(error = %e, "cannot make the slim dependency tree");
                None
            }
        }
    }

    /// The refusal of a package over Lambda's unzipped limit, as far as a
    /// plan knows its size: the source, plus the installed dependencies
    /// when the cache has them (their recorded size; the tree is walked
    /// only to name the largest entries of a refused package).
    pub fn too_large(&self, cache: Option<&Cache>) -> Option<String> {
        // A bundle holds neither the source nor the installed tree as they are.
        if !matches!(self.bundle, Bundling::Off) {
            return None;
        }
        let Some(Ok(tree)) = self.source.tree() else {
            return None;
        };
        let c = cache?;
        let key = &self.keys()?.packaged;
        let kind = self.kind.unwrap_or(Kind::Image);
        let fits = |size: u64| tree.total_size().saturating_add(size) <= kind.limit();
        // A recorded size is written beside a complete tree: when it
        // fits, the tree need not be looked at.
        if c.installed_size(key).is_some_and(fits) {
            return None;
        }
        // The slim copy is made (and its size recorded) the first time.
        let installed = self.cached_deps(cache)?;
        if c.installed_size(key).is_some_and(fits) {
            return None;
        }
        let t = source::scan_limited(&installed, u64::MAX).ok()?;
        let all: Vec<&SourceFile> = tree.files.iter().chain(&t.files).collect();
        limits::check_unzipped_as(kind, &all)
    }
}

/// Whether the package of `settings` may be over the direct-upload limit
/// once zipped (see [`limits::may_need_staging`]); apply decides its steps
/// with it. Unreadable sources say no: building them fails anyway.
pub fn may_need_staging(settings: &Settings) -> bool {
    match settings.source(source::MAX_UNZIPPED_BYTES) {
        Ok((_, Some(_))) => true,
        Ok((tree, None)) => limits::may_need_staging(tree.total_size(), false),
        Err(_) => false,
    }
}

/// Zips a tree without dependencies (the files as they are).
pub fn build(tree: &SourceTree) -> Result<Package, PackageError> {
    let hash = source::tree_hash(tree)?;
    let files: Vec<&SourceFile> = tree.files.iter().collect();
    if let Some(msg) = limits::check_unzipped(&files) {
        return Err(PackageError::TooLargeUnzipped(msg));
    }
    let (bytes, _) = zip::build_parallel(&tree.files)?;
    Ok(Package::new(bytes, hash))
}

/// The files of the package: the source's and the installed tree's, sorted
/// by name; a source file shadows a dependency file of the same name. The
/// flag says which are the source's.
fn merge(source: &[SourceFile], installed: &[SourceFile]) -> (Vec<SourceFile>, Vec<bool>) {
    let mut all: Vec<(SourceFile, bool)> = source
        .iter()
        .cloned()
        .map(|f| (f, true))
        .chain(installed.iter().cloned().map(|f| (f, false)))
        .collect();
    // Stable: for one name the source's comes first and is the one kept.
    all.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    all.dedup_by(|later, first| later.0.name == first.0.name);
    all.into_iter().unzip()
}

/// Builds the package apply deploys: the source of `settings` with its
/// dependencies installed (or taken from `cache`), zipped on every core.
/// With `planned`, fails with [`PackageError::Changed`] unless the package
/// is still the planned one, and reuses a zip built before for that hash
/// (packages with dependencies only).
pub fn assemble(
    settings: &Settings,
    planned: Option<&str>,
    cache: Option<&Cache>,
) -> Result<Package, PackageError> {
    // A bundle needs the handler: [`assemble_function`].
    if settings.bundle {
        return Err(BundleError::BadHandler {
            handler: String::new(),
        }
        .into());
    }
    let (tree, deps) = settings.source(source::MAX_UNZIPPED_BYTES)?;
    // Only packages with dependencies are cached: a plain source zips in
    // about the time it takes to check the hash, and the cache would grow
    // with every edit of every pipeline.
    let cache = cache.filter(|_| deps.is_some());
    let package_hash = |tree_hash: String| match &deps {
        Some(d) => d.package_hash(&tree_hash, settings.slim),
        None => tree_hash,
    };
    // A zip built before for the planned hash: one read of the source to
    // check it is still that.
    if let (Some(planned), Some(c)) = (planned, cache)
        && let Some(bytes) = c.zip(planned)
    {
        let now = package_hash(source::tree_hash(&tree)?);
        if now != planned {
            return Err(PackageError::Changed {
                planned: planned.to_owned(),
                now,
            });
        }
        tracing::debug!(hash = planned, "reusing the zip built before");
        return Ok(Package::new(bytes, now));
    }
    let dep_files = installed_files(deps.as_ref(), settings.slim, cache)?;
    let (files, is_source) = merge(&tree.files, &dep_files);
    let refs: Vec<&SourceFile> = files.iter().collect();
    if let Some(msg) = limits::check_unzipped(&refs) {
        return Err(PackageError::TooLargeUnzipped(msg));
    }
    let (bytes, digests) = zip::build_parallel(&files)?;
    let source_digests: Vec<[u8; 32]> = digests
        .iter()
        .zip(&is_source)
        .filter(|(_, s)| **s)
        .map(|(d, _)| *d)
        .collect();
    let now = package_hash(source::hash_of_digests(&tree.files, &source_digests));
    if let Some(planned) = planned
        && now != planned
    {
        return Err(PackageError::Changed {
            planned: planned.to_owned(),
            now,
        });
    }
    if let Some(c) = cache
        && let Err(e) = c.put_zip(&now, &bytes)
    {
        tracing::warn!(error = %e, "cannot keep the zip in the cache");
    }
    Ok(Package::new(bytes, now))
}

/// The package apply deploys for a function whose handler is `handler`:
/// with `settings.bundle` the esbuild bundle ([`assemble_bundle`]), else
/// [`assemble`].
pub fn assemble_function(
    settings: &Settings,
    handler: &str,
    planned: Option<&str>,
    cache: Option<&Cache>,
) -> Result<Package, PackageError> {
    if settings.bundle {
        assemble_bundle(settings, handler, planned, cache)
    } else {
        assemble(settings, planned, cache)
    }
}

/// Builds the bundle of `handler`'s entry ([`bundle`]): the dependencies
/// installed (or taken from `cache`) for esbuild to read, esbuild run
/// once, the bundle and its map zipped. With `planned`, fails with
/// [`PackageError::Changed`] unless the inputs are still the planned ones;
/// the zip is kept in `cache` by its hash and reused.
///
/// With `planned`, esbuild starts as soon as its working directory is
/// linked, on the entry found on disk ([`Bundle::on_disk`]). The source is
/// scanned, the bundle planned from the scan and the source hashed on a
/// thread of their own meanwhile (the hash is needed only to check the
/// plan, and esbuild reads the same files), which also makes the zip's
/// place in the cache under the planned hash. A changed source fails the
/// build after esbuild, its output dropped; an entry on disk that is not
/// the scan's (`exclude` leaves it out) is bundled again from the scan's.
/// Without `planned`, the hash comes first, as the key of a bundle built
/// before.
pub fn assemble_bundle(
    settings: &Settings,
    handler: &str,
    planned: Option<&str>,
    cache: Option<&Cache>,
) -> Result<Package, PackageError> {
    let limit = source::MAX_UNZIPPED_BYTES;
    let (rt, arch) = (settings.runtime.as_str(), settings.architecture.as_str());
    // The bundle the scan plans, and its hash: the inputs (without what
    // `exclude` leaves out), the dependencies' key and esbuild's options.
    let planned_from = |deps: Option<&Deps>| -> Result<(Bundle, String), PackageError> {
        let tree = settings.tree(deps, limit)?;
        let b = Bundle::plan(handler, &tree, rt, arch)?;
        let now = b.package_hash(&source::tree_hash(&bundle::inputs(&tree))?, deps);
        Ok((b, now))
    };
    let deps = settings.declared()?;
    let deps = deps.as_ref();
    let Some(planned) = planned else {
        let (b, now) = planned_from(deps)?;
        if let Some(bytes) = cache.and_then(|c| c.zip(&now)) {
            tracing::debug!(hash = now, "reusing the bundle built before");
            return Ok(Package::new(bytes, now));
        }
        let bytes = build_bundle(settings, &b, deps, cache)?;
        keep_bundle(cache, &now, &bytes);
        return Ok(Package::new(bytes, now));
    };
    let changed = |now: String| {
        if now == planned {
            return Ok(now);
        }
        Err(PackageError::Changed {
            planned: planned.to_owned(),
            now,
        })
    };
    if let Some(bytes) = cache.and_then(|c| c.zip(planned)) {
        let (_, now) = planned_from(deps)?;
        let now = changed(now)?;
        tracing::debug!(hash = now, "reusing the bundle built before");
        return Ok(Package::new(bytes, now));
    }
    let beside = || {
        let scanned = planned_from(deps);
        let slot = cache.map(|c| c.zip_slot(planned));
        (scanned, slot)
    };
    // The entry on disk, bundled as soon as esbuild's working directory is
    // linked; `None` when there is none (the scan's plan then says why).
    let early = || {
        let b = Bundle::on_disk(handler, &settings.source_dir, rt, arch).ok()?;
        let built = build_bundle(settings, &b, deps, cache);
        Some((b, built))
    };
    let ((scanned, slot), early) = std::thread::scope(|s| {
        let scanning = s.spawn(beside);
        let built = early();
        let beside = scanning.join().unwrap_or_else(|_| {
            let e = std::io::Error::other("scanning the source panicked");
            (Err(e.into()), None)
        });
        (beside, built)
    });
    // A source that cannot be scanned or planned, or that changed since
    // the plan, is the reason to give, even when esbuild failed on it.
    let (b, now) = scanned?;
    let now = changed(now)?;
    let bytes = match early {
        Some((early, built)) if early == b => built?,
        // The scan leaves the entry on disk out: the scan's is bundled.
        _ => build_bundle(settings, &b, deps, cache)?,
    };
    if let Some(Err(e)) = slot.map(|slot| slot.and_then(|slot| slot.keep(&bytes))) {
        tracing::warn!(error = %e, "cannot keep the bundle in the cache");
    }
    Ok(Package::new(bytes, now))
}

/// The zip of `b`: esbuild's working directory linked to the source, the
/// dependencies installed (or taken from `cache`) and linked into it,
/// esbuild run there, its output zipped while the directory is removed.
fn build_bundle(
    settings: &Settings,
    b: &Bundle,
    deps: Option<&Deps>,
    cache: Option<&Cache>,
) -> Result<Vec<u8>, PackageError> {
    let work = WorkDir::link_source(&settings.source_dir)?;
    if let Some(d) = deps {
        work.link_node_modules(&install(d, cache)?.join("node_modules"))?;
    }
    let esbuild = bundle::find_esbuild(&settings.source_dir)?;
    let built = b.build(&esbuild, &work);
    // esbuild's output is in memory: its working directory is removed
    // while the bundle is zipped.
    std::thread::scope(|s| {
        s.spawn(move || drop(work));
        let files = built?;
        let refs: Vec<&SourceFile> = files.iter().map(|f| &f.file).collect();
        if let Some(msg) = limits::check_unzipped(&refs) {
            return Err(PackageError::TooLargeUnzipped(msg));
        }
        zip::build_in_memory(&files)
    })
}

fn keep_bundle(cache: Option<&Cache>, hash: &str, bytes: &[u8]) {
    if let Some(c) = cache
        && let Err(e) = c.put_zip(hash, bytes)
    {
        tracing::warn!(error = %e, "cannot keep the bundle in the cache");
    }
}

/// The two trees a package is made of, as apply stages them: the source,
/// and the installed dependencies (from the same installers and cache as
/// the zip). A zip merges them; an image puts each in a layer of its own.
#[derive(Clone, Debug)]
pub struct Staged {
    pub source: SourceTree,
    /// The declared dependencies; `None` when the source declares none.
    pub deps: Option<Deps>,
    /// The installed tree's files (its slim copy's with `slim`), sorted by
    /// name (empty without dependencies, or when nothing was installed).
    pub installed: Vec<SourceFile>,
    /// `function.slim`.
    pub slim: bool,
}

impl Staged {
    /// The package's `source_code_hash` (the tree's, with the dependency
    /// inputs when there are some), from one more read of the source.
    pub fn hash(&self) -> Result<String, PackageError> {
        let tree = source::tree_hash(&self.source)?;
        Ok(match &self.deps {
            Some(d) => d.package_hash(&tree, self.slim),
            None => tree,
        })
    }

    /// The `source_code_hash` of this package as an image on the base
    /// whose platform manifest is `base_digest` ([`image_hash`]).
    pub fn image_hash(&self, base_digest: &str) -> Result<String, PackageError> {
        Ok(image_hash(&self.hash()?, base_digest))
    }
}

/// Scans the source of `settings` (stopping at `limit` bytes) and installs
/// its dependencies (or takes them from `cache`): what an image layers,
/// from the same code [`assemble`] zips with.
pub fn stage(
    settings: &Settings,
    cache: Option<&Cache>,
    limit: u64,
) -> Result<Staged, PackageError> {
    let (source, deps) = settings.source(limit)?;
    let cache = cache.filter(|_| deps.is_some());
    let installed = installed_files(deps.as_ref(), settings.slim, cache)?;
    Ok(Staged {
        source,
        deps,
        installed,
        slim: settings.slim,
    })
}

/// The installed dependency tree of `settings` (installed now, or taken
/// from `cache`), as the package has it before any slimming: what
/// `eventpipe invoke --local` puts on the handler's path. `None` when the
/// source declares no dependencies.
pub fn installed_tree(
    settings: &Settings,
    cache: Option<&Cache>,
) -> Result<Option<PathBuf>, PackageError> {
    match settings.deps()? {
        Some(d) if d.has_own() => Ok(Some(with_own_package(&d, &install(&d, cache)?)?)),
        Some(d) => Ok(Some(install(&d, cache)?)),
        None => Ok(None),
    }
}

/// The name the project's own package is built under in the temporary
/// directory (with the process id and a counter): the files are zipped
/// from there, so it outlives the call that built it.
const OWN_PACKAGE_DIR: &str = "eventpipe-own-package";

/// Removes the own-package directories earlier processes left behind a
/// day or more ago (this process's are younger).
fn sweep_own_package_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > day));
        if old && e.file_name().to_string_lossy().starts_with(OWN_PACKAGE_DIR) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A directory of this process's holding links to each top-level entry of
/// the installed tree `installed` and the project's own package built now
/// beside them: the tree a handler in a `src/` layout runs with.
fn with_own_package(deps: &Deps, installed: &Path) -> Result<PathBuf, PackageError> {
    let dir = std::env::temp_dir().join(format!("{OWN_PACKAGE_DIR}-local-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    deps.install_own(&dir)?;
    for entry in std::fs::read_dir(installed)? {
        let entry = entry?;
        let to = dir.join(entry.file_name());
        if to.exists() {
            continue;
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(entry.path(), to)?;
        // No links without privileges elsewhere: the installed tree alone.
        #[cfg(not(unix))]
        return Ok(installed.to_owned());
    }
    Ok(dir)
}

/// The files of the installed tree of `deps` (installed now or taken from
/// `cache`), or with `slim` of its slim copy, recording its size in the
/// cache the first time. The one place the zip, the image and (through
/// [`Build::cached_deps`]) the plan's size check get their dependency tree.
fn installed_files(
    deps: Option<&Deps>,
    slim: bool,
    cache: Option<&Cache>,
) -> Result<Vec<SourceFile>, PackageError> {
    let Some(d) = deps else {
        return Ok(Vec::new());
    };
    let mut dir = install(d, cache)?;
    if slim {
        dir = slim_tree(d, &dir, cache)?;
    }
    let key = d.tree_key(slim);
    let files = match source::scan_limited(&dir, u64::MAX) {
        Ok(t) => t.files,
        // An empty tree (nothing to install) is no error.
        Err(SourceError::Empty { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if let Some(c) = cache
        && c.installed_size(&key).is_none()
    {
        let size = files.iter().map(|f| f.size).sum();
        if let Err(e) = c.record_size(&key, size) {
            tracing::warn!(error = %e, "cannot record the installed tree's size");
        }
    }
    own_package_files(d, files)
}

/// `files` (the installed dependencies) with the project's own package
/// added when it has one ([`Deps::install_own`]): built from the source
/// into a directory of this process's (never cached: the source decides
/// it, and the package hash covers the source), sorted by name.
fn own_package_files(
    deps: &Deps,
    mut files: Vec<SourceFile>,
) -> Result<Vec<SourceFile>, PackageError> {
    if !deps.has_own() {
        return Ok(files);
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if n == 0 {
        sweep_own_package_dirs();
    }
    let dir = std::env::temp_dir().join(format!("{OWN_PACKAGE_DIR}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    deps.install_own(&dir)?;
    let own = match source::scan_limited(&dir, u64::MAX) {
        Ok(t) => t.files,
        Err(SourceError::Empty { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    // The project's files shadow an installed file of the same name.
    let names: std::collections::HashSet<String> = own.iter().map(|f| f.name.clone()).collect();
    files.retain(|f| !names.contains(&f.name));
    files.extend(own);
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// The slim copy of the installed tree `installed` of `deps` ([`slim`]):
/// the cached one, or one made now (into the cache when there is one, else
/// beside `installed` in the temporary directory).
fn slim_tree(
    deps: &Deps,
    installed: &Path,
    cache: Option<&Cache>,
) -> Result<PathBuf, PackageError> {
    let key = deps.tree_key(true);
    let derive = |into: &Path| -> std::io::Result<()> {
        let s = slim::derive(installed, into)?;
        tracing::debug!(
            kept = s.kept,
            dropped = s.dropped,
            stripped = s.stripped,
            size = s.size,
            "made the slim dependency tree"
        );
        // Its size, for the plans that follow (the same for every copy of
        // the same tree, so a copy that loses the race records it right).
        if let Some(c) = cache
            && let Err(e) = c.record_size(&key, s.size)
        {
            tracing::warn!(error = %e, "cannot record the slim tree's size");
        }
        Ok(())
    };
    if let Some(c) = cache {
        return Ok(c.install(&key, derive)?);
    }
    let dir = std::env::temp_dir().join(format!("eventpipe-deps-{key}-{}", std::process::id()));
    if !dir.is_dir() {
        let tmp = dir.with_extension("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        derive(&tmp)?;
        std::fs::rename(&tmp, &dir)?;
    }
    Ok(dir)
}

/// The installed tree of `deps`: the cached one, or a fresh install (into
/// the cache when there is one, else a temporary directory kept for the
/// process's life).
fn install(deps: &Deps, cache: Option<&Cache>) -> Result<PathBuf, PackageError> {
    let key = deps.key();
    if let Some(c) = cache {
        return Ok(c.install(&key, |dir: &Path| deps.install(dir))?);
    }
    let dir = std::env::temp_dir().join(format!("eventpipe-deps-{key}-{}", std::process::id()));
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir)?;
        deps.install(&dir)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::source::scan;
    use std::fs;
    use std::io::{Cursor, Read};

    fn settings(dir: &Path, runtime: &str) -> Settings {
        Settings {
            source_dir: dir.into(),
            runtime: runtime.into(),
            architecture: "x86_64".into(),
            requirements_file: None,
            slim: false,
            exclude: Vec::new(),
            bundle: false,
        }
    }

    /// A requirements.txt project's `source_code_hash`, pinned to what the
    /// versions before `function.exclude` computed: no spurious diff.
    #[test]
    fn a_requirements_projects_hash_is_unchanged_by_exclude() {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        fs::create_dir(d.path().join("lib")).unwrap();
        fs::write(d.path().join("lib/util.py"), "X = 1\n").unwrap();
        let s = settings(d.path(), "python3.12");
        let pinned = "1d61e4cae7e622319c2c1aee73a27e3d012f37c114ffba034a77d5a0d2a54b98";
        let b = Build::new(Source::of(d.path().to_str()), Some(&s));
        assert_eq!(b.hash().unwrap().unwrap(), pinned);
        // The plan's path with `exclude` unset, and apply's.
        let b = Build::of_settings(&s, Kind::Zip);
        assert_eq!(b.hash().unwrap().unwrap(), pinned);
        let (tree, deps) = s.source(u64::MAX).unwrap();
        let tree_hash = source::tree_hash(&tree).unwrap();
        assert_eq!(deps.unwrap().package_hash(&tree_hash, false), pinned);
    }

    fn tree_names(b: &Build) -> Vec<String> {
        let d = b.source.digest().unwrap().unwrap();
        d.files.into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn excluded_files_are_neither_hashed_listed_nor_packaged() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("app.py"), "x").unwrap();
        fs::create_dir_all(d.path().join("notebooks/deep")).unwrap();
        fs::write(d.path().join("notebooks/deep/a.ipynb"), "{}").unwrap();
        fs::write(d.path().join("data.parquet"), "PAR1").unwrap();
        fs::write(d.path().join("keep.parquet"), "PAR1").unwrap();
        fs::create_dir_all(d.path().join(".venv/lib")).unwrap();
        fs::write(d.path().join(".venv/lib/site.py"), "x").unwrap();
        let plain = settings(d.path(), "python3.12");
        let s = Settings {
            exclude: vec![
                "notebooks/".into(),
                "*.parquet".into(),
                "!keep.parquet".into(),
            ],
            ..plain.clone()
        };
        let b = Build::of_settings(&s, Kind::Zip);
        assert_eq!(tree_names(&b), ["app.py", "keep.parquet"]);
        let planned = b.hash().unwrap().unwrap();
        let p = assemble(&s, Some(&planned), None).unwrap();
        assert_eq!(zip_names(&p.zip), ["app.py", "keep.parquet"]);
        // `.venv/` is never packaged; the rest is without `exclude`.
        let all = Build::of_settings(&plain, Kind::Zip);
        assert_eq!(
            tree_names(&all),
            [
                "app.py",
                "data.parquet",
                "keep.parquet",
                "notebooks/deep/a.ipynb"
            ]
        );
        assert_ne!(all.hash().unwrap().unwrap(), planned);
        // Adding a file under an excluded directory changes nothing.
        fs::write(d.path().join("notebooks/b.ipynb"), "{}").unwrap();
        assert_eq!(
            Build::of_settings(&s, Kind::Zip).hash().unwrap().unwrap(),
            planned
        );
        // The CLI's and the image's path read the same tree.
        let staged = stage(&s, None, u64::MAX).unwrap();
        assert_eq!(staged.hash().unwrap(), planned);
        // Patterns that leave nothing say so.
        let nothing = Settings {
            exclude: vec!["*".into()],
            ..plain.clone()
        };
        let e = assemble(&nothing, None, None).unwrap_err().to_string();
        assert!(e.ends_with("holds no files to package once function.exclude and the default skips leave theirs out"), "{e}");
    }

    #[test]
    fn node_modules_stays_out_only_when_the_provider_installs_the_dependencies() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("index.js"), "exports.handler = 1;").unwrap();
        fs::create_dir_all(d.path().join("node_modules/left-pad")).unwrap();
        fs::write(d.path().join("node_modules/left-pad/index.js"), "1").unwrap();
        let s = settings(d.path(), "nodejs20.x");
        // No declared dependencies: a vendored tree, packaged as it is.
        let vendored = Build::of_settings(&s, Kind::Zip);
        assert_eq!(
            tree_names(&vendored),
            ["index.js", "node_modules/left-pad/index.js"]
        );
        let tree_hash = source::tree_hash(&scan(d.path()).unwrap()).unwrap();
        assert_eq!(vendored.hash().unwrap().unwrap(), tree_hash);
        // Declared with a lock: npm installs node_modules, the source's stays out.
        fs::write(
            d.path().join("package.json"),
            r#"{"dependencies":{"left-pad":"1.3.0"}}"#,
        )
        .unwrap();
        fs::write(
            d.path().join("package-lock.json"),
            r#"{"lockfileVersion":3,"packages":{}}"#,
        )
        .unwrap();
        let installed = Build::of_settings(&s, Kind::Zip);
        assert!(matches!(installed.deps(), Some(Ok(Some(_)))));
        assert_eq!(
            tree_names(&installed),
            ["index.js", "package-lock.json", "package.json"]
        );
        let (tree, _) = s.source(u64::MAX).unwrap();
        let names: Vec<&str> = tree.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["index.js", "package-lock.json", "package.json"]);
    }

    #[test]
    fn a_bad_pattern_leaves_the_hash_unknown_and_fails_a_build() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("app.py"), "x").unwrap();
        let s = Settings {
            exclude: vec!["ok/".into(), "[oops".into()],
            ..settings(d.path(), "python3.12")
        };
        let b = Build::of_settings(&s, Kind::Zip);
        assert_eq!(b.exclude_error().map(|e| e.index), Some(1));
        assert!(b.hash().is_none());
        let e = assemble(&s, None, None).unwrap_err();
        assert!(
            e.to_string().starts_with("function.exclude[1]: \"[oops\""),
            "{e}"
        );
    }

    #[test]
    fn same_files_give_the_same_bytes_whatever_the_timestamps() {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        fs::create_dir(d.path().join("lib")).unwrap();
        fs::write(d.path().join("lib/x.py"), "X = 1\n").unwrap();
        let a = build(&scan(d.path()).unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        fs::write(
            d.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        let b = build(&scan(d.path()).unwrap()).unwrap();
        assert_eq!(a.zip, b.zip);
        assert_eq!(a.code_sha256, b.code_sha256);
    }

    #[test]
    fn without_dependencies_the_hash_is_the_source_trees() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("app.py"), "x").unwrap();
        let s = settings(d.path(), "python3.12");
        let b = Build::new(Source::of(d.path().to_str()), Some(&s));
        let tree_hash = source::tree_hash(&scan(d.path()).unwrap()).unwrap();
        assert_eq!(b.hash().unwrap().unwrap(), tree_hash);
        let p = assemble(&s, Some(&tree_hash), None).unwrap();
        assert_eq!(p.hash, tree_hash);
        // Slim acts on dependencies only: without them it changes nothing.
        let slim = Settings {
            slim: true,
            ..s.clone()
        };
        let b = Build::new(Source::of(d.path().to_str()), Some(&slim));
        assert_eq!(b.hash().unwrap().unwrap(), tree_hash);
        assert_eq!(assemble(&slim, Some(&tree_hash), None).unwrap().zip, p.zip);
        assert_eq!(p.zip, build(&scan(d.path()).unwrap()).unwrap().zip);
    }

    #[test]
    fn a_requirements_file_changes_the_hash_and_its_edits_do_too() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("app.py"), "x").unwrap();
        let s = settings(d.path(), "python3.12");
        let plain = Build::new(Source::of(d.path().to_str()), Some(&s))
            .hash()
            .unwrap()
            .unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let with = Build::new(Source::of(d.path().to_str()), Some(&s))
            .hash()
            .unwrap()
            .unwrap();
        assert_ne!(plain, with);
        fs::write(d.path().join("requirements.txt"), "six==1.17.0\n").unwrap();
        let edited = Build::new(Source::of(d.path().to_str()), Some(&s))
            .hash()
            .unwrap()
            .unwrap();
        assert_ne!(with, edited);
        let arm = Settings {
            architecture: "arm64".into(),
            ..s.clone()
        };
        let on_arm = Build::new(Source::of(d.path().to_str()), Some(&arm))
            .hash()
            .unwrap()
            .unwrap();
        assert_ne!(edited, on_arm);
    }

    #[test]
    fn a_plan_knows_the_size_of_a_cached_tree_from_its_record() {
        let d = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let c = Cache::at(cache_dir.path());
        fs::write(d.path().join("app.py"), "x").unwrap();
        fs::write(d.path().join("requirements.txt"), "big==1.0\n").unwrap();
        let s = settings(d.path(), "python3.12");
        let key = s.deps().unwrap().unwrap().key();
        let build = || Build::new(Source::of(d.path().to_str()), Some(&s));
        // Not installed yet: nothing known.
        assert!(build().too_large(Some(&c)).is_none());
        c.install(&key, |t| {
            fs::create_dir(t.join("big"))?;
            let f = fs::File::create(t.join("big/model.bin"))?;
            f.set_len(limits::MAX_UNZIPPED_BYTES)
        })
        .unwrap();
        c.record_size(&key, limits::MAX_UNZIPPED_BYTES).unwrap();
        let msg = build()
            .too_large(Some(&c))
            .expect("over the limit with app.py");
        assert!(msg.contains("big: 250.0 MB"), "{msg}");
        // A small recorded size is trusted without a walk.
        c.record_size(&key, 10).unwrap();
        assert!(build().too_large(Some(&c)).is_none());
    }

    #[test]
    fn an_images_size_check_has_the_10_gb_limit_and_its_hash_its_base() {
        let d = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let c = Cache::at(cache_dir.path());
        fs::write(d.path().join("app.py"), "x").unwrap();
        fs::write(d.path().join("requirements.txt"), "big==1.0\n").unwrap();
        let s = settings(d.path(), "python3.12");
        let key = s.deps().unwrap().unwrap().key();
        let image = |base: Option<&str>| {
            Build {
                kind: Some(Kind::Image),
                ..Build::new(Source::of(d.path().to_str()), Some(&s))
            }
            .with_base(base.map(str::to_owned))
        };
        // 300 MB installed (a sparse file): too large for a zip, not an image.
        c.install(&key, |t| {
            fs::create_dir(t.join("big"))?;
            let f = fs::File::create(t.join("big/model.bin"))?;
            f.set_len(300 << 20)
        })
        .unwrap();
        c.record_size(&key, 300 << 20).unwrap();
        let zip = Build::new(Source::of(d.path().to_str()), Some(&s));
        assert!(zip.too_large(Some(&c)).is_some());
        assert!(image(None).too_large(Some(&c)).is_none());
        // Over 10 GB: refused with the image's advice.
        let f = fs::OpenOptions::new()
            .write(true)
            .open(c.installed(&key).unwrap().join("big/model.bin"))
            .unwrap();
        f.set_len(limits::MAX_IMAGE_UNZIPPED_BYTES).unwrap();
        c.record_size(&key, limits::MAX_IMAGE_UNZIPPED_BYTES)
            .unwrap();
        let msg = image(None)
            .too_large(Some(&c))
            .expect("over 10 GB with app.py");
        assert!(msg.contains("big: 10240.0 MB"), "{msg}");
        assert!(msg.contains("a container image"), "{msg}");
        // The hash: the zip's package hash with the base digest; unknown
        // without one.
        let zip_hash = zip.hash().unwrap().unwrap();
        assert!(image(None).hash().is_none());
        let on = image(Some("sha256:aa")).hash().unwrap().unwrap();
        assert_eq!(on, image_hash(&zip_hash, "sha256:aa"));
        assert_ne!(on, image(Some("sha256:bb")).hash().unwrap().unwrap());
        // Apply's staged package gives the same hash (one code path).
        let staged = Staged {
            source: scan(d.path()).unwrap(),
            deps: s.deps().unwrap(),
            installed: Vec::new(),
            slim: false,
        };
        assert_eq!(staged.image_hash("sha256:aa").unwrap(), on);
    }

    fn zip_names(zip: &[u8]) -> Vec<String> {
        let z = ::zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        z.file_names().map(|n| n.unwrap().into_owned()).collect()
    }

    #[test]
    fn slim_packages_a_slim_copy_of_the_cached_tree_and_changes_the_hash() {
        let d = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let c = Cache::at(cache_dir.path());
        fs::write(d.path().join("app.py"), "import six").unwrap();
        // The user's own tests and stubs are never slimmed.
        fs::create_dir(d.path().join("tests")).unwrap();
        fs::write(d.path().join("tests/test_app.py"), "assert True").unwrap();
        fs::write(d.path().join("app.pyi"), "def handler(e, c): ...").unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let plain = settings(d.path(), "python3.12");
        let slim = Settings {
            slim: true,
            ..plain.clone()
        };
        let deps = plain.deps().unwrap().unwrap();
        c.install(&deps.key(), |t| {
            fs::create_dir_all(t.join("six/tests"))?;
            fs::create_dir_all(t.join("six/include"))?;
            fs::write(t.join("six/__init__.py"), "X = 6")?;
            fs::write(t.join("six/tests/test_six.py"), "assert True")?;
            fs::write(t.join("six/__init__.pyi"), "X: int")?;
            fs::write(t.join("six/include/six.h"), "int x;")
        })
        .unwrap();
        let hash = |s: &Settings| {
            Build::new(Source::of(d.path().to_str()), Some(s))
                .hash()
                .unwrap()
                .unwrap()
        };
        assert_ne!(hash(&plain), hash(&slim));
        let full = assemble(&plain, Some(&hash(&plain)), Some(&c)).unwrap();
        assert!(zip_names(&full.zip).contains(&"six/tests/test_six.py".to_owned()));
        let p = assemble(&slim, Some(&hash(&slim)), Some(&c)).unwrap();
        assert_eq!(
            zip_names(&p.zip),
            [
                "app.py",
                "app.pyi",
                "requirements.txt",
                "six/__init__.py",
                "tests/test_app.py"
            ]
        );
        assert_ne!(p.code_sha256, full.code_sha256);
        // The installed tree stays whole beside its slim copy, which has its
        // own key and recorded size.
        assert!(c.installed(&deps.key()).unwrap().join("six/tests").is_dir());
        assert!(c.installed(&deps.tree_key(true)).is_some());
        assert_eq!(c.installed_size(&deps.tree_key(true)), Some(5));
        // The image's input is the same slim tree, with the same hash.
        let staged = stage(&slim, Some(&c), u64::MAX).unwrap();
        let names: Vec<&str> = staged.installed.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["six/__init__.py"]);
        assert_eq!(staged.hash().unwrap(), hash(&slim));
    }

    #[test]
    fn the_plan_size_check_counts_the_slim_tree() {
        let d = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let c = Cache::at(cache_dir.path());
        fs::write(d.path().join("app.py"), "x").unwrap();
        fs::write(d.path().join("requirements.txt"), "big==1.0\n").unwrap();
        let plain = settings(d.path(), "python3.12");
        let slim = Settings {
            slim: true,
            ..plain.clone()
        };
        let key = plain.deps().unwrap().unwrap().key();
        // Tests over the limit, which slim drops (a sparse file: nothing is
        // written or read).
        c.install(&key, |t| {
            fs::create_dir_all(t.join("big/tests"))?;
            fs::write(t.join("big/__init__.py"), "")?;
            let f = fs::File::create(t.join("big/tests/data.bin"))?;
            f.set_len(limits::MAX_UNZIPPED_BYTES)
        })
        .unwrap();
        c.record_size(&key, limits::MAX_UNZIPPED_BYTES).unwrap();
        let build = |s: &Settings| Build::new(Source::of(d.path().to_str()), Some(s));
        let msg = build(&plain).too_large(Some(&c)).expect("over the limit");
        assert!(msg.contains("big: 250.0 MB"), "{msg}");
        // The plan makes the slim copy from the cached tree and measures it.
        assert!(build(&slim).too_large(Some(&c)).is_none());
        let slim_key = plain.deps().unwrap().unwrap().tree_key(true);
        assert_eq!(c.installed_size(&slim_key), Some(0), "recorded as made");
        let dir = build(&slim).cached_deps(Some(&c)).unwrap();
        assert_eq!(dir, c.deps_dir(&slim_key));
        assert!(!dir.join("big/tests").exists());
    }

    #[test]
    fn unknown_settings_leave_the_hash_unknown() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("app.py"), "x").unwrap();
        assert!(
            Build::new(Source::of(d.path().to_str()), None)
                .hash()
                .is_none()
        );
    }

    #[test]
    fn an_installed_tree_joins_the_package_and_the_zip_is_reused() {
        let d = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let c = Cache::at(cache_dir.path());
        fs::write(d.path().join("app.py"), "import six").unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let s = settings(d.path(), "python3.12");
        let deps = s.deps().unwrap().unwrap();
        // What pip would have installed, already in the cache.
        c.install(&deps.key(), |t| {
            fs::write(t.join("six.py"), "X = 6")?;
            fs::write(t.join("app.py"), "shadowed")
        })
        .unwrap();
        let planned = Build::new(Source::of(d.path().to_str()), Some(&s))
            .hash()
            .unwrap()
            .unwrap();
        let p = assemble(&s, Some(&planned), Some(&c)).unwrap();
        let mut z = ::zip::ZipArchive::new(Cursor::new(p.zip.clone())).unwrap();
        let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert_eq!(names, ["app.py", "requirements.txt", "six.py"]);
        let mut app = String::new();
        z.by_name("app.py")
            .unwrap()
            .read_to_string(&mut app)
            .unwrap();
        assert_eq!(app, "import six", "the source's file wins");
        // The second build reuses the zip kept for the hash (here marked to
        // tell it from a rebuild); an edit is caught.
        c.put_zip(&planned, b"PK kept").unwrap();
        let again = assemble(&s, Some(&planned), Some(&c)).unwrap();
        assert_eq!(again.zip, b"PK kept");
        fs::write(d.path().join("app.py"), "import six  # edited").unwrap();
        assert!(matches!(
            assemble(&s, Some(&planned), Some(&c)),
            Err(PackageError::Changed { .. })
        ));
    }

    /// A stand-in for esbuild in `dir/node_modules/.bin` (where the
    /// bundler looks first): it writes the bundle and a map shaped as
    /// esbuild writes them, or fails when the source has a file `fail`.
    #[cfg(unix)]
    fn fake_esbuild(dir: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join("node_modules/.bin");
        fs::create_dir_all(&bin).unwrap();
        let script = r#"#!/bin/sh
for a in "$@"; do case "$a" in --outfile=*) out="${a#--outfile=}";; esac; done
[ -n "$out" ] || exit 0
if [ -e fail ]; then echo "✘ [ERROR] Could not resolve \"./gone\"" >&2; exit 1; fi
mkdir -p "$(dirname "$out")"
printf 'exports.handler = "%s";\n//# sourceMappingURL=%s.map\n' "$1" "$(basename "$out")" > "$out"
printf '{\n  "version": 3,\n  "sourcesContent": ["const s = \\"sources\\": [\\"../../x\\"]"],\n  "sources": ["src/index.ts", "src/a b.ts", "/abs"],\n  "mappings": "AAAA;AACA",\n  "names": []\n}\n' > "$out.map"
"#;
        let path = bin.join("esbuild");
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        // A fork of another test's thread may hold the file open for
        // writing a moment (ETXTBSY): wait until it runs.
        for _ in 0..100 {
            match std::process::Command::new(&path).arg("--version").output() {
                Err(e) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                _ => break,
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_bundle_checks_the_planned_hash_while_esbuild_runs() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src")).unwrap();
        fs::write(d.path().join("src/index.ts"), "export const handler = 1;\n").unwrap();
        fake_esbuild(d.path());
        let s = Settings {
            bundle: true,
            ..settings(d.path(), "nodejs22.x")
        };
        let handler = "src/index.handler";
        let plan = Build::of_settings(&s, Kind::Zip);
        let b = Bundle::plan(
            handler,
            plan.source.tree().unwrap().unwrap(),
            "nodejs22.x",
            "x86_64",
        )
        .unwrap();
        let planned = b.package_hash(
            &source::tree_hash(&bundle::inputs(plan.source.tree().unwrap().unwrap())).unwrap(),
            None,
        );
        // The planned hash, checked beside esbuild: the bundle and its map,
        // the map's sources rebased and the rest of it as esbuild wrote it.
        let pkg = assemble_function(&s, handler, Some(&planned), None).unwrap();
        assert_eq!(pkg.hash, planned);
        let mut z = ::zip::ZipArchive::new(Cursor::new(&pkg.zip)).unwrap();
        let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert_eq!(names, ["src/index.js", "src/index.js.map"]);
        let mut js = String::new();
        z.by_name("src/index.js")
            .unwrap()
            .read_to_string(&mut js)
            .unwrap();
        assert_eq!(
            js,
            "exports.handler = \"src/index.ts\";\n//# sourceMappingURL=index.js.map\n"
        );
        let mut map = String::new();
        z.by_name("src/index.js.map")
            .unwrap()
            .read_to_string(&mut map)
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&map).unwrap();
        assert_eq!(
            doc["sources"],
            serde_json::json!(["../src/index.ts", "../src/a b.ts", "/abs"])
        );
        assert_eq!(
            doc["sourcesContent"][0],
            "const s = \"sources\": [\"../../x\"]"
        );
        assert!(map.contains("\"mappings\": \"AAAA;AACA\""), "{map}");
        // Without a plan (`eventpipe package`): the same zip and hash.
        let cli = assemble_function(&s, handler, None, None).unwrap();
        assert_eq!((cli.zip, cli.hash), (pkg.zip, pkg.hash));

        // The source changed since the plan, and esbuild fails on it: the
        // change is what is reported.
        fs::write(d.path().join("fail"), "").unwrap();
        let e = assemble_function(&s, handler, Some(&planned), None).unwrap_err();
        assert!(matches!(e, PackageError::Changed { .. }), "{e}");
        // esbuild's own failure, when the plan is current, says what it said.
        let now = assemble_function(&s, handler, None, None).unwrap_err();
        assert!(now.to_string().contains("Could not resolve"), "{now}");
    }

    #[cfg(unix)]
    #[test]
    fn an_entry_on_disk_the_scan_leaves_out_is_not_the_one_bundled() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src")).unwrap();
        for entry in ["src/index.ts", "src/index.js"] {
            fs::write(d.path().join(entry), "export const handler = 1;\n").unwrap();
        }
        fake_esbuild(d.path());
        let s = Settings {
            bundle: true,
            exclude: vec!["src/index.ts".into()],
            ..settings(d.path(), "nodejs22.x")
        };
        let handler = "src/index.handler";
        // esbuild starts on the first entry on disk, `src/index.ts`; the
        // scan, without it, plans `src/index.js`.
        let on_disk = Bundle::on_disk(handler, d.path(), "nodejs22.x", "x86_64").unwrap();
        assert_eq!(on_disk.entry.source, "src/index.ts");
        let plan = Build::of_settings(&s, Kind::Zip);
        let tree = plan.source.tree().unwrap().unwrap();
        let b = Bundle::plan(handler, tree, "nodejs22.x", "x86_64").unwrap();
        assert_eq!(b.entry.source, "src/index.js");
        let planned = b.package_hash(&source::tree_hash(&bundle::inputs(tree)).unwrap(), None);
        let pkg = assemble_function(&s, handler, Some(&planned), None).unwrap();
        assert_eq!(pkg.hash, planned);
        let mut z = ::zip::ZipArchive::new(Cursor::new(&pkg.zip)).unwrap();
        let mut js = String::new();
        z.by_name("src/index.js")
            .unwrap()
            .read_to_string(&mut js)
            .unwrap();
        assert!(
            js.starts_with("exports.handler = \"src/index.js\";"),
            "{js}"
        );
    }
}
