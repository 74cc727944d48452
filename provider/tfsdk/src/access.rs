//! Reading typed fields out of object values, keeping track of null and
//! unknown and of the attribute path, so a value of the wrong shape becomes a
//! diagnostic that points at the attribute instead of a panic.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::diag::{AttrPath, Diagnostic};
use crate::value::Value;

/// A configuration or plan value that may be null or not yet known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field<T> {
    Null,
    Unknown,
    Known(T),
}

impl<T> Field<T> {
    pub fn known(self) -> Option<T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(v),
        }
    }

    pub fn as_known(&self) -> Option<&T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(f(v)),
        }
    }
}

/// A value did not have the shape the schema promised.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("`{path}`: expected {expected}")]
pub struct AccessError {
    pub path: AttrPath,
    pub expected: &'static str,
}

impl From<AccessError> for Diagnostic {
    fn from(e: AccessError) -> Self {
        Diagnostic::error(
            "Unexpected value from Terraform",
            format!(
                "The attribute `{}` did not hold {}. This is a bug in the provider or a \
                 mismatch between Terraform and the provider schema; please report it.",
                e.path, e.expected
            ),
        )
        .at(e.path)
    }
}

type Result<T> = std::result::Result<T, AccessError>;

/// A view of an object value with its path.
#[derive(Clone, Debug)]
pub struct Obj<'a> {
    fields: &'a BTreeMap<String, Value>,
    path: AttrPath,
}

impl<'a> Obj<'a> {
    /// Views `value` as an object; `Ok(None)` when it is null.
    pub fn new(value: &'a Value, path: AttrPath) -> Result<Option<Obj<'a>>> {
        match value {
            Value::Object(fields) => Ok(Some(Obj { fields, path })),
            Value::Null => Ok(None),
            _ => Err(AccessError {
                path,
                expected: "an object",
            }),
        }
    }

    pub fn path(&self) -> &AttrPath {
        &self.path
    }

    /// The raw value of an attribute (null when absent).
    pub fn raw(&self, name: &str) -> &'a Value {
        static NULL: Value = Value::Null;
        self.fields.get(name).unwrap_or(&NULL)
    }

    fn err(&self, name: &str, expected: &'static str) -> AccessError {
        AccessError {
            path: self.path.attr(name),
            expected,
        }
    }

    pub fn string(&self, name: &str) -> Result<Field<String>> {
        match self.raw(name) {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            Value::String(s) => Ok(Field::Known(s.clone())),
            _ => Err(self.err(name, "a string")),
        }
    }

    pub fn bool(&self, name: &str) -> Result<Field<bool>> {
        match self.raw(name) {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            Value::Bool(b) => Ok(Field::Known(*b)),
            _ => Err(self.err(name, "a bool")),
        }
    }

    /// A whole number that fits `i64`.
    pub fn int(&self, name: &str) -> Result<Field<i64>> {
        match self.raw(name) {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            Value::Number(n) => n
                .as_i64()
                .map(Field::Known)
                .ok_or_else(|| self.err(name, "a whole number")),
            _ => Err(self.err(name, "a number")),
        }
    }

    /// A map of strings; unknown as a whole if any element is unknown.
    pub fn string_map(&self, name: &str) -> Result<Field<BTreeMap<String, String>>> {
        match self.raw(name) {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            Value::Map(items) => {
                let mut out = BTreeMap::new();
                for (k, v) in items {
                    match v {
                        Value::String(s) => {
                            out.insert(k.clone(), s.clone());
                        }
                        Value::Unknown => return Ok(Field::Unknown),
                        Value::Null => {}
                        _ => return Err(self.err(name, "a map of strings")),
                    }
                }
                Ok(Field::Known(out))
            }
            _ => Err(self.err(name, "a map of strings")),
        }
    }

    /// A list of strings; unknown as a whole if any element is unknown.
    pub fn string_list(&self, name: &str) -> Result<Field<Vec<String>>> {
        match self.raw(name) {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            Value::List(items) | Value::Set(items) => {
                let mut out = Vec::with_capacity(items.len());
                for v in items {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        Value::Unknown => return Ok(Field::Unknown),
                        _ => return Err(self.err(name, "a list of strings")),
                    }
                }
                Ok(Field::Known(out))
            }
            _ => Err(self.err(name, "a list of strings")),
        }
    }

    /// A single nested object (a SINGLE block).
    pub fn object(&self, name: &str) -> Result<Field<Obj<'a>>> {
        let path = self.path.attr(name);
        match self.raw(name) {
            Value::Unknown => Ok(Field::Unknown),
            v => Ok(match Obj::new(v, path)? {
                Some(o) => Field::Known(o),
                None => Field::Null,
            }),
        }
    }

    /// A list of nested objects (a LIST block).
    pub fn objects(&self, name: &str) -> Result<Field<Vec<Obj<'a>>>> {
        let path = self.path.attr(name);
        match self.raw(name) {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match Obj::new(item, path.index(i))? {
                        Some(o) => out.push(o),
                        None => {
                            return Err(AccessError {
                                path: path.index(i),
                                expected: "a block, not null",
                            });
                        }
                    }
                }
                Ok(Field::Known(out))
            }
            _ => Err(AccessError {
                path,
                expected: "a list of blocks",
            }),
        }
    }
}

/// Reads a required, known field, reporting a missing or unknown one.
pub fn require<T>(field: Field<T>, path: AttrPath) -> Result<T> {
    match field {
        Field::Known(v) => Ok(v),
        Field::Null => Err(AccessError {
            path,
            expected: "a value (it is null)",
        }),
        Field::Unknown => Err(AccessError {
            path,
            expected: "a known value (it is still unknown)",
        }),
    }
}
