//! What moto 5.2.5 does with Lambda container-image functions, pinned as
//! assertions so that a moto upgrade that changes any of it fails here
//! first; and the fault proxy's fidelity layer, which answers as Lambda
//! does where the provider must not rely on moto (`image_functions_like_aws`).
//!
//! The findings (also in `tests/src/fault_proxy/image_code.rs` and
//! ARCHITECTURE.md):
//! - `CreateFunction` with `PackageType=Image` takes any `ImageUri`: a
//!   digest reference to a registry that is not ECR and not even running,
//!   an image ECR does not hold, or text that is no reference at all. It
//!   neither pulls nor checks the image (AWS checks that it exists and that
//!   the repository policy lets Lambda pull it).
//! - `GetFunction` reports `PackageType = Image`, `Code.RepositoryType =
//!   ECR` and `Code.ImageUri` exactly as sent, and `ImageConfig.Command`.
//!   Its `CodeSha256` is the SHA-256 of the URI's text, not the image's
//!   digest, and `Code.ResolvedImageUri` is the text before the first `:`
//!   followed by `@sha256:` and that hash (`127.0.0.1@sha256:…` for a
//!   `127.0.0.1:PORT/…` reference). AWS reports the image's digest in both.
//! - `UpdateFunctionCode` with an `ImageUri` replaces the image (same
//!   hashes, of the new text).
//! - The package type never changes in moto either, but moto takes the code
//!   anyway: an `ImageUri` given to a zip function, or a zip given to an
//!   image function, is accepted, and the function keeps its old
//!   `PackageType` with the new code. AWS refuses both.

use std::io::Write;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, ImageConfig, PackageType, Runtime};
use sha2::{Digest, Sha256};
use tests::base_image;
use tests::fault_proxy::{Departure, FaultProxy};
use tests::{Aws, Moto, Registry, Skopeo};

const DIGEST_A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const DIGEST_B: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// An image reference by digest on a loopback registry nobody serves
/// (port 9 is discard), the shape `ecr_registry` gives in tests.
fn image(repo: &str, digest: &str) -> String {
    format!("127.0.0.1:9/{repo}@sha256:{digest}")
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn zip_bytes() -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("app.py", zip::write::SimpleFileOptions::default())
        .expect("zip entry");
    z.write_all(b"def handler(event, context):\n    return 1\n")
        .expect("zip body");
    z.finish().expect("zip").into_inner()
}

fn role(aws: &Aws) -> String {
    aws.create_service_role("li-role", "/", "lambda.amazonaws.com")
        .expect("role")
}

fn create_image_function(aws: &Aws, name: &str, role: &str, uri: &str) -> anyhow::Result<()> {
    let call = aws
        .lambda()
        .create_function()
        .function_name(name)
        .role(role)
        .package_type(PackageType::Image)
        .code(FunctionCode::builder().image_uri(uri).build())
        .image_config(ImageConfig::builder().command("app.handler").build())
        .send();
    aws.block_on(call)
        .map(drop)
        .map_err(|e| anyhow::anyhow!("{}", aws_sdk_lambda::error::DisplayErrorContext(&e)))
}

fn create_zip_function(aws: &Aws, name: &str, role: &str) {
    let call = aws
        .lambda()
        .create_function()
        .function_name(name)
        .role(role)
        .runtime(Runtime::Python313)
        .handler("app.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_bytes()))
                .build(),
        )
        .send();
    aws.block_on(call).expect("CreateFunction (zip)");
}

/// What `UpdateFunctionCode` fails with (boxed: it is large).
type UpdateError = Box<
    aws_sdk_lambda::error::SdkError<
        aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError,
    >,
>;

/// `UpdateFunctionCode` with an image URI, or (with `None`) a zip.
fn update_code(aws: &Aws, name: &str, uri: Option<&str>) -> Result<(), UpdateError> {
    let req = aws.lambda().update_function_code().function_name(name);
    let req = match uri {
        Some(u) => req.image_uri(u),
        None => req.zip_file(Blob::new(zip_bytes())),
    };
    aws.block_on(req.send()).map(drop).map_err(Box::new)
}

