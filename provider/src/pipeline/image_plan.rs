//! An image's base at plan time: `function.image.base_image` (or the AWS
//! Lambda base image of `runtime`) resolved to the digest of its manifest
//! for `function.architecture`, with the registry client and the image
//! cache (one manifest HEAD when the cache knows the tag; none for a pin it
//! has stored). The digest is `image_base_digest`, and `source_code_hash`
//! covers it, so a base that moved is a change in the plan.

use tfsdk::access::Field;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};

use crate::registry::{self, BlobStore, Registry};

use super::errors::BaseImageError;
use super::package::cache::Cache;
use super::package::image::base::{BaseImage, BaseRef, oci_arch};
use super::state::{Function, PACKAGE_IMAGE, Planning, attr, image_attr, path};

/// What the plan learnt of the base: its digest (`None` when it is not
/// known: a zip, unknown inputs, or an error among `diags`).
#[derive(Debug, Default)]
pub(super) struct BasePlan {
    pub digest: Option<String>,
    pub diags: Diagnostics,
}

/// The base a configuration asks for, when it is an image and everything
/// the base depends on is known.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Ask {
    pub reference: BaseRef,
    /// `base_image` was set (otherwise the default of `runtime`).
    pub given: bool,
    pub runtime: String,
    pub architecture: String,
}

impl Ask {
    pub fn of(f: &Function<Planning>) -> Option<Ask> {
        if f.package_type.as_known().map(String::as_str) != Some(PACKAGE_IMAGE) {
            return None;
        }
        let given = match &f.image {
            Field::Known(i) => match &i.base_image {
                Field::Known(b) => Some(b.clone()),
                Field::Null => None,
                Field::Unknown => return None,
            },
            Field::Null => None,
            Field::Unknown => return None,
        };
        let runtime = f.runtime.as_known()?.clone();
        let architecture = f.architecture.as_known()?.clone();
        Some(Ask {
            reference: match &given {
                Some(b) => BaseRef::parse(b),
                None => BaseRef::aws_default(&runtime),
            },
            given: given.is_some(),
            runtime,
            architecture,
        })
    }

    /// Where a diagnostic about the base goes: the attribute that named it.
    pub fn at(&self) -> AttrPath {
        if self.given {
            base_image_path()
        } else {
            path::function(attr::RUNTIME)
        }
    }
}

/// `function.image.base_image`.
pub(super) fn base_image_path() -> AttrPath {
    AttrPath::attrs([attr::FUNCTION, attr::IMAGE, image_attr::BASE_IMAGE])
}

/// Resolves the base of `f` when it is an image with known inputs: its
/// digest, or the diagnostics that say why not (an error), with the
/// warnings of a stale answer or a base that is not AWS's.
pub(super) async fn resolve(f: &Function<Planning>) -> BasePlan {
    let Some(ask) = Ask::of(f) else {
        return BasePlan::default();
    };
    let mut diags = Diagnostics::new();
    if let Some(w) = not_aws_warning(&ask) {
        diags.push(w);
    }
    let digest = match lookup(&ask, Cache::from_env().as_ref()).await {
        Ok((digest, stale)) => {
            if let Some(stale) = stale {
                diags.push(
                    Diagnostic::warning(
                        "Base image digest from the cache",
                        format!("{}: {stale}.", ask.reference),
                    )
                    .at(ask.at()),
                );
            }
            Some(digest)
        }
        Err(e) => {
            let at = if e.no_platform() {
                path::function(attr::ARCHITECTURE)
            } else {
                ask.at()
            };
            diags.push(Diagnostic::from(&e).at(at));
            None
        }
    };
    BasePlan { digest, diags }
}

