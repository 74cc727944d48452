//! Checks that need more than one attribute or the file system: everything
//! knowable before apply that would otherwise fail half-way through it.
//! Unknown values are skipped; they are checked again when known.

use tfsdk::access::Field;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};

use super::handler_check::{self, Language, Verdict};
use super::naming::{self, STAGING_PREFIX};
use super::package::Build;
use super::package::cache::Cache;
use super::package::limits;
use super::source::SourceTree;
use super::state::{Function, PACKAGE_IMAGE, Planning, State, Trigger, attr, path};
use super::{defaults, runtimes};

mod bundle;
mod exclude;
mod function;
mod handler;
mod package;
mod triggers;

pub use super::rules::*;
use bundle::*;
use exclude::*;
pub use function::*;
use handler::*;
use package::*;
pub use triggers::*;

fn error(path: AttrPath, summary: &str, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error(summary, detail).at(path)
}

/// All resource-level checks on a (possibly partly unknown) configuration,
/// with its source directory scanned once by the caller (`build`).
pub fn check(cfg: &State<Planning>, build: &Build) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Field::Known(tags) = &cfg.tags {
        for key in tags.keys() {
            if key.starts_with("eventpipe:") || key.to_ascii_lowercase().starts_with("aws:") {
                diags.push(error(
                    path::top(attr::TAGS).key(key),
                    "Reserved tag key",
                    format!(
                        "Tag keys starting with `eventpipe:` are the provider's own and `aws:` \
                         is reserved by AWS; rename {key:?}."
                    ),
                ));
            }
        }
    }
    if cfg.create_bucket == Field::Known(false) {
        if cfg.force_destroy == Field::Known(true) {
            diags.push(error(
                path::top(attr::FORCE_DESTROY),
                "force_destroy with a bucket the pipeline does not manage",
                "With create_bucket = false the bucket is not managed by the pipeline: \
                 destroying the pipeline never deletes it or its objects, so force_destroy \
                 cannot apply. Remove force_destroy, or set create_bucket = true.",
            ));
        }
        if cfg.bucket_name.is_null() {
            diags.push(error(
                path::top(attr::BUCKET_NAME),
                "Missing bucket name",
                "With create_bucket = false the pipeline uses an existing bucket: set \
                 bucket_name to its name.",
            ));
        }
    }
    if let Field::Known(logs) = &cfg.logs
        && logs.format == Field::Known("Text".to_owned())
    {
        for (name, level) in [
            (attr::APPLICATION_LOG_LEVEL, &logs.application_log_level),
            (attr::SYSTEM_LOG_LEVEL, &logs.system_log_level),
        ] {
            if let Field::Known(l) = level {
                diags.push(error(
                    path::logs(name),
                    "Log level needs JSON logs",
                    format!(
                        "Lambda filters log lines by level only for JSON logs; with format = \
                         \"Text\" the level {l:?} would be ignored. Set format = \"JSON\", or \
                         remove {name}."
                    ),
                ));
            }
        }
    }
    if let Field::Known(q) = &cfg.queue {
        if let (Field::Known(b), Field::Known(0)) = (&q.batch_size, &q.maximum_batching_window)
            && *b > 10
        {
            diags.push(error(
                path::queue(attr::BATCH_SIZE),
                "Batch size needs a batching window",
                format!(
                    "Lambda takes more than 10 messages per batch from a queue only with a \
                     batching window: batch_size {b} needs maximum_batching_window of at least 1 \
                     second."
                ),
            ));
        }
        if let (Field::Known(v), Field::Known(t)) = (&q.visibility_timeout, &cfg.function.timeout)
            && v < t
        {
            diags.push(error(
                path::queue(attr::VISIBILITY_TIMEOUT),
                "Visibility timeout below the function's timeout",
                format!(
                    "A message stays hidden for {v} s while the function may run for {t} s: it \
                     would be delivered again while still being processed. Use at least {t} \
                     (the default is 6 × the timeout, {})",
                    t * 6
                ),
            ));
        }
    }
    // Not set is `direct` too (the configuration has no defaults here).
    if let Field::Known(_) = &cfg.queue
        && (cfg.delivery.is_null() || cfg.delivery == Field::Known("direct".to_owned()))
    {
        diags.push(
            Diagnostic::warning(
                "Queue settings without queue delivery",
                "The queue block only applies with delivery = \"queue\"; with direct delivery S3 \
                 invokes the function itself.",
            )
            .at(path::top(attr::QUEUE)),
        );
    }
    check_function(&cfg.function, build, &mut diags);
    check_package_type(&cfg.function, cfg.name.as_ref(), &mut diags);
    let cache = Cache::from_env();
    check_package(cfg, build, cache.as_ref(), &mut diags);
    check_bundle(&cfg.function, build, cache.as_ref(), &mut diags);
    if let Field::Known(triggers) = &cfg.trigger {
        check_triggers(triggers, &cfg.output_prefix, &mut diags);
    }
    diags
}

