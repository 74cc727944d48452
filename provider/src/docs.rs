//! Registry documentation rendered from the schemas: `index.md` for the
//! provider and `resources/event_pipeline.md` for the resource, in the
//! layout the Terraform registry reads.
//!
//! Attribute lists, defaults, constraints, sensitivity and the update or
//! replace table all come from the schema, so the docs state what the
//! provider enforces. Rendering is pure: the registry examples come in as
//! text, and reading or writing files is left to the `eventpipe-docs`
//! binary and the drift test.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::pipeline::schema::TYPE_NAME;
use tfsdk::provider::Schemas;
use tfsdk::schema::{Attribute, Block, NestedBlock, Nesting, Presence, Schema};
use tfsdk::value::{Type, Value};

/// The registry examples the pages embed, as they are on disk.
#[derive(Clone, Debug, Default)]
pub struct Examples {
    /// `examples/provider/provider.tf`
    pub provider: String,
    /// `examples/resources/eventpipe_event_pipeline/resource.tf`
    pub resource: String,
    /// `examples/resources/eventpipe_event_pipeline/import.sh`
    pub import: String,
}

impl Examples {
    pub const PROVIDER: &str = "provider/provider.tf";
    pub const RESOURCE: &str = "resources/eventpipe_event_pipeline/resource.tf";
    pub const IMPORT: &str = "resources/eventpipe_event_pipeline/import.sh";

    /// Reads the examples from an `examples/` directory.
    pub fn load(dir: &Path) -> io::Result<Examples> {
        let read = |rel: &str| {
            let path = dir.join(rel);
            std::fs::read_to_string(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        Ok(Examples {
            provider: read(Self::PROVIDER)?,
            resource: read(Self::RESOURCE)?,
            import: read(Self::IMPORT)?,
        })
    }
}

/// One generated file: its path under the docs directory and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub path: PathBuf,
    pub markdown: String,
}

/// Every page of the registry docs.
pub fn pages(schemas: &Schemas, examples: &Examples) -> Vec<Page> {
    let mut pages = vec![Page {
        path: PathBuf::from("index.md"),
        markdown: provider_page(&schemas.provider, examples),
    }];
    for (type_name, schema) in &schemas.resources {
        if *type_name == TYPE_NAME {
            pages.push(Page {
                path: PathBuf::from("resources").join(resource_page_file(type_name)),
                markdown: pipeline_page(schema, examples),
            });
        }
    }
    pages
}

/// `eventpipe_event_pipeline` → `event_pipeline.md`, as the registry expects.
pub fn resource_page_file(type_name: &str) -> String {
    let short = type_name.strip_prefix("eventpipe_").unwrap_or(type_name);
    format!("{short}.md")
}

// ---------------------------------------------------------------- pages

/// `docs/index.md`.
pub fn provider_page(schema: &Schema, examples: &Examples) -> String {
    let mut out = front_matter("eventpipe Provider", None, schema.block.description);
    out.push_str("# eventpipe Provider\n\n");
    out.push_str(schema.block.description);
    out.push_str("\n\n");
    out.push_str(PROVIDER_INTRO);
    out.push_str("\n## Example Usage\n\n");
    out.push_str(&code_block("terraform", &examples.provider));
    out.push_str(AUTHENTICATION);
    out.push_str(EMULATOR);
    out.push_str(&schema_section(&schema.block));
    out
}

/// `docs/resources/event_pipeline.md`.
pub fn pipeline_page(schema: &Schema, examples: &Examples) -> String {
    let mut out = front_matter(
        &format!("{TYPE_NAME} Resource - eventpipe"),
        Some(""),
        schema.block.description,
    );
    let _ = write!(out, "# {TYPE_NAME} (Resource)\n\n");
    out.push_str(schema.block.description);
    out.push_str("\n\n## Example Usage\n\n");
    out.push_str(&code_block("terraform", &examples.resource));
    out.push_str(WHAT_GETS_CREATED);
    out.push_str(IAM_POLICY);
    out.push_str(&update_or_replace_section(&schema.block));
    out.push_str(&schema_section(&schema.block));
    out.push_str(IMPORT_INTRO);
    out.push_str(&code_block("shell", &examples.import));
    out.push_str(IMPORT_LIMITS);
    out
}

fn front_matter(title: &str, subcategory: Option<&str>, description: &str) -> String {
    let mut out = format!("---\npage_title: \"{title}\"\n");
    if let Some(sub) = subcategory {
        let _ = writeln!(out, "subcategory: \"{sub}\"");
    }
    let _ = write!(out, "description: |-\n  {description}\n---\n\n");
    out
}

fn code_block(language: &str, text: &str) -> String {
    format!("```{language}\n{}\n```\n", text.trim_end())
}

// --------------------------------------------------------------- schema

/// Which list an attribute or block is documented in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    const ALL: [Group; 3] = [Group::Required, Group::Optional, Group::ReadOnly];

