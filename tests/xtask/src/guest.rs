//! The guest image: a Debian rootfs, Debian's kernel and a tiny initramfs, all cached.
//!
//! Each cached piece stores the recipe it was built from; a different recipe rebuilds it.
//! Builds go to a temporary name and are renamed into place, so a killed build never
//! leaves a half-built cache behind.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{self, output, run};

const SUITE: &str = "bookworm";

/// Bump when `build_image` changes what it makes, so cached images are rebuilt.
const RECIPE_VERSION: u32 = 3;

/// Guest packages. libteam-utils provides the C teamd/teamdctl/teamnl we compare against.
const PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "dbus",
    "iproute2",
    "network-manager",
    "libteam-utils",
    "libteamdctl0",
    "iputils-ping",
    "kmod",
    "udev",
    "ethtool",
    "iperf3",
    "tcpdump",
    "procps",
    "psmisc",
    "python3-minimal",
    "busybox",
    "socat",
    "jq",
    // pkg-rpm installs our .rpm into a scratch root
    "rpm",
    // a DHCP server in a namespace, for teams configured by networkd
    "dnsmasq-base",
];

/// Packages whose .debs the image keeps in apt's cache (with the package lists), so that a
/// scenario can reinstall them by name with no network: pkg-deb gives the system back to
/// libteam after removing ours.
const CACHED_DEBS: &[&str] = &["libteam-utils", "libteamdctl0"];

/// What the host needs to build and boot the guest.
/// (depmod runs inside the guest root; busybox packs the initramfs; xz unpacks the kernel.)
const HOST_PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "mmdebstrap",
    "busybox-static",
    "xz-utils",
];

/// Modules the initramfs loads to reach the 9p shares and build the overlay root;
/// their dependencies are added in load order from `modules.dep`.
const INITRD_MODULES: &[&str] = &["virtio_pci", "9pnet_virtio", "9p", "overlay"];

/// Stage-1 init; `@MODULES@` becomes the module load order.
const STAGE1_INIT: &str = include_str!("../../vm/guest/stage1-init.sh");

/// A ready-to-boot guest.
pub struct Image {
    pub rootfs: PathBuf,
    /// `vmlinux` (booted via PVH) or `vmlinuz` (bzImage).
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// Team driver modules the guest gets in /opt/rteam/job/kmods (our own kernels only).
    pub kmods: Vec<PathBuf>,
    /// Names (without .ko) stage 2 loads from there, in order, before the script.
    pub load: Vec<String>,
}

/// Cache directory: `$RTEAM_VM_CACHE`, else `target/vm`.
fn cache_dir() -> PathBuf {
    std::env::var_os("RTEAM_VM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| util::workspace_root().join("target/vm"))
}

/// Build (or reuse) the rootfs, kernel and initramfs.
pub fn prepare() -> Result<Image> {
    let _building = building();
    util::ensure_host_packages(HOST_PACKAGES)?;
    let cache = cache_dir();
    fs::create_dir_all(&cache).with_context(|| format!("cannot create {}", cache.display()))?;
    remove_stale_tmp(&cache)?;

    let (kpkg, kversion) = newest_kernel()?;
    let recipe = format!(
        "recipe: {RECIPE_VERSION}\nsuite: {SUITE}\nvariant: minbase\ninclude: {}\ncached: {}\nkernel: {kpkg} {kversion}\n",
        PACKAGES.join(","),
        CACHED_DEBS.join(",")
    );
    let image_dir = cache.join("image");
    if read(&image_dir.join("recipe.txt")) != recipe {
        build_image(&cache, &image_dir, &kpkg, &recipe)?;
    }
    let rootfs = image_dir.join("rootfs");
    let initrd = build_initrd(&cache, &rootfs)?;
    let vmlinux = image_dir.join("vmlinux");
    let kernel = if vmlinux.is_file() {
        vmlinux
    } else {
        image_dir.join("vmlinuz")
    };
    Ok(Image {
        rootfs,
        kernel,
        initrd,
        kmods: Vec::new(),
        load: Vec::new(),
    })
}

/// Which team driver a guest on our own kernel loads before the script.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Driver {
    /// C `team.ko` and its modes.
    C,
    /// `team_rs.ko`.
    Rust,
    /// Neither: the script loads what it needs from /opt/rteam/job/kmods.
    None,
}

