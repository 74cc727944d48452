//! Refresh: what exists in AWS, written into the state so the next plan
//! shows every difference. A part that went missing keeps its place in the
//! state, marked missing ([`State::mark_missing`]), so the next apply
//! re-creates just that part.

use crate::aws::{AwsClients, AwsError, iam, kinesis, lambda, logs, mappings, s3, sqs};

use super::desired;
use super::naming::{self, POLICY_NAME};
use super::ownership;
use super::parts::{Part, PartSet};
use super::private::Private;
use super::state::{DELIVERY_DIRECT, DELIVERY_QUEUE, Known, State, Trigger};

/// What AWS holds for one pipeline.
#[derive(Debug, Default)]
pub struct Observed {
    /// The parts that exist.
    pub found: PartSet,
    /// The bucket policy, when asked for: `Some(None)` when it has none.
    pub bucket_policy: Option<Option<String>>,
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
}

impl Observed {
    /// Nothing the pipeline made is left: it was deleted outside Terraform.
    /// (A bucket it does not manage is not the pipeline's to miss.)
    pub fn nothing_left(&self, owns_bucket: bool) -> bool {
        let mut parts = vec![Part::Role, Part::Function];
        if owns_bucket {
            parts.push(Part::Bucket);
        }
        parts.into_iter().all(|p| !self.found.contains(p))
    }
}

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
            async {
                match n.stream {
                    Some(name) => kinesis::stream(&aws.kinesis, name).await,
                    None => Ok(None),
                }
            },
            async {
                match n.stream_source {
                    Some(arn) => mappings::mapping(&aws.lambda, n.function, arn).await,
                    None => Ok(None),
                }
            },
            async {
                let Some((name, url, _)) = &n.event_queue else {
                    return Ok(None);
                };
                let url = match url {
                    Some(u) => Some((*u).to_owned()),
                    None => sqs::queue_url(&aws.sqs, name).await?,
                };
                match url {
                    Some(u) => sqs::queue(&aws.sqs, &u).await,
                    None => Ok(None),
                }
            },
            async {
                match &n.event_queue {
                    Some((_, _, arn)) if !arn.is_empty() => {
                        mappings::mapping(&aws.lambda, n.function, arn).await
                    }
                    _ => Ok(None),
                }
            },
        )
    });
    let (srcs, extra, (bucket_found, triggers, role, policy, function, permission, bucket_policy)) = tokio::join!(
        sources,
        Box::pin(async {
            tokio::join!(
                logs::log_group(&aws.logs, &n.log_group),
                async {
                    if n.invoke_config {
                        lambda::invoke_config(&aws.lambda, n.function).await
                    } else {
                        Ok(None)
                    }
                },
                async {
                    let Some((name, url)) = &n.queue else {
                        return Ok(None);
                    };
                    let url = match url {
                        Some(u) => Some((*u).to_owned()),
                        None => sqs::queue_url(&aws.sqs, name).await?,
                    };
                    match url {
                        Some(u) => sqs::queue(&aws.sqs, &u).await,
                        None => Ok(None),
                    }
                },
            )
        }),
        Box::pin(async {
            tokio::join!(
                async {
                    if n.owns_bucket {
                        s3::bucket_tags(&aws.s3, n.bucket)
                            .await
                            .map(|t| t.is_some())
                    } else {
                        s3::bucket_region(&aws.s3, n.bucket)
                            .await
                            .map(|r| r.is_some())
                    }
                },
                s3::triggers(&aws.s3, n.bucket, is_ours),
                iam::get_role(&aws.iam, n.role),
                iam::inline_policy(&aws.iam, n.role, POLICY_NAME),
                lambda::get_function(&aws.lambda, n.function),
                lambda::has_permission(&aws.lambda, n.function, sid),
                async {
                    if n.owns_bucket {
                        s3::bucket_policy(&aws.s3, n.bucket).await.map(Some)
                    } else {
                        Ok(None)
                    }
                },
            )
        })
    );
    let (stream, stream_mapping, event_queue, queue_mapping) = srcs;
    let (stream, stream_mapping, event_queue, queue_mapping) =
        (stream?, stream_mapping?, event_queue?, queue_mapping?);
    // A stream being deleted is as good as gone: the next apply makes it
    // again once it has gone.
    let stream = stream.filter(|s| s.status != "DELETING");
    let (log_group, invoke_config, queue) = extra;
    let (log_group, invoke_config, queue) = (log_group?, invoke_config?, queue?);
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
    ] {
        if exists {
            found.insert(part);
        }
    }
    Ok(Observed {
        found,
        bucket_policy: bucket_policy?,
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
    })
}

