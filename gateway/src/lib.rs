//! The thin HTTP edge of Onramp: browser JSON and Stripe webhooks in, tonic RPCs out. No business
//! rules and no SQL live here; it authenticates, budgets, traces and maps errors.
#![forbid(unsafe_code)]

mod auth;
mod clients;
mod config;
mod middleware;
mod openapi;
mod problem;
mod routes;
mod startup;
mod web;

pub use config::{Config, EdgeConfig, Limit, RouteLimit, SameSite};
pub use startup::Application;
