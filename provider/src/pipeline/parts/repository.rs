//! The ECR repository the pipeline makes for the function's image
//! (`package_type = "image"` without `image.repository_name`).

use tfsdk::access::Field;

use super::super::part::Part;
use super::super::state::{Known, PACKAGE_IMAGE, State};
use super::super::step::{Change, Op};
use super::super::{desired, ecr_policy, naming, policy};
use super::{Converge, Merge, Plan};

/// A given `image.repository_name` new to this apply must exist before
/// anything is made or changed.
pub fn check_given(c: &mut Converge) {
    let given = |s: &State<Known>| {
        (s.function.package_type == PACKAGE_IMAGE)
            .then(|| s.function.image.as_ref()?.repository_name.clone())
            .flatten()
    };
    if given(c.want).is_some() && c.prior.map(given) != Some(given(c.want)) {
        c.at.repository_check = Some(c.steps.add(Op::CheckRepository, []));
    }
}

/// Made (also when the function switches to an image), or its settings
/// and tags put back, before the function, which pulls from it.
pub fn converge(c: &mut Converge) {
    let want = c.want;
    c.at.repository = if c.wants(Part::Repository) {
        match c.make(Part::Repository) {
            Some(op) if c.had(Part::Repository) || c.prior.is_none() => c.steps.chain([op], []),
            Some(_) => c.steps.chain([Op::Create(Part::Repository)], []),
            None => {
                let mut ops: Vec<Op> = c.claim(Part::Repository).into_iter().collect();
                if c.changed(|p| desired::repository(p) != desired::repository(want)) {
                    ops.push(Op::Update(Part::Repository, Change::Settings));
                }
                if c.retag() {
                    ops.push(Op::Update(Part::Repository, Change::Tags));
                }
                c.steps.chain(ops, [])
            }
        }
    } else {
        None
    };
}

/// A repository no longer wanted (the function switched to a zip, or to a
/// given `repository_name`) goes, with its images, once the function no
/// longer uses it, also when an earlier apply switched the function and
/// failed before the repository went (`desired::left_repository`); one
/// under the pipeline's old name, once the new one is in use.
pub fn drop(c: &mut Converge) {
    let function = c.at.function;
    let left = c.prior.and_then(desired::left_repository).is_some();
    if (c.had(Part::Repository) || left) && !c.wants(Part::Repository) {
        c.steps.add(Op::Delete(Part::Repository), [function]);
    }
    if c.renamed.contains(Part::Repository) {
        c.steps.add(Op::DeleteOld(Part::Repository), [function]);
    }
}

/// A repository whose settings, policies or tags are not the plan's shows
/// as missing, so the plan shows it and the apply puts it back (a repository
/// found with this pipeline's name is adopted when its tag says it is
/// ours). Documents are compared on meaning: ECR may store them in another
/// layout.
pub fn merge(m: &mut Merge) {
    let Some(want) = desired::repository(m.state) else {
        return;
    };
    let Some(seen) = &m.seen.repository else {
        return;
    };
    let same = seen.repository.scan_on_push == want.scan_on_push
        // The tags this refresh records (the function's), as for the alarms.
        && seen.tags == desired::part_tags(&m.s)
        && seen
            .lifecycle_policy
            .as_deref()
            .is_some_and(|d| ecr_policy::same_lifecycle_policy(d, &want.lifecycle_policy))
        && seen
            .repository_policy
            .as_deref()
            .is_some_and(|d| ecr_policy::same_repository_policy(d, &want.repository_policy));
    if same {
        m.s.image_repository_url = Some(seen.repository.uri.clone());
    } else {
        m.s.mark_missing(Part::Repository);
    }
}

