//! The SDK's AutoMTLS with the crypto provider this binary chooses
//! (aws-lc-rs): Terraform's P-521 CA:TRUE client certificate is verified,
//! only that exact certificate is accepted, and the server configuration
//! offers ALPN h2.

use rustls::SignatureScheme;
use rustls::pki_types::UnixTime;
use rustls::server::danger::ClientCertVerifier as _;
use tfsdk::plugin::tls::{ExactClientCert, auto_mtls, parse_client_certs};

fn p521_ca_cert() -> rcgen::Certificate {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap()
}

#[test]
fn verify_schemes_include_p521_sha512() {
    let provider = (eventpipe::crypto::CRYPTO.provider)();
    let v = ExactClientCert::new(vec![], &provider);
    let schemes = v.supported_verify_schemes();
    assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256));
    assert!(v.client_auth_mandatory());
    assert!(v.offer_client_auth());
}

#[test]
fn only_the_exact_client_cert_is_accepted() {
    let provider = (eventpipe::crypto::CRYPTO.provider)();
    let trusted = p521_ca_cert();
    let other = p521_ca_cert();
    let certs = parse_client_certs(&trusted.pem()).unwrap();
    assert_eq!(certs.len(), 1);
    let v = ExactClientCert::new(certs, &provider);
    let now = UnixTime::now();
    assert!(v.verify_client_cert(trusted.der(), &[], now).is_ok());
    assert!(v.verify_client_cert(other.der(), &[], now).is_err());
}

#[test]
fn server_config_builds_with_alpn_h2_and_a_p256_localhost_cert() {
    let pem = p521_ca_cert().pem();
    let tls = auto_mtls(&pem, eventpipe::crypto::CRYPTO).unwrap();
    assert!(tls.cert_der.len() > 50);
    assert_eq!(tls.acceptor.config().alpn_protocols, vec![b"h2".to_vec()]);
    // Two starts, two different certificates.
    let again = auto_mtls(&pem, eventpipe::crypto::CRYPTO).unwrap();
    assert_ne!(tls.cert_der, again.cert_der);
}
