//! The image as a whole: built from a staged tree on a tiny base layout,
//! read back from the layout it was written to.

use std::fs;
use std::io::Read;
use std::path::Path;

use oci_spec::image::{Arch, ImageConfiguration, ImageIndex, ImageManifest};

use super::base::BaseImage;
use super::layout::LayoutWriter;
use super::testing::{base_layout, nested_layout, single_image_layout};
use super::*;
use crate::pipeline::package::cache::Cache;
use crate::pipeline::package::{Settings, limits, stage};

/// A function's source with a requirements file, and the cache at
/// `cache_dir` holding what pip would have installed for it.
fn function(src: &Path, cache_dir: &Path) -> (Settings, Cache) {
    fs::write(
        src.join("app.py"),
        "import six\ndef handler(e, c):\n    return six.X\n",
    )
    .unwrap();
    fs::write(src.join("requirements.txt"), "six==1.16.0\n").unwrap();
    let settings = Settings {
        source_dir: src.into(),
        runtime: "python3.13".into(),
        architecture: "x86_64".into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    };
    let cache = Cache::at(cache_dir);
    let key = settings.deps().unwrap().unwrap().key();
    cache
        .install(&key, |t| {
            fs::create_dir(t.join("six-1.16.0.dist-info"))?;
            fs::write(t.join("six-1.16.0.dist-info/RECORD"), "six.py\n")?;
            fs::write(t.join("six.py"), "X = 6\n")
        })
        .unwrap();
    (settings, cache)
}

struct Built {
    image: Image,
    layout: tempfile::TempDir,
}

