//! Emulator fidelity, not a fault: what the proxy can do so the emulator
//! behaves as AWS does where the difference matters to a test.
//!
//! S3 applies `CreateBucketConfiguration.Tags` atomically with the bucket:
//! a bucket that exists carries the tags it was created with, even when the
//! client that created it died before it heard the answer. moto 5.2 drops
//! those tags (and its `GetBucketTagging` shows none). With
//! [`super::FaultProxy::apply_creation_tags`] on, the proxy closes the gap:
//! when a `CreateBucket` it forwards succeeds and its body carries `<Tags>`,
//! it writes the same tags to the emulator (`PutBucketTagging`) before it
//! answers the client, whether or not the client is still there. This call
//! is the proxy's own: it is not recorded among the calls and no rule
//! sees it.
//!
//! moto's IAM finds a role by iterating its roles, and answers HTTP 500
//! when another request's `CreateRole` or `DeleteRole` changes them
//! meanwhile; AWS serves concurrent IAM calls. The proxy always forwards
//! IAM calls one at a time (`Shared::upstream_turn` in `server.rs`).
//!
//! Lambda's `GetAccountSettings` tells the account's concurrency; moto
//! answers it with 404. With [`super::FaultProxy::answer_account_settings`]
//! the proxy answers it itself, with the limits a test chooses, as Lambda
//! would ([`account_settings_answer`]). The call is recorded, and rules
//! still see it first (a rule's fault wins).

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http1::{Request, header};

/// The `<Tag>…</Tag>` elements of a `CreateBucketConfiguration` body, as
/// sent; `None` when the body names no tags.
pub(super) fn creation_tags(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains("CreateBucketConfiguration") {
        return None;
    }
    let start = text.find("<Tags>")? + "<Tags>".len();
    let end = start + text[start..].find("</Tags>")?;
    let tags = text[start..end].trim();
    tags.contains("<Tag>").then(|| tags.to_owned())
}

/// The status code of a raw HTTP answer (0 when it is not one).
pub(super) fn status_of(raw: &[u8]) -> u16 {
    let line_end = raw
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..line_end])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// `PutBucketTagging` for the bucket `create` made, with `tags` (the
/// `<Tag>` elements): same host and credentials, path-style or not as the
/// original was.
pub(super) fn tagging_request(create: &Request, tags: &str) -> Vec<u8> {
    let path = create.target.split('?').next().unwrap_or("/");
    let body = format!(
        "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{tags}</TagSet>\
         </Tagging>"
    );
    let mut out = format!("PUT {path}?tagging HTTP/1.1\r\n");
    for name in ["host", "authorization", "x-amz-date"] {
        if let Some(v) = header(&create.headers, name) {
            out.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    out.push_str(&format!(
        "content-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    out.into_bytes()
}

/// Writes the tags of a `CreateBucket` that succeeded (`answer`) to the
/// emulator at `upstream`; `false` when there were none to write.
pub(super) async fn apply_creation_tags(
    upstream: std::net::SocketAddr,
    create: &Request,
    answer: &[u8],
) -> Result<bool> {
    let Some(tags) = creation_tags(&create.body) else {
        return Ok(false);
    };
    if !(200..300).contains(&status_of(answer)) {
        return Ok(false);
    }
    let mut up = TcpStream::connect(upstream)
        .await
        .context("connecting to the emulator to apply creation tags")?;
    up.write_all(&tagging_request(create, &tags)).await?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw).await?;
    let status = status_of(&raw);
    if !(200..300).contains(&status) {
        bail!(
            "the emulator refused the creation tags ({status}): {}",
            String::from_utf8_lossy(&raw)
        );
    }
    Ok(true)
}

/// The account's concurrency as `GetAccountSettings` answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountLimits {
    pub concurrent_executions: u32,
    pub unreserved_concurrent_executions: u32,
}

/// Lambda's `GetAccountSettings` answer (HTTP 200, JSON) for `limits`.
pub(super) fn account_settings_answer(limits: AccountLimits) -> Vec<u8> {
    let body = format!(
        "{{\"AccountLimit\":{{\"TotalCodeSize\":80530636800,\"CodeSizeUnzipped\":262144000,\
         \"CodeSizeZipped\":52428800,\"ConcurrentExecutions\":{},\
         \"UnreservedConcurrentExecutions\":{}}},\"AccountUsage\":{{\"TotalCodeSize\":0,\
         \"FunctionCount\":0}}}}",
        limits.concurrent_executions, limits.unreserved_concurrent_executions
    );
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-amzn-requestid: fidelity-account-settings\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_account_settings_answer_is_lambdas_json() {
        let raw = account_settings_answer(AccountLimits {
            concurrent_executions: 1000,
            unreserved_concurrent_executions: 900,
        });
        let text = String::from_utf8(raw.clone()).expect("text");
        assert_eq!(status_of(&raw), 200);
        let body = text.split("\r\n\r\n").nth(1).expect("body");
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["AccountLimit"]["ConcurrentExecutions"], 1000);
        assert_eq!(v["AccountLimit"]["UnreservedConcurrentExecutions"], 900);
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
    }

    use super::*;

    const CREATE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CreateBucketConfiguration \
        xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Tags><Tag><Key>eventpipe:pipeline</Key>\
        <Value>ka07</Value></Tag><Tag><Key>team</Key><Value>a &amp; b</Value></Tag></Tags>\
        </CreateBucketConfiguration>";

    #[test]
    fn creation_tags_are_read_from_the_create_bucket_body_as_sent() {
        let tags = creation_tags(CREATE.as_bytes()).expect("tags");
        assert!(
            tags.starts_with("<Tag><Key>eventpipe:pipeline</Key>"),
            "{tags}"
        );
        assert!(tags.ends_with("<Value>a &amp; b</Value></Tag>"), "{tags}");
        assert_eq!(creation_tags(b""), None);
        assert_eq!(
            creation_tags(b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"),
            None
        );
        assert_eq!(
            creation_tags(b"<CreateBucketConfiguration><Tags></Tags></CreateBucketConfiguration>"),
            None
        );
    }

    #[test]
    fn the_tagging_request_names_the_bucket_and_keeps_host_and_credentials() {
        let create = Request {
            method: "PUT".into(),
            target: "/ka07-bkt?x-id=CreateBucket".into(),
            headers: vec![
                ("Host".into(), "127.0.0.1:9".into()),
                (
                    "Authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=t/d/us-east-1/s3/aws4_request".into(),
                ),
                ("Content-Type".into(), "application/xml".into()),
            ],
            body: CREATE.as_bytes().to_vec(),
        };
        let tags = creation_tags(&create.body).expect("tags");
        let text = String::from_utf8(tagging_request(&create, &tags)).expect("text");
        assert!(
            text.starts_with("PUT /ka07-bkt?tagging HTTP/1.1\r\n"),
            "{text}"
        );
        assert!(text.contains("host: 127.0.0.1:9\r\n"), "{text}");
        assert!(text.contains("/s3/aws4_request\r\n"), "{text}");
        let body = text.split("\r\n\r\n").nth(1).expect("body");
        assert!(body.starts_with("<Tagging "), "{body}");
        assert!(body.contains(&format!("<TagSet>{tags}</TagSet>")), "{body}");
        assert!(
            text.contains(&format!("content-length: {}\r\n", body.len())),
            "{text}"
        );
        assert_eq!(status_of(b"HTTP/1.1 204 No Content\r\n\r\n"), 204);
        assert_eq!(status_of(b"garbage"), 0);
    }
}
