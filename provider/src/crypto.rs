//! The cryptography the provider binary gives the transport: aws-lc-rs,
//! which verifies the ECDSA P-521 certificate Terraform presents for
//! AutoMTLS (ring cannot).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use tfsdk::plugin::tls::Crypto;

/// aws-lc-rs for TLS and for the server key.
pub const CRYPTO: Crypto = Crypto {
    provider: rustls::crypto::aws_lc_rs::default_provider,
    generate_p256_key,
};

fn generate_p256_key() -> Result<Vec<u8>, String> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
        .map(|doc| doc.as_ref().to_vec())
        .map_err(|e| e.to_string())
}
