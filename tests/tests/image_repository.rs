//! The image repository a pipeline with `package_type = "image"` makes
//! (issue 25), end to end against moto through the fault proxy: made with
//! its tags, scan on push, lifecycle and repository policy, read back with
//! the tests' own ECR client; its drift repaired; adopted when tagged as
//! ours, refused otherwise; deleted by destroy with an image in it; and a
//! given `image.repository_name` left alone. The function is really built
//! on the test base image, pushed to the tests' registry and deployed as an
//! image (the setup is `common::image::ImageRig`, shared with
//! image_deploy.rs); the images the pipeline pushed are read back from the
//! registry, where the proxy's `ecr_images_in` lets ECR's deletes act.

mod common;

use std::collections::BTreeMap;

use common::fault_table::{Site, arm, assert_each_failed, names, table};
use common::image::{ImageRig, digest_of};
use common::rig::Rig;
use common::state::state_attrs;
use common::{Pipeline, newest_cli};
use eventpipe::pipeline::ecr_policy;

const OWNER_TAG: &str = "eventpipe:pipeline";
const ACCOUNT: &str = "123456789012";

/// The seed pipeline `name` with an image function on the test base and
/// `image` lines in its `image` block.
fn image_pipeline(ir: &ImageRig, name: &str, image: &str) -> String {
    Pipeline::seed(name, &format!("{name}-bkt"))
        .tags("{ team = \"ml\" }")
        .function_lines(&ir.image_lines(image))
        .hcl()
}

fn start() -> ImageRig {
    ImageRig::start(&newest_cli(), None)
}

/// An OCI manifest with one layer (moto keeps the manifest; it has no
/// blobs).
fn manifest() -> String {
    let digest = format!("sha256:{}", "a".repeat(64));
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": digest},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 3,
                    "digest": digest}]
    })
    .to_string()
}

fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}")
}

fn url(repository: &str) -> String {
    format!("{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{repository}")
}

impl Rig {
    /// Makes a repository with the tests' own client, with `tags`.
    fn make_repository(&self, name: &str, tags: &[(&str, &str)]) {
        let mut call = self.aws.ecr().create_repository().repository_name(name);
        for (k, v) in tags {
            call = call.tags(
                aws_sdk_ecr::types::Tag::builder()
                    .key(*k)
                    .value(*v)
                    .build()
                    .expect("tag"),
            );
        }
        self.aws.block_on(call.send()).expect("create repository");
    }

    /// The repository is there with everything the pipeline `name` gives
    /// it, read back with the tests' own client.
    fn assert_repository(&self, name: &str, keep: u32, scan: bool) {
        let repo = self
            .aws
            .repository(name)
            .expect("describe")
            .unwrap_or_else(|| panic!("repository {name} should exist"));
        assert_eq!(repo.uri, url(name));
        assert_eq!(repo.scan_on_push, scan, "scan on push of {name}");
        let tags: BTreeMap<String, String> = repo.tags.into_iter().collect();
        assert_eq!(
            tags.get(OWNER_TAG).map(String::as_str),
            Some(name),
            "{tags:?}"
        );
        assert_eq!(tags.get("team").map(String::as_str), Some("ml"), "{tags:?}");
        let lifecycle = self
            .aws
            .lifecycle_policy(name)
            .expect("lifecycle")
            .expect("a lifecycle policy");
        assert!(
            ecr_policy::same_lifecycle_policy(&lifecycle, &ecr_policy::lifecycle_policy(keep)),
            "{lifecycle}"
        );
        let policy = self
            .aws
            .repository_policy(name)
            .expect("policy")
            .expect("a repository policy");
        let doc: serde_json::Value = serde_json::from_str(&policy).expect("JSON");
        let st = &doc["Statement"][0];
        assert_eq!(
            st["Principal"]["Service"], "lambda.amazonaws.com",
            "{policy}"
        );
        assert_eq!(
            st["Condition"]["StringLike"]["aws:sourceARN"],
            function_arn(name),
            "{policy}"
        );
        let state = state_attrs(&self.ws, name);
        assert_eq!(state["image_repository_url"], url(name));
    }

