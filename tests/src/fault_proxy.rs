//! A fault-injecting HTTP/1.1 proxy for the end-to-end tests.
//!
//! The provider reaches the emulator through it (the test puts the proxy's
//! address in the provider block's `endpoint_url`). Each request is named by
//! the AWS operation it carries (`s3:CreateBucket`, `iam:PutRolePolicy`,
//! `lambda:AddPermission`, ...), recorded, and then, by [`Rule`], forwarded,
//! failed with an error in that service's own format, delayed, dropped, or
//! held until the test releases it (so a test can kill the provider while it
//! waits).
//!
//! Every connection carries one request: the proxy answers with
//! `Connection: close`, which keeps the byte-level relay simple and lets a
//! dropped or held request affect nothing else.
//!
//! ```no_run
//! use tests::fault_proxy::{Fault, FaultProxy, Rule};
//! # fn main() -> anyhow::Result<()> {
//! let moto = tests::Moto::start()?;
//! let proxy = FaultProxy::start(&moto.endpoint())?;
//! proxy.add_rule(Rule::on("lambda:AddPermission").nth(1).fail(Fault::AccessDenied));
//! // ... point the provider at proxy.endpoint(), run terraform ...
//! assert_eq!(proxy.count("lambda:AddPermission"), 1);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// Largest request or response head the proxy accepts.
const MAX_HEAD: usize = 64 * 1024;
/// Bodies larger than this are not searched for a rule's `needle`.
const MAX_SEARCHED_BODY: usize = 1024 * 1024;

/// An error the proxy answers with instead of forwarding. The status, code
/// and message depend on the service, as AWS's own would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 (`InternalError`, IAM's `ServiceFailure`, Lambda's `ServiceException`).
    InternalError,
    /// HTTP 503 `SlowDown` (S3) / `ServiceUnavailable` elsewhere.
    SlowDown,
    /// The service's throttling error: S3 503 `SlowDown`, IAM/STS 400
    /// `Throttling`, Lambda 429 `TooManyRequestsException`, JSON-protocol
    /// services 400 `ThrottlingException`.
    Throttling,
    /// HTTP 403 `AccessDenied` (`AccessDeniedException` for Lambda).
    AccessDenied,
    /// Lambda's IAM-propagation error: 400 `InvalidParameterValueException`
    /// "The role defined for the function cannot be assumed by Lambda."
    RoleNotAssumable,
    /// S3's answer when it cannot yet see a new invoke permission: 400
    /// `InvalidArgument` "Unable to validate the following destination
    /// configurations".
    DestinationNotValidated,
    /// Anything else.
    Custom {
        status: u16,
        code: String,
        message: String,
    },
}

/// What happens to a call a rule picks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Fail(Fault),
    /// Wait, then forward.
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
    /// Do not forward; wait until [`FaultProxy::release`], then drop.
    Hold,
    /// Forward (so AWS does the work), then withhold the answer until
    /// [`FaultProxy::release`], then drop: the caller never learns it worked.
    HoldAfterForward,
}

/// Which of the matching calls a rule acts on, counting from 1 the calls
/// that arrive after the rule was added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Nth(u32),
    /// Calls `from` to `from + count - 1`.
    Calls {
        from: u32,
        count: u32,
    },
    Always,
    /// Each call with this probability, from the proxy's seeded generator.
    Percent(u8),
}

/// One fault rule: which calls, which of them, what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `s3:CreateBucket`, `s3:*` (a whole service) or `*`.
    pub op: String,
    /// When set, the call's path, query or body must contain this text
    /// (e.g. a pipeline's name, to aim at one resource among many).
    pub needle: Option<String>,
    pub when: When,
    pub action: Action,
}

impl Rule {
    /// Calls of operation `op` (`service:Operation`, `service:*` or `*`);
    /// by default every one, forwarded untouched.
    pub fn on(op: &str) -> Rule {
        Rule {
            op: op.to_owned(),
            needle: None,
            when: When::Always,
            action: Action::Delay(Duration::ZERO),
        }
    }

    /// Every call of every service.
    pub fn any() -> Rule {
        Rule::on("*")
    }

    /// Only calls whose path, query or body contains `needle`.
    pub fn containing(mut self, needle: &str) -> Rule {
        self.needle = Some(needle.to_owned());
        self
    }

    pub fn nth(mut self, n: u32) -> Rule {
        self.when = When::Nth(n);
        self
    }

    /// The first `count` matching calls.
    pub fn first(mut self, count: u32) -> Rule {
        self.when = When::Calls { from: 1, count };
        self
    }

    pub fn percent(mut self, p: u8) -> Rule {
        self.when = When::Percent(p.min(100));
        self
    }

    pub fn fail(mut self, fault: Fault) -> Rule {
        self.action = Action::Fail(fault);
        self
    }

