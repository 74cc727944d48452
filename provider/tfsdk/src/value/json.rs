//! The JSON form of values: state as Terraform stores it, which reaches the
//! provider as `RawState.json` in UpgradeResourceState.
//!
//! JSON cannot hold unknowns. Reading follows Terraform's own state reader:
//! missing object attributes are null, unsupported ones are errors, numbers
//! keep their exact value (and their text, but for serde_json's spelling of
//! exponents: `1E400` reads as `1e+400`), and primitives are converted where Terraform
//! converts them (a number or bool where a string is expected, numeric or
//! `"true"`/`"false"` text where a number or bool is expected). A `dynamic`
//! position holds `{"value": ..., "type": <type JSON>}`.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::MAX_DEPTH;
use super::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, Step};
use super::json_string::write_string;
use super::number::Number;
use super::types::Type;
use super::values::{Value, check_attributes, dedupe, kept_set_elements};

/// Decodes JSON `bytes` holding a value of type `ty`.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    // serde_json stops at 128 levels of nesting, so hostile input cannot
    // overflow the stack while parsing.
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::new(DecodeErrorKind::Json(e.to_string())))?;
    decode(json, ty, 0)
}

/// Encodes `value` as JSON with type `ty`. Fails on unknowns and on
/// infinite numbers, which JSON cannot represent.
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode(&mut out, value, ty, 0)?;
    Ok(out)
}