    fn plan_has_changes(&self) -> bool {
        self.ws.plan_detailed_exitcode().expect("plan").has_changes
    }
}

#[test]
fn the_pipeline_makes_its_repository_keeps_it_as_planned_and_deletes_it_with_its_images() {
    let ir = start();
    let rig = &ir.rig;
    // ECR turns scan on push off when asked; moto needs the proxy for it.
    rig.proxy.ecr_scan_default(true);
    let name = "ir01";
    ir.configure(&image_pipeline(
        &ir,
        name,
        "      keep_images  = 3\n      scan_on_push = true\n",
    ));
    // The plan knows the URL before anything exists.
    let plan = rig.ws.plan(&[]).expect("plan");
    assert!(plan.stdout.contains(&url(name)), "{}", plan.stdout);
    rig.apply();
    rig.assert_repository(name, 3, true);
    rig.assert_plan_empty();
    // The function's image was pushed into it.
    let pushed = ir.image_uri(name).expect("image_uri");
    assert_eq!(ir.head_manifest(name, digest_of(&pushed)), 200, "{pushed}");

    // keep_images and scan_on_push change in place.
    ir.configure(&image_pipeline(
        &ir,
        name,
        "      keep_images  = 5\n      scan_on_push = false\n",
    ));
    rig.apply();
    rig.assert_repository(name, 5, false);
    rig.assert_plan_empty();

    // A lifecycle policy changed outside Terraform shows in the plan and
    // is put back.
    rig.aws
        .block_on(
            rig.aws
                .ecr()
                .put_lifecycle_policy()
                .repository_name(name)
                .lifecycle_policy_text(ecr_policy::lifecycle_policy(99))
                .send(),
        )
        .expect("put lifecycle");
    assert!(
        rig.plan_has_changes(),
        "a changed lifecycle policy must show"
    );
    rig.apply();
    rig.assert_repository(name, 5, false);
    rig.assert_plan_empty();

    // So is a repository policy.
    rig.aws
        .block_on(
            rig.aws
                .ecr()
                .set_repository_policy()
                .repository_name(name)
                .policy_text(ecr_policy::repository_policy(&function_arn("someone-else")))
                .send(),
        )
        .expect("set policy");
    assert!(
        rig.plan_has_changes(),
        "a changed repository policy must show"
    );
    rig.apply();
    rig.assert_repository(name, 5, false);

    // So are its tags.
    let arn = rig.aws.repository(name).expect("d").expect("there").arn;
    rig.aws
        .block_on(
            rig.aws
                .ecr()
                .tag_resource()
                .resource_arn(&arn)
                .tags(
                    aws_sdk_ecr::types::Tag::builder()
                        .key("team")
                        .value("someone")
                        .build()
                        .expect("tag"),
                )
                .send(),
        )
        .expect("tag");
    assert!(rig.plan_has_changes(), "a changed tag must show");
    rig.apply();
    rig.assert_repository(name, 5, false);

    // A repository deleted outside Terraform is made again.
    rig.aws
        .block_on(
            rig.aws
                .ecr()
                .delete_repository()
                .repository_name(name)
                .force(true)
                .send(),
        )
        .expect("delete");
    assert!(rig.plan_has_changes(), "a deleted repository must show");
    rig.apply();
    rig.assert_repository(name, 5, false);
    rig.assert_plan_empty();

    // Destroy deletes it with the images in it: one stored in ECR
    // itself, and the ones the pipeline pushed to the registry (gone with
    // the repository, as in ECR, through the proxy's `ecr_images_in`).
    rig.aws
        .put_image(name, &manifest(), "v1")
        .expect("put image");
    assert_eq!(rig.aws.images(name).expect("images").len(), 1);
    let last = ir.image_uri(name).expect("image_uri");
    assert_eq!(ir.head_manifest(name, digest_of(&last)), 200, "{last}");
    rig.destroy_and_assert_empty();
    for uri in [&pushed, &last] {
        assert_eq!(ir.head_manifest(name, digest_of(uri)), 404, "{uri}");
    }
}

