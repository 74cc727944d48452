//! The registry's request log, as records a test can count.
//!
//! The distribution registry writes one JSON line per answered request
//! (`"msg": "response completed"`, or `"response completed with error"`)
//! with the method, the URI, the status and the bytes it wrote back. It does
//! not log how many bytes a request carried, so [`RequestRecord::bytes`]
//! comes from what the request stored: the PUT that completes a blob upload
//! (`PUT /v2/<repo>/blobs/uploads/<id>?digest=…`, 201) counts the size of the
//! blob it committed (read from the registry's storage), and a manifest PUT
//! (201) the size of the manifest stored under its reference. Every other
//! request counts 0, also the PATCHes that streamed the blob before its
//! completing PUT, so the sum over all records is the bytes of blobs and
//! manifests uploaded, each completed upload counted once. An upload that
//! was abandoned before its PUT stored nothing and counts 0.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

/// One request the registry answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// The URI's path, e.g. `/v2/base/blobs/uploads/<id>`.
    pub path: String,
    /// The URI's query, without `?`; empty when there was none.
    pub query: String,
    pub status: u16,
    /// The bytes stored by this request (see the module documentation).
    pub bytes: u64,
    /// The bytes of the answer's body.
    pub response_bytes: u64,
}

/// A blob whose upload completed (`PUT …/blobs/uploads/<id>?digest=…` → 201).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobUpload {
    pub repository: String,
    /// `sha256:<hex>`.
    pub digest: String,
    pub size: u64,
}

/// A manifest or index stored by `PUT /v2/<repo>/manifests/<reference>` → 201.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPush {
    pub repository: String,
    /// The tag or digest in the URI.
    pub reference: String,
    pub size: u64,
}

/// Every request in the order the registry answered them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestLog {
    pub records: Vec<RequestRecord>,
}

impl RequestLog {
    /// Parses the registry's output; `storage` is its filesystem root, where
    /// the sizes of uploaded blobs and manifests are read. Lines that are not
    /// JSON or not about a request (start-up messages) are skipped.
    pub fn parse(log: &str, storage: &Path) -> Result<RequestLog> {
        let mut records = Vec::new();
        for line in log.lines() {
            let Ok(entry) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let is_request = entry["msg"]
                .as_str()
                .is_some_and(|msg| msg.starts_with("response completed"));
            if is_request {
                let record =
                    record(&entry, storage).with_context(|| format!("registry log line {line}"))?;
                records.push(record);
            }
        }
        Ok(RequestLog { records })
    }

    /// The blobs whose upload completed, in order.
    pub fn blob_uploads(&self) -> Vec<BlobUpload> {
        self.records
            .iter()
            .filter_map(|record| {
                let (repository, digest) = completed_upload(record)?;
                Some(BlobUpload {
                    repository,
                    digest,
                    size: record.bytes,
                })
            })
            .collect()
    }

    /// The manifests and indexes stored, in order.
    pub fn manifest_pushes(&self) -> Vec<ManifestPush> {
        self.records
            .iter()
            .filter_map(|record| {
                let (repository, reference) = manifest_put(record)?;
                Some(ManifestPush {
                    repository,
                    reference,
                    size: record.bytes,
                })
            })
            .collect()
    }

    /// The bytes of every blob and manifest uploaded.
    pub fn bytes_uploaded(&self) -> u64 {
        self.records.iter().map(|record| record.bytes).sum()
    }

