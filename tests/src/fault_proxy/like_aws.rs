//! Emulator fidelity beyond creation tags: where moto answers unlike AWS
//! in a way the provider must cope with, the proxy answers as AWS would.
//! Each behaviour is off until a test turns it on:
//! - [`super::FaultProxy::echo_logging_config`]: Lambda's `LoggingConfig`
//!   (`logging_config`);
//! - [`super::FaultProxy::linger_deletes`]: streams and event source
//!   mappings that stay `DELETING` / `Deleting` for a while, and queue
//!   names refused for a while after their queue is deleted (`lingering`);
//! - [`super::FaultProxy::validate_destinations`]: S3's check of every
//!   destination in a notification document (`destinations`);
//! - [`super::FaultProxy::image_functions_like_aws`]: Lambda's container-image
//!   functions: a package type that never changes, and the digest reported
//!   as `CodeSha256` and `ResolvedImageUri` (`image_code`);
//! - [`super::FaultProxy::check_images`]: Lambda's refusal of an image it
//!   cannot find in the registry (`image_code`);
//! - [`super::FaultProxy::ecr_scan_default`]: ECR's reading of an absent
//!   `scanOnPush` as `false` (`ecr_defaults`);
//! - [`super::FaultProxy::sns_pending_emails`]: SNS's email subscriptions
//!   pending until confirmed (`sns_pending`);
//! - [`super::FaultProxy::page_ecr_lists`]: ECR's `ListImages` in pages
//!   (`ecr_pages`);
//! - [`super::FaultProxy::page_lambda_functions`]: Lambda's `ListFunctions`
//!   in pages (`lambda_pages`);
//! - [`super::FaultProxy::ecr_images_in`]: ECR's `BatchDeleteImage` of
//!   images pushed to the registry, and its `DeleteRepository` with
//!   `force`, which deletes them too (`ecr_registry`);
//! - [`super::FaultProxy::kms_managed_keys_like_aws`]: KMS's AWS-managed
//!   keys, reported as `KeyManager = AWS` and made on first use by
//!   `DescribeKey` of their predefined alias (`kms_keys`).
//!
//! The proxy's own calls to the emulator (reading a stream before it goes,
//! a function's policy, a queue's) are not recorded among the calls and no
//! rule sees them. What the layer answered in place of the emulator is
//! recorded as [`Departure`]s, so a test can tell what it met.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use anyhow::Result;
use serde_json::{Value, json};

use super::answer::{self, Answer};
use super::destinations::{self, Destination};
use super::ecr_defaults;
use super::ecr_pages;
use super::ecr_registry;
use super::http1::{Request, forwarded_request, header};
use super::image_code;
use super::kms_keys;
use super::lambda_pages;
use super::lingering::{self, Linger, Lingering};
use super::logging_config;
use super::sns_pending;

/// Something the fidelity layer answered in place of the emulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Departure {
    /// A read of a stream being deleted, answered `DELETING`.
    StreamDeleting(String),
    /// A `CreateStream` refused: a stream of that name is being deleted.
    StreamNameInUse(String),
    /// A read of a mapping being deleted, answered `Deleting` (its UUID).
    MappingDeleting(String),
    /// A `CreateEventSourceMapping` refused: a mapping of that function
    /// and source is being deleted (the function, the source).
    MappingConflict(String, String),
    /// A `CreateBucket` refused (`OperationAborted`): a bucket of that name
    /// was deleted a moment ago.
    BucketNameSettling(String),
    /// A `CreateQueue` refused: a queue of that name was deleted less than
    /// a minute ago.
    QueueDeletedRecently(String),
    /// A notification document refused (the bucket, the failed ARNs).
    DestinationsRefused(String, Vec<String>),
    /// An `UpdateFunctionCode` refused: it would change the function's
    /// package type (the function).
    PackageTypeKept(String),
    /// A `CreateFunction` or `UpdateFunctionCode` refused: its image is not
    /// in the registry, or is no image reference (the image URI).
    ImageRefused(String),
    /// A `BatchDeleteImage` whose images moto did not find, deleted in the
    /// registry instead (the repository, the digests deleted there).
    RegistryImagesDeleted(String, Vec<String>),
    /// A `DeleteRepository` with `force`: the images the registry held in
    /// the repository of that name deleted with it (the repository, the
    /// digests).
    RegistryRepositoryEmptied(String, Vec<String>),
    /// A `DescribeKey` of a key a predefined alias (`alias/aws/...`) names,
    /// reported `KeyManager = AWS` (the key's ARN).
    KmsKeyAwsManaged(String),
    /// A `DescribeKey` of a predefined alias moto has no key for: the key
    /// and alias made in the emulator first, as KMS makes them (the alias).
    KmsManagedKeyMade(String),
}

