//! The `eventpipe` command line, for people rather than for Terraform: one
//! module per subcommand, each with its clap `Args` and a `run` that returns
//! the process's exit code. `src/bin/eventpipe.rs` only parses and dispatches.

pub mod package;
pub mod plan_summary;
