//! Lambda's container-image functions as AWS reports and guards them,
//! where moto 5.2.5 does not (see `tests/tests/lambda_images.rs`, which
//! pins what moto does):
//! - a function's package type never changes: `UpdateFunctionCode` with an
//!   `ImageUri` on a zip function, or with a zip (or S3 object) on an image
//!   function, is refused with Lambda's own words. moto takes both, and
//!   keeps the old `PackageType` with the new code.
//! - for an image deployed by digest, `CodeSha256` is that digest (hex)
//!   and `Code.ResolvedImageUri` is the image URI by that digest. moto
//!   reports the SHA-256 of the URI's text in both places, and cuts a
//!   `host:port` registry at its colon (`127.0.0.1@sha256:…`).
//!
//! An image given by tag is resolved by AWS against the registry, which
//! the proxy does not read: such answers keep moto's values.
//!
//! Lambda also refuses an image it cannot find: `CreateFunction` and
//! `UpdateFunctionCode` answer `Source image … does not exist` (or `… is not
//! valid` for text that is no image reference). moto looks at nothing. With
//! `check_images`, the proxy asks the registry the reference names (a
//! manifest HEAD), for a registry on a loopback address over plain HTTP, the
//! tests' `docker-registry`; any other registry is not checked.

use serde_json::Value;

/// What Lambda answers (400 `InvalidParameterValueException`) when
/// `UpdateFunctionCode` would change a function's package type, or `None`
/// when the code `sent` fits a function of `package_type`.
pub(super) fn refusal(package_type: &str, sent: &Value) -> Option<&'static str> {
    let has_image = sent.get("ImageUri").is_some_and(|v| !v.is_null());
    match (package_type, has_image) {
        ("Zip", true) => {
            Some("Please don't provide ImageUri when updating a function with packageType Zip.")
        }
        ("Image", false) => {
            Some("Please provide ImageUri when updating a function with packageType Image.")
        }
        _ => None,
    }
}

/// The image URI a `CreateFunction` or `UpdateFunctionCode` body deploys.
pub(super) fn image_uri_sent(op: &str, sent: &Value) -> Option<String> {
    let uri = match op {
        "lambda:CreateFunction" => &sent["Code"]["ImageUri"],
        _ => &sent["ImageUri"],
    };
    uri.as_str().map(str::to_owned)
}

/// The digest (hex, without `sha256:`) of an image URI given by digest.
pub(super) fn digest_of(image_uri: &str) -> Option<&str> {
    let (_, digest) = image_uri.rsplit_once("@sha256:")?;
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
}

/// Sets `CodeSha256` of a function configuration to the digest of
/// `image_uri`, as Lambda reports an image function. Only for image
/// functions deployed by digest.
pub(super) fn fix_configuration(config: &mut Value, image_uri: &str) {
    if config["PackageType"] != "Image" {
        return;
    }
    if let Some(digest) = digest_of(image_uri) {
        config["CodeSha256"] = Value::String(digest.to_owned());
    }
}

/// A `GetFunction` answer as Lambda gives it for an image function
/// deployed by digest: `CodeSha256` the digest, and `Code.ResolvedImageUri`
/// the URI by that digest. Returns the image URI when it is one.
pub(super) fn fix_get_function(body: &mut Value) -> Option<String> {
    let uri = body["Code"]["ImageUri"].as_str()?.to_owned();
    if body["Configuration"]["PackageType"] != "Image" || digest_of(&uri).is_none() {
        return Some(uri);
    }
    fix_configuration(&mut body["Configuration"], &uri);
    body["Code"]["ResolvedImageUri"] = Value::String(uri.clone());
    Some(uri)
}

/// An image reference split into its parts: `host[:port]/repository`
/// and a digest (`sha256:…`) or a tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ImageRef {
    pub(super) host: String,
    pub(super) repository: String,
    pub(super) reference: String,
}

/// The parts of `uri`, or `None` when it is no image reference with a
/// registry host (what Lambda calls not valid).
pub(super) fn image_ref(uri: &str) -> Option<ImageRef> {
    let (host, rest) = uri.split_once('/')?;
    let host_ok = !host.is_empty()
        && (host.contains('.') || host.contains(':') || host == "localhost")
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !host_ok {
        return None;
    }
    let (repository, reference) = match rest.split_once('@') {
        Some((repo, digest)) => (repo, digest.to_owned()),
        None => match rest.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, tag.to_owned()),
            _ => (rest, "latest".to_owned()),
        },
    };
    let repo_ok = !repository.is_empty()
        && repository.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    let reference_ok = match reference.strip_prefix("sha256:") {
        Some(hex) => hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => {
            !reference.is_empty()
                && reference.len() <= 128
                && reference
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        }
    };
    (repo_ok && reference_ok).then(|| ImageRef {
        host: host.to_owned(),
        repository: repository.to_owned(),
        reference,
    })
}