    pub fn delay(mut self, d: Duration) -> Rule {
        self.action = Action::Delay(d);
        self
    }

    pub fn drop_connection(mut self) -> Rule {
        self.action = Action::Drop;
        self
    }

    pub fn hold(mut self) -> Rule {
        self.action = Action::Hold;
        self
    }

    pub fn hold_after_forward(mut self) -> Rule {
        self.action = Action::HoldAfterForward;
        self
    }

    fn matches(&self, call: &Request) -> bool {
        let op_ok = match self.op.as_str() {
            "*" => true,
            op => match op.strip_suffix(":*") {
                Some(service) => call.op.split(':').next() == Some(service),
                None => call.op == op,
            },
        };
        op_ok
            && self
                .needle
                .as_deref()
                .is_none_or(|n| call.haystack.contains(n))
    }
}

/// What the proxy did with one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Forwarded,
    Delayed(Duration),
    /// Answered with this status and AWS error code.
    Failed(u16, String),
    Dropped,
    Held,
    HeldAfterForward,
}

/// One call the proxy saw, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// `service:Operation`.
    pub op: String,
    /// `METHOD /path?query`.
    pub target: String,
    pub outcome: Outcome,
    /// Whether the path, query or body mentions `needle` (see [`Rule::containing`]).
    haystack: String,
}

impl Call {
    pub fn mentions(&self, needle: &str) -> bool {
        self.haystack.contains(needle)
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) -> {:?}", self.op, self.target, self.outcome)
    }
}

struct ActiveRule {
    rule: Rule,
    seen: u32,
}

struct State {
    rules: Vec<ActiveRule>,
    calls: Vec<Call>,
    rng: u64,
    held: usize,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    release: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the call and decides what to do with it.
    fn decide(&self, req: &Request) -> Action {
        let mut st = self.lock();
        let mut chosen = None;
        let mut rng = st.rng;
        for active in st.rules.iter_mut() {
            if !active.rule.matches(req) {
                continue;
            }
            active.seen += 1;
            let n = active.seen;
            let fires = match active.rule.when {
                When::Nth(k) => n == k,
                When::Calls { from, count } => n >= from && n < from.saturating_add(count),
                When::Always => true,
                When::Percent(p) => (next_random(&mut rng) % 100) < u64::from(p),
            };
            if fires && chosen.is_none() {
                chosen = Some(active.rule.action.clone());
            }
        }
        st.rng = rng;
        let action = chosen.unwrap_or(Action::Delay(Duration::ZERO));
        let outcome = match &action {
            Action::Fail(f) => {
                let (status, code, _) = f.render(&req.service, &req.op);
                Outcome::Failed(status, code)
            }
            Action::Delay(d) if d.is_zero() => Outcome::Forwarded,
            Action::Delay(d) => Outcome::Delayed(*d),
            Action::Drop => Outcome::Dropped,
            Action::Hold => Outcome::Held,
            Action::HoldAfterForward => Outcome::HeldAfterForward,
        };
        st.calls.push(Call {
            op: req.op.clone(),
            target: req.target.clone(),
            outcome,
            haystack: req.haystack.clone(),
        });
        drop(st);
        self.changed.notify_all();
        action
    }

    fn set_held(&self, delta: isize) {
        let mut st = self.lock();
        st.held = st.held.saturating_add_signed(delta);
        drop(st);
        self.changed.notify_all();
    }
}

/// splitmix64: small, seeded, good enough to pick which calls fail.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A running proxy on a free loopback port; dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) with seed 1.
    pub fn start(upstream: &str) -> Result<FaultProxy> {
        FaultProxy::start_seeded(upstream, 1)
    }

    /// Starts a proxy whose `Percent` rules draw from a generator seeded with `seed`.
    pub fn start_seeded(upstream: &str, seed: u64) -> Result<FaultProxy> {
        let upstream = parse_upstream(upstream)?;
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .context("binding the fault proxy")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (release, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                rules: Vec::new(),
                calls: Vec::new(),
                rng: seed,
                held: 0,
            }),
            changed: Condvar::new(),
            release,
        });
        let (shutdown, stopped) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fault-proxy")
            .enable_all()
            .build()
            .context("building the fault proxy's runtime")?;
        let task_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("fault proxy cannot listen: {e}");
                            return;
                        }
                    };
                    tokio::select! {
                        () = accept_loop(listener, upstream, task_shared) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here ends every connection task.
                runtime.shutdown_timeout(Duration::from_millis(200));
            })
            .context("starting the fault proxy thread")?;
        Ok(FaultProxy {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: put this in the provider's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a rule after the existing ones (the first rule that fires wins;
    /// every matching rule counts the call).
    pub fn add_rule(&self, rule: Rule) {
        self.shared.lock().rules.push(ActiveRule { rule, seen: 0 });
    }

    /// Removes every rule (held calls stay held until [`FaultProxy::release`]).
    pub fn clear_rules(&self) {
        self.shared.lock().rules.clear();
    }

    /// Lets every held call go (they are then dropped, unanswered).
    pub fn release(&self) {
        self.shared.release.send_modify(|g| *g += 1);
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Forgets the recorded calls (rules keep their counts).
    pub fn clear_calls(&self) {
        self.shared.lock().calls.clear();
    }

    /// How many calls of `op` arrived.
    pub fn count(&self, op: &str) -> usize {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.op == op)
            .count()
    }

    /// Calls per operation.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in self.shared.lock().calls.iter() {
            *out.entry(c.op.clone()).or_insert(0) += 1;
        }
        out
    }

    /// How many calls are being held right now.
    pub fn held(&self) -> usize {
        self.shared.lock().held
    }

    /// Waits until `done` holds for the recorded calls and the number held;
    /// `false` on timeout.
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&[Call], usize) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if done(&st.calls, st.held) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = match self.shared.changed.wait_timeout(st, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.release();
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn parse_upstream(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("upstream {url:?} is not an http:// URL"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .parse()
        .with_context(|| format!("upstream {url:?} is not http://IP:PORT"))
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            // A failed connection only concerns its own caller.
            let _ = serve(stream, upstream, shared).await;
        });
    }
}

