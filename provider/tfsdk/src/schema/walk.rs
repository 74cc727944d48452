//! Walking a configuration value alongside its schema: running validators
//! and filling in defaults for the plan.

use super::{Block, Nesting};
use crate::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::value::Value;

/// Runs every attribute validator and block-count check on the known parts
/// of `config`; unknown values are skipped (they are checked again at apply).
pub fn validate_config(block: &Block, config: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    let Value::Object(fields) = config else {
        return;
    };
    for attr in &block.attributes {
        let Some(value) = fields.get(attr.name) else {
            continue;
        };
        if value.is_null() || value.is_unknown() {
            continue;
        }
        let attr_path = path.attr(attr.name);
        for v in &attr.validators {
            if let Err(problem) = v.check(value) {
                let detail = if attr.sensitive {
                    // Never echo a sensitive value back in a message.
                    format!("The value of `{attr_path}` is invalid.")
                } else {
                    format!("`{attr_path}` {problem}.")
                };
                diags.push(
                    Diagnostic::error(format!("Invalid value for {}", attr.name), detail)
                        .at(attr_path.clone()),
                );
            }
        }
    }
    for nested in &block.blocks {
        let Some(value) = fields.get(nested.name) else {
            continue;
        };
        let block_path = path.attr(nested.name);
        match (nested.nesting, value) {
            (Nesting::Single, Value::Object(_)) => {
                validate_config(&nested.block, value, &block_path, diags)
            }
            (Nesting::Single, Value::Null) if nested.min_items > 0 => diags.push(
                Diagnostic::error(
                    format!("Missing {} block", nested.name),
                    format!("Exactly one `{}` block is required.", nested.name),
                )
                .at(path.clone()),
            ),
            (Nesting::List, Value::List(items)) => {
                let n = items.len();
                let (min, max) = (nested.min_items as usize, nested.max_items as usize);
                if n < min || (max > 0 && n > max) {
                    let want = if max == 0 {
                        format!("at least {min}")
                    } else {
                        format!("between {min} and {max}")
                    };
                    diags.push(
                        Diagnostic::error(
                            format!("Wrong number of {} blocks", nested.name),
                            format!("Found {n} `{}` blocks; {want} are required.", nested.name),
                        )
                        .at(block_path.clone()),
                    );
                }
                for (i, item) in items.iter().enumerate() {
                    validate_config(&nested.block, item, &block_path.index(i), diags);
                }
            }
            _ => {}
        }
    }
}

/// Sets each attribute that has a default and is null in `config` to its
/// default in `planned`, recursing into nested blocks.
pub fn apply_defaults(block: &Block, config: &Value, planned: &mut Value) {
    let (Value::Object(cfg), Value::Object(plan)) = (config, planned) else {
        return;
    };
    for attr in &block.attributes {
        let Some(default) = &attr.default else {
            continue;
        };
        let configured = cfg.get(attr.name).is_some_and(|v| !v.is_null());
        if !configured {
            plan.insert(attr.name.to_owned(), default.clone());
        }
    }
    for nested in &block.blocks {
        let (Some(c), Some(p)) = (cfg.get(nested.name), plan.get_mut(nested.name)) else {
            continue;
        };
        match (nested.nesting, c, p) {
            (Nesting::Single, c @ Value::Object(_), p @ Value::Object(_)) => {
                apply_defaults(&nested.block, c, p)
            }
            (Nesting::List, Value::List(cs), Value::List(ps)) => {
                for (c, p) in cs.iter().zip(ps.iter_mut()) {
                    apply_defaults(&nested.block, c, p);
                }
            }
            _ => {}
        }
    }
}

/// The configuration a user would write for `state`: computed-only
/// attributes and values equal to their default are left out (null), so
/// generated configuration (`-generate-config-out`) says only what differs.
/// Nested blocks keep their presence and are walked the same way.
pub fn config_of_state(block: &Block, state: &Value) -> Value {
    let Value::Object(st) = state else {
        return Value::Null;
    };
    let mut out = std::collections::BTreeMap::new();
    for attr in &block.attributes {
        let value = st.get(attr.name).cloned().unwrap_or(Value::Null);
        let written = match attr.presence {
            crate::schema::Presence::Computed => Value::Null,
            _ if attr.default.as_ref() == Some(&value) => Value::Null,
            _ => value,
        };
        out.insert(attr.name.to_owned(), written);
    }
    for nested in &block.blocks {
        let value = match (nested.nesting, st.get(nested.name)) {
            (Nesting::Single, Some(v @ Value::Object(_))) => config_of_state(&nested.block, v),
            (Nesting::List, Some(Value::List(items))) => Value::List(
                items
                    .iter()
                    .map(|i| config_of_state(&nested.block, i))
                    .collect(),
            ),
            (Nesting::List, _) => Value::List(Vec::new()),
            (Nesting::Single, _) => Value::Null,
        };
        out.insert(nested.name.to_owned(), value);
    }
    Value::Object(out)
}
