//! The bench runs end to end at small sizes and writes every figure. The
//! numbers are not checked: timing belongs to `make bench`, not to tests.

use std::path::PathBuf;
use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_bench");

/// The debug provider the rest of the suite uses (`make test` builds it).
fn provider() -> PathBuf {
    match std::env::var_os("EVENTPIPE_PROVIDER_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => tests::tools::target_dir().join("debug/terraform-provider-eventpipe"),
    }
}

#[test]
fn quick_bench_writes_every_figure_with_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BENCHMARKS.md");
    let provider = provider();
    assert!(
        provider.is_file(),
        "{} not built: run `cargo build -p terraform-provider-eventpipe`",
        provider.display()
    );
    let status = Command::new(BENCH)
        .arg("--quick")
        .arg("--out")
        .arg(&out)
        .arg("--provider")
        .arg(&provider)
        .status()
        .unwrap();
    assert!(status.success(), "bench --quick failed: {status}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("Quick mode"), "{text}");
    for figure in 1..=14 {
        let rows = text
            .lines()
            .filter(|l| l.starts_with(&format!("| {figure} |")))
            .count();
        assert!(rows >= 1, "figure {figure} has no row in:\n{text}");
        assert!(
            text.contains(&format!("## {figure}. ")),
            "figure {figure} has no details section in:\n{text}"
        );
    }
    for needle in ["Machine:", "Command:", "median", "| Baseline |"] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    // Every row names a baseline and a ratio computed from it.
    for row in text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
    {
        let cells: Vec<&str> = row.split(" | ").collect();
        if cells.len() >= 7 && cells[0] != "|---" {
            assert!(!cells[3].trim().is_empty(), "no baseline in {row}");
        }
    }
}
