//! Naming the AWS operation a request carries (`s3:PutBucketTagging`,
//! `lambda:CreateFunction`, `iam:CreateRole`, `logs:DescribeLogGroups`):
//! the service from the SigV4 credential scope, the operation from the
//! query-protocol `Action`, the JSON-protocol `X-Amz-Target`, or the REST
//! method, path and query.

use super::http1::header;

/// The service (from the SigV4 credential scope, else guessed) and the
/// operation (`service:Operation`) a request carries.
pub(super) fn identify(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (String, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if super::registry::is_registry(path) {
        return ("registry".to_owned(), super::registry::op(method, path));
    }
    let params = query_params(query);
    let service = header(headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .map(str::to_owned)
        .unwrap_or_else(|| guess_service(path, headers, body));
    if let Some(t) = header(headers, "x-amz-target") {
        let op = t.rsplit('.').next().unwrap_or(t);
        return (service.clone(), format!("{service}:{op}"));
    }
    let is_form = header(headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form || matches!(service.as_str(), "iam" | "sts") {
        let text = String::from_utf8_lossy(body);
        let action = query_params(&text)
            .into_iter()
            .chain(params.clone())
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v);
        if let Some(a) = action {
            return (service.clone(), format!("{service}:{a}"));
        }
    }
    let op = match service.as_str() {
        "lambda" => lambda_op(method, path),
        "s3" => s3_op(method, path, &params, headers),
        _ => format!("{method} {path}"),
    };
    (service.clone(), format!("{service}:{op}"))
}

fn guess_service(path: &str, headers: &[(String, String)], body: &[u8]) -> String {
    if header(headers, "x-amz-target").is_some_and(|t| t.starts_with("Logs")) {
        "logs".into()
    } else if path.starts_with("/2015-03-31/") || path.starts_with("/2017-03-31/") {
        "lambda".into()
    } else if String::from_utf8_lossy(body).contains("Action=") {
        "iam".into()
    } else {
        "s3".into()
    }
}

fn query_params(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

fn lambda_op(method: &str, path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let m = method.to_ascii_uppercase();
    let name = match (segs.as_slice(), m.as_str()) {
        ([_, "account-settings"], "GET") => "GetAccountSettings",
        ([_, "functions"], "POST") => "CreateFunction",
        ([_, "functions"], "GET") => "ListFunctions",
        ([_, "functions", _], "GET") => "GetFunction",
        ([_, "functions", _], "DELETE") => "DeleteFunction",
        ([_, "functions", _, "configuration"], "GET") => "GetFunctionConfiguration",
        ([_, "functions", _, "configuration"], "PUT") => "UpdateFunctionConfiguration",
        ([_, "functions", _, "code"], "PUT") => "UpdateFunctionCode",
        ([_, "functions", _, "policy"], "POST") => "AddPermission",
        ([_, "functions", _, "policy"], "GET") => "GetPolicy",
        ([_, "functions", _, "policy", _], "DELETE") => "RemovePermission",
        ([_, "functions", _, "versions"], "POST") => "PublishVersion",
        ([_, "functions", _, "versions"], "GET") => "ListVersionsByFunction",
        ([_, "functions", _, "invocations"], "POST") => "Invoke",
        ([_, "functions", _, "event-invoke-config"], "PUT") => "PutFunctionEventInvokeConfig",
        ([_, "functions", _, "event-invoke-config"], "POST") => "UpdateFunctionEventInvokeConfig",
        ([_, "functions", _, "event-invoke-config"], "GET") => "GetFunctionEventInvokeConfig",
        ([_, "functions", _, "event-invoke-config"], "DELETE") => "DeleteFunctionEventInvokeConfig",
        ([_, "functions", _, "concurrency"], "PUT") => "PutFunctionConcurrency",
        ([_, "functions", _, "concurrency"], "GET") => "GetFunctionConcurrency",
        ([_, "functions", _, "concurrency"], "DELETE") => "DeleteFunctionConcurrency",
        ([_, "layers", _, "versions"], "POST") => "PublishLayerVersion",
        ([_, "layers", _, "versions"], "GET") => "ListLayerVersions",
        ([_, "layers", _, "versions", _], "GET") => "GetLayerVersion",
        ([_, "layers", _, "versions", _], "DELETE") => "DeleteLayerVersion",
        ([_, "tags", _], "POST") => "TagResource",
        ([_, "tags", _], "DELETE") => "UntagResource",
        ([_, "tags", _], "GET") => "ListTags",
        ([_, "event-source-mappings"], "POST") => "CreateEventSourceMapping",
        ([_, "event-source-mappings"], "GET") => "ListEventSourceMappings",
        ([_, "event-source-mappings", _], "GET") => "GetEventSourceMapping",
        ([_, "event-source-mappings", _], "PUT") => "UpdateEventSourceMapping",
        ([_, "event-source-mappings", _], "DELETE") => "DeleteEventSourceMapping",
        _ => return format!("{m} {path}"),
    };
    name.to_owned()
}

fn s3_op(
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
) -> String {
    if let Some((_, id)) = params.iter().find(|(k, _)| k == "x-id") {
        return id.clone();
    }
    let m = method.to_ascii_uppercase();
    let trimmed = path.trim_start_matches('/');
    let has = |k: &str| params.iter().any(|(p, _)| p == k);
    if trimmed.is_empty() {
        return if m == "GET" { "ListBuckets" } else { "Unknown" }.to_owned();
    }
    let object_level = trimmed.trim_end_matches('/').contains('/');
    let verb = match m.as_str() {
        "PUT" => "Put",
        "GET" => "Get",
        "DELETE" => "Delete",
        "HEAD" => "Head",
        _ => "Post",
    };
    if object_level {
        let name = match m.as_str() {
            _ if has("tagging") => format!("{verb}ObjectTagging"),
            _ if has("uploads") => "CreateMultipartUpload".into(),
            "PUT" if has("partNumber") => "UploadPart".into(),
            "POST" if has("uploadId") => "CompleteMultipartUpload".into(),
            "DELETE" if has("uploadId") => "AbortMultipartUpload".into(),
            "PUT" if header(headers, "x-amz-copy-source").is_some() => "CopyObject".into(),
            _ => format!("{verb}Object"),
        };
        return name;
    }
    const SUBRESOURCES: &[(&str, &str)] = &[
        ("publicAccessBlock", "PublicAccessBlock"),
        ("encryption", "BucketEncryption"),
        ("policy", "BucketPolicy"),
        ("tagging", "BucketTagging"),
        ("notification", "BucketNotificationConfiguration"),
        ("versioning", "BucketVersioning"),
        ("acl", "BucketAcl"),
        ("cors", "BucketCors"),
        ("lifecycle", "BucketLifecycleConfiguration"),
        ("ownershipControls", "BucketOwnershipControls"),
        ("location", "BucketLocation"),
        ("logging", "BucketLogging"),
        ("website", "BucketWebsite"),
    ];
    if has("versions") {
        return "ListObjectVersions".into();
    }
    if has("delete") && m == "POST" {
        return "DeleteObjects".into();
    }
    if has("uploads") {
        return "ListMultipartUploads".into();
    }
    if let Some((_, what)) = SUBRESOURCES.iter().find(|(k, _)| has(k)) {
        return format!("{verb}{what}");
    }
    match m.as_str() {
        "PUT" => "CreateBucket".into(),
        "DELETE" => "DeleteBucket".into(),
        "HEAD" => "HeadBucket".into(),
        "GET" if params.iter().any(|(k, v)| k == "list-type" && v == "2") => "ListObjectsV2".into(),
        "GET" => "ListObjects".into(),
        _ => format!("{m} bucket"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(service: &str) -> (String, String) {
        (
            "Authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host, Signature=00"
            ),
        )
    }

    fn op(service: &str, method: &str, target: &str, body: &str) -> String {
        identify(method, target, &[auth(service)], body.as_bytes()).1
    }

    #[test]
    fn s3_calls_are_named_by_method_path_and_query() {
        let cases = [
            ("PUT", "/b", "s3:CreateBucket"),
            ("DELETE", "/b", "s3:DeleteBucket"),
            ("HEAD", "/b", "s3:HeadBucket"),
            ("GET", "/", "s3:ListBuckets"),
            ("PUT", "/b?publicAccessBlock", "s3:PutPublicAccessBlock"),
            ("PUT", "/b?encryption", "s3:PutBucketEncryption"),
            ("PUT", "/b?policy", "s3:PutBucketPolicy"),
            ("DELETE", "/b?policy", "s3:DeleteBucketPolicy"),
            ("GET", "/b?policy", "s3:GetBucketPolicy"),
            ("PUT", "/b?tagging", "s3:PutBucketTagging"),
            ("GET", "/b?tagging", "s3:GetBucketTagging"),
            (
                "PUT",
                "/b?notification",
                "s3:PutBucketNotificationConfiguration",
            ),
            (
                "GET",
                "/b?notification",
                "s3:GetBucketNotificationConfiguration",
            ),
            ("GET", "/b?versions&max-keys=1", "s3:ListObjectVersions"),
            ("POST", "/b?delete", "s3:DeleteObjects"),
            ("GET", "/b?list-type=2", "s3:ListObjectsV2"),
            ("PUT", "/b/data/x.json?x-id=PutObject", "s3:PutObject"),
            ("PUT", "/b/data/x.json", "s3:PutObject"),
            ("GET", "/b/k?x-id=GetObject", "s3:GetObject"),
        ];
        for (method, target, want) in cases {
            assert_eq!(op("s3", method, target, ""), want, "{method} {target}");
        }
    }

    #[test]
    fn lambda_calls_are_named_by_method_and_path() {
        let cases = [
            ("POST", "/2015-03-31/functions", "lambda:CreateFunction"),
            ("GET", "/2015-03-31/functions/", "lambda:ListFunctions"),
            ("GET", "/2015-03-31/functions/f", "lambda:GetFunction"),
            (
                "GET",
                "/2016-08-19/account-settings",
                "lambda:GetAccountSettings",
            ),
            ("DELETE", "/2015-03-31/functions/f", "lambda:DeleteFunction"),
            (
                "GET",
                "/2015-03-31/functions/f/configuration",
                "lambda:GetFunctionConfiguration",
            ),
            (
                "PUT",
                "/2015-03-31/functions/f/configuration",
                "lambda:UpdateFunctionConfiguration",
            ),
            (
                "PUT",
                "/2015-03-31/functions/f/code",
                "lambda:UpdateFunctionCode",
            ),
            (
                "POST",
                "/2015-03-31/functions/f/policy",
                "lambda:AddPermission",
            ),
            ("GET", "/2015-03-31/functions/f/policy", "lambda:GetPolicy"),
            (
                "DELETE",
                "/2015-03-31/functions/f/policy/sid",
                "lambda:RemovePermission",
            ),
            (
                "POST",
                "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af",
                "lambda:TagResource",
            ),
            (
                "DELETE",
                "/2017-03-31/tags/arn?tagKeys=a",
                "lambda:UntagResource",
            ),
            (
                "PUT",
                "/2019-09-25/functions/f/event-invoke-config",
                "lambda:PutFunctionEventInvokeConfig",
            ),
            (
                "GET",
                "/2019-09-25/functions/f/event-invoke-config",
                "lambda:GetFunctionEventInvokeConfig",
            ),
            (
                "DELETE",
                "/2019-09-25/functions/f/event-invoke-config",
                "lambda:DeleteFunctionEventInvokeConfig",
            ),
            (
                "PUT",
                "/2017-10-31/functions/f/concurrency",
                "lambda:PutFunctionConcurrency",
            ),
            (
                "GET",
                "/2019-09-30/functions/f/concurrency",
                "lambda:GetFunctionConcurrency",
            ),
            (
                "DELETE",
                "/2017-10-31/functions/f/concurrency",
                "lambda:DeleteFunctionConcurrency",
            ),
            (
                "POST",
                "/2018-10-31/layers/l/versions",
                "lambda:PublishLayerVersion",
            ),
        ];
        for (method, target, want) in cases {
            assert_eq!(op("lambda", method, target, ""), want, "{method} {target}");
        }
    }

    #[test]
    fn event_source_mapping_calls_are_named_by_method_and_path() {
        let m = "/2015-03-31/event-source-mappings";
        let uuid = format!("{m}/8e5e3fda-e476-4c44-b97f-970792955ba6");
        let cases = [
            ("POST", format!("{m}/"), "lambda:CreateEventSourceMapping"),
            (
                "GET",
                format!("{m}/?FunctionName=f&EventSourceArn=arn"),
                "lambda:ListEventSourceMappings",
            ),
            ("GET", uuid.clone(), "lambda:GetEventSourceMapping"),
            ("PUT", uuid.clone(), "lambda:UpdateEventSourceMapping"),
            ("DELETE", uuid, "lambda:DeleteEventSourceMapping"),
        ];
        for (method, target, want) in cases {
            assert_eq!(op("lambda", method, &target, ""), want, "{method} {target}");
        }
    }

    #[test]
    fn query_and_json_protocol_calls_are_named_by_action_and_target() {
        assert_eq!(
            op("iam", "POST", "/", "Action=CreateRole&Version=2010-05-08"),
            "iam:CreateRole"
        );
        assert_eq!(
            op(
                "sts",
                "POST",
                "/",
                "Action=GetCallerIdentity&Version=2011-06-15"
            ),
            "sts:GetCallerIdentity"
        );
        let headers = [
            auth("logs"),
            (
                "X-Amz-Target".to_owned(),
                "Logs_20140328.DescribeLogGroups".to_owned(),
            ),
        ];
        assert_eq!(
            identify("POST", "/", &headers, b"{}").1,
            "logs:DescribeLogGroups"
        );
        let headers = [
            auth("sqs"),
            (
                "X-Amz-Target".to_owned(),
                "AmazonSQS.GetQueueUrl".to_owned(),
            ),
        ];
        assert_eq!(identify("POST", "/", &headers, b"{}").1, "sqs:GetQueueUrl");
        // ECR's control plane is a JSON-protocol service signed as `ecr`.
        for action in [
            "CreateRepository",
            "GetAuthorizationToken",
            "BatchDeleteImage",
        ] {
            let headers = [
                auth("ecr"),
                (
                    "X-Amz-Target".to_owned(),
                    format!("AmazonEC2ContainerRegistry_V20150921.{action}"),
                ),
            ];
            let (service, name) = identify("POST", "/", &headers, b"{}");
            assert_eq!(service, "ecr");
            assert_eq!(name, format!("ecr:{action}"));
        }
        // KMS is a JSON-protocol service signed as `kms` (`TrentService.*`),
        // so a rule can target `kms:DescribeKey`; its faults are JSON too.
        for action in ["DescribeKey", "CreateKey", "CreateAlias", "ListAliases"] {
            let headers = [
                auth("kms"),
                ("X-Amz-Target".to_owned(), format!("TrentService.{action}")),
            ];
            let (service, name) = identify("POST", "/", &headers, b"{\"KeyId\":\"alias/x\"}");
            assert_eq!(service, "kms");
            assert_eq!(name, format!("kms:{action}"));
        }
        let denied = super::super::Fault::AccessDenied.response("kms", "kms:DescribeKey");
        let denied = String::from_utf8(denied).unwrap();
        assert!(denied.starts_with("HTTP/1.1 403 "), "{denied}");
        assert!(
            denied.contains("\"__type\":\"AccessDeniedException\""),
            "{denied}"
        );
        assert!(denied.contains("perform: kms:DescribeKey"), "{denied}");
        // Without a signature the service is guessed from the request's shape.
        assert_eq!(
            identify("POST", "/2015-03-31/functions", &[], b"{}").1,
            "lambda:CreateFunction"
        );
    }
}
