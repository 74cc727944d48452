//! The walk over the region's functions, as a stream of results found as
//! the pages arrive: `ListFunctions` one page at a time (the next page is
//! asked for only when the looks have used up the last), up to
//! [`CONCURRENCY`] functions looked at at once, results in the order
//! Lambda lists the functions, and nothing more asked once `limit` results
//! went out, after an error (the one error event ends the list), or when
//! Terraform stops the provider.

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt, ready};
use futures::stream::{self, BoxStream, StreamExt};
use tfsdk::diag::Diagnostic;
use tfsdk::provider::Listed;

use crate::aws::lambda::{self, FunctionSummary};
use crate::aws::{AwsClients, AwsError};

use super::super::errors::ListError;
use super::look::Walk;

/// Functions looked at at once (each look is one to four calls).
pub const CONCURRENCY: usize = 8;

/// Functions asked for per `ListFunctions` page (Lambda's most).
pub const PAGE_SIZE: i32 = 50;

/// The results of `walk`, at most `limit` of them.
pub fn results(walk: Walk, limit: usize) -> BoxStream<'static, Listed> {
    let walk = Arc::new(walk);
    let stop = walk.ctx.stop.clone();
    let named = walk.clone();
    let found = functions(walk.ctx.aws.clone()).filter(move |f| {
        ready(
            f.as_ref()
                .map_or(true, |f| named.filter.takes_name(&f.name)),
        )
    });
    looked_at(
        found.boxed(),
        move |f| {
            let walk = walk.clone();
            async move { walk.look(f).await }.boxed()
        },
        limit,
    )
    .take_until(stop.cancelled_owned())
    .boxed()
}

/// The results of `look` for each function of `found`, in order, with
/// [`CONCURRENCY`] looks at once; ends after `limit` results or after the
/// first error, which is the last event.
fn looked_at<L>(
    found: BoxStream<'static, Result<FunctionSummary, ListError>>,
    look: L,
    limit: usize,
) -> BoxStream<'static, Listed>
where
    L: Fn(FunctionSummary) -> BoxFuture<'static, Result<Option<Listed>, ListError>>
        + Send
        + 'static,
{
    found
        .map(move |f| match f {
            Ok(f) => look(f),
            Err(e) => futures::future::ready(Err(e)).boxed(),
        })
        .buffered(CONCURRENCY)
        .filter_map(|r| ready(r.transpose()))
        .scan(false, |failed, r| {
            if *failed {
                return ready(None);
            }
            ready(Some(match r {
                Ok(listed) => listed,
                Err(e) => {
                    *failed = true;
                    Listed::problem(Diagnostic::from(&e))
                }
            }))
        })
        .take(limit)
        .boxed()
}

/// Where the walk over `ListFunctions`' pages is.
enum Page {
    First,
    After(String),
    Done,
}

/// The region's functions, one page asked for at a time; a failed page
/// is the last item.
fn functions(aws: Arc<AwsClients>) -> BoxStream<'static, Result<FunctionSummary, ListError>> {
    stream::unfold(Page::First, move |at| {
        let aws = aws.clone();
        async move {
            let marker = match at {
                Page::First => None,
                Page::After(m) => Some(m),
                Page::Done => return None,
            };
            let page: Result<_, AwsError> =
                lambda::functions_page(&aws.lambda, marker, PAGE_SIZE).await;
            Some(match page {
                Ok((found, next)) => {
                    tracing::debug!(
                        functions = found.len(),
                        more = next.is_some(),
                        "listed a page of functions"
                    );
                    (Ok(found), next.map_or(Page::Done, Page::After))
                }
                Err(e) => (Err(ListError::from(e)), Page::Done),
            })
        }
    })
    .flat_map(|page| {
        let items: Vec<Result<FunctionSummary, ListError>> = match page {
            Ok(found) => found.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(items)
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tfsdk::value::Value;

    use super::*;

    fn function(i: usize) -> FunctionSummary {
        FunctionSummary {
            name: format!("f{i:04}"),
            arn: format!("arn:aws:lambda:us-east-1:123456789012:function:f{i:04}"),
        }
    }

    /// `pages` pages of 50 functions, counting the pages asked for.
    fn pages(
        pages: usize,
        asked: Arc<AtomicUsize>,
    ) -> BoxStream<'static, Result<FunctionSummary, ListError>> {
        stream::iter(0..pages)
            .then(move |p| {
                let asked = asked.clone();
                async move {
                    asked.fetch_add(1, Ordering::SeqCst);
                    stream::iter((p * 50..(p + 1) * 50).map(|i| Ok(function(i))))
                }
            })
            .flatten()
            .boxed()
    }

    fn result(f: &FunctionSummary) -> Listed {
        Listed {
            identity: Value::string(f.name.clone()),
            display_name: f.name.clone(),
            resource: None,
            diags: Default::default(),
        }
    }

    fn run(stream: BoxStream<'static, Listed>) -> Vec<Listed> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        rt.block_on(stream.collect())
    }

    #[test]
    fn results_come_in_order_and_the_limit_stops_the_pages() {
        let asked = Arc::new(AtomicUsize::new(0));
        let looks = Arc::new(AtomicUsize::new(0));
        let counted = looks.clone();
        // Every third function is a result.
        let found = looked_at(
            pages(20, asked.clone()),
            move |f| {
                counted.fetch_add(1, Ordering::SeqCst);
                let n: usize = f.name[1..].parse().unwrap_or(0);
                async move { Ok(n.is_multiple_of(3).then(|| result(&f))) }.boxed()
            },
            10,
        );
        let names: Vec<String> = run(found).into_iter().map(|l| l.display_name).collect();
        let want: Vec<String> = (0..10).map(|i| function(i * 3).name).collect();
        assert_eq!(names, want);
        // 28 functions gave the 10 results; the looks ahead are bounded.
        assert_eq!(asked.load(Ordering::SeqCst), 1, "one page of 50 was enough");
        assert!(looks.load(Ordering::SeqCst) <= 28 + CONCURRENCY);
    }

    #[test]
    fn every_page_is_walked_without_a_limit() {
        let asked = Arc::new(AtomicUsize::new(0));
        let found = looked_at(
            pages(20, asked.clone()),
            |f| async move { Ok(Some(result(&f))) }.boxed(),
            usize::MAX,
        );
        assert_eq!(run(found).len(), 1000);
        assert_eq!(asked.load(Ordering::SeqCst), 20);
    }

    #[test]
    fn an_error_is_the_last_event_after_the_results_before_it() {
        let asked = Arc::new(AtomicUsize::new(0));
        let found = looked_at(
            pages(3, asked),
            |f| {
                async move {
                    if f.name == "f0060" {
                        Err(ListError::Aws(AwsError::Unexpected("boom".into())))
                    } else {
                        Ok(Some(result(&f)))
                    }
                }
                .boxed()
            },
            usize::MAX,
        );
        let events = run(found);
        assert_eq!(events.len(), 61);
        let last = events.last().expect("at least one event");
        assert!(last.identity.is_null() && last.diags.has_errors());
        assert!(events[..60].iter().all(|l| !l.diags.has_errors()));
    }
}
