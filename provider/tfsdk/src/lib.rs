//! tfsdk: what every Terraform provider written in Rust needs, and nothing
//! about any particular provider or cloud.
//!
//! - [`plugin`]: the go-plugin transport (handshake, AutoMTLS, gRPC server,
//!   signals, reattach mode, hclog logging) and the `tfplugin6.Provider`
//!   service; protocol types end there.
//! - [`value`]: Terraform's type system and its msgpack and JSON codecs.
//! - [`schema`]: declarative schemas with defaults and validators.
//! - [`diag`]: diagnostics with attribute paths.
//! - [`access`]: typed reads of object values that track null and unknown.
//! - [`provider`]: the [`Provider`] trait a provider implements.
//! - [`docs`]: registry Markdown from a schema and the provider's page
//!   templates.
//!
//! A provider's `main` calls [`serve`] with its [`ServeOptions`].

pub mod access;
pub mod diag;
pub mod docs;
pub mod plugin;
pub mod provider;
pub mod schema;
pub mod value;

pub use plugin::{ServeOptions, serve};
pub use provider::Provider;
