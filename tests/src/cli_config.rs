//! The Terraform CLI configuration the tests run with.

use std::path::Path;

use crate::mirror::PROVIDER_NAMESPACE_PATTERN;

/// Installs our provider only from the filesystem mirror at `mirror_root`
/// and everything else (there is nothing else) directly.
pub fn render_with_mirror(mirror_root: &Path) -> String {
    let path = hcl_string(&mirror_root.display().to_string());
    format!(
        "provider_installation {{\n  \
           filesystem_mirror {{\n    \
             path    = {path}\n    \
             include = [\"{PROVIDER_NAMESPACE_PATTERN}\"]\n  \
           }}\n  \
           direct {{\n    \
             exclude = [\"{PROVIDER_NAMESPACE_PATTERN}\"]\n  \
           }}\n\
         }}\n"
    )
}

/// Installs our provider only from the provider network mirror at `url`
/// (which must end with `/`); nothing else can be installed.
pub fn render_with_network_mirror(url: &str) -> String {
    let url = hcl_string(url);
    format!(
        "provider_installation {{\n  \
           network_mirror {{\n    \
             url     = {url}\n    \
             include = [\"{PROVIDER_NAMESPACE_PATTERN}\"]\n  \
           }}\n\
         }}\n"
    )
}

/// A configuration for runs that need no provider (it must exist: the
/// machine's TF_CLI_CONFIG_FILE may point at a missing file).
pub fn render_without_providers() -> String {
    "# eventpipe tests: no provider installation settings\n".to_string()
}

/// A quoted string literal (the CLI configuration is HCL 1: no interpolation).
fn hcl_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_config_names_the_path_and_our_namespace() {
        let text = render_with_mirror(Path::new("/tmp/m"));
        assert!(text.contains("path    = \"/tmp/m\""), "{text}");
        assert!(
            text.contains("include = [\"registry.terraform.io/eventpipe/*\"]"),
            "{text}"
        );
        assert!(
            text.contains("exclude = [\"registry.terraform.io/eventpipe/*\"]"),
            "{text}"
        );
    }

    #[test]
    fn the_network_mirror_config_names_the_url_and_our_namespace() {
        let text = render_with_network_mirror("https://127.0.0.1:8443/");
        assert!(text.contains("network_mirror {"), "{text}");
        assert!(
            text.contains("url     = \"https://127.0.0.1:8443/\""),
            "{text}"
        );
        assert!(
            text.contains("include = [\"registry.terraform.io/eventpipe/*\"]"),
            "{text}"
        );
        assert!(!text.contains("direct"), "{text}");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
