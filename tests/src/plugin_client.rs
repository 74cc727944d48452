//! A protocol 6.10 client for the provider, for the RPCs no Terraform CLI on
//! these machines makes (1.12's identity, 1.14's list and config
//! generation). It starts the provider binary the way Terraform does (magic
//! cookie, protocol list, port range, an AutoMTLS client certificate made as
//! go-plugin makes it), reads the go-plugin handshake line and speaks gRPC
//! over TLS, so the provider's real transport is under test. Values are
//! encoded and decoded with `rmpv`, not with the provider's codec.
//!
//! The call sequences it replays follow hashicorp/terraform at v1.14.0:
//! - `internal/plugin6/grpc_provider.go`: `GetProviderSchema` is followed by
//!   `GetResourceIdentitySchemas` in the same schema load; `ImportResourceState`
//!   sends `identity` (msgpack of the identity schema's type) and no ID for an
//!   `import` block with `identity`; `ListResource` sends the `config` block
//!   alone, with the list schema's type, and reads the stream until `limit`
//!   results or the first error; `GenerateResourceConfig` sends the state.
//! - `internal/terraform/node_resource_import.go` and
//!   `node_resource_plan_instance.go`: an import is followed by `ReadResource`
//!   with the imported state, private data and identity, then
//!   `PlanResourceChange`; `terraform query` with `-generate-config-out` calls
//!   `GenerateResourceConfig` once per result.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use futures::StreamExt as _;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use serde_json::{Value as Json, json};
use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_client::ProviderClient;
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint, Uri};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// How an unknown value reads in the JSON this client decodes to.
pub const UNKNOWN: &str = "(known after apply)";

/// A running provider and a gRPC client to it.
pub struct PluginClient {
    child: Child,
    client: ProviderClient<Channel>,
    /// From GetProviderSchema: the provider's, each resource type's and each
    /// list's block; from GetResourceIdentitySchemas: each identity's type.
    provider_block: pb::schema::Block,
    resources: BTreeMap<String, pb::schema::Block>,
    lists: BTreeMap<String, pb::schema::Block>,
    identities: BTreeMap<String, pb::ResourceIdentitySchema>,
    pub capabilities: pb::ServerCapabilities,
}

impl Drop for PluginClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One imported resource, as Terraform keeps it between RPCs.
#[derive(Clone, Debug)]
pub struct Imported {
    pub state: Json,
    /// The state's msgpack, passed back as Terraform does.
    pub raw_state: pb::DynamicValue,
    pub private: Vec<u8>,
    pub identity: Json,
    pub raw_identity: Option<pb::ResourceIdentityData>,
}

/// One event of a list stream.
#[derive(Clone, Debug)]
pub struct ListEvent {
    pub identity: Json,
    pub display_name: String,
    pub resource: Option<Json>,
    pub diagnostics: Vec<String>,
}

impl PluginClient {
    /// Starts `binary` in `dir` (Terraform starts providers in the working
    /// directory, which relative paths in configuration are relative to)
    /// with `env` added, and loads its schemas as Terraform 1.12+ does.
    pub async fn start(
        binary: &Path,
        dir: &Path,
        env: &[(String, String)],
    ) -> Result<PluginClient> {
        let identity = terraform_client_identity()?;
        let mut cmd = Command::new(binary);
        cmd.current_dir(dir);
        for key in [
            "TF_LOG",
            "TF_LOG_PROVIDER",
            "TF_DISABLE_PLUGIN_TLS",
            "TF_REATTACH_PROVIDERS",
        ] {
            cmd.env_remove(key);
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_CLIENT_CERT", &identity.pem)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let line = first_line(&mut child, Duration::from_secs(30))?;
        let fields: Vec<&str> = line.trim_end().split('|').collect();
        ensure!(
            fields.len() == 6 && fields[..3] == ["1", "6", "tcp"] && fields[4] == "grpc",
            "unexpected handshake line {line:?}"
        );
        let addr: SocketAddr = fields[3].parse()?;
        let server_cert = CertificateDer::from(STANDARD_NO_PAD.decode(fields[5])?);
        let channel = tls_channel(addr, &server_cert, Some(&identity)).await?;
        let mut client = ProviderClient::new(channel).max_decoding_message_size(256 << 20);
        let schema = client
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await?
            .into_inner();
        let identities = client
            .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
            .await?
            .into_inner();
        let blocks = |m: std::collections::HashMap<String, pb::Schema>| {
            m.into_iter()
                .filter_map(|(n, s)| Some((n, s.block?)))
                .collect::<BTreeMap<_, _>>()
        };
        Ok(PluginClient {
            child,
            client,
            provider_block: schema
                .provider
                .and_then(|p| p.block)
                .ok_or_else(|| anyhow!("no provider schema"))?,
            resources: blocks(schema.resource_schemas),
            lists: blocks(schema.list_resource_schemas),
            identities: identities.identity_schemas.into_iter().collect(),
            capabilities: schema.server_capabilities.unwrap_or_default(),
        })
    }

    /// The provider process, e.g. to read its peak RSS.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn identity_schema(&self, type_name: &str) -> Option<&pb::ResourceIdentitySchema> {
        self.identities.get(type_name)
    }

