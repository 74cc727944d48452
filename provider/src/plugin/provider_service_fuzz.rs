//! Every RPC handler fed random bytes and random well-typed values: each
//! answers (with diagnostics where the input is wrong) within a time limit,
//! never panics and never hangs.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as _;
use tokio_util::sync::CancellationToken;
use tonic::Request;

use super::ProviderService;
use crate::provider::{self, Provider};
use crate::value::strategy::{Gen, arb_value};
use crate::value::{Type, Value, encode_msgpack};

const TYPE: &str = "eventpipe_event_pipeline";
const LIMIT: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A provider configured against a closed local port: any AWS call fails at
/// once, so planning and applying exercise their error paths quickly.
fn configured(rt: &tokio::runtime::Runtime) -> ProviderService {
    let provider = Provider::new(CancellationToken::new());
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
    ProviderService::new(Arc::new(provider))
}

fn dv(bytes: Vec<u8>) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    })
}

/// Calls every RPC that takes values with `a`, `b`, `c` as its value fields.
fn call_all(
    rt: &tokio::runtime::Runtime,
    svc: &ProviderService,
    a: Vec<u8>,
    b: Vec<u8>,
    c: Vec<u8>,
) {
    let run = |name: &str, fut: std::pin::Pin<Box<dyn std::future::Future<Output = bool> + '_>>| {
        let answered = rt.block_on(async { tokio::time::timeout(LIMIT, fut).await });
        assert!(answered.is_ok(), "{name} did not answer within {LIMIT:?}");
        assert!(answered.unwrap_or(false), "{name} returned a gRPC error");
    };
    run(
        "ValidateProviderConfig",
        Box::pin(async {
            svc.validate_provider_config(Request::new(pb::validate_provider_config::Request {
                config: dv(a.clone()),
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "ValidateResourceConfig",
        Box::pin(async {
            svc.validate_resource_config(Request::new(pb::validate_resource_config::Request {
                type_name: TYPE.into(),
                config: dv(a.clone()),
                client_capabilities: None,
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "UpgradeResourceState",
        Box::pin(async {
            svc.upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                type_name: TYPE.into(),
                version: 0,
                raw_state: Some(pb::RawState {
                    json: b.clone(),
                    flatmap: Default::default(),
                }),
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "ReadResource",
        Box::pin(async {
            svc.read_resource(Request::new(pb::read_resource::Request {
                type_name: TYPE.into(),
                current_state: dv(a.clone()),
                private: c.clone(),
                ..Default::default()
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "PlanResourceChange",
        Box::pin(async {
            svc.plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: TYPE.into(),
                prior_state: dv(b.clone()),
                proposed_new_state: dv(a.clone()),
                config: dv(a.clone()),
                prior_private: c.clone(),
                ..Default::default()
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "ApplyResourceChange",
        Box::pin(async {
            svc.apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: TYPE.into(),
                prior_state: dv(b.clone()),
                planned_state: dv(a.clone()),
                config: dv(a.clone()),
                planned_private: c.clone(),
                provider_meta: None,
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "ImportResourceState",
        Box::pin(async {
            let id = String::from_utf8_lossy(&c).into_owned();
            svc.import_resource_state(Request::new(pb::import_resource_state::Request {
                type_name: TYPE.into(),
                id,
                client_capabilities: None,
            }))
            .await
            .is_ok()
        }),
    );
}

fn resource_type() -> Type {
    provider::resource_schema(TYPE)
        .expect("schema")
        .value_type()
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
        call_all(&rt, &svc, a, b, c);
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
        call_all(&rt, &svc, a, b.clone(), b);
    }
}
