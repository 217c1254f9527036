//! Load-balancing pieces of teamd shared by the `loadbalance` and `lacp` runners, kept
//! free of I/O so they can be tested byte for byte against C teamd:
//!
//! * [`hash`]: `runner.tx_hash` → the classic BPF program for the kernel's
//!   `bpf_hash_func` option (spec §8.3.1);
//! * [`balancer`]: the "basic" TX balancer driving `lb_tx_hash_to_port_mapping`
//!   (spec §8.3.2);
//! * [`config`]: the typed `runner.tx_balancer` settings.
//!
//! Setting options, logging and the event loop belong to the daemon.

#![forbid(unsafe_code)]

pub mod balancer;
pub mod config;
pub mod hash;

pub use balancer::{Assignment, Balancer, BalancerError, InstanceValue, OptionInstance, Rebalance};
pub use config::{ConfigWarning, TxBalancerConfig};
pub use hash::{program, to_option_bytes, SockFilter, TxHash};
