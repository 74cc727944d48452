//! Nothing lost, end to end on the emulator: failed events go to a queue,
//! logs go to a group the pipeline makes (with its retention and tags), and
//! the function's concurrency, `/tmp` and layers are what the configuration
//! says. Every setting is read back with the tests' own AWS client; what
//! moto does not echo (the function's logging configuration) is read from
//! the requests the provider sent, recorded by the proxy.

mod common;

use std::collections::HashMap;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{LayerVersionContentInput, Runtime};
use aws_sdk_sqs::types::QueueAttributeName;
use common::*;
use serde_json::Value as Json;
use tests::fault_proxy::FaultProxy;
use tests::{Aws, Moto};

const EMPTY_PLAN: &str = "expected an empty plan";
const ACCOUNT: &str = "123456789012";

/// The smallest valid zip: an empty archive.
fn empty_zip() -> Vec<u8> {
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    zip
}

/// Publishes layer `name` in the emulator; returns its version ARN.
fn publish_layer(aws: &Aws, name: &str) -> String {
    let out = aws
        .block_on(
            aws.lambda()
                .publish_layer_version()
                .layer_name(name)
                .content(
                    LayerVersionContentInput::builder()
                        .zip_file(Blob::new(empty_zip()))
                        .build(),
                )
                .compatible_runtimes(Runtime::Python312)
                .send(),
        )
        .expect("PublishLayerVersion");
    out.layer_version_arn()
        .expect("a layer version ARN")
        .to_owned()
}

/// Everything the acceptance asks for at once.
fn full(force_destroy: bool, layer: &str) -> String {
    Pipeline::named("full").force_destroy(force_destroy).tags("{ team = \"data\" }").extra("  on_failure {\n    maximum_retry_attempts = 1\n    maximum_event_age      = 3600\n  }\n\
         \n  logs {\n    retention_in_days     = 14\n    format                = \"JSON\"\n    \
         application_log_level = \"INFO\"\n    system_log_level      = \"WARN\"\n  }\n").function_lines(&format!(
            "    reserved_concurrency = 5\n    ephemeral_storage    = 1024\n    \
             layers               = [\"{layer}\"]\n"
        )).hcl()
}

/// No `logs` block, no `on_failure`: the defaults.
fn plain() -> String {
    Pipeline::named("plain").tags("{ team = \"data\" }").hcl()
}

fn queue_url(aws: &Aws, name: &str) -> Option<String> {
    aws.block_on(aws.sqs().get_queue_url().queue_name(name).send())
        .ok()
        .and_then(|o| o.queue_url().map(str::to_owned))
}

fn queue_attributes(aws: &Aws, url: &str) -> HashMap<String, String> {
    let out = aws
        .block_on(
            aws.sqs()
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::All)
                .send(),
        )
        .expect("GetQueueAttributes");
    out.attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn queue_tags(aws: &Aws, url: &str) -> HashMap<String, String> {
    let out = aws
        .block_on(aws.sqs().list_queue_tags().queue_url(url).send())
        .expect("ListQueueTags");
    out.tags().cloned().unwrap_or_default()
}

/// A log group's retention (`None`: never expires) and tags.
#[allow(deprecated)] // ListTagsLogGroup: not the call the provider makes.
fn log_group(aws: &Aws, name: &str) -> Option<(Option<i32>, HashMap<String, String>)> {
    let out = aws
        .block_on(
            aws.logs()
                .describe_log_groups()
                .log_group_name_prefix(name)
                .send(),
        )
        .expect("DescribeLogGroups");
    let group = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))?;
    let tags = aws
        .block_on(aws.logs().list_tags_log_group().log_group_name(name).send())
        .expect("ListTagsLogGroup");
    Some((
        group.retention_in_days(),
        tags.tags().cloned().unwrap_or_default(),
    ))
}

