//! The function deployed as a container image (issue 25) through Terraform:
//! `package_type = "image"` with a given `repository_name` (a repository
//! the test makes first with its own ECR client), built on a test base
//! image served by the tests' `docker-registry` on loopback, pushed through
//! a fault proxy in front of that registry (`endpoints.ecr_registry`), the
//! function made in moto through the AWS fault proxy, which answers image
//! functions as Lambda does (`image_functions_like_aws`, `check_images`);
//! the setup is `common::image::ImageRig`, shared with image_repository.rs.
//!
//! Read back with independent clients: the function's `PackageType` and
//! `ImageUri` with the tests' Lambda client, the pushed image with
//! `skopeo inspect`, the uploads from the registry's own log, the images
//! in the repository from the registry's API.

mod common;

use common::image::{ImageRig, digest_of};
use common::rig::Rig;
use common::{Pipeline, clis, newest_cli, state_attrs};
use tests::Skopeo;
use tests::fault_proxy::{Fault, Rule};

/// The image rig ([`ImageRig`]) with the given repository `repository`
/// made first with the tests' own ECR client.
fn start_with(tf: &tests::TerraformCli, repository: &str) -> ImageRig {
    let ir = ImageRig::start(tf, Some(1));
    ir.make_repository(repository);
    ir
}

fn start(repository: &str) -> ImageRig {
    start_with(&newest_cli(), repository)
}

impl ImageRig {
    /// The pipeline `name` deployed as `package_type` into `repository`.
    fn pipeline(&self, name: &str, package_type: &str, repository: &str) -> String {
        let image = if package_type == "image" {
            self.image_lines(&format!("      repository_name = \"{repository}\"\n"))
        } else {
            "    package_type = \"zip\"\n".to_owned()
        };
        Pipeline::named(name)
            .runtime("python3.13", "app.handler")
            .extra("  on_failure {}\n")
            .function_lines(&image)
            .hcl()
    }
}

