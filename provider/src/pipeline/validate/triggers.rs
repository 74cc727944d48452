//! The triggers: S3 event types, filters that overlap one another or the
//! staging prefix, and events the function's own writes would fire.

use super::*;

/// S3 event types Lambda notifications accept.
pub const S3_EVENTS: &[&str] = &[
    "s3:TestEvent",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
];

/// Whether a trigger with this filter could match a staged package's key
/// (`.eventpipe/packages/<function>/<hex hash>.zip`).
pub fn matches_staging(prefix: Option<&str>, suffix: Option<&str>) -> bool {
    let prefix = prefix.unwrap_or_default();
    let prefix_may = STAGING_PREFIX.starts_with(prefix) || prefix.starts_with(STAGING_PREFIX);
    let suffix_may = match suffix.unwrap_or_default() {
        "" => true,
        s => {
            ".zip".ends_with(s)
                || s.strip_suffix(".zip").is_some_and(|h| {
                    h.trim_start_matches('/')
                        .chars()
                        .all(|c| c.is_ascii_hexdigit())
                })
        }
    };
    prefix_may && suffix_may
}

/// A trigger whose events and filters are known.
pub(super) struct Filter {
    index: usize,
    events: Vec<String>,
    prefix: String,
    suffix: String,
}

/// What a trigger with these events fires for, in words ("every new
/// object", "every object removal", …).
pub(super) fn what_fires(events: &[String]) -> String {
    let kind = |e: &str| {
        let family = e
            .strip_prefix("s3:")
            .and_then(|r| r.split(':').next())
            .unwrap_or(e);
        match family {
            "ObjectCreated" => "every new object",
            "ObjectRemoved" => "every object removal",
            "ObjectRestore" => "every object restore",
            "ObjectTagging" => "every change of an object's tags",
            "ObjectAcl" => "every change of an object's ACL",
            "LifecycleExpiration" => "every object expiry",
            "LifecycleTransition" => "every storage-class transition",
            "Replication" => "every replication event",
            "IntelligentTiering" => "every archive-tier move",
            _ => "every event of this kind",
        }
    };
    let mut words: Vec<&str> = events.iter().map(|e| kind(e)).collect();
    words.dedup();
    if words.is_empty() {
        return "every event".to_owned();
    }
    let last = words.pop().unwrap_or_default();
    if words.is_empty() {
        last.to_owned()
    } else {
        format!("{} and {last}", words.join(", "))
    }
}

/// Two key filters can match the same key when one prefix extends the
/// other and one suffix extends the other.
pub fn filters_overlap(a: (&str, &str), b: (&str, &str)) -> bool {
    let prefixes = a.0.starts_with(b.0) || b.0.starts_with(a.0);
    let suffixes = a.1.ends_with(b.1) || b.1.ends_with(a.1);
    prefixes && suffixes
}

/// Event types that can fire for the same event, e.g. `s3:ObjectCreated:*`
/// and `s3:ObjectCreated:Put`.
pub fn events_overlap(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let family = |e: &str| {
        e.rsplit_once(':')
            .map_or(e.to_owned(), |(f, _)| f.to_owned())
    };
    (a.ends_with(":*") || b.ends_with(":*")) && family(a) == family(b)
}

pub(super) fn creates_objects(event: &str) -> bool {
    event.starts_with("s3:ObjectCreated:")
}

pub(super) fn check_triggers(
    triggers: &[Trigger<Planning>],
    output_prefix: &Field<String>,
    diags: &mut Diagnostics,
) {
    let mut known = Vec::new();
    for (index, t) in triggers.iter().enumerate() {
        check_trigger(index, t, diags);
        known.extend(known_filter(index, t));
    }
    check_overlaps(&known, diags);
    if let Field::Known(out) = output_prefix {
        check_output_loops(&known, out, diags);
    }
}

/// One trigger on its own: its event types, then its filters.
fn check_trigger(index: usize, t: &Trigger<Planning>, diags: &mut Diagnostics) {
    let tp = path::trigger(index);
    if let Field::Known(events) = &t.events {
        check_event_types(&tp, events, diags);
    }
    let (prefix, suffix) = (&t.filter_prefix, &t.filter_suffix);
    if let Field::Known(p) = prefix {
        check_reserved_prefix(&tp, p, diags);
    }
    if prefix.is_null() && suffix.is_null() {
        warn_unfiltered(&tp, &t.events, diags);
    }
    if let Field::Known(p) = prefix {
        warn_leading_slash(&tp, p, diags);
    }
    if let Field::Known(s) = suffix {
        warn_suffix_without_dot(&tp, s, diags);
    }
}

/// At least one event type, and each one S3 knows.
fn check_event_types(tp: &AttrPath, events: &[String], diags: &mut Diagnostics) {
    if events.is_empty() {
        diags.push(error(
            tp.attr(attr::EVENTS),
            "No events",
            "A trigger needs at least one S3 event type, e.g. `s3:ObjectCreated:*`.",
        ));
    }
    for (i, e) in events.iter().enumerate() {
        if !S3_EVENTS.contains(&e.as_str()) {
            diags.push(error(
                tp.attr(attr::EVENTS).index(i),
                "Unknown S3 event type",
                format!(
                    "{e:?} is not an S3 event type; for new objects use \"s3:ObjectCreated:*\"."
                ),
            ));
        }
    }
}

