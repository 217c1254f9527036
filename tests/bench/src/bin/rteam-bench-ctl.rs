//! `rteam-bench-ctl`: the control-call driver. Calls one teamd method N times over the
//! unix socket (teamd-ctl-client's usock client) or over D-Bus (teamd-dbus's proxy), one call
//! at a time, and writes each round trip in nanoseconds, one a line.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use rteam_bench::clock::now_ns;
use teamd_ctl_client::usock::UsockClient;
use teamd_ctl_proto::Method;

#[derive(Clone, Copy, ValueEnum)]
enum Transport {
    Usock,
    Dbus,
}

#[derive(Parser)]
#[command(name = "rteam-bench-ctl", about = "time teamd control calls")]
struct Cli {
    #[arg(value_enum)]
    transport: Transport,
    /// Team device name.
    team: String,
    /// Number of calls.
    count: usize,
    /// Method name, as teamdctl's protocol spells it.
    #[arg(long, default_value = "StateDump")]
    method: String,
    /// Arguments of the method.
    #[arg(long = "arg")]
    args: Vec<String>,
    /// Write the round trips (ns) here; without it, nothing is recorded.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rteam-bench-ctl: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let method = Method::from_name(&cli.method)
        .with_context(|| format!("no method named {}", cli.method))?;
    let args: Vec<&str> = cli.args.iter().map(String::as_str).collect();
    let mut samples = Vec::with_capacity(if cli.out.is_some() { cli.count } else { 0 });
    match cli.transport {
        Transport::Usock => {
            let mut client = UsockClient::connect(&cli.team)?;
            for _ in 0..cli.count {
                let t0 = now_ns();
                client.call(method, &args)?;
                if cli.out.is_some() {
                    samples.push(now_ns() - t0);
                }
            }
        }
        Transport::Dbus => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let proxy = match teamd_dbus::client::connect(&cli.team).await {
                    Ok(p) => p,
                    Err(e) => bail!("{e}"),
                };
                for _ in 0..cli.count {
                    let t0 = now_ns();
                    if let Err(e) = teamd_dbus::client::call(&proxy, method, &args).await {
                        bail!("{e}");
                    }
                    if cli.out.is_some() {
                        samples.push(now_ns() - t0);
                    }
                }
                Ok(())
            })?;
        }
    }
    if let Some(path) = &cli.out {
        let mut f = fs::File::create(path).with_context(|| format!("cannot create {path:?}"))?;
        for s in &samples {
            writeln!(f, "{s}")?;
        }
    }
    Ok(())
}
