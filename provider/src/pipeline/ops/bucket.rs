//! The bucket: made secure (public access block, SSE-S3, TLS-only policy)
//! and tagged; taken over or let go when `create_bucket` changes; emptied
//! and deleted on destroy. A bucket the pipeline does not manage is never
//! touched here.

use crate::aws::s3;

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::ownership::{OWNER_TAG, adopt_if_ours};
use super::super::part::Part;
use super::super::policy;
use super::super::run::Run;

/// Makes the bucket, tagged in the same request, or adopts one of its name
/// left by an earlier run of this pipeline, and secures it.
pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let s3c = &run.aws.s3;
    let want = run.want;
    let bucket = &want.bucket_name;
    let step = "creating the bucket";
    let tags = desired::part_tags(want);
    // Look first: in us-east-1 S3 answers 200 to creating a bucket you
    // already own, so CreateBucket alone cannot tell ours from another's.
    // Other regions answer BucketAlreadyOwnedByYou on AWS, but emulators
    // differ (moto answers 200 there too), so look everywhere: one call on
    // the critical path buys never adopting someone else's bucket.
    let existing = match s3::bucket_tags(s3c, bucket)
        .await
        .map_err(ApplyError::aws(step))?
    {
        Some(tags) => Some(tags),
        None => match s3::create_bucket(s3c, bucket, &run.aws.region, &tags, run.stop)
            .await
            .map_err(ApplyError::aws(step))?
        {
            s3::Created::New => None,
            s3::Created::AlreadyOwned => Some(
                s3::bucket_tags(s3c, bucket)
                    .await
                    .map_err(ApplyError::aws(step))?
                    .unwrap_or_default(),
            ),
        },
    };
    let is_new = existing.is_none();
    match existing {
        None => run.update(|r| {
            r.made.insert(Part::Bucket);
            r.bucket_new = true;
        }),
        Some(found) => {
            adopt_if_ours(format!("S3 bucket {bucket:?}"), &found, &want.name)?;
            run.adopted(Part::Bucket);
        }
    }
    // The tags went with CreateBucket; tag again only an adopted bucket
    // (its tags may be old) or where an emulator may have dropped them.
    if !is_new || run.aws.s3_custom_endpoint {
        s3::put_bucket_tags(s3c, bucket, &tags)
            .await
            .map_err(ApplyError::aws("tagging the bucket"))?;
    }
    secure(run, is_new).await
}

/// Public access block, default encryption and, with `require_tls`, the
/// TLS-only statement (added to a policy the bucket has).
async fn secure(run: &Run<'_>, is_new: bool) -> Result<(), ApplyError> {
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    s3::secure_bucket(s3c, bucket, kms_key(run))
        .await
        .map_err(ApplyError::aws(
            "securing the bucket (public access block, encryption)",
        ))?;
    if run.want.require_tls {
        put_tls_statement(run, is_new).await?;
    }
    Ok(())
}

/// The key `bucket_encryption` gives the bucket; none for SSE-S3.
fn kms_key<'r>(run: &'r Run<'_>) -> Option<&'r str> {
    run.want
        .bucket_encryption
        .as_ref()
        .map(|e| e.kms_key_arn.as_str())
}

/// Sets the bucket's default encryption to what `bucket_encryption` says.
pub async fn update_encryption(run: &Run<'_>) -> Result<(), ApplyError> {
    s3::put_default_encryption(&run.aws.s3, &run.want.bucket_name, kms_key(run))
        .await
        .map_err(ApplyError::aws("setting the bucket's default encryption"))
}

async fn put_tls_statement(run: &Run<'_>, is_new: bool) -> Result<(), ApplyError> {
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    let step = "setting the TLS-only bucket policy";
    let partition = policy::partition_of(&run.aws.region);
    // A bucket made this moment has no policy to keep.
    let existing = if is_new {
        None
    } else {
        s3::bucket_policy(s3c, bucket)
            .await
            .map_err(ApplyError::aws(step))?
    };
    let doc = policy::with_tls_statement(existing.as_deref(), partition, bucket);
    s3::put_bucket_policy(s3c, bucket, &doc)
        .await
        .map_err(ApplyError::aws(step))
}

