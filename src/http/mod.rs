//! Cross-cutting HTTP concerns shared by every resource.

pub mod caching;
pub mod client_ip;
pub mod errors;
pub mod json;
pub mod list;
pub mod query;
pub mod read_cache;
pub mod security;
pub mod surrogate;
pub mod writes;

pub use json::Json;
pub use list::{ListQuery, Listed, Page, PageMeta, PageRequest, Sort};
pub use query::StrictQuery;
