//! The JSON of `terraform show -json PLANFILE`, as Terraform 1.0 and 1.11
//! write it: only the parts a review needs. Fields that newer versions add
//! (`replace_paths` from 1.1, `importing` from 1.5, the `forget` action from
//! 1.7) are optional; anything else the document holds is ignored.

use serde_json::Value as Json;

/// Why a document is not a plan this command can read. Each becomes one
/// line on standard error.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("the input is empty: expected the output of `terraform show -json PLANFILE`")]
    Empty,
    #[error("the input is not JSON ({0}): expected the output of `terraform show -json PLANFILE`")]
    NotJson(String),
    #[error(
        "the input is JSON but not a Terraform plan ({0}): expected the output of `terraform show -json PLANFILE`"
    )]
    NotAPlan(String),
}

/// What a plan does to one resource instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    NoOp,
    Read,
    Create,
    Update,
    /// Delete then create, or create then delete.
    Replace,
    Delete,
    /// Removed from the state, left in place (1.7+ `removed` blocks).
    Forget,
}

impl Action {
    fn parse(actions: &[Json]) -> Result<Action, String> {
        let names: Vec<&str> = actions.iter().filter_map(Json::as_str).collect();
        if names.len() != actions.len() {
            return Err("an action that is not a string".into());
        }
        Ok(match names.as_slice() {
            ["no-op"] => Action::NoOp,
            ["read"] => Action::Read,
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            ["delete"] => Action::Delete,
            ["forget"] => Action::Forget,
            other => return Err(format!("unknown actions {other:?}")),
        })
    }
}

/// One step of an attribute path, as `replace_paths` writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Index(u64),
}

/// One entry of `resource_changes`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceChange {
    /// The full address, with its modules: `module.a.eventpipe_event_pipeline.p`.
    pub address: String,
    pub mode: String,
    pub type_name: String,
    pub action: Action,
    /// `None` for a create.
    pub before: Option<Json>,
    /// `None` for a delete.
    pub after: Option<Json>,
    /// Mirrors `after`: `true` where a value is known only after apply.
    pub after_unknown: Json,
    /// Mirror `before` / `after`: `true` where a value is sensitive.
    pub before_sensitive: Json,
    pub after_sensitive: Json,
    /// The attributes that force a replacement (1.1+); `None` when the plan
    /// does not say (1.0).
    pub replace_paths: Option<Vec<Vec<Step>>>,
    pub action_reason: Option<String>,
    /// The id an import block imports (1.5+).
    pub importing: Option<String>,
}

/// The parts of a plan document a review needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub terraform_version: String,
    pub changes: Vec<ResourceChange>,
}

/// Reads the bytes of `terraform show -json PLANFILE`.
pub fn parse(bytes: &[u8]) -> Result<Plan, PlanError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PlanError::Empty);
    }
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| PlanError::NotJson(e.to_string()))?;
    from_json(&doc)
}

fn not_a_plan(why: impl Into<String>) -> PlanError {
    PlanError::NotAPlan(why.into())
}

/// Reads a parsed plan document.
pub fn from_json(doc: &Json) -> Result<Plan, PlanError> {
    let Json::Object(top) = doc else {
        return Err(not_a_plan("the document is not an object"));
    };
    if !top.get("format_version").is_some_and(Json::is_string) {
        return Err(not_a_plan("it has no `format_version`"));
    }
    // A state (`terraform show -json` without a plan file) has `values`
    // and no planned values; a plan always has `planned_values`.
    if !top.contains_key("planned_values") && !top.contains_key("resource_changes") {
        return Err(not_a_plan(
            "it has no `planned_values` or `resource_changes`; is it a state rather than a plan?",
        ));
    }
    let terraform_version = top
        .get("terraform_version")
        .and_then(Json::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let changes = match top.get("resource_changes") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, c)| change(c).map_err(|e| not_a_plan(format!("resource_changes[{i}]: {e}"))))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(not_a_plan("`resource_changes` is not a list")),
    };
    Ok(Plan {
        terraform_version,
        changes,
    })
}

fn string(obj: &serde_json::Map<String, Json>, key: &str) -> Result<String, String> {
    obj.get(key)
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no string `{key}`"))
}

fn present(v: Option<&Json>) -> Option<Json> {
    v.filter(|v| !v.is_null()).cloned()
}

