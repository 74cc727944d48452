//! An apply, once decoded: a create with its roll-back policy, an update
//! and a destroy. Each decides its steps ([`steps`]) before any AWS call,
//! runs them ([`execute`]) and says what to record.

use tfsdk::diag::{Diagnostic, Diagnostics};
use tfsdk::provider::Recorded;
use tfsdk::value::Value;
use tracing::Instrument;

use super::context::{Context, setting};
use super::errors::ApplyError;
use super::execute::{OnError, execute};
use super::private::Private;
use super::run::{Purpose, Run};
use super::state::{Known, Planning, State};
use super::{desired, import, ops, package, steps};

/// The planned state, with the values only the apply learns (the backfill
/// count, the URL of a failure queue still to be made) filled in with what
/// they were. A queue URL not known yet is empty: the queue is not there
/// yet, and the step that makes it records its URL ([`recorded`]).
pub(super) fn apply_time_state(
    planned: &Value,
    prior: Option<&State<Known>>,
) -> Result<State<Known>, ApplyError> {
    use tfsdk::access::Field;
    let mut s = State::<Planning>::from_value(planned)?;
    // The image's digest is known once it is pushed ([`recorded`]).
    if s.image_uri.is_unknown() {
        s.image_uri = Field::Null;
    }
    if s.backfilled_objects.is_unknown() {
        s.backfilled_objects = Field::Known(prior.map_or(0, |p| p.backfilled_objects));
    }
    // What only AWS's answers give (queue URLs, mapping ids): "" until
    // they come.
    for f in [
        &mut s.failure_queue_url,
        &mut s.event_queue_url,
        &mut s.stream_mapping_id,
        &mut s.queue_mapping_id,
        &mut s.image_repository_url,
    ] {
        if f.is_unknown() {
            *f = Field::Known(String::new());
        }
    }
    // The alarms' topic and ARNs, when what names them was unknown at
    // plan (a topic made in the same apply): known now.
    let arns_unknown = s.alarm_arns.is_unknown();
    if arns_unknown {
        s.alarm_arns = Field::Known(Default::default());
    }
    if s.alarm_topic_arn.is_unknown() {
        s.alarm_topic_arn = Field::Known(String::new());
    }
    let mut known = s.known()?;
    if arns_unknown || known.alarm_topic_arn.as_deref() == Some("") {
        desired::fill_alarm_arns(&mut known);
    }
    Ok(known)
}

/// What an apply records: `state` with what the run learnt (the backfill
/// count), and the private data to keep with it.
fn recorded(
    state: &State<Known>,
    private: &Private,
    run: &Run<'_>,
    mut diags: Diagnostics,
) -> Recorded {
    let record = run.record();
    diags.extend(warnings(&record));
    let mut private = private.clone();
    if let Some(pkg) = &record.package {
        private.code_sha256 = Some(pkg.code_sha256.clone());
    }
    // An image's code is compared by its digest (the state's `image_uri`),
    // not by a zip's CodeSha256.
    if desired::is_image(state) {
        private.code_sha256 = None;
    }
    // Tagged and in use: an adoption is complete once an apply succeeded.
    if !diags.has_errors() {
        private.adopted = None;
    }
    let mut state = state.clone();
    state.backfilled_objects += record.backfilled;
    if let Some(uri) = &record.image_uri {
        state.image_uri = Some(uri.clone());
    }
    for (learnt, field) in [
        (&record.queue_url, &mut state.failure_queue_url),
        (&record.event_queue_url, &mut state.event_queue_url),
        (&record.stream_mapping_id, &mut state.stream_mapping_id),
        (&record.queue_mapping_id, &mut state.queue_mapping_id),
        (&record.repository_url, &mut state.image_repository_url),
    ] {
        if let Some(v) = learnt {
            *field = Some(v.clone());
        }
    }
    // What is left to send is what the last backfill left, also when it
    // had nothing more to send (a resume that found the rest empty).
    if record.backfill_ran {
        private.backfill = record.backfill_left.clone();
    }
    if let Some(left) = &record.backfill_left {
        let why = record
            .backfill_problem
            .clone()
            .unwrap_or_else(|| "Terraform asked the provider to stop".to_owned());
        diags.push(Diagnostic::warning(
            "Backfill not finished",
            format!(
                "Backfill sent {} existing objects to the function and stopped: {why}. {} \
                 trigger(s) still have objects to send; the next apply continues where this \
                 one stopped.",
                record.backfilled,
                left.pending.len()
            ),
        ));
    }
    Recorded {
        state: state.to_value(),
        private: private.to_bytes(),
        diags,
    }
}

/// The warnings the run's steps left.
fn warnings(record: &super::run::Record) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (summary, detail) in &record.warnings {
        diags.push(Diagnostic::warning(summary.clone(), detail.clone()));
    }
    diags
}

