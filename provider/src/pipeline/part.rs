//! The parts a pipeline is made of, as data: which exist, which this run
//! made, which a refresh found. A [`PartSet`] answers all of those
//! questions; [`super::state::State::present`] and
//! [`super::state::State::mark_missing`] are how a set shows in the state.

use std::fmt;

/// One AWS resource of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// The S3 bucket, with its public access block, encryption, TLS-only
    /// policy and tags.
    Bucket,
    /// The function's IAM execution role.
    Role,
    /// The role's inline least-privilege policy (`policy_json`).
    Policy,
    /// The Lambda function.
    Function,
    /// The permission that lets S3 invoke the function.
    Permission,
    /// The pipeline's notification configurations on the bucket.
    Notification,
    /// The function's CloudWatch Logs group, made before the function.
    LogGroup,
    /// The SQS queue failed events go to, when the pipeline makes it.
    FailureQueue,
    /// The function's asynchronous invoke configuration (retries, event
    /// age, where failed events go).
    InvokeConfig,
    /// The Kinesis stream the pipeline makes.
    Stream,
    /// Lambda reading the stream (an event source mapping).
    StreamMapping,
    /// The SQS queue S3 notifies with `delivery = "queue"`.
    EventQueue,
    /// Lambda draining that queue (an event source mapping).
    EventQueueMapping,
    /// The ECR repository the pipeline makes for the function's image
    /// (`package_type = "image"` without `image.repository_name`), made
    /// before the function.
    Repository,
    /// The CloudWatch alarms of the `alarms` block (those that fit the
    /// pipeline's parts), as one part: put and deleted together.
    Alarms,
    /// The SNS topic the pipeline makes for `alarms.emails`, with its
    /// email subscriptions.
    AlarmTopic,
}

impl Part {
    /// Every part, in creation order.
    pub const ALL: [Part; 16] = [
        Part::Bucket,
        Part::Role,
        Part::Policy,
        Part::Function,
        Part::Permission,
        Part::Notification,
        Part::LogGroup,
        Part::FailureQueue,
        Part::InvokeConfig,
        Part::Stream,
        Part::StreamMapping,
        Part::EventQueue,
        Part::EventQueueMapping,
        Part::Repository,
        Part::Alarms,
        Part::AlarmTopic,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// How the part is named in messages ("the bucket").
    pub fn noun(self) -> &'static str {
        match self {
            Part::Bucket => "the bucket",
            Part::Role => "the role",
            Part::Policy => "the role's inline policy",
            Part::Function => "the function",
            Part::Permission => "the invoke permission",
            Part::Notification => "the bucket notification",
            Part::LogGroup => "the log group",
            Part::FailureQueue => "the failure queue",
            Part::InvokeConfig => "the invoke configuration",
            Part::Stream => "the stream",
            Part::StreamMapping => "the stream's event source mapping",
            Part::EventQueue => "the event queue",
            Part::EventQueueMapping => "the event queue's event source mapping",
            Part::Repository => "the image repository",
            Part::Alarms => "the alarms",
            Part::AlarmTopic => "the alarm topic",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// A set of parts.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PartSet(u16);

impl PartSet {
    pub const fn empty() -> PartSet {
        PartSet(0)
    }

    /// A set known at compile time.
    pub const fn of(parts: &[Part]) -> PartSet {
        let mut bits = 0u16;
        let mut i = 0;
        while i < parts.len() {
            bits |= 1 << (parts[i] as u16);
            i += 1;
        }
        PartSet(bits)
    }

    #[cfg(test)]
    pub fn all() -> PartSet {
        Part::ALL.into_iter().collect()
    }

    pub fn contains(self, p: Part) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn insert(&mut self, p: Part) {
        self.0 |= p.bit();
    }

    pub fn remove(&mut self, p: Part) {
        self.0 &= !p.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The parts in `self` but not in `other`.
    pub fn minus(self, other: PartSet) -> PartSet {
        PartSet(self.0 & !other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Part> {
        Part::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Part> for PartSet {
    fn from_iter<I: IntoIterator<Item = Part>>(iter: I) -> Self {
        let mut s = PartSet::empty();
        for p in iter {
            s.insert(p);
        }
        s
    }
}

impl<const N: usize> From<[Part; N]> for PartSet {
    fn from(parts: [Part; N]) -> Self {
        parts.into_iter().collect()
    }
}

impl fmt::Debug for PartSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_was_put_in() {
        let mut s = PartSet::from([Part::Bucket, Part::Function]);
        assert!(s.contains(Part::Bucket) && s.contains(Part::Function));
        assert!(!s.contains(Part::Role));
        s.remove(Part::Bucket);
        assert_eq!(s.iter().collect::<Vec<_>>(), [Part::Function]);
        assert_eq!(PartSet::all().minus(s).iter().count(), Part::ALL.len() - 1);
        assert!(PartSet::empty().is_empty());
        assert_eq!(format!("{s:?}"), "{Function}");
    }
}
