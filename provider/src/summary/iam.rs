//! What changes in a pipeline's permissions: the statements of
//! `policy_json` before and after, compared by statement id, and whether
//! the new policy allows anything the old one did not (a widening).
//!
//! A widening is an allowed action on a resource that no old `Allow`
//! statement covered: a new action, a broader resource (a shorter prefix, a
//! `*`), or a resource not granted before (a moved prefix). A removed `Deny`
//! statement is a widening too. IAM's `*` and `?` wildcards are honoured, so
//! `s3:*` covers `s3:GetObject` and `bucket/*` covers `bucket/data/*`.
//!
//! Conditions count: an old grant covers a new one only when it had no
//! condition or the same ones, so a dropped or changed condition is a
//! widening (whether the new conditions are narrower is not worked out).
//! A KMS action is one widening per key, with the key's ARN
//! ([`Widening::Key`]): a reviewer reads which key the function may now
//! use, not only that it may call `kms:Decrypt`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

/// One statement, with its lists in a canonical (sorted) form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The `Sid`, or `#N` (its position) when it has none.
    pub sid: String,
    pub allow: bool,
    pub actions: BTreeSet<String>,
    pub resources: BTreeSet<String>,
    /// The `Condition` block; empty when there is none.
    pub conditions: Conditions,
}

/// A statement's `Condition`, canonical: operator (`StringEquals`) → key
/// (`kms:ViaService`) → values, sorted.
pub type Conditions = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// A policy document that could be read.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

/// Why a policy could not be compared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("policy_json is not an IAM policy document: {0}")]
pub struct PolicyError(String);

fn strings(v: Option<&Json>) -> Result<BTreeSet<String>, PolicyError> {
    match v {
        None | Some(Json::Null) => Ok(BTreeSet::new()),
        Some(Json::String(s)) => Ok(BTreeSet::from([s.clone()])),
        Some(Json::Array(l)) => l
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| PolicyError("a list entry that is not a string".into()))
            })
            .collect(),
        Some(_) => Err(PolicyError(
            "an action or resource that is not a string".into(),
        )),
    }
}

fn conditions(v: Option<&Json>) -> Result<Conditions, PolicyError> {
    let ops = match v {
        None | Some(Json::Null) => return Ok(Conditions::new()),
        Some(Json::Object(ops)) => ops,
        Some(_) => return Err(PolicyError("a `Condition` that is not an object".into())),
    };
    let mut out = Conditions::new();
    for (op, keys) in ops {
        let Json::Object(keys) = keys else {
            return Err(PolicyError(format!(
                "a `Condition` operator {op} that is not an object"
            )));
        };
        let mut by_key = BTreeMap::new();
        for (key, values) in keys {
            let one = |v: &Json| match v {
                Json::String(s) => Ok(s.clone()),
                Json::Bool(_) | Json::Number(_) => Ok(v.to_string()),
                _ => Err(PolicyError(format!(
                    "a `Condition` value of {key} that is not a string"
                ))),
            };
            let set = match values {
                Json::Array(l) => l.iter().map(one).collect::<Result<_, _>>()?,
                v => BTreeSet::from([one(v)?]),
            };
            by_key.insert(key.clone(), set);
        }
        out.insert(op.clone(), by_key);
    }
    Ok(out)
}

/// Reads a policy document (the JSON text of `policy_json`).
pub fn parse(text: &str) -> Result<Policy, PolicyError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
    let list = match doc.get("Statement") {
        Some(Json::Array(l)) => l.clone(),
        Some(s @ Json::Object(_)) => vec![s.clone()],
        _ => return Err(PolicyError("no `Statement`".into())),
    };
    let statements = list
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(Statement {
                sid: s
                    .get("Sid")
                    .and_then(Json::as_str)
                    .filter(|s| !s.is_empty())
                    .map_or_else(|| format!("#{}", i + 1), str::to_owned),
                allow: s.get("Effect").and_then(Json::as_str) != Some("Deny"),
                actions: strings(s.get("Action"))?,
                resources: strings(s.get("Resource"))?,
                conditions: conditions(s.get("Condition"))?,
            })
        })
        .collect::<Result<_, PolicyError>>()?;
    Ok(Policy { statements })
}

