//! Emulator fidelity: S3's check of a notification document's
//! destinations. moto stores the document without looking.
//!
//! On every `PutBucketNotificationConfiguration` S3 checks each function
//! and queue the document names, not only the new ones: the function must
//! exist and its resource policy let `s3.amazonaws.com` invoke it (for this
//! bucket, when the statement names a source), the queue must exist and
//! its policy let S3 send to it. When one fails, S3 stores nothing and
//! answers 400 `InvalidArgument` "Unable to validate the following
//! destination configurations", naming each failed destination in
//! `ArgumentName<n>` (its ARN) and `ArgumentValue<n>` (why).

use serde_json::Value;

/// A destination the document names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Destination {
    Function(String),
    Queue(String),
}

impl Destination {
    pub(super) fn arn(&self) -> &str {
        match self {
            Destination::Function(a) | Destination::Queue(a) => a,
        }
    }

    /// The region in the ARN (`arn:aws:<service>:<region>:…`).
    pub(super) fn region(&self) -> &str {
        self.arn().split(':').nth(3).unwrap_or("us-east-1")
    }

    /// The last part of the ARN: the function's or queue's name.
    pub(super) fn name(&self) -> &str {
        let arn = self.arn();
        match self {
            Destination::Function(_) => arn
                .split_once(":function:")
                .map_or(arn, |(_, n)| n.split(':').next().unwrap_or(n)),
            Destination::Queue(_) => arn.rsplit(':').next().unwrap_or(arn),
        }
    }

    /// What S3 says when this destination fails.
    pub(super) fn refusal(&self) -> String {
        match self {
            Destination::Function(a) => format!("Not authorized to invoke function [{a}]"),
            Destination::Queue(_) => "Permissions on the destination queue do not allow S3 to \
                                      publish notifications from this bucket"
                .to_owned(),
        }
    }
}

