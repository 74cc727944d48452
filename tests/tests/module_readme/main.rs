//! The module README's Inputs and Outputs tables list exactly the variables
//! and outputs that `modules/event-pipeline` declares, with the same type,
//! default and required flag, so a reader of the README sees what the code
//! accepts. Types and defaults are compared as token lists, so layout (one
//! line in the table, several in the code) does not matter.

#[path = "../common/mod.rs"]
mod common;
mod tf;

use std::collections::BTreeMap;

use common::{repo_file, repo_path};
use tf::{Body, Token};

const MODULE: &str = "modules/event-pipeline";

/// One `variable` block: its type and, if it has one, its default.
#[derive(Debug)]
struct Input {
    ty: Option<Vec<Token>>,
    default: Option<Vec<Token>>,
}

/// One row of the README's Inputs table, as written.
#[derive(Debug)]
struct InputRow {
    name: String,
    ty: String,
    default: String,
    required: String,
}

fn module_file(name: &str) -> String {
    repo_file(&format!("{MODULE}/{name}"))
}

fn parse_tf(name: &str) -> Body {
    let relative = format!("{MODULE}/{name}");
    tf::parse(&repo_file(&relative))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", repo_path(&relative).display()))
}

fn declared_inputs(variables: &Body) -> BTreeMap<String, Input> {
    variables
        .labelled("variable")
        .into_iter()
        .map(|(name, body)| {
            let input = Input {
                ty: body.attribute("type"),
                default: body.attribute("default"),
            };
            (name, input)
        })
        .collect()
}

fn declared_outputs(outputs: &Body) -> Vec<String> {
    outputs
        .labelled("output")
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The body rows of the first Markdown table under `## <heading>`, each
/// split into trimmed cells (header and separator rows dropped).
fn table_rows(markdown: &str, heading: &str) -> Vec<Vec<String>> {
    let wanted = format!("## {heading}");
    markdown
        .lines()
        .skip_while(|l| l.trim() != wanted)
        .skip(1)
        .skip_while(|l| !l.trim_start().starts_with('|'))
        .take_while(|l| l.trim_start().starts_with('|'))
        .skip(2)
        .map(split_row)
        .collect()
}

/// `| a | b \| c |` → `["a", "b | c"]`.
fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'|') {
            chars.next();
            current.push('|');
        } else if c == '|' {
            cells.push(current.trim().to_owned());
            current.clear();
        } else {
            current.push(c);
        }
    }
    cells.push(current.trim().to_owned());
    cells
}

/// A table cell with its code span removed: `` `map(string)` `` → `map(string)`.
fn code(cell: &str) -> &str {
    cell.trim().trim_matches('`').trim()
}

fn readme_inputs(readme: &str) -> Vec<InputRow> {
    table_rows(readme, "Inputs")
        .into_iter()
        .map(|cells| {
            let cell = |i: usize| cells.get(i).cloned().unwrap_or_default();
            InputRow {
                name: code(&cell(0)).to_owned(),
                ty: code(&cell(2)).to_owned(),
                default: code(&cell(3)).to_owned(),
                required: cell(4),
            }
        })
        .collect()
}

fn readme_outputs(readme: &str) -> Vec<String> {
    table_rows(readme, "Outputs")
        .into_iter()
        .filter_map(|cells| cells.first().map(|c| code(c).to_owned()))
        .collect()
}

/// Compares a README cell with the declared expression; `None` when equal.
fn expression_mismatch(what: &str, cell: &str, declared: Option<&[Token]>) -> Option<String> {
    let declared_text = declared.map_or_else(|| "(none)".to_owned(), tf::show);
    match (tf::expression(cell), declared) {
        (Ok(written), Some(declared)) if written == declared => None,
        _ => Some(format!(
            "{what}: README says `{cell}`, the code says `{declared_text}`"
        )),
    }
}

fn input_problems(row: &InputRow, input: &Input) -> Vec<String> {
    let name = &row.name;
    let mut problems = Vec::new();
    problems.extend(expression_mismatch(
        &format!("input `{name}` type"),
        &row.ty,
        input.ty.as_deref(),
    ));
    let required = input.default.is_none();
    let wants = if required { "yes" } else { "no" };
    if row.required != wants {
        problems.push(format!(
            "input `{name}` required: README says `{}`, the code says `{wants}`",
            row.required
        ));
    }
    if required && row.default != "n/a" {
        problems.push(format!(
            "input `{name}` default: README says `{}`, but the variable has no default \
             (write `n/a`)",
            row.default
        ));
    } else if let Some(default) = &input.default {
        problems.extend(expression_mismatch(
            &format!("input `{name}` default"),
            &row.default,
            Some(default.as_slice()),
        ));
    }
    problems
}