#[derive(Debug, Default)]
struct Inner {
    echo_logging: bool,
    linger: Option<Linger>,
    validate: bool,
    image_code: bool,
    check_images: bool,
    ecr_scan_default: bool,
    sns_pending_emails: bool,
    kms_managed_keys: bool,
    /// The largest `ListImages` page handed out.
    ecr_page: Option<usize>,
    /// `ListFunctions` in pages.
    lambda_pages: bool,
    /// The registry whose images `BatchDeleteImage` deletes too.
    ecr_registry: Option<SocketAddr>,
    /// The image URI deployed, by function name (image functions).
    images: HashMap<String, String>,
    /// `LoggingConfig` by function name.
    logging: HashMap<String, Value>,
    lingering: Lingering,
    departures: Vec<Departure>,
}

/// The fidelity layer's settings and what it keeps.
#[derive(Debug, Default)]
pub(super) struct LikeAws {
    inner: Mutex<Inner>,
}

/// The calls the image-function fidelity sees (`image_code`).
const IMAGE_OPS: [&str; 5] = [
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:DeleteFunction",
];

/// The calls that deploy an image (`check_images`).
const IMAGE_WRITES: [&str; 2] = ["lambda:CreateFunction", "lambda:UpdateFunctionCode"];

const LOGGING_OPS: [&str; 6] = [
    "lambda:CreateFunction",
    "lambda:UpdateFunctionConfiguration",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:ListFunctions",
    "lambda:DeleteFunction",
];

impl LikeAws {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn echo_logging_config(&self, on: bool) {
        self.lock().echo_logging = on;
    }

    pub(super) fn linger_deletes(&self, linger: Option<Linger>) {
        self.lock().linger = linger;
    }

    pub(super) fn validate_destinations(&self, on: bool) {
        self.lock().validate = on;
    }

    pub(super) fn image_functions_like_aws(&self, on: bool) {
        self.lock().image_code = on;
    }

    pub(super) fn check_images(&self, on: bool) {
        self.lock().check_images = on;
    }

    pub(super) fn ecr_scan_default(&self, on: bool) {
        self.lock().ecr_scan_default = on;
    }

    pub(super) fn sns_pending_emails(&self, on: bool) {
        self.lock().sns_pending_emails = on;
    }

    pub(super) fn kms_managed_keys_like_aws(&self, on: bool) {
        self.lock().kms_managed_keys = on;
    }

    pub(super) fn page_ecr_lists(&self, size: Option<usize>) {
        self.lock().ecr_page = size;
    }

    pub(super) fn page_lambda_functions(&self, on: bool) {
        self.lock().lambda_pages = on;
    }

    pub(super) fn ecr_images_in(&self, registry: Option<SocketAddr>) {
        self.lock().ecr_registry = registry;
    }

    pub(super) fn departures(&self) -> Vec<Departure> {
        self.lock().departures.clone()
    }

    fn depart(&self, d: Departure) {
        self.lock().departures.push(d);
    }

    /// Whether a call of `op` (to `target`) is the layer's to answer. A
    /// `CreateBucket` is only while its name is still settling, so that
    /// creation tags apply to any other.
    pub(super) fn handles(&self, op: &str, target: &str) -> bool {
        let mut st = self.lock();
        if op == "s3:CreateBucket" {
            let bucket = destinations::bucket_of(target);
            return st.linger.is_some() && st.lingering.bucket_deleted_recently(&bucket);
        }
        (st.echo_logging && LOGGING_OPS.contains(&op))
            || (st.linger.is_some()
                && matches!(
                    op,
                    "kinesis:DeleteStream"
                        | "kinesis:DescribeStreamSummary"
                        | "kinesis:CreateStream"
                        | "lambda:DeleteEventSourceMapping"
                        | "lambda:GetEventSourceMapping"
                        | "lambda:ListEventSourceMappings"
                        | "lambda:CreateEventSourceMapping"
                        | "lambda:UpdateEventSourceMapping"
                        | "sqs:DeleteQueue"
                        | "sqs:CreateQueue"
                        | "s3:DeleteBucket"
                ))
            || (st.validate && op == "s3:PutBucketNotificationConfiguration")
            || (st.image_code && IMAGE_OPS.contains(&op))
            || (st.check_images && IMAGE_WRITES.contains(&op))
            || (st.ecr_scan_default && op == "ecr:PutImageScanningConfiguration")
            || (st.sns_pending_emails && op == "sns:ListSubscriptionsByTopic")
            || (st.kms_managed_keys && op == "kms:DescribeKey")
            || (st.ecr_page.is_some() && op == "ecr:ListImages")
            || (st.lambda_pages && op == "lambda:ListFunctions")
            || (st.ecr_registry.is_some()
                && matches!(op, "ecr:BatchDeleteImage" | "ecr:DeleteRepository"))
    }

