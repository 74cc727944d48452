//! The function as a container image (`package_type = "image"`): built
//! onto its base from the same staged package as a zip (one code path for
//! the installed dependencies, `slim` honoured), pushed to the ECR
//! repository, and at destroy removed from a repository the pipeline was
//! given.
//!
//! The layout is written into the cache (`layouts/<key>`, the key a hash
//! of everything the image is made of), so a rebuild of an unchanged image
//! reuses it; without a cache it goes to a temporary directory removed
//! once the run is over.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::aws::ecr;
use crate::registry::BlobStore;

use super::super::errors::{ApplyError, PublishError};
use super::super::package::cache::Cache;

use super::super::package::image::base::{BaseImage, BaseRef};
use super::super::package::image::layout::{self, LayoutWriter};
use super::super::package::image::{self, ImageError};
use super::super::package::{self, PackageError, limits};
use super::super::run::Run;
use super::super::state::{Known, State};
use super::super::{naming, publish};
use super::function::package_settings;

/// An image written to an OCI layout, ready to push.
#[derive(Debug)]
pub struct Built {
    pub layout: PathBuf,
    /// `sha256:…` of its manifest.
    pub manifest_digest: String,
    /// The layout is a temporary directory, removed with this.
    temporary: bool,
}

impl Drop for Built {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.layout);
        }
    }
}

/// The repository the image goes to: `image.repository_name`, else the one
/// the pipeline makes (`naming::repository_name`).
pub fn repository_name(want: &State<Known>) -> String {
    want.function
        .image
        .as_ref()
        .and_then(|i| i.repository_name.clone())
        .unwrap_or_else(|| naming::repository_name(&want.name))
}

/// The repository the pipeline was given (`image.repository_name`): it
/// is never made or deleted, only our images are removed from it.
pub fn given_repository(want: &State<Known>) -> Option<&str> {
    want.function
        .image
        .as_ref()
        .and_then(|i| i.repository_name.as_deref())
}

/// The base the image is built on: `image.base_image`, or the AWS base
/// image of `runtime`; pinned to `image_base_digest` when the plan
/// resolved it (a registry base).
pub fn base_reference(want: &State<Known>) -> BaseRef {
    let f = &want.function;
    let base = match f.image.as_ref().and_then(|i| i.base_image.as_deref()) {
        Some(r) => BaseRef::parse(r),
        None => BaseRef::aws_default(&f.runtime),
    };
    match (base, &want.image_base_digest) {
        (BaseRef::Registry(r), Some(digest)) => {
            let name = r.split_once('@').map_or(r.as_str(), |(n, _)| n);
            BaseRef::Registry(format!("{name}@{digest}"))
        }
        (base, _) => base,
    }
}

/// The base image, read from its layout or resolved in its registry (its
/// blobs pulled into the cache once).
async fn open_base(
    base: &BaseRef,
    architecture: &str,
    cache: Option<&Cache>,
    scratch: &Path,
) -> Result<BaseImage, ImageError> {
    match base {
        BaseRef::Layout { path, name } => {
            BaseImage::from_layout(path, name.as_deref(), architecture)
        }
        BaseRef::Registry(r) => {
            let store = match cache {
                Some(c) => BlobStore::at(c.images_dir()),
                None => BlobStore::at(scratch.join("base")),
            };
            let (base, stale) = BaseImage::from_registry(r, architecture, store).await?;
            if let Some(stale) = stale {
                tracing::warn!(%stale, "building on the base image the cache knows");
            }
            Ok(base)
        }
    }
}

/// The key of an image's layout ([`layout::cache_key`]).
fn layout_key(want: &State<Known>, base_digest: &str) -> String {
    let f = &want.function;
    layout::cache_key(
        &want.source_code_hash,
        base_digest,
        &f.handler,
        &f.architecture,
    )
}

