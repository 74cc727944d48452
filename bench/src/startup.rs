//! Figure 1: process start to handshake line, and GetProviderSchema over
//! the AutoMTLS connection Terraform would open.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rustls::pki_types::CertificateDer;
use tests::plugin_client::{ClientIdentity, terraform_client_identity, tls_channel};
use tfplugin_proto::tfplugin6::get_provider_schema;
use tfplugin_proto::tfplugin6::provider_client::ProviderClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::stats::Samples;

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

pub struct Startup {
    /// Spawn to handshake line, the provider.
    pub handshake: Samples,
    /// Spawn to first line, a trivial process printing one line.
    pub floor: Samples,
    /// TLS connect plus the first GetProviderSchema.
    pub first_schema: Samples,
    /// GetProviderSchema on an open connection.
    pub schema: Samples,
    /// A health check on an open connection (the transport floor).
    pub health: Samples,
    /// Resident memory right after the handshake.
    pub idle_rss: Samples,
}

/// Spawns `cmd` with stdout piped; returns the child, its first line and
/// how long that line took from just before the spawn.
fn first_line(mut cmd: Command) -> Result<(Child, String, Duration)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().context("spawning")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let took = start.elapsed();
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader.into_inner(), &mut std::io::sink());
    });
    Ok((child, line, took))
}

fn provider_command(binary: &Path, pem: &str) -> Command {
    let mut cmd = Command::new(binary);
    for key in ["TF_LOG", "TF_LOG_PROVIDER", "TF_DISABLE_PLUGIN_TLS"] {
        cmd.env_remove(key);
    }
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", pem);
    cmd
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// VmRSS of a live process, in bytes.
pub fn rss_bytes(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024.0)
}

pub fn run(binary: &Path, runs: usize) -> Result<Startup> {
    let id = terraform_client_identity()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = Startup {
        handshake: Samples::default(),
        floor: Samples::default(),
        first_schema: Samples::default(),
        schema: Samples::default(),
        health: Samples::default(),
        idle_rss: Samples::default(),
    };
    // One unmeasured start of each warms the page cache.
    stop(first_line(provider_command(binary, &id.pem))?.0);
    let floor_line = format!("1|6|tcp|127.0.0.1:1|grpc|{}", "x".repeat(600));
    for _ in 0..runs {
        // The floor: a process that only prints a handshake-sized line.
        let mut echo = Command::new("/bin/echo");
        echo.arg(&floor_line);
        let (child, _, took) = first_line(echo)?;
        out.floor.push_duration(took);
        stop(child);

        let (child, line, took) = first_line(provider_command(binary, &id.pem))?;
        out.handshake.push_duration(took);
        if let Some(rss) = rss_bytes(child.id()) {
            out.idle_rss.push(rss);
        }
        let result = rt.block_on(rpcs(&line, &id, &mut out));
        stop(child);
        result?;
    }
    Ok(out)
}

async fn rpcs(line: &str, id: &ClientIdentity, out: &mut Startup) -> Result<()> {
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    if fields.len() != 6 || fields[1] != "6" {
        bail!("unexpected handshake line {line:?}");
    }
    let addr: SocketAddr = fields[3].parse()?;
    let server_cert = CertificateDer::from(STANDARD_NO_PAD.decode(fields[5])?);
    let start = Instant::now();
    let channel = tls_channel(addr, &server_cert, Some(id)).await?;
    let mut provider = ProviderClient::new(channel.clone());
    provider
        .get_provider_schema(get_provider_schema::Request {})
        .await?;
    out.first_schema.push_duration(start.elapsed());
    let mut health = HealthClient::new(channel);
    for _ in 0..3 {
        let start = Instant::now();
        provider
            .get_provider_schema(get_provider_schema::Request {})
            .await?;
        out.schema.push_duration(start.elapsed());
        let start = Instant::now();
        health
            .check(HealthCheckRequest {
                service: "plugin".into(),
            })
            .await?;
        out.health.push_duration(start.elapsed());
    }
    Ok(())
}