    /// The answer to a call of `op` the layer handles ([`Self::handles`]),
    /// forwarding it to the emulator at `upstream` when AWS would do the
    /// work.
    pub(super) async fn answer(
        &self,
        op: &str,
        req: &Request,
        upstream: SocketAddr,
    ) -> Result<Vec<u8>> {
        let image_call = {
            let st = self.lock();
            (st.image_code && IMAGE_OPS.contains(&op))
                || (st.check_images && IMAGE_WRITES.contains(&op))
        };
        if image_call {
            return Ok(self.image(op, req, upstream).await?.to_bytes());
        }
        if op == "ecr:BatchDeleteImage" {
            return Ok(self.delete_images(req, upstream).await?.to_bytes());
        }
        if op == "ecr:DeleteRepository" {
            return Ok(self.delete_repository(req, upstream).await?.to_bytes());
        }
        if op == "ecr:ListImages" {
            return Ok(self.image_pages(req, upstream).await?.to_bytes());
        }
        if op == "lambda:ListFunctions" {
            return Ok(self.function_pages(req, upstream).await?.to_bytes());
        }
        if op == "kms:DescribeKey" {
            return Ok(self.describe_key(req, upstream).await?.to_bytes());
        }
        if op == "sns:ListSubscriptionsByTopic" {
            let mut answer = forward(req, upstream).await?;
            if answer.is_success()
                && let Some(body) = sns_pending::pending_emails(&answer.body)
            {
                answer.body = body;
            }
            return Ok(answer.to_bytes());
        }
        if op == "ecr:PutImageScanningConfiguration" {
            let answer = match ecr_defaults::with_scan_default(&req.body) {
                Some(body) => {
                    let filled = Request {
                        body,
                        ..req.clone()
                    };
                    forward(&filled, upstream).await?
                }
                None => forward(req, upstream).await?,
            };
            return Ok(answer.to_bytes());
        }
        let answer = match op {
            "kinesis:DeleteStream" | "kinesis:DescribeStreamSummary" | "kinesis:CreateStream" => {
                self.stream(op, req, upstream).await?
            }
            "lambda:DeleteEventSourceMapping"
            | "lambda:GetEventSourceMapping"
            | "lambda:ListEventSourceMappings"
            | "lambda:CreateEventSourceMapping"
            | "lambda:UpdateEventSourceMapping" => self.mapping(op, req, upstream).await?,
            "sqs:DeleteQueue" | "sqs:CreateQueue" => self.queue(op, req, upstream).await?,
            "s3:DeleteBucket" | "s3:CreateBucket" => self.bucket(op, req, upstream).await?,
            "s3:PutBucketNotificationConfiguration" => self.notification(req, upstream).await?,
            _ => self.logging(op, req, upstream).await?,
        };
        Ok(answer.to_bytes())
    }

    /// `BatchDeleteImage` through moto, then in the registry for the images
    /// moto did not find (see `ecr_registry`).
    async fn delete_images(&self, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let answer = forward(req, upstream).await?;
        let registry = self.lock().ecr_registry;
        let (Some(registry), Some((repository, _)), Some(body)) = (
            registry,
            ecr_registry::request(&req.body),
            answer.json().filter(|_| answer.is_success()),
        ) else {
            return Ok(answer);
        };
        let mut deleted = Vec::new();
        for digest in ecr_registry::not_found(&body) {
            if delete_manifest(registry, &repository, &digest).await? == 202 {
                deleted.push(digest);
            }
        }
        if deleted.is_empty() {
            return Ok(answer);
        }
        self.depart(Departure::RegistryImagesDeleted(
            repository,
            deleted.clone(),
        ));
        Ok(answer.with_json(&ecr_registry::merged(body, &deleted)))
    }

    /// `DeleteRepository` through moto; with `force`, once moto deleted it,
    /// the registry's images in the repository of that name go too (see
    /// `ecr_registry`).
    async fn delete_repository(&self, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let answer = forward(req, upstream).await?;
        let registry = self.lock().ecr_registry;
        let (Some(registry), Some(repository), true) = (
            registry,
            ecr_registry::forced_delete(&req.body),
            answer.is_success(),
        ) else {
            return Ok(answer);
        };
        let repo = repository.clone();
        let digests =
            tokio::task::spawn_blocking(move || registry_digests(registry, &repo)).await??;
        let mut deleted = Vec::new();
        for digest in digests {
            if delete_manifest(registry, &repository, &digest).await? == 202 {
                deleted.push(digest);
            }
        }
        if !deleted.is_empty() {
            self.depart(Departure::RegistryRepositoryEmptied(repository, deleted));
        }
        Ok(answer)
    }

