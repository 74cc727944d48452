//! What `eventpipe invoke` needs to know of a pipeline, from one of two
//! places: the pipeline as AWS has it (`cli::target::find`, the reading
//! `terraform import` does), or a state file written by `terraform show
//! -json`; and the extra environment of `--var-file`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value as Json;

use crate::pipeline::naming;
use crate::pipeline::state::{DELIVERY_QUEUE, Known, State, Trigger, attr};

use super::super::error::CliError;

/// The resource type a state file's pipelines have.
const RESOURCE_TYPE: &str = "eventpipe_event_pipeline";

/// A pipeline's function and triggers, as invoke uses them.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    pub name: String,
    pub function_name: String,
    pub function_arn: String,
    pub bucket: String,
    pub bucket_arn: String,
    pub source_dir: String,
    pub handler: String,
    pub runtime: String,
    pub architecture: String,
    pub requirements_file: Option<String>,
    /// `function.exclude`: what the package leaves out of `source_dir`.
    pub exclude: Vec<String>,
    pub memory_mb: i64,
    pub timeout_s: i64,
    pub environment: BTreeMap<String, String>,
    pub triggers: Vec<Trigger<Known>>,
    /// The notification ids, one per trigger, in the triggers' order.
    pub notification_ids: Vec<String>,
    pub log_group: String,
    /// The queue S3 notifies with `delivery = "queue"`, whose events the
    /// function is given wrapped in SQS's; `None` with direct delivery.
    pub event_queue_arn: Option<String>,
}

impl Pipeline {
    pub fn of_state(s: &State<Known>) -> Pipeline {
        let f = &s.function;
        Pipeline {
            name: s.name.clone(),
            function_name: s.function_name.clone(),
            function_arn: s.function_arn.clone(),
            bucket: s.bucket_name.clone(),
            bucket_arn: s.bucket_arn.clone(),
            source_dir: f.source_dir.clone(),
            handler: f.handler.clone(),
            runtime: f.runtime.clone(),
            architecture: f.architecture.clone(),
            requirements_file: f.requirements_file.clone(),
            exclude: f.exclude.clone().unwrap_or_default(),
            memory_mb: f.memory_size,
            timeout_s: f.timeout,
            environment: f.environment.clone().unwrap_or_default(),
            triggers: s.trigger.clone(),
            notification_ids: s.notification_ids.clone(),
            log_group: s.log_group_name.clone(),
            event_queue_arn: s
                .event_queue_arn
                .clone()
                .filter(|a| s.delivery == DELIVERY_QUEUE && !a.is_empty()),
        }
    }

    /// The notification id of trigger `index`, as the bucket has it.
    pub fn configuration_id(&self, index: usize) -> String {
        self.notification_ids
            .get(index)
            .cloned()
            .unwrap_or_else(|| naming::notification_id(&self.name, index))
    }

    /// The function ARN's region and account, when it names them.
    pub fn arn_part(&self, n: usize) -> Option<&str> {
        self.function_arn
            .split(':')
            .nth(n)
            .filter(|p| !p.is_empty())
    }
}

/// Every `eventpipe_event_pipeline` of a `terraform show -json` state, in
/// the root module and every child module.
fn pipelines(doc: &Json) -> Vec<&Json> {
    fn walk<'a>(module: &'a Json, out: &mut Vec<&'a Json>) {
        for r in module["resources"].as_array().into_iter().flatten() {
            if r["type"] == RESOURCE_TYPE && r["mode"] != "data" {
                out.push(&r["values"]);
            }
        }
        for m in module["child_modules"].as_array().into_iter().flatten() {
            walk(m, out);
        }
    }
    let mut out = Vec::new();
    walk(&doc["values"]["root_module"], &mut out);
    out
}

fn string(o: &Json, name: &str) -> String {
    o[name].as_str().unwrap_or_default().to_owned()
}

/// A nested block: an object, or a list of at most one (as Terraform
/// writes a block of either nesting).
fn block<'a>(o: &'a Json, name: &str) -> Option<&'a Json> {
    match &o[name] {
        Json::Array(items) => items.first(),
        Json::Object(_) => Some(&o[name]),
        _ => None,
    }
}

