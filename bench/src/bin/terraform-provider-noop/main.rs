//! `terraform-provider-noop`: the do-nothing provider, the fair floor of
//! BENCHMARKS.md figure 12. It is served by the same `tfsdk` transport and
//! the same AutoMTLS cryptography as `terraform-provider-eventpipe`, so
//! Terraform pays for it what it pays for any plugin (checking the package
//! against the lock file, the client certificate, start, handshake, stop),
//! and nothing else: its resources, `noop_thing` and `noop_pipeline` (the
//! pipeline's schema, to measure Terraform's own work on a resource of that
//! size), do no I/O.
//!
//! Built with the bench, never shipped: `make release` packs only the
//! eventpipe binaries.

mod provider;

fn main() -> std::process::ExitCode {
    let opts = tfsdk::ServeOptions {
        address: provider::SOURCE_ADDRESS,
        binary_name: "terraform-provider-noop",
        version: "1.0.0",
        display_name: "noop",
        quiet_log_targets: &[],
        crypto: eventpipe::crypto::CRYPTO,
    };
    tfsdk::serve(opts, provider::NoopProvider::new)
}
