//! `delivery = "queue"` end to end: the bucket notifies an encrypted queue
//! only it may send to, one mapping drains the queue into the function, S3
//! may not invoke the function, and switching to `direct` and back is an
//! in-place change that leaves the bucket invoking the function and the
//! queue gone (and made again).

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value as Json;
use tests::{Aws, Moto, Workspace};

const EMPTY_PLAN: &str = "expected an empty plan";
const ACCOUNT: &str = "123456789012";

fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}")
}

fn queued(name: &str) -> String {
    Pipeline::named(name)
        .extra("  delivery      = \"queue\"\n  queue {\n    maximum_concurrency = 5\n  }\n")
        .hcl()
}

/// The statements of the function's resource policy (none when it has no
/// policy at all).
fn permission_statements(aws: &Aws, function: &str) -> Vec<Json> {
    match aws.block_on(aws.lambda().get_policy().function_name(function).send()) {
        Ok(p) => {
            let doc: Json = serde_json::from_str(p.policy().unwrap_or("{}")).expect("JSON");
            doc["Statement"].as_array().cloned().unwrap_or_default()
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Vec::new()
        }
        Err(e) => panic!("GetPolicy({function}): {e:?}"),
    }
}

fn s3_may_invoke(aws: &Aws, function: &str) -> bool {
    permission_statements(aws, function)
        .iter()
        .any(|s| s["Principal"]["Service"] == "s3.amazonaws.com")
}

/// The bucket's queue configurations as (id, queue ARN).
fn queue_targets(aws: &Aws, bucket: &str) -> Vec<(String, String)> {
    queue_notifications(aws, bucket)
        .iter()
        .map(|q| {
            (
                q.id().unwrap_or_default().to_owned(),
                q.queue_arn().to_owned(),
            )
        })
        .collect()
}

fn event_queue_url(aws: &Aws, name: &str) -> Option<String> {
    aws.queue_url(&format!("{name}-events")).unwrap()
}

/// Log streams of `function`, waiting up to 10 s for more than `before`.
fn deliveries_after(aws: &Aws, function: &str, before: usize) -> usize {
    let group = format!("/aws/lambda/{function}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = aws.log_stream_names(&group).unwrap().len();
        if n > before || Instant::now() > deadline {
            return n;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

fn set_mapping_enabled(aws: &Aws, uuid: &str, on: bool) {
    aws.block_on(
        aws.lambda()
            .update_event_source_mapping()
            .uuid(uuid)
            .enabled(on)
            .send(),
    )
    .expect("update mapping");
}

fn role_policy(aws: &Aws, name: &str) -> Json {
    aws.role_inline_policy(&format!("{name}-role"), "eventpipe")
        .unwrap()
}

/// The role's statements that let it read from a queue.
fn drain_grants(policy: &Json) -> Vec<Json> {
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| s["Action"].to_string().contains("sqs:ReceiveMessage"))
        .cloned()
        .collect()
}

/// A single nested block of a resource's attributes (an object, or a
/// one-element list).
fn block<'a>(attrs: &'a Json, name: &str) -> &'a Json {
    match &attrs[name] {
        Json::Array(a) => &a[0],
        b => b,
    }
}

