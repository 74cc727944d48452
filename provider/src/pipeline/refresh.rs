//! Refresh: what exists in AWS, written into the state so the next plan
//! shows every difference. A part that went missing keeps its place in the
//! state, marked missing ([`State::mark_missing`]), so the next apply
//! re-creates just that part.

use crate::aws::{
    AwsClients, AwsError, cloudwatch, ecr, iam, kinesis, lambda, logs, mappings, s3, sns, sqs,
};

use super::desired;
use super::observed::{AlarmFound, RepositoryFound, TopicFound};

use super::naming::{self, POLICY_NAME};
use super::part::{Part, PartSet};
use super::parts::{self, Merge};
use super::private::Private;
use super::state::{Known, State};

pub use super::observed::Observed;

/// Where to look for a pipeline's parts.
#[derive(Clone, Debug)]
pub struct Names<'a> {
    pub name: &'a str,
    pub bucket: &'a str,
    pub role: &'a str,
    pub function: &'a str,
    /// The permission statement the state records.
    pub permission: &'a str,
    /// Notification ids the state records besides the pipeline's own
    /// prefix (adopted configurations).
    pub notification_ids: &'a [String],
    /// The pipeline manages the bucket (and so reads its tags and policy).
    pub owns_bucket: bool,
    pub log_group: String,
    /// The function has an invoke configuration to read.
    pub invoke_config: bool,
    /// The failure queue the pipeline made (its name, and URL if known).
    pub queue: Option<(String, Option<&'a str>)>,
    /// The stream the pipeline made (its name).
    pub stream: Option<&'a str>,
    /// The stream the function reads (its ARN).
    pub stream_source: Option<&'a str>,
    /// The event queue (its name, and URL if known) and ARN.
    pub event_queue: Option<(String, Option<&'a str>, &'a str)>,
    /// The image repository the pipeline makes (its name).
    pub repository: Option<String>,
    /// The alarms the pipeline may have, of every kind (with `alarms`).
    pub alarms: Vec<String>,
    /// The alarms' topic the pipeline makes (its ARN).
    pub alarm_topic: Option<&'a str>,
}