    /// `DescribeKey` as KMS answers it for AWS-managed keys (see
    /// `kms_keys`): a predefined alias without a key gets one first, and a
    /// key a predefined alias names is reported `KeyManager = AWS`.
    async fn describe_key(&self, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let sent: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let asked = sent["KeyId"].as_str().unwrap_or_default().to_owned();
        let mut answer = forward(req, upstream).await?;
        if let Some(alias) = kms_keys::managed_alias(&asked)
            && kms_keys::is_not_found(answer.status, &answer.body)
        {
            let made = own_kms(
                req,
                "CreateKey",
                &json!({"Description": kms_keys::description(&alias)}),
                upstream,
            )
            .await?;
            let key_id = made
                .json()
                .filter(|_| made.is_success())
                .and_then(|b| b["KeyMetadata"]["KeyId"].as_str().map(str::to_owned));
            let Some(key_id) = key_id else {
                return Ok(answer);
            };
            let named = own_kms(
                req,
                "CreateAlias",
                &json!({"AliasName": alias, "TargetKeyId": key_id}),
                upstream,
            )
            .await?;
            if !named.is_success() {
                return Ok(answer);
            }
            self.depart(Departure::KmsManagedKeyMade(alias));
            answer = forward(req, upstream).await?;
        }
        let Some(mut body) = answer.json().filter(|_| answer.is_success()) else {
            return Ok(answer);
        };
        if body["KeyMetadata"]["KeyManager"] == "AWS" {
            return Ok(answer);
        }
        let aliases = own_kms(req, "ListAliases", &json!({}), upstream).await?;
        let Some(aliases) = aliases.json().filter(|_| aliases.is_success()) else {
            return Ok(answer);
        };
        match kms_keys::mark_managed(&mut body, &kms_keys::managed_targets(&aliases)) {
            Some(arn) => {
                self.depart(Departure::KmsKeyAwsManaged(arn));
                Ok(answer.with_json(&body))
            }
            None => Ok(answer),
        }
    }

    /// `ListImages` in pages (see `ecr_pages`).
    async fn image_pages(&self, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let size = self.lock().ecr_page.unwrap_or(usize::MAX);
        let Some((offset, max, body)) = ecr_pages::request(&req.body) else {
            return forward(req, upstream).await;
        };
        let all = Request {
            body,
            ..req.clone()
        };
        let answer = forward(&all, upstream).await?;
        match answer.json() {
            Some(body) if answer.is_success() => {
                Ok(answer.with_json(&ecr_pages::page(body, offset, max.min(size))))
            }
            _ => Ok(answer),
        }
    }

    /// `ListFunctions` in pages (see `lambda_pages`).
    async fn function_pages(&self, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let Some((offset, size)) = lambda_pages::request(&req.target) else {
            return forward(req, upstream).await;
        };
        let answer = forward(req, upstream).await?;
        match answer.json() {
            Some(all) if answer.is_success() => {
                Ok(answer.with_json(&lambda_pages::page(all, offset, size)))
            }
            _ => Ok(answer),
        }
    }

    /// An image function's calls (see `image_code`); the `LoggingConfig`
    /// echo still applies when it is on.
    async fn image(&self, op: &str, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let path = req.target.split('?').next().unwrap_or(&req.target);
        let sent: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let function = match op {
            "lambda:CreateFunction" => sent["FunctionName"].as_str().map(logging_config::name_of),
            _ => logging_config::function_of(path),
        };
        let (image_code, check_images) = {
            let st = self.lock();
            (st.image_code, st.check_images)
        };
        if image_code
            && op == "lambda:UpdateFunctionCode"
            && let Some(f) = &function
        {
            let current = own_get_function(req, f, upstream).await?;
            let package_type = current
                .json()
                .filter(|_| current.is_success())
                .and_then(|b| {
                    b["Configuration"]["PackageType"]
                        .as_str()
                        .map(str::to_owned)
                });
            if let Some(message) = package_type.and_then(|t| image_code::refusal(&t, &sent)) {
                self.depart(Departure::PackageTypeKept(f.clone()));
                return Ok(lambda_error(400, "InvalidParameterValueException", message));
            }
        }
        if check_images
            && IMAGE_WRITES.contains(&op)
            && let Some(uri) = image_code::image_uri_sent(op, &sent)
            && let Some(message) = image_refusal(&uri).await
        {
            self.depart(Departure::ImageRefused(uri));
            return Ok(lambda_error(
                400,
                "InvalidParameterValueException",
                &message,
            ));
        }
        let echo = self.lock().echo_logging && LOGGING_OPS.contains(&op);
        let answer = if echo {
            self.logging(op, req, upstream).await?
        } else {
            forward(req, upstream).await?
        };
        let (true, true, Some(f)) = (image_code, answer.is_success(), function) else {
            return Ok(answer);
        };
        if op == "lambda:DeleteFunction" {
            self.lock().images.remove(&f);
            return Ok(answer);
        }
        let Some(mut body) = answer.json() else {
            return Ok(answer);
        };
        let mut st = self.lock();
        match op {
            "lambda:GetFunction" => {
                if let Some(uri) = image_code::fix_get_function(&mut body) {
                    st.images.insert(f, uri);
                }
            }
            "lambda:CreateFunction" | "lambda:UpdateFunctionCode" => {
                match image_code::image_uri_sent(op, &sent) {
                    Some(uri) => {
                        image_code::fix_configuration(&mut body, &uri);
                        st.images.insert(f, uri);
                    }
                    None => {
                        st.images.remove(&f);
                    }
                }
            }
            _ => {
                if let Some(uri) = st.images.get(&f) {
                    image_code::fix_configuration(&mut body, uri);
                }
            }
        }
        Ok(answer.with_json(&body))
    }

