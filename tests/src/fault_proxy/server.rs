//! The proxy itself: a loopback listener on its own runtime thread that
//! reads each request, names it, asks the rules what to do, records the
//! call, and forwards, fails, delays, drops or holds it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use super::call::{Call, Outcome};
use super::fidelity;
use super::http1::{Request, forwarded_request, read_request, relay_response};
use super::like_aws::{Departure, LikeAws};
use super::lingering::Linger;
use super::operation;
use super::rule::{self, Action, Rule, Rules};

/// The first byte of a TLS handshake record (a ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

struct State {
    rules: Rules,
    calls: Vec<Call>,
    held: usize,
    /// Emulator fidelity (see [`super::fidelity`]): write the tags of a
    /// successful `CreateBucket` as S3 would have.
    apply_creation_tags: bool,
    /// How many buckets got their creation tags that way.
    creation_tags_applied: usize,
    /// Operations whose request bodies are kept with their calls.
    kept_bodies: BTreeSet<String>,
    /// Emulator fidelity: the proxy answers `GetAccountSettings` itself.
    account_settings: Option<fidelity::AccountLimits>,
    /// Registry calls need the proxy's bearer token (see [`super::registry`]).
    registry_tokens: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Emulator fidelity beyond creation tags (see [`super::like_aws`]).
    like_aws: LikeAws,
    changed: Condvar,
    release: watch::Sender<u64>,
    /// IAM calls reach the emulator one at a time (see [`Shared::upstream_turn`]).
    iam_turn: tokio::sync::Mutex<()>,
}

impl Shared {
    fn new(seed: u64) -> Shared {
        let (release, _) = watch::channel(0u64);
        Shared {
            state: Mutex::new(State {
                rules: Rules::new(seed),
                calls: Vec::new(),
                held: 0,
                apply_creation_tags: false,
                creation_tags_applied: 0,
                kept_bodies: BTreeSet::new(),
                account_settings: None,
                registry_tokens: false,
            }),
            changed: Condvar::new(),
            release,
            like_aws: LikeAws::default(),
            iam_turn: tokio::sync::Mutex::new(()),
        }
    }

