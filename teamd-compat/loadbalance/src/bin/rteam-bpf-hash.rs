//! Test tool for the VM bench, comparing our pure pieces with C teamd on a real team:
//!
//! * `rteam-bpf-hash [TX_HASH_JSON]`: the `bpf_hash_func` bytes teamd installs for that
//!   `runner.tx_hash` value (default list without an argument), formatted like
//!   `teamnl <dev> getoption bpf_hash_func`; config warnings go to stderr.
//! * `rteam-bpf-hash --tx-balancer TX_BALANCER_JSON`: the `lb_tx_method` value, then the
//!   `lb_stats_refresh_interval` teamd writes (`-` when it writes none), one per line.

use std::process::ExitCode;

use serde_json::Value;
use teamd_loadbalance::{program, to_option_bytes, TxBalancerConfig, TxHash};

fn parse_json(arg: &str) -> Option<Value> {
    serde_json::from_str(arg)
        .inspect_err(|e| eprintln!("rteam-bpf-hash: invalid JSON: {e}"))
        .ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        [] => print_program(&TxHash::default_frags()),
        ["--tx-balancer", json] => {
            let Some(value) = parse_json(json) else {
                return ExitCode::FAILURE;
            };
            let (cfg, warnings) = TxBalancerConfig::parse(&value);
            warnings.iter().for_each(|w| eprintln!("{w}"));
            if cfg.enabled {
                println!("hash_to_port_mapping\n{}", cfg.balancing_interval);
            } else {
                println!("hash\n-");
            }
        }
        [json] => {
            let Some(value) = parse_json(json) else {
                return ExitCode::FAILURE;
            };
            let (hash, warnings) = TxHash::parse(&value);
            warnings.iter().for_each(|w| eprintln!("{w}"));
            print_program(&hash);
        }
        _ => {
            eprintln!("usage: rteam-bpf-hash [TX_HASH_JSON | --tx-balancer TX_BALANCER_JSON]");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn print_program(hash: &TxHash) {
    let text: String = to_option_bytes(&program(hash))
        .iter()
        .map(|b| format!("\\{b:02x}"))
        .collect();
    println!("{text}");
}
