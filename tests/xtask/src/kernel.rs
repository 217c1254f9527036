//! Our own Linux 6.12 build, which the Rust team driver (`kmod/driver`, `team_rs.ko`) needs:
//! Debian's kernels are built without `CONFIG_RUST` and can never load a Rust module.
//!
//! Everything comes from the machine's apt sources: the kernel source (`linux-source-6.12`),
//! a Rust toolchain the kernel accepts (`rustc-web` + the matching `rust-web-src`, unpacked
//! into a private prefix so the machine's own cargo toolchain stays as it is), clang/lld 19;
//! bindgen-cli is built with cargo. Each piece is cached under `target/kernel` with the
//! recipe it was made from (package versions, config fragments, tool versions), and a
//! different recipe rebuilds it. A kernel build takes 10-25 minutes on 2 cores.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::guest;
use crate::util::{self, output, run};

/// The kernel series `kmod/driver` is written against.
const SOURCE_PACKAGE: &str = "linux-source-6.12";
/// Packages of the Rust toolchain; their `libstd-rust-web*`/`libllvm*` dependencies are
/// fetched with them.
const RUST_PACKAGES: &[&str] = &["rustc-web", "rust-web-src"];
/// Debian's own bindgen is too old for 6.12 (it needs >= 0.65.1).
const BINDGEN_VERSION: &str = "0.69.5";
const LLVM_BIN: &str = "/usr/lib/llvm-19/bin";
const HOST_PACKAGES: &[&str] = &[
    "clang-19",
    "lld-19",
    "llvm-19",
    "libclang-19-dev",
    "flex",
    "bison",
    "bc",
    "m4",
    "make",
    "libelf-dev",
    "xz-utils",
];

/// Bump when the build steps change what they make.
const RECIPE_VERSION: u32 = 1;

/// Which kernel configuration.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flavor {
    /// The small config the suite runs on (`tests/vm/kmod/kernel.config`).
    Rteam,
    /// The same plus KASAN, lockdep and RCU debugging (`kernel-debug.config`).
    RteamDebug,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Rteam => "rteam",
            Flavor::RteamDebug => "rteam-debug",
        }
    }

    fn fragments(self) -> &'static [&'static str] {
        match self {
            Flavor::Rteam => &["kernel.config"],
            Flavor::RteamDebug => &["kernel.config", "kernel-debug.config"],
        }
    }
}

/// A built kernel with its team modules.
pub struct Kernel {
    pub bzimage: PathBuf,
    /// C `team.ko` and its `team_mode_*.ko`, built from the same tree.
    pub c_modules: Vec<PathBuf>,
    /// `team_rs.ko`.
    pub rust_module: PathBuf,
}

struct Toolchain {
    /// `usr/` of the unpacked packages lives here.
    root: PathBuf,
    bindgen_bin: PathBuf,
}

impl Toolchain {
    /// The environment every kernel `make` runs in.
    fn env(&self, cmd: &mut Command) -> Result<()> {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env(
            "PATH",
            format!(
                "{LLVM_BIN}:{}:{}:{path}",
                self.root.join("usr/bin").display(),
                self.bindgen_bin.display()
            ),
        )
        .env(
            "LD_LIBRARY_PATH",
            self.root.join("usr/lib/x86_64-linux-gnu"),
        )
        .env("RUST_LIB_SRC", self.rust_lib_src()?);
        Ok(())
    }

    fn rust_lib_src(&self) -> Result<PathBuf> {
        let src = self.root.join("usr/src");
        let dir = fs::read_dir(&src)
            .with_context(|| format!("cannot read {}", src.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("rustc-"))
            })
            .with_context(|| format!("no rustc-* source under {}", src.display()))?;
        Ok(dir.join("library"))
    }
}

