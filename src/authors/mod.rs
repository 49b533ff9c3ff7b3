//! Authors: the public face of users who have published. Only users with
//! at least one visible article are listed or found here, so the endpoint
//! cannot be used to enumerate accounts.

pub mod dto;
pub mod queries;
pub mod routes;
