//! `eventpipe logs NAME`: the function's log group in time order across
//! its streams (`FilterLogEvents`, every page), from `--since` on, narrowed
//! by `--filter` (CloudWatch's filter pattern, applied by the service).
//! Lines the function logged as JSON (`logs.format = "JSON"`) are shown as
//! `time level requestId message`; other lines as they are. `--follow`
//! polls every two seconds, prints each event once (by its event id), and
//! stops on Ctrl-C.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::Value as Json;

use crate::aws::AwsClients;
use crate::aws::lambda;
use crate::aws::logs::{self, LogEvent};
use crate::pipeline::{import, naming};

use super::aws_args::{AwsArgs, OutputArgs};
use super::error::{self, CliError, EXIT_OK};

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_secs(2);
/// How far back each `--follow` poll looks again for events CloudWatch
/// took in late (their timestamps are the function's, not CloudWatch's).
const LATE: Duration = Duration::from_secs(60);

/// Show the function's logs, across its log streams, in time order.
///
/// Exit status: 0 the events were printed (with --follow: stopped by
/// Ctrl-C or a closed output); 1 error (no such pipeline, a function that
/// is not a pipeline's, no log group, AWS unreachable or refusing), one
/// line on stderr; 2 usage error, among them a --since that is neither a
/// duration nor an RFC 3339 time.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "--since takes a duration back from now (30s, 15m, 1h, 2d) or an \
    RFC 3339 time (2026-12-06T09:30:00Z, or with an offset). --filter is a CloudWatch Logs \
    filter pattern, applied by the service: a term (ERROR), several terms (all must \
    appear), a \"quoted phrase\", or a JSON pattern ({ $.level = \"ERROR\" }). With --json \
    each event is one JSON object: a JSON array of them, or with --follow one object per \
    line.\n\nExit status:\n  0   the events were printed (--follow: until Ctrl-C)\n  1   \
    error: no such pipeline, a function that is not a pipeline's, no log group, AWS \
    unreachable or refusing (one line on stderr)\n  2   usage error, among them a bad \
    --since (one line on stderr)"
)]
pub struct Args {
    /// The pipeline's name (its `name` attribute).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Show events from this long ago (30s, 15m, 1h, 2d) or from this RFC 3339 time.
    #[arg(long, value_name = "WHEN", default_value = "1h")]
    pub since: String,
    /// Keep printing new events as they come, until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only events matching this CloudWatch Logs filter pattern.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `--since` as milliseconds since the epoch, given the time now.
pub fn parse_since(s: &str, now_ms: i64) -> Result<i64, String> {
    let bad = || {
        format!(
            "--since {s:?}: give a duration back from now (30s, 15m, 1h, 2d) or an RFC 3339 \
             time (2026-12-06T09:30:00Z)"
        )
    };
    let t = s.trim();
    let unit = t.chars().last().ok_or_else(bad)?;
    let ms_per = match unit {
        's' => Some(1_000),
        'm' => Some(60_000),
        'h' => Some(3_600_000),
        'd' => Some(86_400_000),
        _ => None,
    };
    if let Some(per) = ms_per {
        let digits = &t[..t.len() - 1];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = digits.parse().map_err(|_| bad())?;
            return n
                .checked_mul(per)
                .map(|back| now_ms.saturating_sub(back))
                .ok_or_else(bad);
        }
    }
    let at = DateTime::from_str(t, Format::DateTimeWithOffset).map_err(|_| bad())?;
    at.to_millis().map_err(|_| bad())
}

/// An event's time as RFC 3339 (UTC, milliseconds).
fn rfc3339(ms: i64) -> String {
    DateTime::from_millis(ms)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| ms.to_string())
}

/// A line Lambda wrote in its JSON log format: an object with a `message`.
fn json_line(message: &str) -> Option<serde_json::Map<String, Json>> {
    let t = message.trim();
    if !t.starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Json>(t).ok()? {
        Json::Object(o) if o.contains_key("message") => Some(o),
        _ => None,
    }
}

