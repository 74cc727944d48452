//! Stored states from older schema versions, brought up to the current
//! one (UpgradeResourceState). Each schema change bumps
//! [`schema::SCHEMA_VERSION`] and adds a step to [`MIGRATIONS`] that turns
//! the JSON of one version into the next; the fixture of a state written by
//! 0.1.0 (tests/fixtures) keeps the whole chain honest.

use tfsdk::diag::{Diagnostic, Diagnostics};
use tfsdk::value::{self, Value};

use super::schema;

/// A step from schema version `from` to `from + 1`, on the stored JSON.
type Migration = fn(&mut serde_json::Map<String, serde_json::Value>);

/// Every migration, by the version it starts from.
const MIGRATIONS: &[(i64, Migration)] = &[];

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
        let mut doc: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| unreadable(e.to_string()))?;
        let serde_json::Value::Object(fields) = &mut doc else {
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