/// One parsed request.
#[derive(Debug)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    service: String,
    op: String,
    haystack: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) -> Result<()> {
    let mut buf = Vec::new();
    let Some(req) = read_request(&mut client, &mut buf).await? else {
        return Ok(());
    };
    match shared.decide(&req) {
        Action::Fail(fault) => {
            let answer = fault.response(&req.service, &req.op);
            client.write_all(&answer).await?;
            client.shutdown().await?;
        }
        Action::Drop => {}
        Action::Hold => {
            hold(&shared).await;
        }
        Action::HoldAfterForward => {
            let mut up = TcpStream::connect(upstream).await?;
            up.write_all(&forwarded_request(&req)).await?;
            let mut sink = Vec::new();
            // Let AWS finish the work; the answer is thrown away.
            let _ = up.read_to_end(&mut sink).await;
            hold(&shared).await;
        }
        Action::Delay(d) => {
            if !d.is_zero() {
                tokio::time::sleep(d).await;
            }
            let mut up = TcpStream::connect(upstream).await?;
            up.write_all(&forwarded_request(&req)).await?;
            relay_response(&mut up, &mut client, &req.method).await?;
        }
    }
    Ok(())
}

async fn hold(shared: &Shared) {
    let mut rx = shared.release.subscribe();
    shared.set_held(1);
    // Resolves on the next release (or when the proxy stops).
    let _ = rx.changed().await;
    shared.set_held(-1);
}

/// Reads one request (head and body, de-chunked). `None` when the client
/// closed the connection before sending anything.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<Request>> {
    let Some(head_end) = read_head(s, buf).await? else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        bail!("bad request line {request_line:?}");
    };
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut rest = buf.split_off(head_end + 4);
    if header(&headers, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let chunked = header(&headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(s, &mut rest).await?
    } else {
        let len: usize = header(&headers, "content-length")
            .map(|v| v.parse())
            .transpose()
            .context("bad Content-Length")?
            .unwrap_or(0);
        while rest.len() < len {
            read_more(s, &mut rest).await?;
        }
        rest.truncate(len);
        rest
    };
    let (service, op) = identify(method, target, &headers, &body);
    let haystack = haystack(target, &headers, &body);
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
        service,
        op,
        haystack,
    }))
}

