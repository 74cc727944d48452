//! The OCI registry client: what the image path needs of a registry, over
//! the distribution API (`oci-client`), with plain types in and out.
//!
//! - [`Registry`]: one connection to one registry host, with its
//!   credentials (`~/.docker/config.json`: `auths` and credential helpers;
//!   anonymous otherwise, which for public ECR is its token endpoint's
//!   anonymous bearer token) and its scheme (TLS, trusting the system's
//!   authorities and `SSL_CERT_FILE`; plain HTTP only for a loopback host
//!   that does not speak TLS).
//! - `resolve.rs`: a reference (tag or `@sha256:` pin) and an architecture
//!   → the platform's manifest digest, with one manifest HEAD when the
//!   cache knows the tag's index, none for a cached pin, and the cache
//!   with a [`Stale`] warning when the registry cannot be reached.
//! - `store.rs`: the content-addressed blob store and the tags' last
//!   answers, under the cache directory it is given.
//! - `transfer.rs`: pulling an image's blobs into the store once, streamed
//!   and verified; pushing a built image's missing blobs (HEAD first,
//!   streamed from their files) and its manifest under a tag.
//!
//! It sits at the bottom layer of the crate, beside `aws`: it knows nothing
//! of pipelines; `pipeline::package::image` reads the store through its own
//! `BlobSource`.

mod resolve;
mod store;
mod transfer;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use thiserror::Error;

pub use resolve::{Resolved, Stale};
pub use store::BlobStore;
pub use transfer::{Pulled, Pushed};

/// The manifest media types this client reads.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const ACCEPTED: &[&str] = &[OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

/// How long to wait for a connection before calling a registry unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait before the one retry of a call that failed on the way.
const RETRY_AFTER: Duration = Duration::from_millis(200);

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("{reference:?} is not an image reference: {message}")]
    BadReference { reference: String, message: String },
    #[error(
        "the registry {registry} cannot be reached ({reason}), and no earlier answer for \
         {reference} is cached"
    )]
    Unreachable {
        registry: String,
        reference: String,
        reason: String,
    },
    #[error("{reference} has no image for linux/{architecture} (it has: {})", available.join(", "))]
    NoPlatform {
        reference: String,
        architecture: String,
        available: Vec<String>,
    },
    #[error("{reference}: no such image in the registry ({message})")]
    NotFound { reference: String, message: String },
    #[error(
        "{reference}: the registry refused access ({message}); log in to it (`docker login \
         {registry}`, or a credential helper in ~/.docker/config.json)"
    )]
    Denied {
        reference: String,
        registry: String,
        message: String,
    },
    #[error(
        "the registry {registry}'s TLS certificate is not trusted ({message}); add its \
         authority to the system's, or to the PEM file SSL_CERT_FILE names"
    )]
    Untrusted { registry: String, message: String },
    #[error("{reference}: {message}")]
    Registry { reference: String, message: String },
    #[error("{reference}: blob {digest} does not match its digest ({message})")]
    Corrupt {
        reference: String,
        digest: String,
        message: String,
    },
    #[error("the image cache {}: {message}", path.display())]
    Cache { path: PathBuf, message: String },
    #[error("cannot read {}: {message}", path.display())]
    Local { path: PathBuf, message: String },
}

/// Whether `host` (`name[:port]`, `[::1]:port`) is this machine, where
/// plain HTTP is allowed.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        }),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An image reference: `host/repo:tag` or `host/repo@sha256:…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    inner: Reference,
}

impl ImageRef {
    /// The registry host as written (`public.ecr.aws`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        self.inner.registry()
    }

    pub fn repository(&self) -> &str {
        self.inner.repository()
    }

    pub fn tag(&self) -> Option<&str> {
        self.inner.tag()
    }

    /// The pinned digest, `sha256:…`.
    pub fn digest(&self) -> Option<&str> {
        self.inner.digest()
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.inner.whole())
    }
}

/// Parses `reference` (`host/repo:tag`, `host/repo@sha256:…`).
pub fn parse_reference(reference: &str) -> Result<ImageRef, RegistryError> {
    reference
        .parse::<Reference>()
        .map(|inner| ImageRef { inner })
        .map_err(|e| RegistryError::BadReference {
            reference: reference.to_owned(),
            message: e.to_string(),
        })
}

