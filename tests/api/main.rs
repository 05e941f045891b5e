//! HTTP-level tests of the real application, each on its own fresh database, on SQLite and (with
//! TEST_DATABASE_URL) PostgreSQL.

mod helpers;

mod auth;
mod beers;
mod commands;
mod health;
mod punk;
mod resilience;
mod web;
