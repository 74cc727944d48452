//! What Terraform says about the state and about a plan: resources read out
//! of `terraform show -json`, whether one is tainted, whether a plan is
//! empty, and the actions a saved plan would take.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use tests::{Output, Workspace};

use super::output::flat;

/// The root module's resources in `terraform show -json` output.
pub fn resources(show: &Json) -> Vec<Json> {
    show["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The resource named `name` (the last part of its address) in the
/// workspace's state, or `Null` when there is none.
pub fn resource(ws: &Workspace, name: &str) -> Json {
    let show = ws.show_json().expect("show -json");
    resources(&show)
        .into_iter()
        .find(|r| r["name"] == name)
        .unwrap_or(Json::Null)
}

/// The attribute values of resource `name` in the state, or `Null`.
pub fn state_attrs(ws: &Workspace, name: &str) -> Json {
    resource(ws, name)["values"].clone()
}

/// Whether a resource from `show -json` is marked tainted.
pub fn is_tainted(resource: &Json) -> bool {
    resource["tainted"] == true
}

/// Every resource in the state by name, with whether it is tainted.
pub fn tainted_by_name(ws: &Workspace) -> BTreeMap<String, bool> {
    let show = ws.show_json().expect("show -json");
    resources(&show)
        .iter()
        .filter_map(|r| Some((r["name"].as_str()?.to_owned(), is_tainted(r))))
        .collect()
}

/// `terraform plan -detailed-exitcode` must report no changes; `what` says
/// why it should not.
pub fn assert_plan_empty(ws: &Workspace, what: &str) {
    let plan = ws.plan_detailed_exitcode().expect("plan");
    assert!(!plan.has_changes, "{what}:\n{}", plan.output);
}

/// The actions (`no-op`, `update`, `delete`, `create`, ...) a plan saved
/// with `terraform plan -out` would take, by resource address, read back
/// with `terraform show -json`.
pub fn planned_actions(ws: &Workspace) -> BTreeMap<String, Vec<String>> {
    const PLAN_FILE: &str = "saved.tfplan";
    ws.plan(&["-out", PLAN_FILE]).expect("plan -out");
    let plan = ws
        .run_ok(&["show", "-json", PLAN_FILE])
        .and_then(|out| out.json())
        .expect("show -json of the plan");
    plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|change| {
            let address = change["address"].as_str()?.to_owned();
            let actions = change["change"]["actions"]
                .as_array()?
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            Some((address, actions))
        })
        .collect()
}

/// `terraform plan -out`, and what `show -json` says the plan does:
/// actions by address (and whether each is an import).
pub fn saved_plan(ws: &Workspace, file: &str) -> (Output, BTreeMap<String, Vec<String>>) {
    let out = ws.plan(&["-out", file]).expect("plan -out");
    let plan = ws
        .run_ok(&["show", "-json", file])
        .and_then(|o| o.json())
        .expect("show -json of the plan");
    let actions = plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let address = c["address"].as_str()?.to_owned();
            let actions = c["change"]["actions"]
                .as_array()?
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            Some((address, actions))
        })
        .collect();
    (out, actions)
}

pub fn assert_only_in_place(actions: &BTreeMap<String, Vec<String>>, plan: &Output) {
    assert!(!actions.is_empty(), "the plan changes nothing\n{plan}");
    for (address, a) in actions {
        assert_eq!(
            a,
            &["update"],
            "{address}: the plan must change in place only\n{plan}"
        );
    }
    let text = flat(plan);
    assert!(
        text.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
}
