//! Protocol messages to the SDK's types: the values Terraform sends,
//! decoded with the schema's types, and the stored state it asks to
//! upgrade. The counterpart of [`super::toproto`].

use tfplugin_proto::tfplugin6 as pb;

use crate::diag::Diagnostic;
use crate::value::{self, Type, Value};

/// Decodes a value Terraform sent; msgpack first, then JSON; empty = null.
pub(super) fn decode(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostic> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let result = if !dv.msgpack.is_empty() {
        value::decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        value::decode_json(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    result.map_err(|e| {
        Diagnostic::error(
            "Malformed value from Terraform",
            format!("The {what} could not be decoded: {e}"),
        )
    })
}

/// The JSON of a stored state Terraform asks to upgrade; `None` when there
/// is none (the resource has no state). The pre-0.12 flatmap format is
/// refused: this provider never wrote it.
pub(super) fn raw_state(raw: Option<&pb::RawState>) -> Result<Option<&[u8]>, Diagnostic> {
    let json = raw.map(|r| r.json.as_slice()).unwrap_or_default();
    if !json.is_empty() {
        return Ok(Some(json));
    }
    if raw.is_some_and(|r| !r.flatmap.is_empty()) {
        return Err(Diagnostic::error(
            "Unsupported state format",
            "This state was written in the pre-0.12 flatmap format, which this \
         provider never wrote.",
        ));
    }
    Ok(None)
}

/// Identity data Terraform sent (protocol 6.9), decoded with the type's
/// identity schema; null when there is none.
pub(super) fn identity(
    data: Option<&pb::ResourceIdentityData>,
    ty: &Type,
) -> Result<Value, Diagnostic> {
    decode(
        data.and_then(|d| d.identity_data.as_ref()),
        ty,
        "resource identity",
    )
}
