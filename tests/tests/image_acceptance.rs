//! The acceptance of issue 25 (Lambda container images built without
//! Docker) end to end, on a function whose requirement is about 300 MB (a
//! wheel the test makes, of incompressible data, installed by pip offline):
//! the pipeline makes its own repository (no `repository_name`), builds on a
//! test base image served by the tests' `docker-registry` on loopback,
//! pushes through a fault proxy in front of that registry
//! (`endpoints.ecr_registry`), and makes the function in moto through the
//! AWS fault proxy, which answers image functions as Lambda does.
//! Everything is read back with independent clients: the function with the
//! tests' Lambda client, the image with `skopeo` (inspected, copied to an
//! OCI layout, its layers unpacked in order into a rootfs where the base's
//! entry point runs the handler), the uploads from the registry's own log,
//! the repository with the tests' ECR client.
//!
//! Each bullet of the Acceptance list, and the test that proves it:
//! - a 300 MB image pipeline applies on Terraform 1.11.4 and 1.0.3, its
//!   `PackageType` is Image and its `ImageUri` the pushed digest, its layers
//!   and config are as specified, the unpacked image runs the handler, and
//!   the next plan is empty →
//!   `a_300_mb_image_pipeline_deploys_builds_alike_and_pushes_only_the_code_on_an_edit`
//!   (Terraform 1.11.4) and `a_300_mb_image_pipeline_applies_on_every_older_cli` (1.0.3);
//! - the same configuration as a zip is refused with its size and the
//!   pointer to `image`: at plan once the installed tree is cached →
//!   `a_300_mb_image_pipeline_deploys_builds_alike_and_pushes_only_the_code_on_an_edit`;
//!   at apply before any part is made with a fresh cache →
//!   `a_300_mb_zip_is_refused_at_apply_before_any_part_then_at_plan`;
//! - determinism: two builds from different cache directories give the same
//!   manifest digest, and `eventpipe package --image` gives the deployed one →
//!   `a_300_mb_image_pipeline_deploys_builds_alike_and_pushes_only_the_code_on_an_edit`
//!   (the small-source case also in registry_client.rs
//!   `package_image_on_a_registry_base_gives_the_digest_of_the_same_base_as_a_layout`);
//! - a one-line handler edit shows in the plan, the apply uploads only the
//!   code layer, the config and the manifest, the old image stays →
//!   `a_300_mb_image_pipeline_deploys_builds_alike_and_pushes_only_the_code_on_an_edit`
//!   (bytes counted too; on a given repository also image_deploy.rs
//!   `an_image_function_deploys_by_digest_pushes_only_the_code_on_an_edit_switches_alone_and_goes`);
//! - switching zip ↔ image replaces the function only, the bucket's objects
//!   and the failure queue's messages survive → image_deploy.rs
//!   `an_image_function_deploys_by_digest_pushes_only_the_code_on_an_edit_switches_alone_and_goes`
//!   (and image_repository.rs `switching_to_a_zip_deletes_the_repository`);
//! - destroy leaves no repository, image, function or role →
//!   both 300 MB tests here (the images read back in the registry) and
//!   image_repository.rs
//!   `the_pipeline_makes_its_repository_keeps_it_as_planned_and_deletes_it_with_its_images`;
//!   with `repository_name`, the repository stays and holds none of our
//!   images → image_deploy.rs
//!   `an_image_function_deploys_by_digest_pushes_only_the_code_on_an_edit_switches_alone_and_goes`
//!   and image_repository.rs `a_given_repository_is_never_created_configured_or_deleted`;
//! - faults: each new call site fails once, then converges with 0 orphans →
//!   image_deploy.rs `each_image_call_site_fails_once_then_the_pipeline_converges_with_no_orphans`,
//!   image_repository.rs `each_ecr_call_site_fails_once_then_the_pipeline_converges` and
//!   `each_ecr_update_call_site_fails_once_then_the_pipeline_converges`, image_plan.rs
//!   `each_registry_call_of_a_plan_failing_is_reported_and_the_next_plan_succeeds`,
//!   registry_faults.rs;
//! - the 0.1.0 fixture still upgrades in place with the schema bump and its
//!   migration → upgrade.rs (schema 8, `v7_to_v8`);
//! - `slim = true` drops tests, headers and debug symbols, keeps the `.so`
//!   loadable and changes the hash → dependencies.rs (the slim tests).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::image::{BASE_REPO, ImageRig};
use common::wheels::data_wheel;
use common::{Pipeline, clis, newest_cli, state_attrs};
use serde_json::{Value as Json, json};
use tests::base_image;
use tests::registry::MANIFEST_ACCEPT;
use tests::tools::eventpipe_cli;
use tests::{Skopeo, TerraformCli};

