//! The CI example runs as shipped: this test reads
//! `examples/ci/github-actions.yml`, and runs each of its `run` steps, in
//! order and as written, the way a GitHub runner does (`bash -eo pipefail`
//! with the workflow's and the step's `env`, `GITHUB_ENV`, `GITHUB_PATH`,
//! `GITHUB_OUTPUT` and `${{ steps.<id>.outputs.<name> }}`), against:
//!
//! - a release made by `make release PROFILE=debug NO_BUILD=1` and added to
//!   a mirror by `make mirror`, served over HTTPS on loopback
//!   (`tests/src/https.rs`), whose certificate the runner trusts through
//!   `SSL_CERT_FILE`: the `eventpipe` command line and the provider both
//!   come from there, and nothing else is on `PATH` but the system's tools
//!   and the Terraform CLI the workflow pins;
//! - the emulator, for the plan.
//!
//! The `uses` steps are stood in for (the checkout is the test's folder,
//! setup-terraform puts the pinned CLI on `PATH`, the AWS credentials are
//! the emulator's); the one step that talks to GitHub (the PR comment) is
//! left out. A step the test does not know fails it, so the workflow and
//! this test cannot drift apart.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{APP_PY, repo_file};
use tests::https::{StaticHttps, make_certs};
use tests::mirror::PROVIDER_VERSION;
use tests::release::make_mirror;
use tests::{Moto, TerraformCli, tools};
use yaml_rust2::{Yaml, YamlLoader};

const WORKFLOW: &str = "examples/ci/github-actions.yml";
/// The steps that need GitHub itself; everything else runs.
const GITHUB_ONLY_STEPS: &[&str] = &["Post the summary on the pull request"];
/// The limit for one step.
const STEP_TIMEOUT: Duration = Duration::from_secs(300);

/// One step of the workflow's job.
#[derive(Debug)]
struct Step {
    name: String,
    id: Option<String>,
    uses: Option<String>,
    run: Option<String>,
    condition: Option<String>,
    with: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
}

/// What the test needs of the workflow.
#[derive(Debug)]
struct Workflow {
    env: BTreeMap<String, String>,
    shell: String,
    steps: Vec<Step>,
}

fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(n) => n.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn map(value: &Yaml) -> BTreeMap<String, String> {
    match value {
        Yaml::BadValue => BTreeMap::new(),
        Yaml::Hash(h) => h.iter().map(|(k, v)| (scalar(k), scalar(v))).collect(),
        other => panic!("not a mapping: {other:?}"),
    }
}

fn optional(value: &Yaml) -> Option<String> {
    (!value.is_badvalue()).then(|| scalar(value))
}

impl Workflow {
    fn read() -> Workflow {
        let docs = YamlLoader::load_from_str(&repo_file(WORKFLOW)).expect("the workflow is YAML");
        let doc = &docs[0];
        let jobs = doc["jobs"].as_hash().expect("jobs");
        assert_eq!(jobs.len(), 1, "one job");
        let job = jobs.values().next().unwrap();
        assert_eq!(job["runs-on"].as_str(), Some("ubuntu-latest"));
        let steps = job["steps"]
            .as_vec()
            .expect("steps")
            .iter()
            .map(|s| Step {
                name: optional(&s["name"])
                    .or_else(|| optional(&s["uses"]))
                    .expect("a step has a name or uses"),
                id: optional(&s["id"]),
                uses: optional(&s["uses"]),
                run: optional(&s["run"]),
                condition: optional(&s["if"]),
                with: map(&s["with"]),
                env: map(&s["env"]),
            })
            .collect();
        Workflow {
            env: map(&doc["env"]),
            shell: optional(&doc["defaults"]["run"]["shell"]).unwrap_or_else(|| "sh".into()),
            steps,
        }
    }

    fn uses(&self, action: &str) -> &Step {
        self.steps
            .iter()
            .find(|s| s.uses.as_deref().is_some_and(|u| u.starts_with(action)))
            .unwrap_or_else(|| panic!("no {action} step"))
    }
}

