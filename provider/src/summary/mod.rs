//! Reviews of Terraform plans: `eventpipe plan-summary`. Pure, and apart
//! from the pipeline's schema (attribute names, force-new attributes) and
//! runtime table it knows nothing of the provider:
//!
//! - [`plan_json`] reads `terraform show -json PLANFILE` (1.0 to 1.11);
//! - [`iam`] compares two `policy_json` documents and finds widenings;
//! - [`keys`] says what each KMS key grant is for and which key a
//!   pipeline's bucket is encrypted with (`--expect-kms-key`);
//! - [`sections`] turns each pipeline change into what a reviewer reads;
//! - [`diagram`] draws each pipeline's parts and what the plan does to
//!   them, written as a Mermaid flowchart by [`diagram::mermaid`];
//! - [`render`] writes it as Markdown (with the flowcharts) or text.

pub mod diagram;
pub mod iam;
pub mod keys;
pub mod plan_json;
pub mod render;
pub mod sections;

pub use plan_json::PlanError;
pub use render::Format;
pub use sections::{Options, Summary};

/// Reads a plan document and summarizes it.
pub fn summarize(bytes: &[u8], opts: Options) -> Result<Summary, PlanError> {
    let plan = plan_json::parse(bytes)?;
    Ok(sections::summarize(&plan, opts))
}

#[cfg(test)]
mod tests;
