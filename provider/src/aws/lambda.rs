//! Lambda: the function, its code, the invoke permission for S3, and
//! waiting until the function is ready for the next call.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, ImageConfig, LastUpdateStatus, PackageType, Runtime,
    State,
};
use tokio_util::sync::CancellationToken;

use super::AwsError;
use super::error::{err, found};
use super::retry::{Backoff, until_consistent};

/// The function's settings, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSettings {
    pub role_arn: String,
    pub handler: String,
    pub runtime: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub environment: BTreeMap<String, String>,
    pub description: String,
    /// Size of `/tmp`, in MB.
    pub ephemeral_mb: i32,
    /// Layer version ARNs, in order.
    pub layers: Vec<String>,
    /// Where and how the function logs; `None` when Lambda does not say
    /// (some emulators do not report it).
    pub logging: Option<Logging>,
    /// A container image function (`PackageType = Image`): it has no
    /// runtime and no layers, and its handler is the image's command
    /// (`ImageConfig.Command`), so those are neither sent nor read.
    pub image: bool,
}

/// A function's logging configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logging {
    pub group: String,
    /// `Text` or `JSON`.
    pub format: String,
    pub application_level: Option<String>,
    pub system_level: Option<String>,
}

fn logging_config(l: &Logging) -> aws_sdk_lambda::types::LoggingConfig {
    use aws_sdk_lambda::types::{ApplicationLogLevel, LogFormat, LoggingConfig, SystemLogLevel};
    let mut b = LoggingConfig::builder()
        .log_group(&l.group)
        .log_format(LogFormat::from(l.format.as_str()));
    if let Some(a) = &l.application_level {
        b = b.application_log_level(ApplicationLogLevel::from(a.as_str()));
    }
    if let Some(s) = &l.system_level {
        b = b.system_log_level(SystemLogLevel::from(s.as_str()));
    }
    b.build()
}

fn ephemeral(mb: i32) -> Result<aws_sdk_lambda::types::EphemeralStorage, AwsError> {
    Ok(aws_sdk_lambda::types::EphemeralStorage::builder()
        .size(mb)
        .build()?)
}

/// The function as Lambda reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub arn: String,
    pub settings: FunctionSettings,
    pub architecture: String,
    pub code_sha256: String,
    /// The image an image function runs (`Code.ImageUri`, as it was
    /// deployed; `ResolvedImageUri` when Lambda gives no `ImageUri`).
    pub image_uri: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency, when the function has some.
    pub reserved_concurrency: Option<i32>,
}

/// Lambda's words when a new role is not yet usable: IAM has not
/// propagated it. Retried for a bounded time.
fn role_not_ready(e: &AwsError) -> bool {
    e.code() == Some("InvalidParameterValueException")
        && e.message().contains("cannot be assumed by Lambda")
}

fn environment(vars: &BTreeMap<String, String>) -> Environment {
    Environment::builder()
        .set_variables(Some(
            vars.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ))
        .build()
}

