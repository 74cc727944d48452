//! Private data Terraform keeps with the state for the provider: what the
//! provider uploaded last, to tell code changed outside Terraform apart
//! from its own.

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Private {
    /// base64(sha256) of the zip this provider deployed last.
    #[serde(default)]
    pub code_sha256: Option<String>,
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
