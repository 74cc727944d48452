//! `eventpipe invoke --local`: the handler run on this machine by a small
//! runner (Python or Node.js, embedded in the binary) with its source, its
//! installed dependencies (the package cache's tree, installed now when it
//! is not there), the function's environment and Lambda's own variables.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::pipeline::package::deps::python::{PYTHON_ENV, python_version};
use crate::pipeline::package::{self, Settings, cache::Cache};

use super::super::error::CliError;
use super::config::Pipeline;

const PYTHON_RUNNER: &str = include_str!("runner.py");
const NODE_RUNNER: &str = include_str!("runner.js");

/// The line the runner's answer follows, after the handler's own output.
pub const MARKER: &str = "\u{1e}eventpipe-invoke-result\u{1e}";

/// The two languages a handler can run in here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Python,
    Node,
}

impl Language {
    pub fn of_runtime(runtime: &str) -> Result<Language, CliError> {
        if runtime.starts_with("python") {
            Ok(Language::Python)
        } else if runtime.starts_with("nodejs") {
            Ok(Language::Node)
        } else {
            Err(CliError::Input(format!(
                "runtime {runtime:?} cannot run here: --local runs Python and Node.js handlers"
            )))
        }
    }
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The interpreter for `runtime`: for Python `$EVENTPIPE_PYTHON` when set,
/// else the runtime's own `pythonX.Y`, else `python3`; for Node.js `node`.
pub fn interpreter(language: Language, runtime: &str) -> Result<String, CliError> {
    match language {
        Language::Python => {
            if let Some(p) = std::env::var(PYTHON_ENV).ok().filter(|p| !p.is_empty()) {
                return if runs(&p) {
                    Ok(p)
                } else {
                    Err(CliError::Input(format!(
                        "{PYTHON_ENV}={p} does not run; install Python or point {PYTHON_ENV} \
                         at one"
                    )))
                };
            }
            let own = format!("python{}", python_version(runtime));
            [own.as_str(), "python3"]
                .into_iter()
                .find(|p| runs(p))
                .map(str::to_owned)
                .ok_or_else(|| {
                    CliError::Input(format!(
                        "no Python to run a {runtime} handler: neither {own} nor python3 runs; \
                         install Python {} (or set {PYTHON_ENV})",
                        python_version(runtime)
                    ))
                })
        }
        Language::Node => {
            if runs("node") {
                Ok("node".to_owned())
            } else {
                Err(CliError::Input(format!(
                    "no Node.js to run a {runtime} handler: `node` does not run; install Node.js"
                )))
            }
        }
    }
}

/// What the handler did.
#[derive(Clone, Debug, PartialEq)]
pub struct Ran {
    /// What it printed (standard output and error, in order).
    pub log: String,
    /// What it returned, or its error in Lambda's shape.
    pub outcome: Result<Json, Json>,
}

/// Splits the runner's output into the handler's log and its answer.
pub fn parse_output(output: &str) -> Option<(String, Result<Json, Json>)> {
    let at = output.rfind(MARKER)?;
    let answer: Json = serde_json::from_str(output[at + MARKER.len()..].trim()).ok()?;
    // The runner starts its answer on a line of its own.
    let log = output[..at].strip_suffix('\n').unwrap_or(&output[..at]);
    let outcome = if answer["ok"] == Json::Bool(true) {
        Ok(answer["result"].clone())
    } else {
        Err(answer["error"].clone())
    };
    Some((log.to_owned(), outcome))
}

/// A request id in the shape of Lambda's.
pub fn request_id() -> String {
    let n = crate::pipeline::s3_event::now().as_nanos() as u64 ^ u64::from(std::process::id());
    let h = format!(
        "{:016x}{:016x}",
        n,
        n.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15
    );
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Everything a local run needs besides the event.
pub struct Local<'a> {
    pub pipeline: &'a Pipeline,
    pub region: &'a str,
    /// Extra environment (`--var-file`), over the function's own.
    pub extra_env: &'a BTreeMap<String, String>,
    /// `--endpoint-url` and `--profile`, passed on so the handler's SDK
    /// reaches the same AWS.
    pub endpoint_url: Option<&'a str>,
    pub profile: Option<&'a str>,
}

impl Local<'_> {
    fn source_dir(&self) -> Result<PathBuf, CliError> {
        let dir = PathBuf::from(&self.pipeline.source_dir);
        if dir.is_dir() {
            Ok(std::path::absolute(&dir).unwrap_or(dir))
        } else {
            Err(CliError::Input(format!(
                "the function's source_dir {:?} is not a directory here (run where Terraform \
                 runs, or give --state with that configuration's state)",
                self.pipeline.source_dir
            )))
        }
    }

