//! The two documents on the image repository a pipeline makes: the
//! lifecycle policy that keeps its newest `keep_images` images, and the
//! repository policy that lets Lambda pull them for this function only.
//!
//! Both are written with sorted keys and no spaces, so the same inputs give
//! the same bytes. ECR may give a document back in another layout (AWS
//! pretty-prints stored policies; other stores reorder keys), so drift is
//! decided on meaning, not bytes: [`same_lifecycle_policy`] and
//! [`same_repository_policy`].

use serde_json::{Map, Value, json};

/// The statement id of the pull permission, as AWS's Lambda guide names it.
pub const PULL_STATEMENT_SID: &str = "LambdaECRImageRetrievalPolicy";

/// What Lambda needs to pull an image (AWS's Lambda guide, "Amazon ECR
/// permissions").
pub const PULL_ACTIONS: [&str; 2] = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/// The lifecycle policy: one rule that expires every image beyond the
/// newest `keep_images`, tagged or not.
pub fn lifecycle_policy(keep_images: u32) -> String {
    let doc = json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the newest {keep_images} images"), // AWS's key
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": keep_images
            },
            "action": { "type": "expire" }
        }]
    });
    sorted(doc).to_string()
}

/// The repository policy: Lambda's service principal may pull images, and
/// only for the function `function_arn`. The condition is the one AWS's
/// Lambda guide writes for a repository policy (`StringLike` on
/// `aws:sourceARN`), here with the one function's ARN in place of the guide's
/// `function:*`, so no other function of the account can use the images.
pub fn repository_policy(function_arn: &str) -> String {
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": PULL_STATEMENT_SID,
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": PULL_ACTIONS,
            "Condition": { "StringLike": { "aws:sourceARN": function_arn } }
        }]
    });
    sorted(doc).to_string()
}

/// Whether two lifecycle policy texts mean the same: equal as JSON, keys
/// in any order. Text that is not JSON is never the same.
pub fn same_lifecycle_policy(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => sorted(a) == sorted(b),
        _ => false,
    }
}

/// Whether two repository policy texts mean the same, as IAM reads them:
/// keys in any order, a single string the same as a list of it, lists of
/// strings in any order, condition keys in any case (IAM compares them so),
/// statements in any order. Text that is not JSON is never the same.
pub fn same_repository_policy(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => normal_policy(a) == normal_policy(b),
        _ => false,
    }
}

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// `v` with every object's keys in sorted order.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut pairs: Vec<(String, Value)> = m.into_iter().collect();
            pairs.sort_by(|x, y| x.0.cmp(&y.0));
            Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A string, or a list of strings, as a sorted list without repeats.
fn string_set(v: Value) -> Value {
    match v {
        Value::String(s) => Value::Array(vec![Value::String(s)]),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut items: Vec<String> = items
                .into_iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect();
            items.sort();
            items.dedup();
            Value::Array(items.into_iter().map(Value::String).collect())
        }
        other => other,
    }
}

/// A policy document in one form: see [`same_repository_policy`].
fn normal_policy(doc: Value) -> Value {
    let Value::Object(mut doc) = doc else {
        return doc;
    };
    let statements = match doc.remove("Statement") {
        Some(Value::Array(items)) => items,
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let mut statements: Vec<Value> = statements.into_iter().map(normal_statement).collect();
    statements.sort_by_key(Value::to_string);
    doc.insert("Statement".into(), Value::Array(statements));
    sorted(Value::Object(doc))
}

fn normal_statement(st: Value) -> Value {
    let Value::Object(st) = st else {
        return st;
    };
    let mut out = Map::new();
    for (key, value) in st {
        let value = match key.as_str() {
            // AWS's keys of a policy statement.
            "Action" | "NotAction" | "Resource" | "NotResource" => string_set(value),
            "Principal" | "NotPrincipal" => each_value(value, string_set),
            "Condition" => each_value(value, |operator| match operator {
                Value::Object(keys) => Value::Object(
                    keys.into_iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), string_set(v)))
                        .collect(),
                ),
                other => other,
            }),
            _ => value,
        };
        out.insert(key, value);
    }
    Value::Object(out)
}

