//! What to untag and what to (re)tag to turn one tag set into another.

use std::collections::BTreeMap;

/// The difference between the tags a resource has and the tags it should
/// have: keys to remove, and keys to set (new or with a changed value).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagDiff {
    pub remove: Vec<String>,
    pub set: BTreeMap<String, String>,
}

pub fn diff(have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> TagDiff {
    TagDiff {
        remove: have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect(),
        set: want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn removes_stale_keys_and_sets_new_or_changed_ones() {
        let d = diff(
            &tags(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &tags(&[("a", "1"), ("b", "20"), ("d", "4")]),
        );
        assert_eq!(d.remove, ["c"]);
        assert_eq!(d.set, tags(&[("b", "20"), ("d", "4")]));
        assert_eq!(diff(&d.set, &d.set), TagDiff::default());
    }
}