#[test]
fn moto_makes_an_image_function_from_any_reference_without_looking_at_it() {
    let moto = Moto::start().expect("moto");
    let aws = Aws::new(&moto.endpoint()).expect("client");
    let role = role(&aws);
    let uri = image("li-app", DIGEST_A);
    // No registry serves 127.0.0.1:9 and ECR has no repository at all.
    assert!(aws.repository_names().expect("repositories").is_empty());
    create_image_function(&aws, "li-fn", &role, &uri).expect("CreateFunction (image)");

    let code = aws.function_code("li-fn").expect("GetFunction");
    assert_eq!(code.package_type, "Image");
    assert_eq!(code.repository_type.as_deref(), Some("ECR"));
    assert_eq!(code.image_uri.as_deref(), Some(uri.as_str()));
    assert_eq!(code.image_command, vec!["app.handler".to_owned()]);
    // moto's hashes are of the URI's text, and its resolved URI is cut at
    // the port's colon. AWS would report DIGEST_A in both.
    assert_eq!(code.code_sha256, sha256_hex(&uri));
    assert_ne!(code.code_sha256, DIGEST_A);
    assert_eq!(
        code.resolved_image_uri.as_deref(),
        Some(format!("127.0.0.1@sha256:{}", sha256_hex(&uri)).as_str())
    );

    // Not even a reference is checked: an ECR image that does not exist, or
    // plain text.
    let missing = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nope:latest";
    create_image_function(&aws, "li-fn-missing", &role, missing)
        .expect("moto takes an ECR image that does not exist");
    create_image_function(&aws, "li-fn-text", &role, "not a reference")
        .expect("moto takes any text");
}

#[test]
fn moto_updates_an_image_function_to_another_digest() {
    let moto = Moto::start().expect("moto");
    let aws = Aws::new(&moto.endpoint()).expect("client");
    let role = role(&aws);
    create_image_function(&aws, "li-up", &role, &image("li-up", DIGEST_A)).expect("create");
    let next = image("li-up", DIGEST_B);
    update_code(&aws, "li-up", Some(&next)).expect("UpdateFunctionCode (image)");
    let code = aws.function_code("li-up").expect("GetFunction");
    assert_eq!(code.package_type, "Image");
    assert_eq!(code.image_uri.as_deref(), Some(next.as_str()));
    assert_eq!(code.code_sha256, sha256_hex(&next));
}

#[test]
fn moto_takes_code_of_the_other_package_type_and_keeps_the_old_type() {
    let moto = Moto::start().expect("moto");
    let aws = Aws::new(&moto.endpoint()).expect("client");
    let role = role(&aws);

    // A zip function given an image: accepted, still Zip.
    create_zip_function(&aws, "li-zip", &role);
    let uri = image("li-zip", DIGEST_A);
    update_code(&aws, "li-zip", Some(&uri)).expect("moto takes an ImageUri for a zip function");
    let code = aws.function_code("li-zip").expect("GetFunction");
    assert_eq!(code.package_type, "Zip");
    assert_eq!(code.code_sha256, sha256_hex(&uri));

    // An image function given a zip: accepted, still Image, its code now in S3.
    create_image_function(&aws, "li-img", &role, &image("li-img", DIGEST_A)).expect("create");
    update_code(&aws, "li-img", None).expect("moto takes a zip for an image function");
    let code = aws.function_code("li-img").expect("GetFunction");
    assert_eq!(code.package_type, "Image");
    assert_eq!(code.repository_type.as_deref(), Some("S3"));
    assert_eq!(code.image_uri, None);
}

