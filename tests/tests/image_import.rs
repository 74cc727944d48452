//! Import of an image pipeline (issue 25): `terraform import` by name
//! rebuilds the state of a pipeline whose function is a container image,
//! its repository included, from AWS and the function's tags alone; the
//! next plan changes nothing. A given `image.repository_name` that does
//! not exist is refused at plan, on its attribute. A base image that moves
//! between the plan and the apply never deploys an image the plan did not
//! show.
//!
//! The world is the one of tests/tests/image_deploy.rs: moto behind the
//! fault proxy (answering image functions as Lambda does), the tests'
//! `docker-registry` on loopback with a test base image, reached through
//! `endpoints.ecr_registry`.

mod common;

use common::image::{BASE_REPO, BASE_TAG as TAG, ImageRig};
use common::{Pipeline, clis, newest_cli, state_attrs};
use std::fs;

use serde_json::{Value as Json, json};
use tests::{Skopeo, base_image};

impl ImageRig {
    /// Moves the base's tag to a new revision of it (each platform's
    /// manifest annotated with `rev`, so its digest changes, as when AWS
    /// patches a base image); returns the new amd64 manifest digest.
    fn move_base(&self, rev: &str) -> String {
        let amd64 = revise(&self.base, rev);
        Skopeo::new()
            .expect("skopeo")
            .copy_all(
                &self.base.oci_reference(),
                &format!("docker://{}/{BASE_REPO}:{TAG}", self.registry.host()),
            )
            .expect("moved base pushed");
        amd64
    }

    /// The image pipeline `name` with `image_lines` inside its `image` block.
    fn pipeline(&self, name: &str, image_lines: &str) -> String {
        Pipeline::named(name)
            .runtime("python3.13", "app.handler")
            .extra("  on_failure {}\n")
            .function_lines(&self.image_lines(image_lines))
            .hcl()
    }

    /// `terraform state rm` then `terraform import` of pipeline `name`.
    fn forget_and_import(&self, name: &str, id: &str) {
        let address = format!("eventpipe_event_pipeline.{name}");
        self.rig
            .ws
            .run_ok(&["state", "rm", &address])
            .expect("state rm");
        let out = self
            .rig
            .ws
            .run_ok(&["import", &address, id])
            .expect("import");
        assert!(out.contains("Import successful"), "{out}");
    }
}

/// The attributes an import must give back as the apply recorded them.
const SAME_AFTER_IMPORT: [&str; 8] = [
    "source_code_hash",
    "image_uri",
    "image_base_digest",
    "image_repository_url",
    "function_arn",
    "role_arn",
    "policy_json",
    "bucket_name",
];

fn assert_imported_as_applied(ir: &ImageRig, name: &str, id: &str) {
    let before = state_attrs(&ir.rig.ws, name);
    ir.forget_and_import(name, id);
    let after = state_attrs(&ir.rig.ws, name);
    for attr in SAME_AFTER_IMPORT {
        assert_eq!(before[attr], after[attr], "{attr} differs after import");
    }
    assert_eq!(
        before["function"], after["function"],
        "the function block differs after import"
    );
    ir.rig.assert_plan_empty();
}

/// An image pipeline whose repository the pipeline makes (with a
/// `keep_images` and `scan_on_push` of its own), forgotten and imported by
/// name: the state has the image, its base and the repository's settings,
/// and the next plan is empty. Destroy then removes the repository too.
#[test]
fn an_image_pipeline_with_its_own_repository_imports_by_name_and_plans_nothing() {
    let ir = ImageRig::start(&newest_cli(), Some(1));
    let name = "imgimp";
    ir.configure(&ir.pipeline(name, "      keep_images  = 4\n      scan_on_push = false\n"));
    ir.rig.apply();
    assert_imported_as_applied(&ir, name, name);
    ir.rig.ws.destroy_auto().expect("destroy");
    let inv = ir.rig.aws.list_everything().expect("inventory");
    assert!(inv.repositories.is_empty(), "{inv:?}");
    assert!(inv.functions.is_empty(), "{inv:?}");
}

/// With a given `repository_name`, on every CLI: the import records the
/// repository as given (never the pipeline's to make or delete).
#[test]
fn an_image_pipeline_with_a_given_repository_imports_on_every_cli() {
    for tf in clis() {
        let ir = ImageRig::start(&tf, Some(1));
        ir.make_repository("team/app");
        let name = "imggiven";
        ir.configure(&ir.pipeline(name, "      repository_name = \"team/app\"\n"));
        ir.rig.apply();
        assert_imported_as_applied(&ir, name, name);
        ir.rig.ws.destroy_auto().expect("destroy");
        let inv = ir.rig.aws.list_everything().expect("inventory");
        assert_eq!(inv.repositories, ["team/app".to_owned()], "{tf:?}");
    }
}

