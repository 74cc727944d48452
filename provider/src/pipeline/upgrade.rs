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
const MIGRATIONS: &[(i64, Migration)] = &[(0, v0_to_v1)];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_0_1_0_state_gains_the_new_attributes_with_what_0_1_0_did() {
        let v0 = serde_json::json!({
            "id": "orders", "name": "orders", "trigger": [{}, {}]
        });
        let mut fields = v0.as_object().cloned().unwrap();
        v0_to_v1(&mut fields);
        assert_eq!(fields[attr::CREATE_BUCKET], true);
        assert_eq!(fields[attr::BACKFILL], false);
        assert_eq!(fields[attr::BACKFILLED_OBJECTS], 0);
        assert_eq!(
            fields[attr::NOTIFICATION_IDS],
            serde_json::json!(["eventpipe-orders-0", "eventpipe-orders-1"])
        );
    }

    #[test]
    fn states_from_a_newer_provider_are_refused() {
        assert!(upgrade(schema::SCHEMA_VERSION + 1, b"{}").is_err());
    }
}
