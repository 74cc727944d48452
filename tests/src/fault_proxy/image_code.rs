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