#[test]
fn a_repository_left_by_this_pipeline_is_adopted_and_anyone_else_s_is_refused() {
    let ir = start();
    let rig = &ir.rig;
    // Left by an interrupted run: tagged as this pipeline's.
    rig.make_repository("ir02", &[(OWNER_TAG, "ir02")]);
    // Another pipeline's, and one with no tag.
    rig.make_repository("ir03", &[(OWNER_TAG, "other")]);
    rig.make_repository("ir04", &[]);
    let body: String = ["ir02", "ir03", "ir04"]
        .iter()
        .map(|n| image_pipeline(&ir, n, ""))
        .collect();
    ir.configure(&body);
    let out = rig.apply_failing();
    let text = out.to_string();
    assert!(text.contains("ECR repository \"ir03\""), "{text}");
    assert!(
        text.contains("pipeline \\\"other\\\"") || text.contains("pipeline \"other\""),
        "{text}"
    );
    assert!(text.contains("ECR repository \"ir04\""), "{text}");
    assert!(text.contains("has no eventpipe:pipeline tag"), "{text}");
    // The adopted one is the pipeline's now, with everything it gives.
    rig.assert_repository("ir02", 10, true);
    // The refused ones are as they were: untouched, no policy put on them.
    for n in ["ir03", "ir04"] {
        assert!(
            rig.aws.repository_policy(n).expect("policy").is_none(),
            "{n}"
        );
        assert!(
            rig.aws.lifecycle_policy(n).expect("lifecycle").is_none(),
            "{n}"
        );
    }
    assert_eq!(
        rig.aws.repository("ir03").expect("d").expect("kept").tags,
        [(OWNER_TAG.to_owned(), "other".to_owned())]
            .into_iter()
            .collect()
    );
    // Their creates rolled back: only ir02 is in the state.
    let state = rig.state();
    assert_eq!(state.keys().collect::<Vec<_>>(), ["ir02"], "{state:?}");
    for n in ["ir03", "ir04"] {
        rig.aws
            .block_on(rig.aws.ecr().delete_repository().repository_name(n).send())
            .expect("delete");
    }
    ir.configure(&image_pipeline(&ir, "ir02", ""));
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
}

#[test]
fn a_given_repository_is_never_created_configured_or_deleted() {
    let ir = start();
    let rig = &ir.rig;
    rig.make_repository("shared-images", &[("owner", "platform")]);
    ir.configure(&image_pipeline(
        &ir,
        "ir05",
        "      repository_name = \"shared-images\"\n",
    ));
    rig.apply();
    assert_eq!(
        rig.aws.repository_names().expect("names"),
        ["shared-images"],
        "no repository of the pipeline's own"
    );
    let repo = rig
        .aws
        .repository("shared-images")
        .expect("d")
        .expect("there");
    assert_eq!(
        repo.tags,
        [("owner".to_owned(), "platform".to_owned())]
            .into_iter()
            .collect()
    );
    assert!(
        rig.aws
            .lifecycle_policy("shared-images")
            .expect("l")
            .is_none()
    );
    assert!(
        rig.aws
            .repository_policy("shared-images")
            .expect("p")
            .is_none()
    );
    assert_eq!(
        state_attrs(&rig.ws, "ir05")["image_repository_url"],
        url("shared-images")
    );
    // The function's image was pushed there, and only it is removed.
    let pushed = ir.image_uri("ir05").expect("image_uri");
    assert_eq!(
        ir.head_manifest("shared-images", digest_of(&pushed)),
        200,
        "{pushed}"
    );
    rig.assert_plan_empty();
    rig.ws.destroy_auto().expect("destroy");
    assert_eq!(
        rig.aws.repository_names().expect("names"),
        ["shared-images"]
    );
    assert_eq!(
        ir.head_manifest("shared-images", digest_of(&pushed)),
        404,
        "{pushed}"
    );
    rig.aws
        .block_on(
            rig.aws
                .ecr()
                .delete_repository()
                .repository_name("shared-images")
                .send(),
        )
        .expect("delete");
    common::assert_emulator_empty(&rig.moto);
}

