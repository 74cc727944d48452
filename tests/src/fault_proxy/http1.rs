//! Just enough HTTP/1.1 for the proxy: read one request (head, then a body
//! by length or in chunks), write it upstream with an exact length, and
//! relay the upstream answer. One request per connection, always
//! `Connection: close`.

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest request or response head the proxy accepts.
const MAX_HEAD: usize = 64 * 1024;

/// One parsed request, its body de-chunked.
#[derive(Clone, Debug)]
pub(super) struct Request {
    pub(super) method: String,
    /// `/path?query` as sent.
    pub(super) target: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// The first header called `name` (any case).
pub(super) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads one request (head and body, de-chunked). `None` when the client
/// closed the connection before sending anything.
pub(super) async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<Request>> {
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
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    }))
}

/// Reads until the blank line ending a head; returns its offset.
async fn read_head(s: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> Result<Option<usize>> {
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

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The request as sent upstream: one request per connection, the body with
/// an exact length.
pub(super) fn forwarded_request(req: &Request) -> Vec<u8> {
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

/// Copies the upstream answer (read from the connection, or a buffered
/// copy of it) to the client with `Connection: close`.
pub(super) async fn relay_response(
    up: &mut (impl AsyncRead + Unpin),
    client: &mut TcpStream,
    method: &str,
) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], body: &[u8]) -> Request {
        Request {
            method: "PUT".into(),
            target: "/b?tagging".into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn a_forwarded_request_has_an_exact_length_and_closes() {
        let req = request(
            &[
                ("Host", "x"),
                ("Transfer-Encoding", "chunked"),
                ("Connection", "keep-alive"),
                ("X-Amz-Date", "20250101T000000Z"),
            ],
            b"<Tagging/>",
        );
        let text = String::from_utf8(forwarded_request(&req)).expect("text");
        assert_eq!(
            text,
            "PUT /b?tagging HTTP/1.1\r\nHost: x\r\nX-Amz-Date: 20250101T000000Z\r\n\
             Content-Length: 10\r\nConnection: close\r\n\r\n<Tagging/>"
        );
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let req = request(&[("content-TYPE", "application/zip")], b"");
        assert_eq!(req.header("Content-Type"), Some("application/zip"));
        assert_eq!(header(&req.headers, "content-length"), None);
        assert_eq!(find(b"ab\r\n\r\ncd", b"\r\n\r\n"), Some(2));
    }
}