/// The requirement's data: about 300 MB, more than a zip may hold.
const DATA_BYTES: usize = 300 << 20;
const HANDLER: &str = "app.handler";
/// The handler imports the installed requirement and reports its size.
const APP: &str = "import bigdata\n\n\ndef handler(event, context):\n    \
                   key = event[\"Records\"][0][\"s3\"][\"object\"][\"key\"]\n    \
                   return {\"key\": key, \"size\": bigdata.size()}\n";

/// A pipeline's world: moto and its proxy (the rig), the registry holding
/// the base image, the proxy in front of the registry, the pipeline's
/// cache and the wheel the requirement installs from.
struct Acceptance {
    image: ImageRig,
    wheels: tempfile::TempDir,
}

impl Acceptance {
    fn start(tf: &TerraformCli) -> Acceptance {
        let mut image = ImageRig::start(tf, Some(1));
        image.rig.proxy.ecr_scan_default(true);
        let wheels = tempfile::tempdir().expect("wheels");
        data_wheel(wheels.path(), "bigdata", "1.0", DATA_BYTES);
        let ws = &mut image.rig.ws;
        ws.envs(offline_env(image.cache.path(), wheels.path()));
        ws.write("app/app.py", APP).expect("app.py");
        ws.write("app/requirements.txt", "bigdata==1.0\n")
            .expect("requirements.txt");
        Acceptance { image, wheels }
    }

    /// main.tf: the provider with `endpoints.ecr_registry` at the registry
    /// proxy, and the pipeline `name` as `package_type`; an image on the
    /// base by tag, in the repository the pipeline makes.
    fn configure(&self, name: &str, package_type: &str) {
        let lines = if package_type == "image" {
            self.image.image_lines("")
        } else {
            format!("    package_type = \"{package_type}\"\n")
        };
        let body = Pipeline::named(name)
            .runtime("python3.13", HANDLER)
            .memory(3008)
            .function_lines(&lines)
            .hcl();
        self.image.configure(&body);
    }

    fn base_platform(&self) -> &base_image::PlatformImage {
        self.image.base.platform("amd64").expect("amd64 base")
    }

    /// The status of a HEAD of `/v2/<repo>/manifests/<reference>`, straight
    /// to the registry.
    fn head_manifest(&self, repo: &str, reference: &str) -> u16 {
        tests::http::head(
            self.image.registry.addr(),
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Accept", MANIFEST_ACCEPT)],
            None,
            Duration::from_secs(10),
        )
        .expect("HEAD")
        .status
    }

