//! One function looked at: a pipeline this provider made (its ownership
//! tag), a wiring made by hand that `adopt:` takes ([`wiring::find`], the
//! rule `adopt:` itself applies), or nothing to list.

use std::collections::HashMap;
use std::sync::Arc;

use tfsdk::provider::Listed;
use tokio::sync::OnceCell;

use crate::aws::lambda::FunctionSummary;
use crate::aws::{AwsError, lambda, mappings};

use super::super::context::Context;
use super::super::errors::ListError;
use super::super::identity::{Identity, Wanted};
use super::super::import;
use super::super::ownership::{BUCKET_TAG, OWNER_TAG};
use super::super::policy;
use super::super::wiring::{self, Wiring};
use super::display;
use super::filter::{Filter, Include};

/// What the looks of one list share: the filter, the buckets' and queues'
/// answers, and the region's queue mappings (read once, when the first
/// function without a direct wiring needs them).
pub struct Walk {
    pub ctx: Arc<Context>,
    pub filter: Filter,
    pub include_resource: bool,
    looks: wiring::Looks,
    queue_mappings: OnceCell<HashMap<String, Vec<mappings::Mapping>>>,
}

/// A result before its resource object: who it is and what to call it.
struct Found {
    identity: Identity,
    display_name: String,
}

impl Walk {
    pub fn new(ctx: Arc<Context>, filter: Filter, include_resource: bool) -> Walk {
        Walk {
            ctx,
            filter,
            include_resource,
            looks: wiring::Looks::default(),
            queue_mappings: OnceCell::new(),
        }
    }

    /// The result for function `f`, if the list takes it.
    pub async fn look(&self, f: FunctionSummary) -> Result<Option<Listed>, ListError> {
        let Some(found) = self.find(&f).await? else {
            return Ok(None);
        };
        let resource = if self.include_resource {
            Some(self.resource(&f.name, &found.identity).await?)
        } else {
            None
        };
        Ok(Some(Listed {
            identity: found.identity.to_value(),
            display_name: found.display_name,
            resource: resource.as_ref().map(|i| i.state.to_value()),
            diags: resource.map(|i| i.diags).unwrap_or_default(),
        }))
    }

    async fn find(&self, f: &FunctionSummary) -> Result<Option<Found>, ListError> {
        let lambda = &self.ctx.aws.lambda;
        if self.filter.include == Include::Adoptable {
            // Most functions are wired to nothing: ask about tags only
            // for those a bucket notifies.
            let Some(w) = self.wiring(f).await? else {
                return Ok(None);
            };
            let tags = lambda::tags(lambda, &f.arn).await?;
            let ours = tags.is_none_or(|t| t.contains_key(OWNER_TAG));
            return Ok((!ours).then(|| self.adoptable(f, &w)).flatten());
        }
        let Some(tags) = lambda::tags(lambda, &f.arn).await? else {
            return Ok(None);
        };
        match tags.get(OWNER_TAG) {
            Some(owner) if self.filter.include.owned() => {
                Ok(self.owned(f, owner, tags.get(BUCKET_TAG).map(String::as_str)))
            }
            Some(_) => Ok(None),
            None if self.filter.include.adoptable() => match self.wiring(f).await? {
                Some(w) => Ok(self.adoptable(f, &w)),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// A pipeline this provider made. Its identity names the function; a
    /// pipeline named otherwise than its function (adopted, then renamed)
    /// is found through its function with `adopt = true`, which imports a
    /// function a pipeline owns as that pipeline.
    fn owned(&self, f: &FunctionSummary, owner: &str, bucket: Option<&str>) -> Option<Found> {
        let bucket = bucket?;
        if !self.filter.takes_bucket(bucket) {
            return None;
        }
        Some(Found {
            identity: identity_of(f, owner != f.name, &self.ctx.aws.region),
            display_name: display::owned(owner, bucket),
        })
    }

    fn adoptable(&self, f: &FunctionSummary, w: &Wiring) -> Option<Found> {
        if !self.filter.takes_bucket(&w.bucket) {
            return None;
        }
        Some(Found {
            identity: identity_of(f, true, &self.ctx.aws.region),
            display_name: display::adoptable(&w.bucket, &f.name, &w.notifications, w.queue_arn()),
        })
    }

    /// The bucket that notifies `f`, by the rule `adopt:` imports by.
    async fn wiring(&self, f: &FunctionSummary) -> Result<Option<Wiring>, AwsError> {
        let statements = lambda::policy_statements(&self.ctx.aws.lambda, &f.name)
            .await?
            .unwrap_or_default();
        wiring::find(&self.ctx.aws, &self.looks, &f.arn, &statements, || async {
            let all = self
                .queue_mappings
                .get_or_try_init(|| queue_mappings(&self.ctx))
                .await?;
            Ok(all.get(&f.arn).cloned().unwrap_or_default())
        })
        .await
    }

    /// The resource object, built by `terraform import`'s own code from
    /// the ID the identity stands for.
    async fn resource(
        &self,
        function: &str,
        identity: &Identity,
    ) -> Result<import::Imported, ListError> {
        let wanted = Wanted {
            account_id: None,
            region: None,
            name: function.to_owned(),
            adopt: identity.adopt,
        };
        // Neither account nor region is named, so no account is needed.
        let imported = match wanted.import_id(&self.ctx.aws.region, "") {
            Ok(id) => Box::pin(import::import(&self.ctx.aws, &id, &self.ctx.default_tags)).await,
            Err(e) => Err(e.into()),
        };
        imported.map_err(|source| ListError::Import {
            function: function.to_owned(),
            source,
        })
    }
}

/// The region's queue mappings by function ARN.
async fn queue_mappings(
    ctx: &Context,
) -> Result<HashMap<String, Vec<mappings::Mapping>>, AwsError> {
    let mut by_function: HashMap<String, Vec<mappings::Mapping>> = HashMap::new();
    for m in mappings::queue_mappings(&ctx.aws.lambda).await? {
        by_function
            .entry(m.function_arn.clone())
            .or_default()
            .push(m);
    }
    Ok(by_function)
}

/// The identity of the pipeline of function `f` (account and region from
/// its ARN).
fn identity_of(f: &FunctionSummary, adopt: bool, region: &str) -> Identity {
    Identity {
        account_id: policy::account_of_arn(&f.arn).map(str::to_owned),
        region: f
            .arn
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .unwrap_or(region)
            .to_owned(),
        name: Some(f.name.clone()),
        adopt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_functions_identity_comes_from_its_arn() {
        let f = FunctionSummary {
            name: "orders".into(),
            arn: "arn:aws:lambda:eu-west-1:123456789012:function:orders".into(),
        };
        let id = identity_of(&f, false, "us-east-1");
        assert_eq!(
            id,
            Identity {
                account_id: Some("123456789012".into()),
                region: "eu-west-1".into(),
                name: Some("orders".into()),
                adopt: false,
            }
        );
    }
}
