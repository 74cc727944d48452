//! The fault tables' bookkeeping, shared by the test files that inject a
//! 403 at each call site a calibration run recorded (faults_*.rs, adopt.rs,
//! backfill.rs): the pipelines of a table, call sites numbered by
//! operation, the faults armed at them, Terraform's errors by pipeline, the
//! checks that a calibration saw what it must and that each fault was
//! reported, the table printed for the report, and the processes a test
//! kills or interrupts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tests::Output;
use tests::fault_proxy::{Call, Fault, FaultProxy, Outcome, Rule};

use super::flat;

/// One AWS call a pipeline makes: the `nth` call of `op` that mentions it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    pub op: String,
    pub nth: u32,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nth == 1 {
            write!(f, "{}", self.op)
        } else {
            write!(f, "{} (call {})", self.op, self.nth)
        }
    }
}

/// The pipelines of a table: `<prefix>01`, `<prefix>02`, … `n` of them.
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i:02}")).collect()
}

/// Each pipeline of `names` with its call site, in order (the longer of
/// the two is cut short).
pub fn table(names: &[String], sites: &[Site]) -> Vec<(String, Site)> {
    names.iter().cloned().zip(sites.iter().cloned()).collect()
}

/// A calibration of `phase` saw each operation of `must`.
pub fn assert_covers(phase: &str, sites: &[Site], must: &[&str]) {
    let ops: BTreeSet<&str> = sites.iter().map(|s| s.op.as_str()).collect();
    for m in must {
        assert!(
            ops.contains(m),
            "{phase}: calibration did not see {m}; saw {ops:?}"
        );
    }
}

/// The calls mentioning `name`, each numbered by its occurrence of its
/// operation; those numbered at most `skip[op]` are left out.
pub fn sites(calls: &[Call], name: &str, skip: &BTreeMap<String, u32>) -> Vec<Site> {
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut out = Vec::new();
    for c in calls.iter().filter(|c| c.mentions(name)) {
        let n = seen.entry(c.op.clone()).or_insert(0);
        *n += 1;
        if *n > skip.get(&c.op).copied().unwrap_or(0) {
            out.push(Site {
                op: c.op.clone(),
                nth: *n,
            });
        }
    }
    out
}

/// How many calls of each operation mention `name`.
pub fn op_counts(calls: &[Call], name: &str) -> BTreeMap<String, u32> {
    let mut m = BTreeMap::new();
    for c in calls.iter().filter(|c| c.mentions(name)) {
        *m.entry(c.op.clone()).or_insert(0) += 1;
    }
    m
}

/// Arms one AccessDenied per pipeline, each at its own call site.
pub fn arm(proxy: &FaultProxy, table: &[(String, Site)]) {
    for (name, site) in table {
        proxy.add_rule(
            Rule::on(&site.op)
                .containing(name)
                .nth(site.nth)
                .fail(Fault::AccessDenied),
        );
    }
}

/// Whether the fault armed at `site` for `name` answered a call.
pub fn fired(proxy: &FaultProxy, name: &str, site: &Site) -> bool {
    proxy.calls().iter().any(|c| {
        c.op == site.op && c.mentions(name) && matches!(c.outcome, Outcome::Failed(403, _))
    })
}

/// The words AWS uses for the injected AccessDenied of `op`.
pub fn denied_words(op: &str) -> String {
    if op == "s3:HeadBucket" {
        // S3 answers a HEAD with the status alone; the provider says so.
        "Forbidden: HTTP 403, with no error details".to_owned()
    } else if op.starts_with("s3:") {
        "AccessDenied: Access Denied".to_owned()
    } else {
        format!("not authorized to perform: {op}")
    }
}

