//! `xtask`: the release automation behind `make release` and `make mirror`.
//! Plain Make targets are the front door; this is what they run.

mod archive;
mod hashes;
mod mirror;
mod release;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "Release automation for eventpipe")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pack built binaries into reproducible release archives, with sums,
    /// the registry manifest and (with GPG_FINGERPRINT set) a signature.
    Release {
        #[arg(long)]
        version: String,
        /// Terraform's platform name, e.g. linux_amd64.
        #[arg(long)]
        os_arch: String,
        /// The folder holding the built terraform-provider-eventpipe and eventpipe.
        #[arg(long)]
        bin_dir: PathBuf,
        #[arg(long, default_value = "terraform-registry-manifest.json")]
        registry_manifest: PathBuf,
        #[arg(long, default_value = "dist")]
        out: PathBuf,
    },
    /// Assemble one release from several platforms' `release` output
    /// gathered in `dist`: sums over every archive (signed with
    /// GPG_FINGERPRINT set). What a release workflow runs after its
    /// platform matrix.
    Assemble {
        #[arg(long)]
        version: String,
        #[arg(long, default_value = "dist")]
        dist: PathBuf,
    },
    /// Add a release from `dist` to a static provider network mirror.
    Mirror {
        #[arg(long)]
        version: String,
        #[arg(long, default_value = "dist")]
        dist: PathBuf,
        /// The mirror's root: serve this folder over HTTPS.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The key that signs the sums, from `GPG_FINGERPRINT`.
fn gpg_key() -> Option<String> {
    std::env::var("GPG_FINGERPRINT")
        .ok()
        .filter(|key| !key.trim().is_empty())
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Release {
            version,
            os_arch,
            bin_dir,
            registry_manifest,
            out,
        } => {
            let gpg_key = gpg_key();
            let written = release::run(&release::Release {
                version,
                os_arch,
                provider_bin: bin_dir.join(release::PROVIDER),
                cli_bin: bin_dir.join(release::CLI),
                registry_manifest,
                out,
                gpg_key,
            })?;
            for path in written {
                println!("{}", path.display());
            }
        }
        Command::Assemble { version, dist } => {
            let platforms = release::assemble(&dist, &version, gpg_key().as_deref())?;
            println!(
                "{}: {version} for {}",
                dist.join(release::sums_name(&version)).display(),
                platforms.join(", ")
            );
        }
        Command::Mirror { version, dist, out } => {
            let dir = mirror::run(&dist, &version, &out)?;
            println!("{}", dir.display());
            println!(
                "serve {} over HTTPS and point provider_installation {{ network_mirror {{ url = \"https://HOST/\" }} }} at it",
                out.display()
            );
        }
    }
    Ok(())
}
