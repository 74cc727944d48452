//! ECR's control plane: the repository a pipeline's image goes to, its
//! tags, lifecycle and repository policies, the registry credentials, and
//! the images in it. Blobs and manifests go through the registry's own API
//! (not this module).
//!
//! The SDK retries throttling and 5xx answers. ECR has no eventual
//! consistency the provider meets (a new repository is usable at once, and
//! the repository policy names only Lambda's service principal, which IAM
//! need not propagate), so no call here needs [`super::retry`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{ImageFailureCode, ImageIdentifier, ImageScanningConfiguration, Tag};
use base64::Engine;

use super::AwsError;
use super::error::{err, found};

/// `BatchDeleteImage` takes at most this many images per call.
const DELETE_BATCH: usize = 100;

/// The largest page `ListImages` gives (its default is 100).
const LIST_PAGE: i32 = 1000;

/// A repository as ECR reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    /// `<registry host>/<name>`, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/app`.
    pub uri: String,
    /// The account the registry belongs to.
    pub registry_id: String,
    pub scan_on_push: bool,
}

impl Repository {
    /// The registry host of [`Repository::uri`] (what comes before the
    /// repository's name).
    pub fn registry_host(&self) -> &str {
        self.uri
            .strip_suffix(&self.name)
            .map_or(self.uri.as_str(), |h| h.trim_end_matches('/'))
    }
}

/// One image of a repository: a manifest digest, and one of its tags (an
/// image with several tags is listed once per tag, as ECR lists it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Image {
    pub digest: String,
    pub tag: Option<String>,
}

/// What `GetAuthorizationToken` gives: credentials for the registry at
/// `proxy_endpoint` (`https://<account>.dkr.ecr.<region>.amazonaws.com`),
/// valid until `expires_at`.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    pub username: String,
    pub password: String,
    pub proxy_endpoint: String,
    pub expires_at: Option<SystemTime>,
}

// Hand-written so the password never reaches a log line.
impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("username", &self.username)
            .field("password", &"(sensitive)")
            .field("proxy_endpoint", &self.proxy_endpoint)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

fn repository_of(r: &aws_sdk_ecr::types::Repository) -> Result<Repository, AwsError> {
    let need = |v: Option<&str>, what: &str| {
        v.map(str::to_owned).ok_or_else(|| {
            AwsError::Unexpected(format!("ECR described a repository with no {what}"))
        })
    };
    Ok(Repository {
        name: need(r.repository_name(), "name")?,
        arn: need(r.repository_arn(), "ARN")?,
        uri: need(r.repository_uri(), "URI")?,
        registry_id: need(r.registry_id(), "registry id")?,
        scan_on_push: r
            .image_scanning_configuration()
            .is_some_and(ImageScanningConfiguration::scan_on_push),
    })
}

fn scanning(scan_on_push: bool) -> ImageScanningConfiguration {
    ImageScanningConfiguration::builder()
        .scan_on_push(scan_on_push)
        .build()
}

fn ecr_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

/// The repository `name`, or `None` when there is none.
pub async fn repository(ecr: &Client, name: &str) -> Result<Option<Repository>, AwsError> {
    let r = ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .map_err(err("ecr:DescribeRepositories"));
    let Some(out) = found(r)? else {
        return Ok(None);
    };
    out.repositories()
        .iter()
        .find(|r| r.repository_name() == Some(name))
        .map(repository_of)
        .transpose()
}

