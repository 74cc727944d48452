//! `terraform import eventpipe_event_pipeline.x NAME`: a pipeline's state
//! rebuilt from AWS alone, starting from its function (whose tags record
//! the bucket, the source directory and the source hash).

use std::collections::BTreeMap;

use crate::aws::{AwsClients, lambda};

use super::errors::ImportError;
use super::ownership::{
    self, BUCKET_TAG, FORCE_DESTROY_TAG, OWNER_TAG, SOURCE_DIR_TAG, SOURCE_HASH_TAG,
};
use super::private::Private;
use super::refresh;
use super::state::{Function, Known, State};
use super::{naming, policy};

/// The state of pipeline `name`, and the private data to keep with it.
pub async fn import(
    aws: &AwsClients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Result<(State<Known>, Private), ImportError> {
    let function_name = naming::function_name(name);
    let f = lambda::get_function(&aws.lambda, &function_name)
        .await?
        .ok_or_else(|| ImportError::NotFound {
            name: function_name.clone(),
            region: aws.region.clone(),
        })?;
    if f.tags.get(OWNER_TAG).map(String::as_str) != Some(name) {
        return Err(ImportError::NotOurs(function_name));
    }
    let bucket = f
        .tags
        .get(BUCKET_TAG)
        .cloned()
        .ok_or(ImportError::MissingTag(BUCKET_TAG))?;
    let loc = policy::Location {
        partition: policy::partition_of(&aws.region).to_owned(),
        region: aws.region.clone(),
        account_id: policy::account_of_arn(&f.arn)
            .unwrap_or_default()
            .to_owned(),
    };
    let user_tags = ownership::user_tags(&f.tags);
    // What the provider's default_tags add is not the resource's own.
    let own_tags: BTreeMap<String, String> = user_tags
        .iter()
        .filter(|(k, v)| default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let seen = refresh::observe(aws, name, &bucket, true).await?;
    // The role's policy as IAM has it is what the state records; the
    // output prefix is the one it grants PutObject under.
    let policy_json = seen.policy.clone().unwrap_or_default();
    let role_name = naming::role_name(name);
    let st = &f.settings;
    let skeleton = State {
        id: name.to_owned(),
        name: name.to_owned(),
        bucket_name: bucket.clone(),
        force_destroy: f.tags.get(FORCE_DESTROY_TAG).is_some_and(|v| v == "true"),
        output_prefix: policy::output_prefix_of(&policy_json),
        require_tls: true,
        tags: (!own_tags.is_empty()).then_some(own_tags),
        tags_all: user_tags,
        bucket_arn: policy::bucket_arn(&loc.partition, &bucket),
        role_arn: policy::role_arn(&loc, &role_name),
        role_name,
        function_name,
        function_arn: f.arn.clone(),
        s3_permission_id: naming::PERMISSION_SID.to_owned(),
        source_code_hash: f.tags.get(SOURCE_HASH_TAG).cloned().unwrap_or_default(),
        policy_json: policy_json.clone(),
        function: Function {
            source_dir: f.tags.get(SOURCE_DIR_TAG).cloned().unwrap_or_default(),
            handler: st.handler.clone(),
            runtime: st.runtime.clone(),
            memory_size: i64::from(st.memory_mb),
            timeout: i64::from(st.timeout_s),
            environment: None,
            architecture: f.architecture.clone(),
            description: None,
        },
        trigger: Vec::new(),
    };
    let mut state = refresh::merge(&skeleton, &seen, &Private::default());
    state.policy_json = policy_json;
    let private = Private {
        code_sha256: Some(f.code_sha256.clone()),
    };
    Ok((state, private))
}
