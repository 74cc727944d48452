//! eventpipe's registry docs: which template becomes which page, filled
//! from which schema.
//!
//! - `templates/index.md.tmpl` → `docs/index.md`, from the provider schema;
//! - `templates/resources/<short>.md.tmpl` → `docs/resources/<short>.md`
//!   for every resource type `eventpipe_<short>`, from its schema;
//! - `templates/list-resources/<short>.md.tmpl` →
//!   `docs/list-resources/<short>.md` for every list resource (Terraform
//!   1.14's `list` blocks), from the schema of its `config` block.
//!
//! The templates (in this crate's folder) hold the hand-written prose; their
//! placeholders (`{{description}}`, `{{schema}}`, `{{example "…"}}`, … see
//! [`tfsdk::docs::template`]) are filled from the schema and from the
//! registry examples under the repository's `examples/`. The
//! `eventpipe-docs` binary writes the pages (`make docs`), and a test fails
//! when the committed `docs/` differ from what the templates and schemas
//! make.

use std::io;
use std::path::{Path, PathBuf};

use tfsdk::docs::{Context, Template, TemplateError};
use tfsdk::provider::Schemas;
use tfsdk::schema::{IdentitySchema, Schema};

/// Where the templates and the registry examples are.
#[derive(Clone, Debug)]
pub struct Sources {
    pub templates: PathBuf,
    pub examples: PathBuf,
}

impl Sources {
    /// Those of the checkout this crate was built from.
    pub fn checkout() -> Sources {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        Sources {
            templates: manifest.join("templates"),
            examples: manifest.join("..").join("examples"),
        }
    }
}

/// One page to make: its template, its path under `docs/` and its schema.
#[derive(Clone, Debug)]
pub struct PageSource<'a> {
    /// Relative to [`Sources::templates`].
    pub template: PathBuf,
    /// Relative to the docs directory.
    pub page: PathBuf,
    pub schema: &'a Schema,
    /// The resource type's identity schema, for `{{identity}}`.
    pub identity: Option<&'a IdentitySchema>,
}

/// One generated page: its path under the docs directory and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub path: PathBuf,
    pub markdown: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The registry layout: the provider page, then one page per resource type
/// and one per list resource.
pub fn layout<'a>(schemas: &'a Schemas) -> Vec<PageSource<'a>> {
    let provider = PageSource {
        template: PathBuf::from("index.md.tmpl"),
        page: PathBuf::from("index.md"),
        schema: &schemas.provider,
        identity: None,
    };
    let pages_of = |folder: &'static str, table: &'a [(&'static str, Schema)]| {
        table.iter().map(move |(type_name, schema)| {
            let short = short_name(type_name);
            PageSource {
                template: Path::new(folder).join(format!("{short}.md.tmpl")),
                page: Path::new(folder).join(format!("{short}.md")),
                schema,
                identity: schemas.identity(type_name),
            }
        })
    };
    std::iter::once(provider)
        .chain(pages_of("resources", &schemas.resources))
        .chain(pages_of("list-resources", &schemas.lists))
        .collect()
}

/// `eventpipe_event_pipeline` → `event_pipeline`, as the registry names
/// resource pages.
pub fn short_name(type_name: &str) -> &str {
    type_name.strip_prefix("eventpipe_").unwrap_or(type_name)
}

/// Every page of the registry docs.
pub fn pages(schemas: &Schemas, sources: &Sources) -> Result<Vec<Page>, DocsError> {
    layout(schemas)
        .into_iter()
        .map(|source| {
            let path = sources.templates.join(&source.template);
            let text = std::fs::read_to_string(&path).map_err(|e| DocsError::Read {
                path: path.clone(),
                source: e,
            })?;
            Ok(Page {
                markdown: render(
                    &path,
                    &text,
                    source.schema,
                    source.identity,
                    &sources.examples,
                )?,
                path: source.page,
            })
        })
        .collect()
}

/// Fills one template's text; `name` is its path, for errors.
pub fn render(
    name: &Path,
    text: &str,
    schema: &Schema,
    identity: Option<&IdentitySchema>,
    examples: &Path,
) -> Result<String, TemplateError> {
    let example = |path: &str| std::fs::read_to_string(examples.join(path));
    let cx = Context {
        schema,
        identity,
        example: &example,
    };
    Template::parse(name.display().to_string(), text)?.render(&cx)
}

