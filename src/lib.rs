//! beer-catalog: a beer catalog REST API with a Punk API v2 compatible surface.
//!
//! Layout: [`cli`] parses flags and environment, [`config`] validates them, [`domain`] holds the beer model,
//! validation and filters, [`storage`] the one store interface with its SQLite and PostgreSQL backends,
//! [`http`] the routes and middleware, [`web`] the
//! HTML pages, [`startup`] runs the server, [`commands`] the one-off jobs.

pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod http;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod web;
