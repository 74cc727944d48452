//! The `provider "eventpipe"` block: its schema and typed settings.

use std::collections::BTreeMap;

use crate::aws::{AwsSettings, ServiceEndpoints};
use tfsdk::access::{AccessError, Field, Obj};
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::schema::{Attribute, Block, NestedBlock, Schema, Validator};
use tfsdk::value::Value;

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block::new(
            "Creates S3 → Lambda event pipelines. Settings left unset fall back to the standard \
             AWS environment variables and shared config files, as the AWS SDKs do.",
        )
        .attr(Attribute::string("region").optional().describe(
            "AWS region, e.g. `eu-west-1`. Defaults to `AWS_REGION`, `AWS_DEFAULT_REGION` or \
             the profile's region.",
        ))
        .attr(Attribute::string("profile").optional().describe(
            "Named profile from the shared config and credentials files. Defaults to \
             `AWS_PROFILE`.",
        ))
        .attr(Attribute::string("access_key").optional().describe(
            "Access key id. Set together with `secret_key`; otherwise credentials come from \
             the environment, the profile, SSO or the instance role.",
        ))
        .attr(
            Attribute::string("secret_key")
                .optional()
                .sensitive()
                .describe("Secret access key, used with `access_key`. Sensitive."),
        )
        .attr(
            Attribute::string("endpoint_url")
                .optional()
                .describe(
                    "One endpoint for every AWS service, for emulators such as the moto \
                     server or for proxies, e.g. `http://127.0.0.1:5000`. Defaults to \
                     `AWS_ENDPOINT_URL`.",
                )
                .validate(url_validator()),
        )
        .attr(Attribute::bool("s3_use_path_style").optional().describe(
            "Address S3 buckets in the path (`http://host/bucket`) rather than the host name. \
             Defaults to `true` when the S3 endpoint is an IP address or `localhost`, `false` \
             otherwise.",
        ))
        .attr(
            Attribute::number("max_retries")
                .optional()
                .describe(
                    "How many times a failed or throttled AWS call is retried (standard retry \
                     mode with backoff). Defaults to 5.",
                )
                .validate(Validator::IntBetween(0, 100)),
        )
        .attr(Attribute::string_map("default_tags").optional().describe(
            "Tags applied to everything every pipeline of this provider creates; a \
             pipeline's own `tags` win on conflicts.",
        ))
        .attr(Attribute::bool("validate_credentials").optional().describe(
            "When `true`, the provider checks its credentials with STS `GetCallerIdentity` \
             when it is configured. By default no AWS call is made at configure time.",
        ))
        .block(NestedBlock::single_optional("endpoints", endpoints_block())),
    }
}

const SERVICES: [&str; 11] = [
    "s3",
    "lambda",
    "iam",
    "sts",
    "kinesis",
    "logs",
    "sqs",
    "ecr",
    "cloudwatch",
    "sns",
    "kms",
];

/// The registry host setting in `endpoints` (not an AWS API endpoint).
const ECR_REGISTRY: &str = "ecr_registry";

fn endpoints_block() -> Block {
    let mut b = Block::new("Per-service endpoint overrides; each wins over `endpoint_url`.");
    for service in SERVICES {
        b = b.attr(
            Attribute::string(service)
                .optional()
                .describe(match service {
                    "s3" => "Endpoint for S3.",
                    "lambda" => "Endpoint for Lambda.",
                    "iam" => "Endpoint for IAM.",
                    "sts" => "Endpoint for STS.",
                    "kinesis" => "Endpoint for Kinesis.",
                    "sqs" => "Endpoint for SQS.",
                    "ecr" => {
                        "Endpoint for ECR's control plane (repositories, their policies, \
                         registry credentials)."
                    }
                    "cloudwatch" => "Endpoint for CloudWatch metrics and alarms.",
                    "sns" => "Endpoint for SNS (the alarms' topic).",
                    "kms" => "Endpoint for KMS (the plan's look at encryption keys).",
                    _ => "Endpoint for CloudWatch Logs.",
                })
                .validate(url_validator()),
        );
    }
    b.attr(
        Attribute::string(ECR_REGISTRY)
            .optional()
            .describe(
                "The container registry images are pushed to and Lambda pulls from, in place \
                 of the repository's own host (`<account>.dkr.ecr.<region>.amazonaws.com`), \
                 e.g. a local registry for tests. Unset, images go to the repository's own \
                 host.",
            )
            .validate(Validator::Custom {
                doc: "A URL with a host (and port) and no path: `https://`, or `http://` for a \
                      loopback address.",
                check: check_registry_url,
            }),
    )
}