    fn title(self) -> &'static str {
        match self {
            Group::Required => "Required",
            Group::Optional => "Optional",
            Group::ReadOnly => "Read-Only",
        }
    }

    fn of_attribute(a: &Attribute) -> Group {
        match a.presence {
            Presence::Required => Group::Required,
            Presence::Optional | Presence::OptionalComputed => Group::Optional,
            Presence::Computed => Group::ReadOnly,
        }
    }

    fn of_block(b: &NestedBlock) -> Group {
        if b.min_items > 0 {
            Group::Required
        } else {
            Group::Optional
        }
    }
}

/// `## Schema`: the top-level lists, then one section per nested block.
pub fn schema_section(block: &Block) -> String {
    let mut out = String::from("\n## Schema\n");
    for group in Group::ALL {
        let items = group_items(block, group, &[]);
        if !items.is_empty() {
            let _ = write!(out, "\n### {}\n\n{items}", group.title());
        }
    }
    out.push_str(&nested_sections(block, &[]));
    out
}

/// The nested block sections under `path`, depth first.
fn nested_sections(block: &Block, path: &[&str]) -> String {
    let mut out = String::new();
    for nested in sorted_blocks(block) {
        let inner: Vec<&str> = path.iter().copied().chain([nested.name]).collect();
        let _ = write!(
            out,
            "\n<a id=\"{}\"></a>\n### Nested Schema for `{}`\n",
            anchor(&inner),
            inner.join(".")
        );
        if !nested.block.description.is_empty() {
            let _ = write!(out, "\n{}\n", nested.block.description);
        }
        for group in Group::ALL {
            let items = group_items(&nested.block, group, &inner);
            if !items.is_empty() {
                let _ = write!(out, "\n{}:\n\n{items}", group.title());
            }
        }
        out.push_str(&nested_sections(&nested.block, &inner));
    }
    out
}

/// The bullet list of one group: attributes, then nested blocks.
fn group_items(block: &Block, group: Group, path: &[&str]) -> String {
    let mut out = String::new();
    for a in sorted_attributes(block) {
        if Group::of_attribute(a) == group {
            out.push_str(&attribute_item(a));
            out.push('\n');
        }
    }
    for b in sorted_blocks(block) {
        if Group::of_block(b) == group {
            out.push_str(&block_item(b, path));
            out.push('\n');
        }
    }
    out
}

fn sorted_attributes(block: &Block) -> Vec<&Attribute> {
    let mut v: Vec<&Attribute> = block.attributes.iter().collect();
    v.sort_by_key(|a| a.name);
    v
}

fn sorted_blocks(block: &Block) -> Vec<&NestedBlock> {
    let mut v: Vec<&NestedBlock> = block.blocks.iter().collect();
    v.sort_by_key(|b| b.name);
    v
}

/// One attribute: name, type and marks, description, default, constraints.
pub fn attribute_item(a: &Attribute) -> String {
    let mut marks = vec![type_name(&a.ty)];
    if a.sensitive {
        marks.push("Sensitive".to_owned());
    }
    let mut sentences = vec![a.description.trim().to_owned()];
    if let Some(default) = &a.default {
        sentences.push(format!("Defaults to `{}`.", hcl_literal(default)));
    }
    sentences.extend(a.validators.iter().map(|v| v.doc()));
    sentences.retain(|s| !s.is_empty());
    format!(
        "- `{}` ({}) {}",
        a.name,
        marks.join(", "),
        sentences.join(" ")
    )
    .trim_end()
    .to_owned()
}

/// One nested block: name, how many, description and a link to its section.
fn block_item(b: &NestedBlock, path: &[&str]) -> String {
    let inner: Vec<&str> = path.iter().copied().chain([b.name]).collect();
    let description = b.block.description.trim();
    let sep = if description.is_empty() { "" } else { " " };
    format!(
        "- `{}` ({}){sep}{description} See [below for nested schema](#{}).",
        b.name,
        block_kind(b),
        anchor(&inner)
    )
}

