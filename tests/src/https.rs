//! A static file server over HTTPS on loopback, with a certificate
//! authority of its own: what a team's provider mirror is, for the tests
//! that install from one (`tests/tests/mirror.rs`, `tests/tests/ci_workflow.rs`).
//! Clients trust it through `SSL_CERT_FILE` pointing at [`Certs::ca_pem`].

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority and a certificate for 127.0.0.1 it signed.
pub struct Certs {
    /// The authority's certificate, PEM: the file for `SSL_CERT_FILE`.
    pub ca_pem: String,
    /// The certificate for 127.0.0.1, PEM (for servers configured by file,
    /// such as the test registry).
    pub leaf_pem: String,
    /// Its private key, PKCS#8 PEM.
    pub key_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

pub fn make_certs() -> Certs {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "eventpipe mirror test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca, &ca_key);

    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "127.0.0.1");
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&key, &issuer).unwrap();
    Certs {
        ca_pem: ca_cert.pem(),
        leaf_pem: leaf_cert.pem(),
        key_pem: key.serialize_pem(),
        chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

impl Certs {
    /// A client configuration that trusts only this authority.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in &self.chain[1..] {
            roots
                .add(cert.clone())
                .expect("the test CA is a valid root");
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }
}

/// A static file server over HTTPS on loopback: GET only, one request per
/// connection, files below `root` only. It records the paths asked for.
pub struct StaticHttps {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl StaticHttps {
    pub fn start(root: PathBuf, certs: &Certs) -> StaticHttps {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs.chain.clone(), certs.key.clone_key())
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        // Lives as long as the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (config, root, log) = (Arc::clone(&config), root.clone(), Arc::clone(&log));
                std::thread::spawn(move || {
                    if let Err(e) = serve(stream, config, &root, &log) {
                        eprintln!("mirror server: {e}");
                    }
                });
            }
        });
        StaticHttps { port, requests }
    }

    /// `https://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }

    /// The paths asked for so far, in order.
    pub fn requested(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    root: &Path,
    log: &Mutex<Vec<String>>,
) -> io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut reader = BufReader::new(&mut tls);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    drop(reader);
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    log.lock().unwrap().push(path.to_string());
    let (status, content_type, body) = match (method, file_below(root, path)) {
        ("GET", Some(file)) => match fs::read(&file) {
            Ok(body) => {
                let kind = if path.ends_with(".json") {
                    "application/json"
                } else {
                    "application/zip"
                };
                ("200 OK", kind, body)
            }
            Err(_) => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        },
        ("GET", None) => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n".to_vec(),
        ),
    };
    write!(
        tls,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )?;
    tls.write_all(&body)?;
    tls.conn.send_close_notify();
    tls.flush()?;
    // Let the client read the close_notify before the socket goes.
    let _ = tls.read(&mut [0u8; 1]);
    Ok(())
}

/// The file a URL path names, if it is a plain path below `root`.
fn file_below(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = Path::new(url_path.trim_start_matches('/'));
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (plain && !url_path.contains('%')).then(|| root.join(relative))
}
