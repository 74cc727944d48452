//! For the tests of the registry client and of publishing to ECR: a
//! function's image built by the provider's own code, and the provider's
//! AWS clients pointed at ECR through the fault proxy. For the tests of
//! image pipelines under Terraform: [`ImageRig`], the emulator, the tests'
//! registry with a base image, and the proxies in front of both.

use std::path::Path;

use eventpipe::aws::AwsClients;
use eventpipe::aws::{AwsSettings, ServiceEndpoints};
use eventpipe::pipeline::package::image::base::BaseImage;
use eventpipe::pipeline::package::image::{self, Image, layout::LayoutWriter};
use eventpipe::pipeline::package::{self, Settings, limits};
use tests::fault_proxy::FaultProxy;
use tests::{Registry, Skopeo, TerraformCli, base_image};

use super::rig::Rig;
use super::{ProviderBlock, state_attrs};

/// Builds the image of the function in `src` (python3.13, x86_64,
/// `app.handler`, no dependencies) on `base` into a new OCI layout at
/// `out`, as `eventpipe package --image` builds it; returns the image and
/// the `source_code_hash` of what it was built from.
pub fn build_function_image(src: &Path, base: &BaseImage, out: &Path) -> (Image, String) {
    let settings = Settings {
        source_dir: src.into(),
        runtime: "python3.13".into(),
        architecture: "x86_64".into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    };
    let staged = package::stage(&settings, None, limits::MAX_IMAGE_UNZIPPED_BYTES).expect("stage");
    let hash = staged.hash().expect("source_code_hash");
    let writer = LayoutWriter::create(out).expect("layout");
    let built = image::build(&staged, "app.handler", base, &writer).expect("build");
    (built, hash)
}

/// The provider's AWS clients with ECR at `ecr` (the fault proxy) and the
/// registry setting `ecr_registry`, on a runtime of their own.
pub fn ecr_clients(ecr: String, ecr_registry: String) -> (tokio::runtime::Runtime, AwsClients) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        access_key: Some("test".into()),
        secret_key: Some("test".into()),
        endpoints: ServiceEndpoints {
            ecr: Some(ecr),
            ecr_registry: Some(ecr_registry),
            ..ServiceEndpoints::default()
        },
        max_retries: Some(2),
        ..AwsSettings::default()
    };
    let clients = runtime
        .block_on(AwsClients::connect(&settings))
        .expect("clients");
    (runtime, clients)
}

/// The tag and repository of the test base image in the tests' registry.
pub const BASE_TAG: &str = "3.13";
pub const BASE_REPO: &str = "lambda/python";

/// The world of an image pipeline under Terraform: moto and its fault
/// proxy (the rig), which answers image functions as Lambda does and lets
/// ECR's deletes reach the registry (`ecr_images_in`); the tests'
/// `docker-registry` on loopback with the test base image pushed by skopeo;
/// a fault proxy in front of that registry (the provider's
/// `endpoints.ecr_registry`); and the cache (`EVENTPIPE_CACHE_DIR`).
pub struct ImageRig {
    pub rig: Rig,
    pub registry: Registry,
    pub registry_proxy: FaultProxy,
    pub cache: tempfile::TempDir,
    /// The test base image as built (its layout in `base_dir`).
    pub base: base_image::BaseImage,
    pub base_dir: tempfile::TempDir,
}

impl ImageRig {
    /// Starts it all; the provider's `max_retries` is `max_retries` (its
    /// default when `None`).
    pub fn start(tf: &TerraformCli, max_retries: Option<u32>) -> ImageRig {
        let registry = Registry::start().expect("registry");
        let base_dir = tempfile::tempdir().expect("base dir");
        let image = base_image::build(base_dir.path(), BASE_TAG).expect("base image");
        Skopeo::new()
            .expect("skopeo")
            .copy_all(
                &image.oci_reference(),
                &format!("docker://{}/{BASE_REPO}:{BASE_TAG}", registry.host()),
            )
            .expect("base pushed");
        let registry_proxy = FaultProxy::start(&registry.url()).expect("registry proxy");
        let moto = tests::Moto::start().expect("moto");
        let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
        proxy.image_functions_like_aws(true);
        proxy.check_images(true);
        proxy.ecr_images_in(Some(registry.addr()));
        let mut rig = Rig::with(tf, moto, proxy, max_retries);
        let cache = tempfile::tempdir().expect("cache");
        rig.ws.env("EVENTPIPE_CACHE_DIR", cache.path());
        ImageRig {
            rig,
            registry,
            registry_proxy,
            cache,
            base: image,
            base_dir,
        }
    }

    /// Makes the repository `name` with the tests' own ECR client.
    pub fn make_repository(&self, name: &str) {
        let ecr = self.rig.aws.ecr().clone();
        self.rig
            .aws
            .block_on(ecr.create_repository().repository_name(name).send())
            .expect("CreateRepository");
    }

    /// The test base image in the tests' registry.
    pub fn base_ref(&self) -> String {
        format!("{}/{BASE_REPO}:{BASE_TAG}", self.registry.host())
    }

    /// The function block's lines of an image on the test base, with
    /// `image_lines` (each ending in a newline) in its `image` block.
    pub fn image_lines(&self, image_lines: &str) -> String {
        format!(
            "    package_type = \"image\"\n    image {{\n      base_image = \"{}\"\n{image_lines}    }}\n",
            self.base_ref()
        )
    }

    /// main.tf: the provider through the rig's proxy with
    /// `endpoints.ecr_registry` at the registry proxy, then `body`.
    pub fn configure(&self, body: &str) {
        let mut provider = ProviderBlock::new(&self.rig.proxy.endpoint());
        if let Some(n) = self.rig.max_retries {
            provider = provider.setting(&format!("max_retries  = {n}"));
        }
        let provider = provider.setting(&format!(
            "endpoints {{\n    ecr_registry = \"{}\"\n  }}",
            self.registry_proxy.endpoint()
        ));
        self.rig
            .ws
            .write("main.tf", format!("{}{body}", provider.hcl()))
            .expect("main.tf");
    }

    /// The image layouts apply keeps in the cache (none half-written).
    pub fn layouts(&self) -> Vec<String> {
        let dir = self.cache.path().join("layouts");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The state's `image_uri` of the pipeline `name`.
    pub fn image_uri(&self, name: &str) -> Option<String> {
        state_attrs(&self.rig.ws, name)["image_uri"]
            .as_str()
            .map(str::to_owned)
    }

    /// The status of a HEAD of `/v2/<repo>/manifests/<reference>`, straight
    /// to the registry.
    pub fn head_manifest(&self, repo: &str, reference: &str) -> u16 {
        self.registry
            .head_manifest(repo, reference)
            .expect("HEAD")
            .status
    }
}

/// The digest of an image reference `…@sha256:…`.
pub fn digest_of(uri: &str) -> &str {
    uri.rsplit_once('@').expect("a digest reference").1
}
