//! Whole HTTP answers as values, for the fidelity layer: read one the
//! emulator gave (length, chunks or to the end), change its body, write it
//! again with an exact length; and the proxy's own requests to the emulator.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http1::{find, header};

/// One HTTP answer, its body de-chunked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Answer {
    /// Reads a whole answer as the emulator sent it (`Connection: close`).
    pub(super) fn parse(raw: &[u8]) -> Option<Answer> {
        let head_end = find(raw, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&raw[..head_end]).ok()?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let rest = &raw[head_end + 4..];
        let chunked = header(&headers, "transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let body = if chunked {
            dechunk(rest)?
        } else {
            match header(&headers, "content-length").and_then(|v| v.parse::<usize>().ok()) {
                Some(n) => rest.get(..n)?.to_vec(),
                None => rest.to_vec(),
            }
        };
        Some(Answer {
            status,
            headers,
            body,
        })
    }

    /// An answer of the proxy's own making.
    pub(super) fn new(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }

    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(super) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The same answer with `body` (JSON) in place of its own.
    pub(super) fn with_json(mut self, body: &serde_json::Value) -> Answer {
        self.body = body.to_string().into_bytes();
        self
    }

    /// The bytes to send: an exact length, no chunks, `Connection: close`.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            204 => "No Content",
            400 => "Bad Request",
            404 => "Not Found",
            409 => "Conflict",
            _ => "Status",
        };
        let mut out = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        for (k, v) in &self.headers {
            let hop = [
                "connection",
                "keep-alive",
                "content-length",
                "transfer-encoding",
            ];
            if !hop.iter().any(|h| k.eq_ignore_ascii_case(h)) {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// Sends `request` (whole, `Connection: close`) to the emulator and reads
/// its whole answer.
pub(super) async fn exchange(upstream: SocketAddr, request: &[u8]) -> Result<Answer> {
    let mut up = TcpStream::connect(upstream)
        .await
        .context("connecting to the emulator")?;
    up.write_all(request).await?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw).await?;
    Answer::parse(&raw).context("the emulator's answer is not HTTP")
}

/// A request of the proxy's own to the emulator: `headers` as given, then
/// an exact length and `Connection: close`.
pub(super) fn request(
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The caller's SigV4 `Authorization`, re-scoped to `service` in `region`:
/// the emulator routes by the credential scope and takes the account from
/// the key, and checks no signature.
pub(super) fn scoped_authorization(original: Option<&str>, region: &str, service: &str) -> String {
    let fallback = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
                    SignedHeaders=host, Signature=0";
    let auth = original.unwrap_or(fallback);
    let Some((before, after)) = auth.split_once("Credential=") else {
        return fallback.replace("us-east-1/s3", &format!("{region}/{service}"));
    };
    let (credential, rest) = after.split_once(',').unwrap_or((after, ""));
    let mut parts: Vec<String> = credential.split('/').map(str::to_owned).collect();
    if parts.len() >= 5 {
        parts[2] = region.to_owned();
        parts[3] = service.to_owned();
    }
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!(",{rest}")
    };
    format!("{before}Credential={}{rest}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_by_length_or_chunks_and_written_with_a_length() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\
                    Connection: close\r\n\r\n{\"a\":1}";
        let a = Answer::parse(raw).expect("answer");
        assert_eq!(a.status, 200);
        assert_eq!(a.json(), Some(serde_json::json!({"a": 1})));
        let chunked = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n\
                        3\r\n{\"b\r\n4\r\n\":2}\r\n0\r\n\r\n";
        let b = Answer::parse(chunked).expect("chunked");
        assert_eq!(b.body, b"{\"b\":2}");
        let text = String::from_utf8(b.with_json(&serde_json::json!({"c": 3})).to_bytes()).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 202 Accepted\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"c\":3}"
        );
        assert_eq!(Answer::parse(b"nonsense"), None);
    }

    #[test]
    fn the_caller_s_credential_is_rescoped_to_another_service_and_region() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/s3/aws4_request, \
                    SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            scoped_authorization(Some(auth), "eu-west-1", "lambda"),
            "AWS4-HMAC-SHA256 Credential=AKID/20261206/eu-west-1/lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc"
        );
        assert!(scoped_authorization(None, "us-east-1", "sqs").contains("/us-east-1/sqs/"));
    }
}
