//! Resource identity (protocol 6.9, Terraform 1.12) and GenerateResourceConfig
//! (6.10, Terraform 1.14), proven at the protocol level: no CLI that speaks
//! them can be installed here, so `tests::plugin_client` replays the calls
//! those CLIs make (its module documentation cites the Terraform sources)
//! over the provider's real transport. The pipelines are made by Terraform
//! 1.11.4 on the emulator, and what the protocol answers is compared with
//! what `terraform import` on 1.11.4 records. The configuration the provider
//! generates for a wiring made by hand is written out as HCL and planned by
//! Terraform 1.11.4 with an `import` block.

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value as Json, json};
use tests::hand_wired::HandWired;
use tests::plugin_client::PluginClient;
use tests::{Moto, provider_binary};

const TYPE: &str = "eventpipe_event_pipeline";
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The provider, started in `dir` and configured for the emulator by a
/// client that says it is Terraform `version`.
async fn client(moto: &Moto, dir: &Path, version: &str) -> PluginClient {
    let mut c = PluginClient::start(&provider_binary().expect("provider"), dir, &[])
        .await
        .expect("start the provider");
    c.configure_as(
        version,
        json!({
            "region": REGION,
            "endpoint_url": moto.endpoint(),
            "access_key": "test",
            "secret_key": "test",
        }),
    )
    .await
    .expect("configure");
    c
}

/// The state values `terraform show -json` records for `name`.
fn cli_state(ws: &tests::Workspace, name: &str) -> Json {
    resource(ws, name)["values"].clone()
}

fn identity(name: &str, adopt: bool) -> Json {
    json!({"account_id": ACCOUNT, "region": REGION, "name": name, "adopt": adopt})
}

#[test]
fn the_identity_schema_and_the_generate_capability_are_served() {
    let rt = runtime();
    rt.block_on(async {
        let c = PluginClient::start(
            &provider_binary().expect("provider"),
            &std::env::temp_dir(),
            &[],
        )
        .await
        .expect("start");
        let schema = c.identity_schema(TYPE).expect("an identity schema");
        assert_eq!(schema.version, 0);
        let attrs: Vec<(&str, bool, bool)> = schema
            .identity_attributes
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.required_for_import,
                    a.optional_for_import,
                )
            })
            .collect();
        assert_eq!(
            attrs,
            [
                ("account_id", false, true),
                ("region", false, true),
                ("name", true, false),
                ("adopt", false, true),
            ]
        );
        assert!(c.capabilities.generate_resource_config);
    });
}

#[test]
fn import_by_identity_gives_the_state_and_identity_of_terraform_import_by_name() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let pipeline = Pipeline::seed("orders", "orders-in").hcl();
    let made = applied(&tf, &moto, &pipeline);

    // `terraform import NAME` on 1.11.4, in a workspace of its own.
    let imported = workspace(&tf, &moto, &pipeline);
    imported.init().expect("init");
    imported
        .run_ok(&["import", &format!("{TYPE}.orders"), "orders"])
        .expect("terraform import");
    let by_cli = cli_state(&imported, "orders");

    let rt = runtime();
    rt.block_on(async {
        let mut c = client(&moto, imported.dir(), "1.14.0").await;
        let by_identity = c
            .import_and_read(TYPE, "", Some(json!({"name": "orders"})))
            .await
            .expect("import by identity");
        let by_id = c
            .import_and_read(TYPE, "orders", None)
            .await
            .expect("import by ID");
        assert_eq!(
            by_identity.state, by_cli,
            "the same state as terraform import"
        );
        assert_eq!(by_identity.state, by_id.state);
        assert_eq!(by_identity.identity, identity("orders", false));
        assert_eq!(by_id.identity, by_identity.identity);

        // The plan of the imported pipeline with its own configuration
        // keeps the identity (known: an update may not leave it unknown).
        let (_, planned_identity) = c
            .plan_with_config(TYPE, &by_identity, by_identity.state.clone())
            .await
            .expect("plan");
        assert_eq!(planned_identity, identity("orders", false));

        // Account and region default to the provider's; others are refused
        // with both named.
        let err = c
            .import_and_read(
                TYPE,
                "",
                Some(json!({"name": "orders", "region": "eu-west-1"})),
            )
            .await
            .expect_err("another region");
        let text = err.to_string();
        assert!(
            text.contains("eu-west-1") && text.contains(REGION),
            "{text}"
        );
        let err = c
            .import_and_read(TYPE, "", Some(json!({"name": "nothing-here"})))
            .await
            .expect_err("no such pipeline");
        assert!(err.to_string().contains("nothing-here"), "{err}");
    });

    // Terraform 1.11 is never sent identity data.
    rt.block_on(async {
        let mut old = client(&moto, imported.dir(), "1.11.4").await;
        let read = old
            .import_and_read(TYPE, "orders", None)
            .await
            .expect("import");
        assert!(read.raw_identity.is_none() && read.identity.is_null());
    });
    destroy_and_assert_empty(&made, &moto);
}

