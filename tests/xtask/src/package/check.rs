//! The checks `build` runs on its packages: each one's files against one expected list,
//! its relations (Provides, Conflicts, Obsoletes, ...), lintian on the .debs, and the .rpm's
//! payload installed into a scratch root and run.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use super::{Packages, DEB_DEV_SYNOPSIS, DEB_SYNOPSIS, LIBTEAM_VERSION, PROGRAMS};
use crate::util;

/// Debian 12's network-manager 1.42.4-1+deb12u1 Depends on `libteamdctl0 (>= 1.9)`; our
/// Provides must satisfy it, or installing us would remove NetworkManager.
const NM_NEEDS_LIBTEAMDCTL0: &str = "1.9";

/// The oldest glibc among the RPM's targets (RHEL 9 has 2.34); no binary may need a newer
/// symbol version.
const RPM_MAX_GLIBC: (u32, u32) = (2, 34);

/// Which distribution a package is for: their paths differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dist {
    Debian,
    Rpm,
}

/// The main package or the development one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Main,
    Dev,
}

/// Every file (and symlink) a package must hold, and nothing else: the one list both the
/// .deb and the .rpm checks use.
fn expected_files(dist: Dist, part: Part) -> BTreeSet<String> {
    let (lib, zsh) = match dist {
        Dist::Debian => (
            "/usr/lib/x86_64-linux-gnu",
            "/usr/share/zsh/vendor-completions",
        ),
        Dist::Rpm => ("/usr/lib64", "/usr/share/zsh/site-functions"),
    };
    let mut files = Vec::new();
    match part {
        Part::Main => {
            for p in PROGRAMS {
                files.push(format!("/usr/bin/{p}"));
                files.push(format!("/usr/share/man/man8/{p}.8.gz"));
                files.push(format!("/usr/share/bash-completion/completions/{p}"));
                files.push(format!("{zsh}/_{p}"));
            }
            files.push("/usr/share/man/man5/teamd.conf.5.gz".into());
            files.push(format!("{lib}/libteamdctl.so.0"));
            files.push("/usr/share/dbus-1/system.d/teamd.conf".into());
            files.push("/usr/lib/systemd/system/teamd@.service".into());
            // networkd-gen
            files.push("/usr/lib/systemd/system-generators/teamd-networkd-generator".into());
            files.push("/usr/lib/rteam/teamd-networkd-helper".into());
            files.push("/usr/lib/systemd/system/teamd-networkd.service".into());
            files.push("/usr/lib/systemd/system/teamd-networkd.path".into());
            files.push("/usr/share/man/man5/systemd.netdev-team.5.gz".into());
            files.push("/usr/bin/teamd-convert".into());
            files.push("/usr/share/man/man1/teamd-convert.1.gz".into());
        }
        Part::Dev => {
            files.push("/usr/include/teamdctl.h".into());
            files.push(format!("{lib}/libteamdctl.so"));
            files.push(format!("{lib}/pkgconfig/libteamdctl.pc"));
        }
    }
    match (dist, part) {
        (Dist::Debian, _) => {
            let doc = match part {
                Part::Main => "/usr/share/doc/rteam",
                Part::Dev => "/usr/share/doc/rteam-dev",
            };
            files.push(format!("{doc}/changelog.Debian.gz"));
            files.push(format!("{doc}/copyright"));
        }
        (Dist::Rpm, Part::Main) => {
            // network-scripts only exist on Fedora/RHEL
            for script in [
                "ifup-Team",
                "ifdown-Team",
                "ifup-TeamPort",
                "ifdown-TeamPort",
            ] {
                files.push(format!("/etc/sysconfig/network-scripts/{script}"));
            }
            files.push("/usr/share/doc/rteam/changelog".into());
            files.push("/usr/share/licenses/rteam/copyright".into());
            files.push("/usr/share/licenses/rteam/LGPL-2.1".into());
        }
        // -devel requires rteam, which holds the docs
        (Dist::Rpm, Part::Dev) => {}
    }
    files.into_iter().collect()
}

/// Compares a package's file list with [`expected_files`]; `what` names the package.
fn check_files(what: &str, have: &BTreeSet<String>, dist: Dist, part: Part) -> Result<()> {
    let want = expected_files(dist, part);
    let missing: Vec<_> = want.difference(have).collect();
    let extra: Vec<_> = have.difference(&want).collect();
    ensure!(
        missing.is_empty() && extra.is_empty(),
        "{what}: files differ from the expected list (package.rs, expected_files)\n  \
         missing: {missing:?}\n  unexpected: {extra:?}"
    );
    Ok(())
}