    /// The image of `name` as deployed: Lambda runs the image the state
    /// names, by digest, in the repository the pipeline made; its layers
    /// are the base's then the dependencies' then the code's, its config
    /// the base's with `Cmd = [handler]`; unpacked in order, it runs the
    /// handler with the installed requirement. Returns the image's digest.
    fn assert_deployed(&self, name: &str, tf: &TerraformCli) -> String {
        let state = state_attrs(&self.image.rig.ws, name);
        let uri = state["image_uri"].as_str().expect("image_uri").to_owned();
        let host = self.image.registry_proxy.addr().to_string();
        assert!(
            uri.starts_with(&format!("{host}/{name}@sha256:")),
            "{}: {uri}",
            tf.label
        );
        let digest = digest_of(&uri).to_owned();
        assert_eq!(
            state["image_base_digest"].as_str(),
            Some(self.base_platform().manifest_digest.as_str()),
            "the base resolved for x86_64"
        );
        let code = self.image.rig.aws.function_code(name).expect("GetFunction");
        assert_eq!(code.package_type, "Image", "{}", tf.label);
        assert_eq!(
            code.image_uri.as_deref(),
            Some(uri.as_str()),
            "{}",
            tf.label
        );
        assert_eq!(code.image_command, [HANDLER]);
        let repo = self
            .image
            .rig
            .aws
            .repository(name)
            .expect("DescribeRepositories")
            .expect("the repository the pipeline makes");
        assert_eq!(
            state["image_repository_url"].as_str(),
            Some(repo.uri.as_str())
        );

        // The manifest as the registry holds it: the base's layers, then two.
        let reference = format!("docker://{}/{name}@{digest}", self.image.registry.host());
        let skopeo = Skopeo::new().expect("skopeo");
        let manifest = skopeo.inspect_raw(&reference).expect("skopeo inspect");
        let layers = layer_digests(&manifest);
        let base_layers = &self.base_platform().layer_digests;
        assert_eq!(layers.len(), base_layers.len() + 2, "{manifest:#}");
        assert_eq!(&layers[..base_layers.len()], base_layers.as_slice());

        // Copied out with skopeo: the same manifest, a config that is the
        // base's with the handler as its command.
        let out = tempfile::tempdir().expect("layout dir");
        skopeo
            .copy_all(&reference, &format!("oci:{}:image", out.path().display()))
            .expect("skopeo copy");
        let raw = std::fs::read(base_image::blob_path(out.path(), &digest)).expect("manifest");
        assert_eq!(base_image::sha256_digest(&raw), digest);
        let config = json_blob(out.path(), manifest["config"]["digest"].as_str().unwrap());
        let base_config = json_blob(&self.image.base.dir, &self.base_platform().config_digest);
        assert_eq!(config["config"]["Cmd"], json!([HANDLER]), "{config:#}");
        for key in ["Entrypoint", "Env", "WorkingDir"] {
            assert_eq!(config["config"][key], base_config["config"][key], "{key}");
        }
        assert_eq!(config["config"]["WorkingDir"], "/var/task");
        assert_eq!(config["architecture"], "amd64");
        assert_eq!(
            config["rootfs"]["diff_ids"].as_array().map(Vec::len),
            Some(layers.len()),
            "{config:#}"
        );

        // The dependencies' layer holds the requirement, the code's layer
        // the source, both under /var/task, owned by root.
        let deps = layer_listing(out.path(), &layers[layers.len() - 2]);
        let code_layer = layer_listing(out.path(), &layers[layers.len() - 1]);
        assert!(has_entry(&deps, "var/task/bigdata/data.bin"), "{deps}");
        assert!(!has_entry(&deps, "var/task/app.py"), "{deps}");
        assert!(has_entry(&code_layer, "var/task/app.py"), "{code_layer}");
        assert!(!code_layer.contains("bigdata/"), "{code_layer}");
        for line in deps.lines().chain(code_layer.lines()) {
            assert!(line.contains(" 0/0 "), "owned by root: {line}");
        }
        let deps_size = manifest["layers"][layers.len() - 2]["size"]
            .as_u64()
            .unwrap();
        assert!(deps_size > DATA_BYTES as u64, "incompressible: {deps_size}");

        // The layers unpacked in order run the handler with the base's entry
        // point, as Lambda would on an S3 event.
        let rootfs = tempfile::tempdir().expect("rootfs");
        for layer in &layers {
            let status = Command::new("tar")
                .arg("-xzf")
                .arg(base_image::blob_path(out.path(), layer))
                .arg("-C")
                .arg(rootfs.path())
                .status()
                .expect("tar");
            assert!(status.success(), "unpacking {layer}");
        }
        let task_root = rootfs.path().join("var/task");
        assert_eq!(
            std::fs::metadata(task_root.join("bigdata/data.bin"))
                .expect("the requirement's data")
                .len(),
            DATA_BYTES as u64
        );
        let event = s3_event(&format!("{name}-bucket"), "data/in.json");
        let ran = run_handler(rootfs.path(), &task_root, &event);
        assert_eq!(ran, json!({"key": "data/in.json", "size": DATA_BYTES}));
        digest
    }