/// A given repository that does not exist stops the apply before any part
/// is made, with the error on `function.image.repository_name`.
#[test]
fn a_missing_given_repository_fails_the_apply_before_anything_is_made() {
    let ir = start();
    let rig = &ir.rig;
    ir.configure(&image_pipeline(
        &ir,
        "ir07",
        "      repository_name = \"not-there\"\n",
    ));
    let out = rig.apply_failing().to_string();
    assert!(out.contains("The image repository does not exist"), "{out}");
    assert!(
        out.contains("ECR repository \"not-there\" does not exist"),
        "{out}"
    );
    assert!(out.contains("repository_name"), "{out}");
    assert!(rig.state().is_empty(), "{:?}", rig.state());
    common::assert_emulator_empty(&rig.moto);
}

/// A switch from an image to a zip deletes the repository the pipeline
/// made, with its images; the rest of the pipeline stays.
#[test]
fn switching_to_a_zip_deletes_the_repository() {
    let ir = start();
    let rig = &ir.rig;
    ir.configure(&image_pipeline(&ir, "ir06", ""));
    rig.apply();
    rig.assert_repository("ir06", 10, true);
    rig.aws
        .put_image("ir06", &manifest(), "v1")
        .expect("put image");
    let pushed = ir.image_uri("ir06").expect("image_uri");
    assert_eq!(
        ir.head_manifest("ir06", digest_of(&pushed)),
        200,
        "{pushed}"
    );
    ir.configure(
        &Pipeline::seed("ir06", "ir06-bkt")
            .tags("{ team = \"ml\" }")
            .hcl(),
    );
    rig.apply();
    assert!(rig.aws.repository("ir06").expect("d").is_none());
    assert_eq!(
        ir.head_manifest("ir06", digest_of(&pushed)),
        404,
        "{pushed}"
    );
    assert_eq!(
        state_attrs(&rig.ws, "ir06")["image_repository_url"],
        serde_json::Value::Null
    );
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
}

/// Every ECR call the repository's create, its drift repair and its
/// delete make, failed once through Terraform; the next apply converges
/// and destroy leaves nothing.
#[test]
fn each_ecr_call_site_fails_once_then_the_pipeline_converges() {
    let ir = start();
    let rig = &ir.rig;
    let sites: Vec<Site> = [
        "ecr:CreateRepository",
        "ecr:PutLifecyclePolicy",
        "ecr:SetRepositoryPolicy",
    ]
    .into_iter()
    .map(|op| Site {
        op: op.to_owned(),
        nth: 1,
    })
    .collect();
    let pipelines = names("irf", sites.len());
    let t = table(&pipelines, &sites);
    let body: String = pipelines
        .iter()
        .map(|n| image_pipeline(&ir, n, ""))
        .collect();
    ir.configure(&body);
    arm(&rig.proxy, &t);
    let out = rig.apply_failing();
    assert_each_failed(&out, &t, &rig.proxy);
    // Each failed create rolled back: a repository made before its
    // policies failed is gone, and no pipeline is in the state.
    assert_eq!(
        rig.aws.repository_names().expect("names"),
        Vec::<String>::new()
    );
    assert!(rig.state().is_empty(), "{:?}", rig.state());
    rig.proxy.clear_rules();
    rig.apply();
    for n in &pipelines {
        rig.assert_repository(n, 10, true);
    }
    rig.assert_plan_empty();

    // Drift repair and refresh: the reads and the writes that put it back.
    let sites: Vec<Site> = [
        "ecr:DescribeRepositories",
        "ecr:ListTagsForResource",
        "ecr:GetLifecyclePolicy",
        "ecr:GetRepositoryPolicy",
    ]
    .into_iter()
    .map(|op| Site {
        op: op.to_owned(),
        nth: 1,
    })
    .collect();
    let t = table(&pipelines, &sites);
    arm(&rig.proxy, &t);
    let out = rig
        .ws
        .run(&["plan"])
        .expect("plan runs")
        .failed()
        .expect("plan must fail");
    assert_each_failed(&out, &t, &rig.proxy);
    rig.proxy.clear_rules();
    rig.assert_plan_empty();

    // The delete.
    let t = table(
        &pipelines[..1],
        &[Site {
            op: "ecr:DeleteRepository".into(),
            nth: 1,
        }],
    );
    arm(&rig.proxy, &t);
    let out = rig
        .ws
        .run(&["destroy", "-auto-approve"])
        .expect("destroy runs")
        .failed()
        .expect("destroy must fail");
    assert_each_failed(&out, &t, &rig.proxy);
    rig.proxy.clear_rules();
    rig.destroy_and_assert_empty();
}