#[test]
fn an_image_function_deploys_by_digest_pushes_only_the_code_on_an_edit_switches_alone_and_goes() {
    let ir = start("given-repo");
    let name = "img01";
    ir.configure(&ir.pipeline(name, "image", "given-repo"));
    ir.rig.apply();

    // Lambda runs the pushed image, by digest.
    let first = ir.image_uri(name).expect("image_uri in the state");
    let host = ir.registry_proxy.addr().to_string();
    assert!(
        first.starts_with(&format!("{host}/given-repo@sha256:")),
        "{first}"
    );
    let code = ir.rig.aws.function_code(name).expect("GetFunction");
    assert_eq!(code.package_type, "Image");
    assert_eq!(code.image_uri.as_deref(), Some(first.as_str()));
    assert_eq!(code.image_command, ["app.handler"]);
    // The independent client reads the image by that digest.
    let direct = format!("{}/given-repo@{}", ir.registry.host(), digest_of(&first));
    let manifest = Skopeo::new()
        .expect("skopeo")
        .inspect_raw(&format!("docker://{direct}"))
        .expect("skopeo inspect");
    assert_eq!(manifest["layers"].as_array().expect("layers").len(), 2);
    ir.rig.assert_plan_empty();
    assert_eq!(ir.layouts().len(), 1, "{:?}", ir.layouts());

    // A one-line edit: the plan shows it; the apply sends the code layer
    // and the config, then the manifest.
    ir.rig
        .ws
        .write(
            "app/app.py",
            common::APP_PY.replace("len(records)", "len(records) + 0"),
        )
        .expect("edit");
    let plan = ir.rig.ws.plan(&["-no-color"]).expect("plan");
    assert!(plan.stdout.contains("source_code_hash"), "{}", plan.stdout);
    assert!(plan.stdout.contains("image_uri"), "{}", plan.stdout);
    let mark = ir.registry.requests().expect("log").len();
    ir.rig.apply();
    let log = ir.registry.requests().expect("log").since(mark);
    assert_eq!(log.blob_uploads().len(), 2, "{log:#?}");
    assert_eq!(log.manifest_pushes().len(), 1, "{log:#?}");
    let second = ir.image_uri(name).expect("image_uri");
    assert_ne!(second, first);
    assert_eq!(
        ir.rig
            .aws
            .function_code(name)
            .expect("GetFunction")
            .image_uri,
        Some(second.clone())
    );
    // The old image stays until the lifecycle rule expires it.
    assert_eq!(ir.head_manifest("given-repo", digest_of(&first)), 200);
    ir.rig.assert_plan_empty();

    // Drift: the function pointed at the old image out of band. The plan
    // shows it; the apply puts the recorded image back, pushing nothing.
    let lambda = ir.rig.aws.lambda().clone();
    ir.rig
        .aws
        .block_on(
            lambda
                .update_function_code()
                .function_name(name)
                .image_uri(&first)
                .send(),
        )
        .expect("UpdateFunctionCode out of band");
    let plan = ir.rig.ws.plan(&["-no-color"]).expect("plan");
    assert!(
        plan.stdout.contains("changed outside Terraform"),
        "{}",
        plan.stdout
    );
    let mark = ir.registry.requests().expect("log").len();
    ir.rig.apply();
    let log = ir.registry.requests().expect("log").since(mark);
    assert_eq!(log.blob_uploads().len(), 0, "{log:#?}");
    assert_eq!(
        ir.rig
            .aws
            .function_code(name)
            .expect("GetFunction")
            .image_uri,
        Some(second.clone())
    );
    assert_eq!(ir.image_uri(name), Some(second.clone()));
    ir.rig.assert_plan_empty();
    // Two images, two layouts: the repair's is the edit's (same key).
    let layouts = ir.layouts();
    assert_eq!(layouts.len(), 2, "{layouts:?}");
    assert!(layouts.iter().all(|l| !l.contains(".tmp-")), "{layouts:?}");

    // An object in the bucket and a failed event in the queue: both stay
    // while the function alone is replaced, to a zip and back.
    let bucket = format!("{name}-bucket");
    ir.rig
        .aws
        .put_object(&bucket, "keep/me.txt", "kept")
        .expect("object");
    let queue = state_attrs(&ir.rig.ws, name)["failure_queue_url"]
        .as_str()
        .expect("failure queue")
        .to_owned();
    ir.rig
        .aws
        .send_message(&queue, "failed event")
        .expect("message");
    for package_type in ["zip", "image"] {
        ir.configure(&ir.pipeline(name, package_type, "given-repo"));
        let plan = ir.rig.ws.plan(&["-no-color"]).expect("plan");
        assert!(plan.stdout.contains("package_type"), "{}", plan.stdout);
        ir.rig.proxy.clear_calls();
        ir.rig.apply();
        // The function alone is made anew.
        assert_eq!(ir.rig.proxy.count("lambda:DeleteFunction"), 1);
        assert_eq!(ir.rig.proxy.count("lambda:CreateFunction"), 1);
        for kept in [
            "s3:DeleteBucket",
            "s3:CreateBucket",
            "sqs:DeleteQueue",
            "sqs:CreateQueue",
            "iam:DeleteRole",
            "logs:DeleteLogGroup",
        ] {
            assert_eq!(ir.rig.proxy.count(kept), 0, "{kept}");
        }
        let code = ir.rig.aws.function_code(name).expect("GetFunction");
        let want = if package_type == "zip" {
            "Zip"
        } else {
            "Image"
        };
        assert_eq!(code.package_type, want);
        assert_eq!(
            state_attrs(&ir.rig.ws, name)["image_uri"].is_null(),
            package_type == "zip"
        );
        assert!(
            ir.rig
                .aws
                .object_keys(&bucket)
                .expect("keys")
                .contains(&"keep/me.txt".to_owned())
        );
        ir.rig.assert_plan_empty();
    }
    assert_eq!(ir.rig.aws.queue_depth(&queue).expect("depth"), 1);
    let notifications = ir.rig.aws.notifications(&bucket).expect("notifications");
    assert_eq!(
        notifications.lambda_function_configurations().len(),
        1,
        "{notifications:?}"
    );

    // Destroy: our image leaves the given repository, which stays.
    let last = ir.image_uri(name).expect("image_uri");
    ir.rig.destroy_and_assert_empty_but_repository("given-repo");
    assert_eq!(ir.head_manifest("given-repo", digest_of(&last)), 404);
}

impl Rig {
    /// Destroys and checks nothing of the pipeline is left: the only thing
    /// in the emulator is the repository the test made.
    fn destroy_and_assert_empty_but_repository(&self, repository: &str) {
        self.ws.destroy_auto().expect("destroy");
        let inv = self.aws.list_everything().expect("inventory");
        assert!(inv.functions.is_empty(), "{inv:?}");
        assert!(inv.roles.is_empty(), "{inv:?}");
        assert!(inv.buckets.is_empty(), "{inv:?}");
        assert_eq!(inv.repositories, [repository.to_owned()], "{inv:?}");
    }
}

