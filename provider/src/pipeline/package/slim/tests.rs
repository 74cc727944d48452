//! The slim tree: what is dropped and kept, and shared objects stripped
//! that still load (built here with the machine's C compiler, `cc`).

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::build::elf::{Builder, SectionData};

use super::*;

#[test]
fn tests_headers_stubs_and_caches_are_dropped_and_modules_kept() {
    for name in [
        "numpy/_core/tests/test_api.py",
        "pandas/tests/frame/test_api.py",
        "joblib/test/test_parallel.py",
        "pkg/__pycache__/mod.cpython-313.pyc",
        "numpy/_core/include/numpy/ndarrayobject.h",
        "pyarrow/include/arrow/api.hpp",
        "x/y.hh",
        "x/y.hxx",
        "x/y.h++",
        "x/kernel.cuh",
        "numpy/__init__.pyi",
        "sklearn/tree/_tree.pyx",
        "sklearn/tree/_tree.pxd",
        "pkg/defs.pxi",
        "tests/conftest.py",
        "pyarrow/conftest.py",
    ] {
        assert!(dropped(name, &BTreeSet::new()), "{name} is dropped");
    }
    for name in [
        "numpy/testing/__init__.py",
        "pandas/_testing/__init__.py",
        "numpy/_core/_multiarray_umath.cpython-313-x86_64-linux-gnu.so",
        "pkg/tests.py",
        "pkg/test_utils.py",
        "pkg/contest/mod.py",
        "pkg/data.hdf5",
        "pkg/py.typed",
        "numpy-2.1.0.dist-info/METADATA",
        "pkg/.h",
    ] {
        assert!(!dropped(name, &BTreeSet::new()), "{name} is kept");
    }
}

#[test]
fn imports_are_read_as_paths_from_the_root() {
    let src = "import os, numpy.tests.x as y\n\
               from numpy._core.tests._natype import pd_NA  # runtime\n\
               from . import tests, other as o\n\
               from ..test.helpers import (a,\n\
               def f():\n    from .tests import z\n";
    let got = imports("pkg/sub/mod.py", src);
    for want in [
        "os",
        "numpy/tests/x",
        "numpy/_core/tests/_natype/pd_NA",
        "numpy/_core/tests/_natype",
        "pkg/sub/tests",
        "pkg/sub/other",
        "pkg/test/helpers/a",
        "pkg/sub/tests/z",
    ] {
        assert!(got.iter().any(|g| g == want), "{want} in {got:?}");
    }
}

#[test]
fn javascript_requires_and_imports_are_read_as_paths_from_the_root() {
    let src = "const a = require(\"./test/helper\");\n\
               const b = require('../lib/x.js');\n\
               import c from \"other/test/util\";\n\
               const d = await import(`./dyn`);\n";
    let got = imports("node_modules/pkg/src/index.js", src);
    for want in [
        "node_modules/pkg/src/test/helper",
        "node_modules/pkg/lib/x.js",
        "node_modules/other/test/util",
        "node_modules/pkg/src/dyn",
    ] {
        assert!(got.iter().any(|g| g == want), "{want} in {got:?}");
    }
}

#[test]
fn a_node_test_directory_a_kept_module_requires_stays() {
    let from = tempfile::tempdir().unwrap();
    tree(
        from.path(),
        &[
            (
                "node_modules/pkg/index.js",
                b"module.exports = require('./test/fixtures');\n",
            ),
            (
                "node_modules/pkg/test/fixtures.js",
                b"module.exports = 1;\n",
            ),
            ("node_modules/pkg/test/test.js", b"require('assert');\n"),
            ("node_modules/other/index.js", b"module.exports = 2;\n"),
            (
                "node_modules/other/test/index.js",
                b"require('../index');\n",
            ),
        ],
    );
    let files = source::scan_limited(from.path(), u64::MAX).unwrap().files;
    let kept = kept_test_dirs(&files).unwrap();
    assert_eq!(
        kept.iter().map(String::as_str).collect::<Vec<_>>(),
        ["node_modules/pkg/test"]
    );
}

