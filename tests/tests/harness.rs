//! Smoke tests of the harness itself: none of them needs the provider.

mod common;

use std::collections::BTreeMap;

use common::{clis, newest_cli, resources};
use tests::fault_proxy::FaultProxy;
use tests::{Moto, TerraformCli, Workspace, terraform_versions, tools};

#[test]
fn moto_starts_configured_and_answers_the_control_api() {
    let moto = Moto::start().unwrap();
    assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
    assert!(moto.port() > 0);
    let log = moto.log();
    assert!(
        log.contains("POST /moto-api/config"),
        "config call missing from the log:\n{log}"
    );
    moto.reset().unwrap();
}

#[test]
fn two_emulators_run_side_by_side_and_stay_separate() {
    let first = Moto::start().unwrap();
    let second = Moto::start().unwrap();
    assert_ne!(first.port(), second.port());
    first.aws().unwrap().create_bucket("only-in-first").unwrap();
    assert_eq!(
        first.aws().unwrap().bucket_names().unwrap(),
        ["only-in-first"]
    );
    assert!(second.aws().unwrap().bucket_names().unwrap().is_empty());
}

#[test]
fn the_aws_client_sees_buckets_it_creates_and_reset_clears_them() {
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let before = aws.list_everything().unwrap();
    assert!(
        before.is_empty(),
        "a fresh emulator should be empty:\n{before}"
    );

    aws.create_bucket("harness-bucket").unwrap();
    aws.put_object("harness-bucket", "k.txt", "hello").unwrap();
    assert_eq!(aws.bucket_names().unwrap(), ["harness-bucket"]);

    moto.reset().unwrap();
    let after = aws.list_everything().unwrap();
    assert!(after.is_empty(), "reset should clear everything:\n{after}");
}

#[test]
fn moto_drops_creation_tags_and_the_proxy_applies_them_as_s3_does() {
    let moto = Moto::start().unwrap();
    let direct = moto.aws().unwrap();
    let tags = [("eventpipe:pipeline", "p1"), ("team", "a & b")];
    // The gap: moto creates the bucket and forgets its tags.
    direct.create_bucket_tagged("untagged", &tags).unwrap();
    assert!(direct.bucket_tags("untagged").unwrap().is_empty());

    // Through the proxy with the fidelity shim on, they are there.
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    proxy.apply_creation_tags(true);
    let via = tests::Aws::new(&proxy.endpoint()).unwrap();
    via.create_bucket_tagged("tagged", &tags).unwrap();
    let want: BTreeMap<String, String> = tags
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(direct.bucket_tags("tagged").unwrap(), want);
    assert_eq!(proxy.creation_tags_applied(), 1);
    // A create without tags, and a failed create, write none.
    via.create_bucket("plain").unwrap();
    assert!(direct.bucket_tags("plain").unwrap().is_empty());
    let refused = via.create_bucket_tagged("x", &tags).unwrap_err();
    assert!(
        format!("{refused:#}").contains("InvalidBucketName"),
        "{refused:#}"
    );
    assert_eq!(proxy.creation_tags_applied(), 1);
    assert_eq!(proxy.count("s3:CreateBucket"), 3);
    assert_eq!(
        proxy.count("s3:PutBucketTagging"),
        0,
        "the shim's own call is not recorded"
    );
}

#[test]
fn the_inventory_lists_roles_with_their_policies() {
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    aws.block_on(
        aws.iam()
            .create_role()
            .role_name("harness-role")
            .assume_role_policy_document(trust)
            .send(),
    )
    .unwrap();
    aws.block_on(
        aws.iam()
            .put_role_policy()
            .role_name("harness-role")
            .policy_name("read")
            .policy_document(policy)
            .send(),
    )
    .unwrap();

    let inventory = aws.list_everything().unwrap();
    assert_eq!(inventory.roles.len(), 1, "{inventory}");
    assert_eq!(inventory.roles[0].name, "harness-role");
    assert_eq!(inventory.roles[0].inline_policies, ["read"]);
    assert!(inventory.buckets.is_empty() && inventory.functions.is_empty());

    let trust_back = aws.role_trust_policy("harness-role").unwrap();
    assert_eq!(
        trust_back["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    let policy_back = aws.role_inline_policy("harness-role", "read").unwrap();
    assert_eq!(policy_back["Statement"][0]["Action"], "s3:GetObject");
}

#[test]
fn a_dropped_emulator_stops_listening() {
    let moto = Moto::start().unwrap();
    let port = moto.port();
    drop(moto);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still accepts connections after drop"
    );
}

#[test]
fn both_terraform_versions_are_found_and_report_their_version() {
    let versions = terraform_versions().unwrap();
    assert!(!versions.is_empty());
    for tf in &versions {
        let ws = Workspace::without_provider(tf).unwrap();
        let out = ws.run(&["version"]).unwrap().ok().unwrap();
        assert!(
            out.stdout.starts_with(&format!("Terraform v{}", tf.label)),
            "{out}"
        );
    }
    if std::env::var_os(tools::VERSIONS_ENV).is_none() {
        let labels: Vec<_> = versions.iter().map(|t| t.label.as_str()).collect();
        assert!(labels.contains(&tools::OLD_TERRAFORM), "{labels:?}");
    }
}

fn outputs_only_config() -> &'static str {
    r#"
locals {
  greeting = "hello"
}

output "greeting" {
  value = "${local.greeting}, world"
}
"#
}

