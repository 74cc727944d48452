//! Building one SDK configuration and the service clients from the provider
//! block, falling back to the SDK's standard environment and profile chain.

use std::sync::LazyLock;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_types::region::Region;
use tokio::sync::OnceCell;

use super::AwsError;

/// Per-service endpoint overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceEndpoints {
    pub s3: Option<String>,
    pub lambda: Option<String>,
    pub iam: Option<String>,
    pub sts: Option<String>,
    pub kinesis: Option<String>,
    pub logs: Option<String>,
    pub sqs: Option<String>,
    /// ECR's control plane (repositories, policies, tokens).
    pub ecr: Option<String>,
    /// CloudWatch metrics and alarms (not CloudWatch Logs: that is `logs`).
    pub cloudwatch: Option<String>,
    pub sns: Option<String>,
    /// KMS (the plan's look at the keys buckets, queues and streams use).
    pub kms: Option<String>,
    /// The registry host images are pushed to and pulled from, in place of
    /// a repository's own `<account>.dkr.ecr.<region>.amazonaws.com`, as a
    /// URL (`https://host[:port]`, or `http://` for a loopback registry). Not
    /// an SDK endpoint: the registry client reads it.
    pub ecr_registry: Option<String>,
}

/// What the provider block says about reaching AWS; `None` means "as the
/// SDK would decide from the environment".
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub endpoint_url: Option<String>,
    pub endpoints: ServiceEndpoints,
    pub s3_use_path_style: Option<bool>,
    pub max_retries: Option<u32>,
    /// The account the static `access_key` belongs to, when the caller
    /// knows it (as `AWS_ACCOUNT_ID` says it for keys from the environment).
    pub account_id: Option<String>,
}

// Hand-written so the secret never reaches a log line.
impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("access_key", &self.access_key)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "(sensitive)"),
            )
            .field("endpoint_url", &self.endpoint_url)
            .field("endpoints", &self.endpoints)
            .field("s3_use_path_style", &self.s3_use_path_style)
            .field("max_retries", &self.max_retries)
            .field("account_id", &self.account_id)
            .finish()
    }
}

pub const DEFAULT_MAX_RETRIES: u32 = 5;

/// How a service client is built on first use.
type Build<C> = Box<dyn FnOnce() -> C + Send>;

/// A service client, built the first time it is used: a create plan uses
/// three of the eleven, and each took ~0.25 ms to build (bench figure 12).
/// It dereferences to the client, so `&aws.s3` is a `&aws_sdk_s3::Client`.
pub type Lazy<C> = LazyLock<C, Build<C>>;

/// A [`Lazy`] client of SDK crate `$sdk` from the shared configuration, an
/// optional endpoint override and, optionally, one more step on the
/// service's config builder (S3's path style).
macro_rules! lazy_client {
    ($sdk:ident, $shared:expr, $url:expr) => {
        lazy_client!($sdk, $shared, $url, |b| b)
    };
    ($sdk:ident, $shared:expr, $url:expr, $configure:expr) => {{
        let (shared, url) = ($shared.clone(), $url.clone());
        Lazy::new(Box::new(move || {
            let mut b = $sdk::config::Builder::from(&shared);
            if let Some(url) = url {
                b = b.endpoint_url(url);
            }
            let configure = $configure;
            $sdk::Client::from_conf(configure(b).build())
        }) as Build<$sdk::Client>)
    }};
}

/// The service clients, shared by the whole provider process; each is
/// built when first used.
#[derive(Debug)]
pub struct AwsClients {
    pub s3: Lazy<aws_sdk_s3::Client>,
    pub lambda: Lazy<aws_sdk_lambda::Client>,
    pub iam: Lazy<aws_sdk_iam::Client>,
    pub sts: Lazy<aws_sdk_sts::Client>,
    pub logs: Lazy<aws_sdk_cloudwatchlogs::Client>,
    pub sqs: Lazy<aws_sdk_sqs::Client>,
    pub kinesis: Lazy<aws_sdk_kinesis::Client>,
    pub ecr: Lazy<aws_sdk_ecr::Client>,
    pub cloudwatch: Lazy<aws_sdk_cloudwatch::Client>,
    pub sns: Lazy<aws_sdk_sns::Client>,
    pub kms: Lazy<aws_sdk_kms::Client>,
    /// The provider's `endpoints.ecr_registry`, for the registry client.
    pub ecr_registry: Option<String>,
    pub region: String,
    /// S3 is reached through an endpoint other than AWS's (an emulator or
    /// a proxy). Some emulators drop the tags given to CreateBucket, so the
    /// bucket is tagged again after it is made.
    pub s3_custom_endpoint: bool,
    /// S3 is reached over plain HTTP (`http://` endpoint): a bucket policy
    /// that denies requests without TLS denies every request then.
    pub s3_plain_http: bool,
    /// How many times a failed call is tried again (the provider's
    /// `max_retries`); calls retried by our own code count against it too.
    pub max_retries: u32,
    /// The endpoint SQS is reached through when it is not AWS's own (an
    /// emulator or a proxy): queue URLs are formed on it.
    pub sqs_endpoint: Option<String>,
    credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
    /// The account, looked up once per process by the first caller that
    /// needs it; a failed lookup is tried again by the next.
    account_id: OnceCell<String>,
}

