//! Registry documentation, the tfplugindocs way: a provider keeps its
//! prose in Markdown templates, and [`Template`] fills their placeholders
//! with what the schema says (attribute lists, defaults, constraints,
//! sensitivity, what replaces the resource) and with the registry examples.
//!
//! Everything here is pure: templates and examples come in as text (the
//! examples through [`Context::example`]), and which template makes which
//! page, and where files live, is the provider's business.
//!
//! - [`template`]: the placeholder syntax, parsing and filling.
//! - [`schema_markdown`]: the `## Schema` section of a page.
//! - [`change_table`], [`force_new_arguments`]: what updates in place and
//!   what replaces the resource.

mod changes;
mod schema;
pub mod template;

pub use changes::{ChangeRow, change_rows, change_table, force_new_arguments};
pub use schema::{attribute_item, hcl_literal, schema_markdown, type_name};
pub use template::{Context, Placeholder, Problem, Template, TemplateError};