fn string_map(o: &Json) -> BTreeMap<String, String> {
    o.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (k.clone(), v)
        })
        .collect()
}

fn strings(o: &Json) -> Vec<String> {
    o.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn pipeline_of(v: &Json) -> Result<Pipeline, String> {
    let f = block(v, attr::FUNCTION).ok_or("it has no function block")?;
    let triggers: Vec<Trigger<Known>> = v[attr::TRIGGER]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| Trigger {
            events: strings(&t[attr::EVENTS]),
            filter_prefix: t[attr::FILTER_PREFIX].as_str().map(str::to_owned),
            filter_suffix: t[attr::FILTER_SUFFIX].as_str().map(str::to_owned),
        })
        .collect();
    let int = |name: &str, default: i64| f[name].as_i64().unwrap_or(default);
    let function_name = string(v, attr::FUNCTION_NAME);
    Ok(Pipeline {
        name: string(v, attr::NAME),
        log_group: naming::log_group_name(&function_name),
        function_arn: string(v, attr::FUNCTION_ARN),
        function_name,
        bucket: string(v, attr::BUCKET_NAME),
        bucket_arn: string(v, attr::BUCKET_ARN),
        source_dir: string(f, attr::SOURCE_DIR),
        handler: string(f, attr::HANDLER),
        runtime: string(f, attr::RUNTIME),
        architecture: string(f, attr::ARCHITECTURE),
        requirements_file: f[attr::REQUIREMENTS_FILE].as_str().map(str::to_owned),
        exclude: strings(&f[attr::EXCLUDE]),
        memory_mb: int(attr::MEMORY_SIZE, 128),
        timeout_s: int(attr::TIMEOUT, 3),
        environment: string_map(&f[attr::ENVIRONMENT]),
        triggers,
        notification_ids: strings(&v[attr::NOTIFICATION_IDS]),
        event_queue_arn: v[attr::EVENT_QUEUE_ARN]
            .as_str()
            .filter(|a| v[attr::DELIVERY] == DELIVERY_QUEUE && !a.is_empty())
            .map(str::to_owned),
    })
}

/// The pipeline named `name` in a `terraform show -json` state.
pub fn from_state_file(path: &Path, name: &str) -> Result<Pipeline, CliError> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| CliError::Input(format!("cannot read {shown}: {e}")))?;
    let doc: Json = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::Input(format!(
            "{shown} is not JSON ({e}); give the output of `terraform show -json`"
        ))
    })?;
    if doc.get("values").is_none() && doc.get("format_version").is_none() {
        return Err(CliError::Input(format!(
            "{shown} is not a state as `terraform show -json` writes it"
        )));
    }
    let all = pipelines(&doc);
    let Some(found) = all.iter().find(|v| v[attr::NAME] == name) else {
        let names: Vec<String> = all.iter().map(|v| string(v, attr::NAME)).collect();
        let has = if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        };
        return Err(CliError::Input(format!(
            "{shown} has no {RESOURCE_TYPE} named {name:?} (it has: {has})"
        )));
    };
    pipeline_of(found).map_err(|why| {
        CliError::Input(format!(
            "{shown}: the pipeline {name:?} cannot be read: {why}"
        ))
    })
}

/// Whether `key` can name an environment variable.
fn env_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Extra environment for the handler: a JSON object of names to values,
/// or lines `NAME = "value"` (a JSON string) or `NAME=value` (as it is),
/// with blank lines and lines starting `#` or `//` skipped.
pub fn parse_var_file(text: &str) -> Result<BTreeMap<String, String>, String> {
    if text.trim_start().starts_with('{') {
        let doc: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let mut out = BTreeMap::new();
        for (k, v) in doc.as_object().into_iter().flatten() {
            if !env_name(k) {
                return Err(format!("{k:?} is no environment variable name"));
            }
            let value = match v {
                Json::String(s) => s.clone(),
                Json::Number(_) | Json::Bool(_) => v.to_string(),
                _ => return Err(format!("{k}: the value must be a string, number or bool")),
            };
            out.insert(k.clone(), value);
        }
        return Ok(out);
    }
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let n = i + 1;
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("line {n}: expected NAME = \"value\""))?;
        let (k, v) = (k.trim(), v.trim());
        if !env_name(k) {
            return Err(format!("line {n}: {k:?} is no environment variable name"));
        }
        let value = if v.starts_with('"') {
            serde_json::from_str::<String>(v)
                .map_err(|e| format!("line {n}: the quoted value does not read ({e})"))?
        } else {
            v.to_owned()
        };
        out.insert(k.to_owned(), value);
    }
    Ok(out)
}