/// Every check, in order; the first failure ends the run.
pub(super) fn all(p: &Packages, version: &str) -> Result<()> {
    check_deb(&p.deb, Part::Main, version)?;
    check_deb(&p.deb_dev, Part::Dev, version)?;
    lintian(&[&p.deb, &p.deb_dev])?;
    check_rpm(&p.rpm, Part::Main, version)?;
    check_rpm(&p.rpm_devel, Part::Dev, version)?;
    unpack_rpm_and_run(&p.rpm)?;
    Ok(())
}

/// One control field of a .deb (`dpkg-deb -f`), empty when absent.
fn deb_field(deb: &Path, field: &str) -> Result<String> {
    Ok(
        util::output(Command::new("dpkg-deb").arg("-f").arg(deb).arg(field))?
            .trim()
            .to_string(),
    )
}

/// The comma-separated relations of a control field, whitespace-normalised.
fn relations(field: &str) -> BTreeSet<String> {
    field
        .split(',')
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|r| !r.is_empty())
        .collect()
}

fn check_deb(deb: &Path, part: Part, version: &str) -> Result<()> {
    let what = deb.display().to_string();
    println!("== {what}");
    print!(
        "{}",
        util::output(Command::new("dpkg-deb").arg("-I").arg(deb))?
    );

    let field = |name: &str| deb_field(deb, name);
    let want = |name: &str, items: &[&str]| -> Result<()> {
        let have = relations(&field(name)?);
        let want: BTreeSet<String> = items.iter().map(|s| s.to_string()).collect();
        ensure!(
            have == want,
            "{what}: {name} is {have:?}, expected {want:?}"
        );
        Ok(())
    };
    match part {
        Part::Main => {
            ensure!(
                field("Package")? == "rteam",
                "{what}: not the rteam package"
            );
            ensure!(
                field("Description")?.starts_with(DEB_SYNOPSIS),
                "{what}: synopsis is not {DEB_SYNOPSIS:?}"
            );
            let provides = [
                format!("teamd (= {LIBTEAM_VERSION})"),
                format!("libteamdctl0 (= {LIBTEAM_VERSION})"),
            ];
            want(
                "Provides",
                &provides.iter().map(String::as_str).collect::<Vec<_>>(),
            )?;
            want("Conflicts", &["libteam-utils", "libteamdctl0"])?;
            want("Replaces", &["libteam-utils", "libteamdctl0"])?;
            // network-manager's `libteamdctl0 (>= 1.9)` must stay satisfied
            let satisfied = Command::new("dpkg")
                .args(["--compare-versions", LIBTEAM_VERSION, "ge"])
                .arg(NM_NEEDS_LIBTEAMDCTL0)
                .status()
                .context("cannot start dpkg")?
                .success();
            ensure!(
                satisfied,
                "{what}: Provides libteamdctl0 (= {LIBTEAM_VERSION}) does not satisfy \
                 network-manager's libteamdctl0 (>= {NM_NEEDS_LIBTEAMDCTL0})"
            );
            // $auto: the C library and libgcc only (nothing of libteam's)
            for dep in relations(&field("Depends")?) {
                ensure!(
                    dep.starts_with("libc6 ") || dep.starts_with("libgcc-s1 "),
                    "{what}: unexpected dependency {dep}"
                );
            }
            let control = control_files(deb)?;
            for (name, line) in [
                ("triggers", "activate-noawait ldconfig"),
                ("shlibs", "libteamdctl 0 libteamdctl0"),
                ("md5sums", "usr/bin/teamd"),
            ] {
                ensure!(
                    control
                        .iter()
                        .any(|(n, text)| n == name && text.contains(line)),
                    "{what}: control file {name} lacks \"{line}\""
                );
            }
        }
        Part::Dev => {
            ensure!(field("Package")? == "rteam-dev", "{what}: not rteam-dev");
            ensure!(
                field("Description")?.starts_with(DEB_DEV_SYNOPSIS),
                "{what}: synopsis is not {DEB_DEV_SYNOPSIS:?}"
            );
            want("Depends", &[&format!("rteam (= {version}-1)")])?;
            want("Conflicts", &["libteam-dev"])?;
            want("Replaces", &["libteam-dev"])?;
        }
    }

    let listing = util::output(Command::new("dpkg-deb").arg("-c").arg(deb))?;
    print!("{listing}");
    let mut files = BTreeSet::new();
    for line in listing.lines() {
        // drwxr-xr-x root/root 0 2026-12-06 03:30 ./usr/bin/ [-> target]
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (Some(perms), Some(path)) = (cols.first(), cols.get(5)) else {
            continue;
        };
        if perms.starts_with('d') {
            continue;
        }
        let path = path.trim_start_matches('.').to_string();
        if perms.starts_with('l') {
            ensure!(
                cols.get(7) == Some(&"libteamdctl.so.0"),
                "{what}: symlink {path} should point to libteamdctl.so.0: {line}"
            );
        }
        files.insert(path);
    }
    check_files(&what, &files, Dist::Debian, part)
}