/// Where a function's code comes from: the zip itself (up to 50 MB), an
/// object staged in S3, or a container image in ECR (by digest).
#[derive(Clone, Copy, Debug)]
pub enum Code<'a> {
    Zip(&'a [u8]),
    S3 { bucket: &'a str, key: &'a str },
    Image(&'a str),
}

/// The command an image function runs: its handler, as the image's own
/// `Cmd` already says. Set on the function too, so a change of `handler`
/// alone is a configuration update, and the handler reads back.
fn image_config(handler: &str) -> ImageConfig {
    ImageConfig::builder().command(handler).build()
}

fn function_code(code: Code<'_>) -> FunctionCode {
    match code {
        Code::Zip(zip) => FunctionCode::builder()
            .zip_file(Blob::new(zip.to_vec()))
            .build(),
        Code::S3 { bucket, key } => FunctionCode::builder()
            .s3_bucket(bucket)
            .s3_key(key)
            .build(),
        Code::Image(uri) => FunctionCode::builder().image_uri(uri).build(),
    }
}

/// Creates the function (retrying while IAM propagates a new role); the
/// caller then waits for it with [`wait_ready`]. `Ok(None)` when a function
/// of that name already exists.
pub async fn create_function(
    lambda: &Client,
    name: &str,
    settings: &FunctionSettings,
    architecture: &str,
    code: Code<'_>,
    tags: &BTreeMap<String, String>,
    stop: &CancellationToken,
) -> Result<Option<String>, AwsError> {
    let code = function_code(code);
    let tags: HashMap<String, String> = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let r = until_consistent(
        "lambda:CreateFunction",
        Backoff::PROPAGATION,
        stop,
        role_not_ready,
        || async {
            let req = lambda.create_function().function_name(name);
            let req = if settings.image {
                req.package_type(PackageType::Image)
                    .image_config(image_config(&settings.handler))
            } else {
                req.package_type(PackageType::Zip)
                    .handler(&settings.handler)
                    .runtime(Runtime::from(settings.runtime.as_str()))
                    .set_layers(Some(settings.layers.clone()))
            };
            req.role(&settings.role_arn)
                .memory_size(settings.memory_mb)
                .timeout(settings.timeout_s)
                .environment(environment(&settings.environment))
                .description(&settings.description)
                .ephemeral_storage(ephemeral(settings.ephemeral_mb)?)
                .set_logging_config(settings.logging.as_ref().map(logging_config))
                .architectures(Architecture::from(architecture))
                .code(code.clone())
                .set_tags(Some(tags.clone()))
                .publish(false)
                .send()
                .await
                .map_err(err("lambda:CreateFunction"))
        },
    )
    .await;
    match r {
        Ok(out) => Ok(Some(out.function_arn().unwrap_or_default().to_owned())),
        Err(e) if e.code() == Some("ResourceConflictException") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The function, or `None` when it does not exist.
pub async fn get_function(lambda: &Client, name: &str) -> Result<Option<Function>, AwsError> {
    Ok(get_function_and_status(lambda, name).await?.map(|(f, _)| f))
}

/// Where a function is in its life: `State` (`Pending`, `Active`,
/// `Inactive`, `Failed`) and `LastUpdateStatus` (`Successful`,
/// `InProgress`, `Failed`), with Lambda's reasons.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionStatus {
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update_status: Option<String>,
    pub last_update_reason: Option<String>,
}

/// The function and its status, from the one `GetFunction` call, or
/// `None` when it does not exist.
pub async fn get_function_and_status(
    lambda: &Client,
    name: &str,
) -> Result<Option<(Function, FunctionStatus)>, AwsError> {
    let r = lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .map_err(err("lambda:GetFunction"));
    let Some(out) = found(r)? else {
        return Ok(None);
    };
    let Some(c) = out.configuration() else {
        return Err(AwsError::Unexpected(format!(
            "GetFunction({name}) returned no configuration"
        )));
    };
    let image = c.package_type() == Some(&PackageType::Image);
    let handler = if image {
        c.image_config_response()
            .and_then(|r| r.image_config())
            .and_then(|i| i.command().first())
            .cloned()
            .unwrap_or_default()
    } else {
        c.handler().unwrap_or_default().to_owned()
    };
    let image_uri = out
        .code()
        .and_then(|code| code.image_uri().or(code.resolved_image_uri()))
        .map(str::to_owned);
    let status = FunctionStatus {
        state: c.state().map(|s| s.as_str().to_owned()),
        state_reason: c.state_reason().map(str::to_owned),
        last_update_status: c.last_update_status().map(|s| s.as_str().to_owned()),
        last_update_reason: c.last_update_status_reason().map(str::to_owned),
    };
    let function = Function {
        arn: c.function_arn().unwrap_or_default().to_owned(),
        settings: FunctionSettings {
            role_arn: c.role().unwrap_or_default().to_owned(),
            handler,
            runtime: c
                .runtime()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            memory_mb: c.memory_size().unwrap_or_default(),
            timeout_s: c.timeout().unwrap_or_default(),
            environment: c
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            description: c.description().unwrap_or_default().to_owned(),
            ephemeral_mb: c.ephemeral_storage().map_or(512, |e| e.size()),
            layers: c
                .layers()
                .iter()
                .filter_map(|l| l.arn().map(str::to_owned))
                .collect(),
            logging: c.logging_config().map(|l| Logging {
                group: l.log_group().unwrap_or_default().to_owned(),
                format: l
                    .log_format()
                    .map_or_else(|| "Text".to_owned(), |f| f.as_str().to_owned()),
                application_level: l.application_log_level().map(|a| a.as_str().to_owned()),
                system_level: l.system_log_level().map(|s| s.as_str().to_owned()),
            }),
            image,
        },
        architecture: c
            .architectures()
            .first()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_else(|| "x86_64".to_owned()),
        code_sha256: c.code_sha256().unwrap_or_default().to_owned(),
        image_uri: image_uri.filter(|_| image),
        tags: out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        reserved_concurrency: out
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions()),
    };
    Ok(Some((function, status)))
}

/// Waits until the function is Active and no update is in progress, so the
/// next call is not refused with ResourceConflictException.
pub async fn wait_ready(
    lambda: &Client,
    name: &str,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    let mut delay = Duration::from_millis(200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let c = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(err("lambda:GetFunctionConfiguration"))?;
        let state = c.state().cloned();
        let update = c.last_update_status().cloned();
        match (&state, &update) {
            (Some(State::Failed), _) | (_, Some(LastUpdateStatus::Failed)) => {
                return Err(AwsError::Service {
                    operation: "lambda:GetFunctionConfiguration",
                    code: "FunctionFailed".into(),
                    message: format!(
                        "function {name} failed: {}",
                        c.state_reason()
                            .or(c.last_update_status_reason())
                            .unwrap_or("no reason given")
                    ),
                    status: None,
                });
            }
            (Some(State::Pending), _) | (_, Some(LastUpdateStatus::InProgress)) => {}
            _ => return Ok(()),
        }
        if tokio::time::Instant::now() + delay > deadline {
            return Err(AwsError::Transport {
                operation: "lambda:GetFunctionConfiguration",
                message: format!("function {name} did not become ready within 5 minutes"),
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => return Ok(()),
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

pub async fn update_settings(
    lambda: &Client,
    name: &str,
    settings: &FunctionSettings,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    until_consistent(
        "lambda:UpdateFunctionConfiguration",
        Backoff::PROPAGATION,
        stop,
        role_not_ready,
        || async {
            let req = lambda.update_function_configuration().function_name(name);
            let req = if settings.image {
                req.image_config(image_config(&settings.handler))
            } else {
                req.handler(&settings.handler)
                    .runtime(Runtime::from(settings.runtime.as_str()))
                    .set_layers(Some(settings.layers.clone()))
            };
            req.role(&settings.role_arn)
                .memory_size(settings.memory_mb)
                .timeout(settings.timeout_s)
                .environment(environment(&settings.environment))
                .description(&settings.description)
                .ephemeral_storage(ephemeral(settings.ephemeral_mb)?)
                .set_logging_config(settings.logging.as_ref().map(logging_config))
                .send()
                .await
                .map_err(err("lambda:UpdateFunctionConfiguration"))
        },
    )
    .await?;
    wait_ready(lambda, name, stop).await
}

/// Uploads new code, then waits until the function is ready again.
pub async fn update_code(
    lambda: &Client,
    name: &str,
    architecture: &str,
    code: Code<'_>,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    upload_code(lambda, name, architecture, code).await?;
    wait_ready(lambda, name, stop).await
}

/// Uploads new code; the caller waits with [`wait_ready`].
pub async fn upload_code(
    lambda: &Client,
    name: &str,
    architecture: &str,
    code: Code<'_>,
) -> Result<(), AwsError> {
    let req = lambda.update_function_code().function_name(name);
    let req = match code {
        Code::Zip(zip) => req.zip_file(Blob::new(zip.to_vec())),
        Code::S3 { bucket, key } => req.s3_bucket(bucket).s3_key(key),
        Code::Image(uri) => req.image_uri(uri),
    };
    req.architectures(Architecture::from(architecture))
        .publish(false)
        .send()
        .await
        .map_err(err("lambda:UpdateFunctionCode"))?;
    Ok(())
}

/// Sets the function's tags to exactly `want`, given what it has now.
pub async fn sync_tags(
    lambda: &Client,
    arn: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    let stale = diff.remove;
    if !stale.is_empty() {
        lambda
            .untag_resource()
            .resource(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(err("lambda:UntagResource"))?;
    }
    let changed: HashMap<String, String> = diff.set.into_iter().collect();
    if !changed.is_empty() {
        lambda
            .tag_resource()
            .resource(arn)
            .set_tags(Some(changed))
            .send()
            .await
            .map_err(err("lambda:TagResource"))?;
    }
    Ok(())
}

/// Lets S3 invoke the function, but only for events from `bucket_arn` in
/// `account`. A statement already there under `sid` is kept.
pub async fn add_s3_permission(
    lambda: &Client,
    name: &str,
    sid: &str,
    bucket_arn: &str,
    account: &str,
) -> Result<(), AwsError> {
    let r = lambda
        .add_permission()
        .function_name(name)
        .statement_id(sid)
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn(bucket_arn)
        .source_account(account)
        .send()
        .await
        .map_err(err("lambda:AddPermission"));
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceConflictException") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether the function's resource policy has a statement `sid`; `None`
/// when the function does not exist.
pub async fn has_permission(
    lambda: &Client,
    name: &str,
    sid: &str,
) -> Result<Option<bool>, AwsError> {
    let r = lambda
        .get_policy()
        .function_name(name)
        .send()
        .await
        .map_err(err("lambda:GetPolicy"));
    match r {
        Ok(out) => {
            let doc: serde_json::Value = out
                .policy()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_default();
            let present = doc["Statement"]
                .as_array()
                .is_some_and(|s| s.iter().any(|st| st["Sid"] == sid));
            Ok(Some(present))
        }
        // No policy at all answers 404 too; tell the two apart.
        Err(e) if e.is_not_found() => Ok(get_function(lambda, name).await?.map(|_| false)),
        Err(e) => Err(e),
    }
}

/// One statement of a function's resource policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: String,
    /// The service principal, e.g. `s3.amazonaws.com`.
    pub service: Option<String>,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
}

/// The statements of the function's resource policy (none when it has no
/// policy); `None` when the function does not exist.
pub async fn permission_statements(
    lambda: &Client,
    name: &str,
) -> Result<Option<Vec<Statement>>, AwsError> {
    match policy_statements(lambda, name).await? {
        Some(statements) => Ok(Some(statements)),
        // No policy at all answers 404 too; tell the two apart.
        None => Ok(get_function(lambda, name).await?.map(|_| Vec::new())),
    }
}

/// The statements of the function's resource policy; `None` when Lambda
/// has none to give: the function has no policy, or is gone (one answer,
/// told apart by [`permission_statements`] alone).
pub async fn policy_statements(
    lambda: &Client,
    name: &str,
) -> Result<Option<Vec<Statement>>, AwsError> {
    let r = lambda
        .get_policy()
        .function_name(name)
        .send()
        .await
        .map_err(err("lambda:GetPolicy"));
    let Some(out) = found(r)? else {
        return Ok(None);
    };
    let doc: serde_json::Value = out
        .policy()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    Ok(Some(statements_of(&doc)))
}

fn statements_of(doc: &serde_json::Value) -> Vec<Statement> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    doc["Statement"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|st| {
                    let cond = &st["Condition"];
                    Statement {
                        sid: text(&st["Sid"]).unwrap_or_default(),
                        service: text(&st["Principal"]["Service"]),
                        source_arn: text(&cond["ArnLike"]["AWS:SourceArn"])
                            .or_else(|| text(&cond["ArnEquals"]["AWS:SourceArn"])),
                        source_account: text(&cond["StringEquals"]["AWS:SourceAccount"]),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A function as `ListFunctions` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSummary {
    pub name: String,
    pub arn: String,
}

/// One page of the region's functions, and the marker of the next page
/// (`None` after the last). At most `max_items` functions (Lambda's
/// limit is 50).
pub async fn functions_page(
    lambda: &Client,
    marker: Option<String>,
    max_items: i32,
) -> Result<(Vec<FunctionSummary>, Option<String>), AwsError> {
    let out = lambda
        .list_functions()
        .set_marker(marker)
        .max_items(max_items)
        .send()
        .await
        .map_err(err("lambda:ListFunctions"))?;
    let functions = out
        .functions()
        .iter()
        .filter_map(|f| {
            Some(FunctionSummary {
                name: f.function_name()?.to_owned(),
                arn: f.function_arn()?.to_owned(),
            })
        })
        .collect();
    let next = out
        .next_marker()
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    Ok((functions, next))
}

/// The function's tags (`ListTags`), or `None` when it is gone.
pub async fn tags(
    lambda: &Client,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let r = lambda
        .list_tags()
        .resource(arn)
        .send()
        .await
        .map_err(err("lambda:ListTags"));
    Ok(found(r)?.map(|out| {
        out.tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }))
}

/// Invokes the function asynchronously (`InvocationType = Event`): Lambda
/// queues the event and retries it as it does S3's.
pub async fn invoke_async(lambda: &Client, name: &str, payload: Vec<u8>) -> Result<(), AwsError> {
    lambda
        .invoke()
        .function_name(name)
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(err("lambda:Invoke"))?;
    Ok(())
}

/// What a synchronous invocation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokeResult {
    /// The HTTP status Lambda answered with (200 for a run, whether or not
    /// the function failed).
    pub status: i32,
    /// `Unhandled` or `Handled` when the function failed; the payload is
    /// then its error (`errorMessage`, `errorType`, `stackTrace`).
    pub function_error: Option<String>,
    /// What the function returned (or its error), as Lambda sent it.
    pub payload: Vec<u8>,
    /// With `tail_log`: the last 4 KB of the invocation's log, decoded.
    pub log_tail: Option<String>,
}

/// Invokes the function and waits for its result (`InvocationType =
/// RequestResponse`); with `tail_log`, asks for the end of its log
/// (`LogType = Tail`) and decodes it.
pub async fn invoke_sync(
    lambda: &Client,
    name: &str,
    payload: Vec<u8>,
    tail_log: bool,
) -> Result<InvokeResult, AwsError> {
    use aws_sdk_lambda::types::{InvocationType, LogType};
    use base64::Engine;
    let mut call = lambda
        .invoke()
        .function_name(name)
        .invocation_type(InvocationType::RequestResponse)
        .payload(Blob::new(payload));
    if tail_log {
        call = call.log_type(LogType::Tail);
    }
    let out = call.send().await.map_err(err("lambda:Invoke"))?;
    let log_tail = out.log_result().map(|encoded| {
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_or_else(
                |_| encoded.to_owned(),
                |bytes| String::from_utf8_lossy(&bytes).into_owned(),
            )
    });
    Ok(InvokeResult {
        status: out.status_code(),
        function_error: out.function_error().map(str::to_owned),
        payload: out
            .payload()
            .map(|p| p.as_ref().to_vec())
            .unwrap_or_default(),
        log_tail,
    })
}

pub async fn remove_permission(lambda: &Client, name: &str, sid: &str) -> Result<(), AwsError> {
    let r = lambda
        .remove_permission()
        .function_name(name)
        .statement_id(sid)
        .send()
        .await
        .map_err(err("lambda:RemovePermission"));
    found(r).map(|_| ())
}

/// How the function handles events it could not process (asynchronous
/// invocations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokeConfig {
    pub maximum_retry_attempts: i32,
    pub maximum_event_age_s: i32,
    /// Where failed events go (an SQS queue ARN).
    pub on_failure: Option<String>,
}

pub async fn put_invoke_config(
    lambda: &Client,
    name: &str,
    c: &InvokeConfig,
) -> Result<(), AwsError> {
    use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
    let destination = c.on_failure.as_ref().map(|arn| {
        DestinationConfig::builder()
            .on_failure(OnFailure::builder().destination(arn).build())
            .build()
    });
    lambda
        .put_function_event_invoke_config()
        .function_name(name)
        .maximum_retry_attempts(c.maximum_retry_attempts)
        .maximum_event_age_in_seconds(c.maximum_event_age_s)
        .set_destination_config(destination)
        .send()
        .await
        .map_err(err("lambda:PutFunctionEventInvokeConfig"))?;
    Ok(())
}

/// The function's asynchronous invoke configuration, or `None` when it has
/// none (or the function is gone).
pub async fn invoke_config(lambda: &Client, name: &str) -> Result<Option<InvokeConfig>, AwsError> {
    let r = lambda
        .get_function_event_invoke_config()
        .function_name(name)
        .send()
        .await
        .map_err(err("lambda:GetFunctionEventInvokeConfig"));
    Ok(found(r)?.map(|o| InvokeConfig {
        maximum_retry_attempts: o.maximum_retry_attempts().unwrap_or(2),
        maximum_event_age_s: o.maximum_event_age_in_seconds().unwrap_or(21_600),
        on_failure: o
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination())
            .map(str::to_owned),
    }))
}

pub async fn delete_invoke_config(lambda: &Client, name: &str) -> Result<(), AwsError> {
    let r = lambda
        .delete_function_event_invoke_config()
        .function_name(name)
        .send()
        .await
        .map_err(err("lambda:DeleteFunctionEventInvokeConfig"));
    found(r).map(|_| ())
}

/// The account's concurrency as Lambda reports it (GetAccountSettings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountConcurrency {
    /// The account's concurrent executions in all.
    pub total: Option<i32>,
    /// What no function has reserved.
    pub unreserved: Option<i32>,
}

/// The account's concurrent executions, in all and not reserved.
pub async fn account_concurrency(lambda: &Client) -> Result<AccountConcurrency, AwsError> {
    let out = lambda
        .get_account_settings()
        .send()
        .await
        .map_err(err("lambda:GetAccountSettings"))?;
    let limit = out.account_limit();
    Ok(AccountConcurrency {
        total: limit.map(|l| l.concurrent_executions()),
        unreserved: limit.and_then(|l| l.unreserved_concurrent_executions()),
    })
}

/// The function's reserved concurrency; `None` when it has none.
pub async fn concurrency(lambda: &Client, name: &str) -> Result<Option<i32>, AwsError> {
    let r = lambda
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .map_err(err("lambda:GetFunctionConcurrency"));
    Ok(found(r)?.and_then(|o| o.reserved_concurrent_executions()))
}

/// Reserves `n` concurrent executions (0 pauses the function), or, with
/// `None`, takes the reservation away.
pub async fn set_concurrency(lambda: &Client, name: &str, n: Option<i32>) -> Result<(), AwsError> {
    match n {
        Some(n) => {
            lambda
                .put_function_concurrency()
                .function_name(name)
                .reserved_concurrent_executions(n)
                .send()
                .await
                .map_err(err("lambda:PutFunctionConcurrency"))?;
            Ok(())
        }
        None => {
            let r = lambda
                .delete_function_concurrency()
                .function_name(name)
                .send()
                .await
                .map_err(err("lambda:DeleteFunctionConcurrency"));
            found(r).map(|_| ())
        }
    }
}

/// Deletes the function; one already gone is fine.
pub async fn delete_function(lambda: &Client, name: &str) -> Result<(), AwsError> {
    let r = lambda
        .delete_function()
        .function_name(name)
        .send()
        .await
        .map_err(err("lambda:DeleteFunction"));
    found(r).map(|_| ())
}
