//! A Terraform working directory in a temp dir, and runs of a real Terraform
//! CLI in it with a controlled environment and a timeout.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::cli_config;
use crate::mirror::ProviderMirror;
use crate::process;
use crate::tools::TerraformCli;

/// Default limit for one Terraform command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Set to keep workspaces on disk for debugging (their paths are printed).
pub const KEEP_ENV: &str = "EVENTPIPE_KEEP_WORKSPACE";

/// Commands whose second word is a subcommand (`-no-color` goes after both).
const NESTED_COMMANDS: &[&str] = &["providers", "state", "workspace"];
/// Variables from the machine that must not leak into a test run.
const SCRUBBED_ENV: &[&str] = &[
    "TF_CLI_ARGS",
    "TF_DATA_DIR",
    "TF_WORKSPACE",
    "TF_PLUGIN_CACHE_DIR",
    "TF_REATTACH_PROVIDERS",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
];

/// A temp directory with configuration files, bound to one Terraform CLI.
pub struct Workspace {
    dir: TempDir,
    terraform: TerraformCli,
    cli_config: PathBuf,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
}

impl Workspace {
    /// A workspace whose Terraform installs `eventpipe/eventpipe` from the
    /// shared filesystem mirror (needs the built provider binary).
    pub fn new(terraform: &TerraformCli) -> Result<Workspace> {
        let mirror = ProviderMirror::shared()?;
        Workspace::create(terraform, Some(mirror.cli_config()))
    }

    /// A workspace whose Terraform installs our provider from `mirror`.
    pub fn with_mirror(terraform: &TerraformCli, mirror: &ProviderMirror) -> Result<Workspace> {
        Workspace::create(terraform, Some(mirror.cli_config()))
    }

    /// A workspace whose Terraform reads the CLI configuration at `cli_config`
    /// (e.g. one with a `network_mirror`, from [`cli_config::render_with_network_mirror`]).
    pub fn with_cli_config(terraform: &TerraformCli, cli_config: &Path) -> Result<Workspace> {
        Workspace::create(terraform, Some(cli_config))
    }

    /// A workspace for configurations that use no provider at all.
    pub fn without_provider(terraform: &TerraformCli) -> Result<Workspace> {
        Workspace::create(terraform, None)
    }