fn cache_dir() -> PathBuf {
    std::env::var_os("RTEAM_KERNEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| util::workspace_root().join("target/kernel"))
}

/// Build (or reuse) the kernel of `flavor`, then (re)build `team_rs.ko` against it.
pub fn prepare(flavor: Flavor) -> Result<Kernel> {
    util::ensure_host_packages(HOST_PACKAGES)?;
    let cache = cache_dir();
    fs::create_dir_all(&cache).with_context(|| format!("cannot create {}", cache.display()))?;
    // Two xtask runs (a test and a bench, say) must not build into the same tree at once:
    // one lock for the shared toolchain and source, one per flavor for its build.
    let (tc, source) = {
        let _shared = util::lock_file(&cache.join("lock"))?;
        let tc = toolchain(&cache)?;
        let source = unpack_source(&cache, &tc)?;
        (tc, source)
    };
    let _own = util::lock_file(&cache.join(format!("lock-{}", flavor.name())))?;
    let build = build_kernel(&cache, &tc, &source, flavor)?;
    let built = build_module(&cache, &tc, &build, flavor)?;
    // The next run of this flavor rebuilds module-<flavor> while this run's guest may not
    // have been given its module yet: this run takes its own copy, under the lock.
    let rust_module = guest::own_stage(&format!("kmod-{}", flavor.name()))?.join("team_rs.ko");
    fs::copy(&built, &rust_module)
        .with_context(|| format!("cannot copy {} aside", built.display()))?;
    let team_dir = build.join("drivers/net/team");
    let mut c_modules = vec![team_dir.join("team.ko")];
    for mode in MODES {
        c_modules.push(team_dir.join(format!("team_mode_{mode}.ko")));
    }
    for m in &c_modules {
        anyhow::ensure!(m.is_file(), "the kernel build has no {}", m.display());
    }
    Ok(Kernel {
        bzimage: build.join("arch/x86/boot/bzImage"),
        c_modules,
        rust_module,
    })
}

pub const MODES: &[&str] = &[
    "activebackup",
    "broadcast",
    "loadbalance",
    "random",
    "roundrobin",
];

/// The candidate version apt would install of `pkg`.
fn candidate(pkg: &str) -> Result<String> {
    let find = || -> Result<String> {
        let policy = output(Command::new("apt-cache").args(["policy", pkg]))?;
        policy
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Candidate: "))
            .next()
            .filter(|v| *v != "(none)")
            .map(str::to_string)
            .with_context(|| format!("apt has no candidate for {pkg}"))
    };
    // A fresh machine may not have package lists yet.
    find().or_else(|_| {
        let _apt = util::apt_lock();
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        find()
    })
}

/// Download the toolchain and kernel source packages, unpack them into a private prefix,
/// build bindgen-cli; reused once built (see below).
fn toolchain(cache: &Path) -> Result<Toolchain> {
    let mut recipe = format!("recipe: {RECIPE_VERSION}\nbindgen-cli: {BINDGEN_VERSION}\n");
    let dir = cache.join("toolchain");
    let tc = Toolchain {
        root: dir.join("root"),
        bindgen_bin: dir.join("bindgen/bin"),
    };
    // A complete toolchain is kept even when apt offers newer packages: the candidates
    // move whenever the package lists are refreshed, and each move would cost a full
    // kernel rebuild. RTEAM_KERNEL_REFRESH=1 picks up new versions.
    let refresh = std::env::var_os("RTEAM_KERNEL_REFRESH").is_some_and(|v| v == "1");
    if !refresh && read(&dir.join("recipe.txt")).starts_with(&recipe) {
        return Ok(tc);
    }
    for pkg in RUST_PACKAGES.iter().chain([&SOURCE_PACKAGE]) {
        recipe.push_str(&format!("{pkg}: {}\n", candidate(pkg)?));
    }
    if read(&dir.join("recipe.txt")) == recipe {
        return Ok(tc);
    }
    let started = Instant::now();
    eprintln!("xtask: kernel toolchain: fetching {SOURCE_PACKAGE}, rustc-web, rust-web-src");
    util::remove_dir(&dir)?;
    let debs = dir.join("debs");
    fs::create_dir_all(&debs)?;
    // The toolchain packages and the libraries they need that a Debian 12 host lacks.
    let mut wanted: Vec<String> = RUST_PACKAGES
        .iter()
        .chain([&SOURCE_PACKAGE])
        .map(|s| s.to_string())
        .collect();
    let mut fetched: Vec<String> = Vec::new();
    while let Some(pkg) = wanted.pop() {
        if fetched.contains(&pkg) {
            continue;
        }
        run(Command::new("apt-get")
            .args(["download", "-qq", "-o", "APT::Sandbox::User=root", &pkg])
            .current_dir(&debs))?;
        fetched.push(pkg.clone());
        let deb = find_deb(&debs, &pkg)?;
        let depends = output(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Depends"))?;
        for dep in depends.split(',') {
            let name = dep.split_whitespace().next().unwrap_or("");
            if name.starts_with("libstd-rust-web") || name.starts_with("libllvm") {
                wanted.push(name.to_string());
            }
        }
    }
    for entry in fs::read_dir(&debs)? {
        let deb = entry?.path();
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tc.root))?;
    }
    util::remove_dir(&debs)?;
    eprintln!("xtask: kernel toolchain: building bindgen-cli {BINDGEN_VERSION}");
    // niced like the kernel build (see make()): this too runs beside guests
    run(Command::new("nice")
        .args(["-n", "19"])
        .arg(util::cargo_program())
        .args(["install", "--locked", "--quiet", "bindgen-cli", "--version"])
        .arg(BINDGEN_VERSION)
        .arg("--root")
        .arg(dir.join("bindgen"))
        // a workspace's config must not leak into the install
        .current_dir(&dir))?;
    fs::write(dir.join("recipe.txt"), recipe)?;
    eprintln!(
        "xtask: kernel toolchain ready in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(tc)
}

fn find_deb(dir: &Path, pkg: &str) -> Result<PathBuf> {
    fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{pkg}_")))
        })
        .with_context(|| format!("apt-get download left no .deb for {pkg}"))
}

