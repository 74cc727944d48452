//! The AWS operation of each step, one module per part. Each takes the
//! [`Run`](super::execute::Run) it belongs to and records what it made,
//! adopted or removed as soon as that is true, so a failure at any call
//! leaves an exact account of what exists.

pub mod alarm_topic;
pub mod alarms;
pub mod backfill;
pub mod bucket;
pub mod check;
pub mod function;
pub mod image;
pub mod invoke_config;
pub mod log_group;
pub mod mapping;
pub mod notification;
pub mod permission;
pub mod queue;
pub mod repository;
pub mod role;
pub mod staging;
pub mod stream;
