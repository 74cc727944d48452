//! One moto server (the AWS emulator) per test, on a free loopback port.
//! Dropping a [`Moto`] stops the server, also when the test panics.

use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::NamedTempFile;

use crate::aws::Aws;
use crate::http::{self, Response};
use crate::process;
use crate::tools;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_GRACE: Duration = Duration::from_millis(500);
const PORT_ATTEMPTS: usize = 5;
/// How much of its log a server shows when a test fails.
const LAST_LINES: usize = 40;

/// A running moto server with Lambda switched to run without docker.
pub struct Moto {
    child: Child,
    addr: SocketAddr,
    log: NamedTempFile,
}

impl Moto {
    /// Starts a server on a free port and configures it (see [`Moto::start_with_env`]).
    pub fn start() -> Result<Moto> {
        Moto::start_with_env(&[])
    }

    /// Starts a server with extra environment variables, e.g.
    /// `("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")`. Waits until it answers
    /// (at most 30 s), then sets `{"lambda":{"use_docker":false}}` before
    /// anything else can talk to it.
    pub fn start_with_env(env: &[(&str, &str)]) -> Result<Moto> {
        let launcher = tools::moto_server()?;
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            match Moto::launch(&launcher, port, env)? {
                Launch::Ready(moto) => {
                    moto.configure()?;
                    return Ok(moto);
                }
                Launch::PortTaken(log) => last_error = Some(log),
            }
        }
        bail!(
            "moto_server found no free port in {PORT_ATTEMPTS} attempts; last log:\n{}",
            last_error.unwrap_or_default()
        )
    }

    fn launch(launcher: &PathBuf, port: u16, env: &[(&str, &str)]) -> Result<Launch> {
        let log = NamedTempFile::with_prefix("moto-log-").context("creating the moto log file")?;
        let mut cmd = Command::new(launcher);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_handle(&log)?)
            .stderr(log_handle(&log)?);
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child =
            process::spawn_tied(cmd).with_context(|| format!("starting {}", launcher.display()))?;
        let moto = Moto {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            log,
        };
        moto.wait_ready()
    }

    fn wait_ready(mut self) -> Result<Launch> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = self.log();
                if log.contains("Address already in use") {
                    return Ok(Launch::PortTaken(log));
                }
                bail!("moto_server exited before answering ({status}); its output:\n{log}");
            }
            let answer = http::request(self.addr, "GET", "/moto-api/", None, REQUEST_TIMEOUT);
            if matches!(answer, Ok(Response { status: 200, .. })) {
                return Ok(Launch::Ready(self));
            }
            if Instant::now() >= deadline {
                bail!(
                    "moto_server on {} did not answer GET /moto-api/ with 200 within {:?} \
                     (last answer: {answer:?}); its output:\n{}",
                    self.addr,
                    READY_TIMEOUT,
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn configure(&self) -> Result<()> {
        self.control(
            "POST",
            "/moto-api/config",
            r#"{"lambda":{"use_docker":false}}"#,
        )
        .context("switching moto's Lambda to run without docker")
    }

    /// `http://127.0.0.1:PORT`, for every AWS service.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Environment for a process that should talk to this server (Terraform
    /// and the provider): `AWS_ENDPOINT_URL` plus test credentials and region.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            ("AWS_REGION".into(), crate::aws::REGION.into()),
            ("AWS_DEFAULT_REGION".into(), crate::aws::REGION.into()),
        ]
    }

    /// What the next synchronous invocations of any function in us-east-1
    /// return, in order (moto without docker runs no code: by default it
    /// echoes the event).
    pub fn queue_invoke_results(&self, results: &[&str]) -> Result<()> {
        let body = serde_json::json!({"results": results, "region": crate::aws::REGION});
        self.control(
            "POST",
            "/moto-api/static/lambda-simple/response",
            &body.to_string(),
        )
    }

    /// Clears every resource (`POST /moto-api/reset`); settings survive.
    pub fn reset(&self) -> Result<()> {
        self.control("POST", "/moto-api/reset", "")
    }

    /// An independent AWS client pointed at this server.
    pub fn aws(&self) -> Result<Aws> {
        Aws::new(&self.endpoint())
    }

    /// Everything the server has printed so far (its request log and errors).
    pub fn log(&self) -> String {
        fs::read(self.log.path())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|e| format!("(cannot read moto log: {e})"))
    }

    /// Whether the server is still running, and the last lines it printed.
    fn last_words(&mut self) -> String {
        let state = match self.child.try_wait() {
            Ok(None) => "still running".to_owned(),
            Ok(Some(status)) => format!("exited ({status})"),
            Err(e) => format!("in an unknown state ({e})"),
        };
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(LAST_LINES)..].join("\n");
        format!(
            "moto_server on {} is {state}; its last lines:\n{tail}",
            self.addr
        )
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Result<()> {
        let answer = http::request(self.addr, method, path, Some(body), REQUEST_TIMEOUT)?;
        if !(200..300).contains(&answer.status) {
            bail!(
                "{method} {path} answered {}: {}\nmoto output:\n{}",
                answer.status,
                answer.body,
                self.log()
            );
        }
        Ok(())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // A failing test shows whether the server was still up, and the
        // end of its log, with its own output.
        if thread::panicking() {
            eprintln!("{}", self.last_words());
        }
        // Nothing useful to do with an error while dropping.
        let _ = process::terminate_group(&mut self.child, STOP_GRACE);
    }
}

enum Launch {
    Ready(Moto),
    /// Another process took the port between our probe and the server's bind.
    PortTaken(String),
}

fn log_handle(log: &NamedTempFile) -> Result<File> {
    log.as_file()
        .try_clone()
        .context("duplicating the moto log handle")
}

/// A port that was free a moment ago (bind to port 0, then release it).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("binding 127.0.0.1:0 to find a port")?;
    Ok(listener.local_addr()?.port())
}
