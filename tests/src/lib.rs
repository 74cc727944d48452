//! End-to-end test harness: real Terraform CLIs against the moto server,
//! with an independent AWS client to check what really exists. For images:
//! a local OCI registry per test ([`Registry`]), a two-platform base image
//! built as an OCI layout ([`base_image`]) and skopeo ([`Skopeo`]).
//!
//! ```no_run
//! use tests::{Moto, Workspace, terraform_versions};
//!
//! for tf in terraform_versions().unwrap() {
//!     let moto = Moto::start().unwrap();
//!     let mut ws = Workspace::new(&tf).unwrap();
//!     ws.envs(moto.env_vars());
//!     ws.write("main.tf", "# ...").unwrap();
//!     ws.init().unwrap();
//!     ws.apply_auto().unwrap();
//!     println!("{}", moto.aws().unwrap().list_everything().unwrap());
//! }
//! ```
//!
//! Environment: `EVENTPIPE_TF_VERSIONS` (which CLIs), `EVENTPIPE_PROVIDER_BIN`
//! (which provider binary; the `eventpipe` beside it is the command line the
//! tests run, unless `EVENTPIPE_CLI_BIN` names one), `EVENTPIPE_TOOLS_DIR`
//! (where `.tools` is), `EVENTPIPE_KEEP_WORKSPACE` (keep temp dirs for debugging),
//! `EVENTPIPE_PROVIDER_BIN_0_1_0` (a 0.1.0 binary for the upgrade test that runs it).

pub mod aws;
pub mod base_image;
pub mod cli_config;
pub mod fault_proxy;
pub mod hand_wired;
pub mod http;
pub mod https;
pub mod mirror;
pub mod moto;
pub mod plugin_client;
pub mod process;
pub mod provider_bin;
pub mod registry;
pub mod release;
pub mod skopeo;
pub mod terraform;
pub mod tools;

pub use aws::{Aws, Inventory, RoleSummary, Sources};
pub use mirror::{ProviderMirror, required_providers_hcl};
pub use moto::Moto;
pub use provider_bin::provider_binary;
pub use registry::Registry;
pub use skopeo::Skopeo;
pub use terraform::{Output, Plan, Workspace};
pub use tools::{TerraformCli, terraform_versions};
