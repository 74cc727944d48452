//! Stored states from older schema versions, brought up to the current
//! one (UpgradeResourceState). Each schema change bumps
//! [`schema::SCHEMA_VERSION`] and adds a step to [`MIGRATIONS`] that turns
//! the JSON of one version into the next; the fixture of a state written by
//! 0.1.0 (tests/fixtures) keeps the whole chain honest.

use tfsdk::diag::{Diagnostic, Diagnostics};
use tfsdk::value::{self, Value};

use serde_json::{Map, Value as Json};

use super::naming;
use super::schema;
use super::state::attr;

/// A step from schema version `from` to `from + 1`, on the stored JSON.
type Migration = fn(&mut Map<String, Json>);

/// Every migration, by the version it starts from.
const MIGRATIONS: &[(i64, Migration)] = &[
    (0, v0_to_v1),
    (1, v1_to_v2),
    (2, v2_to_v3),
    (3, v3_to_v4),
    (4, v4_to_v5),
    (5, v5_to_v6),
    (6, v6_to_v7),
    (7, v7_to_v8),
    (8, v8_to_v9),
    (9, v9_to_v10),
    (10, v10_to_v11),
];

/// 0.1.0 → 0.2.0: existing buckets, notification ids and backfill. A 0.1.0
/// pipeline made its bucket, owned one notification configuration per
/// trigger under the ids it derives from its name, and never backfilled.
fn v0_to_v1(state: &mut Map<String, Json>) {
    state.insert(attr::CREATE_BUCKET.into(), Json::Bool(true));
    state.insert(attr::BACKFILL.into(), Json::Bool(false));
    state.insert(attr::BACKFILLED_OBJECTS.into(), Json::from(0));
    let name = state
        .get(attr::NAME)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned();
    let triggers = state
        .get(attr::TRIGGER)
        .and_then(Json::as_array)
        .map_or(0, Vec::len);
    let ids = (0..triggers)
        .map(|i| Json::String(naming::notification_id(&name, i)))
        .collect();
    state.insert(attr::NOTIFICATION_IDS.into(), Json::Array(ids));
}

pub fn upgrade(version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
    if version > schema::SCHEMA_VERSION {
        return Err(Diagnostic::error(
            "State from a newer provider",
            format!(
                "This state was written by a provider using schema version {version}; this \
                 provider knows up to version {}. Upgrade the provider.",
                schema::SCHEMA_VERSION
            ),
        )
        .into());
    }
    let unreadable = |e: String| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read stored state",
            format!("The stored state does not match the resource schema: {e}"),
        ))
    };
    let json = if version == schema::SCHEMA_VERSION {
        json.to_vec()
    } else {
        let mut doc: Json = serde_json::from_slice(json).map_err(|e| unreadable(e.to_string()))?;
        let Json::Object(fields) = &mut doc else {
            return Err(unreadable("the state is not an object".into()));
        };
        for (from, migrate) in MIGRATIONS {
            if *from >= version {
                migrate(fields);
            }
        }
        serde_json::to_vec(&doc).map_err(|e| unreadable(e.to_string()))?
    };
    value::decode_json(&json, &schema::schema().value_type()).map_err(|e| unreadable(e.to_string()))
}

/// Failure handling, logs and function settings. Before this the function's
/// log group was Lambda's (made on first use, kept forever): recorded as
/// missing, so the next plan shows it as an addition and the apply adopts
/// the group Lambda made. No failure handling, no reserved concurrency, the
/// default 512 MB of `/tmp`, no layers.
fn v1_to_v2(state: &mut Map<String, Json>) {
    for key in [
        attr::FAILURE_QUEUE_ARN,
        attr::FAILURE_QUEUE_URL,
        attr::LOG_GROUP_RETENTION_IN_DAYS,
        attr::ON_FAILURE,
        attr::LOGS,
    ] {
        state.insert(key.into(), Json::Null);
    }
    state.insert(attr::LOG_GROUP_NAME.into(), Json::String(String::new()));
    if let Some(Json::Object(f)) = state.get_mut(attr::FUNCTION) {
        f.insert(attr::RESERVED_CONCURRENCY.into(), Json::Null);
        f.insert(attr::EPHEMERAL_STORAGE.into(), Json::from(512));
        f.insert(attr::LAYERS.into(), Json::Null);
    }
}

