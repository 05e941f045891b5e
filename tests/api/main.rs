//! HTTP-level tests of the real application, each on its own fresh database: on SQLite, and on PostgreSQL with
//! `TEST_DATABASE_URL` and `--include-ignored`; tests that do not depend on the backend run once.

mod helpers;

mod auth;
mod beers;
mod cache;
mod cache_invalidation;
mod commands;
mod compression;
mod connections;
mod docs_examples;
mod expand_contract;
mod export;
mod facets;
mod hardening;
mod health;
mod images;
mod metrics;
mod openapi;
mod paused_database;
mod punk;
mod punk_compat;
mod rate_limit;
mod read_model_patch;
mod recipes;
mod renditions;
mod replica;
pub(crate) mod resilience;
mod scale;
mod start_up;
mod traces;
mod warmup;
mod web;
