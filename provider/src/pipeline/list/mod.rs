//! `list "eventpipe_event_pipeline"` (`terraform query`, protocol 6.10):
//! the pipelines of the provider's account and region, found as the pages
//! of functions arrive.
//!
//! - `filter.rs`: the `config` block's schema and the typed filter;
//! - `walk.rs`: the stream over `ListFunctions`' pages, with bounded
//!   concurrency, the limit and the one error event;
//! - `look.rs`: one function: owned (its `eventpipe:pipeline` tag),
//!   adoptable (the wiring `adopt:` import takes), or neither; and, when
//!   asked, the resource object `terraform import` builds for it;
//! - `display.rs`: the display names.

mod display;
mod filter;
mod look;
mod walk;

use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use tfsdk::diag::Diagnostics;
use tfsdk::provider::{ListRequest, Listed};
use tfsdk::schema::Schema;
use tfsdk::value::Value;

use super::context::Context;

pub use filter::{Filter, Include};

/// The schema of the `list` block's `config`.
pub fn schema() -> Schema {
    filter::schema()
}

/// ValidateListResourceConfig: the schema's checks (values may be unknown).
pub fn validate(config: &Value) -> Diagnostics {
    filter::validate(config)
}

/// ListResource: the pipelines `request` asks for, as they are found.
pub fn list(ctx: Arc<Context>, request: ListRequest) -> BoxStream<'static, Listed> {
    let filter = match Filter::from_config(&request.config) {
        Ok(f) => f,
        Err(diags) => return problems(diags),
    };
    let limit = usize::try_from(request.limit)
        .ok()
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    tracing::info!(
        ?filter,
        limit,
        include_resource = request.include_resource,
        "listing pipelines"
    );
    walk::results(
        look::Walk::new(ctx, filter, request.include_resource),
        limit,
    )
}

/// A list refused before it started: one event with every problem.
fn problems(diags: Diagnostics) -> BoxStream<'static, Listed> {
    stream::once(async move {
        Listed {
            identity: Value::Null,
            display_name: String::new(),
            resource: None,
            diags,
        }
    })
    .boxed()
}
