//! The `eventpipe` command line, for people rather than for Terraform: one
//! module per subcommand, each with its clap `Args` and a `run` that returns
//! the process's exit code. `src/bin/eventpipe.rs` only parses and dispatches.
//! The commands that talk to AWS share `aws_args` (how to reach AWS),
//! `target` (finding a pipeline by its name) and `error` (one line on
//! stderr and a documented exit status).

pub mod aws_args;
pub mod error;
pub mod event;
pub mod invoke;
pub mod logs;
pub mod package;
pub mod plan_summary;
pub mod replay;
pub mod status;
pub mod target;
