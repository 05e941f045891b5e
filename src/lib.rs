//! beer-catalog: a beer catalog REST API with a Punk API v2 compatible surface.
//!
//! Layout, with dependencies pointing one way (down this list, never up):
//! - [`cli`] parses flags and environment; [`config`] validates them and composes the settings each layer owns;
//! - [`startup`] builds and runs the server on [`server`]'s bounded connections, [`commands`] the one-off jobs, [`telemetry`] the logging;
//! - [`http`] the routes, middleware and error answers, and the web pages (`http::pages`);
//! - [`seed`] the built-in sample catalog;
//! - [`storage`] the one store interface with its SQLite and PostgreSQL backends and their connection settings;
//! - [`observability`] the metrics and trace export both [`http`] and [`storage`] record into;
//! - [`domain`] the beer model, validation and filters (no HTTP, no SQL).

pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod http;
pub mod observability;
pub mod seed;
pub mod server;
pub mod startup;
pub mod storage;
pub mod telemetry;
