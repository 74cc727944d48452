//! Names for files written beside their final place and renamed into it, so
//! a reader never sees half a file: unique among the threads of this
//! process and, through the time, among processes that reuse its id.

use std::sync::atomic::{AtomicU64, Ordering};

/// `<pid>-<counter>-<nanoseconds>`: a suffix no other writer in the same
/// directory uses at the same time.
pub fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_call_gives_another_name() {
        let names: std::collections::BTreeSet<String> =
            (0..1000).map(|_| super::unique()).collect();
        assert_eq!(names.len(), 1000);
        assert!(
            names
                .iter()
                .all(|n| n.starts_with(&format!("{}-", std::process::id())))
        );
    }
}
