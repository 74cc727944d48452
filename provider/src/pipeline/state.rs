//! The one typed state of a pipeline: every attribute of the schema, read
//! from a Terraform value with [`State::from_value`] and written back with
//! [`State::to_value`]. Attribute names live here ([`attr`]) and in the
//! schema declaration, which uses the same constants; nothing else in
//! `pipeline/` names an attribute.
//!
//! A state comes in two modes:
//! - [`Planning`]: a configuration or a plan, where any value may still be
//!   unknown (taken from another resource) or null (not set);
//! - [`Known`]: a prior, planned-at-apply, refreshed or imported state,
//!   where every value is known and only optional ones may be absent.
//!
//! Both are the same struct, so an attribute is added in one place.

use std::collections::BTreeMap;
use std::fmt::Debug;

use tfsdk::access::{AccessError, Field, Obj};
use tfsdk::diag::AttrPath;
use tfsdk::value::{Number, Value};

use super::parts::{Part, PartSet};

/// Attribute and block names, as users write them.
pub mod attr {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const BUCKET_NAME: &str = "bucket_name";
    pub const FORCE_DESTROY: &str = "force_destroy";
    pub const OUTPUT_PREFIX: &str = "output_prefix";
    pub const REQUIRE_TLS: &str = "require_tls";
    pub const TAGS: &str = "tags";
    pub const TAGS_ALL: &str = "tags_all";
    pub const BUCKET_ARN: &str = "bucket_arn";
    pub const ROLE_NAME: &str = "role_name";
    pub const ROLE_ARN: &str = "role_arn";
    pub const FUNCTION_NAME: &str = "function_name";
    pub const FUNCTION_ARN: &str = "function_arn";
    pub const S3_PERMISSION_ID: &str = "s3_permission_id";
    pub const SOURCE_CODE_HASH: &str = "source_code_hash";
    pub const POLICY_JSON: &str = "policy_json";
    pub const CREATE_BUCKET: &str = "create_bucket";
    pub const NOTIFICATION_IDS: &str = "notification_ids";
    pub const BACKFILL: &str = "backfill";
    pub const BACKFILLED_OBJECTS: &str = "backfilled_objects";

    /// The `function` block and its attributes.
    pub const FUNCTION: &str = "function";
    pub const SOURCE_DIR: &str = "source_dir";
    pub const HANDLER: &str = "handler";
    pub const RUNTIME: &str = "runtime";
    pub const MEMORY_SIZE: &str = "memory_size";
    pub const TIMEOUT: &str = "timeout";
    pub const ENVIRONMENT: &str = "environment";
    pub const ARCHITECTURE: &str = "architecture";
    pub const DESCRIPTION: &str = "description";

    /// The `trigger` blocks and their attributes.
    pub const TRIGGER: &str = "trigger";
    pub const EVENTS: &str = "events";
    pub const FILTER_PREFIX: &str = "filter_prefix";
    pub const FILTER_SUFFIX: &str = "filter_suffix";
}

/// Paths for diagnostics, built from [`attr`] names.
pub mod path {
    use tfsdk::diag::AttrPath;

    use super::attr;

    /// A top-level attribute.
    pub fn top(name: &str) -> AttrPath {
        AttrPath::attrs([name])
    }

    /// An attribute of the `function` block.
    pub fn function(name: &str) -> AttrPath {
        AttrPath::attrs([attr::FUNCTION, name])
    }

    /// The `trigger` block at `index`.
    pub fn trigger(index: usize) -> AttrPath {
        AttrPath::attrs([attr::TRIGGER]).index(index)
    }
}

/// Values a state attribute can hold.
pub trait Val: Clone + Debug + PartialEq + 'static {}
impl<T: Clone + Debug + PartialEq + 'static> Val for T {}