    /// Emulator fidelity: moto's IAM looks a role up by iterating its
    /// roles while another request's `CreateRole` or `DeleteRole` may
    /// change them, and answers HTTP 500 when that happens; AWS serves
    /// concurrent IAM calls. A forwarded IAM call waits for the previous
    /// one to be answered; the guard is held until this one is.
    async fn upstream_turn(&self, op: &str) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if op.starts_with("iam:") {
            Some(self.iam_turn.lock().await)
        } else {
            None
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides what to do with a call of `op` on `service` and records it
    /// (with its body, when small).
    fn decide(&self, service: &str, op: &str, target: &str, haystack: &str, body: &[u8]) -> Action {
        let mut st = self.lock();
        let action = st.rules.decide(op, haystack);
        let outcome = Outcome::of(&action, service, op);
        let keep = st.kept_bodies.contains(op);
        st.calls
            .push(Call::new(op, target, outcome, haystack).with_body(body, keep));
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

    /// Whether a call of `op` gets its creation tags written by the proxy.
    fn applies_creation_tags(&self, op: &str) -> bool {
        op == "s3:CreateBucket" && self.lock().apply_creation_tags
    }

    /// The answer the proxy gives a forwarded call of `op` itself, if any.
    fn own_answer(&self, op: &str, req: &Request) -> Option<Vec<u8>> {
        if op.starts_with("registry:") {
            return if self.lock().registry_tokens {
                super::registry::token_answer(op, &req.headers, &req.target)
            } else {
                None
            };
        }
        match op {
            "lambda:GetAccountSettings" => self
                .lock()
                .account_settings
                .map(fidelity::account_settings_answer),
            _ => None,
        }
    }

    fn creation_tags_applied(&self) {
        self.lock().creation_tags_applied += 1;
        self.changed.notify_all();
    }
}

/// A call counted as held until this is dropped.
struct Holding<'a>(&'a Shared);

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        self.0.set_held(-1);
    }
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
        let shared = Arc::new(Shared::new(seed));
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
        self.shared.lock().rules.add(rule);
    }

    /// Emulator fidelity, not a fault (see the `fidelity` module): with
    /// `on`, a `CreateBucket` that succeeds gets the tags its
    /// `CreateBucketConfiguration` carries written to the emulator before
    /// the proxy answers, even when the caller has gone, as S3 applies them
    /// with the bucket. moto drops them.
    pub fn apply_creation_tags(&self, on: bool) {
        self.shared.lock().apply_creation_tags = on;
    }

    /// Emulator fidelity, not a fault (see the `fidelity` module): with
    /// `Some(limits)`, `GetAccountSettings` calls that no rule fails are
    /// answered by the proxy with these limits, as Lambda answers them
    /// (moto answers 404); `None` forwards them again.
    pub fn answer_account_settings(&self, limits: Option<super::AccountLimits>) {
        self.shared.lock().account_settings = limits;
    }

    /// Emulator fidelity (see the `like_aws` module): with `on`, Lambda's
    /// `LoggingConfig` is kept as Lambda keeps it (JSON logs get both
    /// levels, `INFO` unless set) and reported by `CreateFunction`,
    /// `UpdateFunctionConfiguration`, `GetFunction`,
    /// `GetFunctionConfiguration` and `ListFunctions`. moto reports none.
    pub fn echo_logging_config(&self, on: bool) {
        self.shared.like_aws.echo_logging_config(on);
    }

    /// Emulator fidelity: with `Some`, a deleted Kinesis stream stays
    /// `DELETING` and a deleted event source mapping `Deleting` for as
    /// long as `linger` says, and a stream of the same name, or a mapping
    /// of the same function and source, is refused meanwhile, as on AWS;
    /// so is a queue of a name deleted less than `queue_name_reuse` ago,
    /// and a bucket of a name deleted less than `bucket_name_reuse` ago
    /// (`OperationAborted`). moto deletes at once, and takes a name again
    /// at once.
    pub fn linger_deletes(&self, linger: Option<Linger>) {
        self.shared.like_aws.linger_deletes(linger);
    }

    /// Emulator fidelity: with `on`, a `PutBucketNotificationConfiguration`
    /// is refused, as S3 refuses it, when a function or queue its document
    /// names does not exist or does not let S3 use it for this bucket.
    /// moto stores the document without looking.
    pub fn validate_destinations(&self, on: bool) {
        self.shared.like_aws.validate_destinations(on);
    }

    /// Emulator fidelity: with `on`, Lambda's container-image functions
    /// behave as on AWS: `UpdateFunctionCode` that would change a
    /// function's package type (an `ImageUri` for a zip function, a zip for
    /// an image function) is refused with Lambda's
    /// `InvalidParameterValueException`, and an image deployed by digest is
    /// reported with that digest as `CodeSha256` and in
    /// `Code.ResolvedImageUri`. moto takes the change and keeps the old
    /// `PackageType`, and reports the SHA-256 of the URI's text.
    pub fn image_functions_like_aws(&self, on: bool) {
        self.shared.like_aws.image_functions_like_aws(on);
    }

    /// Emulator fidelity: with `on`, `CreateFunction` and
    /// `UpdateFunctionCode` with an `ImageUri` are refused as Lambda refuses
    /// them (`InvalidParameterValueException`) when the image is not in the
    /// registry the reference names (a manifest HEAD, for a loopback
    /// registry over plain HTTP; other registries are not asked) or the URI
    /// is no image reference. moto takes any text without looking.
    pub fn check_images(&self, on: bool) {
        self.shared.like_aws.check_images(on);
    }

    /// Emulator fidelity: with `Some(n)`, ECR's `ListImages` answers in
    /// pages of at most `n` images (and the caller's `maxResults`) with a
    /// `nextToken` for the rest, as ECR pages them. moto ignores
    /// `maxResults` and answers with every image at once.
    pub fn page_ecr_lists(&self, size: Option<usize>) {
        self.shared.like_aws.page_ecr_lists(size);
    }

    /// Emulator fidelity: with `on`, Lambda's `ListFunctions` answers in
    /// pages of at most `MaxItems` functions (50, Lambda's most) with a
    /// `NextMarker` for the rest, as Lambda pages them. moto ignores
    /// `MaxItems` and `Marker` and answers with every function at once.
    pub fn page_lambda_functions(&self, on: bool) {
        self.shared.like_aws.page_lambda_functions(on);
    }

    /// Emulator fidelity: with `Some(addr)`, ECR's `BatchDeleteImage` also
    /// deletes the images pushed to the registry at `addr` (the tests'
    /// registry, `endpoints.ecr_registry`), in the repository of the same
    /// name, and reports them deleted, as ECR does with images pushed to
    /// it. moto's ECR knows only images stored with `PutImage`, so it
    /// reports those as `ImageNotFound`. Likewise `DeleteRepository` with
    /// `force` deletes the registry's tagged images in that repository
    /// once moto has deleted it, as ECR deletes a repository with its
    /// images. The registry must allow deletes (the tests' does).
    pub fn ecr_images_in(&self, registry: Option<std::net::SocketAddr>) {
        self.shared.like_aws.ecr_images_in(registry);
    }

    /// Emulator fidelity: with `on`, a `PutImageScanningConfiguration`
    /// whose configuration leaves `scanOnPush` out (the Rust SDK's way of
    /// sending `false`, the model's default) turns scan on push off, as in
    /// ECR. moto ignores an empty configuration and keeps it on.
    pub fn ecr_scan_default(&self, on: bool) {
        self.shared.like_aws.ecr_scan_default(on);
    }

    /// Emulator fidelity: with `on`, `ListSubscriptionsByTopic` lists every
    /// email subscription as `PendingConfirmation`, as SNS does until the
    /// address's owner confirms it. moto confirms email subscriptions at
    /// once.
    pub fn sns_pending_emails(&self, on: bool) {
        self.shared.like_aws.sns_pending_emails(on);
    }

    /// Emulator fidelity: with `on`, KMS's `DescribeKey` reports the key a
    /// predefined alias (`alias/aws/s3`, `alias/aws/sqs`,
    /// `alias/aws/kinesis`, ...) names as `KeyManager = AWS`, however it is
    /// asked (alias, alias ARN, key id, key ARN), and a predefined alias
    /// with no key yet gets one in the emulator when it is first
    /// described, as in KMS. moto 5.2.5 reports its predefined keys as
    /// `CUSTOMER` and has none for `alias/aws/sqs` or `alias/aws/kinesis`
    /// (`NotFoundException`).
    pub fn kms_managed_keys_like_aws(&self, on: bool) {
        self.shared.like_aws.kms_managed_keys_like_aws(on);
    }

    /// With `on`, registry calls need a bearer token, which the proxy's own
    /// `/token` hands out anonymously (`registry:GetToken`): a call without
    /// it is answered 401 with a `WWW-Authenticate: Bearer` challenge, as
    /// public ECR answers. The registry behind the proxy sees only calls
    /// that carry the token.
    pub fn registry_tokens(&self, on: bool) {
        self.shared.lock().registry_tokens = on;
    }

    /// What the fidelity layer answered in place of the emulator, in order.
    pub fn departures(&self) -> Vec<Departure> {
        self.shared.like_aws.departures()
    }

    /// How many buckets got their creation tags from the proxy.
    pub fn creation_tags_applied(&self) -> usize {
        self.shared.lock().creation_tags_applied
    }

    /// Keeps the request bodies of later calls of these operations
    /// (`service:Operation`), readable with [`Call::body`]: what the
    /// provider sent where the emulator does not echo it back.
    pub fn keep_bodies(&self, ops: &[&str]) {
        let mut st = self.shared.lock();
        st.kept_bodies.extend(ops.iter().map(|o| (*o).to_owned()));
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

    /// How many calls are being held right now (a call held, then
    /// forwarded, counts until its forward is done).
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
            // A failed connection only concerns its own caller, which sees
            // it closed; the reason is printed with the test's output.
            if let Err(e) = serve(stream, upstream, shared).await {
                eprintln!("fault proxy: a call got no answer: {e:#}");
            }
        });
    }
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) -> Result<()> {
    // A client trying TLS first (a registry client on a loopback host)
    // gets the answer a plain HTTP server gives a TLS hello, and retries
    // in plain HTTP.
    let mut first = [0u8; 1];
    if client.peek(&mut first).await? == 1 && first[0] == TLS_HANDSHAKE {
        client
            .write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            .await?;
        client.shutdown().await?;
        return Ok(());
    }
    let mut buf = Vec::new();
    let Some(req) = read_request(&mut client, &mut buf).await? else {
        return Ok(());
    };
    let arrived = tokio::time::Instant::now();
    let (service, op) = operation::identify(&req.method, &req.target, &req.headers, &req.body);
    let haystack = rule::haystack(&req.target, &req.headers, &req.body);
    let acted = async {
        match shared.decide(&service, &op, &req.target, &haystack, &req.body) {
            Action::Fail(fault) => {
                let answer = fault.response(&service, &op);
                client.write_all(&answer).await?;
                client.shutdown().await?;
            }
            Action::Drop => {}
            Action::Answer(c) => {
                if !c.delay.is_zero() {
                    tokio::time::sleep(c.delay).await;
                }
                let headers: Vec<(&str, &str)> = c
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let answer = super::answer::Answer::new(c.status, &headers, c.body.clone());
                client.write_all(&answer.to_bytes()).await?;
                client.shutdown().await?;
            }
            Action::Hold => {
                drop(hold(&shared).await);
            }
            Action::HoldAfterForward => {
                // Let AWS finish the work; the answer is thrown away.
                let _answer = forward_buffered(&req, &op, upstream, &shared).await?;
                drop(hold(&shared).await);
            }
            Action::HoldThenForward => {
                // Counted as held until AWS has done the work, so a test can
                // wait for it; the caller is usually gone by then.
                let _still = hold(&shared).await;
                let answer = forward_buffered(&req, &op, upstream, &shared).await?;
                relay_response(&mut answer.as_slice(), &mut client, &req.method).await?;
            }
            Action::CutAnswer => {
                let answer = forward_buffered(&req, &op, upstream, &shared).await?;
                let body_start = super::http1::find(&answer, b"\r\n\r\n").map_or(0, |i| i + 4);
                let cut = body_start + (answer.len() - body_start) / 2;
                client.write_all(&answer[..cut]).await?;
                client.shutdown().await?;
            }
            Action::AtLeast(d) => {
                // The whole answer is read before it is held back.
                if let Some(answer) = shared.own_answer(&op, &req) {
                    tokio::time::sleep_until(arrived + d).await;
                    client.write_all(&answer).await?;
                    client.shutdown().await?;
                    return Ok(());
                }
                let answer = whole_answer(&req, &op, upstream, &shared).await?;
                tokio::time::sleep_until(arrived + d).await;
                relay_response(&mut answer.as_slice(), &mut client, &req.method).await?;
            }
            Action::Delay(d) => {
                if !d.is_zero() {
                    tokio::time::sleep(d).await;
                }
                if let Some(answer) = shared.own_answer(&op, &req) {
                    client.write_all(&answer).await?;
                    client.shutdown().await?;
                } else if shared.like_aws.handles(&op, &req.target)
                    || shared.applies_creation_tags(&op)
                {
                    let answer = whole_answer(&req, &op, upstream, &shared).await?;
                    relay_response(&mut answer.as_slice(), &mut client, &req.method).await?;
                } else {
                    let _turn = shared.upstream_turn(&op).await;
                    let mut up = TcpStream::connect(upstream).await?;
                    up.write_all(&forwarded_request(&req)).await?;
                    relay_response(&mut up, &mut client, &req.method).await?;
                }
            }
        }
        anyhow::Ok(())
    };
    acted
        .await
        .with_context(|| format!("{op} ({} {})", req.method, req.target))
}