#[test]
fn adoption_by_identity_equals_adopt_and_its_generated_config_plans_in_place_on_1_11() {
    let tf = newest_cli();
    let moto = Moto::start().expect("moto");
    let aws = moto.aws().expect("aws");
    let hw = HandWired::named("legacy");
    let ws = workspace(&tf, &moto, "");
    let zip = hand_zip(&ws.dir().join("app"));
    hw.wire(&aws, &zip).expect("wire by hand");

    let rt = runtime();
    let (adopted, config_hcl) = rt.block_on(async {
        let mut c = client(&moto, ws.dir(), "1.14.0").await;
        let by_identity = c
            .import_and_read(TYPE, "", Some(json!({"name": hw.function, "adopt": true})))
            .await
            .expect("adopt by identity");
        let by_id = c
            .import_and_read(TYPE, &format!("adopt:{}", hw.function), None)
            .await
            .expect("adopt:");
        assert_eq!(by_identity.state, by_id.state);
        assert_eq!(by_identity.private, by_id.private);
        // `adopt` asks for the import; the pipeline in state is just itself.
        assert_eq!(by_identity.identity, identity(&hw.function, false));

        let config = c
            .generate_config(TYPE, &by_identity.state)
            .await
            .expect("generate config");
        // Nothing computed, nothing at its default, no name `name` derives
        // (the hand-made role is called as the pipeline's would be).
        assert!(config["function_arn"].is_null() && config["policy_json"].is_null());
        assert_eq!(config["name"], json!(hw.function));
        assert!(config["function_name"].is_null(), "{config}");
        assert!(config["role_name"].is_null(), "{config}");
        assert_eq!(config["bucket_name"], json!(hw.bucket));
        assert_eq!(config["create_bucket"], json!(false));
        let source_dir = config["function"]["source_dir"]
            .as_str()
            .unwrap_or_default();
        assert!(source_dir.starts_with("TODO"), "{config}");
        let hcl = c.resource_hcl(TYPE, "legacy", &config).expect("HCL");
        (by_identity, hcl)
    });
    assert_eq!(adopted.state["bucket_name"], json!(hw.bucket));

    // What -generate-config-out would write, planned by 1.11.4. As written,
    // the placeholder stops the plan on source_dir.
    let import = format!(
        "\nimport {{\n  to = {TYPE}.legacy\n  id = \"adopt:{}\"\n}}\n",
        hw.function
    );
    rewrite_main(&ws, &moto, &format!("{import}\n{config_hcl}"));
    ws.init().expect("init");
    let out = ws.run(&["plan"]).expect("plan runs");
    assert!(!out.success() && flat(&out).contains("source_dir"), "{out}");
    // The user fills in where the code is.
    let filled = config_hcl
        .lines()
        .map(|l| match l.trim_start().starts_with("source_dir") {
            true => "    source_dir = \"${path.module}/app\"".to_owned(),
            false => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    rewrite_main(&ws, &moto, &format!("{import}\n{filled}\n"));
    let (plan, actions) = saved_plan(&ws, "adopt.tfplan");
    assert_only_in_place(&actions, &plan);
    ws.run_ok(&["apply", "adopt.tfplan"]).expect("apply");
    assert_plan_empty(
        &ws,
        "the plan after adopting from generated config must be empty",
    );
}

/// The function's code as eventpipe packages `dir`, so the adoption does not
/// also replace the code.
fn hand_zip(dir: &Path) -> Vec<u8> {
    let tree = eventpipe::pipeline::source::scan(dir).expect("scan the source");
    eventpipe::pipeline::package::build(&tree)
        .expect("package")
        .zip
}
