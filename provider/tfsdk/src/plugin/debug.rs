//! Reattach ("debug") mode: `terraform-provider-<name> --debug` serves
//! plain h2c on 127.0.0.1 and prints the `TF_REATTACH_PROVIDERS` value that
//! points Terraform at it, so the provider can run under a debugger. The
//! provider's registry address is the key of that value.

use std::net::SocketAddr;

/// The `TF_REATTACH_PROVIDERS` JSON for a server at `addr` in process `pid`.
/// `Test: true` is mandatory for protocol 6 and keeps Terraform from
/// stopping the process.
pub fn reattach_json(provider_address: &str, pid: u32, addr: SocketAddr) -> String {
    format!(
        r#"{{"{provider_address}":{{"Protocol":"grpc","ProtocolVersion":6,"Pid":{pid},"Test":true,"Addr":{{"Network":"tcp","String":"{addr}"}}}}}}"#
    )
}

/// The text shown to the user once the debug server listens.
pub fn instructions(provider_address: &str, pid: u32, addr: SocketAddr) -> String {
    format!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\
         \tTF_REATTACH_PROVIDERS='{}'\n\n\
         Press Ctrl-C to stop the provider.\n",
        reattach_json(provider_address, pid, addr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER_ADDRESS: &str = "registry.terraform.io/example/widget";

    #[test]
    fn reattach_json_is_what_terraform_expects() {
        let addr: SocketAddr = "127.0.0.1:41234".parse().unwrap();
        let json = reattach_json(PROVIDER_ADDRESS, 4242, addr);
        assert_eq!(
            json,
            r#"{"registry.terraform.io/example/widget":{"Protocol":"grpc","ProtocolVersion":6,"Pid":4242,"Test":true,"Addr":{"Network":"tcp","String":"127.0.0.1:41234"}}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let p = &v[PROVIDER_ADDRESS];
        assert_eq!(p["Test"], true);
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Addr"]["String"], "127.0.0.1:41234");
    }

    #[test]
    fn instructions_quote_the_json_for_a_shell() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let text = instructions(PROVIDER_ADDRESS, 1, addr);
        assert!(
            text.contains("\tTF_REATTACH_PROVIDERS='{\"registry.terraform.io/example/widget\"")
        );
    }
}