/// `endpoints.ecr_registry`: a URL of a host and nothing else, plain HTTP
/// only on loopback (registry credentials would otherwise cross the network
/// in clear text).
fn check_registry_url(value: &Value) -> Result<(), String> {
    check_url(value)?;
    let s = value.as_str().ok_or("expected a string")?;
    let (scheme, rest) = s.split_once("://").ok_or("expected a URL")?;
    let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if !path.is_empty() && path != "/" {
        return Err(format!(
            "{s:?} has a path; give the registry's host (and port) only"
        ));
    }
    if scheme == "http" && !is_loopback_host(authority) {
        return Err(format!(
            "{s:?} uses plain HTTP on a host that is not a loopback address; use https://"
        ));
    }
    Ok(())
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback_host(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_url(value: &Value) -> Result<(), String> {
    let s = value.as_str().ok_or("expected a string")?;
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("{s:?} is not an http:// or https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("{s:?} has no host"));
    }
    Ok(())
}

fn url_validator() -> Validator {
    Validator::Custom {
        doc: "An `http://` or `https://` URL.",
        check: check_url,
    }
}

/// The provider block, read.
#[derive(Clone, Debug, Default)]
pub struct ProviderSettings {
    pub aws: AwsSettings,
    pub default_tags: BTreeMap<String, String>,
    pub validate_credentials: bool,
}

impl ProviderSettings {
    /// Reads the provider configuration. Unknown values cannot be used to
    /// configure clients, so they are reported against their attribute.
    pub fn from_value(config: &Value) -> Result<ProviderSettings, Diagnostics> {
        let mut diags = Diagnostics::new();
        let settings = read(config, &mut diags).map_err(|e| Diagnostics::from(Diagnostic::from(e)));
        match settings {
            Ok(s) if !diags.has_errors() => Ok(s),
            Ok(_) => Err(diags),
            Err(mut d) => {
                d.extend(diags);
                Err(d)
            }
        }
    }
}

fn known<T>(field: Field<T>, path: AttrPath, diags: &mut Diagnostics) -> Option<T> {
    match field {
        Field::Known(v) => Some(v),
        Field::Null => None,
        Field::Unknown => {
            diags.push(
                Diagnostic::error(
                    "Provider setting not known yet",
                    format!(
                        "`{path}` depends on a value that is only known after apply; the \
                         provider needs it to be known when it is configured."
                    ),
                )
                .at(path),
            );
            None
        }
    }
}

fn read(config: &Value, diags: &mut Diagnostics) -> Result<ProviderSettings, AccessError> {
    let Some(obj) = Obj::new(config, AttrPath::root())? else {
        return Ok(ProviderSettings::default());
    };
    let p = |n: &str| AttrPath::attrs([n]);
    let mut s = ProviderSettings::default();
    s.aws.region = known(obj.string("region")?, p("region"), diags);
    s.aws.profile = known(obj.string("profile")?, p("profile"), diags);
    s.aws.access_key = known(obj.string("access_key")?, p("access_key"), diags);
    s.aws.secret_key = known(obj.string("secret_key")?, p("secret_key"), diags);
    s.aws.endpoint_url = known(obj.string("endpoint_url")?, p("endpoint_url"), diags);
    s.aws.s3_use_path_style = known(
        obj.bool("s3_use_path_style")?,
        p("s3_use_path_style"),
        diags,
    );
    s.aws.max_retries = known(obj.int("max_retries")?, p("max_retries"), diags)
        .map(|n| u32::try_from(n.clamp(0, 100)).unwrap_or(0));
    s.default_tags =
        known(obj.string_map("default_tags")?, p("default_tags"), diags).unwrap_or_default();
    s.validate_credentials = known(
        obj.bool("validate_credentials")?,
        p("validate_credentials"),
        diags,
    )
    .unwrap_or(false);
    if let Field::Known(ep) = obj.object("endpoints")? {
        let mut e = ServiceEndpoints::default();
        for service in SERVICES {
            let path = AttrPath::attrs(["endpoints", service]);
            let url = known(ep.string(service)?, path, diags);
            match service {
                "s3" => e.s3 = url,
                "lambda" => e.lambda = url,
                "iam" => e.iam = url,
                "sts" => e.sts = url,
                "kinesis" => e.kinesis = url,
                "sqs" => e.sqs = url,
                "ecr" => e.ecr = url,
                "cloudwatch" => e.cloudwatch = url,
                "sns" => e.sns = url,
                "kms" => e.kms = url,
                _ => e.logs = url,
            }
        }
        e.ecr_registry = known(
            ep.string(ECR_REGISTRY)?,
            AttrPath::attrs(["endpoints", ECR_REGISTRY]),
            diags,
        )
        .map(|url| url.trim_end_matches('/').to_owned());
        s.aws.endpoints = e;
    }
    match (&s.aws.access_key, &s.aws.secret_key) {
        (Some(_), None) | (None, Some(_)) => diags.push(
            Diagnostic::error(
                "Incomplete static credentials",
                "`access_key` and `secret_key` must be set together (or neither, to use the \
                 environment, a profile or an instance role).",
            )
            .at(p(if s.aws.access_key.is_some() {
                "secret_key"
            } else {
                "access_key"
            })),
        ),
        (Some(_), Some(_)) if s.aws.profile.is_some() => diags.push(
            Diagnostic::error(
                "Conflicting credentials settings",
                "Set either `profile` or `access_key`/`secret_key`, not both.",
            )
            .at(p("profile")),
        ),
        _ => {}
    }
    if let Some(region) = &s.aws.region
        && !is_region_name(region)
    {
        diags.push(
            Diagnostic::error(
                "Invalid AWS region",
                format!("{region:?} is not a region name such as `us-east-1` or `eu-west-2`."),
            )
            .at(p("region")),
        );
    }
    Ok(s)
}

/// `xx-name-N` style region names (`us-east-1`, `us-gov-west-1`, `eu-isoe-west-1`).
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "eu-west-2",
            "us-gov-west-1",
            "ap-southeast-5",
            "eu-isoe-west-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in ["", "us-east", "US-EAST-1", "useast1", "us-east-1a", "us--1"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert!(check_url(&Value::String("http://127.0.0.1:5000".into())).is_ok());
        assert!(check_url(&Value::String("https://s3.example.com/".into())).is_ok());
        assert!(check_url(&Value::String("127.0.0.1:5000".into())).is_err());
        assert!(check_url(&Value::String("http://".into())).is_err());
    }

    #[test]
    fn the_registry_is_a_host_with_plain_http_only_on_loopback() {
        let check = |s: &str| check_registry_url(&Value::String(s.into()));
        for ok in [
            "https://registry.example.com",
            "https://registry.example.com:5000/",
            "http://127.0.0.1:5000",
            "http://localhost:5000",
            "http://[::1]:5000",
        ] {
            assert!(check(ok).is_ok(), "{ok}: {:?}", check(ok));
        }
        let e = check("http://registry.example.com:5000").expect_err("plain HTTP");
        assert!(e.contains("not a loopback address"), "{e}");
        let e = check("https://registry.example.com/v2/app").expect_err("a path");
        assert!(e.contains("has a path"), "{e}");
        assert!(check("registry.example.com").is_err());
    }

    #[test]
    fn endpoints_read_ecr_and_the_registry() {
        let endpoints = Value::object([
            ("ecr", Value::String("http://127.0.0.1:7000".into())),
            (
                "ecr_registry",
                Value::String("http://127.0.0.1:7001/".into()),
            ),
        ]);
        let config = Value::object([("endpoints", endpoints)]);
        let s = ProviderSettings::from_value(&config).expect("reads");
        assert_eq!(
            s.aws.endpoints.ecr.as_deref(),
            Some("http://127.0.0.1:7000")
        );
        assert_eq!(
            s.aws.endpoints.ecr_registry.as_deref(),
            Some("http://127.0.0.1:7001")
        );
        assert_eq!(s.aws.endpoints.lambda, None);
    }
}