    pub fn list_schema(&self, type_name: &str) -> Option<&pb::schema::Block> {
        self.lists.get(type_name)
    }

    /// ValidateProviderConfig then ConfigureProvider with `config` (the
    /// provider block's attributes that are set), as Terraform 1.14.0.
    pub async fn configure(&mut self, config: Json) -> Result<()> {
        self.configure_as("1.14.0", config).await
    }

    /// [`Self::configure`] as Terraform `version`.
    pub async fn configure_as(&mut self, version: &str, config: Json) -> Result<()> {
        let value = dv(&object_for(&self.provider_block, &config));
        let v = self
            .client
            .validate_provider_config(pb::validate_provider_config::Request {
                config: Some(value.clone()),
            })
            .await?
            .into_inner();
        errors_to_result(&v.diagnostics)?;
        let c = self
            .client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: version.into(),
                config: Some(value),
                client_capabilities: None,
            })
            .await?
            .into_inner();
        errors_to_result(&c.diagnostics)
    }

    /// `import { id = ID }` (`identity` None) or `import { identity = {…} }`,
    /// then the ReadResource Terraform makes of what was imported.
    pub async fn import_and_read(
        &mut self,
        type_name: &str,
        id: &str,
        identity: Option<Json>,
    ) -> Result<Imported> {
        let identity = match identity {
            Some(given) => {
                let ty = identity_object(self.identities.get(type_name).context("no identity")?);
                Some(pb::ResourceIdentityData {
                    identity_data: Some(dv(&fill(&ty, &given))),
                })
            }
            None => None,
        };
        let resp = self
            .client
            .import_resource_state(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: if identity.is_some() {
                    String::new()
                } else {
                    id.into()
                },
                client_capabilities: None,
                identity,
            })
            .await?
            .into_inner();
        errors_to_result(&resp.diagnostics)?;
        let [one] = <[_; 1]>::try_from(resp.imported_resources)
            .map_err(|v| anyhow!("{} imported resources, expected 1", v.len()))?;
        let read = self
            .client
            .read_resource(pb::read_resource::Request {
                type_name: type_name.into(),
                current_state: one.state.clone(),
                private: one.private.clone(),
                provider_meta: None,
                client_capabilities: None,
                current_identity: one.identity.clone(),
            })
            .await?
            .into_inner();
        errors_to_result(&read.diagnostics)?;
        let raw_state = read.new_state.context("ReadResource returned no state")?;
        let state = decode(&raw_state)?;
        ensure!(!state.is_null(), "Cannot import non-existent remote object");
        let raw_identity = read.new_identity;
        Ok(Imported {
            state,
            raw_state,
            private: read.private,
            identity: decode_identity(raw_identity.as_ref())?,
            raw_identity,
        })
    }

    /// PlanResourceChange for an imported resource with `config` as the
    /// configuration: (planned state, planned identity, attributes that
    /// differ from the prior state).
    pub async fn plan_with_config(
        &mut self,
        type_name: &str,
        prior: &Imported,
        config: Json,
    ) -> Result<(Json, Json)> {
        let block = self
            .resources
            .get(type_name)
            .context("no such resource type")?;
        let config = dv(&object_for(block, &config));
        let resp = self
            .client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: Some(prior.raw_state.clone()),
                proposed_new_state: Some(config.clone()),
                config: Some(config),
                prior_private: prior.private.clone(),
                provider_meta: None,
                client_capabilities: None,
                prior_identity: prior.raw_identity.clone(),
            })
            .await?
            .into_inner();
        errors_to_result(&resp.diagnostics)?;
        Ok((
            decode(resp.planned_state.as_ref().context("no planned state")?)?,
            decode_identity(resp.planned_identity.as_ref())?,
        ))
    }

    /// ValidateListResourceConfig: the error summaries and details.
    pub async fn validate_list(&mut self, type_name: &str, config: Json) -> Result<Vec<String>> {
        let block = self.lists.get(type_name).context("no list schema")?;
        let resp = self
            .client
            .validate_list_resource_config(pb::validate_list_resource_config::Request {
                type_name: type_name.into(),
                config: Some(dv(&object_for(block, &config))),
                include_resource_object: None,
                limit: None,
            })
            .await?
            .into_inner();
        Ok(resp.diagnostics.iter().map(diag_text).collect())
    }

    /// ListResource, read as Terraform reads it: until `limit` results, the
    /// end of the stream or the first error. `on_event` sees each event as it
    /// arrives.
    pub async fn list(
        &mut self,
        type_name: &str,
        config: Json,
        include_resource: bool,
        limit: i64,
        mut on_event: impl FnMut(&ListEvent),
    ) -> Result<Vec<ListEvent>> {
        let block = self.lists.get(type_name).context("no list schema")?;
        let mut stream = self
            .client
            .list_resource(pb::list_resource::Request {
                type_name: type_name.into(),
                config: Some(dv(&object_for(block, &config))),
                include_resource_object: include_resource,
                limit,
            })
            .await?
            .into_inner();
        let mut events = Vec::new();
        while (events.len() as i64) < limit {
            let Some(event) = stream.next().await else {
                break;
            };
            let event = event?;
            let diagnostics: Vec<String> = event.diagnostic.iter().map(diag_text).collect();
            let failed = event
                .diagnostic
                .iter()
                .any(|d| d.severity == pb::diagnostic::Severity::Error as i32);
            let listed = ListEvent {
                identity: decode_identity(event.identity.as_ref())?,
                display_name: event.display_name,
                resource: event.resource_object.as_ref().map(decode).transpose()?,
                diagnostics,
            };
            on_event(&listed);
            if failed {
                bail!("list failed: {}", listed.diagnostics.join("; "));
            }
            if !listed.identity.is_null() {
                events.push(listed);
            }
        }
        Ok(events)
    }

    /// GenerateResourceConfig for `state` (a state the client decoded).
    pub async fn generate_config(&mut self, type_name: &str, state: &Json) -> Result<Json> {
        let block = self
            .resources
            .get(type_name)
            .context("no such resource type")?;
        let resp = self
            .client
            .generate_resource_config(pb::generate_resource_config::Request {
                type_name: type_name.into(),
                state: Some(dv(&object_for(block, state))),
            })
            .await?
            .into_inner();
        errors_to_result(&resp.diagnostics)?;
        decode(resp.config.as_ref().context("no config")?)
    }

    /// The HCL Terraform's `-generate-config-out` writes for `config` (a
    /// value GenerateResourceConfig answered): the resource block with its
    /// set attributes, then its blocks, in schema order.
    pub fn resource_hcl(&self, type_name: &str, name: &str, config: &Json) -> Result<String> {
        let block = self
            .resources
            .get(type_name)
            .context("no such resource type")?;
        let mut out = format!("resource \"{type_name}\" \"{name}\" {{\n");
        block_hcl(block, config, 1, &mut out);
        out.push_str("}\n");
        Ok(out)
    }

    /// Any RPC the helpers above do not cover.
    pub fn raw(&mut self) -> &mut ProviderClient<Channel> {
        &mut self.client
    }
}