    async fn logging(&self, op: &str, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let path = req
            .target
            .split('?')
            .next()
            .unwrap_or(&req.target)
            .to_owned();
        let sent: Option<Value> = serde_json::from_slice(&req.body).ok();
        let answer = forward(req, upstream).await?;
        if !answer.is_success() {
            return Ok(answer);
        }
        let function = match op {
            "lambda:CreateFunction" => sent
                .as_ref()
                .and_then(|b| b["FunctionName"].as_str())
                .map(logging_config::name_of),
            _ => logging_config::function_of(&path),
        };
        let mut st = self.lock();
        if op == "lambda:DeleteFunction" {
            if let Some(f) = function {
                st.logging.remove(&f);
            }
            return Ok(answer);
        }
        let Some(mut body) = answer.json() else {
            return Ok(answer);
        };
        if matches!(
            op,
            "lambda:CreateFunction" | "lambda:UpdateFunctionConfiguration"
        ) && let Some(f) = &function
        {
            let kept = logging_config::kept(
                st.logging.get(f),
                sent.as_ref().and_then(|b| b.get("LoggingConfig")),
                f,
            );
            st.logging.insert(f.clone(), kept);
        }
        let report = |st: &Inner, f: &str| {
            st.logging
                .get(f)
                .cloned()
                .unwrap_or_else(|| logging_config::kept(None, None, f))
        };
        match op {
            "lambda:GetFunction" => {
                if let Some(f) = &function {
                    logging_config::echo(&mut body["Configuration"], report(&st, f));
                }
            }
            "lambda:ListFunctions" => {
                if let Some(Value::Array(fs)) = body.get_mut("Functions") {
                    for c in fs {
                        let name = c["FunctionName"].as_str().unwrap_or_default().to_owned();
                        logging_config::echo(c, report(&st, &name));
                    }
                }
            }
            _ => {
                if let Some(f) = &function {
                    logging_config::echo(&mut body, report(&st, f));
                }
            }
        }
        Ok(answer.with_json(&body))
    }

    async fn stream(&self, op: &str, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let Some(name) = lingering::stream_of(&req.body) else {
            return forward(req, upstream).await;
        };
        let linger = self.lock().linger;
        match op {
            "kinesis:DeleteStream" => {
                // What the stream looked like, reported while it goes.
                let before = own_kinesis(req, "DescribeStreamSummary", &name, upstream).await?;
                let answer = forward(req, upstream).await?;
                if let (true, Some(summary), Some(linger)) =
                    (answer.is_success(), before.json(), linger)
                    && before.is_success()
                {
                    self.lock().lingering.stream_deleted(&name, summary, linger);
                }
                Ok(answer)
            }
            "kinesis:DescribeStreamSummary" => {
                let read = self.lock().lingering.read_stream(&name);
                match read {
                    Some(summary) => {
                        self.depart(Departure::StreamDeleting(name));
                        Ok(Answer::new(
                            200,
                            &[("Content-Type", "application/x-amz-json-1.1")],
                            summary.to_string(),
                        ))
                    }
                    None => forward(req, upstream).await,
                }
            }
            _ => {
                if self.lock().lingering.stream_deleting(&name) {
                    self.depart(Departure::StreamNameInUse(name.clone()));
                    let body = json!({
                        "__type": "ResourceInUseException",
                        "message": format!(
                            "Stream {name} under account {} is being deleted.",
                            account_of(req)
                        ),
                    });
                    return Ok(Answer::new(
                        400,
                        &[("Content-Type", "application/x-amz-json-1.1")],
                        body.to_string(),
                    ));
                }
                forward(req, upstream).await
            }
        }
    }

