//! The record of one call: which operation, where, and what the proxy did
//! with it.

use std::fmt;
use std::time::Duration;

use super::rule::Action;

/// Request bodies up to this size are kept with the call.
pub const MAX_KEPT_BODY: usize = 64 * 1024;

/// What the proxy did with one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Forwarded,
    Delayed(Duration),
    /// Forwarded at once, answered no sooner than this after it arrived.
    TookAtLeast(Duration),
    /// Answered with this status and AWS error code.
    Failed(u16, String),
    Dropped,
    Held,
    HeldAfterForward,
    HeldThenForwarded,
    /// Forwarded, and the answer cut off halfway through its body.
    Cut,
    /// Not forwarded: answered by the proxy with this status.
    Answered(u16),
}

/// One call the proxy saw, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// `service:Operation`.
    pub op: String,
    /// `METHOD /path?query`.
    pub target: String,
    pub outcome: Outcome,
    /// Whether the path, query or body mentions `needle` (see [`Rule::containing`]).
    haystack: String,
    /// The request body as sent, when it is small (see [`Call::body`]).
    body: Vec<u8>,
}

impl Call {
    pub(super) fn new(op: &str, target: &str, outcome: Outcome, haystack: &str) -> Call {
        Call {
            op: op.to_owned(),
            target: target.to_owned(),
            outcome,
            haystack: haystack.to_owned(),
            body: Vec::new(),
        }
    }

    /// The same call, remembering `body` when it is at most
    /// [`MAX_KEPT_BODY`] bytes (a payload, not a code upload), or whatever
    /// its size with `keep` (see [`super::FaultProxy::keep_bodies`]).
    pub(super) fn with_body(mut self, body: &[u8], keep: bool) -> Call {
        if keep || body.len() <= MAX_KEPT_BODY {
            self.body = body.to_vec();
        }
        self
    }

    /// The request body as text, when one was kept and it is UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body)
            .ok()
            .filter(|b| !b.is_empty())
    }

    pub fn mentions(&self, needle: &str) -> bool {
        self.haystack.contains(needle)
    }

    /// The request body as sent (e.g. an `Invoke` payload); empty when the
    /// call had none or it was larger than [`MAX_KEPT_BODY`].
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) -> {:?}", self.op, self.target, self.outcome)
    }
}

impl Outcome {
    /// What `action` does to a call of `op` on `service`, as recorded.
    pub(super) fn of(action: &Action, service: &str, op: &str) -> Outcome {
        match action {
            Action::Fail(f) => {
                let (status, code, _) = f.render(service, op);
                Outcome::Failed(status, code)
            }
            Action::Delay(d) if d.is_zero() => Outcome::Forwarded,
            Action::Delay(d) => Outcome::Delayed(*d),
            Action::AtLeast(d) => Outcome::TookAtLeast(*d),
            Action::Drop => Outcome::Dropped,
            Action::Hold => Outcome::Held,
            Action::HoldAfterForward => Outcome::HeldAfterForward,
            Action::HoldThenForward => Outcome::HeldThenForwarded,
            Action::CutAnswer => Outcome::Cut,
            Action::Answer(c) => Outcome::Answered(c.status),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault_proxy::Fault;

    #[test]
    fn outcomes_name_what_was_done_and_a_failure_s_status_and_code() {
        assert_eq!(
            Outcome::of(&Action::Delay(Duration::ZERO), "s3", "s3:CreateBucket"),
            Outcome::Forwarded
        );
        let slow = Duration::from_millis(300);
        assert_eq!(
            Outcome::of(&Action::Delay(slow), "s3", "s3:CreateBucket"),
            Outcome::Delayed(slow)
        );
        assert_eq!(
            Outcome::of(&Action::Fail(Fault::AccessDenied), "iam", "iam:CreateRole"),
            Outcome::Failed(403, "AccessDenied".into())
        );
        assert_eq!(
            Outcome::of(
                &Action::Fail(Fault::Throttling),
                "lambda",
                "lambda:GetPolicy"
            ),
            Outcome::Failed(429, "TooManyRequestsException".into())
        );
        assert_eq!(Outcome::of(&Action::Drop, "s3", "s3:X"), Outcome::Dropped);
        assert_eq!(Outcome::of(&Action::Hold, "s3", "s3:X"), Outcome::Held);
        assert_eq!(
            Outcome::of(&Action::HoldAfterForward, "s3", "s3:X"),
            Outcome::HeldAfterForward
        );
        assert_eq!(
            Outcome::of(&Action::HoldThenForward, "s3", "s3:X"),
            Outcome::HeldThenForwarded
        );
    }
}
