//! Terraform's type system and its JSON form (the `type` bytes of schema
//! attributes and of dynamically-typed values).

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

use super::MAX_DEPTH;
use super::json_string::write_string;

/// A Terraform (cty) type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    String,
    Number,
    Bool,
    /// `any` in HCL: the concrete type travels with each value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

/// Type JSON that does not describe a type.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TypeError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("unknown type name {0:?}")]
    UnknownName(String),
    #[error("invalid type: {0}")]
    Malformed(&'static str),
    #[error("types are nested more than {0} levels deep")]
    TooDeep(usize),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// An object type, e.g. `Type::object([("name", Type::String)])`.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(
            attributes
                .into_iter()
                .map(|(name, ty)| (name.into(), ty))
                .collect(),
        )
    }

    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// The type of attribute `name` of an object type.
    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        match self {
            Type::Object(attributes) => attributes.get(name),
            _ => None,
        }
    }

    /// The element type of a list, set or map type.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The kind of type, for messages: `"list"`, `"object"`, ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Number => "number",
            Type::Bool => "bool",
            Type::Dynamic => "dynamic",
            Type::List(_) => "list",
            Type::Set(_) => "set",
            Type::Map(_) => "map",
            Type::Object(_) => "object",
            Type::Tuple(_) => "tuple",
        }
    }

    /// Parses Terraform's type JSON: `"string"`, `["list","string"]`,
    /// `["object",{"a":"number"}]`, `["tuple",["bool"]]`, ... An object's
    /// third element (cty's optional-attribute names) is accepted and ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Type, TypeError> {
        // serde_json limits its own recursion (128 levels), so hostile
        // nesting fails here rather than overflowing the stack.
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| TypeError::Json(e.to_string()))?;
        Type::from_json_value(&json)
    }

    /// Like [`Type::from_json`], from already parsed JSON.
    pub fn from_json_value(json: &serde_json::Value) -> Result<Type, TypeError> {
        parse(json, 0)
    }

    /// The type as JSON, in the form Terraform reads.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        let tagged = |tag: &str, arg: J| J::Array(vec![J::String(tag.to_owned()), arg]);
        match self {
            Type::String | Type::Number | Type::Bool | Type::Dynamic => {
                J::String(self.kind_name().to_owned())
            }
            Type::List(t) | Type::Set(t) | Type::Map(t) => tagged(self.kind_name(), t.to_json()),
            Type::Object(attributes) => tagged(
                "object",
                J::Object(
                    attributes
                        .iter()
                        .map(|(name, t)| (name.clone(), t.to_json()))
                        .collect(),
                ),
            ),
            Type::Tuple(elements) => tagged(
                "tuple",
                J::Array(elements.iter().map(Type::to_json).collect()),
            ),
        }
    }

    /// The type as compact JSON bytes, e.g. `["list","string"]`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out);
        out
    }

    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Type::String | Type::Number | Type::Bool | Type::Dynamic => {
                write_string(out, self.kind_name());
            }
            Type::List(t) | Type::Set(t) | Type::Map(t) => {
                out.push(b'[');
                write_string(out, self.kind_name());
                out.push(b',');
                t.write_json(out);
                out.push(b']');
            }
            Type::Object(attributes) => {
                out.extend_from_slice(b"[\"object\",{");
                for (i, (name, t)) in attributes.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(out, name);
                    out.push(b':');
                    t.write_json(out);
                }
                out.extend_from_slice(b"}]");
            }
            Type::Tuple(elements) => {
                out.extend_from_slice(b"[\"tuple\",[");
                for (i, t) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    t.write_json(out);
                }
                out.extend_from_slice(b"]]");
            }
        }
    }
}

fn parse(json: &serde_json::Value, depth: usize) -> Result<Type, TypeError> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err(TypeError::TooDeep(MAX_DEPTH));
    }
    let items = match json {
        J::String(name) => {
            return match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(unknown_name(other)),
            };
        }
        J::Array(items) => items,
        _ => {
            return Err(TypeError::Malformed(
                "a type must be a JSON string or array",
            ));
        }
    };
    let mut items = items.iter();
    let Some(J::String(kind)) = items.next() else {
        return Err(TypeError::Malformed(
            "a type array must start with the name of a type kind",
        ));
    };
    let Some(arg) = items.next() else {
        return Err(TypeError::Malformed(
            "a type array needs a second element (element or attribute types)",
        ));
    };
    let extra = items.next();
    if items.next().is_some() {
        return Err(TypeError::Malformed("a type array has too many elements"));
    }
    // Only object types have a third element: the names of optional
    // attributes, which matter to Terraform's config decoder but not here.
    match (kind.as_str(), extra) {
        ("object", None | Some(J::Array(_))) => {}
        ("object", Some(_)) => {
            return Err(TypeError::Malformed(
                "the optional attributes of an object type must be an array",
            ));
        }
        (_, Some(_)) => return Err(TypeError::Malformed("a type array has too many elements")),
        (_, None) => {}
    }
    match kind.as_str() {
        "list" => Ok(Type::list(parse(arg, depth + 1)?)),
        "set" => Ok(Type::set(parse(arg, depth + 1)?)),
        "map" => Ok(Type::map(parse(arg, depth + 1)?)),
        "object" => {
            let J::Object(attributes) = arg else {
                return Err(TypeError::Malformed(
                    "the attribute types of an object type must be a JSON object",
                ));
            };
            let mut out = BTreeMap::new();
            for (name, t) in attributes {
                out.insert(name.clone(), parse(t, depth + 1)?);
            }
            Ok(Type::Object(out))
        }
        "tuple" => {
            let J::Array(elements) = arg else {
                return Err(TypeError::Malformed(
                    "the element types of a tuple type must be a JSON array",
                ));
            };
            let elements = elements
                .iter()
                .map(|t| parse(t, depth + 1))
                .collect::<Result<_, _>>()?;
            Ok(Type::Tuple(elements))
        }
        other => Err(unknown_name(other)),
    }
}