/// Two policy texts with the same meaning (IAM may reformat JSON).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// `actual`, or `prior` when it means the same (an absent value and an
/// empty one are the same to AWS).
fn keep_or<T: Default + PartialEq>(prior: &Option<T>, actual: T) -> Option<T> {
    match prior {
        None if actual == T::default() => None,
        _ => Some(actual),
    }
}

/// Writes what was observed into `state`, a known state of this pipeline.
pub fn merge(state: &State<Known>, seen: &Observed, private: &Private) -> State<Known> {
    let mut s = state.clone();
    for part in state.wanted().iter() {
        if !seen.found.contains(part) {
            s.mark_missing(part);
        }
    }
    match &seen.bucket_policy {
        Some(Some(doc)) => s.require_tls = doc.contains("aws:SecureTransport"),
        Some(None) => s.require_tls = false,
        None => {}
    }
    if seen.found.contains(Part::Role) {
        let actual = seen.policy.clone().unwrap_or_default();
        if !same_json(&state.policy_json, &actual) {
            s.policy_json = actual;
        }
    } else {
        s.mark_missing(Part::Policy);
    }

    match &seen.function {
        None => s.mark_missing(Part::Permission),
        Some(f) => {
            let st = &f.settings;
            let func = &mut s.function;
            func.handler = st.handler.clone();
            func.runtime = st.runtime.clone();
            func.memory_size = i64::from(st.memory_mb);
            func.timeout = i64::from(st.timeout_s);
            func.architecture = f.architecture.clone();
            func.description = keep_or(&state.function.description, st.description.clone());
            func.environment = keep_or(&state.function.environment, st.environment.clone());
            // Code changed outside Terraform: not what we uploaded last.
            if private
                .code_sha256
                .as_deref()
                .is_some_and(|c| c != f.code_sha256)
            {
                s.source_code_hash =
                    format!("changed outside Terraform (CodeSha256 {})", f.code_sha256);
            }
            s.tags_all = ownership::user_tags(&f.tags);
            func.reserved_concurrency = f.reserved_concurrency.map(i64::from);
            func.ephemeral_storage = i64::from(st.ephemeral_mb);
            func.layers = keep_or(&state.function.layers, st.layers.clone());
            if let (Some(l), Some(logs)) = (&st.logging, &mut s.logs) {
                // With JSON logs Lambda reports a level left unset as its
                // default: that is no change to show.
                logs.format.clone_from(&l.format);
                logs.application_log_level = desired::level_as_configured(
                    &logs.application_log_level,
                    l.application_level.clone(),
                );
                logs.system_log_level =
                    desired::level_as_configured(&logs.system_log_level, l.system_level.clone());
            }
        }
    }
    if let Some(g) = &seen.log_group {
        // A group that never expires keeps "0 days".
        s.log_group_retention_in_days = Some(g.retention_in_days.map_or(0, i64::from));
    }
    if let (Some(c), Some(f)) = (&seen.invoke_config, &mut s.on_failure) {
        f.maximum_retry_attempts = Some(i64::from(c.maximum_retry_attempts));
        f.maximum_event_age = Some(i64::from(c.maximum_event_age_s));
        s.failure_queue_arn = Some(c.on_failure.clone().unwrap_or_default());
    }
    if let Some(q) = &seen.queue {
        s.failure_queue_url = Some(q.url.clone());
    }
    if let (Some(k), Some(st)) = (&seen.stream, &mut s.stream) {
        st.retention_period = i64::from(k.retention_hours);
        // An on-demand stream has no shard count; one switched to shards
        // outside Terraform shows them.
        st.shard_count = k.shards.map(i64::from);
    }
    if let Some(m) = &seen.stream_mapping {
        s.stream_mapping_id = Some(m.uuid.clone());
        if let Some(st) = &mut s.stream {
            let ms = &m.settings;
            if let Some(p) = &ms.starting_position {
                st.starting_position.clone_from(p);
            }
            st.batch_size = i64::from(ms.batch_size);
            st.maximum_batching_window = i64::from(ms.maximum_batching_window_s);
            if let Some(p) = ms.parallelization_factor {
                st.parallelization_factor = i64::from(p);
            }
            if let Some(b) = ms.bisect_batch_on_function_error {
                st.bisect_batch_on_function_error = b;
            }
            if let Some(r) = ms.maximum_retry_attempts {
                st.maximum_retry_attempts = i64::from(r);
            }
            if let Some(a) = ms.maximum_record_age_s {
                st.maximum_record_age = i64::from(a);
            }
            st.report_batch_item_failures = ms.report_batch_item_failures;
        }
    }
    if let Some(q) = &seen.event_queue {
        s.event_queue_url = Some(q.url.clone());
        if let (Some(block), Some(v)) = (&mut s.queue, q.settings.visibility_timeout_s) {
            block.visibility_timeout = i64::from(v);
        }
        if let (Some(block), Some((_, n))) = (&mut s.queue, &q.settings.redrive) {
            block.max_receive_count = i64::from(*n);
        }
    }
    if let Some(m) = &seen.queue_mapping {
        s.queue_mapping_id = Some(m.uuid.clone());
        if let Some(block) = &mut s.queue {
            let ms = &m.settings;
            block.batch_size = i64::from(ms.batch_size);
            block.maximum_batching_window = i64::from(ms.maximum_batching_window_s);
            block.maximum_concurrency = ms.maximum_concurrency.map(i64::from);
            block.report_batch_item_failures = ms.report_batch_item_failures;
        }
    }

    // Where the notifications point says how events are delivered: a
    // switch that stopped half-way, or a notification re-pointed by hand,
    // shows as a change of `delivery`.
    let to_queue = |t: &s3::Trigger| matches!(t.target, s3::Destination::Queue(_));
    let to_function = |t: &s3::Trigger| matches!(t.target, s3::Destination::Function(_));
    if !seen.triggers.is_empty() {
        if seen.triggers.iter().all(to_queue) {
            s.delivery = DELIVERY_QUEUE.to_owned();
        } else if seen.triggers.iter().all(to_function) {
            s.delivery = DELIVERY_DIRECT.to_owned();
        }
    }

    // Triggers as the bucket has them, in the state's order (our ids by
    // their index, adopted ones as the state lists them), keeping the
    // prior state's way of saying "no filter".
    let mut triggers = seen.triggers.clone();
    triggers.sort_by_key(|t| {
        let recorded = state.notification_ids.iter().position(|i| *i == t.id);
        let own = naming::own_notification_index(&state.name, &t.id);
        (recorded.is_none(), recorded, own)
    });
    s.notification_ids = triggers.iter().map(|t| t.id.clone()).collect();
    s.trigger = triggers
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let prior = state.trigger.get(i);
            let keep = |p: Option<&Option<String>>, actual: Option<String>| {
                let actual = actual.unwrap_or_default();
                match p {
                    Some(p) if p.as_deref().unwrap_or("") == actual => p.clone(),
                    Some(_) => Some(actual),
                    None => keep_or(&None, actual),
                }
            };
            Trigger {
                events: t.events,
                filter_prefix: keep(prior.map(|p| &p.filter_prefix), t.prefix),
                filter_suffix: keep(prior.map(|p| &p.filter_suffix), t.suffix),
            }
        })
        .collect();
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::desired;
    use crate::pipeline::state::tests::known_state;

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
            bucket_policy: None,
            policy: Some(s.policy_json.clone()),
            function: Some(lambda::Function {
                arn: s.function_arn.clone(),
                settings: desired::function_settings(s),
                architecture: s.function.architecture.clone(),
                code_sha256: "sha".into(),
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
