//! The summary of hand-written plans shaped like Terraform's, and hostile
//! input.

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use super::render::{Format, render};
use super::sections::{PipelineAction, Risk, Shown};
use super::*;
use crate::pipeline::runtimes::Day;

const SECRET: &str = "hunter2-very-secret";

fn opts() -> Options<'static> {
    Options {
        today: Day::new(2026, 12, 1),
        expect_kms_keys: &[],
    }
}

fn policy(prefixes: &[&str]) -> String {
    let res: Vec<String> = prefixes
        .iter()
        .map(|p| format!("arn:aws:s3:::bkt/{p}*"))
        .collect();
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadTriggeringObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": res},
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/p"]}
    ]})
    .to_string()
}

fn trigger(prefix: &str) -> Json {
    json!({"events": ["s3:ObjectCreated:*"], "filter_prefix": prefix, "filter_suffix": null})
}

fn pipeline(name: &str, memory: u64, prefixes: &[&str], files: Json, hash: &str) -> Json {
    json!({
        "id": name, "name": name, "bucket_name": "bkt", "create_bucket": true,
        "force_destroy": true, "require_tls": true, "output_prefix": null,
        "policy_json": policy(prefixes), "source_code_hash": hash,
        "source_files": files, "source_file_count": 2,
        "delivery": "direct", "stream": null, "queue": null, "on_failure": null, "logs": null,
        "function": {
            "source_dir": "./src", "handler": "main.handler", "runtime": "python3.12",
            "memory_size": memory, "timeout": 30, "environment": {"API_KEY": SECRET},
            "architecture": "x86_64", "description": null, "reserved_concurrency": null,
            "ephemeral_storage": 512, "layers": null
        },
        "trigger": prefixes.iter().map(|p| trigger(p)).collect::<Vec<_>>(),
    })
}

fn sensitive() -> Json {
    json!({"function": {"environment": true}})
}

fn plan(version: &str, changes: Json) -> Vec<u8> {
    json!({
        "format_version": "1.2", "terraform_version": version,
        "planned_values": {}, "resource_changes": changes
    })
    .to_string()
    .into_bytes()
}

fn change(address: &str, actions: &[&str], before: Json, after: Json, extra: Json) -> Json {
    let mut ch = json!({
        "actions": actions, "before": before, "after": after,
        "after_unknown": {}, "before_sensitive": sensitive(), "after_sensitive": sensitive()
    });
    if let (Json::Object(c), Json::Object(e)) = (&mut ch, extra) {
        c.extend(e);
    }
    json!({
        "address": address, "mode": "managed", "type": "eventpipe_event_pipeline",
        "name": "p", "change": ch
    })
}

fn update_plan() -> Vec<u8> {
    let before = pipeline(
        "p",
        512,
        &["data/"],
        json!({"main.py": "aaaaaaaaaaaa", "lib.py": "bbbbbbbbbbbb"}),
        "oldhash",
    );
    let after = pipeline(
        "p",
        1024,
        &["incoming/", "logs/"],
        json!({"main.py": "cccccccccccc", "lib.py": "bbbbbbbbbbbb"}),
        "newhash",
    );
    plan(
        "1.11.4",
        json!([change(
            "module.m.eventpipe_event_pipeline.p",
            &["update"],
            before,
            after,
            json!({})
        )]),
    )
}

#[test]
fn an_update_names_its_iam_code_trigger_and_setting_changes() {
    let s = summarize(&update_plan(), opts()).unwrap();
    let p = &s.pipelines[0];
    assert_eq!(p.address, "module.m.eventpipe_event_pipeline.p");
    assert_eq!(p.action, PipelineAction::Update);
    assert!(s.iam_change() && s.iam_widening());
    assert!(!s.replace() && !s.delete());
    let code = p.code.as_ref().unwrap();
    assert_eq!(code.files.len(), 1);
    assert_eq!(code.files[0].path, "main.py");
    assert_eq!(p.triggers.len(), 2);
    assert_eq!(p.settings.len(), 1);
    assert_eq!(p.settings[0].name, "function.memory_size");
    assert_eq!(p.settings[0].old, Shown::Value("512".into()));
    assert_eq!(p.settings[0].new, Shown::Value("1024".into()));
    let md = render(&s, Format::Markdown);
    if std::env::var_os("SHOW").is_some() {
        println!("{md}\n-----\n{}", render(&s, Format::Text));
    }
    for want in [
        "### `module.m.eventpipe_event_pipeline.p` (`p`): update in place",
        "resource removed `arn:aws:s3:::bkt/data/*`",
        "resource added `arn:aws:s3:::bkt/incoming/*`",
        "| `function.memory_size` | `512` | `1024` |",
        "modified `main.py`",
        "trigger 1 changed: events `s3:ObjectCreated:*`; prefix `data/` → `incoming/`",
        "trigger 2 added: events `s3:ObjectCreated:*`; prefix `logs/`",
    ] {
        assert!(md.contains(want), "{want:?} not in\n{md}");
    }
    assert!(!md.contains("lib.py"), "{md}");
    for f in [Format::Markdown, Format::Text] {
        assert!(!render(&s, f).contains(SECRET));
    }
}

