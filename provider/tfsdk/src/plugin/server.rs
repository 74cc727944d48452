//! The gRPC server Terraform connects to: a loopback listener on a port from
//! go-plugin's range, optional TLS per connection, and the services
//! go-plugin expects (provider, health, controller), with graceful shutdown.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use tfplugin_proto::plugin::Empty;
use tfplugin_proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use tfplugin_proto::tfplugin6::provider_server::{Provider, ProviderServer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::codegen::{Service, http};
use tonic::server::NamedService;
use tonic::transport::server::Connected;
use tonic_health::ServingStatus;

/// Largest gRPC message accepted or sent by the provider service. Terraform
/// allows 2^31-1 bytes; state and plans can be large.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;
/// How long connections may take to drain after shutdown begins before the
/// server stops anyway (Terraform kills the process 2 s after Shutdown).
pub const DRAIN_LIMIT: Duration = Duration::from_millis(1000);
/// How long one client may take to complete its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The health service name go-plugin checks.
pub const HEALTH_SERVICE: &str = "plugin";
/// Environment variables bounding the listening port.
pub const MIN_PORT_KEY: &str = "PLUGIN_MIN_PORT";
/// See [`MIN_PORT_KEY`].
pub const MAX_PORT_KEY: &str = "PLUGIN_MAX_PORT";

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A port bound is not a port number.
    #[error("{key}={value:?} is not a port number")]
    BadPort {
        /// The variable name.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// The port range is empty.
    #[error("{MIN_PORT_KEY} ({min}) is greater than {MAX_PORT_KEY} ({max})")]
    EmptyRange {
        /// Lower bound.
        min: u16,
        /// Upper bound.
        max: u16,
    },
    /// Every port in the range is taken.
    #[error("no free port on 127.0.0.1 in {min}..={max}: {source}")]
    NoFreePort {
        /// Lower bound.
        min: u16,
        /// Upper bound.
        max: u16,
        /// The last bind error.
        source: io::Error,
    },
    /// Binding an ephemeral port failed.
    #[error("binding 127.0.0.1: {0}")]
    Bind(#[source] io::Error),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// Reads the port range from `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT`. Neither
/// set: `None` (any free port). A missing upper bound means 65535.
pub fn port_range_from_env(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Option<RangeInclusive<u16>>, ServerError> {
    fn parse(key: &'static str, value: Option<&str>) -> Result<Option<u16>, ServerError> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| ServerError::BadPort {
                key,
                value: v.to_owned(),
            }),
        }
    }
    let (min, max) = match (parse(MIN_PORT_KEY, min)?, parse(MAX_PORT_KEY, max)?) {
        (None, None) => return Ok(None),
        (min, max) => (min.unwrap_or(0), max.unwrap_or(u16::MAX)),
    };
    if min > max {
        return Err(ServerError::EmptyRange { min, max });
    }
    Ok(Some(min..=max))
}

/// The order in which to try the ports of `range`: every port once, starting
/// at `seed` modulo the range size, so concurrent plugin processes seeded
/// differently (by pid) rarely race for the same port.
pub fn port_order(range: RangeInclusive<u16>, seed: u32) -> impl Iterator<Item = u16> {
    let (min, max) = (u32::from(*range.start()), u32::from(*range.end()));
    let len = (max + 1).saturating_sub(min);
    let offset = if len == 0 { 0 } else { seed % len };
    (0..len).filter_map(move |i| u16::try_from(min + (offset + i) % len).ok())
}

/// Binds a listener on 127.0.0.1: on a port from `range` if given (a range
/// that includes 0 lets the OS choose), otherwise on any free port.
pub async fn bind(range: Option<RangeInclusive<u16>>) -> Result<TcpListener, ServerError> {
    let any = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Some(range) = range.filter(|r| *r.start() != 0) else {
        return TcpListener::bind(any(0)).await.map_err(ServerError::Bind);
    };
    let (min, max) = (*range.start(), *range.end());
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "empty range");
    for port in port_order(range, std::process::id()) {
        match TcpListener::bind(any(port)).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(ServerError::NoFreePort {
        min,
        max,
        source: last,
    })
}

/// What the `plugin.GRPCController/Shutdown` RPC does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerShutdown {
    /// Begin graceful shutdown (normal mode).
    Exit,
    /// Log and carry on (debug mode, where one server outlives many
    /// Terraform runs).
    Ignore,
}

/// Serves `provider` on `listener` until `shutdown` is cancelled, then
/// drains connections for at most [`DRAIN_LIMIT`]. With `tls`, every
/// connection must complete the TLS handshake first; one client failing it
/// only loses its own connection.
pub async fn serve<P: Provider>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    provider: P,
    shutdown: CancellationToken,
    controller: ControllerShutdown,
) -> Result<(), ServerError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(HEALTH_SERVICE, ServingStatus::Serving)
        .await;
    let provider = CatchPanic(
        ProviderServer::new(provider)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE),
    );
    let controller = GrpcControllerServer::new(Controller {
        shutdown: shutdown.clone(),
        mode: controller,
    });
    let incoming = accept_connections(listener, tls, shutdown.clone());
    let server = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(controller)
        .add_service(provider)
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    let drain_deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(DRAIN_LIMIT).await;
    };
    tokio::select! {
        result = server => {
            tracing::debug!("gRPC server stopped");
            result.map_err(ServerError::from)
        }
        () = drain_deadline => {
            tracing::warn!("connections still busy {DRAIN_LIMIT:?} after shutdown began; stopping anyway");
            Ok(())
        }
    }
}