/// Streams and queue delivery: S3 invoked the function directly, and there
/// was no stream.
fn v2_to_v3(state: &mut Map<String, Json>) {
    state.insert(attr::DELIVERY.into(), Json::String("direct".into()));
    for key in [
        attr::STREAM_ARN,
        attr::STREAM_NAME,
        attr::STREAM_MAPPING_ID,
        attr::EVENT_QUEUE_ARN,
        attr::EVENT_QUEUE_URL,
        attr::QUEUE_MAPPING_ID,
        attr::STREAM,
        attr::QUEUE,
    ] {
        state.insert(key.into(), Json::Null);
    }
}

/// The source's file list (`source_files`, `source_file_count`), from the
/// version before it: nothing was recorded. The next plan lists the files
/// as an in-place addition (the code hash is unchanged, so nothing is
/// uploaded), never a replacement.
fn v3_to_v4(state: &mut Map<String, Json>) {
    state.insert(attr::SOURCE_FILES.into(), Json::Object(Map::new()));
    state.insert(attr::SOURCE_FILE_COUNT.into(), Json::from(0));
}

/// Dependencies and staged packages: no requirements file was named and no
/// package bucket set. The hash of a source without dependencies is
/// computed as before, so such a state plans no change.
fn v4_to_v5(state: &mut Map<String, Json>) {
    if let Some(Json::Object(f)) = state.get_mut(attr::FUNCTION) {
        f.insert(attr::REQUIREMENTS_FILE.into(), Json::Null);
        f.insert(attr::PACKAGE_BUCKET.into(), Json::Null);
    }
}

/// The failure queue's own switch (`on_failure.force_delete`): a failure
/// queue was deleted with failed events in it only with `force_destroy`,
/// which stays so.
fn v5_to_v6(state: &mut Map<String, Json>) {
    match state.get_mut(attr::ON_FAILURE) {
        Some(Json::Object(b)) => {
            b.insert(attr::FORCE_DELETE.into(), Json::Bool(false));
        }
        // A block is stored as a list of one by some writers.
        Some(Json::Array(l)) => {
            for b in l.iter_mut().filter_map(Json::as_object_mut) {
                b.insert(attr::FORCE_DELETE.into(), Json::Bool(false));
            }
        }
        _ => {}
    }
}

/// Slim packages (`function.slim`): the dependencies were packaged as
/// installed. `false` keeps the hash the state holds, so such a state plans
/// no change.
fn v6_to_v7(state: &mut Map<String, Json>) {
    match state.get_mut(attr::FUNCTION) {
        Some(Json::Object(f)) => {
            f.insert(attr::SLIM.into(), Json::Bool(false));
        }
        // A block is stored as a list of one by some writers.
        Some(Json::Array(l)) => {
            for f in l.iter_mut().filter_map(Json::as_object_mut) {
                f.insert(attr::SLIM.into(), Json::Bool(false));
            }
        }
        _ => {}
    }
}

/// The function block's fields, whether stored as an object or as a list of
/// one (as some writers store a block).
fn function_blocks(state: &mut Map<String, Json>) -> Vec<&mut Map<String, Json>> {
    match state.get_mut(attr::FUNCTION) {
        Some(Json::Object(f)) => vec![f],
        Some(Json::Array(l)) => l.iter_mut().filter_map(Json::as_object_mut).collect(),
        _ => Vec::new(),
    }
}

/// Container images (`function.package_type`, `function.image`): every
/// function was a zip, so the hash the state holds stays and such a state
/// plans no change.
fn v7_to_v8(state: &mut Map<String, Json>) {
    for key in [
        attr::IMAGE_URI,
        attr::IMAGE_BASE_DIGEST,
        attr::IMAGE_REPOSITORY_URL,
    ] {
        state.insert(key.into(), Json::Null);
    }
    for f in function_blocks(state) {
        f.insert(attr::PACKAGE_TYPE.into(), Json::String("zip".into()));
        f.insert(attr::IMAGE.into(), Json::Null);
    }
}

/// Alarms (`alarms`, `alarm_arns`, `alarm_topic_arn`): no pipeline had
/// any, so such a state plans no change.
fn v8_to_v9(state: &mut Map<String, Json>) {
    for key in [attr::ALARMS, attr::ALARM_ARNS, attr::ALARM_TOPIC_ARN] {
        state.insert(key.into(), Json::Null);
    }
}