fn terraform_data_config() -> &'static str {
    r#"
resource "terraform_data" "example" {
  input = "v1"
}

output "echo" {
  value = terraform_data.example.output
}
"#
}

/// Terraform 1.4+ has the built-in `terraform_data` resource: a full
/// create / no-op plan / destroy cycle with no provider to install.
fn lifecycle_with_terraform_data(tf: &TerraformCli) {
    let ws = Workspace::without_provider(tf).unwrap();
    ws.write("main.tf", terraform_data_config()).unwrap();
    ws.init().unwrap();
    let plan = ws.plan_detailed_exitcode().unwrap();
    assert!(plan.has_changes, "{}", plan.output);
    ws.apply_auto().unwrap();
    assert_eq!(ws.state_list().unwrap(), ["terraform_data.example"]);
    assert_eq!(ws.output_json().unwrap()["echo"]["value"], "v1");
    let state = ws.show_json().unwrap();
    assert_eq!(
        resources(&state)[0]["address"],
        "terraform_data.example",
        "{state:#}"
    );
    let replan = ws.plan_detailed_exitcode().unwrap();
    assert!(!replan.has_changes, "{}", replan.output);
    ws.destroy_auto().unwrap();
    assert!(ws.state_list().unwrap().is_empty());
}

/// Older CLIs: init, validate, plan and apply of a provider-less config.
fn lifecycle_with_outputs_only(tf: &TerraformCli) {
    let ws = Workspace::without_provider(tf).unwrap();
    ws.write("main.tf", outputs_only_config()).unwrap();
    let init = ws.init().unwrap();
    assert!(
        init.stdout
            .contains("Terraform has been successfully initialized"),
        "{init}"
    );
    ws.validate().unwrap();
    ws.plan(&[]).unwrap();
    ws.apply_auto().unwrap();
    assert_eq!(
        ws.output_json().unwrap()["greeting"]["value"],
        "hello, world"
    );
}

#[test]
fn each_terraform_version_runs_a_provider_less_configuration() {
    for tf in clis() {
        if tf.at_least(1, 4) {
            lifecycle_with_terraform_data(&tf);
        } else {
            lifecycle_with_outputs_only(&tf);
        }
    }
}

#[test]
fn an_invalid_configuration_fails_with_terraform_s_diagnostic() {
    for tf in clis() {
        let ws = Workspace::without_provider(&tf).unwrap();
        ws.write("main.tf", "output \"x\" {\n  value = local.missing\n}\n")
            .unwrap();
        ws.init().unwrap();
        let out = ws.run(&["validate"]).unwrap().failed().unwrap();
        assert!(
            out.stderr.contains("Reference to undeclared local value"),
            "{out}"
        );
        assert!(
            !out.stderr.contains("\u{1b}["),
            "colour codes despite -no-color:\n{out}"
        );
    }
}

#[test]
fn a_command_past_its_timeout_is_killed_and_reported() {
    let tf = newest_cli();
    let mut ws = Workspace::without_provider(&tf).unwrap();
    // No Terraform command finishes in a millisecond.
    ws.timeout(std::time::Duration::from_millis(1));
    ws.write("main.tf", outputs_only_config()).unwrap();
    let err = ws.run(&["init"]).unwrap_err().to_string();
    assert!(err.contains("timed out"), "{err}");
}

#[test]
fn files_are_written_below_the_workspace() {
    let tf = newest_cli();
    let ws = Workspace::without_provider(&tf).unwrap();
    let path = ws
        .write("app/app.py", "def handler(e, c):\n    return 1\n")
        .unwrap();
    assert!(path.starts_with(ws.dir()));
    assert_eq!(
        ws.read("app/app.py").unwrap(),
        "def handler(e, c):\n    return 1\n"
    );
}

#[test]
fn init_installs_the_provider_from_the_filesystem_mirror() {
    // `init` only hashes and links the plugin, so any file will do here.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake-provider");
    std::fs::write(&fake, "#!/bin/sh\nexit 1\n").unwrap();
    let mirror = tests::ProviderMirror::create(dir.path(), &fake).unwrap();
    for tf in clis() {
        let ws = Workspace::with_mirror(&tf, &mirror).unwrap();
        ws.write("versions.tf", tests::required_providers_hcl())
            .unwrap();
        let init = ws.init().unwrap();
        assert!(
            init.stdout
                .contains("Installing eventpipe/eventpipe v0.2.0"),
            "{init}"
        );
        let lock = ws.read(".terraform.lock.hcl").unwrap();
        assert!(
            lock.contains("provider \"registry.terraform.io/eventpipe/eventpipe\""),
            "{lock}"
        );
        assert!(lock.contains("version     = \"0.2.0\""), "{lock}");
    }
}
