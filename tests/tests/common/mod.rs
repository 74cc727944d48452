//! Everything the end-to-end tests share, in one place: the HCL they write
//! ([`hcl`]), what Terraform's state and plans say ([`state`]), Terraform's
//! output as text ([`output`]) and what the emulator holds ([`emulator`]),
//! plus the CLIs under test and the workspace every pipeline test starts
//! from, and the pre-existing bucket pipelines with `create_bucket = false`
//! use ([`existing`]). For the fault tests: the rig of emulator, fault proxy
//! and workspace ([`rig`]), the bookkeeping of the fault tables
//! ([`fault_table`]) and the standard pipeline with its calibration
//! ([`calibration`]). Each test binary includes this module with
//! `mod common;` and uses a part of it.
#![allow(dead_code)]

pub mod calibration;
pub mod emulator;
pub mod existing;
pub mod fault_table;
pub mod hcl;
pub mod image;
pub mod output;
pub mod package;
pub mod rig;
pub mod state;
pub mod wheels;

use std::path::PathBuf;

use tests::{Moto, TerraformCli, Workspace};

// Each test binary uses a part of these; the rest is unused there.
#[allow(unused_imports)]
pub use emulator::*;
#[allow(unused_imports)]
pub use existing::*;
#[allow(unused_imports)]
pub use hcl::*;
#[allow(unused_imports)]
pub use output::*;
#[allow(unused_imports)]
pub use package::{pack_tinyjs, zip_entry};
#[allow(unused_imports)]
pub use state::*;

/// Every Terraform CLI under test (1.11.x on PATH and 1.0.3 from .tools).
pub fn clis() -> Vec<TerraformCli> {
    tests::terraform_versions().expect("terraform CLIs")
}

/// The newest CLI under test, for tests that need only one.
pub fn newest_cli() -> TerraformCli {
    clis().remove(0)
}

/// A workspace with `app/app.py` and `main_tf` as main.tf, as written.
pub fn workspace_with(tf: &TerraformCli, main_tf: &str) -> Workspace {
    let ws = Workspace::new(tf).expect("workspace");
    ws.write("app/app.py", APP_PY).expect("app.py");
    ws.write("main.tf", main_tf).expect("main.tf");
    ws
}

/// A workspace whose provider talks to AWS through `proxy` (the fault
/// proxy, or its fidelity layer), with `body` in main.tf, initialised.
pub fn workspace_through(
    tf: &TerraformCli,
    proxy: &tests::fault_proxy::FaultProxy,
    body: &str,
) -> Workspace {
    let main = format!("{}{body}", ProviderBlock::new(&proxy.endpoint()).hcl());
    let ws = workspace_with(tf, &main);
    ws.init().expect("init");
    ws
}

/// main.tf of `ws` rewritten with the provider block through `proxy` and
/// `body`.
pub fn rewrite_through(ws: &Workspace, proxy: &tests::fault_proxy::FaultProxy, body: &str) {
    let main = format!("{}{body}", ProviderBlock::new(&proxy.endpoint()).hcl());
    ws.write("main.tf", main).expect("main.tf");
}

/// A workspace with the provider block for `moto`, `app/app.py` and `body`
/// in main.tf.
pub fn workspace(tf: &TerraformCli, moto: &Moto, body: &str) -> Workspace {
    workspace_with(tf, &format!("{}{body}", provider_hcl(moto)))
}

/// [`workspace`], initialised and applied.
pub fn applied(tf: &TerraformCli, moto: &Moto, body: &str) -> Workspace {
    let ws = workspace(tf, moto, body);
    ws.init().expect("init");
    ws.apply_auto().expect("apply");
    ws
}

/// Replaces main.tf with the provider block for `moto` and `body`.
pub fn rewrite_main(ws: &Workspace, moto: &Moto, body: &str) {
    ws.write("main.tf", format!("{}{body}", provider_hcl(moto)))
        .expect("main.tf");
}

/// `terraform destroy`, then the emulator must hold nothing.
///
/// Under load the emulator itself now and then answers a call with an HTTP
/// 500 that has no body (the fault proxy's own faults always carry one), and
/// the rigs run the provider with `max_retries = 0`: such a destroy is run
/// once more, and any other failure fails the test.
pub fn destroy_and_assert_empty(ws: &Workspace, moto: &Moto) {
    let first = ws.run(&["destroy", "-auto-approve"]).expect("destroy");
    if first.code != Some(0) {
        let text = format!("{}{}", first.stdout, first.stderr);
        assert!(
            text.contains("HTTP 500, with no error details"),
            "destroy failed:\n{text}"
        );
        eprintln!("the emulator answered a bodiless HTTP 500 during destroy; running it once more");
        ws.destroy_auto().expect("destroy, second run");
    }
    assert_emulator_empty(moto);
}

/// A path in the repository, e.g. `examples/basic`.
pub fn repo_path(relative: &str) -> PathBuf {
    tests::tools::repo_root().join(relative)
}

/// The text of a file in the repository.
pub fn repo_file(relative: &str) -> String {
    let path = repo_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