/// How a state holds its values: see the module documentation.
pub trait Mode: Clone + Debug + PartialEq + 'static {
    /// An attribute that has a value (required, defaulted or computed).
    type Set<T: Val>: Val;
    /// An attribute that may be absent (optional, no default).
    type Opt<T: Val>: Val;

    fn set<T: Val>(f: Field<T>, path: AttrPath) -> Result<Self::Set<T>, AccessError>;
    fn opt<T: Val>(f: Field<T>, path: AttrPath) -> Result<Self::Opt<T>, AccessError>;
    fn set_field<T: Val>(v: &Self::Set<T>) -> Field<&T>;
    fn opt_field<T: Val>(v: &Self::Opt<T>) -> Field<&T>;
}

/// Every value known: a state Terraform recorded or will record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known;

/// Values may be unknown or null: a configuration or a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planning;

impl Mode for Known {
    type Set<T: Val> = T;
    type Opt<T: Val> = Option<T>;

    fn set<T: Val>(f: Field<T>, path: AttrPath) -> Result<T, AccessError> {
        tfsdk::access::require(f, path)
    }

    fn opt<T: Val>(f: Field<T>, path: AttrPath) -> Result<Option<T>, AccessError> {
        match f {
            Field::Known(v) => Ok(Some(v)),
            Field::Null => Ok(None),
            Field::Unknown => Err(AccessError {
                path,
                expected: "a known value (it is still unknown)",
            }),
        }
    }

    fn set_field<T: Val>(v: &T) -> Field<&T> {
        Field::Known(v)
    }

    fn opt_field<T: Val>(v: &Option<T>) -> Field<&T> {
        v.as_ref().map_or(Field::Null, Field::Known)
    }
}

impl Mode for Planning {
    type Set<T: Val> = Field<T>;
    type Opt<T: Val> = Field<T>;

    fn set<T: Val>(f: Field<T>, _path: AttrPath) -> Result<Field<T>, AccessError> {
        Ok(f)
    }

    fn opt<T: Val>(f: Field<T>, _path: AttrPath) -> Result<Field<T>, AccessError> {
        Ok(f)
    }

    fn set_field<T: Val>(v: &Field<T>) -> Field<&T> {
        v.as_ref()
    }

    fn opt_field<T: Val>(v: &Field<T>) -> Field<&T> {
        v.as_ref()
    }
}

pub type Tags = BTreeMap<String, String>;

/// A pipeline: every attribute of `eventpipe_event_pipeline`.
#[derive(Clone, Debug, PartialEq)]
pub struct State<M: Mode> {
    pub id: M::Set<String>,
    pub name: M::Set<String>,
    pub bucket_name: M::Set<String>,
    /// `false`: the bucket exists and belongs to someone else; the
    /// pipeline only adds its notifications to it.
    pub create_bucket: M::Set<bool>,
    pub force_destroy: M::Set<bool>,
    pub output_prefix: M::Opt<String>,
    pub require_tls: M::Set<bool>,
    pub tags: M::Opt<Tags>,
    pub tags_all: M::Set<Tags>,
    /// Empty when the bucket went missing (see [`State::mark_missing`]).
    pub bucket_arn: M::Set<String>,
    pub role_name: M::Set<String>,
    /// Empty when the role went missing.
    pub role_arn: M::Set<String>,
    pub function_name: M::Set<String>,
    /// Empty when the function went missing.
    pub function_arn: M::Set<String>,
    /// Empty when the invoke permission went missing.
    pub s3_permission_id: M::Set<String>,
    pub source_code_hash: M::Set<String>,
    /// Empty when the inline policy went missing.
    pub policy_json: M::Set<String>,
    /// The ids of the bucket notification configurations the pipeline
    /// owns, one per trigger.
    pub notification_ids: M::Set<Vec<String>>,
    /// Invoke the function for matching objects already in the bucket when
    /// the pipeline or a trigger is created.
    pub backfill: M::Set<bool>,
    pub backfilled_objects: M::Set<i64>,
    pub function: Function<M>,
    pub trigger: M::Set<Vec<Trigger<M>>>,
}

/// The `function` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Function<M: Mode> {
    pub source_dir: M::Set<String>,
    pub handler: M::Set<String>,
    pub runtime: M::Set<String>,
    pub memory_size: M::Set<i64>,
    pub timeout: M::Set<i64>,
    pub environment: M::Opt<Tags>,
    pub architecture: M::Set<String>,
    pub description: M::Opt<String>,
}

