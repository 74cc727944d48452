//! KMS's AWS-managed keys as AWS keeps them. In AWS, the key behind a
//! predefined alias (`alias/aws/s3`, `alias/aws/sqs`, `alias/aws/kinesis`,
//! ...) is an AWS-managed key: `DescribeKey` reports `KeyManager = AWS`,
//! whether it is asked by the alias, its ARN, the key's id or the key's
//! ARN; and a predefined alias that has no key yet gets one the first time
//! it is described ("If you call DescribeKey on a predefined AWS alias
//! ..., AWS KMS creates an AWS managed key").
//!
//! moto 5.2.5 differs in both: the keys it makes for its predefined
//! aliases (`alias/aws/s3` and a dozen others, but not `alias/aws/sqs` or
//! `alias/aws/kinesis`) are reported as `KeyManager = CUSTOMER`, and a
//! predefined alias it has no key for is `NotFoundException`. A plan that
//! asks whether a bucket's, queue's or stream's key is the customer's would
//! then grant the role an AWS-managed key, or fail. With
//! [`super::FaultProxy::kms_managed_keys_like_aws`] on, the proxy closes
//! both gaps (in `like_aws`): it makes the missing key and alias in the
//! emulator, as KMS makes them, and reports every key a predefined alias
//! names as `AWS`.

use serde_json::Value;

/// The prefix of every predefined (AWS-managed) alias name.
const MANAGED_PREFIX: &str = "alias/aws/";

/// The predefined alias name a `DescribeKey` `KeyId` names (`alias/aws/x`,
/// or its alias ARN), if it names one.
pub(super) fn managed_alias(key_id: &str) -> Option<String> {
    let name = match key_id.split_once(":alias/") {
        Some((arn, rest)) if arn.starts_with("arn:") => format!("alias/{rest}"),
        Some(_) => return None,
        None => key_id.to_owned(),
    };
    let service = name.strip_prefix(MANAGED_PREFIX)?;
    (!service.is_empty() && !service.contains('/')).then_some(name)
}

/// The description KMS gives the AWS-managed key of `alias`
/// (`alias/aws/sqs` -> "Default key that protects my SQS messages when no
/// other key is defined"; other services alike).
pub(super) fn description(alias: &str) -> String {
    let service = alias.trim_start_matches(MANAGED_PREFIX);
    let what = match service {
        "s3" => "S3 objects",
        "sqs" => "SQS messages",
        "kinesis" => "Kinesis data",
        "lambda" => "Lambda functions",
        other => other,
    };
    format!("Default key that protects my {what} when no other key is defined")
}

/// Whether a `DescribeKey` answer of the emulator is its
/// `NotFoundException`.
pub(super) fn is_not_found(status: u16, body: &[u8]) -> bool {
    status == 400
        && serde_json::from_slice::<Value>(body)
            .ok()
            .is_some_and(|b| b["__type"] == "NotFoundException")
}

/// The key ids the predefined aliases of a `ListAliases` answer point at.
pub(super) fn managed_targets(list_aliases: &Value) -> Vec<String> {
    list_aliases["Aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| {
            a["AliasName"]
                .as_str()
                .is_some_and(|n| n.starts_with(MANAGED_PREFIX))
        })
        .filter_map(|a| a["TargetKeyId"].as_str().map(str::to_owned))
        .collect()
}

/// Marks a `DescribeKey` answer's key AWS-managed when a predefined alias
/// points at it (`targets`, from [`managed_targets`]); returns the key's
/// ARN when it changed the answer.
pub(super) fn mark_managed(describe: &mut Value, targets: &[String]) -> Option<String> {
    let meta = describe.get_mut("KeyMetadata")?;
    let id = meta["KeyId"].as_str()?.to_owned();
    if meta["KeyManager"] == "AWS" || !targets.contains(&id) {
        return None;
    }
    meta["KeyManager"] = Value::from("AWS");
    Some(meta["Arn"].as_str().map(str::to_owned).unwrap_or(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn predefined_aliases_are_recognised_by_name_and_by_arn() {
        assert_eq!(
            managed_alias("alias/aws/sqs").as_deref(),
            Some("alias/aws/sqs")
        );
        assert_eq!(
            managed_alias("arn:aws:kms:us-east-1:123456789012:alias/aws/kinesis").as_deref(),
            Some("alias/aws/kinesis")
        );
        for not in [
            "alias/x",
            "alias/aws/",
            "alias/awsome",
            "arn:aws:kms:us-east-1:123456789012:alias/x",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        ] {
            assert_eq!(managed_alias(not), None, "{not}");
        }
        assert_eq!(
            description("alias/aws/sqs"),
            "Default key that protects my SQS messages when no other key is defined"
        );
    }

    #[test]
    fn a_key_a_predefined_alias_names_is_reported_aws_managed() {
        let aliases = json!({"Truncated": false, "Aliases": [
            {"AliasName": "alias/x", "TargetKeyId": "k-customer"},
            {"AliasName": "alias/aws/s3", "TargetKeyId": "k-s3"},
            {"AliasName": "alias/aws/acm"}
        ]});
        let targets = managed_targets(&aliases);
        assert_eq!(targets, ["k-s3"]);
        let mut s3 = json!({"KeyMetadata": {"KeyId": "k-s3", "Arn": "arn:aws:kms:us-east-1:1:key/k-s3",
                                             "KeyManager": "CUSTOMER"}});
        assert_eq!(
            mark_managed(&mut s3, &targets).as_deref(),
            Some("arn:aws:kms:us-east-1:1:key/k-s3")
        );
        assert_eq!(s3["KeyMetadata"]["KeyManager"], "AWS");
        assert_eq!(mark_managed(&mut s3, &targets), None, "already AWS");
        let mut mine = json!({"KeyMetadata": {"KeyId": "k-customer", "KeyManager": "CUSTOMER"}});
        assert_eq!(mark_managed(&mut mine, &targets), None);
        assert_eq!(mine["KeyMetadata"]["KeyManager"], "CUSTOMER");
    }

    #[test]
    fn only_kms_s_not_found_counts_as_a_missing_alias() {
        let body = br#"{"__type": "NotFoundException", "message": "Alias arn:aws:kms:us-east-1:123456789012:alias/aws/sqs is not found."}"#;
        assert!(is_not_found(400, body));
        assert!(!is_not_found(
            403,
            br#"{"__type": "AccessDeniedException"}"#
        ));
        assert!(!is_not_found(400, b"not json"));
    }
}
