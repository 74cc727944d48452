//! eventpipe: a Terraform provider that creates S3 → Lambda event pipelines.
//!
//! Data flows one way: protocol values (decoded by [`tfsdk`]) → typed state
//! and plan ([`pipeline`]) → a list of steps → AWS calls ([`aws`]).
//! [`provider`] is the provider configuration and the [`tfsdk::Provider`]
//! implementation; see `ARCHITECTURE.md` for the map and its invariants.

pub mod aws;
pub mod cli;
pub mod crypto;
pub mod docs;
pub mod pipeline;
pub mod provider;
pub mod registry;
pub mod summary;
pub mod temp_name;

#[cfg(test)]
mod service_fuzz;
