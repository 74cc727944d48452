//! For the tests of the registry client and of publishing to ECR: a
//! function's image built by the provider's own code, and the provider's
//! AWS clients pointed at ECR through the fault proxy.

use std::path::Path;

use eventpipe::aws::AwsClients;
use eventpipe::aws::{AwsSettings, ServiceEndpoints};
use eventpipe::pipeline::package::image::base::BaseImage;
use eventpipe::pipeline::package::image::{self, Image, layout::LayoutWriter};
use eventpipe::pipeline::package::{self, Settings, limits};

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
