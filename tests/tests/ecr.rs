//! The provider's ECR wrappers (`eventpipe::aws::ecr`) against moto, each
//! call read back with the tests' own client. The provider reaches moto
//! through the fault proxy, by `endpoints.ecr` alone (no `endpoint_url`),
//! so every call here is also one the proxy names, records and can fail.
//!
//! moto 5.2.5 serves ECR's control plane but no registry, so the images
//! here are manifests stored with ECR's `PutImage`, not pushed blobs.

use std::collections::BTreeMap;

mod common;

use eventpipe::aws::{AwsClients, ecr};
use eventpipe::pipeline::ecr_policy;
use tests::fault_proxy::{Fault, FaultProxy, Rule};
use tests::{Aws, Moto};

const ACCOUNT: &str = "123456789012";
const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
/// `endpoints.ecr_registry`: carried for the registry client, used by no
/// ECR call.
const REGISTRY_SETTING: &str = "http://127.0.0.1:9";

/// moto, the proxy in front of it, the provider's clients (ECR through the
/// proxy) and the independent client (straight to moto).
struct Rig {
    _moto: Moto,
    proxy: FaultProxy,
    clients: AwsClients,
    runtime: tokio::runtime::Runtime,
    aws: Aws,
}

impl Rig {
    fn start() -> Rig {
        let moto = Moto::start().expect("moto");
        let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
        let (runtime, clients) =
            common::image::ecr_clients(proxy.endpoint(), REGISTRY_SETTING.into());
        let aws = Aws::new(&moto.endpoint()).expect("independent client");
        Rig {
            _moto: moto,
            proxy,
            clients,
            runtime,
            aws,
        }
    }

    fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }

    fn ecr(&self) -> &aws_sdk_ecr::Client {
        &self.clients.ecr
    }

    fn create(&self, name: &str, tags: &BTreeMap<String, String>) -> ecr::Repository {
        self.run(ecr::create_repository(self.ecr(), name, true, tags))
            .expect("CreateRepository")
            .expect("a new repository")
    }
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An OCI manifest with one layer, distinct per `seed`.
fn manifest(seed: char) -> String {
    let digest = format!("sha256:{}", seed.to_string().repeat(64));
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

#[test]
fn a_repository_is_made_with_its_tags_and_scan_on_push_and_read_back() {
    let rig = Rig::start();
    assert_eq!(rig.clients.ecr_registry.as_deref(), Some(REGISTRY_SETTING));
    let want = tags(&[("eventpipe:pipeline", "ec01"), ("team", "data")]);
    let made = rig.create("ec01", &want);
    assert_eq!(made.name, "ec01");
    assert_eq!(made.registry_id, ACCOUNT);
    assert_eq!(made.uri, format!("{REGISTRY}/ec01"));
    assert_eq!(made.registry_host(), REGISTRY);
    assert!(made.scan_on_push);

    let facts = rig.aws.repository("ec01").expect("read").expect("exists");
    assert_eq!(facts.arn, made.arn);
    assert_eq!(facts.uri, made.uri);
    assert!(facts.scan_on_push);
    assert_eq!(facts.tags, want, "the tags came with the create");

    let described = rig
        .run(ecr::repository(rig.ecr(), "ec01"))
        .expect("DescribeRepositories");
    assert_eq!(described, Some(made.clone()));
    assert_eq!(
        rig.run(ecr::repository(rig.ecr(), "ec01-missing"))
            .expect("a missing repository is no error"),
        None
    );
    // A second create of the name says so, for the ownership check.
    assert_eq!(
        rig.run(ecr::create_repository(
            rig.ecr(),
            "ec01",
            false,
            &BTreeMap::new()
        ))
        .expect("no error"),
        None
    );
    assert!(
        rig.aws
            .repository("ec01")
            .expect("read")
            .expect("exists")
            .scan_on_push
    );
    assert_eq!(rig.proxy.count("ecr:CreateRepository"), 2);
    assert_eq!(rig.proxy.count("ecr:DescribeRepositories"), 2);
}

#[test]
fn tags_are_synced_to_exactly_the_wanted_set() {
    let rig = Rig::start();
    let first = tags(&[("eventpipe:pipeline", "ec02"), ("old", "1"), ("team", "a")]);
    let repo = rig.create("ec02", &first);
    let read = rig
        .run(ecr::tags(rig.ecr(), &repo.arn))
        .expect("ListTagsForResource");
    assert_eq!(read.as_ref(), Some(&first));

    let want = tags(&[("eventpipe:pipeline", "ec02"), ("team", "b"), ("new", "2")]);
    rig.run(ecr::sync_tags(rig.ecr(), &repo.arn, &first, &want))
        .expect("sync");
    assert_eq!(
        rig.aws
            .repository("ec02")
            .expect("read")
            .expect("exists")
            .tags,
        want
    );
    assert_eq!(rig.proxy.count("ecr:UntagResource"), 1);
    assert_eq!(rig.proxy.count("ecr:TagResource"), 1);

    // Nothing to change: no call.
    rig.run(ecr::sync_tags(rig.ecr(), &repo.arn, &want, &want))
        .expect("sync");
    assert_eq!(rig.proxy.count("ecr:TagResource"), 1);

    rig.run(ecr::delete_repository(rig.ecr(), "ec02"))
        .expect("delete");
    assert_eq!(
        rig.run(ecr::tags(rig.ecr(), &repo.arn))
            .expect("gone is no error"),
        None
    );
}

#[test]
fn the_lifecycle_and_repository_policies_round_trip() {
    let rig = Rig::start();
    rig.create("ec03", &BTreeMap::new());
    assert_eq!(
        rig.run(ecr::lifecycle_policy(rig.ecr(), "ec03"))
            .expect("none is no error"),
        None
    );
    assert_eq!(
        rig.run(ecr::repository_policy(rig.ecr(), "ec03"))
            .expect("none is no error"),
        None
    );

    let lifecycle = ecr_policy::lifecycle_policy(10);
    rig.run(ecr::put_lifecycle_policy(rig.ecr(), "ec03", &lifecycle))
        .expect("PutLifecyclePolicy");
    let function = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:ec03-fn");
    let policy = ecr_policy::repository_policy(&function);
    rig.run(ecr::set_repository_policy(rig.ecr(), "ec03", &policy))
        .expect("SetRepositoryPolicy");

    // Read back independently: moto keeps the text as sent (AWS may not,
    // which is why drift compares meaning).
    let stored = rig
        .aws
        .lifecycle_policy("ec03")
        .expect("read")
        .expect("set");
    assert_eq!(stored, lifecycle);
    let stored = rig
        .aws
        .repository_policy("ec03")
        .expect("read")
        .expect("set");
    assert_eq!(stored, policy);

    let read = rig
        .run(ecr::lifecycle_policy(rig.ecr(), "ec03"))
        .expect("GetLifecyclePolicy")
        .expect("set");
    assert!(ecr_policy::same_lifecycle_policy(&read, &lifecycle));
    assert!(!ecr_policy::same_lifecycle_policy(
        &read,
        &ecr_policy::lifecycle_policy(3)
    ));
    let read = rig
        .run(ecr::repository_policy(rig.ecr(), "ec03"))
        .expect("GetRepositoryPolicy")
        .expect("set");
    assert!(ecr_policy::same_repository_policy(&read, &policy));

    // A changed lifecycle policy (drift) reads back as changed.
    rig.run(ecr::put_lifecycle_policy(
        rig.ecr(),
        "ec03",
        &ecr_policy::lifecycle_policy(3),
    ))
    .expect("PutLifecyclePolicy");
    let read = rig
        .run(ecr::lifecycle_policy(rig.ecr(), "ec03"))
        .expect("GetLifecyclePolicy")
        .expect("set");
    assert!(!ecr_policy::same_lifecycle_policy(&read, &lifecycle));
}

#[test]
fn registry_credentials_are_decoded_with_the_registry_s_endpoint() {
    let rig = Rig::start();
    let creds = rig
        .run(ecr::registry_credentials(rig.ecr()))
        .expect("GetAuthorizationToken");
    assert_eq!(creds.username, "AWS");
    assert!(!creds.password.is_empty());
    assert_eq!(creds.proxy_endpoint, format!("https://{REGISTRY}"));
    // moto's token "expires" on 2015-01-01, long past (AWS: 12 hours
    // ahead): a client that renews by the expiry must not loop on it.
    let expires = creds.expires_at.expect("an expiry");
    assert_eq!(
        expires,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_420_070_400)
    );
    let repo = rig.create("ec04", &BTreeMap::new());
    assert_eq!(
        creds.proxy_endpoint.strip_prefix("https://"),
        Some(repo.registry_host()),
        "the token's registry is the repository's host"
    );
    assert!(!format!("{creds:?}").contains(&creds.password));
    assert_eq!(rig.proxy.count("ecr:GetAuthorizationToken"), 1);
}

