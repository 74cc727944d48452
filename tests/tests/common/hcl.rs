//! The HCL the tests write: the handler, the provider block and the
//! pipeline resource. Tests that break a configuration on purpose edit this
//! text, so its layout (column alignment included) is part of the contract.

use tests::Moto;
use tests::mirror::required_providers_hcl;

/// A handler that does what the seed pipeline's function does.
pub const APP_PY: &str = "import json\n\n\ndef handler(event, context):\n    \
records = event.get(\"Records\", [])\n    return {\"processed\": len(records)}\n";

/// The `required_providers` block and a provider block that talks to
/// `endpoint` with static test credentials.
#[derive(Clone, Debug)]
pub struct ProviderBlock {
    endpoint: String,
    region: String,
    settings: String,
}

impl ProviderBlock {
    /// In us-east-1, with no further settings.
    pub fn new(endpoint: &str) -> ProviderBlock {
        ProviderBlock {
            endpoint: endpoint.to_owned(),
            region: tests::aws::REGION.to_owned(),
            settings: String::new(),
        }
    }

    pub fn region(mut self, region: &str) -> ProviderBlock {
        self.region = region.to_owned();
        self
    }

    /// One more line after the credentials, e.g. `max_retries  = 3`.
    pub fn setting(mut self, line: &str) -> ProviderBlock {
        self.settings.push_str(&format!("  {line}\n"));
        self
    }

    pub fn hcl(&self) -> String {
        format!(
            "{}\nprovider \"eventpipe\" {{\n  region       = \"{}\"\n  endpoint_url = \"{}\"\n  \
             access_key   = \"test\"\n  secret_key   = \"test\"\n{}}}\n",
            required_providers_hcl(),
            self.region,
            self.endpoint,
            self.settings
        )
    }
}

/// The provider block pointing at the emulator through its own setting.
pub fn provider_hcl(moto: &Moto) -> String {
    ProviderBlock::new(&moto.endpoint()).hcl()
}

/// The `required_providers` block and a provider block with no settings
/// (for runs that never reach AWS).
pub fn unconfigured_provider_hcl() -> String {
    format!("{}provider \"eventpipe\" {{}}\n", required_providers_hcl())
}

/// One `eventpipe_event_pipeline` resource. [`Pipeline::seed`] is the seed
/// pipeline; the other methods change one part of it.
#[derive(Clone, Debug)]
pub struct Pipeline {
    name: String,
    bucket: String,
    require_tls: bool,
    extra: String,
    handler: String,
    runtime: String,
    /// `timeout` and `memory_size`; none: the provider's defaults.
    timeout: Option<u32>,
    memory: Option<u32>,
    /// Lines (each ending in a newline) at the end of the function block.
    function_lines: String,
    filter_prefix: String,
    /// The seed trigger's `filter_suffix`; none: no suffix filter.
    filter_suffix: Option<String>,
    force_destroy: bool,
    /// Trigger blocks that replace the seed's one trigger.
    triggers: Option<Vec<String>>,
}

