//! Wheels the tests make themselves, so pip installs offline: a package
//! with a module and a data file of noise no compressor can shrink, as
//! large as a test needs (the data and ML stack's size, without its wheels).

use std::io::Write;
use std::path::{Path, PathBuf};

/// `n` bytes no deflate or gzip can shrink (xorshift noise).
pub fn incompressible(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A pure-Python wheel `<name>-<version>-py3-none-any.whl` in `dir`: the
/// module `<name>` (whose `size()` returns the data's length, read from the
/// installed file) and `<name>/data.bin` of `data_bytes` of noise, stored
/// uncompressed as the wheels of native libraries mostly are.
pub fn data_wheel(dir: &Path, name: &str, version: &str, data_bytes: usize) -> PathBuf {
    let path = dir.join(format!("{name}-{version}-py3-none-any.whl"));
    let info = format!("{name}-{version}.dist-info");
    let module = "import os\n\n\ndef size():\n    \
                  return os.path.getsize(os.path.join(os.path.dirname(__file__), 'data.bin'))\n";
    let text = [
        (format!("{name}/__init__.py"), module.to_owned()),
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
        ),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: eventpipe-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_owned(),
        ),
    ];
    let data = format!("{name}/data.bin");
    let mut record: String = text.iter().map(|(n, _)| format!("{n},,\n")).collect();
    record.push_str(&format!("{data},,\n{info}/RECORD,,\n"));
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).expect("wheel file"));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(data_bytes >= u32::MAX as usize);
    z.start_file(data.as_str(), stored).expect("wheel entry");
    z.write_all(&incompressible(data_bytes))
        .expect("wheel data");
    for (n, body) in text.iter().chain([&(format!("{info}/RECORD"), record)]) {
        z.start_file(n.as_str(), stored).expect("wheel entry");
        z.write_all(body.as_bytes()).expect("wheel body");
    }
    z.finish().expect("wheel");
    path
}