fn diag_text(d: &pb::Diagnostic) -> String {
    format!("{}: {}", d.summary, d.detail)
}

fn errors_to_result(diags: &[pb::Diagnostic]) -> Result<()> {
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(diag_text)
        .collect();
    ensure!(errors.is_empty(), "{}", errors.join("; "));
    Ok(())
}

// ---- values ---------------------------------------------------------------

/// The object Terraform sends for `block` with `given` set: every attribute
/// present (null when not given), nested blocks per their nesting mode.
pub fn object_for(block: &pb::schema::Block, given: &Json) -> Json {
    use pb::schema::nested_block::NestingMode;
    let mut out = serde_json::Map::new();
    for a in &block.attributes {
        out.insert(
            a.name.clone(),
            given.get(&a.name).cloned().unwrap_or(Json::Null),
        );
    }
    for b in &block.block_types {
        let inner = b.block.clone().unwrap_or_default();
        let value = match (NestingMode::try_from(b.nesting), given.get(&b.type_name)) {
            (Ok(NestingMode::List | NestingMode::Set), Some(Json::Array(items))) => {
                Json::Array(items.iter().map(|i| object_for(&inner, i)).collect())
            }
            (Ok(NestingMode::List | NestingMode::Set), _) => json!([]),
            (_, Some(v)) if !v.is_null() => object_for(&inner, v),
            _ => Json::Null,
        };
        out.insert(b.type_name.clone(), value);
    }
    Json::Object(out)
}

