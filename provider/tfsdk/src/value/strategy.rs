//! Proptest strategies: arbitrary types, and values that conform to them.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

use super::{Decimal, Number, Type, Value};

/// What kind of values to generate.
#[derive(Clone, Copy, Debug)]
pub struct Gen {
    /// Unknowns and infinite floats, which only msgpack can carry.
    pub msgpack_only: bool,
    /// How many dynamic wrappers may nest inside each other.
    pub dynamic_depth: u32,
}

impl Gen {
    /// Anything msgpack can carry.
    pub const MSGPACK: Gen = Gen {
        msgpack_only: true,
        dynamic_depth: 2,
    };
    /// Wholly known values with finite numbers.
    pub const JSON: Gen = Gen {
        msgpack_only: false,
        dynamic_depth: 2,
    };
}

/// Types up to three levels deep, with every kind of type.
pub(super) fn arb_type() -> BoxedStrategy<Type> {
    arb_type_levels(3)
}

fn arb_type_levels(levels: u32) -> BoxedStrategy<Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(levels, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            btree_map(arb_key(), inner.clone(), 0..4).prop_map(Type::Object),
            vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
    .boxed()
}

/// Attribute names and map keys, including ones needing escapes.
fn arb_key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-z_][a-z0-9_]{0,6}",
        1 => vec(any::<char>(), 0..4).prop_map(String::from_iter),
    ]
    .boxed()
}

/// A type together with a value of that type.
pub fn arb_typed_value(g: Gen) -> BoxedStrategy<(Type, Value)> {
    arb_type()
        .prop_flat_map(move |ty| {
            let value = arb_value(&ty, g);
            (Just(ty), value)
        })
        .boxed()
}

/// A value of type `ty`, with nulls (and unknowns, for msgpack) anywhere.
pub fn arb_value(ty: &Type, g: Gen) -> BoxedStrategy<Value> {
    let known = known_value(ty, g);
    if g.msgpack_only {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 7 => known].boxed()
    }
}

fn known_value(ty: &Type, g: Gen) -> BoxedStrategy<Value> {
    match ty {
        Type::String => vec(any::<char>(), 0..8)
            .prop_map(|chars| Value::String(chars.into_iter().collect()))
            .boxed(),
        Type::Number => arb_number(g).prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(element) => vec(arb_value(element, g), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(element) => vec(arb_value(element, g), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(element) => btree_map(arb_key(), arb_value(element, g), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attributes) => attributes
            .iter()
            .map(|(name, t)| {
                let name = name.clone();
                arb_value(t, g).prop_map(move |v| (name.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
            .boxed(),
        Type::Tuple(elements) => elements
            .iter()
            .map(|t| arb_value(t, g))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Dynamic if g.dynamic_depth == 0 => Just(Value::Null).boxed(),
        Type::Dynamic => {
            let inner = Gen {
                dynamic_depth: g.dynamic_depth - 1,
                ..g
            };
            arb_type_levels(2)
                .prop_flat_map(move |t| {
                    arb_value(&t, inner).prop_map(move |v| Value::dynamic(t.clone(), v))
                })
                .boxed()
        }
    }
}

/// Numbers of every form: integers of any size, floats (infinite ones only
/// for msgpack) and decimal text of any shape.
pub(super) fn arb_number(g: Gen) -> BoxedStrategy<Number> {
    let msgpack_only = g.msgpack_only;
    let float = any::<f64>().prop_filter("a float Terraform can represent", move |f| {
        !f.is_nan() && (msgpack_only || f.is_finite())
    });
    // Integers around the boundaries between msgpack's integer formats.
    let edges: Vec<i64> = [
        0,
        1 << 7,
        1 << 8,
        1 << 15,
        1 << 16,
        1 << 31,
        1 << 32,
        1 << 63,
    ]
    .into_iter()
    .flat_map(|p: i128| [p - 1, p, -p - 1, -p, p + 1, -p + 1])
    .chain([-33, -32, -31])
    .filter_map(|i| i64::try_from(i).ok())
    .collect();
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        any::<u64>().prop_map(Number::UInt),
        prop::sample::select(edges).prop_map(Number::Int),
        float.prop_map(Number::Float),
        // Short binary fractions like -2.5, whose exact text is short too.
        (-1000i32..1000, 0..8).prop_map(|(m, e)| Number::Float(f64::from(m) / f64::from(1 << e))),
        "[+-]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][+-]?[0-9]{1,3})?"
            .prop_filter_map("decimal text", |s| Decimal::new(s)
                .ok()
                .map(Number::Decimal)),
    ]
    .boxed()
}