/// The credentials a registry is given.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    /// A user name and password (ECR: `AWS` and the decoded token of
    /// `GetAuthorizationToken`).
    Basic {
        username: String,
        password: String,
    },
    /// A token sent as the bearer token, as it is (a docker `identitytoken`
    /// is used so; exchanging one through OAuth2 is not supported).
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

impl Credentials {
    fn auth(&self) -> RegistryAuth {
        match self {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.clone())
            }
            Credentials::Token(t) => RegistryAuth::Bearer(t.clone()),
        }
    }
}

/// The scheme a registry answered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Https,
    Http,
}

/// A client of one registry host.
pub struct Registry {
    host: String,
    auth: RegistryAuth,
    https: Client,
    /// Only for a loopback host: the same client over plain HTTP.
    http: Option<Client>,
    /// The scheme that worked, once one has.
    scheme: Mutex<Option<Scheme>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

/// The extra authorities `SSL_CERT_FILE` names, for the TLS client (the
/// platform's own are trusted too).
fn extra_roots() -> Vec<Certificate> {
    std::env::var_os("SSL_CERT_FILE")
        .and_then(|path| std::fs::read(path).ok())
        .map(|data| {
            vec![Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            }]
        })
        .unwrap_or_default()
}

fn client(protocol: ClientProtocol) -> Client {
    let config = |protocol, extra_root_certificates| ClientConfig {
        protocol,
        extra_root_certificates,
        platform_resolver: None,
        // One POST, then one PUT streaming the whole blob from its file: the
        // upload every registry must take. Chunked PATCHes are not used: ECR
        // drops the data of every PATCH after the first
        // (aws/containers-roadmap#2831).
        use_monolithic_push: true,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        user_agent: concat!("eventpipe/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    };
    Client::try_from(config(protocol.clone(), extra_roots())).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "SSL_CERT_FILE cannot be used: trusting the system's authorities only");
        Client::new(config(protocol, Vec::new()))
    })
}

/// The credentials `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`)
/// holds for `host`: a stored login or a credential helper's answer;
/// anonymous when there is none.
pub fn docker_credentials(host: &str) -> Credentials {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    match dir.and_then(|d| std::fs::File::open(d.join("config.json")).ok()) {
        Some(file) => credentials_in(std::io::BufReader::new(file), host),
        None => Credentials::Anonymous,
    }
}

/// The credentials a docker configuration gives `host` (Docker Hub's are
/// kept under its v1 address, as `docker login` writes them).
pub fn credentials_in(config: impl std::io::Read, host: &str) -> Credentials {
    let server = match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        other => other,
    };
    match docker_credential::get_credential_from_reader(config, server) {
        Ok(docker_credential::DockerCredential::UsernamePassword(username, password)) => {
            Credentials::Basic { username, password }
        }
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => Credentials::Token(token),
        Err(e) => {
            tracing::debug!(host, error = %e, "no docker credentials: anonymous");
            Credentials::Anonymous
        }
    }
}

impl Registry {
    /// A client for the registry of `reference`, with the credentials the
    /// docker configuration gives its host.
    pub fn for_reference(reference: &ImageRef) -> Registry {
        let host = reference.inner.resolve_registry().to_owned();
        let credentials = docker_credentials(reference.registry());
        Registry::with_credentials(host, &credentials)
    }