/// A prefix that could match the staged packages' keys.
fn check_reserved_prefix(tp: &AttrPath, p: &str, diags: &mut Diagnostics) {
    if !p.is_empty() && (STAGING_PREFIX.starts_with(p) || p.starts_with(STAGING_PREFIX)) {
        diags.push(error(
            tp.attr(attr::FILTER_PREFIX),
            "Trigger matches the reserved prefix",
            format!(
                "filter_prefix {p:?} could match `{STAGING_PREFIX}`, where packages over \
                 50 MB are staged; the function would be invoked on its own package. Use a \
                 prefix outside `.eventpipe/`."
            ),
        ));
    }
}

/// A trigger with neither filter fires for every object in the bucket.
fn warn_unfiltered(tp: &AttrPath, events: &Field<Vec<String>>, diags: &mut Diagnostics) {
    let what = match events {
        Field::Known(list) => what_fires(list),
        Field::Null => what_fires(&[defaults::DEFAULT_EVENT.to_owned()]),
        Field::Unknown => "every matching event on any object".to_owned(),
    };
    diags.push(
        Diagnostic::warning(
            "Trigger matches every object",
            format!(
                "This trigger has neither filter_prefix nor filter_suffix, so {what} \
                 in the bucket invokes the function."
            ),
        )
        .at(tp.clone()),
    );
}

fn warn_leading_slash(tp: &AttrPath, p: &str, diags: &mut Diagnostics) {
    if p.starts_with('/') {
        diags.push(
            Diagnostic::warning(
                "Prefix starts with a slash",
                format!(
                    "S3 keys rarely start with `/`: a key such as `{}x.json` is written \
                     without it, so filter_prefix {p:?} would never match it. Use {:?}.",
                    p.trim_start_matches('/'),
                    p.trim_start_matches('/')
                ),
            )
            .at(tp.attr(attr::FILTER_PREFIX)),
        );
    }
}

fn warn_suffix_without_dot(tp: &AttrPath, s: &str, diags: &mut Diagnostics) {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) {
        diags.push(
            Diagnostic::warning(
                "Suffix without a dot",
                format!(
                    "filter_suffix {s:?} matches every key that ends in {s:?}: `data.{s}`, \
                     and also `…my{s}`. Did you mean `.{s}`?"
                ),
            )
            .at(tp.attr(attr::FILTER_SUFFIX)),
        );
    }
}

/// The trigger's filter, when its events and filters are known (null or
/// empty events plan as the default event type).
fn known_filter(index: usize, t: &Trigger<Planning>) -> Option<Filter> {
    let events = match &t.events {
        Field::Null => vec![defaults::DEFAULT_EVENT.to_owned()],
        Field::Known(events) if events.is_empty() => vec![defaults::DEFAULT_EVENT.to_owned()],
        Field::Known(events) => events.clone(),
        Field::Unknown => return None,
    };
    if t.filter_prefix.is_unknown() || t.filter_suffix.is_unknown() {
        return None;
    }
    Some(Filter {
        index,
        events,
        prefix: t.filter_prefix.as_known().cloned().unwrap_or_default(),
        suffix: t.filter_suffix.as_known().cloned().unwrap_or_default(),
    })
}

/// Two triggers that fire for the same event on the same keys.
fn check_overlaps(known: &[Filter], diags: &mut Diagnostics) {
    for (i, a) in known.iter().enumerate() {
        for b in &known[i + 1..] {
            let shared = a
                .events
                .iter()
                .find(|e| b.events.iter().any(|f| events_overlap(e, f)));
            if let Some(event) = shared
                && filters_overlap((&a.prefix, &a.suffix), (&b.prefix, &b.suffix))
            {
                diags.push(error(
                    path::trigger(b.index),
                    "Overlapping triggers",
                    format!(
                        "trigger[{}] and trigger[{}] both fire for {event} on keys that match both \
                         filters (prefix {:?}/{:?}, suffix {:?}/{:?}); S3 refuses such a \
                         configuration as \"ambiguously defined\". Make the prefixes or suffixes \
                         disjoint, or merge the triggers.",
                        a.index, b.index, a.prefix, b.prefix, a.suffix, b.suffix
                    ),
                ));
            }
        }
    }
}

/// A trigger that fires for the new objects the function writes under
/// `out`: every result would invoke it again.
fn check_output_loops(known: &[Filter], out: &str, diags: &mut Diagnostics) {
    for t in known {
        let loops = t.events.iter().any(|e| creates_objects(e))
            && (out.starts_with(&t.prefix) || t.prefix.starts_with(out));
        if loops {
            diags.push(error(
                path::top(attr::OUTPUT_PREFIX),
                "Output would re-trigger the function",
                format!(
                    "The function writes results under {out:?}, and trigger[{}] (prefix {:?}) \
                     fires for new objects there: every result would invoke the function \
                     again, in a loop. Use an output prefix no trigger matches, e.g. \
                     \"processed/\" with triggers on \"data/\".",
                    t.index, t.prefix
                ),
            ));
        }
    }
}
