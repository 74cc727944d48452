//! Lambda's package limits: 50 MB of zip in a direct upload (beyond it the
//! package is staged in S3), 250 MB unzipped (beyond it, no zip will do).

use crate::pipeline::source::{Kind, SourceFile, too_large_message};

pub use crate::pipeline::source::{MAX_IMAGE_UNZIPPED_BYTES, MAX_UNZIPPED_BYTES};

/// Lambda's limit for a zip uploaded directly with the API call.
pub const MAX_ZIPPED_BYTES: u64 = 50 * 1024 * 1024;

/// A package over this many bytes unzipped may be over
/// [`MAX_ZIPPED_BYTES`] zipped (deflate does not shrink incompressible
/// data, and the zip adds headers): such a package, or one with
/// dependencies (whose size is only known once installed), may need
/// staging.
pub const MAY_STAGE_UNZIPPED_BYTES: u64 = 45 * 1024 * 1024;

/// Whether a package of `unzipped` source bytes, with or without
/// dependencies, may have to be staged in S3.
pub fn may_need_staging(unzipped: u64, has_deps: bool) -> bool {
    has_deps || unzipped > MAY_STAGE_UNZIPPED_BYTES
}

/// Whether a zip of `len` bytes must be staged in S3.
pub fn needs_staging(len: usize) -> bool {
    len as u64 > MAX_ZIPPED_BYTES
}

/// The refusal of a package over the unzipped limit, or `None` when it
/// fits. `files` are every file of the package (source and dependencies).
pub fn check_unzipped(files: &[&SourceFile]) -> Option<String> {
    check_unzipped_as(Kind::Zip, files)
}

/// [`check_unzipped`] against the limit of `kind` (an image's is 10 GB).
pub fn check_unzipped_as(kind: Kind, files: &[&SourceFile]) -> Option<String> {
    let total: u64 = files.iter().map(|f| f.size).sum();
    let limit = kind.limit();
    (total > limit).then(|| too_large_message(total, limit, kind, files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(name: &str, size: u64) -> SourceFile {
        SourceFile {
            name: name.into(),
            path: PathBuf::from(name),
            executable: false,
            size,
        }
    }

    #[test]
    fn a_package_at_the_limit_fits_and_one_byte_more_does_not() {
        let a = file("a.bin", MAX_UNZIPPED_BYTES);
        assert!(check_unzipped(&[&a]).is_none());
        let b = file("b", 1);
        let msg = check_unzipped(&[&a, &b]).unwrap();
        assert!(msg.contains("250.0 MB"), "{msg}");
        assert!(msg.contains(&(MAX_UNZIPPED_BYTES + 1).to_string()), "{msg}");
        assert!(msg.contains("package_type = \"image\""), "{msg}");
    }

    #[test]
    fn an_image_may_hold_10_gb_and_its_refusal_gives_an_images_advice() {
        let a = file("model.bin", MAX_UNZIPPED_BYTES + 1);
        assert!(check_unzipped_as(Kind::Image, &[&a]).is_none());
        assert!(check_unzipped_as(Kind::Zip, &[&a]).is_some());
        let big = file("model.bin", MAX_IMAGE_UNZIPPED_BYTES);
        let b = file("app.py", 1);
        assert!(check_unzipped_as(Kind::Image, &[&big]).is_none());
        let msg = check_unzipped_as(Kind::Image, &[&big, &b]).unwrap();
        assert!(msg.contains("10240.0 MB"), "{msg}");
        assert!(msg.contains("a container image"), "{msg}");
        assert!(msg.contains("model.bin: 10240.0 MB"), "{msg}");
        assert!(!msg.contains("package_type = \"image\""), "{msg}");
    }

    #[test]
    fn the_message_names_the_largest_directories_first() {
        let files = [
            file("numpy/core/a.so", 200 << 20),
            file("numpy/b.py", 10 << 20),
            file("torch/lib.so", 90 << 20),
            file("app.py", 10),
        ];
        let refs: Vec<&SourceFile> = files.iter().collect();
        let msg = check_unzipped(&refs).unwrap();
        let numpy = msg.find("numpy: 210.0 MB").unwrap();
        let torch = msg.find("torch: 90.0 MB").unwrap();
        assert!(numpy < torch, "{msg}");
    }

    #[test]
    fn staging_starts_past_fifty_megabytes() {
        assert!(!needs_staging(50 * 1024 * 1024));
        assert!(needs_staging(50 * 1024 * 1024 + 1));
    }
}
