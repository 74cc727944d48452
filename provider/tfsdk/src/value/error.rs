//! Where and why decoding or encoding a value failed.
//!
//! Errors carry the [`Path`] to the offending value so the RPC layer can turn
//! them into a diagnostic that points at an attribute. Paths stop at a set:
//! Terraform cannot address set elements, so an error inside one is reported
//! at the set itself (the error kind still names the problem).

use std::fmt;

use thiserror::Error;

use super::number::NumberError;
use super::types::TypeError;

/// One step from a value into one of its parts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// An object attribute.
    Attr(String),
    /// A map key.
    Key(String),
    /// A list or tuple index.
    Index(usize),
}

/// A path from the root value to a nested one. Displays like
/// `.function[0].environment["A"]`; the root displays as an empty string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path(Vec<Step>);

impl Path {
    pub fn root() -> Self {
        Path(Vec::new())
    }

    pub fn steps(&self) -> &[Step] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Puts `step` in front: errors are built from the inside out, each
    /// enclosing value adding its own step as the error passes through it.
    fn prepend(&mut self, step: Step) {
        self.0.insert(0, step);
    }
}

impl From<Vec<Step>> for Path {
    fn from(steps: Vec<Step>) -> Self {
        Path(steps)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.0 {
            match step {
                Step::Attr(name) => write!(f, ".{name}")?,
                Step::Key(key) => write!(f, "[{key:?}]")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Renders " at <path>" after a message, or nothing for the root.
struct At<'a>(&'a Path);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_root() {
            Ok(())
        } else {
            write!(f, " at {}", self.0)
        }
    }
}

/// Bytes from Terraform (msgpack or JSON) that do not hold a value of the
/// expected type.
#[derive(Clone, Debug, PartialEq, Error)]
#[error("{kind}{}", At(.path))]
pub struct DecodeError {
    pub path: Path,
    pub kind: DecodeErrorKind,
}

#[derive(Clone, Debug, PartialEq, Error)]
pub enum DecodeErrorKind {
    #[error("unexpected end of input")]
    UnexpectedEof,
    #[error("{0} unexpected bytes after the value")]
    TrailingBytes(usize),
    #[error("invalid msgpack: byte 0xc1 is never used")]
    ReservedByte,
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("expected {expected}, found {found}")]
    Mismatch {
        expected: &'static str,
        found: &'static str,
    },
    #[error("a string is not valid UTF-8")]
    InvalidUtf8,
    #[error(transparent)]
    InvalidNumber(#[from] NumberError),
    #[error("attribute {0:?} is missing")]
    MissingAttribute(String),
    #[error("unsupported attribute {0:?}")]
    UnexpectedAttribute(String),
    #[error("key {0:?} appears twice")]
    DuplicateKey(String),
    #[error("a tuple of {expected} elements is required, found {found}")]
    TupleLength { expected: usize, found: usize },
    #[error("a dynamically-typed value must be a [type, value] array, found {0} elements")]
    DynamicShape(usize),
    #[error("invalid key {0:?} in a dynamically-typed value (expected \"value\" and \"type\")")]
    DynamicKey(String),
    #[error("a dynamically-typed value lacks its {0:?} key")]
    DynamicMissing(&'static str),
    #[error("invalid type of a dynamically-typed value: {0}")]
    InvalidType(#[source] TypeError),
    #[error("values are nested more than {0} levels deep")]
    TooDeep(usize),
}

impl DecodeError {
    pub(crate) fn new(kind: impl Into<DecodeErrorKind>) -> Self {
        DecodeError {
            path: Path::root(),
            kind: kind.into(),
        }
    }

    pub(crate) fn mismatch(expected: &'static str, found: &'static str) -> Self {
        Self::new(DecodeErrorKind::Mismatch { expected, found })
    }

    /// The same error, seen from the value that contains the failed one.
    pub(crate) fn within(mut self, step: Step) -> Self {
        self.path.prepend(step);
        self
    }
}

impl From<NumberError> for DecodeError {
    fn from(e: NumberError) -> Self {
        DecodeError::new(e)
    }
}

/// A value that cannot be encoded with the given type.
#[derive(Clone, Debug, PartialEq, Error)]
#[error("{kind}{}", At(.path))]
pub struct EncodeError {
    pub path: Path,
    pub kind: EncodeErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EncodeErrorKind {
    #[error("expected {expected}, found {found}")]
    Mismatch {
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "a value of a dynamic-typed position must be Value::Dynamic, null or unknown, found {0}"
    )]
    UntypedDynamic(&'static str),
    #[error("attribute {0:?} is missing")]
    MissingAttribute(String),
    #[error("unsupported attribute {0:?}")]
    UnexpectedAttribute(String),
    #[error("a tuple of {expected} elements is required, found {found}")]
    TupleLength { expected: usize, found: usize },
    #[error("JSON cannot represent an unknown value")]
    UnknownInJson,
    #[error("the number {0} cannot be encoded")]
    UnencodableNumber(String),
    #[error("a string or collection of {0} elements is too large for msgpack")]
    TooLarge(usize),
    #[error("values are nested more than {0} levels deep")]
    TooDeep(usize),
}

impl EncodeError {
    pub(crate) fn new(kind: EncodeErrorKind) -> Self {
        EncodeError {
            path: Path::root(),
            kind,
        }
    }

    pub(crate) fn within(mut self, step: Step) -> Self {
        self.path.prepend(step);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_terraform_references() {
        let path = Path::from(vec![
            Step::Attr("function".into()),
            Step::Index(0),
            Step::Attr("environment".into()),
            Step::Key("A".into()),
        ]);
        assert_eq!(path.to_string(), ".function[0].environment[\"A\"]");
    }

    #[test]
    fn errors_built_inside_out_name_the_full_path() {
        let err = DecodeError::new(DecodeErrorKind::InvalidUtf8)
            .within(Step::Attr("memory_size".into()))
            .within(Step::Index(0))
            .within(Step::Attr("function".into()));
        assert_eq!(err.path.to_string(), ".function[0].memory_size");
        assert_eq!(
            err.to_string(),
            "a string is not valid UTF-8 at .function[0].memory_size"
        );
        assert_eq!(
            DecodeError::new(DecodeErrorKind::UnexpectedEof).to_string(),
            "unexpected end of input"
        );
    }
}
