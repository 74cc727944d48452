//! Terraform configurations the figures plan and apply, and a workspace
//! wrapper that times each command.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{Read as _, Seek as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tests::{Moto, ProviderMirror, TerraformCli, Workspace};

/// The handler every benchmark pipeline packages.
pub const HANDLER: &str = "import json\n\n\ndef handler(event, context):\n    \
                           return {\"records\": len(event.get(\"Records\", []))}\n";

/// `count` pipelines named `<prefix>-<i>`, all packaging `source_dir`.
pub fn pipelines_hcl(prefix: &str, count: usize, source_dir: &Path) -> String {
    pipelines_hcl_with(prefix, count, source_dir, |_| {
        "force_destroy = true".to_owned()
    })
}

/// [`pipelines_hcl`] with `bucket(i)` as the bucket's lines of pipeline `i`
/// (written after its `name`).
pub fn pipelines_hcl_with(
    prefix: &str,
    count: usize,
    source_dir: &Path,
    bucket: impl Fn(usize) -> String,
) -> String {
    let mut hcl = tests::required_providers_hcl();
    hcl.push_str("\nprovider \"eventpipe\" {}\n");
    for i in 0..count {
        let _ = write!(
            hcl,
            r#"
resource "eventpipe_event_pipeline" "p{i}" {{
  name          = "{prefix}-{i}"
  {bucket}
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
            dir = source_dir.display(),
            bucket = bucket(i),
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

/// A harness workspace plus what the bench needs to run Terraform in it
/// itself: the harness times commands by polling with up to 100 ms
/// pauses, too coarse for sub-second plans, so timed commands go through
/// [`run_timed`], which polls every millisecond.
pub struct Ws {
    ws: Workspace,
    cli_config: PathBuf,
    env: Vec<(OsString, OsString)>,
}

impl std::ops::Deref for Ws {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.ws
    }
}

impl Ws {
    /// Sets a variable for every later command, timed or not.
    pub fn env(&mut self, key: &str, value: impl Into<OsString>) {
        let value = value.into();
        self.ws.env(key, value.clone());
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value));
    }
}

/// A workspace pointed at moto, using our provider from `mirror` (or no
/// provider at all).
pub fn workspace(
    terraform: &TerraformCli,
    mirror: Option<&ProviderMirror>,
    moto: &Moto,
) -> Result<Ws> {
    let ws = match mirror {
        Some(m) => Workspace::with_mirror(terraform, m)?,
        None => Workspace::without_provider(terraform)?,
    };
    // Where the harness put the CLI configuration (see `Workspace`).
    let cli_config = match mirror {
        Some(m) => m.cli_config().to_path_buf(),
        None => ws.dir().join(".terraformrc"),
    };
    let mut out = Ws {
        ws,
        cli_config,
        env: Vec::new(),
    };
    out.ws.timeout(Duration::from_secs(900));
    for (k, v) in moto.env_vars() {
        out.env(&k, v);
    }
    Ok(out)
}

/// Runs `terraform <args> -no-color` in the workspace, with the harness's
/// environment; fails unless it exits 0. Returns the wall time from spawn
/// to exit, to the millisecond.
pub fn run_timed(ws: &Ws, args: &[&str]) -> Result<Duration> {
    let mut cmd = Command::new(&ws.terraform().path);
    cmd.arg(args[0])
        .arg("-no-color")
        .args(&args[1..])
        .current_dir(ws.dir())
        .stdin(Stdio::null());
    for key in [
        "TF_CLI_ARGS",
        "TF_DATA_DIR",
        "TF_WORKSPACE",
        "TF_PLUGIN_CACHE_DIR",
        "TF_REATTACH_PROVIDERS",
        "TF_LOG",
        "TF_LOG_PROVIDER",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(key);
    }
    cmd.env("TF_CLI_CONFIG_FILE", &ws.cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_INPUT", "0")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(ws.env.iter().map(|(k, v)| (k, v)));
    let out = tempfile::tempfile()?;
    cmd.stdout(out.try_clone()?).stderr(out.try_clone()?);
    let start = Instant::now();
    let mut child = tests::process::spawn_tied(cmd)?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > Duration::from_secs(900) {
            tests::process::terminate_group(&mut child, Duration::from_secs(5))?;
            bail!("terraform {} timed out", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let took = start.elapsed();
    // Plugins left behind, if any.
    tests::process::kill_group(&child, libc::SIGKILL);
    if !status.success() {
        let mut text = String::new();
        let mut out = out;
        out.rewind()?;
        out.read_to_string(&mut text)?;
        bail!("terraform {} failed ({status}):\n{text}", args.join(" "));
    }
    Ok(took)
}

/// Forgets the state (after the emulator was reset).
pub fn forget_state(ws: &Workspace) {
    for f in ["terraform.tfstate", "terraform.tfstate.backup"] {
        let _ = ws.remove(f);
    }
}
