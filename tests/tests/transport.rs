//! Runs the plugin binary the way Terraform does (cookie, protocol list,
//! port range, AutoMTLS client certificate) and talks to it with an
//! independent tonic + rustls client (`tests::plugin_client`'s certificate
//! and TLS channel).

use std::io::Read as _;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rustls::pki_types::CertificateDer;
use tests::plugin_client::{first_line, terraform_client_identity, tls_channel};
use tfplugin_proto::plugin::Empty;
use tfplugin_proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin_proto::tfplugin6::get_provider_schema;
use tfplugin_proto::tfplugin6::provider_client::ProviderClient;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn bin() -> std::path::PathBuf {
    tests::provider_binary().expect("the provider binary")
}
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

struct Plugin {
    child: Child,
    addr: SocketAddr,
    server_cert: Option<CertificateDer<'static>>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base_command() -> Command {
    let mut cmd = Command::new(bin());
    for key in [
        "TF_PLUGIN_MAGIC_COOKIE",
        "PLUGIN_PROTOCOL_VERSIONS",
        "PLUGIN_CLIENT_CERT",
        "PLUGIN_MIN_PORT",
        "PLUGIN_MAX_PORT",
        "TF_DISABLE_PLUGIN_TLS",
        "TF_LOG",
        "TF_LOG_PROVIDER",
    ] {
        cmd.env_remove(key);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Starts the plugin as Terraform would and reads its handshake line.
fn start_plugin(client_cert_pem: Option<&str>) -> Plugin {
    let mut cmd = base_command();
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("TF_LOG_PROVIDER", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(pem) = client_cert_pem {
        cmd.env("PLUGIN_CLIENT_CERT", pem);
    }
    let mut child = cmd.spawn().unwrap();
    let line = first_line(&mut child, Duration::from_secs(10)).unwrap();
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(&fields[..3], ["1", "6", "tcp"]);
    assert_eq!(fields[4], "grpc");
    let addr: SocketAddr = fields[3].parse().unwrap();
    assert!(addr.ip().is_loopback());
    assert!((10000..=25000).contains(&addr.port()));
    let server_cert = match fields[5] {
        "" => None,
        b64 => {
            assert!(!b64.contains('='), "cert must be unpadded base64");
            Some(CertificateDer::from(STANDARD_NO_PAD.decode(b64).unwrap()))
        }
    };
    Plugin {
        child,
        addr,
        server_cert,
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

async fn plain_channel(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

async fn health(channel: Channel) -> Result<i32, tonic::Status> {
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?;
    Ok(reply.into_inner().status)
}

async fn timeout<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_like_client_talks_to_the_provider_and_shutdown_exits_cleanly() {
    let id = terraform_client_identity().unwrap();
    let mut plugin = start_plugin(Some(&id.pem));
    let server_cert = plugin.server_cert.clone().expect("TLS cert in handshake");

    let channel = timeout(tls_channel(plugin.addr, &server_cert, Some(&id)))
        .await
        .unwrap();
    assert_eq!(
        timeout(health(channel.clone())).await.unwrap(),
        ServingStatus::Serving as i32
    );
    let schema = timeout(
        ProviderClient::new(channel.clone()).get_provider_schema(get_provider_schema::Request {}),
    )
    .await
    .expect("GetProviderSchema")
    .into_inner();
    assert!(schema.provider.is_some(), "the provider schema is served");
    assert!(
        schema
            .resource_schemas
            .contains_key("eventpipe_event_pipeline"),
        "the resource schema is served"
    );
    let caps = schema.server_capabilities.expect("server capabilities");
    assert!(
        caps.get_provider_schema_optional,
        "Terraform may keep the schema for the run and skip asking later processes"
    );
    assert!(
        !caps.plan_destroy,
        "destroys are planned by Terraform, not sent to the provider"
    );

    timeout(GrpcControllerClient::new(channel).shutdown(Empty {}))
        .await
        .unwrap();
    let asked = Instant::now();
    let exit = wait_exit(&mut plugin.child, Duration::from_secs(2))
        .expect("plugin still running 2 s after Shutdown");
    assert!(exit.success(), "exit status {exit:?}");
    eprintln!("exited {:?} after Shutdown", asked.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_terraforms_certificate_are_refused_and_the_server_keeps_serving() {
    let id = terraform_client_identity().unwrap();
    let stranger = terraform_client_identity().unwrap();
    let plugin = start_plugin(Some(&id.pem));
    let server_cert = plugin.server_cert.clone().unwrap();

    // A different certificate: the handshake fails, or the first RPC does.
    let refused = match timeout(tls_channel(plugin.addr, &server_cert, Some(&stranger))).await {
        Ok(channel) => timeout(health(channel)).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client with another certificate was served");

    // No certificate at all.
    let refused = match timeout(tls_channel(plugin.addr, &server_cert, None)).await {
        Ok(channel) => timeout(health(channel)).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client without a certificate was served");

    // Plain h2c on the TLS port.
    let refused = match timeout(plain_channel(plugin.addr)).await {
        Ok(channel) => timeout(health(channel)).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a plaintext client was served");

    // Terraform itself still gets in.
    let channel = timeout(tls_channel(plugin.addr, &server_cert, Some(&id)))
        .await
        .unwrap();
    assert_eq!(
        timeout(health(channel)).await.unwrap(),
        ServingStatus::Serving as i32
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_cert_the_plugin_serves_h2c_ignores_sigint_and_stops_on_sigterm() {
    let mut plugin = start_plugin(None);
    assert!(plugin.server_cert.is_none());
    let pid = plugin.child.id().to_string();

    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let channel = timeout(plain_channel(plugin.addr)).await.unwrap();
    assert_eq!(
        timeout(health(channel)).await.unwrap(),
        ServingStatus::Serving as i32
    );
    assert!(
        plugin.child.try_wait().unwrap().is_none(),
        "SIGINT stopped the plugin"
    );

    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let exit = wait_exit(&mut plugin.child, Duration::from_secs(2)).expect("SIGTERM ignored");
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn running_by_hand_prints_one_helpful_line_and_exits_1() {
    let out = base_command().output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.contains("plugin for Terraform"));
    assert!(stderr.contains("terraform init"));

    let out = base_command()
        .env("TF_PLUGIN_MAGIC_COOKIE", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn terraform_without_protocol_6_gets_a_clear_error() {
    let out = base_command()
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may reach stdout");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("protocol 6"), "stderr: {stderr}");
}

#[test]
fn version_and_help_work_without_terraform() {
    let out = base_command().arg("--version").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        format!(
            "terraform-provider-eventpipe {}",
            tests::mirror::PROVIDER_VERSION
        )
    );
    let out = base_command().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("--debug"));
    let out = base_command().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prints_reattach_settings_and_runs_until_ctrl_c() {
    let mut child = base_command()
        .arg("--debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            const KEY: &str = "TF_REATTACH_PROVIDERS='";
            if let Some(start) = text.find(KEY).map(|i| i + KEY.len())
                && let Some(len) = text[start..].find('\'')
            {
                let _ = tx.send(text[start..start + len].to_owned());
                break;
            }
        }
    });
    let json = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let p = &v["registry.terraform.io/eventpipe/eventpipe"];
    assert_eq!(p["Pid"], child.id());
    assert_eq!(p["Test"], true);
    assert_eq!(p["Protocol"], "grpc");
    let addr: SocketAddr = p["Addr"]["String"].as_str().unwrap().parse().unwrap();

    let channel = timeout(plain_channel(addr)).await.unwrap();
    // Shutdown is ignored in debug mode: one server outlives many runs.
    timeout(GrpcControllerClient::new(channel.clone()).shutdown(Empty {}))
        .await
        .unwrap();
    assert_eq!(
        timeout(health(channel)).await.unwrap(),
        ServingStatus::Serving as i32
    );

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = wait_exit(&mut child, Duration::from_secs(2));
    let _ = child.kill();
    assert!(exit.expect("Ctrl-C ignored in debug mode").success());
}
