//! Create and update as explicit steps. Both converge the parts that exist
//! ([`Have`]) towards the planned [`Spec`]: create starts from nothing, an
//! update from the prior state (where Read marked missing parts), so a part
//! deleted out of band is re-created rather than the whole pipeline.
//!
//! Order: bucket ‖ (role → function → permission, with the package built
//! alongside the role) → notification, with the wait for a new function
//! beside the notification. A failed create is rolled back.

use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use crate::aws::retry::{Backoff, until_consistent};
use crate::aws::{AwsClients, AwsError, iam, lambda, s3};

use super::errors::ApplyError;
use super::model::{FunctionSpec, Have, OWNER_TAG, Private, Spec};
use super::package::{self, Package};
use super::{naming, policy, source};
use tfsdk::value::Value;

/// The inline policy's name on the role.
pub const POLICY_NAME: &str = "eventpipe";

/// Parts this run made, or adopted from an earlier interrupted run of the
/// same pipeline (its ownership tag says so): a failed create rolls them back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Created {
    pub bucket: bool,
    pub role: bool,
    pub function: bool,
    pub permission: bool,
    /// The function was found, not made: its permission may exist already.
    pub function_adopted: bool,
    /// The bucket was made by this run (not adopted): it has no
    /// notifications of anyone else's to keep.
    pub bucket_new: bool,
}

impl Created {
    pub fn any(&self) -> bool {
        self.bucket || self.role || self.function || self.permission
    }
}

fn check_stop(stop: &CancellationToken, step: &'static str) -> Result<(), ApplyError> {
    if stop.is_cancelled() {
        Err(ApplyError::Cancelled { step })
    } else {
        Ok(())
    }
}

/// Who owns a part that is not ours, and what the user can do about it.
fn owner_note(tags: &std::collections::BTreeMap<String, String>, pipeline: &str) -> String {
    match tags.get(OWNER_TAG) {
        Some(owner) => format!(
            " (its {OWNER_TAG} tag says it belongs to pipeline {owner:?}); choose another name"
        ),
        None => format!(
            " (it has no {OWNER_TAG} tag); choose another name, or, if an interrupted apply of \
             this pipeline left it behind, tag it {OWNER_TAG} = {pipeline:?} so the next apply \
             adopts it"
        ),
    }
}

/// Brings AWS to `want`. `prior` is the known prior state of an update.
pub async fn converge(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    prior: Option<&Spec>,
    have: &Have,
    private: &Private,
) -> (Result<Private, ApplyError>, Created) {
    let created = Mutex::new(Created::default());
    let result = converge_inner(aws, stop, want, prior, have, private, &created).await;
    let created = created.into_inner().unwrap_or_default();
    (result, created)
}

fn mark(created: &Mutex<Created>, f: impl FnOnce(&mut Created)) {
    if let Ok(mut c) = created.lock() {
        f(&mut c);
    }
}

async fn converge_inner(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    prior: Option<&Spec>,
    have: &Have,
    private: &Private,
    created: &Mutex<Created>,
) -> Result<Private, ApplyError> {
    let account = policy::account_of_arn(&want.role_arn)
        .ok_or_else(|| {
            ApplyError::BadPlan(format!("role ARN {:?} names no account", want.role_arn))
        })?
        .to_owned();

    let needs_code = !have.function
        || prior.is_none_or(|p| {
            p.source_code_hash != want.source_code_hash
                || p.function.architecture != want.function.architecture
        });

    let bucket = bucket_step(aws, stop, want, prior, have, created);
    let role_then_function = async {
        let (role, pkg) = tokio::join!(
            role_step(aws, stop, want, prior, have, &account, created),
            async {
                if needs_code {
                    build_package(want).await.map(Some)
                } else {
                    Ok(None)
                }
            }
        );
        role?;
        let pkg = pkg?;
        let private =
            function_step(aws, stop, want, prior, have, pkg.as_ref(), private, created).await?;
        // The permission needs only the function, not the bucket.
        permission_step(aws, stop, want, have, &account, created).await?;
        Ok::<_, ApplyError>(private)
    };
    let (bucket, function) = tokio::join!(bucket, role_then_function);
    bucket?;
    let private = function?;

    let fresh = snapshot(created)?;
    // A function made by this run is waited for (until Active) beside the
    // notification, which does not need it to be Active: the wait is off
    // the create's critical path.
    let wait = async {
        if fresh.function && !fresh.function_adopted {
            lambda::wait_ready(&aws.lambda, &want.function_name, stop)
                .await
                .map_err(ApplyError::aws("waiting for the function to become active"))
        } else {
            Ok(())
        }
    };
    let (waited, notified) =
        tokio::join!(wait, notification_step(aws, stop, want, prior, have, fresh));
    waited?;
    notified?;
    Ok(private)
}

