//! The errors the proxy answers with instead of forwarding, each in its
//! service's own status, code, message and body format (S3 XML, IAM/STS
//! query-protocol XML, Lambda REST JSON, JSON-protocol `__type`, and an
//! OCI registry's `errors` list).

/// An error the proxy answers with instead of forwarding. The status, code
/// and message depend on the service, as AWS's own would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 (`InternalError`, IAM's `ServiceFailure`, Lambda's `ServiceException`).
    InternalError,
    /// HTTP 503 `SlowDown` (S3) / `ServiceUnavailable` elsewhere.
    SlowDown,
    /// The service's throttling error: S3 503 `SlowDown`, IAM/STS 400
    /// `Throttling`, Lambda 429 `TooManyRequestsException`, JSON-protocol
    /// services 400 `ThrottlingException`.
    Throttling,
    /// HTTP 403 `AccessDenied` (`AccessDeniedException` for Lambda).
    AccessDenied,
    /// Lambda's IAM-propagation error: 400 `InvalidParameterValueException`
    /// "The role defined for the function cannot be assumed by Lambda."
    RoleNotAssumable,
    /// S3's answer when it cannot yet see a new invoke permission: 400
    /// `InvalidArgument` "Unable to validate the following destination
    /// configurations".
    DestinationNotValidated,
    /// Not an error of the service: Lambda ran the function and it raised
    /// (`lambda:Invoke` answered 200 with `X-Amz-Function-Error: Unhandled`
    /// and the error document), as a handler that fails does. moto runs no
    /// code without docker, so a test of "the function failed again" needs
    /// this.
    FunctionError,
    /// Anything else.
    Custom {
        status: u16,
        code: String,
        message: String,
    },
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Fault {
    /// Status, error code and message for a call of `op` on `service`.
    pub fn render(&self, service: &str, op: &str) -> (u16, String, String) {
        let action = op.to_owned();
        let (status, code, message): (u16, &str, String) = match (self, service) {
            (Fault::InternalError, "s3") => (
                500,
                "InternalError",
                "We encountered an internal error. Please try again.".into(),
            ),
            (Fault::InternalError, "iam") => (
                500,
                "ServiceFailure",
                "Request processing has failed because of an unknown error.".into(),
            ),
            (Fault::InternalError, "lambda") => (
                500,
                "ServiceException",
                "The AWS Lambda service encountered an internal error.".into(),
            ),
            (Fault::InternalError, "registry") => (500, "UNKNOWN", "unknown error".into()),
            (Fault::SlowDown, "registry") => (503, "UNAVAILABLE", "service unavailable".into()),
            (Fault::Throttling, "registry") => (429, "TOOMANYREQUESTS", "too many requests".into()),
            (Fault::AccessDenied, "registry") => (
                403,
                "DENIED",
                "requested access to the resource is denied".into(),
            ),
            (Fault::InternalError, _) => (
                500,
                "InternalFailure",
                "The request processing has failed because of an unknown error.".into(),
            ),
            (Fault::SlowDown, "s3") | (Fault::Throttling, "s3") => {
                (503, "SlowDown", "Please reduce your request rate.".into())
            }
            (Fault::SlowDown, _) => (
                503,
                "ServiceUnavailable",
                "The service is unavailable. Please try again later.".into(),
            ),
            (Fault::Throttling, "iam" | "sts" | "monitoring" | "sns") => {
                (400, "Throttling", "Rate exceeded".into())
            }
            (Fault::Throttling, "lambda") => {
                (429, "TooManyRequestsException", "Rate exceeded".into())
            }
            (Fault::Throttling, _) => (400, "ThrottlingException", "Rate exceeded".into()),
            (Fault::AccessDenied, "s3") => (403, "AccessDenied", "Access Denied".into()),
            (Fault::AccessDenied, s) => (
                403,
                if matches!(s, "iam" | "sts" | "monitoring" | "sns") {
                    "AccessDenied"
                } else {
                    "AccessDeniedException"
                },
                format!(
                    "User: arn:aws:iam::123456789012:user/fault-proxy is not authorized to \
                     perform: {action} because no identity-based policy allows the {action} \
                     action"
                ),
            ),
            (Fault::RoleNotAssumable, _) => (
                400,
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.".into(),
            ),
            (Fault::DestinationNotValidated, _) => (
                400,
                "InvalidArgument",
                "Unable to validate the following destination configurations".into(),
            ),
            (Fault::FunctionError, _) => (200, "Unhandled", "the handler raised".into()),
            (
                Fault::Custom {
                    status,
                    code,
                    message,
                },
                _,
            ) => (*status, code.as_str(), message.clone()),
        };
        (status, code.to_owned(), message)
    }

    /// The whole HTTP answer, in the service's error format.
    pub(super) fn response(&self, service: &str, op: &str) -> Vec<u8> {
        let (status, code, message) = self.render(service, op);
        if service == "registry" {
            return super::registry::error_response(status, &code, &message);
        }
        let request_id = "fault-proxy-0000";
        if *self == Fault::FunctionError {
            let body = serde_json::json!({
                "errorMessage": message,
                "errorType": "Exception",
                "requestId": request_id,
                "stackTrace": []
            })
            .to_string();
            return format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 x-amzn-RequestId: {request_id}\r\nX-Amz-Function-Error: Unhandled\r\n\
                 X-Amz-Executed-Version: $LATEST\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes();
        }
        let (content_type, extra, body) = match service {
            "s3" => (
                "application/xml",
                String::new(),
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code>\
                     <Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                    xml_escape(&code),
                    xml_escape(&message)
                ),
            ),
            // The query-protocol services answer in XML (CloudWatch as the
            // SDK 1.99 the provider pins speaks it, and SNS).
            "iam" | "sts" | "monitoring" | "sns" => (
                "text/xml",
                String::new(),
                format!(
                    "<ErrorResponse xmlns=\"https://{service}.amazonaws.com/doc/\"><Error>\
                     <Type>{}</Type><Code>{}</Code><Message>{}</Message></Error>\
                     <RequestId>{request_id}</RequestId></ErrorResponse>",
                    if status >= 500 { "Receiver" } else { "Sender" },
                    xml_escape(&code),
                    xml_escape(&message)
                ),
            ),
            "lambda" => (
                "application/json",
                format!("x-amzn-ErrorType: {code}\r\n"),
                serde_json::json!({"Type": "User", "message": message}).to_string(),
            ),
            _ => (
                "application/x-amz-json-1.1",
                String::new(),
                serde_json::json!({"__type": code, "message": message}).to_string(),
            ),
        };
        let reason = match status {
            400 => "Bad Request",
            403 => "Forbidden",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Error",
        };
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
             x-amzn-RequestId: {request_id}\r\n{extra}Content-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_error_is_a_run_that_raised_not_a_service_error() {
        let a =
            String::from_utf8(Fault::FunctionError.response("lambda", "lambda:Invoke")).unwrap();
        assert!(a.starts_with("HTTP/1.1 200 OK\r\n"), "{a}");
        assert!(a.contains("X-Amz-Function-Error: Unhandled\r\n"), "{a}");
        let body = a.split("\r\n\r\n").nth(1).unwrap();
        let doc: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(doc["errorType"], "Exception");
    }

    #[test]
    fn faults_use_each_service_s_error_format() {
        let s3 = String::from_utf8(Fault::SlowDown.response("s3", "s3:PutBucketTagging")).unwrap();
        assert!(s3.starts_with("HTTP/1.1 503 "), "{s3}");
        assert!(s3.contains("<Code>SlowDown</Code>"), "{s3}");
        let iam = String::from_utf8(Fault::Throttling.response("iam", "iam:CreateRole")).unwrap();
        assert!(iam.starts_with("HTTP/1.1 400 "), "{iam}");
        assert!(iam.contains("<Code>Throttling</Code>"), "{iam}");
        assert!(iam.contains("<Type>Sender</Type>"), "{iam}");
        for (service, op) in [
            ("monitoring", "monitoring:PutMetricAlarm"),
            ("sns", "sns:Subscribe"),
        ] {
            let q = String::from_utf8(Fault::AccessDenied.response(service, op)).unwrap();
            assert!(q.starts_with("HTTP/1.1 403 "), "{q}");
            assert!(q.contains("<Code>AccessDenied</Code>"), "{q}");
            assert!(
                q.contains(&format!("not authorized to perform: {op}")),
                "{q}"
            );
        }
        let lambda =
            String::from_utf8(Fault::RoleNotAssumable.response("lambda", "lambda:CreateFunction"))
                .unwrap();
        assert!(lambda.starts_with("HTTP/1.1 400 "), "{lambda}");
        assert!(
            lambda.contains("x-amzn-ErrorType: InvalidParameterValueException\r\n"),
            "{lambda}"
        );
        assert!(lambda.contains("cannot be assumed by Lambda"), "{lambda}");
        let denied = Fault::AccessDenied.render("lambda", "lambda:AddPermission");
        assert_eq!(denied.0, 403);
        assert_eq!(denied.1, "AccessDeniedException");
        assert!(denied.2.contains("lambda:AddPermission"));
        let logs = String::from_utf8(Fault::Throttling.response("logs", "logs:X")).unwrap();
        assert!(
            logs.contains("\"__type\":\"ThrottlingException\""),
            "{logs}"
        );
        // CloudWatch (awsQuery, as the pinned SDK speaks it) and SNS answer in XML.
        for (service, op) in [
            ("monitoring", "monitoring:DescribeAlarms"),
            ("sns", "sns:CreateTopic"),
        ] {
            let query = String::from_utf8(Fault::AccessDenied.response(service, op)).unwrap();
            assert!(query.contains("<Code>AccessDenied</Code>"), "{query}");
            assert!(query.contains("Content-Type: text/xml"), "{query}");
        }
    }
}
