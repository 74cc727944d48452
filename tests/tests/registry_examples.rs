//! The registry examples the docs embed work as documented: the provider
//! block and the resource example validate and plan, and the pipeline they
//! create can be imported with the command in `import.sh`, after which the
//! same configuration plans no changes; the existing-bucket example applies
//! to a bucket made beforehand and leaves it behind on destroy.

mod common;

use common::*;
use tests::Moto;

const RESOURCE: &str = "examples/resources/eventpipe_event_pipeline/resource.tf";
const IMPORT: &str = "examples/resources/eventpipe_event_pipeline/import.sh";
const PROVIDER: &str = "examples/provider/provider.tf";
const EXISTING_BUCKET: &str = "examples/resources/eventpipe_event_pipeline/existing-bucket.tf";

/// The arguments of the `terraform import ...` line of `import.sh`.
fn import_args(script: &str) -> Vec<String> {
    let line = script
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("terraform import "))
        .unwrap_or_else(|| panic!("{IMPORT} has no `terraform import` line"));
    line.split_whitespace().skip(1).map(str::to_owned).collect()
}

#[test]
fn the_provider_example_validates() {
    let tf = newest_cli();
    let ws = tests::Workspace::new(&tf).expect("workspace");
    ws.write("main.tf", repo_file(PROVIDER)).expect("main.tf");
    ws.init().unwrap();
    ws.validate().unwrap();
}

#[test]
fn the_resource_example_applies_and_imports_with_the_documented_command() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = workspace(&tf, &moto, &repo_file(RESOURCE));
    // moto treats the TLS-only bucket policy as a blanket deny (see the docs),
    // and the emulator must be left empty.
    ws.write(
        "emulator_override.tf",
        "resource \"eventpipe_event_pipeline\" \"example\" {\n  require_tls   = false\n  \
         force_destroy = true\n}\n",
    )
    .expect("override");
    ws.init().unwrap();
    ws.validate().unwrap();
    ws.apply_auto().unwrap();
    ws.run_ok(&["state", "rm", "eventpipe_event_pipeline.example"])
        .unwrap();
    let args = import_args(&repo_file(IMPORT));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ws.run_ok(&args).unwrap();
    assert!(out.contains("Import successful"), "{out}");
    assert_plan_empty(&ws, "the example must plan no changes after import");
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn the_existing_bucket_example_adds_its_notification_and_leaves_the_bucket() {
    const BUCKET: &str = "acme-landing-zone";
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    aws.create_bucket(BUCKET).unwrap();
    aws.put_object(BUCKET, "clicks/batch-0001.ndjson", "{\"page\": \"/\"}\n")
        .unwrap();
    let ws = workspace(&tf, &moto, &repo_file(EXISTING_BUCKET));
    ws.init().unwrap();
    ws.validate().unwrap();
    ws.apply_auto().unwrap();
    assert_eq!(state_attrs(&ws, "clicks")["backfilled_objects"], 1);
    assert_eq!(
        lambda_notification_ids(&aws, BUCKET),
        ["eventpipe-clicks-ingest-0"]
    );
    assert_plan_empty(&ws, "the example must plan no changes after apply");
    ws.destroy_auto().unwrap();
    let inv = aws.list_everything().unwrap().without_lambda_log_groups();
    assert_eq!(inv.buckets, [BUCKET], "the bucket stays: {inv}");
    assert!(inv.functions.is_empty() && inv.roles.is_empty(), "{inv}");
    assert!(lambda_notification_ids(&aws, BUCKET).is_empty());
}
