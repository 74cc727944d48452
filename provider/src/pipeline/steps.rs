//! Deciding what an apply does, before it does anything: a pure function of
//! the planned state, the prior state and what is known to exist
//! ([`Facts`]), returning the steps with their dependencies.
//! [`super::execute`] runs them.
//!
//! The schedule of a create: bucket ‖ (role → policy, package) → function
//! → permission, and the notification once the bucket, function and
//! permission are there; the wait for a new function to become Active runs
//! beside the notification, off the critical path.

use super::desired;
use super::part::{Part, PartSet};
use super::parts::{self, Converge};
use super::state::{Known, State};
pub use super::step::{Change, Facts, Op, StepId, Steps};

/// The parts a change of `name` makes anew, under their new names: those
/// that take their names from `name` (the function, its log group, the
/// role, the failure and event queues and the stream the pipeline makes)
/// and what cannot move from an old part to a new one (the role's policy,
/// the function's permission and invoke configuration, a mapping whose
/// function or source is new). The old ones go once the new ones are in
/// use ([`Op::DeleteOld`]).
pub fn renamed(want: &State<Known>, prior: Option<&State<Known>>) -> PartSet {
    let mut parts = PartSet::empty();
    // Only a new `name` renames; a part the refresh found gone has an
    // empty name in the prior state and is simply made again.
    let Some(prior) = prior.filter(|p| p.name != want.name) else {
        return parts;
    };
    let both = want.wanted();
    let had = prior.wanted();
    let mut differs = |p: Part, name: &dyn Fn(&State<Known>) -> String| {
        let (old, new) = (name(prior), name(want));
        if both.contains(p) && had.contains(p) && !old.is_empty() && !new.is_empty() && old != new {
            parts.insert(p);
        }
    };
    differs(Part::Function, &|s| s.function_name.clone());
    differs(Part::Role, &|s| s.role_name.clone());
    differs(Part::LogGroup, &|s| s.log_group_name.clone());
    differs(Part::FailureQueue, &|s| {
        s.failure_queue_arn.clone().unwrap_or_default()
    });
    differs(Part::EventQueue, &|s| {
        s.event_queue_arn.clone().unwrap_or_default()
    });
    differs(Part::Stream, &|s| s.stream_name.clone().unwrap_or_default());
    differs(Part::Repository, &|s| {
        desired::repository(s).map(|r| r.name).unwrap_or_default()
    });
    // The alarms and their topic are named after `name`.
    differs(Part::Alarms, &|s| s.name.clone());
    differs(Part::AlarmTopic, &|s| s.name.clone());
    let follows = |p: Part, of: &[Part]| {
        (both.contains(p) && had.contains(p) && of.iter().any(|o| parts.contains(*o))).then_some(p)
    };
    let dependants: Vec<Part> = [
        follows(Part::Policy, &[Part::Role]),
        follows(Part::Permission, &[Part::Function]),
        follows(Part::InvokeConfig, &[Part::Function]),
        follows(Part::StreamMapping, &[Part::Function, Part::Stream]),
        follows(Part::EventQueueMapping, &[Part::Function, Part::EventQueue]),
    ]
    .into_iter()
    .flatten()
    .collect();
    for p in dependants {
        parts.insert(p);
    }
    parts
}

/// The steps that bring AWS from what exists to `want`. `prior` is the
/// state Terraform recorded (none for a create).
pub fn converge(want: &State<Known>, prior: Option<&State<Known>>, facts: Facts) -> Steps {
    let mut c = Converge::new(want, prior, facts, renamed(want, prior));
    for decide in CONVERGE {
        decide(&mut c);
    }
    let mut s = c.steps;
    // Every other step waits for the checks (the failure queue's, a given
    // image repository's) and for the build of a zip whose size only the
    // build learns (one with dependencies, `Facts::may_stage`): over
    // Lambda's limit, it stops the apply before anything is made.
    let build_first = c.facts.may_stage.then_some(c.at.build).flatten();
    let first: Vec<StepId> = [c.at.queue_check, c.at.repository_check, build_first]
        .into_iter()
        .flatten()
        .collect();
    for (i, st) in s.0.iter_mut().enumerate() {
        if st.after.is_empty() && !first.contains(&i) {
            st.after.extend(first.iter().filter(|c| **c < i));
        }
    }
    s
}

/// The decisions of a converge, in the order their steps are added: what
/// is made and changed, the notification once what it points at is
/// there, then what goes once the new parts are in use (a rename's old
/// parts, each after what refers to it; what the plan no longer wants),
/// and the backfill last.
const CONVERGE: &[fn(&mut Converge)] = &[
    parts::failure_queue::check_empty,
    parts::repository::check_given,
    parts::function::build,
    parts::bucket::converge,
    parts::role::converge,
    parts::policy::converge,
    parts::log_group::converge,
    parts::repository::converge,
    parts::failure_queue::converge,
    parts::function::converge,
    parts::invoke_config::converge,
    parts::permission::converge,
    parts::function::await_active,
    parts::stream::converge,
    parts::stream_mapping::drop_old,
    parts::stream::drop,
    parts::stream_mapping::converge,
    parts::event_queue::converge,
    parts::event_queue_mapping::converge,
    parts::failure_queue::drop,
    parts::notification::converge,
    parts::alarm_topic::converge,
    parts::alarms::converge,
    parts::alarms::drop,
    parts::alarm_topic::drop,
    parts::event_queue_mapping::delete_old,
    parts::event_queue::delete_old,
    parts::function::delete_old,
    parts::role::delete_old,
    parts::log_group::delete_old,
    parts::repository::drop,
    parts::failure_queue::delete_old,
    parts::permission::retire,
    parts::permission::drop,
    parts::event_queue_mapping::drop,
    parts::event_queue::drop,
    parts::notification::backfill,
];