fn block_kind(b: &NestedBlock) -> String {
    let mut kind = match b.nesting {
        Nesting::Single => "Block".to_owned(),
        Nesting::List => "Block List".to_owned(),
    };
    if b.nesting == Nesting::List {
        if b.min_items > 0 {
            let _ = write!(kind, ", at least {}", b.min_items);
        }
        if b.max_items > 0 {
            let _ = write!(kind, ", at most {}", b.max_items);
        }
    }
    kind
}

fn anchor(path: &[&str]) -> String {
    format!("nestedblock--{}", path.join("--"))
}

/// A type as the registry names it: `String`, `Map of String`, ...
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".to_owned(),
        Type::Number => "Number".to_owned(),
        Type::Bool => "Boolean".to_owned(),
        Type::Dynamic => "Dynamic".to_owned(),
        Type::List(t) => format!("List of {}", type_name(t)),
        Type::Set(t) => format!("Set of {}", type_name(t)),
        Type::Map(t) => format!("Map of {}", type_name(t)),
        Type::Object(_) => "Object".to_owned(),
        Type::Tuple(_) => "Tuple".to_owned(),
    }
}

/// A value as it would be written in HCL: `"app.handler"`, `128`, `["a"]`.
pub fn hcl_literal(v: &Value) -> String {
    match v.unwrap_dynamic() {
        Value::Null => "null".to_owned(),
        Value::Unknown => "(known after apply)".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(hcl_literal).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(entries) | Value::Object(entries) => map_literal(entries),
        Value::Dynamic(..) => "null".to_owned(),
    }
}

fn map_literal(entries: &std::collections::BTreeMap<String, Value>) -> String {
    if entries.is_empty() {
        return "{}".to_owned();
    }
    let inner: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{} = {}", quoted(k), hcl_literal(v)))
        .collect();
    format!("{{ {} }}", inner.join(", "))
}

fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

// ---------------------------------------------------- update or replace

/// A configurable argument and whether changing it replaces the resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    pub path: String,
    pub replaces: bool,
}

/// Every argument a user can set, in schema order, with its `force_new`.
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
                replaces: a.force_new,
            });
        }
    }
    for b in &block.blocks {
        let path = format!("{prefix}{}", b.name);
        if b.nesting == Nesting::List {
            rows.push(ChangeRow {
                path: format!("{path} (adding or removing blocks)"),
                replaces: false,
            });
        }
        collect_rows(&b.block, &format!("{path}."), rows);
    }
}

/// `## Update or replace`: which changes replace the pipeline, as a table.
pub fn update_or_replace_section(block: &Block) -> String {
    let rows = change_rows(block);
    let replacing: Vec<String> = rows
        .iter()
        .filter(|r| r.replaces)
        .map(|r| format!("`{}`", r.path))
        .collect();
    let mut out = String::from("\n## Update or replace\n\n");
    if replacing.is_empty() {
        out.push_str("Every change updates the pipeline in place.\n");
    } else {
        let _ = writeln!(
            out,
            "Changing {} replaces the pipeline: Terraform destroys it and creates a new \
             one. Every other change updates the existing parts in place.",
            english_list(&replacing)
        );
    }
    out.push_str("\n| Argument | When it changes |\n|----------|-----------------|\n");
    for row in &rows {
        let effect = if row.replaces {
            "**replaces** the pipeline"
        } else {
            "updates in place"
        };
        let (name, note) = match row.path.split_once(' ') {
            Some((name, note)) => (name, format!(" {note}")),
            None => (row.path.as_str(), String::new()),
        };
        let _ = writeln!(out, "| `{name}`{note} | {effect} |");
    }
    out.push_str(REPLACE_NOTES);
    out
}

fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------- prose

const PROVIDER_INTRO: &str = "\
Each `eventpipe_event_pipeline` resource is one pipeline: an S3 bucket, a Lambda \
function packaged from a local directory, the IAM role and least-privilege policy the \
function runs with, the permission for S3 to invoke it and the bucket notifications \
that do. The provider creates, updates and destroys these parts together and in the \
right order, and shows the exact IAM policy in the plan.
";

const AUTHENTICATION: &str = r#"
## Authentication

The provider finds credentials and the region with the AWS SDK's own rules, so
whatever works for the AWS CLI and SDKs on a machine works here too.

Static keys set in the provider block, `access_key` and `secret_key` (always
together), are used as they are. Pass them in from variables rather than writing
them into the configuration; `secret_key` is sensitive. Without them, the
credentials come from the first of these sources that has some, in the AWS
SDK's order:

1. **Environment variables**: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and,
   for temporary credentials, `AWS_SESSION_TOKEN`.
2. **A profile** in the shared config and credentials files (`~/.aws/config`
   and `~/.aws/credentials`, or the files named by `AWS_CONFIG_FILE` and
   `AWS_SHARED_CREDENTIALS_FILE`): `profile`, else `AWS_PROFILE`, else
   `default`. A profile may hold keys, assume a role (`role_arn` with
   `source_profile`), run a `credential_process`, or use **IAM Identity Center
   (SSO)** after `aws sso login`.
3. **Web identity**: `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN`, as on
   EKS pods with an IAM role for their service account.
4. **Container and instance roles**: the ECS task role, then the EC2 instance
   profile through the instance metadata service.

As in the AWS SDK, keys in the environment come before any profile, including
one named by `profile`: unset `AWS_ACCESS_KEY_ID` to use the profile. Setting
both `profile` and static keys in the provider block is refused.

The region is `region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the
profile's `region`, else the region of the EC2 instance.

No AWS call is made when the provider is configured, so wrong credentials show
up in the first plan that needs AWS, as an error naming the call that was
refused. Set `validate_credentials = true` to check them with STS
`GetCallerIdentity` as soon as the provider is configured.

```terraform
# A named profile, e.g. one set up with `aws configure sso`.
provider "eventpipe" {
  region  = "eu-west-1"
  profile = "data-platform"
}
```
"#;

const EMULATOR: &str = r#"
## Using an emulator

For development and tests the provider can talk to a local AWS emulator, such as
the [moto server](https://docs.getmoto.org/en/latest/docs/server_mode.html) that
this provider's own end-to-end tests run against:

```shell
pip install 'moto[server]'
moto_server -H 127.0.0.1 -p 5000
```

Point every service at it with `endpoint_url`, or leave the provider block alone
and export `AWS_ENDPOINT_URL=http://127.0.0.1:5000`. The `endpoints` block
overrides single services. Emulators accept any keys:

```terraform
provider "eventpipe" {
  region       = "us-east-1"
  endpoint_url = "http://127.0.0.1:5000"
  access_key   = "testing"
  secret_key   = "testing"
}
```

- `s3_use_path_style` defaults to `true` when the S3 endpoint is an IP address or
  `localhost`, so buckets are addressed as `http://127.0.0.1:5000/bucket`
  without further settings.
- Set `require_tls = false` on pipelines created in moto: it evaluates the
  TLS-only bucket policy as a blanket deny, which would lock the bucket.
- moto runs function code only when it can start Docker containers; without
  Docker it still records the invocations that bucket notifications make.
"#;

const WHAT_GETS_CREATED: &str = r#"
## What gets created

One pipeline is a handful of AWS resources that Terraform manages as one:

- **An S3 bucket** named `bucket_name` (or a name derived from `name`, the
  account and the region). All public access is blocked, objects are encrypted
  by default with S3-managed keys (SSE-S3), and with `require_tls` (the default)
  a bucket policy denies every request that does not use TLS.
- **An IAM role** `<name>-role` that only the Lambda service
  (`lambda.amazonaws.com`) may assume, and only on behalf of this account.
- **An inline policy** named `eventpipe` on that role, exactly `policy_json`
  (see below).
- **A Lambda function** named `name`, with the code of `function.source_dir`
  packaged as a deterministic zip.
- **A permission** with statement id `eventpipe-s3-invoke` that lets
  `s3.amazonaws.com` invoke the function, limited to this bucket's ARN and this
  account.
- **One bucket notification per `trigger` block**, with ids
  `eventpipe-<name>-<index>` (`eventpipe-orders-ingest-0`, ...). Notifications
  that something else put on the bucket are left as they are.

Every part is tagged with `tags_all` and with `eventpipe:pipeline = <name>`, the
tag by which the provider recognises its own parts after an interrupted run or an
import.

The function must not retrigger itself by writing into the bucket it reads. Set
`output_prefix` to the prefix it writes its results under: the plan refuses a
configuration where a trigger would match keys under that prefix.
"#;

const IAM_POLICY: &str = r#"
## The IAM policy in the plan

`policy_json` is computed at plan time, as soon as the bucket name is known, and
applied byte for byte, so the plan shows a reviewer every permission the
function gets. It allows:

- `s3:GetObject` on the objects the triggers can deliver: narrowed to
  `<bucket ARN>/<prefix>*` for each trigger's `filter_prefix` when every trigger
  has one, otherwise on the whole bucket (`<bucket ARN>/*`);
- `s3:PutObject` under `output_prefix`, only when it is set;
- `logs:CreateLogGroup`, `logs:CreateLogStream` and `logs:PutLogEvents` on the
  function's own log group, `/aws/lambda/<name>`, and nothing else.

Changing a trigger's prefix or `output_prefix` changes `policy_json` in the plan
and updates the policy in place.
"#;

const REPLACE_NOTES: &str = "
Changes to the files under `function.source_dir` show up as a new \
`source_code_hash` in the plan and update the function's code in place.

A part deleted outside Terraform (the notification, the permission, the policy, \
even the function or the role) is noticed at the next refresh and re-created in \
place by the next apply; the rest of the pipeline is kept.
";

const IMPORT_INTRO: &str = "
## Import

An existing pipeline is imported by its `name`:

";

const IMPORT_LIMITS: &str = r#"
The provider looks up the function of that name, checks that it carries the
`eventpipe:pipeline` tag with the same name (functions this provider did not
create are refused), and reads the bucket, role, policy, permission and
notifications back from AWS. A few settings cannot be read back from AWS:

- `force_destroy` is remembered in a tag on the function only when it is `true`;
  without that tag the import records `false`, the safe default.
- `function.source_dir` is remembered in a tag as it was configured, so import
  from the same root module. A path longer than 256 characters does not fit in
  a tag; the first plan after the import then sets it again.
- Tags equal to the provider's `default_tags` are taken to come from the
  provider, not from the pipeline's `tags`.

Run `terraform plan` after importing: a configuration that matches what exists
plans no changes.
"#;

// ---------------------------------------------------------------- tests

#[cfg(test)]
mod tests {
    use super::*;
    use tfsdk::schema::Validator;
    use tfsdk::value::Number;

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn checked_in_docs_match_the_schema() {
        let root = repo_root();
        let examples = Examples::load(&root.join("examples")).expect("registry examples");
        for page in pages(crate::provider::schemas(), &examples) {
            let shown = Path::new("docs").join(&page.path);
            let on_disk = std::fs::read_to_string(root.join(&shown)).unwrap_or_default();
            if let Some(diff) = first_difference(&on_disk, &page.markdown) {
                panic!(
                    "{} is out of date with the schema or the registry examples; run \
                     `make docs` and commit the result.\n{diff}",
                    shown.display()
                );
            }
        }
    }

    /// Where two texts first differ, for the drift message.
    fn first_difference(on_disk: &str, generated: &str) -> Option<String> {
        if on_disk == generated {
            return None;
        }
        let mut old = on_disk.lines();
        let mut new = generated.lines();
        for number in 1.. {
            match (old.next(), new.next()) {
                (Some(a), Some(b)) if a == b => continue,
                (a, b) => {
                    return Some(format!(
                        "first difference at line {number}:\n  checked in: {}\n  generated:  {}",
                        a.unwrap_or("(end of file)"),
                        b.unwrap_or("(end of file)")
                    ));
                }
            }
        }
        None
    }