/// An object with `f` applied to each value (anything else as it is).
fn each_value(v: Value, f: impl Fn(Value) -> Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, f(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FUNCTION: &str = "arn:aws:lambda:eu-west-1:123456789012:function:ka07-fn";

    #[test]
    fn the_lifecycle_policy_keeps_the_newest_images_tagged_or_not() {
        let text = lifecycle_policy(10);
        let v: Value = serde_json::from_str(&text).expect("json");
        let rules = v["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 1);
        let rule = &rules[0];
        assert_eq!(rule["rulePriority"], 1);
        assert_eq!(rule["selection"]["tagStatus"], "any");
        assert_eq!(rule["selection"]["countType"], "imageCountMoreThan");
        assert_eq!(rule["selection"]["countNumber"], 10);
        assert_eq!(rule["action"]["type"], "expire");
        assert_eq!(text, lifecycle_policy(10), "the same input, the same bytes");
        assert_ne!(text, lifecycle_policy(11));
    }

    #[test]
    fn both_documents_are_written_with_sorted_keys() {
        for text in [lifecycle_policy(3), repository_policy(FUNCTION)] {
            let v: Value = serde_json::from_str(&text).expect("json");
            assert_eq!(sorted(v.clone()).to_string(), text);
        }
        assert_eq!(
            lifecycle_policy(3),
            "{\"rules\":[{\"action\":{\"type\":\"expire\"},\"description\":\"keep the newest 3 \
             images\",\"rulePriority\":1,\"selection\":{\"countNumber\":3,\"countType\":\
             \"imageCountMoreThan\",\"tagStatus\":\"any\"}}]}"
        );
    }

    #[test]
    fn the_repository_policy_lets_lambda_pull_for_this_function_only() {
        let v: Value = serde_json::from_str(&repository_policy(FUNCTION)).expect("json");
        assert_eq!(v["Version"], "2012-10-17");
        let statements = v["Statement"].as_array().expect("statements");
        assert_eq!(statements.len(), 1);
        let st = &statements[0];
        assert_eq!(st["Sid"], PULL_STATEMENT_SID);
        assert_eq!(st["Effect"], "Allow");
        assert_eq!(
            st["Principal"],
            json!({ "Service": "lambda.amazonaws.com" })
        );
        assert_eq!(
            st["Action"],
            json!(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
        );
        assert_eq!(
            st["Condition"],
            json!({ "StringLike": { "aws:sourceARN": FUNCTION } })
        );
        assert!(
            st.get("Resource").is_none(),
            "a repository policy names no resource"
        );
        assert_ne!(
            repository_policy(FUNCTION),
            repository_policy("arn:aws:lambda:eu-west-1:123456789012:function:other")
        );
    }

    #[test]
    fn a_policy_ecr_gives_back_in_another_layout_is_no_drift() {
        let ours = repository_policy(FUNCTION);
        // As AWS shows a stored policy: pretty-printed, keys in its order, a
        // condition key in another case, actions reordered.
        let theirs = format!(
            "{{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ {{\n    \"Sid\" : \
             \"{PULL_STATEMENT_SID}\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \
             \"Service\" : \"lambda.amazonaws.com\"\n    }},\n    \"Action\" : [ \
             \"ecr:GetDownloadUrlForLayer\", \"ecr:BatchGetImage\" ],\n    \"Condition\" : {{\n      \
             \"StringLike\" : {{\n        \"aws:SourceArn\" : \"{FUNCTION}\"\n      }}\n    }}\n  \
             }} ]\n}}"
        );
        assert!(same_repository_policy(&ours, &theirs));
        // A lone string is a list of one.
        let one = ours.replace(
            "[\"ecr:BatchGetImage\",\"ecr:GetDownloadUrlForLayer\"]",
            "\"ecr:BatchGetImage\"",
        );
        let listed = ours.replace(
            "[\"ecr:BatchGetImage\",\"ecr:GetDownloadUrlForLayer\"]",
            "[\"ecr:BatchGetImage\"]",
        );
        assert!(same_repository_policy(&one, &listed));
    }

    #[test]
    fn a_changed_policy_is_drift() {
        let ours = repository_policy(FUNCTION);
        let wider = ours.replace(FUNCTION, "arn:aws:lambda:eu-west-1:123456789012:function:*");
        assert!(!same_repository_policy(&ours, &wider));
        let more = ours.replace("\"ecr:BatchGetImage\",", "\"ecr:BatchGetImage\",\"ecr:*\",");
        assert!(!same_repository_policy(&ours, &more));
        let no_condition = serde_json::to_string(&json!({
            "Version": "2012-10-17",
            "Statement": [{ "Sid": PULL_STATEMENT_SID, "Effect": "Allow",
                "Principal": { "Service": "lambda.amazonaws.com" }, "Action": PULL_ACTIONS }]
        }))
        .expect("json");
        assert!(!same_repository_policy(&ours, &no_condition));
        assert!(!same_repository_policy(&ours, "not json"));

        let keep = lifecycle_policy(10);
        assert!(same_lifecycle_policy(
            &keep,
            &serde_json::to_string_pretty(&serde_json::from_str::<Value>(&keep).expect("json"))
                .expect("json")
        ));
        assert!(!same_lifecycle_policy(&keep, &lifecycle_policy(5)));
        assert!(!same_lifecycle_policy(&keep, ""));
    }
}
