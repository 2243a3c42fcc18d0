//! graft-auth against real crypto and real local HTTP servers (JWKS, auth webhook) on
//! 127.0.0.1. One test binary, one module per behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_secret;
mod jwks;
mod jwt_algorithms;
mod jwt_claims;
mod no_escalation;
mod support;
mod webhook;
