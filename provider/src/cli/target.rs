//! Finding a pipeline by its name for the day-two commands: the same
//! reading of AWS that `terraform import NAME` does (the function, checked
//! by its ownership tag, then the parts its tags and settings name), so the
//! commands and the provider never disagree about what a pipeline is.

use std::collections::BTreeMap;

use crate::aws::AwsClients;
use crate::pipeline::import;
use crate::pipeline::state::{Known, State};

use super::error::CliError;

/// A pipeline as AWS has it now.
pub struct Target {
    pub name: String,
    /// The pipeline's typed state, as an import would record it.
    pub state: State<Known>,
}

/// The pipeline `name`, found through its function's ownership tag.
pub async fn find(aws: &AwsClients, name: &str) -> Result<Target, CliError> {
    let imported = import::import(aws, name, &BTreeMap::new())
        .await
        .map_err(|e| CliError::from_import(name, e))?;
    Ok(Target {
        name: name.to_owned(),
        state: imported.state,
    })
}