    fn create(terraform: &TerraformCli, cli_config: Option<&Path>) -> Result<Workspace> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("eventpipe-tf{}-", terraform.label))
            .tempdir()
            .context("creating the workspace directory")?;
        let cli_config = match cli_config {
            Some(path) => path.to_path_buf(),
            None => {
                let path = dir.path().join(".terraformrc");
                fs::write(&path, cli_config::render_without_providers())
                    .with_context(|| format!("writing {}", path.display()))?;
                path
            }
        };
        Ok(Workspace {
            dir,
            terraform: terraform.clone(),
            cli_config,
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn terraform(&self) -> &TerraformCli {
        &self.terraform
    }

    /// Adds or replaces an environment variable for every later command.
    pub fn env(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> &mut Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    /// Adds several variables, e.g. `ws.envs(moto.env_vars())`.
    pub fn envs<K, V>(&mut self, vars: impl IntoIterator<Item = (K, V)>) -> &mut Self
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        for (key, value) in vars {
            self.env(key, value);
        }
        self
    }

    /// The limit for each later command (default 5 minutes).
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Writes a file relative to the workspace, creating parent directories
    /// (e.g. `write("main.tf", ...)`, `write("app/app.py", ...)`).
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf> {
        let path = self.dir().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    pub fn read(&self, relative: &str) -> Result<String> {
        let path = self.dir().join(relative);
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }

    pub fn remove(&self, relative: &str) -> Result<()> {
        let path = self.dir().join(relative);
        fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))
    }

    /// Runs `terraform <args>` (with `-no-color` added after the command)
    /// and returns its output whatever the exit code. Fails only when it
    /// cannot start or runs past the timeout (it is then killed).
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        let args = with_no_color(args);
        let cmd = self.command(&args);
        let label = format!("terraform-{} {}", self.terraform.label, args.join(" "));
        self.execute(cmd, label, None)
    }

    /// Runs another program (a script, the `eventpipe` CLI) in the
    /// workspace with the environment Terraform gets here, plus `TERRAFORM`
    /// naming this workspace's CLI, and `stdin` as its standard input.
    pub fn run_program(
        &self,
        program: &Path,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<Output> {
        let mut cmd = self.command(&[]);
        let mut with_program = Command::new(program);
        with_program
            .args(args)
            .current_dir(self.dir())
            .stdin(Stdio::null());
        for key in SCRUBBED_ENV {
            with_program.env_remove(key);
        }
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => with_program.env(k, v),
                None => with_program.env_remove(k),
            };
        }
        with_program.env("TERRAFORM", &self.terraform.path);
        cmd = with_program;
        let label = format!("{} {}", program.display(), args.join(" "));
        self.execute(cmd, label, stdin)
    }

    fn execute(&self, mut cmd: Command, label: String, stdin: Option<&[u8]>) -> Result<Output> {
        let stdout = tempfile::tempfile().context("creating a stdout capture file")?;
        let stderr = tempfile::tempfile().context("creating a stderr capture file")?;
        cmd.stdout(stdout.try_clone()?).stderr(stderr.try_clone()?);
        if let Some(input) = stdin {
            let mut file = tempfile::tempfile().context("creating a stdin file")?;
            std::io::Write::write_all(&mut file, input)?;
            file.rewind()?;
            cmd.stdin(file);
        }
        let started = Instant::now();
        let mut child = process::spawn_tied(cmd).with_context(|| format!("starting {label}"))?;
        let status = process::wait_timeout(&mut child, self.timeout)?;
        // Stop whatever is left in the group: plugins after a timeout, or
        // stray plugin processes after a normal exit.
        let status = match status {
            Some(status) => {
                process::kill_group(&child, libc::SIGKILL);
                Some(status)
            }
            None => {
                process::terminate_group(&mut child, Duration::from_secs(5))?;
                None
            }
        };
        let output = Output {
            command: label,
            dir: self.dir().to_path_buf(),
            code: status.and_then(|s| s.code()),
            stdout: read_capture(stdout)?,
            stderr: read_capture(stderr)?,
            duration: started.elapsed(),
        };
        if status.is_none() {
            bail!("timed out after {:?}\n{output}", self.timeout);
        }
        Ok(output)
    }

    fn command(&self, args: &[String]) -> Command {
        let mut cmd = Command::new(&self.terraform.path);
        cmd.args(args).current_dir(self.dir()).stdin(Stdio::null());
        for key in SCRUBBED_ENV {
            cmd.env_remove(key);
        }
        cmd.env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_INPUT", "0")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", crate::aws::REGION)
            .env("AWS_DEFAULT_REGION", crate::aws::REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs the command and fails (with the whole output) unless it exits 0.
    pub fn run_ok(&self, args: &[&str]) -> Result<Output> {
        self.run(args)?.ok()
    }

    pub fn init(&self) -> Result<Output> {
        self.run_ok(&["init"])
    }

    pub fn validate(&self) -> Result<Output> {
        self.run_ok(&["validate"])
    }

    /// `terraform plan <args>`; must succeed.
    pub fn plan(&self, args: &[&str]) -> Result<Output> {
        self.run_ok(&prepend("plan", args))
    }

    /// `terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes, else an error.
    pub fn plan_detailed_exitcode(&self) -> Result<Plan> {
        let output = self.run(&["plan", "-detailed-exitcode"])?;
        match output.code {
            Some(0) => Ok(Plan {
                has_changes: false,
                output,
            }),
            Some(2) => Ok(Plan {
                has_changes: true,
                output,
            }),
            _ => bail!("plan -detailed-exitcode failed\n{output}"),
        }
    }

    pub fn apply_auto(&self) -> Result<Output> {
        self.run_ok(&["apply", "-auto-approve"])
    }

    pub fn destroy_auto(&self) -> Result<Output> {
        self.run_ok(&["destroy", "-auto-approve"])
    }

    /// `terraform show -json` of the current state.
    pub fn show_json(&self) -> Result<serde_json::Value> {
        self.run_ok(&["show", "-json"])?.json()
    }

    /// `terraform providers schema -json` (needs `init` first).
    pub fn providers_schema_json(&self) -> Result<serde_json::Value> {
        self.run_ok(&["providers", "schema", "-json"])?.json()
    }

    /// `terraform output -json`: every root output by name.
    pub fn output_json(&self) -> Result<serde_json::Value> {
        self.run_ok(&["output", "-json"])?.json()
    }

    /// Resource addresses in the state.
    pub fn state_list(&self) -> Result<Vec<String>> {
        let output = self.run_ok(&["state", "list"])?;
        Ok(output.stdout.lines().map(str::to_string).collect())
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if std::env::var_os(KEEP_ENV).is_some() {
            self.dir.disable_cleanup(true);
            eprintln!("keeping workspace {}", self.dir().display());
        }
    }
}

