//! ECR's `ListImages` in pages, as AWS gives it: at most `maxResults`
//! images (100 when not given) and a `nextToken` for the rest. moto 5.2.5
//! ignores `maxResults` and always answers with every image, so a client
//! that forgot to follow `nextToken` would pass against it. With
//! `page_ecr_lists`, the proxy asks moto for everything and hands it out a
//! page at a time, never more than the page size the test chose.

use serde_json::{Value, json};

/// How AWS sizes a page when the caller gives no `maxResults`.
const DEFAULT_PAGE: usize = 100;

/// The `nextToken` the proxy hands out: where the next page starts.
fn token(offset: usize) -> String {
    format!("fidelity-page-{offset}")
}

/// Where a `ListImages` request starts, and the request body to send moto
/// (without `maxResults` and `nextToken`, so it answers with everything).
pub(super) fn request(sent: &[u8]) -> Option<(usize, usize, Vec<u8>)> {
    let mut body: Value = serde_json::from_slice(sent).ok()?;
    let obj = body.as_object_mut()?;
    let max = obj
        .remove("maxResults")
        .and_then(|m| m.as_u64())
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(DEFAULT_PAGE);
    let offset = match obj.remove("nextToken") {
        Some(Value::String(t)) => t.strip_prefix("fidelity-page-")?.parse().ok()?,
        _ => 0,
    };
    Some((offset, max, serde_json::to_vec(&body).ok()?))
}

/// moto's whole answer cut to the page from `offset` of at most `size`
/// images, with a `nextToken` when more follow.
pub(super) fn page(mut all: Value, offset: usize, size: usize) -> Value {
    let ids = match all.get_mut("imageIds").map(Value::take) {
        Some(Value::Array(ids)) => ids,
        _ => Vec::new(),
    };
    let end = offset.saturating_add(size.max(1)).min(ids.len());
    let page: Vec<Value> = ids.get(offset.min(end)..end).unwrap_or_default().to_vec();
    let mut out = json!({ "imageIds": page });
    if end < ids.len() {
        out["nextToken"] = Value::String(token(end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(n: usize) -> Value {
        json!({ "imageIds": (0..n).map(|i| json!({"imageDigest": format!("d{i}")}))
            .collect::<Vec<_>>() })
    }

    #[test]
    fn every_image_is_handed_out_once_in_pages() {
        let (offset, max, body) =
            request(br#"{"repositoryName":"r","maxResults":1000}"#).expect("request");
        assert_eq!((offset, max), (0, 1000));
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body, json!({"repositoryName": "r"}));

        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let p = page(images(5), offset, 2);
            seen.extend(p["imageIds"].as_array().expect("ids").iter().cloned());
            let Some(t) = p["nextToken"].as_str() else {
                break;
            };
            let sent = json!({"repositoryName": "r", "nextToken": t}).to_string();
            offset = request(sent.as_bytes()).expect("request").0;
        }
        assert_eq!(seen, images(5)["imageIds"].as_array().expect("ids").clone());
        assert_eq!(page(images(0), 0, 2), json!({"imageIds": []}));
        assert_eq!(request(br#"{"nextToken":"someone-else's"}"#), None);
    }
}