#[test]
fn a_test_directory_a_kept_module_imports_from_stays_whole() {
    let from = tempfile::tempdir().unwrap();
    tree(
        from.path(),
        &[
            ("numpy/__init__.py", b"from . import testing\n"),
            (
                "numpy/testing/_private/utils.py",
                b"from numpy._core.tests._natype import pd_NA\n",
            ),
            (
                "numpy/_core/tests/_natype.py",
                b"from .helpers import h\npd_NA = 1\n",
            ),
            (
                "numpy/_core/tests/helpers.py",
                b"from numpy.lib.tests.util import h\n",
            ),
            (
                "numpy/_core/tests/test_api.py",
                b"import numpy.linalg.tests.util\n",
            ),
            ("numpy/_core/tests/include/x.h", b"int x;\n"),
            ("numpy/lib/tests/util.py", b"h = 1\n"),
            (
                "numpy/lib/tests/test_lib.py",
                b"import numpy.f2py.tests.util\n",
            ),
            // Imported only by a test file of a kept directory: goes.
            ("numpy/linalg/tests/__init__.py", b""),
            ("numpy/linalg/tests/util.py", b"h = 1\n"),
            ("numpy/f2py/tests/util.py", b"h = 1\n"),
            ("numpy/ma/tests/test_ma.py", b"assert True\n"),
            // pytest's configuration imports tests too, but goes itself.
            ("numpy/conftest.py", b"import numpy.ma.tests.test_ma\n"),
        ],
    );
    let files = source::scan_limited(from.path(), u64::MAX).unwrap().files;
    let kept = kept_test_dirs(&files).unwrap();
    assert_eq!(
        kept.iter().map(String::as_str).collect::<Vec<_>>(),
        ["numpy/_core/tests", "numpy/lib/tests"],
        "imported, directly or through a module imported there"
    );
    let into = tempfile::tempdir().unwrap();
    derive(from.path(), into.path()).unwrap();
    assert_eq!(
        names(into.path()),
        [
            "numpy/__init__.py",
            "numpy/_core/tests/_natype.py",
            "numpy/_core/tests/helpers.py",
            "numpy/_core/tests/test_api.py",
            "numpy/lib/tests/test_lib.py",
            "numpy/lib/tests/util.py",
            "numpy/testing/_private/utils.py",
        ]
    );
}

#[test]
fn shared_objects_are_known_by_name() {
    for name in [
        "a/_x.cpython-313-x86_64-linux-gnu.so",
        "numpy.libs/libopenblas64_p-r0.so.0.3.29",
        "lib/libz.so.1",
    ] {
        assert!(is_shared_object(name), "{name}");
    }
    for name in [".so", "a/b.sox", "a/libz.so.x", "a/libz.so.", "a/sofa.py"] {
        assert!(!is_shared_object(name), "{name}");
    }
}

/// Writes `files` (name → content) under `root`.
fn tree(root: &Path, files: &[(&str, &[u8])]) {
    for (name, content) in files {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
}

fn names(root: &Path) -> Vec<String> {
    source::scan_limited(root, u64::MAX)
        .unwrap()
        .files
        .into_iter()
        .map(|f| f.name)
        .collect()
}

#[test]
fn the_slim_tree_keeps_the_modules_as_they_are() {
    let from = tempfile::tempdir().unwrap();
    tree(
        from.path(),
        &[
            ("pkg/__init__.py", b"from .core import f\n"),
            ("pkg/core.py", b"def f(): return 1\n"),
            ("pkg/core.pyi", b"def f() -> int: ...\n"),
            ("pkg/tests/test_core.py", b"assert True\n"),
            ("pkg/include/pkg.h", b"int f(void);\n"),
            ("pkg/_fast.so", b"\x7fELF not really an ELF file"),
            ("pkg/_not_elf.so", b"just bytes"),
            ("pkg-1.0.dist-info/RECORD", b"pkg/__init__.py,,\n"),
        ],
    );
    let into = tempfile::tempdir().unwrap();
    let s = derive(from.path(), into.path()).unwrap();
    assert_eq!(
        names(into.path()),
        [
            "pkg-1.0.dist-info/RECORD",
            "pkg/__init__.py",
            "pkg/_fast.so",
            "pkg/_not_elf.so",
            "pkg/core.py",
        ]
    );
    assert_eq!((s.kept, s.dropped, s.stripped), (5, 3, 0));
    // A file that cannot be read as ELF is kept byte for byte.
    assert_eq!(
        fs::read(into.path().join("pkg/_fast.so")).unwrap(),
        b"\x7fELF not really an ELF file"
    );
    assert_eq!(
        fs::read(into.path().join("pkg/core.py")).unwrap(),
        b"def f(): return 1\n"
    );
    // The installed tree is untouched.
    assert!(from.path().join("pkg/tests/test_core.py").is_file());
}

/// The machine's C compiler; these tests need it (scripts/setup-system-tools.sh
/// installs gcc).
fn cc() -> &'static str {
    let ok = Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "no C compiler `cc`: run scripts/setup-system-tools.sh (it installs gcc)"
    );
    "cc"
}

/// An unstripped shared object with debug information, a static function
/// and an exported `slim_add`.
fn build_library(dir: &Path) -> PathBuf {
    let c = dir.join("add.c");
    fs::write(
        &c,
        "static int twice(int x) { return 2 * x; }\n\
         int slim_add(int a, int b) { return twice(a) / 2 + b; }\n",
    )
    .unwrap();
    let so = dir.join("libadd.so");
    let out = Command::new(cc())
        .args(["-shared", "-fPIC", "-g", "-O0", "-o"])
        .arg(&so)
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    so
}

fn section_names(path: &Path) -> Vec<String> {
    let data = fs::read(path).unwrap();
    let b = Builder::read(&*data).expect("reads as ELF");
    b.sections
        .iter()
        .map(|s| String::from_utf8_lossy(&s.name).into_owned())
        .collect()
}