/// Why a grant is a widening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Widening {
    /// An action no old statement allowed on any resource.
    NewAction(String),
    /// A resource that covers strictly more than an old one did.
    BroaderResource { resource: String, was: String },
    /// A resource no old statement allowed.
    NewResource(String),
    /// A `Deny` statement went away.
    DenyRemoved(String),
    /// A grant of `action` on `resource` that was there, but under other
    /// conditions or fewer of them (statement `sid`).
    ConditionChanged {
        sid: String,
        action: String,
        resource: String,
    },
    /// KMS actions on a key that no old statement allowed them on, or only
    /// under other conditions.
    Key(KeyGrant),
}

/// KMS actions the function may now take with one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGrant {
    /// The statement that grants them (the contract's Sids say what for).
    pub sid: String,
    pub actions: Vec<String>,
    /// The key's ARN (the statement's `Resource`).
    pub key: String,
    pub before: KeyBefore,
}

/// What the old policy granted in the key grant's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyBefore {
    /// No grant of these actions on any key by this statement.
    Nothing,
    /// The same statement named other keys: the key changed.
    OtherKey(Vec<String>),
    /// The same key, under other conditions.
    OtherConditions,
}

impl std::fmt::Display for KeyGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on key {}", self.actions.join(", "), self.key)?;
        match &self.before {
            KeyBefore::Nothing => Ok(()),
            KeyBefore::OtherKey(was) => write!(f, " (was key {})", was.join(", ")),
            KeyBefore::OtherConditions => write!(f, " (its conditions changed)"),
        }
    }
}

impl std::fmt::Display for Widening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Widening::NewAction(a) => write!(f, "new action {a}"),
            Widening::BroaderResource { resource, was } => {
                write!(f, "broader resource {resource} (was {was})")
            }
            Widening::NewResource(r) => write!(f, "new resource {r}"),
            Widening::DenyRemoved(s) => write!(f, "Deny statement {s} removed"),
            Widening::ConditionChanged {
                sid,
                action,
                resource,
            } => write!(
                f,
                "conditions of {action} on {resource} changed (statement {sid})"
            ),
            Widening::Key(k) => write!(f, "{k}"),
        }
    }
}

/// How one statement id differs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StatementChange {
    pub sid: String,
    pub actions_added: Vec<String>,
    pub actions_removed: Vec<String>,
    pub resources_added: Vec<String>,
    pub resources_removed: Vec<String>,
    pub effect_changed: Option<(bool, bool)>,
    /// The conditions before and after, when they differ.
    pub conditions_changed: Option<(Conditions, Conditions)>,
}