    /// A client for `host` with `credentials` (for ECR, those of
    /// `GetAuthorizationToken`).
    pub fn with_credentials(host: String, credentials: &Credentials) -> Registry {
        let auth = credentials.auth();
        let http = is_loopback(&host).then(|| client(ClientProtocol::Http));
        Registry {
            https: client(ClientProtocol::Https),
            http,
            auth,
            host,
            scheme: Mutex::new(None),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn known_scheme(&self) -> Option<Scheme> {
        self.scheme.lock().map_or(None, |s| *s)
    }

    fn remember(&self, scheme: Scheme) {
        if let Ok(mut s) = self.scheme.lock() {
            *s = Some(scheme);
        }
    }

    /// Runs `op` as [`Registry::attempt`] does, and once more after a
    /// short pause when it failed on the way ([`is_transient`]: a 5xx, a
    /// connection refused or dropped before the answer, a 401 that a
    /// failed token request left behind).
    ///
    /// Every call this client makes may be repeated: manifest and blob
    /// HEADs and GETs read; a blob upload is addressed by its digest (a
    /// repeated POST and PUT store the same bytes under the same name, and
    /// the registry purges the abandoned upload session); a manifest PUT of
    /// the same bytes under the same tag is idempotent. So one blip costs a
    /// retry, not a failed plan or apply; a second failure is reported as
    /// a typed [`RegistryError`], and the next run picks up from what the
    /// registry and the cache hold.
    async fn call<T, F, Fut>(&self, op: F) -> Result<T, OciDistributionError>
    where
        F: Fn(Client, RegistryAuth) -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        match self.attempt(&op).await {
            Err(e) if is_transient(&e) => {
                tracing::debug!(host = %self.host, error = %describe(&e), "registry call failed; retrying once");
                tokio::time::sleep(RETRY_AFTER).await;
                self.attempt(&op).await
            }
            other => other,
        }
    }

    /// Runs `op` with the client of the scheme that works: TLS, or for a
    /// loopback host that does not speak TLS, plain HTTP.
    async fn attempt<T, F, Fut>(&self, op: F) -> Result<T, OciDistributionError>
    where
        F: Fn(Client, RegistryAuth) -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        match (self.known_scheme(), &self.http) {
            (Some(Scheme::Http), Some(http)) => op(http.clone(), self.auth.clone()).await,
            (Some(_), _) | (None, None) => op(self.https.clone(), self.auth.clone()).await,
            (None, Some(http)) => match op(self.https.clone(), self.auth.clone()).await {
                Err(e) if is_not_tls(&e) => match op(http.clone(), self.auth.clone()).await {
                    // No answer in plain HTTP either: the TLS error says more.
                    Err(plain) if is_unreachable(&plain) && !is_answer(&plain) => Err(e),
                    // An answer, a good or a bad one: the host speaks HTTP.
                    answered => {
                        self.remember(Scheme::Http);
                        answered
                    }
                },
                other => {
                    if other.is_ok() {
                        self.remember(Scheme::Https);
                    }
                    other
                }
            },
        }
    }
}

/// Whether a TLS attempt failed because the server speaks plain HTTP (its
/// answer to a ClientHello is not TLS); a refused connection is not that.
fn is_not_tls(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(r) => {
            let mut text = r.to_string();
            let mut source = std::error::Error::source(r);
            while let Some(s) = source {
                text.push_str(&s.to_string());
                source = s.source();
            }
            // rustls' words for an answer that is not a TLS record, and for a
            // server that hung up on the hello without one.
            r.is_connect()
                && (text.contains("InvalidContentType")
                    || text.contains("corrupt message")
                    || text.contains("handshake eof"))
        }
        _ => false,
    }
}

/// Whether a call failed on the way rather than by the registry's
/// considered answer: a server error (5xx), too many requests, a connection refused, reset or
/// closed before an answer, or a 401 (`oci-client` sends a request without
/// a token when the token request failed, so a 401 may be that failure).
/// An untrusted certificate and a timeout are not retried: neither goes
/// away in a moment, and a timeout has already waited long.
pub(crate) fn is_transient(e: &OciDistributionError) -> bool {
    use oci_client::errors::OciErrorCode as C;
    if is_untrusted(e) {
        return false;
    }
    match e {
        OciDistributionError::RequestError(r) => match r.status() {
            Some(s) => s.is_server_error() || s.as_u16() == 401,
            // A body cut off on the way reads as a body or a decode error.
            None => {
                !r.is_timeout()
                    && (r.is_connect() || r.is_request() || r.is_body() || r.is_decode())
            }
        },
        OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 401,
        OciDistributionError::UnauthorizedError { .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|x| matches!(x.code, C::Unauthorized | C::Toomanyrequests)),
        _ => false,
    }
}

/// Whether an error is the registry's answer (a status), not a failure to
/// get one.
fn is_answer(e: &OciDistributionError) -> bool {
    !matches!(e, OciDistributionError::RequestError(r) if r.status().is_none())
}

