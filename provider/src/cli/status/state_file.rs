//! `status --state FILE`: the pipeline as Terraform's state records it,
//! from the JSON of `terraform show -json` (the root module and every
//! child module), or from the state itself (`terraform state pull`, a
//! `terraform.tfstate`), which also holds the provider's private data: the
//! CodeSha256 of the package it uploaded last.

use std::path::Path;

use serde_json::Value as Json;

use base64::Engine as _;

use crate::pipeline::private::Private;
use crate::pipeline::state::attr;

use super::super::error::CliError;

pub const RESOURCE_TYPE: &str = "eventpipe_event_pipeline";

/// One trigger as the state records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateTrigger {
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

/// What `status` compares with AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The resource's address, e.g. `module.ingest.eventpipe_event_pipeline.this`.
    pub address: String,
    pub source_code_hash: String,
    pub triggers: Vec<StateTrigger>,
    pub notification_ids: Vec<String>,
    pub backfilled_objects: i64,
    /// The CodeSha256 of the zip the provider uploaded last: only a state
    /// file has it (`terraform show -json` leaves private data out).
    pub code_sha256: Option<String>,
    /// The bucket the state names (`bucket_name`).
    pub bucket: Option<String>,
    /// The account of the function's ARN (`function_arn`).
    pub account: Option<String>,
}

/// The pipeline `name` in the state JSON at `path`.
pub fn read(path: &Path, name: &str) -> Result<Recorded, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    parse(&bytes, name).map_err(|why| CliError::Input(format!("{}: {why}", path.display())))
}

/// The pipeline `name` in the JSON of `terraform show -json` or of a
/// state file.
pub fn parse(bytes: &[u8], name: &str) -> Result<Recorded, String> {
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "not JSON (give the output of `terraform show -json` or `terraform state pull`): {e}"
        )
    })?;
    if doc.get("resources").is_some_and(Json::is_array) {
        return from_state_file(&doc, name);
    }
    let Some(root) = doc.pointer("/values/root_module") else {
        return Err(if doc.get("format_version").is_some() {
            "the state holds no resources".to_owned()
        } else {
            "not the output of `terraform show -json` nor a state file".to_owned()
        });
    };
    let mut found = None;
    find(root, name, &mut found);
    let r = found.ok_or_else(|| format!("no {RESOURCE_TYPE} named {name:?} in the state"))?;
    Ok(recorded(
        r["address"].as_str().unwrap_or_default().to_owned(),
        &r["values"],
        None,
    ))
}

