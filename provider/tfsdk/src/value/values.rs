//! The value tree exchanged with Terraform: configuration, plans and state.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash, Hasher, RandomState};

use super::error::{EncodeError, EncodeErrorKind};
use super::number::Number;
use super::types::Type;

/// A Terraform value. Which variant is valid where is decided by the
/// [`Type`] it is encoded with: `Null` and `Unknown` fit every type, the
/// others only their own.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    /// Not known until apply. Refinements Terraform attaches to unknowns
    /// (TF >= 1.6) are accepted on decode and dropped.
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Unordered: equality ignores order, and the codecs merge equal,
    /// wholly known elements.
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    /// A value in a `dynamic`-typed position, with its concrete type. At such
    /// a position a plain `Null` is an untyped null and a plain `Unknown` a
    /// value of unknown type; `Dynamic(t, Null)` is a null of type `t`.
    Dynamic(Type, Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    pub fn list(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::List(elements.into_iter().collect())
    }

    /// A set; equal wholly known elements are merged.
    pub fn set(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(dedupe(elements))
    }

    pub fn tuple(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Tuple(elements.into_iter().collect())
    }

    /// An object, e.g. `Value::object([("name", "x".into()), ("size", 3.into())])`.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A value for a `dynamic`-typed position.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(ty, Box::new(value))
    }

    /// An object of type `ty` (an object type) with every attribute null.
    pub fn null_object(ty: &Type) -> Option<Value> {
        match ty {
            Type::Object(attributes) => Some(Value::Object(
                attributes
                    .keys()
                    .map(|name| (name.clone(), Value::Null))
                    .collect(),
            )),
            _ => None,
        }
    }

    /// The value itself, or the one inside a `Dynamic` wrapper: accessors
    /// look through the wrapper.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Unknown)
    }

    /// Whether no unknown appears anywhere in the value.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
        }
    }

    /// Attribute `name` of an object.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Object(attributes) => attributes.get(name),
            _ => None,
        }
    }

    /// Attribute `name` of an object, for changing it in place.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attributes) => attributes.get_mut(name),
            Value::Dynamic(_, inner) => inner.get_attr_mut(name),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a map or the attributes of an object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Dynamic(..) => "dynamic",
        }
    }
}

/// Drops elements equal to an earlier one. Only wholly known elements are
/// merged: like Terraform, two unknowns are not known to be equal.
pub(crate) fn dedupe(elements: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let items: Vec<Value> = elements.into_iter().collect();
    if items.len() < 2 {
        return items;
    }
    let keep: Vec<bool> = {
        let mut seen = ValueIndex::default();
        items.iter().map(|item| seen.first_time(item)).collect()
    };
    if keep.iter().all(|k| *k) {
        return items;
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(item, k)| k.then_some(item))
        .collect()
}

/// The elements of a set as they are encoded: later duplicates left out.
pub(crate) fn kept_set_elements(items: &[Value]) -> Vec<&Value> {
    let mut seen = ValueIndex::default();
    items.iter().filter(|item| seen.first_time(item)).collect()
}

/// Values grouped by hash, so that sets of any size are merged and compared
/// in linear time rather than quadratic.
#[derive(Default)]
struct ValueIndex<'a> {
    state: RandomState,
    buckets: HashMap<u64, Vec<&'a Value>>,
}

impl<'a> ValueIndex<'a> {
    fn of(values: &'a [Value]) -> Self {
        let mut index = ValueIndex::default();
        for v in values {
            index.bucket(v).push(v);
        }
        index
    }

    fn bucket(&mut self, v: &Value) -> &mut Vec<&'a Value> {
        self.buckets.entry(self.state.hash_one(v)).or_default()
    }

    fn contains(&self, v: &Value) -> bool {
        self.buckets
            .get(&self.state.hash_one(v))
            .is_some_and(|bucket| bucket.contains(&v))
    }

    /// Records `v`; false if it is wholly known and equal to a value
    /// recorded before.
    fn first_time(&mut self, v: &'a Value) -> bool {
        if !v.is_wholly_known() {
            return true;
        }
        let bucket = self.bucket(v);
        if bucket.contains(&v) {
            return false;
        }
        bucket.push(v);
        true
    }
}

/// Checks that an object value has exactly the attributes of its type.
pub(crate) fn check_attributes(
    attributes: &BTreeMap<String, Value>,
    types: &BTreeMap<String, Type>,
) -> Result<(), EncodeError> {
    if let Some(extra) = attributes.keys().find(|name| !types.contains_key(*name)) {
        return Err(EncodeError::new(EncodeErrorKind::UnexpectedAttribute(
            extra.clone(),
        )));
    }
    if let Some(missing) = types.keys().find(|name| !attributes.contains_key(*name)) {
        return Err(EncodeError::new(EncodeErrorKind::MissingAttribute(
            missing.clone(),
        )));
    }
    Ok(())
}

/// Sets compare as sets: order and repetition do not matter.
fn set_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len().saturating_mul(b.len()) <= 64 {
        return a.iter().all(|x| b.contains(x)) && b.iter().all(|y| a.contains(y));
    }
    let (index_a, index_b) = (ValueIndex::of(a), ValueIndex::of(b));
    a.iter().all(|x| index_b.contains(x)) && b.iter().all(|y| index_a.contains(y))
}