    /// What decides the package, as the pipeline has it.
    fn settings(&self, source_dir: &Path) -> Settings {
        Settings {
            source_dir: source_dir.to_path_buf(),
            runtime: self.pipeline.runtime.clone(),
            architecture: self.pipeline.architecture.clone(),
            requirements_file: self.pipeline.requirements_file.clone(),
            slim: false,
            exclude: self.pipeline.exclude.clone(),
            bundle: false,
        }
    }

    /// The installed dependencies, from the package cache (installed into
    /// it first when they are not there).
    fn dependencies(&self, settings: &Settings) -> Result<Option<PathBuf>, CliError> {
        package::installed_tree(settings, Cache::from_env().as_ref())
            .map_err(|e| CliError::Input(format!("the function's dependencies: {e}")))
    }

    /// The environment the handler sees, over this process's own: the
    /// function's, then `--var-file`'s, then Lambda's reserved variables.
    fn environment(&self, request_id: &str, task_root: &Path) -> BTreeMap<String, String> {
        let p = self.pipeline;
        let mut env = p.environment.clone();
        env.extend(self.extra_env.clone());
        let lambda = [
            ("AWS_REGION", self.region.to_owned()),
            ("AWS_DEFAULT_REGION", self.region.to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", p.function_name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", p.memory_mb.to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", p.log_group.clone()),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("local/[$LATEST]{}", request_id.replace('-', "")),
            ),
            ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", p.runtime)),
            ("_HANDLER", p.handler.clone()),
            ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
            ("TZ", ":UTC".to_owned()),
            ("EVENTPIPE_FUNCTION_ARN", p.function_arn.clone()),
        ];
        env.extend(lambda.into_iter().map(|(k, v)| (k.to_owned(), v)));
        if let Some(url) = self.endpoint_url {
            env.insert("AWS_ENDPOINT_URL".into(), url.to_owned());
        }
        if let Some(profile) = self.profile {
            env.insert("AWS_PROFILE".into(), profile.to_owned());
        }
        env
    }

    /// Runs the handler on `event`; stops it after the function's timeout.
    pub fn run(&self, event: &Json) -> Result<Ran, CliError> {
        let p = self.pipeline;
        let language = Language::of_runtime(&p.runtime)?;
        let program = interpreter(language, &p.runtime)?;
        let settings = self.settings(&self.source_dir()?);
        let deps = self.dependencies(&settings)?;
        // The files the package has: what `exclude` and the default skips
        // leave out is not there for the handler either.
        let staged = packaged_source(&settings)?;
        let dir = staged.dir().to_path_buf();
        let request_id = request_id();
        let mut cmd = Command::new(&program);
        match language {
            Language::Python => {
                let mut path = vec![dir.clone()];
                path.extend(deps);
                let joined = std::env::join_paths(path)
                    .map_err(|e| CliError::Input(format!("the handler's path: {e}")))?;
                cmd.env("PYTHONPATH", joined)
                    .env("PYTHONDONTWRITEBYTECODE", "1")
                    .env("PYTHONUNBUFFERED", "1")
                    .arg("-c")
                    .arg(PYTHON_RUNNER);
            }
            Language::Node => {
                if let Some(d) = deps {
                    cmd.env("NODE_PATH", d.join("node_modules"));
                }
                cmd.arg("-e").arg(NODE_RUNNER).arg("--");
            }
        }
        cmd.args([
            p.handler.as_str(),
            p.function_name.as_str(),
            &p.memory_mb.to_string(),
            &p.timeout_s.to_string(),
            &request_id,
            MARKER,
        ])
        .envs(self.environment(&request_id, &dir))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let timeout = Duration::from_secs(u64::try_from(p.timeout_s.max(1)).unwrap_or(3));
        run_child(cmd, &program, event, timeout)
    }
}