fn snapshot(created: &Mutex<Created>) -> Result<Created, ApplyError> {
    created
        .lock()
        .map(|c| *c)
        .map_err(|_| ApplyError::BadPlan("lock poisoned".into()))
}

/// The permission for S3 to invoke the function (once the function exists).
async fn permission_step(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    have: &Have,
    account: &str,
    created: &Mutex<Created>,
) -> Result<(), ApplyError> {
    let fresh = snapshot(created)?;
    check_stop(stop, "adding the invoke permission")?;
    if !have.permission || fresh.function {
        let step = "adding the permission for S3 to invoke the function";
        // An adopted function may carry the statement already; some
        // implementations accept a duplicate statement id, so look first.
        let present = fresh.function_adopted
            && lambda::has_permission(&aws.lambda, &want.function_name, naming::PERMISSION_SID)
                .await
                .map_err(ApplyError::aws(step))?
                == Some(true);
        if !present {
            lambda::add_s3_permission(
                &aws.lambda,
                &want.function_name,
                naming::PERMISSION_SID,
                &want.bucket_arn,
                account,
            )
            .await
            .map_err(ApplyError::aws(step))?;
        }
        mark(created, |c| c.permission = true);
    }
    Ok(())
}

/// The bucket notification (once the bucket and the permission exist).
async fn notification_step(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    prior: Option<&Spec>,
    have: &Have,
    fresh: Created,
) -> Result<(), ApplyError> {
    check_stop(stop, "configuring the bucket notification")?;
    let triggers_changed = prior.is_none_or(|p| {
        p.triggers.len() != want.triggers.len()
            || p.triggers
                .iter()
                .zip(&want.triggers)
                .any(|(a, b)| !a.same_as(b))
    });
    if triggers_changed || !have.bucket || fresh.function || fresh.bucket {
        put_triggers(aws, stop, want, fresh.bucket_new).await?;
    }
    Ok(())
}

