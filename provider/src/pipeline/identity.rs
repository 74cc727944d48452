//! The resource identity of a pipeline (protocol 6.9): the account, the
//! region and the name of the pipeline's function, which is the pipeline's
//! name unless an adopted pipeline was given another.
//!
//! `adopt` says how `import { identity = { … } }` finds the pipeline:
//! `adopt = true` imports as `adopt:NAME` does, `false` as `NAME` does. An
//! identity is one that imports the pipeline it names, so `adopt` is `true`
//! for a wiring made by hand (a list result) and for a pipeline whose name is
//! not its function's (an adopted one renamed: import by name looks for the
//! function named after the pipeline), and `false` otherwise.

use tfsdk::schema::{ForImport, IdentityAttribute, IdentitySchema};
use tfsdk::value::{Type, Value};

use super::ownership::ADOPT_PREFIX;
use super::policy;
use super::state::attr;

/// Bump with an [`upgrade`] step when the attributes change.
pub const VERSION: i64 = 0;

const ACCOUNT_ID: &str = "account_id";
const REGION: &str = "region";
/// The pipeline's name, under the attribute name users write for it.
const NAME: &str = attr::NAME;
const ADOPT: &str = "adopt";

pub fn schema() -> IdentitySchema {
    IdentitySchema {
        version: VERSION,
        attributes: vec![
            IdentityAttribute::new(ACCOUNT_ID, Type::String, ForImport::Optional)
                .describe("The AWS account. Defaults to the provider's."),
            IdentityAttribute::new(REGION, Type::String, ForImport::Optional)
                .describe("The AWS region. Defaults to the provider's."),
            IdentityAttribute::new(NAME, Type::String, ForImport::Required).describe(
                "The pipeline's name; for a pipeline wired by hand, its function's name.",
            ),
            IdentityAttribute::new(ADOPT, Type::Bool, ForImport::Optional).describe(
                "`true` imports as the `adopt:` import ID does: a pipeline wired by hand, \
                 or an adopted pipeline whose name is not its function's.",
            ),
        ],
    }
}

/// One pipeline's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `None` while unknown (a pipeline yet to be created, before the
    /// account is known).
    pub account_id: Option<String>,
    pub region: String,
    /// `None` while unknown (a name taken from another resource's output).
    pub name: Option<String>,
    pub adopt: bool,
}

impl Identity {
    /// The identity of the pipeline a state or a planned state describes.
    /// `region` and `account` are the provider's, used until the function's
    /// ARN names them (on create).
    pub fn of_state(state: &Value, region: &str, account: Option<&str>) -> Identity {
        let text = |name: &str| state.get_attr(name).and_then(Value::as_str);
        let arn = text(attr::FUNCTION_ARN).unwrap_or_default();
        let from_arn = policy::account_of_arn(arn).zip(arn.split(':').nth(3));
        let (account_id, region) = match from_arn {
            Some((account, region)) => (Some(account.to_owned()), region.to_owned()),
            None => (account.map(str::to_owned), region.to_owned()),
        };
        let pipeline = text(attr::NAME);
        let function = text(attr::FUNCTION_NAME).or(pipeline);
        Identity {
            account_id,
            region,
            name: function.map(str::to_owned),
            // Import by name finds the function named after the pipeline.
            adopt: matches!((pipeline, function), (Some(p), Some(f)) if p != f),
        }
    }

    pub fn to_value(&self) -> Value {
        let known = |v: &Option<String>| {
            v.as_ref()
                .map_or(Value::Unknown, |s| Value::string(s.clone()))
        };
        Value::object([
            (ACCOUNT_ID, known(&self.account_id)),
            (REGION, Value::string(self.region.clone())),
            (NAME, known(&self.name)),
            (ADOPT, Value::Bool(self.adopt)),
        ])
    }

