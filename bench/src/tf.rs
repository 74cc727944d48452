//! Terraform configurations the figures plan and apply, and a workspace
//! wrapper that times each command.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use tests::{Moto, ProviderMirror, TerraformCli, Workspace};

/// The handler every benchmark pipeline packages.
pub const HANDLER: &str = "import json\n\n\ndef handler(event, context):\n    \
                           return {\"records\": len(event.get(\"Records\", []))}\n";

/// `count` pipelines named `<prefix>-<i>`, all packaging `source_dir`.
pub fn pipelines_hcl(prefix: &str, count: usize, source_dir: &Path) -> String {
    let mut hcl = tests::required_providers_hcl();
    hcl.push_str("\nprovider \"eventpipe\" {}\n");
    for i in 0..count {
        let _ = write!(
            hcl,
            r#"
resource "eventpipe_event_pipeline" "p{i}" {{
  name          = "{prefix}-{i}"
  force_destroy = true
  require_tls   = false
  tags          = {{ bench = "true" }}

  function {{
    source_dir  = "{dir}"
    handler     = "app.handler"
    memory_size = 128
    timeout     = 10
  }}

  trigger {{
    filter_prefix = "in/"
    filter_suffix = ".json"
  }}
}}
"#,
            dir = source_dir.display()
        );
    }
    hcl
}

/// `count` `terraform_data` resources whose `input` has as many leaf values
/// (27) as a pipeline's state, in the same shape (an object, a nested
/// object, a list of objects, maps).
pub fn terraform_data_hcl(prefix: &str, count: usize, source_dir: &Path) -> String {
    let mut hcl = String::new();
    for i in 0..count {
        let _ = write!(
            hcl,
            r#"
resource "terraform_data" "p{i}" {{
  input = {{
    id               = "{prefix}-{i}"
    name             = "{prefix}-{i}"
    bucket_name      = "{prefix}-{i}-0123456789"
    force_destroy    = true
    require_tls      = false
    output_prefix    = "out/"
    tags             = {{ bench = "true" }}
    tags_all         = {{ bench = "true" }}
    bucket_arn       = "arn:aws:s3:::{prefix}-{i}-0123456789"
    role_name        = "{prefix}-{i}-role"
    role_arn         = "arn:aws:iam::123456789012:role/{prefix}-{i}-role"
    function_name    = "{prefix}-{i}"
    function_arn     = "arn:aws:lambda:us-east-1:123456789012:function:{prefix}-{i}"
    s3_permission_id = "eventpipe-s3-invoke"
    source_code_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    policy_json      = "{{\"Version\":\"2012-10-17\",\"Statement\":[]}}"
    function = {{
      source_dir   = "{dir}"
      handler      = "app.handler"
      runtime      = "python3.13"
      memory_size  = 128
      timeout      = 10
      environment  = {{ LOG_LEVEL = "info" }}
      architecture = "x86_64"
      description  = "bench"
    }}
    trigger = [{{
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = "in/"
      filter_suffix = ".json"
    }}]
  }}
}}
"#,
            dir = source_dir.display()
        );
    }
    hcl
}

/// A workspace pointed at moto (or anything else serving AWS at `endpoint`).
pub fn workspace(
    terraform: &TerraformCli,
    mirror: Option<&ProviderMirror>,
    moto: &Moto,
) -> Result<Workspace> {
    let mut ws = match mirror {
        Some(m) => Workspace::with_mirror(terraform, m)?,
        None => Workspace::without_provider(terraform)?,
    };
    ws.envs(moto.env_vars());
    ws.timeout(Duration::from_secs(900));
    Ok(ws)
}

/// Runs a command that must succeed and returns how long it took.
pub fn run_timed(ws: &Workspace, args: &[&str]) -> Result<Duration> {
    Ok(ws.run_ok(args)?.duration)
}

/// Forgets the state (after the emulator was reset).
pub fn forget_state(ws: &Workspace) {
    for f in ["terraform.tfstate", "terraform.tfstate.backup"] {
        let _ = ws.remove(f);
    }
}
