//! Tiny base images for the tests, written as OCI layouts the way a
//! registry client would store them (one layer holding an entry point and
//! `/var/task`, a config naming `LAMBDA_TASK_ROOT`), for one or more
//! architectures.

use std::fs;
use std::io::Write;
use std::path::Path;

use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, DescriptorBuilder, HistoryBuilder, ImageConfigurationBuilder,
    ImageIndex, ImageManifestBuilder, MediaType, Os, PlatformBuilder, RootFsBuilder,
};
use sha2::{Digest as _, Sha256};

fn put(dir: &Path, bytes: &[u8]) -> String {
    let hex = hex::encode(Sha256::digest(bytes));
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    fs::write(blobs.join(&hex), bytes).unwrap();
    format!("sha256:{hex}")
}

fn descriptor(media: MediaType, bytes: &[u8], digest: &str) -> Descriptor {
    Descriptor::new(
        media,
        bytes.len() as u64,
        oci_spec::image::Digest::try_from(digest).unwrap(),
    )
}

/// The base's one layer: `/lambda-entrypoint.sh` (naming `arch`, so each
/// architecture's layer differs) and an empty `/var/task`.
fn base_layer(arch: &Arch) -> (Vec<u8>, String) {
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    tar.append_data(&mut dir.clone(), "var/", std::io::empty())
        .unwrap();
    tar.append_data(&mut dir, "var/task/", std::io::empty())
        .unwrap();
    let script = format!("#!/bin/sh\n# {arch}\nexec \"$@\"\n");
    let mut f = tar::Header::new_ustar();
    f.set_mode(0o755);
    f.set_size(script.len() as u64);
    tar.append_data(&mut f, "lambda-entrypoint.sh", script.as_bytes())
        .unwrap();
    let tar = tar.into_inner().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(Sha256::digest(&tar)));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), diff_id)
}

/// Writes the image of `arch` into the layout at `dir`; returns its
/// manifest's descriptor.
fn image(dir: &Path, arch: Arch) -> Descriptor {
    let (layer, diff_id) = base_layer(&arch);
    let layer_digest = put(dir, &layer);
    let config = ImageConfigurationBuilder::default()
        .architecture(arch.clone())
        .os(Os::Linux)
        .config(
            ConfigBuilder::default()
                .entrypoint(vec!["/lambda-entrypoint.sh".to_owned()])
                .env(vec![
                    "LAMBDA_TASK_ROOT=/var/task".to_owned(),
                    "PATH=/usr/bin:/bin".to_owned(),
                ])
                .working_dir("/var/task")
                .labels(
                    [("b", "2"), ("a", "1"), ("c", "3")]
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .into_iter()
                        .collect::<std::collections::HashMap<String, String>>(),
                )
                .build()
                .unwrap(),
        )
        .rootfs(
            RootFsBuilder::default()
                .diff_ids(vec![diff_id])
                .build()
                .unwrap(),
        )
        .history(vec![
            HistoryBuilder::default()
                .created_by("the test's base")
                .build()
                .unwrap(),
        ])
        .build()
        .unwrap();
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = put(dir, &config);
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(MediaType::ImageConfig, &config, &config_digest))
        .layers(vec![descriptor(
            MediaType::ImageLayerGzip,
            &layer,
            &layer_digest,
        )])
        .build()
        .unwrap();
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let digest = put(dir, &manifest);
    let mut d = descriptor(MediaType::ImageManifest, &manifest, &digest);
    d.set_platform(Some(
        PlatformBuilder::default()
            .architecture(arch)
            .os(Os::Linux)
            .build()
            .unwrap(),
    ));
    d
}

/// A base layout at `dir` with an image for each of `arches` in its
/// `index.json`; returns each manifest's digest, in order.
pub fn base_layout(dir: &Path, arches: &[Arch]) -> Vec<String> {
    let manifests: Vec<Descriptor> = arches.iter().map(|a| image(dir, a.clone())).collect();
    let digests = manifests.iter().map(|d| d.digest().to_string()).collect();
    let mut index = ImageIndex::default();
    index.set_manifests(manifests);
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    digests
}

/// A base layout at `dir` whose `index.json` names one image of `arch`
/// with no platform, as `skopeo copy` writes one.
pub fn single_image_layout(dir: &Path, arch: Arch) -> String {
    let mut d = image(dir, arch);
    d.set_platform(None);
    let digest = d.digest().to_string();
    let entry = DescriptorBuilder::default()
        .media_type(MediaType::ImageManifest)
        .size(d.size())
        .digest(d.digest().clone())
        .build()
        .unwrap();
    let mut index = ImageIndex::default();
    index.set_manifests(vec![entry]);
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    digest
}

/// A layout as `skopeo copy --all` writes a multi-platform image: its
/// `index.json` names (as `name`) a nested index with an image for each of
/// `arches`; beside it, an image of amd64 named `other`. Returns the nested
/// images' manifest digests, in order.
pub fn nested_layout(dir: &Path, arches: &[Arch], name: &str) -> Vec<String> {
    let manifests: Vec<Descriptor> = arches.iter().map(|a| image(dir, a.clone())).collect();
    let digests = manifests.iter().map(|d| d.digest().to_string()).collect();
    let mut inner = ImageIndex::default();
    inner.set_manifests(manifests);
    let bytes = serde_json::to_vec(&inner).unwrap();
    let digest = put(dir, &bytes);
    let named = |mut d: Descriptor, n: &str| {
        d.set_platform(None);
        d.set_annotations(Some(
            [("org.opencontainers.image.ref.name".to_owned(), n.to_owned())]
                .into_iter()
                .collect(),
        ));
        d
    };
    let mut index = ImageIndex::default();
    index.set_manifests(vec![
        named(descriptor(MediaType::ImageIndex, &bytes, &digest), name),
        named(image(dir, Arch::Amd64), "other"),
    ]);
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    digests
}
