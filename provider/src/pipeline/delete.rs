//! Destroy: refuse early when a non-empty bucket would be lost, then remove
//! every part; anything already gone is fine, so a retried destroy converges.

use crate::aws::{AwsClients, iam, lambda, s3};

use super::errors::ApplyError;
use super::model::Spec;

/// Deletes the pipeline. On error nothing is claimed deleted: the caller
/// keeps the prior state, and the next destroy picks up where this stopped.
pub async fn delete(aws: &AwsClients, spec: &Spec) -> Result<(), Vec<ApplyError>> {
    // Check before touching anything, so a refused destroy deletes nothing.
    let bucket_exists = s3::bucket_tags(&aws.s3, &spec.bucket)
        .await
        .map_err(|e| vec![ApplyError::aws("looking up the bucket")(e)])?
        .is_some();
    if bucket_exists && !spec.force_destroy {
        let non_empty = s3::has_objects(&aws.s3, &spec.bucket)
            .await
            .map_err(|e| vec![ApplyError::aws("checking whether the bucket is empty")(e)])?;
        if non_empty {
            return Err(vec![ApplyError::BucketNotEmpty {
                bucket: spec.bucket.clone(),
            }]);
        }
    }

    let bucket = async {
        if !bucket_exists {
            return Ok(());
        }
        s3::replace_lambda_triggers(&aws.s3, &spec.bucket, &spec.notification_prefix(), &[])
            .await
            .map_err(ApplyError::aws("removing the bucket notification"))?;
        // The TLS-only policy goes first: it must not stand in the way of
        // emptying the bucket (and some emulators apply it to everything).
        s3::delete_bucket_policy(&aws.s3, &spec.bucket)
            .await
            .map_err(ApplyError::aws("removing the bucket policy"))?;
        if spec.force_destroy {
            let n = s3::empty_bucket(&aws.s3, &spec.bucket)
                .await
                .map_err(ApplyError::aws("emptying the bucket"))?;
            tracing::info!(bucket = %spec.bucket, objects = n, "emptied bucket");
        }
        s3::delete_bucket(&aws.s3, &spec.bucket)
            .await
            .map_err(ApplyError::aws("deleting the bucket"))
    };
    let function = async {
        lambda::delete_function(&aws.lambda, &spec.function_name)
            .await
            .map_err(ApplyError::aws("deleting the function"))
    };
    let role = async {
        iam::delete_role(&aws.iam, &spec.role_name)
            .await
            .map_err(ApplyError::aws("deleting the role"))
    };
    let (b, f, r) = tokio::join!(bucket, function, role);
    let errors: Vec<ApplyError> = [b, f, r].into_iter().filter_map(Result::err).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
