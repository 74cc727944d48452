//! What replay needs to know of a pipeline, and no more: its function
//! (with the ownership check `terraform import NAME` makes,
//! [`import::check_owner`]), where its failed events wait and where they
//! go back to. One round of concurrent calls: the function, its invoke
//! configuration and mappings, and the URLs of the queues named after the
//! pipeline; a failure queue named otherwise costs one more lookup.

use crate::aws::{AwsClients, lambda, mappings, sqs};
use crate::pipeline::{import, naming};

use super::super::error::CliError;

/// The pipeline as replay sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub function: String,
    pub role_arn: String,
    pub timeout_s: i32,
    /// The stream the function reads, when it reads one.
    pub stream_arn: Option<String>,
    /// The pipeline's event queue, with `delivery = "queue"`.
    pub event_queue_url: Option<String>,
    /// The failure queue: its URL and name.
    pub failure_queue: (String, String),
}

/// The account of an ARN (its fifth field).
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The name of a queue ARN (its last field).
fn name_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// Pipeline `name`, as far as replay needs it.
pub async fn find(aws: &AwsClients, name: &str) -> Result<Found, CliError> {
    let function_name = naming::function_name(name);
    let failure_name = naming::failure_queue_name(name);
    let event_name = naming::event_queue_name(name);
    // Boxed: the SDK's futures are large, and joined unboxed they can
    // overflow a worker thread's stack in a debug build.
    let (function, config, maps, failure_url, event_url) = tokio::join!(
        Box::pin(lambda::get_function(&aws.lambda, &function_name)),
        Box::pin(lambda::invoke_config(&aws.lambda, &function_name)),
        Box::pin(mappings::mappings(&aws.lambda, &function_name)),
        Box::pin(sqs::queue_url(&aws.sqs, &failure_name)),
        Box::pin(sqs::queue_url(&aws.sqs, &event_name)),
    );
    // The function decides first: no such pipeline, or not ours, is the
    // answer whatever the other calls said.
    let f = function?.ok_or_else(|| CliError::NoPipeline {
        name: function_name.clone(),
        region: aws.region.clone(),
    })?;
    import::check_owner(name, &function_name, &f).map_err(|e| CliError::from_import(name, e))?;
    let account = account_of(&f.arn).unwrap_or_default().to_owned();
    let own = |arn: &str, queue: &str| name_of(arn) == queue && account_of(arn) == Some(&account);
    let maps = maps?;
    let stream = maps.iter().find(|m| m.source_arn.contains(":kinesis:"));
    let event_queue_url = if maps
        .iter()
        .any(|m| m.source_arn.contains(":sqs:") && own(&m.source_arn, &event_name))
    {
        event_url?
    } else {
        None
    };
    // The failure queue: the invoke configuration's destination, else the
    // event queue's dead-letter queue, else the stream mapping's.
    let mut arn = config?.and_then(|c| c.on_failure);
    if arn.is_none()
        && let Some(url) = &event_queue_url
    {
        arn = sqs::queue(&aws.sqs, url)
            .await?
            .and_then(|q| q.settings.redrive.map(|(dlq, _)| dlq));
    }
    if arn.is_none() {
        arn = stream.and_then(|m| m.settings.on_failure.clone());
    }
    let Some(arn) = arn else {
        return Err(CliError::Pipeline {
            name: name.to_owned(),
            message: "it has no failure queue (no on_failure block): nothing to replay".into(),
        });
    };
    let queue = name_of(&arn).to_owned();
    let url = if own(&arn, &failure_name) {
        failure_url?
    } else {
        sqs::queue_url_of_arn(&aws.sqs, &arn).await?
    };
    let Some(url) = url else {
        return Err(CliError::Pipeline {
            name: name.to_owned(),
            message: format!(
                "its failure queue {queue} does not exist (deleted outside Terraform?); \
                 `terraform apply` makes it again"
            ),
        });
    };
    Ok(Found {
        function: function_name,
        role_arn: f.settings.role_arn.clone(),
        timeout_s: f.settings.timeout_s,
        stream_arn: stream.map(|m| m.source_arn.clone()),
        event_queue_url,
        failure_queue: (url, queue),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_names_come_from_queue_arns() {
        let arn = "arn:aws:sqs:us-east-1:123456789012:orders-failed";
        assert_eq!(account_of(arn), Some("123456789012"));
        assert_eq!(name_of(arn), "orders-failed");
        assert_eq!(account_of("arn:aws:s3:::b"), None);
    }
}
