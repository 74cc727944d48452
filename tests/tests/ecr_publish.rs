//! Publishing the function's image to the pipeline's ECR repository
//! (`eventpipe::pipeline::publish`), against moto through the fault proxy
//! (ECR's control plane: the repository, `GetAuthorizationToken`,
//! `BatchDeleteImage`) and the tests' `docker-registry`, which the
//! provider's `endpoints.ecr_registry` names in place of the repository's
//! own host. Every image is read back with skopeo and the registry's own
//! answers; every upload is counted from the registry's log.
//!
//! moto serves no registry, and its ECR never sees the images pushed to the
//! tests' one: removing the pipeline's images is checked through the
//! registry's API, with the proxy's `ecr_images_in`, which lets
//! `BatchDeleteImage` delete there as ECR deletes pushed images.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;

use eventpipe::aws::{AwsClients, AwsSettings, ServiceEndpoints, ecr};
use eventpipe::pipeline::package::image::base::BaseImage as Base;
use eventpipe::pipeline::publish::{self, PublishError, Published};
use tests::base_image;
use tests::fault_proxy::{Departure, Fault, FaultProxy, Rule};
use tests::registry::MANIFEST_ACCEPT;
use tests::{Moto, Registry, Skopeo};

const TAG: &str = "3.13";
/// A bcrypt hash (cost 4) of moto's registry password,
/// `123456789012-auth-token`, for a test registry that wants the login.
const MOTO_PASSWORD_HASH: &str = "$2b$04$IVS0MsU6eT6RIpSGyHAR5O/EZ89NkbxkVtTo0I0HAD3.XEYX0vPny";
const REGISTRY_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// moto, the proxy in front of it (ECR's endpoint), the tests' registry as
/// `endpoints.ecr_registry`, and a base image as an OCI layout.
struct Rig {
    _moto: Moto,
    proxy: FaultProxy,
    registry: Registry,
    clients: AwsClients,
    runtime: tokio::runtime::Runtime,
    base: Base,
    work: tempfile::TempDir,
}

impl Rig {
    fn start() -> Rig {
        Rig::with_registry(Registry::start().expect("registry"))
    }

    fn with_registry(registry: Registry) -> Rig {
        let moto = Moto::start().expect("moto");
        let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
        let (runtime, clients) = common::image::ecr_clients(proxy.endpoint(), registry.url());
        let work = tempfile::tempdir().expect("work dir");
        let layout = work.path().join("base");
        base_image::build(&layout, TAG).expect("base image");
        let base = Base::from_layout(&layout, Some(TAG), "x86_64").expect("base");
        Rig {
            _moto: moto,
            proxy,
            registry,
            clients,
            runtime,
            base,
            work,
        }
    }

    fn repository(&self, name: &str) -> ecr::Repository {
        let repo = self
            .runtime
            .block_on(ecr::create_repository(
                &self.clients.ecr,
                name,
                true,
                &Default::default(),
            ))
            .expect("CreateRepository")
            .expect("a new repository");
        assert_eq!(repo.registry_host(), REGISTRY_HOST);
        repo
    }

    /// The function's source: `app.py` returning `value`.
    fn source(&self, value: u32) -> PathBuf {
        let src = self.work.path().join("app");
        fs::create_dir_all(&src).expect("source dir");
        fs::write(
            src.join("app.py"),
            format!("def handler(event, context):\n    return {value}\n"),
        )
        .expect("app.py");
        src
    }

    /// Builds the image of `src` into a layout of its own; what a publish
    /// takes: the layout, the manifest digest and the tag.
    fn build(&self, src: &Path, name: &str) -> Built {
        let layout = self.work.path().join(name);
        let (built, hash) = common::image::build_function_image(src, &self.base, &layout);
        let code = built.layers.last().expect("a code layer");
        Built {
            layout,
            digest: built.manifest_digest.clone(),
            code_layer: (code.digest.clone(), code.size),
            tag: publish::image_tag(&hash).expect("a tag"),
            hash,
        }
    }