fn text_of(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::String(s) => Some(s.clone()),
        Json::Null => None,
        other => Some(other.to_string()),
    }
}

/// How an event is shown to people: a JSON log line as `time level
/// requestId message`, any other line as it is.
pub fn render_line(e: &LogEvent) -> String {
    let Some(o) = json_line(&e.message) else {
        return e.message.trim_end_matches(['\n', '\r']).to_owned();
    };
    let time = text_of(o.get("timestamp")).unwrap_or_else(|| rfc3339(e.timestamp));
    let level = text_of(o.get("level")).unwrap_or_else(|| "-".into());
    let request = text_of(o.get("requestId")).unwrap_or_else(|| "-".into());
    let message = text_of(o.get("message")).unwrap_or_default();
    format!("{time} {level} {request} {}", message.trim_end())
}

/// An event for scripts: its time, stream, id and message, and for a JSON
/// log line its level and request id.
pub fn json_event(e: &LogEvent) -> Json {
    let mut v = serde_json::json!({
        "timestamp": rfc3339(e.timestamp),
        "log_stream": e.stream,
        "event_id": e.event_id,
        "message": e.message.trim_end_matches(['\n', '\r']),
    });
    if let Some(o) = json_line(&e.message) {
        v["level"] = o.get("level").cloned().unwrap_or(Json::Null);
        v["request_id"] = o.get("requestId").cloned().unwrap_or(Json::Null);
        v["message"] = Json::String(text_of(o.get("message")).unwrap_or_default());
    }
    v
}

/// The log group of pipeline `name`'s function: the one its logging
/// configuration names, else Lambda's default.
async fn log_group(aws: &AwsClients, name: &str) -> Result<String, CliError> {
    let function_name = naming::function_name(name);
    let f = lambda::get_function(&aws.lambda, &function_name)
        .await?
        .ok_or_else(|| CliError::NoPipeline {
            name: function_name.clone(),
            region: aws.region.clone(),
        })?;
    import::check_owner(name, &function_name, &f).map_err(|e| CliError::from_import(name, e))?;
    Ok(f.settings
        .logging
        .map(|l| l.group)
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| naming::log_group_name(&function_name)))
}

async fn fetch(
    aws: &AwsClients,
    group: &str,
    from_ms: i64,
    filter: Option<&str>,
) -> Result<Vec<LogEvent>, CliError> {
    logs::events_since(&aws.logs, group, from_ms, filter)
        .await?
        .ok_or_else(|| CliError::Input(format!("log group {group} does not exist")))
}

/// Writes events; `false` when the output is closed (a pager quit).
fn print(out: &mut impl Write, events: &[LogEvent], json: bool, follow: bool) -> bool {
    let r = if json && !follow {
        let all: Vec<Json> = events.iter().map(json_event).collect();
        serde_json::to_string_pretty(&all)
            .map_err(std::io::Error::other)
            .and_then(|s| writeln!(out, "{s}"))
    } else {
        events.iter().try_for_each(|e| {
            if json {
                writeln!(out, "{}", json_event(e))
            } else {
                writeln!(out, "{}", render_line(e))
            }
        })
    };
    r.and_then(|()| out.flush()).is_ok()
}

/// Events not printed yet, remembered by id with their time so the ones
/// older than the look-back can be forgotten.
#[derive(Default)]
struct Seen(HashMap<String, i64>);

impl Seen {
    fn fresh(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        events
            .into_iter()
            .filter(|e| self.0.insert(e.event_id.clone(), e.timestamp).is_none())
            .collect()
    }

    fn forget_before(&mut self, ms: i64) {
        self.0.retain(|_, t| *t >= ms);
    }
}

