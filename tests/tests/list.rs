//! `list "eventpipe_event_pipeline"` (`terraform query`, protocol 6.10),
//! through the protocol test client (`tests/src/plugin_client.rs`: the
//! real provider binary, handshake and AutoMTLS, as Terraform 1.14 starts
//! it; no CLI that speaks 6.10 can run here), against moto behind the fault
//! proxy, whose request log says which AWS calls the list made and when
//! (and which hands `ListFunctions` out in pages of 50, as Lambda does and
//! moto does not).
//!
//! - Three pipelines Terraform 1.11.4 made (one in a module instance), two
//!   S3 → Lambda wirings made by hand (one through a queue), one function
//!   nothing notifies: `all` lists 5, `owned` 3, `adoptable` 2, `bucket` and
//!   `name_prefix` narrow them, with `include_resource` each object is what
//!   `ImportResourceState` gives for the ID the identity stands for; a bad
//!   `include` is refused; each AWS call site of a list failed once ends
//!   the list with one error naming it, and the list after it converges,
//!   having made nothing. The configuration GenerateResourceConfig gives
//!   for the two adoptable results plans in place on 1.11.4 with
//!   `import { id = "adopt:…" }` blocks, and is empty after the apply.
//! - 1,000 functions made by the test: the first result arrives before the
//!   last `ListFunctions` page is asked for, a limit stops the pages and
//!   the looks, and the provider's peak RSS stays under 32 MB.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::fault_table::{self, Site};
use common::rig::Rig;
use common::*;
use serde_json::{Value as Json, json};
use tests::fault_proxy::{Fault, Rule};
use tests::hand_wired::HandWired;
use tests::plugin_client::{ListEvent, PluginClient};
use tests::provider_bin::provider_binary;
use tokio::runtime::Runtime;

const TYPE: &str = "eventpipe_event_pipeline";
const ACCOUNT: &str = "123456789012";

/// The provider, started in the rig's workspace and configured as
/// Terraform does, talking to AWS through the rig's proxy.
fn client(rt: &Runtime, rig: &Rig) -> PluginClient {
    let binary = provider_binary().expect("provider binary");
    let endpoint = rig.proxy.endpoint();
    let mut c = rt
        .block_on(PluginClient::start(&binary, rig.ws.dir(), &[]))
        .expect("start the provider");
    rt.block_on(c.configure(json!({
        "region": tests::aws::REGION,
        "endpoint_url": endpoint,
        "access_key": "test",
        "secret_key": "test",
    })))
    .expect("configure the provider");
    c
}

/// A list's results; panics on an error event.
fn list(rt: &Runtime, c: &mut PluginClient, config: Json) -> Vec<ListEvent> {
    rt.block_on(c.list(TYPE, config.clone(), false, 1000, |_| {}))
        .unwrap_or_else(|e| panic!("list {config}: {e:#}"))
}