/// The platform manifest's digest of `ask`'s base, and the stale warning
/// when the cache answered for an unreachable registry.
async fn lookup(
    ask: &Ask,
    cache: Option<&Cache>,
) -> Result<(String, Option<registry::Stale>), BaseImageError> {
    let reference = ask.reference.to_string();
    let r = match &ask.reference {
        BaseRef::Layout { path, name } => {
            return BaseImage::from_layout(path, name.as_deref(), &ask.architecture)
                .map(|b| (b.manifest_digest, None))
                .map_err(|e| BaseImageError::Layout {
                    reference,
                    message: e.to_string(),
                });
        }
        BaseRef::Registry(r) => r,
    };
    let registry_err = |source| BaseImageError::Registry {
        reference: reference.clone(),
        source,
    };
    let Some(cache) = cache else {
        return Err(BaseImageError::NoCache { reference });
    };
    let parsed = registry::parse_reference(r).map_err(registry_err)?;
    let store = BlobStore::at(cache.images_dir());
    let client = Registry::for_reference(&parsed);
    let arch = oci_arch(&ask.architecture).to_string();
    let resolved = client
        .resolve(&store, &parsed, &arch)
        .await
        .map_err(registry_err)?;
    Ok((resolved.manifest_digest, resolved.stale))
}

/// Whether `reference` is AWS's Lambda base image for `runtime`: in
/// `public.ecr.aws/lambda/<family>` (or an ECR pull-through cache of it,
/// `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/lambda/<family>`),
/// with the runtime's version as its tag (or a dated or per-architecture
/// tag of that version, or a digest).
pub(super) fn is_aws_base(reference: &str, runtime: &str) -> bool {
    let BaseRef::Registry(default) = BaseRef::aws_default(runtime) else {
        return false;
    };
    let Some((repo, version)) = default
        .strip_prefix("public.ecr.aws/")
        .and_then(|r| r.rsplit_once(':'))
    else {
        return false;
    };
    let Ok(given) = registry::parse_reference(reference) else {
        return false;
    };
    let host = given.registry();
    let in_repo = (host == "public.ecr.aws" && given.repository() == repo)
        || (host.contains(".dkr.ecr.")
            && host.ends_with(".amazonaws.com")
            && given.repository().ends_with(&format!("/{repo}")));
    let tagged = match given.tag() {
        None => given.digest().is_some(),
        Some(t) => {
            t == version
                || t.strip_prefix(version)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-'))
        }
    };
    in_repo && tagged
}

