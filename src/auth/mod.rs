//! Proofs of identity for sensitive commands. So far: TOTP codes (RFC 6238).
//! Sessions, passcodes and lockouts come with the access-control issue.

pub mod totp;
