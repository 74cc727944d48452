//! Process signals: SIGTERM begins graceful shutdown; SIGINT is ignored when
//! Terraform runs us (Ctrl-C reaches the whole process group and Terraform
//! then sends StopProvider itself) and stops a debug server.

use tokio_util::sync::CancellationToken;

/// What Ctrl-C (SIGINT) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigint {
    /// Log and carry on: Terraform owns the provider's lifetime.
    Ignore,
    /// Begin graceful shutdown (debug mode).
    Shutdown,
}

/// Installs the handlers (this replaces the default "terminate" action at
/// once) and cancels `shutdown` on SIGTERM, and on SIGINT if asked. Must be
/// called inside a Tokio runtime.
#[cfg(unix)]
pub fn watch(shutdown: CancellationToken, sigint: Sigint) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let token = shutdown.clone();
    tokio::spawn(async move {
        if term.recv().await.is_some() {
            tracing::info!("SIGTERM received; shutting down");
            token.cancel();
        }
    });
    tokio::spawn(async move {
        while int.recv().await.is_some() {
            match sigint {
                Sigint::Ignore => {
                    tracing::debug!("ignoring SIGINT: Terraform stops the provider itself");
                }
                Sigint::Shutdown => {
                    tracing::info!("interrupted; shutting down");
                    shutdown.cancel();
                    break;
                }
            }
        }
    });
    Ok(())
}

/// Non-Unix fallback: Ctrl-C is caught (so ignored when asked) or stops.
#[cfg(not(unix))]
pub fn watch(shutdown: CancellationToken, sigint: Sigint) -> std::io::Result<()> {
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if sigint == Sigint::Shutdown {
                shutdown.cancel();
                break;
            }
        }
    });
    Ok(())
}
