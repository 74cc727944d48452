//! The OCI distribution API through the proxy: naming its calls
//! (`registry:HeadManifest`, `registry:GetBlob`, `registry:StartUpload`,
//! ...), answering a fault in the registry's own error format (a JSON
//! `errors` list with the distribution spec's codes), and, on request, a
//! bearer token as public ECR asks for one: every `/v2/` call without the
//! token is answered 401 with a `WWW-Authenticate: Bearer` challenge whose
//! realm is the proxy's own `/token`, which hands the token out
//! anonymously (`registry:GetToken`).

use super::http1::header;

/// The path the proxy's token endpoint answers on.
pub(super) const TOKEN_PATH: &str = "/token";
/// The token the proxy hands out and then expects.
const TOKEN: &str = "fault-proxy-token";

/// Whether a request is a registry call: the API under `/v2/`, or the
/// proxy's token endpoint.
pub(super) fn is_registry(path: &str) -> bool {
    path == "/v2" || path.starts_with("/v2/") || path == TOKEN_PATH
}

/// `registry:Operation` for a call of the distribution API.
pub(super) fn op(method: &str, path: &str) -> String {
    let m = method.to_ascii_uppercase();
    let name = if path == TOKEN_PATH {
        "GetToken"
    } else if path == "/v2" || path == "/v2/" {
        "Ping"
    } else if path.contains("/blobs/uploads") {
        match m.as_str() {
            "POST" => "StartUpload",
            "PATCH" => "PatchUpload",
            "PUT" => "CompleteUpload",
            "DELETE" => "CancelUpload",
            _ => "GetUpload",
        }
    } else if path.contains("/blobs/") {
        match m.as_str() {
            "HEAD" => "HeadBlob",
            "GET" => "GetBlob",
            "DELETE" => "DeleteBlob",
            _ => "Blob",
        }
    } else if path.contains("/manifests/") {
        match m.as_str() {
            "HEAD" => "HeadManifest",
            "GET" => "GetManifest",
            "PUT" => "PutManifest",
            "DELETE" => "DeleteManifest",
            _ => "Manifest",
        }
    } else if path.ends_with("/tags/list") {
        "ListTags"
    } else {
        return format!("registry:{m} {path}");
    };
    format!("registry:{name}")
}

/// A distribution-spec error answer.
pub(super) fn error_response(status: u16, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string();
    let reason = match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
         Docker-Distribution-Api-Version: registry/2.0\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// With bearer tokens on: the proxy's own answer to a registry call, when
/// it gives one (the token, or the 401 challenge of a call without it).
pub(super) fn token_answer(
    op: &str,
    headers: &[(String, String)],
    target: &str,
) -> Option<Vec<u8>> {
    if op == "registry:GetToken" {
        let body = serde_json::json!({"token": TOKEN, "access_token": TOKEN}).to_string();
        return Some(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        );
    }
    let bearer = header(headers, "authorization")
        .is_some_and(|a| a.strip_prefix("Bearer ").is_some_and(|t| t.trim() == TOKEN));
    if bearer {
        return None;
    }
    let host = header(headers, "host").unwrap_or("127.0.0.1");
    let repository = target
        .strip_prefix("/v2/")
        .and_then(|rest| {
            ["/manifests/", "/blobs/", "/tags/"]
                .iter()
                .find_map(|k| rest.split_once(k).map(|(repo, _)| repo))
        })
        .unwrap_or("");
    let scope = if repository.is_empty() {
        String::new()
    } else {
        format!(",scope=\"repository:{repository}:pull\"")
    };
    let body = serde_json::json!({"errors": [{"code": "UNAUTHORIZED",
        "message": "authentication required"}]})
    .to_string();
    Some(
        format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n\
             WWW-Authenticate: Bearer realm=\"http://{host}{TOKEN_PATH}\",service=\"fault-proxy\"{scope}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_calls_are_named_by_method_and_path() {
        let cases = [
            ("GET", "/v2/", "registry:Ping"),
            ("GET", "/token", "registry:GetToken"),
            (
                "HEAD",
                "/v2/lambda/python/manifests/3.13",
                "registry:HeadManifest",
            ),
            ("GET", "/v2/a/manifests/sha256:ab", "registry:GetManifest"),
            ("PUT", "/v2/fn/manifests/v1", "registry:PutManifest"),
            ("HEAD", "/v2/fn/blobs/sha256:ab", "registry:HeadBlob"),
            ("GET", "/v2/fn/blobs/sha256:ab", "registry:GetBlob"),
            ("POST", "/v2/fn/blobs/uploads/", "registry:StartUpload"),
            (
                "PUT",
                "/v2/fn/blobs/uploads/uuid",
                "registry:CompleteUpload",
            ),
            ("PATCH", "/v2/fn/blobs/uploads/uuid", "registry:PatchUpload"),
        ];
        for (m, p, want) in cases {
            assert!(is_registry(p), "{p}");
            assert_eq!(op(m, p), want, "{m} {p}");
        }
        assert!(!is_registry("/2015-03-31/functions"));
    }

    #[test]
    fn a_call_without_the_token_is_challenged_to_the_proxy_s_token_endpoint() {
        let host = [("Host".to_owned(), "127.0.0.1:9".to_owned())];
        let challenge = token_answer(
            "registry:HeadManifest",
            &host,
            "/v2/lambda/python/manifests/3.13",
        )
        .unwrap();
        let text = String::from_utf8(challenge).unwrap();
        assert!(text.starts_with("HTTP/1.1 401 "), "{text}");
        assert!(
            text.contains(
                "Bearer realm=\"http://127.0.0.1:9/token\",service=\"fault-proxy\",\
                 scope=\"repository:lambda/python:pull\""
            ),
            "{text}"
        );
        let with = [
            host[0].clone(),
            ("Authorization".to_owned(), format!("Bearer {TOKEN}")),
        ];
        assert_eq!(token_answer("registry:HeadManifest", &with, "/v2/x"), None);
        let token =
            String::from_utf8(token_answer("registry:GetToken", &host, "/token?x").unwrap())
                .unwrap();
        assert!(token.contains(TOKEN), "{token}");
    }
}
