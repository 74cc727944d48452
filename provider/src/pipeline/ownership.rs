//! Which parts are this pipeline's: the ownership tag every part carries,
//! and the one check that decides whether a part found with our name is
//! adopted or refused.

use std::collections::BTreeMap;

use super::errors::ApplyError;

/// The import id prefix that asks for an adoption: the pipeline takes over
/// parts wired by hand (`adopt:<function name>`).
pub const ADOPT_PREFIX: &str = "adopt:";

/// The tag naming the pipeline a part belongs to.
pub const OWNER_TAG: &str = "eventpipe:pipeline";
/// On the function: the pipeline's bucket (for import).
pub const BUCKET_TAG: &str = "eventpipe:bucket";
/// On the function: the planned `source_code_hash` of the deployed code.
pub const SOURCE_HASH_TAG: &str = "eventpipe:source-hash";
/// On the function: the source directory (when it fits a tag value).
pub const SOURCE_DIR_TAG: &str = "eventpipe:source-dir";
/// On the function, present (`true`) when the pipeline may delete a
/// non-empty bucket.
pub const FORCE_DESTROY_TAG: &str = "eventpipe:force-destroy";
/// On the function, present (`true`) when the failure queue the pipeline
/// made may be deleted while it holds failed events
/// (`on_failure.force_delete`).
pub const FAILURE_QUEUE_FORCE_DELETE_TAG: &str = "eventpipe:failure-queue-force-delete";
/// On the function, present (`true`) when the pipeline does not manage its
/// bucket (`create_bucket = false`).
pub const UNMANAGED_BUCKET_TAG: &str = "eventpipe:bucket-unmanaged";
/// On the function, when the role's name is not the one derived from the
/// pipeline's name.
pub const ROLE_TAG: &str = "eventpipe:role";
/// On an image function: its `runtime` (Lambda reports none for an image).
pub const RUNTIME_TAG: &str = "eventpipe:runtime";
/// On an image function: `image_base_digest`, the base it was built on.
pub const BASE_DIGEST_TAG: &str = "eventpipe:base-digest";
/// On an image function, when `image.base_image` is set (and fits a tag
/// value).
pub const BASE_IMAGE_TAG: &str = "eventpipe:base-image";

/// Tag keys the provider manages itself; never shown in `tags_all`.
pub fn is_internal_tag(key: &str) -> bool {
    key.starts_with("eventpipe:")
}

/// The user's tags among a part's tags.
pub fn user_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !is_internal_tag(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The end of a refusal that a plain import or a create gives for a part
/// without an ownership tag: how to take over a pipeline wired by hand.
pub const ADOPT_HINT: &str = "to take over a pipeline wired by hand, import it with the id \
                              adopt:<function-name>";

/// Adopts a part found with our name when its ownership tag names
/// `pipeline`; refuses it, saying who owns it, otherwise. `what` names the
/// part for the message, e.g. `S3 bucket "orders"`.
pub fn adopt_if_ours(
    what: String,
    tags: &BTreeMap<String, String>,
    pipeline: &str,
) -> Result<(), ApplyError> {
    if tags.get(OWNER_TAG).map(String::as_str) == Some(pipeline) {
        tracing::info!(part = %what, "adopting a part left by an earlier run");
        return Ok(());
    }
    Err(ApplyError::NotOurs {
        what,
        pipeline: pipeline.to_owned(),
        owner: owner_note(tags, pipeline),
    })
}

/// Who owns a part that is not ours, and what the user can do about it.
fn owner_note(tags: &BTreeMap<String, String>, pipeline: &str) -> String {
    match tags.get(OWNER_TAG) {
        Some(owner) => format!(
            " (its {OWNER_TAG} tag says it belongs to pipeline {owner:?}); choose another name"
        ),
        None => format!(
            " (it has no {OWNER_TAG} tag); choose another name, or, if an interrupted apply of \
             this pipeline left it behind, tag it {OWNER_TAG} = {pipeline:?} so the next apply \
             adopts it; {ADOPT_HINT}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_part_tagged_with_this_pipeline_is_adopted() {
        let ours = BTreeMap::from([(OWNER_TAG.to_owned(), "orders".to_owned())]);
        assert!(adopt_if_ours("role".into(), &ours, "orders").is_ok());
        let err = adopt_if_ours("role".into(), &ours, "billing").unwrap_err();
        assert!(
            err.to_string().contains("belongs to pipeline \"orders\""),
            "{err}"
        );
        let err = adopt_if_ours("role".into(), &BTreeMap::new(), "orders").unwrap_err();
        assert!(
            err.to_string().contains("it has no eventpipe:pipeline tag"),
            "{err}"
        );
    }
}
