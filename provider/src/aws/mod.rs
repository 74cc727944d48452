//! Thin wrappers over the AWS SDK: building the clients from provider
//! settings, retries, waiters and mapping "not found" answers. AWS types stay
//! in here; the rest of the provider sees plain Rust types and [`AwsError`].

mod config;
pub(crate) mod error;

pub use config::{AwsClients, AwsSettings, ServiceEndpoints};
pub use error::AwsError;

pub mod iam;
pub mod lambda;
pub mod retry;
pub mod s3;
mod tags;