#[test]
fn images_are_listed_and_deleted_by_digest() {
    let rig = Rig::start();
    rig.create("ec05", &BTreeMap::new());
    let a = rig
        .aws
        .put_image("ec05", &manifest('a'), "one")
        .expect("PutImage");
    let b = rig
        .aws
        .put_image("ec05", &manifest('b'), "two")
        .expect("PutImage");
    assert_ne!(a, b);

    let mut listed = rig
        .run(ecr::images(rig.ecr(), "ec05"))
        .expect("ListImages")
        .expect("the repository exists");
    listed.sort();
    let independent: Vec<ecr::Image> = rig
        .aws
        .images("ec05")
        .expect("read")
        .into_iter()
        .map(|(digest, tag)| ecr::Image { digest, tag })
        .collect();
    assert_eq!(listed, independent);
    assert_eq!(listed.len(), 2);

    // In pages of one, as ECR would hand them out (moto gives every image
    // at once): the wrapper follows the token to the end.
    rig.proxy.page_ecr_lists(Some(1));
    let before = rig.proxy.count("ecr:ListImages");
    let mut paged = rig
        .run(ecr::images(rig.ecr(), "ec05"))
        .expect("ListImages")
        .expect("the repository exists");
    paged.sort();
    assert_eq!(paged, independent);
    assert_eq!(
        rig.proxy.count("ecr:ListImages") - before,
        2,
        "one call per page"
    );
    rig.proxy.page_ecr_lists(None);

    // A digest already gone is fine.
    let gone = format!("sha256:{}", "f".repeat(64));
    rig.run(ecr::delete_images(rig.ecr(), "ec05", &[a.clone(), gone]))
        .expect("BatchDeleteImage");
    let left = rig.aws.images("ec05").expect("read");
    assert_eq!(left, vec![(b.clone(), Some("two".to_owned()))]);

    assert_eq!(
        rig.run(ecr::images(rig.ecr(), "ec05-missing"))
            .expect("no error"),
        None
    );
}

#[test]
fn a_repository_with_images_is_deleted_by_force_and_a_second_delete_is_fine() {
    let rig = Rig::start();
    rig.create("ec06", &BTreeMap::new());
    rig.aws
        .put_image("ec06", &manifest('c'), "v1")
        .expect("PutImage");
    let before = rig.aws.list_everything().expect("inventory");
    assert_eq!(before.repositories, vec!["ec06".to_owned()]);
    assert!(!before.is_empty());
    rig.run(ecr::delete_repository(rig.ecr(), "ec06"))
        .expect("DeleteRepository");
    assert_eq!(rig.aws.repository("ec06").expect("read"), None);
    let left = rig.aws.list_everything().expect("inventory");
    assert!(left.is_empty(), "left behind: {left}");
    rig.run(ecr::delete_repository(rig.ecr(), "ec06"))
        .expect("deleting a repository that is gone is fine");
    assert_eq!(rig.proxy.count("ecr:DeleteRepository"), 2);
}

#[test]
fn scan_on_push_is_turned_off_and_on() {
    let rig = Rig::start();
    rig.create("ec07", &BTreeMap::new());
    let scans = || {
        rig.aws
            .repository("ec07")
            .expect("read")
            .expect("exists")
            .scan_on_push
    };
    // The SDK sends `false` as an empty configuration (the model's
    // default), which ECR reads as off. moto 5.2.5 ignores it: pinned here,
    // so a moto that fixes it shows.
    rig.run(ecr::set_scan_on_push(rig.ecr(), "ec07", false))
        .expect("PutImageScanningConfiguration");
    assert!(
        scans(),
        "moto keeps scan on push on when the SDK sends false"
    );

    // With the proxy reading it as ECR does, off is off.
    rig.proxy.ecr_scan_default(true);
    rig.run(ecr::set_scan_on_push(rig.ecr(), "ec07", false))
        .expect("PutImageScanningConfiguration");
    assert!(!scans());
    rig.run(ecr::set_scan_on_push(rig.ecr(), "ec07", true))
        .expect("PutImageScanningConfiguration");
    assert!(scans());
    assert_eq!(rig.proxy.count("ecr:PutImageScanningConfiguration"), 3);
}

#[test]
fn ecr_calls_can_be_failed_by_the_fault_proxy() {
    let rig = Rig::start();
    rig.proxy.add_rule(
        Rule::on("ecr:CreateRepository")
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let e = rig
        .run(ecr::create_repository(
            rig.ecr(),
            "ec08",
            true,
            &BTreeMap::new(),
        ))
        .expect_err("the first create is denied");
    let text = e.to_string();
    assert!(text.starts_with("ecr:CreateRepository: "), "{text}");
    assert_eq!(e.status(), Some(403), "{text}");
    assert_eq!(rig.aws.repository("ec08").expect("read"), None);
    rig.create("ec08", &BTreeMap::new());

    // A 5xx is retried by the SDK, and the call then succeeds.
    rig.proxy.add_rule(
        Rule::on("ecr:PutLifecyclePolicy")
            .nth(1)
            .fail(Fault::InternalError),
    );
    rig.run(ecr::put_lifecycle_policy(
        rig.ecr(),
        "ec08",
        &ecr_policy::lifecycle_policy(5),
    ))
    .expect("retried");
    assert_eq!(rig.proxy.count("ecr:PutLifecyclePolicy"), 2);
    assert_eq!(
        rig.aws.lifecycle_policy("ec08").expect("read"),
        Some(ecr_policy::lifecycle_policy(5))
    );
}
