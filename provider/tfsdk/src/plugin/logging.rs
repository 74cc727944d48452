//! Logs as go-plugin expects them on stderr: one hclog JSON object per line
//! (`@level`, `@message`, `@module`, `@timestamp`, then the span and event
//! fields as extra keys). Terraform parses these lines and shows them in its
//! own log when `TF_LOG`/`TF_LOG_PROVIDER` asks for them.
//!
//! Logging never panics and ignores write errors: a closed stderr must not
//! take the provider down.

use std::fmt;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Number, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// Provider-specific log level, read first.
pub const LOG_PROVIDER_KEY: &str = "TF_LOG_PROVIDER";
/// Terraform's global log level, read when [`LOG_PROVIDER_KEY`] is unset.
pub const LOG_KEY: &str = "TF_LOG";

/// Crates whose chatter is capped at INFO even when TRACE is asked for: at
/// TRACE they log every HTTP/2 frame, which drowns the provider's story.
/// Providers add their own (e.g. a cloud SDK) through `quiet` in [`init`].
const TRANSPORT_CRATES: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tower",
    "tonic",
    "tonic_health",
    "rustls",
    "tokio_rustls",
];

/// The level to log at: `TF_LOG_PROVIDER` if set, else `TF_LOG`. Accepts
/// TRACE, DEBUG, INFO, WARN, ERROR and JSON (= TRACE) in any case; unset,
/// empty or OFF means WARN; any other value means TRACE, as Terraform does.
pub fn level_from_env(log_provider: Option<&str>, log: Option<&str>) -> LevelFilter {
    let chosen = [log_provider, log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|v| !v.is_empty());
    match chosen.map(str::to_ascii_uppercase).as_deref() {
        None | Some("OFF") => LevelFilter::WARN,
        Some("ERROR") => LevelFilter::ERROR,
        Some("WARN") => LevelFilter::WARN,
        Some("INFO") => LevelFilter::INFO,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some(_) => LevelFilter::TRACE,
    }
}

/// The filter for a level: everything at `level`, transport crates and the
/// `quiet` ones at most INFO.
pub fn filter_for(level: LevelFilter, quiet: &[&str]) -> Targets {
    let capped = level.min(LevelFilter::INFO);
    TRANSPORT_CRATES
        .iter()
        .chain(quiet)
        .fold(Targets::new().with_default(level), |t, name| {
            t.with_target(*name, capped)
        })
}

/// Installs the stderr JSON logger as the global subscriber and routes
/// panics through it. Every line carries `module` as its `@module`; the
/// `quiet` crates are capped at INFO. Does nothing if a subscriber is
/// already installed.
pub fn init(level: LevelFilter, module: String, quiet: &[&str]) {
    let subscriber = tracing_subscriber::registry()
        .with(HclogLayer::new(std::io::stderr, module).with_filter(filter_for(level, quiet)));
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        install_panic_hook();
    }
}

/// Logs panics as one ERROR line (with location, and a backtrace when
/// `RUST_BACKTRACE` asks for one) instead of the default multi-line text.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string panic payload)");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            tracing::error!(panic.location = %location, panic.backtrace = %backtrace, "panic: {message}");
        } else {
            tracing::error!(panic.location = %location, "panic: {message}");
        }
    }));
}

/// A [`Layer`] writing one hclog JSON line per event to the writer `W` makes.
pub struct HclogLayer<W> {
    make_writer: W,
    module: String,
}

impl<W> HclogLayer<W> {
    /// Writes each line to a fresh writer from `make_writer` (e.g.
    /// `std::io::stderr`) in a single `write_all`, with `module` as its
    /// `@module`.
    pub fn new(make_writer: W, module: String) -> Self {
        Self {
            make_writer,
            module,
        }
    }
}

/// Fields of a span, kept in its extensions.
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = FieldCollector::default();
        attrs.record(&mut fields);
        span.extensions_mut().insert(SpanFields(fields.into_map()));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let mut fields = FieldCollector::default();
        values.record(&mut fields);
        match extensions.get_mut::<SpanFields>() {
            Some(existing) => existing.0.extend(fields.into_map()),
            None => extensions.insert(SpanFields(fields.into_map())),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut span_fields = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    span_fields.extend(fields.0.clone());
                }
            }
        }
        let mut event_fields = FieldCollector::default();
        event.record(&mut event_fields);
        let line = format_line(
            &self.module,
            *event.metadata().level(),
            SystemTime::now(),
            event_fields.message.take().unwrap_or_default(),
            span_fields.into_iter().chain(event_fields.fields),
        );
        // Errors are ignored on purpose: there is nowhere left to report them.
        let _ = self.make_writer.make_writer().write_all(&line);
    }
}

