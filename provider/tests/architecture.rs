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

/// The registry client's crate (`oci-client`) ends in `registry/`: the
/// rest of the crate sees `ImageRef`, `Credentials`, `Resolved`, … .
#[test]
fn oci_client_types_end_in_the_registry_module() {
    let src = crate_dir().join("src");
    let mut offenders = Vec::new();
    for (path, text) in sources(&src) {
        if path.starts_with(src.join("registry")) {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains("oci_client") || line.contains("docker_credential") {
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

/// The decision of an apply is pure: `steps.rs`, its vocabulary
/// (`step.rs`) and the per-part decisions (`parts/`) have no `async` and
/// name nothing of `aws/` (the plain types a refresh found come through
/// `observed.rs`).
#[test]
fn steps_are_decided_without_async_or_aws() {
    let dir = crate_dir().join("src/pipeline");
    let mut files = vec![
        (
            dir.join("steps.rs"),
            fs::read_to_string(dir.join("steps.rs")).expect("steps.rs"),
        ),
        (
            dir.join("step.rs"),
            fs::read_to_string(dir.join("step.rs")).expect("step.rs"),
        ),
    ];
    let parts = sources(&dir.join("parts"));
    assert!(
        parts.len() >= 13,
        "one file per part: {} files",
        parts.len()
    );
    files.extend(parts);
    let mut bad = Vec::new();
    for (path, text) in &files {
        for (n, l) in code_lines(text) {
            if l.contains("async") || l.contains(".await") || l.contains("crate::aws::") {
                bad.push(format!("{}:{n}: {l}", path.display()));
            }
        }
    }
    assert!(bad.is_empty(), "the decision must stay pure: {bad:#?}");
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
    // in ARNs and S3 events, "queue" as a delivery, "image" as a package
    // type, "backfill" in a log line, "throttles" as a kind of alarm in
    // `naming::ALARM_KINDS` and the keys of `alarm_arns`), checked by the
    // other rules only.
    names.retain(|n| !["arn", "queue", "image", "backfill", "throttles"].contains(&n.as_str()));
    assert!(names.len() > 60, "found the schema's names: {names:?}");
    let mut offenders = Vec::new();
    for (path, text) in sources(&dir) {
        // The handler checks read Python and JavaScript, whose names
        // (`handler`, `name`, …) are not attributes.
        if path.components().any(|c| c.as_os_str() == "handler_check") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            // Keys of documents that are not ours: AWS's, and lock files'.
            if line.contains("// AWS's key") || line.contains("// the lock's key") {
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

/// The text of `text` before its first `#[cfg(test)]` module, and the
/// code lines only: what production code is.
fn production_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut lines = code_lines(text).peekable();
    while let Some((n, line)) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines.peek().is_some_and(|(_, l)| {
                let l = l.trim_start();
                let l = l
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub ");
                l.starts_with("mod ") && l.ends_with('{')
            })
        {
            // Skip the module: its braces balance on its closing line.
            let mut depth = 0i64;
            for (_, l) in lines.by_ref() {
                depth += braces(l);
                if depth <= 0 && l.contains('}') {
                    break;
                }
            }
            continue;
        }
        out.push((n, line));
    }
    out
}

/// `{` minus `}` on a line, outside string and character literals.
fn braces(line: &str) -> i64 {
    let mut depth = 0;
    let mut chars = line.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            '\'' if !in_str => {
                // A char literal ('{', '\''), not a lifetime ('a).
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') {
                    chars.nth(2);
                } else if rest.chars().nth(1) == Some('\'') {
                    chars.nth(1);
                }
            }
            '/' if !in_str && chars.peek() == Some(&'/') => break,
            '{' if !in_str => depth += 1,
            '}' if !in_str => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// The pipeline's layers, read from ARCHITECTURE.md's list ("Layers, from
/// the bottom up"): module name → layer.
fn pipeline_layers() -> std::collections::BTreeMap<String, usize> {
    layers_after("Layers, from the bottom up:")
}

/// The numbered list of layers that follows `marker` in ARCHITECTURE.md:
/// module name → layer.
fn layers_after(marker: &str) -> std::collections::BTreeMap<String, usize> {
    let map = fs::read_to_string(crate_dir().join("../ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let list = map
        .split_once(marker)
        .map(|(_, rest)| rest)
        .expect("ARCHITECTURE.md lists the layers");
    let mut layers = std::collections::BTreeMap::new();
    for line in list.lines().skip(1) {
        let Some((number, names)) = line.split_once(". ") else {
            break;
        };
        let Ok(layer) = number.trim().parse::<usize>() else {
            break;
        };
        // Only the first backticked names, before any parenthesis.
        let names = names.split('(').next().unwrap_or_default();
        for name in names.split('`').skip(1).step_by(2) {
            layers.insert(name.to_owned(), layer);
        }
    }
    layers
}

/// The module path a file of `provider/src/pipeline/` is (`ops/role.rs`:
/// `["ops", "role"]`, `ops/mod.rs`: `["ops"]`, `mod.rs`: `[]`).
fn module_path(dir: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(dir).expect("under pipeline/");
    let mut path: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = path.pop().expect("a file name");
    if last != "mod.rs" {
        path.push(last.trim_end_matches(".rs").to_owned());
    }
    path
}

/// The top-level pipeline modules a line names through `super::`,
/// `self::` or `crate::pipeline::`, for a file at module path `at`; the
/// pipeline's own root (`mod.rs`) is `"mod"`.
fn named_modules(at: &[String], line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(['s', 'c']) {
        let tail = &rest[i..];
        let before = line.len() - rest.len() + i;
        let boundary = before == 0
            || !line[..before]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        let mut base: Option<Vec<String>> = None;
        let mut after = tail;
        if boundary {
            if let Some(t) = tail.strip_prefix("crate::pipeline::") {
                base = Some(Vec::new());
                after = t;
            } else if tail.starts_with("super::") || tail.starts_with("self::") {
                let mut b = at.to_vec();
                let mut t = tail;
                if let Some(s) = t.strip_prefix("self::") {
                    t = s;
                }
                while let Some(s) = t.strip_prefix("super::") {
                    b.pop();
                    t = s;
                }
                base = Some(b);
                after = t;
            }
        }
        let Some(base) = base else {
            rest = &tail[1..];
            continue;
        };
        let top = |first: &str| -> String {
            if base.is_empty() {
                first.to_owned()
            } else {
                base[0].clone()
            }
        };
        if base.is_empty() && after.starts_with('{') {
            // `super::{a, b::c}`: the first name of each item.
            let inner = after[1..].split('}').next().unwrap_or_default();
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let first: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let is_module =
                after[first.len()..].starts_with("::") || after[first.len()..].starts_with(';');
            if base.is_empty()
                && (first.is_empty() || !is_module || first.starts_with(char::is_uppercase))
            {
                // An item of the root itself (`super::Context`).
                found.push("mod".to_owned());
            } else if !first.is_empty() || !base.is_empty() {
                found.push(top(&first));
            }
        }
        rest = &after[after.len().min(1)..];
    }
    found
}

/// ARCHITECTURE.md's layers: no file of `pipeline/` imports from a module
/// on a higher layer than its own (0 back-arrows).
#[test]
fn no_file_imports_from_a_higher_layer() {
    let dir = crate_dir().join("src/pipeline");
    let layers = pipeline_layers();
    assert!(layers.len() > 20, "read the layers: {layers:?}");
    let mut offenders = Vec::new();
    for (path, text) in sources(&dir) {
        let at = module_path(&dir, &path);
        let own = at.first().cloned().unwrap_or_else(|| "mod".to_owned());
        let Some(&own_layer) = layers.get(&own) else {
            offenders.push(format!("{}: module `{own}` is on no layer", path.display()));
            continue;
        };
        // Inline modules (`pub mod path { … }`) nest the module path.
        let mut inline: Vec<i64> = Vec::new();
        let mut depth = 0i64;
        let mut here = at.clone();
        for (n, line) in production_lines(&text) {
            let opens = line
                .trim_start()
                .trim_start_matches("pub ")
                .strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(" {"));
            for used in named_modules(&here, line) {
                if used == own {
                    continue;
                }
                match layers.get(&used) {
                    Some(&l) if l > own_layer => offenders.push(format!(
                        "{}:{n}: `{own}` (layer {own_layer}) uses `{used}` (layer {l}): {line}",
                        path.display()
                    )),
                    Some(_) => {}
                    None => offenders.push(format!(
                        "{}:{n}: `{used}` is on no layer: {line}",
                        path.display()
                    )),
                }
            }
            depth += braces(line);
            if let Some(name) = opens {
                here.push(name.to_owned());
                inline.push(depth - 1);
            }
            while inline.last().is_some_and(|&d| depth <= d) {
                inline.pop();
                here.pop();
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// The production functions of `pipeline/` longer than 120 lines, from
/// `fn` to the closing brace (`#[cfg(test)]` modules aside), as
/// `file:function` with their length.
fn long_functions() -> Vec<(String, usize)> {
    let dir = crate_dir().join("src/pipeline");
    let mut long = Vec::new();
    for (path, text) in sources(&dir) {
        let lines = production_lines(&text);
        let rel = path
            .strip_prefix(&dir)
            .expect("under pipeline/")
            .display()
            .to_string();
        let mut i = 0;
        while i < lines.len() {
            let (start, line) = lines[i];
            let code = line.trim_start();
            let Some(name) = code
                .split_once("fn ")
                .filter(|(before, _)| {
                    before.split_whitespace().all(|w| {
                        [
                            "pub",
                            "pub(crate)",
                            "pub(super)",
                            "async",
                            "const",
                            "unsafe",
                        ]
                        .contains(&w)
                    })
                })
                .map(|(_, after)| {
                    after
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|n| !n.is_empty())
            else {
                i += 1;
                continue;
            };
            // From the signature to the line where its braces balance; a
            // declaration without a body (`;` first) is not a function.
            let mut depth = 0i64;
            let mut opened = false;
            let mut j = i;
            while j < lines.len() {
                let l = lines[j].1;
                if !opened && depth == 0 && l.trim_end().ends_with(';') && !l.contains('{') {
                    break;
                }
                depth += braces(l);
                opened |= l.contains('{');
                if opened && depth <= 0 {
                    let length = lines[j].0 - start + 1;
                    if length > 120 {
                        long.push((format!("{rel}:{name}"), length));
                    }
                    break;
                }
                j += 1;
            }
            i += 1;
        }
    }
    long
}

/// No production function in `pipeline/` is over 120 lines.
#[test]
fn no_pipeline_function_is_over_120_lines() {
    let offenders: Vec<String> = long_functions()
        .into_iter()
        .map(|(name, length)| format!("{name}: {length} lines"))
        .collect();
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// ARCHITECTURE.md's crate layers: no file of `provider/src/` names, through
/// `crate::`, a top-level module on a higher layer than its own.
#[test]
fn no_module_of_the_crate_imports_from_a_higher_layer() {
    let dir = crate_dir().join("src");
    let layers = layers_after("Crate layers, from the bottom up:");
    assert!(layers.len() >= 8, "read the crate layers: {layers:?}");
    let mut offenders = Vec::new();
    for (path, text) in sources(&dir) {
        let rel = path.strip_prefix(&dir).expect("under src/");
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        let own = first.trim_end_matches(".rs").to_owned();
        if ["lib", "main", "bin"].contains(&own.as_str()) {
            continue;
        }
        let Some(&own_layer) = layers.get(&own) else {
            offenders.push(format!("{}: module `{own}` is on no layer", path.display()));
            continue;
        };
        for (n, line) in production_lines(&text) {
            for (i, _) in line.match_indices("crate::") {
                let boundary = !line[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$');
                let used: String = line[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !boundary || used.is_empty() || used == own {
                    continue;
                }
                match layers.get(&used) {
                    Some(&l) if l <= own_layer => {}
                    Some(&l) => offenders.push(format!(
                        "{}:{n}: `{own}` (layer {own_layer}) uses `{used}` (layer {l}): {}",
                        path.display(),
                        line.trim()
                    )),
                    None => offenders.push(format!(
                        "{}:{n}: `{used}` is on no crate layer: {}",
                        path.display(),
                        line.trim()
                    )),
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