    async fn mapping(&self, op: &str, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let path = req.target.split('?').next().unwrap_or(&req.target);
        let uuid = lingering::mapping_of(path);
        let linger = self.lock().linger;
        match (op, uuid) {
            ("lambda:DeleteEventSourceMapping", Some(uuid)) => {
                let answer = forward(req, upstream).await?;
                if let (true, Some(body), Some(linger)) =
                    (answer.is_success(), answer.json(), linger)
                {
                    self.lock().lingering.mapping_deleted(&uuid, body, linger);
                }
                Ok(answer)
            }
            ("lambda:GetEventSourceMapping", Some(uuid)) => {
                let read = self.lock().lingering.read_mapping(&uuid);
                match read {
                    Some(body) => {
                        self.depart(Departure::MappingDeleting(uuid));
                        Ok(Answer::new(
                            200,
                            &[("Content-Type", "application/json")],
                            body.to_string(),
                        ))
                    }
                    None => forward(req, upstream).await,
                }
            }
            ("lambda:UpdateEventSourceMapping", Some(uuid)) => {
                if self.lock().lingering.mapping_deleting(&uuid) {
                    return Ok(lambda_error(
                        400,
                        "ResourceInUseException",
                        &format!(
                            "Cannot update the event source mapping {uuid}: it is being deleted."
                        ),
                    ));
                }
                forward(req, upstream).await
            }
            ("lambda:ListEventSourceMappings", _) => {
                let query = req.target.split_once('?').map_or("", |(_, q)| q);
                let param = |k: &str| {
                    query.split('&').find_map(|kv| {
                        let (key, v) = kv.split_once('=')?;
                        (key == k).then(|| {
                            percent_encoding::percent_decode_str(v)
                                .decode_utf8_lossy()
                                .into_owned()
                        })
                    })
                };
                let answer = forward(req, upstream).await?;
                let Some(function) = param("FunctionName").map(|f| logging_config::name_of(&f))
                else {
                    return Ok(answer);
                };
                let source = param("EventSourceArn");
                let deleting = self
                    .lock()
                    .lingering
                    .mappings_of(&function, source.as_deref());
                match answer.json() {
                    Some(mut body) if answer.is_success() && !deleting.is_empty() => {
                        if let Some(Value::Array(list)) = body.get_mut("EventSourceMappings") {
                            list.extend(deleting);
                        }
                        Ok(answer.with_json(&body))
                    }
                    _ => Ok(answer),
                }
            }
            ("lambda:CreateEventSourceMapping", _) => {
                let sent: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let function =
                    logging_config::name_of(sent["FunctionName"].as_str().unwrap_or_default());
                let source = sent["EventSourceArn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let deleting = self.lock().lingering.mappings_of(&function, Some(&source));
                if let Some(m) = deleting.first() {
                    self.depart(Departure::MappingConflict(function.clone(), source.clone()));
                    return Ok(lambda_error(
                        409,
                        "ResourceConflictException",
                        &format!(
                            "The event source arn (\" {source} \") and function (\" {function} \") \
                             provided mapping already exists. Please update or delete the \
                             existing mapping with UUID {}",
                            m["UUID"].as_str().unwrap_or_default()
                        ),
                    ));
                }
                forward(req, upstream).await
            }
            _ => forward(req, upstream).await,
        }
    }

    async fn queue(&self, op: &str, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let (Some(name), Some(linger)) = (lingering::queue_of(&req.body), self.lock().linger)
        else {
            return forward(req, upstream).await;
        };
        if op == "sqs:DeleteQueue" {
            let answer = forward(req, upstream).await?;
            if answer.is_success() {
                self.lock().lingering.queue_deleted(&name, linger);
            }
            return Ok(answer);
        }
        if self.lock().lingering.queue_deleted_recently(&name) {
            self.depart(Departure::QueueDeletedRecently(name));
            let body = json!({
                "__type": "com.amazonaws.sqs#QueueDeletedRecently",
                "message": "You must wait 60 seconds after deleting a queue before you can \
                            create another queue with the same name.",
            });
            return Ok(Answer::new(
                400,
                &[
                    ("Content-Type", "application/x-amz-json-1.0"),
                    (
                        "x-amzn-query-error",
                        "AWS.SimpleQueueService.QueueDeletedRecently;Sender",
                    ),
                ],
                body.to_string(),
            ));
        }
        forward(req, upstream).await
    }

    async fn bucket(&self, op: &str, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let bucket = destinations::bucket_of(&req.target);
        let Some(linger) = self.lock().linger else {
            return forward(req, upstream).await;
        };
        if op == "s3:DeleteBucket" {
            let answer = forward(req, upstream).await?;
            if answer.is_success() {
                self.lock().lingering.bucket_deleted(&bucket, linger);
            }
            return Ok(answer);
        }
        // Handled only while the name is settling (see `handles`).
        self.depart(Departure::BucketNameSettling(bucket));
        Ok(Answer::new(
            409,
            &[("Content-Type", "application/xml")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>OperationAborted</Code>\
             <Message>A conflicting conditional operation is currently in progress against this \
             resource. Please try again.</Message><RequestId>fidelity-0000</RequestId></Error>",
        ))
    }

    async fn notification(&self, req: &Request, upstream: SocketAddr) -> Result<Answer> {
        let bucket = destinations::bucket_of(&req.target);
        let mut failed = Vec::new();
        for d in destinations::destinations(&req.body) {
            if !destination_valid(&d, &bucket, req, upstream).await? {
                failed.push(d);
            }
        }
        if failed.is_empty() {
            return forward(req, upstream).await;
        }
        self.depart(Departure::DestinationsRefused(
            bucket,
            failed.iter().map(|d| d.arn().to_owned()).collect(),
        ));
        Ok(Answer::new(
            400,
            &[("Content-Type", "application/xml")],
            destinations::refusal_body(&failed),
        ))
    }
}

/// Forwards the request and reads the whole answer.
async fn forward(req: &Request, upstream: SocketAddr) -> Result<Answer> {
    answer::exchange(upstream, &forwarded_request(req)).await
}

/// The account the caller's key stands for in the emulator.
fn account_of(_req: &Request) -> &'static str {
    "123456789012"
}

fn lambda_error(status: u16, code: &str, message: &str) -> Answer {
    Answer::new(
        status,
        &[
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
        ],
        json!({"Type": "User", "Message": message}).to_string(),
    )
}

/// What Lambda says of the image `uri` when it cannot use it, or `None`
/// when the registry holds it or cannot be asked (see `image_code`).
async fn image_refusal(uri: &str) -> Option<String> {
    let Some(image) = image_code::image_ref(uri) else {
        return Some(image_code::invalid_message(uri));
    };
    let addr = image_code::loopback_addr(&image.host)?;
    match head_manifest(addr, &image).await {
        // Nothing listens there: no registry holds it.
        Err(_) | Ok(404) => Some(image_code::missing_message(uri)),
        // 200, or an answer that is no registry's over plain HTTP (a TLS
        // registry): not the proxy's to judge.
        Ok(_) => None,
    }
}

/// The status of `HEAD /v2/<repository>/manifests/<reference>` on the
/// registry at `addr`, over plain HTTP.
async fn head_manifest(addr: SocketAddr, image: &image_code::ImageRef) -> Result<u16> {
    let request = format!(
        "HEAD /v2/{}/manifests/{} HTTP/1.1\r\nHost: {}\r\nAccept: {}\r\n\
         Connection: close\r\n\r\n",
        image.repository,
        image.reference,
        image.host,
        crate::registry::MANIFEST_ACCEPT.replace('\n', " ")
    );
    let exchange = async {
        let mut up = tokio::net::TcpStream::connect(addr).await?;
        tokio::io::AsyncWriteExt::write_all(&mut up, request.as_bytes()).await?;
        let mut raw = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut up, &mut raw).await?;
        anyhow::Ok(super::fidelity::status_of(&raw))
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), exchange).await?
}