/// Unpack the kernel source tarball once; kernel builds refer to it by absolute path.
fn unpack_source(cache: &Path, tc: &Toolchain) -> Result<PathBuf> {
    let tarball = tc.root.join(format!("usr/src/{SOURCE_PACKAGE}.tar.xz"));
    let stamp = format!(
        "{}\n",
        fs::metadata(&tarball)
            .with_context(|| format!("no {}", tarball.display()))?
            .len()
    );
    let dir = cache.join("source");
    let tree = dir.join(SOURCE_PACKAGE);
    if read(&dir.join("unpacked.txt")) == stamp && tree.is_dir() {
        return Ok(tree);
    }
    eprintln!("xtask: kernel: unpacking {}", tarball.display());
    util::remove_dir(&dir)?;
    fs::create_dir_all(&dir)?;
    run(Command::new("tar")
        .arg("-xJf")
        .arg(&tarball)
        .arg("-C")
        .arg(&dir))?;
    anyhow::ensure!(
        tree.is_dir(),
        "{} did not unpack to {}",
        tarball.display(),
        tree.display()
    );
    fs::write(dir.join("unpacked.txt"), stamp)?;
    Ok(tree)
}

fn tool_version(tc: &Toolchain, tool: &str, arg: &str) -> Result<String> {
    let mut cmd = Command::new(tool);
    cmd.arg(arg);
    tc.env(&mut cmd)?;
    Ok(output(&mut cmd)?.lines().next().unwrap_or("").to_string())
}

/// `make ARCH=x86_64 LLVM=1 ...` in the toolchain's environment, at the lowest CPU priority:
/// guests running beside a build keep their timers (a guest under TCG needs a core).
fn make(tc: &Toolchain, dir: &Path) -> Result<Command> {
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "19", "make", "-C"])
        .arg(dir)
        .args(["ARCH=x86_64", "LLVM=1"]);
    tc.env(&mut cmd)?;
    Ok(cmd)
}

/// tinyconfig + the flavor's fragments, then the whole tree (bzImage and modules).
fn build_kernel(cache: &Path, tc: &Toolchain, source: &Path, flavor: Flavor) -> Result<PathBuf> {
    let kmod_dir = util::workspace_root().join("tests/vm/kmod");
    let mut recipe = format!(
        "recipe: {RECIPE_VERSION}\nsource: {}\nrustc: {}\nclang: {}\nbindgen: {}\n",
        read(&cache.join("toolchain/recipe.txt")).replace('\n', "; "),
        tool_version(tc, "rustc", "-V")?,
        tool_version(tc, "clang", "--version")?,
        tool_version(tc, "bindgen", "--version")?,
    );
    let mut fragments = Vec::new();
    for name in flavor.fragments() {
        let path = kmod_dir.join(name);
        recipe.push_str(&format!("--- {name}\n{}", fs::read_to_string(&path)?));
        fragments.push(path);
    }
    let build = cache.join(format!("build-{}", flavor.name()));
    // The recipe is written last: a build that was interrupted never matches.
    if read(&build.join("rteam-recipe.txt")) == recipe
        && build.join("arch/x86/boot/bzImage").is_file()
    {
        return Ok(build);
    }
    util::remove_dir(&build)?;
    fs::create_dir_all(&build)?;
    let log_path = build.join("rteam-build.log");
    let started = Instant::now();
    eprintln!(
        "xtask: kernel {}: configuring and building (log: {})",
        flavor.name(),
        log_path.display()
    );
    let o = format!("O={}", build.display());
    let logged = |cmd: &mut Command| -> Result<()> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let status = cmd
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        if !status.success() {
            print_log_tail(&log_path, 40);
            bail!("{cmd:?} failed: {status} (log: {})", log_path.display());
        }
        Ok(())
    };
    logged(make(tc, source)?.arg(&o).arg("tinyconfig"))?;
    let mut merge = Command::new(source.join("scripts/kconfig/merge_config.sh"));
    merge
        .arg("-m")
        .arg("-O")
        .arg(&build)
        .arg(build.join(".config"))
        .args(&fragments)
        .current_dir(source);
    tc.env(&mut merge)?;
    logged(&mut merge)?;
    logged(make(tc, source)?.arg(&o).arg("olddefconfig"))?;
    // Kconfig drops what it cannot satisfy without a word (CONFIG_RUST when the toolchain
    // is not accepted): every line of the fragments must have survived.
    let config = fs::read_to_string(build.join(".config"))?;
    for path in &fragments {
        let lost = lost_config_lines(&fs::read_to_string(path)?, &config);
        if !lost.is_empty() {
            bail!(
                "kernel config: {} (from {}) did not survive olddefconfig; see {}",
                lost.join(", "),
                path.display(),
                log_path.display()
            );
        }
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    logged(
        make(tc, source)?
            .arg(&o)
            .arg(format!("-j{jobs}"))
            .arg("all"),
    )?;
    fs::write(build.join("rteam-recipe.txt"), recipe)?;
    eprintln!(
        "xtask: kernel {} built in {:.0} s",
        flavor.name(),
        started.elapsed().as_secs_f64()
    );
    Ok(build)
}

