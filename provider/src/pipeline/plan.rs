//! Planning: defaults, derived names, replacement, and the values a reviewer
//! needs to see in the plan (`policy_json`, `source_code_hash`).
//!
//! Planning is pure: the account and region come in through [`PlanEnv`], the
//! source tree is only hashed, and the same inputs always give the same plan,
//! so Terraform's apply-time re-plan matches the saved one.

use std::collections::BTreeMap;
use std::path::Path;

use tfsdk::access::{AccessError, Field, Obj};
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::schema::apply_defaults;
use tfsdk::value::Value;

use tfsdk::provider::Planned;

use super::{naming, policy, source};

/// What planning needs to know about where the pipeline goes.
#[derive(Clone, Debug)]
pub struct PlanEnv {
    pub location: policy::Location,
    pub default_tags: BTreeMap<String, String>,
}

/// Plans a create, update, replace or destroy.
pub fn plan(env: &PlanEnv, prior: &Value, proposed: &Value, config: &Value) -> Planned {
    if proposed.is_null() {
        return Planned {
            state: Value::Null,
            ..Planned::destroy()
        };
    }
    match plan_object(env, prior, proposed, config) {
        Ok(p) => p,
        Err(e) => Planned {
            state: Value::Null,
            requires_replace: Vec::new(),
            diags: Diagnostic::from(e).into(),
        },
    }
}

fn attr(name: &str) -> AttrPath {
    AttrPath::attrs([name])
}

fn string_or_unknown(f: Field<String>) -> Value {
    match f {
        Field::Known(s) => Value::String(s),
        Field::Null => Value::Null,
        Field::Unknown => Value::Unknown,
    }
}

