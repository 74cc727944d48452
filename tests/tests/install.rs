//! `make install` puts the provider where a plain `terraform init` finds it:
//! Terraform's implicit local mirror, with no CLI configuration at all.

mod common;

use std::process::Command;

use common::{clis, process_text, unconfigured_provider_hcl};
use tests::{provider_bin, tools};

#[test]
fn a_plain_terraform_init_finds_the_installed_provider() {
    let home = tempfile::tempdir().unwrap();
    let plugins = home.path().join(".terraform.d/plugins");
    let bin_dir = home.path().join("bin");
    let out = Command::new("make")
        .arg("-C")
        .arg(tools::repo_root())
        .arg("--no-print-directory")
        .arg("install-bin")
        .arg(format!(
            "BIN={}",
            provider_bin::provider_binary().unwrap().display()
        ))
        .arg(format!("PLUGIN_DIR={}", plugins.display()))
        .arg(format!("BIN_DIR={}", bin_dir.display()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("a plain 'terraform init' now finds"),
        "{text}"
    );
    // The `eventpipe` command line, built beside the provider, goes too.
    let cli = bin_dir.join("eventpipe");
    assert!(cli.is_file(), "{text}");
    let help = Command::new(&cli).arg("--help").output().unwrap();
    let help_text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{help_text}");
    assert!(help_text.contains("package"), "{help_text}");
    let help = Command::new(&cli)
        .args(["package", "--help"])
        .output()
        .unwrap();
    let help_text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--source-dir", "--runtime", "--architecture", "--output"] {
        assert!(help_text.contains(flag), "{flag}: {help_text}");
    }

    for tf in clis() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), unconfigured_provider_hcl()).unwrap();
        let run = |args: &[&str]| {
            Command::new(&tf.path)
                .args(args)
                .current_dir(dir.path())
                .env("HOME", home.path())
                .env_remove("TF_CLI_CONFIG_FILE")
                .env_remove("TF_PLUGIN_CACHE_DIR")
                .env("CHECKPOINT_DISABLE", "1")
                .env("TF_IN_AUTOMATION", "1")
                .output()
                .unwrap()
        };
        let init = run(&["init", "-no-color"]);
        let text = process_text(&init);
        assert!(init.status.success(), "{}: {text}", tf.label);
        assert!(
            text.contains("Installed eventpipe/eventpipe v0.2.0"),
            "{}: {text}",
            tf.label
        );
        let validate = run(&["validate", "-no-color"]);
        assert!(
            validate.status.success(),
            "{}: {}",
            tf.label,
            String::from_utf8_lossy(&validate.stderr)
        );
    }
}