/// A given `image.repository_name` that does not exist is refused by the
/// plan, on its attribute, before anything is built or made. When the plan
/// cannot look (DescribeRepositories denied), it warns and the apply's own
/// check refuses it, still before anything is made; once the repository
/// exists the pipeline applies.
#[test]
fn a_given_repository_that_does_not_exist_is_refused_at_plan() {
    use tests::fault_proxy::{Fault, Rule};
    let ir = ImageRig::start(&newest_cli(), Some(1));
    let name = "imgnorepo";
    ir.configure(&ir.pipeline(name, "      repository_name = \"team/missing\"\n"));
    let out = ir.rig.ws.run(&["plan", "-no-color"]).expect("plan runs");
    assert!(!out.success(), "the plan must fail");
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("The image repository does not exist"),
        "{text}"
    );
    assert!(
        text.contains("ECR repository \"team/missing\" does not exist"),
        "{text}"
    );
    assert!(
        text.contains("repository_name = \"team/missing\""),
        "{text}"
    );
    assert_eq!(ir.rig.proxy.count("ecr:GetAuthorizationToken"), 0);

    // The plan cannot look (nor Terraform's re-plan during apply): a
    // warning, and the apply's own check refuses it first thing.
    ir.rig.proxy.add_rule(
        Rule::on("ecr:DescribeRepositories")
            .first(2)
            .fail(Fault::AccessDenied),
    );
    ir.rig.proxy.clear_calls();
    let out = ir.rig.apply_failing();
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("Could not check at plan: ecr:DescribeRepositories denied"),
        "{text}"
    );
    assert!(
        text.contains("ECR repository \"team/missing\" does not exist"),
        "{text}"
    );
    // The two looks, then the apply's check that refused it.
    assert_eq!(ir.rig.proxy.count("ecr:DescribeRepositories"), 3);
    let inv = ir.rig.aws.list_everything().expect("inventory");
    assert!(inv.functions.is_empty() && inv.roles.is_empty(), "{inv:?}");
    assert!(inv.buckets.is_empty(), "{inv:?}");
    assert!(ir.rig.state().is_empty(), "{:?}", ir.rig.state());
    ir.rig.proxy.clear_rules();

    ir.make_repository("team/missing");
    ir.rig.apply();
    ir.rig.assert_plan_empty();
}

/// Rewrites the layout's image as a new revision (as tests/image_plan.rs
/// does): each platform's manifest annotated with `rev`. Returns the new
/// amd64 manifest digest.
fn revise(base: &base_image::BaseImage, rev: &str) -> String {
    let read = |d: &str| -> Json {
        serde_json::from_slice(&fs::read(base_image::blob_path(&base.dir, d)).expect("blob"))
            .expect("json")
    };
    let write = |doc: &Json| -> (String, u64) {
        let bytes = serde_json::to_vec(doc).expect("json");
        let digest = base_image::sha256_digest(&bytes);
        fs::write(base_image::blob_path(&base.dir, &digest), &bytes).expect("blob");
        (digest, bytes.len() as u64)
    };
    let layout: Json =
        serde_json::from_slice(&fs::read(base.dir.join("index.json")).expect("index.json"))
            .expect("json");
    let index = read(layout["manifests"][0]["digest"].as_str().expect("index"));
    let mut entries = Vec::new();
    let mut amd64 = String::new();
    for e in index["manifests"].as_array().expect("manifests") {
        let mut manifest = read(e["digest"].as_str().expect("digest"));
        manifest["annotations"] = json!({"test.revision": rev});
        let (digest, size) = write(&manifest);
        if e["platform"]["architecture"] == "amd64" {
            amd64.clone_from(&digest);
        }
        let mut entry = e.clone();
        entry["digest"] = json!(digest);
        entry["size"] = json!(size);
        entries.push(entry);
    }
    let mut new_index = index.clone();
    new_index["manifests"] = json!(entries);
    let (digest, size) = write(&new_index);
    let mut layout = layout;
    layout["manifests"][0]["digest"] = json!(digest);
    layout["manifests"][0]["size"] = json!(size);
    fs::write(base.dir.join("index.json"), layout.to_string()).expect("index.json");
    amd64
}

