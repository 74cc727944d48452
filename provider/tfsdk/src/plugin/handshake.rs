//! The go-plugin start-up contract: the magic cookie that proves Terraform
//! launched us, protocol version negotiation, and the single handshake line
//! on stdout that tells Terraform where to connect.
//!
//! Everything here is pure except [`write_handshake_line`], which only writes
//! to the writer it is given.

use std::io::Write;
use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// Environment variable holding the magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform sets for [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Environment variable listing the protocol versions the client speaks.
pub const PROTOCOL_VERSIONS_KEY: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// The only plugin protocol version this provider speaks.
pub const PROTOCOL_VERSION: u32 = 6;
/// go-plugin's core protocol version, the first handshake field.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// The line printed when the binary is run by hand.
pub const NOT_LAUNCHED_BY_TERRAFORM: &str = "This binary is a plugin for Terraform (a provider); \
it is not meant to be run by hand. Install it into a plugin directory and run `terraform init`.";

/// Why the process may not start serving.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// The magic cookie is missing or wrong: a human ran the binary.
    #[error("{NOT_LAUNCHED_BY_TERRAFORM}")]
    NotLaunchedByTerraform,
    /// Terraform did not offer protocol 6.
    #[error(
        "this provider speaks plugin protocol {PROTOCOL_VERSION} only, but Terraform offered \
         `{offered}` ({PROTOCOL_VERSIONS_KEY}); use Terraform CLI 1.0.3 or newer"
    )]
    ProtocolNotOffered {
        /// The raw value of `PLUGIN_PROTOCOL_VERSIONS`.
        offered: String,
    },
}

/// Checks the magic cookie value taken from the environment.
pub fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    match value {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NotLaunchedByTerraform),
    }
}

/// Picks the protocol version from `PLUGIN_PROTOCOL_VERSIONS` (a comma
/// separated set in no particular order). Absent or empty means the client
/// lets us choose, so we take ours.
pub fn negotiate_protocol(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(raw) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    let speaks_ours = raw
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == PROTOCOL_VERSION);
    if speaks_ours {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::ProtocolNotOffered {
            offered: raw.to_owned(),
        })
    }
}

/// Formats the handshake line, including the trailing newline:
/// `1|6|tcp|127.0.0.1:PORT|grpc|CERT` where CERT is the server certificate's
/// DER in standard base64 without padding, or empty without TLS.
pub fn handshake_line(addr: SocketAddr, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}\n")
}

/// Writes the handshake line and flushes: it must be the first and only
/// thing the process puts on stdout while Terraform is listening.
pub fn write_handshake_line(out: &mut impl Write, line: &str) -> std::io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert_eq!(check_cookie(Some(MAGIC_COOKIE_VALUE)), Ok(()));
        assert_eq!(
            check_cookie(None),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
        assert_eq!(
            check_cookie(Some("d602bf8f")),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
        let with_space = format!("{MAGIC_COOKIE_VALUE} ");
        assert!(check_cookie(Some(&with_space)).is_err());
    }

    #[test]
    fn cookie_error_is_one_helpful_line() {
        let msg = HandshakeError::NotLaunchedByTerraform.to_string();
        assert!(!msg.contains('\n'));
        assert!(msg.contains("terraform init"));
    }

    #[test]
    fn protocol_6_is_chosen_from_a_set_in_any_order() {
        assert_eq!(negotiate_protocol(Some("5,6")), Ok(6));
        assert_eq!(negotiate_protocol(Some("6,5")), Ok(6));
        assert_eq!(negotiate_protocol(Some(" 6 ")), Ok(6));
        assert_eq!(negotiate_protocol(Some("4, 6,x")), Ok(6));
    }

    #[test]
    fn absent_or_empty_versions_mean_ours() {
        assert_eq!(negotiate_protocol(None), Ok(6));
        assert_eq!(negotiate_protocol(Some("")), Ok(6));
        assert_eq!(negotiate_protocol(Some("  ")), Ok(6));
    }

    #[test]
    fn protocol_5_only_is_refused_with_the_offer_in_the_message() {
        let err = negotiate_protocol(Some("5")).unwrap_err();
        assert_eq!(
            err,
            HandshakeError::ProtocolNotOffered {
                offered: "5".into()
            }
        );
        assert!(err.to_string().contains("`5`"));
        assert!(negotiate_protocol(Some("16,60")).is_err());
    }

    #[test]
    fn handshake_line_without_tls_has_an_empty_cert_field() {
        let addr: SocketAddr = "127.0.0.1:10123".parse().unwrap();
        assert_eq!(
            handshake_line(addr, None),
            "1|6|tcp|127.0.0.1:10123|grpc|\n"
        );
    }

    #[test]
    fn handshake_cert_is_base64_standard_without_padding() {
        let addr: SocketAddr = "127.0.0.1:25000".parse().unwrap();
        // 1 and 2 leftover bytes would need "==" and "=" padding; '+' and '/'
        // only occur in the standard alphabet.
        assert_eq!(
            handshake_line(addr, Some(&[0xfb, 0xff])),
            "1|6|tcp|127.0.0.1:25000|grpc|+/8\n"
        );
        assert_eq!(
            handshake_line(addr, Some(&[0xfb, 0xff, 0xbf, 0x00])),
            "1|6|tcp|127.0.0.1:25000|grpc|+/+/AA\n"
        );
        let line = handshake_line(addr, Some(&[7u8; 301]));
        assert!(!line.contains('='));
        assert_eq!(line.trim_end().split('|').count(), 6);
        let cert = line.trim_end().rsplit('|').next().unwrap();
        assert_eq!(STANDARD_NO_PAD.decode(cert).unwrap(), vec![7u8; 301]);
    }

    #[test]
    fn handshake_line_is_written_whole_and_flushed() {
        struct Sink {
            data: Vec<u8>,
            flushed: bool,
        }
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.data.extend_from_slice(buf);
                self.flushed = false;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                self.flushed = true;
                Ok(())
            }
        }
        let mut sink = Sink {
            data: Vec::new(),
            flushed: false,
        };
        write_handshake_line(&mut sink, "1|6|tcp|127.0.0.1:1|grpc|\n").unwrap();
        assert_eq!(sink.data, b"1|6|tcp|127.0.0.1:1|grpc|\n");
        assert!(sink.flushed);
    }
}
