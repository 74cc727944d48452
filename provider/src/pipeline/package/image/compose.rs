//! The new image's config and manifest, from the base's and the appended
//! layers. Pure: no I/O.
//!
//! - The config is the base's, with the layers' `diff_id`s appended to
//!   `rootfs.diff_ids`, one history entry per layer, and `Cmd = [handler]`
//!   (the base's `Entrypoint`, AWS's runtime interface, stays).
//! - The manifest lists the base's layers, then the appended ones.

use oci_spec::image::{Descriptor, History, ImageConfiguration, ImageManifest, MediaType};

use super::layer::Layer;

/// Docker's layer media types and their OCI equivalents: a base served
/// with Docker's types keeps its blobs (the digests do not change) in an
/// OCI manifest.
const DOCKER_LAYERS: &[(&str, MediaType)] = &[
    (
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        MediaType::ImageLayerGzip,
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        MediaType::ImageLayer,
    ),
];

/// A layer appended to the base, with what its history entry says.
#[derive(Clone, Debug)]
pub struct Appended {
    pub layer: Layer,
    pub created_by: String,
}

/// The config of the image: `base` with `layers` appended and
/// `Cmd = [handler]`.
pub fn config(base: &ImageConfiguration, layers: &[Appended], handler: &str) -> ImageConfiguration {
    let mut c = base.clone();
    let base_layers = c.rootfs().diff_ids().len();
    c.rootfs_mut()
        .diff_ids_mut()
        .extend(layers.iter().map(|a| a.layer.diff_id.clone()));
    let mut history = c.history().clone().unwrap_or_default();
    if history.is_empty() {
        // A base without history: one entry per base layer, so each layer
        // has its entry.
        history = (0..base_layers)
            .map(|_| {
                let mut h = History::default();
                h.set_comment(Some("base image layer".into()));
                h
            })
            .collect();
    }
    for a in layers {
        let mut h = History::default();
        h.set_created_by(Some(a.created_by.clone()));
        h.set_comment(Some("eventpipe".into()));
        history.push(h);
    }
    c.set_history(Some(history));
    let mut run = c.config().clone().unwrap_or_default();
    run.set_cmd(Some(vec![handler.to_owned()]));
    c.set_config(Some(run));
    c
}

/// `descriptor` with Docker's layer media type made OCI's.
fn as_oci(descriptor: &Descriptor) -> Descriptor {
    let mut d = descriptor.clone();
    if let MediaType::Other(t) = d.media_type()
        && let Some((_, oci)) = DOCKER_LAYERS.iter().find(|(docker, _)| docker == t)
    {
        d.set_media_type(oci.clone());
    }
    d
}

/// The manifest of the image: the config `config` (its digest and size),
/// the base's layers, then `layers`. Fails only on a layer digest that is
/// not one.
pub fn manifest(
    base: &ImageManifest,
    config: Descriptor,
    layers: &[Appended],
) -> Result<ImageManifest, oci_spec::OciSpecError> {
    let mut all: Vec<Descriptor> = base.layers().iter().map(as_oci).collect();
    for a in layers {
        let digest = oci_spec::image::Digest::try_from(a.layer.digest.as_str())?;
        all.push(Descriptor::new(
            MediaType::ImageLayerGzip,
            a.layer.size,
            digest,
        ));
    }
    let mut m = base.clone();
    m.set_schema_version(2);
    m.set_media_type(Some(MediaType::ImageManifest));
    m.set_artifact_type(None);
    m.set_subject(None);
    m.set_annotations(None);
    m.set_config(config);
    *m.layers_mut() = all;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::{ConfigBuilder, ImageConfigurationBuilder, RootFsBuilder};

    fn layer(n: u8) -> Appended {
        Appended {
            layer: Layer {
                digest: format!("sha256:{}", hex::encode([n; 32])),
                size: 100 + u64::from(n),
                diff_id: format!("sha256:{}", hex::encode([n + 100; 32])),
                tar_size: 1000,
            },
            created_by: format!("layer {n}"),
        }
    }

    fn base() -> ImageConfiguration {
        ImageConfigurationBuilder::default()
            .config(
                ConfigBuilder::default()
                    .entrypoint(vec!["/lambda-entrypoint.sh".to_owned()])
                    .cmd(vec!["override.me".to_owned()])
                    .env(vec!["LAMBDA_TASK_ROOT=/var/task".to_owned()])
                    .build()
                    .unwrap(),
            )
            .rootfs(
                RootFsBuilder::default()
                    .diff_ids(vec!["sha256:base".to_owned()])
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn the_config_appends_diff_ids_and_history_and_runs_the_handler() {
        let c = config(&base(), &[layer(1), layer(2)], "app.handler");
        assert_eq!(
            c.rootfs().diff_ids(),
            &[
                "sha256:base".to_owned(),
                layer(1).layer.diff_id,
                layer(2).layer.diff_id
            ]
        );
        let run = c.config().clone().unwrap();
        assert_eq!(run.cmd().clone().unwrap(), ["app.handler"]);
        assert_eq!(
            run.entrypoint().clone().unwrap(),
            ["/lambda-entrypoint.sh"],
            "the base's entrypoint stays"
        );
        let history = c.history().clone().unwrap();
        assert_eq!(history.len(), 3, "one entry per layer: {history:?}");
        assert_eq!(history[2].created_by().as_deref(), Some("layer 2"));
        assert_eq!(
            history[2].created(),
            &None,
            "no time: the same on every build"
        );
    }

    #[test]
    fn the_manifest_lists_the_base_layers_then_ours() {
        let base_layer = Descriptor::new(
            MediaType::Other("application/vnd.docker.image.rootfs.diff.tar.gzip".into()),
            7,
            oci_spec::image::Digest::try_from(format!("sha256:{}", hex::encode([9u8; 32])))
                .unwrap(),
        );
        let b = oci_spec::image::ImageManifestBuilder::default()
            .schema_version(2u32)
            .config(Descriptor::new(
                MediaType::Other("application/vnd.docker.container.image.v1+json".into()),
                1,
                oci_spec::image::Digest::try_from(format!("sha256:{}", hex::encode([7u8; 32])))
                    .unwrap(),
            ))
            .layers(vec![base_layer])
            .build()
            .unwrap();
        let cfg = Descriptor::new(
            MediaType::ImageConfig,
            3,
            oci_spec::image::Digest::try_from(format!("sha256:{}", hex::encode([8u8; 32])))
                .unwrap(),
        );
        let m = manifest(&b, cfg.clone(), &[layer(1), layer(2)]).unwrap();
        let digests: Vec<String> = m.layers().iter().map(|d| d.digest().to_string()).collect();
        assert_eq!(
            digests,
            [
                format!("sha256:{}", hex::encode([9u8; 32])),
                layer(1).layer.digest,
                layer(2).layer.digest
            ]
        );
        assert!(
            m.layers()
                .iter()
                .all(|d| *d.media_type() == MediaType::ImageLayerGzip)
        );
        assert_eq!(m.layers()[2].size(), 102);
        assert_eq!(m.config(), &cfg);
        assert_eq!(m.media_type(), &Some(MediaType::ImageManifest));
        assert_eq!(m.schema_version(), 2);
    }
}
