//! Configurations and checks shared by the end-to-end tests.
#![allow(dead_code)]

use tests::{Moto, TerraformCli, Workspace, mirror::required_providers_hcl};

/// A handler that does what the seed pipeline's function does.
pub const APP_PY: &str = "import json\n\n\ndef handler(event, context):\n    \
records = event.get(\"Records\", [])\n    return {\"processed\": len(records)}\n";

/// The provider block pointing at the emulator through its own setting.
pub fn provider_hcl(moto: &Moto) -> String {
    format!(
        "{}\nprovider \"eventpipe\" {{\n  region       = \"us-east-1\"\n  endpoint_url = \"{}\"\n  \
         access_key   = \"test\"\n  secret_key   = \"test\"\n}}\n",
        required_providers_hcl(),
        moto.endpoint()
    )
}

/// The seed pipeline: bucket, function from ./app (app.handler, Python 3.12,
/// 60 s, 512 MB), trigger on data/*.json.
pub fn seed_resource(name: &str, bucket: &str, extra: &str) -> String {
    format!(
        r#"
resource "eventpipe_event_pipeline" "{name}" {{
  name          = "{name}"
  bucket_name   = "{bucket}"
  force_destroy = true
  require_tls   = false
{extra}
  function {{
    source_dir  = "${{path.module}}/app"
    handler     = "app.handler"
    runtime     = "python3.12"
    timeout     = 60
    memory_size = 512
  }}

  trigger {{
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "data/"
    filter_suffix = ".json"
  }}
}}
"#
    )
}

/// A workspace with the provider block, `app/app.py` and `body` in main.tf.
pub fn workspace(tf: &TerraformCli, moto: &Moto, body: &str) -> Workspace {
    let ws = Workspace::new(tf).expect("workspace");
    ws.write("app/app.py", APP_PY).expect("app.py");
    ws.write("main.tf", format!("{}{}", provider_hcl(moto), body))
        .expect("main.tf");
    ws
}

/// Every Terraform CLI under test (1.11.x on PATH and 1.0.3 from .tools).
pub fn clis() -> Vec<TerraformCli> {
    tests::terraform_versions().expect("terraform CLIs")
}

/// Asserts the emulator holds nothing this project could have made.
pub fn assert_emulator_empty(moto: &Moto) {
    let inv = moto
        .aws()
        .expect("aws")
        .list_everything()
        .expect("inventory");
    let inv = inv.without_lambda_log_groups();
    assert!(inv.is_empty(), "the emulator should hold nothing:\n{inv}");
}