/// Whether an error says the registry could not be reached at all (no
/// connection, a timeout, a server error), rather than that it answered no.
pub(crate) fn is_unreachable(e: &OciDistributionError) -> bool {
    if is_untrusted(e) {
        return false;
    }
    match e {
        OciDistributionError::RequestError(r) => {
            r.is_connect()
                || r.is_timeout()
                || r.is_request()
                || r.is_body()
                || r.is_decode()
                || r.status().is_some_and(|s| s.is_server_error())
        }
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        _ => false,
    }
}

/// Whether TLS refused the registry's certificate.
pub(crate) fn is_untrusted(e: &OciDistributionError) -> bool {
    describe(e).contains("invalid peer certificate")
}

/// The error's text with its causes, on one line.
pub(crate) fn describe(e: &OciDistributionError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_hosts_only() {
        for host in [
            "127.0.0.1:5000",
            "localhost:443",
            "[::1]:5000",
            "127.1.2.3",
            "localhost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "public.ecr.aws",
            "10.0.0.1:5000",
            "registry.local:5000",
            "[2001:db8::1]:5000",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn a_server_error_or_a_missing_token_is_retried_a_refusal_is_not() {
        let server = |code| OciDistributionError::ServerError {
            code,
            url: "http://127.0.0.1:1/v2/x/manifests/y".into(),
            message: String::new(),
        };
        assert!(is_transient(&server(500)));
        assert!(is_transient(&server(503)));
        assert!(is_transient(&OciDistributionError::UnauthorizedError {
            url: "http://127.0.0.1:1/v2/".into()
        }));
        assert!(!is_transient(&server(404)));
        assert!(!is_transient(&server(403)));
        assert!(!is_transient(&OciDistributionError::GenericError(None)));
    }

    #[test]
    fn only_a_loopback_registry_gets_a_plain_http_client() {
        let local = Registry::with_credentials("127.0.0.1:5000".into(), &Credentials::Anonymous);
        assert!(local.http.is_some());
        let remote = Registry::with_credentials("public.ecr.aws".into(), &Credentials::Anonymous);
        assert!(remote.http.is_none(), "TLS only");
        assert_eq!(remote.host(), "public.ecr.aws");
    }

    #[test]
    fn credentials_come_from_the_docker_configuration_of_the_host() {
        let config = r#"{"auths": {
            "127.0.0.1:5000": {"auth": "dXNlcjpwYXNz"},
            "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
            "tokens.example": {"identitytoken": "abc"}
        }}"#;
        assert_eq!(
            credentials_in(config.as_bytes(), "127.0.0.1:5000"),
            Credentials::Basic {
                username: "user".into(),
                password: "pass".into()
            }
        );
        assert_eq!(
            credentials_in(config.as_bytes(), "docker.io"),
            Credentials::Basic {
                username: "hub".into(),
                password: "secret".into()
            }
        );
        assert_eq!(
            credentials_in(config.as_bytes(), "tokens.example"),
            Credentials::Token("abc".into())
        );
        assert_eq!(
            credentials_in(config.as_bytes(), "public.ecr.aws"),
            Credentials::Anonymous
        );
        assert_eq!(
            credentials_in(&b"not json"[..], "x"),
            Credentials::Anonymous
        );
        let shown = format!("{:?}", credentials_in(config.as_bytes(), "127.0.0.1:5000"));
        assert!(!shown.contains("pass"), "{shown}");
    }

    #[test]
    fn a_reference_names_its_registry_repository_and_tag_or_digest() {
        let r = parse_reference("public.ecr.aws/lambda/python:3.13").unwrap();
        assert_eq!(r.registry(), "public.ecr.aws");
        assert_eq!(r.repository(), "lambda/python");
        assert_eq!(r.tag(), Some("3.13"));
        let pin = format!("127.0.0.1:5000/base@sha256:{}", "a".repeat(64));
        let r = parse_reference(&pin).unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(
            r.digest(),
            Some(format!("sha256:{}", "a".repeat(64)).as_str())
        );
        assert!(matches!(
            parse_reference("UPPER/Case::x"),
            Err(RegistryError::BadReference { .. })
        ));
    }
}