/// The steps that remove `parts` (after step `after`), for a destroy and
/// for undoing a failed create alike: notifications before their bucket
/// and before the function they name, the bucket emptied first when
/// `empty_bucket`; the function, the role and the bucket side by side.
pub fn teardown(parts: PartSet, empty_bucket: bool, after: Option<StepId>, s: &mut Steps) {
    // (A bucket the pipeline does not manage is never in `parts`.)
    let notification = parts
        .contains(Part::Notification)
        .then(|| s.add(Op::Delete(Part::Notification), [after]));
    // The function's staged packages, before the bucket that may hold them.
    let staged = parts
        .contains(Part::Function)
        .then(|| s.add(Op::DeleteStaged, [after]));
    if parts.contains(Part::Bucket) {
        let emptied = empty_bucket.then(|| s.add(Op::EmptyBucket, [after, notification, staged]));
        s.add(
            Op::Delete(Part::Bucket),
            [after, notification, emptied, staged],
        );
    }
    // The mappings first: nothing reads the stream or the queue after.
    let stream_mapping = parts
        .contains(Part::StreamMapping)
        .then(|| s.add(Op::Delete(Part::StreamMapping), [after]));
    let queue_mapping = parts
        .contains(Part::EventQueueMapping)
        .then(|| s.add(Op::Delete(Part::EventQueueMapping), [after, notification]));
    if parts.contains(Part::Stream) {
        s.add(Op::Delete(Part::Stream), [after, stream_mapping]);
    }
    if parts.contains(Part::EventQueue) {
        s.add(
            Op::Delete(Part::EventQueue),
            [after, queue_mapping, notification],
        );
    }
    // Deleting the function takes its permission and invoke configuration.
    // It goes only once its notifications are off the bucket and read back:
    // S3 validates every destination of the document on each write, so a
    // configuration left naming a deleted function would make every later
    // write to that bucket fail, this pipeline's and everyone else's.
    let function = [Part::Function, Part::Permission, Part::InvokeConfig]
        .iter()
        .any(|p| parts.contains(*p))
        .then(|| {
            s.add(
                Op::Delete(Part::Function),
                [after, stream_mapping, queue_mapping, notification],
            )
        });
    if parts.contains(Part::Role) || parts.contains(Part::Policy) {
        s.add(Op::Delete(Part::Role), [after]);
    }
    // Once nothing writes to them any more.
    if parts.contains(Part::LogGroup) {
        s.add(Op::Delete(Part::LogGroup), [after, function]);
    }
    if parts.contains(Part::FailureQueue) {
        s.add(Op::Delete(Part::FailureQueue), [after, function]);
    }
    // With its images, once the function no longer pulls from it.
    if parts.contains(Part::Repository) {
        s.add(Op::Delete(Part::Repository), [after, function]);
    }
    // The alarms, then the topic they notify.
    let alarms = parts
        .contains(Part::Alarms)
        .then(|| s.add(Op::Delete(Part::Alarms), [after]));
    if parts.contains(Part::AlarmTopic) {
        s.add(Op::Delete(Part::AlarmTopic), [after, alarms]);
    }
}

/// The steps of a destroy: check first, so a refused destroy deletes
/// nothing; then remove every part by name, whatever the state says of it
/// (a part already gone is fine). With `force_destroy`, the bucket's
/// objects go too. A bucket the pipeline does not manage stays, with
/// everything on it but the pipeline's own notifications.
pub fn destroy(prior: &State<Known>) -> Steps {
    let mut s = Steps::default();
    let mut parts = prior.wanted();
    // A repository a failed switch to a zip left behind goes too.
    if desired::left_repository(prior).is_some() {
        parts.insert(Part::Repository);
    }
    if prior.logs.as_ref().is_some_and(|l| l.keep_on_destroy) {
        parts.remove(Part::LogGroup);
    }
    let check = (prior.create_bucket || parts.contains(Part::FailureQueue))
        .then(|| s.add(Op::CheckDeletable, []));
    // The image pushed to a repository the pipeline was given goes first
    // (a repository the pipeline made goes whole, with its images): should
    // that fail, nothing else goes, and the next destroy still finds the
    // pipeline and its image to remove.
    let given = prior
        .function
        .image
        .as_ref()
        .is_some_and(|i| i.repository_name.is_some());
    let image = (given && prior.image_uri.is_some()).then(|| s.add(Op::RemoveImage, [check]));
    teardown(
        parts,
        prior.force_destroy && prior.create_bucket,
        image.or(check),
        &mut s,
    );
    s
}

