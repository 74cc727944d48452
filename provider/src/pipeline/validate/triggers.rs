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

/// Two key filters can match the same key when one prefix extends the
/// other and one suffix extends the other.
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
        let tp = path::trigger(index);
        let events = &t.events;
        if let Field::Known(events) = events {
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
                        format!("{e:?} is not an S3 event type; for new objects use \"s3:ObjectCreated:*\"."),
                    ));
                }
            }
        }
        let (prefix, suffix) = (&t.filter_prefix, &t.filter_suffix);
        if let Field::Known(p) = prefix
            && !p.is_empty()
            && (STAGING_PREFIX.starts_with(p.as_str()) || p.starts_with(STAGING_PREFIX))
        {
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
        if prefix.is_null() && suffix.is_null() {
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
        if let Field::Known(p) = prefix
            && p.starts_with('/')
        {
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
        if let Field::Known(s) = suffix
            && !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric())
        {
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
        // Null events plan as the default event type.
        let events = match events {
            Field::Null => Field::Known(vec![defaults::DEFAULT_EVENT.to_owned()]),
            other => other.clone(),
        };
        if let (Field::Known(events), false, false) =
            (events, prefix.is_unknown(), suffix.is_unknown())
        {
            let events = if events.is_empty() {
                vec![defaults::DEFAULT_EVENT.to_owned()]
            } else {
                events
            };
            known.push(Filter {
                index,
                events,
                prefix: prefix.as_known().cloned().unwrap_or_default(),
                suffix: suffix.as_known().cloned().unwrap_or_default(),
            });
        }
    }
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
    if let Field::Known(out) = output_prefix {
        for t in &known {
            let loops = t.events.iter().any(|e| creates_objects(e))
                && (out.starts_with(&t.prefix) || t.prefix.starts_with(out.as_str()));
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
}