/// The warning for a given base that is not AWS's for `runtime`.
fn not_aws_warning(ask: &Ask) -> Option<Diagnostic> {
    let BaseRef::Registry(r) = &ask.reference else {
        return None;
    };
    if !ask.given || is_aws_base(r, &ask.runtime) {
        return None;
    }
    let BaseRef::Registry(aws) = BaseRef::aws_default(&ask.runtime) else {
        return None;
    };
    Some(
        Diagnostic::warning(
            "Base image is not an AWS Lambda base image",
            format!(
                "{r} is not the AWS Lambda base image of runtime {:?} ({aws}). The function \
                 may not start unless the image has the Lambda runtime interface client as its \
                 entry point; `runtime` then only picks the platform the dependencies are \
                 installed for.",
                ask.runtime
            ),
        )
        .at(base_image_path()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::state::State;
    use tfsdk::value::Value;

    fn function(fields: Vec<(&'static str, Value)>) -> Function<Planning> {
        let mut f = vec![
            (attr::SOURCE_DIR, Value::from("/src")),
            (attr::RUNTIME, Value::from("python3.13")),
            (attr::ARCHITECTURE, Value::from("arm64")),
            (attr::PACKAGE_TYPE, Value::from(PACKAGE_IMAGE)),
        ];
        for (k, v) in fields {
            f.retain(|(n, _)| *n != k);
            f.push((k, v));
        }
        let cfg = Value::object([
            (attr::NAME, Value::from("p")),
            (attr::FUNCTION, Value::object(f)),
        ]);
        State::<Planning>::from_value(&cfg)
            .expect("a configuration")
            .function
    }

    fn image(base: Value) -> Value {
        Value::object([(image_attr::BASE_IMAGE, base)])
    }

    #[test]
    fn the_default_base_is_awss_for_the_runtime_and_blamed_on_it() {
        let a = Ask::of(&function(vec![])).unwrap();
        assert_eq!(
            a.reference,
            BaseRef::Registry("public.ecr.aws/lambda/python:3.13".into())
        );
        assert!(!a.given);
        assert_eq!(a.at(), path::function(attr::RUNTIME));
        assert_eq!(a.architecture, "arm64");
        let a = Ask::of(&function(vec![(
            attr::IMAGE,
            image(Value::from("127.0.0.1:5000/base:1")),
        )]))
        .unwrap();
        assert!(a.given);
        assert_eq!(a.at(), base_image_path());
    }

    #[test]
    fn a_zip_or_unknown_inputs_ask_for_nothing() {
        assert!(Ask::of(&function(vec![(attr::PACKAGE_TYPE, Value::from("zip"))])).is_none());
        assert!(Ask::of(&function(vec![(attr::PACKAGE_TYPE, Value::Unknown)])).is_none());
        assert!(Ask::of(&function(vec![(attr::RUNTIME, Value::Unknown)])).is_none());
        assert!(Ask::of(&function(vec![(attr::ARCHITECTURE, Value::Unknown)])).is_none());
        assert!(Ask::of(&function(vec![(attr::IMAGE, image(Value::Unknown))])).is_none());
        assert!(Ask::of(&function(vec![(attr::IMAGE, Value::Unknown)])).is_none());
    }

    #[test]
    fn aws_bases_are_told_from_others() {
        for (r, rt) in [
            ("public.ecr.aws/lambda/python:3.13", "python3.13"),
            (
                "public.ecr.aws/lambda/python:3.13.2025.01.09.09",
                "python3.13",
            ),
            ("public.ecr.aws/lambda/python:3.13-arm64", "python3.13"),
            ("public.ecr.aws/lambda/nodejs:22", "nodejs22.x"),
            (
                "public.ecr.aws/lambda/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "python3.13",
            ),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public/lambda/python:3.13",
                "python3.13",
            ),
        ] {
            assert!(is_aws_base(r, rt), "{r} for {rt}");
        }
        for (r, rt) in [
            ("public.ecr.aws/lambda/python:3.12", "python3.13"),
            ("public.ecr.aws/lambda/python:3.1", "python3.13"),
            ("public.ecr.aws/lambda/nodejs:22", "python3.13"),
            ("python:3.13", "python3.13"),
            ("127.0.0.1:5000/lambda/python:3.13", "python3.13"),
            ("public.ecr.aws/other/lambda/python:3.13", "python3.13"),
        ] {
            assert!(!is_aws_base(r, rt), "{r} for {rt}");
        }
    }

    #[test]
    fn another_base_gets_the_warning_on_base_image() {
        let a = Ask::of(&function(vec![(
            attr::IMAGE,
            image(Value::from("docker.io/library/python:3.13-slim")),
        )]))
        .unwrap();
        let w = not_aws_warning(&a).expect("a warning");
        assert!(!w.is_error());
        assert_eq!(w.path, Some(base_image_path()));
        assert!(
            w.detail.contains("runtime interface client"),
            "{}",
            w.detail
        );
        assert!(w.detail.contains("public.ecr.aws/lambda/python:3.13"));
        assert!(not_aws_warning(&Ask::of(&function(vec![])).unwrap()).is_none());
    }

    #[tokio::test]
    async fn an_unreachable_registry_with_nothing_cached_is_an_error_naming_it() {
        let cache = tempfile::tempdir().unwrap();
        // A port nothing listens on, on this machine.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let a = Ask::of(&function(vec![(
            attr::IMAGE,
            image(Value::from(format!("127.0.0.1:{port}/base:1"))),
        )]))
        .unwrap();
        let e = lookup(&a, Some(&Cache::at(cache.path())))
            .await
            .unwrap_err();
        let d = Diagnostic::from(&e);
        assert!(d.is_error());
        assert!(
            d.detail.contains(&format!("127.0.0.1:{port}")),
            "{}",
            d.detail
        );
        assert!(!e.no_platform());
        let e = lookup(&a, None).await.unwrap_err();
        assert!(e.to_string().contains("EVENTPIPE_CACHE_DIR"), "{e}");
    }
}
