//! The key-value store layers that run on top of membership.

pub mod classic;
pub mod versioned;