/// The guest on our own kernel build: same rootfs, an initramfs without modules, and the
/// team modules of that build (C and Rust) in the job share.
pub fn prepare_on(kernel: &crate::kernel::Kernel, driver: Driver) -> Result<Image> {
    let debian = prepare()?;
    let initrd = {
        let _building = building();
        builtin_initrd(&cache_dir())?
    };
    let mut kmods = kernel.c_modules.clone();
    kmods.push(kernel.rust_module.clone());
    let load = match driver {
        Driver::C => std::iter::once("team".to_string())
            .chain(
                crate::kernel::MODES
                    .iter()
                    .map(|m| format!("team_mode_{m}")),
            )
            .collect(),
        Driver::Rust => vec!["team_rs".to_string()],
        Driver::None => Vec::new(),
    };
    Ok(Image {
        rootfs: debian.rootfs,
        kernel: kernel.bzimage.clone(),
        initrd,
        kmods,
        load,
    })
}

/// Held while an image or initrd is made in the cache: `cargo xtask test` prepares the
/// images of several targets in threads of their own, and they share the cache's files.
fn building() -> std::sync::MutexGuard<'static, ()> {
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    BUILDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The kernel package `linux-image-amd64` currently points at, and its version.
fn newest_kernel() -> Result<(String, String)> {
    let find = || -> Result<(String, String)> {
        let deps = output(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
        let pkg = deps
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Depends: "))
            .find(|p| p.starts_with("linux-image-6.1.0-") && p.ends_with("-amd64"))
            .context("linux-image-amd64 depends on no linux-image-6.1.0-*-amd64")?
            .to_string();
        let policy = output(Command::new("apt-cache").args(["policy", &pkg]))?;
        let version = policy
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Candidate: "))
            .next()
            .filter(|v| *v != "(none)")
            .with_context(|| format!("{pkg} has no candidate version"))?
            .to_string();
        Ok((pkg, version))
    };
    // A fresh machine may not have package lists yet.
    find().or_else(|_| {
        let _apt = util::apt_lock();
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        find()
    })
}

/// mmdebstrap the rootfs, unpack the kernel into it, run depmod; then rename into place.
fn build_image(cache: &Path, image_dir: &Path, kpkg: &str, recipe: &str) -> Result<()> {
    let tmp = cache.join(format!("image.tmp.{}", std::process::id()));
    fs::create_dir_all(&tmp)?;
    let rootfs = tmp.join("rootfs");
    eprintln!("xtask: building guest rootfs (about a minute)...");
    let started = std::time::Instant::now();
    // No mirror argument: mmdebstrap then uses this machine's apt sources.
    // Lists kept: apt in the guest then knows the suite's packages (see CACHED_DEBS).
    run(Command::new("mmdebstrap")
        .args(["--variant=minbase", "--quiet", "--skip=cleanup/apt/lists"])
        .arg(format!("--include={}", PACKAGES.join(",")))
        .arg(SUITE)
        .arg(&rootfs))?;

    run(Command::new("apt-get")
        .args(["download", "-qq", "-o", "APT::Sandbox::User=root"])
        .args(CACHED_DEBS)
        .current_dir(rootfs.join("var/cache/apt/archives")))?;

    // The kernel is never installed on the host: download and unpack only.
    let kdir = tmp.join("kernel");
    fs::create_dir_all(&kdir)?;
    run(Command::new("apt-get")
        .args(["download", "-qq", "-o", "APT::Sandbox::User=root", kpkg])
        .current_dir(&kdir))?;
    let deb = fs::read_dir(&kdir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .context("apt-get download left no .deb")?;
    let unpacked = kdir.join("x");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked))?;
    let kver = only_entry(&unpacked.join("lib/modules"))?;
    // The rootfs is merged-/usr, so its modules live under usr/lib.
    let modules = rootfs.join("usr/lib/modules");
    fs::create_dir_all(&modules)?;
    run(Command::new("cp")
        .arg("-a")
        .arg(unpacked.join("lib/modules").join(&kver))
        .arg(&modules))?;
    run(Command::new("chroot").arg(&rootfs).args(["depmod", &kver]))?;
    // Mountpoints for the shares, so the read-only root needs no mkdir at boot.
    for dir in [
        "opt/rteam/bin",
        "opt/rteam/tests",
        "opt/rteam/job",
        "results",
    ] {
        fs::create_dir_all(rootfs.join(dir))?;
    }
    extract_vmlinux(&unpacked.join(format!("boot/vmlinuz-{kver}")), &tmp)?;
    fs::write(tmp.join("kernel-version"), &kver)?;
    util::remove_dir(&kdir)?;
    fs::write(tmp.join("recipe.txt"), recipe)?;

    let old = cache.join(format!("image.old.{}", std::process::id()));
    if image_dir.exists() {
        fs::rename(image_dir, &old)?;
    }
    fs::rename(&tmp, image_dir)?;
    util::remove_dir(&old)?;
    eprintln!(
        "xtask: guest image ready in {:.0} s (kernel {kver})",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Store the kernel as an uncompressed ELF `vmlinux` if possible: qemu boots that directly
/// through its PVH entry point, saving the ~4 s that decompressing the bzImage takes under
/// TCG. Otherwise keep the bzImage as `vmlinuz`.
fn extract_vmlinux(bzimage: &Path, dest: &Path) -> Result<()> {
    const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";
    let data = fs::read(bzimage)?;
    if let Some(offset) = data.windows(XZ_MAGIC.len()).position(|w| w == XZ_MAGIC) {
        let vmlinux = dest.join("vmlinux");
        let unpacked = run(Command::new("sh")
            .arg("-c")
            .arg("tail -c +$(($1 + 1)) \"$2\" | xz -dc --single-stream > \"$3\"")
            .arg("sh")
            .arg(offset.to_string())
            .arg(bzimage)
            .arg(&vmlinux));
        if unpacked.is_ok() && fs::read(&vmlinux)?.starts_with(b"\x7fELF") {
            return Ok(());
        }
        let _ = fs::remove_file(&vmlinux);
    }
    eprintln!("xtask: cannot unpack the kernel; booting the bzImage (slower)");
    fs::copy(bzimage, dest.join("vmlinuz"))?;
    Ok(())
}

/// busybox-static + the 9p/overlay modules + the stage-1 init, as a gzipped newc cpio.
fn build_initrd(cache: &Path, rootfs: &Path) -> Result<PathBuf> {
    let kver = read(&rootfs.join("../kernel-version"));
    let moddir = rootfs.join("usr/lib/modules").join(&kver);
    let order = module_load_order(&moddir, INITRD_MODULES)?;
    let modules: Vec<(String, PathBuf)> = order
        .into_iter()
        .map(|(name, path)| (name, moddir.join(path)))
        .collect();
    pack_initrd(cache, "initrd.gz", &format!("kernel: {kver}\n"), &modules)
}

/// The initramfs for a kernel with everything stage 1 needs built in (our own builds).
fn builtin_initrd(cache: &Path) -> Result<PathBuf> {
    pack_initrd(
        cache,
        "initrd-builtin.gz",
        "kernel: built-in drivers\n",
        &[],
    )
}

/// Pack busybox, stage-1 init and `modules` (loaded in this order) into `cache/file`,
/// unless the cached one was made from the same recipe.
fn pack_initrd(
    cache: &Path,
    file: &str,
    kernel: &str,
    modules: &[(String, PathBuf)],
) -> Result<PathBuf> {
    let names: Vec<&str> = modules.iter().map(|(name, _)| name.as_str()).collect();
    let init = STAGE1_INIT.replace("@MODULES@", &names.join(" "));
    let recipe = format!("{kernel}{init}");

    let initrd = cache.join(file);
    let recipe_path = cache.join(format!("{file}.recipe"));
    if initrd.is_file() && read(&recipe_path) == recipe {
        return Ok(initrd);
    }
    let tmp = cache.join(format!("{file}.dir.tmp.{}", std::process::id()));
    util::remove_dir(&tmp)?;
    fs::create_dir_all(tmp.join("bin"))?;
    fs::create_dir_all(tmp.join("mods"))?;
    fs::copy("/bin/busybox", tmp.join("bin/busybox"))?;
    for (name, path) in modules {
        fs::copy(path, tmp.join("mods").join(format!("{name}.ko")))?;
    }
    fs::write(tmp.join("init"), init)?;
    fs::set_permissions(tmp.join("init"), fs::Permissions::from_mode(0o755))?;
    let packed = cache.join(format!("{file}.tmp.{}", std::process::id()));
    run(Command::new("sh")
        .arg("-c")
        .arg("cd \"$1\" && find . | busybox cpio -o -H newc --quiet | gzip -1 > \"$2\"")
        .arg("sh")
        .arg(&tmp)
        .arg(&packed))?;
    fs::rename(&packed, &initrd)?;
    fs::write(&recipe_path, recipe)?;
    util::remove_dir(&tmp)?;
    Ok(initrd)
}

/// `roots` and everything they depend on, dependencies first, as (name, path in moddir).
/// Modules built into the kernel are absent from `modules.dep` and skipped.
fn module_load_order(moddir: &Path, roots: &[&str]) -> Result<Vec<(String, String)>> {
    let name_of = |path: &str| {
        Path::new(path)
            .file_stem()
            .map(|s| s.to_string_lossy().replace('-', "_"))
            .unwrap_or_default()
    };
    // name -> (path, dependency names)
    let mut deps: HashMap<String, (String, Vec<String>)> = HashMap::new();
    for line in read(&moddir.join("modules.dep")).lines() {
        let Some((path, rest)) = line.split_once(':') else {
            continue;
        };
        let d = rest.split_whitespace().map(name_of).collect();
        deps.insert(name_of(path), (path.to_string(), d));
    }
    if deps.is_empty() {
        bail!("no modules.dep in {}", moddir.display());
    }
    let builtin = read(&moddir.join("modules.builtin"));
    let mut order = Vec::new();
    fn visit(
        name: &str,
        deps: &HashMap<String, (String, Vec<String>)>,
        builtin: &str,
        order: &mut Vec<(String, String)>,
    ) -> Result<()> {
        if order.iter().any(|(n, _)| n == name) {
            return Ok(());
        }
        let Some((path, ds)) = deps.get(name) else {
            if builtin.lines().any(|l| l.ends_with(&format!("/{name}.ko"))) {
                return Ok(());
            }
            bail!("kernel has no module {name}");
        };
        for d in ds {
            visit(d, deps, builtin, order)?;
        }
        order.push((name.to_string(), path.clone()));
        Ok(())
    }
    for root in roots {
        visit(root, &deps, &builtin, &mut order)?;
    }
    Ok(order)
}

/// What the workspace's release build produced.
pub struct ReleaseBuild {
    /// Every binary of the workspace (xtask aside).
    pub executables: Vec<PathBuf>,
    /// nm-plugin's cdylib, `libteamdctl.so` (soname libteamdctl.so.0).
    pub libteamdctl: PathBuf,
}

/// The workspace's binaries and libteamdctl in release mode: one build serves the VM's
/// staged binaries and `cargo xtask package`.
pub fn release_build() -> Result<ReleaseBuild> {
    let out = output(util::cargo().args([
        "build",
        "--release",
        "--workspace",
        "--bins",
        // the cdylib libteamdctl.so.0 (nm-plugin)
        "--lib",
        "--exclude",
        "xtask",
        "--message-format=json-render-diagnostics",
    ]))?;
    let mut executables = Vec::new();
    let mut libteamdctl = None;
    for line in out.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(exe) = msg.get("executable").and_then(|e| e.as_str()) {
            executables.push(PathBuf::from(exe));
        }
        let is_cdylib = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if is_cdylib {
            let files = msg["filenames"].as_array().into_iter().flatten();
            if let Some(file) = files
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with("/libteamdctl.so"))
            {
                libteamdctl = Some(PathBuf::from(file));
            }
        }
    }
    Ok(ReleaseBuild {
        executables,
        libteamdctl: libteamdctl.context("the release build produced no libteamdctl.so")?,
    })
}