/// The source the handler runs from: `source_dir` itself when the package
/// has every file of it, else a copy of the packaged files (hard links
/// where the file system allows), removed when dropped.
enum SourceRoot {
    AsIs(PathBuf),
    Copy(PathBuf),
}

impl SourceRoot {
    fn dir(&self) -> &Path {
        match self {
            SourceRoot::AsIs(d) | SourceRoot::Copy(d) => d,
        }
    }
}

impl Drop for SourceRoot {
    fn drop(&mut self) {
        if let SourceRoot::Copy(d) = self {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn packaged_source(settings: &Settings) -> Result<SourceRoot, CliError> {
    let failed = |e: &dyn std::fmt::Display| CliError::Input(format!("the function's source: {e}"));
    let limit = crate::pipeline::source::MAX_UNZIPPED_BYTES;
    let (packaged, _) = settings.source(limit).map_err(|e| failed(&e))?;
    let all = crate::pipeline::source::scan_limited(&settings.source_dir, limit)
        .map_err(|e| failed(&e))?;
    if packaged.files.len() == all.files.len() {
        return Ok(SourceRoot::AsIs(settings.source_dir.clone()));
    }
    let root = std::env::temp_dir().join(format!(
        "eventpipe-invoke-{}-{}",
        std::process::id(),
        request_id()
    ));
    let copy = SourceRoot::Copy(root.clone());
    for f in &packaged.files {
        let to = root.join(&f.name);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| failed(&e))?;
        }
        if std::fs::hard_link(&f.path, &to).is_err() {
            std::fs::copy(&f.path, &to).map_err(|e| failed(&e))?;
        }
    }
    Ok(copy)
}

/// Runs the runner, feeding it `event`, and reads its answer.
fn run_child(
    mut cmd: Command,
    program: &str,
    event: &Json,
    timeout: Duration,
) -> Result<Ran, CliError> {
    let mut child = cmd
        .spawn()
        .map_err(|e| CliError::Input(format!("cannot run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A handler that exits before reading is its own story.
        let _ = stdin.write_all(event.to_string().as_bytes());
    }
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let mut bytes = Vec::new();
                let _ = p.read_to_end(&mut bytes);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            text
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let mut timed_out = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                timed_out = true;
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(CliError::Input(format!("waiting for {program}: {e}"))),
        }
    }
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if timed_out {
        let log = format!("{stdout}{stderr}");
        let message = format!("Task timed out after {:.2} seconds", timeout.as_secs_f64());
        return Ok(Ran {
            log: log.trim_end().to_owned(),
            outcome: Err(serde_json::json!({
                "errorType": "Sandbox.Timedout",
                "errorMessage": message,
            })),
        });
    }
    match parse_output(&stdout) {
        Some((log, outcome)) => Ok(Ran {
            log: format!("{log}{stderr}"),
            outcome,
        }),
        None => {
            let said = format!("{stdout}{stderr}");
            let last = said.trim().lines().last().unwrap_or("it printed nothing");
            Err(CliError::Input(format!(
                "{program} stopped before the handler answered: {last}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_follows_the_handlers_own_output() {
        let out = format!("hello\nworld\n\n{MARKER}{{\"ok\":true,\"result\":{{\"n\":1}}}}\n");
        let (log, outcome) = parse_output(&out).unwrap();
        assert_eq!(log, "hello\nworld\n");
        assert_eq!(outcome.unwrap()["n"], 1);
        let out =
            format!("no newline\n{MARKER}{{\"ok\":false,\"error\":{{\"errorType\":\"E\"}}}}\n");
        let (log, outcome) = parse_output(&out).unwrap();
        assert_eq!(log, "no newline");
        assert_eq!(outcome.unwrap_err()["errorType"], "E");
        assert!(parse_output("Traceback: boom\n").is_none());
    }

    #[test]
    fn request_ids_look_like_lambdas() {
        let id = request_id();
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
    }

    #[test]
    fn only_python_and_node_run_here() {
        assert_eq!(
            Language::of_runtime("python3.13").unwrap(),
            Language::Python
        );
        assert_eq!(Language::of_runtime("nodejs22.x").unwrap(), Language::Node);
        let e = Language::of_runtime("java21").unwrap_err().to_string();
        assert!(e.contains("Python and Node.js"), "{e}");
    }
}
