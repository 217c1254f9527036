//! `cargo xtask`: rteam's developer entry points.
//!
//! Kernel-side tests need the team driver, which the host kernel lacks, so they run in a
//! qemu (TCG) guest booting Debian's kernel; see `tests/vm/README.md`.

mod bench;
mod checks;
mod fuzz;
mod guest;
mod hot_code;
mod kernel;
mod man;
mod package;
mod qemu;
#[cfg(test)]
mod script_lint;
mod util;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "rteam developer tasks"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// fmt + clippy + unit tests, then every VM scenario except the demo.
    Test {
        /// Skip the VM scenarios.
        #[arg(long)]
        no_vm: bool,
        /// Run only this VM scenario (and skip fmt/clippy/test).
        #[arg(long, value_name = "NAME")]
        only: Option<String>,
        #[command(flatten)]
        vm: VmOpts,
    },
    /// Boot the VM and run tests/vm/scenarios/demo.sh.
    Demo {
        #[command(flatten)]
        vm: VmOpts,
    },
    /// Boot the VM and run one scenario or script; exits with the script's status.
    Vm {
        /// Name of a script in tests/vm/scenarios/ (without .sh).
        #[arg(long, conflicts_with = "script", required_unless_present = "script")]
        scenario: Option<String>,
        /// Any shell script on the host.
        #[arg(long)]
        script: Option<PathBuf>,
        #[command(flatten)]
        vm: VmOpts,
    },
    /// Profile teamd in the VM (callgrind) and rewrite its link order,
    /// teamd-compat/teamd/hot-code.order (after a compiler or dependency update).
    HotCode,
    /// Build (or reuse) our 6.12 kernel and team_rs.ko; `vm`/`test` do this when needed.
    Kernel {
        /// rteam (the suite's config) or rteam-debug (KASAN, lockdep, RCU checks).
        #[arg(long, value_enum, default_value_t = KernelChoice::Rteam)]
        kernel: KernelChoice,
    },
    /// rteam's teamd against C teamd in one VM boot; writes target/bench/report.{md,json}.
    Bench {
        /// Few repetitions and small sizes (a few minutes), for development.
        #[arg(long)]
        quick: bool,
        /// Keep the run's log directory even if the run passes.
        #[arg(long)]
        keep: bool,
        /// Kill the guest after this many seconds.
        #[arg(long, default_value_t = 2400)]
        timeout: u64,
        /// Section 9 (the drivers) on instruction-counted guest time, qemu's icount with
        /// this shift (0: a 1 GHz guest): its figures then do not depend on the host's load,
        /// so two repetitions are enough; one-thread TCG, so about 15 minutes longer.
        #[arg(long, value_name = "SHIFT", value_parser = clap::value_parser!(u32).range(0..=10))]
        kmod_icount: Option<u32>,
    },
    /// The .deb and .rpm packages (rteam, rteam-dev, rteam-devel), built and checked.
    Package {
        /// Where the packages go (default: target/packages/); old ones there are removed.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Build the libFuzzer targets of fuzz/ (stable Rust) and run each, or TARGET, for
    /// --seconds one after the other; prints execs and coverage, fails if one crashed.
    Fuzz {
        /// How long each target runs.
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        /// One target (a file name in fuzz/fuzz_targets/ without .rs); default: all.
        target: Option<String>,
    },
}

#[derive(Args, Clone, Copy)]
struct VmOpts {
    /// Keep the run's log directory even if the run passes.
    #[arg(long)]
    keep: bool,
    /// Kill the guest after this many seconds. (lacp-select took 592 s with three guests
    /// on the 2 cores; `cargo xtask test` runs two at a time.)
    #[arg(long, default_value_t = 900)]
    timeout: u64,
    /// How the guest boots: plain (bash runs the script) or systemd (systemd as PID 1 runs
    /// it as a unit). Default: the script's `# vm-boot:` line, else plain.
    #[arg(long, value_enum)]
    boot: Option<qemu::Boot>,
    #[command(flatten)]
    target: KernelOpts,
}

/// Which kernel the guest boots and which team driver it loads.
#[derive(Args, Clone, Copy)]
struct KernelOpts {
    /// debian: Debian's kernel with its team.ko. rteam / rteam-debug: our 6.12 build
    /// (built and cached on first use; -debug adds KASAN, lockdep, RCU checks).
    /// Default: debian for --driver c, rteam for --driver rust.
    #[arg(long, value_enum)]
    kernel: Option<KernelChoice>,
    /// The team driver: c (team.ko), rust (team_rs.ko, needs our kernel), or none (the
    /// script loads one itself from /opt/rteam/job/kmods; our kernel only). Default: rust
    /// for `demo`, c otherwise.
    #[arg(long = "driver", value_enum)]
    driver_arg: Option<guest::Driver>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KernelChoice {
    Debian,
    Rteam,
    RteamDebug,
}

impl KernelOpts {
    fn driver(self) -> guest::Driver {
        self.driver_arg.unwrap_or(guest::Driver::C)
    }

