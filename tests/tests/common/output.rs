//! Terraform's output as text a test can search: diagnostics are drawn in
//! boxes and long lines are wrapped, so a phrase may span lines.

use tests::Output;

/// `text` with every run of white space made one space.
pub fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Terraform's output with box drawing removed and white space folded.
pub fn flat(out: &Output) -> String {
    folded(&out.combined().replace(['│', '╷', '╵'], " "))
}

/// stdout then stderr of a process run outside a workspace.
pub fn process_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
