//! The standard pipeline of the fault tables and its calibration: how it
//! is configured when created (`A`) and after an update (`B`), and every
//! call one such pipeline makes during create, refresh, update and delete,
//! recorded once per test binary. faults_create.rs, faults_update.rs,
//! faults_delete.rs and faults_new_parts.rs fail each of those calls.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::fault_table::{Site, op_counts, sites};
use super::rig::Rig;
use super::{Pipeline, assert_emulator_empty, newest_cli};

/// How a pipeline is configured; `A` is created, `B` is what an update
/// changes it to (memory, tags, trigger prefix, TLS policy; the handler
/// file changes alongside).
#[derive(Clone, Copy)]
pub struct Shape {
    pub memory: u32,
    pub team: &'static str,
    pub extra_tag: &'static str,
    pub prefix: &'static str,
    pub require_tls: bool,
}

pub const A: Shape = Shape {
    memory: 512,
    team: "a",
    extra_tag: "gone",
    prefix: "data/",
    require_tls: true,
};
pub const B: Shape = Shape {
    memory: 256,
    team: "b",
    extra_tag: "new",
    prefix: "in/",
    require_tls: false,
};
pub const APP_PY_V2: &str = "def handler(event, context):\n    return {\"version\": 2}\n";

impl Shape {
    /// Pipeline `name` (on bucket `<name>-bkt`) in this shape.
    pub fn pipeline(self, name: &str) -> Pipeline {
        Pipeline::seed(name, &format!("{name}-bkt"))
            .require_tls(self.require_tls)
            .tags(&format!(
                "{{ team = \"{}\", {} = \"x\" }}",
                self.team, self.extra_tag
            ))
            .timeout(30)
            .memory(self.memory)
            .filter_prefix(self.prefix)
    }
}

impl Rig {
    /// main.tf: the pipelines `names`, each in `shape`.
    pub fn pipelines(&self, names: &[String], shape: Shape) {
        let body: String = names.iter().map(|n| shape.pipeline(n).hcl()).collect();
        self.configure(&body);
    }
}

/// Every call one pipeline makes, by phase.
#[derive(Debug)]
pub struct Calibration {
    pub create: Vec<Site>,
    /// The refresh before an update or destroy.
    pub refresh: Vec<Site>,
    /// The update's own calls, numbered after the refresh's.
    pub update: Vec<Site>,
    pub delete: Vec<Site>,
}

/// The calibration of the standard pipeline, recorded by the first test
/// that asks for it.
pub fn calibration() -> &'static Calibration {
    static CAL: OnceLock<Calibration> = OnceLock::new();
    CAL.get_or_init(|| {
        let tf = newest_cli();
        let rig = Rig::new(&tf, Some(0));
        let name = "cal01".to_owned();
        let one = std::slice::from_ref(&name);
        let cal = record(&rig, &name, |phase| match phase {
            Phase::Create => rig.pipelines(one, A),
            Phase::Update => rig.pipelines(one, B),
        });
        eprintln!("calibration: {cal:#?}");
        cal
    })
}

/// Which configuration [`record`] asks for: the one it creates, then the
/// one it updates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Create,
    Update,
}

/// Records every call of one pipeline named `name`, by phase: its create
/// (configured by `configure(Phase::Create)`, the plan's looks left out),
/// the refresh and the update to `configure(Phase::Update)` with a new
/// `app.py`, then its destroy, which leaves the emulator empty.
pub fn record(rig: &Rig, name: &str, configure: impl Fn(Phase)) -> Calibration {
    let name = name.to_owned();
    configure(Phase::Create);
    let looks = create_looks(rig, &name);
    rig.apply();
    let create = sites(&rig.proxy.calls(), &name, &looks);

    configure(Phase::Update);
    rig.ws.write("app/app.py", APP_PY_V2).expect("app.py");
    rig.proxy.clear_calls();
    rig.ws.plan(&[]).expect("plan");
    let refresh_calls = rig.proxy.calls();
    let refresh = sites(&refresh_calls, &name, &BTreeMap::new());
    let reads = op_counts(&refresh_calls, &name);

    rig.proxy.clear_calls();
    rig.apply();
    let update = sites(&rig.proxy.calls(), &name, &reads);
    rig.assert_plan_empty();

    rig.proxy.clear_calls();
    rig.ws.destroy_auto().expect("destroy");
    let delete = sites(&rig.proxy.calls(), &name, &reads);
    assert_emulator_empty(&rig.moto);
    Calibration {
        create,
        refresh,
        update,
        delete,
    }
}

/// The calls of a create's plan-time looks (whether the names it would take
/// are free), by operation, as an `apply` makes them: twice, as Terraform
/// plans a create again at apply. A denied look is a warning, not a
/// failure, so the looks have their own table
/// (`a_denied_look_of_a_create_plan_is_a_warning_and_the_plan_still_succeeds`
/// in faults_create.rs),
/// and the create tables leave them out. Leaves the recorded calls empty.
pub fn create_looks(rig: &Rig, name: &str) -> BTreeMap<String, u32> {
    rig.proxy.clear_calls();
    rig.ws.plan(&[]).expect("plan");
    let looks: BTreeMap<String, u32> = op_counts(&rig.proxy.calls(), name)
        .into_iter()
        .map(|(op, n)| (op, 2 * n))
        .collect();
    assert!(
        looks.contains_key("lambda:GetFunction"),
        "a create's plan looks for its function: {looks:?}"
    );
    rig.proxy.clear_calls();
    looks
}

/// The operation of a create's plan-time look at a function name (on a
/// bucket the pipeline does not manage, the plan's other calls are the
/// bucket check's, which fail the plan).
pub const FUNCTION_LOOK: &str = "lambda:GetFunction";
