//! The webhook's guards.

pub mod client_ip;
pub mod secret_token;
