//! Diagnostics: what the provider tells the user, with the attribute path
//! Terraform uses to point at the offending line of configuration.
//!
//! Every error type of the provider becomes a [`Diagnostic`] here and nowhere
//! else; the gRPC layer only translates these into protocol messages.

use std::fmt;

/// One step of a path into a value: an attribute, a map key or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Attr(String),
    Key(String),
    Index(i64),
}

/// A path into a resource or provider configuration, e.g. `function.memory_size`
/// or `trigger[1].events[0]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }

    /// A path of attribute names, e.g. `AttrPath::attrs(["function", "runtime"])`.
    pub fn attrs<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        AttrPath(
            names
                .into_iter()
                .map(|n| PathStep::Attr(n.to_owned()))
                .collect(),
        )
    }

    pub fn attr(&self, name: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Attr(name.to_owned()));
        AttrPath(steps)
    }

    pub fn index(&self, i: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
        AttrPath(steps)
    }

    pub fn key(&self, k: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Key(k.to_owned()));
        AttrPath(steps)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(idx) => write!(f, "[{idx}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    pub fn at(mut self, path: AttrPath) -> Self {
        self.path = Some(path);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// An ordered collection of diagnostics from one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_reads_like_terraform_addresses() {
        let p = AttrPath::attrs(["trigger"])
            .index(1)
            .attr("events")
            .index(0);
        assert_eq!(p.to_string(), "trigger[1].events[0]");
        let p = AttrPath::attrs(["function", "environment"]).key("A");
        assert_eq!(p.to_string(), "function.environment[\"A\"]");
    }
}
