//! `terraform import`:
//! - `NAME` rebuilds a pipeline the provider made, from AWS alone, starting
//!   from its function (whose tags record the bucket, the source directory
//!   and the source hash);
//! - `adopt:FUNCTION` takes over a pipeline wired by hand. Discovery starts
//!   from the function: its role and the role's policies, and the bucket
//!   that notifies it ([`super::wiring`]: directly, through its S3 invoke
//!   permission, or through a queue one of its SQS mappings drains) with
//!   that bucket's configurations that send to it (the triggers). The
//!   state records what exists; the next plan shows, in place, every
//!   change the first apply makes.

use std::collections::BTreeMap;

use tfsdk::diag::{Diagnostic, Diagnostics};

use crate::aws::{AwsClients, cloudwatch, ecr, iam, kinesis, lambda, logs, mappings, s3, sns, sqs};

use super::desired;
use super::errors::ImportError;
use super::naming::POLICY_NAME;
use super::ownership::{
    self, ADOPT_PREFIX, BASE_DIGEST_TAG, BASE_IMAGE_TAG, BUCKET_TAG,
    FAILURE_QUEUE_FORCE_DELETE_TAG, FORCE_DESTROY_TAG, OWNER_TAG, ROLE_TAG, RUNTIME_TAG,
    SOURCE_DIR_TAG, SOURCE_HASH_TAG, UNMANAGED_BUCKET_TAG,
};
use super::package::image_hash;
use super::part::{Part, PartSet};
use super::private::{Adopted, AdoptedQueue, Private};
use super::refresh::{self, Names};
use super::source::{Kind, Source};
use super::state::{
    AlarmsBlock, DELIVERY_DIRECT, DELIVERY_QUEUE, Function, ImageBlock, Known, Logs, OnFailure,
    PACKAGE_IMAGE, PACKAGE_ZIP, Planning, QueueBlock, SourceFiles, State, StreamBlock, Trigger,
    listed_files,
};
use super::wiring::{self, Route, Wiring};
use super::{defaults, naming, policy};

/// The parts an adoption makes the pipeline's (tags them) on its first
/// apply. The bucket is taken over only when the configuration says
/// `create_bucket = true`.
pub const CLAIMED: PartSet = PartSet::of(&[Part::Role, Part::Function, Part::LogGroup]);

/// An imported pipeline: its state, its private data, what to tell the user.
pub struct Imported {
    pub state: State<Known>,
    pub private: Private,
    pub diags: Diagnostics,
}

pub async fn import(
    aws: &AwsClients,
    id: &str,
    default_tags: &BTreeMap<String, String>,
) -> Result<Imported, ImportError> {
    match id.strip_prefix(ADOPT_PREFIX) {
        Some(function) => adopt(aws, function, default_tags).await,
        None => import_own(aws, id, &naming::function_name(id), default_tags).await,
    }
}

fn location(aws: &AwsClients, arn: &str) -> policy::Location {
    policy::Location {
        partition: policy::partition_of(&aws.region).to_owned(),
        region: aws.region.clone(),
        account_id: policy::account_of_arn(arn).unwrap_or_default().to_owned(),
    }
}

/// The function's tags that are the resource's own: not the provider's
/// `default_tags` (and never the provider's internal ones).
fn own_tags(
    user_tags: &BTreeMap<String, String>,
    default_tags: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    let own: BTreeMap<String, String> = user_tags
        .iter()
        .filter(|(k, v)| default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!own.is_empty()).then_some(own)
}

/// What an import records of the source files: those of the source
/// directory the function's tags name, when they still hash to the code
/// deployed (for an image: on the base its tags name); otherwise none, and
/// the next plan lists every file as added.
fn recorded_files(
    source_dir: Option<&str>,
    deployed_hash: &str,
    base_digest: Option<&str>,
) -> (SourceFiles, i64) {
    let kind = if base_digest.is_some() {
        Kind::Image
    } else {
        Kind::Zip
    };
    match Source::of_kind(source_dir, kind).digest() {
        Some(Ok(d))
            if d.hash == deployed_hash
                || base_digest.is_some_and(|b| image_hash(&d.hash, b) == deployed_hash) =>
        {
            listed_files(d.files)
        }
        _ => (SourceFiles::new(), 0),
    }
}

fn function_block(f: &lambda::Function, source_dir: String) -> Function<Known> {
    let st = &f.settings;
    Function {
        source_dir,
        handler: st.handler.clone(),
        runtime: st.runtime.clone(),
        memory_size: i64::from(st.memory_mb),
        timeout: i64::from(st.timeout_s),
        environment: None,
        architecture: f.architecture.clone(),
        description: None,
        reserved_concurrency: f.reserved_concurrency.map(i64::from),
        ephemeral_storage: i64::from(st.ephemeral_mb),
        layers: (!st.layers.is_empty()).then(|| st.layers.clone()),
        requirements_file: None,
        slim: false,
        package_bucket: None,
        package_type: if st.image { PACKAGE_IMAGE } else { PACKAGE_ZIP }.into(),
        image: None,
        exclude: None,
        bundle: false,
    }
}

