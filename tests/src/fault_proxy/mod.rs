//! A fault-injecting HTTP/1.1 proxy for the end-to-end tests.
//!
//! The provider reaches the emulator through it (the test puts the proxy's
//! address in the provider block's `endpoint_url`). Each request is named by
//! the AWS operation it carries (`s3:CreateBucket`, `iam:PutRolePolicy`,
//! `lambda:AddPermission`, ...), recorded (with its body, for the operations
//! named with [`FaultProxy::keep_bodies`]), and then, by [`Rule`], forwarded,
//! failed with an error in that service's own format, delayed, dropped, or
//! held until the test releases it (so a test can kill the provider while it
//! waits), and then dropped or forwarded, or answered with a whole answer
//! of the test's making ([`Rule::answer`]).
//!
//! Apart from faults, the proxy can make the emulator behave as AWS does
//! where moto differs in a way a test depends on (emulator fidelity, not a
//! fault; off unless asked for): [`FaultProxy::apply_creation_tags`] writes
//! the tags of a `CreateBucket` as S3 applies them, with the bucket;
//! [`FaultProxy::echo_logging_config`] reports Lambda's `LoggingConfig`;
//! [`FaultProxy::linger_deletes`] keeps deleted streams and event source
//! mappings visible, and their names taken, for a while;
//! [`FaultProxy::validate_destinations`] checks every destination of a
//! bucket notification document, as S3 does;
//! [`FaultProxy::image_functions_like_aws`] keeps a function's package type
//! and reports an image's digest, as Lambda does;
//! [`FaultProxy::check_images`] refuses an image the registry does not hold,
//! as Lambda does;
//! [`FaultProxy::ecr_scan_default`] reads an absent `scanOnPush` as `false`,
//! as ECR does; [`FaultProxy::page_ecr_lists`] hands `ListImages` out in
//! pages, as ECR does; [`FaultProxy::page_lambda_functions`] hands
//! `ListFunctions` out in pages, as Lambda does; [`FaultProxy::ecr_images_in`] lets `BatchDeleteImage`
//! delete images pushed to the tests' registry, as ECR deletes pushed ones,
//! and a forced `DeleteRepository` take that repository's images along;
//! [`FaultProxy::sns_pending_emails`] lists email subscriptions as pending
//! confirmation, as SNS does until their owners confirm them;
//! [`FaultProxy::kms_managed_keys_like_aws`] reports the keys behind KMS's
//! predefined aliases (`alias/aws/s3`, ...) as AWS-managed, and makes the
//! one a predefined alias lacks when it is first described, as KMS does.
//!
//! It also stands in front of an OCI registry (`tests::registry`): calls
//! under `/v2/` are named `registry:HeadManifest`, `registry:GetBlob`,
//! `registry:StartUpload`, ... and failed in the registry's own error
//! format; [`FaultProxy::registry_tokens`] makes the registry want a bearer
//! token from the proxy's own token endpoint (`registry:GetToken`), as
//! public ECR does. A TLS hello is answered as a plain HTTP server answers
//! one, so a client that tries TLS first falls back to HTTP.
//!
//! Every connection carries one request: the proxy answers with
//! `Connection: close`, which keeps the byte-level relay simple and lets a
//! dropped or held request affect nothing else.
//!
//! The parts, one job each: `server` accepts and handles connections,
//! `http1` reads and relays the bytes, `operation` names the AWS call,
//! `registry` names registry calls and writes their answers,
//! `rule` decides what to do with it, `fault` writes the error answer,
//! `call` records what happened, and `fidelity` and `like_aws` (with
//! `logging_config`, `lingering`, `destinations`, `image_code`,
//! `ecr_defaults`, `ecr_pages`, `lambda_pages`, `ecr_registry`, `kms_keys`, and `answer` for whole answers) close the
//! gaps between the emulator and AWS.
//!
//! ```no_run
//! use tests::fault_proxy::{Fault, FaultProxy, Rule};
//! # fn main() -> anyhow::Result<()> {
//! let moto = tests::Moto::start()?;
//! let proxy = FaultProxy::start(&moto.endpoint())?;
//! proxy.add_rule(Rule::on("lambda:AddPermission").nth(1).fail(Fault::AccessDenied));
//! // ... point the provider at proxy.endpoint(), run terraform ...
//! assert_eq!(proxy.count("lambda:AddPermission"), 1);
//! # Ok(()) }
//! ```

mod answer;
mod call;
mod destinations;
mod ecr_defaults;
mod ecr_pages;
mod ecr_registry;
mod fault;
mod fidelity;
mod http1;
mod image_code;
mod kms_keys;
mod lambda_pages;
mod like_aws;
mod lingering;
mod logging_config;
mod operation;
mod registry;
mod rule;
mod server;
mod sns_pending;

pub use call::{Call, Outcome};
pub use fault::Fault;
pub use fidelity::AccountLimits;
pub use like_aws::Departure;
pub use lingering::Linger;
pub use rule::{Action, Canned, Rule, When};
pub use server::FaultProxy;
