//! `cargo xtask package`: rteam's .deb and .rpm packages, which replace libteam's.
//!
//! One `cargo build --release` serves both formats. The programs and the library are stripped
//! and, with the rendered man pages and the pkg-config files, staged under
//! `<target>/release/rteam-package/`; `cargo deb` and `cargo generate-rpm` then only package,
//! from the metadata in `teamd-compat/teamd/Cargo.toml`. Every package is checked before
//! `build` returns: lintian for the .debs, its files and relations for all four.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::{guest, man, util};

mod check;

/// The packaging tools, pinned: their metadata keys and output names change between releases.
const CARGO_DEB: CargoTool = CargoTool {
    subcommand: "deb",
    krate: "cargo-deb",
    version: "3.8.0",
};
const CARGO_GENERATE_RPM: CargoTool = CargoTool {
    subcommand: "generate-rpm",
    krate: "cargo-generate-rpm",
    version: "0.21.1",
};

/// Host tools: lintian and rpm for the checks, dpkg-dev for cargo-deb's `$auto` dependencies
/// (dpkg-shlibdeps), binutils for strip.
const HOST_PACKAGES: &[&str] = &["lintian", "rpm", "dpkg-dev", "binutils"];

/// The crate whose Cargo.toml holds the package metadata.
const METADATA_CRATE: &str = "teamd-compat/teamd";

/// The staging dir under `<target>/release/`; the metadata names its files.
const STAGE: &str = "rteam-package";

/// The libteam release whose programs and library ABI ours replace: the version of our
/// Provides (teamd, libteamdctl0) and of libteamdctl.pc (NetworkManager's build asks for
/// libteamdctl >= 1.9, so our own 0.x version would not do).
const LIBTEAM_VERSION: &str = "1.32";

/// The program names, for the binaries, man pages and completions.
const PROGRAMS: [&str; 3] = ["teamd", "teamdctl", "teamnl"];

/// Our programs that libteam has no counterpart of, staged next to PROGRAMS (the metadata
/// says where each is installed): networkd-gen's (systemd.netdev-team(5)) and the
/// converter teamd-convert(1).
const OTHER_PROGRAMS: [&str; 3] = [
    "teamd-networkd-generator",
    "teamd-networkd-helper",
    "teamd-convert",
];

/// The four packages `build` wrote.
pub struct Packages {
    pub deb: PathBuf,
    pub deb_dev: PathBuf,
    pub rpm: PathBuf,
    pub rpm_devel: PathBuf,
}

impl Packages {
    pub fn all(&self) -> [&Path; 4] {
        [&self.deb, &self.deb_dev, &self.rpm, &self.rpm_devel]
    }
}

/// `target/packages/`, where `cargo xtask package` writes by default.
pub fn default_out_dir() -> PathBuf {
    util::workspace_root().join("target/packages")
}

/// Builds, stages, packages and checks; old packages in `out_dir` are removed first.
pub fn build(out_dir: &Path) -> Result<Packages> {
    // two `cargo xtask vm` runs of package scenarios would share the staging dir
    let target = util::workspace_root().join("target");
    fs::create_dir_all(&target).with_context(|| format!("cannot create {}", target.display()))?;
    let _staging = util::lock_file(&target.join("rteam-package.lock"))?;
    ensure_tools()?;
    let built = build_release()?;
    let stage = built.release_dir.join(STAGE);
    stage_files(&built, &stage)?;
    clear_packages(out_dir)?;

    let version = env!("CARGO_PKG_VERSION");
    let packages = Packages {
        deb: cargo_deb("main", out_dir)?,
        deb_dev: cargo_deb("dev", out_dir)?,
        rpm: generate_rpm(
            "main",
            &built,
            out_dir,
            &format!("rteam-{version}-1.x86_64.rpm"),
        )?,
        rpm_devel: generate_rpm(
            "devel",
            &built,
            out_dir,
            &format!("rteam-devel-{version}-1.x86_64.rpm"),
        )?,
    };
    complete_control(&packages.deb, DEB_SYNOPSIS, true)?;
    complete_control(&packages.deb_dev, DEB_DEV_SYNOPSIS, false)?;
    check::all(&packages, version)?;
    Ok(packages)
}

/// A cargo subcommand installed with `cargo install` when missing or of another version.
struct CargoTool {
    subcommand: &'static str,
    krate: &'static str,
    version: &'static str,
}

