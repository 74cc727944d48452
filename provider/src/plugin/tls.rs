//! go-plugin AutoMTLS: a fresh self-signed server certificate per start, and
//! a client-certificate check that accepts exactly the certificate Terraform
//! put in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is ECDSA P-521 and marked CA:TRUE, so the
//! usual webpki chain check cannot be used: [`ExactClientCert`] compares the
//! DER bytes instead and verifies the handshake signature with aws-lc-rs,
//! which (unlike ring) supports P-521.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};
use tokio_rustls::TlsAcceptor;

/// Environment variable holding Terraform's client certificate (PEM).
pub const CLIENT_CERT_KEY: &str = "PLUGIN_CLIENT_CERT";
/// Environment variable with which the user turns plugin TLS off.
pub const DISABLE_TLS_KEY: &str = "TF_DISABLE_PLUGIN_TLS";

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` is not a PEM certificate.
    #[error("{CLIENT_CERT_KEY} does not hold a PEM certificate: {0}")]
    ClientCertPem(String),
    /// `PLUGIN_CLIENT_CERT` holds no certificate at all.
    #[error("{CLIENT_CERT_KEY} holds no certificate")]
    NoClientCert,
    /// Generating the server certificate failed.
    #[error("generating the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("building the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Decides whether to serve TLS from the two environment values: TLS when
/// Terraform sent a client certificate and the user did not disable TLS.
/// Returns the PEM to trust, if any.
pub fn client_cert_from_env(
    client_cert: Option<String>,
    disable: Option<String>,
) -> Option<String> {
    let disabled = disable.is_some_and(|v| !v.is_empty());
    client_cert.filter(|pem| !disabled && !pem.trim().is_empty())
}

/// The server side of AutoMTLS.
pub struct ServerTls {
    /// Accepts connections with the configuration below.
    pub acceptor: TlsAcceptor,
    /// The server certificate (DER) to announce in the handshake line.
    pub cert_der: CertificateDer<'static>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("cert_der_len", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

/// Builds the AutoMTLS server: a new P-256 certificate for `localhost`, ALPN
/// `h2`, and mandatory client authentication with the certificate(s) in
/// `client_cert_pem`.
pub fn auto_mtls(client_cert_pem: &str) -> Result<ServerTls, TlsError> {
    let trusted = parse_client_certs(client_cert_pem)?;
    let provider = Arc::new(aws_lc_rs::default_provider());
    let (cert_der, key_der) = generate_server_cert()?;
    let verifier = ExactClientCert::new(trusted, &provider);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![cert_der.clone()], key_der)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_der,
    })
}

/// Parses every certificate in a PEM bundle.
pub fn parse_client_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::ClientCertPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoClientCert);
    }
    Ok(certs)
}

/// A self-signed ECDSA P-256 certificate with SAN `DNS:localhost`, CA:FALSE,
/// no key usage extensions (Go accepts it for a server), and its PKCS#8 key.
fn generate_server_cert() -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::OrganizationName, "eventpipe");
    name.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name = name;
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key_der))
}

/// Accepts a client only if its leaf certificate is byte-for-byte one of the
/// trusted certificates, and checks the handshake signature with the
/// provider's algorithms (P-521/SHA-512 included).
#[derive(Debug)]
pub struct ExactClientCert {
    trusted: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ExactClientCert {
    /// Trusts exactly `trusted`, verifying signatures with `provider`.
    pub fn new(trusted: Vec<CertificateDer<'static>>, provider: &CryptoProvider) -> Self {
        Self {
            trusted,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for ExactClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: Go then offers its certificate whatever its issuer.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self
            .trusted
            .iter()
            .any(|t| t.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // Go sends its P-521 certificate in TLS 1.3 only if this list (sent in
        // the CertificateRequest) names ecdsa_secp521r1_sha512.
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p521_ca_cert() -> rcgen::Certificate {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap()
    }

    #[test]
    fn tls_is_used_only_with_a_client_cert_and_not_disabled() {
        let pem = Some("-----BEGIN CERTIFICATE-----".to_owned());
        assert!(client_cert_from_env(pem.clone(), None).is_some());
        assert!(client_cert_from_env(pem.clone(), Some(String::new())).is_some());
        assert!(client_cert_from_env(pem, Some("1".into())).is_none());
        assert!(client_cert_from_env(None, None).is_none());
        assert!(client_cert_from_env(Some("  \n".into()), None).is_none());
    }

    #[test]
    fn verify_schemes_include_p521_sha512() {
        let provider = aws_lc_rs::default_provider();
        let v = ExactClientCert::new(vec![], &provider);
        let schemes = v.supported_verify_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256));
        assert!(v.client_auth_mandatory());
        assert!(v.offer_client_auth());
    }

    #[test]
    fn only_the_exact_client_cert_is_accepted() {
        let provider = aws_lc_rs::default_provider();
        let trusted = p521_ca_cert();
        let other = p521_ca_cert();
        let pem = trusted.pem();
        let certs = parse_client_certs(&pem).unwrap();
        assert_eq!(certs.len(), 1);
        let v = ExactClientCert::new(certs, &provider);
        let now = UnixTime::now();
        assert!(v.verify_client_cert(trusted.der(), &[], now).is_ok());
        assert!(v.verify_client_cert(other.der(), &[], now).is_err());
    }

    #[test]
    fn garbage_client_cert_is_an_error() {
        assert!(matches!(
            parse_client_certs("not a pem"),
            Err(TlsError::NoClientCert)
        ));
        assert!(
            parse_client_certs("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }

    #[test]
    fn server_config_builds_with_alpn_h2() {
        let pem = p521_ca_cert().pem();
        let tls = auto_mtls(&pem).unwrap();
        assert!(tls.cert_der.len() > 50);
        assert_eq!(tls.acceptor.config().alpn_protocols, vec![b"h2".to_vec()]);
    }
}