/// The emulator's view of the release: a mirror served over HTTPS and the
/// CA file a runner trusts it with.
struct Served {
    _dist: tempfile::TempDir,
    root: tempfile::TempDir,
    ca: tempfile::TempDir,
    server: StaticHttps,
}

impl Served {
    fn new() -> Served {
        let dist = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        make_mirror(dist.path(), root.path()).expect("make mirror");
        let certs = make_certs();
        let ca = tempfile::tempdir().unwrap();
        fs::write(ca.path().join("ca.pem"), &certs.ca_pem).unwrap();
        let server = StaticHttps::start(root.path().to_path_buf(), &certs);
        Served {
            _dist: dist,
            root,
            ca,
            server,
        }
    }

    /// The `h1:`/`zh:` hashes the mirror lists for this platform.
    fn listed_hashes(&self) -> Vec<String> {
        let path = self
            .root
            .path()
            .join("registry.terraform.io/eventpipe/eventpipe")
            .join(format!("{PROVIDER_VERSION}.json"));
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        json["archives"][tests::mirror::os_arch()]["hashes"]
            .as_array()
            .expect("hashes")
            .iter()
            .map(|h| h.as_str().unwrap().to_owned())
            .collect()
    }
}

/// What one step did.
#[derive(Debug)]
struct StepRun {
    name: String,
    /// `None` when the step was left out or stood in for.
    code: Option<i32>,
    output: String,
}

