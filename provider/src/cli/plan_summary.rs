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
    /// A pipeline has a risk flag (`--expect-kms-key` adds one).
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
/// status wins. `--expect-kms-key` is a gate of its own: a bucket not
/// encrypted with the expected key exits 14 without `--fail-on risk`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status:\n  0   summary written, no --fail-on kind found (nor, with \
                        --expect-kms-key, a bucket not under the expected key)\n  1   the input \
                        cannot be read or is not a Terraform plan\n  2   usage error\n  10  \
                        --fail-on iam-change: a pipeline's IAM policy changes\n  11  --fail-on \
                        iam-widening: a pipeline may do more than before\n  12  --fail-on replace: \
                        a resource is replaced\n  13  --fail-on delete: a resource is deleted\n  \
                        14  --fail-on risk: a pipeline has a risk flag; --expect-kms-key (no \
                        --fail-on needed): a pipeline's bucket is not encrypted with the expected \
                        key\nWith several kinds found, the lowest status wins; the summary is \
                        always written first."
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
    /// Flag every pipeline whose bucket is not encrypted with this KMS key,
    /// and exit 14 (the risk status) when one is found, with or without
    /// `--fail-on risk`: a gate for CI. Repeat it to accept any of several
    /// keys (one per region, say). Give the key's ARN
    /// (`arn:aws:kms:REGION:ACCOUNT:key/ID`), not an alias: the bucket's key
    /// is the one `policy_json` grants `kms:Decrypt` on in its
    /// `DecryptTriggeringObjects` statement, which names the key. No such
    /// statement (SSE-S3, the AWS-managed aws/s3 key, or a look at the
    /// bucket the plan was denied) is flagged too. Pipelines the plan
    /// leaves unchanged are checked as well; deleted ones are not.
    #[arg(long = "expect-kms-key", value_name = "ARN", value_parser = key_arn)]
    pub expect_kms_key: Vec<String>,
}

