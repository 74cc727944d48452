//! Adopting a pipeline wired by hand (`terraform import … adopt:<function>`,
//! or the same id in an `import` block): the import records what exists,
//! the next plan shows every change in place, the first apply makes the
//! parts the pipeline's without deleting or rewriting anything the plan
//! did not show, and the plan after it is empty. What exists is read back
//! with the tests' own client, and the provider's calls are counted through
//! the recording proxy.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use common::fault_table::{self, Site, assert_covers};
use common::rig::Rig;
use common::*;
use serde_json::Value as Json;
use tests::fault_proxy::Call;
use tests::hand_wired::HandWired;
use tests::{Aws, TerraformCli};

const ACCOUNT: &str = "123456789012";
const ADOPTION_WARNING: &str = "Adopting a pipeline wired by hand";
const FOREIGN_WARNING: &str = "Policies that are not the pipeline's stay on the role";

/// The zip eventpipe builds from `dir`, and its `CodeSha256`.
fn eventpipe_package(dir: &Path) -> (Vec<u8>, String) {
    let tree = eventpipe::pipeline::source::scan(dir).expect("scan the source");
    let p = eventpipe::pipeline::package::build(&tree).expect("package");
    (p.zip, p.code_sha256)
}

/// The same handler zipped another way (stored, dated 2026), as a hand-made
/// deployment would be: the files match, the bytes do not.
fn hand_made_zip(app_py: &str) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let when = zip::DateTime::from_date_and_time(2026, 11, 30, 12, 0, 0).expect("date");
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(when);
    z.start_file("app.py", options).expect("zip entry");
    z.write_all(app_py.as_bytes()).expect("zip body");
    z.finish().expect("zip").into_inner()
}

/// The configuration of a pipeline matching `hw`: named after its function,
/// keeping the function's and the role's names, same settings and trigger
/// (and, once it manages the bucket, allowed to empty it on destroy).
fn adopted_resource(address: &str, hw: &HandWired, create_bucket: bool) -> String {
    format!(
        r#"
resource "eventpipe_event_pipeline" "{address}" {{
  name          = "{function}"
  bucket_name   = "{bucket}"
  create_bucket = {create_bucket}
  force_destroy = {create_bucket}
  require_tls   = false
  function_name = "{function}"
  role_name     = "{role}"

  function {{
    source_dir  = "${{path.module}}/app"
    handler     = "app.handler"
    runtime     = "python3.12"
    timeout     = 60
    memory_size = 512
  }}

  trigger {{
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "{prefix}"
    filter_suffix = "{suffix}"
  }}
}}
"#,
        function = hw.function,
        bucket = hw.bucket,
        role = hw.role,
        prefix = hw.prefix,
        suffix = hw.suffix,
    )
}

impl Rig {
    fn app_dir(&self) -> std::path::PathBuf {
        self.ws.dir().join("app")
    }
}