/// The pipeline `name` in a state file (format version 4): its
/// attributes, and the private data of its instance.
fn from_state_file(doc: &Json, name: &str) -> Result<Recorded, String> {
    for r in doc["resources"].as_array().into_iter().flatten() {
        if r["type"] != RESOURCE_TYPE || r["mode"] != "managed" {
            continue;
        }
        for i in r["instances"].as_array().into_iter().flatten() {
            let v = &i["attributes"];
            if v[attr::NAME].as_str() != Some(name) {
                continue;
            }
            let address = [
                r["module"].as_str(),
                Some(RESOURCE_TYPE),
                r["name"].as_str(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(".");
            let private = i["private"]
                .as_str()
                .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
                .map(|b| Private::from_bytes(&b));
            return Ok(recorded(address, v, private.and_then(|p| p.code_sha256)));
        }
    }
    Err(format!("no {RESOURCE_TYPE} named {name:?} in the state"))
}

fn recorded(address: String, v: &Json, code_sha256: Option<String>) -> Recorded {
    let strings = |j: &Json| -> Vec<String> {
        j.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |j: &Json| j.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    Recorded {
        address,
        source_code_hash: v[attr::SOURCE_CODE_HASH]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        triggers: v[attr::TRIGGER]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| StateTrigger {
                        events: strings(&t[attr::EVENTS]),
                        prefix: text(&t[attr::FILTER_PREFIX]),
                        suffix: text(&t[attr::FILTER_SUFFIX]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        notification_ids: strings(&v[attr::NOTIFICATION_IDS]),
        backfilled_objects: v[attr::BACKFILLED_OBJECTS].as_i64().unwrap_or(0),
        code_sha256,
        bucket: text(&v[attr::BUCKET_NAME]),
        account: v[attr::FUNCTION_ARN]
            .as_str()
            .and_then(|a| a.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .map(str::to_owned),
    }
}

/// The first managed pipeline resource named `name` in `module` or its
/// children.
fn find<'a>(module: &'a Json, name: &str, found: &mut Option<&'a Json>) {
    if found.is_some() {
        return;
    }
    for r in module["resources"].as_array().into_iter().flatten() {
        if r["type"] == RESOURCE_TYPE
            && r["mode"] == "managed"
            && r["values"][attr::NAME].as_str() == Some(name)
        {
            *found = Some(r);
            return;
        }
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        find(child, name, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOW: &str = r#"{"format_version":"1.0","terraform_version":"1.11.4","values":{
      "root_module":{"resources":[{"address":"eventpipe_event_pipeline.other","mode":"managed",
        "type":"eventpipe_event_pipeline","name":"other","values":{"name":"other"}}],
      "child_modules":[{"address":"module.m","resources":[{
        "address":"module.m.eventpipe_event_pipeline.this","mode":"managed",
        "type":"eventpipe_event_pipeline","name":"this","values":{"name":"orders",
        "source_code_hash":"ab12","backfilled_objects":7,"bucket_name":"orders-in",
        "function_arn":"arn:aws:lambda:us-east-1:123456789012:function:orders",
        "notification_ids":["eventpipe-orders-0","eventpipe-orders-1"],
        "trigger":[{"events":["s3:ObjectCreated:*"],"filter_prefix":"in/","filter_suffix":""},
                   {"events":["s3:ObjectRemoved:*"],"filter_prefix":null,"filter_suffix":".csv"}]}}]}]}}}"#;

    #[test]
    fn a_pipeline_in_a_child_module_is_found_by_name() {
        let r = parse(SHOW.as_bytes(), "orders").expect("found");
        assert_eq!(r.address, "module.m.eventpipe_event_pipeline.this");
        assert_eq!(r.source_code_hash, "ab12");
        assert_eq!(r.backfilled_objects, 7);
        assert_eq!(r.notification_ids.len(), 2);
        assert_eq!(
            r.triggers[0],
            StateTrigger {
                events: vec!["s3:ObjectCreated:*".into()],
                prefix: Some("in/".into()),
                suffix: None,
            }
        );
        assert_eq!(r.triggers[1].suffix.as_deref(), Some(".csv"));
        assert_eq!(r.bucket.as_deref(), Some("orders-in"));
        assert_eq!(r.account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn a_state_file_also_gives_the_code_sha256_of_the_last_upload() {
        let private =
            base64::engine::general_purpose::STANDARD.encode(br#"{"code_sha256":"c29tZQ=="}"#);
        let state = format!(
            r#"{{"version":4,"resources":[{{"module":"module.m","mode":"managed",
            "type":"eventpipe_event_pipeline","name":"this","instances":[{{"schema_version":8,
            "attributes":{{"name":"orders","source_code_hash":"ab12","backfilled_objects":2,
            "notification_ids":["eventpipe-orders-0"],"trigger":[{{"events":["s3:ObjectCreated:*"],
            "filter_prefix":null,"filter_suffix":null}}]}},"private":"{private}"}}]}}]}}"#
        );
        let r = parse(state.as_bytes(), "orders").expect("found");
        assert_eq!(r.address, "module.m.eventpipe_event_pipeline.this");
        assert_eq!(r.code_sha256.as_deref(), Some("c29tZQ=="));
        assert_eq!(r.backfilled_objects, 2);
        assert_eq!(r.triggers.len(), 1);
        assert!(parse(state.as_bytes(), "other").is_err());
        assert_eq!(
            parse(SHOW.as_bytes(), "orders").expect("found").code_sha256,
            None
        );
    }

    #[test]
    fn a_missing_pipeline_or_other_json_is_one_clear_reason() {
        let e = parse(SHOW.as_bytes(), "nope").unwrap_err();
        assert!(
            e.contains("no eventpipe_event_pipeline named \"nope\""),
            "{e}"
        );
        let e = parse(b"{\"format_version\":\"1.0\"}", "x").unwrap_err();
        assert!(e.contains("holds no resources"), "{e}");
        assert!(
            parse(b"[]", "x")
                .unwrap_err()
                .contains("terraform show -json")
        );
        assert!(parse(b"nope", "x").unwrap_err().starts_with("not JSON"));
    }
}