/// The ECR calls of the repository's updates (scan on push, tags), of its
/// delete when the function goes back to a zip, and of the check of a given
/// repository, each failed once through Terraform; the next apply
/// converges and destroy leaves nothing.
#[test]
fn each_ecr_update_call_site_fails_once_then_the_pipeline_converges() {
    let ir = start();
    let rig = &ir.rig;
    rig.proxy.ecr_scan_default(true);
    rig.make_repository("irg04-given", &[]);
    let pipelines = names("irg", 4);
    let first: String = pipelines[..3]
        .iter()
        .map(|n| image_pipeline(&ir, n, ""))
        .collect();
    ir.configure(&first);
    rig.apply();
    let second = [
        image_pipeline(&ir, "irg01", "      scan_on_push = false\n"),
        image_pipeline(&ir, "irg02", "").replace("team = \"ml\"", "team = \"ai\""),
        Pipeline::seed("irg03", "irg03-bkt")
            .tags("{ team = \"ml\" }")
            .hcl(),
        image_pipeline(&ir, "irg04", "      repository_name = \"irg04-given\"\n"),
    ]
    .concat();
    ir.configure(&second);
    let sites: Vec<Site> = [
        "ecr:PutImageScanningConfiguration",
        "ecr:TagResource",
        "ecr:DeleteRepository",
        "ecr:DescribeRepositories",
    ]
    .into_iter()
    .map(|op| Site {
        op: op.to_owned(),
        // A new given repository is looked at by the plan, again by
        // Terraform's final plan during the apply (a failed look there is a
        // warning), then checked by the apply itself: its third call.
        nth: if op == "ecr:DescribeRepositories" {
            3
        } else {
            1
        },
    })
    .collect();
    let t = table(&pipelines, &sites);
    arm(&rig.proxy, &t);
    let out = rig.apply_failing();
    assert_eq!(
        rig.state().keys().collect::<Vec<_>>(),
        ["irg01", "irg02", "irg03"],
        "the check refused irg04 before anything was made"
    );
    assert_each_failed(&out, &t, &rig.proxy);
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    let repo = rig.aws.repository("irg01").expect("d").expect("there");
    assert!(!repo.scan_on_push);
    let repo = rig.aws.repository("irg02").expect("d").expect("there");
    assert_eq!(repo.tags.get("team").map(String::as_str), Some("ai"));
    assert!(rig.aws.repository("irg03").expect("d").is_none());
    rig.ws.destroy_auto().expect("destroy");
    assert_eq!(rig.aws.repository_names().expect("names"), ["irg04-given"]);
    rig.aws
        .block_on(
            rig.aws
                .ecr()
                .delete_repository()
                .repository_name("irg04-given")
                .send(),
        )
        .expect("delete");
    common::assert_emulator_empty(&rig.moto);
}

/// Every CLI under test (1.11 and 1.0.3) plans the repository's URL,
/// makes it, shows a deleted one and makes it again, and destroys it.
#[test]
fn every_cli_makes_repairs_and_destroys_the_repository() {
    for tf in common::clis() {
        let ir = ImageRig::start(&tf, None);
        let rig = &ir.rig;
        ir.configure(&image_pipeline(&ir, "ir08", ""));
        rig.apply();
        rig.assert_repository("ir08", 10, true);
        rig.assert_plan_empty();
        rig.aws
            .block_on(
                rig.aws
                    .ecr()
                    .delete_repository()
                    .repository_name("ir08")
                    // It holds the function's image: ECR wants `force`.
                    .force(true)
                    .send(),
            )
            .expect("delete");
        assert!(rig.plan_has_changes(), "a deleted repository must show");
        rig.apply();
        rig.assert_repository("ir08", 10, true);
        rig.assert_plan_empty();
        rig.destroy_and_assert_empty();
    }
}