fn dynamic_symbols(path: &Path) -> Vec<String> {
    let data = fs::read(path).unwrap();
    let b = Builder::read(&*data).expect("reads as ELF");
    let mut v: Vec<String> = b
        .dynamic_symbols
        .iter()
        .map(|s| String::from_utf8_lossy(&s.name).into_owned())
        .collect();
    v.sort();
    v
}

/// `slim_add(a, b)` called through the dynamic loader.
fn call_add(so: &Path, a: i32, b: i32) -> i32 {
    let path = CString::new(so.as_os_str().as_encoded_bytes()).unwrap();
    let sym = CString::new("slim_add").unwrap();
    // SAFETY: the library is the one built above; `slim_add` has the C
    // signature `int (int, int)`.
    unsafe {
        let h = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(!h.is_null(), "dlopen {}", so.display());
        let f = libc::dlsym(h, sym.as_ptr());
        assert!(!f.is_null(), "slim_add is exported");
        let add: extern "C" fn(i32, i32) -> i32 = std::mem::transmute(f);
        add(a, b)
    }
}

#[test]
fn a_shared_object_loses_its_debug_symbols_and_still_loads() {
    let d = tempfile::tempdir().unwrap();
    let so = build_library(d.path());
    let before = section_names(&so);
    assert!(before.iter().any(|n| n == ".debug_info") && before.iter().any(|n| n == ".symtab"));
    let out = d.path().join("libadd.stripped.so");
    let outcome = elf::strip(&so, &out).unwrap();
    let elf::Outcome::Stripped { before: b, after } = outcome else {
        panic!("not stripped: {outcome:?}");
    };
    assert_eq!(b, fs::metadata(&so).unwrap().len());
    assert_eq!(after, fs::metadata(&out).unwrap().len());
    assert!(after < b, "{after} < {b}");
    let after_names = section_names(&out);
    assert!(
        !after_names
            .iter()
            .any(|n| n.starts_with(".debug_") || n == ".symtab" || n == ".strtab"),
        "{after_names:?}"
    );
    for kept in [".dynsym", ".dynstr", ".dynamic", ".text"] {
        assert!(after_names.iter().any(|n| n == kept), "{kept} kept");
    }
    assert_eq!(dynamic_symbols(&out), dynamic_symbols(&so));
    assert!(dynamic_symbols(&out).iter().any(|n| n == "slim_add"));
    assert_eq!(
        fs::metadata(&out).unwrap().permissions(),
        fs::metadata(&so).unwrap().permissions()
    );
    assert_eq!(call_add(&out, 20, 22), 42);
    // Stripping again is the same bytes (deterministic), and a stripped
    // library has nothing left to strip.
    let again = d.path().join("libadd.again.so");
    elf::strip(&so, &again).unwrap();
    assert_eq!(fs::read(&again).unwrap(), fs::read(&out).unwrap());
    let twice = d.path().join("libadd.twice.so");
    assert_eq!(elf::strip(&out, &twice).unwrap(), elf::Outcome::Unchanged);
    assert!(!twice.exists());
}

#[test]
fn a_slim_tree_strips_its_shared_objects_and_is_the_same_every_time() {
    let d = tempfile::tempdir().unwrap();
    let so = build_library(d.path());
    let from = tempfile::tempdir().unwrap();
    tree(from.path(), &[("pkg/__init__.py", b"")]);
    let libs = from.path().join("pkg.libs");
    fs::create_dir_all(&libs).unwrap();
    fs::copy(&so, libs.join("libadd.so.1.2")).unwrap();
    fs::copy(
        &so,
        from.path().join("pkg/_add.cpython-313-x86_64-linux-gnu.so"),
    )
    .unwrap();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let sa = derive(from.path(), a.path()).unwrap();
    let sb = derive(from.path(), b.path()).unwrap();
    assert_eq!(sa, sb);
    assert_eq!((sa.kept, sa.stripped), (3, 2));
    let size = fs::metadata(&so).unwrap().len();
    for name in names(a.path()) {
        let x = fs::read(a.path().join(&name)).unwrap();
        assert_eq!(x, fs::read(b.path().join(&name)).unwrap(), "{name}");
        if name.contains(".so") {
            assert!((x.len() as u64) < size, "{name} is stripped");
            assert_eq!(call_add(&a.path().join(&name), 1, 2), 3);
        }
    }
    assert_eq!(
        sa.size,
        names(a.path())
            .iter()
            .map(|n| fs::metadata(a.path().join(n)).unwrap().len())
            .sum::<u64>()
    );
    // The section data the loader maps is unchanged.
    let data = fs::read(a.path().join("pkg.libs/libadd.so.1.2")).unwrap();
    let text = |bytes: &[u8]| -> Vec<u8> {
        let b = Builder::read(bytes).unwrap();
        b.sections
            .iter()
            .find(|s| &*s.name == b".text")
            .and_then(|s| match &s.data {
                SectionData::Data(d) => Some(d.to_vec()),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(text(&data), text(&fs::read(&so).unwrap()));
}