/// The steps that undo a failed create: remove what it made or adopted.
/// The bucket was made (or left) by this pipeline moments ago, so its
/// objects go with it.
pub fn roll_back(made: PartSet) -> Steps {
    let mut s = Steps::default();
    // A package staged before making the function failed is the run's too.
    if !made.contains(Part::Function) {
        s.add(Op::DeleteStaged, []);
    }
    teardown(made, true, None, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::state::tests::known_state;
    use crate::pipeline::step::Step;

    fn step(s: &Steps, op: Op) -> &Step {
        let i = s
            .find(op)
            .unwrap_or_else(|| panic!("no {op} in {:#?}", s.ops()));
        &s.0[i]
    }

    /// `a` waits, directly or not, for `b`.
    fn waits_for(s: &Steps, a: Op, b: Op) -> bool {
        s.waits_for(a, b)
    }

    fn well_ordered(s: &Steps) {
        for (i, st) in s.0.iter().enumerate() {
            assert!(st.after.iter().all(|d| *d < i), "{i}: {st:?}");
        }
    }

    #[test]
    fn a_create_makes_every_part_in_dependency_order() {
        let want = known_state("orders");
        let s = converge(&want, None, Facts::default());
        well_ordered(&s);
        use Part::*;
        assert_eq!(
            s.ops(),
            [
                Op::BuildPackage,
                Op::Create(Bucket),
                Op::Create(Role),
                Op::Create(Policy),
                Op::Create(LogGroup),
                Op::Create(Function),
                Op::Create(Permission),
                Op::AwaitActive,
                Op::Create(Notification),
            ]
        );
        // A package that may be large is staged in the bucket, once it is
        // there, and the function made from it; older ones go after.
        let large = Facts {
            may_stage: true,
            ..Facts::default()
        };
        let st = converge(&want, None, large);
        well_ordered(&st);
        assert!(waits_for(&st, Op::StagePackage, Op::Create(Bucket)));
        assert!(waits_for(&st, Op::StagePackage, Op::BuildPackage));
        assert!(waits_for(&st, Op::Create(Function), Op::StagePackage));
        assert!(waits_for(&st, Op::PruneStaged, Op::Create(Function)));
        // In a package bucket: no wait for the pipeline's own.
        let mut elsewhere = want.clone();
        elsewhere.function.package_bucket = Some("packages".into());
        let st = converge(&elsewhere, None, large);
        assert!(!waits_for(&st, Op::StagePackage, Op::Create(Bucket)));
        assert!(!waits_for(&st, Op::Create(Function), Op::Create(Bucket)));
        // The log group is there before the function, off the role's path.
        assert!(waits_for(&s, Op::Create(Function), Op::Create(LogGroup)));
        assert!(step(&s, Op::Create(LogGroup)).after.is_empty());
        // The bucket and the role chain start at once, side by side.
        assert!(step(&s, Op::Create(Bucket)).after.is_empty());
        assert!(step(&s, Op::Create(Role)).after.is_empty());
        assert!(step(&s, Op::BuildPackage).after.is_empty());
        assert!(waits_for(&s, Op::Create(Function), Op::Create(Policy)));
        assert!(waits_for(&s, Op::Create(Function), Op::BuildPackage));
        assert!(!waits_for(&s, Op::Create(Function), Op::Create(Bucket)));
        // The permission needs only the function.
        assert_eq!(
            step(&s, Op::Create(Permission)).after,
            [s.find(Op::Create(Function)).unwrap()]
        );
        let n = Op::Create(Notification);
        assert!(waits_for(&s, n, Op::Create(Bucket)) && waits_for(&s, n, Op::Create(Permission)));
        // The wait for Active is not on the notification's path.
        assert!(!waits_for(&s, n, Op::AwaitActive));
    }

    #[test]
    fn a_zip_with_dependencies_is_built_before_any_part_is_made_or_changed() {
        use Part::*;
        let want = known_state("orders");
        // Its size is learnt by installing the dependencies: over Lambda's
        // limit, the apply stops before anything is made.
        let deps = Facts {
            may_stage: true,
            ..Facts::default()
        };
        let s = converge(&want, None, deps);
        well_ordered(&s);
        assert_eq!(s.ops()[0], Op::BuildPackage, "{:#?}", s.ops());
        for st in &s.0[1..] {
            assert!(waits_for(&s, st.op, Op::BuildPackage), "{st:?}");
        }
        // An update whose code changed: the tags wait for the build too.
        let mut edited = want.clone();
        edited.source_code_hash = "other".into();
        edited.tags_all.insert("team".into(), "ml".into());
        let facts = Facts {
            may_stage: true,
            ..Facts::of(&want)
        };
        let s = converge(&edited, Some(&want), facts);
        well_ordered(&s);
        assert!(waits_for(
            &s,
            Op::Update(Bucket, Change::Tags),
            Op::BuildPackage
        ));
        // A small zip without dependencies is built beside the first parts.
        let s = converge(&want, None, Facts::default());
        assert!(step(&s, Op::Create(Bucket)).after.is_empty());
        assert!(step(&s, Op::BuildPackage).after.is_empty());
    }

    #[test]
    fn an_unchanged_pipeline_needs_no_steps() {
        let want = known_state("orders");
        let s = converge(&want, Some(&want), Facts::of(&want));
        assert!(s.is_empty(), "{:?}", s.ops());
    }

    #[test]
    fn each_kind_of_update_touches_only_what_changed() {
        let prior = known_state("orders");
        let with = |f: &dyn Fn(&mut State<Known>)| {
            let mut w = prior.clone();
            f(&mut w);
            converge(&w, Some(&prior), Facts::of(&prior)).ops()
        };
        use Part::*;
        assert_eq!(
            with(&|w| w.function.memory_size = 1024),
            [Op::Update(Function, Change::Settings)]
        );
        assert_eq!(
            with(&|w| w.source_code_hash = "cd".repeat(32)),
            [
                Op::BuildPackage,
                Op::Update(Function, Change::Code),
                // The source-hash tag follows the code.
                Op::Update(Function, Change::Tags),
            ]
        );
        assert_eq!(
            with(&|w| w.require_tls = false),
            [Op::Update(Bucket, Change::TlsPolicy)]
        );
        assert_eq!(
            with(&|w| w.policy_json = "{\"v\":2}".into()),
            [Op::Update(Policy, Change::Document)]
        );
        assert_eq!(
            with(&|w| {
                w.tags_all.insert("cost".into(), "1".into());
            }),
            [
                Op::Update(Bucket, Change::Tags),
                Op::Update(Role, Change::Tags),
                Op::Update(LogGroup, Change::Tags),
                Op::Update(Function, Change::Tags),
            ]
        );
        assert_eq!(
            with(&|w| w.trigger[0].filter_prefix = Some("in/".into())),
            [Op::Update(Notification, Change::Triggers)]
        );
        // An empty prefix is the same as none.
        assert!(with(&|w| w.trigger[0].filter_suffix = Some(String::new())).is_empty());
    }

    #[test]
    fn a_new_name_retags_every_part_and_rewrites_the_notifications_in_place() {
        use Part::*;
        let prior = streaming_with_everything("orders");
        let mut want = prior.clone();
        want.name = "sales".into();
        want.id = "sales".into();
        want.notification_ids = vec!["eventpipe-sales-0".into()];
        let s = converge(&want, Some(&prior), Facts::of(&prior));
        well_ordered(&s);
        let ops = s.ops();
        for op in [
            Op::Update(Bucket, Change::Tags),
            Op::Update(Role, Change::Tags),
            Op::Update(LogGroup, Change::Tags),
            Op::Update(Function, Change::Tags),
            Op::Update(FailureQueue, Change::Tags),
            Op::Update(Stream, Change::Tags),
            Op::Update(Notification, Change::Triggers),
        ] {
            assert!(ops.contains(&op), "{op} missing from {ops:?}");
        }
        // Nothing is made, deleted or replaced.
        for op in &ops {
            assert!(
                matches!(op, Op::Update(_, Change::Tags | Change::Triggers)),
                "{op} in {ops:?}"
            );
        }
        // The tags alone (a new default tag) retag the same parts, but the
        // notifications stay.
        let mut tagged = prior.clone();
        tagged.tags_all.insert("cost".into(), "1".into());
        let ops = converge(&tagged, Some(&prior), Facts::of(&prior)).ops();
        assert!(!ops.contains(&Op::Update(Notification, Change::Triggers)));
        assert!(
            ops.contains(&Op::Update(FailureQueue, Change::Tags)),
            "{ops:?}"
        );
    }

    /// `prior` under the name `name`, with every part that takes its name
    /// from it renamed (as the plan gives it) and what AWS names unknown.
    fn under_new_name(prior: &State<Known>, name: &str) -> State<Known> {
        let mut s = known_state(name);
        for (from, to) in [
            (&prior.bucket_name, &mut s.bucket_name),
            (&prior.bucket_arn, &mut s.bucket_arn),
        ] {
            to.clone_from(from);
        }
        s.stream = prior.stream.clone();
        s.on_failure = prior.on_failure.clone();
        s.delivery = prior.delivery.clone();
        s.s3_permission_id = prior.s3_permission_id.clone();
        let arn = |kind: &str, of: &str| format!("arn:aws:{kind}:us-east-1:123456789012:{of}");
        if prior.stream_name.is_some() {
            s.stream_name = Some(name.into());
            s.stream_arn = Some(arn("kinesis", &format!("stream/{name}")));
        }
        if prior.failure_queue_arn.is_some() {
            s.failure_queue_arn = Some(arn("sqs", &format!("{name}-failed")));
        }
        if prior.event_queue_arn.is_some() {
            s.event_queue_arn = Some(arn("sqs", &format!("{name}-events")));
        }
        s
    }

    #[test]
    fn a_new_name_makes_the_parts_named_after_it_before_the_old_ones_go() {
        use Part::*;
        let prior = streaming_with_everything("orders");
        let want = under_new_name(&prior, "sales");
        assert_eq!(
            renamed(&want, Some(&prior)),
            PartSet::from([
                Role,
                Policy,
                Function,
                Permission,
                LogGroup,
                FailureQueue,
                InvokeConfig,
                Stream,
                StreamMapping
            ])
        );
        let s = converge(&want, Some(&prior), Facts::of(&prior));
        well_ordered(&s);
        let ops = s.ops();
        // A queue that holds failed events is never replaced silently:
        // the check runs first, and everything waits for it.
        assert_eq!(ops[0], Op::CheckQueueEmpty, "{ops:?}");
        for op in ops.iter().skip(1) {
            assert!(waits_for(&s, *op, Op::CheckQueueEmpty), "{op}");
        }
        // New parts under the new name, with what depends on them.
        for op in [
            Op::Recreate(Role),
            Op::Recreate(Policy),
            Op::Recreate(LogGroup),
            Op::Recreate(Function),
            Op::Recreate(Permission),
            Op::Create(InvokeConfig),
            Op::Recreate(FailureQueue),
            Op::Recreate(Stream),
            Op::Create(StreamMapping),
            Op::Update(Notification, Change::Triggers),
            Op::Update(Bucket, Change::Tags),
            // The old parts, by their old names.
            Op::DeleteOld(Function),
            Op::DeleteOld(Role),
            Op::DeleteOld(LogGroup),
            Op::DeleteOld(FailureQueue),
            Op::DeleteOld(Stream),
            Op::Delete(StreamMapping),
        ] {
            assert!(ops.contains(&op), "{op} missing from {ops:?}");
        }
        // Nothing of the pipeline is deleted by its new name, and the
        // bucket stays.
        for op in &ops {
            assert!(!matches!(op, Op::Delete(p) if *p != StreamMapping), "{op}");
        }
        assert!(!ops.contains(&Op::DeleteOld(Bucket)));
        // The old function goes once nothing names it: the notifications
        // are rewritten (and read back) to the new one, its mapping is
        // gone, and the new function with its permission is there.
        let old_function = Op::DeleteOld(Function);
        for before in [
            Op::Update(Notification, Change::Triggers),
            Op::Delete(StreamMapping),
            Op::Recreate(Function),
            Op::Recreate(Permission),
            Op::Create(InvokeConfig),
        ] {
            assert!(waits_for(&s, old_function, before), "{before}");
        }
        // The notifications name the new function once it may be invoked.
        let notification = Op::Update(Notification, Change::Triggers);
        assert!(waits_for(&s, notification, Op::Recreate(Permission)));
        // The old role goes after the function that used it.
        assert!(waits_for(&s, Op::DeleteOld(Role), old_function));
        assert!(waits_for(&s, Op::DeleteOld(Role), Op::Recreate(Function)));
        // The old log group once the old function writes no more.
        assert!(waits_for(&s, Op::DeleteOld(LogGroup), old_function));
        // The old failure queue once nothing sends to it.
        for before in [
            Op::Create(InvokeConfig),
            Op::Create(StreamMapping),
            old_function,
        ] {
            assert!(
                waits_for(&s, Op::DeleteOld(FailureQueue), before),
                "{before}"
            );
        }
        // The old stream once its mapping is gone.
        assert!(waits_for(
            &s,
            Op::DeleteOld(Stream),
            Op::Delete(StreamMapping)
        ));
        // With on_failure.force_delete, no check.
        let mut forced = prior.clone();
        if let Some(f) = &mut forced.on_failure {
            f.force_delete = true;
        }
        let mut want_forced = want.clone();
        want_forced.on_failure.clone_from(&forced.on_failure);
        let s = converge(&want_forced, Some(&forced), Facts::of(&forced));
        assert!(s.find(Op::CheckQueueEmpty).is_none());
        assert!(s.find(Op::DeleteOld(FailureQueue)).is_some());
        // Named explicitly, the function and role stay: only the queue and
        // the stream are new.
        let mut named = want.clone();
        named.function_name.clone_from(&prior.function_name);
        named.function_arn.clone_from(&prior.function_arn);
        named.log_group_name.clone_from(&prior.log_group_name);
        named.role_name.clone_from(&prior.role_name);
        named.role_arn.clone_from(&prior.role_arn);
        assert_eq!(
            renamed(&named, Some(&prior)),
            PartSet::from([FailureQueue, Stream, StreamMapping])
        );
        let s = converge(&named, Some(&prior), Facts::of(&prior));
        let ops = s.ops();
        assert!(
            !ops.iter()
                .any(|o| matches!(o, Op::DeleteOld(Function | Role | LogGroup)))
        );
        assert!(
            ops.contains(&Op::Update(InvokeConfig, Change::Settings)),
            "{ops:?}"
        );
        assert!(waits_for(
            &s,
            Op::DeleteOld(FailureQueue),
            Op::Update(InvokeConfig, Change::Settings)
        ));
    }

    #[test]
    fn parts_gone_out_of_band_are_made_again_not_deleted_under_an_old_name() {
        use Part::*;
        let prior = streaming_with_everything("orders");
        // Without a new name: nothing is renamed, whatever the refresh found.
        let mut drifted = prior.clone();
        for p in [LogGroup, Stream, FailureQueue, Function] {
            drifted.mark_missing(p);
        }
        assert!(renamed(&prior, Some(&drifted)).is_empty());
        let ops = converge(&prior, Some(&drifted), Facts::of(&drifted)).ops();
        assert!(
            !ops.iter().any(|o| matches!(o, Op::DeleteOld(_))),
            "{ops:?}"
        );
        // With one, a part already gone has nothing to delete: it is made
        // under the new name.
        let want = under_new_name(&prior, "sales");
        let mut gone = prior.clone();
        gone.mark_missing(LogGroup);
        gone.mark_missing(Stream);
        let r = renamed(&want, Some(&gone));
        assert!(!r.contains(LogGroup) && !r.contains(Stream), "{r:?}");
        let s = converge(&want, Some(&gone), Facts::of(&gone));
        let ops = s.ops();
        for op in [Op::Recreate(LogGroup), Op::Recreate(Stream)] {
            assert!(ops.contains(&op), "{op} missing from {ops:?}");
        }
        for op in [Op::DeleteOld(LogGroup), Op::DeleteOld(Stream)] {
            assert!(!ops.contains(&op), "{op} in {ops:?}");
        }
    }

    #[test]
    fn a_new_role_name_alone_moves_the_function_to_the_new_role_before_the_old_one_goes() {
        use Part::*;
        let prior = known_state("orders");
        let mut want = under_new_name(&prior, "sales");
        want.function_name.clone_from(&prior.function_name);
        want.function_arn.clone_from(&prior.function_arn);
        want.log_group_name.clone_from(&prior.log_group_name);
        assert_eq!(renamed(&want, Some(&prior)), PartSet::from([Role, Policy]));
        let s = converge(&want, Some(&prior), Facts::of(&prior));
        well_ordered(&s);
        let settings = Op::Update(Function, Change::Settings);
        assert!(waits_for(&s, settings, Op::Recreate(Policy)));
        assert!(waits_for(&s, Op::DeleteOld(Role), settings));
        assert!(s.find(Op::DeleteOld(Function)).is_none(), "{:?}", s.ops());
    }

    #[test]
    fn a_new_name_makes_a_new_event_queue_before_the_old_one_and_its_mapping_go() {
        use Part::*;
        let prior = queued("orders");
        let want = under_new_name(&prior, "sales");
        let s = converge(&want, Some(&prior), Facts::of(&prior));
        well_ordered(&s);
        let ops = s.ops();
        for op in [
            Op::Recreate(EventQueue),
            Op::Recreate(EventQueueMapping),
            Op::Update(Notification, Change::Triggers),
            Op::Delete(EventQueueMapping),
            Op::DeleteOld(EventQueue),
            Op::DeleteOld(Function),
        ] {
            assert!(ops.contains(&op), "{op} missing from {ops:?}");
        }
        // S3 notifies the new queue before the old one's mapping goes.
        let notification = Op::Update(Notification, Change::Triggers);
        assert!(waits_for(&s, Op::Delete(EventQueueMapping), notification));
        assert!(waits_for(&s, notification, Op::Recreate(EventQueueMapping)));
        assert!(waits_for(
            &s,
            Op::DeleteOld(EventQueue),
            Op::Delete(EventQueueMapping)
        ));
        assert!(waits_for(
            &s,
            Op::DeleteOld(Function),
            Op::Delete(EventQueueMapping)
        ));
        // No permission for S3 with queue delivery, old or new.
        assert!(!ops.iter().any(|o| matches!(o, Op::Recreate(Permission))));
    }

    /// A pipeline with a failure queue and a stream of its own.
    fn streaming_with_everything(name: &str) -> State<Known> {
        use crate::pipeline::state::OnFailure;
        let mut s = streaming(name);
        s.on_failure = Some(OnFailure {
            maximum_retry_attempts: Some(2),
            maximum_event_age: Some(21_600),
            queue_arn: None,
            force_delete: false,
        });
        s.failure_queue_arn = Some(format!("arn:aws:sqs:us-east-1:123456789012:{name}-failed"));
        s.failure_queue_url = Some(format!("https://sqs/{name}-failed"));
        s
    }

    #[test]
    fn on_failure_force_delete_lets_the_failure_queue_go_without_the_check() {
        use Part::*;
        let mut want = streaming_with_everything("orders");
        want.create_bucket = false;
        let prior = want.clone();
        // Removing the block: the prior block's switch decides.
        let mut without = prior.clone();
        without.on_failure = None;
        without.failure_queue_arn = None;
        without.failure_queue_url = None;
        let s = converge(&without, Some(&prior), Facts::of(&prior));
        assert_eq!(s.ops()[0], Op::CheckQueueEmpty, "{:?}", s.ops());
        let mut forced = prior.clone();
        if let Some(f) = &mut forced.on_failure {
            f.force_delete = true;
        }
        let s = converge(&without, Some(&forced), Facts::of(&forced));
        assert!(s.find(Op::CheckQueueEmpty).is_none(), "{:?}", s.ops());
        assert!(s.find(Op::Delete(FailureQueue)).is_some());
        // Pointing the block at a queue of one's own: the block as it is now.
        let mut theirs = forced.clone();
        if let Some(f) = &mut theirs.on_failure {
            f.queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:theirs".into());
            f.force_delete = false;
        }
        let s = converge(&theirs, Some(&forced), Facts::of(&forced));
        assert_eq!(s.ops()[0], Op::CheckQueueEmpty, "{:?}", s.ops());
        // A destroy still checks first (the check reads the switch).
        assert!(destroy(&forced).find(Op::CheckDeletable).is_some());
        assert!(forced.may_delete_failed_events(None));
        assert!(!prior.may_delete_failed_events(None));
    }

    #[test]
    fn a_part_gone_out_of_band_is_made_again_with_what_depends_on_it() {
        let prior = known_state("orders");
        let mut refreshed = prior.clone();
        refreshed.mark_missing(Part::Function);
        refreshed.mark_missing(Part::Permission);
        let s = converge(&prior, Some(&refreshed), Facts::of(&refreshed));
        well_ordered(&s);
        use Part::*;
        assert_eq!(
            s.ops(),
            [
                Op::BuildPackage,
                Op::Recreate(Function),
                Op::Recreate(Permission),
                Op::AwaitActive,
                Op::Update(Notification, Change::Triggers),
            ]
        );
        // A missing permission alone is added back, nothing else.
        let mut refreshed = prior.clone();
        refreshed.mark_missing(Part::Permission);
        let s = converge(&prior, Some(&refreshed), Facts::of(&refreshed));
        assert_eq!(s.ops(), [Op::Recreate(Permission)]);
        // A deleted role comes back with its policy before anything else.
        let mut refreshed = prior.clone();
        refreshed.mark_missing(Part::Role);
        refreshed.mark_missing(Part::Policy);
        let s = converge(&prior, Some(&refreshed), Facts::of(&refreshed));
        assert_eq!(
            s.ops(),
            [
                Op::Recreate(Role),
                Op::Recreate(Policy),
                // The refresh recorded no role ARN on the function.
                Op::Update(Function, Change::Settings),
            ]
        );
        assert!(waits_for(&s, Op::Recreate(Policy), Op::Recreate(Role)));
        assert!(waits_for(
            &s,
            Op::Update(Function, Change::Settings),
            Op::Recreate(Policy)
        ));
        // Notifications removed out of band are written again.
        let mut refreshed = prior.clone();
        refreshed.mark_missing(Part::Notification);
        let s = converge(&prior, Some(&refreshed), Facts::of(&refreshed));
        assert_eq!(s.ops(), [Op::Recreate(Notification)]);
    }

    #[test]
    fn a_pipeline_adopted_by_import_is_claimed_in_place() {
        let want = known_state("orders");
        let mut prior = want.clone();
        // What import recorded of the hand-wired pipeline.
        prior.s3_permission_id = "hand-made".into();
        prior.notification_ids = vec!["hand-made-config".into()];
        prior.policy_json = "{\"old\":1}".into();
        prior.create_bucket = false;
        let facts = Facts {
            present: prior.present(),
            unclaimed: PartSet::from([Part::Role, Part::Function]),
            backfill_pending: false,
            may_stage: false,
        };
        let s = converge(&want, Some(&prior), facts);
        well_ordered(&s);
        use Part::*;
        assert_eq!(
            s.ops(),
            [
                // create_bucket = true in the config: take the bucket over.
                Op::Adopt(Bucket),
                Op::Adopt(Role),
                Op::Update(Policy, Change::Document),
                Op::Adopt(Function),
                Op::Update(Permission, Change::Statement),
                Op::Update(Notification, Change::Triggers),
                Op::Retire(Permission),
            ]
        );
        // The old statement goes only once the new one and the new
        // notifications are there.
        let retire = Op::Retire(Permission);
        assert!(waits_for(
            &s,
            retire,
            Op::Update(Notification, Change::Triggers)
        ));
        assert!(waits_for(
            &s,
            retire,
            Op::Update(Permission, Change::Statement)
        ));
        // Nothing is made: every part is changed in place.
        assert!(
            s.ops()
                .iter()
                .all(|op| !matches!(op, Op::Create(_) | Op::Recreate(_)))
        );
    }

    #[test]
    fn an_adopted_function_s_code_is_compared_after_the_adopt_step_reads_it() {
        let want = known_state("orders");
        let mut prior = want.clone();
        // The import cannot know the source hash.
        prior.source_code_hash = String::new();
        let facts = Facts {
            present: prior.present(),
            unclaimed: PartSet::from([Part::Role, Part::Function]),
            backfill_pending: false,
            may_stage: false,
        };
        let s = converge(&want, Some(&prior), facts);
        let code = Op::Update(Part::Function, Change::Code);
        assert!(
            waits_for(&s, code, Op::Adopt(Part::Function)),
            "{:?}",
            s.ops()
        );
        assert!(waits_for(&s, code, Op::BuildPackage));
    }

    #[test]
    fn a_bucket_the_pipeline_does_not_manage_is_never_made_or_deleted() {
        let mut want = known_state("orders");
        want.create_bucket = false;
        let s = converge(&want, None, Facts::default());
        assert!(s.find(Op::Create(Part::Bucket)).is_none(), "{:?}", s.ops());
        assert!(s.find(Op::Create(Part::Notification)).is_some());
        let d = destroy(&want);
        assert_eq!(
            d.ops(),
            [
                Op::Delete(Part::Notification),
                Op::DeleteStaged,
                Op::Delete(Part::Function),
                Op::Delete(Part::Role),
                Op::Delete(Part::LogGroup),
            ]
        );
        // Letting go of a bucket the pipeline made: its tags go (and the
        // function's tag that records who manages the bucket changes).
        let prior = known_state("orders");
        let s = converge(&want, Some(&prior), Facts::of(&prior));
        let tags = Op::Update(Part::Function, Change::Tags);
        assert_eq!(s.ops(), [Op::Release(Part::Bucket), tags]);
        // And taking it over again.
        let s = converge(&prior, Some(&want), Facts::of(&want));
        assert_eq!(s.ops(), [Op::Adopt(Part::Bucket), tags]);
    }

    #[test]
    fn failure_handling_adds_a_queue_and_an_invoke_config_beside_the_chain() {
        use crate::pipeline::state::OnFailure;
        let mut want = known_state("orders");
        want.on_failure = Some(OnFailure {
            maximum_retry_attempts: Some(1),
            maximum_event_age: Some(3600),
            queue_arn: None,
            force_delete: false,
        });
        want.failure_queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:orders-failed".into());
        want.failure_queue_url = Some("https://sqs.us-east-1.amazonaws.com/1/orders-failed".into());
        want.function.reserved_concurrency = Some(5);
        let s = converge(&want, None, Facts::default());
        well_ordered(&s);
        use Part::*;
        let invoke = Op::Create(InvokeConfig);
        assert!(waits_for(&s, invoke, Op::Create(FailureQueue)));
        assert!(waits_for(&s, invoke, Op::Create(Function)));
        // Neither the queue nor the invoke config is on the notification's path.
        assert!(!waits_for(
            &s,
            Op::Create(Notification),
            Op::Create(FailureQueue)
        ));
        assert!(!waits_for(&s, Op::Create(Notification), invoke));
        assert!(step(&s, Op::Create(FailureQueue)).after.is_empty());
        assert!(waits_for(
            &s,
            Op::Update(Function, Change::Concurrency),
            Op::Create(Function)
        ));
        // Changing the retries updates the invoke config alone.
        let mut fewer = want.clone();
        if let Some(f) = &mut fewer.on_failure {
            f.maximum_retry_attempts = Some(0);
        }
        assert_eq!(
            converge(&fewer, Some(&want), Facts::of(&want)).ops(),
            [Op::Update(InvokeConfig, Change::Settings)]
        );
        // Dropping on_failure removes the invoke config, then the queue;
        // first of all, without force_destroy, it checks the queue holds
        // no failed event, so a refusal changes nothing.
        let none = known_state("orders");
        let s = converge(&none, Some(&want), Facts::of(&want));
        well_ordered(&s);
        assert!(waits_for(
            &s,
            Op::Delete(FailureQueue),
            Op::Delete(InvokeConfig)
        ));
        assert_eq!(s.ops()[0], Op::CheckQueueEmpty, "{:?}", s.ops());
        for op in &s.ops()[1..] {
            assert!(waits_for(&s, *op, Op::CheckQueueEmpty), "{op}");
        }
        let mut forced = none.clone();
        forced.force_destroy = true;
        let s = converge(&forced, Some(&want), Facts::of(&want));
        assert!(s.find(Op::CheckQueueEmpty).is_none(), "{:?}", s.ops());
        assert!(s.find(Op::Delete(FailureQueue)).is_some());
        // A destroy refuses while the queue holds events (the check), and
        // removes the queue after the function.
        let d = destroy(&want);
        assert!(waits_for(&d, Op::Delete(FailureQueue), Op::CheckDeletable));
        assert!(waits_for(
            &d,
            Op::Delete(FailureQueue),
            Op::Delete(Function)
        ));
    }

    fn streaming(name: &str) -> State<Known> {
        let mut s = known_state(name);
        s.stream = Some(crate::pipeline::state::tests::stream_block());
        s.stream_arn = Some(format!(
            "arn:aws:kinesis:us-east-1:123456789012:stream/{name}"
        ));
        s.stream_name = Some(name.into());
        s.stream_mapping_id = Some("uuid-1".into());
        s
    }

    #[test]
    fn a_stream_is_made_beside_the_chain_and_read_once_the_function_is_there() {
        use Part::*;
        let want = streaming("orders");
        let s = converge(&want, None, Facts::default());
        well_ordered(&s);
        assert!(step(&s, Op::Create(Stream)).after.is_empty());
        let mapping = Op::Create(StreamMapping);
        assert!(waits_for(&s, mapping, Op::Create(Stream)));
        assert!(waits_for(&s, mapping, Op::Create(Function)));
        assert!(waits_for(&s, mapping, Op::Create(Policy)));
        // A batch size change updates the mapping alone.
        let mut bigger = want.clone();
        if let Some(st) = &mut bigger.stream {
            st.batch_size = 500;
        }
        assert_eq!(
            converge(&bigger, Some(&want), Facts::of(&want)).ops(),
            [Op::Update(StreamMapping, Change::Settings)]
        );
        // A deleted mapping is made again.
        let mut drifted = want.clone();
        drifted.mark_missing(StreamMapping);
        assert_eq!(
            converge(&want, Some(&drifted), Facts::of(&drifted)).ops(),
            [Op::Recreate(StreamMapping)]
        );
        // A new starting position makes the mapping again, after the old
        // one goes; the stream stays.
        let mut oldest = want.clone();
        if let Some(st) = &mut oldest.stream {
            st.starting_position = "TRIM_HORIZON".into();
        }
        let s = converge(&oldest, Some(&want), Facts::of(&want));
        assert_eq!(
            s.ops(),
            [Op::Delete(StreamMapping), Op::Create(StreamMapping)]
        );
        assert!(waits_for(
            &s,
            Op::Create(StreamMapping),
            Op::Delete(StreamMapping)
        ));
        // A destroy removes the mapping, then the stream; an existing
        // stream the pipeline reads stays.
        let d = destroy(&want);
        assert!(waits_for(&d, Op::Delete(Stream), Op::Delete(StreamMapping)));
        let mut theirs = want.clone();
        if let Some(st) = &mut theirs.stream {
            st.arn = theirs.stream_arn.clone();
        }
        let d = destroy(&theirs);
        assert!(d.find(Op::Delete(Stream)).is_none(), "{:?}", d.ops());
        assert!(d.find(Op::Delete(StreamMapping)).is_some());
    }

    #[test]
    fn a_failure_queue_dropped_goes_once_the_mappings_and_event_queue_no_longer_send_to_it() {
        use crate::pipeline::state::OnFailure;
        use Part::*;
        let with_failures = |mut s: State<Known>| {
            s.on_failure = Some(OnFailure {
                maximum_retry_attempts: Some(2),
                maximum_event_age: Some(21_600),
                queue_arn: None,
                force_delete: false,
            });
            s.failure_queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:orders-failed".into());
            s.failure_queue_url = Some("https://sqs/orders-failed".into());
            s
        };
        let prior = with_failures(streaming("orders"));
        let s = converge(&streaming("orders"), Some(&prior), Facts::of(&prior));
        well_ordered(&s);
        let mapping = Op::Update(StreamMapping, Change::Settings);
        assert!(
            waits_for(&s, Op::Delete(FailureQueue), mapping),
            "{:?}",
            s.ops()
        );
        assert!(waits_for(
            &s,
            Op::Delete(FailureQueue),
            Op::Delete(InvokeConfig)
        ));
        let prior = with_failures(queued("orders"));
        let s = converge(&queued("orders"), Some(&prior), Facts::of(&prior));
        well_ordered(&s);
        let redrive = Op::Update(EventQueue, Change::Settings);
        assert!(
            waits_for(&s, Op::Delete(FailureQueue), redrive),
            "{:?}",
            s.ops()
        );
    }

    fn queued(name: &str) -> State<Known> {
        let mut s = known_state(name);
        s.delivery = crate::pipeline::state::DELIVERY_QUEUE.into();
        s.s3_permission_id = String::new();
        s.event_queue_arn = Some(format!("arn:aws:sqs:us-east-1:123456789012:{name}-events"));
        s.event_queue_url = Some(format!("https://sqs/{name}-events"));
        s.queue_mapping_id = Some("uuid-2".into());
        s
    }

    #[test]
    fn queue_delivery_notifies_the_queue_and_grants_s3_nothing_on_the_function() {
        use Part::*;
        let want = queued("orders");
        let s = converge(&want, None, Facts::default());
        well_ordered(&s);
        assert!(s.find(Op::Create(Permission)).is_none(), "{:?}", s.ops());
        let n = Op::Create(Notification);
        assert!(waits_for(&s, n, Op::Create(EventQueue)));
        assert!(waits_for(&s, n, Op::Create(EventQueueMapping)));
        assert!(waits_for(
            &s,
            Op::Create(EventQueueMapping),
            Op::Create(Policy)
        ));
    }

    #[test]
    fn switching_delivery_makes_the_new_path_before_the_old_one_goes() {
        use Part::*;
        let direct = known_state("orders");
        let queue = queued("orders");
        // direct → queue
        let s = converge(&queue, Some(&direct), Facts::of(&direct));
        well_ordered(&s);
        let n = Op::Update(Notification, Change::Triggers);
        assert!(waits_for(&s, n, Op::Create(EventQueue)));
        assert!(waits_for(&s, n, Op::Create(EventQueueMapping)));
        assert!(waits_for(&s, Op::Delete(Permission), n));
        // queue → direct
        let s = converge(&direct, Some(&queue), Facts::of(&queue));
        well_ordered(&s);
        assert!(waits_for(&s, n, Op::Create(Permission)));
        assert!(waits_for(&s, Op::Delete(EventQueueMapping), n));
        assert!(waits_for(
            &s,
            Op::Delete(EventQueue),
            Op::Delete(EventQueueMapping)
        ));
        // Nothing is replaced: every other part stays as it is.
        for op in s.ops() {
            assert!(
                !matches!(
                    op,
                    Op::Create(Bucket) | Op::Create(Function) | Op::Delete(Bucket)
                ),
                "{op}"
            );
        }
    }

    /// A switch that failed after the notification moved: the refresh
    /// reads the new delivery from the bucket, and the old way in is still
    /// recorded. The next apply finishes the switch.
    #[test]
    fn a_switch_of_delivery_stopped_half_way_is_finished_by_the_next_apply() {
        use Part::*;
        let direct = known_state("orders");
        let queue = queued("orders");
        // queue → direct, stopped before the mapping went.
        let mut half = queue.clone();
        half.delivery = direct.delivery.clone();
        let s = converge(&direct, Some(&half), Facts::of(&half));
        well_ordered(&s);
        assert!(
            s.find(Op::Delete(EventQueueMapping)).is_some(),
            "{:?}",
            s.ops()
        );
        assert!(waits_for(
            &s,
            Op::Delete(EventQueue),
            Op::Delete(EventQueueMapping)
        ));
        // … or after the mapping went, before the queue did.
        let mut later = half.clone();
        later.mark_missing(EventQueueMapping);
        let s = converge(&direct, Some(&later), Facts::of(&later));
        assert!(
            s.find(Op::Delete(EventQueueMapping)).is_none(),
            "{:?}",
            s.ops()
        );
        assert!(s.find(Op::Delete(EventQueue)).is_some(), "{:?}", s.ops());
        // direct → queue, stopped before the permission went.
        let mut half = direct.clone();
        half.delivery = queue.delivery.clone();
        let s = converge(&queue, Some(&half), Facts::of(&half));
        assert!(s.find(Op::Delete(Permission)).is_some(), "{:?}", s.ops());
        // A switch that finished leaves nothing to delete.
        let s = converge(&direct, Some(&direct), Facts::of(&direct));
        assert!(s.is_empty(), "{:?}", s.ops());
    }

    #[test]
    fn backfill_runs_for_new_pipelines_and_new_triggers_only() {
        let mut want = known_state("orders");
        want.backfill = true;
        let s = converge(&want, None, Facts::default());
        assert!(waits_for(&s, Op::Backfill, Op::Create(Part::Notification)));
        assert!(waits_for(&s, Op::Backfill, Op::AwaitActive));
        let s = converge(&want, Some(&want), Facts::of(&want));
        assert!(s.is_empty(), "{:?}", s.ops());
        let mut more = want.clone();
        more.trigger.push(crate::pipeline::state::Trigger {
            events: vec!["s3:ObjectCreated:*".into()],
            filter_prefix: Some("more/".into()),
            filter_suffix: None,
        });
        more.notification_ids.push("eventpipe-orders-1".into());
        let s = converge(&more, Some(&want), Facts::of(&want));
        assert!(s.find(Op::Backfill).is_some(), "{:?}", s.ops());
        let pending = Facts {
            backfill_pending: true,
            ..Facts::of(&want)
        };
        assert_eq!(converge(&want, Some(&want), pending).ops(), [Op::Backfill]);
    }

    #[test]
    fn a_destroy_checks_first_and_removes_notifications_before_the_bucket() {
        let s = destroy(&known_state("orders"));
        well_ordered(&s);
        use Part::*;
        assert_eq!(
            s.ops(),
            [
                Op::CheckDeletable,
                Op::Delete(Notification),
                Op::DeleteStaged,
                Op::Delete(Bucket),
                Op::Delete(Function),
                Op::Delete(Role),
                Op::Delete(LogGroup),
            ]
        );
        // The log group goes once the function cannot write to it.
        assert!(waits_for(&s, Op::Delete(LogGroup), Op::Delete(Function)));
        for op in &s.ops()[1..] {
            assert!(waits_for(&s, *op, Op::CheckDeletable), "{op}");
        }
        assert!(waits_for(&s, Op::Delete(Bucket), Op::Delete(Notification)));
        // The function goes only once no notification names it any more.
        assert!(waits_for(
            &s,
            Op::Delete(Function),
            Op::Delete(Notification)
        ));
        // Staged packages in the bucket go before it.
        assert!(waits_for(&s, Op::Delete(Bucket), Op::DeleteStaged));
        assert!(!waits_for(&s, Op::Delete(Role), Op::Delete(Function)));
        // force_destroy empties the bucket first.
        let mut forced = known_state("orders");
        forced.force_destroy = true;
        let s = destroy(&forced);
        well_ordered(&s);
        assert!(waits_for(&s, Op::Delete(Bucket), Op::EmptyBucket));
        assert!(waits_for(&s, Op::EmptyBucket, Op::Delete(Notification)));
    }

    #[test]
    fn a_function_goes_only_after_its_notifications_are_off_the_bucket() {
        use Part::*;
        // On a shared bucket (not the pipeline's), by destroy, with either
        // delivery: S3 refuses every write of a document that names a
        // function or queue that is gone.
        let mut shared = known_state("orders");
        shared.create_bucket = false;
        let mut queue_shared = queued("orders");
        queue_shared.create_bucket = false;
        for prior in [
            known_state("orders"),
            shared,
            queued("orders"),
            queue_shared,
        ] {
            let s = destroy(&prior);
            well_ordered(&s);
            assert!(
                waits_for(&s, Op::Delete(Function), Op::Delete(Notification)),
                "{:?}",
                s.ops()
            );
            if prior.queued() {
                assert!(waits_for(
                    &s,
                    Op::Delete(EventQueue),
                    Op::Delete(Notification)
                ));
            }
        }
        // By a roll-back of a create that got as far as the notification.
        let s = roll_back(PartSet::from([
            Role,
            Policy,
            Function,
            Permission,
            Notification,
        ]));
        well_ordered(&s);
        assert!(waits_for(
            &s,
            Op::Delete(Function),
            Op::Delete(Notification)
        ));
        // By an update that drops the way S3 invoked the function.
        let s = converge(
            &queued("orders"),
            Some(&known_state("orders")),
            Facts::of(&known_state("orders")),
        );
        assert!(waits_for(
            &s,
            Op::Delete(Permission),
            Op::Update(Notification, Change::Triggers)
        ));
    }

    #[test]
    fn a_roll_back_removes_only_what_the_create_made() {
        use Part::*;
        let s = roll_back(PartSet::from([Bucket, Role, Policy]));
        assert_eq!(
            s.ops(),
            [
                Op::DeleteStaged,
                Op::EmptyBucket,
                Op::Delete(Bucket),
                Op::Delete(Role)
            ]
        );
        let s = roll_back(PartSet::from([Function, Permission]));
        assert_eq!(s.ops(), [Op::DeleteStaged, Op::Delete(Function)]);
        // A package staged before anything else failed is removed too (the
        // step does nothing when this run staged none).
        assert_eq!(roll_back(PartSet::empty()).ops(), [Op::DeleteStaged]);
    }

    fn image(name: &str) -> State<Known> {
        let mut s = known_state(name);
        s.function.package_type = crate::pipeline::state::PACKAGE_IMAGE.into();
        s.image_repository_url = Some(format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"
        ));
        s
    }

    #[test]
    fn the_image_repository_is_made_before_the_function_and_goes_after_it() {
        use Part::*;
        let want = image("orders");
        let s = converge(&want, None, Facts::default());
        well_ordered(&s);
        assert!(step(&s, Op::Create(Repository)).after.is_empty());
        assert!(waits_for(&s, Op::Create(Function), Op::Create(Repository)));
        // Nothing changed: nothing to do; keep_images, scan on push or a
        // new function ARN: the repository is updated in place.
        assert!(converge(&want, Some(&want), Facts::of(&want)).is_empty());
        let mut keep = want.clone();
        keep.function.image = Some(crate::pipeline::state::ImageBlock {
            base_image: None,
            repository_name: None,
            keep_images: 3,
            scan_on_push: false,
        });
        assert_eq!(
            converge(&keep, Some(&want), Facts::of(&want)).ops(),
            [Op::Update(Repository, Change::Settings)]
        );
        // Found drifted or gone by the refresh: made again (or adopted and
        // put back) before the function.
        let drifted = want.with_only(want.present().minus(PartSet::from([Repository])));
        let s = converge(&want, Some(&drifted), Facts::of(&drifted));
        assert_eq!(s.ops(), [Op::Recreate(Repository)]);
        // Back to a zip: the function is made anew as a zip, and the
        // repository goes once the new function no longer uses it.
        let zip = known_state("orders");
        let s = converge(&zip, Some(&want), Facts::of(&want));
        well_ordered(&s);
        assert!(waits_for(
            &s,
            Op::Delete(Repository),
            Op::Recreate(Function)
        ));
        // A switch to a zip that failed before the repository went: the
        // refresh reads the zip back, the state still records the
        // repository; the next apply and a destroy delete it. Never a
        // given one.
        let mut left = zip.clone();
        left.image_repository_url = want.image_repository_url.clone();
        let s = converge(&zip, Some(&left), Facts::of(&left));
        assert!(s.find(Op::Delete(Repository)).is_some(), "{:?}", s.ops());
        assert!(destroy(&left).find(Op::Delete(Repository)).is_some());
        let mut given = left.clone();
        given.function.image = Some(crate::pipeline::state::ImageBlock {
            base_image: None,
            repository_name: Some("theirs".into()),
            keep_images: 10,
            scan_on_push: true,
        });
        let s = converge(&zip, Some(&given), Facts::of(&given));
        assert!(s.find(Op::Delete(Repository)).is_none(), "{:?}", s.ops());
        assert!(destroy(&given).find(Op::Delete(Repository)).is_none());
        // From a zip to an image: made, before the function.
        let s = converge(&want, Some(&zip), Facts::of(&zip));
        assert!(s.find(Op::Create(Repository)).is_some(), "{:?}", s.ops());
        // Destroy and roll-back delete it after the function.
        let d = destroy(&want);
        well_ordered(&d);
        assert!(waits_for(&d, Op::Delete(Repository), Op::Delete(Function)));
        let r = roll_back(PartSet::from([Repository, Role]));
        assert!(r.find(Op::Delete(Repository)).is_some(), "{:?}", r.ops());
        // A new name makes a repository under it; the old one goes after
        // the function.
        let mut renamed_to = image("sales");
        renamed_to.bucket_name = want.bucket_name.clone();
        let s = converge(&renamed_to, Some(&want), Facts::of(&want));
        well_ordered(&s);
        assert!(s.find(Op::Recreate(Repository)).is_some(), "{:?}", s.ops());
        assert!(waits_for(
            &s,
            Op::DeleteOld(Repository),
            Op::Recreate(Function)
        ));
    }

    #[test]
    fn a_given_repository_keeps_all_but_the_pushed_image() {
        use Part::*;
        let mut want = image("orders");
        want.function.image = Some(crate::pipeline::state::ImageBlock {
            base_image: None,
            repository_name: Some("shared".into()),
            keep_images: 10,
            scan_on_push: true,
        });
        let s = converge(&want, None, Facts::default());
        assert!(s.find(Op::Create(Repository)).is_none(), "{:?}", s.ops());
        // It is checked first, and everything waits for the check; once it
        // is the prior state's, no more.
        well_ordered(&s);
        assert_eq!(s.0[0].op, Op::CheckRepository);
        assert!(
            s.0.iter()
                .skip(1)
                .all(|st| waits_for(&s, st.op, Op::CheckRepository))
        );
        assert!(converge(&want, Some(&want), Facts::of(&want)).is_empty());
        // No image recorded: nothing to remove.
        assert!(destroy(&want).find(Op::RemoveImage).is_none());
        want.image_uri = Some("r/shared@sha256:ab".into());
        let d = destroy(&want);
        well_ordered(&d);
        assert!(d.find(Op::Delete(Repository)).is_none());
        assert!(waits_for(&d, Op::Delete(Function), Op::RemoveImage));
    }
}
