//! The subcommands other than `serve`: one-off jobs run by operators, deploy pipelines and the container.

pub mod generate;
pub mod healthcheck;
pub mod import;
pub mod import_recipes;
pub mod import_stream;
pub mod provision_roles;
