//! The S3 bucket, when the pipeline manages it (`create_bucket`).

use tfsdk::access::Field;

use super::super::part::Part;
use super::super::state::BucketEncryption;
use super::super::step::{Change, Op};
use super::super::{naming, policy};
use super::{Converge, Merge, Plan};

/// Made, adopted (`create_bucket` turned `true`, or taken over by an
/// import), let go of (`create_bucket` turned `false`), or updated.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    let owned_before = c.prior.is_none_or(|p| p.create_bucket);
    let made = want.create_bucket.then(|| c.make(Part::Bucket)).flatten();
    c.at.bucket_made = made;
    c.at.bucket = if !want.create_bucket {
        (c.prior.is_some() && owned_before).then(|| c.steps.add(Op::Release(Part::Bucket), []))
    } else if let Some(op) = made {
        c.steps.chain([op], [])
    } else if !owned_before || c.facts.unclaimed.contains(Part::Bucket) {
        // Taking ownership: tags, secure defaults and the TLS policy.
        c.steps.chain([Op::Adopt(Part::Bucket)], [])
    } else {
        let mut ops = Vec::new();
        if c.changed(|p| p.require_tls != want.require_tls) {
            ops.push(Op::Update(Part::Bucket, Change::TlsPolicy));
        }
        if c.changed(|p| p.bucket_encryption != want.bucket_encryption) {
            ops.push(Op::Update(Part::Bucket, Change::Encryption));
        }
        if c.retag() {
            ops.push(Op::Update(Part::Bucket, Change::Tags));
        }
        c.steps.chain(ops, [])
    };
}

/// The TLS-only policy, as the bucket policy has it, and the key of its
/// default encryption (when they were read: an owned bucket).
pub fn merge(m: &mut Merge) {
    match &m.seen.bucket_policy {
        Some(Some(doc)) => m.s.require_tls = doc.contains("aws:SecureTransport"),
        Some(None) => m.s.require_tls = false,
        None => {}
    }
    if let Some(found) = &m.seen.bucket_encryption {
        let key = found
            .as_ref()
            .filter(|e| e.uses_kms())
            .and_then(|e| e.kms_key.clone());
        let recorded = m.state.bucket_encryption.as_ref().map(|e| &e.kms_key_arn);
        if recorded != key.as_ref() {
            m.s.bucket_encryption = key.map(|kms_key_arn| BucketEncryption { kms_key_arn });
        }
    }
}

/// The bucket's name (kept, given, or derived from `name` and where the
/// pipeline goes) and ARN.
pub fn plan(p: &mut Plan) {
    let loc = p.loc;
    p.s.bucket_name = match (&p.config.bucket_name, p.same_identity, &p.config.name) {
        (Field::Null, Some(prior), _) => Field::Known(prior.bucket_name.clone()),
        (Field::Null, None, Field::Known(n)) => Field::Known(naming::derived_bucket_name(
            n,
            &loc.partition,
            &loc.account_id,
            &loc.region,
        )),
        (Field::Null, None, _) => Field::Unknown,
        (given, _, _) => given.clone(),
    };
    p.s.bucket_arn =
        p.s.bucket_name
            .clone()
            .map(|b| policy::bucket_arn(&loc.partition, &b));
}
