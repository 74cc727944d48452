//! Fault rules: which calls a rule picks (operation, a text the call must
//! mention, which of the matching calls) and what is done to them. Pure
//! bookkeeping; the server asks [`Rules::decide`] once per call.

use std::time::Duration;

use super::fault::Fault;

/// Bodies larger than this are not searched for a rule's `needle`.
const MAX_SEARCHED_BODY: usize = 1024 * 1024;

/// What happens to a call a rule picks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Fail(Fault),
    /// Wait, then forward.
    Delay(Duration),
    /// Forward at once, and answer no sooner than this long after the call
    /// arrived: a service that takes this long for a call however many
    /// arrive together, as AWS serves them side by side. The emulator's own
    /// time for the call, and its queue (it serves one call at a time), are
    /// hidden under it when they are shorter, and show when longer.
    AtLeast(Duration),
    /// Close the connection without answering.
    Drop,
    /// Do not forward; wait until [`FaultProxy::release`], then drop.
    Hold,
    /// Forward (so AWS does the work), then withhold the answer until
    /// [`FaultProxy::release`], then drop: the caller never learns it worked.
    HoldAfterForward,
    /// Keep the call in flight until [`FaultProxy::release`], then forward
    /// it, so AWS does the work after the caller may have gone (a request
    /// that completes although its sender was killed).
    HoldThenForward,
    /// Forward, then relay the answer's head and only half of its body, and
    /// close: a connection cut in the middle of a download.
    CutAnswer,
    /// Do not forward; answer as the service would have, with this status,
    /// these headers and this body (e.g. a Lambda `Invoke` whose function
    /// failed, which moto without docker never reports).
    Answer(Canned),
}

/// A whole answer the proxy gives instead of the emulator's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How long the proxy waits before it answers (see [`Rule::after`]).
    pub delay: Duration,
}

/// Which of the matching calls a rule acts on, counting from 1 the calls
/// that arrive after the rule was added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Nth(u32),
    /// Calls `from` to `from + count - 1`.
    Calls {
        from: u32,
        count: u32,
    },
    Always,
    /// Each call with this probability, from the proxy's seeded generator.
    Percent(u8),
}

/// One fault rule: which calls, which of them, what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `s3:CreateBucket`, `s3:*` (a whole service) or `*`.
    pub op: String,
    /// When set, the call's path, query or body must contain this text
    /// (e.g. a pipeline's name, to aim at one resource among many).
    pub needle: Option<String>,
    pub when: When,
    pub action: Action,
}

impl Rule {
    /// Calls of operation `op` (`service:Operation`, `service:*` or `*`);
    /// by default every one, forwarded untouched.
    pub fn on(op: &str) -> Rule {
        Rule {
            op: op.to_owned(),
            needle: None,
            when: When::Always,
            action: Action::Delay(Duration::ZERO),
        }
    }

    /// Every call of every service.
    pub fn any() -> Rule {
        Rule::on("*")
    }

    /// Only calls whose path, query or body contains `needle`.
    pub fn containing(mut self, needle: &str) -> Rule {
        self.needle = Some(needle.to_owned());
        self
    }

    pub fn nth(mut self, n: u32) -> Rule {
        self.when = When::Nth(n);
        self
    }

    /// The first `count` matching calls.
    pub fn first(mut self, count: u32) -> Rule {
        self.when = When::Calls { from: 1, count };
        self
    }

    pub fn percent(mut self, p: u8) -> Rule {
        self.when = When::Percent(p.min(100));
        self
    }

    pub fn fail(mut self, fault: Fault) -> Rule {
        self.action = Action::Fail(fault);
        self
    }

    pub fn delay(mut self, d: Duration) -> Rule {
        self.action = Action::Delay(d);
        self
    }

    /// Forward at once; answer no sooner than `d` after the call arrived
    /// (see [`Action::AtLeast`]).
    pub fn taking_at_least(mut self, d: Duration) -> Rule {
        self.action = Action::AtLeast(d);
        self
    }

    pub fn drop_connection(mut self) -> Rule {
        self.action = Action::Drop;
        self
    }

    /// Cut the answer off halfway through its body.
    pub fn cut_answer(mut self) -> Rule {
        self.action = Action::CutAnswer;
        self
    }

