//! eventpipe: a Terraform provider that creates S3 → Lambda event pipelines.
//!
//! Data flows one way: protocol values ([`plugin`]) → typed model and plan
//! ([`pipeline`]) → AWS calls ([`aws`]). [`value`] and [`schema`] are the
//! pure foundations; [`diag`] is how every error reaches the user.

pub mod access;
pub mod aws;
pub mod diag;
pub mod docs;
pub mod pipeline;
pub mod plugin;
pub mod provider;
pub mod schema;
pub mod value;