/// The status of `DELETE /v2/<repository>/manifests/<digest>` on the
/// registry at `addr`, over plain HTTP (202 when it deleted it).
/// The digests of the tagged images in the registry's `repository` (none
/// when the registry does not know it), each once.
fn registry_digests(addr: SocketAddr, repository: &str) -> Result<Vec<String>> {
    let timeout = std::time::Duration::from_secs(10);
    let listed = crate::http::request_with(
        addr,
        "GET",
        &format!("/v2/{repository}/tags/list"),
        &[],
        None,
        timeout,
    )?;
    if listed.status != 200 {
        return Ok(Vec::new());
    }
    let mut digests: Vec<String> = Vec::new();
    for tag in ecr_registry::tags(&listed.body) {
        let head = crate::http::head(
            addr,
            &format!("/v2/{repository}/manifests/{tag}"),
            &[("Accept", crate::registry::MANIFEST_ACCEPT)],
            None,
            timeout,
        )?;
        if let Some(d) = head.header("Docker-Content-Digest")
            && !digests.iter().any(|x| x == d)
        {
            digests.push(d.to_owned());
        }
    }
    Ok(digests)
}

async fn delete_manifest(addr: SocketAddr, repository: &str, digest: &str) -> Result<u16> {
    let request = format!(
        "DELETE /v2/{repository}/manifests/{digest} HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let exchange = async {
        let mut up = tokio::net::TcpStream::connect(addr).await?;
        tokio::io::AsyncWriteExt::write_all(&mut up, request.as_bytes()).await?;
        let mut raw = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut up, &mut raw).await?;
        anyhow::Ok(super::fidelity::status_of(&raw))
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), exchange).await?
}

