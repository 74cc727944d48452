//! Rules on one value, used by the schema's validators and by `validate/`:
//! names, ARNs, retention days, record ages, bucket names. They read no
//! state, so the declaration table in `state.rs` can name them.

use tfsdk::schema::Validator;

/// The longest `name`: `<name>-role` must fit IAM's 64 characters.
pub const MAX_NAME_LEN: usize = 59;

/// Why `name` cannot name the function and the role, if it cannot.
pub fn name_problem(name: &str) -> Result<(), String> {
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'));
    if !name.is_empty() && name.len() <= MAX_NAME_LEN && bad.is_none() {
        return Ok(());
    }
    let why = match bad {
        Some(c) => format!("it contains {c:?}"),
        None => format!("it is {} characters long", name.len()),
    };
    Err(format!(
        "{name:?} cannot name the function and the role: {why}. Use 1 to {MAX_NAME_LEN} \
         letters, digits, `-` and `_` (the role is `<name>-role`, and IAM allows 64 characters)"
    ))
}

pub fn name_validator() -> Validator {
    Validator::Custom {
        doc: "1 to 59 letters, digits, `-` and `_` (so `<name>-role` fits IAM's 64 characters).",
        check: |v| name_problem(v.as_str().unwrap_or_default()),
    }
}

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub fn retention_validator() -> Validator {
    Validator::Custom {
        doc: "One of the periods CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, \
              180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653.",
        check: |v| {
            let n = v
                .as_number()
                .and_then(|n| n.as_i64())
                .ok_or("expected a whole number")?;
            if RETENTION_DAYS.contains(&n) {
                return Ok(());
            }
            let near = RETENTION_DAYS
                .iter()
                .min_by_key(|d| (**d - n).abs())
                .copied()
                .unwrap_or(30);
            Err(format!(
                "{n} days is not a retention CloudWatch Logs accepts (the nearest is {near}); \
                 use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, \
                 1827, 2192, 2557, 2922, 3288, 3653"
            ))
        },
    }
}

/// `arn:<partition>:sqs:<region>:<account>:<name>`.
pub fn queue_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sqs"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not an SQS queue ARN such as arn:aws:sqs:us-east-1:123456789012:failed"
        ))
    }
}

pub fn kms_key_arn_validator() -> Validator {
    Validator::Custom {
        doc: "A KMS key ARN, `arn:aws:kms:<region>:<account>:key/<id>`, or an alias ARN, \
              `arn:aws:kms:<region>:<account>:alias/<name>`.",
        check: |v| kms_key_arn_problem(v.as_str().unwrap_or_default()),
    }
}

