//! Private data Terraform keeps with the state for the provider: what the
//! provider uploaded last (to tell code changed outside Terraform apart
//! from its own), what an `adopt:` import took over, and a backfill that
//! has not finished.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Private {
    /// base64(sha256) of the zip this provider deployed last.
    #[serde(default)]
    pub code_sha256: Option<String>,
    /// Set by `terraform import … adopt:<function>` until the first apply
    /// has made the hand-wired parts the pipeline's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
    /// A backfill that stopped before every object was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<Backfill>,
}

/// What an adoption found that the first apply changes or leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    /// The function's S3 invoke permission statements, replaced by the
    /// pipeline's own once its notifications are in place.
    #[serde(default)]
    pub permission_sids: Vec<String>,
    /// The role's policies that are not the pipeline's: left in place.
    #[serde(default)]
    pub foreign_policies: Vec<String>,
    /// The user's queue S3 notified, when the bucket reached the function
    /// through one: left in place, its notifications moved to the
    /// pipeline's own queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<AdoptedQueue>,
}

/// The user's queue an adopted pipeline was wired through, and the
/// mapping that drains it into the function.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptedQueue {
    pub arn: String,
    /// The mapping's UUID.
    pub mapping: String,
}

/// The triggers whose existing objects are still to be sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backfill {
    pub pending: Vec<BackfillTrigger>,
}

/// One trigger's backfill: its filter, and the last key already sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillTrigger {
    pub events: Vec<String>,
    pub prefix: String,
    pub suffix: String,
    /// Objects are sent in key order; listing resumes after this key.
    #[serde(default)]
    pub after: Option<String>,
}

impl Private {
    /// Reads private data; anything unreadable (or empty) is no data.
    pub fn from_bytes(b: &[u8]) -> Private {
        serde_json::from_slice(b).unwrap_or_default()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_data_of_0_1_0_reads_and_writes_the_same() {
        let v010 = br#"{"code_sha256":"abc="}"#;
        let p = Private::from_bytes(v010);
        assert_eq!(p.code_sha256.as_deref(), Some("abc="));
        assert_eq!(p.to_bytes(), v010);
        assert_eq!(Private::from_bytes(b"not json"), Private::default());
    }
}
