//! The go-plugin transport that carries the tfplugin6 Provider service:
//! start-up checks and handshake ([`handshake`]), AutoMTLS ([`tls`]), the
//! gRPC server ([`server`]), signals ([`signals`]), reattach mode
//! ([`debug`]), stderr logging ([`logging`]), the Provider service's
//! handlers ([`provider_service`]) and the conversions between protocol
//! messages and the SDK's types they call ([`fromproto`], [`toproto`]).
//! [`serve`] ties them together for a provider's `main`.

pub mod debug;
mod fromproto;
#[cfg(any(test, feature = "strategy"))]
pub mod fuzz;
pub mod handshake;
pub mod logging;
pub mod provider_service;
pub mod server;
pub mod signals;
pub mod tls;
mod toproto;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::provider::Provider;
use provider_service::ProviderService;

/// Who the served provider is. `main` fills this in; nothing in the
/// transport knows a provider's name otherwise.
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    /// The registry address, e.g. `registry.terraform.io/acme/widgets`: the
    /// key of `TF_REATTACH_PROVIDERS` in debug mode.
    pub address: &'static str,
    /// The executable's name, e.g. `terraform-provider-widgets`.
    pub binary_name: &'static str,
    /// The provider's version, printed by `--version`.
    pub version: &'static str,
    /// The short name used in messages to the user, e.g. `widgets`.
    pub display_name: &'static str,
    /// Crates (tracing targets) whose logs are capped at INFO besides the
    /// transport's own, e.g. a cloud SDK that logs request bodies at TRACE.
    pub quiet_log_targets: &'static [&'static str],
    /// The cryptography for AutoMTLS.
    pub crypto: tls::Crypto,
}

impl ServeOptions {
    /// The `@module` of every log line: `provider.<binary name>`.
    pub fn log_module(&self) -> String {
        format!("provider.{}", self.binary_name)
    }

    fn usage(&self) -> String {
        format!(
            "Usage: {} [--debug | --version | --help]

Terraform starts this provider itself; run `terraform init` after installing it.

  --debug    serve without Terraform's start-up handshake and print the
             TF_REATTACH_PROVIDERS value that attaches Terraform to this
             process (for debuggers); runs until Ctrl-C. Log level from
             TF_LOG_PROVIDER or TF_LOG (default WARN), JSON lines on stderr.
  --version  print the version
  --help     print this text",
            self.binary_name
        )
    }
}

/// How long blocking tasks may hold up the exit once the server stopped.
const RUNTIME_SHUTDOWN_LIMIT: Duration = Duration::from_millis(200);

/// What the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// No arguments: serve Terraform (the normal case).
    Serve,
    /// `--debug`: reattach mode.
    Debug,
    /// `--version`.
    Version,
    /// `--help`.
    Help,
}

/// An argument we do not understand.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown argument {0:?}")]
pub struct UsageError(pub String);

