//! `make install` puts the provider where a plain `terraform init` finds it:
//! Terraform's implicit local mirror, with no CLI configuration at all.

mod common;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{clis, process_text, unconfigured_provider_hcl};
use tests::{provider_bin, tools};

/// `make install-bin` into `home` with `PATH` as given; its stdout.
fn install_bin(home: &Path, bin_dir: &Path, path: &OsStr) -> String {
    let plugins = home.join(".terraform.d/plugins");
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
        .env("PATH", path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `PATH` with `dir` in front (or as it is, when `dir` is `None`).
fn path_with(dir: Option<&Path>) -> OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&current).collect();
    if let Some(dir) = dir {
        dirs.insert(0, dir.to_path_buf());
    }
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn make_install_says_how_to_put_bin_dir_on_path_when_it_is_not() {
    let home = tempfile::tempdir().unwrap();
    let bin_dir = home.path().join("bin");
    let text = install_bin(home.path(), &bin_dir, &path_with(None));
    let dir = bin_dir.display();
    for want in [
        format!("{dir} is not on your PATH, so your shell will not find 'eventpipe'"),
        format!("bash: echo 'export PATH=\"{dir}:$PATH\"' >> ~/.bashrc"),
        format!("zsh:  echo 'export PATH=\"{dir}:$PATH\"' >> ~/.zshrc"),
        format!("fish: fish_add_path '{dir}'"),
    ] {
        assert!(text.contains(&want), "{want:?} not in\n{text}");
    }
    // The bash line, run by bash, puts the directory on PATH.
    let rc = home.path().join(".bashrc");
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("bash: "))
        .unwrap()
        .replace("~/.bashrc", &rc.display().to_string());
    let run = Command::new("bash").arg("-c").arg(&line).output().unwrap();
    assert!(run.status.success(), "{line}");
    let which = Command::new("bash")
        .arg("--noprofile")
        .arg("--rcfile")
        .arg(&rc)
        .arg("-ic")
        .arg("command -v eventpipe")
        .env("PATH", path_with(None))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&which.stdout).trim(),
        bin_dir.join("eventpipe").display().to_string(),
        "{}",
        String::from_utf8_lossy(&which.stderr)
    );

    // Already on PATH (with a trailing slash, even): no hint.
    let text = install_bin(
        home.path(),
        &bin_dir,
        &path_with(Some(&PathBuf::from(format!("{dir}/")))),
    );
    assert!(text.contains("installed"), "{text}");
    assert!(!text.contains("not on your PATH"), "{text}");
}

#[test]
fn a_plain_terraform_init_finds_the_installed_provider() {
    let home = tempfile::tempdir().unwrap();
    let bin_dir = home.path().join("bin");
    let text = install_bin(home.path(), &bin_dir, &path_with(Some(&bin_dir)));
    assert!(
        text.contains("a plain 'terraform init' now finds"),
        "{text}"
    );
    assert!(!text.contains("not on your PATH"), "{text}");
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