impl CargoTool {
    fn ensure(&self) -> Result<()> {
        let wanted = format!("{} {}", self.krate, self.version);
        let have = util::cargo()
            .args([self.subcommand, "--version"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        if have.as_deref() == Some(wanted.as_str()) {
            return Ok(());
        }
        eprintln!(
            "xtask: installing {wanted} (have: {})",
            have.as_deref().unwrap_or("none")
        );
        // --debug: both tools built in 3.5 min on a 2-core machine (release builds: 19 min,
        // though beside a kernel build); packaging with them takes ~45 s instead of ~25 s
        util::run(util::cargo().args([
            "install",
            "--locked",
            "--debug",
            &format!("{}@{}", self.krate, self.version),
        ]))
    }
}

fn ensure_tools() -> Result<()> {
    util::ensure_host_packages(HOST_PACKAGES)?;
    CARGO_DEB.ensure()?;
    CARGO_GENERATE_RPM.ensure()
}

/// What the release build produced.
struct Built {
    /// `<target>/release`
    release_dir: PathBuf,
    /// teamd, teamdctl, teamnl, in `PROGRAMS` order
    programs: Vec<PathBuf>,
    /// nm-plugin's cdylib (libteamdctl.so, soname libteamdctl.so.0)
    library: PathBuf,
    /// in `OTHER_PROGRAMS` order
    others: Vec<PathBuf>,
}

/// The workspace's release build (the VM's too: `cargo xtask test` builds once for both),
/// and in it the files the packages ship.
fn build_release() -> Result<Built> {
    let build = guest::release_build()?;
    let find = |name: &str| {
        build
            .executables
            .iter()
            .find(|e| e.file_name().is_some_and(|n| n == name))
            .cloned()
            .with_context(|| format!("the release build produced no {name}"))
    };
    let programs = PROGRAMS
        .iter()
        .map(|p| find(p))
        .collect::<Result<Vec<_>>>()?;
    let others = OTHER_PROGRAMS
        .iter()
        .map(|p| find(p))
        .collect::<Result<Vec<_>>>()?;
    let library = build.libteamdctl;
    let release_dir = programs[0]
        .parent()
        .context("teamd's path has no directory")?
        .to_path_buf();
    Ok(Built {
        release_dir,
        programs,
        library,
        others,
    })
}

/// Fills the staging dir the metadata points at: stripped programs and library, gzipped man
/// pages, and libteamdctl.pc for each distribution's library dir.
fn stage_files(built: &Built, stage: &Path) -> Result<()> {
    util::remove_dir(stage)?;
    for dir in ["bin", "lib", "man", "deb", "rpm"] {
        let dir = stage.join(dir);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // as dh_strip does: no symbols, no .comment/.note; a library keeps its dynamic symbols
    let strip = |src: &Path, dst: &Path, mode: &str| {
        util::run(
            Command::new("strip")
                .args(["--remove-section=.comment", "--remove-section=.note", mode])
                .arg("-o")
                .arg(dst)
                .arg(src),
        )
    };
    for (exe, name) in built.programs.iter().zip(PROGRAMS) {
        strip(exe, &stage.join("bin").join(name), "--strip-all")?;
    }
    for (exe, name) in built.others.iter().zip(OTHER_PROGRAMS) {
        strip(exe, &stage.join("bin").join(name), "--strip-all")?;
    }
    strip(
        &built.library,
        &stage.join("lib/libteamdctl.so.0"),
        "--strip-unneeded",
    )?;

    for page in man::render(&stage.join("man"))? {
        // -n: no name or time stamp in the header, so the .gz changes only with the page
        util::run(Command::new("gzip").args(["-9", "-n", "-f"]).arg(&page))?;
    }

    for (dist, libdir) in [
        ("deb", "${prefix}/lib/x86_64-linux-gnu"),
        ("rpm", "${prefix}/lib64"),
    ] {
        let pc = stage.join(dist).join("libteamdctl.pc");
        fs::write(&pc, pkg_config(libdir))
            .with_context(|| format!("cannot write {}", pc.display()))?;
    }
    Ok(())
}

/// libteamdctl.pc, as libteam's but for our library.
fn pkg_config(libdir: &str) -> String {
    format!(
        "prefix=/usr\n\
         exec_prefix=${{prefix}}\n\
         libdir={libdir}\n\
         includedir=${{prefix}}/include\n\
         \n\
         Name: libteamdctl\n\
         Description: teamd control library (rteam)\n\
         Version: {LIBTEAM_VERSION}\n\
         Libs: -L${{libdir}} -lteamdctl\n\
         Cflags: -I${{includedir}}\n"
    )
}

/// Removes the .deb and .rpm files in `out_dir` (creating it if needed), so no package of
/// an older version lingers. Anything else there is left alone.
fn clear_packages(out_dir: &Path) -> Result<()> {
    fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    for entry in fs::read_dir(out_dir)? {
        let path = entry?.path();
        let is_package = path.extension().is_some_and(|e| e == "deb" || e == "rpm");
        if is_package && path.is_file() {
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}

/// `cargo deb` for one variant; returns the .deb it wrote (cargo-deb prints its path).
fn cargo_deb(variant: &str, out_dir: &Path) -> Result<PathBuf> {
    let printed = util::output(
        util::cargo()
            .args(["deb", "--package", "teamd", "--variant", variant])
            // built and stripped already (build_release, stage_files); --fast: light
            // compression, as complete_control repacks it anyway
            .args(["--no-build", "--no-strip", "--fast", "--quiet", "--output"])
            .arg(out_dir),
    )?;
    let deb = printed
        .lines()
        .map(str::trim)
        .rfind(|l| l.ends_with(".deb"))
        .map(PathBuf::from)
        .with_context(|| format!("cargo deb --variant {variant} named no .deb: {printed}"))?;
    ensure!(deb.is_file(), "cargo deb did not write {}", deb.display());
    Ok(deb)
}

/// `cargo generate-rpm` of a variant (main, devel); it prints nothing, so the caller names
/// the file it writes.
fn generate_rpm(variant: &str, built: &Built, out_dir: &Path, file_name: &str) -> Result<PathBuf> {
    let target_dir = built
        .release_dir
        .parent()
        .context("the release dir has no parent")?;
    let mut cmd = util::cargo();
    cmd.args(["generate-rpm", "--package", METADATA_CRATE])
        // the target dir of our build, whatever CARGO_TARGET_DIR or cargo's config say
        .arg("--target-dir")
        .arg(target_dir)
        // the ELF dependency scan rpmbuild uses (elfdeps), from Debian's rpm package
        .args(["--auto-req", "find-requires", "--output"])
        .arg(out_dir);
    cmd.args(["--variant", variant]);
    util::run(&mut cmd)?;
    let rpm = out_dir.join(file_name);
    ensure!(
        rpm.is_file(),
        "cargo generate-rpm did not write {}",
        rpm.display()
    );
    Ok(rpm)
}

/// The synopsis (first line of Description) of each .deb. cargo-deb takes it from the
/// crate's description, the same for every variant, and has no key to set it.
const DEB_SYNOPSIS: &str = "team network device tools (teamd, teamdctl, teamnl) in Rust";
const DEB_DEV_SYNOPSIS: &str = "development files for rteam's libteamdctl";

/// Completes a .deb's control archive where cargo-deb stops short: the synopsis, an
/// `md5sums` file (as dh_md5sums writes; `dpkg --verify` uses it) and, for the package with
/// the library, `packaging/debian/shlibs`. Without shlibs lintian reports an error for a
/// public library, and dpkg-shlibdeps cannot name a dependency for programs built against
/// rteam-dev.
fn complete_control(deb: &Path, synopsis: &str, with_shlibs: bool) -> Result<()> {
    let tree = deb.with_extension("tree");
    util::remove_dir(&tree)?;
    util::run(
        Command::new("dpkg-deb")
            .arg("--raw-extract")
            .arg(deb)
            .arg(&tree),
    )?;
    let result = (|| {
        util::run(
            Command::new("sh")
                .args([
                    "-c",
                    "find . -path ./DEBIAN -prune -o -type f -printf '%P\\0' | LC_ALL=C sort -z \
                     | xargs -0r md5sum > DEBIAN/md5sums",
                ])
                .current_dir(&tree),
        )?;
        let control_path = tree.join("DEBIAN/control");
        let control = fs::read_to_string(&control_path)
            .with_context(|| format!("cannot read {}", control_path.display()))?;
        let control: String = control
            .lines()
            .map(|l| {
                if l.starts_with("Description:") {
                    format!("Description: {synopsis}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        fs::write(&control_path, control)
            .with_context(|| format!("cannot write {}", control_path.display()))?;
        if with_shlibs {
            let shlibs = util::workspace_root().join("packaging/debian/shlibs");
            fs::copy(&shlibs, tree.join("DEBIAN/shlibs"))
                .with_context(|| format!("cannot copy {}", shlibs.display()))?;
        }
        util::run(
            Command::new("dpkg-deb")
                .args(["--root-owner-group", "-Zxz", "--build"])
                .arg(&tree)
                .arg(deb)
                .stdout(std::process::Stdio::null()),
        )
    })();
    util::remove_dir(&tree)?;
    result
}