/// The whole answer to a forwarded call: as AWS gives it where the
/// fidelity layer imitates AWS, else the upstream's (see [`forward_buffered`]).
async fn whole_answer(
    req: &Request,
    op: &str,
    upstream: SocketAddr,
    shared: &Shared,
) -> Result<Vec<u8>> {
    if shared.like_aws.handles(op, &req.target) {
        shared.like_aws.answer(op, req, upstream).await
    } else {
        forward_buffered(req, op, upstream, shared).await
    }
}

/// Forwards the request and reads the whole answer, then, with creation
/// tags on, writes a new bucket's tags before anyone hears of it.
async fn forward_buffered(
    req: &Request,
    op: &str,
    upstream: SocketAddr,
    shared: &Shared,
) -> Result<Vec<u8>> {
    let _turn = shared.upstream_turn(op).await;
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&forwarded_request(req)).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    if shared.applies_creation_tags(op)
        && fidelity::apply_creation_tags(upstream, req, &answer).await?
    {
        shared.creation_tags_applied();
    }
    Ok(answer)
}

/// Counts the call as held and waits for the next release (or for the
/// proxy to stop); the call stays counted until the guard is dropped.
async fn hold(shared: &Shared) -> Holding<'_> {
    let mut rx = shared.release.subscribe();
    shared.set_held(1);
    let holding = Holding(shared);
    let _ = rx.changed().await;
    holding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault_proxy::Fault;
    use std::io::{Read, Write};

    #[test]
    fn every_call_is_recorded_with_what_was_done_to_it() {
        let shared = Shared::new(7);
        shared.lock().rules.add(
            Rule::on("iam:CreateRole")
                .containing("p02")
                .nth(2)
                .fail(Fault::AccessDenied),
        );
        shared
            .lock()
            .rules
            .add(Rule::on("lambda:*").first(2).drop_connection());
        let calls = [
            ("iam", "iam:CreateRole", "p02-role"),
            ("iam", "iam:CreateRole", "p01-role"),
            ("iam", "iam:CreateRole", "p02-role"),
            ("iam", "iam:CreateRole", "p02-role"),
            ("lambda", "lambda:GetPolicy", ""),
            ("lambda", "lambda:AddPermission", ""),
            ("lambda", "lambda:AddPermission", ""),
        ];
        for (service, op, hay) in calls {
            shared.decide(service, op, "/", hay, hay.as_bytes());
        }
        let calls = shared.lock().calls.clone();
        assert_eq!(calls.len(), 7);
        assert_eq!(
            calls[2].outcome,
            Outcome::Failed(403, "AccessDenied".into())
        );
        assert_eq!(calls[4].outcome, Outcome::Dropped);
        assert!(calls[0].mentions("p02") && !calls[1].mentions("p02"));
        assert_eq!(calls[0].body(), b"p02-role");
    }

    #[test]
    fn big_bodies_are_kept_only_for_the_operations_asked_for() {
        let shared = Shared::new(7);
        shared
            .lock()
            .kept_bodies
            .insert("lambda:CreateFunction".into());
        shared.decide("lambda", "lambda:CreateFunction", "/", "", b"{\"a\":1}");
        shared.decide("lambda", "lambda:GetFunction", "/", "", b"{\"b\":2}");
        let calls = shared.lock().calls.clone();
        assert_eq!(calls[0].body_text(), Some("{\"a\":1}"));
        assert_eq!(calls[1].body_text(), Some("{\"b\":2}"), "small ones too");
        let big = vec![b'x'; super::super::call::MAX_KEPT_BODY + 1];
        shared.decide("lambda", "lambda:CreateFunction", "/", "", &big);
        shared.decide("lambda", "lambda:UpdateFunctionCode", "/", "", &big);
        let calls = shared.lock().calls.clone();
        assert_eq!(calls[2].body().len(), big.len(), "kept: asked for");
        assert!(calls[3].body().is_empty(), "too big, not asked for");
    }

    /// An upstream that answers every request with 200 and the request line.
    fn echo_upstream() -> String {
        recording_upstream().0
    }

    /// An upstream on a free loopback port that reads each request's head
    /// on a thread of its own and answers what `answer` makes of its
    /// request line.
    fn upstream(answer: impl Fn(&str) -> String + Clone + Send + 'static) -> String {
        let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let answer = answer.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while crate::fault_proxy::http1::find(&buf, b"\r\n\r\n").is_none() {
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let line = text.lines().next().unwrap_or_default();
                    let _ = s.write_all(answer(line).as_bytes());
                });
            }
        });
        format!("http://{addr}")
    }

    /// [`echo_upstream`], and the request lines it saw.
    fn recording_upstream() -> (String, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let addr = upstream(move |line| {
            record.lock().unwrap().push(line.to_owned());
            let body = format!("saw {line}");
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        });
        (addr, seen)
    }

    /// An upstream that answers each request 200 ms after it arrives, and
    /// the most requests it had in hand at once.
    fn slow_upstream() -> (String, Arc<Mutex<(usize, usize)>>) {
        let in_hand = Arc::new(Mutex::new((0usize, 0usize)));
        let count = in_hand.clone();
        let addr = upstream(move |_| {
            {
                let mut c = count.lock().unwrap();
                c.0 += 1;
                c.1 = c.1.max(c.0);
            }
            std::thread::sleep(Duration::from_millis(200));
            count.lock().unwrap().0 -= 1;
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_owned()
        });
        (addr, in_hand)
    }

    #[test]
    fn iam_calls_reach_the_upstream_one_at_a_time_and_others_together() {
        let (upstream, in_hand) = slow_upstream();
        let proxy = FaultProxy::start(&upstream).unwrap();
        let addr = proxy.addr();
        let at_once = |path: &'static str, auth: &'static str| {
            let callers: Vec<_> = (0..3)
                .map(|_| {
                    std::thread::spawn(move || {
                        crate::http::request_with(
                            addr,
                            "GET",
                            path,
                            &[("Authorization", auth)],
                            None,
                            Duration::from_secs(5),
                        )
                    })
                })
                .collect();
            for c in callers {
                assert_eq!(c.join().unwrap().unwrap().status, 200);
            }
            std::mem::take(&mut in_hand.lock().unwrap().1)
        };
        let iam = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request";
        assert_eq!(at_once("/?Action=GetRole&RoleName=r", iam), 1);
        assert_eq!(proxy.count("iam:GetRole"), 3);
        let s3 = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request";
        assert!(at_once("/bucket?policy", s3) > 1, "other services together");
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
    fn an_answer_after_a_delay_waits_and_never_reaches_the_upstream() {
        let (upstream, seen) = recording_upstream();
        let proxy = FaultProxy::start(&upstream).unwrap();
        proxy.add_rule(
            Rule::on("s3:GetBucketPolicy")
                .answer(204, &[], b"")
                .after(Duration::from_millis(300)),
        );
        let started = Instant::now();
        assert_eq!(get(&proxy, "/bucket?policy").unwrap().status, 204);
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(seen.lock().unwrap().is_empty(), "answered by the proxy");
        assert_eq!(proxy.count("s3:GetBucketPolicy"), 1);
    }

    #[test]
    fn a_call_taking_at_least_is_forwarded_at_once_and_answered_no_sooner() {
        let (upstream, seen) = recording_upstream();
        let proxy = FaultProxy::start(&upstream).unwrap();
        let least = Duration::from_millis(300);
        proxy.add_rule(Rule::any().taking_at_least(least));
        let addr = proxy.addr();
        let started = Instant::now();
        // Three at once: each is answered about `least` after it was sent,
        // not one after another.
        let callers: Vec<_> = (0..3)
            .map(|i| {
                std::thread::spawn(move || {
                    let path = format!("/bucket{i}?policy");
                    let got =
                        crate::http::request(addr, "GET", &path, None, Duration::from_secs(5));
                    (got, Instant::now())
                })
            })
            .collect();
        // The upstream has them before the time is up.
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.lock().unwrap().len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(started.elapsed() < least, "forwarded at once");
        for caller in callers {
            let (got, at) = caller.join().unwrap();
            let got = got.unwrap();
            assert_eq!(got.status, 200);
            assert!(got.body.starts_with("saw GET /bucket"), "{}", got.body);
            let took = at.duration_since(started);
            assert!(took >= least, "answered after {took:?}");
            assert!(took < least * 2, "side by side, not in turn: {took:?}");
        }
        let outcomes: Vec<Outcome> = proxy.calls().into_iter().map(|c| c.outcome).collect();
        assert_eq!(outcomes, vec![Outcome::TookAtLeast(least); 3]);
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
    fn a_create_bucket_held_then_forwarded_gets_its_creation_tags_with_its_caller_gone() {
        let (upstream, seen) = recording_upstream();
        let proxy = FaultProxy::start(&upstream).unwrap();
        proxy.apply_creation_tags(true);
        proxy.add_rule(Rule::on("s3:CreateBucket").hold_then_forward());
        let body = "<CreateBucketConfiguration><Tags><Tag><Key>eventpipe:pipeline</Key>\
                    <Value>p</Value></Tag></Tags></CreateBucketConfiguration>";
        let mut caller = std::net::TcpStream::connect(proxy.addr()).unwrap();
        write!(
            caller,
            "PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        assert!(proxy.wait_until(Duration::from_secs(5), |_, held| held == 1));
        assert!(seen.lock().unwrap().is_empty(), "held: not forwarded yet");
        // The caller dies; the request still completes.
        drop(caller);
        proxy.release();
        assert!(proxy.wait_until(Duration::from_secs(5), |_, held| held == 0));
        assert_eq!(
            *seen.lock().unwrap(),
            ["PUT /b HTTP/1.1", "PUT /b?tagging HTTP/1.1"]
        );
        assert_eq!(proxy.creation_tags_applied(), 1);
        // The proxy's own call is not one of the recorded calls.
        let calls = proxy.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0].outcome, Outcome::HeldThenForwarded);
        assert!(calls[0].mentions("<Key>eventpipe:pipeline</Key>"));

        // Off (the default), a forwarded create is only forwarded.
        proxy.clear_rules();
        proxy.apply_creation_tags(false);
        let answer = crate::http::request(
            proxy.addr(),
            "PUT",
            "/c",
            Some(body),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(seen.lock().unwrap().len(), 3);
        assert_eq!(proxy.creation_tags_applied(), 1);
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