/// What stays out of the package (`function.exclude`) and bundling
/// (`function.bundle`): nothing was excluded beyond the fixed skips and
/// nothing was bundled, so such a state plans no change.
fn v9_to_v10(state: &mut Map<String, Json>) {
    for f in function_blocks(state) {
        f.insert(attr::EXCLUDE.into(), Json::Null);
        f.insert(attr::BUNDLE.into(), Json::Bool(false));
    }
}

/// 0.2.x, schema 11: the `bucket_encryption` block (none: SSE-S3, as before).
fn v10_to_v11(state: &mut Map<String, Json>) {
    state.insert(attr::BUCKET_ENCRYPTION.into(), Json::Null);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The attributes of the pipeline in the state file 0.1.0 wrote (the
    /// end-to-end fixture), as UpgradeResourceState receives them.
    fn state_0_1_0() -> Map<String, Json> {
        let file: Json = serde_json::from_str(include_str!(
            "../../../tests/fixtures/state-0.1.0/terraform.tfstate"
        ))
        .expect("the fixture is JSON");
        let instance = &file["resources"][0]["instances"][0];
        assert_eq!(instance["schema_version"], 0);
        instance["attributes"]
            .as_object()
            .cloned()
            .expect("attributes")
    }

    #[test]
    fn a_0_1_0_state_gains_the_new_attributes_with_what_0_1_0_did() {
        let mut fields = state_0_1_0();
        let name = fields[attr::NAME].as_str().unwrap().to_owned();
        let triggers = fields[attr::TRIGGER].as_array().unwrap().len();
        v0_to_v1(&mut fields);
        assert_eq!(fields[attr::CREATE_BUCKET], true);
        assert_eq!(fields[attr::BACKFILL], false);
        assert_eq!(fields[attr::BACKFILLED_OBJECTS], 0);
        let ids: Vec<Json> = (0..triggers)
            .map(|i| Json::String(format!("eventpipe-{name}-{i}")))
            .collect();
        assert_eq!(fields[attr::NOTIFICATION_IDS], Json::Array(ids));
    }

    #[test]
    fn a_0_1_0_state_upgrades_through_every_version_to_the_schema() {
        let v0 = Json::Object(state_0_1_0());
        let v = upgrade(0, v0.to_string().as_bytes()).expect("upgrades");
        let s = super::super::state::State::<super::super::state::Known>::from_value(&v)
            .expect("a known state of the current schema");
        assert!(
            s.log_group_name.is_empty(),
            "the group is not the pipeline's yet"
        );
        assert_eq!(s.function.ephemeral_storage, 512);
        assert!(s.on_failure.is_none() && s.logs.is_none());
        assert_eq!(s.notification_ids.len(), s.trigger.len());
        assert!(s.create_bucket && !s.backfill);
        assert!(s.source_files.is_empty() && s.source_file_count == 0);
        assert!(s.function.requirements_file.is_none() && s.function.package_bucket.is_none());
        assert!(!s.function.slim, "packaged as installed, as before");
    }

    #[test]
    fn a_v8_state_has_no_alarms() {
        let mut full = state_0_1_0();
        for (from, migrate) in MIGRATIONS {
            if *from < 8 {
                migrate(&mut full);
            }
        }
        assert!(full.get(attr::ALARMS).is_none());
        let v = upgrade(8, Json::Object(full).to_string().as_bytes()).expect("upgrades");
        let s = super::super::state::State::<super::super::state::Known>::from_value(&v)
            .expect("a known state of the current schema");
        assert!(s.alarms.is_none() && s.alarm_arns.is_none() && s.alarm_topic_arn.is_none());
        assert!(s.alarm_kinds().is_empty());
    }

    #[test]
    fn a_v9_state_excludes_nothing_bundles_nothing_and_keeps_its_hash() {
        let mut full = state_0_1_0();
        for (from, migrate) in MIGRATIONS {
            if *from < 9 {
                migrate(&mut full);
            }
        }
        let hash = full[attr::SOURCE_CODE_HASH].clone();
        let v = upgrade(9, Json::Object(full).to_string().as_bytes()).expect("upgrades");
        let s = super::super::state::State::<super::super::state::Known>::from_value(&v)
            .expect("a known state of the current schema");
        assert!(s.function.exclude.is_none() && !s.function.bundle);
        assert_eq!(Json::String(s.source_code_hash.clone()), hash);
    }

    #[test]
    fn a_v10_state_has_no_bucket_encryption_and_keeps_its_policy() {
        let mut full = state_0_1_0();
        for (from, migrate) in MIGRATIONS {
            if *from < 10 {
                migrate(&mut full);
            }
        }
        assert!(full.get(attr::BUCKET_ENCRYPTION).is_none());
        let policy = full[attr::POLICY_JSON].clone();
        let v = upgrade(10, Json::Object(full).to_string().as_bytes()).expect("upgrades");
        let s = super::super::state::State::<super::super::state::Known>::from_value(&v)
            .expect("a known state of the current schema");
        assert!(s.bucket_encryption.is_none());
        assert_eq!(Json::String(s.policy_json.clone()), policy);
    }

    #[test]
    fn a_v7_state_is_a_zip_without_an_image_and_keeps_its_hash() {
        let mut full = state_0_1_0();
        for (from, migrate) in MIGRATIONS {
            if *from < 7 {
                migrate(&mut full);
            }
        }
        assert!(full[attr::FUNCTION].get(attr::PACKAGE_TYPE).is_none());
        assert!(full.get(attr::IMAGE_URI).is_none());
        let hash = full[attr::SOURCE_CODE_HASH].clone();
        let v = upgrade(7, Json::Object(full).to_string().as_bytes()).expect("upgrades");
        let s = super::super::state::State::<super::super::state::Known>::from_value(&v)
            .expect("a known state of the current schema");
        assert_eq!(s.function.package_type, "zip");
        assert!(s.function.image.is_none());
        assert!(s.image_uri.is_none() && s.image_base_digest.is_none());
        assert!(s.image_repository_url.is_none());
        assert_eq!(Json::String(s.source_code_hash), hash);
    }

    #[test]
    fn a_v6_state_gains_slim_off_and_keeps_its_hash() {
        let mut full = state_0_1_0();
        for (from, migrate) in MIGRATIONS {
            if *from < 6 {
                migrate(&mut full);
            }
        }
        assert!(full[attr::FUNCTION].get(attr::SLIM).is_none());
        let hash = full[attr::SOURCE_CODE_HASH].clone();
        let v = upgrade(6, Json::Object(full).to_string().as_bytes()).expect("upgrades");
        let s = super::super::state::State::<super::super::state::Known>::from_value(&v)
            .expect("a known state of the current schema");
        assert!(!s.function.slim);
        assert_eq!(Json::String(s.source_code_hash), hash);
    }

    #[test]
    fn a_failure_queue_keeps_refusing_to_lose_events_after_the_upgrade() {
        let mut block = Map::new();
        block.insert(attr::MAXIMUM_RETRY_ATTEMPTS.into(), Json::from(2));
        block.insert(attr::MAXIMUM_EVENT_AGE.into(), Json::from(21_600));
        block.insert(attr::QUEUE_ARN.into(), Json::Null);
        let mut fields = Map::new();
        fields.insert(attr::ON_FAILURE.into(), Json::Object(block));
        v5_to_v6(&mut fields);
        assert_eq!(fields[attr::ON_FAILURE][attr::FORCE_DELETE], false);
        // Without the block there is nothing to fill in.
        let mut none = Map::new();
        none.insert(attr::ON_FAILURE.into(), Json::Null);
        v5_to_v6(&mut none);
        assert_eq!(none[attr::ON_FAILURE], Json::Null);
        // Through the whole chain, a v5 state with the block reads as the
        // current schema.
        let mut full = state_0_1_0();
        for (from, migrate) in MIGRATIONS {
            if *from < 5 {
                migrate(&mut full);
            }
        }
        full.insert(attr::ON_FAILURE.into(), fields[attr::ON_FAILURE].clone());
        let v = upgrade(5, Json::Object(full).to_string().as_bytes()).expect("upgrades");
        let s = super::super::state::State::<super::super::state::Known>::from_value(&v)
            .expect("a known state of the current schema");
        let block = s.on_failure.expect("the block stays");
        assert!(!block.force_delete);
        assert_eq!(block.maximum_retry_attempts, Some(2));
    }

    #[test]
    fn states_from_a_newer_provider_are_refused() {
        assert!(upgrade(schema::SCHEMA_VERSION + 1, b"{}").is_err());
    }
}
