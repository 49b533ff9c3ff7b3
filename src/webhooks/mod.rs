//! Webhooks: admins register URLs (`/webhooks`), and the worker delivers
//! the events of the event log to them, signed per Standard Webhooks, with
//! retries, coalescing and a delivery log.
//!
//! Must not: record events (that is `events`), or connect to an address
//! that `target` refuses.

pub mod dto;
pub mod queries;
pub mod routes;
pub mod sign;
pub mod target;
pub mod worker;