/// Accepts TCP connections (and completes TLS handshakes, each in its own
/// task) until `stop` is cancelled or the server drops the stream.
fn accept_connections(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    stop: CancellationToken,
) -> ReceiverStream<Result<Conn, io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = stop.cancelled() => break,
                () = tx.closed() => break,
                accepted = listener.accept() => accepted,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Per-connection errors and fd exhaustion: back off briefly.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let Some(acceptor) = tls.clone() else {
                if tx.send(Ok(Conn::Plain(tcp))).await.is_err() {
                    break;
                }
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send(Ok(Conn::Tls(Box::new(stream)))).await;
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(%peer, %error, "TLS handshake failed; connection refused");
                    }
                    Err(_) => {
                        tracing::warn!(%peer, "TLS handshake timed out; connection dropped");
                    }
                }
            });
        }
        tracing::debug!("stopped accepting connections");
    });
    ReceiverStream::new(rx)
}

/// One accepted connection, plain (h2c) or TLS.
#[derive(Debug)]
pub enum Conn {
    /// Plain TCP: no AutoMTLS, or debug mode.
    Plain(TcpStream),
    /// TLS with a verified client certificate.
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// What a request handler can learn about its connection.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The client's address.
    pub remote_addr: Option<SocketAddr>,
    /// Whether the connection is TLS.
    pub tls: bool,
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        match self {
            Conn::Plain(s) => ConnInfo {
                remote_addr: s.peer_addr().ok(),
                tls: false,
            },
            Conn::Tls(s) => ConnInfo {
                remote_addr: s.get_ref().0.peer_addr().ok(),
                tls: true,
            },
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// `plugin.GRPCController`: Terraform's way to ask the plugin to exit.
struct Controller {
    shutdown: CancellationToken,
    mode: ControllerShutdown,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: tonic::Request<Empty>,
    ) -> Result<tonic::Response<Empty>, tonic::Status> {
        match self.mode {
            ControllerShutdown::Exit => {
                tracing::debug!("Terraform asked the plugin to shut down");
                self.shutdown.cancel();
            }
            ControllerShutdown::Ignore => {
                tracing::info!("ignoring the Shutdown request: debug servers run until Ctrl-C");
            }
        }
        Ok(tonic::Response::new(Empty {}))
    }
}

/// Turns a panic while handling a request into an INTERNAL status for that
/// request, so the connection and the process carry on.
#[derive(Debug, Clone)]
struct CatchPanic<S>(S);

impl<S: NamedService> NamedService for CatchPanic<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for CatchPanic<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let started = std::time::Instant::now();
        let future = std::panic::catch_unwind(AssertUnwindSafe(|| self.0.call(request)));
        Box::pin(async move {
            let outcome = match future {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                Err(payload) => Err(payload),
            };
            // The provider's own time per request, for TF_LOG=debug
            // (`BENCHMARKS.md` figure 12 reads it).
            tracing::debug!(
                rpc = %path,
                elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "request handled"
            );
            outcome.unwrap_or_else(|_| {
                tracing::error!(rpc = %path, "the provider panicked while handling a request");
                Ok(tonic::Status::internal(format!(
                    "the provider panicked while handling {path}; see the provider log (TF_LOG=error) for details"
                ))
                .into_http())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_port_range_means_any_port() {
        assert_eq!(port_range_from_env(None, None).unwrap(), None);
        assert_eq!(port_range_from_env(Some(""), Some(" ")).unwrap(), None);
    }

    #[test]
    fn port_range_is_read_from_both_bounds() {
        assert_eq!(
            port_range_from_env(Some("10000"), Some("25000")).unwrap(),
            Some(10000..=25000)
        );
        assert_eq!(
            port_range_from_env(Some("30000"), None).unwrap(),
            Some(30000..=65535)
        );
        assert_eq!(port_range_from_env(None, Some("9")).unwrap(), Some(0..=9));
    }

    #[test]
    fn bad_port_ranges_are_errors() {
        assert!(matches!(
            port_range_from_env(Some("x"), Some("10")),
            Err(ServerError::BadPort {
                key: MIN_PORT_KEY,
                ..
            })
        ));
        assert!(matches!(
            port_range_from_env(Some("1"), Some("70000")),
            Err(ServerError::BadPort {
                key: MAX_PORT_KEY,
                ..
            })
        ));
        assert!(matches!(
            port_range_from_env(Some("20"), Some("10")),
            Err(ServerError::EmptyRange { min: 20, max: 10 })
        ));
    }

    #[test]
    fn port_order_visits_every_port_once_from_the_seed() {
        let order: Vec<u16> = port_order(10..=14, 7).collect();
        assert_eq!(order, vec![12, 13, 14, 10, 11]);
        let all: Vec<u16> = port_order(0..=u16::MAX, 3).collect();
        assert_eq!(all.len(), 65536);
        assert_eq!(all[0], 3);
        assert_eq!(port_order(5..=5, 99).collect::<Vec<_>>(), vec![5]);
    }

    #[tokio::test]
    async fn bind_picks_a_port_in_range_and_skips_taken_ones() {
        let first = bind(None).await.unwrap();
        let taken = first.local_addr().unwrap().port();
        // A range of exactly the taken port fails.
        assert!(matches!(
            bind(Some(taken..=taken)).await,
            Err(ServerError::NoFreePort { .. })
        ));
        let port = taken.saturating_add(1).max(1024);
        let range = port..=port.saturating_add(50);
        let listener = bind(Some(range.clone())).await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(range.contains(&addr.port()));
        assert!(addr.ip().is_loopback());
    }
}
