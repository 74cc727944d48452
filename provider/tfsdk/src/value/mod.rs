//! Terraform values: the type system, the value tree, and the two wire forms
//! Terraform uses for them (msgpack for everything it sends and expects
//! back, JSON for stored state).
//!
//! Everything here is pure: no I/O, no knowledge of the provider's schema.
//! Decoding never panics on hostile bytes; nesting is capped at
//! [`MAX_DEPTH`] levels so input cannot overflow the stack.

mod error;
mod json;
mod json_string;
mod msgpack;
mod number;
mod types;
mod values;

#[cfg(test)]
mod proptests;
/// Random types and values for property tests (here and in providers).
#[cfg(any(test, feature = "strategy"))]
pub mod strategy;

pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, Path, Step};
pub use json::{decode_json, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};
pub use number::{Decimal, Number, NumberError};
pub use types::{Type, TypeError};
pub use values::Value;

/// How deeply types and values may nest (collections, objects and
/// dynamic wrappers each count one level).
pub const MAX_DEPTH: usize = 64;

/// Decodes a `DynamicValue` from a request: msgpack if present, else JSON;
/// both empty mean null.
pub fn decode_msgpack_or_json(
    msgpack: &[u8],
    json: &[u8],
    ty: &Type,
) -> Result<Value, DecodeError> {
    if !msgpack.is_empty() {
        decode_msgpack(msgpack, ty)
    } else if !json.is_empty() {
        decode_json(json, ty)
    } else {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_value_falls_back_to_json_then_null() {
        let ty = Type::object([("a", Type::String)]);
        let object = Value::object([("a", "x".into())]);
        assert_eq!(
            decode_msgpack_or_json(&[0x81, 0xa1, b'a', 0xa1, b'x'], b"{}", &ty),
            Ok(object)
        );
        assert_eq!(
            decode_msgpack_or_json(&[], b"{}", &ty),
            Ok(Value::object([("a", Value::Null)]))
        );
        assert_eq!(decode_msgpack_or_json(&[], &[], &ty), Ok(Value::Null));
    }
}
