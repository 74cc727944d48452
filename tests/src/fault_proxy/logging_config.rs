//! Emulator fidelity: a function's `LoggingConfig` as Lambda keeps and
//! reports it. moto neither stores nor echoes it.
//!
//! Lambda reports `LoggingConfig` on every function (`LogFormat` `Text` and
//! the group `/aws/lambda/<name>` unless set otherwise). A configuration
//! sent with `CreateFunction` or `UpdateFunctionConfiguration` sets the
//! fields it names and keeps the others; with JSON logs a level left unset
//! is `INFO` and is reported as such, with text logs there are no levels.

use serde_json::{Map, Value};

const FIELDS: [&str; 4] = [
    "LogFormat",
    "ApplicationLogLevel",
    "SystemLogLevel",
    "LogGroup",
];
const LEVELS: [&str; 2] = ["ApplicationLogLevel", "SystemLogLevel"];

/// The configuration Lambda keeps for `function` after `sent` (the request's
/// `LoggingConfig`, if any) given what it kept before (`stored`).
pub(super) fn kept(stored: Option<&Value>, sent: Option<&Value>, function: &str) -> Value {
    let mut out: Map<String, Value> = match stored {
        Some(Value::Object(m)) => m.clone(),
        _ => {
            let mut m = Map::new();
            m.insert("LogFormat".into(), "Text".into());
            m.insert("LogGroup".into(), format!("/aws/lambda/{function}").into());
            m
        }
    };
    if let Some(Value::Object(sent)) = sent {
        for f in FIELDS {
            if let Some(v) = sent.get(f).filter(|v| !v.is_null()) {
                out.insert(f.into(), v.clone());
            }
        }
    }
    let json = out.get("LogFormat").and_then(Value::as_str) == Some("JSON");
    for level in LEVELS {
        if json {
            out.entry(level).or_insert_with(|| "INFO".into());
        } else {
            out.remove(level);
        }
    }
    Value::Object(out)
}

/// The function a Lambda path names (`/2015-03-31/functions/<name or
/// ARN>/…`), by name.
pub(super) fn function_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        [_, "functions", f, ..] => Some(name_of(&decode(f))),
        _ => None,
    }
}

/// A function's name from its name or ARN (a qualifier dropped).
pub(super) fn name_of(name_or_arn: &str) -> String {
    match name_or_arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest).to_owned(),
        None => name_or_arn.to_owned(),
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Puts `logging` into a function's configuration as Lambda reports it.
pub(super) fn echo(configuration: &mut Value, logging: Value) {
    if let Value::Object(m) = configuration {
        m.insert("LoggingConfig".into(), logging);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_logs_get_both_levels_at_their_default_and_text_logs_none() {
        let created = kept(
            None,
            Some(&json!({"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "LogGroup": "/g"})),
            "f",
        );
        assert_eq!(
            created,
            json!({"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO",
                   "LogGroup": "/g"})
        );
        // Fields not sent are kept; switching to text drops the levels.
        let text = kept(Some(&created), Some(&json!({"LogFormat": "Text"})), "f");
        assert_eq!(text, json!({"LogFormat": "Text", "LogGroup": "/g"}));
        // Back to JSON: the defaults again, not the old levels.
        let again = kept(Some(&text), Some(&json!({"LogFormat": "JSON"})), "f");
        assert_eq!(again["ApplicationLogLevel"], "INFO");
        // An update without LoggingConfig keeps it; a function never told
        // anything logs text to its own group.
        assert_eq!(kept(Some(&created), None, "f"), created);
        assert_eq!(
            kept(None, None, "f"),
            json!({"LogFormat": "Text", "LogGroup": "/aws/lambda/f"})
        );
    }

    #[test]
    fn functions_are_named_by_name_or_arn() {
        assert_eq!(
            function_of("/2015-03-31/functions/orders/configuration").as_deref(),
            Some("orders")
        );
        assert_eq!(
            function_of(
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Aorders%3A%24LATEST"
            )
            .as_deref(),
            Some("orders")
        );
        assert_eq!(function_of("/2015-03-31/functions"), None);
        let mut c = json!({"FunctionName": "orders"});
        echo(&mut c, json!({"LogFormat": "Text"}));
        assert_eq!(c["LoggingConfig"]["LogFormat"], "Text");
    }
}