/// Build the workspace's binaries and libteamdctl.so.0 in release mode and copy them to a
/// staging directory that the guest mounts at /opt/rteam/bin.
pub fn build_and_stage_bins() -> Result<PathBuf> {
    let built = release_build()?;
    let stage = own_stage("bin")?;
    for exe in &built.executables {
        let name = exe.file_name().context("executable without a name")?;
        fs::copy(exe, stage.join(name))
            .with_context(|| format!("cannot stage {}", exe.display()))?;
    }
    // under the soname programs load it by
    fs::copy(&built.libteamdctl, stage.join("libteamdctl.so.0"))
        .with_context(|| format!("cannot stage {}", built.libteamdctl.display()))?;
    Ok(stage)
}

/// A fresh staging dir `<kind>-<pid>` of this xtask process: concurrent runs must not swap
/// a running guest's binaries or modules under it. Dirs of ended processes are swept first.
pub fn own_stage(kind: &str) -> Result<PathBuf> {
    let root = util::workspace_root().join("target/vm-stage");
    sweep_dead_stages(&root)?;
    let stage = root.join(format!("{kind}-{}", std::process::id()));
    util::remove_dir(&stage)?;
    fs::create_dir_all(&stage).with_context(|| format!("cannot create {}", stage.display()))?;
    Ok(stage)
}

/// Removes staging dirs (`<kind>-<pid>`) whose xtask process has ended.
fn sweep_dead_stages(root: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(root) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let pid = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once('-').map(|(_, pid)| pid))
            .and_then(|p| p.parse::<u32>().ok());
        match pid {
            Some(pid) if Path::new(&format!("/proc/{pid}")).exists() => {}
            _ => util::remove_dir(&path)?,
        }
    }
    Ok(())
}

/// Remove leftovers of builds that were killed (their pid is gone).
fn remove_stale_tmp(cache: &Path) -> Result<()> {
    for entry in fs::read_dir(cache)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some((_, pid)) = name
            .as_deref()
            .and_then(|n| n.rsplit_once(".tmp.").or(n.rsplit_once(".old.")))
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            if path.is_dir() {
                util::remove_dir(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// The single entry of a directory (the kernel version under lib/modules).
fn only_entry(dir: &Path) -> Result<String> {
    let names: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("expected one entry in {}, found {names:?}", dir.display()),
    }
}

/// File contents, or "" if unreadable (a missing recipe simply never matches).
fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}