/// The control archive's files other than `control`, with their text.
fn control_files(deb: &Path) -> Result<Vec<(String, String)>> {
    let dir = deb.with_extension("control");
    util::remove_dir(&dir)?;
    util::run(Command::new("dpkg-deb").arg("--control").arg(deb).arg(&dir))?;
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, fs::read_to_string(&path).unwrap_or_default()));
    }
    util::remove_dir(&dir)?;
    Ok(files)
}

/// lintian on the .debs: prints everything it says and fails on any error.
fn lintian(debs: &[&Path]) -> Result<()> {
    println!("== lintian");
    let out = Command::new("lintian")
        .args(["--fail-on", "error", "--display-info"])
        .args(debs)
        .output()
        .context("cannot start lintian")?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    ensure!(
        out.status.success(),
        "lintian reports errors on the .debs (E: lines above)"
    );
    Ok(())
}

/// `rpm -qp <query> <rpm>` as lines.
fn rpm_query(rpm: &Path, query: &[&str]) -> Result<Vec<String>> {
    let out = util::output(Command::new("rpm").arg("-qp").args(query).arg(rpm))?;
    Ok(out.lines().map(|l| l.trim().to_string()).collect())
}

fn check_rpm(rpm: &Path, part: Part, version: &str) -> Result<()> {
    let what = rpm.display().to_string();
    println!("== {what}");
    print!(
        "{}",
        util::output(Command::new("rpm").arg("-qpi").arg(rpm))?
    );
    let provides = rpm_query(rpm, &["--provides"])?;
    let requires = rpm_query(rpm, &["--requires"])?;
    let obsoletes = rpm_query(rpm, &["--obsoletes"])?;
    let conflicts = rpm_query(rpm, &["--conflicts"])?;
    for (name, list) in [
        ("provides", &provides),
        ("requires", &requires),
        ("obsoletes", &obsoletes),
        ("conflicts", &conflicts),
    ] {
        println!("{name}:");
        for l in list.iter() {
            println!("  {l}");
        }
    }
    let has = |list: &[String], item: &str| list.iter().any(|l| l == item);
    match part {
        Part::Main => {
            for item in [
                format!("teamd = {LIBTEAM_VERSION}"),
                "libteamdctl.so.0()(64bit)".to_string(),
            ] {
                ensure!(has(&provides, &item), "{what}: does not provide {item}");
            }
            ensure!(
                has(&obsoletes, "teamd < 1.33"),
                "{what}: does not obsolete teamd < 1.33"
            );
            ensure!(
                has(&conflicts, "libteam"),
                "{what}: does not conflict with libteam"
            );
            for req in &requires {
                check_rpm_require(&what, req)?;
            }
        }
        Part::Dev => {
            for item in [
                format!("teamd-devel = {LIBTEAM_VERSION}"),
                format!("pkgconfig(libteamdctl) = {LIBTEAM_VERSION}"),
            ] {
                ensure!(has(&provides, &item), "{what}: does not provide {item}");
            }
            let main = format!("rteam = {version}-1");
            for req in requires.iter().filter(|r| !r.starts_with("rpmlib(")) {
                ensure!(*req == main, "{what}: unexpected requirement {req}");
            }
            ensure!(has(&requires, &main), "{what}: does not require {main}");
        }
    }

    // %{FILEMODES:perms} tells directories (owned, not expected files) from the rest
    let listing = rpm_query(rpm, &["--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]"])?;
    println!("files:");
    let mut files = BTreeSet::new();
    for line in &listing {
        println!("  {line}");
        if let Some((perms, path)) = line.split_once(' ') {
            if !perms.starts_with('d') {
                files.insert(path.to_string());
            }
        }
    }
    check_files(&what, &files, Dist::Rpm, part)
}