/// A known optional value (`Some(None)`: null), or `None` while unknown.
fn opt_known<T>(f: &Field<T>) -> Option<Option<&T>> {
    match f {
        Field::Known(v) => Some(Some(v)),
        Field::Null => Some(None),
        Field::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pipeline::source;
    use tfsdk::value::Value;

    #[test]
    fn arns_of_the_china_and_govcloud_partitions_are_accepted() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let region = match partition {
                "aws-cn" => "cn-north-1",
                "aws-us-gov" => "us-gov-west-1",
                _ => "us-east-1",
            };
            let account = "123456789012";
            assert!(
                queue_arn_problem(&format!("arn:{partition}:sqs:{region}:{account}:q")).is_ok()
            );
            assert!(
                layer_arn_problem(&format!(
                    "arn:{partition}:lambda:{region}:{account}:layer:l:1"
                ))
                .is_ok()
            );
            assert!(
                stream_arn_problem(&format!(
                    "arn:{partition}:kinesis:{region}:{account}:stream/s"
                ))
                .is_ok()
            );
        }
        assert!(queue_arn_problem("arn:gcp:sqs:us-east-1:123456789012:q").is_err());
    }

    /// The checks on a configuration value whose source is not known yet.
    fn check(v: &Value) -> Diagnostics {
        let cfg = State::<Planning>::from_value(v).expect("a configuration");
        super::check(&cfg, &Build::of(&cfg.function))
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my-bucket.data", "a1b", &"a".repeat(63)] {
            assert!(bucket_name_problem(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "sthree-x",
            "under_score",
        ] {
            assert!(bucket_name_problem(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlapping_filters() {
        assert!(filters_overlap(("data/", ".json"), ("data/", ".json")));
        assert!(filters_overlap(("data/", ""), ("data/x/", ".json")));
        assert!(filters_overlap(("", ".json"), ("in/", "")));
        assert!(!filters_overlap(("data/", ".json"), ("csv/", ".json")));
        assert!(!filters_overlap(("data/", ".json"), ("data/", ".csv")));
    }

    #[test]
    fn overlapping_events() {
        assert!(events_overlap("s3:ObjectCreated:*", "s3:ObjectCreated:Put"));
        assert!(events_overlap(
            "s3:ObjectCreated:Put",
            "s3:ObjectCreated:Put"
        ));
        assert!(!events_overlap(
            "s3:ObjectCreated:Put",
            "s3:ObjectCreated:Post"
        ));
        assert!(!events_overlap("s3:ObjectCreated:*", "s3:ObjectRemoved:*"));
    }

    #[test]
    fn names_must_fit_every_derived_name() {
        assert!(name_problem(&"a".repeat(MAX_NAME_LEN)).is_ok());
        assert!(name_problem("Orders_ingest-2").is_ok());
        assert!(name_problem(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(name_problem("has space").unwrap_err().contains("' '"));
        assert!(name_problem("").is_err());
    }

    #[test]
    fn handlers_must_name_an_existing_module() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "def handler(e, c):\n    pass\n").unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/mod.py"), "handler = print\n").unwrap();
        std::fs::write(dir.path().join("index.mjs"), "export const handler = 1;\n").unwrap();
        let tree = source::scan(dir.path()).unwrap();
        let run = |h: &str, rt: &str| {
            let mut d = Diagnostics::new();
            check_handler(h, rt, Some(&tree), &mut d);
            d
        };
        assert!(run("app.handler", "python3.13").is_empty());
        assert!(run("pkg.mod.handler", "python3.13").is_empty());
        assert!(run("index.handler", "nodejs22.x").is_empty());
        assert!(run("main.handler", "python3.13").has_errors());
        assert!(run(attr::HANDLER, "python3.13").has_errors());
        assert!(run("app.", "python3.13").has_errors());
        assert!(run("anything", "java21").is_empty());
        // The module must define the function, and a file name is not a
        // handler.
        let d = run("app.process", "python3.13");
        assert!(d.has_errors(), "{d:?}");
        assert!(
            d.0[0]
                .detail
                .contains("app.py has no top-level `process`, so Lambda would fail"),
            "{d:?}"
        );
        assert!(
            d.0[0]
                .detail
                .contains("The functions it defines at top level: `handler`.")
        );
        let d = run("app.py", "python3.13");
        assert!(
            d.0[0].detail.contains("Did you mean \"app.handler\"?"),
            "{d:?}"
        );
        let d = run("index.mjs", "nodejs22.x");
        assert!(
            d.0[0].detail.contains("Did you mean \"index.handler\"?"),
            "{d:?}"
        );
        let d = run("index.process", "nodejs22.x");
        assert!(
            d.0[0]
                .detail
                .contains("index.mjs does not export `process`"),
            "{d:?}"
        );
    }

    #[test]
    fn a_python_project_handler_may_live_in_its_src_package() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("src/mypkg")).unwrap();
        std::fs::write(p.join("src/mypkg/__init__.py"), "").unwrap();
        std::fs::write(p.join("src/mypkg/app.py"), "def handler(e, c):\n    pass\n").unwrap();
        let run = |h: &str| {
            let tree = source::scan(p).unwrap();
            let mut d = Diagnostics::new();
            check_handler(h, "python3.13", Some(&tree), &mut d);
            d
        };
        // Without pyproject.toml, src/ is an ordinary folder.
        assert!(run("mypkg.app.handler").has_errors());
        assert!(run("src.mypkg.app.handler").is_empty());
        std::fs::write(p.join("pyproject.toml"), "[project]\nname = \"mypkg\"\n").unwrap();
        assert!(run("mypkg.app.handler").is_empty());
        // The module is read: a missing function is still an error.
        let d = run("mypkg.app.process");
        assert!(d.has_errors(), "{d:?}");
        assert!(run("mypkg.other.handler").has_errors());
    }

    #[test]
    fn the_image_block_needs_package_type_image_and_an_image_takes_no_layers() {
        let image = || {
            Value::object([
                (attr::KEEP_IMAGES, Value::from(3i64)),
                (attr::REPOSITORY_NAME, Value::from("team/p")),
            ])
        };
        let d = check(&config(
            vec![
                (attr::PACKAGE_TYPE, Value::from("zip")),
                (attr::IMAGE, image()),
            ],
            vec![trigger("in/")],
            vec![],
        ));
        let refused = d
            .iter()
            .find(|d| d.summary == "image block without package_type = \"image\"")
            .unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(refused.path, Some(path::function(attr::IMAGE)), "{d:?}");
        let layer = "arn:aws:lambda:us-east-1:123456789012:layer:l:1";
        let d = check(&config(
            vec![
                (attr::PACKAGE_TYPE, Value::from(PACKAGE_IMAGE)),
                (attr::IMAGE, image()),
                (attr::LAYERS, Value::List(vec![Value::from(layer)])),
            ],
            vec![trigger("in/")],
            vec![],
        ));
        assert_eq!(errors(&d), ["Layers with a container image"], "{d:?}");
        let d = check(&config(
            vec![
                (attr::PACKAGE_TYPE, Value::from(PACKAGE_IMAGE)),
                (attr::IMAGE, image()),
            ],
            vec![trigger("in/")],
            vec![],
        ));
        assert!(errors(&d).is_empty(), "{d:?}");
        // The pipeline `p` cannot name a repository (ECR wants 2 characters)
        // unless the image block names one.
        let d = check(&config(
            vec![(attr::PACKAGE_TYPE, Value::from(PACKAGE_IMAGE))],
            vec![trigger("in/")],
            vec![],
        ));
        let refused = d
            .iter()
            .find(|d| d.summary == "The pipeline's name cannot name its image repository")
            .unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(refused.path, Some(path::top(attr::NAME)), "{d:?}");
        assert!(refused.detail.contains(attr::REPOSITORY_NAME), "{d:?}");
    }

    fn config(
        function: Vec<(&'static str, Value)>,
        triggers: Vec<Value>,
        extra: Vec<(&'static str, Value)>,
    ) -> Value {
        // The source is checked elsewhere; unknown skips it here.
        let mut f = vec![(attr::SOURCE_DIR, Value::Unknown)];
        f.extend(function);
        let mut top = vec![
            (attr::NAME, Value::from("p")),
            (attr::FUNCTION, Value::object(f)),
            (attr::TRIGGER, Value::List(triggers)),
        ];
        top.extend(extra);
        Value::object(top)
    }

    fn trigger(prefix: &str) -> Value {
        Value::object([
            (
                attr::EVENTS,
                Value::List(vec![Value::from("s3:ObjectCreated:*")]),
            ),
            (attr::FILTER_PREFIX, Value::from(prefix)),
            (attr::FILTER_SUFFIX, Value::Null),
        ])
    }

    fn env(vars: &[(&str, String)]) -> Value {
        Value::map(vars.iter().map(|(k, v)| (*k, Value::from(v.as_str()))))
    }

    fn errors(d: &Diagnostics) -> Vec<String> {
        d.iter()
            .filter(|d| d.is_error())
            .map(|d| d.summary.clone())
            .collect()
    }

    /// A configuration with a known source directory and `runtime`, for the
    /// package's checks (no cache: nothing installed yet).
    fn package_checks(
        dir: &std::path::Path,
        extra_fn: Vec<(&'static str, Value)>,
        top: Vec<(&'static str, Value)>,
        prefix: Option<&str>,
    ) -> Diagnostics {
        let mut f = vec![
            (attr::SOURCE_DIR, Value::from(dir.to_str().unwrap())),
            (attr::RUNTIME, Value::from("python3.12")),
            (attr::ARCHITECTURE, Value::from("x86_64")),
            (attr::HANDLER, Value::from("app.handler")),
        ];
        f.extend(extra_fn);
        let t = Value::object([
            (
                attr::EVENTS,
                Value::List(vec![Value::from("s3:ObjectCreated:*")]),
            ),
            (attr::FILTER_PREFIX, prefix.map_or(Value::Null, Value::from)),
            (attr::FILTER_SUFFIX, Value::Null),
        ]);
        let mut o = vec![
            (attr::NAME, Value::from("p")),
            (attr::FUNCTION, Value::object(f)),
            (attr::TRIGGER, Value::List(vec![t])),
        ];
        o.extend(top);
        let cfg = State::<Planning>::from_value(&Value::object(o)).expect("a configuration");
        let build = Build::of(&cfg.function);
        let mut diags = Diagnostics::new();
        check_package(&cfg, &build, None, &mut diags);
        diags
    }

    #[test]
    fn the_package_checks_dependencies_and_where_it_may_be_staged() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.py"), "x").unwrap();
        // No dependencies, a small source: nothing to say.
        let none = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(false))],
            None,
        );
        assert!(none.is_empty(), "{none:?}");
        std::fs::write(d.path().join("requirements.txt"), "six\n").unwrap();
        let d1 = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(false))],
            Some("in/"),
        );
        let summaries: Vec<_> = d1.iter().map(|x| x.summary.as_str()).collect();
        assert!(
            summaries.contains(&"Unpinned requirements"),
            "{summaries:?}"
        );
        assert!(
            summaries.contains(&"Missing package bucket"),
            "{summaries:?}"
        );
        let bucket_set = package_checks(
            d.path(),
            vec![(attr::PACKAGE_BUCKET, Value::from("packages"))],
            vec![(attr::CREATE_BUCKET, Value::Bool(false))],
            Some("in/"),
        );
        assert!(
            !bucket_set
                .iter()
                .any(|x| x.summary == "Missing package bucket")
        );
        // Its own bucket: a trigger on every key would see the staged zip.
        let own = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(true))],
            None,
        );
        assert!(
            own.iter()
                .any(|x| x.summary == "Trigger matches staged packages"),
            "{own:?}"
        );
        let prefixed = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(true))],
            Some("in/"),
        );
        assert!(
            !prefixed
                .iter()
                .any(|x| x.summary == "Trigger matches staged packages")
        );
    }

    #[test]
    fn an_image_is_never_staged_in_s3() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.py"), "x").unwrap();
        std::fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let image = vec![(attr::PACKAGE_TYPE, Value::from(PACKAGE_IMAGE))];
        for (top, prefix) in [
            (vec![(attr::CREATE_BUCKET, Value::Bool(false))], Some("in/")),
            (vec![(attr::CREATE_BUCKET, Value::Bool(true))], None),
        ] {
            let d1 = package_checks(d.path(), image.clone(), top.clone(), prefix);
            assert!(
                !d1.iter().any(|x| x.summary == "Missing package bucket"
                    || x.summary == "Trigger matches staged packages"),
                "{d1:?}"
            );
            // The same as a zip is staged.
            let zip = package_checks(d.path(), vec![], top, prefix);
            assert!(zip.has_errors(), "{zip:?}");
        }
    }

    #[test]
    fn staged_keys_and_trigger_filters() {
        assert!(matches_staging(None, None));
        assert!(matches_staging(Some(".eventpipe/"), Some(".zip")));
        assert!(matches_staging(Some(""), Some("zip")));
        assert!(!matches_staging(Some("data/"), None));
        assert!(!matches_staging(None, Some(".json")));
        let d = check(&config(
            vec![],
            vec![trigger(".eventpipe/packages/x/")],
            vec![],
        ));
        assert!(
            errors(&d).contains(&"Trigger matches the reserved prefix".to_owned()),
            "{d:?}"
        );
        let d = check(&config(vec![], vec![trigger(".event")], vec![]));
        assert!(
            errors(&d).contains(&"Trigger matches the reserved prefix".to_owned()),
            "{d:?}"
        );
        let d = check(&config(vec![], vec![trigger(".eventpipe-not/")], vec![]));
        assert!(
            !errors(&d).contains(&"Trigger matches the reserved prefix".to_owned()),
            "{d:?}"
        );
    }

    #[test]
    fn the_environment_may_fill_exactly_lambdas_limit() {
        // "BIG" plus the value: 4096 bytes in all is allowed, one more is not.
        let fits = env(&[("BIG", "x".repeat(MAX_ENV_BYTES - 3))]);
        let over = env(&[("BIG", "x".repeat(MAX_ENV_BYTES - 2))]);
        let ok = check(&config(
            vec![(attr::ENVIRONMENT, fits)],
            vec![trigger("in/")],
            vec![],
        ));
        assert!(errors(&ok).is_empty(), "{ok:?}");
        let bad = check(&config(
            vec![(attr::ENVIRONMENT, over)],
            vec![trigger("in/")],
            vec![],
        ));
        assert_eq!(errors(&bad), ["Environment too large"]);
    }

    #[test]
    fn reserved_and_malformed_environment_names_are_refused() {
        let vars = env(&[
            ("AWS_REGION", "x".into()),
            ("9LIVES", "x".into()),
            ("OK_NAME", "x".into()),
        ]);
        let d = check(&config(
            vec![(attr::ENVIRONMENT, vars)],
            vec![trigger("in/")],
            vec![],
        ));
        let mut e = errors(&d);
        e.sort();
        assert_eq!(
            e,
            [
                "Invalid environment variable name",
                "Reserved environment variable"
            ]
        );
    }

    #[test]
    fn an_output_prefix_a_trigger_matches_is_refused_and_a_disjoint_one_is_not() {
        let out = |p: &str| vec![(attr::OUTPUT_PREFIX, Value::from(p))];
        let looping = check(&config(
            vec![],
            vec![trigger("data/")],
            out("data/results/"),
        ));
        assert_eq!(errors(&looping), ["Output would re-trigger the function"]);
        let wider = check(&config(vec![], vec![trigger("data/in/")], out("data/")));
        assert_eq!(errors(&wider), ["Output would re-trigger the function"]);
        let fine = check(&config(vec![], vec![trigger("data/")], out("processed/")));
        assert!(errors(&fine).is_empty(), "{fine:?}");
    }

    #[test]
    fn unknown_values_are_skipped_until_known() {
        let d = check(&config(
            vec![
                (attr::ENVIRONMENT, Value::Unknown),
                (attr::HANDLER, Value::Unknown),
            ],
            vec![Value::object([
                (attr::EVENTS, Value::Unknown),
                (attr::FILTER_PREFIX, Value::Unknown),
                (attr::FILTER_SUFFIX, Value::Null),
            ])],
            vec![
                (attr::OUTPUT_PREFIX, Value::Unknown),
                (attr::TAGS, Value::Unknown),
            ],
        ));
        assert!(errors(&d).is_empty(), "{d:?}");
    }

    #[test]
    fn a_queue_block_without_queue_delivery_is_pointed_out() {
        let queue = || {
            (
                attr::QUEUE,
                Value::object([(attr::BATCH_SIZE, Value::from(5i64))]),
            )
        };
        let warned = |extra: Vec<(&'static str, Value)>| {
            check(&config(vec![], vec![trigger("in/")], extra))
                .iter()
                .any(|d| d.summary == "Queue settings without queue delivery")
        };
        // `delivery` not set is `direct`, its default.
        assert!(warned(vec![queue()]));
        assert!(warned(vec![
            queue(),
            (attr::DELIVERY, Value::from("direct"))
        ]));
        assert!(!warned(vec![
            queue(),
            (attr::DELIVERY, Value::from("queue"))
        ]));
        assert!(!warned(vec![queue(), (attr::DELIVERY, Value::Unknown)]));
        assert!(!warned(vec![(attr::DELIVERY, Value::from("direct"))]));
    }

    #[test]
    fn reserved_tag_keys_are_refused() {
        let tags = Value::map([
            ("eventpipe:x", Value::from("1")),
            ("AWS:y", Value::from("2")),
            ("team", Value::from("3")),
        ]);
        let d = check(&config(
            vec![],
            vec![trigger("in/")],
            vec![(attr::TAGS, tags)],
        ));
        assert_eq!(errors(&d), ["Reserved tag key", "Reserved tag key"]);
    }
}