/// The difference between two policies.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Diff {
    pub added: Vec<Statement>,
    pub removed: Vec<Statement>,
    pub changed: Vec<StatementChange>,
    pub widenings: Vec<Widening>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` one character.
/// `pattern` covers `text` when every string `text` stands for matches, so
/// a `*` in `text` is matched only by a `*` in `pattern`.
pub fn covers(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative glob matching with one backtrack point.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == t[ti] || (p[pi] == '?' && t[ti] != '*')) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn action_covers(pattern: &str, action: &str) -> bool {
    covers(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// Whether an old `Allow` grants `action` on `resource`; with `under`,
/// only a statement with no conditions or exactly these counts.
fn allowed(old: &Policy, action: &str, resource: &str, under: Option<&Conditions>) -> bool {
    old.statements.iter().any(|s| {
        s.allow
            && s.actions.iter().any(|a| action_covers(a, action))
            && s.resources.iter().any(|r| covers(r, resource))
            && under.is_none_or(|c| s.conditions.is_empty() || s.conditions == *c)
    })
}

/// A KMS action: its resource is a key, named in the widening.
fn is_kms(action: &str) -> bool {
    action
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("kms:"))
}

fn widenings(old: &Policy, new: &Policy) -> Vec<Widening> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |w: Widening, out: &mut Vec<Widening>| {
        if seen.insert(format!("{w:?}")) {
            out.push(w);
        }
    };
    for s in new.statements.iter().filter(|s| s.allow) {
        let under = Some(&s.conditions);
        // Per key, the KMS actions it newly allows.
        let mut keys: BTreeMap<&String, Vec<String>> = BTreeMap::new();
        for action in &s.actions {
            if is_kms(action) {
                for key in &s.resources {
                    if !allowed(old, action, key, under) {
                        keys.entry(key).or_default().push(action.clone());
                    }
                }
                continue;
            }
            let known = old
                .statements
                .iter()
                .any(|o| o.allow && o.actions.iter().any(|a| action_covers(a, action)));
            if !known {
                push(Widening::NewAction(action.clone()), &mut out);
                continue;
            }
            for resource in &s.resources {
                if allowed(old, action, resource, under) {
                    continue;
                }
                if allowed(old, action, resource, None) {
                    let w = Widening::ConditionChanged {
                        sid: s.sid.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                    };
                    push(w, &mut out);
                    continue;
                }
                let narrower = old
                    .statements
                    .iter()
                    .filter(|o| o.allow && o.actions.iter().any(|a| action_covers(a, action)))
                    .flat_map(|o| &o.resources)
                    .find(|r| covers(resource, r));
                let w = match narrower {
                    Some(was) => Widening::BroaderResource {
                        resource: resource.clone(),
                        was: was.clone(),
                    },
                    None => Widening::NewResource(resource.clone()),
                };
                push(w, &mut out);
            }
        }
        for (key, actions) in keys {
            let same_key = actions.iter().all(|a| allowed(old, a, key, None));
            let was: Vec<String> = old
                .statements
                .iter()
                .filter(|o| o.allow && o.sid == s.sid)
                .flat_map(|o| o.resources.iter().cloned())
                .filter(|r| r != key)
                .collect();
            let before = if same_key {
                KeyBefore::OtherConditions
            } else if was.is_empty() {
                KeyBefore::Nothing
            } else {
                KeyBefore::OtherKey(was)
            };
            let w = Widening::Key(KeyGrant {
                sid: s.sid.clone(),
                actions,
                key: key.clone(),
                before,
            });
            push(w, &mut out);
        }
    }
    for s in old.statements.iter().filter(|s| !s.allow) {
        let kept = new
            .statements
            .iter()
            .any(|n| !n.allow && n.actions == s.actions && n.resources == s.resources);
        if !kept {
            push(Widening::DenyRemoved(s.sid.clone()), &mut out);
        }
    }
    out
}

fn minus(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Vec<String> {
    a.difference(b).cloned().collect()
}

/// Compares two policies; `old` is empty for a new pipeline.
pub fn diff(old: &Policy, new: &Policy) -> Diff {
    let mut d = Diff::default();
    for n in &new.statements {
        match old.statements.iter().find(|o| o.sid == n.sid) {
            None => d.added.push(n.clone()),
            Some(o) if o == n => {}
            Some(o) => d.changed.push(StatementChange {
                sid: n.sid.clone(),
                actions_added: minus(&n.actions, &o.actions),
                actions_removed: minus(&o.actions, &n.actions),
                resources_added: minus(&n.resources, &o.resources),
                resources_removed: minus(&o.resources, &n.resources),
                effect_changed: (o.allow != n.allow).then_some((o.allow, n.allow)),
                conditions_changed: (o.conditions != n.conditions)
                    .then(|| (o.conditions.clone(), n.conditions.clone())),
            }),
        }
    }
    for o in &old.statements {
        if !new.statements.iter().any(|n| n.sid == o.sid) {
            d.removed.push(o.clone());
        }
    }
    d.widenings = widenings(old, new);
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(statements: Json) -> Policy {
        parse(&json!({"Version": "2012-10-17", "Statement": statements}).to_string()).unwrap()
    }

    fn read(resources: &[&str]) -> Json {
        json!({"Sid": "ReadTriggeringObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": resources})
    }

    #[test]
    fn wildcards_cover_what_they_stand_for() {
        assert!(covers("arn:aws:s3:::b/*", "arn:aws:s3:::b/data/*"));
        assert!(!covers("arn:aws:s3:::b/data/*", "arn:aws:s3:::b/*"));
        assert!(covers("arn:aws:s3:::b/data/*", "arn:aws:s3:::b/data/x*"));
        assert!(covers("*", "anything"));
        assert!(covers("a?c", "abc"));
        assert!(!covers("a?c", "a*c"));
        assert!(!covers("abc", "abd"));
        assert!(action_covers("s3:*", "s3:GetObject"));
        assert!(action_covers("S3:getobject", "s3:GetObject"));
    }

    #[test]
    fn a_moved_prefix_is_a_changed_statement_and_a_widening() {
        let old = policy(json!([read(&["arn:aws:s3:::b/data/*"])]));
        let new = policy(json!([read(&["arn:aws:s3:::b/incoming/*"])]));
        let d = diff(&old, &new);
        assert!(d.added.is_empty() && d.removed.is_empty());
        assert_eq!(
            d.changed[0].resources_added,
            vec!["arn:aws:s3:::b/incoming/*"]
        );
        assert_eq!(
            d.changed[0].resources_removed,
            vec!["arn:aws:s3:::b/data/*"]
        );
        assert_eq!(
            d.widenings,
            vec![Widening::NewResource("arn:aws:s3:::b/incoming/*".into())]
        );
    }

    #[test]
    fn a_shorter_prefix_is_a_broader_resource() {
        let old = policy(json!([read(&["arn:aws:s3:::b/data/in/*"])]));
        let new = policy(json!([read(&["arn:aws:s3:::b/data/*"])]));
        assert_eq!(
            diff(&old, &new).widenings,
            vec![Widening::BroaderResource {
                resource: "arn:aws:s3:::b/data/*".into(),
                was: "arn:aws:s3:::b/data/in/*".into()
            }]
        );
    }

    #[test]
    fn narrowing_is_a_change_but_no_widening() {
        let old = policy(json!([read(&["arn:aws:s3:::b/*"])]));
        let new = policy(json!([read(&[
            "arn:aws:s3:::b/data/*",
            "arn:aws:s3:::b/logs/*"
        ])]));
        let d = diff(&old, &new);
        assert!(!d.is_empty());
        assert!(d.widenings.is_empty());
        // Removing a statement narrows too.
        let d = diff(&new, &Policy::default());
        assert_eq!(d.removed.len(), 1);
        assert!(d.widenings.is_empty());
    }

    #[test]
    fn a_new_action_is_a_widening() {
        let old = policy(json!([read(&["arn:aws:s3:::b/*"])]));
        let new = policy(json!([
            read(&["arn:aws:s3:::b/*"]),
            {"Sid": "WriteResults", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/out/*"}
        ]));
        let d = diff(&old, &new);
        assert_eq!(d.added.len(), 1);
        assert_eq!(
            d.widenings,
            vec![Widening::NewAction("s3:PutObject".into())]
        );
    }

    #[test]
    fn a_removed_deny_is_a_widening_and_unnamed_statements_compare_by_position() {
        let old = policy(json!([{"Effect": "Deny", "Action": "*", "Resource": "*"}]));
        let d = diff(&old, &Policy::default());
        assert_eq!(d.removed[0].sid, "#1");
        assert_eq!(d.widenings, vec![Widening::DenyRemoved("#1".into())]);
    }

    #[test]
    fn same_policy_no_diff() {
        let p = policy(json!([read(&["arn:aws:s3:::b/*"])]));
        let d = diff(&p, &p);
        assert!(d.is_empty() && d.widenings.is_empty());
    }

    #[test]
    fn not_a_policy_is_an_error() {
        assert!(parse("nope").is_err());
        assert!(parse("{}").is_err());
        assert!(parse(r#"{"Statement":[{"Action":5}]}"#).is_err());
        assert!(parse(r#"{"Statement":[{"Condition":"x"}]}"#).is_err());
        assert!(parse(r#"{"Statement":[{"Condition":{"StringEquals":{"k":{}}}}]}"#).is_err());
    }

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/k1";

    fn decrypt(key: &str, objects: &[&str]) -> Json {
        json!({"Sid": "DecryptTriggeringObjects", "Effect": "Allow", "Action": "kms:Decrypt",
            "Resource": key, "Condition": {
                "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": objects}}})
    }

    #[test]
    fn conditions_are_read_in_a_canonical_order_and_compared() {
        let a = policy(json!([decrypt(
            KEY,
            &["arn:aws:s3:::b/x/*", "arn:aws:s3:::b"]
        )]));
        let b = policy(json!([decrypt(
            KEY,
            &["arn:aws:s3:::b", "arn:aws:s3:::b/x/*"]
        )]));
        assert_eq!(a, b, "the order of values does not matter");
        let c = &a.statements[0].conditions;
        assert_eq!(
            c["StringLike"]["kms:EncryptionContext:aws:s3:arn"],
            BTreeSet::from(["arn:aws:s3:::b".to_owned(), "arn:aws:s3:::b/x/*".to_owned()])
        );
        let d = diff(&a, &policy(json!([decrypt(KEY, &["arn:aws:s3:::b/y/*"])])));
        let (was, now) = d.changed[0].conditions_changed.clone().unwrap();
        assert_ne!(was, now);
        assert!(d.changed[0].resources_added.is_empty());
    }

    #[test]
    fn a_kms_grant_is_a_widening_per_key_with_what_it_replaced() {
        let none = policy(json!([read(&["arn:aws:s3:::b/*"])]));
        let k1 = policy(json!([
            read(&["arn:aws:s3:::b/*"]),
            decrypt(KEY, &["arn:aws:s3:::b/*"])
        ]));
        let grant = |key: &str, before: KeyBefore| {
            Widening::Key(KeyGrant {
                sid: "DecryptTriggeringObjects".into(),
                actions: vec!["kms:Decrypt".into()],
                key: key.into(),
                before,
            })
        };
        assert_eq!(
            diff(&none, &k1).widenings,
            vec![grant(KEY, KeyBefore::Nothing)]
        );
        let k2_arn = "arn:aws:kms:us-east-1:123456789012:key/k2";
        let k2 = policy(json!([
            read(&["arn:aws:s3:::b/*"]),
            decrypt(k2_arn, &["arn:aws:s3:::b/*"])
        ]));
        assert_eq!(
            diff(&k1, &k2).widenings,
            vec![grant(k2_arn, KeyBefore::OtherKey(vec![KEY.into()]))]
        );
        assert_eq!(
            grant(k2_arn, KeyBefore::OtherKey(vec![KEY.into()])).to_string(),
            format!("kms:Decrypt on key {k2_arn} (was key {KEY})")
        );
        // A wider encryption context on the same key.
        let wider = policy(json!([
            read(&["arn:aws:s3:::b/*"]),
            decrypt(KEY, &["arn:aws:s3:::*"])
        ]));
        assert_eq!(
            diff(&k1, &wider).widenings,
            vec![grant(KEY, KeyBefore::OtherConditions)]
        );
        // Going away, or the same grant: no widening.
        assert!(diff(&k1, &none).widenings.is_empty());
        assert!(diff(&k1, &k1).is_empty());
    }

    #[test]
    fn a_dropped_condition_widens_an_otherwise_equal_grant() {
        let with = policy(
            json!([{"Sid": "Send", "Effect": "Allow", "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:us-east-1:1:q",
            "Condition": {"Bool": {"aws:SecureTransport": true}}}]),
        );
        let without = policy(json!([{"Sid": "Send", "Effect": "Allow",
            "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:1:q"}]));
        assert_eq!(
            diff(&with, &without).widenings,
            vec![Widening::ConditionChanged {
                sid: "Send".into(),
                action: "sqs:SendMessage".into(),
                resource: "arn:aws:sqs:us-east-1:1:q".into(),
            }]
        );
        // Adding one narrows.
        assert!(diff(&without, &with).widenings.is_empty());
        assert!(!diff(&without, &with).is_empty());
    }
}