#[test]
fn the_proxy_keeps_the_package_type_and_reports_the_digest_as_lambda_does() {
    let moto = Moto::start().expect("moto");
    let direct = Aws::new(&moto.endpoint()).expect("client");
    let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
    proxy.image_functions_like_aws(true);
    let aws = Aws::new(&proxy.endpoint()).expect("client through the proxy");
    let role = role(&direct);

    create_zip_function(&aws, "li-zip", &role);
    let uri = image("li-img", DIGEST_A);
    create_image_function(&aws, "li-img", &role, &uri).expect("create");

    let e = update_code(&aws, "li-zip", Some(&uri)).expect_err("refused, as Lambda does");
    let svc = e.as_service_error().expect("a service error");
    assert!(svc.is_invalid_parameter_value_exception(), "{svc:?}");
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(svc),
        Some("Please don't provide ImageUri when updating a function with packageType Zip.")
    );
    let e = update_code(&aws, "li-img", None).expect_err("refused, as Lambda does");
    let svc = e.as_service_error().expect("a service error");
    assert!(svc.is_invalid_parameter_value_exception(), "{svc:?}");
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(svc),
        Some("Please provide ImageUri when updating a function with packageType Image.")
    );
    assert_eq!(
        proxy.departures(),
        vec![
            Departure::PackageTypeKept("li-zip".into()),
            Departure::PackageTypeKept("li-img".into()),
        ]
    );
    // Nothing reached moto: both functions are as they were.
    let zip = direct.function_code("li-zip").expect("GetFunction");
    assert_eq!(zip.package_type, "Zip");
    assert_eq!(zip.repository_type.as_deref(), Some("S3"));
    let img = direct.function_code("li-img").expect("GetFunction");
    assert_eq!(img.image_uri.as_deref(), Some(uri.as_str()));

    // The same type's code still goes through, and the digest is reported
    // as Lambda reports it.
    let next = image("li-img", DIGEST_B);
    update_code(&aws, "li-img", Some(&next)).expect("an image for an image function");
    update_code(&aws, "li-zip", None).expect("a zip for a zip function");
    let code = aws
        .function_code("li-img")
        .expect("GetFunction through the proxy");
    assert_eq!(code.code_sha256, DIGEST_B);
    assert_eq!(code.resolved_image_uri.as_deref(), Some(next.as_str()));
    let config = aws
        .block_on(
            aws.lambda()
                .get_function_configuration()
                .function_name("li-img")
                .send(),
        )
        .expect("GetFunctionConfiguration");
    assert_eq!(config.code_sha256(), Some(DIGEST_B));
    // moto itself still says otherwise.
    assert_eq!(
        direct
            .function_code("li-img")
            .expect("GetFunction")
            .code_sha256,
        sha256_hex(&next)
    );
}

#[test]
fn the_proxy_refuses_an_image_the_registry_does_not_hold_as_lambda_does() {
    let moto = Moto::start().expect("moto");
    let direct = Aws::new(&moto.endpoint()).expect("client");
    let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
    proxy.check_images(true);
    let aws = Aws::new(&proxy.endpoint()).expect("client through the proxy");
    let role = role(&direct);

    // A real image in the tests' registry, pushed by skopeo.
    let registry = Registry::start().expect("registry");
    let layout = tempfile::tempdir().expect("tempdir");
    let base = base_image::build(layout.path(), "3.13").expect("base image");
    let dest = format!("docker://{}/li-app:3.13", registry.host());
    Skopeo::new()
        .expect("skopeo")
        .copy_all(&base.oci_reference(), &dest)
        .expect("push");
    let amd64 = &base.platform("amd64").expect("amd64").manifest_digest;
    let held = format!("{}/li-app@{amd64}", registry.host());
    create_image_function(&aws, "li-held", &role, &held).expect("the image is in the registry");

    let missing = format!("{}/li-app@sha256:{DIGEST_A}", registry.host());
    let e = create_image_function(&aws, "li-missing", &role, &missing)
        .expect_err("refused, as Lambda does");
    let text = e.to_string();
    assert!(text.contains("InvalidParameterValueException"), "{text}");
    assert!(
        text.contains(&format!(
            "Source image {missing} does not exist. Provide a valid source image."
        )),
        "{text}"
    );
    let e = create_image_function(&aws, "li-text", &role, "not a reference")
        .expect_err("refused, as Lambda does");
    assert!(
        e.to_string()
            .contains("Source image not a reference is not valid."),
        "{e}"
    );
    // Nothing serves 127.0.0.1:9: no image there either.
    let nowhere = image("li-app", DIGEST_A);
    create_image_function(&aws, "li-nowhere", &role, &nowhere).expect_err("refused");
    let e = update_code(&aws, "li-held", Some(&missing)).expect_err("refused");
    assert!(
        e.as_service_error()
            .is_some_and(|s| s.is_invalid_parameter_value_exception()),
        "{e:?}"
    );
    assert_eq!(
        proxy.departures(),
        vec![
            Departure::ImageRefused(missing.clone()),
            Departure::ImageRefused("not a reference".into()),
            Departure::ImageRefused(nowhere),
            Departure::ImageRefused(missing),
        ]
    );
    // Only the function whose image exists was made, and it kept its image.
    assert_eq!(direct.function_names().expect("functions"), vec!["li-held"]);
    assert_eq!(
        direct
            .function_code("li-held")
            .expect("GetFunction")
            .image_uri,
        Some(held)
    );
}