impl<'a> Names<'a> {
    pub fn of(s: &'a State<Known>) -> Names<'a> {
        Names {
            name: &s.name,
            bucket: &s.bucket_name,
            role: &s.role_name,
            function: &s.function_name,
            permission: &s.s3_permission_id,
            notification_ids: &s.notification_ids,
            owns_bucket: s.create_bucket,
            log_group: naming::log_group_name(&s.function_name),
            invoke_config: s.on_failure.is_some(),
            queue: s.wanted().contains(Part::FailureQueue).then(|| {
                (
                    naming::failure_queue_name(&s.name),
                    s.failure_queue_url.as_deref().filter(|u| !u.is_empty()),
                )
            }),
            stream: s
                .wanted()
                .contains(Part::Stream)
                .then_some(s.stream_name.as_deref())
                .flatten()
                .filter(|n| !n.is_empty()),
            stream_source: s.stream_arn.as_deref().filter(|a| !a.is_empty()),
            event_queue: s.queued().then(|| {
                (
                    naming::event_queue_name(&s.name),
                    s.event_queue_url.as_deref().filter(|u| !u.is_empty()),
                    s.event_queue_arn.as_deref().unwrap_or_default(),
                )
            }),
            repository: desired::repository(s).map(|r| r.name),
            alarms: if s.alarms.is_some() {
                desired::every_alarm_name(&s.name)
            } else {
                Vec::new()
            },
            alarm_topic: s
                .alarm_topic_arn
                .as_deref()
                .filter(|a| s.makes_alarm_topic() && !a.is_empty()),
        }
    }
}

/// Looks every part up at once (six to seven calls, concurrently).
pub async fn observe(aws: &AwsClients, n: &Names<'_>) -> Result<Observed, AwsError> {
    let sid = if n.permission.is_empty() {
        naming::PERMISSION_SID
    } else {
        n.permission
    };
    let is_ours = |id: &str| {
        naming::own_notification_index(n.name, id).is_some()
            || n.notification_ids.iter().any(|i| i == id)
    };
    // Each group is boxed: the SDK's futures are large, and nested in one
    // they would overflow a worker thread's stack in unoptimised builds.
    let sources = Box::pin(async {
        tokio::join!(
            stream(aws, n),
            stream_mapping(aws, n),
            event_queue(aws, n),
            event_queue_mapping(aws, n),
        )
    });
    let watch = Box::pin(async { tokio::join!(alarms(aws, n), alarm_topic(aws, n)) });
    let (
        srcs,
        watched,
        extra,
        (bucket_found, triggers, role, policy, function, permission, bucket_policy, encryption),
    ) = tokio::join!(
        sources,
        watch,
        Box::pin(async {
            tokio::join!(
                logs::log_group(&aws.logs, &n.log_group),
                invoke_config(aws, n),
                failure_queue(aws, n),
                repository(aws, n),
            )
        }),
        Box::pin(async {
            tokio::join!(
                bucket(aws, n),
                s3::triggers(&aws.s3, n.bucket, is_ours),
                iam::get_role(&aws.iam, n.role),
                iam::inline_policy(&aws.iam, n.role, POLICY_NAME),
                lambda::get_function(&aws.lambda, n.function),
                lambda::has_permission(&aws.lambda, n.function, sid),
                bucket_policy(aws, n),
                bucket_encryption(aws, n),
            )
        })
    );
    let (alarms, alarm_topic) = (watched.0?, watched.1?);
    let (stream, stream_mapping, event_queue, queue_mapping) = srcs;
    let (stream, stream_mapping, event_queue, queue_mapping) =
        (stream?, stream_mapping?, event_queue?, queue_mapping?);
    let (log_group, invoke_config, queue, repository) = extra;
    let (log_group, invoke_config, queue, repository) =
        (log_group?, invoke_config?, queue?, repository?);
    let (role, policy, function) = (role?, policy?, function?);
    let triggers = triggers?.unwrap_or_default();
    let mut found = PartSet::empty();
    for (part, exists) in [
        (Part::Bucket, bucket_found?),
        (Part::Role, role.is_some()),
        (Part::Policy, policy.is_some()),
        (Part::Function, function.is_some()),
        (Part::Permission, permission? == Some(true)),
        (Part::Notification, !triggers.is_empty()),
        (Part::LogGroup, log_group.is_some()),
        (Part::InvokeConfig, invoke_config.is_some()),
        (Part::FailureQueue, queue.is_some()),
        (Part::Stream, stream.is_some()),
        (Part::StreamMapping, stream_mapping.is_some()),
        (Part::EventQueue, event_queue.is_some()),
        (Part::EventQueueMapping, queue_mapping.is_some()),
        (Part::Repository, repository.is_some()),
        (Part::Alarms, !alarms.is_empty()),
        (Part::AlarmTopic, alarm_topic.is_some()),
    ] {
        if exists {
            found.insert(part);
        }
    }
    Ok(Observed {
        found,
        bucket_policy: bucket_policy?,
        bucket_encryption: encryption?,
        policy,
        function,
        triggers,
        log_group,
        invoke_config,
        queue,
        stream,
        stream_mapping,
        event_queue,
        queue_mapping,
        repository,
        alarms,
        alarm_topic,
    })
}

/// The pipeline's alarms that exist, with their tags.
async fn alarms(aws: &AwsClients, n: &Names<'_>) -> Result<Vec<AlarmFound>, AwsError> {
    let found = cloudwatch::alarms(&aws.cloudwatch, &n.alarms).await?;
    let tags = futures::future::join_all(
        found
            .iter()
            .map(|a| cloudwatch::tags(&aws.cloudwatch, &a.arn)),
    )
    .await;
    found
        .into_iter()
        .zip(tags)
        .map(|(alarm, tags)| {
            Ok(AlarmFound {
                alarm,
                tags: tags?.unwrap_or_default(),
            })
        })
        .collect()
}

/// The alarms' topic the pipeline makes, with its tags and the addresses
/// subscribed to it.
async fn alarm_topic(aws: &AwsClients, n: &Names<'_>) -> Result<Option<TopicFound>, AwsError> {
    let Some(arn) = n.alarm_topic else {
        return Ok(None);
    };
    let (tags, subscriptions) =
        tokio::join!(sns::tags(&aws.sns, arn), sns::subscriptions(&aws.sns, arn));
    let (Some(tags), Some(subscriptions)) = (tags?, subscriptions?) else {
        return Ok(None);
    };
    Ok(Some(TopicFound {
        tags,
        emails: subscriptions
            .into_iter()
            .filter(|s| s.protocol == "email")
            .map(|s| s.endpoint)
            .collect(),
    }))
}

/// Whether the bucket exists: by its tags when the pipeline manages it,
/// by its region otherwise (a bucket it does not own may deny the tags).
async fn bucket(aws: &AwsClients, n: &Names<'_>) -> Result<bool, AwsError> {
    if n.owns_bucket {
        s3::bucket_tags(&aws.s3, n.bucket)
            .await
            .map(|t| t.is_some())
    } else {
        s3::bucket_region(&aws.s3, n.bucket)
            .await
            .map(|r| r.is_some())
    }
}

/// The bucket's policy, when the pipeline manages the bucket.
async fn bucket_policy(
    aws: &AwsClients,
    n: &Names<'_>,
) -> Result<Option<Option<String>>, AwsError> {
    if n.owns_bucket {
        s3::bucket_policy(&aws.s3, n.bucket).await.map(Some)
    } else {
        Ok(None)
    }
}

/// The bucket's default encryption, when the pipeline manages the bucket.
async fn bucket_encryption(
    aws: &AwsClients,
    n: &Names<'_>,
) -> Result<Option<Option<s3::DefaultEncryption>>, AwsError> {
    if n.owns_bucket {
        s3::default_encryption(&aws.s3, n.bucket).await.map(Some)
    } else {
        Ok(None)
    }
}

/// The function's invoke configuration, when it has one to read.
async fn invoke_config(
    aws: &AwsClients,
    n: &Names<'_>,
) -> Result<Option<lambda::InvokeConfig>, AwsError> {
    if n.invoke_config {
        lambda::invoke_config(&aws.lambda, n.function).await
    } else {
        Ok(None)
    }
}

/// The failure queue the pipeline made.
async fn failure_queue(aws: &AwsClients, n: &Names<'_>) -> Result<Option<sqs::Queue>, AwsError> {
    match &n.queue {
        Some((name, url)) => queue(aws, name, *url).await,
        None => Ok(None),
    }
}

/// The stream the pipeline made. One being deleted is as good as gone:
/// the next apply makes it again once it has gone.
async fn stream(aws: &AwsClients, n: &Names<'_>) -> Result<Option<kinesis::Stream>, AwsError> {
    match n.stream {
        Some(name) => Ok(kinesis::stream(&aws.kinesis, name)
            .await?
            .filter(|s| s.status != "DELETING")),
        None => Ok(None),
    }
}

/// The image repository the pipeline makes, with its tags and policies.
async fn repository(aws: &AwsClients, n: &Names<'_>) -> Result<Option<RepositoryFound>, AwsError> {
    let Some(name) = &n.repository else {
        return Ok(None);
    };
    let Some(repository) = ecr::repository(&aws.ecr, name).await? else {
        return Ok(None);
    };
    let (tags, lifecycle_policy, repository_policy) = tokio::join!(
        ecr::tags(&aws.ecr, &repository.arn),
        ecr::lifecycle_policy(&aws.ecr, name),
        ecr::repository_policy(&aws.ecr, name),
    );
    Ok(Some(RepositoryFound {
        tags: tags?.unwrap_or_default(),
        lifecycle_policy: lifecycle_policy?,
        repository_policy: repository_policy?,
        repository,
    }))
}

/// The mapping that reads the stream into the function.
async fn stream_mapping(
    aws: &AwsClients,
    n: &Names<'_>,
) -> Result<Option<mappings::Mapping>, AwsError> {
    match n.stream_source {
        Some(arn) => mappings::mapping(&aws.lambda, n.function, arn).await,
        None => Ok(None),
    }
}

/// The queue S3 notifies with queue delivery.
async fn event_queue(aws: &AwsClients, n: &Names<'_>) -> Result<Option<sqs::Queue>, AwsError> {
    match &n.event_queue {
        Some((name, url, _)) => queue(aws, name, *url).await,
        None => Ok(None),
    }
}

/// The mapping that drains the event queue into the function.
async fn event_queue_mapping(
    aws: &AwsClients,
    n: &Names<'_>,
) -> Result<Option<mappings::Mapping>, AwsError> {
    match &n.event_queue {
        Some((_, _, arn)) if !arn.is_empty() => {
            mappings::mapping(&aws.lambda, n.function, arn).await
        }
        _ => Ok(None),
    }
}

/// A queue by its URL, or by its name when the URL is not known yet.
async fn queue(
    aws: &AwsClients,
    name: &str,
    url: Option<&str>,
) -> Result<Option<sqs::Queue>, AwsError> {
    let url = match url {
        Some(u) => Some(u.to_owned()),
        None => sqs::queue_url(&aws.sqs, name).await?,
    };
    match url {
        Some(u) => sqs::queue(&aws.sqs, &u).await,
        None => Ok(None),
    }
}

/// Writes what was observed into `state`, a known state of this pipeline:
/// a part not found is marked missing, and each part's `merge` writes
/// what AWS holds of it.
pub fn merge(state: &State<Known>, seen: &Observed, private: &Private) -> State<Known> {
    let mut m = Merge {
        s: state.clone(),
        state,
        seen,
        private,
    };
    for part in state.wanted().iter() {
        if !seen.found.contains(part) {
            m.s.mark_missing(part);
        }
    }
    for decide in MERGE {
        decide(&mut m);
    }
    m.s
}

/// The parts' merge decisions.
const MERGE: &[fn(&mut Merge)] = &[
    parts::bucket::merge,
    parts::policy::merge,
    parts::permission::merge,
    parts::function::merge,
    parts::log_group::merge,
    parts::invoke_config::merge,
    parts::failure_queue::merge,
    parts::stream::merge,
    parts::repository::merge,
    parts::stream_mapping::merge,
    parts::event_queue::merge,
    parts::event_queue_mapping::merge,
    parts::notification::merge,
    parts::alarms::merge,
    parts::alarm_topic::merge,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::desired;
    use crate::pipeline::state::tests::known_state;
    use crate::pipeline::state::{DELIVERY_DIRECT, DELIVERY_QUEUE};

    fn everything(s: &State<Known>) -> Observed {
        Observed {
            found: s.wanted(),
            log_group: Some(logs::LogGroup {
                arn: "arn:aws:logs:us-east-1:123456789012:log-group:x".into(),
                retention_in_days: Some(30),
                tags: desired::part_tags(s),
            }),
            invoke_config: None,
            queue: None,
            stream: None,
            stream_mapping: None,
            event_queue: None,
            queue_mapping: None,
            repository: None,
            alarms: Vec::new(),
            alarm_topic: None,
            bucket_policy: None,
            bucket_encryption: None,
            policy: Some(s.policy_json.clone()),
            function: Some(lambda::Function {
                arn: s.function_arn.clone(),
                settings: desired::function_settings(s),
                architecture: s.function.architecture.clone(),
                code_sha256: "sha".into(),
                image_uri: s.image_uri.clone(),
                tags: desired::function_tags(s),
                reserved_concurrency: None,
            }),
            triggers: desired::triggers(s),
        }
    }

    #[test]
    fn a_pipeline_as_aws_has_it_refreshes_to_the_same_state() {
        let s = known_state("orders");
        let seen = everything(&s);
        let private = Private {
            code_sha256: Some("sha".into()),
            ..Private::default()
        };
        assert_eq!(merge(&s, &seen, &private), s);
    }

    #[test]
    fn a_permission_left_by_a_switch_to_queue_delivery_is_recorded() {
        let mut s = known_state("orders");
        s.delivery = crate::pipeline::state::DELIVERY_QUEUE.into();
        s.s3_permission_id = String::new();
        let mut seen = everything(&s);
        seen.found.insert(Part::Permission);
        let r = merge(&s, &seen, &Private::default());
        assert_eq!(r.s3_permission_id, naming::PERMISSION_SID);
        seen.found.remove(Part::Permission);
        assert!(
            merge(&s, &seen, &Private::default())
                .s3_permission_id
                .is_empty()
        );
    }

    #[test]
    fn drift_and_missing_parts_show_in_the_refreshed_state() {
        let s = known_state("orders");
        let mut seen = everything(&s);
        seen.found.remove(Part::Permission);
        if let Some(f) = &mut seen.function {
            f.settings.memory_mb = 256;
            f.code_sha256 = "other".into();
        }
        seen.triggers.clear();
        seen.found.remove(Part::Notification);
        let private = Private {
            code_sha256: Some("sha".into()),
            ..Private::default()
        };
        let r = merge(&s, &seen, &private);
        assert_eq!(r.function.memory_size, 256);
        assert!(r.s3_permission_id.is_empty());
        assert!(r.trigger.is_empty());
        assert!(r.source_code_hash.starts_with("changed outside Terraform"));
        assert_eq!(
            r.present(),
            s.wanted()
                .minus(PartSet::from([Part::Permission, Part::Notification]))
        );
    }

    #[test]
    fn an_image_changed_outside_terraform_shows_and_its_handler_and_runtime_stay() {
        let mut s = known_state("orders");
        s.function.package_type = crate::pipeline::state::PACKAGE_IMAGE.into();
        s.function.layers = None;
        s.image_uri = Some("r.example/orders@sha256:aa".into());
        let seen = everything(&s);
        assert!(seen.function.as_ref().is_some_and(|f| f.settings.image));
        // A zip's CodeSha256 from before does not count for an image.
        let private = Private {
            code_sha256: Some("zip".into()),
            ..Private::default()
        };
        assert_eq!(merge(&s, &seen, &private), s);
        let mut drifted = everything(&s);
        if let Some(f) = &mut drifted.function {
            f.image_uri = Some("r.example/orders@sha256:bb".into());
            // Some emulators echo no ImageConfig: the handler stays.
            f.settings.handler = String::new();
        }
        let r = merge(&s, &drifted, &private);
        assert!(
            r.source_code_hash.starts_with("changed outside Terraform"),
            "{}",
            r.source_code_hash
        );
        assert_eq!(r.image_uri.as_deref(), Some("r.example/orders@sha256:bb"));
        assert_eq!(r.function.handler, s.function.handler);
        assert_eq!(r.function.runtime, s.function.runtime);
        // A zip function where the state says image: the switch shows.
        let mut zip = everything(&s);
        if let Some(f) = &mut zip.function {
            f.settings.image = false;
            f.image_uri = None;
        }
        let r = merge(&s, &zip, &private);
        assert_eq!(r.function.package_type, crate::pipeline::state::PACKAGE_ZIP);
        assert_eq!(r.image_uri, None);
    }

    #[test]
    fn a_stream_s_capacity_mode_changed_outside_terraform_shows() {
        let mut s = known_state("orders");
        s.stream = Some(crate::pipeline::state::tests::stream_block());
        s.stream_name = Some("orders".into());
        let mut seen = everything(&s);
        let tags = desired::part_tags(&s);
        let stream = |shards| kinesis::Stream {
            arn: "arn:aws:kinesis:us-east-1:123456789012:stream/orders".into(),
            status: "ACTIVE".into(),
            shards,
            retention_hours: 24,
            encrypted: true,
            tags: tags.clone(),
        };
        seen.stream = Some(stream(Some(3)));
        let shards = |r: State<Known>| r.stream.and_then(|st| st.shard_count);
        assert_eq!(shards(merge(&s, &seen, &Private::default())), Some(3));
        // And a stream the config gives shards, found on demand.
        if let Some(st) = &mut s.stream {
            st.shard_count = Some(2);
        }
        seen.stream = Some(stream(None));
        assert_eq!(shards(merge(&s, &seen, &Private::default())), None);
    }

    #[test]
    fn notifications_pointing_elsewhere_than_the_delivery_say_show_as_the_other_delivery() {
        let s = known_state("orders");
        let mut seen = everything(&s);
        let queue = "arn:aws:sqs:us-east-1:123456789012:orders-events".to_owned();
        for t in &mut seen.triggers {
            t.target = s3::Destination::Queue(queue.clone());
        }
        let r = merge(&s, &seen, &Private::default());
        assert_eq!(r.delivery, DELIVERY_QUEUE);
        // And a queue pipeline whose bucket invokes the function.
        let mut q = s.clone();
        q.delivery = DELIVERY_QUEUE.into();
        q.event_queue_arn = Some(queue);
        let seen = everything(&s);
        assert_eq!(
            merge(&q, &seen, &Private::default()).delivery,
            DELIVERY_DIRECT
        );
        // As configured: unchanged.
        assert_eq!(
            merge(&s, &seen, &Private::default()).delivery,
            DELIVERY_DIRECT
        );
    }

    #[test]
    fn a_deleted_role_takes_its_policy_out_of_the_state() {
        let s = known_state("orders");
        let mut seen = everything(&s);
        seen.found.remove(Part::Role);
        seen.found.remove(Part::Policy);
        seen.policy = None;
        let r = merge(&s, &seen, &Private::default());
        assert!(r.role_arn.is_empty() && r.policy_json.is_empty());
    }
}
