//! A harness for fuzzing a provider's RPC handlers: every RPC fed the given
//! bytes as its values must answer (with diagnostics where the input is
//! wrong) within a time limit, never panic and never hang. Providers drive
//! it from their own property tests with random bytes and with random
//! values of their schemas' types ([`crate::value::strategy`]).

use std::time::Duration;

use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as _;
use tonic::Request;

use super::provider_service::ProviderService;
use crate::provider::Provider;

/// How long one RPC may take before the harness calls it a hang.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A runtime like the one requests run on in tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn dv(bytes: Vec<u8>) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    })
}

/// Calls every RPC that takes values with `a`, `b`, `c` as its value fields
/// (resource RPCs for `type_name`), and asserts that each answers within
/// [`LIMIT`] without a gRPC error (a panic fails the calling test).
pub fn call_all<P: Provider>(
    rt: &tokio::runtime::Runtime,
    svc: &ProviderService<P>,
    type_name: &str,
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
                type_name: type_name.into(),
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
                type_name: type_name.into(),
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
                type_name: type_name.into(),
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
                type_name: type_name.into(),
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
                type_name: type_name.into(),
                prior_state: dv(b.clone()),
                planned_state: dv(a.clone()),
                config: dv(a.clone()),
                planned_private: c.clone(),
                provider_meta: None,
                planned_identity: identity(b.clone()),
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
                type_name: type_name.into(),
                id,
                client_capabilities: None,
                identity: None,
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "ImportResourceState (identity)",
        Box::pin(async {
            svc.import_resource_state(Request::new(pb::import_resource_state::Request {
                type_name: type_name.into(),
                identity: identity(a.clone()),
                ..Default::default()
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "UpgradeResourceIdentity",
        Box::pin(async {
            svc.upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
                type_name: type_name.into(),
                version: 0,
                raw_identity: Some(pb::RawState {
                    json: b.clone(),
                    flatmap: Default::default(),
                }),
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "GenerateResourceConfig",
        Box::pin(async {
            svc.generate_resource_config(Request::new(pb::generate_resource_config::Request {
                type_name: type_name.into(),
                state: dv(a.clone()),
            }))
            .await
            .is_ok()
        }),
    );
    run(
        "ValidateListResourceConfig",
        Box::pin(async {
            svc.validate_list_resource_config(Request::new(
                pb::validate_list_resource_config::Request {
                    type_name: type_name.into(),
                    config: dv(b.clone()),
                    ..Default::default()
                },
            ))
            .await
            .is_ok()
        }),
    );
    run(
        "ListResource",
        Box::pin(async {
            use futures::StreamExt as _;
            match svc
                .list_resource(Request::new(pb::list_resource::Request {
                    type_name: type_name.into(),
                    config: dv(b.clone()),
                    include_resource_object: false,
                    limit: 1,
                }))
                .await
            {
                // Only the first event: a valid config may start a real
                // listing, which the harness has no account for.
                Ok(stream) => {
                    let _ = stream.into_inner().next().await;
                    true
                }
                Err(_) => false,
            }
        }),
    );
}

fn identity(bytes: Vec<u8>) -> Option<pb::ResourceIdentityData> {
    Some(pb::ResourceIdentityData {
        identity_data: dv(bytes),
    })
}