fn elements<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].trim());
        rest = &after[j + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every function and queue a `NotificationConfiguration` document names,
/// in order (functions first), each once.
pub(super) fn destinations(body: &[u8]) -> Vec<Destination> {
    let text = String::from_utf8_lossy(body);
    let mut out: Vec<Destination> = Vec::new();
    // The SDKs write `CloudFunction`; S3 also takes `LambdaFunctionArn`.
    for name in ["CloudFunction", "LambdaFunctionArn"] {
        for arn in elements(&text, name) {
            out.push(Destination::Function(unescape(arn)));
        }
    }
    for arn in elements(&text, "Queue") {
        out.push(Destination::Queue(unescape(arn)));
    }
    let mut seen = Vec::new();
    out.retain(|d| {
        let new = !seen.contains(d);
        seen.push(d.clone());
        new
    });
    out
}

/// The bucket a path-style S3 request names.
pub(super) fn bucket_of(target: &str) -> String {
    let path = target.split('?').next().unwrap_or(target);
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Whether a resource policy (JSON text) lets S3 act for `bucket`: an
/// `Allow` for the `s3.amazonaws.com` service principal whose source
/// condition, if any, names the bucket (or a pattern matching it).
pub(super) fn allows_s3(policy: &str, bucket: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    as_list(&doc["Statement"]).into_iter().any(|st| {
        let allow = st["Effect"].as_str() == Some("Allow");
        let principal = &st["Principal"];
        let s3 = as_list(&principal["Service"])
            .into_iter()
            .chain(as_list(principal))
            .any(|p| p.as_str() == Some("s3.amazonaws.com") || p.as_str() == Some("*"));
        let sources: Vec<&str> = ["ArnLike", "ArnEquals", "StringEquals", "StringLike"]
            .iter()
            .flat_map(|op| as_list(&st["Condition"][*op]["AWS:SourceArn"]))
            .chain(
                ["ArnLike", "ArnEquals", "StringEquals", "StringLike"]
                    .iter()
                    .flat_map(|op| as_list(&st["Condition"][*op]["aws:SourceArn"])),
            )
            .filter_map(Value::as_str)
            .collect();
        let source_ok = sources.is_empty()
            || sources
                .iter()
                .any(|s| *s == bucket_arn || matches_pattern(s, &bucket_arn));
        allow && s3 && source_ok
    })
}

/// `*` in `pattern` matches any run of characters (IAM's `ArnLike`).
fn matches_pattern(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(p) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else if let Some(j) = rest.find(p) {
            rest = &rest[j + p.len()..];
        } else {
            return false;
        }
    }
    true
}

/// S3's answer for a document whose `failed` destinations it could not
/// validate.
pub(super) fn refusal_body(failed: &[Destination]) -> String {
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>\
         <Message>Unable to validate the following destination configurations</Message>",
    );
    for (i, d) in failed.iter().enumerate() {
        let n = i + 1;
        body.push_str(&format!(
            "<ArgumentName{n}>{}</ArgumentName{n}><ArgumentValue{n}>{}</ArgumentValue{n}>",
            escape(d.arn()),
            escape(&d.refusal())
        ));
    }
    body.push_str("<RequestId>fidelity-0000</RequestId><HostId>fidelity</HostId></Error>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the Rust SDK writes for one function and one queue.
    const DOC: &str = "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
        <CloudFunctionConfiguration><Id>a</Id>\
        <CloudFunction>arn:aws:lambda:us-east-1:123456789012:function:f1</CloudFunction>\
        <Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>\
        <CloudFunctionConfiguration><Id>b</Id>\
        <CloudFunction>arn:aws:lambda:eu-west-1:123456789012:function:f2</CloudFunction>\
        <Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>\
        <QueueConfiguration><Id>c</Id><Queue>arn:aws:sqs:us-east-1:123456789012:q</Queue>\
        <Event>s3:ObjectCreated:*</Event></QueueConfiguration>\
        </NotificationConfiguration>";

    #[test]
    fn every_function_and_queue_of_the_document_is_checked() {
        let d = destinations(DOC.as_bytes());
        assert_eq!(
            d,
            [
                Destination::Function("arn:aws:lambda:us-east-1:123456789012:function:f1".into()),
                Destination::Function("arn:aws:lambda:eu-west-1:123456789012:function:f2".into()),
                Destination::Queue("arn:aws:sqs:us-east-1:123456789012:q".into()),
            ]
        );
        assert_eq!(d[1].region(), "eu-west-1");
        assert_eq!(d[1].name(), "f2");
        assert_eq!(d[2].name(), "q");
        assert!(destinations(b"<NotificationConfiguration/>").is_empty());
        assert_eq!(bucket_of("/shared-bkt?notification"), "shared-bkt");
    }

    #[test]
    fn s3_must_be_allowed_for_this_bucket() {
        let scoped = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
            "Action":"lambda:InvokeFunction","Resource":"f",
            "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::shared"}}}]}"#;
        assert!(allows_s3(scoped, "shared"));
        assert!(!allows_s3(scoped, "other"));
        let any_bucket = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["s3.amazonaws.com"]},
            "Action":"sqs:SendMessage","Resource":"q"}}"#;
        assert!(allows_s3(any_bucket, "whatever"));
        let pattern = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
            "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::team-*"}}}]}"#;
        assert!(allows_s3(pattern, "team-a"));
        assert!(!allows_s3(pattern, "other"));
        let others =
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"}}]}"#;
        assert!(!allows_s3(others, "shared"));
        assert!(!allows_s3("not json", "shared"));
    }

    #[test]
    fn the_refusal_names_each_failed_destination_as_s3_does() {
        let body = refusal_body(&[
            Destination::Function("arn:aws:lambda:us-east-1:1:function:gone".into()),
            Destination::Queue("arn:aws:sqs:us-east-1:1:q&x".into()),
        ]);
        assert!(body.contains("<Code>InvalidArgument</Code>"), "{body}");
        assert!(
            body.contains(
                "<Message>Unable to validate the following destination configurations</Message>"
            ),
            "{body}"
        );
        assert!(
            body.contains(
                "<ArgumentName1>arn:aws:lambda:us-east-1:1:function:gone</ArgumentName1>\
                 <ArgumentValue1>Not authorized to invoke function \
                 [arn:aws:lambda:us-east-1:1:function:gone]</ArgumentValue1>"
            ),
            "{body}"
        );
        assert!(
            body.contains("<ArgumentName2>arn:aws:sqs:us-east-1:1:q&amp;x</ArgumentName2>"),
            "{body}"
        );
    }
}
