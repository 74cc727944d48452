//! IAM: the function's execution role and its one inline policy.

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;

use super::AwsError;
use super::error::{err, found};

/// A role as IAM reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
}

/// IAM returns policy documents URL-encoded.
fn decode_document(doc: &str) -> String {
    percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .map_or_else(|_| doc.to_owned(), |s| s.into_owned())
}

fn tags_of(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(AwsError::from)
        })
        .collect()
}

/// Creates the role; `Ok(None)` when a role of that name already exists.
pub async fn create_role(
    iam: &Client,
    name: &str,
    trust_policy: &str,
    description: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Option<Role>, AwsError> {
    let r = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy)
        .description(description)
        .set_tags(Some(tags_of(tags)?))
        .send()
        .await
        .map_err(err("iam:CreateRole"));
    match r {
        Ok(out) => {
            let arn = out.role().map(|r| r.arn().to_owned()).unwrap_or_default();
            Ok(Some(Role {
                arn,
                tags: tags.clone(),
            }))
        }
        Err(e) if e.code() == Some("EntityAlreadyExists") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The role, or `None` when it does not exist.
pub async fn get_role(iam: &Client, name: &str) -> Result<Option<Role>, AwsError> {
    let r = iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(err("iam:GetRole"));
    Ok(found(r)?.and_then(|out| out.role).map(|role| Role {
        arn: role.arn().to_owned(),
        tags: role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    }))
}

pub async fn put_inline_policy(
    iam: &Client,
    role: &str,
    policy_name: &str,
    document: &str,
) -> Result<(), AwsError> {
    iam.put_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .policy_document(document)
        .send()
        .await
        .map_err(err("iam:PutRolePolicy"))?;
    Ok(())
}

/// The inline policy's document (decoded), or `None` when the role or the
/// policy does not exist.
pub async fn inline_policy(
    iam: &Client,
    role: &str,
    policy_name: &str,
) -> Result<Option<String>, AwsError> {
    let r = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .send()
        .await
        .map_err(err("iam:GetRolePolicy"));
    Ok(found(r)?.map(|out| decode_document(out.policy_document())))
}

/// The role's inline policy names and attached managed policy ARNs.
pub async fn role_policies(
    iam: &Client,
    role: &str,
) -> Result<(Vec<String>, Vec<String>), AwsError> {
    let (inline, attached) = tokio::join!(
        iam.list_role_policies().role_name(role).send(),
        iam.list_attached_role_policies().role_name(role).send(),
    );
    let inline = inline.map_err(err("iam:ListRolePolicies"))?;
    let attached = attached.map_err(err("iam:ListAttachedRolePolicies"))?;
    Ok((
        inline.policy_names().to_vec(),
        attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect(),
    ))
}

/// Deletes one inline policy; a role or policy already gone is fine.
pub async fn delete_inline_policy(
    iam: &Client,
    role: &str,
    policy_name: &str,
) -> Result<(), AwsError> {
    let r = iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .send()
        .await
        .map_err(err("iam:DeleteRolePolicy"));
    found(r).map(|_| ())
}

/// Sets the role's tags to exactly `want`, given what it has now.
pub async fn sync_tags(
    iam: &Client,
    role: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    let stale = diff.remove;
    if !stale.is_empty() {
        iam.untag_role()
            .role_name(role)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(err("iam:UntagRole"))?;
    }
    let changed = diff.set;
    if !changed.is_empty() {
        iam.tag_role()
            .role_name(role)
            .set_tags(Some(tags_of(&changed)?))
            .send()
            .await
            .map_err(err("iam:TagRole"))?;
    }
    Ok(())
}

/// Deletes the role with its inline and attached policies; a role that is
/// already gone is fine.
pub async fn delete_role(iam: &Client, role: &str) -> Result<(), AwsError> {
    let listed = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(err("iam:ListRolePolicies"));
    let Some(listed) = found(listed)? else {
        return Ok(());
    };
    for name in listed.policy_names() {
        let r = iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(err("iam:DeleteRolePolicy"));
        found(r)?;
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(err("iam:ListAttachedRolePolicies"));
    if let Some(attached) = found(attached)? {
        for p in attached.attached_policies() {
            if let Some(arn) = p.policy_arn() {
                let r = iam
                    .detach_role_policy()
                    .role_name(role)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(err("iam:DetachRolePolicy"));
                found(r)?;
            }
        }
    }
    let r = iam
        .delete_role()
        .role_name(role)
        .send()
        .await
        .map_err(err("iam:DeleteRole"));
    found(r).map(|_| ())
}