/// `parse_var_file` of the file at `path`.
pub fn read_var_file(path: &Path) -> Result<BTreeMap<String, String>, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {shown}: {e}")))?;
    parse_var_file(&text).map_err(|e| CliError::Input(format!("{shown}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_var_file_is_json_or_name_value_lines() {
        let json = parse_var_file(r#"{"A": "x y", "N": 3, "B": true}"#).unwrap();
        assert_eq!(json["A"], "x y");
        assert_eq!(json["N"], "3");
        assert_eq!(json["B"], "true");
        let lines =
            parse_var_file("# c\n\nA = \"x \\\"y\\\"\"\n// d\nB=plain value\n_C = \"\"\n").unwrap();
        assert_eq!(lines["A"], "x \"y\"");
        assert_eq!(lines["B"], "plain value");
        assert_eq!(lines["_C"], "");
        assert_eq!(lines.len(), 3);
        assert_eq!(
            parse_var_file("A = 1\nno equals\n").unwrap_err(),
            "line 2: expected NAME = \"value\""
        );
        assert!(
            parse_var_file("1A = x")
                .unwrap_err()
                .contains("no environment variable")
        );
        assert!(parse_var_file(r#"{"A": [1]}"#).is_err());
    }

    const SHOWN: &str = r#"{"format_version":"1.0","values":{"root_module":{"child_modules":[
      {"address":"module.orders","resources":[{"address":"module.orders.eventpipe_event_pipeline.this",
       "mode":"managed","type":"eventpipe_event_pipeline","name":"this","values":{
        "name":"orders","function_name":"orders","bucket_name":"b","bucket_arn":"arn:aws:s3:::b",
        "function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:orders",
        "notification_ids":["eventpipe-orders-0"],
        "function":[{"source_dir":"./app","handler":"app.handler","runtime":"python3.13",
          "architecture":"x86_64","memory_size":256,"timeout":30,
          "environment":{"OUTPUT_PREFIX":"processed/"},"requirements_file":null}],
        "trigger":[{"events":["s3:ObjectCreated:*"],"filter_prefix":"data/","filter_suffix":".json"}]
       }}]}]}}}"#;

    #[test]
    fn a_state_file_gives_the_pipeline_of_that_name_in_any_module() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, SHOWN).unwrap();
        let p = from_state_file(&path, "orders").unwrap();
        assert_eq!(p.source_dir, "./app");
        assert_eq!(p.handler, "app.handler");
        assert_eq!((p.memory_mb, p.timeout_s), (256, 30));
        assert_eq!(p.environment["OUTPUT_PREFIX"], "processed/");
        assert_eq!(p.triggers.len(), 1);
        assert_eq!(p.triggers[0].prefix(), "data/");
        assert_eq!(p.configuration_id(0), "eventpipe-orders-0");
        assert_eq!(p.arn_part(3), Some("eu-west-1"));
        assert_eq!(p.arn_part(4), Some("123456789012"));
        let e = from_state_file(&path, "other").unwrap_err().to_string();
        assert!(
            e.ends_with("has no eventpipe_event_pipeline named \"other\" (it has: orders)"),
            "{e}"
        );
        std::fs::write(&path, "{}").unwrap();
        let e = from_state_file(&path, "orders").unwrap_err().to_string();
        assert!(e.contains("is not a state"), "{e}");
    }
}
