//! The resource's error types, and the one place they become diagnostics.

use thiserror::Error;

use crate::aws::AwsError;
use tfsdk::diag::{AttrPath, Diagnostic};

use super::package::PackageError;
use super::source::SourceError;

/// Why creating, updating or deleting a pipeline stopped.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// An AWS call failed; `step` says which part of the pipeline.
    #[error("{step} failed: {source}")]
    Aws {
        step: &'static str,
        #[source]
        source: AwsError,
    },
    /// A part with our name exists but belongs to something else.
    #[error("{what} already exists and is not managed by pipeline {pipeline:?}{owner}")]
    NotOurs {
        what: String,
        pipeline: String,
        owner: String,
    },
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("{0}")]
    Package(#[from] PackageError),
    #[error(
        "the files in {dir} changed between plan and apply (planned hash {planned}, now {now}); \
         run terraform plan again"
    )]
    SourceChanged {
        dir: String,
        planned: String,
        now: String,
    },
    #[error(
        "bucket {bucket} still holds objects; empty it first, or set force_destroy = true to \
         delete them with the pipeline. Nothing was deleted."
    )]
    BucketNotEmpty { bucket: String },
    #[error("stopped by Terraform (interrupt) before {step}")]
    Cancelled { step: &'static str },
    #[error("the planned state is incomplete: {0}")]
    BadPlan(String),
}

impl ApplyError {
    pub fn aws(step: &'static str) -> impl FnOnce(AwsError) -> ApplyError {
        move |source| ApplyError::Aws { step, source }
    }
}

impl From<&ApplyError> for Diagnostic {
    fn from(e: &ApplyError) -> Self {
        let summary = match e {
            ApplyError::Aws { step, .. } => format!("Pipeline step failed: {step}"),
            ApplyError::NotOurs { .. } => "Name already taken".to_owned(),
            ApplyError::Source(_) | ApplyError::SourceChanged { .. } => {
                "Cannot package the function's source".to_owned()
            }
            ApplyError::Package(_) => "Function package too large".to_owned(),
            ApplyError::BucketNotEmpty { .. } => "Bucket is not empty".to_owned(),
            ApplyError::Cancelled { .. } => "Operation interrupted".to_owned(),
            ApplyError::BadPlan(_) => "Invalid planned state".to_owned(),
        };
        let d = Diagnostic::error(summary, e.to_string());
        match e {
            ApplyError::Source(_) | ApplyError::SourceChanged { .. } | ApplyError::Package(_) => {
                d.at(AttrPath::attrs(["function", "source_dir"]))
            }
            ApplyError::BucketNotEmpty { .. } => d.at(AttrPath::attrs(["force_destroy"])),
            _ => d,
        }
    }
}
