//! go-plugin AutoMTLS: a fresh self-signed server certificate per start, and
//! a client-certificate check that accepts exactly the certificate Terraform
//! put in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is ECDSA P-521 and marked CA:TRUE, so the
//! usual webpki chain check cannot be used: [`ExactClientCert`] compares the
//! DER bytes instead and verifies the handshake signature with the crypto
//! provider's algorithms.
//!
//! The SDK depends on no cryptography backend: the provider binary chooses
//! one ([`Crypto`]). It must verify ECDSA P-521/SHA-512 signatures, which
//! aws-lc-rs does and ring does not.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};
use tokio_rustls::TlsAcceptor;

/// The cryptography AutoMTLS uses, chosen by the provider binary.
#[derive(Clone, Copy)]
pub struct Crypto {
    /// The rustls provider: TLS itself, and verifying Terraform's P-521
    /// client certificate.
    pub provider: fn() -> CryptoProvider,
    /// A fresh ECDSA P-256 private key as PKCS#8 DER, for the server
    /// certificate made at every start.
    pub generate_p256_key: fn() -> Result<Vec<u8>, String>,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypto").finish_non_exhaustive()
    }
}

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
    /// The crypto provider could not make or load the server's key.
    #[error("generating the server key: {0}")]
    Key(String),
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
pub fn auto_mtls(client_cert_pem: &str, crypto: Crypto) -> Result<ServerTls, TlsError> {
    let trusted = parse_client_certs(client_cert_pem)?;
    let provider = Arc::new((crypto.provider)());
    let (cert_der, key_der) = generate_server_cert(&provider, crypto)?;
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
/// The key comes from [`Crypto::generate_p256_key`] and the certificate is
/// signed through the rustls provider.
fn generate_server_cert(
    provider: &CryptoProvider,
    crypto: Crypto,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let pkcs8 = (crypto.generate_p256_key)().map_err(TlsError::Key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8));
    let signer = P256Signer::load(provider, key_der.clone_key())?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::OrganizationName, "terraform-plugin");
    name.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name = name;
    // A fresh key at every start: bytes of its public point (after the
    // 0x04 prefix) serve as the key identifier and, with the top bit clear
    // so it stays positive, as a unique serial number.
    params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(signer.point[1..21].to_vec());
    let mut serial = signer.point[21..37].to_vec();
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&signer)?;
    Ok((cert.der().clone(), key_der))
}

/// The DER header of a P-256 SubjectPublicKeyInfo up to the public point:
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused) }.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Signs the server certificate with a key loaded into the rustls provider,
/// so certificate generation needs no crypto backend of its own.
struct P256Signer {
    signer: Box<dyn rustls::sign::Signer>,
    /// The uncompressed public point (65 bytes).
    point: Vec<u8>,
}

impl P256Signer {
    fn load(provider: &CryptoProvider, key: PrivateKeyDer<'static>) -> Result<Self, TlsError> {
        let key = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::Key(e.to_string()))?;
        let spki = key
            .public_key()
            .ok_or_else(|| TlsError::Key("the key has no public part".into()))?;
        let point = spki
            .strip_prefix(&P256_SPKI_PREFIX[..])
            .filter(|p| p.len() == 65)
            .ok_or_else(|| TlsError::Key("the key is not an ECDSA P-256 key".into()))?
            .to_vec();
        let signer = key
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .ok_or_else(|| TlsError::Key("the key cannot sign ECDSA P-256/SHA-256".into()))?;
        Ok(P256Signer { signer, point })
    }
}

impl rcgen::PublicKeyData for P256Signer {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for P256Signer {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer
            .sign(msg)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
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

    // Tests that need a crypto provider (P-521 verification, building the
    // server configuration) live with the binary that chooses one:
    // provider/tests/auto_mtls.rs.

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
}
