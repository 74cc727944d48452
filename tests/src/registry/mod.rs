//! One OCI registry per test: Debian's `docker-registry` (the CNCF
//! distribution registry, installed by `make tools`) on a free loopback port,
//! with its own config file, a temporary storage directory and its log
//! captured. It speaks plain HTTP ([`Registry::start`]; clients such as
//! skopeo need `--tls-verify=false`), or HTTPS with a certificate from a test
//! CA ([`Registry::start_tls`]; clients trust [`Registry::cert_dir`] or the
//! CA's PEM through `SSL_CERT_FILE`).
//! Dropping a [`Registry`] stops it, also when the test panics; its files go
//! with it.
//!
//! The registry's log is parsed into one record per request ([`log`]), so a
//! test can count the blobs and bytes a client uploaded.

pub mod log;

use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::http::{self, Head, Response};
use crate::https::Certs;
use crate::process;
use crate::tools;

pub use log::{BlobUpload, ManifestPush, RequestLog, RequestRecord};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_GRACE: Duration = Duration::from_millis(500);
const PORT_ATTEMPTS: usize = 5;

/// The media types a manifest `HEAD` or `GET` accepts: OCI and Docker, both
/// single-platform manifests and indexes.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// A running `docker-registry serve CONFIG` on 127.0.0.1.
pub struct Registry {
    child: Child,
    addr: SocketAddr,
    /// Holds `config.yml`, `registry.log` and `storage/`; with TLS also
    /// `tls/` (certificate and key) and `certs/ca.crt`.
    dir: TempDir,
    /// With TLS: a client configuration that trusts the test CA.
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Registry {
    /// Starts a registry on a free port and waits (at most 30 s) until
    /// `GET /v2/` answers 200. Fails with a pointer to `make tools` when
    /// `docker-registry` is not installed.
    pub fn start() -> Result<Registry> {
        Registry::start_with(None, None)
    }

    /// [`Registry::start`] with a login required (`auth.htpasswd`): one
    /// user and a bcrypt hash of their password (`$2b$` or `$2y$`; cost 4
    /// keeps each request's check cheap). Anonymous requests get 401 with a
    /// `Basic` challenge, as ECR's registry answers.
    pub fn start_with_login(user: &str, bcrypt_hash: &str) -> Result<Registry> {
        Registry::start_with(None, Some(&format!("{user}:{bcrypt_hash}\n")))
    }

    /// [`Registry::start`] over HTTPS, with the certificate for 127.0.0.1
    /// that `certs`' authority signed (see `https::make_certs`).
    pub fn start_tls(certs: &Certs) -> Result<Registry> {
        Registry::start_with(Some(certs), None)
    }

    fn start_with(certs: Option<&Certs>, htpasswd: Option<&str>) -> Result<Registry> {
        let program = tools::system_tool("docker-registry")?;
        let mut last_log = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            match Registry::launch(&program, port, certs, htpasswd)? {
                Launch::Ready(registry) => return Ok(registry),
                Launch::PortTaken(log) => last_log = Some(log),
            }
        }
        bail!(
            "docker-registry found no free port in {PORT_ATTEMPTS} attempts; last log:\n{}",
            last_log.unwrap_or_default()
        )
    }

    fn launch(
        program: &Path,
        port: u16,
        certs: Option<&Certs>,
        htpasswd: Option<&str>,
    ) -> Result<Launch> {
        let dir = tempfile::Builder::new()
            .prefix("registry-")
            .tempdir()
            .context("creating the registry's directory")?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let tls_section = match certs {
            Some(certs) => write_tls_files(dir.path(), certs)?,
            None => String::new(),
        };
        let config = dir.path().join("config.yml");
        let auth_section = match htpasswd {
            Some(lines) => {
                let file = dir.path().join("htpasswd");
                fs::write(&file, lines).with_context(|| format!("writing {}", file.display()))?;
                format!(
                    "auth:\n  htpasswd:\n    realm: eventpipe-tests\n    path: {}\n",
                    file.display()
                )
            }
            None => String::new(),
        };
        let yaml = auth_section + &config_yaml(addr, &dir.path().join("storage")) + &tls_section;
        fs::write(&config, yaml).with_context(|| format!("writing {}", config.display()))?;
        let log = File::create(dir.path().join("registry.log"))
            .context("creating the registry log file")?;
        let mut cmd = Command::new(program);
        cmd.arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the log handle")?)
            .stderr(log);
        let child =
            process::spawn_tied(cmd).with_context(|| format!("starting {}", program.display()))?;
        let tls = certs.map(Certs::client_config);
        Registry {
            child,
            addr,
            dir,
            tls,
        }
        .wait_ready()
    }