/// What queue delivery must look like for pipeline `name`.
fn assert_queue_delivery(ws: &Workspace, aws: &Aws, name: &str) {
    let bucket = format!("{name}-bucket");
    let arn = queue_arn(&format!("{name}-events"));
    let state = state_attrs(ws, name);
    assert_eq!(state["event_queue_arn"], arn.as_str());
    assert_eq!(state["s3_permission_id"], "", "{state:#}");

    // The bucket notifies the queue, and not the function.
    assert_eq!(
        queue_targets(aws, &bucket),
        [(format!("eventpipe-{name}-0"), arn.clone())]
    );
    assert!(
        lambda_notifications(aws, &bucket).is_empty(),
        "no notification invokes the function"
    );
    assert!(!s3_may_invoke(aws, name), "S3 may not invoke the function");

    // The queue: encrypted, hiding a message for longer than the function
    // runs, and only this bucket in this account may send to it.
    let url = event_queue_url(aws, name).expect("the event queue");
    assert_eq!(state["event_queue_url"], url.as_str());
    let attrs = aws.queue_attributes(&url).unwrap();
    assert_eq!(attrs["SqsManagedSseEnabled"], "true");
    let timeout = block(&state, "function")["timeout"].as_i64().unwrap();
    let visibility: i64 = attrs["VisibilityTimeout"].parse().unwrap();
    assert!(visibility >= timeout, "{visibility} < {timeout}");
    let policy: Json = serde_json::from_str(&attrs["Policy"]).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{policy:#}");
    let st = &statements[0];
    assert_eq!(st["Effect"], "Allow");
    assert_eq!(st["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(st["Action"], "sqs:SendMessage");
    assert_eq!(st["Resource"], arn.as_str());
    assert_eq!(
        st["Condition"]["ArnEquals"]["aws:SourceArn"],
        format!("arn:aws:s3:::{bucket}")
    );
    assert_eq!(
        st["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );

    // The role drains that queue only, as the plan showed.
    let applied = role_policy(aws, name);
    let planned: Json = serde_json::from_str(state["policy_json"].as_str().unwrap()).unwrap();
    assert_eq!(applied, planned);
    let drain = drain_grants(&applied);
    assert_eq!(drain.len(), 1, "{applied:#}");
    assert_eq!(
        drain[0]["Action"],
        serde_json::json!([
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes"
        ])
    );
    assert_eq!(drain[0]["Resource"], arn.as_str());

    // One mapping drains it.
    let m = aws.event_source_mappings(Some(name)).unwrap();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].event_source_arn(), Some(arn.as_str()));
    assert_eq!(m[0].uuid(), state["queue_mapping_id"].as_str());
}

/// What direct delivery must look like for pipeline `name`.
fn assert_direct_delivery(ws: &Workspace, aws: &Aws, name: &str) {
    let bucket = format!("{name}-bucket");
    let state = state_attrs(ws, name);
    let lambdas = lambda_notifications(aws, &bucket);
    assert_eq!(lambdas.len(), 1);
    assert_eq!(
        lambdas[0].lambda_function_arn(),
        state["function_arn"].as_str().unwrap()
    );
    assert!(queue_targets(aws, &bucket).is_empty());
    assert!(s3_may_invoke(aws, name), "S3 may invoke the function");
    assert_eq!(event_queue_url(aws, name), None, "the event queue is gone");
    assert!(aws.event_source_mappings(Some(name)).unwrap().is_empty());
    assert!(drain_grants(&role_policy(aws, name)).is_empty());
    assert!(state["event_queue_arn"].is_null(), "{state:#}");
    assert!(state["queue_mapping_id"].is_null(), "{state:#}");
}

#[test]
fn queue_delivery_drains_a_scoped_queue_and_switches_to_direct_and_back_in_place() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let ws = applied(&tf, &moto, &queued("orders"));
    assert_queue_delivery(&ws, &aws, "orders");
    let m = aws.event_source_mappings(Some("orders")).unwrap();
    assert_eq!(m[0].batch_size(), Some(10), "the default batch size");
    assert_eq!(
        m[0].scaling_config().and_then(|c| c.maximum_concurrency()),
        Some(5)
    );
    let url = event_queue_url(&aws, "orders").unwrap();
    assert_eq!(
        aws.queue_attributes(&url).unwrap()["VisibilityTimeout"],
        "360",
        "6 × the function's 60 s"
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // An upload is queued and consumed by the mapping: the queue is empty
    // afterwards, and no log stream tells (moto leaves none for
    // SQS-mapped invocations).
    let group = "/aws/lambda/orders";
    let logged = aws.log_stream_names(group).unwrap().len();
    aws.put_object("orders-bucket", "data/a.json", "{}")
        .unwrap();
    assert_eq!(aws.queue_depth(&url).unwrap(), 0, "consumed");
    // With the mapping paused, the next upload waits in the queue: this is
    // where the events go.
    let uuid = m[0].uuid().unwrap().to_owned();
    set_mapping_enabled(&aws, &uuid, false);
    aws.put_object("orders-bucket", "data/b.json", "{}")
        .unwrap();
    aws.put_object("orders-bucket", "other/x.json", "{}")
        .unwrap();
    assert_eq!(aws.queue_depth(&url).unwrap(), 1, "one matching upload");
    let waiting = aws.peek_messages(&url).unwrap();
    assert!(
        waiting.len() == 1 && waiting[0].contains("b.json") && waiting[0].contains("orders-bucket"),
        "{waiting:?}"
    );
    // Resumed, the mapping takes what waits with the next one.
    set_mapping_enabled(&aws, &uuid, true);
    aws.put_object("orders-bucket", "data/c.json", "{}")
        .unwrap();
    assert_eq!(aws.queue_depth(&url).unwrap(), 0, "drained");
    assert_eq!(aws.log_stream_names(group).unwrap().len(), logged);
    assert_plan_empty(&ws, EMPTY_PLAN);

    // To direct delivery: one in-place update, which the plan shows.
    let direct = Pipeline::named("orders")
        .extra("  delivery      = \"direct\"\n")
        .hcl();
    rewrite_main(&ws, &moto, &direct);
    let actions = planned_actions(&ws);
    assert_eq!(
        actions.get("eventpipe_event_pipeline.orders"),
        Some(&vec!["update".to_owned()]),
        "{actions:?}"
    );
    let plan = ws.plan_detailed_exitcode().unwrap();
    let text = folded(&plan.output.combined());
    assert!(
        text.contains("~ delivery = \"queue\" -> \"direct\"")
            && text.contains("0 to add, 1 to change, 0 to destroy"),
        "{text}"
    );
    let out = ws.apply_auto().unwrap();
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    assert_direct_delivery(&ws, &aws, "orders");
    let before = aws.log_stream_names(group).unwrap().len();
    aws.put_object("orders-bucket", "data/d.json", "{}")
        .unwrap();
    assert_eq!(
        deliveries_after(&aws, "orders", before),
        before + 1,
        "the bucket invokes the function"
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // And back to the queue, in place too.
    rewrite_main(&ws, &moto, &queued("orders"));
    let actions = planned_actions(&ws);
    assert_eq!(
        actions.get("eventpipe_event_pipeline.orders"),
        Some(&vec!["update".to_owned()]),
        "{actions:?}"
    );
    ws.apply_auto().unwrap();
    assert_queue_delivery(&ws, &aws, "orders");
    let url = event_queue_url(&aws, "orders").unwrap();
    let logged = aws.log_stream_names(group).unwrap().len();
    aws.put_object("orders-bucket", "data/e.json", "{}")
        .unwrap();
    assert_eq!(aws.queue_depth(&url).unwrap(), 0, "consumed");
    assert_eq!(aws.log_stream_names(group).unwrap().len(), logged);
    assert_plan_empty(&ws, EMPTY_PLAN);

    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn the_event_queue_follows_the_function_timeout_and_redrives_to_the_failure_queue() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let body = Pipeline::seed("pay", "pay-bucket")
        .timeout(30)
        .extra(
            "  delivery      = \"queue\"\n  on_failure {}\n  queue {\n    max_receive_count = 3\n    \
             batch_size        = 100\n    maximum_batching_window = 2\n  }\n",
        )
        .hcl();
    let ws = applied(&tf, &moto, &body);
    assert_queue_delivery(&ws, &aws, "pay");
    let url = event_queue_url(&aws, "pay").unwrap();
    let attrs = aws.queue_attributes(&url).unwrap();
    assert_eq!(attrs["VisibilityTimeout"], "180", "6 × 30 s");
    let redrive: Json = serde_json::from_str(&attrs["RedrivePolicy"]).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"],
        queue_arn("pay-failed"),
        "{redrive}"
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "3"
    );
    let m = aws.event_source_mappings(Some("pay")).unwrap();
    assert_eq!(m[0].batch_size(), Some(100));
    assert_eq!(m[0].maximum_batching_window_in_seconds(), Some(2));
    let state = state_attrs(&ws, "pay");
    assert_eq!(block(&state, "queue")["visibility_timeout"], 180);
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Imported by name, the pipeline reads back as configured.
    ws.run_ok(&["state", "rm", "eventpipe_event_pipeline.pay"])
        .unwrap();
    ws.run_ok(&["import", "eventpipe_event_pipeline.pay", "pay"])
        .unwrap();
    assert_plan_empty(&ws, "a matching config plans no changes after import");
    let imported = state_attrs(&ws, "pay");
    for attr in [
        "event_queue_arn",
        "event_queue_url",
        "queue_mapping_id",
        "policy_json",
    ] {
        assert_eq!(imported[attr], state[attr], "{attr} differs after import");
    }

    // A longer timeout takes the default visibility timeout along.
    let body = body.replace("timeout     = 30", "timeout     = 100");
    rewrite_main(&ws, &moto, &body);
    ws.apply_auto().unwrap();
    assert_eq!(
        aws.queue_attributes(&url).unwrap()["VisibilityTimeout"],
        "600"
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // A visibility timeout set by hand, at least the function's timeout.
    let body = body.replace(
        "max_receive_count = 3\n",
        "max_receive_count = 3\n    visibility_timeout = 100\n",
    );
    rewrite_main(&ws, &moto, &body);
    ws.apply_auto().unwrap();
    assert_eq!(
        aws.queue_attributes(&url).unwrap()["VisibilityTimeout"],
        "100"
    );
    // Changed outside Terraform, it shows in the plan and is set back.
    aws.block_on(
        aws.sqs()
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                "5",
            )
            .send(),
    )
    .expect("set visibility timeout");
    let plan = ws.plan_detailed_exitcode().unwrap();
    let text = folded(&plan.output.combined());
    assert!(text.contains("~ visibility_timeout = 5 -> 100"), "{text}");
    ws.apply_auto().unwrap();
    assert_eq!(
        aws.queue_attributes(&url).unwrap()["VisibilityTimeout"],
        "100"
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Without on_failure and maximum_concurrency, neither stays behind: no
    // redrive to the failure queue that is gone, no concurrency cap.
    let body = body.replace("  on_failure {}\n", "").replace(
        "    maximum_batching_window = 2\n",
        "    maximum_batching_window = 2\n    maximum_concurrency     = 4\n",
    );
    rewrite_main(&ws, &moto, &body);
    ws.apply_auto().unwrap();
    let m = aws.event_source_mappings(Some("pay")).unwrap();
    assert_eq!(
        m[0].scaling_config().and_then(|c| c.maximum_concurrency()),
        Some(4)
    );
    let body = body.replace("    maximum_concurrency     = 4\n", "");
    rewrite_main(&ws, &moto, &body);
    ws.apply_auto().unwrap();
    let attrs = aws.queue_attributes(&url).unwrap();
    assert!(
        attrs.get("RedrivePolicy").is_none_or(|r| r.is_empty()),
        "{attrs:?}"
    );
    assert_eq!(aws.queue_url("pay-failed").unwrap(), None);
    let m = aws.event_source_mappings(Some("pay")).unwrap();
    assert_eq!(
        m[0].scaling_config().and_then(|c| c.maximum_concurrency()),
        None,
        "{m:?}"
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // The bucket re-pointed at the function by hand: the plan shows the
    // delivery found, and apply points the bucket back at the queue.
    repoint_at_function(&aws, "pay");
    let plan = ws.plan_detailed_exitcode().unwrap();
    let text = folded(&plan.output.combined());
    assert!(
        text.contains("~ delivery = \"direct\" -> \"queue\""),
        "{text}"
    );
    ws.apply_auto().unwrap();
    assert_queue_delivery(&ws, &aws, "pay");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

/// Replaces the bucket's notifications with one invoking the function
/// directly, with the pipeline's id and trigger.
fn repoint_at_function(aws: &Aws, name: &str) {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
        NotificationConfigurationFilter, S3KeyFilter,
    };
    let rule = |n: FilterRuleName, v: &str| FilterRule::builder().name(n).value(v).build();
    let key = S3KeyFilter::builder()
        .filter_rules(rule(FilterRuleName::Prefix, "data/"))
        .filter_rules(rule(FilterRuleName::Suffix, ".json"))
        .build();
    let direct = LambdaFunctionConfiguration::builder()
        .id(format!("eventpipe-{name}-0"))
        .lambda_function_arn(format!(
            "arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
        ))
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(NotificationConfigurationFilter::builder().key(key).build())
        .build()
        .expect("configuration");
    let config = NotificationConfiguration::builder()
        .lambda_function_configurations(direct)
        .build();
    aws.block_on(
        aws.s3()
            .put_bucket_notification_configuration()
            .bucket(format!("{name}-bucket"))
            .notification_configuration(config)
            .send(),
    )
    .expect("put notification");
}

#[test]
fn the_oldest_cli_applies_queue_delivery_plans_empty_and_destroys() {
    let Some(tf) = clis().into_iter().find(|t| !t.at_least(1, 1)) else {
        panic!("Terraform 1.0.3 is part of the suite; run scripts/setup-tools.sh");
    };
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let ws = applied(&tf, &moto, &queued("old"));
    assert_queue_delivery(&ws, &aws, "old");
    assert_plan_empty(&ws, EMPTY_PLAN);
    rewrite_main(&ws, &moto, &Pipeline::named("old").extra("").hcl());
    ws.apply_auto().unwrap();
    assert_direct_delivery(&ws, &aws, "old");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

/// The event queue's tags as SQS has them.
fn queue_tags(aws: &Aws, url: &str) -> std::collections::HashMap<String, String> {
    aws.block_on(aws.sqs().list_queue_tags().queue_url(url).send())
        .expect("ListQueueTags")
        .tags
        .unwrap_or_default()
}

#[test]
fn an_event_queue_left_by_an_earlier_run_is_adopted_with_the_tags_the_pipeline_has_now() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let config = |team: &str| {
        Pipeline::named("kept")
            .extra("  delivery      = \"queue\"\n")
            .tags(&format!("{{ team = \"{team}\" }}"))
            .hcl()
    };
    let ws = applied(&tf, &moto, &config("a"));
    let url = event_queue_url(&aws, "kept").expect("the event queue");
    assert_eq!(queue_tags(&aws, &url)["team"], "a");

    // The state is lost; every part stays, tagged as this pipeline's. The
    // next apply adopts them, the event queue with the tags asked for now.
    ws.run_ok(&["state", "rm", "eventpipe_event_pipeline.kept"])
        .expect("state rm");
    rewrite_main(&ws, &moto, &config("b"));
    let out = ws.apply_auto().unwrap();
    assert!(out.contains("1 added, 0 changed, 0 destroyed"), "{out}");
    assert_eq!(event_queue_url(&aws, "kept").as_deref(), Some(url.as_str()));
    let tags = queue_tags(&aws, &url);
    assert_eq!(tags["team"], "b", "{tags:?}");
    assert_eq!(tags["eventpipe:pipeline"], "kept", "{tags:?}");
    assert_queue_delivery(&ws, &aws, "kept");
    assert_plan_empty(&ws, EMPTY_PLAN);
}
