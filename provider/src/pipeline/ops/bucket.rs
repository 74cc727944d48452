//! The bucket: made secure (public access block, SSE-S3, TLS-only policy)
//! and tagged; emptied and deleted on destroy.

use crate::aws::s3;

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::ownership::adopt_if_ours;
use super::super::parts::Part;
use super::super::policy;
use super::super::run::Run;

/// Makes the bucket, or adopts one of its name left by an earlier run of
/// this pipeline, and secures it.
pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let s3c = &run.aws.s3;
    let want = run.want;
    let bucket = &want.bucket_name;
    let step = "creating the bucket";
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
        None => match s3::create_bucket(s3c, bucket, &run.aws.region)
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
    match existing {
        None => run.update(|r| {
            r.made.insert(Part::Bucket);
            r.bucket_new = true;
        }),
        Some(tags) => {
            adopt_if_ours(format!("S3 bucket {bucket:?}"), &tags, &want.name)?;
            run.adopted(Part::Bucket);
        }
    }
    // Tags first: the ownership tag is what lets a run interrupted from
    // here on adopt the bucket instead of refusing it.
    s3::put_bucket_tags(s3c, bucket, &desired::part_tags(want))
        .await
        .map_err(ApplyError::aws("tagging the bucket"))?;
    s3::secure_bucket(s3c, bucket)
        .await
        .map_err(ApplyError::aws(
            "securing the bucket (public access block, encryption)",
        ))?;
    if want.require_tls {
        let doc = policy::tls_only_bucket_policy(policy::partition_of(&run.aws.region), bucket);
        s3::put_bucket_policy(s3c, bucket, &doc)
            .await
            .map_err(ApplyError::aws("setting the TLS-only bucket policy"))?;
    }
    Ok(())
}

/// Turns the TLS-only bucket policy on or off.
pub async fn update_tls_policy(run: &Run<'_>) -> Result<(), ApplyError> {
    let (s3c, bucket) = (&run.aws.s3, &run.want.bucket_name);
    let step = "changing the TLS-only bucket policy";
    if run.want.require_tls {
        let doc = policy::tls_only_bucket_policy(policy::partition_of(&run.aws.region), bucket);
        s3::put_bucket_policy(s3c, bucket, &doc).await
    } else {
        s3::delete_bucket_policy(s3c, bucket).await
    }
    .map_err(ApplyError::aws(step))
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    s3::put_bucket_tags(
        &run.aws.s3,
        &run.want.bucket_name,
        &desired::part_tags(run.want),
    )
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
        let non_empty = s3::has_objects(s3c, bucket)
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
