//! The `eventpipe_event_pipeline` resource schema. Attribute names are part
//! of the provider's contract; descriptions are the registry documentation.
//! Both are declared with each attribute in [`super::state`]; this module
//! gives the schema its type name and version.

use tfsdk::schema::Schema;

use super::state::{Known, State};

pub const TYPE_NAME: &str = "eventpipe_event_pipeline";

/// Schema version of the stored state; bump it with an upgrade step.
pub const SCHEMA_VERSION: i64 = 11;

pub fn schema() -> Schema {
    Schema {
        version: SCHEMA_VERSION,
        block: State::<Known>::schema_block(),
    }
}
