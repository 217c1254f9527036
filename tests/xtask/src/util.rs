//! Small helpers shared by the other modules: paths, running commands, host packages.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The workspace root (this crate lives at `tests/xtask`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// `tests/vm/scenarios/NAME.sh`, else `tests/vm/kmod/NAME.sh` (scenarios that need our own
/// kernel), checked to exist so a typo fails before the build.
pub fn scenario_path(name: &str) -> Result<PathBuf> {
    let root = workspace_root();
    for dir in ["tests/vm/scenarios", "tests/vm/kmod"] {
        let path = root.join(dir).join(format!("{name}.sh"));
        if path.is_file() {
            return Ok(path);
        }
    }
    bail!("no such scenario: {name} (looked in tests/vm/scenarios and tests/vm/kmod)")
}

/// The cargo that runs us (so a rustup toolchain override is honoured), else plain `cargo`.
pub fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// `cargo_program()` in the workspace root.
pub fn cargo() -> Command {
    let mut cmd = Command::new(cargo_program());
    cmd.current_dir(workspace_root());
    cmd
}

/// Run a command with inherited stdio and fail unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// Run a command and return its stdout; stderr is passed through.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("{cmd:?} printed non-UTF-8"))
}

/// Held around whatever changes apt's state on the host (install, update): the kernel build
/// starts in a thread of its own beside the guest image's preparation, and two apt-gets at
/// once fail on apt's lock instead of waiting.
pub fn apt_lock() -> std::sync::MutexGuard<'static, ()> {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    APT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Install the Debian packages among `pkgs` that are missing: CI starts from a fresh machine.
pub fn ensure_host_packages(pkgs: &[&str]) -> Result<()> {
    let _apt = apt_lock();
    let missing: Vec<&str> = pkgs.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing host packages: {}", missing.join(" "));
    let install = || {
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    // A fresh machine may have empty package lists; update only when needed.
    if install().is_err() {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        install()?;
    }
    Ok(())
}

fn is_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| o.status.success() && o.stdout.ends_with(b" installed"))
        .unwrap_or(false)
}

/// Remove a directory tree if it exists.
pub fn remove_dir(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// An exclusive lock on `path`, held until the returned file is dropped: for what two xtask
/// runs at once must not build into together (a kernel tree, the packages' staging dir).
pub fn lock_file(path: &Path) -> Result<std::fs::File> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    if file.try_lock().is_err() {
        eprintln!("xtask: waiting for another xtask run ({})", path.display());
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
    }
    Ok(file)
}