    /// The records from `start` on: what happened after an earlier look
    /// (`let mark = registry.requests()?.len();` … `.since(mark)`).
    pub fn since(&self, start: usize) -> RequestLog {
        RequestLog {
            records: self.records.get(start..).unwrap_or_default().to_vec(),
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

fn record(entry: &Value, storage: &Path) -> Result<RequestRecord> {
    let text = |key: &str| {
        entry[key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no {key}"))
    };
    let number = |key: &str| {
        entry[key]
            .as_u64()
            .ok_or_else(|| anyhow!("no number {key}"))
    };
    let uri = text("http.request.uri")?;
    let (path, query) = uri.split_once('?').unwrap_or((&uri, ""));
    let mut record = RequestRecord {
        method: text("http.request.method")?,
        path: path.to_string(),
        query: query.to_string(),
        status: u16::try_from(number("http.response.status")?)?,
        bytes: 0,
        response_bytes: number("http.response.written")?,
    };
    record.bytes = stored_bytes(&record, storage)?;
    Ok(record)
}

/// The size of what `record` stored (0 when it stored nothing).
fn stored_bytes(record: &RequestRecord, storage: &Path) -> Result<u64> {
    if let Some((_, digest)) = completed_upload(record) {
        return blob_size(storage, &digest);
    }
    if let Some((repository, reference)) = manifest_put(record) {
        let digest = if reference.starts_with("sha256:") {
            reference
        } else {
            tag_digest(storage, &repository, &reference)?
        };
        return blob_size(storage, &digest);
    }
    Ok(0)
}

/// `(repository, digest)` of a PUT that completed a blob upload.
fn completed_upload(record: &RequestRecord) -> Option<(String, String)> {
    if record.method != "PUT" || record.status != 201 {
        return None;
    }
    let (repository, _id) = split_v2(&record.path, "/blobs/uploads/")?;
    let digest = query_value(&record.query, "digest")?;
    Some((repository, digest))
}

/// `(repository, reference)` of a PUT that stored a manifest.
fn manifest_put(record: &RequestRecord) -> Option<(String, String)> {
    if record.method != "PUT" || record.status != 201 {
        return None;
    }
    split_v2(&record.path, "/manifests/")
}

/// `/v2/<repository><separator><rest>` → `(repository, rest)`; repository
/// names may hold `/`.
fn split_v2(path: &str, separator: &str) -> Option<(String, String)> {
    let inner = path.strip_prefix("/v2/")?;
    let at = inner.rfind(separator)?;
    let rest = &inner[at + separator.len()..];
    (at > 0 && !rest.is_empty()).then(|| (inner[..at].to_string(), rest.to_string()))
}

fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// The registry's filesystem layout (distribution 2.x): blobs by digest.
fn blob_size(storage: &Path, digest: &str) -> Result<u64> {
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|hex| hex.len() == 64)
        .ok_or_else(|| anyhow!("not a sha256 digest: {digest}"))?;
    let data = storage
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    Ok(fs::metadata(&data)
        .with_context(|| format!("reading the size of {}", data.display()))?
        .len())
}

/// The digest a tag points at now. A tag moved by a later push reports the
/// later manifest: look at the log before pushing the same tag again.
fn tag_digest(storage: &Path, repository: &str, tag: &str) -> Result<String> {
    let link = storage
        .join("docker/registry/v2/repositories")
        .join(repository)
        .join("_manifests/tags")
        .join(tag)
        .join("current/link");
    let digest =
        fs::read_to_string(&link).with_context(|| format!("reading {}", link.display()))?;
    Ok(digest.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYER: &str = "d6dac1f4f425c123d1cb0f0482a11de8b8be7d912c597c6052c0a6f27249eb4d";
    const MANIFEST: &str = "519d3a94c4f5d5ea1704f683a65a2d7ccfc08f0d63e9c3f99e59d7e9f1662f6c";

    fn line(method: &str, uri: &str, status: u16, written: u64) -> String {
        serde_json::json!({
            "http.request.method": method,
            "http.request.uri": uri,
            "http.response.status": status,
            "http.response.written": written,
            "level": "info",
            "msg": "response completed",
        })
        .to_string()
    }

    fn storage_with(blobs: &[(&str, usize)], tags: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (hex, size) in blobs {
            let blob = dir
                .path()
                .join("docker/registry/v2/blobs/sha256")
                .join(&hex[..2])
                .join(hex);
            fs::create_dir_all(&blob).unwrap();
            fs::write(blob.join("data"), vec![7u8; *size]).unwrap();
        }
        for (repository, tag, hex) in tags {
            let current = dir
                .path()
                .join("docker/registry/v2/repositories")
                .join(repository)
                .join("_manifests/tags")
                .join(tag)
                .join("current");
            fs::create_dir_all(&current).unwrap();
            fs::write(current.join("link"), format!("sha256:{hex}")).unwrap();
        }
        dir
    }

    #[test]
    fn a_completed_upload_counts_its_blob_once() {
        let storage = storage_with(
            &[(LAYER, 193), (MANIFEST, 412)],
            &[("team/base", "3.13", MANIFEST)],
        );
        let log = [
            r#"{"level":"info","msg":"listening on 127.0.0.1:5000"}"#.to_string(),
            "not json at all".to_string(),
            line("GET", "/v2/", 200, 2),
            line(
                "HEAD",
                &format!("/v2/team/base/blobs/sha256:{LAYER}"),
                404,
                157,
            ),
            line("POST", "/v2/team/base/blobs/uploads/", 202, 0),
            line(
                "PATCH",
                "/v2/team/base/blobs/uploads/u1?_state=abc%3D",
                202,
                0,
            ),
            line(
                "PUT",
                &format!("/v2/team/base/blobs/uploads/u1?_state=def&digest=sha256%3A{LAYER}"),
                201,
                0,
            ),
            line("PUT", "/v2/team/base/manifests/3.13", 201, 0),
        ]
        .join("\n");
        let parsed = RequestLog::parse(&log, storage.path()).unwrap();
        assert_eq!(parsed.len(), 6);
        let methods: Vec<_> = parsed.records.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(methods, ["GET", "HEAD", "POST", "PATCH", "PUT", "PUT"]);
        assert_eq!(parsed.records[3].path, "/v2/team/base/blobs/uploads/u1");
        assert_eq!(parsed.records[3].query, "_state=abc%3D");
        assert_eq!(parsed.records[1].status, 404);
        assert_eq!(parsed.records[1].response_bytes, 157);
        assert_eq!(
            parsed.blob_uploads(),
            [BlobUpload {
                repository: "team/base".into(),
                digest: format!("sha256:{LAYER}"),
                size: 193,
            }]
        );
        assert_eq!(
            parsed.manifest_pushes(),
            [ManifestPush {
                repository: "team/base".into(),
                reference: "3.13".into(),
                size: 412,
            }]
        );
        assert_eq!(parsed.bytes_uploaded(), 193 + 412);
        assert_eq!(parsed.since(4).bytes_uploaded(), 193 + 412);
        assert_eq!(parsed.since(5).blob_uploads(), []);
        assert!(parsed.since(99).is_empty());
    }

    #[test]
    fn failed_puts_and_reads_store_nothing() {
        let storage = storage_with(&[(LAYER, 10)], &[]);
        let log = [
            line(
                "PUT",
                &format!("/v2/base/blobs/uploads/u1?digest=sha256%3A{LAYER}"),
                400,
                90,
            ),
            line("GET", &format!("/v2/base/blobs/sha256:{LAYER}"), 200, 10),
            line(
                "PUT",
                &format!("/v2/base/manifests/sha256:{MANIFEST}"),
                400,
                80,
            ),
        ]
        .join("\n");
        let parsed = RequestLog::parse(&log, storage.path()).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed.bytes_uploaded(), 0);
        assert!(parsed.blob_uploads().is_empty());
        assert!(parsed.manifest_pushes().is_empty());
    }

    #[test]
    fn a_manifest_pushed_by_digest_is_sized_by_that_digest() {
        let storage = storage_with(&[(MANIFEST, 321)], &[]);
        let log = line(
            "PUT",
            &format!("/v2/base/manifests/sha256:{MANIFEST}"),
            201,
            0,
        );
        let parsed = RequestLog::parse(&log, storage.path()).unwrap();
        assert_eq!(parsed.manifest_pushes()[0].size, 321);
        assert_eq!(
            parsed.manifest_pushes()[0].reference,
            format!("sha256:{MANIFEST}")
        );
    }

    #[test]
    fn a_request_line_without_its_fields_is_an_error() {
        let storage = tempfile::tempdir().unwrap();
        let log = r#"{"msg":"response completed","http.request.method":"GET"}"#;
        let error = RequestLog::parse(log, storage.path()).unwrap_err();
        assert!(
            format!("{error:#}").contains("no http.request.uri"),
            "{error:#}"
        );
    }
}