/// One run of the job on a fresh runner: its own HOME and RUNNER_TEMP,
/// the environment and PATH the steps build up, and their outputs.
struct Job<'a> {
    runner: tempfile::TempDir,
    checkout: &'a Path,
    base_env: BTreeMap<String, String>,
    /// `GITHUB_ENV` lines of earlier steps.
    env: BTreeMap<String, String>,
    /// `GITHUB_PATH` lines of earlier steps, the latest first.
    path: Vec<String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl<'a> Job<'a> {
    fn new(checkout: &'a Path, served: &Served) -> Job<'a> {
        let runner = tempfile::tempdir().unwrap();
        for dir in ["home", "temp"] {
            fs::create_dir(runner.path().join(dir)).unwrap();
        }
        let at = |dir: &str| runner.path().join(dir).display().to_string();
        let base_env = BTreeMap::from([
            ("HOME".into(), at("home")),
            ("RUNNER_TEMP".into(), at("temp")),
            ("GITHUB_WORKSPACE".into(), checkout.display().to_string()),
            ("CI".into(), "true".into()),
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("LANG".into(), "C.UTF-8".into()),
            // The runner trusts the mirror's certificate.
            (
                "SSL_CERT_FILE".into(),
                served.ca.path().join("ca.pem").display().to_string(),
            ),
            // Nothing from the network: Terraform's version check is off.
            ("CHECKPOINT_DISABLE".into(), "1".into()),
        ]);
        Job {
            runner,
            checkout,
            base_env,
            env: BTreeMap::new(),
            path: vec!["/usr/bin".into(), "/bin".into()],
            outputs: BTreeMap::new(),
        }
    }

    /// Runs every step in order, as GitHub does: after a failure only the
    /// steps with `if: always()` run.
    fn run(&mut self, workflow: &Workflow, tf: &TerraformCli) -> Vec<StepRun> {
        assert_eq!(
            workflow.shell, "bash",
            "the test runs steps as `shell: bash`"
        );
        let mut failed = false;
        let mut runs = Vec::new();
        for step in &workflow.steps {
            let always = match step.condition.as_deref() {
                None => false,
                Some("always()") => true,
                Some(other) => panic!("{}: the test cannot evaluate `if: {other}`", step.name),
            };
            if failed && !always {
                runs.push(StepRun {
                    name: step.name.clone(),
                    code: None,
                    output: "skipped after a failure".into(),
                });
                continue;
            }
            let run = match (&step.uses, &step.run) {
                (Some(uses), None) => self.stand_in(step, uses, tf),
                (None, Some(_)) if GITHUB_ONLY_STEPS.contains(&step.name.as_str()) => StepRun {
                    name: step.name.clone(),
                    code: None,
                    output: "left out: it needs GitHub".into(),
                },
                (None, Some(script)) => self.run_step(workflow, step, script),
                _ => panic!("{}: a step either uses an action or runs", step.name),
            };
            failed |= run.code.is_some_and(|c| c != 0);
            runs.push(run);
        }
        runs
    }

    /// What the runner's actions would have done.
    fn stand_in(&mut self, step: &Step, uses: &str, tf: &TerraformCli) -> StepRun {
        let action = uses.split('@').next().unwrap();
        match action {
            // The checkout is the test's folder.
            "actions/checkout" => {}
            "hashicorp/setup-terraform" => {
                assert_eq!(
                    step.with.get("terraform_version"),
                    Some(&tf.label),
                    "the workflow pins the CLI this test runs"
                );
                assert_eq!(
                    step.with.get("terraform_wrapper").map(String::as_str),
                    Some("false"),
                    "the wrapper would change plan-review.sh's output"
                );
                let bin = self.runner.path().join("terraform-bin");
                fs::create_dir_all(&bin).unwrap();
                let link = bin.join("terraform");
                if !link.exists() {
                    std::os::unix::fs::symlink(&tf.path, &link).unwrap();
                }
                self.path.insert(0, bin.display().to_string());
            }
            "aws-actions/configure-aws-credentials" => {
                let region = step.with.get("aws-region").expect("aws-region");
                assert_eq!(region, tests::aws::REGION, "the emulator's region");
                for (key, value) in [
                    ("AWS_ACCESS_KEY_ID", "test"),
                    ("AWS_SECRET_ACCESS_KEY", "test"),
                    ("AWS_REGION", region),
                    ("AWS_DEFAULT_REGION", region),
                ] {
                    self.env.insert(key.into(), value.into());
                }
            }
            other => panic!("{}: the test has no stand-in for {other}", step.name),
        }
        StepRun {
            name: step.name.clone(),
            code: None,
            output: format!("stood in for {action}"),
        }
    }

    /// `${{ steps.<id>.outputs.<name> }}` in a step's `env`; any other
    /// expression fails the test.
    fn expand(&self, step: &Step, value: &str) -> String {
        let Some(start) = value.find("${{") else {
            return value.to_owned();
        };
        let end = value[start..].find("}}").expect("closed expression") + start;
        let expr = value[start + 3..end].trim();
        let parts: Vec<&str> = expr.split('.').collect();
        let result = match parts.as_slice() {
            ["steps", id, "outputs", name] => self
                .outputs
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("{}: the test cannot evaluate ${{{{ {expr} }}}}", step.name),
        };
        let rest = self.expand(step, &value[end + 2..]);
        format!("{}{result}{rest}", &value[..start])
    }

    fn run_step(&mut self, workflow: &Workflow, step: &Step, script: &str) -> StepRun {
        assert!(
            !script.contains("${{"),
            "{}: expressions in `run` are not run by the test; pass them through `env`",
            step.name
        );
        let temp = self.runner.path().join("temp");
        let files = ["GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"].map(|name| {
            let path = self.runner.path().join(format!("{name}.txt"));
            fs::write(&path, "").unwrap();
            (name, path)
        });
        let script_file = temp.join("step.sh");
        fs::write(&script_file, script).unwrap();

        let mut env = self.base_env.clone();
        env.extend(workflow.env.clone());
        env.extend(self.env.clone());
        for (key, value) in &step.env {
            env.insert(key.clone(), self.expand(step, value));
        }
        for (name, path) in &files {
            env.insert((*name).into(), path.display().to_string());
        }
        env.insert("PATH".into(), self.path.join(":"));
        let (code, output) = self.bash(
            &env,
            &["--noprofile", "--norc", "-eo", "pipefail"],
            &script_file,
        );

        let read = |name: &str| {
            let path = &files.iter().find(|(n, _)| *n == name).unwrap().1;
            fs::read_to_string(path).unwrap()
        };
        for line in read("GITHUB_ENV").lines().filter(|l| !l.is_empty()) {
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: GITHUB_ENV line {line:?}", step.name));
            self.env.insert(key.into(), value.into());
        }
        for line in read("GITHUB_PATH").lines().filter(|l| !l.is_empty()) {
            self.path.insert(0, line.into());
        }
        if let Some(id) = &step.id {
            let outputs = self.outputs.entry(id.clone()).or_default();
            for line in read("GITHUB_OUTPUT").lines().filter(|l| !l.is_empty()) {
                let (key, value) = line
                    .split_once('=')
                    .unwrap_or_else(|| panic!("{}: GITHUB_OUTPUT line {line:?}", step.name));
                outputs.insert(key.into(), value.into());
            }
        }
        StepRun {
            name: step.name.clone(),
            code: Some(code),
            output,
        }
    }

    /// A command in the checkout with the environment the job's next step
    /// would get (for what the test does between runs).
    fn shell(&self, workflow: &Workflow, command: &str) -> (i32, String) {
        let mut env = self.base_env.clone();
        env.extend(workflow.env.clone());
        env.extend(self.env.clone());
        env.insert("PATH".into(), self.path.join(":"));
        let file = self.runner.path().join("temp/command.sh");
        fs::write(&file, command).unwrap();
        self.bash(&env, &["--noprofile", "--norc", "-eo", "pipefail"], &file)
    }

    fn bash(&self, env: &BTreeMap<String, String>, flags: &[&str], file: &Path) -> (i32, String) {
        let out = tempfile::tempfile().unwrap();
        let mut cmd = Command::new("/bin/bash");
        cmd.args(flags)
            .arg(file)
            .current_dir(self.checkout)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out.try_clone().unwrap());
        let mut child = tests::process::spawn_tied(cmd).expect("bash starts");
        let status = tests::process::wait_timeout(&mut child, STEP_TIMEOUT).unwrap();
        tests::process::kill_group(&child, libc::SIGKILL);
        let mut out = out;
        let mut text = String::new();
        use std::io::{Read, Seek};
        out.rewind().unwrap();
        out.read_to_string(&mut text).unwrap();
        let status = status.unwrap_or_else(|| panic!("timed out after {STEP_TIMEOUT:?}:\n{text}"));
        (status.code().unwrap_or(-1), text)
    }
}

