//! Operational endpoints: liveness and readiness.

pub mod routes;
