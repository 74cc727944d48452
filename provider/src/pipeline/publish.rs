//! The function's image in the pipeline's ECR repository (issue 25): a
//! built image (an OCI layout written by `package::image::build`) pushed
//! under its tag, and the images the pipeline pushed removed again.
//!
//! These take plain arguments (the clients, the repository as
//! `aws::ecr` returns it, a layout and a digest), not a `Run`: the state
//! has no image settings yet. The resource's steps call them once it has.
//!
//! - [`publish`]: a login from `ecr:GetAuthorizationToken` (the token is
//!   `user:password`, given to the registry client as
//!   `Credentials::Basic`), then the registry client's push: a HEAD per
//!   blob, only the missing ones uploaded, the manifest under the tag. The
//!   registry host is `endpoints.ecr_registry` when the provider sets it,
//!   else the repository's own (`<account>.dkr.ecr.<region>.amazonaws.com`).
//!   The function deploys the image by digest ([`Published::image_uri`]).
//! - [`remove_pushed`]: the manifests the pipeline pushed, by digest,
//!   through `ecr:BatchDeleteImage`, so a repository the pipeline shares
//!   (a given `repository_name`) keeps everyone else's images. ECR's
//!   registry API does not delete manifests; its control plane does, and
//!   deletes every tag of each.
//!
//! A token is asked for once per publish and used at once, whatever
//! expiry it states: ECR gives 12 hours, but an emulator may give a time
//! long past (moto: 2015-01-01), and renewing by it would never end.

use std::path::Path;
use std::time::SystemTime;

use crate::aws::{AwsClients, ecr};
use crate::registry::{self, Credentials, Registry};

pub use super::errors::PublishError;

/// How many hex digits of `source_code_hash` tag an image.
const TAG_DIGITS: usize = 12;

/// An image pushed to the pipeline's repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// `<registry>/<repository>@sha256:<hex>`: what the function deploys.
    pub image_uri: String,
    /// `sha256:<hex>` of the manifest: what [`remove_pushed`] deletes.
    pub digest: String,
    /// The tag the manifest was pushed under.
    pub tag: String,
    /// The blobs the registry lacked and was sent, and their bytes plus the
    /// manifest's (0 blobs when it had the image already).
    pub blobs_uploaded: usize,
    pub bytes_uploaded: u64,
}

/// The tag of the image built from a source whose `source_code_hash` is
/// `hash`: its first 12 hex digits.
pub fn image_tag(hash: &str) -> Result<String, PublishError> {
    let tag = hash.get(..TAG_DIGITS).unwrap_or_default();
    if tag.len() == TAG_DIGITS && tag.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(tag.to_ascii_lowercase())
    } else {
        Err(PublishError::BadHash(hash.to_owned()))
    }
}

/// The registry host images of `repository` go to: the host of
/// `ecr_registry` (`https://host[:port]`, `http://host[:port]`) when set,
/// else the repository's own.
pub fn registry_host(
    ecr_registry: Option<&str>,
    repository: &ecr::Repository,
) -> Result<String, PublishError> {
    let Some(url) = ecr_registry else {
        return Ok(repository.registry_host().to_owned());
    };
    let bad = |reason: &str| PublishError::RegistrySetting {
        value: url.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("it does not start with https:// or http://"))?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.is_empty() {
        return Err(bad("it names no host"));
    }
    if host.contains(['/', '?', '#', '@']) || host.contains(char::is_whitespace) {
        return Err(bad("a registry is a host and port, with no path"));
    }
    Ok(host.to_owned())
}

/// Registry credentials for the account, from `ecr:GetAuthorizationToken`.
/// Used at once, whatever expiry the token states (see the module's notes).
async fn login(clients: &AwsClients) -> Result<Credentials, PublishError> {
    let c = ecr::registry_credentials(&clients.ecr)
        .await
        .map_err(PublishError::Login)?;
    if c.expires_at.is_some_and(|t| t <= SystemTime::now()) {
        tracing::debug!(
            endpoint = %c.proxy_endpoint,
            "the registry token states an expiry already past; using it once, as given"
        );
    }
    Ok(Credentials::Basic {
        username: c.username,
        password: c.password,
    })
}

/// Pushes the image whose manifest is `manifest_digest` in the OCI layout
/// at `layout` to `repository` under `tag`, logged in with
/// `ecr:GetAuthorizationToken`; only the blobs the registry lacks are sent.
pub async fn publish(
    clients: &AwsClients,
    repository: &ecr::Repository,
    layout: &Path,
    manifest_digest: &str,
    tag: &str,
) -> Result<Published, PublishError> {
    let host = registry_host(clients.ecr_registry.as_deref(), repository)?;
    let push_failed = |source| PublishError::Push {
        repository: repository.name.clone(),
        source,
    };
    let target = registry::parse_reference(&format!("{host}/{}:{tag}", repository.name))
        .map_err(push_failed)?;
    let credentials = login(clients).await?;
    let client = Registry::with_credentials(host.clone(), &credentials);
    let pushed = client
        .push(layout, manifest_digest, &target)
        .await
        .map_err(push_failed)?;
    tracing::info!(
        repository = %repository.name,
        tag,
        digest = %pushed.digest,
        blobs = pushed.blobs_uploaded,
        bytes = pushed.bytes_uploaded,
        "published the function's image"
    );
    Ok(Published {
        image_uri: format!("{host}/{}@{}", repository.name, pushed.digest),
        digest: pushed.digest,
        tag: tag.to_owned(),
        blobs_uploaded: pushed.blobs_uploaded,
        bytes_uploaded: pushed.bytes_uploaded,
    })
}

/// Deletes the images the pipeline pushed (`digests`, `sha256:…`) from the
/// repository `name`, every tag of each; the other images stay. A digest
/// or a repository already gone is fine.
pub async fn remove_pushed(
    clients: &AwsClients,
    name: &str,
    digests: &[String],
) -> Result<(), PublishError> {
    if digests.is_empty() {
        return Ok(());
    }
    ecr::delete_images(&clients.ecr, name, digests)
        .await
        .map_err(|source| PublishError::Remove {
            repository: name.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> ecr::Repository {
        ecr::Repository {
            name: "team/app".into(),
            arn: "arn:aws:ecr:eu-west-1:123456789012:repository/team/app".into(),
            uri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app".into(),
            registry_id: "123456789012".into(),
            scan_on_push: true,
        }
    }

    #[test]
    fn the_tag_is_the_first_twelve_hex_digits_of_the_hash() {
        let hash = "0123456789abCDEF".repeat(4);
        assert_eq!(image_tag(&hash).expect("a tag"), "0123456789ab");
        for bad in ["", "0123456789a", "0123456789ag0000", "é123456789abc"] {
            assert!(
                matches!(image_tag(bad), Err(PublishError::BadHash(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_registry_is_the_setting_s_host_else_the_repository_s() {
        let repo = repository();
        assert_eq!(
            registry_host(None, &repo).expect("host"),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        );
        for (url, host) in [
            ("http://127.0.0.1:5000", "127.0.0.1:5000"),
            ("https://registry.example:443/", "registry.example:443"),
            ("https://vpce.example", "vpce.example"),
        ] {
            assert_eq!(registry_host(Some(url), &repo).expect(url), host);
        }
        for url in [
            "127.0.0.1:5000",
            "ftp://x",
            "https://",
            "https://h/v2",
            "https://u@h",
        ] {
            let e = registry_host(Some(url), &repo).expect_err(url);
            assert!(matches!(e, PublishError::RegistrySetting { .. }), "{url}");
            assert!(e.to_string().contains(url), "{e}");
        }
    }
}
