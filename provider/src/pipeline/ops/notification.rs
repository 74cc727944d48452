//! The pipeline's notification configurations on the bucket, written
//! beside whatever else the bucket notifies (queues, topics, other
//! functions), which stays exactly as it is.

use crate::aws::retry::{Backoff, until_consistent};
use crate::aws::{AwsError, s3};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::naming;
use super::super::parts::Part;
use super::super::run::Run;

/// S3 checks that it may invoke the function when the notification is put;
/// a permission added a moment ago may not be visible to it yet.
fn permission_not_visible(e: &AwsError) -> bool {
    e.code() == Some("InvalidArgument") && e.message().contains("Unable to validate")
}

/// Writes the pipeline's triggers. On a bucket this run made there is
/// nothing else to keep, so the configuration is written without reading
/// it first (one call fewer on the create's critical path).
pub async fn put(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let triggers = desired::triggers(want);
    let prefix = naming::notification_id_prefix(&want.name);
    let bucket_new = run.record().bucket_new;
    until_consistent(
        "s3:PutBucketNotificationConfiguration",
        Backoff::PROPAGATION,
        run.stop,
        permission_not_visible,
        || async {
            if bucket_new {
                s3::put_lambda_triggers(&run.aws.s3, &want.bucket_name, &triggers).await
            } else {
                s3::replace_lambda_triggers(&run.aws.s3, &want.bucket_name, &prefix, &triggers)
                    .await
            }
        },
    )
    .await
    .map_err(ApplyError::aws("configuring the bucket notification"))?;
    run.made(Part::Notification);
    Ok(())
}

/// Removes the pipeline's configurations, keeping everyone else's.
pub async fn remove(run: &Run<'_>) -> Result<(), ApplyError> {
    if run.record().bucket_exists != Some(false) {
        let want = run.want;
        let prefix = naming::notification_id_prefix(&want.name);
        s3::replace_lambda_triggers(&run.aws.s3, &want.bucket_name, &prefix, &[])
            .await
            .map_err(ApplyError::aws(run.step(
                "removing the bucket notification",
                "rolling back the bucket notification",
            )))?;
    }
    run.removed([Part::Notification]);
    Ok(())
}