/// Creates the repository with `tags` (applied with it) and scan on push;
/// `Ok(None)` when one of that name exists (the caller checks whose it is
/// by its tags).
pub async fn create_repository(
    ecr: &Client,
    name: &str,
    scan_on_push: bool,
    tags: &BTreeMap<String, String>,
) -> Result<Option<Repository>, AwsError> {
    let r = ecr
        .create_repository()
        .repository_name(name)
        .image_scanning_configuration(scanning(scan_on_push))
        .set_tags(Some(ecr_tags(tags)?))
        .send()
        .await
        .map_err(err("ecr:CreateRepository"));
    match r {
        Ok(out) => out
            .repository()
            .map(repository_of)
            .transpose()?
            .ok_or_else(|| AwsError::Unexpected("CreateRepository returned no repository".into()))
            .map(Some),
        Err(e) if e.code() == Some("RepositoryAlreadyExistsException") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Turns scan on push on or off.
pub async fn set_scan_on_push(
    ecr: &Client,
    name: &str,
    scan_on_push: bool,
) -> Result<(), AwsError> {
    ecr.put_image_scanning_configuration()
        .repository_name(name)
        .image_scanning_configuration(scanning(scan_on_push))
        .send()
        .await
        .map_err(err("ecr:PutImageScanningConfiguration"))?;
    Ok(())
}

/// The tags of the repository at `arn`, or `None` when it is gone.
pub async fn tags(ecr: &Client, arn: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let r = ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(err("ecr:ListTagsForResource"));
    Ok(found(r)?.map(|out| {
        out.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }))
}

/// Sets the tags of the repository at `arn` to exactly `want`, given what
/// it has.
pub async fn sync_tags(
    ecr: &Client,
    arn: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    if !diff.remove.is_empty() {
        ecr.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(diff.remove))
            .send()
            .await
            .map_err(err("ecr:UntagResource"))?;
    }
    if !diff.set.is_empty() {
        ecr.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecr_tags(&diff.set)?))
            .send()
            .await
            .map_err(err("ecr:TagResource"))?;
    }
    Ok(())
}

/// Sets the repository's lifecycle policy (JSON).
pub async fn put_lifecycle_policy(ecr: &Client, name: &str, policy: &str) -> Result<(), AwsError> {
    ecr.put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(policy)
        .send()
        .await
        .map_err(err("ecr:PutLifecyclePolicy"))?;
    Ok(())
}

/// The repository's lifecycle policy as ECR returns it, or `None` when it
/// has none (or the repository is gone).
pub async fn lifecycle_policy(ecr: &Client, name: &str) -> Result<Option<String>, AwsError> {
    let r = ecr
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
        .map_err(err("ecr:GetLifecyclePolicy"));
    Ok(found(r)?.and_then(|o| o.lifecycle_policy_text))
}

/// Sets the repository's policy (JSON).
pub async fn set_repository_policy(ecr: &Client, name: &str, policy: &str) -> Result<(), AwsError> {
    ecr.set_repository_policy()
        .repository_name(name)
        .policy_text(policy)
        .send()
        .await
        .map_err(err("ecr:SetRepositoryPolicy"))?;
    Ok(())
}

/// The repository's policy as ECR returns it, or `None` when it has none
/// (or the repository is gone).
pub async fn repository_policy(ecr: &Client, name: &str) -> Result<Option<String>, AwsError> {
    let r = ecr
        .get_repository_policy()
        .repository_name(name)
        .send()
        .await
        .map_err(err("ecr:GetRepositoryPolicy"));
    Ok(found(r)?.and_then(|o| o.policy_text))
}

/// Credentials for the account's registry (`GetAuthorizationToken`): the
/// token is base64 of `user:password`.
pub async fn registry_credentials(ecr: &Client) -> Result<RegistryCredentials, AwsError> {
    let out = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(err("ecr:GetAuthorizationToken"))?;
    let data = out.authorization_data().first().ok_or_else(|| {
        AwsError::Unexpected("GetAuthorizationToken returned no authorization data".into())
    })?;
    let token = data
        .authorization_token()
        .ok_or_else(|| AwsError::Unexpected("GetAuthorizationToken returned no token".into()))?;
    let (username, password) = decode_token(token)?;
    Ok(RegistryCredentials {
        username,
        password,
        proxy_endpoint: data
            .proxy_endpoint()
            .ok_or_else(|| {
                AwsError::Unexpected("GetAuthorizationToken returned no proxy endpoint".into())
            })?
            .to_owned(),
        expires_at: data.expires_at().and_then(|t| {
            let secs = u64::try_from(t.secs()).ok()?;
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
        }),
    })
}