    fn publish(&self, repo: &ecr::Repository, built: &Built) -> Result<Published, PublishError> {
        self.runtime.block_on(publish::publish(
            &self.clients,
            repo,
            &built.layout,
            &built.digest,
            &built.tag,
        ))
    }

    fn remove(&self, repo: &str, digests: &[String]) -> Result<(), PublishError> {
        self.runtime
            .block_on(publish::remove_pushed(&self.clients, repo, digests))
    }

    /// The manifest as the independent client reads it by `reference`.
    fn inspect(&self, reference: &str) -> anyhow::Result<serde_json::Value> {
        Skopeo::new()?.inspect_raw(&format!("docker://{reference}"))
    }

    /// The registry's status for a HEAD of `/v2/<repo>/<kind>/<reference>`.
    fn head(&self, repo: &str, kind: &str, reference: &str) -> u16 {
        tests::http::head(
            self.registry.addr(),
            &format!("/v2/{repo}/{kind}/{reference}"),
            &[("Accept", MANIFEST_ACCEPT)],
            None,
            Duration::from_secs(10),
        )
        .expect("HEAD")
        .status
    }

    /// Every blob the manifest `digest` names is in the registry's
    /// repository `repo`, and the manifest itself.
    fn nothing_missing(&self, repo: &str, built: &Built) {
        assert_eq!(self.head(repo, "manifests", &built.digest), 200);
        let manifest = built.manifest();
        let mut digests = vec![manifest["config"]["digest"].clone()];
        digests.extend(
            manifest["layers"]
                .as_array()
                .expect("layers")
                .iter()
                .map(|l| l["digest"].clone()),
        );
        for d in digests {
            let d = d.as_str().expect("a digest");
            assert_eq!(self.head(repo, "blobs", d), 200, "blob {d}");
        }
    }
}

struct Built {
    layout: PathBuf,
    digest: String,
    code_layer: (String, u64),
    tag: String,
    hash: String,
}

impl Built {
    fn manifest_bytes(&self) -> Vec<u8> {
        fs::read(base_image::blob_path(&self.layout, &self.digest)).expect("manifest")
    }

    fn manifest(&self) -> serde_json::Value {
        serde_json::from_slice(&self.manifest_bytes()).expect("manifest JSON")
    }
}