#[test]
fn a_secret_in_any_sensitive_setting_is_never_printed() {
    let mut before = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut after = before.clone();
    before["function"]["description"] = json!("old secret");
    after["function"]["description"] = json!(SECRET);
    after["tags"] = json!({"owner": SECRET});
    let ch = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        before,
        after,
        json!({
            "before_sensitive": {"function": {"environment": true, "description": true}},
            "after_sensitive": {"function": {"environment": true, "description": true}, "tags": true}
        }),
    );
    let s = summarize(&plan("1.11.4", json!([ch])), opts()).unwrap();
    let names: Vec<&str> = s.pipelines[0]
        .settings
        .iter()
        .map(|x| x.name.as_str())
        .collect();
    assert_eq!(names, ["function.description", "tags"]);
    for f in [Format::Markdown, Format::Text] {
        let out = render(&s, f);
        assert!(
            !out.contains(SECRET) && !out.contains("old secret"),
            "{out}"
        );
        assert!(out.contains("(sensitive)"));
    }
}

#[test]
fn a_rename_is_a_replacement_forced_by_name_on_both_plan_formats() {
    let mut before = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut after = pipeline("q", 512, &["data/"], json!({}), "h");
    // Names derived from `name` change with it; only `name` forces.
    before["function_name"] = json!("p");
    before["role_name"] = json!("p-role");
    before["function_arn"] = json!("arn:aws:lambda:us-east-1:123456789012:function:p");
    after["function_name"] = json!("q");
    after["role_name"] = json!("q-role");
    // 1.1+: the plan names the path.
    let new = change(
        "eventpipe_event_pipeline.p",
        &["delete", "create"],
        before.clone(),
        after.clone(),
        json!({"replace_paths": [["name"]]}),
    );
    // 1.0: it does not; the schema's force-new attributes tell.
    let old = change(
        "eventpipe_event_pipeline.p",
        &["delete", "create"],
        before,
        after,
        json!({}),
    );
    for (v, c) in [("1.11.4", new), ("1.0.3", old)] {
        let s = summarize(&plan(v, json!([c])), opts()).unwrap();
        assert_eq!(
            s.pipelines[0].action,
            PipelineAction::Replace {
                forced_by: vec!["name".into()],
                requested: false
            },
            "{v}"
        );
        assert!(s.replace());
        let md = render(&s, Format::Markdown);
        assert!(md.contains("replace (forced by `name`)"), "{md}");
        // The old bucket goes with its objects.
        assert!(s.pipelines[0].risks.contains(&Risk::BucketDeleted {
            bucket: "bkt".into(),
            force_destroy: true
        }));
    }
}

/// A new `name` is taken in place unless a part takes its name from it;
/// beside a changed `function_name`, which forces, it is not named.
#[test]
fn on_1_0_a_changed_name_that_is_set_forces_too() {
    let mut before = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut after = pipeline("q", 512, &["data/"], json!({}), "h");
    before["function_name"] = json!("p");
    after["function_name"] = json!("custom");
    let c = change(
        "eventpipe_event_pipeline.p",
        &["delete", "create"],
        before,
        after,
        json!({}),
    );
    let s = summarize(&plan("1.0.3", json!([c])), opts()).unwrap();
    assert_eq!(
        s.pipelines[0].action,
        PipelineAction::Replace {
            forced_by: vec!["function_name".into()],
            requested: false
        }
    );
}

#[test]
fn a_delete_with_force_destroy_is_flagged() {
    let before = pipeline("p", 512, &["data/"], json!({}), "h");
    let c = change(
        "eventpipe_event_pipeline.p",
        &["delete"],
        before,
        Json::Null,
        json!({"after_sensitive": false}),
    );
    let s = summarize(&plan("1.11.4", json!([c])), opts()).unwrap();
    assert!(s.delete() && s.risk());
    let md = render(&s, Format::Markdown);
    assert!(
        md.contains("force_destroy = true deletes every object"),
        "{md}"
    );
}

#[test]
fn risky_settings_are_flagged() {
    let before = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut after = before.clone();
    after["require_tls"] = json!(false);
    after["create_bucket"] = json!(false);
    after["trigger"] = json!([trigger("")]);
    after["function"]["runtime"] = json!("python3.9");
    let c = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        before,
        after,
        json!({}),
    );
    let s = summarize(&plan("1.11.4", json!([c])), opts()).unwrap();
    let r = &s.pipelines[0].risks;
    assert!(r.contains(&Risk::TlsOff), "{r:?}");
    assert!(r.contains(&Risk::BucketNotManaged {
        bucket: "bkt".into()
    }));
    assert!(r.contains(&Risk::TriggerMatchesEverything { index: 0 }));
    assert!(r.iter().any(|x| matches!(x, Risk::Runtime { .. })), "{r:?}");
}