/// `user:password` from ECR's base64 token.
fn decode_token(token: &str) -> Result<(String, String), AwsError> {
    let bad = |why: &str| AwsError::Unexpected(format!("GetAuthorizationToken's token {why}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| bad("is not base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("is not text"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| bad("is not `user:password`"))?;
    Ok((user.to_owned(), password.to_owned()))
}

/// Every image of the repository, all pages; `None` when it is gone.
pub async fn images(ecr: &Client, name: &str) -> Result<Option<Vec<Image>>, AwsError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let r = ecr
            .list_images()
            .repository_name(name)
            .max_results(LIST_PAGE)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(err("ecr:ListImages"));
        let Some(page) = found(r)? else {
            return Ok(None);
        };
        out.extend(page.image_ids().iter().filter_map(|id| {
            Some(Image {
                digest: id.image_digest()?.to_owned(),
                tag: id.image_tag().map(str::to_owned),
            })
        }));
        match page.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => return Ok(Some(out)),
        }
    }
}

/// Deletes the images of these manifest digests (every tag of each), in
/// batches of 100; a digest already gone is fine, as is a repository.
pub async fn delete_images(ecr: &Client, name: &str, digests: &[String]) -> Result<(), AwsError> {
    for batch in digests.chunks(DELETE_BATCH) {
        let r = ecr
            .batch_delete_image()
            .repository_name(name)
            .set_image_ids(Some(
                batch
                    .iter()
                    .map(|d| ImageIdentifier::builder().image_digest(d).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(err("ecr:BatchDeleteImage"));
        let Some(out) = found(r)? else {
            return Ok(());
        };
        if let Some(f) = out
            .failures()
            .iter()
            .find(|f| f.failure_code() != Some(&ImageFailureCode::ImageNotFound))
        {
            return Err(AwsError::Service {
                operation: "ecr:BatchDeleteImage",
                code: f
                    .failure_code()
                    .map_or("Unknown", ImageFailureCode::as_str)
                    .to_owned(),
                message: format!(
                    "{}: {}",
                    f.image_id()
                        .and_then(ImageIdentifier::image_digest)
                        .unwrap_or("an image"),
                    f.failure_reason().unwrap_or("no reason given")
                ),
                status: None,
            });
        }
    }
    Ok(())
}

/// Deletes the repository with every image in it; one already gone is fine.
pub async fn delete_repository(ecr: &Client, name: &str) -> Result<(), AwsError> {
    let r = ecr
        .delete_repository()
        .repository_name(name)
        .force(true)
        .send()
        .await
        .map_err(err("ecr:DeleteRepository"));
    found(r).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_user_and_password() {
        // "AWS:123456789012-auth-token", as moto and ECR encode it.
        let (user, password) =
            decode_token("QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu").expect("decodes");
        assert_eq!(user, "AWS");
        assert_eq!(password, "123456789012-auth-token");
        // A password may hold colons; only the first one splits.
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:a:b");
        assert_eq!(decode_token(&token).expect("decodes").1, "a:b");
        for bad in ["%%%", "bm8tY29sb24="] {
            let e = decode_token(bad).expect_err(bad).to_string();
            assert!(e.contains("GetAuthorizationToken"), "{e}");
        }
    }

    #[test]
    fn the_registry_host_is_the_uri_without_the_name() {
        let r = Repository {
            name: "team/app".into(),
            arn: "arn:aws:ecr:eu-west-1:123456789012:repository/team/app".into(),
            uri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app".into(),
            registry_id: "123456789012".into(),
            scan_on_push: true,
        };
        assert_eq!(
            r.registry_host(),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn credentials_never_show_the_password() {
        let c = RegistryCredentials {
            username: "AWS".into(),
            password: "very-secret".into(),
            proxy_endpoint: "https://x".into(),
            expires_at: None,
        };
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
