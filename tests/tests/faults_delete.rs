//! Fault tolerance of a destroy, end to end: a failure at any call of a
//! delete keeps the pipeline in the state; the next `apply` rebuilds what
//! the destroy removed, and the next `destroy` leaves nothing in the
//! emulator. The call sites are recorded by the calibration run of
//! common/calibration.rs, one pipeline per call site.

mod common;

use std::time::Instant;

use common::calibration::{B, calibration};
use common::fault_table::{Site, arm, assert_covers, assert_each_failed, names, print_table};
use common::newest_cli;
use common::rig::Rig;

#[test]
fn a_failure_at_any_delete_call_keeps_the_state_then_apply_and_destroy_converge() {
    let cal = calibration();
    assert_covers(
        "delete",
        &cal.delete,
        &[
            "s3:PutBucketNotificationConfiguration",
            "s3:DeleteBucketPolicy",
            "s3:DeleteBucket",
            "lambda:DeleteFunction",
            "iam:DeleteRolePolicy",
            "iam:DeleteRole",
        ],
    );
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    let started = Instant::now();
    let names = names("fd", cal.delete.len());
    rig.pipelines(&names, B);
    rig.apply();
    let table: Vec<(String, Site)> = names.iter().cloned().zip(cal.delete.clone()).collect();
    arm(&rig.proxy, &table);
    let out = rig
        .ws
        .run(&["destroy", "-auto-approve"])
        .expect("destroy runs")
        .failed()
        .expect("destroy must fail");
    assert_each_failed(&out, &table, &rig.proxy);
    let state = rig.state();
    let mut rows = Vec::new();
    for (name, site) in &table {
        assert!(
            state.contains_key(name),
            "{name}: a failed destroy keeps the pipeline in state"
        );
        rows.push((
            name.clone(),
            site.clone(),
            format!("kept in state; left {:?}", rig.parts(name)),
        ));
    }
    // Whatever the destroy removed, apply rebuilds; then destroy finishes.
    rig.proxy.clear_rules();
    rig.apply();
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
    print_table(
        &format!(
            "delete: {} call sites, {:.0} s",
            table.len(),
            started.elapsed().as_secs_f64()
        ),
        &rows,
    );
}