#[test]
fn an_image_is_published_by_digest_and_a_second_publish_or_a_code_edit_sends_only_what_changed() {
    let rig = Rig::start();
    let repo = rig.repository("pub01");
    let src = rig.source(1);
    let first = rig.build(&src, "image-1");
    assert_eq!(first.tag, first.hash[..12]);

    let mark = rig.registry.requests().expect("log").len();
    let published = rig
        .publish(&repo, &first)
        .unwrap_or_else(|e| panic!("{e}\n{}", rig.registry.log()));
    let log = rig.registry.requests().expect("log").since(mark);
    let host = rig.registry.host();
    assert_eq!(published.digest, first.digest);
    assert_eq!(
        published.image_uri,
        format!("{host}/pub01@{}", first.digest)
    );
    assert_eq!(published.tag, first.tag);
    // Into a new repository: the base layer, the code layer and the config.
    assert_eq!(published.blobs_uploaded, 3, "{log:#?}");
    assert_eq!(log.blob_uploads().len(), 3);
    assert_eq!(published.bytes_uploaded, log.bytes_uploaded());
    assert_eq!(rig.proxy.count("ecr:GetAuthorizationToken"), 1);

    // The independent client reads it by digest and by tag.
    let read = rig.inspect(&published.image_uri).expect("skopeo by digest");
    assert_eq!(read, first.manifest());
    let by_tag = rig
        .registry
        .head_manifest("pub01", &first.tag)
        .expect("HEAD by tag");
    assert_eq!(
        by_tag.header("Docker-Content-Digest"),
        Some(first.digest.as_str())
    );
    rig.nothing_missing("pub01", &first);

    // The same image again: a new login (moto's token says it expired in
    // 2015: asked for once, not again and again), HEADs, no blob.
    let mark = rig.registry.requests().expect("log").len();
    let again = rig.publish(&repo, &first).expect("second publish");
    let log = rig.registry.requests().expect("log").since(mark);
    assert_eq!(again.blobs_uploaded, 0, "{log:#?}");
    assert_eq!(log.blob_uploads(), []);
    assert_eq!(again.image_uri, published.image_uri);
    assert_eq!(
        again.bytes_uploaded,
        first.manifest_bytes().len() as u64,
        "only the manifest"
    );
    assert_eq!(rig.proxy.count("ecr:GetAuthorizationToken"), 2);

    // A one-line edit: the code layer and the config, then the manifest.
    let src = rig.source(2);
    let edited = rig.build(&src, "image-2");
    assert_ne!(edited.digest, first.digest);
    assert_ne!(edited.tag, first.tag);
    let mark = rig.registry.requests().expect("log").len();
    let third = rig.publish(&repo, &edited).expect("third publish");
    let log = rig.registry.requests().expect("log").since(mark);
    let uploaded: Vec<String> = log
        .blob_uploads()
        .iter()
        .map(|u| u.digest.clone())
        .collect();
    let manifest = edited.manifest();
    let config = manifest["config"]["digest"]
        .as_str()
        .expect("config")
        .to_owned();
    let config_size = manifest["config"]["size"].as_u64().expect("size");
    assert_eq!(third.blobs_uploaded, 2, "{log:#?}");
    assert_eq!(uploaded.len(), 2);
    assert!(uploaded.contains(&edited.code_layer.0), "{uploaded:?}");
    assert!(uploaded.contains(&config), "{uploaded:?}");
    assert_eq!(
        third.bytes_uploaded,
        edited.code_layer.1 + config_size + edited.manifest_bytes().len() as u64
    );
    assert_eq!(third.bytes_uploaded, log.bytes_uploaded());
    assert_eq!(
        rig.inspect(&third.image_uri).expect("skopeo"),
        edited.manifest()
    );
    rig.nothing_missing("pub01", &edited);
    // The first image is still there under its own tag.
    let by_tag = rig
        .registry
        .head_manifest("pub01", &first.tag)
        .expect("HEAD");
    assert_eq!(
        by_tag.header("Docker-Content-Digest"),
        Some(first.digest.as_str())
    );
}

