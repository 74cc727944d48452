//! The typed model of a pipeline: what the planned state asks for
//! ([`Spec`]) and what exists ([`Have`]), read from state values.

use std::collections::BTreeMap;

use tfsdk::access::{AccessError, Field, Obj, require};
use tfsdk::diag::AttrPath;
use tfsdk::value::Value;

use super::naming;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    pub source_dir: String,
    pub handler: String,
    pub runtime: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub environment: Option<BTreeMap<String, String>>,
    pub architecture: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerSpec {
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

impl TriggerSpec {
    /// Same filter as `other`, treating an empty prefix or suffix as none.
    pub fn same_as(&self, other: &TriggerSpec) -> bool {
        fn norm(s: &Option<String>) -> &str {
            s.as_deref().unwrap_or("")
        }
        self.events == other.events
            && norm(&self.prefix) == norm(&other.prefix)
            && norm(&self.suffix) == norm(&other.suffix)
    }
}

/// A pipeline as a known state value describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: String,
    pub bucket: String,
    pub bucket_arn: String,
    pub force_destroy: bool,
    pub require_tls: bool,
    pub tags: Option<BTreeMap<String, String>>,
    pub tags_all: BTreeMap<String, String>,
    pub role_name: String,
    pub role_arn: String,
    pub function_name: String,
    pub function_arn: String,
    pub permission_id: String,
    pub source_code_hash: String,
    pub policy_json: String,
    pub function: FunctionSpec,
    pub triggers: Vec<TriggerSpec>,
}

fn int32(f: Field<i64>, path: AttrPath) -> Result<i32, AccessError> {
    let n = require(f, path.clone())?;
    i32::try_from(n).map_err(|_| AccessError {
        path,
        expected: "a number within 32-bit range",
    })
}

impl Spec {
    /// Reads a wholly known state (planned, prior or refreshed).
    pub fn from_value(v: &Value) -> Result<Spec, AccessError> {
        let root = AttrPath::root();
        let o = Obj::new(v, root.clone())?.ok_or(AccessError {
            path: root,
            expected: "a pipeline object",
        })?;
        let p = |n: &str| AttrPath::attrs([n]);
        let s = |n: &str| require(o.string(n)?, p(n));
        let f = require(o.object("function")?, p("function"))?;
        let fp = |n: &str| AttrPath::attrs(["function", n]);
        let function = FunctionSpec {
            source_dir: require(f.string("source_dir")?, fp("source_dir"))?,
            handler: require(f.string("handler")?, fp("handler"))?,
            runtime: require(f.string("runtime")?, fp("runtime"))?,
            memory_mb: int32(f.int("memory_size")?, fp("memory_size"))?,
            timeout_s: int32(f.int("timeout")?, fp("timeout"))?,
            environment: f.string_map("environment")?.known(),
            architecture: require(f.string("architecture")?, fp("architecture"))?,
            description: f.string("description")?.known(),
        };
        let mut triggers = Vec::new();
        for t in o.objects("trigger")?.known().unwrap_or_default() {
            triggers.push(TriggerSpec {
                events: require(t.string_list("events")?, t.path().attr("events"))?,
                prefix: t.string("filter_prefix")?.known(),
                suffix: t.string("filter_suffix")?.known(),
            });
        }
        Ok(Spec {
            name: s("name")?,
            bucket: s("bucket_name")?,
            bucket_arn: s("bucket_arn")?,
            force_destroy: o.bool("force_destroy")?.known().unwrap_or(false),
            require_tls: o.bool("require_tls")?.known().unwrap_or(true),
            tags: o.string_map("tags")?.known(),
            tags_all: o.string_map("tags_all")?.known().unwrap_or_default(),
            role_name: s("role_name")?,
            role_arn: s("role_arn")?,
            function_name: s("function_name")?,
            function_arn: s("function_arn")?,
            permission_id: s("s3_permission_id")?,
            source_code_hash: s("source_code_hash")?,
            policy_json: s("policy_json")?,
            function,
            triggers,
        })
    }

    /// Tags for every part: the user's tags plus the ownership tag that lets
    /// a later run find (and adopt) the parts again.
    pub fn part_tags(&self) -> BTreeMap<String, String> {
        let mut t = self.tags_all.clone();
        t.insert(OWNER_TAG.to_owned(), self.name.clone());
        t
    }

    /// Tags for the function, which also remembers the bucket and the
    /// source so `terraform import` can rebuild the state from AWS.
    pub fn function_tags(&self) -> BTreeMap<String, String> {
        let mut t = self.part_tags();
        t.insert(BUCKET_TAG.to_owned(), self.bucket.clone());
        t.insert(SOURCE_HASH_TAG.to_owned(), self.source_code_hash.clone());
        if self.function.source_dir.chars().count() <= 256 {
            t.insert(SOURCE_DIR_TAG.to_owned(), self.function.source_dir.clone());
        }
        if self.force_destroy {
            t.insert(FORCE_DESTROY_TAG.to_owned(), "true".to_owned());
        }
        t
    }

    pub fn notification_prefix(&self) -> String {
        naming::notification_id_prefix(&self.name)
    }
}

/// Tag keys the provider manages itself; never shown in `tags_all`.
pub const OWNER_TAG: &str = "eventpipe:pipeline";
pub const BUCKET_TAG: &str = "eventpipe:bucket";
pub const SOURCE_HASH_TAG: &str = "eventpipe:source-hash";
pub const SOURCE_DIR_TAG: &str = "eventpipe:source-dir";
/// Present (`true`) when the pipeline may delete a non-empty bucket.
pub const FORCE_DESTROY_TAG: &str = "eventpipe:force-destroy";

pub fn is_internal_tag(key: &str) -> bool {
    key.starts_with("eventpipe:")
}

/// Which parts exist, as far as a known state says: a part recorded with an
/// empty identifier went missing (Read found it gone).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Have {
    pub bucket: bool,
    pub role: bool,
    pub function: bool,
    pub permission: bool,
}

impl Have {
    pub fn nothing() -> Have {
        Have::default()
    }

    pub fn from_spec(s: &Spec) -> Have {
        Have {
            bucket: !s.bucket_arn.is_empty(),
            role: !s.role_arn.is_empty(),
            function: !s.function_arn.is_empty(),
            permission: !s.permission_id.is_empty(),
        }
    }
}

/// Private data kept with the state: what the provider uploaded last, to
/// tell code changed outside Terraform apart from our own.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Private {
    #[serde(default)]
    pub code_sha256: Option<String>,
}

impl Private {
    pub fn from_bytes(b: &[u8]) -> Private {
        serde_json::from_slice(b).unwrap_or_default()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