/// One `trigger` block: `events` (e.g. `["s3:ObjectCreated:*"]`) and the
/// filters that are set.
pub fn trigger_hcl(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> String {
    let events: Vec<String> = events.iter().map(|e| format!("\"{e}\"")).collect();
    let mut block = format!(
        "  trigger {{\n    events        = [{}]\n",
        events.join(", ")
    );
    if let Some(p) = prefix {
        block.push_str(&format!("    filter_prefix = \"{p}\"\n"));
    }
    if let Some(s) = suffix {
        block.push_str(&format!("    filter_suffix = \"{s}\"\n"));
    }
    block.push_str("  }\n");
    block
}

impl Pipeline {
    /// The seed pipeline: bucket (force_destroy, no TLS-only policy: moto
    /// treats its condition as a blanket deny), function from ./app
    /// (app.handler, Python 3.12, 60 s, 512 MB), trigger on data/*.json.
    pub fn seed(name: &str, bucket: &str) -> Pipeline {
        Pipeline {
            name: name.to_owned(),
            bucket: bucket.to_owned(),
            require_tls: false,
            extra: String::new(),
            handler: "app.handler".to_owned(),
            runtime: "python3.12".to_owned(),
            timeout: Some(60),
            memory: Some(512),
            function_lines: String::new(),
            filter_prefix: "data/".to_owned(),
            filter_suffix: Some(".json".to_owned()),
            force_destroy: true,
            triggers: None,
        }
    }

    /// The seed pipeline on an existing bucket it does not manage:
    /// `create_bucket = false` (and so no `force_destroy`).
    pub fn on_existing_bucket(name: &str, bucket: &str) -> Pipeline {
        Pipeline::seed(name, bucket)
            .force_destroy(false)
            .extra("  create_bucket = false\n")
    }

    /// The seed pipeline on the bucket `<name>-bucket`.
    pub fn named(name: &str) -> Pipeline {
        Pipeline::seed(name, &format!("{name}-bucket"))
    }

    pub fn force_destroy(mut self, on: bool) -> Pipeline {
        self.force_destroy = on;
        self
    }

    /// Replaces the seed's trigger with these blocks (see [`trigger_hcl`]).
    pub fn triggers(mut self, blocks: &[String]) -> Pipeline {
        self.triggers = Some(blocks.to_vec());
        self
    }

    pub fn require_tls(mut self, on: bool) -> Pipeline {
        self.require_tls = on;
        self
    }

    /// Lines (each ending in a newline) put after `require_tls`.
    pub fn extra(mut self, lines: &str) -> Pipeline {
        self.extra.push_str(lines);
        self
    }

    /// `tags = <map>`, e.g. `{ team = "a" }`.
    pub fn tags(self, map: &str) -> Pipeline {
        self.extra(&format!("  tags          = {map}\n"))
    }

    pub fn timeout(mut self, seconds: u32) -> Pipeline {
        self.timeout = Some(seconds);
        self
    }

    pub fn memory(mut self, mb: u32) -> Pipeline {
        self.memory = Some(mb);
        self
    }

    /// No `timeout` or `memory_size`: the provider's defaults.
    pub fn default_sizes(mut self) -> Pipeline {
        self.timeout = None;
        self.memory = None;
        self
    }

    /// The function's `runtime` and `handler`.
    pub fn runtime(mut self, runtime: &str, handler: &str) -> Pipeline {
        self.runtime = runtime.to_owned();
        self.handler = handler.to_owned();
        self
    }

    /// Lines (each ending in a newline) at the end of the function block.
    pub fn function_lines(mut self, lines: &str) -> Pipeline {
        self.function_lines.push_str(lines);
        self
    }

    pub fn filter_prefix(mut self, prefix: &str) -> Pipeline {
        self.filter_prefix = prefix.to_owned();
        self
    }

    /// The seed trigger without its `.json` suffix filter.
    pub fn no_filter_suffix(mut self) -> Pipeline {
        self.filter_suffix = None;
        self
    }

    /// Replaces the seed's trigger with `blocks`, HCL text.
    pub fn trigger_blocks(self, blocks: &str) -> Pipeline {
        self.triggers(&[blocks.to_owned()])
    }

    pub fn hcl(&self) -> String {
        let Pipeline {
            name,
            bucket,
            require_tls,
            extra,
            handler,
            runtime,
            timeout,
            memory,
            function_lines,
            filter_prefix,
            filter_suffix,
            force_destroy,
            triggers,
        } = self;
        let triggers = match triggers {
            Some(blocks) => blocks.join("\n"),
            None => trigger_hcl(
                &["s3:ObjectCreated:*"],
                Some(filter_prefix),
                filter_suffix.as_deref(),
            ),
        };
        let mut function = String::new();
        if let Some(t) = timeout {
            function.push_str(&format!("    timeout     = {t}\n"));
        }
        if let Some(m) = memory {
            function.push_str(&format!("    memory_size = {m}\n"));
        }
        function.push_str(function_lines);
        format!(
            r#"
resource "eventpipe_event_pipeline" "{name}" {{
  name          = "{name}"
  bucket_name   = "{bucket}"
  force_destroy = {force_destroy}
  require_tls   = {require_tls}
{extra}
  function {{
    source_dir  = "${{path.module}}/app"
    handler     = "{handler}"
    runtime     = "{runtime}"
{function}  }}

{triggers}}}
"#
        )
    }
}

/// The seed pipeline's HCL with `extra` lines after `require_tls`.
pub fn seed_resource(name: &str, bucket: &str, extra: &str) -> String {
    Pipeline::seed(name, bucket).extra(extra).hcl()
}