/// One `trigger` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger<M: Mode> {
    pub events: M::Set<Vec<String>>,
    pub filter_prefix: M::Opt<String>,
    pub filter_suffix: M::Opt<String>,
}

// ---- reading and writing values ---------------------------------------------

/// A Rust type an attribute value converts to and from.
trait Attr: Val + Sized {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError>;
    fn write(&self) -> Value;
}

impl Attr for String {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.string(name)
    }
    fn write(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Attr for bool {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.bool(name)
    }
    fn write(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Attr for i64 {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.int(name)
    }
    fn write(&self) -> Value {
        Value::Number(Number::from(*self))
    }
}

impl Attr for Tags {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.string_map(name)
    }
    fn write(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

impl Attr for Vec<String> {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.string_list(name)
    }
    fn write(&self) -> Value {
        Value::List(self.iter().map(|s| Value::String(s.clone())).collect())
    }
}

fn set<M: Mode, T: Attr>(o: &Obj<'_>, name: &str) -> Result<M::Set<T>, AccessError> {
    M::set(T::read(o, name)?, o.path().attr(name))
}

fn opt<M: Mode, T: Attr>(o: &Obj<'_>, name: &str) -> Result<M::Opt<T>, AccessError> {
    M::opt(T::read(o, name)?, o.path().attr(name))
}

fn field_value<T: Attr>(f: Field<&T>) -> Value {
    match f {
        Field::Known(v) => v.write(),
        Field::Null => Value::Null,
        Field::Unknown => Value::Unknown,
    }
}

fn set_value<M: Mode, T: Attr>(v: &M::Set<T>) -> Value {
    field_value(M::set_field::<T>(v))
}

fn opt_value<M: Mode, T: Attr>(v: &M::Opt<T>) -> Value {
    field_value(M::opt_field::<T>(v))
}

fn object<'a>(v: &'a Value, path: AttrPath, what: &'static str) -> Result<Obj<'a>, AccessError> {
    Obj::new(v, path.clone())?.ok_or(AccessError {
        path,
        expected: what,
    })
}

impl<M: Mode> State<M> {
    /// Reads a state, configuration or plan value.
    pub fn from_value(v: &Value) -> Result<State<M>, AccessError> {
        let o = object(v, AttrPath::root(), "a pipeline object")?;
        let f = object(
            o.raw(attr::FUNCTION),
            o.path().attr(attr::FUNCTION),
            "the function block",
        )?;
        let function = Function {
            source_dir: set::<M, _>(&f, attr::SOURCE_DIR)?,
            handler: set::<M, _>(&f, attr::HANDLER)?,
            runtime: set::<M, _>(&f, attr::RUNTIME)?,
            memory_size: set::<M, _>(&f, attr::MEMORY_SIZE)?,
            timeout: set::<M, _>(&f, attr::TIMEOUT)?,
            environment: opt::<M, _>(&f, attr::ENVIRONMENT)?,
            architecture: set::<M, _>(&f, attr::ARCHITECTURE)?,
            description: opt::<M, _>(&f, attr::DESCRIPTION)?,
        };
        let triggers = o.objects(attr::TRIGGER)?.map(|list| {
            list.iter()
                .map(|t| {
                    Ok(Trigger {
                        events: set::<M, _>(t, attr::EVENTS)?,
                        filter_prefix: opt::<M, _>(t, attr::FILTER_PREFIX)?,
                        filter_suffix: opt::<M, _>(t, attr::FILTER_SUFFIX)?,
                    })
                })
                .collect::<Result<Vec<_>, AccessError>>()
        });
        let triggers = match triggers {
            Field::Known(r) => Field::Known(r?),
            Field::Null => Field::Known(Vec::new()),
            Field::Unknown => Field::Unknown,
        };
        Ok(State {
            id: set::<M, _>(&o, attr::ID)?,
            name: set::<M, _>(&o, attr::NAME)?,
            bucket_name: set::<M, _>(&o, attr::BUCKET_NAME)?,
            create_bucket: set::<M, _>(&o, attr::CREATE_BUCKET)?,
            force_destroy: set::<M, _>(&o, attr::FORCE_DESTROY)?,
            output_prefix: opt::<M, _>(&o, attr::OUTPUT_PREFIX)?,
            require_tls: set::<M, _>(&o, attr::REQUIRE_TLS)?,
            tags: opt::<M, _>(&o, attr::TAGS)?,
            tags_all: set::<M, _>(&o, attr::TAGS_ALL)?,
            bucket_arn: set::<M, _>(&o, attr::BUCKET_ARN)?,
            role_name: set::<M, _>(&o, attr::ROLE_NAME)?,
            role_arn: set::<M, _>(&o, attr::ROLE_ARN)?,
            function_name: set::<M, _>(&o, attr::FUNCTION_NAME)?,
            function_arn: set::<M, _>(&o, attr::FUNCTION_ARN)?,
            s3_permission_id: set::<M, _>(&o, attr::S3_PERMISSION_ID)?,
            source_code_hash: set::<M, _>(&o, attr::SOURCE_CODE_HASH)?,
            policy_json: set::<M, _>(&o, attr::POLICY_JSON)?,
            notification_ids: set::<M, _>(&o, attr::NOTIFICATION_IDS)?,
            backfill: set::<M, _>(&o, attr::BACKFILL)?,
            backfilled_objects: set::<M, _>(&o, attr::BACKFILLED_OBJECTS)?,
            function,
            trigger: M::set(triggers, o.path().attr(attr::TRIGGER))?,
        })
    }

    /// The value Terraform receives: every attribute of the schema.
    pub fn to_value(&self) -> Value {
        let f = &self.function;
        let function = Value::object([
            (attr::SOURCE_DIR, set_value::<M, String>(&f.source_dir)),
            (attr::HANDLER, set_value::<M, String>(&f.handler)),
            (attr::RUNTIME, set_value::<M, String>(&f.runtime)),
            (attr::MEMORY_SIZE, set_value::<M, i64>(&f.memory_size)),
            (attr::TIMEOUT, set_value::<M, i64>(&f.timeout)),
            (attr::ENVIRONMENT, opt_value::<M, Tags>(&f.environment)),
            (attr::ARCHITECTURE, set_value::<M, String>(&f.architecture)),
            (attr::DESCRIPTION, opt_value::<M, String>(&f.description)),
        ]);
        let trigger = match M::set_field::<Vec<Trigger<M>>>(&self.trigger) {
            Field::Known(list) => Value::List(
                list.iter()
                    .map(|t| {
                        Value::object([
                            (attr::EVENTS, set_value::<M, Vec<String>>(&t.events)),
                            (
                                attr::FILTER_PREFIX,
                                opt_value::<M, String>(&t.filter_prefix),
                            ),
                            (
                                attr::FILTER_SUFFIX,
                                opt_value::<M, String>(&t.filter_suffix),
                            ),
                        ])
                    })
                    .collect(),
            ),
            Field::Null => Value::Null,
            Field::Unknown => Value::Unknown,
        };
        Value::object([
            (attr::ID, set_value::<M, String>(&self.id)),
            (attr::NAME, set_value::<M, String>(&self.name)),
            (attr::BUCKET_NAME, set_value::<M, String>(&self.bucket_name)),
            (
                attr::CREATE_BUCKET,
                set_value::<M, bool>(&self.create_bucket),
            ),
            (
                attr::FORCE_DESTROY,
                set_value::<M, bool>(&self.force_destroy),
            ),
            (
                attr::OUTPUT_PREFIX,
                opt_value::<M, String>(&self.output_prefix),
            ),
            (attr::REQUIRE_TLS, set_value::<M, bool>(&self.require_tls)),
            (attr::TAGS, opt_value::<M, Tags>(&self.tags)),
            (attr::TAGS_ALL, set_value::<M, Tags>(&self.tags_all)),
            (attr::BUCKET_ARN, set_value::<M, String>(&self.bucket_arn)),
            (attr::ROLE_NAME, set_value::<M, String>(&self.role_name)),
            (attr::ROLE_ARN, set_value::<M, String>(&self.role_arn)),
            (
                attr::FUNCTION_NAME,
                set_value::<M, String>(&self.function_name),
            ),
            (
                attr::FUNCTION_ARN,
                set_value::<M, String>(&self.function_arn),
            ),
            (
                attr::S3_PERMISSION_ID,
                set_value::<M, String>(&self.s3_permission_id),
            ),
            (
                attr::SOURCE_CODE_HASH,
                set_value::<M, String>(&self.source_code_hash),
            ),
            (attr::POLICY_JSON, set_value::<M, String>(&self.policy_json)),
            (
                attr::NOTIFICATION_IDS,
                set_value::<M, Vec<String>>(&self.notification_ids),
            ),
            (attr::BACKFILL, set_value::<M, bool>(&self.backfill)),
            (
                attr::BACKFILLED_OBJECTS,
                set_value::<M, i64>(&self.backfilled_objects),
            ),
            (attr::FUNCTION, function),
            (attr::TRIGGER, trigger),
        ])
    }
}

impl State<Planning> {
    /// The plan as a known state, when nothing in it is unknown any more
    /// (at apply time).
    pub fn known(&self) -> Result<State<Known>, AccessError> {
        State::<Known>::from_value(&self.to_value())
    }
}

// ---- parts in the state -----------------------------------------------------

/// How a part that went missing shows in the state (and so in the next
/// plan, as a change from "" to its identifier): its identifying
/// attribute is empty. [`State::present`] reads this back.
impl State<Known> {
    /// Records that `part` does not exist.
    pub fn mark_missing(&mut self, part: Part) {
        match part {
            Part::Bucket => self.bucket_arn.clear(),
            Part::Role => self.role_arn.clear(),
            Part::Policy => self.policy_json.clear(),
            Part::Function => self.function_arn.clear(),
            Part::Permission => self.s3_permission_id.clear(),
            Part::Notification => {
                self.trigger.clear();
                self.notification_ids.clear();
            }
        }
    }

    /// The parts this state says exist.
    pub fn present(&self) -> PartSet {
        Part::ALL
            .into_iter()
            .filter(|p| match p {
                Part::Bucket => !self.bucket_arn.is_empty(),
                Part::Role => !self.role_arn.is_empty(),
                Part::Policy => !self.policy_json.is_empty(),
                Part::Function => !self.function_arn.is_empty(),
                Part::Permission => !self.s3_permission_id.is_empty(),
                Part::Notification => !self.trigger.is_empty(),
            })
            .collect()
    }

    /// This state with only `parts` recorded as existing.
    pub fn with_only(&self, parts: PartSet) -> State<Known> {
        let mut s = self.clone();
        for p in Part::ALL {
            if !parts.contains(p) {
                s.mark_missing(p);
            }
        }
        s
    }
}

impl Trigger<Planning> {
    /// Events, prefix and suffix when all are known (the default event
    /// filled in, "not set" and "empty" the same).
    pub fn known_filter(&self) -> Option<(Vec<String>, &str, &str)> {
        fn text(f: &Field<String>) -> Option<&str> {
            match f {
                Field::Known(s) => Some(s.as_str()),
                Field::Null => Some(""),
                Field::Unknown => None,
            }
        }
        let events = self.events.as_known()?.clone();
        Some((
            events,
            text(&self.filter_prefix)?,
            text(&self.filter_suffix)?,
        ))
    }
}

impl Trigger<Known> {
    /// The filter prefix, with "not set" and "empty" the same.
    pub fn prefix(&self) -> &str {
        self.filter_prefix.as_deref().unwrap_or("")
    }

    /// The filter suffix, with "not set" and "empty" the same.
    pub fn suffix(&self) -> &str {
        self.filter_suffix.as_deref().unwrap_or("")
    }

    /// Same events and filters, treating an empty prefix or suffix as none.
    pub fn same_as(&self, other: &Trigger<Known>) -> bool {
        self.events == other.events
            && self.prefix() == other.prefix()
            && self.suffix() == other.suffix()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::schema;

    /// A known state of pipeline `name`, as a create would record it.
    pub fn known_state(name: &str) -> State<Known> {
        State {
            id: name.into(),
            name: name.into(),
            bucket_name: format!("{name}-bucket"),
            create_bucket: true,
            force_destroy: false,
            output_prefix: Some("processed/".into()),
            require_tls: true,
            tags: Some(Tags::from([("team".into(), "data".into())])),
            tags_all: Tags::from([("team".into(), "data".into())]),
            bucket_arn: format!("arn:aws:s3:::{name}-bucket"),
            role_name: format!("{name}-role"),
            role_arn: format!("arn:aws:iam::123456789012:role/{name}-role"),
            function_name: name.into(),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
            s3_permission_id: "eventpipe-s3-invoke".into(),
            source_code_hash: "ab".repeat(32),
            policy_json: "{}".into(),
            notification_ids: vec![format!("eventpipe-{name}-0")],
            backfill: false,
            backfilled_objects: 0,
            function: Function {
                source_dir: "/src".into(),
                handler: "app.handler".into(),
                runtime: "python3.12".into(),
                memory_size: 512,
                timeout: 60,
                environment: None,
                architecture: "x86_64".into(),
                description: Some(String::new()),
            },
            trigger: vec![Trigger {
                events: vec!["s3:ObjectCreated:*".into()],
                filter_prefix: Some("data/".into()),
                filter_suffix: None,
            }],
        }
    }

    #[test]
    fn a_known_state_round_trips_and_matches_the_schema_type() {
        let s = known_state("orders");
        let v = s.to_value();
        let ty = schema::schema().value_type();
        assert!(tfsdk::value::encode_msgpack(&v, &ty).is_ok(), "{v:?}");
        assert_eq!(State::<Known>::from_value(&v).unwrap(), s);
        // The same value read for planning gives the same value back.
        assert_eq!(State::<Planning>::from_value(&v).unwrap().to_value(), v);
    }

    #[test]
    fn planning_keeps_unknown_and_null_values() {
        let mut v = known_state("orders").to_value();
        if let Value::Object(m) = &mut v {
            m.insert(attr::NAME.into(), Value::Unknown);
            m.insert(attr::TAGS.into(), Value::Null);
            m.insert(attr::TRIGGER.into(), Value::Unknown);
        }
        let p = State::<Planning>::from_value(&v).unwrap();
        assert!(p.name.is_unknown());
        assert!(p.tags.is_null());
        assert!(p.trigger.is_unknown());
        assert_eq!(p.to_value(), v);
        let err = State::<Known>::from_value(&v).unwrap_err();
        assert_eq!(err.path, AttrPath::attrs([attr::NAME]));
    }

    #[test]
    fn a_missing_part_shows_as_an_empty_identifier_and_reads_back() {
        let mut s = known_state("orders");
        assert_eq!(s.present(), PartSet::all());
        s.mark_missing(Part::Function);
        s.mark_missing(Part::Permission);
        assert!(s.function_arn.is_empty());
        let present = s.present();
        assert!(!present.contains(Part::Function));
        assert!(!present.contains(Part::Permission));
        assert!(present.contains(Part::Bucket));
        let only = known_state("orders").with_only(PartSet::from([Part::Role]));
        assert_eq!(only.present(), PartSet::from([Part::Role]));
    }

    #[test]
    fn every_schema_attribute_has_a_place_in_the_state() {
        // A value with every attribute of the schema set survives the trip
        // through the typed state: no attribute is dropped.
        let ty = schema::schema().value_type();
        let v = known_state("orders").to_value();
        let (Value::Object(fields), tfsdk::value::Type::Object(attrs)) = (&v, &ty) else {
            panic!("objects expected");
        };
        let names: Vec<&String> = fields.keys().collect();
        let schema_names: Vec<&String> = attrs.keys().collect();
        assert_eq!(names, schema_names);
    }
}
