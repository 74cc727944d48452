//! GenerateResourceConfig (protocol 6.10): the configuration
//! `terraform query -generate-config-out` writes for a pipeline that a list
//! found or an import built. What the user would write, no more: computed
//! attributes and values equal to their defaults are left out, and so are
//! the function's and the role's names when they are the ones `name`
//! derives. The function's code is not kept in AWS in a form the provider
//! can turn back into a directory, so `source_dir` is then a placeholder
//! that says what to put there; planning it as it is fails on that attribute.

use tfsdk::value::Value;

use super::naming;
use super::schema;
use super::state::attr;

/// What `function.source_dir` says when the code cannot be recovered.
pub const SOURCE_DIR_PLACEHOLDER: &str =
    "TODO: the directory with this function's code (AWS keeps only the deployed package)";

pub fn config_of(state: &Value) -> Value {
    let mut config = tfsdk::schema::config_of_state(&schema::schema().block, state);
    let text = |v: &Value, name: &str| v.get_attr(name).and_then(Value::as_str).map(str::to_owned);
    if let Some(name) = text(state, attr::NAME) {
        for (attribute, derived) in [
            (attr::FUNCTION_NAME, naming::function_name(&name)),
            (attr::ROLE_NAME, naming::role_name(&name)),
        ] {
            if text(&config, attribute).as_deref() == Some(derived.as_str())
                && let Some(v) = config.get_attr_mut(attribute)
            {
                *v = Value::Null;
            }
        }
    }
    if let Some(function) = config.get_attr_mut(attr::FUNCTION)
        && let Some(dir) = function.get_attr_mut(attr::SOURCE_DIR)
        && dir.as_str().is_none_or(str::is_empty)
    {
        *dir = Value::string(SOURCE_DIR_PLACEHOLDER);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::state::tests::known_state;

    fn seed_state() -> Value {
        known_state("orders").to_value()
    }

    #[test]
    fn computed_defaults_and_derived_names_are_left_out_and_a_lost_source_dir_is_a_placeholder() {
        let mut state = seed_state();
        let name = state
            .get_attr(attr::NAME)
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
        *state.get_attr_mut(attr::FUNCTION_NAME).unwrap() =
            Value::string(naming::function_name(&name));
        *state.get_attr_mut(attr::ROLE_NAME).unwrap() = Value::string("kept-role");
        let function = state.get_attr_mut(attr::FUNCTION).unwrap();
        *function.get_attr_mut(attr::SOURCE_DIR).unwrap() = Value::string("");
        let config = config_of(&state);
        assert_eq!(config.get_attr(attr::NAME), state.get_attr(attr::NAME));
        // Computed only.
        assert!(config.get_attr(attr::FUNCTION_ARN).unwrap().is_null());
        assert!(config.get_attr(attr::POLICY_JSON).unwrap().is_null());
        // Derived from name, or not.
        assert!(config.get_attr(attr::FUNCTION_NAME).unwrap().is_null());
        assert_eq!(
            config.get_attr(attr::ROLE_NAME).and_then(Value::as_str),
            Some("kept-role")
        );
        let function = config.get_attr(attr::FUNCTION).unwrap();
        assert_eq!(
            function.get_attr(attr::SOURCE_DIR).and_then(Value::as_str),
            Some(SOURCE_DIR_PLACEHOLDER)
        );
    }
}