/// Takes over an existing bucket (`create_bucket` turned `true`): the
/// pipeline's tags beside the bucket's own, and the secure defaults.
pub async fn adopt(run: &Run<'_>) -> Result<(), ApplyError> {
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    // Another pipeline's bucket is never taken over; an untagged one is.
    let tags = s3::bucket_tags(s3c, bucket)
        .await
        .map_err(ApplyError::aws("looking up the bucket"))?
        .unwrap_or_default();
    if tags.contains_key(OWNER_TAG) {
        adopt_if_ours(format!("S3 bucket {bucket:?}"), &tags, &run.want.name)?;
    }
    s3::merge_bucket_tags(
        s3c,
        bucket,
        &Default::default(),
        &desired::part_tags(run.want),
    )
    .await
    .map_err(ApplyError::aws("tagging the bucket"))?;
    secure(run, false).await
}

/// Lets go of the bucket (`create_bucket` turned `false`): the tags the
/// pipeline set go; its other settings stay as they are.
pub async fn release(run: &Run<'_>) -> Result<(), ApplyError> {
    let ours = run.prior.map(desired::part_tags).unwrap_or_default();
    s3::merge_bucket_tags(
        &run.aws.s3,
        &run.want.bucket_name,
        &ours,
        &Default::default(),
    )
    .await
    .map_err(ApplyError::aws(
        "removing the pipeline's tags from the bucket",
    ))
}

/// Turns the TLS-only statement on or off, keeping the rest of the policy.
pub async fn update_tls_policy(run: &Run<'_>) -> Result<(), ApplyError> {
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    let step = "changing the TLS-only bucket policy";
    if run.want.require_tls {
        return put_tls_statement(run, false).await;
    }
    let existing = s3::bucket_policy(s3c, bucket)
        .await
        .map_err(ApplyError::aws(step))?;
    match existing.as_deref().and_then(policy::without_tls_statement) {
        Some(rest) => s3::put_bucket_policy(s3c, bucket, &rest).await,
        None => s3::delete_bucket_policy(s3c, bucket).await,
    }
    .map_err(ApplyError::aws(step))
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let prior = run.prior.map(desired::part_tags).unwrap_or_default();
    let want = desired::part_tags(run.want);
    let gone = prior
        .into_iter()
        .filter(|(k, _)| !want.contains_key(k))
        .collect();
    s3::merge_bucket_tags(&run.aws.s3, &run.want.bucket_name, &gone, &want)
        .await
        .map_err(ApplyError::aws("tagging the bucket"))
}

/// Before a destroy: learns whether the bucket exists, and refuses when it
/// holds objects that `force_destroy` does not allow to delete.
pub async fn check_deletable(run: &Run<'_>) -> Result<(), ApplyError> {
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    let exists = s3::bucket_tags(s3c, bucket)
        .await
        .map_err(ApplyError::aws("looking up the bucket"))?
        .is_some();
    run.update(|r| r.bucket_exists = Some(exists));
    if exists && !run.want.force_destroy {
        let non_empty = s3::has_objects(s3c, bucket, super::super::naming::STAGING_PREFIX)
            .await
            .map_err(ApplyError::aws("checking whether the bucket is empty"))?;
        if non_empty {
            return Err(ApplyError::BucketNotEmpty {
                bucket: bucket.clone(),
            });
        }
    }
    Ok(())
}

fn known_gone(run: &Run<'_>) -> bool {
    run.record().bucket_exists == Some(false)
}

/// Deletes every object and version. The TLS-only policy goes first: it
/// must not stand in the way of emptying (some emulators apply it to
/// every request).
pub async fn empty(run: &Run<'_>) -> Result<(), ApplyError> {
    if known_gone(run) {
        return Ok(());
    }
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    s3::delete_bucket_policy(s3c, bucket)
        .await
        .map_err(ApplyError::aws(
            run.step("removing the bucket policy", "rolling back the bucket"),
        ))?;
    run.update(|r| r.bucket_policy_removed = true);
    let n = s3::empty_bucket(s3c, bucket)
        .await
        .map_err(ApplyError::aws(
            run.step("emptying the bucket", "rolling back the bucket"),
        ))?;
    tracing::info!(bucket = %bucket, objects = n, "emptied bucket");
    Ok(())
}

/// Deletes the bucket (its policy first, unless emptying took it off).
pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    if !known_gone(run) {
        let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
        if !run.record().bucket_policy_removed {
            s3::delete_bucket_policy(s3c, bucket)
                .await
                .map_err(ApplyError::aws(
                    run.step("removing the bucket policy", "rolling back the bucket"),
                ))?;
        }
        s3::delete_bucket(s3c, bucket)
            .await
            .map_err(ApplyError::aws(
                run.step("deleting the bucket", "rolling back the bucket"),
            ))?;
    }
    run.removed([Part::Bucket, Part::Notification]);
    Ok(())
}
