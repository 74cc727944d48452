//! `eventpipe plan-summary`: a reviewer's summary of a Terraform plan.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::pipeline::runtimes::Day;
use crate::summary::{self, Format, Options, Summary};

/// A kind of change `--fail-on` gates on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Kind {
    /// A pipeline's IAM policy changes (or is known only after apply).
    IamChange,
    /// A pipeline may do more than before: a new action, a broader or new
    /// resource, a removed Deny.
    IamWidening,
    /// A resource is replaced.
    Replace,
    /// A resource is deleted.
    Delete,
    /// A pipeline has a risk flag.
    Risk,
}

impl Kind {
    /// The exit status of a plan that contains this kind of change.
    pub fn exit_status(self) -> u8 {
        match self {
            Kind::IamChange => 10,
            Kind::IamWidening => 11,
            Kind::Replace => 12,
            Kind::Delete => 13,
            Kind::Risk => 14,
        }
    }

    pub fn found_in(self, s: &Summary) -> bool {
        match self {
            Kind::IamChange => s.iam_change(),
            Kind::IamWidening => s.iam_widening(),
            Kind::Replace => s.replace(),
            Kind::Delete => s.delete(),
            Kind::Risk => s.risk(),
        }
    }
}

/// The exit status for input that cannot be summarized.
pub const EXIT_BAD_INPUT: u8 = 1;

/// Summarize the JSON of `terraform show -json <planfile>` for a review.
///
/// Exit status: 0 when the summary is written and no `--fail-on` kind is
/// found; 1 when the input cannot be read or is not a plan (one line on
/// stderr); 2 for a usage error; with `--fail-on`, the status of the kind
/// found (the summary is still written): iam-change 10, iam-widening 11,
/// replace 12, delete 13, risk 14. When several are found, the lowest
/// status wins.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status:\n  0   summary written, no --fail-on kind found\n  1   the input \
                        cannot be read or is not a Terraform plan\n  2   usage error\n  10  \
                        --fail-on iam-change: a pipeline's IAM policy changes\n  11  --fail-on \
                        iam-widening: a pipeline may do more than before\n  12  --fail-on replace: \
                        a resource is replaced\n  13  --fail-on delete: a resource is deleted\n  \
                        14  --fail-on risk: a pipeline has a risk flag\nWith several kinds found, \
                        the lowest status wins; the summary is always written first."
)]
pub struct Args {
    /// The plan JSON, or `-` (the default) for standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// Exit with this kind's status when the plan contains it (repeatable).
    #[arg(long = "fail-on", value_enum, value_name = "KIND")]
    pub fail_on: Vec<Kind>,
    /// Leave out the picture of each pipeline: the Mermaid flowchart that
    /// ends each pipeline's section in Markdown (a `mermaid` code block,
    /// which GitHub draws in a pull-request comment). The text format
    /// never has it.
    #[arg(long = "no-diagram")]
    pub no_diagram: bool,
}

fn read_input(file: &PathBuf) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
    } else {
        bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    }
    Ok(bytes)
}

/// Summarizes `bytes`: the text to print and the exit status, or the one
/// line to print on stderr.
pub fn summarize(bytes: &[u8], args: &Args, today: Day) -> Result<(String, u8), String> {
    let s = summary::summarize(bytes, Options { today }).map_err(|e| e.to_string())?;
    let text = summary::render::render_with(&s, args.format, !args.no_diagram);
    let status = args
        .fail_on
        .iter()
        .filter(|k| k.found_in(&s))
        .map(|k| k.exit_status())
        .min()
        .unwrap_or(0);
    Ok((text, status))
}

pub fn run(args: &Args) -> ExitCode {
    let result = read_input(&args.file).and_then(|b| summarize(&b, args, Day::today()));
    match result {
        Ok((text, status)) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            ExitCode::from(status)
        }
        Err(line) => {
            eprintln!("eventpipe plan-summary: {}", line.replace('\n', " "));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn args(list: &[&str]) -> Args {
        Cli::parse_from(std::iter::once("plan-summary").chain(list.iter().copied())).args
    }

    const DELETE: &str = r#"{"format_version":"1.2","terraform_version":"1.11.4","planned_values":{},
        "resource_changes":[{"address":"eventpipe_event_pipeline.p","mode":"managed",
        "type":"eventpipe_event_pipeline","name":"p","change":{"actions":["delete"],
        "before":{"name":"p","bucket_name":"b","create_bucket":true,"force_destroy":true},
        "after":null}}]}"#;

    #[test]
    fn each_kind_found_has_its_own_status_and_the_lowest_wins() {
        let today = Day::new(2026, 12, 1);
        let run = |list: &[&str]| summarize(DELETE.as_bytes(), &args(list), today).unwrap();
        assert_eq!(run(&[]).1, 0);
        assert_eq!(run(&["--fail-on", "iam-change"]).1, 0);
        assert_eq!(run(&["--fail-on", "delete"]).1, 13);
        assert_eq!(run(&["--fail-on", "risk"]).1, 14);
        assert_eq!(run(&["--fail-on", "risk", "--fail-on", "delete"]).1, 13);
        let (text, _) = run(&["--fail-on", "delete", "--format", "text"]);
        assert!(
            text.contains("eventpipe_event_pipeline.p (p): delete"),
            "{text}"
        );
        let statuses: std::collections::BTreeSet<u8> = [
            Kind::IamChange,
            Kind::IamWidening,
            Kind::Replace,
            Kind::Delete,
            Kind::Risk,
        ]
        .iter()
        .map(|k| k.exit_status())
        .chain([0, EXIT_BAD_INPUT, 2])
        .collect();
        assert_eq!(statuses.len(), 8, "every status is distinct");
    }

    #[test]
    fn no_diagram_leaves_out_the_flowchart_and_nothing_else() {
        let today = Day::new(2026, 12, 1);
        let run = |list: &[&str]| summarize(DELETE.as_bytes(), &args(list), today).unwrap();
        let (with, _) = run(&[]);
        let (without, status) = run(&["--no-diagram", "--fail-on", "delete"]);
        assert!(with.contains("```mermaid\nflowchart LR\n"), "{with}");
        assert!(!without.contains("mermaid") && !without.contains("flowchart"));
        assert_eq!(status, 13);
        let start = with.find("\n```mermaid").unwrap();
        assert_eq!(with[..start].trim_end(), without.trim_end());
        // The text format has none either way.
        assert!(!run(&["--format", "text"]).0.contains("flowchart"));
    }

    #[test]
    fn bad_input_is_one_line() {
        let e = summarize(b"{}", &args(&[]), Day::new(2026, 12, 1)).unwrap_err();
        assert!(
            !e.contains('\n') && e.contains("not a Terraform plan"),
            "{e}"
        );
    }
}