/// The proxy's own `GetFunction` of `function`, with the caller's host and
/// credentials.
async fn own_get_function(req: &Request, function: &str, upstream: SocketAddr) -> Result<Answer> {
    let headers = caller_headers(req);
    let target = format!(
        "/2015-03-31/functions/{}",
        percent_encoding::utf8_percent_encode(function, percent_encoding::NON_ALPHANUMERIC)
    );
    answer::exchange(upstream, &answer::request("GET", &target, &headers, b"")).await
}

/// The caller's host and credentials, for a call of the proxy's own.
fn caller_headers(req: &Request) -> Vec<(&'static str, String)> {
    ["host", "authorization", "x-amz-date"]
        .into_iter()
        .filter_map(|h| header(&req.headers, h).map(|v| (h, v.to_owned())))
        .collect()
}

/// A call of the proxy's own to a JSON-protocol service (`X-Amz-Target`
/// `target`, JSON `body`), with the caller's host and credentials.
async fn own_json(
    req: &Request,
    target: &str,
    body: &Value,
    upstream: SocketAddr,
) -> Result<Answer> {
    let mut headers = caller_headers(req);
    headers.push(("content-type", "application/x-amz-json-1.1".into()));
    headers.push(("x-amz-target", target.to_owned()));
    let body = body.to_string();
    answer::exchange(
        upstream,
        &answer::request("POST", "/", &headers, body.as_bytes()),
    )
    .await
}

/// A KMS call of the proxy's own (`action` with JSON `body`).
async fn own_kms(
    req: &Request,
    action: &str,
    body: &Value,
    upstream: SocketAddr,
) -> Result<Answer> {
    own_json(req, &format!("TrentService.{action}"), body, upstream).await
}

/// A Kinesis call of the proxy's own about stream `name`.
async fn own_kinesis(
    req: &Request,
    action: &str,
    name: &str,
    upstream: SocketAddr,
) -> Result<Answer> {
    let body = json!({ "StreamName": name });
    own_json(req, &format!("Kinesis_20131202.{action}"), &body, upstream).await
}

/// Whether S3 would accept `d` as a destination of `bucket`: the function
/// exists and lets S3 invoke it for this bucket; the queue exists and lets
/// S3 send to it.
async fn destination_valid(
    d: &Destination,
    bucket: &str,
    req: &Request,
    upstream: SocketAddr,
) -> Result<bool> {
    let auth = |service: &str| {
        answer::scoped_authorization(header(&req.headers, "authorization"), d.region(), service)
    };
    let host = header(&req.headers, "host")
        .unwrap_or("localhost")
        .to_owned();
    match d {
        Destination::Function(_) => {
            let target = format!("/2015-03-31/functions/{}/policy", d.name());
            let headers = [("host", host), ("authorization", auth("lambda"))];
            let a =
                answer::exchange(upstream, &answer::request("GET", &target, &headers, b"")).await?;
            let policy = a
                .json()
                .and_then(|v| v["Policy"].as_str().map(str::to_owned));
            Ok(a.is_success() && policy.is_some_and(|p| destinations::allows_s3(&p, bucket)))
        }
        Destination::Queue(_) => {
            let sqs = |action: &str, body: Value| {
                let headers = [
                    ("host", host.clone()),
                    ("authorization", auth("sqs")),
                    ("content-type", "application/x-amz-json-1.0".to_owned()),
                    ("x-amz-target", format!("AmazonSQS.{action}")),
                ];
                answer::request("POST", "/", &headers, body.to_string().as_bytes())
            };
            let url = answer::exchange(
                upstream,
                &sqs("GetQueueUrl", json!({"QueueName": d.name()})),
            )
            .await?;
            let Some(url) = url
                .json()
                .filter(|_| url.is_success())
                .and_then(|v| v["QueueUrl"].as_str().map(str::to_owned))
            else {
                return Ok(false);
            };
            let attrs = answer::exchange(
                upstream,
                &sqs(
                    "GetQueueAttributes",
                    json!({"QueueUrl": url, "AttributeNames": ["Policy"]}),
                ),
            )
            .await?;
            let policy = attrs
                .json()
                .and_then(|v| v["Attributes"]["Policy"].as_str().map(str::to_owned));
            Ok(policy.is_some_and(|p| destinations::allows_s3(&p, bucket)))
        }
    }
}
