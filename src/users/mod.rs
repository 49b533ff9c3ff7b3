//! Users: the accounts behind every token, managed by admins, partly
//! self-managed, and the first admin made at start-up or from the CLI.

pub mod dto;
pub mod queries;
pub mod routes;