/// Build `team_rs.ko` from a fresh copy of `kmod/driver` (the checkout stays free of build
/// products); the copy keeps the relative path to `kmod/team-nl`'s ABI constants.
fn build_module(cache: &Path, tc: &Toolchain, build: &Path, flavor: Flavor) -> Result<PathBuf> {
    let kmod = util::workspace_root().join("kmod");
    let dir = cache.join(format!("module-{}", flavor.name()));
    util::remove_dir(&dir)?;
    let driver = dir.join("driver");
    fs::create_dir_all(dir.join("team-nl/src"))?;
    copy_sources(&kmod.join("driver"), &driver)?;
    fs::copy(
        kmod.join("team-nl/src/consts.rs"),
        dir.join("team-nl/src/consts.rs"),
    )?;
    let started = Instant::now();
    let out = make(tc, build)?
        .arg(format!("M={}", driver.display()))
        .arg("modules")
        .output()
        .context("cannot start make")?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("building team_rs.ko failed: {}", out.status);
    }
    // rustc's warnings on our driver are shown even when the build passes
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("warning") {
        eprintln!("{stderr}");
    }
    let ko = driver.join("team_rs.ko");
    anyhow::ensure!(ko.is_file(), "make left no {}", ko.display());
    eprintln!(
        "xtask: team_rs.ko built for {} in {:.0} s",
        flavor.name(),
        started.elapsed().as_secs_f64()
    );
    Ok(ko)
}

/// Copy a source tree, leaving out build products a hand-run `make` may have left.
fn copy_sources(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            if !name.starts_with('.') {
                copy_sources(&path, &to.join(&name))?;
            }
            continue;
        }
        let source_file = [".rs", ".c", ".h"].iter().any(|e| name.ends_with(e))
            || name == "Kbuild"
            || name == "Makefile";
        if source_file && !name.starts_with('.') && name != "bindings_generated.rs" {
            fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}

fn print_log_tail(path: &Path, lines: usize) {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    for line in &all[all.len().saturating_sub(lines)..] {
        eprintln!("{line}");
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// The `CONFIG_X=v` lines of a fragment that the final `.config` does not have (for `=n`:
/// that it has the option set at all; Kconfig writes unset options as comments).
fn lost_config_lines(fragment: &str, config: &str) -> Vec<String> {
    fragment
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            let kept = if value == "n" {
                !config.lines().any(|l| l.starts_with(&format!("{key}=")))
            } else {
                config.lines().any(|l| l == line)
            };
            (!kept).then(|| line.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::lost_config_lines;

    #[test]
    fn fragment_lines_that_kconfig_dropped_are_reported() {
        let config =
            "CONFIG_RUST=y\nCONFIG_NET_TEAM=m\n# CONFIG_SLUB_TINY is not set\nCONFIG_KASAN=y\n";
        let fragment = "# comment\nCONFIG_RUST=y\nCONFIG_NET_TEAM=y\nCONFIG_SLUB_TINY=n\n\
                        CONFIG_KASAN=n\nCONFIG_PROVE_LOCKING=y\n";
        assert_eq!(
            lost_config_lines(fragment, config),
            [
                "CONFIG_NET_TEAM=y",
                "CONFIG_KASAN=n",
                "CONFIG_PROVE_LOCKING=y"
            ]
        );
    }

    #[test]
    fn the_checked_in_fragments_parse_to_options() {
        // every non-comment line is an option assignment, so none is silently skipped
        let dir = crate::util::workspace_root().join("tests/vm/kmod");
        for name in ["kernel.config", "kernel-debug.config"] {
            let text = std::fs::read_to_string(dir.join(name)).expect("fragment readable");
            for line in text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            {
                assert!(
                    line.starts_with("CONFIG_") && line.contains('='),
                    "{name}: not an option line: {line}"
                );
            }
        }
    }
}
