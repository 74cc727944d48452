//! A [`Graph`] as a Mermaid flowchart (`flowchart LR`), the subset GitHub
//! renders in a comment: node declarations with quoted labels, edges with
//! quoted labels, `classDef`/`class` for the parts' colours and `linkStyle`
//! for the connections'.
//!
//! Ids are the parts' own ([`Part::id`]); every label is quoted and its
//! text escaped with Mermaid's entity codes (`#quot;`, `#35;`, …), so a
//! name, prefix or email address cannot end a label, start a comment or
//! inject markup. Each changed part and connection also carries its text
//! marker (`+`, `~`, `−`, `−/+`), so the picture reads without colour.

use std::collections::BTreeMap;

use super::{Graph, Line, Part, Status};

/// A node's shape: its opening and closing around the quoted label.
fn shape(part: Part) -> (&'static str, &'static str) {
    match part {
        Part::Bucket => ("[(", ")]"),
        Part::Function => ("(", ")"),
        Part::EventQueue | Part::FailureQueue | Part::Stream => ("[[", "]]"),
        Part::Alarm(_) => (">", "]"),
        Part::Topic => ("([", "])"),
    }
}

/// The class (and its style) of each status that is drawn differently.
fn class(status: Status) -> Option<(&'static str, &'static str)> {
    let style = match status {
        Status::Kept => return None,
        Status::Added => ("added", "fill:#dafbe1,stroke:#1a7f37,color:#1f2328"),
        Status::Changed => ("changed", "fill:#fff8c5,stroke:#9a6700,color:#1f2328"),
        Status::Removed => (
            "removed",
            "fill:#ffebe9,stroke:#cf222e,color:#1f2328,stroke-dasharray:5 3",
        ),
        Status::Replaced => ("replaced", "fill:#fbefff,stroke:#8250df,color:#1f2328"),
    };
    Some(style)
}

fn link_style(status: Status) -> Option<&'static str> {
    match status {
        Status::Kept => None,
        Status::Added => Some("stroke:#1a7f37,stroke-width:2px"),
        Status::Changed => Some("stroke:#9a6700,stroke-width:2px"),
        Status::Removed => Some("stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 3"),
        Status::Replaced => Some("stroke:#8250df,stroke-width:2px"),
    }
}

/// Text for inside a quoted label: every character Mermaid or the HTML it
/// makes could read as syntax becomes an entity code; a control or
/// invisible character is shown as its escape (`\n` for a newline).
pub fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' | '|' | '[' | ']' | '(' | ')' | '{' | '}' | '`' | '%' | '\\' => {
                out.push_str(&format!("#{};", u32::from(c)));
            }
            c if c.is_control() || invisible(c) => {
                for e in c.escape_default() {
                    out.push_str(&escape(&e.to_string()));
                }
            }
            c if c.is_whitespace() && c != ' ' => out.push_str(&format!("#{};", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A character that changes how text around it reads without showing
/// itself: bidirectional controls and zero-width characters. Shown as its
/// escape, so a name cannot hide or reorder a label's text.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

/// A quoted label: the marker, then the lines, each escaped, joined by
/// line breaks.
fn label(status: Status, lines: &[String]) -> String {
    let marker = status.marker();
    let body: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 && !marker.is_empty() {
                format!("{} {}", escape(marker), escape(l))
            } else {
                escape(l)
            }
        })
        .collect();
    format!("\"{}\"", body.join("<br/>"))
}

/// The flowchart, one statement a line, without a code fence.
pub fn flowchart(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for n in &g.nodes {
        let (open, close) = shape(n.part);
        let text = label(n.status, &n.lines);
        out.push_str(&format!("  {}{open}{text}{close}\n", n.part.id()));
    }
    for e in &g.edges {
        let arrow = match e.line {
            Line::Solid => "-->",
            Line::Dotted => "-.->",
        };
        let text = match (&e.label, e.status) {
            (None, Status::Kept) => String::new(),
            (None, s) => format!("|\"{}\"|", escape(s.marker())),
            (Some(l), s) => format!("|{}|", label(s, std::slice::from_ref(l))),
        };
        out.push_str(&format!("  {} {arrow}{text} {}\n", e.from.id(), e.to.id()));
    }
    let mut classes: BTreeMap<Status, Vec<String>> = BTreeMap::new();
    for n in &g.nodes {
        if class(n.status).is_some() {
            classes.entry(n.status).or_default().push(n.part.id());
        }
    }
    for (status, ids) in &classes {
        if let Some((name, style)) = class(*status) {
            out.push_str(&format!("  classDef {name} {style}\n"));
            out.push_str(&format!("  class {} {name}\n", ids.join(",")));
        }
    }
    let mut links: BTreeMap<Status, Vec<String>> = BTreeMap::new();
    for (i, e) in g.edges.iter().enumerate() {
        if link_style(e.status).is_some() {
            links.entry(e.status).or_default().push(i.to_string());
        }
    }
    for (status, at) in &links {
        if let Some(style) = link_style(*status) {
            out.push_str(&format!("  linkStyle {} {style}\n", at.join(",")));
        }
    }
    out
}