#[test]
fn imports_adoptions_and_other_resources() {
    let p = pipeline("p", 512, &["data/"], json!({}), "h");
    let imp = change(
        "eventpipe_event_pipeline.a",
        &["no-op"],
        p.clone(),
        p.clone(),
        json!({"importing": {"id": "p"}}),
    );
    let adopt = change(
        "eventpipe_event_pipeline.b",
        &["update"],
        p.clone(),
        p.clone(),
        json!({"importing": {"id": "adopt:fn"}}),
    );
    let same = change(
        "eventpipe_event_pipeline.c",
        &["no-op"],
        p.clone(),
        p,
        json!({}),
    );
    let other = json!({"address": "random_pet.x", "mode": "managed", "type": "random_pet", "name": "x",
        "change": {"actions": ["create"], "before": null, "after": {}}});
    let data = json!({"address": "data.x.y", "mode": "data", "type": "x", "name": "y",
        "change": {"actions": ["read"], "before": null, "after": {}}});
    let s = summarize(
        &plan("1.11.4", json!([imp, adopt, same, other, data])),
        opts(),
    )
    .unwrap();
    assert_eq!(s.pipelines.len(), 2);
    assert_eq!(s.unchanged_pipelines, 1);
    assert!(matches!(
        s.pipelines[0].action,
        PipelineAction::Import { .. }
    ));
    assert!(matches!(
        s.pipelines[1].action,
        PipelineAction::Adopt { .. }
    ));
    let md = render(&s, Format::Markdown);
    assert!(
        md.contains("Other resources: 1 (1 to create) of type `random_pet`."),
        "{md}"
    );
    assert!(
        md.contains("import `p`") && md.contains("adopt `adopt:fn`, then update in place"),
        "{md}"
    );
}

#[test]
fn values_known_after_apply_are_said_so() {
    let before = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut after = before.clone();
    after["policy_json"] = Json::Null;
    after["on_failure"] = Json::Null;
    let c = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        before,
        after,
        json!({"after_unknown": {"policy_json": true, "on_failure": true}}),
    );
    let s = summarize(&plan("1.11.4", json!([c])), opts()).unwrap();
    assert!(
        s.iam_widening(),
        "an unknown policy cannot be shown not to widen"
    );
    let md = render(&s, Format::Markdown);
    assert!(md.contains("known only after apply"), "{md}");
    assert!(
        md.contains("| `on_failure` | (not set) | (known after apply) |"),
        "{md}"
    );
}