    #[test]
    fn drift_is_reported_with_the_first_differing_line() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        let diff = first_difference("a\nb\n", "a\nc\n").unwrap_or_default();
        assert!(diff.contains("line 2"), "{diff}");
        assert!(first_difference("", "a").is_some_and(|d| d.contains("(end of file)")));
    }

    #[test]
    fn every_resource_type_has_a_page() {
        let schemas = crate::provider::schemas();
        let generated = pages(schemas, &Examples::default());
        for (type_name, _) in &schemas.resources {
            let file = PathBuf::from("resources").join(resource_page_file(type_name));
            assert!(
                generated.iter().any(|p| p.path == file),
                "{type_name} has no page"
            );
        }
    }

    #[test]
    fn a_sensitive_attribute_is_marked() {
        let a = Attribute::string("secret").optional().sensitive();
        assert!(attribute_item(&a).starts_with("- `secret` (String, Sensitive)"));
        let plain = Attribute::string("plain").optional();
        assert!(!attribute_item(&plain).contains("Sensitive"));
    }

    #[test]
    fn defaults_and_constraints_follow_the_description() {
        let a = Attribute::number("memory_size")
            .default(Value::Number(Number::from(128i64)))
            .describe("Memory, in MB.")
            .validate(Validator::IntBetween(128, 10240));
        assert_eq!(
            attribute_item(&a),
            "- `memory_size` (Number) Memory, in MB. Defaults to `128`. Between 128 and 10240."
        );
    }

    #[test]
    fn defaults_are_written_as_hcl() {
        let list = Value::List(vec![Value::String("s3:ObjectCreated:*".into())]);
        assert_eq!(hcl_literal(&list), r#"["s3:ObjectCreated:*"]"#);
        assert_eq!(hcl_literal(&Value::Bool(false)), "false");
        assert_eq!(hcl_literal(&Value::String("a\"b".into())), r#""a\"b""#);
        assert_eq!(hcl_literal(&Value::Map(Default::default())), "{}");
    }

    #[test]
    fn groups_split_required_optional_and_read_only() {
        let block = Block::new("")
            .attr(Attribute::string("id").computed())
            .attr(Attribute::string("name").required())
            .attr(Attribute::bool("flag").default(Value::Bool(true)));
        let section = schema_section(&block);
        let required = section.find("### Required").expect("required");
        let optional = section.find("### Optional").expect("optional");
        let read_only = section.find("### Read-Only").expect("read-only");
        assert!(required < section.find("`name`").expect("name"));
        assert!(optional < section.find("`flag`").expect("flag"));
        assert!(read_only < section.find("`id`").expect("id"));
    }

    #[test]
    fn nested_blocks_get_a_linked_section() {
        let block = Block::new("").block(NestedBlock::list(
            "trigger",
            1,
            0,
            Block::new("A trigger.").attr(Attribute::string("filter_prefix").optional()),
        ));
        let section = schema_section(&block);
        assert!(section.contains("- `trigger` (Block List, at least 1) A trigger. See [below"));
        assert!(section.contains("<a id=\"nestedblock--trigger\"></a>"));
        assert!(section.contains("### Nested Schema for `trigger`"));
        assert!(section.contains("- `filter_prefix` (String)"));
    }

    #[test]
    fn force_new_attributes_appear_in_the_replace_table() {
        let block = Block::new("")
            .attr(Attribute::string("name").required().force_new())
            .attr(Attribute::string("arn").computed())
            .block(NestedBlock::single_required(
                "function",
                Block::new("").attr(Attribute::string("handler").optional()),
            ));
        let table = update_or_replace_section(&block);
        assert!(table.contains("Changing `name` replaces the pipeline"));
        assert!(table.contains("| `name` | **replaces** the pipeline |"));
        assert!(table.contains("| `function.handler` | updates in place |"));
        assert!(
            !table.contains("`arn`"),
            "read-only attributes are not arguments"
        );
    }

    #[test]
    fn the_pipeline_replace_table_follows_the_schema() {
        let schema = crate::pipeline::schema::schema();
        let rows = change_rows(&schema.block);
        for a in schema.block.attributes.iter().filter(|a| a.force_new) {
            assert!(rows.contains(&ChangeRow {
                path: a.name.to_owned(),
                replaces: true
            }));
        }
        assert!(
            rows.iter()
                .any(|r| r.path == "function.source_dir" && !r.replaces)
        );
    }

    #[test]
    fn pages_embed_the_examples() {
        let examples = Examples {
            provider: "provider \"eventpipe\" {}\n".into(),
            resource: "resource \"eventpipe_event_pipeline\" \"x\" {}\n".into(),
            import: "terraform import eventpipe_event_pipeline.x x\n".into(),
        };
        let generated = pages(crate::provider::schemas(), &examples);
        let text = |name: &str| {
            generated
                .iter()
                .find(|p| p.path == Path::new(name))
                .map(|p| p.markdown.clone())
                .unwrap_or_default()
        };
        assert!(text("index.md").contains("```terraform\nprovider \"eventpipe\" {}\n```"));
        let resource = text("resources/event_pipeline.md");
        assert!(resource.starts_with("---\npage_title: \"eventpipe_event_pipeline Resource"));
        assert!(resource.contains("```shell\nterraform import eventpipe_event_pipeline.x x\n```"));
    }

    #[test]
    fn the_provider_page_documents_every_setting() {
        let schema = crate::provider::config::schema();
        let page = provider_page(&schema, &Examples::default());
        for a in &schema.block.attributes {
            assert!(page.contains(&format!("- `{}` (", a.name)), "{}", a.name);
        }
        assert!(page.contains("- `secret_key` (String, Sensitive)"));
        assert!(page.contains("### Nested Schema for `endpoints`"));
    }
}