fn build_in(settings: &Settings, cache: &Cache, base_dir: &Path, arch: &str) -> Built {
    let staged = stage(settings, Some(cache), limits::MAX_IMAGE_UNZIPPED_BYTES).unwrap();
    let base = BaseImage::from_layout(base_dir, None, arch).unwrap();
    let layout = tempfile::tempdir().unwrap();
    let out = LayoutWriter::create(&layout.path().join("built")).unwrap();
    let image = build(&staged, "app.handler", &base, &out).unwrap();
    Built { image, layout }
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    fs::read(
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap()
}

fn names_in(gz: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_same_inputs_from_other_directories_and_caches_give_the_same_digests() {
    let base = tempfile::tempdir().unwrap();
    base_layout(base.path(), &[Arch::Amd64, Arch::ARM64]);
    let (src_a, cache_a) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (src_b, cache_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (settings_a, c_a) = function(src_a.path(), cache_a.path());
    let first = build_in(&settings_a, &c_a, base.path(), "x86_64");
    let again = build_in(&settings_a, &c_a, base.path(), "x86_64");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (settings_b, c_b) = function(src_b.path(), cache_b.path());
    let other = build_in(&settings_b, &c_b, base.path(), "x86_64");
    for b in [&again, &other] {
        assert_eq!(b.image.manifest_digest, first.image.manifest_digest);
        assert_eq!(b.image.config_digest, first.image.config_digest);
        assert_eq!(b.image.layers, first.image.layers);
    }
    // The whole layouts are byte-equal, index.json included.
    let index = |b: &Built| fs::read(b.layout.path().join("built/index.json")).unwrap();
    assert_eq!(index(&first), index(&other));
}

#[test]
fn the_layers_hold_the_dependencies_then_the_code_under_the_task_root() {
    let base = tempfile::tempdir().unwrap();
    base_layout(base.path(), &[Arch::Amd64]);
    let (src, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (settings, cache) = function(src.path(), cache_dir.path());
    let b = build_in(&settings, &cache, base.path(), "x86_64");
    let root = b.layout.path().join("built");
    assert_eq!(b.image.layers.len(), 2);
    let deps = names_in(&blob(&root, &b.image.layers[0].digest));
    assert_eq!(
        deps,
        [
            "var/",
            "var/task/",
            "var/task/six-1.16.0.dist-info/",
            "var/task/six-1.16.0.dist-info/RECORD",
            "var/task/six.py"
        ]
    );
    let code = names_in(&blob(&root, &b.image.layers[1].digest));
    assert_eq!(
        code,
        [
            "var/",
            "var/task/",
            "var/task/app.py",
            "var/task/requirements.txt"
        ]
    );
}

#[test]
fn the_config_and_manifest_append_our_layers_to_the_base_and_run_the_handler() {
    let base = tempfile::tempdir().unwrap();
    base_layout(base.path(), &[Arch::Amd64]);
    let (src, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (settings, cache) = function(src.path(), cache_dir.path());
    let b = build_in(&settings, &cache, base.path(), "x86_64");
    let root = b.layout.path().join("built");
    let base_image = BaseImage::from_layout(base.path(), None, "x86_64").unwrap();

    let index: ImageIndex =
        serde_json::from_slice(&fs::read(root.join("index.json")).unwrap()).unwrap();
    assert_eq!(index.manifests().len(), 1);
    assert_eq!(
        index.manifests()[0].digest().to_string(),
        b.image.manifest_digest
    );
    let manifest_bytes = blob(&root, &b.image.manifest_digest);
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes).unwrap();
    let layers: Vec<String> = manifest
        .layers()
        .iter()
        .map(|l| l.digest().to_string())
        .collect();
    let mut want: Vec<String> = base_image
        .manifest
        .layers()
        .iter()
        .map(|l| l.digest().to_string())
        .collect();
    want.extend(b.image.layers.iter().map(|l| l.digest.clone()));
    assert_eq!(layers, want);
    // Every blob the manifest names is in the layout, with its size.
    for l in manifest.layers() {
        assert_eq!(blob(&root, l.digest().as_ref()).len() as u64, l.size());
    }

    let config: ImageConfiguration =
        serde_json::from_slice(&blob(&root, manifest.config().digest().as_ref())).unwrap();
    assert_eq!(
        manifest.config().digest().to_string(),
        b.image.config_digest
    );
    let run = config.config().clone().unwrap();
    assert_eq!(run.cmd().clone().unwrap(), ["app.handler"]);
    assert_eq!(run.entrypoint().clone().unwrap(), ["/lambda-entrypoint.sh"]);
    let mut diff_ids = base_image.config.rootfs().diff_ids().clone();
    diff_ids.extend(b.image.layers.iter().map(|l| l.diff_id.clone()));
    assert_eq!(config.rootfs().diff_ids(), &diff_ids);
    assert_eq!(config.history().as_ref().unwrap().len(), 3);
    // The diff_ids are those of the tars inside the blobs.
    for l in &b.image.layers {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&blob(&root, &l.digest)[..])
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(
            l.diff_id,
            format!(
                "sha256:{}",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&tar))
            )
        );
    }
    // The JSON is written with sorted keys (labels came from a HashMap).
    let text = String::from_utf8(blob(&root, &b.image.config_digest)).unwrap();
    let labels = text.find("\"Labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}");
    assert!(labels.is_some(), "{text}");
}

#[test]
fn a_code_edit_changes_the_code_layer_only() {
    let base = tempfile::tempdir().unwrap();
    base_layout(base.path(), &[Arch::Amd64]);
    let (src, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (settings, cache) = function(src.path(), cache_dir.path());
    let before = build_in(&settings, &cache, base.path(), "x86_64");
    fs::write(
        src.path().join("app.py"),
        "import six\ndef handler(e, c):\n    return 7\n",
    )
    .unwrap();
    let after = build_in(&settings, &cache, base.path(), "x86_64");
    assert_eq!(after.image.layers[0], before.image.layers[0]);
    assert_ne!(after.image.layers[1], before.image.layers[1]);
    assert_ne!(after.image.manifest_digest, before.image.manifest_digest);
}

#[test]
fn the_base_is_picked_for_the_architecture_or_refused_naming_what_it_has() {
    let base = tempfile::tempdir().unwrap();
    let digests = base_layout(base.path(), &[Arch::Amd64, Arch::ARM64]);
    let amd = BaseImage::from_layout(base.path(), None, "x86_64").unwrap();
    let arm = BaseImage::from_layout(base.path(), None, "arm64").unwrap();
    assert_eq!(amd.manifest_digest, digests[0]);
    assert_eq!(arm.manifest_digest, digests[1]);
    assert_eq!(arm.task_root(), "/var/task");

    let only_amd = tempfile::tempdir().unwrap();
    base_layout(only_amd.path(), &[Arch::Amd64]);
    let err = BaseImage::from_layout(only_amd.path(), None, "arm64")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "base image: the base image has no entry for linux/arm64 (it has: linux/amd64)"
    );

    // One image with no platform (as skopeo writes a layout): its config
    // must be for the architecture.
    let single = tempfile::tempdir().unwrap();
    let digest = single_image_layout(single.path(), Arch::Amd64);
    let one = BaseImage::from_layout(single.path(), None, "x86_64").unwrap();
    assert_eq!(one.manifest_digest, digest);
    let err = BaseImage::from_layout(single.path(), None, "arm64")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is an image for linux/amd64, not linux/arm64"),
        "{err}"
    );

    let missing = BaseImage::from_layout(&single.path().join("nope"), None, "x86_64")
        .unwrap_err()
        .to_string();
    assert!(missing.contains("is not an OCI image layout"), "{missing}");
}

