//! The rig the fault and recording tests run in: an emulator, the fault
//! proxy in front of it, and a workspace whose provider talks to the proxy.
//! A test file adds the methods only it needs in its own `impl Rig`.

use std::collections::BTreeMap;
use std::time::Duration;

use tests::fault_proxy::FaultProxy;
use tests::{Aws, Moto, Output, TerraformCli, Workspace};

use super::{APP_PY, ProviderBlock, assert_plan_empty, destroy_and_assert_empty, tainted_by_name};

pub struct Rig {
    // Field order is drop order: workspace, then proxy, then emulator.
    pub ws: Workspace,
    pub proxy: FaultProxy,
    pub moto: Moto,
    /// The tests' own client of the emulator (not through the proxy).
    pub aws: Aws,
    /// The provider's `max_retries`; its default when `None`.
    pub max_retries: Option<u32>,
}

impl Rig {
    /// A new emulator and proxy; the workspace holds `app/app.py` and only
    /// the provider block, initialised.
    pub fn new(tf: &TerraformCli, max_retries: Option<u32>) -> Rig {
        let moto = Moto::start().expect("moto");
        let proxy = FaultProxy::start(&moto.endpoint()).expect("proxy");
        Rig::with(tf, moto, proxy, max_retries)
    }

    /// [`Rig::new`] on an emulator and a proxy the test started itself.
    pub fn with(tf: &TerraformCli, moto: Moto, proxy: FaultProxy, max_retries: Option<u32>) -> Rig {
        let mut ws = Workspace::new(tf).expect("workspace");
        ws.timeout(Duration::from_secs(600));
        ws.write("app/app.py", APP_PY).expect("app.py");
        let aws = moto.aws().expect("aws");
        let rig = Rig {
            ws,
            proxy,
            moto,
            aws,
            max_retries,
        };
        rig.configure("");
        rig.ws.init().expect("init");
        rig
    }

    /// main.tf: the provider block through the proxy, then `body`.
    pub fn configure(&self, body: &str) {
        let mut provider = ProviderBlock::new(&self.proxy.endpoint());
        if let Some(n) = self.max_retries {
            provider = provider.setting(&format!("max_retries  = {n}"));
        }
        let main = format!("{}{body}", provider.hcl());
        self.ws.write("main.tf", main).expect("main.tf");
    }

    pub fn apply(&self) -> Output {
        self.ws.apply_auto().expect("apply")
    }

    pub fn apply_failing(&self) -> Output {
        self.ws
            .run(&["apply", "-auto-approve"])
            .expect("apply runs")
            .failed()
            .expect("apply must fail")
    }

    pub fn assert_plan_empty(&self) {
        assert_plan_empty(&self.ws, "the plan after convergence must be empty");
    }

    pub fn destroy_and_assert_empty(&self) {
        destroy_and_assert_empty(&self.ws, &self.moto);
    }

    /// Resources in the state: name -> tainted.
    pub fn state(&self) -> BTreeMap<String, bool> {
        tainted_by_name(&self.ws)
    }

    /// Which parts of pipeline `name` exist in the emulator.
    pub fn parts(&self, name: &str) -> Vec<String> {
        let inv = self
            .moto
            .aws()
            .expect("aws")
            .list_everything()
            .expect("inv");
        let mut out = Vec::new();
        if inv.buckets.iter().any(|b| *b == format!("{name}-bkt")) {
            out.push("bucket".to_owned());
        }
        if inv.roles.iter().any(|r| r.name == format!("{name}-role")) {
            out.push("role".to_owned());
        }
        if inv.functions.iter().any(|f| f == name) {
            out.push("function".to_owned());
        }
        out
    }
}
