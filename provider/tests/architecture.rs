//! The invariants ARCHITECTURE.md states, checked on the source so that a
//! change that breaks one fails here, not in a reviewer's reading.

use std::fs;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("readable tree"))
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| {
            let text = fs::read_to_string(e.path()).expect("readable source");
            (e.path().to_owned(), text)
        })
        .collect()
}

/// Lines of `text` that are code (not `//` comments).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

#[test]
fn aws_sdk_types_end_in_the_aws_module() {
    let src = crate_dir().join("src");
    let mut offenders = Vec::new();
    for (path, text) in sources(&src) {
        if path.starts_with(src.join("aws")) {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains("aws_sdk_") {
                offenders.push(format!("{}:{n}: {line}", path.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn grpc_types_end_in_the_transport() {
    let src = crate_dir().join("src");
    let mut offenders = Vec::new();
    for (path, text) in sources(&src) {
        for (n, line) in code_lines(&text) {
            if line.contains("tfplugin_proto") || line.contains("tonic::") {
                offenders.push(format!("{}:{n}: {line}", path.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn the_sdk_crate_depends_on_no_aws_crate_and_no_crypto_backend() {
    let manifest = fs::read_to_string(crate_dir().join("tfsdk/Cargo.toml")).expect("manifest");
    for dep in ["aws-", "aws_lc", "ring"] {
        let hits: Vec<&str> = manifest
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter(|l| l.trim_start().starts_with(dep) || l.contains(&format!("\"{dep}")))
            .collect();
        assert!(hits.is_empty(), "tfsdk names {dep}: {hits:?}");
    }
    let mut offenders = Vec::new();
    for (path, text) in sources(&crate_dir().join("tfsdk/src")) {
        for (n, line) in code_lines(&text) {
            if line.contains("aws_") || line.contains("eventpipe") {
                offenders.push(format!("{}:{n}: {line}", path.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn steps_are_decided_without_async_or_aws() {
    let steps = fs::read_to_string(crate_dir().join("src/pipeline/steps.rs")).expect("steps.rs");
    let bad: Vec<(usize, &str)> = code_lines(&steps)
        .filter(|(_, l)| l.contains("async") || l.contains(".await") || l.contains("crate::aws::"))
        .collect();
    assert!(bad.is_empty(), "steps.rs must stay pure: {bad:?}");
}

/// Every attribute and block name of a schema block, nested ones included.
fn schema_names(block: &tfsdk::schema::Block, out: &mut Vec<String>) {
    out.extend(block.attributes.iter().map(|a| a.name.to_owned()));
    for b in &block.blocks {
        out.push(b.name.to_owned());
        schema_names(&b.block, out);
    }
}

/// An attribute name appears as a literal only in its declaration: the
/// declaration table in `state.rs` names each attribute by its field, and
/// everything else (decoding, encoding, the schema, `attr`, the migrations)
/// uses what the table makes. So no `"name"` of the schema is written
/// anywhere in `pipeline/`, `state.rs` and `schema.rs` included.
#[test]
fn an_attribute_name_appears_as_a_literal_only_in_its_declaration() {
    let dir = crate_dir().join("src/pipeline");
    let mut names = Vec::new();
    schema_names(&eventpipe::pipeline::schema::schema().block, &mut names);
    // Names that are also ordinary words of AWS documents or values ("arn"
    // in ARNs and S3 events, "queue" as a delivery, "backfill" in a log
    // line), checked by the other rules only.
    names.retain(|n| !["arn", "queue", "backfill"].contains(&n.as_str()));
    assert!(names.len() > 60, "found the schema's names: {names:?}");
    let mut offenders = Vec::new();
    for (path, text) in sources(&dir) {
        // The handler checks read Python and JavaScript, whose names
        // (`handler`, `name`, …) are not attributes.
        if path.components().any(|c| c.as_os_str() == "handler_check") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains("// AWS's key") {
                continue;
            }
            for name in &names {
                // As a string of its own, not inside a sentence or value.
                if line.contains(&format!("\"{name}\"")) {
                    offenders.push(format!("{}:{n}: {name}: {line}", path.display()));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