async fn bucket_step(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    prior: Option<&Spec>,
    have: &Have,
    created: &Mutex<Created>,
) -> Result<(), ApplyError> {
    check_stop(stop, "creating the bucket")?;
    let s3c = &aws.s3;
    let step = "creating the bucket";
    let partition = policy::partition_of(&aws.region);
    if !have.bucket {
        // Look first: in us-east-1 S3 answers 200 to creating a bucket you
        // already own, so CreateBucket alone cannot tell ours from another's.
        // Other regions answer BucketAlreadyOwnedByYou on AWS, but emulators
        // differ (moto answers 200 there too), so look everywhere: one call
        // on the critical path buys never adopting someone else's bucket.
        let existing = s3::bucket_tags(s3c, &want.bucket)
            .await
            .map_err(ApplyError::aws(step))?;
        let existing = match existing {
            Some(tags) => Some(tags),
            None => match s3::create_bucket(s3c, &want.bucket, &aws.region)
                .await
                .map_err(ApplyError::aws(step))?
            {
                s3::Created::New => None,
                s3::Created::AlreadyOwned => Some(
                    s3::bucket_tags(s3c, &want.bucket)
                        .await
                        .map_err(ApplyError::aws(step))?
                        .unwrap_or_default(),
                ),
            },
        };
        if existing.is_none() {
            mark(created, |c| c.bucket_new = true);
        }
        if let Some(tags) = existing {
            if tags.get(OWNER_TAG) != Some(&want.name) {
                return Err(ApplyError::NotOurs {
                    what: format!("S3 bucket {:?}", want.bucket),
                    pipeline: want.name.clone(),
                    owner: owner_note(&tags, &want.name),
                });
            }
            tracing::info!(bucket = %want.bucket, "adopting bucket left by an earlier run");
        }
        mark(created, |c| c.bucket = true);
        // Tags first: S3 cannot tag a bucket as it creates it, and the
        // ownership tag is what lets a run interrupted from here on adopt
        // the bucket instead of refusing it.
        s3::put_bucket_tags(s3c, &want.bucket, &want.part_tags())
            .await
            .map_err(ApplyError::aws("tagging the bucket"))?;
        let step = "securing the bucket (public access block, encryption)";
        s3::secure_bucket(s3c, &want.bucket)
            .await
            .map_err(ApplyError::aws(step))?;
        if want.require_tls {
            let doc = policy::tls_only_bucket_policy(partition, &want.bucket);
            s3::put_bucket_policy(s3c, &want.bucket, &doc)
                .await
                .map_err(ApplyError::aws("setting the TLS-only bucket policy"))?;
        }
        return Ok(());
    }
    let prior_tls = prior.is_none_or(|p| p.require_tls);
    if prior_tls != want.require_tls {
        let step = "changing the TLS-only bucket policy";
        if want.require_tls {
            let doc = policy::tls_only_bucket_policy(partition, &want.bucket);
            s3::put_bucket_policy(s3c, &want.bucket, &doc)
                .await
                .map_err(ApplyError::aws(step))?;
        } else {
            s3::delete_bucket_policy(s3c, &want.bucket)
                .await
                .map_err(ApplyError::aws(step))?;
        }
    }
    if prior.is_none_or(|p| p.tags_all != want.tags_all) {
        s3::put_bucket_tags(s3c, &want.bucket, &want.part_tags())
            .await
            .map_err(ApplyError::aws("tagging the bucket"))?;
    }
    Ok(())
}

async fn role_step(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    prior: Option<&Spec>,
    have: &Have,
    account: &str,
    created: &Mutex<Created>,
) -> Result<(), ApplyError> {
    check_stop(stop, "creating the role")?;
    let step = "creating the role";
    let description = format!("Execution role of eventpipe pipeline {}", want.name);
    let mut put_policy = prior.is_none_or(|p| p.policy_json != want.policy_json);
    if !have.role {
        let trust = policy::trust_policy(account);
        match iam::create_role(
            &aws.iam,
            &want.role_name,
            &trust,
            &description,
            &want.part_tags(),
        )
        .await
        .map_err(ApplyError::aws(step))?
        {
            Some(_) => mark(created, |c| c.role = true),
            None => {
                let role = iam::get_role(&aws.iam, &want.role_name)
                    .await
                    .map_err(ApplyError::aws(step))?
                    .ok_or_else(|| ApplyError::Aws {
                        step,
                        source: AwsError::Unexpected(format!(
                            "role {} both exists and does not",
                            want.role_name
                        )),
                    })?;
                if role.tags.get(OWNER_TAG) != Some(&want.name) {
                    return Err(ApplyError::NotOurs {
                        what: format!("IAM role {:?}", want.role_name),
                        pipeline: want.name.clone(),
                        owner: owner_note(&role.tags, &want.name),
                    });
                }
                tracing::info!(role = %want.role_name, "adopting role left by an earlier run");
                mark(created, |c| c.role = true);
                iam::sync_tags(&aws.iam, &want.role_name, &role.tags, &want.part_tags())
                    .await
                    .map_err(ApplyError::aws("tagging the role"))?;
            }
        }
        put_policy = true;
    } else if let Some(p) = prior
        && p.tags_all != want.tags_all
    {
        iam::sync_tags(&aws.iam, &want.role_name, &p.part_tags(), &want.part_tags())
            .await
            .map_err(ApplyError::aws("tagging the role"))?;
    }
    if put_policy {
        iam::put_inline_policy(&aws.iam, &want.role_name, POLICY_NAME, &want.policy_json)
            .await
            .map_err(ApplyError::aws("putting the role's inline policy"))?;
    }
    Ok(())
}

