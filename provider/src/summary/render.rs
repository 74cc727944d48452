//! A [`Summary`] as Markdown (for a pull-request comment) or plain text.
//! Both say the same things in the same order; only the markup differs,
//! except that the Markdown ends each pipeline's section with its picture,
//! a Mermaid flowchart in a ```` ```mermaid ```` block that GitHub draws
//! (unless turned off). The text has no picture: Mermaid source is not for
//! reading in a terminal, and everything it shows is said in words too,
//! but for the alarms.

use super::diagram::mermaid;
use super::iam::{Conditions, KeyBefore, Statement, Widening};
use super::keys;
use super::plan_json::Action;
use super::sections::{
    Code, FileChangeKind, Iam, Pipeline, PipelineAction, Shown, Summary, Trigger, TriggerChange,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Markdown,
    Text,
}

/// Control characters as escapes, so a value cannot break a line or a table.
fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

struct Out {
    fmt: Format,
    /// Each pipeline's flowchart, in Markdown.
    diagram: bool,
    text: String,
}

impl Out {
    fn code(&self, s: &str) -> String {
        let s = clean(s);
        match self.fmt {
            Format::Text => s,
            Format::Markdown => {
                let mut longest = 0;
                let mut run = 0;
                for c in s.chars() {
                    run = if c == '`' { run + 1 } else { 0 };
                    longest = longest.max(run);
                }
                let fence = "`".repeat(longest + 1);
                if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
                    format!("{fence} {s} {fence}")
                } else {
                    format!("{fence}{s}{fence}")
                }
            }
        }
    }

    fn strong(&self, s: &str) -> String {
        match self.fmt {
            Format::Text => s.to_owned(),
            Format::Markdown => format!("**{s}**"),
        }
    }

    fn line(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push('\n');
    }

    fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn heading(&mut self, level: usize, s: &str) {
        self.blank();
        match self.fmt {
            Format::Markdown => self.line(&format!("{} {s}", "#".repeat(level))),
            Format::Text => {
                self.line(s);
                let under = if level <= 2 { '=' } else { '-' };
                self.line(&under.to_string().repeat(s.chars().count()));
            }
        }
        self.blank();
    }

    fn item(&mut self, depth: usize, s: &str) {
        self.line(&format!("{}- {s}", "  ".repeat(depth)));
    }

    fn label(&mut self, label: &str, rest: &str) {
        self.blank();
        let l = self.strong(label);
        if rest.is_empty() {
            self.line(&l);
        } else {
            self.line(&format!("{l}: {rest}"));
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn action_words(a: Action) -> &'static str {
    match a {
        Action::NoOp => "unchanged",
        Action::Read => "to read",
        Action::Create => "to create",
        Action::Update => "to update",
        Action::Replace => "to replace",
        Action::Delete => "to delete",
        Action::Forget => "to forget",
    }
}

fn pipeline_action(o: &Out, a: &PipelineAction) -> String {
    let then = |t: &Action| match t {
        Action::NoOp => String::new(),
        Action::Update => ", then update in place".into(),
        other => format!(", then {}", action_words(*other).trim_start_matches("to ")),
    };
    match a {
        PipelineAction::Create => "create".into(),
        PipelineAction::Update => "update in place".into(),
        PipelineAction::Replace {
            forced_by,
            requested,
        } => {
            let mut why: Vec<String> = forced_by.iter().map(|p| o.code(p)).collect();
            if *requested {
                why.push("-replace".into());
            }
            if why.is_empty() {
                "replace".into()
            } else {
                format!("replace (forced by {})", why.join(", "))
            }
        }
        PipelineAction::Delete => "delete".into(),
        PipelineAction::Forget => "forget (removed from the state, left in AWS)".into(),
        PipelineAction::Import { id, then: t } => format!("import {}{}", o.code(id), then(t)),
        PipelineAction::Adopt { id, then: t } => format!("adopt {}{}", o.code(id), then(t)),
    }
}

fn shown(o: &Out, s: &Shown) -> String {
    match s {
        Shown::Absent => "(not set)".into(),
        Shown::Value(v) => o.code(v),
        Shown::Unknown => "(known after apply)".into(),
        Shown::Sensitive => "(sensitive)".into(),
    }
}

fn list(o: &Out, items: &[String]) -> String {
    items
        .iter()
        .map(|i| o.code(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Conditions, briefly: `key` = `value`, `key` like `a` or `b`.
fn conditions(o: &Out, c: &Conditions) -> String {
    let mut parts = Vec::new();
    for (op, keys) in c {
        let word = match op.as_str() {
            "StringEquals" | "ArnEquals" | "Bool" | "NumericEquals" => "=",
            "StringLike" | "ArnLike" => "like",
            other => other,
        };
        for (key, values) in keys {
            let values: Vec<String> = values.iter().map(|v| o.code(v)).collect();
            parts.push(format!("{} {word} {}", o.code(key), values.join(" or ")));
        }
    }
    parts.join(" and ")
}

fn statement(o: &Out, s: &Statement) -> String {
    let mut t = format!(
        "{} {} on {}",
        if s.allow { "Allow" } else { "Deny" },
        list(o, &s.actions.iter().cloned().collect::<Vec<_>>()),
        list(o, &s.resources.iter().cloned().collect::<Vec<_>>())
    );
    if !s.conditions.is_empty() {
        t.push_str(&format!(" if {}", conditions(o, &s.conditions)));
    }
    t
}

fn widening(o: &Out, w: &Widening) -> String {
    match w {
        Widening::NewAction(a) => format!("new action {}", o.code(a)),
        Widening::BroaderResource { resource, was } => {
            format!(
                "broader resource {} (was {})",
                o.code(resource),
                o.code(was)
            )
        }
        Widening::NewResource(r) => format!("new resource {}", o.code(r)),
        Widening::DenyRemoved(s) => format!("Deny statement {} removed", o.code(s)),
        Widening::ConditionChanged {
            sid,
            action,
            resource,
        } => format!(
            "conditions of {} on {} changed (statement {})",
            o.code(action),
            o.code(resource),
            o.code(sid)
        ),
        Widening::Key(k) => {
            let mut why = vec![
                keys::purpose(&k.sid)
                    .map_or_else(|| format!("statement {}", o.code(&k.sid)), str::to_owned),
            ];
            match &k.before {
                KeyBefore::Nothing => {}
                KeyBefore::OtherKey(was) => why.push(format!("was key {}", list(o, was))),
                KeyBefore::OtherConditions => why.push("its conditions changed".into()),
            }
            format!(
                "{} on key {} ({})",
                list(o, &k.actions),
                o.code(&k.key),
                why.join("; ")
            )
        }
    }
}

fn iam(o: &mut Out, i: &Iam) {
    match i {
        Iam::Unchanged => {}
        Iam::Unknown => o.label("IAM", "the new policy is known only after apply"),
        Iam::Unreadable(e) => o.label(
            "IAM",
            &format!("changed, and cannot be compared: {}", clean(e)),
        ),
        Iam::Changed(d) => {
            let head = if d.widenings.is_empty() {
                "changed, no widening".to_owned()
            } else {
                format!("changed, {}", o.strong("widens what the function may do"))
            };
            o.label("IAM", &head);
            for s in &d.added {
                let t = format!("statement {} added: {}", o.code(&s.sid), statement(o, s));
                o.item(0, &t);
            }
            for c in &d.changed {
                let t = format!("statement {} changed:", o.code(&c.sid));
                o.item(0, &t);
                if let Some((was, now)) = c.effect_changed {
                    let e = |b: bool| if b { "Allow" } else { "Deny" };
                    o.item(1, &format!("effect {} → {}", e(was), e(now)));
                }
                if let Some((was, now)) = &c.conditions_changed {
                    let side = |x: &Conditions| {
                        if x.is_empty() {
                            "(none)".to_owned()
                        } else {
                            conditions(o, x)
                        }
                    };
                    let t = format!("conditions {} → {}", side(was), side(now));
                    o.item(1, &t);
                }
                for (what, items) in [
                    ("action added", &c.actions_added),
                    ("action removed", &c.actions_removed),
                    ("resource added", &c.resources_added),
                    ("resource removed", &c.resources_removed),
                ] {
                    for x in items {
                        let t = format!("{what} {}", o.code(x));
                        o.item(1, &t);
                    }
                }
            }
            for s in &d.removed {
                let t = format!("statement {} removed: {}", o.code(&s.sid), statement(o, s));
                o.item(0, &t);
            }
            for w in &d.widenings {
                let t = format!("{}: {}", o.strong("widening"), widening(o, w));
                o.item(0, &t);
            }
        }
    }
}

fn code(o: &mut Out, c: &Code) {
    let old = c
        .old_hash
        .as_deref()
        .map_or("(none)".to_owned(), |h| o.code(h));
    let new = shown(o, &c.new_hash);
    o.label("Code", &format!("source_code_hash {old} → {new}"));
    if c.files_unknown {
        o.item(0, "files: known after apply");
    } else if let Some((was, now)) = c.unlisted {
        let n = |x: Option<u64>| x.map_or("?".to_owned(), |x| x.to_string());
        o.item(
            0,
            &format!(
                "files: {} → {} (too many to list; only counts are kept)",
                n(was),
                n(now)
            ),
        );
    } else if c.files.is_empty() && c.old_hash.is_some() && c.base.is_none() {
        o.item(
            0,
            "no file listed as changed (the package changed otherwise)",
        );
    }
    if let Some((was, now)) = &c.base {
        let was = was.as_deref().map_or("(none)".to_owned(), |h| o.code(h));
        let now = shown(o, now);
        o.item(0, &format!("base image {was} → {now}"));
    }
    for f in &c.files {
        let kind = match f.kind {
            FileChangeKind::Added => "added",
            FileChangeKind::Removed => "removed",
            FileChangeKind::Modified => "modified",
        };
        let t = format!("{kind} {}", o.code(&f.path));
        o.item(0, &t);
    }
}

fn trigger(o: &Out, t: &Trigger) -> String {
    let mut parts = vec![format!("events {}", list(o, &t.events))];
    if !t.prefix.is_empty() {
        parts.push(format!("prefix {}", o.code(&t.prefix)));
    }
    if !t.suffix.is_empty() {
        parts.push(format!("suffix {}", o.code(&t.suffix)));
    }
    if t.matches_everything() {
        parts.push("every object".into());
    }
    parts.join("; ")
}

fn triggers(o: &mut Out, ts: &[TriggerChange]) {
    if ts.is_empty() {
        return;
    }
    o.label("Triggers", "");
    for t in ts {
        let line = match t {
            TriggerChange::Added { index, trigger: tr } => {
                format!("trigger {} added: {}", index + 1, trigger(o, tr))
            }
            TriggerChange::Removed { index, trigger: tr } => {
                format!("trigger {} removed: {}", index + 1, trigger(o, tr))
            }
            TriggerChange::Changed { index, old, new } => {
                let mut diffs = Vec::new();
                if old.events != new.events {
                    diffs.push(format!(
                        "events {} → {}",
                        list(o, &old.events),
                        list(o, &new.events)
                    ));
                } else {
                    diffs.push(format!("events {}", list(o, &new.events)));
                }
                let v = |s: &str| {
                    if s.is_empty() {
                        "(none)".to_owned()
                    } else {
                        o.code(s)
                    }
                };
                if old.prefix != new.prefix {
                    diffs.push(format!("prefix {} → {}", v(&old.prefix), v(&new.prefix)));
                }
                if old.suffix != new.suffix {
                    diffs.push(format!("suffix {} → {}", v(&old.suffix), v(&new.suffix)));
                }
                format!("trigger {} changed: {}", index + 1, diffs.join("; "))
            }
        };
        o.item(0, &line);
    }
}

fn settings(o: &mut Out, p: &Pipeline) {
    if p.settings.is_empty() {
        return;
    }
    o.label("Settings", "");
    match o.fmt {
        Format::Markdown => {
            o.blank();
            o.line("| setting | old | new |");
            o.line("|---|---|---|");
            for s in &p.settings {
                let cell = |x: String| x.replace('|', "\\|");
                let row = format!(
                    "| {} | {} | {} |",
                    cell(o.code(&s.name)),
                    cell(shown(o, &s.old)),
                    cell(shown(o, &s.new))
                );
                o.line(&row);
            }
        }
        Format::Text => {
            for s in &p.settings {
                let t = format!("{}: {} → {}", s.name, shown(o, &s.old), shown(o, &s.new));
                o.item(0, &t);
            }
        }
    }
}

fn pipeline(o: &mut Out, p: &Pipeline) {
    let mut title = o.code(&p.address);
    if let Some(n) = &p.name {
        title.push_str(&format!(" ({})", o.code(n)));
    }
    let act = pipeline_action(o, &p.action);
    o.heading(3, &format!("{title}: {act}"));
    if !p.risks.is_empty() {
        o.label("Risks", "");
        for r in &p.risks {
            let t = format!("{} {}", o.strong("risk:"), clean(&r.to_string()));
            o.item(0, &t);
        }
    }
    iam(o, &p.iam);
    if let Some(c) = &p.code {
        code(o, c);
    }
    triggers(o, &p.triggers);
    settings(o, p);
    if o.diagram && o.fmt == Format::Markdown {
        o.blank();
        o.line("```mermaid");
        o.text.push_str(&mermaid::flowchart(&p.diagram));
        o.line("```");
    }
}

fn headline(s: &Summary) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in &s.pipelines {
        let k = match &p.action {
            PipelineAction::Create => "to create",
            PipelineAction::Update => "to update",
            PipelineAction::Replace { .. } => "to replace",
            PipelineAction::Delete => "to delete",
            PipelineAction::Forget => "to forget",
            PipelineAction::Import { .. } => "to import",
            PipelineAction::Adopt { .. } => "to adopt",
        };
        *counts.entry(k).or_default() += 1;
    }
    let order = [
        "to create",
        "to update",
        "to replace",
        "to delete",
        "to import",
        "to adopt",
        "to forget",
    ];
    let mut parts: Vec<String> = order
        .iter()
        .filter_map(|k| counts.get(k).map(|n| format!("{n} {k}")))
        .collect();
    if s.unchanged_pipelines > 0 {
        parts.push(format!("{} unchanged", s.unchanged_pipelines));
    }
    let total = s.pipelines.len() + s.unchanged_pipelines;
    if total == 0 {
        "no pipeline in this plan".into()
    } else {
        format!(
            "{}: {}",
            plural(total, "pipeline", "pipelines"),
            parts.join(", ")
        )
    }
}

fn others(o: &Out, s: &Summary) -> String {
    let n: usize = s.others.by_action.values().sum();
    if n == 0 {
        return "Other resources: none.".into();
    }
    let by: Vec<String> = s
        .others
        .by_action
        .iter()
        .map(|(a, n)| format!("{n} {}", action_words(*a)))
        .collect();
    let types: Vec<String> = s.others.types.iter().map(|t| o.code(t)).collect();
    format!(
        "Other resources: {} ({}) of type {}.",
        n,
        by.join(", "),
        types.join(", ")
    )
}

/// Writes the summary, with each pipeline's flowchart in Markdown.
pub fn render(s: &Summary, fmt: Format) -> String {
    render_with(s, fmt, true)
}

/// Writes the summary; `diagram` turns the Markdown's flowcharts on or off.
pub fn render_with(s: &Summary, fmt: Format, diagram: bool) -> String {
    let mut o = Out {
        fmt,
        diagram,
        text: String::new(),
    };
    o.heading(2, "eventpipe plan summary");
    let head = format!(
        "Terraform {}. {}.",
        clean(&s.terraform_version),
        headline(s)
    );
    o.line(&head);
    o.blank();
    let flags = [
        (s.iam_widening(), "widens IAM permissions"),
        (s.replace(), "replaces resources"),
        (s.delete(), "deletes resources"),
        (s.risk(), "has risk flags"),
    ];
    let said: Vec<&str> = flags.iter().filter(|f| f.0).map(|f| f.1).collect();
    if !said.is_empty() {
        let t = format!("{} this plan {}.", o.strong("Review:"), said.join(", "));
        o.line(&t);
        o.blank();
    }
    let other = others(&o, s);
    o.line(&other);
    if !s.unchanged_risks.is_empty() {
        o.label("Unchanged pipelines with risk flags", "");
        for u in &s.unchanged_risks {
            let mut t = o.code(&u.address);
            if let Some(n) = &u.name {
                t.push_str(&format!(" ({})", o.code(n)));
            }
            let t = format!("{t}: {} {}", o.strong("risk:"), clean(&u.risk.to_string()));
            o.item(0, &t);
        }
    }
    for p in &s.pipelines {
        pipeline(&mut o, p);
    }
    let mut text = o.text;
    while text.ends_with("\n\n") {
        text.pop();
    }
    text
}
