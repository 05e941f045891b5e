//! What the service itself declares: the environment variables it reads (from the clap definition, per
//! subcommand), which of them hold secrets (`hide_env_values`), its subcommands, its default port and the routes
//! it serves (from the generated OpenAPI document).

#![allow(dead_code)] // each test crate uses part of it

use beer_catalog::cli::{Cli, DEFAULT_PORT};
use clap::CommandFactory;
use std::collections::{BTreeMap, BTreeSet};

pub struct ServiceContract {
    pub default_port: u16,
    /// Variables every subcommand reads (the global settings).
    pub global_env: BTreeSet<String>,
    /// Subcommand name -> the variables only it reads.
    pub subcommand_env: BTreeMap<String, BTreeSet<String>>,
    /// Variables whose values the service hides (passwords, keys): they must come from `secrets`.
    pub secret_env: BTreeSet<String>,
    /// Variable -> the default the service uses when it is unset (e.g. SHUTDOWN_GRACE_SECS -> 20).
    pub defaults: BTreeMap<String, String>,
    /// Routes the service serves, e.g. "/health".
    pub routes: BTreeSet<String>,
}

impl ServiceContract {
    pub fn from_service() -> ServiceContract {
        let command = Cli::command();
        let (mut secret_env, mut defaults) = (BTreeSet::new(), BTreeMap::new());
        // The variables a command's own arguments read, noting the hidden ones and the defaults on the way.
        let mut env_of = |command: &clap::Command| {
            let mut names = BTreeSet::new();
            for arg in command.get_arguments() {
                let Some(env) = arg.get_env() else { continue };
                let name = env.to_string_lossy().into_owned();
                if let Some(default) = arg.get_default_values().first().map(|d| d.to_string_lossy()) {
                    defaults.entry(name.clone()).or_insert(default.into_owned());
                }
                if arg.is_hide_env_values_set() {
                    secret_env.insert(name.clone());
                }
                names.insert(name);
            }
            names
        };
        let global_env = env_of(&command);
        let subcommands = command.get_subcommands();
        let subcommand_env = subcommands
            .map(|sub| (sub.get_name().to_string(), &env_of(sub) - &global_env))
            .collect();
        let routes = beer_catalog::http::openapi::api_doc().paths.paths.into_keys().collect();
        let default_port = DEFAULT_PORT;
        ServiceContract {
            default_port,
            global_env,
            subcommand_env,
            secret_env,
            defaults,
            routes,
        }
    }

    /// Variables a container running `subcommand` may set: the global ones plus that subcommand's own.
    /// `None` when the subcommand does not exist.
    pub fn env_for(&self, subcommand: &str) -> Option<BTreeSet<String>> {
        let own = self.subcommand_env.get(subcommand)?;
        Some(self.global_env.iter().chain(own.iter()).cloned().collect())
    }

    /// Every variable the service reads, under any subcommand.
    pub fn all_env(&self) -> BTreeSet<String> {
        self.subcommand_env
            .values()
            .flatten()
            .chain(&self.global_env)
            .cloned()
            .collect()
    }

    pub fn has_subcommand(&self, name: &str) -> bool {
        self.subcommand_env.contains_key(name)
    }
}