fn block_hcl(block: &pb::schema::Block, value: &Json, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let mut attributes: Vec<&pb::schema::Attribute> = block.attributes.iter().collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    for a in attributes {
        match value.get(&a.name) {
            None | Some(Json::Null) => {}
            Some(v) => out.push_str(&format!("{pad}{} = {}\n", a.name, hcl_value(v))),
        }
    }
    for b in &block.block_types {
        let inner = b.block.clone().unwrap_or_default();
        let items = match value.get(&b.type_name) {
            Some(Json::Array(items)) => items.clone(),
            Some(v) if !v.is_null() => vec![v.clone()],
            _ => Vec::new(),
        };
        for item in items {
            out.push_str(&format!("\n{pad}{} {{\n", b.type_name));
            block_hcl(&inner, &item, depth + 1, out);
            out.push_str(&format!("{pad}}}\n"));
        }
    }
}

fn hcl_value(v: &Json) -> String {
    match v {
        Json::String(s) => {
            let quoted = Json::String(s.clone()).to_string();
            quoted.replace("${", "$${").replace("%{", "%%{")
        }
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(hcl_value).collect::<Vec<_>>().join(", ")
        ),
        Json::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{} = {}", Json::String(k.clone()), hcl_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn identity_object(schema: &pb::ResourceIdentitySchema) -> Vec<String> {
    schema
        .identity_attributes
        .iter()
        .map(|a| a.name.clone())
        .collect()
}

fn fill(names: &[String], given: &Json) -> Json {
    Json::Object(
        names
            .iter()
            .map(|n| (n.clone(), given.get(n).cloned().unwrap_or(Json::Null)))
            .collect(),
    )
}

fn dv(v: &Json) -> pb::DynamicValue {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &to_msgpack(v)).expect("msgpack to a Vec");
    pb::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    }
}

fn to_msgpack(v: &Json) -> rmpv::Value {
    match v {
        Json::Null => rmpv::Value::Nil,
        Json::Bool(b) => rmpv::Value::Boolean(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => rmpv::Value::from(u),
            (None, Some(i)) => rmpv::Value::from(i),
            _ => rmpv::Value::F64(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => rmpv::Value::from(s.as_str()),
        Json::Array(items) => rmpv::Value::Array(items.iter().map(to_msgpack).collect()),
        Json::Object(m) => rmpv::Value::Map(
            m.iter()
                .map(|(k, v)| (rmpv::Value::from(k.as_str()), to_msgpack(v)))
                .collect(),
        ),
    }
}

/// A msgpack value as JSON; unknowns read as [`UNKNOWN`].
pub fn decode(v: &pb::DynamicValue) -> Result<Json> {
    if v.msgpack.is_empty() {
        return Ok(Json::Null);
    }
    let value = rmpv::decode::read_value(&mut v.msgpack.as_slice())?;
    Ok(from_msgpack(&value))
}

fn decode_identity(data: Option<&pb::ResourceIdentityData>) -> Result<Json> {
    match data.and_then(|d| d.identity_data.as_ref()) {
        Some(v) => decode(v),
        None => Ok(Json::Null),
    }
}

fn from_msgpack(v: &rmpv::Value) -> Json {
    match v {
        rmpv::Value::Nil => Json::Null,
        rmpv::Value::Boolean(b) => Json::Bool(*b),
        rmpv::Value::Integer(i) => i
            .as_u64()
            .map(Json::from)
            .or_else(|| i.as_i64().map(Json::from))
            .unwrap_or(Json::Null),
        rmpv::Value::F32(f) => json!(f),
        rmpv::Value::F64(f) => json!(f),
        rmpv::Value::String(s) => Json::String(s.as_str().unwrap_or_default().to_owned()),
        rmpv::Value::Binary(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
        rmpv::Value::Array(items) => Json::Array(items.iter().map(from_msgpack).collect()),
        rmpv::Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), from_msgpack(v)))
                .collect(),
        ),
        rmpv::Value::Ext(_, _) => Json::String(UNKNOWN.to_owned()),
    }
}