/// Names in `listed` but not `declared` and the other way round.
fn name_problems(kind: &str, listed: &[String], declared: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for name in listed.iter().filter(|n| !declared.contains(n)) {
        problems.push(format!("{kind} `{name}` is in the README but not declared"));
    }
    for name in declared.iter().filter(|n| !listed.contains(n)) {
        problems.push(format!(
            "{kind} `{name}` is declared but missing from the README"
        ));
    }
    let mut seen = Vec::new();
    for name in listed {
        if seen.contains(&name) {
            problems.push(format!("{kind} `{name}` is listed twice in the README"));
        }
        seen.push(name);
    }
    problems
}

fn assert_no_drift(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{MODULE}/README.md no longer matches variables.tf and outputs.tf:\n  - {}\n\
         Update the Inputs and Outputs tables in the README to match the code.",
        problems.join("\n  - ")
    );
}

#[test]
fn readme_inputs_match_the_declared_variables() {
    let readme = module_file("README.md");
    let inputs = declared_inputs(&parse_tf("variables.tf"));
    let rows = readme_inputs(&readme);
    assert!(
        !inputs.is_empty(),
        "{MODULE}/variables.tf declares no variables"
    );
    let listed: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let declared: Vec<String> = inputs.keys().cloned().collect();
    let mut problems = name_problems("input", &listed, &declared);
    for row in &rows {
        if let Some(input) = inputs.get(&row.name) {
            problems.extend(input_problems(row, input));
        }
    }
    assert_no_drift(&problems);
}

#[test]
fn readme_outputs_match_the_declared_outputs() {
    let readme = module_file("README.md");
    let declared = declared_outputs(&parse_tf("outputs.tf"));
    assert!(
        !declared.is_empty(),
        "{MODULE}/outputs.tf declares no outputs"
    );
    let listed = readme_outputs(&readme);
    assert_no_drift(&name_problems("output", &listed, &declared));
}

// The checks themselves, on small inputs.

const README: &str = "\
# m

## Inputs

| Name | Description | Type | Default | Required |
|------|-------------|------|---------|:--------:|
| name | The name \\| or alias. | `string` | n/a | yes |
| triggers | More. | `list(object({ a = string, b = number }))` | `[]` | no |

## Outputs

| Name | Description |
|------|-------------|
| arn | The ARN. |
";

const VARIABLES: &str = r#"
variable "name" {
  type = string
}

variable "triggers" {
  type = list(object({
    a = string
    b = number
  }))
  default = []
}
"#;

#[test]
fn tables_are_read_under_their_heading() {
    let rows = readme_inputs(README);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].name, "name");
    assert_eq!(rows[1].ty, "list(object({ a = string, b = number }))");
    assert_eq!(readme_outputs(README), vec!["arn".to_owned()]);
    assert_eq!(split_row("| a \\| b | c |"), vec!["a | b", "c"]);
}

#[test]
fn a_matching_table_has_no_problems_whatever_the_layout() {
    let inputs = declared_inputs(&tf::parse(VARIABLES).expect("valid declarations"));
    for row in readme_inputs(README) {
        let problems = input_problems(&row, &inputs[&row.name]);
        assert!(problems.is_empty(), "{problems:?}");
    }
}

#[test]
fn drift_in_type_default_or_required_is_reported() {
    let inputs = declared_inputs(&tf::parse(VARIABLES).expect("valid declarations"));
    let row = InputRow {
        name: "triggers".into(),
        ty: "list(string)".into(),
        default: "null".into(),
        required: "yes".into(),
    };
    let problems = input_problems(&row, &inputs["triggers"]);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("type"));
    assert!(problems[1].contains("required"));
    assert!(problems[2].contains("default"));
}

#[test]
fn missing_extra_and_repeated_names_are_reported() {
    let listed = vec!["a".to_owned(), "b".to_owned(), "b".to_owned()];
    let declared = vec!["a".to_owned(), "c".to_owned()];
    let problems = name_problems("input", &listed, &declared);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`b` is in the README but not declared"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`c` is declared but missing"))
    );
    assert!(problems.iter().any(|p| p.contains("`b` is listed twice")));
}
