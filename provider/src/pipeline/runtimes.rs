//! Lambda runtimes: which are current, which are deprecated and what
//! replaces them.

use tfsdk::schema::Validator;
use tfsdk::value::Value;

/// The runtime used when none is configured.
pub const DEFAULT: &str = "python3.13";

/// Runtimes Lambda accepts for new functions.
pub const SUPPORTED: &[&str] = &[
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs22.x",
    "nodejs24.x",
    "java11",
    "java17",
    "java21",
    "java25",
    "dotnet8",
    "dotnet10",
    "ruby3.3",
    "ruby3.4",
    "provided.al2",
    "provided.al2023",
];

/// Deprecated runtimes and the replacement to name in the error.
pub const DEPRECATED: &[(&str, &str)] = &[
    ("python2.7", "python3.13"),
    ("python3.6", "python3.13"),
    ("python3.7", "python3.13"),
    ("python3.8", "python3.13"),
    ("python3.9", "python3.13"),
    ("nodejs", "nodejs22.x"),
    ("nodejs4.3", "nodejs22.x"),
    ("nodejs6.10", "nodejs22.x"),
    ("nodejs8.10", "nodejs22.x"),
    ("nodejs10.x", "nodejs22.x"),
    ("nodejs12.x", "nodejs22.x"),
    ("nodejs14.x", "nodejs22.x"),
    ("nodejs16.x", "nodejs22.x"),
    ("nodejs18.x", "nodejs22.x"),
    ("nodejs20.x", "nodejs22.x"),
    ("java8", "java21"),
    ("java8.al2", "java21"),
    ("dotnetcore1.0", "dotnet8"),
    ("dotnetcore2.0", "dotnet8"),
    ("dotnetcore2.1", "dotnet8"),
    ("dotnetcore3.1", "dotnet8"),
    ("dotnet6", "dotnet8"),
    ("dotnet7", "dotnet8"),
    ("ruby2.5", "ruby3.4"),
    ("ruby2.7", "ruby3.4"),
    ("ruby3.2", "ruby3.4"),
    ("go1.x", "provided.al2023"),
    ("provided", "provided.al2023"),
];

fn check(value: &Value) -> Result<(), String> {
    let runtime = value.as_str().ok_or("expected a string")?;
    if SUPPORTED.contains(&runtime) {
        return Ok(());
    }
    if let Some((_, replacement)) = DEPRECATED.iter().find(|(old, _)| *old == runtime) {
        return Err(format!(
            "{runtime:?} is deprecated and Lambda no longer accepts it for new functions or \
             code updates; use {replacement:?} instead"
        ));
    }
    Err(format!(
        "{runtime:?} is not a Lambda runtime; supported runtimes are {}",
        SUPPORTED.join(", ")
    ))
}

pub fn validator() -> Validator {
    Validator::Custom {
        doc: "A currently supported Lambda runtime; deprecated ones are refused with the \
              replacement named.",
        check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_runtime_names_its_replacement() {
        let err = check(&Value::String("python3.8".into())).unwrap_err();
        assert!(
            err.contains("deprecated") && err.contains("python3.13"),
            "{err}"
        );
    }

    #[test]
    fn current_runtimes_pass_and_unknown_names_fail() {
        assert!(check(&Value::String(DEFAULT.into())).is_ok());
        assert!(check(&Value::String("python3.12".into())).is_ok());
        assert!(check(&Value::String("cobol".into())).is_err());
    }

    #[test]
    fn no_runtime_is_both_supported_and_deprecated() {
        for (old, new) in DEPRECATED {
            assert!(!SUPPORTED.contains(old), "{old}");
            assert!(SUPPORTED.contains(new), "{new}");
        }
    }
}