impl AwsClients {
    /// Resolves the settings the way the SDK does (explicit settings first,
    /// then environment variables, then the shared config files) without
    /// calling AWS: credentials are fetched on first use.
    pub async fn connect(settings: &AwsSettings) -> Result<AwsClients, AwsError> {
        let attempts = settings.max_retries.unwrap_or(DEFAULT_MAX_RETRIES) + 1;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(attempts));
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let (Some(id), Some(secret)) = (&settings.access_key, &settings.secret_key) {
            let mut credentials = aws_sdk_s3::config::Credentials::builder()
                .access_key_id(id.clone())
                .secret_access_key(secret.clone())
                .provider_name("eventpipe-provider-config");
            if let Some(account) = &settings.account_id {
                credentials = credentials.account_id(account.as_str());
            }
            loader = loader.credentials_provider(credentials.build());
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        let region = shared
            .region()
            .map(|r| r.to_string())
            .ok_or(AwsError::NoRegion)?;

        let ep = &settings.endpoints;
        let s3_endpoint = ep
            .s3
            .clone()
            .or_else(|| settings.endpoint_url.clone())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        let path_style = settings
            .s3_use_path_style
            .unwrap_or_else(|| s3_endpoint.as_deref().is_some_and(is_local_endpoint));
        let sqs_endpoint = ep
            .sqs
            .clone()
            .or_else(|| settings.endpoint_url.clone())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_SQS").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        Ok(AwsClients {
            s3: lazy_client!(
                aws_sdk_s3,
                shared,
                ep.s3,
                |b: aws_sdk_s3::config::Builder| b.force_path_style(path_style)
            ),
            lambda: lazy_client!(aws_sdk_lambda, shared, ep.lambda),
            iam: lazy_client!(aws_sdk_iam, shared, ep.iam),
            sts: lazy_client!(aws_sdk_sts, shared, ep.sts),
            logs: lazy_client!(aws_sdk_cloudwatchlogs, shared, ep.logs),
            sqs: lazy_client!(aws_sdk_sqs, shared, ep.sqs),
            kinesis: lazy_client!(aws_sdk_kinesis, shared, ep.kinesis),
            ecr: lazy_client!(aws_sdk_ecr, shared, ep.ecr),
            cloudwatch: lazy_client!(aws_sdk_cloudwatch, shared, ep.cloudwatch),
            sns: lazy_client!(aws_sdk_sns, shared, ep.sns),
            kms: lazy_client!(aws_sdk_kms, shared, ep.kms),
            ecr_registry: ep.ecr_registry.clone(),
            region,
            s3_custom_endpoint: s3_endpoint.is_some(),
            s3_plain_http: s3_endpoint.as_deref().is_some_and(|u| {
                u.get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
            }),
            max_retries: attempts - 1,
            sqs_endpoint,
            credentials: shared.credentials_provider(),
            account_id: OnceCell::new(),
        })
    }

    /// The account, when it is known without asking AWS: looked up already,
    /// or named by the credentials themselves (`AWS_ACCOUNT_ID` with keys
    /// from the environment, a profile's `aws_account_id`, SSO, an assumed
    /// role). `None` for bare static keys, or credentials that cannot be
    /// had: the first call reports that.
    pub async fn known_account_id(&self) -> Option<String> {
        if let Some(a) = self.account_id.get() {
            return Some(a.clone());
        }
        use aws_sdk_s3::config::ProvideCredentials as _;
        let credentials = self
            .credentials
            .as_ref()?
            .provide_credentials()
            .await
            .ok()?;
        let account = credentials.account_id()?.as_str().to_owned();
        (!account.is_empty()).then_some(account)
    }

    /// The account, when this process has looked it up already.
    pub fn looked_up_account_id(&self) -> Option<&str> {
        self.account_id.get().map(String::as_str)
    }

    /// The account the credentials belong to (one STS call per process).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        self.account_id
            .get_or_try_init(|| async {
                let started = std::time::Instant::now();
                let out = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", e))?;
                tracing::debug!(
                    elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                    "account looked up (sts:GetCallerIdentity)"
                );
                out.account.ok_or_else(|| {
                    AwsError::Unexpected("GetCallerIdentity returned no account".into())
                })
            })
            .await
            .cloned()
    }
}

/// Emulators and proxies on this machine do not serve virtual-host buckets.
fn is_local_endpoint(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_endpoints_use_path_style() {
        assert!(is_local_endpoint("http://127.0.0.1:5000"));
        assert!(is_local_endpoint("http://localhost:4566/"));
        assert!(is_local_endpoint("http://[::1]:9000"));
        assert!(!is_local_endpoint("https://s3.eu-west-1.amazonaws.com"));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let s = AwsSettings {
            secret_key: Some("very-secret".into()),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("very-secret"));
    }
}
