//! Writes the registry docs: the templates under `provider/templates/`
//! filled from the schemas and the registry examples under `examples/`.
//!
//! `cargo run -p terraform-provider-eventpipe --bin eventpipe-docs -- [OUT_DIR]`
//! (default `docs`).

use std::path::PathBuf;
use std::process::ExitCode;

use eventpipe::docs::{DocsError, Sources, pages};

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

fn run(out_dir: &std::path::Path) -> Result<(), DocsError> {
    for page in pages(eventpipe::provider::schemas(), &Sources::checkout())? {
        let path = page.write_under(out_dir)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
