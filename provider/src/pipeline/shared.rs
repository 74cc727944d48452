//! What the pipelines of one provider process share: a write lock per
//! bucket, so two pipelines on one bucket never interleave their
//! read-modify-write of its notification document, and what plans have
//! learnt of existing buckets (looked up once per bucket).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OnceCell, OwnedMutexGuard};

use crate::aws::{kms, s3};

/// One async lock per bucket name.
#[derive(Debug, Default)]
pub struct BucketLocks(Mutex<HashMap<String, Arc<AsyncMutex<()>>>>);

impl BucketLocks {
    /// Waits until no other pipeline of this process writes to `bucket`'s
    /// notifications; the guard releases it.
    pub async fn lock(&self, bucket: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(map.entry(bucket.to_owned()).or_default())
        };
        lock.lock_owned().await
    }
}

/// An existing bucket as a plan sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketView {
    /// The bucket's region; `None` when there is no such bucket.
    pub region: Option<String>,
    /// Every notification configuration on it.
    pub notifications: Vec<s3::Notification>,
}

/// Lookups of existing buckets, one per bucket per process, and the
/// triggers each pipeline of this run plans for a bucket.
#[derive(Debug, Default)]
pub struct BucketViews {
    lookups: Mutex<HashMap<String, Arc<OnceCell<BucketView>>>>,
    planned: Mutex<HashMap<String, HashMap<String, Vec<s3::Notification>>>>,
}

impl BucketViews {
    /// The bucket as AWS has it, looked up at the first ask.
    pub async fn get<F, Fut>(
        &self,
        bucket: &str,
        look: F,
    ) -> Result<BucketView, crate::aws::AwsError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<BucketView, crate::aws::AwsError>>,
    {
        let cell = {
            let mut map = self
                .lookups
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(map.entry(bucket.to_owned()).or_default())
        };
        cell.get_or_try_init(look).await.cloned()
    }

    /// Records what `pipeline` plans on `bucket`, and returns what the
    /// other pipelines of this run plan on it.
    pub fn plan(
        &self,
        bucket: &str,
        pipeline: &str,
        triggers: Vec<s3::Notification>,
    ) -> Vec<(String, s3::Notification)> {
        let mut map = self
            .planned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let on_bucket = map.entry(bucket.to_owned()).or_default();
        on_bucket.insert(pipeline.to_owned(), triggers);
        on_bucket
            .iter()
            .filter(|(p, _)| p.as_str() != pipeline)
            .flat_map(|(p, list)| list.iter().map(move |n| (p.clone(), n.clone())))
            .collect()
    }
}

/// Answers looked up once per process, by what they are about; a failed
/// look is not kept, so the next plan asks again.
#[derive(Debug)]
pub struct Memo<T>(Mutex<HashMap<String, Arc<OnceCell<T>>>>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo(Mutex::default())
    }
}

impl<T: Clone> Memo<T> {
    /// The answer about `about`, looked up at the first ask.
    pub async fn get<F, Fut, E>(&self, about: &str, look: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let cell = {
            let mut map = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(map.entry(about.to_owned()).or_default())
        };
        cell.get_or_try_init(look).await.cloned()
    }
}

/// What plans learnt of encryption: each bucket's default encryption and
/// each key named, looked up once per process however many pipelines
/// share them.
#[derive(Debug, Default)]
pub struct KeyLooks {
    pub encryption: Memo<Option<s3::DefaultEncryption>>,
    pub keys: Memo<Option<kms::Key>>,
}
