//! The plan's looks for a create (no prior state): whether the names the
//! pipeline would take are free, and whether the account can reserve the
//! concurrency asked for. Without them these mistakes fail only at apply,
//! half-way through, and are rolled back.
//!
//! - `bucket_name` with `create_bucket = true` (HeadBucket): a 403 is
//!   someone else's bucket; a bucket in this account is refused unless its
//!   ownership tag names this pipeline (an interrupted apply left it, and
//!   the apply adopts it).
//! - `function_name` (GetFunction): refused unless its tag names this
//!   pipeline; a function made by hand points to `adopt:`.
//! - `function.reserved_concurrency` (GetAccountSettings): the account
//!   must keep at least 100 unreserved concurrent executions after it.
//!
//! And for any plan ([`given_repository`]): a given
//! `function.image.repository_name` new to the pipeline must exist
//! (DescribeRepositories), as the apply checks before it makes anything.
//!
//! The looks run at the same time, with the plan's other look
//! ([`super::bucket_check`]). A look that fails (denied, or not answered)
//! is a warning that names the permission: the apply still checks.

use tfsdk::access::Field;
use tfsdk::diag::{Diagnostic, Diagnostics};

use crate::aws::{AwsClients, AwsError, ecr, lambda, s3};

use super::errors::{Look, MIN_UNRESERVED_CONCURRENCY, NotChecked, TakenError};
use super::ownership::OWNER_TAG;
use super::state::{Known, PACKAGE_IMAGE, Planning, State};

/// What one look found.
enum Found {
    Fine,
    Taken(TakenError),
    NotChecked(NotChecked),
}

impl From<Found> for Diagnostics {
    fn from(f: Found) -> Diagnostics {
        match f {
            Found::Fine => Diagnostics::new(),
            Found::Taken(e) => Diagnostic::from(&e).into(),
            Found::NotChecked(e) => Diagnostic::from(&e).into(),
        }
    }
}

fn not_checked(look: Look) -> impl FnOnce(AwsError) -> Found {
    move |source| Found::NotChecked(NotChecked { look, source })
}

/// Who an existing part belongs to, for a message: "" when untagged.
fn owner_words(owner: Option<&String>) -> String {
    match owner {
        Some(o) => format!(" (its {OWNER_TAG} tag names pipeline {o:?})"),
        None => format!(" (it has no {OWNER_TAG} tag)"),
    }
}

async fn bucket(aws: &AwsClients, bucket: &str, pipeline: &str) -> Found {
    let region = match s3::bucket_region(&aws.s3, bucket).await {
        Ok(None) => return Found::Fine,
        Ok(Some(r)) => r,
        Err(e) if e.status() == Some(403) => {
            return Found::Taken(TakenError::BucketForeign {
                bucket: bucket.to_owned(),
            });
        }
        Err(e) => return not_checked(Look::BucketName)(e),
    };
    if region != aws.region {
        return Found::Taken(TakenError::BucketElsewhere {
            bucket: bucket.to_owned(),
            region,
            here: aws.region.clone(),
        });
    }
    let tags = match s3::bucket_tags(&aws.s3, bucket).await {
        // Gone since the HEAD: free again.
        Ok(None) => return Found::Fine,
        Ok(Some(t)) => t,
        Err(e) => return not_checked(Look::BucketOwner)(e),
    };
    let owner = tags.get(OWNER_TAG);
    if owner.map(String::as_str) == Some(pipeline) {
        // Left by an interrupted apply of this pipeline: the apply adopts it.
        return Found::Fine;
    }
    Found::Taken(TakenError::BucketInAccount {
        bucket: bucket.to_owned(),
        owner: owner_words(owner),
    })
}

async fn function(aws: &AwsClients, function: &str, pipeline: &str) -> Found {
    let existing = match lambda::get_function(&aws.lambda, function).await {
        Ok(None) => return Found::Fine,
        Ok(Some(f)) => f,
        Err(e) => return not_checked(Look::FunctionName)(e),
    };
    match existing.tags.get(OWNER_TAG) {
        Some(o) if o == pipeline => Found::Fine,
        Some(o) => Found::Taken(TakenError::FunctionOfAnother {
            function: function.to_owned(),
            owner: o.clone(),
        }),
        None => Found::Taken(TakenError::FunctionByHand {
            function: function.to_owned(),
        }),
    }
}

async fn concurrency(aws: &AwsClients, wanted: i64) -> Found {
    let account = match lambda::account_concurrency(&aws.lambda).await {
        Ok(a) => a,
        Err(e) => return not_checked(Look::Concurrency)(e),
    };
    let Some(unreserved) = account.unreserved.map(i64::from) else {
        return Found::Fine;
    };
    if unreserved - wanted < MIN_UNRESERVED_CONCURRENCY {
        return Found::Taken(TakenError::ConcurrencyOverLimit { wanted, unreserved });
    }
    Found::Fine
}

/// The looks `planned` calls for, made at the same time. Call it only for
/// a create (no prior state).
pub async fn check(aws: &AwsClients, planned: &State<Planning>) -> Diagnostics {
    let Field::Known(name) = &planned.name else {
        return Diagnostics::new();
    };
    let bucket_look = async {
        match (&planned.create_bucket, &planned.bucket_name) {
            (Field::Known(true), Field::Known(b)) => bucket(aws, b, name).await,
            _ => Found::Fine,
        }
    };
    let function_look = async {
        match &planned.function_name {
            Field::Known(f) => function(aws, f, name).await,
            _ => Found::Fine,
        }
    };
    let concurrency_look = async {
        match &planned.function.reserved_concurrency {
            Field::Known(n) if *n > 0 => concurrency(aws, *n).await,
            _ => Found::Fine,
        }
    };
    let (b, f, c) = tokio::join!(bucket_look, function_look, concurrency_look);
    let mut diags = Diagnostics::new();
    for found in [b, f, c] {
        diags.extend(Diagnostics::from(found));
    }
    diags
}

/// The `image.repository_name` a state gives (an image function's), if any.
fn given(s: &State<Known>) -> Option<&str> {
    (s.function.package_type == PACKAGE_IMAGE)
        .then(|| s.function.image.as_ref()?.repository_name.as_deref())
        .flatten()
}

/// A given `function.image.repository_name` that the prior state does not
/// have must exist: refused at plan when it does not; a warning when the
/// plan cannot look (the apply checks it then, before anything is made).
pub async fn given_repository(
    aws: &AwsClients,
    planned: &State<Planning>,
    prior: Option<&State<Known>>,
) -> Diagnostics {
    let f = &planned.function;
    if f.package_type.as_known().map(String::as_str) != Some(PACKAGE_IMAGE) {
        return Diagnostics::new();
    }
    let Some(name) = f
        .image
        .as_known()
        .and_then(|i| i.repository_name.as_known())
    else {
        return Diagnostics::new();
    };
    if prior.and_then(given) == Some(name.as_str()) {
        return Diagnostics::new();
    }
    let found = match ecr::repository(&aws.ecr, name).await {
        Ok(Some(_)) => Found::Fine,
        Ok(None) => Found::Taken(TakenError::NoRepository { name: name.clone() }),
        Err(e) => not_checked(Look::Repository)(e),
    };
    found.into()
}
