//! The record of one call: which operation, where, and what the proxy did
//! with it.

use std::fmt;
use std::time::Duration;

use super::rule::Action;

/// What the proxy did with one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Forwarded,
    Delayed(Duration),
    /// Answered with this status and AWS error code.
    Failed(u16, String),
    Dropped,
    Held,
    HeldAfterForward,
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
    /// The request body, for the operations the proxy was asked to keep
    /// them of ([`super::FaultProxy::keep_bodies`]).
    body: Option<String>,
}

impl Call {
    pub(super) fn new(op: &str, target: &str, outcome: Outcome, haystack: &str) -> Call {
        Call {
            op: op.to_owned(),
            target: target.to_owned(),
            outcome,
            haystack: haystack.to_owned(),
            body: None,
        }
    }

    pub(super) fn with_body(mut self, body: Option<String>) -> Call {
        self.body = body;
        self
    }

    /// The request body as text, when the proxy kept it (see
    /// [`super::FaultProxy::keep_bodies`]).
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    pub fn mentions(&self, needle: &str) -> bool {
        self.haystack.contains(needle)
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
            Action::Drop => Outcome::Dropped,
            Action::Hold => Outcome::Held,
            Action::HoldAfterForward => Outcome::HeldAfterForward,
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
    }
}
