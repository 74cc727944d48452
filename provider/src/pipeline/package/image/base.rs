//! The base image an image is built on: its manifest and config, resolved
//! for one architecture, and a way to read each of its blobs.
//!
//! Where the blobs come from is a [`BlobSource`]: a local OCI image layout
//! ([`OciLayout`], what `skopeo copy … oci:DIR` writes), or the image cache
//! a registry's blobs are pulled into ([`BlobStore`], see
//! [`BaseImage::from_registry`]).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use oci_spec::image::{
    Arch, Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType, Os,
};
use sha2::{Digest as _, Sha256};

use super::ImageError;
use crate::registry::{self, BlobStore, Registry, Stale};

/// The index annotation that names an image in a layout (`oci:DIR:NAME`).
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Docker's media types, which registries still serve for many images.
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Where a base image comes from, as `--base-image` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseRef {
    /// `oci:PATH[:NAME]`: an OCI image layout on disk, as skopeo names it;
    /// `NAME` picks the image by its `org.opencontainers.image.ref.name`.
    Layout { path: PathBuf, name: Option<String> },
    /// Anything else: an image in a registry (`public.ecr.aws/lambda/python:3.13`).
    Registry(String),
}

impl BaseRef {
    pub fn parse(s: &str) -> BaseRef {
        match s.strip_prefix("oci:") {
            Some(rest) => {
                // skopeo's form: the name follows the last `:` when there is one.
                let (path, name) = match rest.rsplit_once(':') {
                    Some((p, n)) if !p.is_empty() && !n.contains('/') => (p, Some(n.to_owned())),
                    _ => (rest, None),
                };
                BaseRef::Layout {
                    path: path.into(),
                    name,
                }
            }
            None => BaseRef::Registry(s.to_owned()),
        }
    }

    /// AWS's base image for `runtime`, as the default names it
    /// (`python3.13` → `public.ecr.aws/lambda/python:3.13`, `nodejs22.x` →
    /// `public.ecr.aws/lambda/nodejs:22`, `provided.al2023` →
    /// `public.ecr.aws/lambda/provided:al2023`).
    pub fn aws_default(runtime: &str) -> BaseRef {
        let split = runtime
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(runtime.len());
        let (family, version) = runtime.split_at(split);
        let version = version.trim_start_matches('.').trim_end_matches(".x");
        BaseRef::Registry(format!("public.ecr.aws/lambda/{family}:{version}"))
    }
}

impl fmt::Display for BaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseRef::Layout { path, name: None } => write!(f, "oci:{}", path.display()),
            BaseRef::Layout {
                path,
                name: Some(n),
            } => write!(f, "oci:{}:{n}", path.display()),
            BaseRef::Registry(r) => f.write_str(r),
        }
    }
}

/// Reads blobs by digest. Implementations check nothing: [`BaseImage`]
/// verifies every blob it reads against its digest.
pub trait BlobSource: Send + Sync + fmt::Debug {
    fn open(&self, digest: &str) -> io::Result<Box<dyn Read + Send>>;
}

/// The blob file at `path` (`None`: `digest` names no file), opened.
fn open_blob(path: Option<PathBuf>, digest: &str) -> io::Result<Box<dyn Read + Send>> {
    let path = path.ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("bad digest {digest}"))
    })?;
    let f = File::open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))?;
    Ok(Box::new(f))
}

