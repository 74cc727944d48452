//! Refresh and import: what exists in AWS, written back into the state so
//! the next plan shows every difference. A part that went missing keeps its
//! place in the state with an empty identifier, so the next apply re-creates
//! just that part.

use std::collections::BTreeMap;

use crate::aws::{AwsClients, AwsError, iam, lambda, s3};
use tfsdk::value::{Number, Value};

use super::apply::POLICY_NAME;
use super::model::{self, Private};
use super::{naming, policy};

/// What AWS holds for one pipeline.
#[derive(Debug, Default)]
pub struct Observed {
    pub bucket_tags: Option<BTreeMap<String, String>>,
    pub bucket_policy: Option<Option<String>>,
    pub role: Option<iam::Role>,
    pub policy: Option<String>,
    pub function: Option<lambda::Function>,
    pub permission: Option<bool>,
    pub triggers: Option<Vec<s3::LambdaTrigger>>,
}

impl Observed {
    pub fn nothing_left(&self) -> bool {
        self.bucket_tags.is_none() && self.role.is_none() && self.function.is_none()
    }
}

/// Looks every part up at once (six to seven calls, concurrently).
pub async fn observe(
    aws: &AwsClients,
    name: &str,
    bucket: &str,
    with_bucket_policy: bool,
) -> Result<Observed, AwsError> {
    let role_name = naming::role_name(name);
    let function_name = naming::function_name(name);
    let id_prefix = naming::notification_id_prefix(name);
    let (bucket_tags, triggers, role, policy, function, permission, bucket_policy) = tokio::join!(
        s3::bucket_tags(&aws.s3, bucket),
        s3::lambda_triggers(&aws.s3, bucket, &id_prefix),
        iam::get_role(&aws.iam, &role_name),
        iam::inline_policy(&aws.iam, &role_name, POLICY_NAME),
        lambda::get_function(&aws.lambda, &function_name),
        lambda::has_permission(&aws.lambda, &function_name, naming::PERMISSION_SID),
        async {
            if with_bucket_policy {
                s3::bucket_policy(&aws.s3, bucket).await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    Ok(Observed {
        bucket_tags: bucket_tags?,
        bucket_policy: bucket_policy?,
        role: role?,
        policy: policy?,
        function: function?,
        permission: permission?.filter(|p| *p).map(|_| true),
        triggers: triggers?,
    })
}

fn set(obj: &mut Value, key: &str, v: Value) {
    if let Value::Object(m) = obj {
        m.insert(key.to_owned(), v);
    }
}

fn get<'a>(obj: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    match obj {
        Value::Object(m) => m.get(key).unwrap_or(&NULL),
        _ => &NULL,
    }
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Keeps `prior` when it means the same as what AWS says (null vs empty).
fn optional_string(prior: &Value, actual: &str) -> Value {
    match prior {
        Value::Null if actual.is_empty() => Value::Null,
        _ => Value::String(actual.to_owned()),
    }
}

fn optional_map(prior: &Value, actual: &BTreeMap<String, String>) -> Value {
    match prior {
        Value::Null if actual.is_empty() => Value::Null,
        _ => string_map(actual),
    }
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

/// Writes what was observed into `state` (a known state of this pipeline).
pub fn merge(state: &Value, seen: &Observed, private: &Private) -> Value {
    let mut s = state.clone();
    let empty = || Value::String(String::new());

    if seen.bucket_tags.is_none() {
        set(&mut s, "bucket_arn", empty());
    }
    if let Some(Some(doc)) = &seen.bucket_policy {
        set(
            &mut s,
            "require_tls",
            Value::Bool(doc.contains("aws:SecureTransport")),
        );
    } else if let Some(None) = &seen.bucket_policy {
        set(&mut s, "require_tls", Value::Bool(false));
    }

    match &seen.role {
        None => {
            set(&mut s, "role_arn", empty());
            set(&mut s, "policy_json", empty());
        }
        Some(_) => {
            let prior = get(state, "policy_json")
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let actual = seen.policy.clone().unwrap_or_default();
            if !same_json(&prior, &actual) {
                set(&mut s, "policy_json", Value::String(actual));
            }
        }
    }

    match &seen.function {
        None => {
            set(&mut s, "function_arn", empty());
            set(&mut s, "s3_permission_id", empty());
        }
        Some(f) => {
            let prior_fn = get(state, "function").clone();
            let mut func = prior_fn.clone();
            let st = &f.settings;
            set(&mut func, "handler", Value::String(st.handler.clone()));
            set(&mut func, "runtime", Value::String(st.runtime.clone()));
            set(
                &mut func,
                "memory_size",
                Value::Number(Number::from(i64::from(st.memory_mb))),
            );
            set(
                &mut func,
                "timeout",
                Value::Number(Number::from(i64::from(st.timeout_s))),
            );
            set(
                &mut func,
                "architecture",
                Value::String(f.architecture.clone()),
            );
            set(
                &mut func,
                "description",
                optional_string(get(&prior_fn, "description"), &st.description),
            );
            set(
                &mut func,
                "environment",
                optional_map(get(&prior_fn, "environment"), &st.environment),
            );
            set(&mut s, "function", func);

            // Code changed outside Terraform: neither what we uploaded last
            // nor (after import) what the source-hash tag records.
            let ours = private.code_sha256.as_deref();
            if ours.is_some_and(|c| c != f.code_sha256) {
                set(
                    &mut s,
                    "source_code_hash",
                    Value::String(format!(
                        "changed outside Terraform (CodeSha256 {})",
                        f.code_sha256
                    )),
                );
            }
            let user_tags: BTreeMap<String, String> = f
                .tags
                .iter()
                .filter(|(k, _)| !model::is_internal_tag(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            set(&mut s, "tags_all", string_map(&user_tags));
            let permission = if seen.permission == Some(true) {
                Value::String(naming::PERMISSION_SID.to_owned())
            } else {
                empty()
            };
            set(&mut s, "s3_permission_id", permission);
        }
    }

    // Triggers as the bucket has them, in our id order.
    let mut triggers = seen.triggers.clone().unwrap_or_default();
    let name = get(state, "name").as_str().unwrap_or_default().to_owned();
    let prefix = naming::notification_id_prefix(&name);
    triggers.sort_by_key(|t| {
        t.id.strip_prefix(&prefix)
            .and_then(|i| i.parse::<usize>().ok())
    });
    let prior_triggers = match get(state, "trigger") {
        Value::List(items) => items.clone(),
        _ => Vec::new(),
    };
    let list = triggers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let prior = prior_triggers.get(i).cloned().unwrap_or(Value::Null);
            let keep_or = |key: &str, actual: &Option<String>| {
                let p = get(&prior, key);
                let a = actual.as_deref().unwrap_or("");
                if p.as_str().unwrap_or("") == a {
                    p.clone()
                } else {
                    Value::String(a.to_owned())
                }
            };
            Value::object([
                (
                    "events",
                    Value::List(t.events.iter().map(|e| Value::String(e.clone())).collect()),
                ),
                ("filter_prefix", keep_or("filter_prefix", &t.prefix)),
                ("filter_suffix", keep_or("filter_suffix", &t.suffix)),
            ])
        })
        .collect();
    set(&mut s, "trigger", Value::List(list));
    s
}

/// Builds a state for `name` from AWS alone (import). `None` when there is
/// no function of that name managed by eventpipe.
pub async fn import_state(
    aws: &AwsClients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Result<Option<(Value, Private)>, ImportError> {
    let function_name = naming::function_name(name);
    let Some(f) = lambda::get_function(&aws.lambda, &function_name).await? else {
        return Ok(None);
    };
    if f.tags.get(model::OWNER_TAG).map(String::as_str) != Some(name) {
        return Err(ImportError::NotOurs(function_name));
    }
    let bucket = f
        .tags
        .get(model::BUCKET_TAG)
        .cloned()
        .ok_or(ImportError::MissingTag(model::BUCKET_TAG))?;
    let source_dir = f
        .tags
        .get(model::SOURCE_DIR_TAG)
        .cloned()
        .unwrap_or_default();
    let source_hash = f
        .tags
        .get(model::SOURCE_HASH_TAG)
        .cloned()
        .unwrap_or_default();
    let account = policy::account_of_arn(&f.arn)
        .unwrap_or_default()
        .to_owned();
    let loc = policy::Location {
        partition: policy::partition_of(&aws.region).to_owned(),
        region: aws.region.clone(),
        account_id: account,
    };
    let user_tags: BTreeMap<String, String> = f
        .tags
        .iter()
        .filter(|(k, _)| !model::is_internal_tag(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let own_tags: BTreeMap<String, String> = user_tags
        .iter()
        .filter(|(k, v)| default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let skeleton = Value::object([
        ("id", Value::String(name.to_owned())),
        ("name", Value::String(name.to_owned())),
        ("bucket_name", Value::String(bucket.clone())),
        (
            "bucket_arn",
            Value::String(policy::bucket_arn(&loc.partition, &bucket)),
        ),
        (
            "force_destroy",
            Value::Bool(
                f.tags
                    .get(model::FORCE_DESTROY_TAG)
                    .is_some_and(|v| v == "true"),
            ),
        ),
        ("require_tls", Value::Bool(true)),
        ("output_prefix", Value::Null),
        (
            "tags",
            if own_tags.is_empty() {
                Value::Null
            } else {
                string_map(&own_tags)
            },
        ),
        ("tags_all", string_map(&user_tags)),
        ("role_name", Value::String(naming::role_name(name))),
        (
            "role_arn",
            Value::String(policy::role_arn(&loc, &naming::role_name(name))),
        ),
        ("function_name", Value::String(function_name.clone())),
        ("function_arn", Value::String(f.arn.clone())),
        (
            "s3_permission_id",
            Value::String(naming::PERMISSION_SID.to_owned()),
        ),
        ("source_code_hash", Value::String(source_hash)),
        ("policy_json", Value::String(String::new())),
        (
            "function",
            Value::object([
                ("source_dir", Value::String(source_dir)),
                ("handler", Value::Null),
                ("runtime", Value::Null),
                ("memory_size", Value::Null),
                ("timeout", Value::Null),
                ("environment", Value::Null),
                ("architecture", Value::Null),
                ("description", Value::Null),
            ]),
        ),
        ("trigger", Value::List(Vec::new())),
    ]);
    let seen = observe(aws, name, &bucket, true).await?;
    let private = Private {
        code_sha256: Some(f.code_sha256.clone()),
    };
    let mut state = merge(&skeleton, &seen, &Private::default());
    // The role's policy as IAM has it is what the state records; the
    // output prefix is the one it grants PutObject under.
    let policy = seen.policy.clone().unwrap_or_default();
    if let Some(prefix) = policy::output_prefix_of(&policy) {
        set(&mut state, "output_prefix", Value::String(prefix));
    }
    set(&mut state, "policy_json", Value::String(policy));
    Ok(Some((state, private)))
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error(
        "Lambda function {0:?} exists but is not managed by eventpipe (no matching ownership tag)"
    )]
    NotOurs(String),
    #[error("the function lacks the {0} tag that eventpipe sets; it cannot be imported")]
    MissingTag(&'static str),
}