    /// Destroy leaves no function, role, bucket or repository in moto, and
    /// none of `digests` in the registry.
    fn destroy_and_assert_gone(&self, name: &str, digests: &[String]) {
        self.image.rig.ws.destroy_auto().expect("destroy");
        let inv = self.image.rig.aws.list_everything().expect("inventory");
        assert!(inv.is_empty(), "{inv:?}");
        assert!(inv.repositories.is_empty(), "{inv:?}");
        for digest in digests {
            assert_eq!(
                self.head_manifest(name, digest),
                404,
                "{digest} left behind"
            );
        }
    }

    /// `eventpipe package --image` of the workspace's function on the base
    /// pinned to `base_digest`, with the cache `cache`: the digest printed.
    fn package_image(&self, cache: &Path, out: &Path, base_digest: &str) -> String {
        let o = Command::new(eventpipe_cli())
            .args(["package", "--image", "--oci-layout"])
            .arg(out)
            .arg("--source-dir")
            .arg(self.image.rig.ws.dir().join("app"))
            .args(["--runtime", "python3.13", "--architecture", "x86_64"])
            .args(["--handler", HANDLER])
            .args([
                "--base-image",
                &format!("{}/{BASE_REPO}@{base_digest}", self.image.registry.host()),
            ])
            .envs(offline_env(cache, self.wheels.path()))
            .output()
            .expect("eventpipe package");
        assert!(
            o.status.success(),
            "{o:?}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    }
}

/// pip offline, finding the test's wheels; the cache `cache`.
fn offline_env(cache: &Path, wheels: &Path) -> Vec<(String, String)> {
    vec![
        ("PIP_NO_INDEX".to_owned(), "1".to_owned()),
        ("PIP_FIND_LINKS".to_owned(), wheels.display().to_string()),
        ("PIP_DISABLE_PIP_VERSION_CHECK".to_owned(), "1".to_owned()),
        (
            "EVENTPIPE_CACHE_DIR".to_owned(),
            cache.display().to_string(),
        ),
    ]
}

fn digest_of(uri: &str) -> &str {
    uri.rsplit_once('@').expect("a digest reference").1
}

fn layer_digests(manifest: &Json) -> Vec<String> {
    manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_owned())
        .collect()
}

fn json_blob(layout: &Path, digest: &str) -> Json {
    let bytes = std::fs::read(base_image::blob_path(layout, digest)).expect("blob");
    serde_json::from_slice(&bytes).expect("JSON blob")
}

/// `tar -tvzf` of a layer in `layout`, owners as numbers.
fn layer_listing(layout: &Path, digest: &str) -> String {
    let o = Command::new("tar")
        .args(["--numeric-owner", "-tvzf"])
        .arg(base_image::blob_path(layout, digest))
        .output()
        .expect("tar");
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout).expect("listing")
}

fn has_entry(listing: &str, path: &str) -> bool {
    listing.lines().any(|line| {
        line.split_whitespace()
            .last()
            .is_some_and(|p| p.trim_start_matches("./") == path)
    })
}

fn s3_event(bucket: &str, key: &str) -> String {
    json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 2}}}]})
    .to_string()
}