impl BlobSource for BlobStore {
    fn open(&self, digest: &str) -> io::Result<Box<dyn Read + Send>> {
        open_blob(self.blob_path(digest), digest)
    }
}

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`).
#[derive(Clone, Debug)]
pub struct OciLayout {
    pub root: PathBuf,
}

impl OciLayout {
    /// The path of the blob `alg:hex`; `None` for a malformed digest.
    pub fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        let (alg, hex) = digest.split_once(':')?;
        let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        (ok(alg) && ok(hex)).then(|| self.root.join("blobs").join(alg).join(hex))
    }
}

impl BlobSource for OciLayout {
    fn open(&self, digest: &str) -> io::Result<Box<dyn Read + Send>> {
        open_blob(self.blob_path(digest), digest)
    }
}

/// A base image resolved to one manifest for one platform.
#[derive(Debug)]
pub struct BaseImage {
    /// What it was asked as.
    pub reference: String,
    /// `sha256:…` of its manifest: what pins it.
    pub manifest_digest: String,
    pub manifest: ImageManifest,
    pub config: ImageConfiguration,
    pub blobs: Box<dyn BlobSource>,
}

/// Lambda's architecture names as OCI's (Go's `GOARCH`).
pub fn oci_arch(architecture: &str) -> Arch {
    match architecture {
        "arm64" => Arch::ARM64,
        _ => Arch::Amd64,
    }
}

/// Reads a whole small blob (a manifest, an index, a config) and checks it
/// against its digest.
fn read_small(blobs: &dyn BlobSource, digest: &str) -> Result<Vec<u8>, ImageError> {
    const MAX: u64 = 16 << 20;
    let mut bytes = Vec::new();
    blobs
        .open(digest)
        .and_then(|r| r.take(MAX + 1).read_to_end(&mut bytes))
        .map_err(|e| ImageError::Base(format!("blob {digest}: {e}")))?;
    if bytes.len() as u64 > MAX {
        return Err(ImageError::Base(format!(
            "blob {digest} is over 16 MB: not a manifest or config"
        )));
    }
    let got = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    if got != digest {
        return Err(ImageError::Base(format!(
            "blob {digest} does not match its digest (it is {got})"
        )));
    }
    Ok(bytes)
}

fn is_index(d: &Descriptor) -> bool {
    match d.media_type() {
        MediaType::ImageIndex => true,
        MediaType::Other(t) => t == DOCKER_LIST,
        _ => false,
    }
}

fn is_manifest(d: &Descriptor) -> bool {
    match d.media_type() {
        MediaType::ImageManifest => true,
        MediaType::Other(t) => t == DOCKER_MANIFEST,
        _ => false,
    }
}

/// The manifest of `index` for linux/`arch`: the entry whose platform says
/// so, or the only manifest when no entry names a platform; nested
/// indexes are followed.
fn pick(
    blobs: &dyn BlobSource,
    index: &ImageIndex,
    arch: &Arch,
    depth: usize,
) -> Result<Descriptor, ImageError> {
    let entries = index.manifests();
    let for_arch = |d: &&Descriptor| {
        d.platform()
            .as_ref()
            .is_some_and(|p| p.architecture() == arch && *p.os() == Os::Linux)
    };
    if let Some(d) = entries.iter().find(for_arch) {
        if is_index(d) && depth < 4 {
            let inner: ImageIndex = parse(&read_small(blobs, d.digest().as_ref())?)?;
            return pick(blobs, &inner, arch, depth + 1);
        }
        return Ok(d.clone());
    }
    let unplatformed: Vec<&Descriptor> = entries
        .iter()
        .filter(|d| d.platform().is_none() && (is_manifest(d) || is_index(d)))
        .collect();
    match unplatformed.as_slice() {
        [only] if is_index(only) && depth < 4 => {
            let inner: ImageIndex = parse(&read_small(blobs, only.digest().as_ref())?)?;
            pick(blobs, &inner, arch, depth + 1)
        }
        [only] if entries.iter().all(|d| d.platform().is_none()) => Ok((*only).clone()),
        [_, _, ..] if depth == 0 => Err(ImageError::Base(format!(
            "the layout holds {} images; name one as oci:PATH:NAME (its \
             org.opencontainers.image.ref.name)",
            unplatformed.len()
        ))),
        _ => {
            let have: Vec<String> = entries
                .iter()
                .filter_map(|d| d.platform().as_ref())
                .map(|p| format!("{}/{}", p.os(), p.architecture()))
                .collect();
            Err(ImageError::Base(format!(
                "the base image has no entry for linux/{arch} (it has: {})",
                if have.is_empty() {
                    "no platform entries".to_owned()
                } else {
                    have.join(", ")
                }
            )))
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|e| ImageError::Base(format!("not an OCI document: {e}")))
}

impl BaseImage {
    /// The image of the OCI layout at `path` for linux/`architecture`
    /// (`x86_64` or `arm64`): the one named `name`, or the layout's only
    /// image.
    pub fn from_layout(
        path: &Path,
        name: Option<&str>,
        architecture: &str,
    ) -> Result<BaseImage, ImageError> {
        let reference = BaseRef::Layout {
            path: path.into(),
            name: name.map(str::to_owned),
        }
        .to_string();
        let index_path = path.join("index.json");
        let index: ImageIndex = match std::fs::read(&index_path) {
            Ok(b) => parse(&b)?,
            Err(e) => {
                return Err(ImageError::Base(format!(
                    "{reference} is not an OCI image layout: cannot read {}: {e}",
                    index_path.display()
                )));
            }
        };
        let mut named: Vec<Descriptor> = index.manifests().clone();
        if let Some(n) = name {
            named.retain(|d| {
                d.annotations()
                    .as_ref()
                    .and_then(|a| a.get(REF_NAME))
                    .is_some_and(|v| v == n)
            });
            if named.is_empty() {
                return Err(ImageError::Base(format!(
                    "{reference}: no image named {n:?}"
                )));
            }
        }
        let mut top = index.clone();
        top.set_manifests(named);
        let blobs = OciLayout { root: path.into() };
        BaseImage::resolve(reference, &top, Box::new(blobs), architecture)
    }

    /// The image `index` names for linux/`architecture`, read from `blobs`.
    pub fn resolve(
        reference: String,
        index: &ImageIndex,
        blobs: Box<dyn BlobSource>,
        architecture: &str,
    ) -> Result<BaseImage, ImageError> {
        let arch = oci_arch(architecture);
        let chosen = pick(blobs.as_ref(), index, &arch, 0)?;
        BaseImage::from_manifest(reference, chosen.digest().to_string(), blobs, architecture)
    }

    /// The image in a registry that `reference` names (a tag or an
    /// `@sha256:` pin), for linux/`architecture`: resolved (one manifest
    /// HEAD for a tag the cache knows) and its blobs pulled into `store`
    /// once. With the registry out of reach, a tag's last answer and the
    /// blobs already stored are used, and the [`Stale`] warning says so.
    pub async fn from_registry(
        reference: &str,
        architecture: &str,
        store: BlobStore,
    ) -> Result<(BaseImage, Option<Stale>), ImageError> {
        let parsed = registry::parse_reference(reference)?;
        let client = Registry::for_reference(&parsed);
        let arch = oci_arch(architecture).to_string();
        let resolved = client.resolve(&store, &parsed, &arch).await?;
        let pulled = client
            .pull(&store, &parsed, &resolved.manifest_digest)
            .await;
        match pulled {
            Ok(_) => {}
            // Out of reach, but everything may be stored already.
            Err(registry::RegistryError::Unreachable { .. }) if resolved.stale.is_some() => {}
            Err(e) => return Err(e.into()),
        }
        let base = BaseImage::from_manifest(
            reference.to_owned(),
            resolved.manifest_digest,
            Box::new(store),
            architecture,
        )?;
        Ok((base, resolved.stale))
    }

    /// The image whose manifest is `manifest_digest` in `blobs`, checked to
    /// be for linux/`architecture`.
    pub fn from_manifest(
        reference: String,
        manifest_digest: String,
        blobs: Box<dyn BlobSource>,
        architecture: &str,
    ) -> Result<BaseImage, ImageError> {
        let arch = oci_arch(architecture);
        let manifest: ImageManifest = parse(&read_small(blobs.as_ref(), &manifest_digest)?)?;
        let config: ImageConfiguration = parse(&read_small(
            blobs.as_ref(),
            manifest.config().digest().as_ref(),
        )?)?;
        if *config.architecture() != arch || *config.os() != Os::Linux {
            return Err(ImageError::Base(format!(
                "{reference} is an image for {}/{}, not linux/{arch} ({architecture})",
                config.os(),
                config.architecture()
            )));
        }
        if config.rootfs().diff_ids().len() != manifest.layers().len() {
            return Err(ImageError::Base(format!(
                "{reference}: its config lists {} layers and its manifest {}",
                config.rootfs().diff_ids().len(),
                manifest.layers().len()
            )));
        }
        Ok(BaseImage {
            reference,
            manifest_digest,
            manifest,
            config,
            blobs,
        })
    }

    /// The base's `LAMBDA_TASK_ROOT` (from its `Env`), `/var/task` when it
    /// sets none.
    pub fn task_root(&self) -> String {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.env().as_ref())
            .and_then(|env| {
                env.iter()
                    .find_map(|e| e.strip_prefix("LAMBDA_TASK_ROOT="))
                    .filter(|v| v.starts_with('/'))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "/var/task".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_reference_is_a_layout_or_a_registry_image() {
        assert_eq!(
            BaseRef::parse("oci:/tmp/base"),
            BaseRef::Layout {
                path: "/tmp/base".into(),
                name: None
            }
        );
        assert_eq!(
            BaseRef::parse("oci:/tmp/base:3.13"),
            BaseRef::Layout {
                path: "/tmp/base".into(),
                name: Some("3.13".into())
            }
        );
        assert_eq!(
            BaseRef::parse("public.ecr.aws/lambda/python:3.13"),
            BaseRef::Registry("public.ecr.aws/lambda/python:3.13".into())
        );
        assert_eq!(
            BaseRef::parse("oci:/tmp/base:3.13").to_string(),
            "oci:/tmp/base:3.13"
        );
    }

    #[test]
    fn the_default_base_is_aws_image_of_the_runtime() {
        let d = |r| BaseRef::aws_default(r).to_string();
        assert_eq!(d("python3.13"), "public.ecr.aws/lambda/python:3.13");
        assert_eq!(d("nodejs22.x"), "public.ecr.aws/lambda/nodejs:22");
        assert_eq!(
            d("provided.al2023"),
            "public.ecr.aws/lambda/provided:al2023"
        );
        assert_eq!(d("java21"), "public.ecr.aws/lambda/java:21");
    }

    #[test]
    fn a_blob_path_refuses_a_digest_that_leaves_the_layout() {
        let l = OciLayout { root: "/l".into() };
        assert_eq!(
            l.blob_path("sha256:abc"),
            Some(PathBuf::from("/l/blobs/sha256/abc"))
        );
        assert_eq!(l.blob_path("sha256:../../etc/passwd"), None);
        assert_eq!(l.blob_path("abc"), None);
    }
}