/// The repository an image URI names: `<registry>/<repository>@sha256:…`
/// (or `…:<tag>`).
fn repository_of(image_uri: &str) -> Option<&str> {
    let (_, path) = image_uri.split_once('/')?;
    let path = path.split_once('@').map_or(path, |(p, _)| p);
    let path = match path.rsplit_once(':') {
        Some((p, tag)) if !tag.contains('/') => p,
        _ => path,
    };
    (!path.is_empty()).then_some(path)
}

/// The number of images a lifecycle policy the pipeline wrote keeps.
fn kept_images(lifecycle_policy: &str) -> Option<i64> {
    let doc: serde_json::Value = serde_json::from_str(lifecycle_policy).ok()?;
    doc.pointer("/rules/0/selection/countNumber")?.as_i64()
}

/// An image function's `function.image` block, `image_base_digest` and
/// `image_repository_url`, as far as AWS and the function's tags tell
/// them. The image's repository is the one the pipeline makes when it has
/// the pipeline's repository name and is tagged as ours (or is gone: the
/// next apply makes it again); any other is a given `repository_name`.
/// The block is left out when everything in it has its default, as a
/// configuration without `image {}` has it.
async fn image_parts(
    aws: &AwsClients,
    loc: &policy::Location,
    name: &str,
    f: &lambda::Function,
    s: &mut State<Known>,
) -> Result<(), ImportError> {
    let Some(repo) = f.image_uri.as_deref().and_then(repository_of) else {
        return Ok(());
    };
    let own = naming::repository_name(name);
    let mut block = ImageBlock {
        base_image: f.tags.get(BASE_IMAGE_TAG).cloned(),
        repository_name: Some(repo.to_owned()),
        keep_images: defaults::DEFAULT_KEEP_IMAGES,
        scan_on_push: defaults::DEFAULT_SCAN_ON_PUSH,
    };
    if repo == own {
        match ecr::repository(&aws.ecr, repo).await? {
            None => block.repository_name = None,
            Some(r) => {
                let tags = ecr::tags(&aws.ecr, &r.arn).await?.unwrap_or_default();
                if tags.get(OWNER_TAG).map(String::as_str) == Some(name) {
                    block.repository_name = None;
                    block.scan_on_push = r.scan_on_push;
                    let lifecycle = ecr::lifecycle_policy(&aws.ecr, repo).await?;
                    if let Some(n) = lifecycle.as_deref().and_then(kept_images) {
                        block.keep_images = n;
                    }
                }
            }
        }
    }
    s.image_repository_url = Some(policy::repository_url(loc, repo));
    s.image_uri.clone_from(&f.image_uri);
    s.image_base_digest = f.tags.get(BASE_DIGEST_TAG).cloned();
    if let Some(r) = f.tags.get(RUNTIME_TAG) {
        s.function.runtime.clone_from(r);
    }
    let defaults = ImageBlock {
        base_image: None,
        repository_name: None,
        keep_images: defaults::DEFAULT_KEEP_IMAGES,
        scan_on_push: defaults::DEFAULT_SCAN_ON_PUSH,
    };
    s.function.image = (block != defaults).then_some(block);
    Ok(())
}

/// Failure handling: the function's invoke configuration says whether the
/// pipeline has an `on_failure` block, and with which queue.
async fn read_failure_handling(
    aws: &AwsClients,
    loc: &policy::Location,
    name: &str,
    f: &lambda::Function,
    skeleton: &mut State<Known>,
) -> Result<(), ImportError> {
    if let Some(c) = lambda::invoke_config(&aws.lambda, &skeleton.function_name).await? {
        let managed = policy::queue_arn(loc, &naming::failure_queue_name(name));
        skeleton.failure_queue_arn = c.on_failure.clone();
        skeleton.on_failure = Some(OnFailure {
            maximum_retry_attempts: Some(i64::from(c.maximum_retry_attempts)),
            maximum_event_age: Some(i64::from(c.maximum_event_age_s)),
            queue_arn: c.on_failure.filter(|q| *q != managed),
            force_delete: f
                .tags
                .get(FAILURE_QUEUE_FORCE_DELETE_TAG)
                .is_some_and(|v| v == "true"),
        });
    }
    Ok(())
}

