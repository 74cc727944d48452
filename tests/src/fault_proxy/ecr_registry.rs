//! ECR's control plane and its registry as one store, where moto 5.2.5
//! keeps them apart: in AWS, `BatchDeleteImage` deletes images however
//! they came in (most often pushed through the registry API). moto serves
//! no registry, and its ECR knows only images stored with its own
//! `PutImage`; the tests push to their `docker-registry`
//! (`endpoints.ecr_registry`), so moto's `BatchDeleteImage` finds none of
//! them and reports each as an `ImageNotFound` failure.
//!
//! With `ecr_images_in`, the proxy forwards the call to moto and then
//! deletes, through the registry's API (`DELETE
//! /v2/<repository>/manifests/<digest>`, which the tests' registry allows:
//! `storage.delete.enabled`), each digest moto did not find, in the
//! repository of the same name; those the registry held move from
//! `failures` to `imageIds`, as ECR answers. A repository moto does not
//! know stays `RepositoryNotFoundException`, as moto answers. A
//! `DeleteRepository` with `force` that moto carried out deletes, likewise,
//! every tagged manifest of that repository in the registry.

use serde_json::{Value, json};

/// The repository and the digests a `BatchDeleteImage` body names.
pub(super) fn request(sent: &[u8]) -> Option<(String, Vec<String>)> {
    let body: Value = serde_json::from_slice(sent).ok()?;
    let repository = body["repositoryName"].as_str()?.to_owned();
    let digests = body["imageIds"]
        .as_array()?
        .iter()
        .filter_map(|id| id["imageDigest"].as_str().map(str::to_owned))
        .collect();
    Some((repository, digests))
}

/// The repository a `DeleteRepository` body names, when it asks for
/// `force` (its images deleted with it).
pub(super) fn forced_delete(sent: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(sent).ok()?;
    if body["force"].as_bool() != Some(true) {
        return None;
    }
    body["repositoryName"].as_str().map(str::to_owned)
}

/// The tags a registry's `tags/list` answer names (`"tags": null` when the
/// repository has none left).
pub(super) fn tags(answer: &str) -> Vec<String> {
    serde_json::from_str::<Value>(answer)
        .ok()
        .and_then(|v| {
            v["tags"].as_array().map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// The digests moto reported as `ImageNotFound` in its answer.
pub(super) fn not_found(answer: &Value) -> Vec<String> {
    answer["failures"]
        .as_array()
        .map(|failures| {
            failures
                .iter()
                .filter(|f| f["failureCode"] == "ImageNotFound")
                .filter_map(|f| f["imageId"]["imageDigest"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// moto's answer with the digests the registry deleted moved from
/// `failures` to `imageIds`.
pub(super) fn merged(mut answer: Value, deleted: &[String]) -> Value {
    let kept: Vec<Value> = answer["failures"]
        .as_array()
        .map(|failures| {
            failures
                .iter()
                .filter(|f| {
                    !f["imageId"]["imageDigest"]
                        .as_str()
                        .is_some_and(|d| deleted.iter().any(|x| x == d))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut ids = match answer.get_mut("imageIds").map(Value::take) {
        Some(Value::Array(ids)) => ids,
        _ => Vec::new(),
    };
    ids.extend(deleted.iter().map(|d| json!({ "imageDigest": d })));
    answer["imageIds"] = Value::Array(ids);
    answer["failures"] = Value::Array(kept);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forced_delete_names_its_repository_and_the_tags_are_read() {
        assert_eq!(
            forced_delete(br#"{"repositoryName":"r","force":true}"#).as_deref(),
            Some("r")
        );
        assert_eq!(
            forced_delete(br#"{"repositoryName":"r","force":false}"#),
            None
        );
        assert_eq!(forced_delete(br#"{"repositoryName":"r"}"#), None);
        assert_eq!(tags(r#"{"name":"r","tags":["a","b"]}"#), ["a", "b"]);
        assert!(tags(r#"{"name":"r","tags":null}"#).is_empty());
        assert!(tags("not json").is_empty());
    }

    #[test]
    fn digests_the_registry_deleted_are_reported_deleted() {
        let (repo, digests) = request(
            br#"{"repositoryName":"r","imageIds":[{"imageDigest":"sha256:a"},{"imageDigest":"sha256:b"},{"imageTag":"t"}]}"#,
        )
        .expect("request");
        assert_eq!(repo, "r");
        assert_eq!(digests, ["sha256:a", "sha256:b"]);
        let moto = json!({"imageIds": [], "failures": [
            {"imageId": {"imageDigest": "sha256:a"}, "failureCode": "ImageNotFound",
             "failureReason": "Requested image not found"},
            {"imageId": {"imageDigest": "sha256:b"}, "failureCode": "ImageNotFound",
             "failureReason": "Requested image not found"}]});
        assert_eq!(not_found(&moto), ["sha256:a", "sha256:b"]);
        let out = merged(moto, &["sha256:a".to_owned()]);
        assert_eq!(out["imageIds"], json!([{"imageDigest": "sha256:a"}]));
        assert_eq!(
            out["failures"].as_array().expect("failures").len(),
            1,
            "{out}"
        );
        assert_eq!(out["failures"][0]["imageId"]["imageDigest"], "sha256:b");
    }
}
