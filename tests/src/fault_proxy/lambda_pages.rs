//! Lambda's `ListFunctions` in pages, as AWS gives it: at most `MaxItems`
//! functions (50 when not given, and never more than 50) and a
//! `NextMarker` for the rest. moto 5.2.5 ignores `MaxItems` and `Marker`
//! and answers with every function at once, so a list that forgot to
//! follow `NextMarker`, or one that read every page before its first
//! result, would look the same against it. With `page_lambda_functions`,
//! the proxy asks moto for everything and hands it out a page at a time.

use serde_json::{Value, json};

/// Lambda's page size: the default and the most `MaxItems` may ask for.
const MOST: usize = 50;

/// The `NextMarker` the proxy hands out: where the next page starts.
fn marker(offset: usize) -> String {
    format!("fidelity-page-{offset}")
}

/// Where a `ListFunctions` request (`/path?query`) starts and how many it
/// wants; `None` for a marker the proxy did not hand out.
pub(super) fn request(target: &str) -> Option<(usize, usize)> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let mut offset = 0;
    let mut max = MOST;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "Marker" => offset = value.strip_prefix("fidelity-page-")?.parse().ok()?,
            "MaxItems" => max = value.parse::<usize>().ok()?.clamp(1, MOST),
            _ => {}
        }
    }
    Some((offset, max))
}

/// moto's whole answer cut to the page from `offset` of `size` functions,
/// with a `NextMarker` when more follow.
pub(super) fn page(mut all: Value, offset: usize, size: usize) -> Value {
    let functions = match all.get_mut("Functions").map(Value::take) {
        Some(Value::Array(f)) => f,
        _ => Vec::new(),
    };
    let end = offset.saturating_add(size).min(functions.len());
    let page: Vec<Value> = functions
        .get(offset.min(end)..end)
        .unwrap_or_default()
        .to_vec();
    let mut out = json!({ "Functions": page });
    if end < functions.len() {
        out["NextMarker"] = Value::String(marker(end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn functions(n: usize) -> Value {
        json!({ "Functions": (0..n).map(|i| json!({"FunctionName": format!("f{i}")}))
            .collect::<Vec<_>>() })
    }

    #[test]
    fn every_function_is_handed_out_once_in_pages_of_at_most_50() {
        assert_eq!(request("/2015-03-31/functions/"), Some((0, 50)));
        assert_eq!(
            request("/2015-03-31/functions/?MaxItems=500"),
            Some((0, 50))
        );
        assert_eq!(request("/2015-03-31/functions/?Marker=somebody-else"), None);
        let mut seen = Vec::new();
        let mut target = "/2015-03-31/functions/?MaxItems=2".to_owned();
        loop {
            let (offset, size) = request(&target).expect("request");
            let p = page(functions(5), offset, size);
            seen.extend(
                p["Functions"]
                    .as_array()
                    .expect("functions")
                    .iter()
                    .cloned(),
            );
            let Some(m) = p["NextMarker"].as_str() else {
                break;
            };
            target = format!("/2015-03-31/functions/?Marker={m}&MaxItems=2");
        }
        assert_eq!(
            seen,
            functions(5)["Functions"].as_array().expect("f").clone()
        );
        assert_eq!(page(functions(0), 0, 50), json!({"Functions": []}));
    }
}
