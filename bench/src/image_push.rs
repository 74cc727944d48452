//! Figure 13's push: an image whose only new layer is a code change, pushed
//! by the registry client (`eventpipe::registry`) to a registry that already
//! holds the base and the dependency layer, against one `skopeo copy` of an
//! image made of that one layer into a repository that lacks it.
//!
//! The registry is the tests' (`tests::registry::Registry`: Debian's
//! `docker-registry` on loopback, plain HTTP); the dependency tree is figure
//! 13's generated tree, installed as the dependency layer. Each sample
//! edits the code, builds the image (not timed), then times the push (a new
//! client, as a new run makes one: its version check, a HEAD per blob, the
//! uploads of what is missing, the manifest), then the `skopeo copy`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use eventpipe::pipeline::package::Staged;
use eventpipe::pipeline::package::image::base::BaseImage;
use eventpipe::pipeline::package::image::{self, layout::LayoutWriter};
use eventpipe::pipeline::source;
use eventpipe::registry::{self, BlobStore, Credentials, Registry as Client};
use serde_json::json;

use crate::stats::{Samples, timed};

/// The code: a handler and modules of Python source, about 200 KB.
const CODE_MODULES: usize = 12;
const MODULE_BYTES: usize = 16 * 1024;

pub struct Push {
    /// The code layer's gzip'd size.
    pub code_layer: u64,
    /// What each push uploaded (`Pushed::bytes_uploaded`), and its blobs.
    pub bytes_uploaded: u64,
    pub blobs_uploaded: usize,
    /// The blobs the image has in all (base, dependencies, code, config).
    pub blobs: usize,
    pub push: Samples,
    pub skopeo: Samples,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building a runtime")
}

/// Writes the function's code, version `v`.
fn write_code(dir: &Path, v: usize) -> Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(
        dir.join("app.py"),
        format!("VERSION = {v}\n\ndef handler(event, context):\n    return VERSION\n"),
    )?;
    for m in 0..CODE_MODULES {
        // Names and constants vary as in real code, so the layer does not
        // compress far better than source does (about 4:1).
        let mut state = (m as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut text = String::with_capacity(MODULE_BYTES + 256);
        while text.len() < MODULE_BYTES {
            let (a, b, c) = (next(), next(), next());
            text.push_str(&format!(
                "def step_{a:x}(record):\n    value = record.get('{b:x}', {})\n    \
                 return value * {} + {}\n\n",
                c % 10_000,
                a % 97,
                b % 1_000
            ));
        }
        fs::write(dir.join(format!("module_{m}.py")), text)?;
    }
    Ok(())
}

/// Builds the image of `code` with `deps` installed on `base` into `out`.
fn build(
    code: &Path,
    deps: &[source::SourceFile],
    base: &BaseImage,
    out: &Path,
) -> Result<image::Image> {
    let staged = Staged {
        source: source::scan_limited(code, u64::MAX)?,
        deps: None,
        installed: deps.to_vec(),
        slim: false,
    };
    let writer = LayoutWriter::create(out)?;
    Ok(image::build(&staged, "app.handler", base, &writer)?)
}

/// An OCI layout at `dir` holding one image under the tag `one`: a config
/// and the one layer `layer` (its blob in `from`).
fn one_layer_layout(dir: &Path, from: &Path, layer: &image::layer::Layer) -> Result<()> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs)?;
    let hex = |d: &str| d.trim_start_matches("sha256:").to_owned();
    fs::copy(
        from.join("blobs/sha256").join(hex(&layer.digest)),
        blobs.join(hex(&layer.digest)),
    )?;
    let put = |bytes: Vec<u8>| -> Result<(String, u64)> {
        let digest = tests::base_image::sha256_digest(&bytes);
        fs::write(blobs.join(hex(&digest)), &bytes)?;
        Ok((digest, bytes.len() as u64))
    };
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
    });
    let (config_digest, config_size) = put(serde_json::to_vec(&config)?)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": layer.digest,
            "size": layer.size,
        }],
    });
    let (manifest_digest, manifest_size) = put(serde_json::to_vec(&manifest)?)?;
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "one"},
        }],
    });
    fs::write(dir.join("index.json"), serde_json::to_vec(&index)?)?;
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    Ok(())
}

/// Measures `repeats` code-only pushes of an image whose dependency layer
/// is the tree at `deps_dir`, with the base layout at `base_layout`
/// (`oci:DIR:base`).
pub fn measure(root: &Path, deps_dir: &Path, base_layout: &Path, repeats: usize) -> Result<Push> {
    let registry = tests::Registry::start()?;
    let skopeo = tests::Skopeo::new()?;
    let host = registry.host();
    skopeo.copy_all(
        &format!("oci:{}:base", base_layout.display()),
        &format!("docker://{host}/base:base"),
    )?;
    let rt = runtime()?;
    let store = BlobStore::at(root.join("image-cache"));
    let (base, _) = rt.block_on(BaseImage::from_registry(
        &format!("{host}/base:base"),
        "x86_64",
        store,
    ))?;
    let deps = source::scan_limited(deps_dir, u64::MAX)?.files;
    let code = root.join("code");
    let push = |layout: &Path, digest: &str, tag: &str| -> Result<registry::Pushed> {
        let target = registry::parse_reference(&format!("{host}/fn:{tag}"))?;
        let client = Client::with_credentials(host.clone(), &Credentials::Anonymous);
        Ok(rt.block_on(client.push(layout, digest, &target))?)
    };

    // The registry gets the base and the dependency layer.
    write_code(&code, 0)?;
    let seed = root.join("push-0");
    let first = build(&code, &deps, &base, &seed)?;
    push(&seed, &first.manifest_digest, "v0")?;
    fs::remove_dir_all(&seed).ok();

    let mut m = Push {
        code_layer: 0,
        bytes_uploaded: 0,
        blobs_uploaded: 0,
        blobs: 0,
        push: Samples::default(),
        skopeo: Samples::default(),
    };
    for i in 1..=repeats {
        write_code(&code, i)?;
        let layout = root.join(format!("push-{i}"));
        let built = build(&code, &deps, &base, &layout)?;
        let code_layer = built.layers.last().context("no code layer")?.clone();
        ensure!(
            built.layers.len() == 2,
            "the image should append a dependency and a code layer"
        );
        let (pushed, d) = timed(|| push(&layout, &built.manifest_digest, &format!("v{i}")));
        let pushed = pushed?;
        m.push.push_duration(d);
        m.code_layer = code_layer.size;
        m.bytes_uploaded = m.bytes_uploaded.max(pushed.bytes_uploaded);
        m.blobs_uploaded = m.blobs_uploaded.max(pushed.blobs_uploaded);
        m.blobs = base.manifest.layers().len() + built.layers.len() + 1;

        let one = root.join(format!("one-{i}"));
        one_layer_layout(&one, &layout, &code_layer)?;
        let (copied, d) = timed(|| {
            skopeo.copy_all(
                &format!("oci:{}:one", one.display()),
                &format!("docker://{host}/one-{i}:one"),
            )
        });
        copied?;
        m.skopeo.push_duration(d);
        fs::remove_dir_all(&layout).ok();
        fs::remove_dir_all(&one).ok();
    }
    Ok(m)
}