// ---- transport --------------------------------------------------------------

/// A client certificate and its key, as Terraform presents them.
pub struct ClientIdentity {
    pub cert: CertificateDer<'static>,
    /// PKCS#8 DER.
    pub key: Vec<u8>,
    /// What Terraform puts in `PLUGIN_CLIENT_CERT`.
    pub pem: String,
}

/// A client certificate as go-plugin makes Terraform's: ECDSA P-521 with
/// SHA-512, self-signed, CA:TRUE, KU digitalSignature|keyEncipherment|
/// keyAgreement|certSign, EKU clientAuth+serverAuth, O=HashiCorp,
/// CN=localhost, SAN localhost.
pub fn terraform_client_identity() -> Result<ClientIdentity> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::OrganizationName, "HashiCorp");
    name.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name = name;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key)?;
    Ok(ClientIdentity {
        cert: cert.der().clone(),
        key: key.serialize_der(),
        pem: cert.pem(),
    })
}

/// The child's first stdout line (go-plugin's handshake line), within
/// `limit`; the rest of its stdout is drained so it never blocks on a full
/// pipe.
pub fn first_line(child: &mut Child, limit: Duration) -> Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(limit)
        .with_context(|| format!("no handshake line within {limit:?}"))
}

/// A gRPC channel over TLS to `addr`, as go-plugin's client makes it: the
/// server is verified as `localhost` against `server_cert` (the handshake
/// line's) alone, `identity` is presented when given, and the server must
/// select ALPN `h2`.
pub async fn tls_channel(
    addr: SocketAddr,
    server_cert: &CertificateDer<'static>,
    identity: Option<&ClientIdentity>,
) -> Result<Channel> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_cert.clone())?;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots);
    let mut config = match identity {
        Some(id) => builder.with_client_auth_cert(
            vec![id.cert.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key.clone())),
        )?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let channel = Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            async move {
                let tcp = TcpStream::connect(addr).await?;
                // As Go's net package (and so Terraform) does by default.
                tcp.set_nodelay(true)?;
                let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                let tls = connector.connect(name, tcp).await?;
                if tls.get_ref().1.alpn_protocol() != Some(&b"h2"[..]) {
                    return Err(std::io::Error::other("the server did not select ALPN h2"));
                }
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await?;
    Ok(channel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_carry_every_attribute_and_block_as_terraform_sends_them() {
        use pb::schema::nested_block::NestingMode;
        let block = pb::schema::Block {
            attributes: vec![
                pb::schema::Attribute {
                    name: "a".into(),
                    ..Default::default()
                },
                pb::schema::Attribute {
                    name: "b".into(),
                    ..Default::default()
                },
            ],
            block_types: vec![
                pb::schema::NestedBlock {
                    type_name: "one".into(),
                    nesting: NestingMode::Single as i32,
                    block: Some(Default::default()),
                    ..Default::default()
                },
                pb::schema::NestedBlock {
                    type_name: "many".into(),
                    nesting: NestingMode::List as i32,
                    block: Some(Default::default()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            object_for(&block, &json!({"a": "x"})),
            json!({"a": "x", "b": null, "one": null, "many": []})
        );
        let round = decode(&dv(&json!({"n": 3, "s": "t", "l": [true, null]}))).unwrap();
        assert_eq!(round, json!({"n": 3, "s": "t", "l": [true, null]}));
    }
}