fn plan_object(
    env: &PlanEnv,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> Result<Planned, AccessError> {
    let schema = super::schema::schema();
    let mut state = proposed.clone();
    apply_defaults(&schema.block, config, &mut state);

    let mut diags = Diagnostics::new();
    let cfg = Obj::new(config, AttrPath::root())?.ok_or(AccessError {
        path: AttrPath::root(),
        expected: "a configuration object",
    })?;
    let prior = Obj::new(prior, AttrPath::root())?;

    let name = cfg.string("name")?;

    // Replacement: identity attributes that changed (or may change).
    let mut requires_replace = Vec::new();
    if let Some(prior) = &prior {
        if name != prior.string("name")? {
            requires_replace.push(attr("name"));
        }
        let bucket_cfg = cfg.string("bucket_name")?;
        if !bucket_cfg.is_null() && bucket_cfg != prior.string("bucket_name")? {
            requires_replace.push(attr("bucket_name"));
        }
    }
    let same_identity = prior.is_some() && requires_replace.is_empty();

    let loc = &env.location;
    let bucket = match cfg.string("bucket_name")? {
        Field::Null => match (&prior, same_identity, &name) {
            (Some(prior), true, _) => prior.string("bucket_name")?,
            (_, _, Field::Known(n)) => Field::Known(naming::derived_bucket_name(
                n,
                &loc.partition,
                &loc.account_id,
                &loc.region,
            )),
            _ => Field::Unknown,
        },
        other => other,
    };

    let mut out: Vec<(&str, Value)> = vec![
        ("id", string_or_unknown(name.clone())),
        ("bucket_name", string_or_unknown(bucket.clone())),
        (
            "bucket_arn",
            string_or_unknown(
                bucket
                    .clone()
                    .map(|b| policy::bucket_arn(&loc.partition, &b)),
            ),
        ),
        (
            "s3_permission_id",
            Value::String(naming::PERMISSION_SID.to_owned()),
        ),
        (
            "function_name",
            string_or_unknown(name.clone().map(|n| naming::function_name(&n))),
        ),
        (
            "role_name",
            string_or_unknown(name.clone().map(|n| naming::role_name(&n))),
        ),
        (
            "function_arn",
            string_or_unknown(
                name.clone()
                    .map(|n| policy::function_arn(loc, &naming::function_name(&n))),
            ),
        ),
        (
            "role_arn",
            string_or_unknown(
                name.clone()
                    .map(|n| policy::role_arn(loc, &naming::role_name(&n))),
            ),
        ),
    ];

    // The code hash: computed from the files now, so edits show in the plan.
    let function = cfg.object("function")?;
    let hash = match &function {
        Field::Known(f) => match f.string("source_dir")? {
            Field::Known(dir) => {
                match source::scan(Path::new(&dir)).and_then(|t| source::tree_hash(&t)) {
                    Ok(h) => Value::String(h),
                    Err(e) => {
                        diags.push(
                            Diagnostic::error("Cannot read the function's source", e.to_string())
                                .at(AttrPath::attrs(["function", "source_dir"])),
                        );
                        Value::Unknown
                    }
                }
            }
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    };
    out.push(("source_code_hash", hash));

    // The exact inline policy the role gets.
    let prefixes: Field<Vec<Option<String>>> = match cfg.objects("trigger")? {
        Field::Known(triggers) => {
            let mut all = Vec::with_capacity(triggers.len());
            let mut unknown = false;
            for t in &triggers {
                match t.string("filter_prefix")? {
                    Field::Known(p) => all.push(Some(p)),
                    Field::Null => all.push(None),
                    Field::Unknown => unknown = true,
                }
            }
            if unknown {
                Field::Unknown
            } else {
                Field::Known(all)
            }
        }
        Field::Null => Field::Known(Vec::new()),
        Field::Unknown => Field::Unknown,
    };
    let output_prefix = cfg.string("output_prefix")?;
    let policy_json = match (&bucket, &name, &prefixes, &output_prefix) {
        (Field::Known(b), Field::Known(n), Field::Known(p), out) if !out.is_unknown() => {
            Value::String(policy::inline_policy(
                loc,
                b,
                &naming::function_name(n),
                p,
                out.as_known().map(String::as_str),
            ))
        }
        _ => Value::Unknown,
    };
    out.push(("policy_json", policy_json));

    // Tags: provider defaults under the resource's own.
    let tags_all = match cfg.string_map("tags")? {
        Field::Unknown => Value::Unknown,
        tags => {
            let mut all = env.default_tags.clone();
            all.extend(tags.known().unwrap_or_default());
            Value::Map(
                all.into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            )
        }
    };
    out.push(("tags_all", tags_all));

    if let Value::Object(fields) = &mut state {
        for (k, v) in out {
            fields.insert(k.to_owned(), v);
        }
    }
    Ok(Planned {
        state,
        requires_replace,
        diags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfsdk::value::Number;

    fn env() -> PlanEnv {
        PlanEnv {
            location: policy::Location {
                partition: "aws".into(),
                region: "us-east-1".into(),
                account_id: "123456789012".into(),
            },
            default_tags: BTreeMap::from([("team".to_owned(), "data".to_owned())]),
        }
    }

    /// A config as Terraform sends it: every attribute present, unset ones null.
    fn config(name: &str, dir: &str, bucket: Option<&str>) -> Value {
        let null = || Value::Null;
        Value::object([
            ("id", null()),
            ("name", Value::String(name.into())),
            (
                "bucket_name",
                bucket.map_or(Value::Null, |b| Value::String(b.into())),
            ),
            ("force_destroy", null()),
            ("require_tls", null()),
            ("output_prefix", null()),
            ("tags", null()),
            ("tags_all", null()),
            ("bucket_arn", null()),
            ("role_name", null()),
            ("role_arn", null()),
            ("function_name", null()),
            ("function_arn", null()),
            ("s3_permission_id", null()),
            ("source_code_hash", null()),
            ("policy_json", null()),
            (
                "function",
                Value::object([
                    ("source_dir", Value::String(dir.into())),
                    ("handler", null()),
                    ("runtime", null()),
                    ("memory_size", Value::Number(Number::from(512i64))),
                    ("timeout", null()),
                    ("environment", null()),
                    ("architecture", null()),
                    ("description", null()),
                ]),
            ),
            (
                "trigger",
                Value::List(vec![Value::object([
                    ("events", null()),
                    ("filter_prefix", Value::String("data/".into())),
                    ("filter_suffix", Value::String(".json".into())),
                ])]),
            ),
        ])
    }

    fn source() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.py"), "def handler(e, c):\n    pass\n").unwrap();
        d
    }

    fn attr<'a>(v: &'a Value, name: &str) -> &'a Value {
        v.get_attr(name).unwrap()
    }

    #[test]
    fn create_plans_defaults_names_policy_and_hash() {
        let src = source();
        let cfg = config("orders", src.path().to_str().unwrap(), None);
        let p = plan(&env(), &Value::Null, &cfg, &cfg);
        assert!(!p.diags.has_errors(), "{:?}", p.diags);
        assert!(p.requires_replace.is_empty());
        let s = &p.state;
        assert!(s.is_wholly_known(), "{s:?}");
        let bucket = attr(s, "bucket_name").as_str().unwrap();
        assert!(bucket.starts_with("orders-"), "{bucket}");
        assert_eq!(
            attr(s, "role_arn").as_str(),
            Some("arn:aws:iam::123456789012:role/orders-role")
        );
        let f = attr(s, "function");
        assert_eq!(attr(f, "handler").as_str(), Some("app.handler"));
        assert_eq!(
            attr(f, "memory_size").as_number().and_then(|n| n.as_i64()),
            Some(512)
        );
        assert_eq!(
            attr(f, "timeout").as_number().and_then(|n| n.as_i64()),
            Some(3)
        );
        let policy = attr(s, "policy_json").as_str().unwrap();
        assert!(
            policy.contains(&format!("arn:aws:s3:::{bucket}/data/*")),
            "{policy}"
        );
        assert_eq!(attr(s, "source_code_hash").as_str().unwrap().len(), 64);
        let Value::Map(tags) = attr(s, "tags_all") else {
            panic!()
        };
        assert_eq!(tags.get("team"), Some(&Value::String("data".into())));
        let Value::List(triggers) = attr(s, "trigger") else {
            panic!()
        };
        assert_eq!(
            attr(&triggers[0], "events"),
            &Value::List(vec![Value::String("s3:ObjectCreated:*".into())])
        );
    }

    #[test]
    fn replanning_an_applied_pipeline_changes_nothing() {
        let src = source();
        let cfg = config("orders", src.path().to_str().unwrap(), Some("my-bucket"));
        let first = plan(&env(), &Value::Null, &cfg, &cfg).state;
        // Terraform's proposed state: config values, computed ones from prior.
        let again = plan(&env(), &first, &first, &cfg);
        assert_eq!(again.state, first);
        assert!(again.requires_replace.is_empty());
    }

    #[test]
    fn editing_a_handler_file_changes_only_the_hash() {
        let src = source();
        let cfg = config("orders", src.path().to_str().unwrap(), Some("my-bucket"));
        let first = plan(&env(), &Value::Null, &cfg, &cfg).state;
        std::fs::write(
            src.path().join("app.py"),
            "def handler(e, c):\n    return 2\n",
        )
        .unwrap();
        let second = plan(&env(), &first, &first, &cfg);
        assert!(second.requires_replace.is_empty());
        assert_ne!(
            attr(&second.state, "source_code_hash"),
            attr(&first, "source_code_hash")
        );
    }

    #[test]
    fn renaming_or_moving_the_bucket_forces_replacement() {
        let src = source();
        let dir = src.path().to_str().unwrap().to_owned();
        let cfg = config("orders", &dir, Some("my-bucket"));
        let first = plan(&env(), &Value::Null, &cfg, &cfg).state;
        let renamed = config("orders2", &dir, Some("my-bucket"));
        let p = plan(&env(), &first, &renamed, &renamed);
        assert_eq!(p.requires_replace, vec![AttrPath::attrs(["name"])]);
        let moved = config("orders", &dir, Some("other-bucket"));
        let p = plan(&env(), &first, &moved, &moved);
        assert_eq!(p.requires_replace, vec![AttrPath::attrs(["bucket_name"])]);
    }

    #[test]
    fn unknown_inputs_make_dependent_values_unknown() {
        let src = source();
        let mut cfg = config("orders", src.path().to_str().unwrap(), None);
        if let Value::Object(m) = &mut cfg {
            m.insert("name".into(), Value::Unknown);
        }
        let p = plan(&env(), &Value::Null, &cfg, &cfg);
        assert!(!p.diags.has_errors());
        for a in ["bucket_name", "role_arn", "policy_json", "function_arn"] {
            assert!(attr(&p.state, a).is_unknown(), "{a}");
        }
        assert!(attr(&p.state, "source_code_hash").as_str().is_some());
    }

    #[test]
    fn a_missing_source_dir_is_reported_on_its_attribute() {
        let cfg = config("orders", "/nonexistent/eventpipe-src", None);
        let p = plan(&env(), &Value::Null, &cfg, &cfg);
        let d = p.diags.iter().next().unwrap();
        assert_eq!(d.path, Some(AttrPath::attrs(["function", "source_dir"])));
        assert!(d.detail.contains("does not exist"), "{}", d.detail);
    }
}