fn reserved_concurrency(aws: &Aws, function: &str) -> Option<i32> {
    let out = aws
        .block_on(
            aws.lambda()
                .get_function_concurrency()
                .function_name(function)
                .send(),
        )
        .expect("GetFunctionConcurrency");
    out.reserved_concurrent_executions()
}

/// The JSON body of the provider's `op` call for `function`.
fn sent(proxy: &FaultProxy, op: &str, function: &str) -> Vec<Json> {
    proxy
        .calls()
        .iter()
        .filter(|c| c.op == op)
        .filter_map(|c| serde_json::from_str::<Json>(c.body_text()?).ok())
        .filter(|b| b["FunctionName"] == function)
        .collect()
}

fn statements(policy: &Json) -> Vec<Json> {
    match &policy["Statement"] {
        Json::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

fn actions(statement: &Json) -> Vec<String> {
    match &statement["Action"] {
        Json::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        Json::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

#[test]
fn every_failure_log_and_function_setting_is_read_back_from_the_emulator() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    proxy.keep_bodies(&["lambda:CreateFunction"]);
    let aws = moto.aws().unwrap();
    let layer = publish_layer(&aws, "deps");
    // Lambda's own group for "plain", as a function wired by hand would
    // have left it: untagged, never expiring.
    aws.block_on(
        aws.logs()
            .create_log_group()
            .log_group_name("/aws/lambda/plain")
            .send(),
    )
    .unwrap();

    let body = format!("{}{}", full(true, &layer), plain());
    let ws = workspace_through(&tf, &proxy, &body);
    let apply = ws.apply_auto().unwrap();
    assert!(apply.contains("Resources: 2 added"), "{apply}");
    let state = state_attrs(&ws, "full");

    // The failure queue: made, encrypted, kept 14 days, tagged.
    let url = queue_url(&aws, "full-failed").expect("the failure queue exists");
    let attrs = queue_attributes(&aws, &url);
    let queue_arn = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:full-failed");
    assert_eq!(attrs["QueueArn"], queue_arn);
    assert_eq!(attrs["SqsManagedSseEnabled"], "true", "{attrs:?}");
    assert_eq!(attrs["MessageRetentionPeriod"], "1209600", "{attrs:?}");
    let tags = queue_tags(&aws, &url);
    assert_eq!(
        tags.get("team").map(String::as_str),
        Some("data"),
        "{tags:?}"
    );
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some("full")
    );
    assert_eq!(state["failure_queue_arn"], queue_arn.as_str());
    // moto writes the host it was asked on into the URL (the provider asked
    // through the proxy): compare the account and name.
    let path = |u: &str| {
        u.split_once("//")
            .and_then(|(_, r)| r.split_once('/'))
            .map(|(_, p)| p.to_owned())
    };
    assert_eq!(
        path(state["failure_queue_url"].as_str().unwrap_or_default()),
        path(&url)
    );

    // The invoke configuration: the retries, the age, the destination.
    let ic = aws
        .block_on(
            aws.lambda()
                .get_function_event_invoke_config()
                .function_name("full")
                .send(),
        )
        .expect("GetFunctionEventInvokeConfig");
    assert_eq!(ic.maximum_retry_attempts(), Some(1));
    assert_eq!(ic.maximum_event_age_in_seconds(), Some(3600));
    let destination = ic
        .destination_config()
        .and_then(|d| d.on_failure())
        .and_then(|f| f.destination());
    assert_eq!(destination, Some(queue_arn.as_str()));

    // The policy: SendMessage on that queue only, no CreateLogGroup.
    let policy = aws.role_inline_policy("full-role", "eventpipe").unwrap();
    assert_eq!(
        policy,
        serde_json::from_str::<Json>(state["policy_json"].as_str().unwrap()).unwrap(),
        "the policy applied is the one planned"
    );
    let all = statements(&policy);
    let sqs: Vec<&Json> = all
        .iter()
        .filter(|s| actions(s).iter().any(|a| a.starts_with("sqs:")))
        .collect();
    assert_eq!(sqs.len(), 1, "{policy}");
    assert_eq!(actions(sqs[0]), ["sqs:SendMessage"], "{policy}");
    assert_eq!(sqs[0]["Resource"], queue_arn.as_str(), "{policy}");
    assert!(
        all.iter()
            .all(|s| !actions(s).iter().any(|a| a == "logs:CreateLogGroup")),
        "{policy}"
    );
    let plain_policy = aws.role_inline_policy("plain-role", "eventpipe").unwrap();
    assert!(!plain_policy.to_string().contains("sqs:"), "{plain_policy}");
    assert!(
        !plain_policy.to_string().contains("logs:CreateLogGroup"),
        "{plain_policy}"
    );

    // The log groups: 14 days for "full", 30 by default, tagged; the group
    // that existed for "plain" adopted in place.
    let (retention, tags) = log_group(&aws, "/aws/lambda/full").expect("full's group");
    assert_eq!(retention, Some(14));
    assert_eq!(
        tags.get("team").map(String::as_str),
        Some("data"),
        "{tags:?}"
    );
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some("full")
    );
    let (retention, tags) = log_group(&aws, "/aws/lambda/plain").expect("plain's group");
    assert_eq!(retention, Some(30));
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some("plain")
    );
    assert_eq!(
        aws.log_group_names().unwrap(),
        ["/aws/lambda/full", "/aws/lambda/plain"],
        "one group per function"
    );
    assert_eq!(state["log_group_name"], "/aws/lambda/full");
    assert_eq!(state["log_group_retention_in_days"], 14);
    assert_eq!(state_attrs(&ws, "plain")["log_group_retention_in_days"], 30);
    // No failure handling without on_failure.
    assert_eq!(queue_url(&aws, "plain-failed"), None);
    assert!(
        aws.block_on(
            aws.lambda()
                .get_function_event_invoke_config()
                .function_name("plain")
                .send()
        )
        .is_err(),
        "plain has no invoke config"
    );

    // Concurrency, storage and the layer.
    let f = aws
        .block_on(aws.lambda().get_function().function_name("full").send())
        .unwrap();
    let c = f.configuration().unwrap();
    assert_eq!(c.ephemeral_storage().map(|e| e.size()), Some(1024));
    let layers: Vec<&str> = c.layers().iter().filter_map(|l| l.arn()).collect();
    assert_eq!(layers, [layer.as_str()]);
    assert_eq!(reserved_concurrency(&aws, "full"), Some(5));
    let p = aws
        .block_on(aws.lambda().get_function().function_name("plain").send())
        .unwrap();
    assert_eq!(
        p.configuration()
            .and_then(|c| c.ephemeral_storage())
            .map(|e| e.size()),
        Some(512)
    );
    assert_eq!(reserved_concurrency(&aws, "plain"), None);

    // The logging configuration moto does not echo: as sent.
    let created = sent(&proxy, "lambda:CreateFunction", "full");
    assert_eq!(created.len(), 1, "one CreateFunction for full");
    let logging = &created[0]["LoggingConfig"];
    assert_eq!(logging["LogFormat"], "JSON", "{logging}");
    assert_eq!(logging["ApplicationLogLevel"], "INFO", "{logging}");
    assert_eq!(logging["SystemLogLevel"], "WARN", "{logging}");
    assert_eq!(logging["LogGroup"], "/aws/lambda/full", "{logging}");
    let created = sent(&proxy, "lambda:CreateFunction", "plain");
    assert_eq!(created.len(), 1, "one CreateFunction for plain");
    let logging = &created[0]["LoggingConfig"];
    assert_eq!(logging["LogFormat"], "Text", "{logging}");
    assert_eq!(logging["LogGroup"], "/aws/lambda/plain", "{logging}");
    assert!(logging.get("ApplicationLogLevel").is_none(), "{logging}");

    assert_plan_empty(&ws, EMPTY_PLAN);

    // Drift: concurrency and retention changed by hand are shown and repaired.
    aws.block_on(
        aws.lambda()
            .put_function_concurrency()
            .function_name("full")
            .reserved_concurrent_executions(7)
            .send(),
    )
    .unwrap();
    aws.block_on(
        aws.logs()
            .put_retention_policy()
            .log_group_name("/aws/lambda/full")
            .retention_in_days(7)
            .send(),
    )
    .unwrap();
    let plan = ws.plan_detailed_exitcode().unwrap();
    let text = folded(&plan.output.combined());
    assert!(plan.has_changes, "{}", plan.output);
    assert!(
        text.contains("reserved_concurrency = 7 -> 5"),
        "{}",
        plan.output
    );
    assert!(
        text.contains("log_group_retention_in_days = 7 -> 14"),
        "{}",
        plan.output
    );
    assert!(text.contains("1 to change"), "{}", plan.output);
    ws.apply_auto().unwrap();
    assert_eq!(reserved_concurrency(&aws, "full"), Some(5));
    assert_eq!(log_group(&aws, "/aws/lambda/full").unwrap().0, Some(14));
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Fewer retries and a shorter age put a new invoke configuration. moto
    // keeps answering with the first one put, so read what was sent.
    proxy.keep_bodies(&["lambda:PutFunctionEventInvokeConfig"]);
    let before = proxy.calls().len();
    let fewer = full(true, &layer)
        .replace("maximum_retry_attempts = 1", "maximum_retry_attempts = 0")
        .replace(
            "maximum_event_age      = 3600",
            "maximum_event_age      = 600",
        );
    rewrite_through(&ws, &proxy, &format!("{fewer}{}", plain()));
    let plan = folded(&ws.plan(&[]).unwrap().combined());
    assert!(
        plan.contains("maximum_retry_attempts = 1 -> 0")
            && plan.contains("maximum_event_age = 3600 -> 600")
            && plan.contains("1 to change"),
        "{plan}"
    );
    ws.apply_auto().unwrap();
    let puts: Vec<Json> = proxy
        .calls()
        .iter()
        .skip(before)
        .filter(|c| {
            c.op == "lambda:PutFunctionEventInvokeConfig" && c.target.contains("/functions/full/")
        })
        .filter_map(|c| serde_json::from_str(c.body_text()?).ok())
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(puts[0]["MaximumRetryAttempts"], 0, "{}", puts[0]);
    assert_eq!(puts[0]["MaximumEventAgeInSeconds"], 600, "{}", puts[0]);
    assert_eq!(
        puts[0]["DestinationConfig"]["OnFailure"]["Destination"],
        queue_arn.as_str(),
        "{}",
        puts[0]
    );
    // Back to the first configuration (the one moto still answers with).
    rewrite_through(&ws, &proxy, &body);
    assert_plan_empty(&ws, EMPTY_PLAN);

    // A failed event waiting in the queue stops a destroy without
    // force_destroy, and nothing is deleted.
    rewrite_through(&ws, &proxy, &format!("{}{}", full(false, &layer), plain()));
    ws.apply_auto().unwrap();
    aws.send_message(&url, r#"{"failed":"event"}"#).unwrap();
    let before = aws.list_everything().unwrap();
    let out = ws
        .run(&[
            "destroy",
            "-auto-approve",
            "-target=eventpipe_event_pipeline.full",
        ])
        .unwrap();
    let text = flat(&out);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(text.contains("Failure queue is not empty"), "{out}");
    assert!(
        text.contains("still holds 1 failed event(s)") && text.contains("force_destroy"),
        "{out}"
    );
    assert!(text.contains("Nothing was deleted"), "{out}");
    assert_eq!(
        aws.list_everything().unwrap(),
        before,
        "nothing was deleted"
    );
    assert_eq!(
        queue_attributes(&aws, &url)["ApproximateNumberOfMessages"],
        "1"
    );
    assert_eq!(ws.state_list().unwrap().len(), 2);

    // With force_destroy the queue goes, message and all; nothing is left.
    rewrite_through(&ws, &proxy, &body);
    ws.apply_auto().unwrap();
    let out = ws.destroy_auto().unwrap();
    assert!(out.contains("Resources: 2 destroyed"), "{out}");
    assert_emulator_empty(&moto);
}

#[test]
fn terraform_1_0_creates_and_destroys_a_pipeline_with_failure_handling_and_logs() {
    let tf = clis()
        .into_iter()
        .find(|t| t.label.starts_with("1.0"))
        .expect("Terraform 1.0.3");
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let body = Pipeline::named("old").tags("{ team = \"data\" }").extra("  on_failure {}\n\n  logs {\n    retention_in_days = 7\n    keep_on_destroy   = true\n  }\n").function_lines("    reserved_concurrency = 2\n").hcl();
    let ws = applied(&tf, &moto, &body);
    let url = queue_url(&aws, "old-failed").expect("queue");
    assert_eq!(queue_attributes(&aws, &url)["SqsManagedSseEnabled"], "true");
    let ic = aws
        .block_on(
            aws.lambda()
                .get_function_event_invoke_config()
                .function_name("old")
                .send(),
        )
        .unwrap();
    // The defaults: two retries, six hours.
    assert_eq!(ic.maximum_retry_attempts(), Some(2));
    assert_eq!(ic.maximum_event_age_in_seconds(), Some(21_600));
    assert_eq!(log_group(&aws, "/aws/lambda/old").unwrap().0, Some(7));
    assert_eq!(reserved_concurrency(&aws, "old"), Some(2));
    assert_plan_empty(&ws, EMPTY_PLAN);
    ws.destroy_auto().unwrap();
    // keep_on_destroy: the group and its logs stay, nothing else does.
    let left = aws.list_everything().unwrap();
    assert_eq!(left.log_groups, ["/aws/lambda/old"], "{left}");
    assert_eq!(log_group(&aws, "/aws/lambda/old").unwrap().0, Some(7));
    aws.block_on(
        aws.logs()
            .delete_log_group()
            .log_group_name("/aws/lambda/old")
            .send(),
    )
    .unwrap();
    assert_emulator_empty(&moto);
}

#[test]
fn a_reservation_past_the_account_s_unreserved_minimum_is_refused_naming_the_limit() {
    let tf = newest_cli();
    // moto enforces the account's concurrency quota only when told one.
    let moto = Moto::start_with_env(&[("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000")]).unwrap();
    let body = Pipeline::named("greedy")
        .tags("{ team = \"data\" }")
        .function_lines("    reserved_concurrency = 950\n")
        .hcl();
    let ws = workspace(&tf, &moto, &body);
    ws.init().unwrap();
    let out = ws.run(&["apply", "-auto-approve"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    let text = flat(&out);
    // The diagnostic points at the attribute's line in the configuration.
    let line = ws
        .read("main.tf")
        .unwrap()
        .lines()
        .position(|l| l.contains("reserved_concurrency"))
        .unwrap()
        + 1;
    assert!(
        text.contains(&format!("on main.tf line {line}")),
        "the error points at the attribute (line {line}): {out}"
    );
    assert!(
        text.contains("Reserved concurrency above the account's limit"),
        "{out}"
    );
    assert!(
        text.contains("950") && text.contains("100"),
        "the error names the value and the limit: {out}"
    );
    // The failed create was rolled back.
    assert!(ws.state_list().unwrap().is_empty());
    assert_emulator_empty(&moto);
}

#[test]
fn failed_events_go_to_a_queue_of_yours_which_destroy_leaves_alone() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let url = aws
        .block_on(aws.sqs().create_queue().queue_name("team-dlq").send())
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let arn = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:team-dlq");
    let body = Pipeline::named("given")
        .tags("{ team = \"data\" }")
        .extra(&format!(
            "  on_failure {{\n    queue_arn = \"{arn}\"\n  }}\n"
        ))
        .hcl();
    let ws = applied(&tf, &moto, &body);
    let state = state_attrs(&ws, "given");
    assert_eq!(state["failure_queue_arn"], arn.as_str());
    assert!(state["failure_queue_url"].is_null(), "{state}");
    // No queue of its own: only the one that was there.
    assert_eq!(aws.queue_names().unwrap(), ["team-dlq"]);
    let ic = aws
        .block_on(
            aws.lambda()
                .get_function_event_invoke_config()
                .function_name("given")
                .send(),
        )
        .unwrap();
    let destination = ic
        .destination_config()
        .and_then(|d| d.on_failure())
        .and_then(|f| f.destination());
    assert_eq!(destination, Some(arn.as_str()));
    let policy = aws.role_inline_policy("given-role", "eventpipe").unwrap();
    let send: Vec<Json> = statements(&policy)
        .into_iter()
        .filter(|s| actions(s).iter().any(|a| a.starts_with("sqs:")))
        .collect();
    assert_eq!(send.len(), 1, "{policy}");
    assert_eq!(send[0]["Resource"], arn.as_str(), "{policy}");
    assert_plan_empty(&ws, EMPTY_PLAN);

    // A failed event in the user's queue is the user's: destroy goes ahead
    // and leaves the queue, message and all.
    aws.send_message(&url, "x").unwrap();
    ws.destroy_auto().unwrap();
    let left = aws.list_everything().unwrap();
    assert_eq!(left.queues, ["team-dlq"], "{left}");
    assert_eq!(
        queue_attributes(&aws, &url)["ApproximateNumberOfMessages"],
        "1"
    );
    aws.block_on(aws.sqs().delete_queue().queue_url(&url).send())
        .unwrap();
    assert_emulator_empty(&moto);
}

#[test]
fn dropping_on_failure_refuses_while_the_queue_holds_failed_events() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let with = Pipeline::named("drop")
        .force_destroy(false)
        .tags("{ team = \"data\" }")
        .extra("  on_failure {}\n")
        .hcl();
    let ws = applied(&tf, &moto, &with);
    let url = queue_url(&aws, "drop-failed").expect("queue");
    aws.send_message(&url, "unseen").unwrap();
    let policy_before = aws.role_inline_policy("drop-role", "eventpipe").unwrap();
    let before = aws.list_everything().unwrap();

    // Without the block the queue would go, and its event with it.
    let without = Pipeline::named("drop")
        .force_destroy(false)
        .tags("{ team = \"data\" }")
        .hcl();
    rewrite_main(&ws, &moto, &without);
    let out = ws.run(&["apply", "-auto-approve"]).unwrap();
    let text = flat(&out);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        text.contains("Failure queue is not empty") && text.contains("still holds 1 failed event"),
        "{out}"
    );
    // Nothing changed: the queue, the invoke config, the policy, the state.
    assert_eq!(aws.list_everything().unwrap(), before);
    assert_eq!(
        queue_attributes(&aws, &url)["ApproximateNumberOfMessages"],
        "1"
    );
    assert!(
        aws.block_on(
            aws.lambda()
                .get_function_event_invoke_config()
                .function_name("drop")
                .send()
        )
        .is_ok()
    );
    assert_eq!(
        aws.role_inline_policy("drop-role", "eventpipe").unwrap(),
        policy_before
    );
    let state = state_attrs(&ws, "drop");
    let kept = &state["on_failure"];
    assert!(
        kept.is_object() || kept.as_array().is_some_and(|a| !a.is_empty()),
        "the state keeps on_failure: {state}"
    );
    assert!(
        state["failure_queue_url"]
            .as_str()
            .is_some_and(|u| !u.is_empty()),
        "{state}"
    );

    // Once the event is dealt with, the queue goes with the block.
    aws.block_on(aws.sqs().purge_queue().queue_url(&url).send())
        .unwrap();
    ws.apply_auto().unwrap();
    assert_eq!(queue_url(&aws, "drop-failed"), None);
    assert!(
        aws.block_on(
            aws.lambda()
                .get_function_event_invoke_config()
                .function_name("drop")
                .send()
        )
        .is_err()
    );
    let policy = aws.role_inline_policy("drop-role", "eventpipe").unwrap();
    assert!(!policy.to_string().contains("sqs:"), "{policy}");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

/// On a shared bucket (`create_bucket = false`) `force_destroy` is refused,
/// so the failure queue has its own switch: without it a destroy refuses,
/// naming `on_failure.force_delete`, and deletes nothing; with it the queue
/// goes, failed event and all, and the bucket stays as it was.
#[test]
fn on_failure_force_delete_lets_a_destroy_on_a_shared_bucket_delete_a_non_empty_failure_queue() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let bucket = "shared-failures";
    pre_existing_bucket(&aws, bucket);
    let bucket_before = foreign(&aws, bucket);
    let pipeline = |on_failure: &str| {
        Pipeline::on_existing_bucket("held", bucket)
            .extra(&format!("  on_failure {{{on_failure}}}\n"))
            .hcl()
    };
    let ws = applied(&tf, &moto, &pipeline(""));
    let url = queue_url(&aws, "held-failed").expect("the failure queue");
    aws.send_message(&url, r#"{"failed":"event"}"#).unwrap();
    let before = aws.list_everything().unwrap();

    // Without the switch: refused, and the advice is one that applies here.
    let out = ws.run(&["destroy", "-auto-approve"]).unwrap();
    let text = flat(&out);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        text.contains("Failure queue is not empty")
            && text.contains("still holds 1 failed event(s)")
            && text.contains("on_failure { force_delete = true }")
            && text.contains("Nothing was deleted"),
        "{out}"
    );
    assert!(
        !text.contains("force_destroy = true"),
        "force_destroy is refused with create_bucket = false: not the advice\n{out}"
    );
    assert_eq!(aws.list_everything().unwrap(), before, "nothing deleted");
    assert_eq!(
        queue_attributes(&aws, &url)["ApproximateNumberOfMessages"],
        "1"
    );

    // Turning it on is an in-place change that touches no AWS resource but
    // the function's tags (recorded for import).
    rewrite_main(&ws, &moto, &pipeline("\n    force_delete = true\n  "));
    let actions = planned_actions(&ws);
    assert_eq!(
        actions.values().collect::<Vec<_>>(),
        [&vec!["update".to_owned()]],
        "{actions:?}"
    );
    ws.apply_auto().unwrap();
    assert_plan_empty(&ws, EMPTY_PLAN);
    let state = state_attrs(&ws, "held");
    let block = match &state["on_failure"] {
        Json::Array(blocks) => blocks.first().cloned().unwrap_or_default(),
        other => other.clone(),
    };
    assert_eq!(block["force_delete"], true, "{state}");
    assert_eq!(
        function_tags(&aws, "held")
            .get("eventpipe:failure-queue-force-delete")
            .map(String::as_str),
        Some("true")
    );
    let out = ws.destroy_auto().unwrap();
    assert!(out.contains("Resources: 1 destroyed"), "{out}");
    assert_eq!(queue_url(&aws, "held-failed"), None, "the queue went");
    let inv = aws.list_everything().unwrap();
    assert!(inv.functions.is_empty() && inv.roles.is_empty(), "{inv}");
    // The shared bucket is as it was: objects, settings, others' notifications.
    assert_eq!(foreign(&aws, bucket), bucket_before);
    assert!(
        lambda_notifications(&aws, bucket)
            .iter()
            .all(|n| !n.id().unwrap_or_default().starts_with("eventpipe-")),
        "the pipeline's notifications went"
    );
}