/// A requirement of the main RPM must be met by any Fedora or RHEL 9 system: rpm's own
/// features, /bin/sh, glibc (no symbol version past RHEL 9's) and libgcc.
fn check_rpm_require(what: &str, req: &str) -> Result<()> {
    // /bin/sh: the upgrade scriptlet's interpreter, in every Fedora and RHEL
    if req.starts_with("rpmlib(") || req == "rtld(GNU_HASH)" || req == "/bin/sh" {
        return Ok(());
    }
    let base = [
        "libc.so.6",
        "libm.so.6",
        "libgcc_s.so.1",
        "ld-linux-x86-64.so.2",
    ];
    let Some(lib) = base.iter().find(|b| req.starts_with(*b)) else {
        bail!("{what}: requires {req}, which is neither glibc nor libgcc");
    };
    // libc.so.6(GLIBC_2.34)(64bit)
    if let Some(v) = req
        .strip_prefix(lib)
        .and_then(|r| r.strip_prefix("(GLIBC_"))
        .and_then(|r| r.split(')').next())
    {
        let mut parts = v.split('.').map(|n| n.parse::<u32>().unwrap_or(u32::MAX));
        let ver = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        ensure!(
            ver <= RPM_MAX_GLIBC,
            "{what}: requires {req}, newer than RHEL 9's glibc {}.{}",
            RPM_MAX_GLIBC.0,
            RPM_MAX_GLIBC.1
        );
    }
    Ok(())
}

/// Installs the .rpm's payload into a scratch root the way rpm would and runs the programs
/// from there: the payload unpacks and the stripped programs still start.
fn unpack_rpm_and_run(rpm: &Path) -> Result<()> {
    let root = rpm.with_extension("root");
    util::remove_dir(&root)?;
    fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    util::run(
        Command::new("rpm")
            // --force-debian: Debian's rpm otherwise warns that rpm -i is not the way to
            // install packages on Debian
            .args(["-i", "--force-debian", "--nodeps", "--noscripts", "--root"])
            .arg(&root)
            .arg(rpm),
    )?;
    let lib = root.join("usr/lib64/libteamdctl.so.0");
    let dynamic = util::output(Command::new("readelf").arg("-d").arg(&lib))?;
    ensure!(
        dynamic.contains("Library soname: [libteamdctl.so.0]"),
        "{} lacks the soname libteamdctl.so.0",
        lib.display()
    );
    for prog in PROGRAMS {
        let path = root.join("usr/bin").join(prog);
        let sections = util::output(Command::new("readelf").arg("-S").arg(&path))?;
        ensure!(
            !sections.contains(".symtab") && !sections.contains(".debug_"),
            "{} is not stripped",
            path.display()
        );
        let out = Command::new(&path)
            .arg("-h")
            .output()
            .with_context(|| format!("cannot run {}", path.display()))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        ensure!(
            out.status.success() && text.contains("--help"),
            "{} -h printed no usage ({}): {text}",
            path.display(),
            out.status
        );
    }
    util::remove_dir(&root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpm_requires_glibc_up_to_rhel9_and_libgcc_only() {
        for ok in [
            "libc.so.6()(64bit)",
            "libc.so.6(GLIBC_2.34)(64bit)",
            "libc.so.6(GLIBC_2.2.5)(64bit)",
            "ld-linux-x86-64.so.2(GLIBC_2.3)(64bit)",
            "libgcc_s.so.1(GCC_4.2.0)(64bit)",
            "rpmlib(PayloadIsZstd) <= 5.4.18-1",
            "rtld(GNU_HASH)",
            "/bin/sh",
        ] {
            check_rpm_require("t", ok).unwrap_or_else(|e| panic!("{ok}: {e:#}"));
        }
        for bad in [
            "libc.so.6(GLIBC_2.35)(64bit)",
            "libc.so.6(GLIBC_3.0)(64bit)",
            "libdbus-1.so.3()(64bit)",
            "/bin/bash",
        ] {
            assert!(check_rpm_require("t", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn relations_ignore_spacing() {
        let want: BTreeSet<String> = ["teamd (= 1.32)", "libteamdctl0 (= 1.32)"]
            .map(String::from)
            .into();
        assert_eq!(relations("teamd  (= 1.32),libteamdctl0 (= 1.32), "), want);
        assert!(relations("").is_empty());
    }

    #[test]
    fn expected_lists_differ_only_where_the_distributions_do() {
        let deb = expected_files(Dist::Debian, Part::Main);
        let rpm = expected_files(Dist::Rpm, Part::Main);
        for f in ["/usr/bin/teamd", "/usr/share/man/man5/teamd.conf.5.gz"] {
            assert!(deb.contains(f) && rpm.contains(f), "{f}");
        }
        assert!(deb.contains("/usr/lib/x86_64-linux-gnu/libteamdctl.so.0"));
        assert!(rpm.contains("/usr/lib64/libteamdctl.so.0"));
        assert!(deb.contains("/usr/share/zsh/vendor-completions/_teamnl"));
        assert!(rpm.contains("/usr/share/zsh/site-functions/_teamnl"));
        // the development link is in the dev packages only
        let dev = expected_files(Dist::Debian, Part::Dev);
        assert!(dev.contains("/usr/lib/x86_64-linux-gnu/libteamdctl.so"));
        assert!(!deb.contains("/usr/lib/x86_64-linux-gnu/libteamdctl.so"));
    }
}
