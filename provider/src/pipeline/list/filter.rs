//! The `config` block of `list "eventpipe_event_pipeline"`: its schema,
//! declared once here, and the typed filter read from it.

use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::schema::{Attribute, Block, Schema, Validator};
use tfsdk::value::Value;

const BUCKET: &str = "bucket";
const NAME_PREFIX: &str = "name_prefix";
const INCLUDE: &str = "include";

const OWNED: &str = "owned";
const ADOPTABLE: &str = "adoptable";
const ALL: &str = "all";

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block::new(
            "Finds the pipelines of the provider's account and region: those this provider \
             made (found by their `eventpipe:pipeline` tag) and the S3 → Lambda wirings made \
             by hand that `adopt:` import takes over. Each result is identified as \
             `import { identity = … }` wants it.",
        )
        .attr(Attribute::string(BUCKET).optional().describe(
            "Only the pipelines of this bucket: for a pipeline this provider made, its \
             `bucket_name`; for a wiring made by hand, the bucket that notifies the function.",
        ))
        .attr(Attribute::string(NAME_PREFIX).optional().describe(
            "Only the functions whose name starts with this prefix (the name the result's \
             identity carries). Functions that do not match are skipped before any other call \
             is made for them.",
        ))
        .attr(
            Attribute::string(INCLUDE)
                .optional()
                .default(Value::string(ALL))
                .describe(
                    "Which pipelines: `owned` (made by this provider), `adoptable` (wired by \
                     hand, not tagged as this provider's, and accepted by `adopt:` import) or \
                     `all`.",
                )
                .validate(Validator::OneOf(&[OWNED, ADOPTABLE, ALL])),
        ),
    }
}

/// Which kinds of pipeline a list returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    Owned,
    Adoptable,
    All,
}

impl Include {
    pub fn owned(self) -> bool {
        matches!(self, Include::Owned | Include::All)
    }

    pub fn adoptable(self) -> bool {
        matches!(self, Include::Adoptable | Include::All)
    }
}

/// What a `list` block asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub bucket: Option<String>,
    pub name_prefix: Option<String>,
    pub include: Include,
}

/// The schema's checks of a `config` block (values may be unknown).
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    tfsdk::schema::validate_config(&schema().block, config, &AttrPath::root(), &mut diags);
    diags
}

impl Filter {
    /// The filter a `config` block asks for (null: no block, every
    /// pipeline). At list time every value must be known.
    pub fn from_config(config: &Value) -> Result<Filter, Diagnostics> {
        let diags = validate(config);
        if diags.has_errors() {
            return Err(diags);
        }
        let text = |name: &'static str| -> Result<Option<String>, Diagnostic> {
            match config.get_attr(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Diagnostic::error(
                    format!("Unknown value for {name}"),
                    format!(
                        "`{name}` must be known when the list runs; it depends on a value \
                         Terraform does not know yet."
                    ),
                )
                .at(AttrPath::attrs([name]))),
            }
        };
        let mut errors = Diagnostics::new();
        let mut read = |name| {
            text(name).unwrap_or_else(|d| {
                errors.push(d);
                None
            })
        };
        let bucket = read(BUCKET).filter(|b| !b.is_empty());
        let name_prefix = read(NAME_PREFIX).filter(|p| !p.is_empty());
        let include = match read(INCLUDE).as_deref() {
            Some(OWNED) => Include::Owned,
            Some(ADOPTABLE) => Include::Adoptable,
            _ => Include::All,
        };
        if errors.has_errors() {
            return Err(errors);
        }
        Ok(Filter {
            bucket,
            name_prefix,
            include,
        })
    }

    /// Whether a function of this name is worth a look.
    pub fn takes_name(&self, function: &str) -> bool {
        self.name_prefix
            .as_deref()
            .is_none_or(|p| function.starts_with(p))
    }

    /// Whether a pipeline of this bucket is listed.
    pub fn takes_bucket(&self, bucket: &str) -> bool {
        self.bucket.as_deref().is_none_or(|b| b == bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(bucket: Value, prefix: Value, include: Value) -> Value {
        Value::object([(BUCKET, bucket), (NAME_PREFIX, prefix), (INCLUDE, include)])
    }

    #[test]
    fn no_config_block_lists_every_pipeline() {
        let f = Filter::from_config(&Value::Null).unwrap();
        assert_eq!(
            f,
            Filter {
                bucket: None,
                name_prefix: None,
                include: Include::All
            }
        );
        let f = Filter::from_config(&config(Value::Null, Value::Null, Value::Null)).unwrap();
        assert_eq!(f.include, Include::All);
        assert!(f.takes_name("anything") && f.takes_bucket("any-bucket"));
    }

    #[test]
    fn the_filters_are_read_and_narrow() {
        let f = Filter::from_config(&config(
            Value::string("orders-in"),
            Value::string("ord"),
            Value::string("adoptable"),
        ))
        .unwrap();
        assert_eq!(f.include, Include::Adoptable);
        assert!(f.include.adoptable() && !f.include.owned());
        assert!(f.takes_name("orders") && !f.takes_name("billing"));
        assert!(f.takes_bucket("orders-in") && !f.takes_bucket("orders-out"));
        let owned =
            Filter::from_config(&config(Value::Null, Value::Null, Value::string("owned"))).unwrap();
        assert!(owned.include.owned() && !owned.include.adoptable());
    }

    #[test]
    fn a_bad_include_is_refused_on_its_attribute() {
        let bad = config(Value::Null, Value::Null, Value::string("mine"));
        for diags in [validate(&bad), Filter::from_config(&bad).unwrap_err()] {
            assert!(diags.has_errors());
            let d = diags.iter().next().unwrap();
            assert_eq!(d.path, Some(AttrPath::attrs([INCLUDE])));
            assert!(d.detail.contains("owned"), "{}", d.detail);
        }
    }

    #[test]
    fn unknown_values_pass_validation_but_not_a_list() {
        let later = config(Value::Unknown, Value::Null, Value::Unknown);
        assert!(!validate(&later).has_errors());
        let diags = Filter::from_config(&later).unwrap_err();
        let paths: Vec<_> = diags.iter().filter_map(|d| d.path.clone()).collect();
        assert_eq!(
            paths,
            vec![AttrPath::attrs([BUCKET]), AttrPath::attrs([INCLUDE])]
        );
    }
}
