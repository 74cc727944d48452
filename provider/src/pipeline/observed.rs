//! What a refresh found in AWS for one pipeline ([`Observed`]), as plain
//! values: `refresh::observe` reads it, the parts' `merge` decisions write
//! it into the state.

use std::collections::BTreeMap;

use crate::aws::{kinesis, lambda, logs, mappings, s3, sqs};

use super::part::{Part, PartSet};

/// What a notification on the bucket is, and where it points.
pub use crate::aws::s3::{Destination, Trigger};

/// A CloudWatch alarm as CloudWatch describes it.
pub use crate::aws::cloudwatch::Alarm;

/// An ECR repository as ECR describes it.
pub use crate::aws::ecr::Repository;

/// What AWS holds for one pipeline.
#[derive(Debug, Default)]
pub struct Observed {
    /// The parts that exist.
    pub found: PartSet,
    /// The bucket policy, when asked for: `Some(None)` when it has none.
    pub bucket_policy: Option<Option<String>>,
    /// The bucket's default encryption, when the pipeline manages the
    /// bucket: `Some(None)` when it has no configuration.
    pub bucket_encryption: Option<Option<s3::DefaultEncryption>>,
    pub policy: Option<String>,
    pub function: Option<lambda::Function>,
    /// The pipeline's own notification configurations on the bucket.
    pub triggers: Vec<s3::Trigger>,
    pub log_group: Option<logs::LogGroup>,
    pub invoke_config: Option<lambda::InvokeConfig>,
    pub queue: Option<sqs::Queue>,
    pub stream: Option<kinesis::Stream>,
    pub stream_mapping: Option<mappings::Mapping>,
    pub event_queue: Option<sqs::Queue>,
    pub queue_mapping: Option<mappings::Mapping>,
    pub repository: Option<RepositoryFound>,
    /// The pipeline's alarms that exist, of every kind.
    pub alarms: Vec<AlarmFound>,
    /// The alarms' topic the pipeline makes, when it exists.
    pub alarm_topic: Option<TopicFound>,
}

/// One of the pipeline's alarms, as CloudWatch has it.
#[derive(Debug)]
pub struct AlarmFound {
    pub alarm: Alarm,
    pub tags: BTreeMap<String, String>,
}

/// The alarms' topic the pipeline makes, as SNS has it.
#[derive(Debug)]
pub struct TopicFound {
    pub tags: BTreeMap<String, String>,
    /// The addresses of its email subscriptions, confirmed or not.
    pub emails: Vec<String>,
}

/// The image repository the pipeline makes, as ECR has it.
#[derive(Debug)]
pub struct RepositoryFound {
    pub repository: Repository,
    pub tags: BTreeMap<String, String>,
    /// `None` when it has no lifecycle policy.
    pub lifecycle_policy: Option<String>,
    /// `None` when it has no repository policy.
    pub repository_policy: Option<String>,
}

impl Observed {
    /// Nothing the pipeline made is left: it was deleted outside Terraform.
    /// (A bucket it does not manage is not the pipeline's to miss.) An image
    /// repository, alarms or an alarm topic left over (a destroy that
    /// failed to delete them) keep the pipeline in the state, so the next
    /// destroy deletes them.
    pub fn nothing_left(&self, owns_bucket: bool) -> bool {
        let mut parts = vec![
            Part::Role,
            Part::Function,
            Part::Repository,
            Part::Alarms,
            Part::AlarmTopic,
        ];
        if owns_bucket {
            parts.push(Part::Bucket);
        }
        parts.into_iter().all(|p| !self.found.contains(p))
    }
}
