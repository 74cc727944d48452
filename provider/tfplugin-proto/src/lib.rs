//! Terraform plugin protocol 6 and go-plugin controller types, generated at
//! build time from `proto/`. Nothing else lives here.

/// `tfplugin6`: the provider service Terraform talks to.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// `plugin`: go-plugin's controller service (graceful shutdown).
pub mod plugin {
    tonic::include_proto!("plugin");
}
