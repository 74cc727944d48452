//! Which changes update a resource in place and which replace it, read
//! from the schema's `force_new` marks.

use crate::schema::{Block, Nesting, Presence};

/// One thing a user can change, and whether changing it replaces the
/// resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    /// The argument's path, dotted through nested blocks: `rule.pattern`.
    pub path: String,
    /// The row is about adding or removing blocks of a list, not about
    /// one argument.
    pub block_count: bool,
    pub replaces: bool,
}

/// Every argument a user can set, in schema order, with a row for the
/// number of blocks of each list block before the block's own arguments.
pub fn change_rows(block: &Block) -> Vec<ChangeRow> {
    let mut rows = Vec::new();
    collect_rows(block, "", &mut rows);
    rows
}

fn collect_rows(block: &Block, prefix: &str, rows: &mut Vec<ChangeRow>) {
    for a in &block.attributes {
        if a.presence != Presence::Computed {
            rows.push(ChangeRow {
                path: format!("{prefix}{}", a.name),
                block_count: false,
                replaces: a.force_new,
            });
        }
    }
    for b in &block.blocks {
        let path = format!("{prefix}{}", b.name);
        if b.nesting == Nesting::List {
            rows.push(ChangeRow {
                path: path.clone(),
                block_count: true,
                replaces: false,
            });
        }
        collect_rows(&b.block, &format!("{path}."), rows);
    }
}

/// The arguments whose change replaces the resource, as an English list
/// (`` `a`, `b` or `c` ``); `None` when every change is made in place.
pub fn force_new_arguments(block: &Block) -> Option<String> {
    let replacing: Vec<String> = change_rows(block)
        .into_iter()
        .filter(|r| r.replaces)
        .map(|r| format!("`{}`", r.path))
        .collect();
    match replacing.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [init @ .., last] => Some(format!("{} or {last}", init.join(", "))),
    }
}

/// A Markdown table of every [`change_rows`] row: "updates in place" or
/// "**replaces** the `noun`". No trailing newline.
pub fn change_table(block: &Block, noun: &str) -> String {
    let mut lines = vec![
        "| Argument | When it changes |".to_owned(),
        "|----------|-----------------|".to_owned(),
    ];
    for row in change_rows(block) {
        let note = if row.block_count {
            " (adding or removing blocks)"
        } else {
            ""
        };
        let effect = if row.replaces {
            format!("**replaces** the {noun}")
        } else {
            "updates in place".to_owned()
        };
        lines.push(format!("| `{}`{note} | {effect} |", row.path));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    fn widget() -> Block {
        Block::new("")
            .attr(Attribute::string("name").required().force_new())
            .attr(Attribute::string("arn").computed())
            .attr(Attribute::string("zone").optional().force_new())
            .block(NestedBlock::single_required(
                "engine",
                Block::new("").attr(Attribute::string("kind").optional()),
            ))
            .block(NestedBlock::list(
                "rule",
                0,
                0,
                Block::new("").attr(Attribute::string("pattern").required().force_new()),
            ))
    }

    #[test]
    fn force_new_arguments_replace_and_the_rest_update_in_place() {
        assert_eq!(
            change_table(&widget(), "widget"),
            "\
| Argument | When it changes |
|----------|-----------------|
| `name` | **replaces** the widget |
| `zone` | **replaces** the widget |
| `engine.kind` | updates in place |
| `rule` (adding or removing blocks) | updates in place |
| `rule.pattern` | **replaces** the widget |"
        );
    }

    #[test]
    fn read_only_attributes_are_not_arguments() {
        assert!(change_rows(&widget()).iter().all(|r| r.path != "arn"));
    }

    #[test]
    fn the_replacing_arguments_read_as_a_sentence() {
        assert_eq!(
            force_new_arguments(&widget()).as_deref(),
            Some("`name`, `zone` or `rule.pattern`")
        );
        let one = Block::new("").attr(Attribute::string("name").required().force_new());
        assert_eq!(force_new_arguments(&one).as_deref(), Some("`name`"));
        let none = Block::new("").attr(Attribute::string("name").required());
        assert_eq!(force_new_arguments(&none), None);
    }
}
