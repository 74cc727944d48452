//! A minimal HTTP/1.1 client for the emulator's control API (`/moto-api/...`).
//! One request per connection; enough for small JSON calls on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

/// The status code and body of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Sends one request and reads the whole response (the server closes the connection).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Result<Response> {
    request_with(addr, method, path, &[], body, timeout)
}

/// [`request`] with extra headers; a `Content-Type` among them replaces
/// the default `application/json`.
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout: Duration,
) -> Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream
        .write_all(render_request(addr, method, path, headers, body).as_bytes())
        .with_context(|| format!("sending {method} {path} to {addr}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer to {method} {path} from {addr}"))?;
    parse_response(&raw).with_context(|| format!("answer to {method} {path} from {addr}"))
}

/// The status code and headers of the answer to a `HEAD` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// In the order sent, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Sends a `HEAD` request and returns the status and headers of the answer;
/// over TLS when `tls` is given (the server's name is its IP address).
pub fn head(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<Head> {
    let raw = exchange(addr, "HEAD", path, headers, None, tls, timeout)?;
    parse_head(&raw).with_context(|| format!("answer to HEAD {path} from {addr}"))
}

/// [`request_with`] over TLS when `tls` is given.
pub fn request_tls(
    addr: SocketAddr,
    method: &str,
    path: &str,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<Response> {
    let raw = exchange(addr, method, path, &[], None, tls, timeout)?;
    parse_response(&raw).with_context(|| format!("answer to {method} {path} from {addr}"))
}

/// One request on a new connection; the whole raw answer.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<Vec<u8>> {
    let tcp = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let request = render_request(addr, method, path, headers, body);
    let mut raw = Vec::new();
    let result = match tls {
        None => send_and_read(tcp, &request, &mut raw),
        Some(config) => {
            let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
            let conn = rustls::ClientConnection::new(Arc::clone(config), name)
                .context("starting a TLS session")?;
            send_and_read(rustls::StreamOwned::new(conn, tcp), &request, &mut raw)
        }
    };
    result.with_context(|| format!("{method} {path} to {addr}"))?;
    Ok(raw)
}

fn send_and_read(mut stream: impl Read + Write, request: &str, raw: &mut Vec<u8>) -> Result<()> {
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    stream.read_to_end(raw)?;
    Ok(())
}

fn parse_head(raw: &[u8]) -> Result<Head> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split_once("\r\n\r\n").map_or(&*text, |(head, _)| head);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP response: {status_line:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect();
    Ok(Head { status, headers })
}

fn render_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> String {
    let body = body.unwrap_or("");
    let mut extra = String::new();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        extra.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        extra.push_str(&format!("{k}: {v}\r\n"));
    }
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         {extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn parse_response(raw: &[u8]) -> Result<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status_line = head.lines().next().unwrap_or("");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP response: {status_line:?}"))?;
    Ok(Response {
        status,
        body: body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let raw = b"HTTP/1.1 201 CREATED\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(
            parse_response(raw).unwrap(),
            Response {
                status: 201,
                body: "{}".into()
            }
        );
    }

    #[test]
    fn parses_the_headers_of_a_head_answer() {
        let raw =
            b"HTTP/1.1 200 OK\r\nDocker-Content-Digest: sha256:ab\r\nContent-Length: 9\r\n\r\n";
        let head = parse_head(raw).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("docker-content-digest"), Some("sha256:ab"));
        assert_eq!(head.header("content-length"), Some("9"));
        assert_eq!(head.header("etag"), None);
        assert!(parse_head(b"hello").is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_response(b"hello").is_err());
    }

    #[test]
    fn request_has_length_and_close() {
        let addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let req = render_request(addr, "POST", "/moto-api/reset", &[], Some("{}"));
        assert!(req.starts_with("POST /moto-api/reset HTTP/1.1\r\n"));
        assert!(req.contains("Content-Type: application/json\r\n"));
        assert!(req.contains("Content-Length: 2\r\n"));
        assert!(req.contains("Connection: close\r\n"));
        assert!(req.ends_with("\r\n\r\n{}"));
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        let req = render_request(addr, "POST", "/", &form, Some("Action=X"));
        assert!(!req.contains("application/json"), "{req}");
        assert!(req.contains("Content-Type: application/x-www-form-urlencoded\r\n"));
    }
}
