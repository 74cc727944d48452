//! BENCHMARKS.md: the machine, the command, one table row per figure and
//! the details behind each row. Hand-written notes after [`NOTES_MARKER`]
//! in an existing file are kept.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::machine::Machine;

pub const NOTES_MARKER: &str =
    "<!-- Notes below this line are written by hand and kept by `make bench`. -->";

/// One line of the summary table.
pub struct Row {
    pub figure: &'static str,
    pub what: String,
    pub result: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    /// `None` when the figure has no target.
    pub met: Option<bool>,
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// (title, markdown body): command, sizes and every number behind a row.
    pub sections: Vec<(String, String)>,
}

impl Report {
    pub fn row(&mut self, row: Row) {
        eprintln!(
            "[bench] figure {}: {} = {} vs {} ({})",
            row.figure, row.what, row.result, row.baseline, row.ratio
        );
        self.rows.push(row);
    }

    pub fn section(&mut self, title: impl Into<String>, body: impl Into<String>) {
        self.sections.push((title.into(), body.into()));
    }

    pub fn render(&self, machine: &Machine, command: &str, quick: bool, terraform: &str) -> String {
        let mut s = String::new();
        s.push_str("# Benchmarks\n\n");
        s.push_str(
            "Written by `make bench` (the `bench` crate) from one run; every repeated figure is \
             the median with min–max and the number of repeats. Each figure is compared with a \
             baseline measured in the same run, on the same machine.\n\n",
        );
        if quick {
            s.push_str(
                "**Quick mode: small sizes, few repeats — these numbers mean nothing.**\n\n",
            );
        }
        let _ = writeln!(s, "- Command: `{command}`");
        let _ = writeln!(
            s,
            "- Machine: {} CPUs ({}), {} MB memory, {}",
            machine.cpus, machine.cpu_model, machine.memory_mb, machine.os
        );
        let _ = writeln!(
            s,
            "- Terraform {terraform}; AWS emulator: moto server on loopback; provider built with \
             the release profile unless the command says otherwise\n"
        );
        s.push_str("| # | Figure | Result | Baseline | Ratio | Target | Met |\n");
        s.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.figure, r.what, r.result, r.baseline, r.ratio, r.target, met
            );
        }
        s.push('\n');
        for (title, body) in &self.sections {
            let _ = write!(s, "## {title}\n\n{}\n\n", body.trim_end());
        }
        s
    }
}

/// Writes the report, keeping hand-written notes from an earlier file.
pub fn write(path: &Path, generated: &str) -> Result<()> {
    let notes = fs::read_to_string(path)
        .ok()
        .and_then(|old| {
            old.split_once(NOTES_MARKER)
                .map(|(_, notes)| notes.to_owned())
        })
        .unwrap_or_else(|| "\n".to_owned());
    fs::write(path, format!("{generated}{NOTES_MARKER}{notes}"))?;
    Ok(())
}