fn report(runs: &[StepRun]) -> String {
    runs.iter()
        .map(|r| format!("--- {} ({:?})\n{}\n", r.name, r.code, r.output))
        .collect()
}

fn step<'r>(runs: &'r [StepRun], name: &str) -> &'r StepRun {
    runs.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no step {name:?}:\n{}", report(runs)))
}

/// The CLI the workflow pins, if it is one under test.
fn pinned_cli(workflow: &Workflow) -> TerraformCli {
    let pinned = workflow.uses("hashicorp/setup-terraform").with["terraform_version"].clone();
    let mut candidates = tools::terraform_versions().expect("terraform CLIs");
    candidates.extend(tools::path_terraform().ok().flatten());
    candidates
        .into_iter()
        .find(|tf| tf.label == pinned)
        .unwrap_or_else(|| {
            panic!("the workflow pins Terraform {pinned}, which is not a CLI under test")
        })
}

/// The user's configuration: the provider from the mirror, pointed at the
/// emulator, and one module per name, each a pipeline.
fn infra_main_tf(moto: &Moto, pipelines: &[&str]) -> String {
    let mut text = format!(
        "{}
# Region and credentials come from the environment, as in CI.
provider \"eventpipe\" {{
  endpoint_url = \"{}\"
}}
",
        tests::mirror::required_providers_hcl(),
        moto.endpoint()
    );
    for name in pipelines {
        text.push_str(&format!(
            "
module \"{name}\" {{
  source        = \"./modules/event-pipeline\"
  name          = \"ci-{name}\"
  bucket_name   = \"ci-{name}-data\"
  source_dir    = \"${{path.module}}/app\"
  runtime       = \"python3.12\"
  require_tls   = false
  force_destroy = true
}}
"
        ));
    }
    text
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A checkout of a repository that follows the workflow's instructions:
/// the workflow, the script beside it, the configuration in `infra/` using
/// the module.
fn checkout(dir: &Path, moto: &Moto, pipelines: &[&str]) {
    write(
        &dir.join(".github/workflows/plan-review.yml"),
        &repo_file(WORKFLOW),
    );
    write(
        &dir.join("examples/ci/plan-review.sh"),
        &repo_file("examples/ci/plan-review.sh"),
    );
    write(&dir.join("infra/app/app.py"), APP_PY);
    for file in ["main.tf", "variables.tf", "outputs.tf", "versions.tf"] {
        write(
            &dir.join("infra/modules/event-pipeline").join(file),
            &repo_file(&format!("modules/event-pipeline/{file}")),
        );
    }
    write(&dir.join("infra/main.tf"), &infra_main_tf(moto, pipelines));
}

