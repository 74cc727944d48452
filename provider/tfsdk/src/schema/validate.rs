//! Attribute validators. Each one can describe itself, so the generated
//! documentation states the same constraint the provider enforces.

use crate::value::Value;

/// A check on one known, non-null attribute value.
#[derive(Clone, Debug)]
pub enum Validator {
    /// A whole number within `[min, max]`.
    IntBetween(i64, i64),
    /// A string whose length in characters is within `[min, max]`.
    LengthBetween(usize, usize),
    /// A string equal to one of the given values.
    OneOf(&'static [&'static str]),
    /// Any other rule: `doc` is shown in the docs, `check` returns the
    /// problem in words a user can act on.
    Custom {
        doc: &'static str,
        check: fn(&Value) -> Result<(), String>,
    },
}

impl Validator {
    /// Checks `value`; `Err` holds a sentence saying what is wrong.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        match self {
            Validator::IntBetween(min, max) => {
                let n = value.as_number().ok_or("expected a number")?;
                match n.as_i64() {
                    Some(i) if (*min..=*max).contains(&i) => Ok(()),
                    Some(i) => Err(format!(
                        "{i} is out of range: must be between {min} and {max}"
                    )),
                    None => Err(format!("must be a whole number between {min} and {max}")),
                }
            }
            Validator::LengthBetween(min, max) => {
                let s = value.as_str().ok_or("expected a string")?;
                let len = s.chars().count();
                if (*min..=*max).contains(&len) {
                    Ok(())
                } else {
                    Err(format!(
                        "is {len} characters long: must be between {min} and {max}"
                    ))
                }
            }
            Validator::OneOf(allowed) => {
                let s = value.as_str().ok_or("expected a string")?;
                if allowed.contains(&s) {
                    Ok(())
                } else {
                    Err(format!("{s:?} is not one of {}", quoted_list(allowed)))
                }
            }
            Validator::Custom { check, .. } => check(value),
        }
    }

    /// The constraint in words, for documentation.
    pub fn doc(&self) -> String {
        match self {
            Validator::IntBetween(min, max) => format!("Between {min} and {max}."),
            Validator::LengthBetween(min, max) => {
                format!("Between {min} and {max} characters.")
            }
            Validator::OneOf(allowed) => format!("One of {}.", quoted_list(allowed)),
            Validator::Custom { doc, .. } => (*doc).to_owned(),
        }
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;

    #[test]
    fn int_between_accepts_both_bounds_and_refuses_beyond() {
        let v = Validator::IntBetween(128, 10240);
        assert!(v.check(&Value::Number(Number::from(128i64))).is_ok());
        assert!(v.check(&Value::Number(Number::from(10240i64))).is_ok());
        assert!(v.check(&Value::Number(Number::from(127i64))).is_err());
        assert!(v.check(&Value::Number(Number::from(10241i64))).is_err());
    }

    #[test]
    fn one_of_names_the_choices() {
        let v = Validator::OneOf(&["x86_64", "arm64"]);
        assert!(v.check(&Value::String("arm64".into())).is_ok());
        let err = v.check(&Value::String("arm".into())).unwrap_err();
        assert!(err.contains("`x86_64`, `arm64`"), "{err}");
    }

    #[test]
    fn length_counts_characters() {
        let v = Validator::LengthBetween(1, 3);
        assert!(v.check(&Value::String("äöü".into())).is_ok());
        assert!(v.check(&Value::String(String::new())).is_err());
    }
}