/// `arn:<partition>:kms:<region>:<account>:key/<id>` or `…:alias/<name>`.
pub fn kms_key_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let resource_ok = parts.get(5).is_some_and(|r| {
        r.strip_prefix("key/")
            .or_else(|| r.strip_prefix("alias/"))
            .is_some_and(|n| !n.is_empty() && !n.contains(char::is_whitespace))
    });
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && resource_ok;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not a KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`) or alias \
             ARN (`arn:aws:kms:<region>:<account>:alias/<name>`); a key id or alias name alone \
             is not enough, because the bucket's grant needs the key's ARN"
        ))
    }
}

pub fn queue_arn_validator() -> Validator {
    Validator::Custom {
        doc: "An SQS queue ARN, `arn:aws:sqs:<region>:<account>:<name>`.",
        check: |v| queue_arn_problem(v.as_str().unwrap_or_default()),
    }
}

/// `arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>`.
pub fn layer_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 8
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "lambda"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "layer"
        && !parts[6].is_empty()
        && parts[6]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !parts[7].is_empty()
        && parts[7].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not a layer version ARN such as \
             arn:aws:lambda:us-east-1:123456789012:layer:numpy:3"
        ))
    }
}

/// `arn:<partition>:kinesis:<region>:<account>:stream/<name>`.
pub fn stream_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kinesis"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("stream/")
            .is_some_and(|n| !n.is_empty() && !n.contains('/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not a Kinesis stream ARN such as \
             arn:aws:kinesis:us-east-1:123456789012:stream/orders"
        ))
    }
}

/// `arn:<partition>:sns:<region>:<account>:<topic>`.
pub fn topic_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && (1..=256).contains(&parts[5].len())
        && parts[5]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not an SNS topic ARN such as \
             arn:aws:sns:us-east-1:123456789012:oncall"
        ))
    }
}

pub fn topic_arn_validator() -> Validator {
    Validator::Custom {
        doc: "An SNS topic ARN, `arn:aws:sns:<region>:<account>:<name>`, in the provider's region.",
        check: |v| topic_arn_problem(v.as_str().unwrap_or_default()),
    }
}

/// An email address as SNS takes one: `local@domain.tld`, no spaces.
pub fn email_problem(email: &str) -> Result<(), String> {
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
    }) && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.len() <= 254;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{email:?} is not an email address such as oncall@example.com"
        ))
    }
}

pub fn emails_validator() -> Validator {
    Validator::Custom {
        doc: "At least one email address (`oncall@example.com`), each once.",
        check: |v| {
            let Some(list) = v.as_elements() else {
                return Err("expected a list of email addresses".into());
            };
            if list.is_empty() {
                return Err("lists no email address: give at least one, or set topic_arn".into());
            }
            let mut seen = std::collections::BTreeSet::new();
            // An address still unknown is checked once it is known.
            for e in list.iter().filter_map(tfsdk::value::Value::as_str) {
                email_problem(e)?;
                if !seen.insert(e.to_ascii_lowercase()) {
                    return Err(format!("lists {e:?} twice"));
                }
            }
            Ok(())
        },
    }
}

/// A percentage in (0, 100].
pub fn percent_validator() -> Validator {
    Validator::Custom {
        doc: "A percentage greater than 0 and at most 100.",
        check: |v| {
            let n = v
                .as_number()
                .and_then(|n| n.as_f64())
                .ok_or("expected a number")?;
            if n > 0.0 && n <= 100.0 {
                Ok(())
            } else {
                Err(format!(
                    "{n} is not a percentage of errors an alarm can watch: use more than 0 and at \
                     most 100"
                ))
            }
        },
    }
}

pub fn stream_arn_validator() -> Validator {
    Validator::Custom {
        doc: "A Kinesis stream ARN, `arn:aws:kinesis:<region>:<account>:stream/<name>`.",
        check: |v| stream_arn_problem(v.as_str().unwrap_or_default()),
    }
}

pub fn record_age_validator() -> Validator {
    Validator::Custom {
        doc: "-1, or 60 to 604800 seconds.",
        check: |v| match v.as_number().and_then(|n| n.as_i64()) {
            Some(-1) => Ok(()),
            Some(n) if (60..=604_800).contains(&n) => Ok(()),
            Some(n) => Err(format!(
                "{n} is out of range: must be -1 (no limit) or between 60 and 604800 seconds"
            )),
            None => Err("must be a whole number".into()),
        },
    }
}

/// Lambda's rule for function names.
pub fn function_name_problem(name: &str) -> Result<(), String> {
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'));
    match bad {
        None if (1..=64).contains(&name.len()) => Ok(()),
        Some(c) => Err(format!(
            "{name:?} is not a Lambda function name: it contains {c:?}; use letters, digits, \
             `-` and `_`"
        )),
        None => Err(format!(
            "{name:?} is not a Lambda function name: use 1 to 64 characters"
        )),
    }
}

pub fn function_name_validator() -> Validator {
    Validator::Custom {
        doc: "1 to 64 letters, digits, `-` and `_`.",
        check: |v| function_name_problem(v.as_str().unwrap_or_default()),
    }
}

/// IAM's rule for role names.
pub fn role_name_problem(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    match name.chars().find(|c| !allowed(*c)) {
        None if (1..=64).contains(&name.len()) => Ok(()),
        Some(c) => Err(format!(
            "{name:?} is not an IAM role name: it contains {c:?}; use letters, digits and \
             `+=,.@_-`"
        )),
        None => Err(format!(
            "{name:?} is not an IAM role name: use 1 to 64 characters"
        )),
    }
}

pub fn role_name_validator() -> Validator {
    Validator::Custom {
        doc: "1 to 64 letters, digits and `+=,.@_-`.",
        check: |v| role_name_problem(v.as_str().unwrap_or_default()),
    }
}

pub fn bucket_validator() -> Validator {
    Validator::Custom {
        doc: "A valid S3 bucket name: 3 to 63 lowercase letters, digits, `-` and `.`, starting \
              and ending with a letter or digit, not an IP address, no reserved prefix or suffix.",
        check: |v| {
            let name = v.as_str().unwrap_or_default();
            bucket_name_problem(name)
                .map_err(|why| format!("{name:?} is not a valid S3 bucket name: {why}"))
        },
    }
}

/// Why `name` breaks S3's bucket naming rules, if it does.
pub fn bucket_name_problem(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Err("it must be 3 to 63 characters long");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
    {
        return Err("only lowercase letters, digits, hyphens and dots are allowed");
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err("it must start and end with a letter or digit");
    }
    if name.contains("..") {
        return Err("it must not contain two dots in a row");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("it must not look like an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") || name.starts_with("amzn-s3-demo-")
    {
        return Err("the prefixes `xn--`, `sthree-` and `amzn-s3-demo-` are reserved");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") || name.ends_with(".mrap") {
        return Err("the suffixes `-s3alias`, `--ol-s3` and `.mrap` are reserved");
    }
    Ok(())
}

/// ECR's rule for a repository name: 2 to 256 characters, lower-case
/// letters and digits in `/`-separated components, each joined inside by
/// single `.`, `_` or `-` (`__` is allowed too).
pub fn repository_name_problem(name: &str) -> Result<(), String> {
    fn component_ok(c: &str) -> bool {
        let b = c.as_bytes();
        let sep = |x: u8| matches!(x, b'.' | b'_' | b'-');
        let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
        !b.is_empty()
            && alnum(b[0])
            && alnum(b[b.len() - 1])
            && b.iter().all(|&x| alnum(x) || sep(x))
            && !b.windows(2).any(|w| sep(w[0]) && sep(w[1]) && w != b"__")
    }
    if (2..=256).contains(&name.len()) && name.split('/').all(component_ok) {
        return Ok(());
    }
    Err(format!(
        "{name:?} is not an ECR repository name: use 2 to 256 lower-case letters, digits, and \
         `.`, `_` or `-` between them, in components separated by `/` (e.g. `team/inference`)"
    ))
}

pub fn repository_name_validator() -> Validator {
    Validator::Custom {
        doc: "An ECR repository name: 2 to 256 lower-case letters, digits, `.`, `_` and `-`, in \
              `/`-separated components that start and end with a letter or digit.",
        check: |v| repository_name_problem(v.as_str().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::repository_name_problem;

    #[test]
    fn repository_names_follow_ecr() {
        for ok in [
            "ab",
            "orders",
            "team/inference",
            "a.b_c-d",
            "x__y",
            "a1/b2/c3",
        ] {
            assert!(repository_name_problem(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a", "Orders", "-ab", "ab-", "a//b", "/ab", "a..b", "a-_b", "a b",
        ] {
            let e = repository_name_problem(bad).expect_err(bad);
            assert!(e.contains("ECR repository name"), "{e}");
        }
        assert!(repository_name_problem(&"a".repeat(257)).is_err());
    }
}