/// AWS publishes a new base between `terraform plan -out` and `terraform
/// apply` of that plan: Terraform's re-plan during the apply sees the new
/// digest, and the apply stops with an inconsistent final plan before
/// anything is made; the next plan shows the new base.
#[test]
fn a_base_that_moves_between_a_saved_plan_and_its_apply_deploys_nothing() {
    let ir = ImageRig::start(&newest_cli(), Some(1));
    let name = "imgmove";
    ir.configure(&ir.pipeline(name, ""));
    ir.rig
        .ws
        .run_ok(&["plan", "-out", "saved.tfplan"])
        .expect("plan -out");
    let moved = ir.move_base("2");
    let out = ir
        .rig
        .ws
        .run(&["apply", "saved.tfplan"])
        .expect("apply runs");
    let text = format!("{}{}", out.stdout, out.stderr);
    eprintln!("OBSERVED saved plan:\n{text}");
    assert!(!out.success(), "{text}");
    assert!(text.contains("inconsistent final plan"), "{text}");
    assert!(text.contains("image_base_digest"), "{text}");
    let inv = ir.rig.aws.list_everything().expect("inventory");
    assert!(inv.functions.is_empty(), "{inv:?}");
    // Plan again: the new base.
    ir.rig.apply();
    assert_eq!(
        state_attrs(&ir.rig.ws, name)["image_base_digest"],
        json!(moved)
    );
    ir.rig.assert_plan_empty();
}

/// The same within one `terraform apply` (plan and apply in one command):
/// the base moves after the plan, before Terraform's re-plan during the
/// apply (held back by the proxy in front of the registry until the new
/// base is pushed). The apply stops with an inconsistent final plan before
/// anything is made, as with a saved plan; never a wrong image.
#[test]
fn a_base_that_moves_during_a_plain_apply_deploys_nothing() {
    use std::time::Duration;
    use tests::fault_proxy::Rule;
    let ir = ImageRig::start(&newest_cli(), Some(1));
    let name = "imgmove1";
    // The base through the proxy, so its manifest requests can be held.
    let proxied = ir.base_ref().replace(
        &ir.registry.host(),
        ir.registry_proxy.endpoint().trim_start_matches("http://"),
    );
    ir.configure(&ir.pipeline(name, "").replace(&ir.base_ref(), &proxied));
    // A plan warms the cache: from then on, one HEAD of the tag per plan.
    ir.rig.ws.run_ok(&["plan"]).expect("plan");
    ir.registry_proxy.clear_calls();
    ir.registry_proxy.add_rule(
        Rule::on("registry:HeadManifest")
            .nth(2)
            .delay(Duration::from_secs(8)),
    );
    let moved = std::thread::scope(|scope| {
        let mover = scope.spawn(|| {
            let second = ir
                .registry_proxy
                .wait_until(Duration::from_secs(120), |calls, _| {
                    calls
                        .iter()
                        .filter(|c| c.op == "registry:HeadManifest")
                        .count()
                        >= 2
                });
            assert!(second, "Terraform re-plans during the apply");
            ir.move_base("3")
        });
        let out = ir
            .rig
            .ws
            .run(&["apply", "-auto-approve"])
            .expect("apply runs");
        let moved = mover.join().expect("mover");
        let text = format!("{}{}", out.stdout, out.stderr);
        eprintln!("OBSERVED plain apply:\n{text}");
        assert!(!out.success(), "{text}");
        assert!(text.contains("inconsistent final plan"), "{text}");
        assert!(text.contains("image_base_digest"), "{text}");
        moved
    });
    let inv = ir.rig.aws.list_everything().expect("inventory");
    assert!(inv.functions.is_empty(), "{inv:?}");
    ir.registry_proxy.clear_rules();
    ir.rig.apply();
    assert_eq!(
        state_attrs(&ir.rig.ws, name)["image_base_digest"],
        json!(moved)
    );
    ir.rig.assert_plan_empty();
}