/// The socket of a registry host the proxy can ask: a loopback address
/// (`127.x.x.x:PORT`, `localhost:PORT`, `[::1]:PORT`), or `None`.
pub(super) fn loopback_addr(host: &str) -> Option<std::net::SocketAddr> {
    let host = host.replacen("localhost:", "127.0.0.1:", 1);
    let addr: std::net::SocketAddr = host.parse().ok()?;
    addr.ip().is_loopback().then_some(addr)
}

/// Lambda's words for an image it cannot find.
pub(super) fn missing_message(uri: &str) -> String {
    format!("Source image {uri} does not exist. Provide a valid source image.")
}

/// Lambda's words for text that is no image reference.
pub(super) fn invalid_message(uri: &str) -> String {
    format!("Source image {uri} is not valid. Provide a valid source image.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_package_type_is_kept_with_lambda_s_words() {
        let image = json!({"ImageUri": format!("r/app@sha256:{DIGEST}")});
        let zip = json!({"ZipFile": "UEsDBA=="});
        let s3 = json!({"S3Bucket": "b", "S3Key": "k"});
        assert_eq!(
            refusal("Zip", &image),
            Some("Please don't provide ImageUri when updating a function with packageType Zip.")
        );
        assert_eq!(
            refusal("Image", &zip),
            Some("Please provide ImageUri when updating a function with packageType Image.")
        );
        assert!(refusal("Image", &s3).is_some());
        assert_eq!(refusal("Zip", &zip), None);
        assert_eq!(refusal("Zip", &s3), None);
        assert_eq!(refusal("Image", &image), None);
    }

    #[test]
    fn an_image_by_digest_reports_its_digest() {
        let uri = format!("127.0.0.1:5000/app@sha256:{DIGEST}");
        let mut body = json!({
            "Configuration": {"PackageType": "Image", "CodeSha256": "sha-of-the-uri-text"},
            "Code": {"RepositoryType": "ECR", "ImageUri": uri,
                     "ResolvedImageUri": "127.0.0.1@sha256:sha-of-the-uri-text"}
        });
        assert_eq!(fix_get_function(&mut body).as_deref(), Some(uri.as_str()));
        assert_eq!(body["Configuration"]["CodeSha256"], DIGEST);
        assert_eq!(body["Code"]["ResolvedImageUri"], uri.as_str());

        // By tag, or a zip function: as moto answered.
        let mut by_tag = json!({
            "Configuration": {"PackageType": "Image", "CodeSha256": "x"},
            "Code": {"ImageUri": "r/app:latest", "ResolvedImageUri": "r@sha256:x"}
        });
        let before = by_tag.clone();
        fix_get_function(&mut by_tag);
        assert_eq!(by_tag, before);
        let mut zip = json!({"PackageType": "Zip", "CodeSha256": "abc="});
        fix_configuration(&mut zip, &uri);
        assert_eq!(zip["CodeSha256"], "abc=");
    }

    #[test]
    fn image_references_are_split_or_refused() {
        let by_digest =
            image_ref(&format!("127.0.0.1:5000/team/app@sha256:{DIGEST}")).expect("by digest");
        assert_eq!(by_digest.host, "127.0.0.1:5000");
        assert_eq!(by_digest.repository, "team/app");
        assert_eq!(by_digest.reference, format!("sha256:{DIGEST}"));
        let by_tag =
            image_ref("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1").expect("by tag");
        assert_eq!(by_tag.repository, "app");
        assert_eq!(by_tag.reference, "v1");
        assert_eq!(
            image_ref("localhost:5000/app").expect("no tag").reference,
            "latest"
        );
        for bad in [
            "not a reference",
            "app:latest",
            "127.0.0.1:5000/App:v1",
            "127.0.0.1:5000/app@sha256:short",
            "127.0.0.1:5000/",
        ] {
            assert_eq!(image_ref(bad), None, "{bad}");
        }
        assert!(loopback_addr("127.0.0.1:5000").is_some());
        assert!(loopback_addr("localhost:5000").is_some());
        assert!(loopback_addr("[::1]:5000").is_some());
        assert_eq!(loopback_addr("registry.example.com:5000"), None);
        assert_eq!(loopback_addr("10.0.0.1:5000"), None);
    }

    #[test]
    fn the_image_sent_is_read_from_either_call() {
        let uri = format!("r/app@sha256:{DIGEST}");
        assert_eq!(
            image_uri_sent("lambda:CreateFunction", &json!({"Code": {"ImageUri": uri}})),
            Some(uri.clone())
        );
        assert_eq!(
            image_uri_sent("lambda:UpdateFunctionCode", &json!({"ImageUri": uri})),
            Some(uri.clone())
        );
        assert_eq!(
            image_uri_sent("lambda:CreateFunction", &json!({"Code": {"ZipFile": "x"}})),
            None
        );
        assert_eq!(digest_of("r/app:latest"), None);
        assert_eq!(digest_of("r/app@sha256:short"), None);
        assert_eq!(digest_of(&uri), Some(DIGEST));
    }
}
