//! Writes the registry docs generated from the schemas.
//!
//! `cargo run -p terraform-provider-eventpipe --bin eventpipe-docs -- [OUT_DIR]`
//! (default `docs`). The registry examples are read from the repository's
//! `examples/` directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use eventpipe::docs::{Examples, pages};

fn main() -> ExitCode {
    let out_dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("docs"), PathBuf::from);
    match run(&out_dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eventpipe-docs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(out_dir: &Path) -> std::io::Result<()> {
    let examples_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let examples = Examples::load(&examples_dir)?;
    for page in pages(eventpipe::provider::schemas(), &examples) {
        let path = out_dir.join(&page.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, page.markdown)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