/// Everything that can stop the provider from serving.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Cookie or protocol check failed.
    #[error(transparent)]
    Handshake(#[from] handshake::HandshakeError),
    /// AutoMTLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Listening or serving failed.
    #[error(transparent)]
    Server(#[from] server::ServerError),
    /// The async runtime did not start.
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Signal handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signals(#[source] std::io::Error),
    /// The listener has no address.
    #[error("reading the listening address: {0}")]
    LocalAddr(#[source] std::io::Error),
    /// stdout is gone.
    #[error("writing to stdout: {0}")]
    Stdout(#[source] std::io::Error),
}

/// Parses the arguments after the program name.
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut command = Command::Serve;
    for arg in args {
        let next = match arg.to_str() {
            Some("--debug" | "-debug") => Command::Debug,
            Some("--version" | "-version" | "-v") => Command::Version,
            Some("--help" | "-help" | "-h") => Command::Help,
            _ => return Err(UsageError(arg.to_string_lossy().into_owned())),
        };
        // Help and version win over debug, whatever the order.
        if command == Command::Serve || next != Command::Debug {
            command = next;
        }
    }
    Ok(command)
}

/// Runs the provider process: parses the arguments, checks that Terraform
/// started us, serves `make_provider`'s provider over go-plugin's gRPC
/// transport, and returns the exit code once Terraform (or SIGTERM) asked
/// us to stop. The token given to `make_provider` is cancelled when shutdown
/// begins. `make_provider` runs inside the Tokio runtime before the
/// handshake, so it must be cheap.
pub fn serve<F, P>(opts: ServeOptions, make_provider: F) -> ExitCode
where
    F: FnOnce(CancellationToken) -> P,
    P: Provider,
{
    limit_malloc_arenas();
    let command = match parse_args(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("{e}\n\n{}", opts.usage());
            return ExitCode::from(2);
        }
    };
    let make_service =
        |shutdown| ProviderService::new(std::sync::Arc::new(make_provider(shutdown)), opts);
    let result = match command {
        Command::Version => print_stdout(&format!("{} {}\n", opts.binary_name, opts.version)),
        Command::Help => print_stdout(&format!("{}\n", opts.usage())),
        Command::Debug => {
            init_logging(&opts);
            run_debug(&opts, make_service)
        }
        Command::Serve => {
            let cookie = env(handshake::MAGIC_COOKIE_KEY);
            if let Err(e) = handshake::check_cookie(cookie.as_deref()) {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
            init_logging(&opts);
            run_plugin(&opts, make_service)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the provider stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives threads that allocate their own malloc arenas and keeps
/// freed memory in each; with the runtime's workers and the blocking pool
/// (packaging), the provider's peak RSS grew with every pipeline applied
/// (bench figure 7: ~44 MB after 100 pipelines, ~35 MB with two arenas).
/// Two arenas are plenty for two runtime workers. `MALLOC_ARENA_MAX` in the
/// environment still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: sets an allocator parameter; runs first in `main`, before
        // any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

fn init_logging(opts: &ServeOptions) {
    let level = logging::level_from_env(
        env(logging::LOG_PROVIDER_KEY).as_deref(),
        env(logging::LOG_KEY).as_deref(),
    );
    logging::init(level, opts.log_module(), opts.quiet_log_targets);
}

fn print_stdout(text: &str) -> Result<(), RunError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(RunError::Stdout)
}

fn runtime() -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("provider-rt")
        // Generous stacks: the futures of cloud SDKs are large, and an
        // unoptimised build keeps them on the stack.
        .thread_stack_size(8 * 1024 * 1024)
        .enable_all()
        .build()
        .map_err(RunError::Runtime)
}

/// Normal mode: Terraform started us and reads the handshake line.
fn run_plugin<F, P>(opts: &ServeOptions, make_provider: F) -> Result<(), RunError>
where
    F: FnOnce(CancellationToken) -> ProviderService<P>,
    P: Provider,
{
    handshake::negotiate_protocol(env(handshake::PROTOCOL_VERSIONS_KEY).as_deref())?;
    let ports = server::port_range_from_env(
        env(server::MIN_PORT_KEY).as_deref(),
        env(server::MAX_PORT_KEY).as_deref(),
    )?;
    let client_cert =
        tls::client_cert_from_env(env(tls::CLIENT_CERT_KEY), env(tls::DISABLE_TLS_KEY));
    let tls = client_cert
        .as_deref()
        .map(|pem| tls::auto_mtls(pem, opts.crypto))
        .transpose()?;
    if tls.is_none() {
        tracing::info!(
            "no {} from Terraform: serving without TLS",
            tls::CLIENT_CERT_KEY
        );
    }
    let rt = runtime()?;
    let shutdown = CancellationToken::new();
    let result = rt.block_on(async {
        let provider = make_provider(shutdown.clone());
        signals::watch(shutdown.clone(), signals::Sigint::Ignore).map_err(RunError::Signals)?;
        let listener = server::bind(ports).await?;
        let addr = listener.local_addr().map_err(RunError::LocalAddr)?;
        let cert = tls.as_ref().map(|t| t.cert_der.as_ref());
        let line = handshake::handshake_line(addr, cert);
        handshake::write_handshake_line(&mut std::io::stdout().lock(), &line)
            .map_err(RunError::Stdout)?;
        tracing::debug!(%addr, tls = tls.is_some(), "plugin serving");
        let acceptor = tls.map(|t| t.acceptor);
        server::serve(
            listener,
            acceptor,
            provider,
            shutdown.clone(),
            server::ControllerShutdown::Exit,
        )
        .await?;
        Ok(())
    });
    shutdown.cancel();
    rt.shutdown_timeout(RUNTIME_SHUTDOWN_LIMIT);
    tracing::debug!("plugin exiting");
    result
}

/// Debug mode: plain h2c on any free loopback port until Ctrl-C.
fn run_debug<F, P>(opts: &ServeOptions, make_provider: F) -> Result<(), RunError>
where
    F: FnOnce(CancellationToken) -> ProviderService<P>,
    P: Provider,
{
    let rt = runtime()?;
    let shutdown = CancellationToken::new();
    let result = rt.block_on(async {
        let provider = make_provider(shutdown.clone());
        signals::watch(shutdown.clone(), signals::Sigint::Shutdown).map_err(RunError::Signals)?;
        let listener = server::bind(None).await?;
        let addr = listener.local_addr().map_err(RunError::LocalAddr)?;
        print_stdout(&debug::instructions(opts.address, std::process::id(), addr))?;
        server::serve(
            listener,
            None,
            provider,
            shutdown.clone(),
            server::ControllerShutdown::Ignore,
        )
        .await?;
        Ok(())
    });
    shutdown.cancel();
    rt.shutdown_timeout(RUNTIME_SHUTDOWN_LIMIT);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn no_arguments_means_serve() {
        assert_eq!(parse_args(args(&[])), Ok(Command::Serve));
    }

    #[test]
    fn flags_are_recognised() {
        assert_eq!(parse_args(args(&["--debug"])), Ok(Command::Debug));
        assert_eq!(parse_args(args(&["--version"])), Ok(Command::Version));
        assert_eq!(parse_args(args(&["-h"])), Ok(Command::Help));
        assert_eq!(
            parse_args(args(&["--version", "--debug"])),
            Ok(Command::Version)
        );
        assert_eq!(parse_args(args(&["--debug", "--help"])), Ok(Command::Help));
    }

    #[test]
    fn unknown_arguments_are_refused() {
        assert_eq!(
            parse_args(args(&["serve"])),
            Err(UsageError("serve".into()))
        );
    }
}