    fn wait_ready(mut self) -> Result<Launch> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = self.log();
                if log.contains("address already in use") {
                    return Ok(Launch::PortTaken(log));
                }
                bail!("docker-registry exited before answering ({status}); its output:\n{log}");
            }
            let answer =
                http::request_tls(self.addr, "GET", "/v2/", self.tls.as_ref(), REQUEST_TIMEOUT);
            // 401: a registry that wants a login is up too.
            if matches!(
                answer,
                Ok(Response {
                    status: 200 | 401,
                    ..
                })
            ) {
                return Ok(Launch::Ready(self));
            }
            if Instant::now() >= deadline {
                bail!(
                    "docker-registry on {} did not answer GET /v2/ with 200 within {:?} \
                     (last answer: {answer:?}); its output:\n{}",
                    self.addr,
                    READY_TIMEOUT,
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(25));
        }
    }

    /// `127.0.0.1:PORT`, the registry host in image references.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://…` with TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// With TLS: a directory holding the test CA as `ca.crt`, what skopeo's
    /// `--cert-dir` (and Docker's `certs.d/<host>/`) read.
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.tls.as_ref().map(|_| self.dir.path().join("certs"))
    }

    /// The server's process id (to check it is gone after a drop).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the registry keeps blobs and repositories (its filesystem driver's root).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Everything the registry has printed so far: JSON lines, one per
    /// event, among them one `response completed` line per request.
    pub fn log(&self) -> String {
        fs::read(self.dir.path().join("registry.log"))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|e| format!("(cannot read the registry log: {e})"))
    }

    /// The requests the registry has answered so far, in order, with the
    /// bytes each one stored (see [`RequestRecord::bytes`]).
    pub fn requests(&self) -> Result<RequestLog> {
        RequestLog::parse(&self.log(), &self.storage_dir())
    }

    /// `HEAD /v2/<repository>/manifests/<reference>`, accepting indexes and
    /// manifests: the status and headers (`Docker-Content-Digest`, `Content-Type`).
    pub fn head_manifest(&self, repository: &str, reference: &str) -> Result<Head> {
        http::head(
            self.addr,
            &format!("/v2/{repository}/manifests/{reference}"),
            &[("Accept", MANIFEST_ACCEPT)],
            self.tls.as_ref(),
            REQUEST_TIMEOUT,
        )
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Nothing useful to do with an error while dropping.
        let _ = process::terminate_group(&mut self.child, STOP_GRACE);
    }
}

enum Launch {
    Ready(Registry),
    /// Another process took the port between our probe and the server's bind.
    PortTaken(String),
}

/// The registry's configuration: loopback only, plain HTTP unless a `tls`
/// section is appended (it belongs under `http`, the last key), JSON log lines
/// (one `response completed` line per request, which [`log`] parses), no
/// access log, deletes allowed (destroy removes images), no upload purging
/// while a test runs.
fn config_yaml(addr: SocketAddr, storage: &Path) -> String {
    format!(
        "version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {addr}
  secret: eventpipe-tests-only
  headers:
    X-Content-Type-Options: [nosniff]
",
        storage = storage.display()
    )
}

/// Writes the server's certificate chain and key under `tls/` and the CA
/// under `certs/ca.crt`; returns the config's `http.tls` section.
fn write_tls_files(dir: &Path, certs: &Certs) -> Result<String> {
    let tls = dir.join("tls");
    let trust = dir.join("certs");
    fs::create_dir_all(&tls)?;
    fs::create_dir_all(&trust)?;
    let (certificate, key) = (tls.join("registry.crt"), tls.join("registry.key"));
    fs::write(&certificate, format!("{}{}", certs.leaf_pem, certs.ca_pem))?;
    fs::write(&key, &certs.key_pem)?;
    fs::write(trust.join("ca.crt"), &certs.ca_pem)?;
    Ok(format!(
        "  tls:\n    certificate: {}\n    key: {}\n",
        certificate.display(),
        key.display()
    ))
}

/// A port that was free a moment ago (bind to port 0, then release it).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("binding 127.0.0.1:0 to find a port")?;
    Ok(listener.local_addr()?.port())
}