impl Page {
    /// Writes the page under `dir`, creating folders as needed; returns the
    /// path written.
    pub fn write_under(&self, dir: &Path) -> Result<PathBuf, DocsError> {
        let path = dir.join(&self.path);
        let write = || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &self.markdown)
        };
        write().map_err(|source| DocsError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::schema::TYPE_NAME;

    fn docs_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
    }

    fn checked_in(page: &Path) -> String {
        std::fs::read_to_string(docs_dir().join(page)).unwrap_or_default()
    }

    fn template(rel: &str) -> (PathBuf, String) {
        let path = Sources::checkout().templates.join(rel);
        let text = std::fs::read_to_string(&path).expect("template");
        (path, text)
    }

    fn generated(schemas: &Schemas) -> Vec<Page> {
        pages(schemas, &Sources::checkout()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn checked_in_docs_match_the_templates_and_the_schema() {
        for page in generated(crate::provider::schemas()) {
            if let Some(diff) = first_difference(&checked_in(&page.path), &page.markdown) {
                panic!(
                    "docs/{} is out of date with its template, the schema or the registry \
                     examples; run `make docs` and commit the result.\n{diff}",
                    page.path.display()
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
        assert!(
            first_difference("a\n", "a").is_some(),
            "a lost final newline is drift"
        );
    }

    #[test]
    fn an_edited_template_sentence_is_drift() {
        let (path, text) = template("resources/event_pipeline.md.tmpl");
        let edited = text.replace("a handful of AWS resources", "a few AWS resources");
        assert_ne!(edited, text, "the sentence this test edits has moved");
        let schema = crate::pipeline::schema::schema();
        let identity = crate::pipeline::identity::schema();
        let markdown = render(
            &path,
            &edited,
            &schema,
            Some(&identity),
            &Sources::checkout().examples,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let diff = first_difference(
            &checked_in(Path::new("resources/event_pipeline.md")),
            &markdown,
        );
        assert!(diff.is_some_and(|d| d.contains("a few AWS resources")));
    }

    #[test]
    fn an_edited_schema_description_is_drift() {
        let mut schema = crate::provider::config::schema();
        let region = schema
            .block
            .attributes
            .iter_mut()
            .find(|a| a.name == "region")
            .expect("region");
        region.description = "Somewhere else.";
        let (path, text) = template("index.md.tmpl");
        let markdown = render(&path, &text, &schema, None, &Sources::checkout().examples)
            .unwrap_or_else(|e| panic!("{e}"));
        let diff = first_difference(&checked_in(Path::new("index.md")), &markdown);
        assert!(diff.is_some_and(|d| d.contains("- `region` (String) Somewhere else.")));
    }

    #[test]
    fn every_resource_type_has_a_template_and_a_page() {
        let schemas = crate::provider::schemas();
        let sources = Sources::checkout();
        let layout = layout(schemas);
        for (type_name, _) in &schemas.resources {
            let page = Path::new("resources").join(format!("{}.md", short_name(type_name)));
            let source = layout.iter().find(|s| s.page == page);
            assert!(
                source.is_some_and(|s| sources.templates.join(&s.template).is_file()),
                "{type_name} has no template for {}",
                page.display()
            );
        }
        assert_eq!(short_name(TYPE_NAME), "event_pipeline");
    }

    #[test]
    fn the_pages_embed_the_registry_examples_as_they_are() {
        let examples = Sources::checkout().examples;
        let read = |rel: &str| std::fs::read_to_string(examples.join(rel)).expect("example");
        let pages = generated(crate::provider::schemas());
        let text = |name: &str| {
            pages
                .iter()
                .find(|p| p.path == Path::new(name))
                .map(|p| p.markdown.clone())
                .unwrap_or_default()
        };
        let fenced =
            |language: &str, rel: &str| format!("```{language}\n{}\n```\n", read(rel).trim_end());
        assert!(text("index.md").contains(&fenced("terraform", "provider/provider.tf")));
        let resource = text("resources/event_pipeline.md");
        let example = fenced(
            "terraform",
            "resources/eventpipe_event_pipeline/resource.tf",
        );
        assert!(resource.contains(&example));
        let import = fenced("shell", "resources/eventpipe_event_pipeline/import.sh");
        assert!(resource.contains(&import));
        assert!(resource.starts_with("---\npage_title: \"eventpipe_event_pipeline Resource"));
    }

    #[test]
    fn the_pipeline_replace_table_follows_the_schema() {
        let schema = crate::pipeline::schema::schema();
        let rows = tfsdk::docs::change_rows(&schema.block);
        for a in schema.block.attributes.iter().filter(|a| a.force_new) {
            assert!(
                rows.iter().any(|r| r.path == a.name && r.replaces),
                "{}",
                a.name
            );
        }
        assert!(
            rows.iter()
                .any(|r| r.path == "function.source_dir" && !r.replaces)
        );
    }

    #[test]
    fn the_provider_page_documents_every_setting() {
        let schemas = crate::provider::schemas();
        let pages = generated(schemas);
        let page = &pages[0];
        assert_eq!(page.path, Path::new("index.md"));
        for a in &schemas.provider.block.attributes {
            assert!(
                page.markdown.contains(&format!("- `{}` (", a.name)),
                "{}",
                a.name
            );
        }
        assert!(page.markdown.contains("- `secret_key` (String, Sensitive)"));
        assert!(page.markdown.contains("### Nested Schema for `endpoints`"));
    }

    #[test]
    fn a_missing_template_is_named() {
        let sources = Sources {
            templates: PathBuf::from("/nonexistent/templates"),
            ..Sources::checkout()
        };
        let message = pages(crate::provider::schemas(), &sources)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.starts_with("cannot read /nonexistent/templates/index.md.tmpl"));
    }
}
