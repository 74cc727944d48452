//! A base image's reference and architecture → the manifest of that
//! platform, as a plan needs it: a digest that pins the base.
//!
//! A tag costs one manifest HEAD (the digest it names now). The index or
//! manifest it names is content-addressed, so when the store has that
//! digest it is read there, and only a tag that moved costs a GET of the
//! new index. A pin (`@sha256:…`) whose document is stored needs no request
//! at all. When the registry cannot be reached, a tag's last answer is used
//! with a [`Stale`] warning; without one, it is an error.

use serde_json::Value;

use super::store::{BlobStore, TagAnswer, digest_of};
use super::{
    ACCEPTED, DOCKER_LIST, ImageRef, OCI_INDEX, Registry, RegistryError, describe, is_unreachable,
    is_untrusted,
};

/// A base image resolved for one platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The reference as asked (`host/repo:tag` or `host/repo@sha256:…`).
    pub reference: String,
    /// What the reference names: an index, or the manifest itself.
    pub top_digest: String,
    /// `sha256:…` of the platform's manifest: what pins the base.
    pub manifest_digest: String,
    /// Set when the registry could not be reached and the cache answered.
    pub stale: Option<Stale>,
}

/// The registry could not be reached; the last answer for the tag was used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stale {
    pub registry: String,
    pub reason: String,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the registry {} cannot be reached ({}); using the base image's digest from the \
             cache, which may be out of date",
            self.registry, self.reason
        )
    }
}

/// The platforms an index lists, as `os/architecture[/variant]`.
fn platforms(index: &Value) -> Vec<String> {
    let entries = index["manifests"].as_array().map_or(&[][..], Vec::as_slice);
    entries
        .iter()
        .filter_map(|e| {
            let p = &e["platform"];
            let (os, arch) = (p["os"].as_str()?, p["architecture"].as_str()?);
            Some(match p["variant"].as_str() {
                Some(v) => format!("{os}/{arch}/{v}"),
                None => format!("{os}/{arch}"),
            })
        })
        .collect()
}

/// The entry of `index` for linux/`arch`: `(digest, media type)`.
fn entry_for(index: &Value, arch: &str) -> Option<(String, String)> {
    index["manifests"].as_array()?.iter().find_map(|e| {
        let p = &e["platform"];
        (p["os"] == "linux" && p["architecture"] == arch).then(|| {
            (
                e["digest"].as_str().unwrap_or_default().to_owned(),
                e["mediaType"].as_str().unwrap_or_default().to_owned(),
            )
        })
    })
}

fn is_index(doc: &Value) -> bool {
    doc["manifests"].is_array()
}