/// The repository's URL, known at plan from the account, the region and
/// the repository's name (given, or `<name>` in lower case); null for a zip.
pub fn plan(p: &mut Plan) {
    let f = &p.config.function;
    let given = match &f.image {
        Field::Known(i) => i.repository_name.clone(),
        Field::Null => Field::Null,
        Field::Unknown => Field::Unknown,
    };
    let name = match given {
        Field::Known(r) => Field::Known(r),
        Field::Null => p.config.name.clone().map(|n| naming::repository_name(&n)),
        Field::Unknown => Field::Unknown,
    };
    let loc = p.loc;
    p.s.image_repository_url = match &f.package_type {
        Field::Known(t) if t == PACKAGE_IMAGE => name.map(|n| policy::repository_url(loc, &n)),
        Field::Known(_) | Field::Null => Field::Null,
        Field::Unknown => Field::Unknown,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::observed::{Observed, Repository, RepositoryFound};
    use crate::pipeline::private::Private;
    use crate::pipeline::state::tests::known_state;

    fn image_state(name: &str) -> State<Known> {
        let mut s = known_state(name);
        s.function.package_type = PACKAGE_IMAGE.into();
        s.image_repository_url = Some(format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"
        ));
        s
    }

    /// The repository as the pipeline makes it.
    fn as_made(s: &State<Known>) -> RepositoryFound {
        let want = desired::repository(s).expect("makes one");
        RepositoryFound {
            repository: Repository {
                name: want.name.clone(),
                arn: format!(
                    "arn:aws:ecr:us-east-1:123456789012:repository/{}",
                    want.name
                ),
                uri: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{}", want.name),
                registry_id: "123456789012".into(),
                scan_on_push: want.scan_on_push,
            },
            tags: desired::part_tags(s),
            // Stored pretty-printed, as AWS gives documents back.
            lifecycle_policy: Some(pretty(&want.lifecycle_policy)),
            repository_policy: Some(pretty(&want.repository_policy)),
        }
    }

    fn pretty(doc: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(doc).expect("JSON");
        serde_json::to_string_pretty(&v).expect("text")
    }

    fn merged(s: &State<Known>, found: RepositoryFound) -> State<Known> {
        let seen = Observed {
            repository: Some(found),
            ..Observed::default()
        };
        let private = Private::default();
        let mut m = Merge {
            s: s.clone(),
            state: s,
            seen: &seen,
            private: &private,
        };
        merge(&mut m);
        m.s
    }

    #[test]
    fn a_repository_as_planned_stays_and_any_drift_shows_it_missing() {
        let s = image_state("Orders");
        assert!(s.wanted().contains(Part::Repository));
        assert_eq!(desired::repository(&s).expect("one").name, "orders");
        // Documents in another layout are the same.
        assert!(merged(&s, as_made(&s)).present().contains(Part::Repository));
        type Drift = fn(&mut RepositoryFound);
        let drifts: [(&str, Drift); 5] = [
            ("scan on push", |f| f.repository.scan_on_push = false),
            ("a tag", |f| {
                f.tags.insert("extra".into(), "1".into());
            }),
            ("the lifecycle policy", |f| {
                f.lifecycle_policy = Some(ecr_policy::lifecycle_policy(99));
            }),
            ("no lifecycle policy", |f| f.lifecycle_policy = None),
            ("the repository policy", |f| {
                f.repository_policy = Some(ecr_policy::repository_policy("arn:other"));
            }),
        ];
        for (what, drift) in drifts {
            let mut found = as_made(&s);
            drift(&mut found);
            let r = merged(&s, found);
            assert!(!r.present().contains(Part::Repository), "{what}");
            assert_eq!(r.image_repository_url.as_deref(), Some(""), "{what}");
        }
    }

    #[test]
    fn only_an_image_without_a_given_repository_makes_one() {
        let zip = known_state("orders");
        assert!(!zip.wanted().contains(Part::Repository));
        assert_eq!(desired::repository(&zip), None);
        let mut given = image_state("orders");
        given.function.image = Some(crate::pipeline::state::ImageBlock {
            base_image: None,
            repository_name: Some("shared".into()),
            keep_images: 10,
            scan_on_push: true,
        });
        assert!(!given.wanted().contains(Part::Repository));
        assert_eq!(desired::repository(&given), None);
        // A drifted given repository is never looked at.
        let m = merged(&given, as_made(&image_state("orders")));
        assert_eq!(m.image_repository_url, given.image_repository_url);
    }
}
