//! The function's asynchronous invoke configuration: how often Lambda
//! retries an event S3 delivered, for how long, and where the events it
//! gives up on go.

use crate::aws::lambda;

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::part::Part;
use super::super::run::Run;

pub async fn put(run: &Run<'_>) -> Result<(), ApplyError> {
    let Some(config) = desired::invoke_config(run.want) else {
        return Ok(());
    };
    lambda::put_invoke_config(&run.aws.lambda, &run.want.function_name, &config)
        .await
        .map_err(ApplyError::aws(
            "configuring retries and the failure destination",
        ))?;
    run.made(Part::InvokeConfig);
    Ok(())
}

pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    lambda::delete_invoke_config(&run.aws.lambda, &run.want.function_name)
        .await
        .map_err(ApplyError::aws(run.step(
            "removing retries and the failure destination",
            "rolling back retries and the failure destination",
        )))?;
    run.removed([Part::InvokeConfig]);
    Ok(())
}