/// Each result as (identity name, adopt, display name), in list order.
fn shown(events: &[ListEvent]) -> Vec<(String, bool, String)> {
    events
        .iter()
        .map(|e| {
            (
                e.identity["name"].as_str().unwrap_or_default().to_owned(),
                e.identity["adopt"].as_bool().unwrap_or_default(),
                e.display_name.clone(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<(String, bool, String)>) -> Vec<(String, bool, String)> {
    v.sort();
    v
}

fn names(events: &[ListEvent]) -> Vec<String> {
    let mut n: Vec<String> = shown(events).into_iter().map(|(n, _, _)| n).collect();
    n.sort();
    n
}

/// What `ImportResourceState` answers for `id`, decoded (no ReadResource).
fn imported(rt: &Runtime, c: &mut PluginClient, id: &str) -> Json {
    let resp = rt
        .block_on(c.raw().import_resource_state(
            tfplugin_proto::tfplugin6::import_resource_state::Request {
                type_name: TYPE.into(),
                id: id.into(),
                client_capabilities: None,
                identity: None,
            },
        ))
        .expect("ImportResourceState")
        .into_inner();
    let [one] = <[_; 1]>::try_from(resp.imported_resources).expect("one imported resource");
    tests::plugin_client::decode(one.state.as_ref().expect("a state")).expect("decode")
}

/// Three pipelines, one of them in module instance `module.team`; the
/// module reads the code from the root's `app/`.
fn owned_pipelines(rig: &Rig) {
    let in_module = Pipeline::seed("lst-reports", "lst-reports-in")
        .hcl()
        .replace("${path.module}/app", "${path.root}/app");
    rig.ws
        .write(
            "team/main.tf",
            format!("{}{in_module}", tests::mirror::required_providers_hcl()),
        )
        .expect("module");
    rig.configure(&format!(
        "{}{}\nmodule \"team\" {{\n  source = \"./team\"\n}}\n",
        Pipeline::seed("lst-orders", "lst-orders-in").hcl(),
        Pipeline::seed("lst-billing", "lst-billing-in").hcl(),
    ));
    rig.ws.init().expect("init with the module");
    rig.apply();
}

fn owned(name: &str, bucket: &str) -> (String, bool, String) {
    (name.to_owned(), false, format!("{name} (bucket {bucket})"))
}

fn adoptable(function: &str, display: &str) -> (String, bool, String) {
    (function.to_owned(), true, display.to_owned())
}

#[test]
fn pipelines_owned_and_wired_by_hand_are_listed_filtered_and_imported_as_import_does() {
    let started = Instant::now();
    let rig = Rig::new(&newest_cli(), None);
    rig.proxy.page_lambda_functions(true);
    owned_pipelines(&rig);
    let zip = std::fs::read(rig.ws.dir().join("app/app.py")).expect("app.py");
    let zip = package_zip(&zip);
    let legacy = HandWired::named("legacy");
    legacy.wire(&rig.aws, &zip).expect("wire legacy");
    let intake = HandWired::named("intake").through_queue();
    intake.wire(&rig.aws, &zip).expect("wire intake");
    let role = rig
        .aws
        .create_service_role("lonely-role", "/", "lambda.amazonaws.com")
        .expect("role");
    rig.aws
        .create_function(&tests::aws::NewFunction {
            name: "lonely-fn",
            role_arn: &role,
            runtime: "python3.12",
            handler: "app.handler",
            memory_mb: 128,
            timeout_s: 3,
            zip: &zip,
        })
        .expect("a function nothing notifies");
    let before = rig.aws.list_everything().expect("inventory");

    let rt = Runtime::new().expect("runtime");
    let mut c = client(&rt, &rig);
    let all = list(&rt, &mut c, json!({}));
    let want_owned = vec![
        owned("lst-billing", "lst-billing-in"),
        owned("lst-orders", "lst-orders-in"),
        owned("lst-reports", "lst-reports-in"),
    ];
    let want_adoptable = vec![
        adoptable(
            "intake-handler",
            "intake-data → intake-handler (data/, .json), through queue intake-uploads",
        ),
        adoptable(
            "legacy-handler",
            "legacy-data → legacy-handler (data/, .json)",
        ),
    ];
    let mut want_all = [want_owned.clone(), want_adoptable.clone()].concat();
    want_all.sort();
    assert_eq!(sorted(shown(&all)), want_all);
    for e in &all {
        assert_eq!(e.identity["account_id"], ACCOUNT, "{:?}", e.identity);
        assert_eq!(e.identity["region"], tests::aws::REGION, "{:?}", e.identity);
        assert!(e.resource.is_none());
    }
    // The default is `all`.
    let explicit = list(&rt, &mut c, json!({"include": "all"}));
    assert_eq!(sorted(shown(&explicit)), want_all);
    let own = list(&rt, &mut c, json!({"include": "owned"}));
    assert_eq!(sorted(shown(&own)), want_owned);
    let hand = list(&rt, &mut c, json!({"include": "adoptable"}));
    assert_eq!(sorted(shown(&hand)), want_adoptable);

    // The filters narrow.
    assert_eq!(
        names(&list(&rt, &mut c, json!({"bucket": "legacy-data"}))),
        ["legacy-handler"]
    );
    assert_eq!(
        names(&list(&rt, &mut c, json!({"bucket": "lst-orders-in"}))),
        ["lst-orders"]
    );
    assert_eq!(
        names(&list(
            &rt,
            &mut c,
            json!({"bucket": "intake-data", "include": "owned"})
        )),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&list(&rt, &mut c, json!({"name_prefix": "lst-"}))),
        ["lst-billing", "lst-orders", "lst-reports"]
    );
    assert_eq!(
        names(&list(
            &rt,
            &mut c,
            json!({"name_prefix": "in", "include": "adoptable"})
        )),
        ["intake-handler"]
    );
    assert_eq!(
        names(&list(&rt, &mut c, json!({"name_prefix": "lonely"}))),
        Vec::<String>::new()
    );
    // The limit is honoured.
    let two = rt
        .block_on(c.list(TYPE, json!({}), false, 2, |_| {}))
        .expect("list with a limit");
    assert_eq!(two.len(), 2);

    // A bad include is refused on validation and when listing.
    let refused = rt
        .block_on(c.validate_list(TYPE, json!({"include": "mine"})))
        .expect("validate");
    assert!(
        refused.len() == 1 && refused[0].contains("`include`") && refused[0].contains("owned"),
        "{refused:?}"
    );
    let err = rt
        .block_on(c.list(TYPE, json!({"include": "mine"}), false, 10, |_| {}))
        .expect_err("a bad include fails the list");
    assert!(format!("{err:#}").contains("`include`"), "{err:#}");

    // With the resource objects: each is what ImportResourceState gives.
    let with = rt
        .block_on(c.list(TYPE, json!({}), true, 100, |_| {}))
        .expect("list with resources");
    assert_eq!(with.len(), 5);
    for e in &with {
        let name = e.identity["name"].as_str().expect("name");
        let id = if e.identity["adopt"] == true {
            format!("adopt:{name}")
        } else {
            name.to_owned()
        };
        let object = e.resource.clone().expect("a resource object");
        assert_eq!(object, imported(&rt, &mut c, &id), "{id}");
        assert_eq!(object["function_name"], name);
    }
    assert_eq!(
        rig.aws.list_everything().expect("inventory"),
        before,
        "a list makes nothing"
    );

    fault_rows(&rt, &mut c, &rig, &want_all);
    assert_eq!(
        rig.aws.list_everything().expect("inventory"),
        before,
        "0 orphans"
    );
    generated_config_adopts_in_place(&rt, &mut c, &rig);
    eprintln!(
        "list scene done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The zip of `app.py` alone, as a hand-made deployment would be.
fn package_zip(app_py: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("app.py", zip::write::SimpleFileOptions::default())
        .expect("zip entry");
    z.write_all(app_py).expect("zip body");
    z.finish().expect("zip").into_inner()
}

/// The fault table, recorded: every call a full list makes (with the
/// resource objects) is failed once, each in its own list, with AWS's
/// AccessDenied; that list ends with one error naming the call in AWS's
/// words, and the list after it returns the full set.
fn fault_rows(rt: &Runtime, c: &mut PluginClient, rig: &Rig, want: &[(String, bool, String)]) {
    rig.proxy.clear_calls();
    let calibration = rt
        .block_on(c.list(TYPE, json!({}), true, 100, |_| {}))
        .expect("calibration list");
    assert_eq!(calibration.len(), 5);
    let mut sites: Vec<Site> = Vec::new();
    for call in rig.proxy.calls() {
        if !sites.iter().any(|s| s.op == call.op) {
            sites.push(Site {
                op: call.op.clone(),
                nth: 1,
            });
        }
    }
    fault_table::assert_covers(
        "list",
        &sites,
        &[
            "lambda:ListFunctions",
            "lambda:ListTags",
            "lambda:GetPolicy",
            "lambda:ListEventSourceMappings",
            "s3:GetBucketNotificationConfiguration",
            "sqs:GetQueueUrl",
            "sqs:GetQueueAttributes",
        ],
    );
    let mut rows = Vec::new();
    for site in &sites {
        rig.proxy.clear_calls();
        rig.proxy
            .add_rule(Rule::on(&site.op).nth(site.nth).fail(Fault::AccessDenied));
        let err = rt
            .block_on(c.list(TYPE, json!({}), true, 100, |_| {}))
            .expect_err("the failed call ends the list");
        rig.proxy.clear_rules();
        let text = format!("{err:#}");
        assert!(
            text.contains(&site.op) && text.contains(&fault_table::denied_words(&site.op)),
            "{site}: the error names the call in AWS's words: {text}"
        );
        let again = rt
            .block_on(c.list(TYPE, json!({}), true, 100, |_| {}))
            .expect("the list after the failure");
        assert_eq!(sorted(shown(&again)), want, "{site}: the list converges");
        rows.push((
            site.op.clone(),
            site.clone(),
            "one error event; next list: all 5".to_owned(),
        ));
    }
    fault_table::print_table("list: each call failed once", &rows);
}

/// What `terraform query -generate-config-out` writes for the two
/// adoptable results (their objects, through GenerateResourceConfig), with
/// `import { id = "adopt:…" }` blocks and `source_dir` filled in, planned
/// by Terraform 1.11.4 in a workspace of its own: in place only, and empty
/// after the apply.
fn generated_config_adopts_in_place(rt: &Runtime, c: &mut PluginClient, rig: &Rig) {
    let hand = rt
        .block_on(c.list(TYPE, json!({"include": "adoptable"}), true, 10, |_| {}))
        .expect("adoptable, with objects");
    assert_eq!(hand.len(), 2);
    let mut main = String::new();
    for e in &hand {
        let function = e.identity["name"].as_str().expect("name");
        let object = e.resource.as_ref().expect("object");
        let config = rt
            .block_on(c.generate_config(TYPE, object))
            .expect("generate config");
        if function == "intake-handler" {
            assert_eq!(config["delivery"], "queue", "{config}");
            assert_eq!(config["queue"]["batch_size"], 5, "{config}");
        }
        let address = function.replace('-', "_");
        let hcl = c.resource_hcl(TYPE, &address, &config).expect("HCL");
        let filled: Vec<String> = hcl
            .lines()
            .map(|l| match l.trim_start().starts_with("source_dir") {
                true => "    source_dir = \"${path.module}/app\"".to_owned(),
                false => l.to_owned(),
            })
            .collect();
        main.push_str(&format!(
            "\nimport {{\n  to = {TYPE}.{address}\n  id = \"adopt:{function}\"\n}}\n\n{}\n",
            filled.join("\n")
        ));
    }
    let ws = workspace_through(rig.ws.terraform(), &rig.proxy, &main);
    let (plan, actions) = saved_plan(&ws, "adopt.tfplan");
    assert_eq!(actions.len(), 2, "{plan}");
    for (address, a) in &actions {
        assert_eq!(a, &["update"], "{address}: in place only\n{plan}");
    }
    assert!(
        flat(&plan).contains("2 to import, 0 to add, 2 to change, 0 to destroy"),
        "{plan}"
    );
    ws.run_ok(&["apply", "adopt.tfplan"]).expect("apply");
    assert_plan_empty(&ws, "the plan after adopting from generated config");
}

/// The names of `n` functions the scale test makes.
fn scale_name(i: usize) -> String {
    format!("fn-{i:04}")
}

#[test]
fn a_thousand_functions_stream_in_pages_within_the_limit_and_32_mb() {
    let rig = Rig::new(&newest_cli(), None);
    rig.proxy.page_lambda_functions(true);
    let n = 1000;
    let made = Instant::now();
    let owners: BTreeMap<usize, String> = (0..n).step_by(100).map(|i| (i, scale_name(i))).collect();
    make_functions(&rig, n, &owners);
    eprintln!(
        "made {n} functions in {:.1} s",
        made.elapsed().as_secs_f64()
    );
    let rt = Runtime::new().expect("runtime");
    let mut c = client(&rt, &rig);
    let configured = peak_rss_kb(c.pid());

    // Everything: the first result before the last page is asked for.
    rig.proxy.clear_calls();
    let mut calls_at_first: Option<usize> = None;
    let proxy = &rig.proxy;
    let listed = Instant::now();
    let all = rt
        .block_on(c.list(TYPE, json!({}), false, 2000, |e| {
            if calls_at_first.is_none() && !e.identity.is_null() {
                calls_at_first = Some(proxy.calls().len());
            }
        }))
        .expect("list 1,000 functions");
    let took = listed.elapsed();
    assert_eq!(
        names(&all),
        owners.values().cloned().collect::<Vec<_>>(),
        "the ten owned pipelines"
    );
    let calls = rig.proxy.calls();
    let pages: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.op == "lambda:ListFunctions")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(pages.len(), n / 50, "every page of 50 read once");
    let first = calls_at_first.expect("a first result");
    let last_page = *pages.last().expect("pages");
    assert!(
        first <= last_page,
        "the first result arrived after {first} calls, the last page was call {last_page}"
    );
    let pages_before_first = pages.iter().filter(|&&i| i < first).count();
    let rss = peak_rss_kb(c.pid());
    eprintln!(
        "1,000 functions: {} calls in {:.1} s; first result after {first} calls ({} of {} \
         pages); provider peak RSS {rss} kB, {configured} kB once configured",
        calls.len(),
        took.as_secs_f64(),
        pages_before_first,
        pages.len(),
    );
    // Nothing is held for every function: the list adds little to what
    // the configured provider holds (a release build holds ~13 MB, so
    // this keeps it under 32 MB; a debug build holds ~50 MB of its own).
    assert!(
        rss.saturating_sub(configured) <= 12 * 1024,
        "the list grew the provider from {configured} kB to {rss} kB"
    );
    let binary = provider_binary().expect("provider binary");
    if binary.components().any(|c| c.as_os_str() == "release") {
        assert!(rss <= 32 * 1024, "peak RSS {rss} kB over 32 MB");
    }

    // A limit stops the pages and the looks: the third owned pipeline is
    // function 200, about page 5 (moto lists in the order the functions
    // were made, sixteen at a time).
    let order = listing_order(&rig);
    let third = order
        .iter()
        .position(|f| *f == scale_name(200))
        .expect("function 200 listed");
    rig.proxy.clear_calls();
    let three = rt
        .block_on(c.list(TYPE, json!({"include": "owned"}), false, 3, |_| {}))
        .expect("list with a limit");
    assert_eq!(
        names(&three),
        [scale_name(0), scale_name(100), scale_name(200)]
    );
    // Whatever was in flight has landed; nothing more is asked.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let counts = rig.proxy.counts();
    // The looks run eight at a time, so up to seven functions past it may
    // have been taken from the pages.
    let read = counts.get("lambda:ListFunctions").copied().unwrap_or(0);
    assert!(
        (third / 50 + 1..=(third + 7) / 50 + 1).contains(&read),
        "the pages up to function 200's (at {third}) only: {counts:?}"
    );
    let looked = counts.get("lambda:ListTags").copied().unwrap_or(0);
    assert!(
        (third + 1..=third + 1 + 8).contains(&looked),
        "the functions up to function 200 (at {third}) and at most the looks in flight: {looked}"
    );
    eprintln!("limit 3: {counts:?}");
}

/// The function names in the order `ListFunctions` gives them.
fn listing_order(rig: &Rig) -> Vec<String> {
    let pages = rig
        .aws
        .lambda()
        .list_functions()
        .into_paginator()
        .items()
        .send();
    let all = rig
        .aws
        .block_on(pages.collect::<Vec<_>>())
        .into_iter()
        .map(|f| f.expect("ListFunctions"));
    all.filter_map(|f| f.function_name().map(str::to_owned))
        .collect()
}

/// The provider's peak resident set (`VmHWM`), in kB.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// `n` functions straight into moto, sixteen at a time; those in `owners`
/// tagged as pipelines this provider made (function i, bucket bucket-i).
fn make_functions(rig: &Rig, n: usize, owners: &BTreeMap<usize, String>) {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime as LambdaRuntime};
    use futures::StreamExt as _;
    let role = rig
        .aws
        .create_service_role("scale-role", "/", "lambda.amazonaws.com")
        .expect("role");
    let zip = package_zip(b"def handler(event, context):\n    return None\n");
    let lambda = rig.aws.lambda().clone();
    let made = futures::stream::iter(0..n)
        .map(|i| {
            let mut call = lambda
                .create_function()
                .function_name(scale_name(i))
                .role(&role)
                .runtime(LambdaRuntime::Python312)
                .handler("app.handler")
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(zip.clone()))
                        .build(),
                );
            if let Some(name) = owners.get(&i) {
                call = call
                    .tags("eventpipe:pipeline", name)
                    .tags("eventpipe:bucket", format!("bucket-{i}"));
            }
            call.send()
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>();
    for r in rig.aws.block_on(made) {
        r.expect("CreateFunction");
    }
}