/// Terraform's errors, flattened, by the pipeline they are about.
pub fn errors_by_resource(out: &Output) -> BTreeMap<String, Vec<String>> {
    let text = flat(out);
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in text.split("Error: ").skip(1) {
        // Plan and apply errors carry the resource address; destroy errors
        // carry none, so the provider names the pipeline in the text.
        let owner = block
            .split("with eventpipe_event_pipeline.")
            .nth(1)
            .and_then(|r| r.split([',', ' ']).next())
            .or_else(|| {
                block
                    .split("Destroying pipeline \"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
            })
            .unwrap_or("")
            .to_owned();
        map.entry(owner).or_default().push(block.to_owned());
    }
    map
}

/// Every pipeline's error names its step and carries AWS's words.
pub fn assert_each_failed(out: &Output, table: &[(String, Site)], proxy: &FaultProxy) {
    let errors = errors_by_resource(out);
    for (name, site) in table {
        assert!(
            fired(proxy, name, site),
            "the fault at {site} for {name} never fired"
        );
        let mine = errors.get(name).cloned().unwrap_or_default().join("\n");
        assert!(
            mine.contains(&site.op) && mine.contains(&denied_words(&site.op)),
            "{name}: the error should name {} with AWS's words {:?}; got {mine:?}\n{out}",
            site.op,
            denied_words(&site.op)
        );
    }
}

/// The diagnostics of `severity` (`error`, `warning`) in the output of a
/// command run with `-json`, as summary and detail, by resource name.
/// (The human output folds warnings with the same summary into one.)
pub fn json_diagnostics(out: &Output, severity: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let d = &msg["diagnostic"];
        if msg["type"] != "diagnostic" || d["severity"] != severity {
            continue;
        }
        let owner = d["address"]
            .as_str()
            .and_then(|a| a.strip_prefix("eventpipe_event_pipeline."))
            .unwrap_or("")
            .to_owned();
        let text = format!(
            "{}: {}",
            d["summary"].as_str().unwrap_or(""),
            d["detail"].as_str().unwrap_or("")
        );
        map.entry(owner).or_default().push(super::folded(&text));
    }
    map
}

/// Every pipeline's diagnostic names the failed operation in AWS's words
/// (the table's names are the resource names, and appear in the text of
/// diagnostics without an address); `by` holds the diagnostics by resource
/// name.
pub fn assert_each_reported(
    out: &Output,
    by: &BTreeMap<String, Vec<String>>,
    table: &[(String, Site)],
    proxy: &FaultProxy,
) {
    for (name, site) in table {
        assert!(
            fired(proxy, name, site),
            "the fault at {site} for {name} never fired"
        );
        // Diagnostics Terraform gives no address (an import's, a refresh's
        // after an import) name the pipeline in their text.
        let unplaced = by
            .get("")
            .into_iter()
            .flatten()
            .filter(|d| d.contains(name.as_str()));
        let mine: Vec<String> = by
            .get(name)
            .into_iter()
            .flatten()
            .chain(unplaced)
            .cloned()
            .collect();
        let mine = mine.join("\n");
        assert!(
            mine.contains(&site.op) && mine.contains(&denied_words(&site.op)),
            "{name}: the diagnostic should name {} with AWS's words {:?}; got {mine:?}\n{out}",
            site.op,
            denied_words(&site.op)
        );
    }
}

/// The table of a test for the report: each pipeline, the call site that
/// failed it, and what the failed run left.
pub fn print_table<S: std::fmt::Display>(title: &str, rows: &[(String, S, String)]) {
    eprintln!("\n{title}");
    eprintln!("| pipeline | call site (403 AccessDenied) | after the failed run | orphans |");
    eprintln!("|---|---|---|---|");
    for (name, site, outcome) in rows {
        eprintln!("| {name} | {site} | {outcome} | 0 |");
    }
}

/// Processes running in `dir` whose program (argv[0]) satisfies `is`
/// (Terraform starts its plugins in its own directory).
pub fn pids(dir: &Path, is: impl Fn(&str) -> bool) -> Vec<i32> {
    let dir: PathBuf = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cwd = std::fs::read_link(e.path().join("cwd")).ok();
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let argv0 = cmd.split(|b| *b == 0).next().unwrap_or_default();
        if cwd.as_deref() == Some(dir.as_path()) && is(&String::from_utf8_lossy(argv0)) {
            out.push(pid);
        }
    }
    out
}

/// Sends `sig` to process `pid`.
pub fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: a plain kill(2) on a process the test found.
    unsafe {
        libc::kill(pid, sig);
    }
}