/// The built `eventpipe`, which the release zip holds.
fn built_cli() -> Vec<u8> {
    fs::read(tools::target_dir().join("debug/eventpipe")).expect("the built eventpipe")
}

#[test]
fn the_workflow_writes_the_released_version_once() {
    let workflow = Workflow::read();
    assert_eq!(
        workflow.env.get("EVENTPIPE_VERSION").map(String::as_str),
        Some(PROVIDER_VERSION),
        "the workflow installs the version this repository releases"
    );
    let text = repo_file(WORKFLOW);
    assert_eq!(
        text.matches(PROVIDER_VERSION).count(),
        1,
        "the version is written once:\n{text}"
    );
    assert!(
        !text.contains("cargo install"),
        "the CLI comes from the release"
    );
    assert!(
        workflow.env["EVENTPIPE_MIRROR"].ends_with('/'),
        "the mirror URL ends with a slash"
    );
}

#[test]
fn the_ci_workflow_runs_as_shipped_from_the_release_zip_and_the_mirror() {
    let workflow = Workflow::read();
    let tf = pinned_cli(&workflow);
    let served = Served::new();
    let moto = Moto::start().expect("moto");
    let repo = tempfile::tempdir().unwrap();
    checkout(repo.path(), &moto, &["orders"]);
    // The test serves the mirror; everything else is the workflow's.
    let mut workflow = workflow;
    workflow
        .env
        .insert("EVENTPIPE_MIRROR".into(), served.server.url());

    // 1. A fresh checkout whose change adds a pipeline: it widens IAM.
    let mut job = Job::new(repo.path(), &served);
    let runs = job.run(&workflow, &tf);
    let all = report(&runs);
    eprintln!("the first run's steps:\n{all}");
    let install = step(&runs, "Install eventpipe from the mirror");
    assert_eq!(install.code, Some(0), "{all}");
    assert!(
        install
            .output
            .contains(&format!("eventpipe {PROVIDER_VERSION}")),
        "{all}"
    );
    let installed = job.runner.path().join("temp/eventpipe/bin/eventpipe");
    assert!(
        fs::read(&installed).unwrap() == built_cli(),
        "the installed eventpipe is the one the release zip holds"
    );
    assert_eq!(
        step(&runs, "Install the provider from the mirror").code,
        Some(0),
        "{all}"
    );
    let review = step(&runs, "terraform init, plan and summarize");
    assert_eq!(review.code, Some(0), "{all}");
    assert_eq!(job.outputs["review"]["status"], "11", "{all}");
    assert!(
        review
            .output
            .contains("### `module.orders.eventpipe_event_pipeline.this` (`ci-orders`): create"),
        "{all}"
    );
    let gate = step(&runs, "Require a review of IAM widenings");
    assert_eq!(gate.code, Some(1), "{all}");
    assert!(
        gate.output
            .contains("::error::This plan widens what a pipeline's function may do"),
        "{all}"
    );
    assert_eq!(
        step(&runs, "Post the summary on the pull request").code,
        None
    );
    let infra = repo.path().join("infra");
    assert!(
        fs::read_to_string(infra.join("plan-summary.md"))
            .unwrap()
            .contains("module.orders"),
        "the summary the PR comment step posts"
    );
    // The provider came from the mirror, with the hashes it lists.
    let lock = fs::read_to_string(infra.join(".terraform.lock.hcl")).unwrap();
    let listed = served.listed_hashes();
    let locked: Vec<&str> = lock
        .split('"')
        .filter(|s| s.starts_with("h1:") || s.starts_with("zh:"))
        .collect();
    assert!(
        !locked.is_empty() && locked.iter().all(|h| listed.iter().any(|l| l == h)),
        "locked {locked:?}, the mirror lists {listed:?}"
    );
    let asked = served.server.requested();
    for path in [
        format!(
            "/eventpipe/{PROVIDER_VERSION}/eventpipe_{PROVIDER_VERSION}_{}.zip",
            tests::mirror::os_arch()
        ),
        format!(
            "/eventpipe/{PROVIDER_VERSION}/terraform-provider-eventpipe_{PROVIDER_VERSION}_SHA256SUMS"
        ),
        "/registry.terraform.io/eventpipe/eventpipe/index.json".into(),
        format!(
            "/registry.terraform.io/eventpipe/eventpipe/terraform-provider-eventpipe_{PROVIDER_VERSION}_{}.zip",
            tests::mirror::os_arch()
        ),
    ] {
        assert!(asked.contains(&path), "{path} not in {asked:?}");
    }

    // 2. The pipeline is applied (as a merge would); a pull request that
    //    changes nothing passes the gate.
    let (code, out) = job.shell(
        &workflow,
        "terraform -chdir=infra apply -input=false -auto-approve -no-color",
    );
    assert_eq!(code, 0, "{out}");
    let mut job = Job::new(repo.path(), &served);
    let runs = job.run(&workflow, &tf);
    let all = report(&runs);
    assert_eq!(job.outputs["review"]["status"], "0", "{all}");
    let gate = step(&runs, "Require a review of IAM widenings");
    assert_eq!(gate.code, Some(0), "{all}");
    assert!(gate.output.contains("No IAM widening"), "{all}");

    // 3. A change that adds a module, in a folder where `terraform init`
    //    ran before it: a bare plan fails with "Module not installed"; the
    //    workflow's script installs it and plans.
    write(
        &infra.join("main.tf"),
        &infra_main_tf(&moto, &["orders", "reports"]),
    );
    let (code, out) = job.shell(
        &workflow,
        "terraform -chdir=infra plan -input=false -no-color",
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Module not installed"), "{out}");
    let mut job = Job::new(repo.path(), &served);
    let runs = job.run(&workflow, &tf);
    let all = report(&runs);
    assert_eq!(job.outputs["review"]["status"], "11", "{all}");
    let review = step(&runs, "terraform init, plan and summarize");
    assert!(
        review
            .output
            .contains("### `module.reports.eventpipe_event_pipeline.this` (`ci-reports`): create"),
        "{all}"
    );
    assert_eq!(
        step(&runs, "Require a review of IAM widenings").code,
        Some(1),
        "{all}"
    );

    write(&infra.join("main.tf"), &infra_main_tf(&moto, &[]));
    let (code, out) = job.shell(
        &workflow,
        "terraform -chdir=infra apply -input=false -auto-approve -no-color",
    );
    assert_eq!(code, 0, "{out}");
    common::assert_emulator_empty(&moto);
}