fn json_name(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn decode(json: Json, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::new(DecodeErrorKind::TooDeep(MAX_DEPTH)));
    }
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::String => match json {
            Json::String(s) => Ok(Value::String(s)),
            Json::Number(n) => Ok(Value::String(n.as_str().to_owned())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(DecodeError::mismatch("string", json_name(&other))),
        },
        Type::Number => match json {
            Json::Number(n) => Ok(Value::Number(Number::parse(n.as_str())?)),
            Json::String(s) => Ok(Value::Number(Number::parse(&s)?)),
            other => Err(DecodeError::mismatch("number", json_name(&other))),
        },
        Type::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(b)),
            Json::String(s) if s == "true" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" => Ok(Value::Bool(false)),
            other => Err(DecodeError::mismatch("bool", json_name(&other))),
        },
        Type::List(element) => {
            let Json::Array(items) = json else {
                return Err(DecodeError::mismatch("list", json_name(&json)));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(decode(item, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?);
            }
            Ok(Value::List(out))
        }
        Type::Set(element) => {
            let Json::Array(items) = json else {
                return Err(DecodeError::mismatch("set", json_name(&json)));
            };
            // No path steps inside a set: Terraform cannot address elements.
            let items = items
                .into_iter()
                .map(|item| decode(item, element, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Set(dedupe(items)))
        }
        Type::Tuple(elements) => {
            let Json::Array(items) = json else {
                return Err(DecodeError::mismatch("tuple", json_name(&json)));
            };
            if items.len() != elements.len() {
                return Err(DecodeError::new(DecodeErrorKind::TupleLength {
                    expected: elements.len(),
                    found: items.len(),
                }));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, element)) in items.into_iter().zip(elements).enumerate() {
                out.push(decode(item, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?);
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(element) => {
            let Json::Object(entries) = json else {
                return Err(DecodeError::mismatch("map", json_name(&json)));
            };
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                let item = decode(item, element, depth + 1)
                    .map_err(|e| e.within(Step::Key(key.clone())))?;
                out.insert(key, item);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attribute_types) => {
            let Json::Object(entries) = json else {
                return Err(DecodeError::mismatch("object", json_name(&json)));
            };
            let mut out = BTreeMap::new();
            for (name, item) in entries {
                let Some(attribute_type) = attribute_types.get(&name) else {
                    return Err(DecodeError::new(DecodeErrorKind::UnexpectedAttribute(name)));
                };
                let item = decode(item, attribute_type, depth + 1)
                    .map_err(|e| e.within(Step::Attr(name.clone())))?;
                out.insert(name, item);
            }
            for name in attribute_types.keys() {
                if !out.contains_key(name) {
                    out.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            let Json::Object(entries) = json else {
                return Err(DecodeError::mismatch(
                    "a {\"value\", \"type\"} object for a dynamically-typed value",
                    json_name(&json),
                ));
            };
            let (mut value, mut type_json) = (None, None);
            for (key, item) in entries {
                match key.as_str() {
                    "value" => value = Some(item),
                    "type" => type_json = Some(item),
                    _ => return Err(DecodeError::new(DecodeErrorKind::DynamicKey(key))),
                }
            }
            let type_json =
                type_json.ok_or(DecodeError::new(DecodeErrorKind::DynamicMissing("type")))?;
            let value = value.ok_or(DecodeError::new(DecodeErrorKind::DynamicMissing("value")))?;
            let ty = Type::from_json_value(&type_json)
                .map_err(|e| DecodeError::new(DecodeErrorKind::InvalidType(e)))?;
            let value = decode(value, &ty, depth + 1)?;
            Ok(Value::Dynamic(ty, Box::new(value)))
        }
    }
}

fn encode(out: &mut Vec<u8>, value: &Value, ty: &Type, depth: usize) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::new(EncodeErrorKind::TooDeep(MAX_DEPTH)));
    }
    match (value, ty) {
        (Value::Null, _) => out.extend_from_slice(b"null"),
        (Value::Unknown, _) => return Err(EncodeError::new(EncodeErrorKind::UnknownInJson)),
        (Value::Dynamic(inner_type, inner), Type::Dynamic) => {
            out.extend_from_slice(b"{\"value\":");
            encode(out, inner, inner_type, depth + 1)?;
            out.extend_from_slice(b",\"type\":");
            inner_type.write_json(out);
            out.push(b'}');
        }
        (_, Type::Dynamic) => {
            return Err(EncodeError::new(EncodeErrorKind::UntypedDynamic(
                value.kind_name(),
            )));
        }
        (Value::Bool(b), Type::Bool) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" });
        }
        (Value::Number(n), Type::Number) => match n.json_text() {
            Some(text) => out.extend_from_slice(text.as_bytes()),
            None => {
                return Err(EncodeError::new(EncodeErrorKind::UnencodableNumber(
                    n.to_string(),
                )));
            }
        },
        (Value::String(s), Type::String) => write_string(out, s),
        (Value::List(items), Type::List(element)) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode(out, item, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?;
            }
            out.push(b']');
        }
        (Value::Set(items), Type::Set(element)) => {
            out.push(b'[');
            for (i, item) in kept_set_elements(items).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode(out, item, element, depth + 1)?;
            }
            out.push(b']');
        }
        (Value::Tuple(items), Type::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(EncodeError::new(EncodeErrorKind::TupleLength {
                    expected: elements.len(),
                    found: items.len(),
                }));
            }
            out.push(b'[');
            for (i, (item, element)) in items.iter().zip(elements).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode(out, item, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?;
            }
            out.push(b']');
        }
        (Value::Map(entries), Type::Map(element)) => {
            out.push(b'{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                encode(out, item, element, depth + 1)
                    .map_err(|e| e.within(Step::Key(key.clone())))?;
            }
            out.push(b'}');
        }
        (Value::Object(attributes), Type::Object(attribute_types)) => {
            check_attributes(attributes, attribute_types)?;
            out.push(b'{');
            // Same keys in the same (sorted) order: the pairs line up.
            let pairs = attributes.iter().zip(attribute_types.values());
            for (i, ((name, item), attribute_type)) in pairs.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, name);
                out.push(b':');
                encode(out, item, attribute_type, depth + 1)
                    .map_err(|e| e.within(Step::Attr(name.clone())))?;
            }
            out.push(b'}');
        }
        _ => {
            return Err(EncodeError::new(EncodeErrorKind::Mismatch {
                expected: ty.kind_name(),
                found: value.kind_name(),
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(json: &str, ty: &Type) -> Value {
        match decode_json(json.as_bytes(), ty) {
            Ok(v) => v,
            Err(e) => panic!("decoding {json} as {ty}: {e}"),
        }
    }

    fn err(json: &str, ty: &Type) -> DecodeError {
        match decode_json(json.as_bytes(), ty) {
            Ok(v) => panic!("decoding {json} as {ty} gave {v:?}"),
            Err(e) => e,
        }
    }

    fn enc(v: &Value, ty: &Type) -> String {
        match encode_json(v, ty) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => panic!("encoding {v:?} as {ty}: {e}"),
        }
    }

    #[test]
    fn state_objects_decode() {
        let ty = Type::object([
            ("name", Type::String),
            ("memory", Type::Number),
            ("on", Type::Bool),
            ("tags", Type::map(Type::String)),
            ("layers", Type::list(Type::String)),
            ("events", Type::set(Type::String)),
            ("pair", Type::tuple([Type::String, Type::Number])),
        ]);
        let v = dec(
            r#"{"name":"fn","memory":128,"on":true,"tags":{"a":"b"},"layers":["x","y"],
                "events":["put","put","delete"],"pair":["p",1.5]}"#,
            &ty,
        );
        let expected = Value::object([
            ("name", "fn".into()),
            ("memory", 128.into()),
            ("on", true.into()),
            ("tags", Value::map([("a", "b".into())])),
            ("layers", Value::list(["x".into(), "y".into()])),
            ("events", Value::set(["delete".into(), "put".into()])),
            (
                "pair",
                Value::tuple(["p".into(), Value::Number(Number::Float(1.5))]),
            ),
        ]);
        assert_eq!(v, expected);
        assert_eq!(dec(&enc(&v, &ty), &ty), v);
    }

    #[test]
    fn missing_attributes_decode_as_null() {
        let ty = Type::object([
            ("a", Type::String),
            ("b", Type::list(Type::Number)),
            ("c", Type::object([("d", Type::Bool)])),
            ("e", Type::Dynamic),
        ]);
        assert_eq!(
            dec(r#"{"a":"x","c":{}}"#, &ty),
            Value::object([
                ("a", "x".into()),
                ("b", Value::Null),
                ("c", Value::object([("d", Value::Null)])),
                ("e", Value::Null),
            ])
        );
    }

    #[test]
    fn extra_attributes_are_errors() {
        let ty = Type::object([("a", Type::object([("b", Type::String)]))]);
        let e = err(r#"{"a":{"b":"x","zz":1}}"#, &ty);
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedAttribute("zz".into()));
        assert_eq!(e.to_string(), "unsupported attribute \"zz\" at .a");
    }

    #[test]
    fn numbers_keep_their_exact_value() {
        for text in ["0.1", "123456789012345678901234567890", "-0.5", "1.0"] {
            let v = dec(text, &Type::Number);
            assert_eq!(enc(&v, &Type::Number), text);
        }
        // serde_json spells exponents its own way; the value is unchanged.
        let v = dec("1E400", &Type::Number);
        assert_eq!(enc(&v, &Type::Number), "1e+400");
        assert_eq!(
            v,
            Value::Number(Number::parse("10e399").unwrap_or(Number::Int(0)))
        );
        assert!(matches!(
            dec("7", &Type::Number),
            Value::Number(Number::Int(7))
        ));
        assert!(matches!(
            dec("18446744073709551615", &Type::Number),
            Value::Number(Number::UInt(u64::MAX))
        ));
    }

    #[test]
    fn primitives_convert_like_terraform_state_reading() {
        assert_eq!(dec("12", &Type::String), Value::from("12"));
        assert_eq!(dec("true", &Type::String), Value::from("true"));
        assert_eq!(
            dec("\"12.5\"", &Type::Number),
            Value::Number(Number::Float(12.5))
        );
        assert_eq!(dec("\"false\"", &Type::Bool), Value::Bool(false));
        assert!(matches!(
            err("\"twelve\"", &Type::Number).kind,
            DecodeErrorKind::InvalidNumber(_)
        ));
        assert!(matches!(
            err("\"yes\"", &Type::Bool).kind,
            DecodeErrorKind::Mismatch { .. }
        ));
        assert!(matches!(
            err("[]", &Type::String).kind,
            DecodeErrorKind::Mismatch { .. }
        ));
        assert!(matches!(
            err("1", &Type::list(Type::String)).kind,
            DecodeErrorKind::Mismatch { .. }
        ));
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::dynamic(Type::map(Type::Number), Value::map([("a", 1.into())]));
        let text = enc(&v, &Type::Dynamic);
        assert_eq!(text, r#"{"value":{"a":1},"type":["map","number"]}"#);
        assert_eq!(dec(&text, &Type::Dynamic), v);
        assert_eq!(
            dec(r#"{"type":"string","value":null}"#, &Type::Dynamic),
            Value::dynamic(Type::String, Value::Null)
        );
        assert_eq!(dec("null", &Type::Dynamic), Value::Null);
        assert_eq!(
            err(r#"{"value":1}"#, &Type::Dynamic).kind,
            DecodeErrorKind::DynamicMissing("type")
        );
        assert_eq!(
            err(r#"{"type":"number"}"#, &Type::Dynamic).kind,
            DecodeErrorKind::DynamicMissing("value")
        );
        assert_eq!(
            err(r#"{"type":"number","value":1,"x":2}"#, &Type::Dynamic).kind,
            DecodeErrorKind::DynamicKey("x".into())
        );
        assert!(matches!(
            err(r#"{"type":"numbr","value":1}"#, &Type::Dynamic).kind,
            DecodeErrorKind::InvalidType(_)
        ));
    }

    #[test]
    fn unknowns_and_infinities_cannot_be_json() {
        let ty = Type::object([("a", Type::Number)]);
        let e = encode_json(&Value::object([("a", Value::Unknown)]), &ty).err();
        assert_eq!(
            e.as_ref().map(|e| &e.kind),
            Some(&EncodeErrorKind::UnknownInJson)
        );
        assert_eq!(e.map(|e| e.path.to_string()).as_deref(), Some(".a"));
        let inf = Value::Number(Number::Float(f64::INFINITY));
        assert!(encode_json(&inf, &Type::Number).is_err());
        let e = encode_json(
            &Value::dynamic(Type::String, Value::Unknown),
            &Type::Dynamic,
        )
        .err();
        assert_eq!(e.map(|e| e.kind), Some(EncodeErrorKind::UnknownInJson));
    }

    #[test]
    fn strings_are_escaped() {
        let s = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 😀";
        let text = enc(&Value::from(s), &Type::String);
        assert_eq!(
            text,
            "\"quote \\\" backslash \\\\ newline \\n tab \\t nul \\u0000 bell \\u0007 é 😀\""
        );
        assert_eq!(dec(&text, &Type::String), Value::from(s));
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in ["", "{", "[1,]", "\"\\ud800\"", "nul", "{} {}", "\"\u{1}\""] {
            assert!(
                decode_json(bad.as_bytes(), &Type::Dynamic).is_err(),
                "{bad:?}"
            );
        }
        assert!(matches!(
            decode_json(b"\"\xff\"", &Type::String).map_err(|e| e.kind),
            Err(DecodeErrorKind::Json(_))
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut ty = Type::String;
        for _ in 0..MAX_DEPTH + 5 {
            ty = Type::list(ty);
        }
        let json = format!(
            "{}\"x\"{}",
            "[".repeat(MAX_DEPTH + 5),
            "]".repeat(MAX_DEPTH + 5)
        );
        assert_eq!(err(&json, &ty).kind, DecodeErrorKind::TooDeep(MAX_DEPTH));
        let json = "[".repeat(100_000);
        assert!(matches!(err(&json, &ty).kind, DecodeErrorKind::Json(_)));
        // Nested dynamic wrappers, each with a shallow type.
        let json = format!(
            "{}null{}",
            r#"{"type":"dynamic","value":"#.repeat(100),
            "}".repeat(100)
        );
        assert_eq!(
            err(&json, &Type::Dynamic).kind,
            DecodeErrorKind::TooDeep(MAX_DEPTH)
        );
    }

    #[test]
    fn set_elements_are_merged_on_encode() {
        let v = Value::Set(vec![1.into(), 1u64.into(), 2.into()]);
        assert_eq!(enc(&v, &Type::set(Type::Number)), "[1,2]");
    }
}
