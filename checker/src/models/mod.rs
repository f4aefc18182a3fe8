//! The sequential models: the store's key-value model and the models of the external histories.

pub mod etcd;
pub mod jepsen_kv;
pub mod kv;