/// Agrees with `==`: equal values hash alike (numbers by their nearest f64,
/// sets by their distinct elements in any order).
impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null | Value::Unknown => {}
            Value::Bool(b) => b.hash(state),
            Value::Number(n) => n.hash(state),
            Value::String(s) => s.hash(state),
            Value::List(items) | Value::Tuple(items) => items.hash(state),
            Value::Set(items) => {
                // Hash each element on its own with fixed keys, then the
                // sorted distinct hashes: independent of order and repeats.
                let mut hashes: Vec<u64> = items
                    .iter()
                    .map(|item| BuildHasherDefault::<DefaultHasher>::default().hash_one(item))
                    .collect();
                hashes.sort_unstable();
                hashes.dedup();
                hashes.hash(state);
            }
            Value::Map(entries) | Value::Object(entries) => entries.hash(state),
            Value::Dynamic(ty, inner) => {
                ty.hash(state);
                inner.hash(state);
            }
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) | (Value::Unknown, Value::Unknown) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => set_eq(a, b),
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Dynamic(ta, va), Value::Dynamic(tb, vb)) => ta == tb && va == vb,
            _ => false,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::from(i))
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Number(Number::from(i))
    }
}

impl From<u64> for Value {
    fn from(u: u64) -> Self {
        Value::Number(Number::from(u))
    }
}

impl From<u32> for Value {
    fn from(u: u32) -> Self {
        Value::Number(Number::from(u))
    }
}

/// `None` becomes null.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_built_from_pairs_and_read_by_attribute() {
        let v = Value::object([
            ("name", Value::from("fn")),
            ("memory", Value::from(128)),
            ("arch", Value::from(None::<&str>)),
            ("on", true.into()),
        ]);
        assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("fn"));
        assert_eq!(
            v.get_attr("memory")
                .and_then(Value::as_number)
                .and_then(Number::as_i64),
            Some(128)
        );
        assert!(v.get_attr("arch").is_some_and(Value::is_null));
        assert_eq!(v.get_attr("on").and_then(Value::as_bool), Some(true));
        assert!(v.get_attr("missing").is_none());
        assert!(Value::from("x").get_attr("name").is_none());
    }

    #[test]
    fn accessors_look_through_dynamic_wrappers() {
        let v = Value::dynamic(Type::String, "x".into());
        assert_eq!(v.as_str(), Some("x"));
        assert!(Value::dynamic(Type::String, Value::Null).is_null());
        assert!(Value::dynamic(Type::String, Value::Unknown).is_unknown());
        assert!(!Value::dynamic(Type::String, Value::Unknown).is_wholly_known());
    }

    #[test]
    fn wholly_known_looks_at_every_level() {
        let v = Value::object([(
            "a",
            Value::list([Value::map([(
                "k",
                Value::tuple([Value::Null, Value::Unknown]),
            )])]),
        )]);
        assert!(!v.is_wholly_known());
        assert!(!v.is_unknown());
        let v = Value::object([("a", Value::list([Value::Null]))]);
        assert!(v.is_wholly_known());
    }

    #[test]
    fn sets_ignore_order_and_repetition() {
        let a = Value::Set(vec!["x".into(), "y".into(), "x".into()]);
        let b = Value::Set(vec!["y".into(), "x".into()]);
        assert_eq!(a, b);
        assert_ne!(a, Value::Set(vec!["x".into()]));
        assert_ne!(a, Value::List(vec!["x".into(), "y".into()]));
        assert_eq!(
            Value::set(["x".into(), "x".into()]),
            Value::Set(vec!["x".into()])
        );
        let Value::Set(items) = Value::set([Value::Unknown, Value::Unknown, 1.into(), 1u64.into()])
        else {
            unreachable!()
        };
        assert_eq!(items.len(), 3, "unknowns are not merged; 1 and 1 are");
    }

    #[test]
    fn big_sets_merge_and_compare_in_linear_time() {
        let n = 50_000;
        let forward: Vec<Value> = (0..n).map(|i| Value::from(format!("item-{i}"))).collect();
        let mut backward = forward.clone();
        backward.reverse();
        backward.extend(forward.iter().cloned());
        let merged = Value::set(backward);
        assert!(matches!(&merged, Value::Set(items) if items.len() == n));
        assert_eq!(merged, Value::Set(forward.clone()));
        let mut other = forward;
        other[n / 2] = "different".into();
        assert_ne!(merged, Value::Set(other));
    }

    #[test]
    fn equal_numbers_in_sets_merge_whatever_their_form() {
        let Value::Set(items) = Value::set([
            Value::Number(Number::Int(1)),
            Value::Number(Number::UInt(1)),
            Value::Number(Number::Float(1.0)),
            Value::Number(Number::parse("1.000").unwrap_or(Number::Int(0))),
            Value::Number(Number::Float(-0.0)),
            Value::Number(Number::Int(0)),
        ]) else {
            unreachable!()
        };
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn lists_and_tuples_compare_in_order() {
        assert_ne!(
            Value::list([1.into(), 2.into()]),
            Value::list([2.into(), 1.into()])
        );
        assert_ne!(Value::list([1.into()]), Value::tuple([1.into()]));
        assert_ne!(
            Value::map([("a", 1.into())]),
            Value::object([("a", 1.into())])
        );
    }

    #[test]
    fn null_object_has_every_attribute() {
        let t = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(
            Value::null_object(&t),
            Some(Value::object([("a", Value::Null), ("b", Value::Null)]))
        );
        assert_eq!(Value::null_object(&Type::String), None);
    }
}