/// A create: converge from nothing; on a failure, roll back what this
/// create made, unless Terraform was interrupted.
pub(super) async fn create(ctx: &Context, want: &State<Known>, private: &Private) -> Recorded {
    let facts = steps::Facts {
        may_stage: may_stage(want),
        ..steps::Facts::default()
    };
    let steps = steps::converge(want, None, facts);
    let run = Run::new(ctx, want, None, private, Purpose::Converge);
    let span = tracing::info_span!("create", pipeline = %want.name);
    let Err(errors) = execute(&run, &steps, OnError::Stop).instrument(span).await else {
        return recorded(want, private, &run, Diagnostics::new());
    };
    let made = run.record().made;
    let interrupted = ctx.stop.is_cancelled()
        || errors
            .iter()
            .any(|e| matches!(e, ApplyError::Cancelled { .. }));
    if interrupted {
        // Terraform was interrupted: stop now, undo nothing, and hand back
        // what exists so Terraform records it (tainted).
        tracing::warn!(?made, "create interrupted; returning what exists");
        let diags = setting(ctx, want).diagnostics(&errors);
        if made.is_empty() {
            return Recorded::unchanged(&Value::Null, &[], diags);
        }
        return recorded(&want.with_only(made), private, &run, diags);
    }
    tracing::warn!(?made, "create failed; rolling back");
    let undo = run.then(Purpose::RollBack);
    let mut undo_steps = steps::roll_back(made);
    // An image this create pushed to a repository it was given goes too
    // (a repository the pipeline makes goes whole).
    if run.record().image_uri.is_some() && ops::image::given_repository(want).is_some() {
        undo_steps.add(steps::Op::RemoveImage, []);
    }
    let undone = execute(&undo, &undo_steps, OnError::Continue)
        .instrument(tracing::info_span!("roll back", pipeline = %want.name))
        .await;
    let mut diags = setting(ctx, want).diagnostics(&errors);
    let left = made.minus(undo.record().removed);
    if let Err(undo_errors) = undone {
        diags.extend(setting(ctx, want).diagnostics(&undo_errors));
    }
    if left.is_empty() {
        // Nothing of this create is left: record nothing.
        Recorded::unchanged(&Value::Null, &[], diags)
    } else {
        // Keep what could not be undone in the state (tainted), so
        // Terraform still knows about it and replaces it next time.
        recorded(&want.with_only(left), private, &run, diags)
    }
}

/// An update: converge from `prior`; on a failure the prior state stays.
pub(super) async fn update(
    ctx: &Context,
    prior: &State<Known>,
    want: &State<Known>,
    prior_value: &Value,
    private: &Private,
) -> Recorded {
    let facts = steps::Facts {
        present: prior.present(),
        unclaimed: private
            .adopted
            .as_ref()
            .map(|_| import::CLAIMED)
            .unwrap_or_default(),
        backfill_pending: private.backfill.is_some(),
        may_stage: may_stage(want),
    };
    let steps = steps::converge(want, Some(prior), facts);
    let run = Run::new(ctx, want, Some(prior), private, Purpose::Converge);
    let span = tracing::info_span!("update", pipeline = %want.name);
    match execute(&run, &steps, OnError::Stop).instrument(span).await {
        Ok(()) => recorded(want, private, &run, Diagnostics::new()),
        // The prior state stays; the next refresh sees what did change.
        // Code this update deployed is the provider's own, not a change
        // made outside Terraform.
        Err(errors) => {
            let mut kept = private.clone();
            if let Some(sha) = run.record().uploaded {
                kept.code_sha256 = Some(sha);
            }
            let diags = setting(ctx, want).diagnostics(&errors);
            Recorded::unchanged(prior_value, &kept.to_bytes(), diags)
        }
    }
}

/// A destroy: every part, going on past the errors of independent steps.
pub(super) async fn destroy(
    ctx: &Context,
    prior: &State<Known>,
    prior_value: &Value,
    private: &[u8],
) -> Recorded {
    let steps = steps::destroy(prior);
    let private_data = Private::from_bytes(private);
    let run = Run::new(ctx, prior, None, &private_data, Purpose::Destroy);
    let span = tracing::info_span!("delete", pipeline = %prior.name);
    match execute(&run, &steps, OnError::Continue)
        .instrument(span)
        .await
    {
        Ok(()) => Recorded {
            diags: warnings(&run.record()),
            ..Recorded::gone()
        },
        Err(errors) => {
            // Terraform shows no resource address with destroy errors, so
            // say which pipeline they are about.
            let mut diags = setting(ctx, prior).diagnostics(&errors);
            for d in &mut diags.0 {
                d.detail = format!("Destroying pipeline {:?}: {}", prior.name, d.detail);
            }
            Recorded::unchanged(prior_value, private, diags)
        }
    }
}

/// Whether the package `want` deploys may have to be staged in S3 (a
/// look at the source's sizes and dependency files, no reads of content).
fn may_stage(want: &State<Known>) -> bool {
    !desired::is_image(want) && package::may_need_staging(&ops::function::package_settings(want))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::part;
    use crate::pipeline::state::{self, OnFailure, tests::known_state};

    #[test]
    fn a_failure_queue_still_to_be_made_has_no_url_at_apply() {
        let mut s = known_state("orders");
        s.on_failure = Some(OnFailure {
            maximum_retry_attempts: Some(2),
            maximum_event_age: Some(21_600),
            queue_arn: None,
            force_delete: false,
        });
        s.failure_queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:orders-failed".into());
        let mut planned = s.to_value();
        if let Value::Object(m) = &mut planned {
            m.insert(state::attr::FAILURE_QUEUE_URL.into(), Value::Unknown);
        }
        let want = apply_time_state(&planned, None).expect("a known state");
        assert_eq!(want.failure_queue_url.as_deref(), Some(""));
        assert!(!want.present().contains(part::Part::FailureQueue));
    }
}