#[test]
fn a_named_image_of_a_layout_is_picked_through_its_nested_index() {
    let base = tempfile::tempdir().unwrap();
    let digests = nested_layout(base.path(), &[Arch::Amd64, Arch::ARM64], "3.13");
    let arm = BaseImage::from_layout(base.path(), Some("3.13"), "arm64").unwrap();
    assert_eq!(arm.manifest_digest, digests[1]);
    assert_eq!(arm.reference, format!("oci:{}:3.13", base.path().display()));
    let other = BaseImage::from_layout(base.path(), Some("other"), "x86_64").unwrap();
    assert_eq!(other.config.architecture(), &Arch::Amd64);
    let unnamed = BaseImage::from_layout(base.path(), None, "x86_64")
        .unwrap_err()
        .to_string();
    assert!(
        unnamed.contains("the layout holds 2 images; name one as oci:PATH:NAME"),
        "{unnamed}"
    );
    let missing = BaseImage::from_layout(base.path(), Some("3.12"), "x86_64")
        .unwrap_err()
        .to_string();
    assert!(
        missing.ends_with(":3.12: no image named \"3.12\""),
        "{missing}"
    );
}

#[test]
fn an_arm64_image_is_built_on_the_arm64_base() {
    let base = tempfile::tempdir().unwrap();
    let digests = base_layout(base.path(), &[Arch::Amd64, Arch::ARM64]);
    let (src, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut settings, _) = function(src.path(), cache_dir.path());
    settings.architecture = "arm64".into();
    let cache = Cache::at(cache_dir.path());
    let key = settings.deps().unwrap().unwrap().key();
    cache
        .install(&key, |t| fs::write(t.join("six.py"), "X = 6\n"))
        .unwrap();
    let b = build_in(&settings, &cache, base.path(), "arm64");
    assert_eq!(b.image.base_digest, digests[1]);
    let root = b.layout.path().join("built");
    let index: ImageIndex =
        serde_json::from_slice(&fs::read(root.join("index.json")).unwrap()).unwrap();
    let platform = index.manifests()[0].platform().clone().unwrap();
    assert_eq!(platform.architecture(), &Arch::ARM64);
}

#[test]
fn without_dependencies_the_image_has_one_code_layer() {
    let base = tempfile::tempdir().unwrap();
    base_layout(base.path(), &[Arch::Amd64]);
    let src = tempfile::tempdir().unwrap();
    fs::write(
        src.path().join("app.py"),
        "def handler(e, c):\n    return 1\n",
    )
    .unwrap();
    let settings = Settings {
        source_dir: src.path().into(),
        runtime: "python3.13".into(),
        architecture: "x86_64".into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    };
    let cache_dir = tempfile::tempdir().unwrap();
    let b = build_in(
        &settings,
        &Cache::at(cache_dir.path()),
        base.path(),
        "x86_64",
    );
    assert_eq!(b.image.layers.len(), 1);
    let code = names_in(&blob(
        &b.layout.path().join("built"),
        &b.image.layers[0].digest,
    ));
    assert_eq!(code, ["var/", "var/task/", "var/task/app.py"]);
}

#[test]
fn canonical_json_sorts_keys_at_every_depth() {
    let v = serde_json::json!({"b": {"z": 1, "y": [ {"d": 1, "c": 2} ]}, "a": 0});
    assert_eq!(
        String::from_utf8(canonical_json(&v).unwrap()).unwrap(),
        r#"{"a":0,"b":{"y":[{"c":2,"d":1}],"z":1}}"#
    );
}

#[test]
fn a_slim_image_layers_the_slim_dependency_tree_and_keeps_the_code_layer() {
    let base = tempfile::tempdir().unwrap();
    base_layout(base.path(), &[Arch::Amd64]);
    let (src, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (settings, cache) = function(src.path(), cache_dir.path());
    // What slim drops, beside six in the installed tree.
    let installed = cache
        .installed(&settings.deps().unwrap().unwrap().key())
        .unwrap();
    fs::create_dir_all(installed.join("six_tests/tests")).unwrap();
    fs::write(installed.join("six_tests/tests/test_six.py"), "pass\n").unwrap();
    fs::write(installed.join("six.pyi"), "X: int\n").unwrap();
    let full = build_in(&settings, &cache, base.path(), "x86_64");
    let slim_settings = Settings {
        slim: true,
        ..settings.clone()
    };
    let slim = build_in(&slim_settings, &cache, base.path(), "x86_64");
    let names = |b: &Built, i: usize| {
        names_in(&blob(
            &b.layout.path().join("built"),
            &b.image.layers[i].digest,
        ))
    };
    assert!(names(&full, 0).contains(&"var/task/six.pyi".to_owned()));
    let deps = names(&slim, 0);
    assert!(
        deps.contains(&"var/task/six.py".to_owned())
            && !deps
                .iter()
                .any(|n| n.contains("tests") || n.ends_with(".pyi")),
        "{deps:?}"
    );
    assert_ne!(slim.image.layers[0].digest, full.image.layers[0].digest);
    assert_eq!(
        slim.image.layers[1], full.image.layers[1],
        "the code layer is the same"
    );
    assert_ne!(slim.image.manifest_digest, full.image.manifest_digest);
}