/// Packages the source on a blocking thread, checking it is what was planned.
async fn build_package(want: &Spec) -> Result<Package, ApplyError> {
    let dir = want.function.source_dir.clone();
    let planned = want.source_code_hash.clone();
    let joined = tokio::task::spawn_blocking(move || -> Result<Package, ApplyError> {
        let tree = source::scan(std::path::Path::new(&dir))?;
        let now = source::tree_hash(&tree)?;
        if now != planned {
            return Err(ApplyError::SourceChanged { dir, planned, now });
        }
        Ok(package::build(&tree)?)
    })
    .await;
    joined.unwrap_or_else(|e| Err(ApplyError::BadPlan(format!("packaging thread failed: {e}"))))
}

fn settings(want: &Spec) -> lambda::FunctionSettings {
    let f: &FunctionSpec = &want.function;
    lambda::FunctionSettings {
        role_arn: want.role_arn.clone(),
        handler: f.handler.clone(),
        runtime: f.runtime.clone(),
        memory_mb: f.memory_mb,
        timeout_s: f.timeout_s,
        environment: f.environment.clone().unwrap_or_default(),
        description: f.description.clone().unwrap_or_default(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn function_step(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    prior: Option<&Spec>,
    have: &Have,
    pkg: Option<&Package>,
    private: &Private,
    created: &Mutex<Created>,
) -> Result<Private, ApplyError> {
    check_stop(stop, "creating the function")?;
    let lc = &aws.lambda;
    let name = &want.function_name;
    let wanted = settings(want);
    let mut out = private.clone();
    if let Some(p) = pkg {
        out.code_sha256 = Some(p.code_sha256.clone());
    }
    if !have.function {
        let step = "creating the function";
        let pkg = pkg.ok_or_else(|| ApplyError::BadPlan("no package for a new function".into()))?;
        let made = lambda::create_function(
            lc,
            name,
            &wanted,
            &want.function.architecture,
            &pkg.zip,
            &want.function_tags(),
            stop,
        )
        .await
        .map_err(ApplyError::aws(step))?;
        if made.is_some() {
            // Recorded at once, so a failed wait (in `converge_inner`, beside
            // the permission and notification) still rolls it back.
            mark(created, |c| c.function = true);
            return Ok(out);
        }
        // A function of this name exists: adopt it only if it is ours.
        let f = lambda::get_function(lc, name)
            .await
            .map_err(ApplyError::aws(step))?
            .ok_or_else(|| ApplyError::Aws {
                step,
                source: AwsError::Unexpected(format!("function {name} both exists and does not")),
            })?;
        if f.tags.get(OWNER_TAG) != Some(&want.name) {
            return Err(ApplyError::NotOurs {
                what: format!("Lambda function {name:?}"),
                pipeline: want.name.clone(),
                owner: owner_note(&f.tags, &want.name),
            });
        }
        tracing::info!(function = %name, "adopting function left by an earlier run");
        mark(created, |c| {
            c.function = true;
            c.function_adopted = true;
        });
        lambda::wait_ready(lc, name, stop)
            .await
            .map_err(ApplyError::aws("waiting for the function to become active"))?;
        if f.settings != wanted {
            lambda::update_settings(lc, name, &wanted, stop)
                .await
                .map_err(ApplyError::aws("updating the function's settings"))?;
        }
        if f.code_sha256 != pkg.code_sha256 || f.architecture != want.function.architecture {
            lambda::update_code(lc, name, &want.function.architecture, &pkg.zip, stop)
                .await
                .map_err(ApplyError::aws("updating the function's code"))?;
        }
        lambda::sync_tags(lc, &want.function_arn, &f.tags, &want.function_tags())
            .await
            .map_err(ApplyError::aws("tagging the function"))?;
        return Ok(out);
    }
    let prior = prior.ok_or_else(|| ApplyError::BadPlan("update without prior state".into()))?;
    if settings(prior) != wanted {
        lambda::update_settings(lc, name, &wanted, stop)
            .await
            .map_err(ApplyError::aws("updating the function's settings"))?;
    }
    if let Some(pkg) = pkg {
        check_stop(stop, "updating the function's code")?;
        lambda::update_code(lc, name, &want.function.architecture, &pkg.zip, stop)
            .await
            .map_err(ApplyError::aws("updating the function's code"))?;
    }
    if prior.function_tags() != want.function_tags() {
        lambda::sync_tags(
            lc,
            &want.function_arn,
            &prior.function_tags(),
            &want.function_tags(),
        )
        .await
        .map_err(ApplyError::aws("tagging the function"))?;
    }
    Ok(out)
}

/// S3 checks that it may invoke the function when the notification is put;
/// a permission added a moment ago may not be visible to it yet.
fn permission_not_visible(e: &AwsError) -> bool {
    e.code() == Some("InvalidArgument") && e.message().contains("Unable to validate")
}

/// Writes the pipeline's triggers. On a bucket this run made there is
/// nothing else to keep, so the configuration is written without reading
/// it first (one call fewer on the create's critical path).
async fn put_triggers(
    aws: &AwsClients,
    stop: &CancellationToken,
    want: &Spec,
    bucket_new: bool,
) -> Result<(), ApplyError> {
    let triggers: Vec<s3::LambdaTrigger> = want
        .triggers
        .iter()
        .enumerate()
        .map(|(i, t)| s3::LambdaTrigger {
            id: naming::notification_id(&want.name, i),
            function_arn: want.function_arn.clone(),
            events: t.events.clone(),
            prefix: t.prefix.clone(),
            suffix: t.suffix.clone(),
        })
        .collect();
    let prefix = want.notification_prefix();
    until_consistent(
        "s3:PutBucketNotificationConfiguration",
        Backoff::PROPAGATION,
        stop,
        permission_not_visible,
        || async {
            if bucket_new {
                s3::put_lambda_triggers(&aws.s3, &want.bucket, &triggers).await
            } else {
                s3::replace_lambda_triggers(&aws.s3, &want.bucket, &prefix, &triggers).await
            }
        },
    )
    .await
    .map_err(ApplyError::aws("configuring the bucket notification"))
}

/// The state of a create that stopped part-way: the planned state with the
/// identifiers of the parts that do not exist left empty (as Read records a
/// missing part). Returned with an error, so Terraform keeps it as tainted
/// and the next apply replaces it; nothing is lost from Terraform's view.
pub fn partial_state(planned: &Value, made: &Created) -> Value {
    let mut s = planned.clone();
    if let Value::Object(m) = &mut s {
        let empty = || Value::String(String::new());
        if !made.bucket {
            m.insert("bucket_arn".to_owned(), empty());
        }
        if !made.role {
            m.insert("role_arn".to_owned(), empty());
            m.insert("policy_json".to_owned(), empty());
        }
        if !made.function {
            m.insert("function_arn".to_owned(), empty());
        }
        if !made.permission {
            m.insert("s3_permission_id".to_owned(), empty());
        }
    }
    s
}

/// Undoes what a failed create made, newest first. Returns the errors of
/// the undo steps that failed.
pub async fn roll_back(aws: &AwsClients, want: &Spec, created: Created) -> Vec<ApplyError> {
    let mut errors = Vec::new();
    if created.function
        && let Err(e) = lambda::delete_function(&aws.lambda, &want.function_name).await
    {
        errors.push(ApplyError::aws("rolling back the function")(e));
    }
    if created.role
        && let Err(e) = iam::delete_role(&aws.iam, &want.role_name).await
    {
        errors.push(ApplyError::aws("rolling back the role")(e));
    }
    if created.bucket {
        // A bucket made seconds ago; drop its policy first so emptying it
        // is allowed, then delete it.
        let r = async {
            s3::delete_bucket_policy(&aws.s3, &want.bucket).await?;
            s3::empty_bucket(&aws.s3, &want.bucket).await?;
            s3::delete_bucket(&aws.s3, &want.bucket).await
        }
        .await;
        if let Err(e) = r {
            errors.push(ApplyError::aws("rolling back the bucket")(e));
        }
    }
    errors
}
