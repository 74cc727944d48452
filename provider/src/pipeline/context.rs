//! What the configured provider gives the resource: the AWS clients, the
//! default tags, the stop signal and what the pipelines of one provider
//! process share. Every operation of the resource runs with a [`Context`].

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::aws::AwsClients;

use super::errors::Setting;
use super::shared;
use super::state::{Known, State};

/// What the configured provider gives the resource.
#[derive(Debug)]
pub struct Context {
    pub aws: Arc<AwsClients>,
    pub default_tags: BTreeMap<String, String>,
    /// Cancelled when Terraform asks the provider to stop.
    pub stop: CancellationToken,
    /// Notification writes to one bucket take turns.
    pub(super) buckets: shared::BucketLocks,
    /// What plans learnt of existing buckets.
    pub(super) views: shared::BucketViews,
    /// What plans learnt of buckets' encryption and KMS keys.
    pub(super) keys: shared::KeyLooks,
}

impl Context {
    pub fn new(
        aws: Arc<AwsClients>,
        default_tags: BTreeMap<String, String>,
        stop: CancellationToken,
    ) -> Context {
        Context {
            aws,
            default_tags,
            stop,
            buckets: shared::BucketLocks::default(),
            views: shared::BucketViews::default(),
            keys: shared::KeyLooks::default(),
        }
    }
}

/// What the diagnostics of `state`'s errors may use to explain them.
pub(super) fn setting(ctx: &Context, state: &State<Known>) -> Setting {
    Setting {
        s3_plain_http: ctx.aws.s3_plain_http,
        require_tls: state.require_tls,
    }
}