/// The outcome of `plan -detailed-exitcode`.
#[derive(Debug, Clone)]
pub struct Plan {
    pub has_changes: bool,
    pub output: Output,
}

/// One finished Terraform command. `Display` shows everything a failing
/// assertion needs: the command, where, the exit code, stdout and stderr.
#[derive(Debug, Clone)]
pub struct Output {
    pub command: String,
    pub dir: PathBuf,
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// `self` if it exited 0, else an error showing the whole output.
    pub fn ok(self) -> Result<Output> {
        if self.success() {
            Ok(self)
        } else {
            bail!("terraform failed\n{self}")
        }
    }

    /// `self` if it failed, else an error showing the whole output.
    pub fn failed(self) -> Result<Output> {
        if self.success() {
            bail!("terraform succeeded but a failure was expected\n{self}")
        } else {
            Ok(self)
        }
    }

    /// stdout then stderr.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Whether stdout or stderr contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.stdout.contains(needle) || self.stderr.contains(needle)
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.stdout).with_context(|| format!("stdout is not JSON\n{self}"))
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.map_or_else(
            || "killed by a signal".to_string(),
            |c| format!("exit code {c}"),
        );
        writeln!(
            f,
            "$ {}\n  in {}\n  {code} after {:.1} s",
            self.command,
            self.dir.display(),
            self.duration.as_secs_f64()
        )?;
        writeln!(f, "--- stdout ---\n{}", tail(&self.stdout))?;
        write!(f, "--- stderr ---\n{}", tail(&self.stderr))
    }
}

/// Keeps the end of very long output (`show -json` of a big state, TF_LOG).
fn tail(text: &str) -> &str {
    const LIMIT: usize = 20_000;
    if text.len() <= LIMIT {
        return text;
    }
    let mut start = text.len() - LIMIT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Puts `-no-color` right after the command words (`plan`, `providers schema`).
fn with_no_color(args: &[&str]) -> Vec<String> {
    let mut words = args.iter().take_while(|a| !a.starts_with('-')).count();
    let nested = args.first().is_some_and(|a| NESTED_COMMANDS.contains(a));
    words = words.min(if nested { 2 } else { 1 });
    let mut out: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    out.insert(words, "-no-color".to_string());
    out
}

fn prepend<'a>(first: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    std::iter::once(first).chain(rest.iter().copied()).collect()
}

fn read_capture(mut file: File) -> Result<String> {
    file.rewind().context("rewinding a capture file")?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .context("reading a capture file")?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_goes_after_the_command_words() {
        assert_eq!(with_no_color(&["plan"]), ["plan", "-no-color"]);
        assert_eq!(
            with_no_color(&["apply", "-auto-approve"]),
            ["apply", "-no-color", "-auto-approve"]
        );
        assert_eq!(
            with_no_color(&["providers", "schema", "-json"]),
            ["providers", "schema", "-no-color", "-json"]
        );
        assert_eq!(
            with_no_color(&["import", "eventpipe_event_pipeline.a", "id"]),
            ["import", "-no-color", "eventpipe_event_pipeline.a", "id"]
        );
        assert_eq!(
            with_no_color(&["state", "list"]),
            ["state", "list", "-no-color"]
        );
    }

    #[test]
    fn output_display_shows_command_code_and_streams() {
        let output = Output {
            command: "terraform-1.11.4 plan -no-color".into(),
            dir: PathBuf::from("/tmp/ws"),
            code: Some(1),
            stdout: "out text".into(),
            stderr: "Error: boom".into(),
            duration: Duration::from_millis(1500),
        };
        let text = output.to_string();
        for part in [
            "$ terraform-1.11.4 plan",
            "/tmp/ws",
            "exit code 1",
            "out text",
            "Error: boom",
        ] {
            assert!(text.contains(part), "{part:?} missing from:\n{text}");
        }
        assert!(output.clone().ok().is_err());
        assert!(output.failed().is_ok());
    }

    #[test]
    fn tail_keeps_the_end() {
        let long = "x".repeat(30_000) + "END";
        assert!(tail(&long).ends_with("END"));
        assert!(tail(&long).len() <= 20_000);
    }
}
