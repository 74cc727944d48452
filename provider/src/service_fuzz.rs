//! Every RPC handler of the eventpipe provider fed random bytes and random
//! well-typed values: each answers (with diagnostics where the input is
//! wrong) within a time limit, never panics and never hangs.

use std::sync::Arc;

use proptest::prelude::*;
use tfsdk::Provider as _;
use tfsdk::plugin::fuzz::{call_all, runtime};
use tfsdk::plugin::provider_service::ProviderService;
use tfsdk::value::strategy::{Gen, arb_value};
use tfsdk::value::{Type, Value, encode_msgpack};
use tokio_util::sync::CancellationToken;

use crate::pipeline::schema::TYPE_NAME;
use crate::provider::{EventpipeProvider, schemas};

fn opts() -> tfsdk::ServeOptions {
    tfsdk::ServeOptions {
        address: crate::provider::SOURCE_ADDRESS,
        binary_name: "terraform-provider-eventpipe",
        version: "0.0.0",
        display_name: "eventpipe",
        quiet_log_targets: &[],
        crypto: crate::crypto::CRYPTO,
    }
}

/// A provider configured against a closed local port: any AWS call fails at
/// once, so planning and applying exercise their error paths quickly.
fn configured(rt: &tokio::runtime::Runtime) -> ProviderService<EventpipeProvider> {
    let provider = EventpipeProvider::new(CancellationToken::new());
    let cfg = Value::object([
        ("region", Value::from("us-east-1")),
        ("profile", Value::Null),
        ("access_key", Value::from("fuzz")),
        ("secret_key", Value::from("fuzz")),
        ("endpoint_url", Value::from("http://127.0.0.1:9")),
        ("s3_use_path_style", Value::Null),
        ("max_retries", Value::from(0i64)),
        ("default_tags", Value::Null),
        ("validate_credentials", Value::Null),
        ("endpoints", Value::Null),
    ]);
    let diags = rt.block_on(provider.configure("1.11.4", &cfg));
    assert!(!diags.has_errors(), "{diags:?}");
    ProviderService::new(Arc::new(provider), opts())
}

fn resource_type() -> Type {
    schemas().resource(TYPE_NAME).expect("schema").value_type()
}

#[test]
fn every_served_schema_is_well_formed_for_terraform() {
    let s = schemas();
    let mut problems = tfsdk::plugin::provider_service::schema_problems(&s.provider);
    for (_, r) in &s.resources {
        problems.extend(tfsdk::plugin::provider_service::schema_problems(r));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_get_answers_not_panics(
        a in proptest::collection::vec(any::<u8>(), 0..256),
        b in proptest::collection::vec(any::<u8>(), 0..256),
        c in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let rt = runtime();
        let svc = configured(&rt);
        call_all(&rt, &svc, TYPE_NAME, a, b, c);
    }

    #[test]
    fn well_typed_but_wrong_values_get_answers_not_panics(
        a in arb_value(&resource_type(), Gen::MSGPACK),
        b in arb_value(&resource_type(), Gen::MSGPACK),
    ) {
        let rt = runtime();
        let svc = configured(&rt);
        let ty = resource_type();
        let a = encode_msgpack(&a, &ty).expect("generated values conform");
        let b = encode_msgpack(&b, &ty).expect("generated values conform");
        call_all(&rt, &svc, TYPE_NAME, a, b.clone(), b);
    }
}