impl Registry {
    /// The manifest or index `digest` of `reference`'s repository: from the
    /// store, or fetched (verified against the digest) and stored.
    pub(super) async fn document(
        &self,
        store: &BlobStore,
        reference: &ImageRef,
        digest: &str,
    ) -> Result<Value, RegistryError> {
        let bytes = match store.read_small(digest) {
            Some(b) => b,
            None => {
                let by_digest = reference.inner.clone_with_digest(digest.to_owned());
                let (bytes, _) = self
                    .call(|c, auth| {
                        let r = by_digest.clone();
                        async move { c.pull_manifest_raw(&r, &auth, ACCEPTED).await }
                    })
                    .await
                    .map_err(|e| self.failed(reference, &e))?;
                if digest_of(&bytes) != digest {
                    return Err(RegistryError::Corrupt {
                        reference: reference.to_string(),
                        digest: digest.to_owned(),
                        message: format!("the registry sent {}", digest_of(&bytes)),
                    });
                }
                store.put_small(digest, &bytes)?;
                bytes.to_vec()
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| RegistryError::Registry {
            reference: reference.to_string(),
            message: format!("{digest} is not a manifest or index: {e}"),
        })
    }

    pub(crate) fn failed(
        &self,
        reference: &ImageRef,
        e: &oci_client::errors::OciDistributionError,
    ) -> RegistryError {
        use oci_client::errors::{OciDistributionError as E, OciErrorCode as C};
        let codes: Vec<&C> = match e {
            E::RegistryError { envelope, .. } => envelope.errors.iter().map(|x| &x.code).collect(),
            _ => Vec::new(),
        };
        let not_found = codes.iter().any(|c| {
            matches!(
                c,
                C::ManifestUnknown | C::NameUnknown | C::NotFound | C::BlobUnknown
            )
        }) || matches!(e, E::ServerError { code: 404, .. })
            || matches!(e, E::RequestError(r) if r.status().is_some_and(|s| s.as_u16() == 404));
        let denied = matches!(e, E::UnauthorizedError { .. } | E::AuthenticationFailure(_))
            || matches!(
                e,
                E::ServerError {
                    code: 401 | 403,
                    ..
                }
            )
            || matches!(e, E::RequestError(r) if r.status().is_some_and(|s| matches!(s.as_u16(), 401 | 403)))
            || codes
                .iter()
                .any(|c| matches!(c, C::Unauthorized | C::Denied));
        if is_untrusted(e) {
            RegistryError::Untrusted {
                registry: self.host.clone(),
                message: describe(e),
            }
        } else if is_unreachable(e) {
            RegistryError::Unreachable {
                registry: self.host.clone(),
                reference: reference.to_string(),
                reason: describe(e),
            }
        } else if not_found {
            RegistryError::NotFound {
                reference: reference.to_string(),
                message: describe(e),
            }
        } else if denied {
            RegistryError::Denied {
                reference: reference.to_string(),
                registry: reference.registry().to_owned(),
                message: describe(e),
            }
        } else {
            RegistryError::Registry {
                reference: reference.to_string(),
                message: describe(e),
            }
        }
    }

    /// `reference` for linux/`architecture` (OCI's names: `amd64`,
    /// `arm64`).
    pub async fn resolve(
        &self,
        store: &BlobStore,
        reference: &ImageRef,
        architecture: &str,
    ) -> Result<Resolved, RegistryError> {
        let (top, stale) = match reference.digest() {
            Some(pin) => (pin.to_owned(), None),
            None => self.tag_digest(store, reference).await?,
        };
        let mut digest = top.clone();
        // An index names the platform's manifest; nested indexes are followed.
        for _ in 0..4 {
            let doc = self.document(store, reference, &digest).await?;
            if !is_index(&doc) {
                break;
            }
            match entry_for(&doc, architecture) {
                // A manifest is the answer, unread: pulling reads it.
                Some((d, media_type)) if media_type != OCI_INDEX && media_type != DOCKER_LIST => {
                    digest = d;
                    break;
                }
                Some((d, _)) => digest = d,
                None => {
                    return Err(RegistryError::NoPlatform {
                        reference: reference.to_string(),
                        architecture: architecture.to_owned(),
                        available: platforms(&doc),
                    });
                }
            }
        }
        Ok(Resolved {
            reference: reference.to_string(),
            top_digest: top,
            manifest_digest: digest,
            stale,
        })
    }

    /// What the tag names now (one manifest HEAD), recorded in the store;
    /// its last answer with a warning when the registry cannot be reached.
    async fn tag_digest(
        &self,
        store: &BlobStore,
        reference: &ImageRef,
    ) -> Result<(String, Option<Stale>), RegistryError> {
        let whole = reference.to_string();
        let head = self
            .call(|c, auth| {
                let r = reference.inner.clone();
                async move { c.fetch_manifest_digest(&r, &auth).await }
            })
            .await;
        match head {
            Ok(digest) => {
                // The document first, so an answer always has its blob.
                self.document(store, reference, &digest).await?;
                store.set_tag_answer(&TagAnswer {
                    reference: whole,
                    digest: digest.clone(),
                })?;
                Ok((digest, None))
            }
            Err(e) if is_unreachable(&e) => match store.tag_answer(&whole) {
                Some(answer) => Ok((
                    answer.digest,
                    Some(Stale {
                        registry: self.host.clone(),
                        reason: describe(&e),
                    }),
                )),
                None => Err(self.failed(reference, &e)),
            },
            Err(e) => Err(self.failed(reference, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_names_its_platforms_and_the_entry_of_each() {
        let index = serde_json::json!({
            "manifests": [
                {"digest": "sha256:a", "mediaType": "m", "platform": {"os": "linux", "architecture": "amd64"}},
                {"digest": "sha256:b", "mediaType": "m", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"digest": "sha256:c", "mediaType": "m", "platform": {"os": "windows", "architecture": "amd64"}}
            ]
        });
        assert!(is_index(&index));
        assert_eq!(entry_for(&index, "arm64").unwrap().0, "sha256:b");
        assert_eq!(entry_for(&index, "amd64").unwrap().0, "sha256:a");
        assert_eq!(entry_for(&index, "s390x"), None);
        assert_eq!(
            platforms(&index),
            ["linux/amd64", "linux/arm64/v8", "windows/amd64"]
        );
    }
}