    /// Our kernel flavor to boot, or None for Debian's.
    fn flavor(self) -> Result<Option<kernel::Flavor>> {
        let choice = self.kernel.unwrap_or(match self.driver() {
            guest::Driver::C => KernelChoice::Debian,
            _ => KernelChoice::Rteam,
        });
        Ok(match choice {
            KernelChoice::Debian => {
                anyhow::ensure!(
                    self.driver() == guest::Driver::C,
                    "--driver {:?} needs our kernel (--kernel rteam or rteam-debug): Debian's \
                     kernel cannot load a Rust module",
                    self.driver()
                );
                None
            }
            KernelChoice::Rteam => Some(kernel::Flavor::Rteam),
            KernelChoice::RteamDebug => Some(kernel::Flavor::RteamDebug),
        })
    }

    /// The guest image for these options (building our kernel first if needed).
    fn image(self) -> Result<guest::Image> {
        match self.flavor()? {
            None => guest::prepare(),
            Some(flavor) => guest::prepare_on(&kernel::prepare(flavor)?, self.driver()),
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.cmd {
        Cmd::Test { no_vm, only, vm } => {
            let target = match vm.target.flavor()? {
                None => checks::Target::Debian,
                Some(flavor) => checks::Target::Ours(flavor, vm.target.driver()),
            };
            anyhow::ensure!(
                only.is_some() || (vm.target.kernel.is_none() && vm.target.driver_arg.is_none()),
                "--kernel and --driver go with --only (the full run covers both kernels)"
            );
            checks::test_all(no_vm, only.as_deref(), target, vm.into())
        }
        Cmd::Demo { mut vm } => {
            // the mission's driver: team_rs.ko on our kernel (`--driver c`: Debian's team.ko)
            if vm.target.kernel != Some(KernelChoice::Debian) {
                vm.target.driver_arg.get_or_insert(guest::Driver::Rust);
            }
            run_one(&util::scenario_path("demo")?, vm)
        }
        Cmd::Vm {
            scenario,
            script,
            vm,
        } => {
            let path = match (scenario, script) {
                (Some(name), _) => util::scenario_path(&name)?,
                (None, Some(path)) => path,
                (None, None) => anyhow::bail!("give --scenario or --script"),
            };
            anyhow::ensure!(path.is_file(), "no such script: {}", path.display());
            run_one(&path, vm)
        }
        Cmd::Kernel { kernel } => {
            let flavor = match kernel {
                KernelChoice::Debian => anyhow::bail!("Debian's kernel is not built here"),
                KernelChoice::Rteam => kernel::Flavor::Rteam,
                KernelChoice::RteamDebug => kernel::Flavor::RteamDebug,
            };
            let built = kernel::prepare(flavor)?;
            println!("{}", built.bzimage.display());
            for m in built.c_modules.iter().chain([&built.rust_module]) {
                println!("{}", m.display());
            }
            Ok(0)
        }
        Cmd::Bench {
            quick,
            keep,
            timeout,
            kmod_icount,
        } => bench::run(
            quick,
            kmod_icount,
            qemu::RunOpts {
                keep,
                timeout: std::time::Duration::from_secs(timeout),
                results_to: None,
                boot: None,
                cpus: None,
                icount: None,
            },
        ),
        Cmd::Package { out } => {
            let out = out.unwrap_or_else(package::default_out_dir);
            let packages = package::build(&out)?;
            for path in packages.all() {
                println!("{}", path.display());
            }
            Ok(0)
        }
        Cmd::HotCode => hot_code::run(),
        Cmd::Fuzz { seconds, target } => fuzz::run(seconds, target.as_deref()),
    }
}

/// Build everything, boot once, print output live; the exit code is the script's.
fn run_one(script: &std::path::Path, opts: VmOpts) -> Result<u8> {
    if qemu::needs_packages(script) {
        package::build(&package::default_out_dir())?;
    }
    let image = opts.target.image()?;
    let bins = guest::build_and_stage_bins()?;
    let finished = qemu::run_script(&image, &bins, script, opts.into(), true)?;
    Ok(finished.outcome.exit_code())
}

impl From<VmOpts> for qemu::RunOpts {
    fn from(o: VmOpts) -> Self {
        qemu::RunOpts {
            keep: o.keep,
            timeout: std::time::Duration::from_secs(o.timeout),
            results_to: None,
            boot: o.boot,
            cpus: None,
            icount: None,
        }
    }
}
