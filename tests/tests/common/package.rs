//! The packages the dependency tests read and the npm packages they
//! install from, made offline.

use std::io::{Cursor, Read};
use std::path::Path;
use std::process::Command;

use super::output::process_text;

/// The text of the entry `name` of a zip (a package `eventpipe package`
/// wrote); fails the test when it is not there.
pub fn zip_entry(zip_bytes: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(Cursor::new(zip_bytes.to_vec())).expect("a zip");
    let mut s = String::new();
    z.by_name(name)
        .unwrap_or_else(|e| panic!("{name} in the package: {e}"))
        .read_to_string(&mut s)
        .expect("utf-8 entry");
    s
}

/// `tinyjs-1.0.0.tgz`, a one-function npm package (`greet()` returns
/// "hello from tinyjs"), packed into `vendor` with `npm pack`, offline.
pub fn pack_tinyjs(vendor: &Path) {
    let lib = tempfile::tempdir().unwrap();
    std::fs::write(
        lib.path().join("package.json"),
        r#"{"name":"tinyjs","version":"1.0.0","main":"index.js"}"#,
    )
    .unwrap();
    std::fs::write(
        lib.path().join("index.js"),
        "exports.greet = () => \"hello from tinyjs\";\n",
    )
    .unwrap();
    std::fs::create_dir_all(vendor).unwrap();
    let out = Command::new("npm")
        .args(["pack", "--offline", "--silent", "--pack-destination"])
        .arg(vendor)
        .current_dir(lib.path())
        .output()
        .expect("npm pack");
    assert!(out.status.success(), "npm pack: {}", process_text(&out));
}