/// Reads until the blank line ending a head; returns its offset.
async fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<usize>> {
    loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            return Ok(Some(i));
        }
        if buf.len() > MAX_HEAD {
            bail!("head longer than {MAX_HEAD} bytes");
        }
        let mut chunk = [0u8; 8192];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            bail!("connection closed inside a head");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_more(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<()> {
    let mut chunk = [0u8; 16384];
    let n = s.read(&mut chunk).await?;
    if n == 0 {
        bail!("connection closed inside a body");
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

async fn read_chunked(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = loop {
            if let Some(i) = find(&buf[pos..], b"\r\n") {
                break pos + i;
            }
            read_more(s, buf).await?;
        };
        let size_text = String::from_utf8_lossy(&buf[pos..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        pos = line_end + 2;
        if size == 0 {
            // Trailers, if any, end with a blank line.
            loop {
                if let Some(i) = find(&buf[pos..], b"\r\n") {
                    if i == 0 {
                        return Ok(body);
                    }
                    pos += i + 2;
                    continue;
                }
                read_more(s, buf).await?;
            }
        }
        while buf.len() < pos + size + 2 {
            read_more(s, buf).await?;
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The request as sent upstream: one request per connection, the body with
/// an exact length.
fn forwarded_request(req: &Request) -> Vec<u8> {
    const HOP: &[&str] = &[
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "expect",
        "content-length",
        "te",
        "upgrade",
    ];
    let mut out = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (k, v) in &req.headers {
        if !HOP.iter().any(|h| k.eq_ignore_ascii_case(h)) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    let has_body = !req.body.is_empty()
        || req.header("content-length").is_some()
        || req.header("transfer-encoding").is_some();
    if has_body {
        out.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req.body);
    bytes
}

/// Copies the upstream answer to the client with `Connection: close`.
async fn relay_response(up: &mut TcpStream, client: &mut TcpStream, method: &str) -> Result<()> {
    let mut buf = Vec::new();
    let Some(head_end) = read_head(up, &mut buf).await? else {
        bail!("upstream closed without answering");
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_owned();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut out = format!("{status_line}\r\n");
    for (k, v) in &headers {
        if !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("keep-alive") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    client.write_all(out.as_bytes()).await?;
    let rest = &buf[head_end + 4..];
    let no_body = method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304;
    let length: Option<u64> = header(&headers, "content-length").and_then(|v| v.parse().ok());
    let chunked = header(&headers, "transfer-encoding").is_some();
    if no_body {
        // Nothing follows the head.
    } else if let (Some(len), false) = (length, chunked) {
        let have = rest.len().min(usize::try_from(len).unwrap_or(usize::MAX));
        client.write_all(&rest[..have]).await?;
        let mut remaining = (up).take(len.saturating_sub(have as u64));
        tokio::io::copy(&mut remaining, client).await?;
    } else {
        client.write_all(rest).await?;
        tokio::io::copy(up, client).await?;
    }
    client.shutdown().await?;
    Ok(())
}

/// The text a rule's `needle` is looked for in: the decoded path and query,
/// and the body when it is text of reasonable size.
fn haystack(target: &str, headers: &[(String, String)], body: &[u8]) -> String {
    let mut h = percent_encoding::percent_decode_str(target)
        .decode_utf8_lossy()
        .into_owned();
    let binary = header(headers, "content-type")
        .is_some_and(|t| t.contains("octet-stream") || t.contains("zip"));
    if !binary && body.len() <= MAX_SEARCHED_BODY {
        h.push('\n');
        let text = String::from_utf8_lossy(body);
        h.push_str(
            &percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy(),
        );
    }
    h
}

/// The service (from the SigV4 credential scope, else guessed) and the
/// operation (`service:Operation`) a request carries.
fn identify(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (String, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params = query_params(query);
    let service = header(headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .map(str::to_owned)
        .unwrap_or_else(|| guess_service(path, headers, body));
    if let Some(t) = header(headers, "x-amz-target") {
        let op = t.rsplit('.').next().unwrap_or(t);
        return (service.clone(), format!("{service}:{op}"));
    }
    let is_form = header(headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form || matches!(service.as_str(), "iam" | "sts") {
        let text = String::from_utf8_lossy(body);
        let action = query_params(&text)
            .into_iter()
            .chain(params.clone())
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v);
        if let Some(a) = action {
            return (service.clone(), format!("{service}:{a}"));
        }
    }
    let op = match service.as_str() {
        "lambda" => lambda_op(method, path),
        "s3" => s3_op(method, path, &params, headers),
        _ => format!("{method} {path}"),
    };
    (service.clone(), format!("{service}:{op}"))
}

fn guess_service(path: &str, headers: &[(String, String)], body: &[u8]) -> String {
    if header(headers, "x-amz-target").is_some_and(|t| t.starts_with("Logs")) {
        "logs".into()
    } else if path.starts_with("/2015-03-31/") || path.starts_with("/2017-03-31/") {
        "lambda".into()
    } else if String::from_utf8_lossy(body).contains("Action=") {
        "iam".into()
    } else {
        "s3".into()
    }
}

fn query_params(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

fn lambda_op(method: &str, path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let m = method.to_ascii_uppercase();
    let name = match (segs.as_slice(), m.as_str()) {
        ([_, "functions"], "POST") => "CreateFunction",
        ([_, "functions"], "GET") => "ListFunctions",
        ([_, "functions", _], "GET") => "GetFunction",
        ([_, "functions", _], "DELETE") => "DeleteFunction",
        ([_, "functions", _, "configuration"], "GET") => "GetFunctionConfiguration",
        ([_, "functions", _, "configuration"], "PUT") => "UpdateFunctionConfiguration",
        ([_, "functions", _, "code"], "PUT") => "UpdateFunctionCode",
        ([_, "functions", _, "policy"], "POST") => "AddPermission",
        ([_, "functions", _, "policy"], "GET") => "GetPolicy",
        ([_, "functions", _, "policy", _], "DELETE") => "RemovePermission",
        ([_, "functions", _, "versions"], "POST") => "PublishVersion",
        ([_, "functions", _, "versions"], "GET") => "ListVersionsByFunction",
        ([_, "functions", _, "invocations"], "POST") => "Invoke",
        ([_, "tags", _], "POST") => "TagResource",
        ([_, "tags", _], "DELETE") => "UntagResource",
        ([_, "tags", _], "GET") => "ListTags",
        _ => return format!("{m} {path}"),
    };
    name.to_owned()
}

fn s3_op(
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
) -> String {
    if let Some((_, id)) = params.iter().find(|(k, _)| k == "x-id") {
        return id.clone();
    }
    let m = method.to_ascii_uppercase();
    let trimmed = path.trim_start_matches('/');
    let has = |k: &str| params.iter().any(|(p, _)| p == k);
    if trimmed.is_empty() {
        return if m == "GET" { "ListBuckets" } else { "Unknown" }.to_owned();
    }
    let object_level = trimmed.trim_end_matches('/').contains('/');
    let verb = match m.as_str() {
        "PUT" => "Put",
        "GET" => "Get",
        "DELETE" => "Delete",
        "HEAD" => "Head",
        _ => "Post",
    };
    if object_level {
        let name = match m.as_str() {
            _ if has("tagging") => format!("{verb}ObjectTagging"),
            _ if has("uploads") => "CreateMultipartUpload".into(),
            "PUT" if has("partNumber") => "UploadPart".into(),
            "POST" if has("uploadId") => "CompleteMultipartUpload".into(),
            "DELETE" if has("uploadId") => "AbortMultipartUpload".into(),
            "PUT" if header(headers, "x-amz-copy-source").is_some() => "CopyObject".into(),
            _ => format!("{verb}Object"),
        };
        return name;
    }
    const SUBRESOURCES: &[(&str, &str)] = &[
        ("publicAccessBlock", "PublicAccessBlock"),
        ("encryption", "BucketEncryption"),
        ("policy", "BucketPolicy"),
        ("tagging", "BucketTagging"),
        ("notification", "BucketNotificationConfiguration"),
        ("versioning", "BucketVersioning"),
        ("acl", "BucketAcl"),
        ("cors", "BucketCors"),
        ("lifecycle", "BucketLifecycleConfiguration"),
        ("ownershipControls", "BucketOwnershipControls"),
        ("location", "BucketLocation"),
        ("logging", "BucketLogging"),
        ("website", "BucketWebsite"),
    ];
    if has("versions") {
        return "ListObjectVersions".into();
    }
    if has("delete") && m == "POST" {
        return "DeleteObjects".into();
    }
    if has("uploads") {
        return "ListMultipartUploads".into();
    }
    if let Some((_, what)) = SUBRESOURCES.iter().find(|(k, _)| has(k)) {
        return format!("{verb}{what}");
    }
    match m.as_str() {
        "PUT" => "CreateBucket".into(),
        "DELETE" => "DeleteBucket".into(),
        "HEAD" => "HeadBucket".into(),
        "GET" if params.iter().any(|(k, v)| k == "list-type" && v == "2") => "ListObjectsV2".into(),
        "GET" => "ListObjects".into(),
        _ => format!("{m} bucket"),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Fault {
    /// Status, error code and message for a call of `op` on `service`.
    pub fn render(&self, service: &str, op: &str) -> (u16, String, String) {
        let action = op.to_owned();
        let (status, code, message): (u16, &str, String) = match (self, service) {
            (Fault::InternalError, "s3") => (
                500,
                "InternalError",
                "We encountered an internal error. Please try again.".into(),
            ),
            (Fault::InternalError, "iam") => (
                500,
                "ServiceFailure",
                "Request processing has failed because of an unknown error.".into(),
            ),
            (Fault::InternalError, "lambda") => (
                500,
                "ServiceException",
                "The AWS Lambda service encountered an internal error.".into(),
            ),
            (Fault::InternalError, _) => (
                500,
                "InternalFailure",
                "The request processing has failed because of an unknown error.".into(),
            ),
            (Fault::SlowDown, "s3") | (Fault::Throttling, "s3") => {
                (503, "SlowDown", "Please reduce your request rate.".into())
            }
            (Fault::SlowDown, _) => (
                503,
                "ServiceUnavailable",
                "The service is unavailable. Please try again later.".into(),
            ),
            (Fault::Throttling, "iam" | "sts") => (400, "Throttling", "Rate exceeded".into()),
            (Fault::Throttling, "lambda") => {
                (429, "TooManyRequestsException", "Rate exceeded".into())
            }
            (Fault::Throttling, _) => (400, "ThrottlingException", "Rate exceeded".into()),
            (Fault::AccessDenied, "s3") => (403, "AccessDenied", "Access Denied".into()),
            (Fault::AccessDenied, s) => (
                403,
                if s == "iam" || s == "sts" {
                    "AccessDenied"
                } else {
                    "AccessDeniedException"
                },
                format!(
                    "User: arn:aws:iam::123456789012:user/fault-proxy is not authorized to \
                     perform: {action} because no identity-based policy allows the {action} \
                     action"
                ),
            ),
            (Fault::RoleNotAssumable, _) => (
                400,
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.".into(),
            ),
            (Fault::DestinationNotValidated, _) => (
                400,
                "InvalidArgument",
                "Unable to validate the following destination configurations".into(),
            ),
            (
                Fault::Custom {
                    status,
                    code,
                    message,
                },
                _,
            ) => (*status, code.as_str(), message.clone()),
        };
        (status, code.to_owned(), message)
    }

    /// The whole HTTP answer, in the service's error format.
    fn response(&self, service: &str, op: &str) -> Vec<u8> {
        let (status, code, message) = self.render(service, op);
        let request_id = "fault-proxy-0000";
        let (content_type, extra, body) = match service {
            "s3" => (
                "application/xml",
                String::new(),
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code>\
                     <Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                    xml_escape(&code),
                    xml_escape(&message)
                ),
            ),
            "iam" | "sts" => (
                "text/xml",
                String::new(),
                format!(
                    "<ErrorResponse xmlns=\"https://{service}.amazonaws.com/doc/\"><Error>\
                     <Type>{}</Type><Code>{}</Code><Message>{}</Message></Error>\
                     <RequestId>{request_id}</RequestId></ErrorResponse>",
                    if status >= 500 { "Receiver" } else { "Sender" },
                    xml_escape(&code),
                    xml_escape(&message)
                ),
            ),
            "lambda" => (
                "application/json",
                format!("x-amzn-ErrorType: {code}\r\n"),
                serde_json::json!({"Type": "User", "message": message}).to_string(),
            ),
            _ => (
                "application/x-amz-json-1.1",
                String::new(),
                serde_json::json!({"__type": code, "message": message}).to_string(),
            ),
        };
        let reason = match status {
            400 => "Bad Request",
            403 => "Forbidden",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Error",
        };
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
             x-amzn-RequestId: {request_id}\r\n{extra}Content-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn auth(service: &str) -> (String, String) {
        (
            "Authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host, Signature=00"
            ),
        )
    }

    fn op(service: &str, method: &str, target: &str, body: &str) -> String {
        identify(method, target, &[auth(service)], body.as_bytes()).1
    }

    #[test]
    fn s3_calls_are_named_by_method_path_and_query() {
        let cases = [
            ("PUT", "/b", "s3:CreateBucket"),
            ("DELETE", "/b", "s3:DeleteBucket"),
            ("HEAD", "/b", "s3:HeadBucket"),
            ("GET", "/", "s3:ListBuckets"),
            ("PUT", "/b?publicAccessBlock", "s3:PutPublicAccessBlock"),
            ("PUT", "/b?encryption", "s3:PutBucketEncryption"),
            ("PUT", "/b?policy", "s3:PutBucketPolicy"),
            ("DELETE", "/b?policy", "s3:DeleteBucketPolicy"),
            ("GET", "/b?policy", "s3:GetBucketPolicy"),
            ("PUT", "/b?tagging", "s3:PutBucketTagging"),
            ("GET", "/b?tagging", "s3:GetBucketTagging"),
            (
                "PUT",
                "/b?notification",
                "s3:PutBucketNotificationConfiguration",
            ),
            (
                "GET",
                "/b?notification",
                "s3:GetBucketNotificationConfiguration",
            ),
            ("GET", "/b?versions&max-keys=1", "s3:ListObjectVersions"),
            ("POST", "/b?delete", "s3:DeleteObjects"),
            ("GET", "/b?list-type=2", "s3:ListObjectsV2"),
            ("PUT", "/b/data/x.json?x-id=PutObject", "s3:PutObject"),
            ("PUT", "/b/data/x.json", "s3:PutObject"),
            ("GET", "/b/k?x-id=GetObject", "s3:GetObject"),
        ];
        for (method, target, want) in cases {
            assert_eq!(op("s3", method, target, ""), want, "{method} {target}");
        }
    }

    #[test]
    fn lambda_calls_are_named_by_method_and_path() {
        let cases = [
            ("POST", "/2015-03-31/functions", "lambda:CreateFunction"),
            ("GET", "/2015-03-31/functions/", "lambda:ListFunctions"),
            ("GET", "/2015-03-31/functions/f", "lambda:GetFunction"),
            ("DELETE", "/2015-03-31/functions/f", "lambda:DeleteFunction"),
            (
                "GET",
                "/2015-03-31/functions/f/configuration",
                "lambda:GetFunctionConfiguration",
            ),
            (
                "PUT",
                "/2015-03-31/functions/f/configuration",
                "lambda:UpdateFunctionConfiguration",
            ),
            (
                "PUT",
                "/2015-03-31/functions/f/code",
                "lambda:UpdateFunctionCode",
            ),
            (
                "POST",
                "/2015-03-31/functions/f/policy",
                "lambda:AddPermission",
            ),
            ("GET", "/2015-03-31/functions/f/policy", "lambda:GetPolicy"),
            (
                "DELETE",
                "/2015-03-31/functions/f/policy/sid",
                "lambda:RemovePermission",
            ),
            (
                "POST",
                "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af",
                "lambda:TagResource",
            ),
            (
                "DELETE",
                "/2017-03-31/tags/arn?tagKeys=a",
                "lambda:UntagResource",
            ),
        ];
        for (method, target, want) in cases {
            assert_eq!(op("lambda", method, target, ""), want, "{method} {target}");
        }
    }

    #[test]
    fn query_and_json_protocol_calls_are_named_by_action_and_target() {
        assert_eq!(
            op("iam", "POST", "/", "Action=CreateRole&Version=2010-05-08"),
            "iam:CreateRole"
        );
        assert_eq!(
            op(
                "sts",
                "POST",
                "/",
                "Action=GetCallerIdentity&Version=2011-06-15"
            ),
            "sts:GetCallerIdentity"
        );
        let headers = [
            auth("logs"),
            (
                "X-Amz-Target".to_owned(),
                "Logs_20140328.DescribeLogGroups".to_owned(),
            ),
        ];
        assert_eq!(
            identify("POST", "/", &headers, b"{}").1,
            "logs:DescribeLogGroups"
        );
        // Without a signature the service is guessed from the request's shape.
        assert_eq!(
            identify("POST", "/2015-03-31/functions", &[], b"{}").1,
            "lambda:CreateFunction"
        );
    }

    #[test]
    fn faults_use_each_service_s_error_format() {
        let s3 = String::from_utf8(Fault::SlowDown.response("s3", "s3:PutBucketTagging")).unwrap();
        assert!(s3.starts_with("HTTP/1.1 503 "), "{s3}");
        assert!(s3.contains("<Code>SlowDown</Code>"), "{s3}");
        let iam = String::from_utf8(Fault::Throttling.response("iam", "iam:CreateRole")).unwrap();
        assert!(iam.starts_with("HTTP/1.1 400 "), "{iam}");
        assert!(iam.contains("<Code>Throttling</Code>"), "{iam}");
        assert!(iam.contains("<Type>Sender</Type>"), "{iam}");
        let lambda =
            String::from_utf8(Fault::RoleNotAssumable.response("lambda", "lambda:CreateFunction"))
                .unwrap();
        assert!(lambda.starts_with("HTTP/1.1 400 "), "{lambda}");
        assert!(
            lambda.contains("x-amzn-ErrorType: InvalidParameterValueException\r\n"),
            "{lambda}"
        );
        assert!(lambda.contains("cannot be assumed by Lambda"), "{lambda}");
        let denied = Fault::AccessDenied.render("lambda", "lambda:AddPermission");
        assert_eq!(denied.0, 403);
        assert_eq!(denied.1, "AccessDeniedException");
        assert!(denied.2.contains("lambda:AddPermission"));
        let logs = String::from_utf8(Fault::Throttling.response("logs", "logs:X")).unwrap();
        assert!(
            logs.contains("\"__type\":\"ThrottlingException\""),
            "{logs}"
        );
    }

    #[test]
    fn rules_pick_the_nth_call_a_range_and_a_named_resource() {
        let req = |op: &str, hay: &str| Request {
            method: "POST".into(),
            target: "/".into(),
            headers: Vec::new(),
            body: Vec::new(),
            service: op.split(':').next().unwrap_or_default().into(),
            op: op.into(),
            haystack: hay.into(),
        };
        let (release, _) = watch::channel(0);
        let shared = Shared {
            state: Mutex::new(State {
                rules: Vec::new(),
                calls: Vec::new(),
                rng: 7,
                held: 0,
            }),
            changed: Condvar::new(),
            release,
        };
        shared.lock().rules.push(ActiveRule {
            rule: Rule::on("iam:CreateRole")
                .containing("p02")
                .nth(2)
                .fail(Fault::AccessDenied),
            seen: 0,
        });
        shared.lock().rules.push(ActiveRule {
            rule: Rule::on("lambda:*").first(2).drop_connection(),
            seen: 0,
        });
        let pass = Action::Delay(Duration::ZERO);
        assert_eq!(shared.decide(&req("iam:CreateRole", "p02-role")), pass);
        assert_eq!(shared.decide(&req("iam:CreateRole", "p01-role")), pass);
        assert_eq!(
            shared.decide(&req("iam:CreateRole", "p02-role")),
            Action::Fail(Fault::AccessDenied)
        );
        assert_eq!(shared.decide(&req("iam:CreateRole", "p02-role")), pass);
        assert_eq!(shared.decide(&req("lambda:GetPolicy", "")), Action::Drop);
        assert_eq!(
            shared.decide(&req("lambda:AddPermission", "")),
            Action::Drop
        );
        assert_eq!(shared.decide(&req("lambda:AddPermission", "")), pass);
        let calls = shared.lock().calls.clone();
        assert_eq!(calls.len(), 7);
        assert_eq!(
            calls[2].outcome,
            Outcome::Failed(403, "AccessDenied".into())
        );
    }

    #[test]
    fn percentages_are_reproducible_from_the_seed() {
        let draw = |seed: u64| {
            let mut s = seed;
            (0..1000).filter(|_| next_random(&mut s) % 100 < 30).count()
        };
        assert_eq!(draw(42), draw(42));
        let n = draw(42);
        assert!((230..370).contains(&n), "{n} of 1000 at 30%");
    }

    /// An upstream that answers every request with 200 and the request line.
    fn echo_upstream() -> String {
        let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while find(&buf, b"\r\n\r\n").is_none() {
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let line = text.lines().next().unwrap_or_default().to_owned();
                    let body = format!("saw {line}");
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        format!("http://{addr}")
    }

    fn get(proxy: &FaultProxy, path: &str) -> Result<crate::http::Response> {
        crate::http::request(proxy.addr(), "GET", path, None, Duration::from_secs(5))
    }

    #[test]
    fn forwards_fails_drops_and_records_calls() {
        let proxy = FaultProxy::start(&echo_upstream()).unwrap();
        let ok = get(&proxy, "/bucket?tagging").unwrap();
        assert_eq!(ok.status, 200);
        assert_eq!(ok.body, "saw GET /bucket?tagging HTTP/1.1");

        // Rules count the calls from when they are added.
        proxy.add_rule(
            Rule::on("s3:GetBucketTagging")
                .nth(1)
                .fail(Fault::InternalError),
        );
        let failed = get(&proxy, "/bucket?tagging").unwrap();
        assert_eq!(failed.status, 500);
        assert!(failed.body.contains("<Code>InternalError</Code>"));
        assert_eq!(get(&proxy, "/bucket?tagging").unwrap().status, 200);

        proxy.clear_rules();
        proxy.add_rule(Rule::on("s3:GetBucketPolicy").drop_connection());
        assert!(get(&proxy, "/bucket?policy").is_err());

        proxy.clear_rules();
        proxy.add_rule(
            Rule::on("s3:GetBucketPolicy")
                .nth(1)
                .delay(Duration::from_millis(300)),
        );
        let started = Instant::now();
        assert_eq!(get(&proxy, "/bucket?policy").unwrap().status, 200);
        assert!(started.elapsed() >= Duration::from_millis(300));

        assert_eq!(proxy.count("s3:GetBucketTagging"), 3);
        assert_eq!(proxy.count("s3:GetBucketPolicy"), 2);
        let outcomes: Vec<Outcome> = proxy.calls().into_iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Forwarded,
                Outcome::Failed(500, "InternalError".into()),
                Outcome::Forwarded,
                Outcome::Dropped,
                Outcome::Delayed(Duration::from_millis(300)),
            ]
        );
    }

    #[test]
    fn a_held_call_waits_for_release_and_is_then_dropped() {
        let proxy = FaultProxy::start(&echo_upstream()).unwrap();
        proxy.add_rule(Rule::on("s3:CreateBucket").hold());
        let addr = proxy.addr();
        let waiter = std::thread::spawn(move || {
            crate::http::request(addr, "PUT", "/b", Some(""), Duration::from_secs(10))
        });
        assert!(proxy.wait_until(Duration::from_secs(5), |_, held| held == 1));
        proxy.release();
        assert!(
            waiter.join().unwrap().is_err(),
            "a held call gets no answer"
        );
        assert!(proxy.wait_until(Duration::from_secs(5), |_, held| held == 0));
    }

    #[test]
    fn chunked_bodies_are_forwarded_with_a_length() {
        let proxy = FaultProxy::start(&echo_upstream()).unwrap();
        let mut s = std::net::TcpStream::connect(proxy.addr()).unwrap();
        s.write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\r\n\
              7\r\nAction=\r\n9\r\nListRoles\r\n0\r\n\r\n",
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.contains("Connection: close"), "{answer}");
        assert_eq!(proxy.count("iam:ListRoles"), 1, "{:?}", proxy.calls());
    }
}