/// A pipeline wired by hand whose function is a container image, adopted
/// with `adopt:<function>`: the import records an image function whose
/// repository is the user's (a given `image.repository_name`), the next
/// plan changes it in place only, the first apply deploys the pipeline's
/// own image into that repository, and destroy leaves the repository.
#[test]
fn a_hand_made_image_function_is_adopted_with_its_repository_as_given() {
    use aws_sdk_lambda::types::{FunctionCode, ImageConfig, PackageType};
    let ir = ImageRig::start(&newest_cli(), Some(1));
    let aws = &ir.rig.aws;
    let (function, bucket, role) = ("handimg", "handimg-data", "handimg-role");
    ir.make_repository("team/app");
    // The hand-made image: the base itself, pushed into the user's repository.
    Skopeo::new()
        .expect("skopeo")
        .copy_all(
            &ir.base.oci_reference(),
            &format!("docker://{}/team/app:hand", ir.registry.host()),
        )
        .expect("hand-made image pushed");
    let digest = &ir.base.platform("amd64").expect("amd64").manifest_digest;
    let uri = format!("{}/team/app@{digest}", ir.registry.host());
    aws.create_bucket(bucket).expect("bucket");
    let role_arn = aws
        .create_service_role(role, "/", "lambda.amazonaws.com")
        .expect("role");
    let call = aws
        .lambda()
        .create_function()
        .function_name(function)
        .role(&role_arn)
        .package_type(PackageType::Image)
        .code(FunctionCode::builder().image_uri(&uri).build())
        .image_config(ImageConfig::builder().command("app.handler").build())
        .send();
    let arn = aws
        .block_on(call)
        .expect("CreateFunction")
        .function_arn
        .expect("arn");
    aws.add_s3_invoke_permission(function, "s3-invoke", &format!("arn:aws:s3:::{bucket}"))
        .expect("permission");
    aws.put_notification(
        bucket,
        "uploads",
        tests::aws::Notify::Function(&arn),
        &["s3:ObjectCreated:*"],
        "in/",
        ".json",
    )
    .expect("notification");

    let body = format!(
        r#"
resource "eventpipe_event_pipeline" "{function}" {{
  name          = "{function}"
  bucket_name   = "{bucket}"
  create_bucket = false
  require_tls   = false
  function_name = "{function}"
  role_name     = "{role}"

  function {{
    source_dir   = "${{path.module}}/app"
    handler      = "app.handler"
    runtime      = "python3.13"
    package_type = "image"
    image {{
      base_image      = "{base}"
      repository_name = "team/app"
    }}
  }}

  trigger {{
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "in/"
    filter_suffix = ".json"
  }}
}}
"#,
        base = ir.base_ref()
    );
    ir.configure(&body);
    let address = format!("eventpipe_event_pipeline.{function}");
    let out = ir
        .rig
        .ws
        .run_ok(&["import", &address, &format!("adopt:{function}")])
        .expect("import");
    assert!(out.contains("Import successful"), "{out}");
    let s = state_attrs(&ir.rig.ws, function);
    assert_eq!(s["function"]["package_type"], json!("image"), "{s:#}");
    assert_eq!(
        s["function"]["image"]["repository_name"],
        json!("team/app"),
        "{s:#}"
    );
    assert_eq!(s["image_uri"], json!(uri));
    // In place only: the first apply deploys the pipeline's own image.
    let plan = ir.rig.ws.run_ok(&["plan", "-no-color"]).expect("plan");
    assert!(plan.contains("will be updated in-place"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    ir.rig.apply();
    let code = aws.function_code(function).expect("GetFunction");
    assert_eq!(code.package_type, "Image");
    let deployed = code.image_uri.expect("ImageUri");
    assert!(deployed.contains("/team/app@sha256:"), "{deployed}");
    assert_ne!(deployed, uri, "the pipeline's own image runs");
    ir.rig.assert_plan_empty();
    ir.rig.ws.destroy_auto().expect("destroy");
    let inv = aws.list_everything().expect("inventory");
    assert_eq!(inv.repositories, ["team/app".to_owned()], "{inv:?}");
    assert!(inv.functions.is_empty(), "{inv:?}");
}

/// Each ECR call an import of an image pipeline makes fails once: the
/// import fails with the call named and records nothing; the next import
/// succeeds and the plan after it is empty.
#[test]
fn each_ecr_call_of_an_image_import_fails_once_then_the_import_converges() {
    use tests::fault_proxy::{Fault, Rule};
    let ir = ImageRig::start(&newest_cli(), Some(1));
    let name = "imgimpf";
    ir.configure(&ir.pipeline(name, "      keep_images = 3\n"));
    ir.rig.apply();
    let address = format!("eventpipe_event_pipeline.{name}");
    for op in [
        "ecr:DescribeRepositories",
        "ecr:ListTagsForResource",
        "ecr:GetLifecyclePolicy",
        "ecr:GetRepositoryPolicy",
    ] {
        ir.rig
            .ws
            .run_ok(&["state", "rm", &address])
            .expect("state rm");
        ir.rig.proxy.clear_calls();
        ir.rig
            .proxy
            .add_rule(Rule::on(op).nth(1).fail(Fault::AccessDenied));
        let out = ir
            .rig
            .ws
            .run(&["import", &address, name])
            .expect("import runs");
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(!out.success(), "{op}: the import must fail\n{text}");
        assert!(text.contains("Cannot import the pipeline"), "{op}: {text}");
        assert!(ir.rig.proxy.count(op) >= 1, "{op} was called");
        assert!(ir.rig.state().is_empty(), "{op}: {:?}", ir.rig.state());
        ir.rig.proxy.clear_rules();
        ir.rig
            .ws
            .run_ok(&["import", &address, name])
            .expect("import");
        ir.rig.assert_plan_empty();
    }
    ir.rig.ws.destroy_auto().expect("destroy");
    let inv = ir.rig.aws.list_everything().expect("inventory");
    assert!(inv.repositories.is_empty(), "{inv:?}");
}