/// A KMS key ARN, `arn:<partition>:kms:<region>:<account>:key/<id>`.
fn key_arn(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = |p: &[&str]| {
        p.len() == 6
            && p[0] == "arn"
            && !p[1].is_empty()
            && p[2] == "kms"
            && !p[3].is_empty()
            && p[4].len() == 12
            && p[4].bytes().all(|b| b.is_ascii_digit())
    };
    if !ok(&parts) {
        return Err(
            "expected a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<id>".into(),
        );
    }
    match parts[5].split_once('/') {
        Some(("key", id)) if !id.is_empty() && !id.contains('/') => Ok(s.to_owned()),
        Some(("alias", _)) => Err(
            "an alias ARN: give the key's ARN (`aws kms describe-key --key-id ALIAS` shows it), \
             since policy_json names the key, never its alias"
                .into(),
        ),
        _ => Err("expected a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<id>".into()),
    }
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
    let opts = Options {
        today,
        expect_kms_keys: &args.expect_kms_key,
    };
    let s = summary::summarize(bytes, opts).map_err(|e| e.to_string())?;
    let text = summary::render::render_with(&s, args.format, !args.no_diagram);
    // `--expect-kms-key` gates on its own flag, as if `--fail-on risk`
    // were given for that one risk.
    let key_gate = s.unexpected_kms_key().then(|| Kind::Risk.exit_status());
    let status = args
        .fail_on
        .iter()
        .filter(|k| k.found_in(&s))
        .map(|k| k.exit_status())
        .chain(key_gate)
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

    const KEY_1: &str =
        "arn:aws:kms:us-east-1:123456789012:key/1111aaaa-0000-4000-8000-000000000001";
    const KEY_2: &str =
        "arn:aws:kms:us-east-1:123456789012:key/2222bbbb-0000-4000-8000-000000000002";

    /// An update of a pipeline whose bucket is under `key` (a memory
    /// change, so the policy is the same before and after), and, with
    /// `delete`, a second pipeline deleted.
    fn keyed_plan(key: &str, delete: bool) -> String {
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "ReadTriggeringObjects", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "DecryptTriggeringObjects", "Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": key, "Condition": {
                 "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                 "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::b/*"]}}}
        ]})
        .to_string();
        let side = |memory: u64| {
            serde_json::json!({"name": "p", "bucket_name": "b", "create_bucket": false,
                "policy_json": policy, "function": {"memory_size": memory}})
        };
        let mut changes = vec![serde_json::json!({"address": "eventpipe_event_pipeline.p",
            "mode": "managed", "type": "eventpipe_event_pipeline", "name": "p",
            "change": {"actions": ["update"], "before": side(512), "after": side(1024)}})];
        if delete {
            let plan: serde_json::Value = serde_json::from_str(DELETE).unwrap();
            changes.push(plan["resource_changes"][0].clone());
        }
        serde_json::json!({"format_version": "1.2", "terraform_version": "1.11.4",
            "planned_values": {}, "resource_changes": changes})
        .to_string()
    }

    #[test]
    fn expect_kms_key_exits_with_the_risk_status_on_another_key_without_fail_on() {
        let today = Day::new(2026, 12, 1);
        let run =
            |plan: &str, list: &[&str]| summarize(plan.as_bytes(), &args(list), today).unwrap();
        let other = keyed_plan(KEY_2, false);
        // Without the flag nothing is expected, and no risk is found.
        assert_eq!(run(&other, &["--fail-on", "risk"]).1, 0);
        // Another key: the risk status, with or without --fail-on risk.
        let (text, status) = run(&other, &["--expect-kms-key", KEY_1]);
        assert_eq!(status, 14, "{text}");
        assert!(
            text.contains(&format!(
                "bucket b is not encrypted with the expected key {KEY_1} (found: {KEY_2})"
            )),
            "{text}"
        );
        assert_eq!(
            run(&other, &["--expect-kms-key", KEY_1, "--fail-on", "risk"]).1,
            14
        );
        // The expected key, or one of several: 0.
        assert_eq!(run(&other, &["--expect-kms-key", KEY_2]).1, 0);
        assert_eq!(
            run(
                &other,
                &["--expect-kms-key", KEY_1, "--expect-kms-key", KEY_2]
            )
            .1,
            0
        );
        // Another kind gated on at the same time: the lowest status wins.
        let both = keyed_plan(KEY_2, true);
        assert_eq!(
            run(&both, &["--expect-kms-key", KEY_1, "--fail-on", "delete"]).1,
            13
        );
        // The deleted pipeline (no key grant) is not flagged, and its other
        // risk flag (the bucket deleted) does not trip the key gate.
        let (text, status) = run(&both, &["--expect-kms-key", KEY_2]);
        assert_eq!(status, 0, "{text}");
        assert!(!text.contains("not encrypted"), "{text}");
        assert_eq!(run(&both, &["--fail-on", "risk"]).1, 14);
    }

    #[test]
    fn expect_kms_key_takes_only_a_key_arn() {
        let parse =
            |v: &str| Cli::try_parse_from(["plan-summary", "--expect-kms-key", v]).map(|c| c.args);
        assert_eq!(parse(KEY_1).unwrap().expect_kms_key, vec![KEY_1.to_owned()]);
        assert!(parse("arn:aws-cn:kms:cn-north-1:123456789012:key/abc").is_ok());
        for bad in [
            "1111aaaa-0000-4000-8000-000000000001",
            "alias/data-lake",
            "arn:aws:kms:us-east-1:123456789012:alias/data-lake",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:us-east-1:12345:key/abc",
            "arn:aws:kms:us-east-1:123456789012:key/",
            "arn:aws:kms::123456789012:key/abc",
        ] {
            let e = parse(bad).expect_err(bad);
            assert_eq!(e.exit_code(), 2, "{bad}: a usage error");
            assert!(
                e.to_string().contains("KMS key ARN") || e.to_string().contains("alias ARN"),
                "{e}"
            );
        }
        let e = parse("arn:aws:kms:us-east-1:123456789012:alias/data-lake").unwrap_err();
        assert!(e.to_string().contains("give the key's ARN"), "{e}");
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