/// Builds the function's image: the package staged as for a zip, its
/// layers on the base, into a layout (the one built before for the same
/// inputs when the cache has it).
pub async fn build(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let cache = Cache::from_env();
    let scratch =
        std::env::temp_dir().join(format!("eventpipe-image-{}", crate::temp_name::unique()));
    let built = build_in(want, cache, &scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let built = built.map_err(|e| match e {
        ImageError::Package(PackageError::Changed { planned, now }) => ApplyError::SourceChanged {
            dir: want.function.source_dir.clone(),
            planned,
            now,
        },
        e => ApplyError::from(PublishError::Build(e)),
    })?;
    tracing::info!(digest = %built.manifest_digest, "built the function's image");
    run.update(|r| r.image = Some(Arc::new(built)));
    Ok(())
}

async fn build_in(
    want: &State<Known>,
    cache: Option<Cache>,
    scratch: &Path,
) -> Result<Built, ImageError> {
    let base = open_base(
        &base_reference(want),
        &want.function.architecture,
        cache.as_ref(),
        scratch,
    )
    .await?;
    let (dir, temporary) = match &cache {
        Some(c) => (
            c.layouts_dir()
                .join(layout_key(want, &base.manifest_digest)),
            false,
        ),
        None => (
            std::env::temp_dir().join(format!("eventpipe-layout-{}", crate::temp_name::unique())),
            true,
        ),
    };
    if let Some(digest) = layout::complete_manifest(&dir).filter(|_| !temporary) {
        tracing::debug!(layout = %dir.display(), "reusing the image built before");
        return Ok(Built {
            layout: dir,
            manifest_digest: digest,
            temporary,
        });
    }
    let settings = package_settings(want);
    let handler = want.function.handler.clone();
    let planned = want.source_code_hash.clone();
    let joined = tokio::task::spawn_blocking(move || -> Result<Built, ImageError> {
        let staged = package::stage(&settings, cache.as_ref(), limits::MAX_IMAGE_UNZIPPED_BYTES)?;
        // What is built is what was planned: the files may have changed
        // since the plan.
        let now = staged.image_hash(&base.manifest_digest)?;
        if now != planned {
            return Err(PackageError::Changed { planned, now }.into());
        }
        // Written beside its place and moved there whole, so a layout
        // found in the cache is always complete.
        let tmp = if temporary {
            dir.clone()
        } else {
            dir.with_extension(format!("tmp-{}", crate::temp_name::unique()))
        };
        let written = LayoutWriter::create(&tmp).and_then(|out| {
            let img = image::build(&staged, &handler, &base, &out)?;
            Ok(img.manifest_digest)
        });
        let digest = match written {
            Ok(d) => d,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        if tmp != dir
            && let Err(e) = std::fs::rename(&tmp, &dir)
        {
            let _ = std::fs::remove_dir_all(&tmp);
            // Another apply put the same layout there first.
            if layout::complete_manifest(&dir).as_deref() != Some(digest.as_str()) {
                return Err(e.into());
            }
        }
        Ok(Built {
            layout: dir,
            manifest_digest: digest,
            temporary,
        })
    })
    .await;
    joined.unwrap_or_else(|e| Err(ImageError::Base(format!("the image build failed: {e}"))))
}

/// Pushes the image built by [`build`] to the repository (only the blobs
/// it lacks), tagged with the first 12 hex digits of `source_code_hash`,
/// and records the digest the function deploys.
pub async fn push(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let built = run
        .record()
        .image
        .clone()
        .ok_or_else(|| ApplyError::Internal("the function's image was not built".into()))?;
    let name = repository_name(want);
    let repository = ecr::repository(&run.aws.ecr, &name)
        .await
        .map_err(|source| PublishError::Repository {
            repository: name.clone(),
            source,
        })?
        .ok_or_else(|| PublishError::NoRepository(name.clone()))?;
    let tag = publish::image_tag(&want.source_code_hash)?;
    let published = publish::publish(
        run.aws,
        &repository,
        &built.layout,
        &built.manifest_digest,
        &tag,
    )
    .await?;
    run.update(|r| r.image_uri = Some(published.image_uri));
    Ok(())
}

/// The image the function deploys: the one this run pushed, else the one
/// the plan keeps (the code did not change).
pub fn image_uri(run: &Run<'_>) -> Result<String, ApplyError> {
    run.record()
        .image_uri
        .or_else(|| run.want.image_uri.clone())
        .ok_or_else(|| ApplyError::Internal("the function's image was not pushed".into()))
}

/// At destroy, or undoing a failed create: removes the image the pipeline
/// pushed (the one this run pushed, else the state's) from a repository it
/// was given (a repository the pipeline made goes whole, with its images).
pub async fn remove(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let pushed = run.record().image_uri.or_else(|| want.image_uri.clone());
    let (Some(name), Some(uri)) = (given_repository(want), pushed.as_deref()) else {
        return Ok(());
    };
    let Some((_, digest)) = uri.rsplit_once('@') else {
        return Ok(());
    };
    publish::remove_pushed(run.aws, name, &[digest.to_owned()]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::state::{self, ImageBlock, tests::known_state};

    fn image_state(repository: Option<&str>, base: Option<&str>) -> State<Known> {
        let mut s = known_state("Orders");
        s.function.package_type = state::PACKAGE_IMAGE.into();
        s.function.runtime = "python3.13".into();
        s.function.image = Some(ImageBlock {
            base_image: base.map(str::to_owned),
            repository_name: repository.map(str::to_owned),
            keep_images: 10,
            scan_on_push: true,
        });
        s
    }

    #[test]
    fn the_repository_is_the_given_one_else_the_pipeline_s() {
        let given = image_state(Some("team/app"), None);
        assert_eq!(repository_name(&given), "team/app");
        assert_eq!(given_repository(&given), Some("team/app"));
        let made = image_state(None, None);
        assert_eq!(repository_name(&made), "orders");
        assert_eq!(given_repository(&made), None);
    }

    #[test]
    fn the_base_is_pinned_to_the_digest_the_plan_resolved() {
        let mut s = image_state(None, None);
        assert_eq!(
            base_reference(&s),
            BaseRef::Registry("public.ecr.aws/lambda/python:3.13".into())
        );
        s.image_base_digest = Some("sha256:ab".into());
        assert_eq!(
            base_reference(&s),
            BaseRef::Registry("public.ecr.aws/lambda/python:3.13@sha256:ab".into())
        );
        let mut pinned = image_state(None, Some("127.0.0.1:5000/base@sha256:index"));
        pinned.image_base_digest = Some("sha256:platform".into());
        assert_eq!(
            base_reference(&pinned),
            BaseRef::Registry("127.0.0.1:5000/base@sha256:platform".into())
        );
        let layout = image_state(None, Some("oci:/tmp/base"));
        assert!(matches!(base_reference(&layout), BaseRef::Layout { .. }));
    }

    #[test]
    fn the_layout_key_changes_with_what_the_image_is_made_of() {
        let s = image_state(None, None);
        let key = layout_key(&s, "sha256:1");
        assert_eq!(key, layout_key(&s, "sha256:1"));
        assert_ne!(key, layout_key(&s, "sha256:2"));
        let mut other = s.clone();
        other.function.handler = "app.other".into();
        assert_ne!(key, layout_key(&other, "sha256:1"));
        let mut code = s.clone();
        code.source_code_hash = "f".repeat(64);
        assert_ne!(key, layout_key(&code, "sha256:1"));
    }
}