/// Each new call site fails once through Terraform; the next apply
/// converges, and destroy leaves nothing but the given repository.
#[test]
fn each_image_call_site_fails_once_then_the_pipeline_converges_with_no_orphans() {
    let sites: [(&str, bool); 7] = [
        ("ecr:GetAuthorizationToken", false),
        ("ecr:DescribeRepositories", false),
        ("registry:StartUpload", true),
        ("registry:PutManifest", true),
        ("lambda:CreateFunction", false),
        ("lambda:UpdateFunctionCode", false),
        ("ecr:BatchDeleteImage", false),
    ];
    for (i, (op, at_registry)) in sites.iter().enumerate() {
        let ir = start("given-repo");
        let name = format!("flt{:02}", i + 1);
        ir.configure(&ir.pipeline(&name, "image", "given-repo"));
        let proxy = if *at_registry {
            &ir.registry_proxy
        } else {
            &ir.rig.proxy
        };
        // The first two DescribeRepositories are the plan's looks at the
        // given repository (the plan's, then Terraform's re-plan during
        // apply; a warning when they fail); the apply's own check is next.
        let nth = if *op == "ecr:DescribeRepositories" {
            3
        } else {
            1
        };
        let rule = Rule::on(op).nth(nth).fail(Fault::AccessDenied);
        match *op {
            "lambda:UpdateFunctionCode" => {
                ir.rig.apply();
                ir.rig
                    .ws
                    .write("app/app.py", common::APP_PY.replace("len(", "len( "))
                    .expect("edit");
                proxy.add_rule(rule);
                ir.rig.apply_failing();
            }
            "ecr:BatchDeleteImage" => {
                ir.rig.apply();
                proxy.add_rule(rule);
                let failed = ir
                    .rig
                    .ws
                    .run(&["destroy", "-auto-approve"])
                    .expect("destroy");
                assert!(!failed.success(), "{op}: destroy must fail");
                // Nothing else went: the next destroy finds it all.
                ir.rig.aws.function_code(&name).expect("the function stays");
            }
            _ => {
                proxy.add_rule(rule);
                ir.registry_proxy.clear_calls();
                ir.rig.apply_failing();
                // A create that failed once the image was pushed takes it
                // out of the given repository again.
                let pushed: Vec<String> = ir
                    .registry_proxy
                    .calls()
                    .into_iter()
                    .filter(|c| c.op == "registry:PutManifest")
                    .map(|c| c.target)
                    .collect();
                if *op == "lambda:CreateFunction" {
                    assert_eq!(pushed.len(), 1, "{op}: {pushed:?}");
                }
                for target in pushed {
                    let tag = target.rsplit('/').next().expect("a tag");
                    assert_eq!(
                        ir.head_manifest("given-repo", tag),
                        404,
                        "{op}: {target} left behind"
                    );
                }
            }
        }
        assert!(proxy.count(op) >= 1, "{op} was called");
        proxy.clear_rules();
        if *op != "ecr:BatchDeleteImage" {
            ir.rig.apply();
            let code = ir.rig.aws.function_code(&name).expect("GetFunction");
            assert_eq!(
                code.image_uri,
                ir.image_uri(&name),
                "{op}: converged to the state's image"
            );
            ir.rig.assert_plan_empty();
        }
        let last = ir.image_uri(&name);
        ir.rig.destroy_and_assert_empty_but_repository("given-repo");
        if let Some(uri) = last {
            assert_eq!(ir.head_manifest("given-repo", digest_of(&uri)), 404, "{op}");
        }
    }
}

/// Every Terraform CLI under test (1.11.4 and 1.0.3) applies an image
/// pipeline, plans nothing after, and destroys it.
#[test]
fn an_image_pipeline_applies_and_replans_empty_on_every_cli() {
    for tf in clis() {
        let ir = start_with(&tf, "cli-repo");
        let name = "imgcli";
        ir.configure(&ir.pipeline(name, "image", "cli-repo"));
        ir.rig.apply();
        let uri = ir.image_uri(name).expect("image_uri");
        let code = ir.rig.aws.function_code(name).expect("GetFunction");
        assert_eq!(code.package_type, "Image", "{tf:?}");
        assert_eq!(code.image_uri.as_deref(), Some(uri.as_str()), "{tf:?}");
        ir.rig.assert_plan_empty();
        ir.rig.destroy_and_assert_empty_but_repository("cli-repo");
        assert_eq!(ir.head_manifest("cli-repo", digest_of(&uri)), 404);
    }
}

/// The handler is checked for an image as for a zip: the code lands under
/// `LAMBDA_TASK_ROOT`, where Lambda imports it the same way. Refused at
/// plan, before anything is built or made.
#[test]
fn an_image_whose_handler_the_source_does_not_define_is_refused_at_plan() {
    let ir = start("plan-repo");
    let body = ir.pipeline("imgbad", "image", "plan-repo").replace(
        "handler     = \"app.handler\"",
        "handler     = \"app.process\"",
    );
    assert!(body.contains("app.process"), "{body}");
    ir.configure(&body);
    let mark = ir.registry.requests().expect("log").len();
    let out = ir.rig.ws.run(&["plan", "-no-color"]).expect("plan runs");
    assert!(!out.success(), "the plan must fail");
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("app.py has no top-level `process`"), "{text}");
    assert_eq!(ir.rig.proxy.count("ecr:GetAuthorizationToken"), 0);
    let log = ir.registry.requests().expect("log").since(mark);
    assert!(log.blob_uploads().is_empty(), "{log:#?}");
    assert!(ir.rig.aws.function_names().expect("functions").is_empty());
}
