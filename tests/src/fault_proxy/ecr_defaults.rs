//! ECR's `PutImageScanningConfiguration` as AWS reads it. In ECR's model
//! `scanOnPush` is a boolean that defaults to `false`, so the Rust SDK
//! leaves a `false` out of the request (`"imageScanningConfiguration": {}`)
//! and AWS turns scan on push off. moto 5.2.5 ignores an empty
//! configuration and keeps scan on push on. The proxy writes the default in
//! before moto reads it.

use serde_json::Value;

/// The body with `scanOnPush: false` filled into an empty
/// `imageScanningConfiguration`, or `None` when it needs no change.
pub(super) fn with_scan_default(body: &[u8]) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let config = v.get_mut("imageScanningConfiguration")?.as_object_mut()?;
    if config.contains_key("scanOnPush") {
        return None;
    }
    config.insert("scanOnPush".into(), Value::Bool(false));
    serde_json::to_vec(&v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_scan_on_push_is_false_as_in_ecr_s_model() {
        let sent = br#"{"repositoryName":"r","imageScanningConfiguration":{}}"#;
        let fixed = with_scan_default(sent).expect("filled in");
        let v: Value = serde_json::from_slice(&fixed).expect("json");
        assert_eq!(v["imageScanningConfiguration"]["scanOnPush"], false);
        assert_eq!(v["repositoryName"], "r");
        let on = br#"{"repositoryName":"r","imageScanningConfiguration":{"scanOnPush":true}}"#;
        assert_eq!(with_scan_default(on), None);
        assert_eq!(with_scan_default(b"{}"), None);
        assert_eq!(with_scan_default(b"not json"), None);
    }
}