/// The one test of "this function is pipeline `name`'s": its ownership
/// tag names the pipeline. `terraform import NAME` and the day-two
/// commands both ask it.
pub fn check_owner(
    name: &str,
    function_name: &str,
    f: &lambda::Function,
) -> Result<(), ImportError> {
    if f.tags.get(OWNER_TAG).map(String::as_str) == Some(name) {
        Ok(())
    } else {
        Err(ImportError::NotOurs(function_name.to_owned()))
    }
}

async fn import_own(
    aws: &AwsClients,
    name: &str,
    function_name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Result<Imported, ImportError> {
    let function_name = function_name.to_owned();
    let f = lambda::get_function(&aws.lambda, &function_name)
        .await?
        .ok_or_else(|| ImportError::NotFound {
            name: function_name.clone(),
            region: aws.region.clone(),
        })?;
    check_owner(name, &function_name, &f)?;
    let bucket = f
        .tags
        .get(BUCKET_TAG)
        .cloned()
        .ok_or(ImportError::MissingTag(BUCKET_TAG))?;
    let loc = location(aws, &f.arn);
    let user_tags = ownership::user_tags(&f.tags);
    let role_name = f
        .tags
        .get(ROLE_TAG)
        .cloned()
        .unwrap_or_else(|| naming::role_name(name));
    let create_bucket = !f.tags.contains_key(UNMANAGED_BUCKET_TAG);
    let source_code_hash = f.tags.get(SOURCE_HASH_TAG).cloned().unwrap_or_default();
    let (source_files, source_file_count) = recorded_files(
        f.tags.get(SOURCE_DIR_TAG).map(String::as_str),
        &source_code_hash,
        f.tags
            .get(BASE_DIGEST_TAG)
            .map(String::as_str)
            .filter(|_| f.settings.image),
    );
    let mut skeleton: State<Known> = State {
        id: name.to_owned(),
        name: name.to_owned(),
        bucket_name: bucket.clone(),
        create_bucket,
        force_destroy: f.tags.get(FORCE_DESTROY_TAG).is_some_and(|v| v == "true"),
        output_prefix: None,
        // The refresh that follows reads the owned bucket's key.
        bucket_encryption: None,
        require_tls: true,
        tags: own_tags(&user_tags, default_tags),
        tags_all: user_tags,
        bucket_arn: policy::bucket_arn(&loc.partition, &bucket),
        // The ARN the function names, which has the role's path; one
        // derived from the name when the function names another role.
        role_arn: if f.settings.role_arn.ends_with(&format!("/{role_name}")) {
            f.settings.role_arn.clone()
        } else {
            policy::role_arn(&loc, &role_name)
        },
        role_name,
        function_name,
        function_arn: f.arn.clone(),
        s3_permission_id: naming::PERMISSION_SID.to_owned(),
        source_code_hash,
        source_files,
        source_file_count,
        image_uri: None,
        image_base_digest: None,
        image_repository_url: None,
        policy_json: String::new(),
        notification_ids: Vec::new(),
        backfill: false,
        backfilled_objects: 0,
        failure_queue_arn: None,
        failure_queue_url: None,
        log_group_name: naming::log_group_name(&naming::function_name(name)),
        log_group_retention_in_days: None,
        delivery: DELIVERY_DIRECT.to_owned(),
        stream_arn: None,
        stream_name: None,
        stream_mapping_id: None,
        event_queue_arn: None,
        event_queue_url: None,
        queue_mapping_id: None,
        alarm_arns: None,
        alarm_topic_arn: None,
        alarms: None,
        on_failure: None,
        logs: None,
        stream: None,
        queue: None,
        function: function_block(&f, f.tags.get(SOURCE_DIR_TAG).cloned().unwrap_or_default()),
        trigger: Vec::new(),
    };
    Box::pin(read_sources(aws, &loc, &mut skeleton)).await?;
    read_failure_handling(aws, &loc, name, &f, &mut skeleton).await?;
    Box::pin(read_alarms(aws, &loc, name, &mut skeleton)).await?;
    if f.settings.image {
        Box::pin(image_parts(aws, &loc, name, &f, &mut skeleton)).await?;
    }
    let seen = Box::pin(refresh::observe(aws, &Names::of(&skeleton))).await?;
    // The role's policy as IAM has it is what the state records; the
    // output prefix is the one it grants PutObject under.
    let policy_json = seen.policy.clone().unwrap_or_default();
    skeleton.output_prefix = policy::output_prefix_of(&policy_json);
    skeleton.policy_json = policy_json.clone();
    let mut state = refresh::merge(&skeleton, &seen, &Private::default());
    state.policy_json = policy_json;
    state.logs = logs_block(&state, &f);
    if let Some(st) = &mut state.stream {
        st.allow_put_records = state.policy_json.contains("kinesis:PutRecord");
    }
    Ok(Imported {
        state,
        private: Private {
            code_sha256: Some(f.code_sha256.clone()),
            ..Private::default()
        },
        diags: Diagnostics::new(),
    })
}

/// The pipeline's alarms, found by their names and tags, and the topic
/// they notify: the pipeline's own `<name>-alarms` (its email
/// subscriptions are `emails`) or another (`topic_arn`). A kind with no
/// alarm that would fit reads as off; a kind that would not fit keeps the
/// default.
async fn read_alarms(
    aws: &AwsClients,
    loc: &policy::Location,
    name: &str,
    s: &mut State<Known>,
) -> Result<(), ImportError> {
    let mut ours = Vec::new();
    for a in cloudwatch::alarms(&aws.cloudwatch, &desired::every_alarm_name(name)).await? {
        let tags = cloudwatch::tags(&aws.cloudwatch, &a.arn).await?;
        if tags.is_some_and(|t| t.get(OWNER_TAG).map(String::as_str) == Some(name)) {
            ours.push(a.settings);
        }
    }
    let Some(topic) = ours.first().and_then(|a| a.alarm_actions.first()).cloned() else {
        return Ok(());
    };
    let emails = if topic == policy::topic_arn(loc, &naming::alarm_topic_name(name)) {
        let subs = sns::subscriptions(&aws.sns, &topic).await?;
        Some(
            subs.unwrap_or_default()
                .into_iter()
                .filter(|s| s.protocol == "email")
                .map(|s| s.endpoint)
                .collect(),
        )
    } else {
        None
    };
    let kind = |k: &str| {
        let alarm = naming::alarm_name(name, k);
        ours.iter().find(|a| a.name == alarm)
    };
    let [failed, errors, throttles, queue_age, iterator_age] = naming::ALARM_KINDS;
    let seconds = |t: f64| t.round() as i64;
    s.alarms = Some(AlarmsBlock {
        topic_arn: emails.is_none().then(|| topic.clone()),
        emails,
        failed_events: kind(failed).is_some() || s.on_failure.is_none(),
        error_rate_percent: kind(errors).map(|a| a.threshold),
        throttles: kind(throttles).is_some(),
        queue_age_seconds: kind(queue_age)
            .map_or(defaults::DEFAULT_ALARM_AGE_S, |a| seconds(a.threshold)),
        iterator_age_seconds: kind(iterator_age).map_or(defaults::DEFAULT_ALARM_AGE_S, |a| {
            seconds(a.threshold / 1000.0)
        }),
    });
    s.alarm_topic_arn = Some(topic);
    desired::fill_alarm_arns(s);
    Ok(())
}

/// The function's event source mappings say whether the pipeline reads a
/// stream (its own `<name>`, or another's) and drains an event queue.
async fn read_sources(
    aws: &AwsClients,
    loc: &policy::Location,
    s: &mut State<Known>,
) -> Result<(), ImportError> {
    let own_stream = policy::stream_arn(loc, &s.name);
    let own_queue = policy::queue_arn(loc, &naming::event_queue_name(&s.name));
    for m in mappings::mappings(&aws.lambda, &s.function_name).await? {
        let st = &m.settings;
        if m.source_arn.contains(":kinesis:") {
            s.stream_arn = Some(m.source_arn.clone());
            s.stream_name = m.source_arn.rsplit('/').next().map(str::to_owned);
            s.stream_mapping_id = Some(m.uuid.clone());
            let (shards, retention) = if m.source_arn == own_stream {
                match kinesis::stream(&aws.kinesis, &s.name).await? {
                    Some(k) => (k.shards.map(i64::from), i64::from(k.retention_hours)),
                    None => (None, 24),
                }
            } else {
                (None, 24)
            };
            s.stream = Some(StreamBlock {
                arn: (m.source_arn != own_stream).then(|| m.source_arn.clone()),
                shard_count: shards,
                retention_period: retention,
                starting_position: st
                    .starting_position
                    .clone()
                    .unwrap_or_else(|| "LATEST".into()),
                batch_size: i64::from(st.batch_size),
                maximum_batching_window: i64::from(st.maximum_batching_window_s),
                parallelization_factor: i64::from(st.parallelization_factor.unwrap_or(1)),
                bisect_batch_on_function_error: st.bisect_batch_on_function_error.unwrap_or(false),
                maximum_retry_attempts: i64::from(st.maximum_retry_attempts.unwrap_or(-1)),
                maximum_record_age: i64::from(st.maximum_record_age_s.unwrap_or(-1)),
                report_batch_item_failures: st.report_batch_item_failures,
                // Granted in the role's policy, read back from it below.
                allow_put_records: false,
            });
        } else if m.source_arn == own_queue {
            s.delivery = DELIVERY_QUEUE.to_owned();
            s.event_queue_arn = Some(m.source_arn.clone());
            s.event_queue_url =
                sqs::queue_url(&aws.sqs, &naming::event_queue_name(&s.name)).await?;
            s.queue_mapping_id = Some(m.uuid.clone());
            s.s3_permission_id = String::new();
            let queue = match &s.event_queue_url {
                Some(u) => sqs::queue(&aws.sqs, u).await?,
                None => None,
            };
            let visibility = queue
                .as_ref()
                .and_then(|q| q.settings.visibility_timeout_s)
                .map_or(s.function.timeout * 6, i64::from);
            // The redrive to the failure queue says after how many receives.
            let receives = queue
                .as_ref()
                .and_then(|q| q.settings.redrive.as_ref())
                .map_or(5, |(_, n)| i64::from(*n));
            let block = QueueBlock {
                visibility_timeout: visibility,
                max_receive_count: receives,
                batch_size: i64::from(st.batch_size),
                maximum_batching_window: i64::from(st.maximum_batching_window_s),
                maximum_concurrency: st.maximum_concurrency.map(i64::from),
                report_batch_item_failures: st.report_batch_item_failures,
            };
            s.queue = (block != default_queue_block(s.function.timeout)).then_some(block);
        }
    }
    Ok(())
}

/// The `logs` block a configuration needs to match what exists: none when
/// the group has the defaults (30 days, text logs).
fn logs_block(state: &State<Known>, f: &lambda::Function) -> Option<Logs<Known>> {
    let retention = state.log_group_retention_in_days.unwrap_or(30);
    let logging = f.settings.logging.clone();
    let format = logging.as_ref().map_or("Text", |l| l.format.as_str());
    if retention == 30 && format == "Text" {
        return None;
    }
    Some(Logs {
        retention_in_days: retention,
        format: format.to_owned(),
        // A level at Lambda's default reads as one left unset, as a
        // refresh reads it.
        application_log_level: logging
            .as_ref()
            .and_then(|l| desired::level_as_configured(&None, l.application_level.clone())),
        system_log_level: logging
            .as_ref()
            .and_then(|l| desired::level_as_configured(&None, l.system_level.clone())),
        keep_on_destroy: false,
    })
}

/// What adoption finds of a pipeline wired by hand, starting from its
/// function.
struct HandWired {
    function: lambda::Function,
    role_name: String,
    /// The bucket that notifies the function, and how.
    wiring: Wiring,
    /// The role's inline policy of the pipeline's name, when it has one.
    policy_json: String,
    log_group: Option<logs::LogGroup>,
    /// The role's other policies, described.
    foreign: Vec<String>,
}

impl HandWired {
    fn triggers(&self) -> Vec<Trigger<Known>> {
        self.wiring
            .notifications
            .iter()
            .map(adopted_trigger)
            .collect()
    }

    fn notification_ids(&self) -> Vec<String> {
        self.wiring
            .notifications
            .iter()
            .map(|n| n.id.clone())
            .collect()
    }
}

async fn adopt(
    aws: &AwsClients,
    function_name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Result<Imported, ImportError> {
    let f = lambda::get_function(&aws.lambda, function_name)
        .await?
        .ok_or_else(|| ImportError::NotFound {
            name: function_name.to_owned(),
            region: aws.region.clone(),
        })?;
    // A function a pipeline already owns (one whose function_name is not
    // its name, say) is imported as that pipeline.
    if let Some(owner) = f.tags.get(OWNER_TAG) {
        let owner = owner.clone();
        return Box::pin(import_own(aws, &owner, function_name, default_tags)).await;
    }
    let found = discover(aws, f, function_name).await?;
    let state = adopted_state(aws, &found, function_name, default_tags);
    let mut diags = Diagnostics::new();
    if !found.foreign.is_empty() {
        diags.push(foreign_policies_warning(&found.role_name, &found.foreign));
    }
    let (permission_sids, queue) = match &found.wiring.route {
        Route::Direct {
            permission_sids, ..
        } => (permission_sids.clone(), None),
        Route::Queue { queue_arn, mapping } => (
            Vec::new(),
            Some(AdoptedQueue {
                arn: queue_arn.clone(),
                mapping: mapping.uuid.clone(),
            }),
        ),
    };
    Ok(Imported {
        state,
        private: Private {
            code_sha256: Some(found.function.code_sha256.clone()),
            adopted: Some(Adopted {
                permission_sids,
                foreign_policies: found.foreign,
                queue,
            }),
            backfill: None,
        },
        diags,
    })
}

/// From the function: the bucket that notifies it ([`wiring::find`]),
/// then at once the role's policies, the pipeline's policy on it and the
/// function's log group.
async fn discover(
    aws: &AwsClients,
    f: lambda::Function,
    function_name: &str,
) -> Result<HandWired, ImportError> {
    let role_name = f
        .settings
        .role_arn
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let statements = lambda::permission_statements(&aws.lambda, function_name)
        .await?
        .unwrap_or_default();
    let wiring = wiring::find(aws, &wiring::Looks::default(), &f.arn, &statements, || {
        mappings::mappings(&aws.lambda, function_name)
    })
    .await?
    .ok_or_else(|| ImportError::NotWired(function_name.to_owned()))?;
    let group_name = naming::log_group_name(function_name);
    let (role_policies, pipeline_policy, log_group) = tokio::join!(
        iam::role_policies(&aws.iam, &role_name),
        iam::inline_policy(&aws.iam, &role_name, POLICY_NAME),
        logs::log_group(&aws.logs, &group_name),
    );
    let log_group = log_group?;
    let (inline, attached) = role_policies?;
    let policy_json = pipeline_policy?.unwrap_or_default();
    Ok(HandWired {
        role_name,
        wiring,
        policy_json,
        log_group,
        foreign: foreign_policies(inline, attached),
        function: f,
    })
}

/// A configuration that targets the function, as a trigger.
fn adopted_trigger(n: &s3::Notification) -> Trigger<Known> {
    Trigger {
        events: n.events.clone(),
        filter_prefix: n.prefix.clone().filter(|p| !p.is_empty()),
        filter_suffix: n.suffix.clone().filter(|s| !s.is_empty()),
    }
}

/// The role's policies other than the pipeline's own inline one.
fn foreign_policies(inline: Vec<String>, attached: Vec<String>) -> Vec<String> {
    inline
        .into_iter()
        .filter(|p| p != POLICY_NAME)
        .map(|p| format!("inline policy {p:?}"))
        .chain(attached.into_iter().map(|a| format!("managed policy {a}")))
        .collect()
}

/// The state of an adopted pipeline: what exists, and nothing the
/// pipeline would add (no queue, no stream, no log settings).
fn adopted_state(
    aws: &AwsClients,
    found: &HandWired,
    function_name: &str,
    default_tags: &BTreeMap<String, String>,
) -> State<Known> {
    let f = &found.function;
    let loc = location(aws, &f.arn);
    let user_tags = ownership::user_tags(&f.tags);
    let st = &f.settings;
    let mut function = function_block(f, String::new());
    function.environment = (!st.environment.is_empty()).then(|| st.environment.clone());
    function.description = (!st.description.is_empty()).then(|| st.description.clone());
    // A hand-made image function's repository is the user's: a given
    // `repository_name`, never made nor deleted by the pipeline.
    let repository = f.image_uri.as_deref().and_then(repository_of);
    if let Some(repo) = repository {
        function.image = Some(ImageBlock {
            base_image: None,
            repository_name: Some(repo.to_owned()),
            keep_images: defaults::DEFAULT_KEEP_IMAGES,
            scan_on_push: defaults::DEFAULT_SCAN_ON_PUSH,
        });
    }
    let mut state = State {
        id: function_name.to_owned(),
        name: function_name.to_owned(),
        bucket_name: found.wiring.bucket.clone(),
        // Not the pipeline's until the configuration says otherwise.
        create_bucket: false,
        force_destroy: false,
        output_prefix: None,
        // The refresh that follows reads the owned bucket's key.
        bucket_encryption: None,
        require_tls: true,
        tags: own_tags(&user_tags, default_tags),
        tags_all: user_tags,
        bucket_arn: policy::bucket_arn(&loc.partition, &found.wiring.bucket),
        role_name: found.role_name.clone(),
        role_arn: f.settings.role_arn.clone(),
        function_name: function_name.to_owned(),
        function_arn: f.arn.clone(),
        s3_permission_id: match &found.wiring.route {
            Route::Direct { sid, .. } => sid.clone(),
            Route::Queue { .. } => String::new(),
        },
        // Unknown: the first plan compares the package with the deployed code.
        source_code_hash: String::new(),
        source_files: SourceFiles::new(),
        source_file_count: 0,
        image_uri: f.image_uri.clone(),
        image_base_digest: None,
        image_repository_url: repository.map(|r| policy::repository_url(&loc, r)),
        policy_json: found.policy_json.clone(),
        notification_ids: found.notification_ids(),
        backfill: false,
        backfilled_objects: 0,
        failure_queue_arn: None,
        failure_queue_url: None,
        // Lambda's own group, when it made one, is adopted by the first apply.
        log_group_name: found
            .log_group
            .as_ref()
            .map(|_| naming::log_group_name(function_name))
            .unwrap_or_default(),
        log_group_retention_in_days: found
            .log_group
            .as_ref()
            .map(|g| g.retention_in_days.map_or(0, i64::from)),
        delivery: DELIVERY_DIRECT.to_owned(),
        stream_arn: None,
        stream_name: None,
        stream_mapping_id: None,
        event_queue_arn: None,
        event_queue_url: None,
        queue_mapping_id: None,
        alarm_arns: None,
        alarm_topic_arn: None,
        alarms: None,
        on_failure: None,
        logs: None,
        stream: None,
        queue: None,
        function,
        trigger: found.triggers(),
    };
    if let Route::Queue { mapping, .. } = &found.wiring.route {
        through_own_queue(&mut state, &loc, mapping);
    }
    state
}

/// A pipeline a bucket reached through a queue of the user's: it keeps
/// queue delivery, through a queue and mapping of its own that the first
/// apply makes (`<name>-events`, recorded as missing), drained as the
/// user's mapping drained theirs. The user's queue and mapping are left as
/// they are.
fn through_own_queue(s: &mut State<Known>, loc: &policy::Location, hand: &mappings::Mapping) {
    s.delivery = DELIVERY_QUEUE.to_owned();
    s.event_queue_arn = Some(policy::queue_arn(loc, &naming::event_queue_name(&s.name)));
    s.mark_missing(Part::EventQueue);
    s.mark_missing(Part::EventQueueMapping);
    let st = &hand.settings;
    let block = QueueBlock {
        visibility_timeout: s.function.timeout * 6,
        max_receive_count: 5,
        batch_size: i64::from(st.batch_size),
        maximum_batching_window: i64::from(st.maximum_batching_window_s),
        maximum_concurrency: st.maximum_concurrency.map(i64::from),
        report_batch_item_failures: st.report_batch_item_failures,
    };
    s.queue = (block != default_queue_block(s.function.timeout)).then_some(block);
}

/// The `queue` block's defaults for a function of `timeout` seconds.
fn default_queue_block(timeout: i64) -> QueueBlock<Known> {
    QueueBlock {
        visibility_timeout: timeout * 6,
        max_receive_count: 5,
        batch_size: 10,
        maximum_batching_window: 0,
        maximum_concurrency: None,
        report_batch_item_failures: false,
    }
}

fn foreign_policies_warning(role: &str, foreign: &[String]) -> Diagnostic {
    Diagnostic::warning(
        "Policies that are not the pipeline's stay on the role",
        format!(
            "Role {role:?} has policies the pipeline did not write: {}. The pipeline leaves them \
             in place; the least-privilege policy it adds does not take anything away while \
             they are there. Remove them yourself once the pipeline works without them.",
            foreign.join(", ")
        ),
    )
}

/// What the first apply after an adoption does that the plan's attribute
/// changes do not show on their own.
pub fn first_apply_warning(
    prior: &State<Known>,
    adopted: &Adopted,
    planned: &State<Planning>,
) -> Diagnostic {
    // The configured name, which the adoption takes in place.
    let name = planned.name.as_known().unwrap_or(&prior.name);
    let mut lines = vec![format!(
        "tags the role {:?} and the function {:?} with {OWNER_TAG} = {name:?}",
        prior.role_name, prior.function_name
    )];
    let takes_bucket = planned.create_bucket.as_known() == Some(&true);
    lines.push(if takes_bucket {
        format!(
            "takes over bucket {:?}: its tags, public access block, default encryption and, with \
             require_tls, the TLS-only statement in its policy (the bucket's other settings and \
             objects stay)",
            prior.bucket_name
        )
    } else {
        format!(
            "leaves bucket {:?} as it is, apart from the pipeline's notifications \
             (create_bucket = false)",
            prior.bucket_name
        )
    });
    let old: Vec<&String> = adopted
        .permission_sids
        .iter()
        .filter(|s| *s != naming::PERMISSION_SID)
        .collect();
    if !old.is_empty() {
        lines.push(format!(
            "adds the invoke permission {:?} scoped to the bucket and the account, then removes \
             the old statement(s) {old:?}",
            naming::PERMISSION_SID
        ));
    }
    let to = match &adopted.queue {
        Some(_) => {
            lines.push(format!(
                "makes the pipeline's event queue {:?} and its mapping to the function",
                naming::event_queue_name(name)
            ));
            " sending to that queue"
        }
        None => "",
    };
    lines.push(format!(
        "replaces the notification configuration(s) {:?} with one per trigger{to}, in one \
         write, so the bucket is never without one",
        prior.notification_ids
    ));
    if let Some(q) = &adopted.queue {
        lines.push(format!(
            "leaves the queue {} and its mapping {} as they are: the mapping drains what the \
             queue still holds; delete both once it is empty",
            q.arn, q.mapping
        ));
    }
    if !adopted.foreign_policies.is_empty() {
        lines.push(format!(
            "leaves the role's other policies in place: {}",
            adopted.foreign_policies.join(", ")
        ));
    }
    Diagnostic::warning(
        "Adopting a pipeline wired by hand",
        format!("The first apply {}.", lines.join("; ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::state::tests::known_state;

    fn hand_mapping(batch_size: i32) -> mappings::Mapping {
        mappings::Mapping {
            uuid: "hand-uuid".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:intake".into(),
            source_arn: "arn:aws:sqs:us-east-1:123456789012:intake-uploads".into(),
            settings: mappings::MappingSettings {
                batch_size,
                ..mappings::MappingSettings::default()
            },
            state: "Enabled".into(),
        }
    }

    fn loc() -> policy::Location {
        policy::Location {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
        }
    }

    #[test]
    fn a_queue_route_is_adopted_with_a_queue_and_mapping_of_its_own_to_make() {
        let mut s = known_state("intake");
        s.delivery = DELIVERY_DIRECT.into();
        s.s3_permission_id = String::new();
        through_own_queue(&mut s, &loc(), &hand_mapping(5));
        assert_eq!(s.delivery, DELIVERY_QUEUE);
        assert_eq!(
            s.event_queue_arn.as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:intake-events")
        );
        let present = s.present();
        assert!(!present.contains(Part::EventQueue) && !present.contains(Part::EventQueueMapping));
        assert!(!present.contains(Part::Permission));
        // Drained as the user's mapping drained theirs.
        assert_eq!(s.queue.as_ref().map(|q| q.batch_size), Some(5));
        // A mapping with the defaults needs no queue block.
        through_own_queue(&mut s, &loc(), &hand_mapping(10));
        assert_eq!(s.queue, None);
    }

    #[test]
    fn the_first_apply_warning_of_a_queue_route_names_both_queues() {
        let mut prior = known_state("intake");
        prior.notification_ids = vec!["intake-json-uploads".into()];
        let adopted = Adopted {
            permission_sids: Vec::new(),
            foreign_policies: Vec::new(),
            queue: Some(AdoptedQueue {
                arn: "arn:aws:sqs:us-east-1:123456789012:intake-uploads".into(),
                mapping: "hand-uuid".into(),
            }),
        };
        let planned = State::<Planning>::from_value(&prior.to_value()).expect("planning");
        let d = first_apply_warning(&prior, &adopted, &planned);
        for needle in [
            "\"intake-events\" and its mapping",
            "sending to that queue",
            "leaves the queue arn:aws:sqs:us-east-1:123456789012:intake-uploads and its mapping \
             hand-uuid",
        ] {
            assert!(d.detail.contains(needle), "{needle:?} in {}", d.detail);
        }
        assert!(
            !d.detail.contains("adds the invoke permission"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn the_repository_of_an_image_uri_is_its_path_without_digest_or_tag() {
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        assert_eq!(
            repository_of(&format!("{ecr}/orders@sha256:ab12")),
            Some("orders")
        );
        assert_eq!(
            repository_of(&format!("{ecr}/team/app:v1")),
            Some("team/app")
        );
        assert_eq!(
            repository_of("127.0.0.1:5000/team/app@sha256:ab"),
            Some("team/app")
        );
        assert_eq!(repository_of("127.0.0.1:5000/app"), Some("app"));
        assert_eq!(repository_of("no-repository"), None);
    }

    #[test]
    fn the_images_kept_are_read_from_the_pipelines_lifecycle_policy() {
        let doc = super::super::ecr_policy::lifecycle_policy(4);
        assert_eq!(kept_images(&doc), Some(4));
        assert_eq!(kept_images("{\"rules\": []}"), None);
        assert_eq!(kept_images("not json"), None);
    }

    #[test]
    fn an_image_functions_source_files_are_recorded_when_they_hash_on_its_base() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("app.py"), "def handler(e, c): pass\n").expect("write");
        let d = dir.path().to_str().expect("utf-8");
        let tree = Source::of_kind(Some(d), Kind::Image)
            .digest()
            .expect("known")
            .expect("read")
            .hash
            .clone();
        let deployed = image_hash(&tree, "sha256:base");
        assert_eq!(recorded_files(Some(d), &deployed, Some("sha256:base")).1, 1);
        // Another base: not the code deployed.
        assert_eq!(
            recorded_files(Some(d), &deployed, Some("sha256:other")).1,
            0
        );
        assert_eq!(recorded_files(Some(d), &tree, None).1, 1);
    }
}