async fn logs(args: &Args, start_ms: i64) -> Result<(), CliError> {
    let aws = args.aws.connect().await?;
    let group = log_group(&aws, &args.name).await?;
    let filter = args.filter.as_deref();
    let events = fetch(&aws, &group, start_ms, filter).await?;
    let mut out = std::io::stdout().lock();
    if !print(&mut out, &events, args.output.json, args.follow) || !args.follow {
        return Ok(());
    }
    let mut seen = Seen::default();
    let mut newest = events.last().map_or(start_ms, |e| e.timestamp);
    seen.fresh(events);
    let late = i64::try_from(LATE.as_millis()).unwrap_or(i64::MAX);
    // One listener for the whole loop: a Ctrl-C that arrives while the
    // loop prints (awaiting neither select) is kept for the next select. A
    // new `ctrl_c()` in each select would start listening after it, and the
    // signal, no longer fatal once caught, would be lost.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            () = tokio::time::sleep(POLL) => {}
        }
        let from = newest.saturating_sub(late).max(start_ms);
        let polled = tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            r = fetch(&aws, &group, from, filter) => r?,
        };
        let new = seen.fresh(polled);
        if let Some(t) = new.iter().map(|e| e.timestamp).max() {
            newest = newest.max(t);
        }
        seen.forget_before(from);
        if !print(&mut out, &new, args.output.json, true) {
            return Ok(());
        }
    }
}

pub fn run(args: &Args) -> ExitCode {
    let start_ms = match parse_since(&args.since, now_ms()) {
        Ok(t) => t,
        Err(why) => return error::exit("logs", &CliError::Usage(why)),
    };
    match error::runtime().and_then(|rt| rt.block_on(logs(args, start_ms))) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => error::exit("logs", &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn since_takes_durations_and_rfc3339_times() {
        assert_eq!(parse_since("30s", NOW), Ok(NOW - 30_000));
        assert_eq!(parse_since("15m", NOW), Ok(NOW - 900_000));
        assert_eq!(parse_since("1h", NOW), Ok(NOW - 3_600_000));
        assert_eq!(parse_since("2d", NOW), Ok(NOW - 172_800_000));
        assert_eq!(
            parse_since("2026-12-06T09:30:00Z", NOW),
            Ok(1_796_549_400_000)
        );
        assert_eq!(
            parse_since("2026-12-06T10:30:00+01:00", NOW),
            Ok(1_796_549_400_000)
        );
        for bad in [
            "",
            "h",
            "1x",
            "-1h",
            "1.5h",
            "yesterday",
            "2026-13-01T00:00:00Z",
        ] {
            let e = parse_since(bad, NOW).unwrap_err();
            assert!(e.starts_with("--since ") && !e.contains('\n'), "{bad}: {e}");
        }
    }

    fn event(id: &str, ts: i64, message: &str) -> LogEvent {
        LogEvent {
            event_id: id.into(),
            stream: "s".into(),
            timestamp: ts,
            message: message.into(),
        }
    }

    #[test]
    fn json_lines_show_level_request_id_and_message() {
        let e = event(
            "1",
            NOW,
            r#"{"timestamp":"2026-12-06T09:30:00Z","level":"ERROR","requestId":"r-1","message":"boom","extra":1}"#,
        );
        assert_eq!(render_line(&e), "2026-12-06T09:30:00Z ERROR r-1 boom");
        let j = json_event(&e);
        assert_eq!(j["level"], "ERROR");
        assert_eq!(j["request_id"], "r-1");
        assert_eq!(j["message"], "boom");
        // A plain line, and JSON without a message (a platform record), as they are.
        let plain = event("2", NOW, "START RequestId: r-1 Version: $LATEST\n");
        assert_eq!(render_line(&plain), "START RequestId: r-1 Version: $LATEST");
        let record = event("3", NOW, r#"{"type":"platform.start"}"#);
        assert_eq!(render_line(&record), r#"{"type":"platform.start"}"#);
    }

    #[test]
    fn an_event_seen_once_is_never_fresh_again() {
        let mut seen = Seen::default();
        let a = seen.fresh(vec![event("1", 10, "a"), event("2", 20, "b")]);
        assert_eq!(a.len(), 2);
        let b = seen.fresh(vec![event("2", 20, "b"), event("3", 30, "c")]);
        assert_eq!(
            b.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
            ["3"]
        );
        seen.forget_before(20);
        assert_eq!(seen.0.len(), 2);
    }
}