fn change(c: &Json) -> Result<ResourceChange, String> {
    let Json::Object(c) = c else {
        return Err("not an object".into());
    };
    let address = string(c, "address")?;
    let mode = c
        .get("mode")
        .and_then(Json::as_str)
        .unwrap_or("managed")
        .to_owned();
    let type_name = string(c, "type")?;
    let Some(Json::Object(ch)) = c.get("change") else {
        return Err("no `change` object".into());
    };
    let Some(Json::Array(actions)) = ch.get("actions") else {
        return Err("no `change.actions` list".into());
    };
    let action = Action::parse(actions)?;
    let replace_paths = match ch.get("replace_paths") {
        None | Some(Json::Null) => None,
        Some(Json::Array(paths)) => Some(
            paths
                .iter()
                .map(|p| {
                    p.as_array()
                        .ok_or("a replace path that is not a list")?
                        .iter()
                        .map(|s| match s {
                            Json::String(a) => Ok(Step::Attr(a.clone())),
                            Json::Number(n) => n
                                .as_u64()
                                .map(Step::Index)
                                .ok_or("a replace path index that is not a whole number"),
                            _ => Err("a replace path step that is neither a name nor an index"),
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err("`replace_paths` is not a list".into()),
    };
    let importing = match ch.get("importing") {
        Some(Json::Object(i)) => Some(
            i.get("id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        _ => None,
    };
    let mirror = |key: &str| ch.get(key).cloned().unwrap_or(Json::Bool(false));
    Ok(ResourceChange {
        address,
        mode,
        type_name,
        action,
        before: present(ch.get("before")),
        after: present(ch.get("after")),
        after_unknown: mirror("after_unknown"),
        before_sensitive: mirror("before_sensitive"),
        after_sensitive: mirror("after_sensitive"),
        replace_paths,
        action_reason: c
            .get("action_reason")
            .and_then(Json::as_str)
            .map(str::to_owned),
        importing,
    })
}

/// The mirror value (`after_unknown`, `*_sensitive`) at `path`: `true` when
/// the value there, or any value above it, is marked.
pub fn marked(mirror: &Json, path: &[Step]) -> bool {
    let mut at = mirror;
    for step in path {
        if at == &Json::Bool(true) {
            return true;
        }
        let next = match (step, at) {
            (Step::Attr(a), Json::Object(o)) => o.get(a),
            (Step::Index(i), Json::Array(l)) => usize::try_from(*i).ok().and_then(|i| l.get(i)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return false,
        }
    }
    at == &Json::Bool(true)
}

/// Whether anything at or under `path` is marked.
pub fn marked_within(mirror: &Json, path: &[Step]) -> bool {
    fn any(v: &Json) -> bool {
        match v {
            Json::Bool(b) => *b,
            Json::Array(l) => l.iter().any(any),
            Json::Object(o) => o.values().any(any),
            _ => false,
        }
    }
    if marked(mirror, path) {
        return true;
    }
    let mut at = mirror;
    for step in path {
        let next = match (step, at) {
            (Step::Attr(a), Json::Object(o)) => o.get(a),
            (Step::Index(i), Json::Array(l)) => usize::try_from(*i).ok().and_then(|i| l.get(i)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return false,
        }
    }
    any(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(changes: Json) -> Json {
        json!({
            "format_version": "1.2",
            "terraform_version": "1.11.4",
            "planned_values": {},
            "resource_changes": changes,
        })
    }

    #[test]
    fn a_replacement_reads_its_paths_and_reason() {
        let doc = plan(json!([{
            "address": "module.a.eventpipe_event_pipeline.p",
            "module_address": "module.a",
            "mode": "managed",
            "type": "eventpipe_event_pipeline",
            "name": "p",
            "action_reason": "replace_because_cannot_update",
            "change": {
                "actions": ["delete", "create"],
                "before": {"name": "a"},
                "after": {"name": "b"},
                "after_unknown": {"id": true},
                "before_sensitive": {},
                "after_sensitive": {"function": {"environment": true}},
                "replace_paths": [["name"]]
            }
        }]));
        let p = from_json(&doc).unwrap();
        assert_eq!(p.terraform_version, "1.11.4");
        let c = &p.changes[0];
        assert_eq!(c.address, "module.a.eventpipe_event_pipeline.p");
        assert_eq!(c.action, Action::Replace);
        assert_eq!(c.replace_paths, Some(vec![vec![Step::Attr("name".into())]]));
        assert_eq!(
            c.action_reason.as_deref(),
            Some("replace_because_cannot_update")
        );
        assert!(marked(
            &c.after_sensitive,
            &[
                Step::Attr("function".into()),
                Step::Attr("environment".into()),
                Step::Attr("K".into())
            ]
        ));
        assert!(!marked(
            &c.after_sensitive,
            &[Step::Attr("function".into())]
        ));
        assert!(marked_within(
            &c.after_sensitive,
            &[Step::Attr("function".into())]
        ));
    }

    #[test]
    fn a_1_0_plan_without_replace_paths_or_importing_reads() {
        let doc = json!({
            "format_version": "0.2",
            "terraform_version": "1.0.3",
            "planned_values": {},
            "resource_changes": [{
                "address": "x.y", "type": "x", "name": "y",
                "change": {"actions": ["create"], "before": null, "after": {}}
            }]
        });
        let c = &from_json(&doc).unwrap().changes[0];
        assert_eq!(c.action, Action::Create);
        assert_eq!(c.replace_paths, None);
        assert_eq!(c.importing, None);
        assert_eq!(c.before, None);
    }

    #[test]
    fn an_empty_plan_has_no_changes() {
        let doc = json!({"format_version": "1.2", "planned_values": {}});
        assert!(from_json(&doc).unwrap().changes.is_empty());
    }

    #[test]
    fn what_is_not_a_plan_is_refused() {
        assert_eq!(parse(b""), Err(PlanError::Empty));
        assert_eq!(parse(b" \n"), Err(PlanError::Empty));
        assert!(matches!(parse(b"not json"), Err(PlanError::NotJson(_))));
        assert!(matches!(parse(b"[1,2]"), Err(PlanError::NotAPlan(_))));
        assert!(matches!(
            parse(br#"{"name":"x","version":"1.0.0"}"#),
            Err(PlanError::NotAPlan(_))
        ));
        // A state, not a plan.
        assert!(matches!(
            parse(br#"{"format_version":"1.0","terraform_version":"1.11.4","values":{}}"#),
            Err(PlanError::NotAPlan(_))
        ));
        assert!(matches!(
            parse(br#"{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":"a"}]}"#),
            Err(PlanError::NotAPlan(_))
        ));
        assert!(matches!(
            parse(br#"{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":"a","type":"t","change":{"actions":["explode"]}}]}"#),
            Err(PlanError::NotAPlan(_))
        ));
    }

    #[test]
    fn errors_are_one_line() {
        for bad in [&b""[..], b"{", b"[]", b"{\"format_version\":1}"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