    /// Answer with `status`, `headers` and `body` instead of forwarding.
    pub fn answer(mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> Rule {
        self.action = Action::Answer(Canned {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
            delay: Duration::ZERO,
        });
        self
    }

    /// With [`Rule::answer`]: wait `d` before answering, as a call to a
    /// distant service would (the emulator does no work for the call).
    pub fn after(mut self, d: Duration) -> Rule {
        if let Action::Answer(c) = &mut self.action {
            c.delay = d;
        }
        self
    }

    pub fn hold(mut self) -> Rule {
        self.action = Action::Hold;
        self
    }

    pub fn hold_after_forward(mut self) -> Rule {
        self.action = Action::HoldAfterForward;
        self
    }

    pub fn hold_then_forward(mut self) -> Rule {
        self.action = Action::HoldThenForward;
        self
    }

    /// Whether a call of `op` whose path, query and body read `haystack`
    /// is one of this rule's calls.
    fn matches(&self, op: &str, haystack: &str) -> bool {
        let op_ok = match self.op.as_str() {
            "*" => true,
            wanted => match wanted.strip_suffix(":*") {
                Some(service) => op.split(':').next() == Some(service),
                None => op == wanted,
            },
        };
        op_ok && self.needle.as_deref().is_none_or(|n| haystack.contains(n))
    }
}

/// A rule with the number of matching calls it has seen.
struct ActiveRule {
    rule: Rule,
    seen: u32,
}

/// The rules in force, in the order they were added, and the seeded
/// generator `Percent` rules draw from.
pub(super) struct Rules {
    active: Vec<ActiveRule>,
    rng: u64,
}

impl Rules {
    pub(super) fn new(seed: u64) -> Rules {
        Rules {
            active: Vec::new(),
            rng: seed,
        }
    }

    pub(super) fn add(&mut self, rule: Rule) {
        self.active.push(ActiveRule { rule, seen: 0 });
    }

    pub(super) fn clear(&mut self) {
        self.active.clear();
    }

    /// What to do with a call of `op`: the action of the first rule that
    /// fires, else forward it. Every matching rule counts the call.
    pub(super) fn decide(&mut self, op: &str, haystack: &str) -> Action {
        let mut chosen = None;
        for active in self.active.iter_mut() {
            if !active.rule.matches(op, haystack) {
                continue;
            }
            active.seen += 1;
            let n = active.seen;
            let fires = match active.rule.when {
                When::Nth(k) => n == k,
                When::Calls { from, count } => n >= from && n < from.saturating_add(count),
                When::Always => true,
                When::Percent(p) => (next_random(&mut self.rng) % 100) < u64::from(p),
            };
            if fires && chosen.is_none() {
                chosen = Some(active.rule.action.clone());
            }
        }
        chosen.unwrap_or(Action::Delay(Duration::ZERO))
    }
}

/// splitmix64: small, seeded, good enough to pick which calls fail.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The text a rule's `needle` is looked for in: the decoded path and query,
/// and the body when it is text of reasonable size.
pub(super) fn haystack(target: &str, headers: &[(String, String)], body: &[u8]) -> String {
    let mut h = percent_encoding::percent_decode_str(target)
        .decode_utf8_lossy()
        .into_owned();
    let binary = super::http1::header(headers, "content-type")
        .is_some_and(|t| t.contains("octet-stream") || t.contains("zip"));
    if !binary && body.len() <= MAX_SEARCHED_BODY {
        h.push('\n');
        let text = String::from_utf8_lossy(body);
        h.push_str(
            &percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy(),
        );
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_pick_the_nth_call_a_range_and_a_named_resource() {
        let mut rules = Rules::new(7);
        rules.add(
            Rule::on("iam:CreateRole")
                .containing("p02")
                .nth(2)
                .fail(Fault::AccessDenied),
        );
        rules.add(Rule::on("lambda:*").first(2).drop_connection());
        let pass = Action::Delay(Duration::ZERO);
        assert_eq!(rules.decide("iam:CreateRole", "p02-role"), pass);
        assert_eq!(rules.decide("iam:CreateRole", "p01-role"), pass);
        assert_eq!(
            rules.decide("iam:CreateRole", "p02-role"),
            Action::Fail(Fault::AccessDenied)
        );
        assert_eq!(rules.decide("iam:CreateRole", "p02-role"), pass);
        assert_eq!(rules.decide("lambda:GetPolicy", ""), Action::Drop);
        assert_eq!(rules.decide("lambda:AddPermission", ""), Action::Drop);
        assert_eq!(rules.decide("lambda:AddPermission", ""), pass);
    }

    #[test]
    fn percentages_are_reproducible_from_the_seed() {
        let draw = |seed: u64| {
            let mut s = seed;
            (0..1000).filter(|_| next_random(&mut s) % 100 < 30).count()
        };
        assert_eq!(draw(42), draw(42));
        let n = draw(42);
        assert!((230..370).contains(&n), "{n} of 1000 at 30%");
    }

    #[test]
    fn the_needle_is_looked_for_in_the_decoded_target_and_a_text_body() {
        let form = [(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        let h = haystack("/b%2Fk?tagging", &form, b"RoleName=p02-role&Tag.1=a+b");
        assert!(h.contains("/b/k?tagging"), "{h}");
        assert!(h.contains("RoleName=p02-role&Tag.1=a b"), "{h}");
        let zip = [("Content-Type".to_owned(), "application/zip".to_owned())];
        assert!(!haystack("/f", &zip, b"p02").contains("p02"));
    }
}