/// The statements of the function's resource policy.
fn statements(aws: &Aws, function: &str) -> Vec<Json> {
    function_policy(aws, function)["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// What a hand-wired pipeline looks like once adopted: its names, its data,
/// its foreign policy, the pipeline's policy, tags, permission and one
/// notification.
fn assert_adopted(aws: &Aws, hw: &HandWired, objects: &[String]) {
    let name = &hw.function;
    assert_eq!(
        aws.object_keys(&hw.bucket).expect("objects"),
        objects,
        "{name}: the bucket's data stays"
    );
    let inv = aws.list_everything().expect("inventory");
    assert!(inv.functions.contains(name), "{name}: {inv}");
    let role = inv
        .roles
        .iter()
        .find(|r| r.name == hw.role)
        .unwrap_or_else(|| panic!("{name}: role {} is gone: {inv}", hw.role));
    assert_eq!(
        role.inline_policies,
        ["eventpipe".to_owned(), hw.policy.clone()],
        "{name}: the foreign policy stays beside the pipeline's"
    );
    // Tagged as the pipeline's.
    let owner = ("eventpipe:pipeline".to_owned(), name.clone());
    assert!(
        role_tags(aws, &hw.role).contains(&owner),
        "{name}: role tags {:?}",
        role_tags(aws, &hw.role)
    );
    let ftags = function_tags(aws, name);
    assert_eq!(
        ftags.get("eventpipe:pipeline"),
        Some(name),
        "{name}: {ftags:?}"
    );
    // One invoke permission, the pipeline's, scoped by bucket and account.
    let st = statements(aws, name);
    assert_eq!(st.len(), 1, "{name}: the old statement goes: {st:?}");
    assert_eq!(st[0]["Sid"], "eventpipe-s3-invoke", "{st:?}");
    assert_eq!(st[0]["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(
        st[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        hw.bucket_arn(),
        "{st:?}"
    );
    assert_eq!(
        st[0]["Condition"]["StringEquals"]["AWS:SourceAccount"], ACCOUNT,
        "{st:?}"
    );
    // Exactly one notification targets the function: the pipeline's.
    let arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}");
    let mine: Vec<_> = lambda_notifications(aws, &hw.bucket)
        .into_iter()
        .filter(|n| n.lambda_function_arn() == arn)
        .collect();
    assert_eq!(mine.len(), 1, "{name}: {mine:?}");
    assert_eq!(mine[0].id(), Some(format!("eventpipe-{name}-0").as_str()));
    let rules = filter_rules(&mine[0]);
    assert!(
        rules.contains(&("prefix".into(), hw.prefix.clone())),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("suffix".into(), hw.suffix.clone())),
        "{rules:?}"
    );
}

/// The first apply's calls, in order: the pipeline's permission is added
/// before the notifications name it, the notifications are written once
/// (the old configuration replaced by the new in that one write), the old
/// statement goes after, and the bucket's own settings are not touched.
fn assert_first_apply_calls(calls: &[Call], hw: &HandWired) {
    let at = |op: &str| -> Vec<usize> {
        calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.op == op && (c.mentions(&hw.function) || c.mentions(&hw.bucket)))
            .map(|(i, _)| i)
            .collect()
    };
    let ops: Vec<&str> = calls.iter().map(|c| c.op.as_str()).collect();
    let puts = at("s3:PutBucketNotificationConfiguration");
    assert_eq!(puts.len(), 1, "one notification write: {ops:?}");
    let body = String::from_utf8_lossy(calls[puts[0]].body()).into_owned();
    assert!(
        body.contains(&format!("eventpipe-{}-0", hw.function))
            && !body.contains(&hw.notification_id),
        "the write replaces the old configuration with the pipeline's: {body}"
    );
    let added = at("lambda:AddPermission");
    let removed = at("lambda:RemovePermission");
    assert_eq!((added.len(), removed.len()), (1, 1), "{ops:?}");
    assert!(
        added[0] < puts[0] && puts[0] < removed[0],
        "add the new statement, write the notifications, then remove the old: {ops:?}"
    );
    assert!(
        calls[removed[0]]
            .target
            .ends_with(&format!("/policy/{}", hw.sid)),
        "{ops:?}"
    );
    for op in [
        "s3:PutBucketTagging",
        "s3:PutPublicAccessBlock",
        "s3:PutBucketEncryption",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "lambda:DeleteFunction",
        "iam:DeleteRole",
    ] {
        assert!(
            at(op).is_empty(),
            "{op} is not the first apply's to make: {ops:?}"
        );
    }
}

#[test]
fn a_hand_wired_pipeline_is_adopted_in_place_and_keeps_its_names_data_and_policies() {
    for tf in clis() {
        let started = Instant::now();
        let rig = Rig::new(&tf, None);
        let hw = HandWired::named("orders");
        // Deployed as exactly the package eventpipe builds from ./app.
        let (zip, sha) = eventpipe_package(&rig.app_dir());
        let wired = hw.wire(&rig.aws, &zip).expect("wire by hand");
        assert_eq!(wired.code_sha256, sha);
        // A managed policy on the role besides its inline one.
        let extra = rig
            .aws
            .attach_new_policy(
                &hw.role,
                "orders-list-data",
                &format!(
                    "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\
                     \"Action\":\"s3:ListBucket\",\"Resource\":\"{}\"}}]}}",
                    hw.bucket_arn()
                ),
            )
            .expect("managed policy");
        let objects = rig.aws.object_keys(&hw.bucket).expect("objects");
        let read_data = rig
            .aws
            .role_inline_policy(&hw.role, &hw.policy)
            .expect("read-data");
        let trust = rig.aws.role_trust_policy(&hw.role).expect("trust policy");
        let before = rig.aws.list_everything().expect("inventory");
        rig.configure(&adopted_resource("orders", &hw, false));
        let address = "eventpipe_event_pipeline.orders";

        // A plain import refuses the untagged function and names adopt:.
        let out = rig
            .ws
            .run(&["import", address, &hw.function])
            .expect("import runs")
            .failed()
            .expect("a plain import of a hand-wired function fails");
        let text = flat(&out);
        assert!(
            text.contains("not managed by eventpipe")
                && text.contains(&format!("adopt:{}", hw.function)),
            "{out}"
        );

        let out = rig
            .ws
            .run_ok(&["import", address, &format!("adopt:{}", hw.function)])
            .expect("adopt import");
        let text = flat(&out);
        assert!(
            text.contains(FOREIGN_WARNING)
                && text.contains("inline policy \"read-data\"")
                && text.contains(&format!("managed policy {extra}")),
            "{out}"
        );
        // Import records and changes nothing.
        assert_eq!(rig.aws.list_everything().expect("inventory"), before);
        assert_eq!(statements(&rig.aws, &hw.function).len(), 1);

        let (plan, actions) = saved_plan(&rig.ws, "adopt.tfplan");
        assert_only_in_place(&actions, &plan);
        let text = flat(&plan);
        for needle in [
            ADOPTION_WARNING,
            "inline policy \"read-data\"",
            &format!("bucket \"{}\" as it is", hw.bucket),
            "\"s3-invoke\"",
            &format!("\"{}\"", hw.notification_id),
        ] {
            assert!(text.contains(needle), "{needle:?} missing from\n{plan}");
        }
        // Import changed nothing either.
        assert_eq!(rig.aws.list_everything().expect("inventory"), before);

        rig.proxy.clear_calls();
        rig.ws
            .run_ok(&["apply", "adopt.tfplan"])
            .expect("apply the plan");
        assert_first_apply_calls(&rig.proxy.calls(), &hw);
        let counts = rig.proxy.counts();
        assert_eq!(
            rig.proxy.count("lambda:UpdateFunctionCode"),
            0,
            "the deployed code is the package: no upload; calls {counts:?}"
        );
        assert_eq!(rig.aws.code_sha256(&hw.function).expect("sha"), sha);
        assert_plan_empty(&rig.ws, "the plan after adopting must be empty");
        assert_adopted(&rig.aws, &hw, &objects);
        // What the plan did not show is not rewritten.
        assert_eq!(
            rig.aws
                .role_inline_policy(&hw.role, &hw.policy)
                .expect("read-data"),
            read_data
        );
        assert_eq!(rig.aws.role_trust_policy(&hw.role).expect("trust"), trust);
        let inv = rig.aws.list_everything().expect("inventory");
        assert_eq!(inv.roles[0].attached_policies, [extra.as_str()], "{inv}");
        assert_eq!(inv.buckets, [hw.bucket.as_str()], "nothing added: {inv}");
        assert_eq!(inv.functions, [hw.function.as_str()], "{inv}");
        assert_eq!(inv.roles.len(), 1, "{inv}");
        // The bucket stays someone else's: no pipeline tags on it.
        let btags = rig
            .aws
            .block_on(rig.aws.s3().get_bucket_tagging().bucket(&hw.bucket).send());
        let owned = btags
            .ok()
            .is_some_and(|t| t.tag_set().iter().any(|t| t.key() == "eventpipe:pipeline"));
        assert!(
            !owned,
            "create_bucket = false leaves the bucket's tags alone"
        );
        let warn_gone = rig.ws.plan(&[]).expect("plan");
        assert!(!warn_gone.contains(ADOPTION_WARNING), "{warn_gone}");

        // create_bucket = true takes the bucket over, in place.
        rig.configure(&adopted_resource("orders", &hw, true));
        let (plan, actions) = saved_plan(&rig.ws, "take.tfplan");
        assert_only_in_place(&actions, &plan);
        rig.ws.run_ok(&["apply", "take.tfplan"]).expect("apply");
        assert_plan_empty(&rig.ws, "the plan after taking the bucket over");
        assert_adopted(&rig.aws, &hw, &objects);
        let btags = rig
            .aws
            .block_on(rig.aws.s3().get_bucket_tagging().bucket(&hw.bucket).send())
            .expect("bucket tags");
        assert!(
            btags
                .tag_set()
                .iter()
                .any(|t| t.key() == "eventpipe:pipeline" && t.value() == hw.function),
            "{btags:?}"
        );
        let pab = rig
            .aws
            .block_on(
                rig.aws
                    .s3()
                    .get_public_access_block()
                    .bucket(&hw.bucket)
                    .send(),
            )
            .expect("public access block");
        let pab = pab.public_access_block_configuration().expect("config");
        assert_eq!(pab.block_public_acls(), Some(true));
        rig.aws
            .block_on(
                rig.aws
                    .s3()
                    .get_bucket_encryption()
                    .bucket(&hw.bucket)
                    .send(),
            )
            .expect("default encryption");
        eprintln!(
            "terraform {}: adopted, applied, took the bucket over in {:.1} s",
            tf.label,
            started.elapsed().as_secs_f64()
        );
    }
}

/// The configuration of a pipeline matching `hw` wired through its queue:
/// queue delivery, drained in batches of the hand-made mapping's size.
fn queued_resource(address: &str, hw: &HandWired) -> String {
    let batch = hw.queue.as_ref().map_or(10, |(_, b)| *b);
    adopted_resource(address, hw, false).replace(
        "  function {",
        &format!(
            "  delivery = \"queue\"\n\n  queue {{\n    batch_size = {batch}\n  }}\n\n  function {{"
        ),
    )
}

/// A bucket that reaches a function through a queue and an SQS mapping
/// made by hand is adopted as `adopt:` adopts a direct wiring: the import
/// changes nothing, the plan is in place, and the first apply makes the
/// pipeline's own queue and mapping (drained as the hand-made one was),
/// moves the bucket's configuration to it in one write, and leaves the
/// hand-made queue and mapping; the plan after it is empty.
#[test]
fn a_bucket_that_reaches_the_function_through_a_queue_is_adopted_with_a_queue_of_its_own() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, None);
    let hw = HandWired::named("intake").through_queue();
    let (zip, _) = eventpipe_package(&rig.app_dir());
    let wired = hw.wire(&rig.aws, &zip).expect("wire by hand");
    let (hand_queue, hand_mapping) = wired.queue.clone().expect("wired through a queue");
    let before = rig.aws.list_everything().expect("inventory");
    rig.configure(&queued_resource("intake", &hw));
    let address = "eventpipe_event_pipeline.intake";
    rig.ws
        .run_ok(&["import", address, &format!("adopt:{}", hw.function)])
        .expect("adopt import");
    assert_eq!(rig.aws.list_everything().expect("inventory"), before);

    let (plan, actions) = saved_plan(&rig.ws, "adopt.tfplan");
    assert_only_in_place(&actions, &plan);
    let own_queue = format!("{}-events", hw.function);
    let text = flat(&plan);
    for needle in [
        ADOPTION_WARNING,
        &format!("\"{own_queue}\" and its mapping"),
        &format!("leaves the queue {hand_queue} and its mapping {hand_mapping}"),
        &format!("\"{}\"", hw.notification_id),
    ] {
        assert!(text.contains(needle), "{needle:?} missing from\n{plan}");
    }
    rig.ws.run_ok(&["apply", "adopt.tfplan"]).expect("apply");
    assert_plan_empty(&rig.ws, "the plan after adopting through a queue");

    // The bucket now notifies the pipeline's queue, with the same filter.
    let own_arn = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{own_queue}");
    let configs = queue_notifications(&rig.aws, &hw.bucket);
    assert_eq!(configs.len(), 1, "{configs:?}");
    assert_eq!(configs[0].queue_arn(), own_arn);
    assert_eq!(
        configs[0].id(),
        Some(format!("eventpipe-{}-0", hw.function).as_str())
    );
    let rules: Vec<(String, String)> = configs[0]
        .filter()
        .and_then(|f| f.key())
        .map(|k| {
            k.filter_rules()
                .iter()
                .map(|r| {
                    let name = r.name().map(|n| n.as_str().to_ascii_lowercase());
                    (
                        name.unwrap_or_default(),
                        r.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        rules.contains(&("prefix".into(), hw.prefix.clone())),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("suffix".into(), hw.suffix.clone())),
        "{rules:?}"
    );
    assert!(lambda_notifications(&rig.aws, &hw.bucket).is_empty());
    // Both queues and both mappings: the pipeline's drains in batches of 5.
    let queues = rig.aws.queue_names().expect("queues");
    assert!(
        queues.contains(&own_queue) && queues.iter().any(|q| hand_queue.ends_with(q.as_str())),
        "{queues:?}"
    );
    let mappings = rig
        .aws
        .event_source_mappings(Some(&hw.function))
        .expect("mappings");
    let by_source: BTreeMap<&str, (&str, i32)> = mappings
        .iter()
        .map(|m| {
            (
                m.event_source_arn().unwrap_or_default(),
                (
                    m.uuid().unwrap_or_default(),
                    m.batch_size().unwrap_or_default(),
                ),
            )
        })
        .collect();
    assert_eq!(by_source.len(), 2, "{mappings:?}");
    assert_eq!(
        by_source[hand_queue.as_str()].0,
        hand_mapping,
        "left as it is"
    );
    assert_eq!(by_source[own_arn.as_str()].1, 5, "{mappings:?}");
    // No invoke permission: S3 sends to a queue (the function has no
    // resource policy at all).
    let policy = rig.aws.block_on(
        rig.aws
            .lambda()
            .get_policy()
            .function_name(&hw.function)
            .send(),
    );
    assert!(
        policy.as_ref().is_err_and(|e| e
            .as_service_error()
            .is_some_and(|s| s.is_resource_not_found_exception())),
        "{policy:?}"
    );
    assert_eq!(
        function_tags(&rig.aws, &hw.function).get("eventpipe:pipeline"),
        Some(&hw.function)
    );
}

/// Replaces the line that sets `source_dir` in generated HCL.
fn fill_source_dir(generated: &str) -> String {
    generated
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("source_dir") {
                "    source_dir = \"${path.module}/app\"".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn an_import_block_with_generated_config_adopts_and_replaces_code_that_differs() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, None);
    // An execution role made the way the console makes them, under a path.
    let hw = HandWired::named("billing")
        .role("billing-exec")
        .role_path("/service-role/");
    // The same handler, zipped by hand: not the package eventpipe builds.
    let zip = hand_made_zip(APP_PY);
    let (_, package_sha) = eventpipe_package(&rig.app_dir());
    let wired = hw.wire(&rig.aws, &zip).expect("wire by hand");
    assert_ne!(wired.code_sha256, package_sha);
    let objects = rig.aws.object_keys(&hw.bucket).expect("objects");
    rig.configure(&format!(
        "\nimport {{\n  to = eventpipe_event_pipeline.billing\n  id = \"adopt:{}\"\n}}\n",
        hw.function
    ));
    // The generated configuration cannot know source_dir: the plan that
    // writes it stops there.
    let out = rig
        .ws
        .run(&["plan", "-generate-config-out=generated.tf"])
        .expect("plan runs");
    let generated = rig.ws.read("generated.tf").unwrap_or_else(|e| {
        panic!("no generated.tf ({e})\n{out}");
    });
    for needle in [
        "resource \"eventpipe_event_pipeline\" \"billing\"",
        &format!("function_name = \"{}\"", hw.function),
        "role_name     = \"billing-exec\"",
        &format!("bucket_name   = \"{}\"", hw.bucket),
        "create_bucket = false",
        "filter_prefix = \"data/\"",
        "filter_suffix = \".json\"",
        "memory_size",
        "source_dir",
    ] {
        assert!(
            folded(&generated).contains(&folded(needle)),
            "{needle:?} missing from generated.tf:\n{generated}\n{out}"
        );
    }
    let text = flat(&out);
    assert!(text.contains(FOREIGN_WARNING), "{out}");
    assert!(
        !out.success() && text.contains("source_dir"),
        "the empty source_dir stops the plan and says so\n{out}"
    );

    // The user fills in where the code is; the rest stays as generated.
    rig.ws
        .write("generated.tf", fill_source_dir(&generated))
        .expect("generated.tf");
    let (plan, actions) = saved_plan(&rig.ws, "adopt.tfplan");
    assert_only_in_place(&actions, &plan);
    let text = flat(&plan);
    assert!(
        text.contains("1 to import") && text.contains(ADOPTION_WARNING),
        "{plan}"
    );
    rig.proxy.clear_calls();
    rig.ws.run_ok(&["apply", "adopt.tfplan"]).expect("apply");
    assert_eq!(
        rig.proxy.count("lambda:UpdateFunctionCode"),
        1,
        "code that is not the package is replaced once: {:?}",
        rig.proxy.counts()
    );
    assert_eq!(rig.aws.code_sha256(&hw.function).expect("sha"), package_sha);
    assert_plan_empty(&rig.ws, "the plan after adopting must be empty");
    assert_adopted(&rig.aws, &hw, &objects);
    // The role keeps its path: the function still names it by its ARN.
    assert!(wired.role_arn.contains(":role/service-role/billing-exec"));
    let f = rig
        .aws
        .block_on(
            rig.aws
                .lambda()
                .get_function()
                .function_name(&hw.function)
                .send(),
        )
        .expect("function");
    assert_eq!(
        f.configuration().and_then(|c| c.role()),
        Some(wired.role_arn.as_str())
    );
    assert_eq!(
        state_attrs(&rig.ws, "billing")["role_arn"],
        wired.role_arn.as_str()
    );
    // Import blocks may stay: the resource is in the state now.
    assert_plan_empty(&rig.ws, "again");

    // Once adopted, it imports by name like any pipeline the provider made
    // (its role's name and its unmanaged bucket come from the tags).
    let address = "eventpipe_event_pipeline.billing";
    rig.configure("");
    rig.ws.run_ok(&["state", "rm", address]).expect("state rm");
    rig.ws
        .run_ok(&["import", address, &hw.function])
        .expect("plain import of the adopted pipeline");
    assert_plan_empty(
        &rig.ws,
        "the plan after a plain import of the adopted pipeline",
    );
}

/// An `import` block adopting `hw` as `eventpipe_event_pipeline.<address>`.
fn import_block(address: &str, hw: &HandWired) -> String {
    format!(
        "\nimport {{\n  to = eventpipe_event_pipeline.{address}\n  id = \"adopt:{}\"\n}}\n",
        hw.function
    )
}

/// Pipelines adopting `hws` (named by their bucket's prefix), with their
/// import blocks.
fn adopting(hws: &[(String, HandWired)], create_bucket: bool) -> String {
    hws.iter()
        .map(|(n, hw)| {
            format!(
                "{}{}",
                import_block(n, hw),
                adopted_resource(n, hw, create_bucket)
            )
        })
        .collect()
}

/// Every call one adoption makes, by phase.
#[derive(Debug)]
struct Calibration {
    /// `plan` with the import block: import, refresh and plan.
    plan: Vec<Site>,
    /// The first `apply` (import, plan, then apply): its calls after the
    /// plan's.
    apply: Vec<Site>,
    /// Taking the bucket over (`create_bucket = true`): the apply's calls
    /// after the refresh and plan.
    take_over: Vec<Site>,
}

fn calibrate(tf: &TerraformCli) -> Calibration {
    let rig = Rig::new(tf, None);
    let name = "ac00".to_owned();
    let hw = HandWired::named(&name);
    hw.wire(&rig.aws, &hand_made_zip(APP_PY)).expect("wire");
    let one = vec![(name.clone(), hw)];
    rig.configure(&adopting(&one, false));
    rig.ws.plan(&[]).expect("plan");
    let planned = rig.proxy.calls();
    let plan = fault_table::sites(&planned, &name, &BTreeMap::new());
    rig.proxy.clear_calls();
    rig.ws.apply_auto().expect("apply");
    let apply = fault_table::sites(
        &rig.proxy.calls(),
        &name,
        &fault_table::op_counts(&planned, &name),
    );
    assert_plan_empty(&rig.ws, "calibration");
    rig.configure(&adopting(&one, true));
    rig.proxy.clear_calls();
    rig.ws.plan(&[]).expect("plan");
    let refreshed = rig.proxy.calls();
    rig.proxy.clear_calls();
    rig.ws.apply_auto().expect("apply");
    let take_over = fault_table::sites(
        &rig.proxy.calls(),
        &name,
        &fault_table::op_counts(&refreshed, &name),
    );
    assert_plan_empty(&rig.ws, "calibration");
    // The plan's look at the bucket's encryption has its own table in
    // faults_kms.rs: a denied look is a warning (kms.rs), not a failure.
    let no_look = |sites: Vec<Site>| -> Vec<Site> {
        sites
            .into_iter()
            .filter(|s| s.op != "s3:GetBucketEncryption")
            .collect()
    };
    let cal = Calibration {
        plan: no_look(plan),
        apply: no_look(apply),
        take_over: no_look(take_over),
    };
    eprintln!("calibration: {cal:#?}");
    cal
}

#[test]
fn a_failure_at_any_adoption_call_changes_nothing_or_converges_on_the_next_apply() {
    let tf = newest_cli();
    let cal = calibrate(&tf);
    assert_covers(
        "plan",
        &cal.plan,
        &[
            "lambda:GetFunction",
            "lambda:GetPolicy",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:GetRolePolicy",
            "s3:GetBucketNotificationConfiguration",
        ],
    );
    assert_covers(
        "apply",
        &cal.apply,
        &[
            "iam:TagRole",
            "lambda:TagResource",
            "iam:PutRolePolicy",
            "lambda:UpdateFunctionCode",
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "s3:PutBucketNotificationConfiguration",
        ],
    );
    assert_covers(
        "take over",
        &cal.take_over,
        &[
            "s3:PutBucketTagging",
            "s3:PutPublicAccessBlock",
            "s3:PutBucketEncryption",
        ],
    );
    let started = Instant::now();
    let rig = Rig::new(&tf, None);
    let most = cal.plan.len().max(cal.apply.len()).max(cal.take_over.len());
    let hws: Vec<(String, HandWired)> = (1..=most)
        .map(|i| {
            let n = format!("ac{i:02}");
            let hw = HandWired::named(&n);
            (n, hw)
        })
        .collect();
    for (_, hw) in &hws {
        hw.wire(&rig.aws, &hand_made_zip(APP_PY)).expect("wire");
    }
    let objects = rig.aws.object_keys(&hws[0].1.bucket).expect("objects");
    let before = rig.aws.list_everything().expect("inventory");
    let table_of = |sites: &[Site]| -> Vec<(String, Site)> {
        hws.iter()
            .map(|(n, _)| n.clone())
            .zip(sites.iter().cloned())
            .collect()
    };
    let mut rows = Vec::new();

    // The plan: an import, refresh or plan-time call fails; nothing changes.
    rig.configure(&adopting(&hws, false));
    let table = table_of(&cal.plan);
    fault_table::arm(&rig.proxy, &table);
    let out = rig
        .ws
        .run(&["plan", "-json"])
        .expect("plan runs")
        .failed()
        .expect("the plan fails");
    let errors = fault_table::json_diagnostics(&out, "error");
    fault_table::assert_each_reported(&out, &errors, &table, &rig.proxy);
    assert_eq!(rig.aws.list_everything().expect("inventory"), before);
    for (name, hw) in &hws {
        let st = statements(&rig.aws, &hw.function);
        assert_eq!(st.len(), 1, "{name}: {st:?}");
        assert_eq!(st[0]["Sid"], hw.sid.as_str());
        assert!(role_tags(&rig.aws, &hw.role).is_empty(), "{name}");
    }
    for (name, site) in &table {
        rows.push((
            name.clone(),
            site.clone(),
            "plan failed, nothing changed".to_owned(),
        ));
    }

    // The first apply: a failure keeps the imported state; the next apply
    // converges.
    rig.proxy.clear_rules();
    let table = table_of(&cal.apply);
    fault_table::arm(&rig.proxy, &table);
    let out = rig
        .ws
        .run(&["apply", "-auto-approve", "-json"])
        .expect("apply runs")
        .failed()
        .expect("the apply fails");
    let errors = fault_table::json_diagnostics(&out, "error");
    fault_table::assert_each_reported(&out, &errors, &table, &rig.proxy);
    let state = tainted_by_name(&rig.ws);
    for (name, site) in &table {
        let outcome = match state.get(name) {
            Some(false) => "imported state kept",
            Some(true) => panic!("{name}: a failed adoption must not taint the pipeline"),
            None => "not imported",
        };
        rows.push((name.clone(), site.clone(), outcome.to_owned()));
    }
    rig.proxy.clear_rules();
    // A change the provider made before failing is not taken for a change
    // made outside Terraform, and code already deployed is not sent again.
    let plan = rig.ws.plan(&[]).expect("plan");
    assert!(!plan.contains("changed outside Terraform"), "{plan}");
    let (_, package_sha) = eventpipe_package(&rig.app_dir());
    let deployed: Vec<bool> = hws
        .iter()
        .map(|(_, hw)| rig.aws.code_sha256(&hw.function).expect("sha") == package_sha)
        .collect();
    rig.proxy.clear_calls();
    rig.ws.apply_auto().expect("apply");
    for ((name, hw), deployed) in hws.iter().zip(deployed) {
        let uploads = rig
            .proxy
            .calls()
            .iter()
            .filter(|c| c.op == "lambda:UpdateFunctionCode" && c.mentions(&hw.function))
            .count();
        assert_eq!(
            uploads,
            usize::from(!deployed),
            "{name}: deployed already: {deployed}"
        );
    }
    assert_plan_empty(&rig.ws, "the plan after the adoptions converged");
    for (_, hw) in &hws {
        assert_adopted(&rig.aws, hw, &objects);
    }
    let adopted = rig.aws.list_everything().expect("inventory");
    assert_eq!(adopted.buckets, before.buckets, "nothing added");
    assert_eq!(adopted.functions, before.functions, "nothing added");
    let roles = |inv: &tests::Inventory| -> Vec<String> {
        inv.roles.iter().map(|r| r.name.clone()).collect()
    };
    assert_eq!(roles(&adopted), roles(&before), "nothing added");

    // Taking the buckets over.
    rig.configure(&adopting(&hws, true));
    let table = table_of(&cal.take_over);
    fault_table::arm(&rig.proxy, &table);
    let out = rig
        .ws
        .run(&["apply", "-auto-approve", "-json"])
        .expect("apply runs")
        .failed()
        .expect("the apply fails");
    let errors = fault_table::json_diagnostics(&out, "error");
    fault_table::assert_each_reported(&out, &errors, &table, &rig.proxy);
    for (name, site) in &table {
        rows.push((name.clone(), site.clone(), "prior state kept".to_owned()));
    }
    rig.proxy.clear_rules();
    rig.ws.apply_auto().expect("apply");
    assert_plan_empty(&rig.ws, "the plan after the take-overs converged");
    for (_, hw) in &hws {
        assert_adopted(&rig.aws, hw, &objects);
    }
    let taken = rig.aws.list_everything().expect("inventory");
    assert_eq!(roles(&taken), roles(&before), "nothing added");
    assert_eq!(taken.functions, before.functions, "nothing added");
    assert_eq!(taken.buckets, before.buckets, "nothing added");
    // The pipelines own everything now: destroy leaves nothing.
    destroy_and_assert_empty(&rig.ws, &rig.moto);
    fault_table::print_table(
        &format!(
            "adopt: {} plan + {} apply + {} take-over call sites, {:.0} s",
            cal.plan.len(),
            cal.apply.len(),
            cal.take_over.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}

#[test]
fn code_changed_between_the_import_and_the_first_apply_is_replaced() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, None);
    let hw = HandWired::named("late");
    let (zip, package_sha) = eventpipe_package(&rig.app_dir());
    hw.wire(&rig.aws, &zip).expect("wire by hand");
    rig.configure(&adopted_resource("late", &hw, false));
    rig.ws
        .run_ok(&[
            "import",
            "eventpipe_event_pipeline.late",
            &format!("adopt:{}", hw.function),
        ])
        .expect("adopt import");
    // Deployed code matched the package at the import; someone deploys
    // something else before the first apply.
    let call = rig
        .aws
        .lambda()
        .update_function_code()
        .function_name(&hw.function)
        .zip_file(aws_sdk_lambda::primitives::Blob::new(hand_made_zip(
            "def handler(e, c):\n    return 0\n",
        )))
        .send();
    rig.aws.block_on(call).expect("out-of-band deploy");
    assert_ne!(rig.aws.code_sha256(&hw.function).expect("sha"), package_sha);
    rig.proxy.clear_calls();
    rig.ws.apply_auto().expect("apply");
    assert_eq!(
        rig.proxy.count("lambda:UpdateFunctionCode"),
        1,
        "the code deployed now is not the package: {:?}",
        rig.proxy.counts()
    );
    assert_eq!(rig.aws.code_sha256(&hw.function).expect("sha"), package_sha);
    assert_plan_empty(&rig.ws, "the plan after adopting must be empty");
}

/// The configuration a team writes for `hw` under a name of its choosing:
/// `adopted_resource` at `eventpipe_event_pipeline.orders` with `name` set
/// and every part named as it is.
fn renamed_resource(name: &str, hw: &HandWired, create_bucket: bool) -> String {
    adopted_resource("orders", hw, create_bucket).replacen(
        &format!("\n  name          = \"{}\"\n", hw.function),
        &format!("\n  name          = \"{name}\"\n"),
        1,
    )
}

/// The tags of log group `name`.
#[allow(deprecated)] // ListTagsLogGroup: not the call the provider makes.
fn log_group_tags(aws: &Aws, name: &str) -> BTreeMap<String, String> {
    let out = aws
        .block_on(aws.logs().list_tags_log_group().log_group_name(name).send())
        .expect("ListTagsLogGroup");
    out.tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// Every part of `hw` carries `eventpipe:pipeline = owner` (the bucket
/// too when the pipeline manages it), and the one notification of the
/// function is the pipeline's, under `owner`'s id.
fn assert_owned_by(aws: &Aws, hw: &HandWired, owner: &str, bucket_owned: bool) {
    let owner_tag = ("eventpipe:pipeline".to_owned(), owner.to_owned());
    let roles = role_tags(aws, &hw.role);
    assert!(roles.contains(&owner_tag), "role tags {roles:?}");
    let ftags = function_tags(aws, &hw.function);
    assert_eq!(
        ftags.get("eventpipe:pipeline").map(String::as_str),
        Some(owner),
        "{ftags:?}"
    );
    let group = format!("/aws/lambda/{}", hw.function);
    let gtags = log_group_tags(aws, &group);
    assert_eq!(
        gtags.get("eventpipe:pipeline").map(String::as_str),
        Some(owner),
        "{group}: {gtags:?}"
    );
    let btags = aws.bucket_tags(&hw.bucket).expect("bucket tags");
    let expected = bucket_owned.then_some(owner);
    assert_eq!(
        btags.get("eventpipe:pipeline").map(String::as_str),
        expected,
        "bucket tags {btags:?}"
    );
    let arn = format!(
        "arn:aws:lambda:us-east-1:{ACCOUNT}:function:{}",
        hw.function
    );
    let ids: Vec<String> = lambda_notifications(aws, &hw.bucket)
        .into_iter()
        .filter(|n| n.lambda_function_arn() == arn)
        .filter_map(|n| n.id().map(str::to_owned))
        .collect();
    assert_eq!(ids, [format!("eventpipe-{owner}-0")]);
}

#[test]
fn a_hand_wired_pipeline_is_adopted_under_the_name_the_team_wants() {
    for tf in clis() {
        let started = Instant::now();
        let rig = Rig::new(&tf, None);
        // The seed-style pipeline, named the way the issue's team has it.
        let hw = HandWired {
            bucket: "legacy-data".into(),
            role: "legacy-role".into(),
            function: "legacy-fn".into(),
            ..HandWired::named("legacy")
        };
        let (zip, _) = eventpipe_package(&rig.app_dir());
        hw.wire(&rig.aws, &zip).expect("wire by hand");
        let objects = rig.aws.object_keys(&hw.bucket).expect("objects");
        rig.configure(&renamed_resource("orders", &hw, false));
        let address = "eventpipe_event_pipeline.orders";
        rig.ws
            .run_ok(&["import", address, &format!("adopt:{}", hw.function)])
            .expect("adopt import");

        // Before the first apply, a name the function and role would follow
        // is refused: it would delete what was just adopted.
        let unnamed = renamed_resource("orders", &hw, false)
            .replace(&format!("  function_name = \"{}\"\n", hw.function), "")
            .replace(&format!("  role_name     = \"{}\"\n", hw.role), "");
        rig.configure(&unnamed);
        let refused = rig.ws.run(&["plan"]).expect("plan runs");
        let text = flat(&refused);
        assert!(
            !refused.success()
                && text.contains("Replacement of an adopted pipeline")
                && text.contains("set `function_name` and `role_name` to the adopted values")
                && text.contains("name = \"orders\""),
            "{refused}"
        );
        rig.configure(&renamed_resource("orders", &hw, false));

        // The plan takes the name in place: nothing is replaced, and the
        // plan says what is retagged.
        let (plan, actions) = saved_plan(&rig.ws, "adopt.tfplan");
        assert_only_in_place(&actions, &plan);
        let text = flat(&plan);
        for needle in [
            ADOPTION_WARNING,
            "Renaming the pipeline in place",
            "\"legacy-fn\" -> \"orders\"",
            "the role \"legacy-role\"",
            "the function \"legacy-fn\"",
            "eventpipe:pipeline = \"orders\"",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from\n{plan}");
        }
        assert!(
            !text.contains("Replacement of an adopted pipeline"),
            "{plan}"
        );

        rig.ws.run_ok(&["apply", "adopt.tfplan"]).expect("apply");
        assert_plan_empty(&rig.ws, "the plan after adopting under a new name");
        assert_owned_by(&rig.aws, &hw, "orders", false);
        let attrs = state_attrs(&rig.ws, "orders");
        assert_eq!(attrs["name"], "orders");
        assert_eq!(attrs["id"], "orders");
        assert_eq!(attrs["function_name"], hw.function.as_str());
        assert_eq!(attrs["role_name"], hw.role.as_str());
        // Every part kept its name; nothing was made or deleted but the
        // pipeline's log group.
        let inv = rig.aws.list_everything().expect("inventory");
        assert_eq!(inv.buckets, [hw.bucket.as_str()], "{inv}");
        assert_eq!(inv.functions, [hw.function.as_str()], "{inv}");
        assert_eq!(inv.roles.len(), 1, "{inv}");
        assert_eq!(inv.roles[0].name, hw.role, "{inv}");
        assert_eq!(rig.aws.object_keys(&hw.bucket).expect("objects"), objects);

        // Later the team takes the bucket over and renames the pipeline
        // again: still in place, every part (the bucket now too) retagged.
        rig.configure(&renamed_resource("orders", &hw, true));
        rig.ws.apply_auto().expect("take the bucket over");
        assert_owned_by(&rig.aws, &hw, "orders", true);
        rig.configure(&renamed_resource("sales", &hw, true));
        let (plan, actions) = saved_plan(&rig.ws, "rename.tfplan");
        assert_only_in_place(&actions, &plan);
        let text = flat(&plan);
        assert!(
            text.contains("Renaming the pipeline in place")
                && text.contains(&format!("the bucket \"{}\"", hw.bucket)),
            "{plan}"
        );
        rig.proxy.clear_calls();
        rig.ws.run_ok(&["apply", "rename.tfplan"]).expect("apply");
        for op in [
            "lambda:DeleteFunction",
            "lambda:CreateFunction",
            "iam:DeleteRole",
            "iam:CreateRole",
            "s3:DeleteBucket",
            "s3:CreateBucket",
            "logs:DeleteLogGroup",
        ] {
            assert_eq!(rig.proxy.count(op), 0, "a rename in place calls no {op}");
        }
        assert_plan_empty(&rig.ws, "the plan after the rename");
        assert_owned_by(&rig.aws, &hw, "sales", true);
        assert_eq!(rig.aws.object_keys(&hw.bucket).expect("objects"), objects);

        // A name the function and role would take makes new ones under it
        // (the pipeline is updated in place): the plan says so and how to
        // keep them.
        let unnamed = renamed_resource("sales2", &hw, true)
            .replace(&format!("  function_name = \"{}\"\n", hw.function), "")
            .replace(&format!("  role_name     = \"{}\"\n", hw.role), "");
        rig.configure(&unnamed);
        let out = rig.ws.plan(&[]).expect("plan");
        let text = flat(&out);
        assert!(
            text.contains("Renaming the pipeline replaces the parts named after it")
                && text.contains(&format!(
                    "the function \"{}\" (new: \"sales2\")",
                    hw.function
                ))
                && text.contains(&format!("function_name = \"{}\"", hw.function))
                && text.contains(&format!("role_name = \"{}\"", hw.role))
                && text.contains("will be updated in-place")
                && !text.contains("must be replaced"),
            "{out}"
        );
        eprintln!(
            "terraform {}: adopted as orders, renamed to sales in {:.1} s",
            tf.label,
            started.elapsed().as_secs_f64()
        );
    }
}