    /// An identity an `import` block gave: account and region default to
    /// the provider's, `adopt` to false.
    pub fn from_import(v: &Value) -> Result<Wanted, IdentityError> {
        let text = |name: &str| {
            v.get_attr(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        let name = text(NAME).ok_or(IdentityError::NoName)?;
        Ok(Wanted {
            account_id: text(ACCOUNT_ID),
            region: text(REGION),
            name,
            adopt: v.get_attr(ADOPT).and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

/// What an `import` block's identity asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub name: String,
    pub adopt: bool,
}

impl Wanted {
    /// The import ID that imports the same pipeline: `NAME` or `adopt:NAME`.
    /// Refused when the identity names another account or region than the
    /// provider's, which cannot reach it.
    pub fn import_id(&self, region: &str, account: &str) -> Result<String, IdentityError> {
        if let Some(r) = self.region.as_deref().filter(|r| *r != region) {
            return Err(IdentityError::OtherRegion {
                wanted: r.to_owned(),
                provider: region.to_owned(),
            });
        }
        if let Some(a) = self.account_id.as_deref().filter(|a| *a != account) {
            return Err(IdentityError::OtherAccount {
                wanted: a.to_owned(),
                provider: account.to_owned(),
            });
        }
        Ok(if self.adopt {
            format!("{ADOPT_PREFIX}{}", self.name)
        } else {
            self.name.clone()
        })
    }
}

/// Identity data stored at an earlier identity version, brought to
/// [`VERSION`]. There is none yet: version 0 is the first.
pub fn upgrade(version: i64, json: &[u8]) -> Result<Value, IdentityError> {
    if version != VERSION {
        return Err(IdentityError::UnknownVersion(version));
    }
    tfsdk::value::decode_json(json, &schema().value_type())
        .map_err(|e| IdentityError::Malformed(e.to_string()))
}

/// Why an identity could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error(
        "the identity has no name: set name to the pipeline's name (or, with adopt = true, the function's)"
    )]
    NoName,
    #[error(
        "the identity names region {wanted}, but this provider works in {provider}: import it with a provider configured for {wanted}"
    )]
    OtherRegion { wanted: String, provider: String },
    #[error(
        "the identity names account {wanted}, but this provider's credentials are for {provider}: import it with credentials for {wanted}"
    )]
    OtherAccount { wanted: String, provider: String },
    #[error(
        "identity version {0} is newer than this provider knows (it knows 0): upgrade the provider"
    )]
    UnknownVersion(i64),
    #[error("the stored identity could not be read: {0}")]
    Malformed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(account: Option<&str>, region: Option<&str>, adopt: bool) -> Wanted {
        Wanted {
            account_id: account.map(str::to_owned),
            region: region.map(str::to_owned),
            name: "orders".to_owned(),
            adopt,
        }
    }

    #[test]
    fn an_identity_imports_as_the_id_of_the_same_pipeline() {
        let own = wanted(None, None, false);
        assert_eq!(
            own.import_id("eu-west-1", "123456789012").unwrap(),
            "orders"
        );
        let adopt = wanted(Some("123456789012"), Some("eu-west-1"), true);
        assert_eq!(
            adopt.import_id("eu-west-1", "123456789012").unwrap(),
            "adopt:orders"
        );
    }

    #[test]
    fn another_region_or_account_is_refused_with_both_named() {
        let e = wanted(None, Some("us-east-1"), false)
            .import_id("eu-west-1", "123456789012")
            .unwrap_err();
        assert!(e.to_string().contains("us-east-1") && e.to_string().contains("eu-west-1"));
        let e = wanted(Some("210987654321"), None, false)
            .import_id("eu-west-1", "123456789012")
            .unwrap_err();
        assert!(matches!(e, IdentityError::OtherAccount { .. }));
    }

    #[test]
    fn an_import_identity_needs_a_name_and_defaults_the_rest() {
        let v = Value::object([
            (ACCOUNT_ID, Value::Null),
            (REGION, Value::Null),
            (NAME, Value::string("legacy-fn")),
            (ADOPT, Value::Bool(true)),
        ]);
        let w = Identity::from_import(&v).unwrap();
        assert_eq!(
            w,
            Wanted {
                account_id: None,
                region: None,
                name: "legacy-fn".into(),
                adopt: true
            }
        );
        let v = Value::object([
            (ACCOUNT_ID, Value::Null),
            (REGION, Value::Null),
            (NAME, Value::Null),
            (ADOPT, Value::Null),
        ]);
        assert_eq!(
            Identity::from_import(&v).unwrap_err(),
            IdentityError::NoName
        );
    }

    #[test]
    fn a_state_is_identified_by_its_functions_arn_and_a_plan_by_the_provider() {
        let state = Value::object([
            (attr::NAME, Value::string("orders")),
            (attr::FUNCTION_NAME, Value::string("orders")),
            (
                attr::FUNCTION_ARN,
                Value::string("arn:aws:lambda:eu-west-1:123456789012:function:orders"),
            ),
        ]);
        let id = Identity::of_state(&state, "us-east-1", None);
        assert_eq!(id.account_id.as_deref(), Some("123456789012"));
        assert_eq!(id.region, "eu-west-1");
        let planned = Value::object([
            (attr::NAME, Value::string("orders")),
            (attr::FUNCTION_NAME, Value::Unknown),
            (attr::FUNCTION_ARN, Value::Unknown),
        ]);
        let id = Identity::of_state(&planned, "us-east-1", None);
        assert_eq!(
            (id.region.as_str(), id.name.as_deref()),
            ("us-east-1", Some("orders"))
        );
        assert!(id.to_value().get_attr(ACCOUNT_ID).unwrap().is_unknown());
    }

    #[test]
    fn version_0_upgrades_as_is_and_later_versions_are_refused() {
        let stored = format!(
            r#"{{"{ACCOUNT_ID}":"123456789012","{REGION}":"eu-west-1","{NAME}":"a","{ADOPT}":false}}"#
        );
        let json = stored.as_bytes();
        let v = upgrade(0, json).unwrap();
        assert_eq!(v.get_attr(NAME).and_then(Value::as_str), Some("a"));
        assert_eq!(
            upgrade(1, json).unwrap_err(),
            IdentityError::UnknownVersion(1)
        );
    }
}