#[test]
fn a_markdown_value_cannot_break_out_of_its_code_span_or_table() {
    let before = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut after = before.clone();
    after["function"]["handler"] = json!("a`b|c\nd");
    let c = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        before,
        after,
        json!({}),
    );
    let md = render(
        &summarize(&plan("1.11.4", json!([c])), opts()).unwrap(),
        Format::Markdown,
    );
    let row = md.lines().find(|l| l.contains("function.handler")).unwrap();
    assert!(row.contains("``") && row.contains("\\|"), "{row}");
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = summarize(&bytes, opts()).map(|s| render(&s, Format::Markdown));
    }

    #[test]
    fn random_json_never_panics(v in json_value()) {
        for doc in [v.clone(), json!({"format_version": "1.2", "planned_values": {}, "resource_changes": v})] {
            let text = doc.to_string();
            if let Ok(s) = summarize(text.as_bytes(), opts()) {
                let _ = render(&s, Format::Text);
            }
        }
    }

    #[test]
    fn mangled_pipeline_changes_never_panic(v in json_value(), key in "[a-z_]{1,16}") {
        let mut p = pipeline("p", 512, &["data/"], json!({}), "h");
        p[key.as_str()] = v.clone();
        p["function"][key.as_str()] = v.clone();
        let c = change("eventpipe_event_pipeline.p", &["update"], pipeline("p", 1, &[], json!({}), "x"), p,
            json!({"after_unknown": v.clone(), "after_sensitive": v}));
        if let Ok(s) = summarize(&plan("1.11.4", json!([c])), opts()) {
            let _ = render(&s, Format::Markdown);
        }
    }
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z_:/*`|]{0,12}".prop_map(Json::String),
        Just(json!(["delete", "create"])),
        Just(json!("eventpipe_event_pipeline")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("address".to_owned()),
                    Just("type".to_owned()),
                    Just("change".to_owned()),
                    Just("actions".to_owned()),
                    Just("before".to_owned()),
                    Just("after".to_owned()),
                    Just("trigger".to_owned()),
                    Just("policy_json".to_owned()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// The risks of an update from `before` to `after` (or a create when
/// `before` is null).
fn risks(before: Json, after: Json) -> Vec<Risk> {
    let actions: &[&str] = if before.is_null() {
        &["create"]
    } else {
        &["update"]
    };
    let c = change(
        "eventpipe_event_pipeline.p",
        actions,
        before,
        after,
        json!({}),
    );
    summarize(&plan("1.11.4", json!([c])), opts())
        .unwrap()
        .pipelines[0]
        .risks
        .clone()
}

#[test]
fn require_tls_off_is_flagged_on_create_and_when_it_turns_off_not_on_every_update() {
    let mut off = pipeline("p", 512, &["data/"], json!({}), "h");
    off["require_tls"] = json!(false);
    assert!(risks(Json::Null, off.clone()).contains(&Risk::TlsOff));
    let on = pipeline("p", 512, &["data/"], json!({}), "h");
    assert!(risks(on.clone(), off.clone()).contains(&Risk::TlsOff));
    // Already off: an update of something else says nothing about it.
    let mut bigger = off.clone();
    bigger["function"]["memory_size"] = json!(1024);
    let r = risks(off.clone(), bigger);
    assert!(!r.contains(&Risk::TlsOff), "{r:?}");
    // Turned back on: nothing to flag.
    assert!(risks(off, on).is_empty());
}

#[test]
fn a_changed_trigger_on_a_bucket_the_pipeline_does_not_manage_is_flagged_like_a_new_one() {
    let mut shared = pipeline("p", 512, &["data/"], json!({}), "h");
    shared["create_bucket"] = json!(false);
    let flag = Risk::BucketNotManaged {
        bucket: "bkt".into(),
    };
    // A new pipeline on the bucket.
    assert!(risks(Json::Null, shared.clone()).contains(&flag));
    // A trigger changed, or one added.
    let mut moved = shared.clone();
    moved["trigger"] = json!([trigger("incoming/")]);
    let r = risks(shared.clone(), moved);
    assert!(r.contains(&flag), "{r:?}");
    let mut more = shared.clone();
    more["trigger"] = json!([trigger("data/"), trigger("more/")]);
    assert!(risks(shared.clone(), more).contains(&flag));
    // Any other update of the pipeline leaves the bucket alone: no flag.
    let mut bigger = shared.clone();
    bigger["function"]["memory_size"] = json!(1024);
    let r = risks(shared.clone(), bigger);
    assert!(!r.contains(&flag), "{r:?}");
    // Nor does a change of trigger on the pipeline's own bucket.
    let own = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut own_moved = own.clone();
    own_moved["trigger"] = json!([trigger("incoming/")]);
    assert!(risks(own, own_moved).is_empty());
}

#[test]
fn a_new_name_flags_each_part_it_replaces_and_none_it_keeps() {
    let named = |n: &str, function: &str, queue: Option<&str>| {
        let mut p = pipeline(n, 512, &["data/"], json!({}), "h");
        p["function_name"] = json!(function);
        p["role_name"] = json!(format!("{function}-role"));
        p["failure_queue_arn"] = json!(queue.map(|q| format!("arn:aws:sqs:us-east-1:1:{q}")));
        p
    };
    // Function and role named after the pipeline, and its failure queue.
    let r = risks(
        named("orders", "orders", Some("orders-failed")),
        named("sales", "sales", Some("sales-failed")),
    );
    let text: Vec<String> = r.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "the function orders is replaced by sales: the new name makes a new one, and the old \
             one is deleted",
            "the role orders-role is replaced by sales-role: the new name makes a new one, and \
             the old one is deleted",
            "the failure queue orders-failed is replaced by sales-failed: the new name makes a \
             new one, and the old one is deleted",
        ]
    );
    // Named explicitly, they stay; a queue of one's own is not renamed.
    let r = risks(
        named("orders", "legacy", Some("theirs")),
        named("sales", "legacy", Some("theirs")),
    );
    assert!(r.is_empty(), "{r:?}");
    // Without a new name, a new function name is not a rename.
    let r = risks(named("orders", "orders", None), named("orders", "x", None));
    assert!(r.is_empty(), "{r:?}");
}

#[test]
fn a_package_type_switch_names_the_function_replaced_and_the_data_kept() {
    let zip = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut image = zip.clone();
    image["function"]["package_type"] = json!("image");
    let r = risks(zip.clone(), image.clone());
    let flag = Risk::PackageTypeChanged {
        from: "zip".into(),
        to: "image".into(),
    };
    assert!(r.contains(&flag), "{r:?}");
    assert_eq!(
        flag.to_string(),
        "function replaced (package_type zip → image); data kept: the bucket and its objects, \
         the queues, the stream and the log group stay"
    );
    // And back; a state from before images (no package_type) is a zip.
    let mut explicit_zip = zip.clone();
    explicit_zip["function"]["package_type"] = json!("zip");
    assert!(
        risks(image.clone(), explicit_zip.clone()).contains(&Risk::PackageTypeChanged {
            from: "image".into(),
            to: "zip".into(),
        })
    );
    assert!(risks(zip.clone(), explicit_zip.clone()).is_empty());
    // No switch, no flag; the rendered summary names it.
    assert!(risks(image.clone(), image.clone()).is_empty());
    let c = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        zip,
        image,
        json!({}),
    );
    let s = summarize(&plan("1.11.4", json!([c])), opts()).unwrap();
    for f in [Format::Markdown, Format::Text] {
        let out = render(&s, f);
        assert!(
            out.contains("function replaced (package_type zip → image); data kept"),
            "{out}"
        );
    }
}

#[test]
fn a_base_image_that_moved_is_named_in_the_code_section() {
    let mut before = pipeline("p", 512, &["data/"], json!({"app.py": "aaa"}), "h1");
    before["function"]["package_type"] = json!("image");
    before["image_base_digest"] = json!("sha256:1111");
    let mut after = before.clone();
    after["image_base_digest"] = json!("sha256:2222");
    after["source_code_hash"] = json!("h2");
    let c = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        before,
        after,
        json!({}),
    );
    let s = summarize(&plan("1.11.4", json!([c])), opts()).unwrap();
    let code = s.pipelines[0].code.clone().expect("a code change");
    assert_eq!(
        code.base,
        Some((
            Some("sha256:1111".into()),
            Shown::Value("sha256:2222".into())
        ))
    );
    let text = render(&s, Format::Text);
    assert!(
        text.contains("base image sha256:1111 → sha256:2222"),
        "{text}"
    );
    assert!(!text.contains("the package changed otherwise"), "{text}");
    // A zip has no base: nothing about one.
    let zip = pipeline("p", 512, &["data/"], json!({"app.py": "aaa"}), "h1");
    let mut edited = zip.clone();
    edited["source_code_hash"] = json!("h2");
    let c = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        zip,
        edited,
        json!({}),
    );
    let s = summarize(&plan("1.11.4", json!([c])), opts()).unwrap();
    assert_eq!(s.pipelines[0].code.clone().unwrap().base, None);
    assert!(!render(&s, Format::Text).contains("base image"));
}

// Customer-managed KMS keys: the grants `policy_json` holds for them (the
// contract's statements), and `--expect-kms-key`.

const KEY_1: &str = "arn:aws:kms:us-east-1:123456789012:key/1111aaaa-0000-4000-8000-000000000001";
const KEY_2: &str = "arn:aws:kms:us-east-1:123456789012:key/2222bbbb-0000-4000-8000-000000000002";

/// The policy of a pipeline on bucket `bkt` reading `prefixes`, with the
/// grants on the bucket's `key` (Bucket Keys on) and, with `output`, the
/// write grant under `out/`.
fn kms_policy(prefixes: &[&str], key: Option<&str>, output: bool) -> String {
    let objects: Vec<String> = prefixes
        .iter()
        .map(|p| format!("arn:aws:s3:::bkt/{p}*"))
        .collect();
    let context = |arns: Vec<String>| {
        let mut arns = arns;
        arns.push("arn:aws:s3:::bkt".into());
        json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
               "StringLike": {"kms:EncryptionContext:aws:s3:arn": arns}})
    };
    let mut st = vec![json!({"Sid": "ReadTriggeringObjects", "Effect": "Allow",
        "Action": "s3:GetObject", "Resource": objects})];
    if let Some(k) = key {
        st.push(json!({"Sid": "DecryptTriggeringObjects", "Effect": "Allow",
            "Action": "kms:Decrypt", "Resource": k, "Condition": context(objects.clone())}));
    }
    if output {
        st.push(
            json!({"Sid": "WriteResults", "Effect": "Allow", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::bkt/out/*"}),
        );
        if let Some(k) = key {
            st.push(json!({"Sid": "EncryptResults", "Effect": "Allow",
                "Action": "kms:GenerateDataKey", "Resource": k,
                "Condition": context(vec!["arn:aws:s3:::bkt/out/*".into()])}));
        }
    }
    st.push(json!({"Sid": "WriteOwnLogs", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/p"]}));
    json!({"Version": "2012-10-17", "Statement": st}).to_string()
}

/// A pipeline on the existing bucket `bkt` with that policy.
fn on_existing_bucket(prefixes: &[&str], key: Option<&str>, output: bool) -> Json {
    let mut p = pipeline("p", 512, prefixes, json!({}), "h");
    p["create_bucket"] = json!(false);
    p["policy_json"] = json!(kms_policy(prefixes, key, output));
    if output {
        p["output_prefix"] = json!("out/");
    }
    p
}

fn summary_of(changes: Json, expect: &[String]) -> Summary {
    let o = Options {
        expect_kms_keys: expect,
        ..opts()
    };
    summarize(&plan("1.11.4", changes), o).unwrap()
}

fn update(before: Json, after: Json) -> Json {
    change(
        "eventpipe_event_pipeline.p",
        &["update"],
        before,
        after,
        json!({}),
    )
}

fn widenings(s: &Summary) -> Vec<iam::Widening> {
    match &s.pipelines[0].iam {
        sections::Iam::Changed(d) => d.widenings.clone(),
        other => panic!("no IAM change: {other:?}"),
    }
}

#[test]
fn a_new_key_grant_is_a_widening_that_names_the_key_and_what_it_is_for() {
    // The bucket was switched to SSE-KMS under KEY_1 outside Terraform.
    let before = on_existing_bucket(&["data/"], None, false);
    let after = on_existing_bucket(&["data/"], Some(KEY_1), false);
    let s = summary_of(json!([update(before, after)]), &[]);
    assert!(s.iam_change() && s.iam_widening());
    assert_eq!(
        widenings(&s),
        vec![iam::Widening::Key(iam::KeyGrant {
            sid: "DecryptTriggeringObjects".into(),
            actions: vec!["kms:Decrypt".into()],
            key: KEY_1.into(),
            before: iam::KeyBefore::Nothing,
        })]
    );
    let md = render(&s, Format::Markdown);
    for want in [
        "IAM**: changed, **widens what the function may do**".to_owned(),
        format!(
            "- **widening**: `kms:Decrypt` on key `{KEY_1}` (the bucket's key: objects the \
             triggers read, via S3)"
        ),
        format!(
            "- statement `DecryptTriggeringObjects` added: Allow `kms:Decrypt` on `{KEY_1}` if \
             `kms:ViaService` = `s3.us-east-1.amazonaws.com` and \
             `kms:EncryptionContext:aws:s3:arn` like `arn:aws:s3:::bkt` or \
             `arn:aws:s3:::bkt/data/*`"
        ),
    ] {
        assert!(md.contains(&want), "{want:?} not in\n{md}");
    }
    let text = render(&s, Format::Text);
    assert!(
        text.contains(&format!(
            "- widening: kms:Decrypt on key {KEY_1} (the bucket's key: objects the triggers \
             read, via S3)"
        )),
        "{text}"
    );
    // A new pipeline on the encrypted bucket: the same line.
    let c = change(
        "eventpipe_event_pipeline.p",
        &["create"],
        Json::Null,
        on_existing_bucket(&["data/"], Some(KEY_1), true),
        json!({}),
    );
    let md = render(&summary_of(json!([c]), &[]), Format::Markdown);
    for want in [
        format!("`kms:Decrypt` on key `{KEY_1}` (the bucket's key: objects the triggers read"),
        format!(
            "`kms:GenerateDataKey` on key `{KEY_1}` (the bucket's key: results written under \
             output_prefix, via S3)"
        ),
    ] {
        assert!(md.contains(&want), "{want:?} not in\n{md}");
    }
}

#[test]
fn a_changed_key_is_a_widening_to_the_new_key() {
    let before = on_existing_bucket(&["data/"], Some(KEY_1), true);
    let after = on_existing_bucket(&["data/"], Some(KEY_2), true);
    let s = summary_of(json!([update(before, after)]), &[]);
    let key = |sid: &str, action: &str| {
        iam::Widening::Key(iam::KeyGrant {
            sid: sid.into(),
            actions: vec![action.into()],
            key: KEY_2.into(),
            before: iam::KeyBefore::OtherKey(vec![KEY_1.into()]),
        })
    };
    assert_eq!(
        widenings(&s),
        vec![
            key("DecryptTriggeringObjects", "kms:Decrypt"),
            key("EncryptResults", "kms:GenerateDataKey"),
        ]
    );
    let md = render(&s, Format::Markdown);
    if std::env::var_os("SHOW").is_some() {
        println!("{md}\n-----\n{}", render(&s, Format::Text));
    }
    for want in [
        format!(
            "**widening**: `kms:Decrypt` on key `{KEY_2}` (the bucket's key: objects the \
             triggers read, via S3; was key `{KEY_1}`)"
        ),
        format!("  - resource added `{KEY_2}`"),
        format!("  - resource removed `{KEY_1}`"),
    ] {
        assert!(md.contains(&want), "{want:?} not in\n{md}");
    }
    // Back to SSE-S3: the grants go, which widens nothing.
    let s = summary_of(
        json!([update(
            on_existing_bucket(&["data/"], Some(KEY_2), true),
            on_existing_bucket(&["data/"], None, true)
        )]),
        &[],
    );
    assert!(s.iam_change() && !s.iam_widening());
    let md = render(&s, Format::Markdown);
    assert!(
        md.contains("statement `DecryptTriggeringObjects` removed"),
        "{md}"
    );
}

#[test]
fn a_moved_prefix_changes_the_key_grants_conditions_and_says_so() {
    let before = on_existing_bucket(&["data/"], Some(KEY_1), false);
    let after = on_existing_bucket(&["incoming/"], Some(KEY_1), false);
    let s = summary_of(json!([update(before, after)]), &[]);
    let w = widenings(&s);
    assert!(
        w.contains(&iam::Widening::Key(iam::KeyGrant {
            sid: "DecryptTriggeringObjects".into(),
            actions: vec!["kms:Decrypt".into()],
            key: KEY_1.into(),
            before: iam::KeyBefore::OtherConditions,
        })),
        "{w:?}"
    );
    let text = render(&s, Format::Text);
    for want in [
        "(the bucket's key: objects the triggers read, via S3; its conditions changed)",
        "  - conditions kms:ViaService = s3.us-east-1.amazonaws.com and \
         kms:EncryptionContext:aws:s3:arn like arn:aws:s3:::bkt or arn:aws:s3:::bkt/data/* → \
         kms:ViaService = s3.us-east-1.amazonaws.com and kms:EncryptionContext:aws:s3:arn like \
         arn:aws:s3:::bkt or arn:aws:s3:::bkt/incoming/*",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
}

#[test]
fn queue_and_stream_key_grants_say_whose_key_they_are() {
    let before = pipeline("p", 512, &["data/"], json!({}), "h");
    let mut after = before.clone();
    let mut doc: Json = serde_json::from_str(&policy(&["data/"])).unwrap();
    let list = doc["Statement"].as_array_mut().unwrap();
    list.push(json!({"Sid": "EncryptFailedEvents", "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": KEY_1,
        "Condition": {"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}}}));
    list.push(
        json!({"Sid": "DecryptStream", "Effect": "Allow", "Action": "kms:Decrypt",
        "Resource": KEY_2,
        "Condition": {"StringEquals": {"kms:ViaService": "kinesis.us-east-1.amazonaws.com"}}}),
    );
    after["policy_json"] = json!(doc.to_string());
    let md = render(
        &summary_of(json!([update(before, after)]), &[]),
        Format::Markdown,
    );
    for want in [
        format!(
            "`kms:Decrypt`, `kms:GenerateDataKey` on key `{KEY_1}` (the failure queue's key: \
             failed events sent to it, via SQS)"
        ),
        format!(
            "`kms:Decrypt` on key `{KEY_2}` (the stream's key: records the function reads (or \
             writes), via Kinesis)"
        ),
    ] {
        assert!(md.contains(&want), "{want:?} not in\n{md}");
    }
}

fn expect(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

fn key_risks(s: &Summary) -> Vec<Risk> {
    s.pipelines
        .iter()
        .flat_map(|p| p.risks.clone())
        .chain(s.unchanged_risks.iter().map(|u| u.risk.clone()))
        .filter(|r| matches!(r, Risk::UnexpectedKmsKey { .. }))
        .collect()
}

#[test]
fn expect_kms_key_flags_a_bucket_under_another_key_or_none_and_passes_the_expected_one() {
    let grow = |key: Option<&str>| {
        let before = on_existing_bucket(&["data/"], key, false);
        let mut after = before.clone();
        after["function"]["memory_size"] = json!(1024);
        update(before, after)
    };
    // The expected key: no flag.
    let s = summary_of(json!([grow(Some(KEY_1))]), &expect(&[KEY_1]));
    assert!(key_risks(&s).is_empty() && !s.unexpected_kms_key() && !s.risk());
    // Another key: flagged with the key found.
    let s = summary_of(json!([grow(Some(KEY_2))]), &expect(&[KEY_1]));
    assert_eq!(
        key_risks(&s),
        vec![Risk::UnexpectedKmsKey {
            bucket: "bkt".into(),
            expected: expect(&[KEY_1]),
            found: keys::BucketKey::Keys(expect(&[KEY_2])),
        }]
    );
    assert!(s.unexpected_kms_key() && s.risk());
    let want =
        format!("bucket bkt is not encrypted with the expected key {KEY_1} (found: {KEY_2})");
    for f in [Format::Markdown, Format::Text] {
        let out = render(&s, f);
        assert!(out.contains(&want), "{want:?} not in\n{out}");
        assert!(out.contains("this plan has risk flags"), "{out}");
    }
    // No key grant (SSE-S3, aws/s3, or a denied look): flagged, found none.
    let s = summary_of(json!([grow(None)]), &expect(&[KEY_1]));
    let md = render(&s, Format::Markdown);
    assert!(
        md.contains(&format!(
            "**risk:** bucket bkt is not encrypted with the expected key {KEY_1} (found: none: \
             no customer-managed key is granted, so the bucket is SSE-S3 or under the \
             AWS-managed aws/s3 key, or the plan could not read its encryption)"
        )),
        "{md}"
    );
    // Either of two expected keys will do.
    let s = summary_of(json!([grow(Some(KEY_2))]), &expect(&[KEY_1, KEY_2]));
    assert!(key_risks(&s).is_empty());
    let s = summary_of(json!([grow(None)]), &expect(&[KEY_1, KEY_2]));
    assert!(render(&s, Format::Text).contains(&format!(
        "is not encrypted with an expected key ({KEY_1} or {KEY_2}) (found: none"
    )));
    // Without the flag, nothing is expected.
    assert!(key_risks(&summary_of(json!([grow(None)]), &[])).is_empty());
}

#[test]
fn expect_kms_key_checks_owned_new_and_unchanged_pipelines_but_not_deleted_ones() {
    let keyed = on_existing_bucket(&["data/"], Some(KEY_1), false);
    // An owned bucket with `bucket_encryption`: the same statement.
    let mut owned = keyed.clone();
    owned["create_bucket"] = json!(true);
    owned["bucket_encryption"] = json!([{"kms_key_arn": KEY_1}]);
    let created = change(
        "eventpipe_event_pipeline.owned",
        &["create"],
        Json::Null,
        owned,
        json!({}),
    );
    // Unchanged: no section, but flagged on its own line.
    let plain = on_existing_bucket(&["data/"], None, false);
    let unchanged = change(
        "eventpipe_event_pipeline.same",
        &["no-op"],
        plain.clone(),
        plain.clone(),
        json!({}),
    );
    // Deleted: not flagged, whatever its key.
    let deleted = change(
        "eventpipe_event_pipeline.gone",
        &["delete"],
        plain,
        Json::Null,
        json!({"after_sensitive": false}),
    );
    let s = summary_of(json!([created, unchanged, deleted]), &expect(&[KEY_1]));
    assert_eq!(key_risks(&s).len(), 1);
    assert!(
        s.pipelines[0]
            .risks
            .iter()
            .all(|r| !matches!(r, Risk::UnexpectedKmsKey { .. }))
    );
    assert!(
        s.pipelines[1]
            .risks
            .iter()
            .all(|r| !matches!(r, Risk::UnexpectedKmsKey { .. }))
    );
    assert_eq!(s.unchanged_pipelines, 1);
    assert_eq!(s.unchanged_risks.len(), 1);
    assert_eq!(
        s.unchanged_risks[0].address,
        "eventpipe_event_pipeline.same"
    );
    assert!(s.unexpected_kms_key());
    let md = render(&s, Format::Markdown);
    assert!(
        md.contains(&format!(
            "**Unchanged pipelines with risk flags**\n- `eventpipe_event_pipeline.same` (`p`): \
             **risk:** bucket bkt is not encrypted with the expected key {KEY_1} (found: none"
        )),
        "{md}"
    );
    let text = render(&s, Format::Text);
    assert!(
        text.contains(&format!(
            "Unchanged pipelines with risk flags\n- eventpipe_event_pipeline.same (p): risk: \
             bucket bkt is not encrypted with the expected key {KEY_1}"
        )),
        "{text}"
    );
    // The deleted pipeline alone: nothing to expect.
    let deleted = change(
        "eventpipe_event_pipeline.gone",
        &["delete"],
        on_existing_bucket(&["data/"], None, false),
        Json::Null,
        json!({"after_sensitive": false}),
    );
    let s = summary_of(json!([deleted]), &expect(&[KEY_1]));
    assert!(key_risks(&s).is_empty() && !s.unexpected_kms_key());
    // A policy known only after apply cannot show the key: flagged.
    let before = on_existing_bucket(&["data/"], Some(KEY_1), false);
    let mut after = before.clone();
    after["policy_json"] = Json::Null;
    let c = change(
        "eventpipe_event_pipeline.p",
        &["update"],
        before,
        after,
        json!({"after_unknown": {"policy_json": true}}),
    );
    let s = summary_of(json!([c]), &expect(&[KEY_1]));
    assert_eq!(
        key_risks(&s),
        vec![Risk::UnexpectedKmsKey {
            bucket: "bkt".into(),
            expected: expect(&[KEY_1]),
            found: keys::BucketKey::Unknown,
        }]
    );
}

/// `bucket_encryption` added to an owned bucket: the key grants are
/// widenings naming the key, and the block is a setting.
#[test]
fn bucket_encryption_on_an_owned_bucket_is_a_setting_and_its_grants_widenings() {
    let mut before = pipeline("p", 512, &["data/"], json!({}), "h");
    before["policy_json"] = json!(kms_policy(&["data/"], None, true));
    before["output_prefix"] = json!("out/");
    before["bucket_encryption"] = Json::Null;
    let mut after = before.clone();
    after["policy_json"] = json!(kms_policy(&["data/"], Some(KEY_1), true));
    after["bucket_encryption"] = json!({"kms_key_arn": KEY_1});
    let s = summary_of(json!([update(before, after)]), &expect(&[KEY_2]));
    let md = render(&s, Format::Markdown);
    for want in [
        format!(
            "**widening**: `kms:Decrypt` on key `{KEY_1}` (the bucket's key: objects the \
             triggers read, via S3)"
        ),
        format!(
            "**widening**: `kms:GenerateDataKey` on key `{KEY_1}` (the bucket's key: results \
             written under output_prefix, via S3)"
        ),
        format!("| `bucket_encryption.kms_key_arn` | (not set) | `\"{KEY_1}\"` |"),
        format!("bucket bkt is not encrypted with the expected key {KEY_2} (found: {KEY_1})"),
    ] {
        assert!(md.contains(&want), "{want:?} not in\n{md}");
    }
}