/// Names longer than this are cut in messages: the text comes from outside.
const NAME_IN_MESSAGE: usize = 40;

fn unknown_name(name: &str) -> TypeError {
    TypeError::UnknownName(name.chars().take(NAME_IN_MESSAGE).collect())
}

/// Terraform's type-constraint syntax: `list(string)`,
/// `object({a=number, b=bool})`, `tuple([string, bool])`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String | Type::Number | Type::Bool => f.write_str(self.kind_name()),
            Type::Dynamic => f.write_str("any"),
            Type::List(t) | Type::Set(t) | Type::Map(t) => write!(f, "{}({t})", self.kind_name()),
            Type::Object(attributes) => {
                f.write_str("object({")?;
                for (i, (name, t)) in attributes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}={t}")?;
                }
                f.write_str("})")
            }
            Type::Tuple(elements) => {
                f.write_str("tuple([")?;
                for (i, t) in elements.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Type, TypeError> {
        Type::from_json(s.as_bytes())
    }

    #[test]
    fn primitive_type_names_parse() {
        assert_eq!(parse_str("\"string\""), Ok(Type::String));
        assert_eq!(parse_str("\"number\""), Ok(Type::Number));
        assert_eq!(parse_str("\"bool\""), Ok(Type::Bool));
        assert_eq!(parse_str("\"dynamic\""), Ok(Type::Dynamic));
    }

    #[test]
    fn collection_and_structural_types_parse() {
        assert_eq!(
            parse_str(r#"["list",["set",["map","number"]]]"#),
            Ok(Type::list(Type::set(Type::map(Type::Number))))
        );
        assert_eq!(
            parse_str(r#"["object",{"b":"bool","a":["tuple",["string","dynamic"]]}]"#),
            Ok(Type::object([
                ("a", Type::tuple([Type::String, Type::Dynamic])),
                ("b", Type::Bool),
            ]))
        );
        assert_eq!(
            parse_str(r#"["object",{}]"#),
            Ok(Type::object::<String>([]))
        );
        assert_eq!(parse_str(r#"["tuple",[]]"#), Ok(Type::tuple([])));
    }

    #[test]
    fn optional_attribute_names_of_cty_are_ignored() {
        assert_eq!(
            parse_str(r#"["object",{"a":"string","b":"number"},["b"]]"#),
            Ok(Type::object([("a", Type::String), ("b", Type::Number)]))
        );
    }

    #[test]
    fn type_json_is_written_without_optional_attributes() {
        let t = Type::object([
            ("tags", Type::map(Type::String)),
            ("ports", Type::list(Type::Number)),
            ("pair", Type::tuple([Type::Bool, Type::Dynamic])),
        ]);
        let expected = r#"["object",{"pair":["tuple",["bool","dynamic"]],"ports":["list","number"],"tags":["map","string"]}]"#;
        assert_eq!(String::from_utf8_lossy(&t.to_json_bytes()), expected);
        assert_eq!(
            serde_json::to_string(&t.to_json()).ok().as_deref(),
            Some(expected)
        );
    }

    #[test]
    fn malformed_type_json_is_rejected() {
        for bad in [
            "",
            "1",
            "null",
            "\"strin\"",
            "\"any\"",
            "[]",
            "[\"list\"]",
            "[\"list\",\"string\",\"string\"]",
            "[\"set\",\"string\",[]]",
            "[\"object\",[\"a\"]]",
            "[\"object\",{\"a\":\"string\"},\"a\"]",
            "[\"tuple\",{}]",
            "[\"list\",\"nope\"]",
            "[\"frob\",\"string\"]",
            "[1,\"string\"]",
            "{\"list\":\"string\"}",
        ] {
            assert!(parse_str(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn deeply_nested_types_are_rejected_without_overflowing() {
        let nest = |levels: usize| {
            let mut s = String::new();
            for _ in 0..levels {
                s.push_str("[\"list\",");
            }
            s.push_str("\"string\"");
            for _ in 0..levels {
                s.push(']');
            }
            s
        };
        assert!(parse_str(&nest(MAX_DEPTH)).is_ok());
        assert_eq!(
            parse_str(&nest(MAX_DEPTH + 1)),
            Err(TypeError::TooDeep(MAX_DEPTH))
        );
        // Beyond serde_json's own recursion limit.
        assert!(matches!(parse_str(&nest(100_000)), Err(TypeError::Json(_))));
    }

    #[test]
    fn display_uses_terraform_type_syntax() {
        let t = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::tuple([Type::Number, Type::Dynamic])),
        ]);
        assert_eq!(
            t.to_string(),
            "object({a=list(string), b=tuple([number, any])})"
        );
    }
}