#[test]
fn a_failed_login_pushes_nothing_and_the_next_publish_completes_the_image() {
    let rig = Rig::start();
    let repo = rig.repository("pub02");
    let built = rig.build(&rig.source(1), "image");
    rig.proxy.add_rule(
        Rule::on("ecr:GetAuthorizationToken")
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let mark = rig.registry.requests().expect("log").len();
    let e = rig.publish(&repo, &built).expect_err("the login fails");
    assert!(matches!(e, PublishError::Login(_)), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("ecr:GetAuthorizationToken"), "{text}");
    assert!(
        rig.registry.requests().expect("log").since(mark).is_empty(),
        "no request reached the registry"
    );
    assert_eq!(rig.head(&repo.name, "manifests", &built.digest), 404);

    let published = rig.publish(&repo, &built).expect("the next publish");
    assert_eq!(published.blobs_uploaded, 3);
    rig.nothing_missing("pub02", &built);
    assert_eq!(rig.proxy.count("ecr:GetAuthorizationToken"), 2);

    // A throttled login is tried again within the same publish.
    rig.proxy.add_rule(
        Rule::on("ecr:GetAuthorizationToken")
            .nth(1)
            .fail(Fault::Throttling),
    );
    let again = rig
        .publish(&repo, &built)
        .expect("a throttled login is retried");
    assert_eq!(again.blobs_uploaded, 0);
    assert_eq!(rig.proxy.count("ecr:GetAuthorizationToken"), 4);
}

#[test]
fn a_registry_setting_that_is_no_url_is_an_error_before_any_call() {
    let rig = Rig::start();
    let repo = rig.repository("pub03");
    let built = rig.build(&rig.source(1), "image");
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        access_key: Some("test".into()),
        secret_key: Some("test".into()),
        endpoints: ServiceEndpoints {
            ecr: Some(rig.proxy.endpoint()),
            ecr_registry: Some(rig.registry.host()),
            ..ServiceEndpoints::default()
        },
        ..AwsSettings::default()
    };
    let clients = rig
        .runtime
        .block_on(AwsClients::connect(&settings))
        .expect("clients");
    let mark = rig.registry.requests().expect("log").len();
    let e = rig
        .runtime
        .block_on(publish::publish(
            &clients,
            &repo,
            &built.layout,
            &built.digest,
            &built.tag,
        ))
        .expect_err("no scheme");
    assert!(matches!(e, PublishError::RegistrySetting { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("endpoints.ecr_registry"), "{text}");
    assert!(text.contains(&rig.registry.host()), "{text}");
    assert_eq!(rig.proxy.count("ecr:GetAuthorizationToken"), 0);
    assert!(rig.registry.requests().expect("log").since(mark).is_empty());
}

#[test]
fn a_registry_out_of_reach_is_a_push_error_and_the_next_publish_completes_the_image() {
    let rig = Rig::start();
    let repo = rig.repository("pub06");
    let built = rig.build(&rig.source(1), "image");
    // A port nothing listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        access_key: Some("test".into()),
        secret_key: Some("test".into()),
        endpoints: ServiceEndpoints {
            ecr: Some(rig.proxy.endpoint()),
            ecr_registry: Some(format!("http://{closed}")),
            ..ServiceEndpoints::default()
        },
        ..AwsSettings::default()
    };
    let clients = rig
        .runtime
        .block_on(AwsClients::connect(&settings))
        .expect("clients");
    let e = rig
        .runtime
        .block_on(publish::publish(
            &clients,
            &repo,
            &built.layout,
            &built.digest,
            &built.tag,
        ))
        .expect_err("nothing listens");
    assert!(matches!(e, PublishError::Push { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("pub06") && text.contains("cannot be reached"),
        "{text}"
    );
    // The registry that is there gets the whole image from the next publish.
    let published = rig.publish(&repo, &built).expect("the next publish");
    assert_eq!(published.blobs_uploaded, 3);
    rig.nothing_missing("pub06", &built);
}

#[test]
fn removing_the_pipeline_s_images_deletes_only_them() {
    let rig = Rig::start();
    let repo = rig.repository("pub04");
    let ours = rig.build(&rig.source(1), "image");
    let published = rig.publish(&repo, &ours).expect("publish");
    // Someone else's image in the same repository.
    let base_layout = rig.work.path().join("base");
    let theirs = format!("{}/pub04:theirs", rig.registry.host());
    Skopeo::new()
        .expect("skopeo")
        .copy_all(
            &format!("oci:{}:{TAG}", base_layout.display()),
            &format!("docker://{theirs}"),
        )
        .expect("skopeo copy");
    assert_eq!(rig.head("pub04", "manifests", "theirs"), 200);

    // moto's ECR alone does not see the pushed image: the delete reports
    // it not found, and the registry keeps it (the emulator's gap).
    rig.remove("pub04", std::slice::from_ref(&published.digest))
        .expect("BatchDeleteImage");
    assert_eq!(rig.head("pub04", "manifests", &published.digest), 200);

    // With ECR's behaviour: a failure first, then the delete goes through.
    rig.proxy.ecr_images_in(Some(rig.registry.addr()));
    rig.proxy.add_rule(
        Rule::on("ecr:BatchDeleteImage")
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let e = rig
        .remove("pub04", std::slice::from_ref(&published.digest))
        .expect_err("the delete fails");
    assert!(matches!(e, PublishError::Remove { .. }), "{e:?}");
    assert_eq!(rig.head("pub04", "manifests", &published.digest), 200);
    rig.remove("pub04", std::slice::from_ref(&published.digest))
        .expect("BatchDeleteImage");
    assert_eq!(rig.head("pub04", "manifests", &published.digest), 404);
    assert!(
        rig.inspect(&published.image_uri).is_err(),
        "gone for skopeo too"
    );
    assert_eq!(
        rig.head("pub04", "manifests", &ours.tag),
        404,
        "its tag went with it"
    );
    assert_eq!(
        rig.head("pub04", "manifests", "theirs"),
        200,
        "theirs stays"
    );
    assert!(
        rig.proxy
            .departures()
            .contains(&Departure::RegistryImagesDeleted(
                "pub04".into(),
                vec![published.digest.clone()]
            )),
        "{:?}",
        rig.proxy.departures()
    );
    // Again: already gone is fine; and nothing to remove makes no call.
    rig.remove("pub04", std::slice::from_ref(&published.digest))
        .expect("already gone");
    let calls = rig.proxy.count("ecr:BatchDeleteImage");
    rig.remove("pub04", &[]).expect("nothing");
    assert_eq!(rig.proxy.count("ecr:BatchDeleteImage"), calls);
}

#[test]
fn the_registry_is_logged_in_to_with_the_credentials_of_get_authorization_token() {
    let registry = Registry::start_with_login("AWS", MOTO_PASSWORD_HASH).expect("registry");
    let rig = Rig::with_registry(registry);
    let repo = rig.repository("pub05");
    let built = rig.build(&rig.source(1), "image");
    // The registry wants the login: anonymous requests are refused.
    assert_eq!(rig.head("pub05", "manifests", &built.digest), 401);
    let target = eventpipe::registry::parse_reference(&format!(
        "{}/pub05:{}",
        rig.registry.host(),
        built.tag
    ))
    .expect("reference");
    let anonymous = eventpipe::registry::Registry::with_credentials(
        rig.registry.host(),
        &eventpipe::registry::Credentials::Anonymous,
    );
    let refused = rig
        .runtime
        .block_on(anonymous.push(&built.layout, &built.digest, &target));
    assert!(refused.is_err(), "{refused:?}");

    let mark = rig.registry.requests().expect("log").len();
    let published = rig
        .publish(&repo, &built)
        .unwrap_or_else(|e| panic!("{e}\n{}", rig.registry.log()));
    let log = rig.registry.requests().expect("log").since(mark);
    assert_eq!(published.blobs_uploaded, 3, "{log:#?}");
    assert_eq!(log.blob_uploads().len(), 3);
    let manifests = log.manifest_pushes();
    assert_eq!(manifests.len(), 1, "{log:#?}");
    assert_eq!(manifests[0].reference, built.tag);
    assert_eq!(rig.proxy.count("ecr:GetAuthorizationToken"), 1);
}

/// ECR deletes a repository with `force` together with its images, pushed
/// ones too; with `ecr_images_in` the proxy deletes them in the tests'
/// registry once moto has deleted the repository. Another repository's
/// images stay.
#[test]
fn a_forced_repository_delete_takes_the_pushed_images_with_it() {
    let rig = Rig::start();
    let repo = rig.repository("pub07");
    let other = rig.repository("pub08");
    let ours = rig.build(&rig.source(1), "image");
    let published = rig.publish(&repo, &ours).expect("publish");
    let kept = rig.publish(&other, &ours).expect("publish");
    rig.proxy.ecr_images_in(Some(rig.registry.addr()));
    rig.runtime
        .block_on(ecr::delete_repository(&rig.clients.ecr, "pub07"))
        .expect("DeleteRepository");
    assert_eq!(rig.head("pub07", "manifests", &published.digest), 404);
    assert_eq!(rig.head("pub07", "manifests", &ours.tag), 404);
    assert!(
        rig.inspect(&published.image_uri).is_err(),
        "gone for skopeo too"
    );
    assert_eq!(rig.head("pub08", "manifests", &kept.digest), 200);
    assert!(
        rig.proxy
            .departures()
            .contains(&Departure::RegistryRepositoryEmptied(
                "pub07".into(),
                vec![published.digest.clone()]
            )),
        "{:?}",
        rig.proxy.departures()
    );
    // moto's own answer stands: the repository is gone there too.
    let gone = rig
        .runtime
        .block_on(ecr::repository(&rig.clients.ecr, "pub07"))
        .expect("DescribeRepositories");
    assert!(gone.is_none());
}