/// The base's entry point (`/lambda-entrypoint.sh HANDLER`) in `rootfs`,
/// the event on stdin; what the handler returned.
fn run_handler(rootfs: &Path, task_root: &Path, event: &str) -> Json {
    use std::io::Write;
    let mut child = Command::new(rootfs.join("lambda-entrypoint.sh"))
        .arg(HANDLER)
        .env("LAMBDA_TASK_ROOT", task_root)
        .env("LAMBDA_RUNTIME_DIR", rootfs.join("var/runtime"))
        .current_dir(task_root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("entry point");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(event.as_bytes())
        .expect("event");
    let output = child.wait_with_output().expect("handler");
    assert!(
        output.status.success(),
        "{output:?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the handler's JSON")
}

fn flat(out: &tests::Output) -> String {
    format!("{}{}", out.stdout, out.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Items 1 to 4 on Terraform 1.11.4, one 300 MB build by apply: the image
/// as deployed; the same configuration as a zip refused at plan (the
/// installed tree cached); `eventpipe package --image` giving the deployed
/// digest from the apply's cache and from a fresh one; a one-line edit
/// pushing only the code layer, the config and the manifest; destroy.
#[test]
fn a_300_mb_image_pipeline_deploys_builds_alike_and_pushes_only_the_code_on_an_edit() {
    let tf = newest_cli();
    let acc = Acceptance::start(&tf);
    let name = "bigimg";
    acc.configure(name, "image");
    let started = Instant::now();
    acc.image.rig.apply();
    eprintln!("apply of the 300 MB image: {:?}", started.elapsed());
    let first = acc.assert_deployed(name, &tf);
    acc.image.rig.assert_plan_empty();

    // The same configuration as a zip: refused at plan, the installed tree
    // being cached, with its size and the pointer to an image.
    acc.configure(name, "zip");
    acc.image.rig.proxy.clear_calls();
    let out = acc
        .image
        .rig
        .ws
        .run(&["plan", "-no-color"])
        .expect("plan runs");
    let text = flat(&out);
    assert!(!out.success(), "{text}");
    assert!(text.contains("300.0 MB"), "{text}");
    assert!(text.contains("package_type = \"image\""), "{text}");
    assert!(text.contains("requirements"), "{text}");
    assert_eq!(acc.image.rig.proxy.count("lambda:DeleteFunction"), 0);
    acc.configure(name, "image");
    acc.image.rig.assert_plan_empty();

    // Determinism: the CLI gives the deployed digest, built from the apply's
    // cache and from a cache of its own (a second install and build).
    let base_digest = acc.base_platform().manifest_digest.clone();
    let work = tempfile::tempdir().expect("work");
    let started = Instant::now();
    let fresh = acc.package_image(
        &work.path().join("cache"),
        &work.path().join("fresh"),
        &base_digest,
    );
    eprintln!(
        "eventpipe package --image, fresh cache: {:?}",
        started.elapsed()
    );
    assert_eq!(fresh, first, "a fresh cache builds the deployed image");
    let warm = acc.package_image(
        acc.image.cache.path(),
        &work.path().join("warm"),
        &base_digest,
    );
    assert_eq!(warm, first, "the apply's cache builds the deployed image");
    drop(work);

    // A one-line edit: the plan shows it; the apply uploads the code layer
    // and the config, then the manifest, and nothing of the 300 MB.
    acc.image
        .rig
        .ws
        .write(
            "app/app.py",
            APP.replace("bigdata.size()}", "bigdata.size() + 0}"),
        )
        .expect("edit");
    let plan = acc.image.rig.ws.plan(&["-no-color"]).expect("plan");
    assert!(plan.stdout.contains("source_code_hash"), "{}", plan.stdout);
    assert!(plan.stdout.contains("image_uri"), "{}", plan.stdout);
    let mark = acc.image.registry.requests().expect("log").len();
    let started = Instant::now();
    acc.image.rig.apply();
    eprintln!("apply of a one-line edit: {:?}", started.elapsed());
    let log = acc.image.registry.requests().expect("log").since(mark);
    let second = acc.assert_deployed(name, &tf);
    assert_ne!(second, first);
    let old = acc
        .registry_manifest(name, &first)
        .expect("the first image");
    let new = acc
        .registry_manifest(name, &second)
        .expect("the edit's image");
    let (old_layers, new_layers) = (layer_digests(&old), layer_digests(&new));
    assert_eq!(
        old_layers[..old_layers.len() - 1],
        new_layers[..new_layers.len() - 1],
        "only the code layer differs"
    );
    let uploads = log.blob_uploads();
    let mut uploaded: Vec<&str> = uploads.iter().map(|u| u.digest.as_str()).collect();
    uploaded.sort_unstable();
    let mut expected = vec![
        new_layers.last().unwrap().as_str(),
        new["config"]["digest"].as_str().unwrap(),
    ];
    expected.sort_unstable();
    assert_eq!(uploaded, expected, "{log:#?}");
    let pushes = log.manifest_pushes();
    assert_eq!(pushes.len(), 1, "{log:#?}");
    let code_size = new["layers"][new_layers.len() - 1]["size"]
        .as_u64()
        .unwrap();
    let config_size = new["config"]["size"].as_u64().unwrap();
    assert_eq!(
        log.bytes_uploaded(),
        code_size + config_size + pushes[0].size,
        "{log:#?}"
    );
    assert!(log.bytes_uploaded() < 64 * 1024, "{log:#?}");
    // The old image stays in the repository until the lifecycle rule
    // expires it.
    assert_eq!(acc.head_manifest(name, &first), 200);
    acc.image.rig.assert_plan_empty();

    acc.destroy_and_assert_gone(name, &[first, second]);
}

impl Acceptance {
    /// The manifest `digest` of `repo` as skopeo reads it from the registry.
    fn registry_manifest(&self, repo: &str, digest: &str) -> anyhow::Result<Json> {
        Skopeo::new()?.inspect_raw(&format!(
            "docker://{}/{repo}@{digest}",
            self.image.registry.host()
        ))
    }
}

/// Item 1 on every CLI but the newest (Terraform 1.0.3): the 300 MB image
/// applies, is deployed and runs as specified, plans nothing after, and
/// destroy leaves nothing.
#[test]
fn a_300_mb_image_pipeline_applies_on_every_older_cli() {
    let older: Vec<TerraformCli> = clis().into_iter().skip(1).collect();
    assert!(!older.is_empty(), "Terraform 1.0.3 is under test");
    for tf in older {
        let acc = Acceptance::start(&tf);
        let name = "bigold";
        acc.configure(name, "image");
        let started = Instant::now();
        acc.image.rig.apply();
        eprintln!(
            "{}: apply of the 300 MB image: {:?}",
            tf.label,
            started.elapsed()
        );
        let digest = acc.assert_deployed(name, &tf);
        acc.image.rig.assert_plan_empty();
        acc.destroy_and_assert_gone(name, &[digest]);
    }
}

/// Item 2 with a fresh cache: nothing knows the installed size at plan, so
/// the apply installs, finds the tree too large for a zip and fails before
/// any part is made; the next plan, the tree now cached, refuses it.
#[test]
fn a_300_mb_zip_is_refused_at_apply_before_any_part_then_at_plan() {
    let acc = Acceptance::start(&newest_cli());
    let name = "bigzip";
    acc.configure(name, "zip");
    acc.image.rig.proxy.clear_calls();
    let failed = acc.image.rig.apply_failing();
    let text = flat(&failed);
    assert!(text.contains("300.0 MB"), "{text}");
    assert!(text.contains("package_type = \"image\""), "{text}");
    let writes: Vec<String> = acc
        .image
        .rig
        .proxy
        .calls()
        .into_iter()
        .map(|c| c.op)
        .filter(|op| {
            let action = op.split(':').nth(1).unwrap_or_default();
            ["Create", "Put", "Tag", "Attach", "Add", "Upload"]
                .iter()
                .any(|w| action.starts_with(w))
        })
        .collect();
    assert!(writes.is_empty(), "nothing is made: {writes:?}");
    let inv = acc.image.rig.aws.list_everything().expect("inventory");
    assert!(inv.is_empty(), "{inv:?}");
    assert!(acc.image.rig.ws.state_list().expect("state").is_empty());

    let out = acc
        .image
        .rig
        .ws
        .run(&["plan", "-no-color"])
        .expect("plan runs");
    let text = flat(&out);
    assert!(!out.success(), "{text}");
    assert!(text.contains("300.0 MB"), "{text}");
    assert!(text.contains("package_type = \"image\""), "{text}");
}
