//! What changes in a pipeline's permissions: the statements of
//! `policy_json` before and after, compared by statement id, and whether
//! the new policy allows anything the old one did not (a widening).
//!
//! A widening is an allowed action on a resource that no old `Allow`
//! statement covered: a new action, a broader resource (a shorter prefix, a
//! `*`), or a resource not granted before (a moved prefix). A removed `Deny`
//! statement is a widening too. IAM's `*` and `?` wildcards are honoured, so
//! `s3:*` covers `s3:GetObject` and `bucket/*` covers `bucket/data/*`.

use std::collections::BTreeSet;

use serde_json::Value as Json;

/// One statement, with its lists in a canonical (sorted) form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The `Sid`, or `#N` (its position) when it has none.
    pub sid: String,
    pub allow: bool,
    pub actions: BTreeSet<String>,
    pub resources: BTreeSet<String>,
}

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

fn allowed(old: &Policy, action: &str, resource: &str) -> bool {
    old.statements.iter().any(|s| {
        s.allow
            && s.actions.iter().any(|a| action_covers(a, action))
            && s.resources.iter().any(|r| covers(r, resource))
    })
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
        for action in &s.actions {
            let known = old
                .statements
                .iter()
                .any(|o| o.allow && o.actions.iter().any(|a| action_covers(a, action)));
            if !known {
                push(Widening::NewAction(action.clone()), &mut out);
                continue;
            }
            for resource in &s.resources {
                if allowed(old, action, resource) {
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
    }
}