/// Formats one log line, newline included. Extra keys that start with `@`
/// are prefixed with `_` so they cannot overwrite the hclog keys.
pub fn format_line(
    module: &str,
    level: Level,
    time: SystemTime,
    message: String,
    fields: impl IntoIterator<Item = (String, Value)>,
) -> Vec<u8> {
    let mut map = Map::new();
    map.insert("@level".into(), Value::String(level_name(level).into()));
    map.insert("@message".into(), Value::String(message));
    map.insert("@module".into(), Value::String(module.into()));
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    map.insert(
        "@timestamp".into(),
        Value::String(format_timestamp(since_epoch)),
    );
    for (key, value) in fields {
        let key = if key.starts_with('@') {
            format!("_{key}")
        } else {
            key
        };
        map.insert(key, value);
    }
    let mut line = serde_json::to_vec(&Value::Object(map)).unwrap_or_default();
    line.push(b'\n');
    line
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Formats a UTC time as hclog does (`2006-01-02T15:04:05.000000Z07:00`):
/// exactly six fractional digits and `Z`.
pub fn format_timestamp(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_micros()
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, restricted to dates from 1970 on).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Collects fields as JSON values; the `message` field separately.
#[derive(Default)]
struct FieldCollector {
    message: Option<String>,
    fields: Map<String, Value>,
}

impl FieldCollector {
    fn into_map(self) -> Map<String, Value> {
        let mut fields = self.fields;
        if let Some(message) = self.message {
            fields.insert("message".into(), Value::String(message));
        }
        fields
    }

    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldCollector {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let v =
            Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.put(field, v);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::Number(value.into()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::Number(value.into()));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let v = i64::try_from(value).map_or_else(
            |_| Value::String(value.to_string()),
            |n| Value::Number(n.into()),
        );
        self.put(field, v);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let v = u64::try_from(value).map_or_else(
            |_| Value::String(value.to_string()),
            |n| Value::Number(n.into()),
        );
        self.put(field, v);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.put(field, Value::String(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = "provider.terraform-provider-widget";
    use std::sync::{Arc, Mutex};

    #[test]
    fn timestamps_have_six_fraction_digits_and_z() {
        let t = Duration::new(1_795_922_659, 123_456_789);
        assert_eq!(format_timestamp(t), "2026-11-29T03:24:19.123456Z");
        assert_eq!(
            format_timestamp(Duration::ZERO),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            format_timestamp(Duration::new(951_868_799, 1_000)),
            "2000-02-29T23:59:59.000001Z"
        );
        assert_eq!(
            format_timestamp(Duration::from_secs(4_107_542_400)),
            "2100-03-01T00:00:00.000000Z"
        );
        assert_eq!(
            format_timestamp(Duration::from_secs(1_735_646_400)),
            "2024-12-31T12:00:00.000000Z"
        );
    }

    #[test]
    fn line_has_hclog_keys_first_and_fields_after() {
        let time = UNIX_EPOCH + Duration::new(1_795_922_659, 123_456_000);
        let line = format_line(
            MODULE,
            Level::WARN,
            time,
            "hello \"world\"".into(),
            [
                ("bucket".to_owned(), Value::String("b".into())),
                ("@level".to_owned(), Value::String("sneaky".into())),
            ],
        );
        let text = String::from_utf8(line).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"@level":"warn","@message":"hello \"world\"","#,
                r#""@module":"provider.terraform-provider-widget","#,
                r#""@timestamp":"2026-11-29T03:24:19.123456Z","bucket":"b","_@level":"sneaky"}"#,
                "\n"
            )
        );
    }

    #[test]
    fn log_level_prefers_tf_log_provider_and_ignores_case() {
        assert_eq!(level_from_env(None, None), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("off")), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("")), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level_from_env(None, Some("Json")), LevelFilter::TRACE);
        assert_eq!(level_from_env(None, Some("TRACE")), LevelFilter::TRACE);
        assert_eq!(
            level_from_env(Some("error"), Some("trace")),
            LevelFilter::ERROR
        );
        assert_eq!(level_from_env(Some(""), Some("info")), LevelFilter::INFO);
        assert_eq!(level_from_env(Some("warn"), None), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("yes please")), LevelFilter::TRACE);
    }

    #[test]
    fn transport_crates_are_capped_at_info() {
        let f = filter_for(LevelFilter::TRACE, &["noisy_sdk"]);
        assert!(f.would_enable("widget::plugin", &Level::TRACE));
        assert!(!f.would_enable("h2::codec", &Level::DEBUG));
        assert!(f.would_enable("h2::codec", &Level::INFO));
        assert!(!f.would_enable("noisy_sdk::client", &Level::DEBUG));
        let f = filter_for(LevelFilter::WARN, &[]);
        assert!(!f.would_enable("widget", &Level::INFO));
        assert!(!f.would_enable("hyper", &Level::INFO));
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(data);
            }
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(f: impl FnOnce()) -> Vec<Value> {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::registry().with(
            HclogLayer::new(move || writer.clone(), MODULE.to_owned())
                .with_filter(filter_for(LevelFilter::TRACE, &[])),
        );
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn events_carry_span_and_event_fields() {
        let lines = capture(|| {
            let outer = tracing::info_span!("rpc", rpc = "ApplyResourceChange", attempt = 1u64);
            let _o = outer.enter();
            let inner = tracing::debug_span!("step", resource = tracing::field::Empty);
            inner.record("resource", "widget_thing.a");
            let _i = inner.enter();
            let err = std::io::Error::other("boom");
            tracing::error!(
                error = &err as &(dyn std::error::Error + 'static),
                ok = false,
                ratio = 0.5,
                "it {} failed",
                "really"
            );
        });
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(l["@level"], "error");
        assert_eq!(l["@message"], "it really failed");
        assert_eq!(l["@module"], MODULE);
        assert_eq!(l["rpc"], "ApplyResourceChange");
        assert_eq!(l["attempt"], 1);
        assert_eq!(l["resource"], "widget_thing.a");
        assert_eq!(l["error"], "boom");
        assert_eq!(l["ok"], false);
        assert_eq!(l["ratio"], 0.5);
        let ts = l["@timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2026-11-29T03:24:19.123456Z".len());
        assert!(ts.ends_with('Z'));
        assert_eq!(&ts[19..20], ".");
    }

    #[test]
    fn an_event_without_message_still_has_a_string_message() {
        let lines = capture(|| {
            tracing::trace!(x = f64::NAN);
        });
        assert_eq!(lines[0]["@message"], "");
        assert_eq!(lines[0]["@level"], "trace");
        assert_eq!(lines[0]["x"], "NaN");
    }
}
