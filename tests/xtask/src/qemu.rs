//! Booting the guest on one script, with a time limit, and collecting its result.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::guest::Image;
use crate::util;

/// The line stage 2 prints just before it starts the script.
const SCRIPT_START_MARKER: &str = "rteam-guest: running script";

#[derive(Clone)]
pub struct RunOpts {
    pub keep: bool,
    pub timeout: Duration,
    /// Copy the guest's /results here after the run (the bench reads its raw data there).
    pub results_to: Option<PathBuf>,
    /// How the guest boots; `None`: as the script's `# vm-boot:` header line says (plain
    /// without one).
    pub boot: Option<Boot>,
    /// vCPUs of the guest; `None`: 2. `RTEAM_VM_CPUS` overrides either.
    pub cpus: Option<usize>,
    /// Instruction-counted guest time (qemu's icount shift: 2^shift ns an instruction);
    /// `None`: the host's clock. `RTEAM_VM_ICOUNT` overrides either.
    pub icount: Option<u32>,
}

/// How the guest boots before it runs the script.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Boot {
    /// bash as PID 1 runs the script directly (guest/init.sh): fast, no services.
    Plain,
    /// systemd as PID 1 (journald, udev, dbus, units the script's `# vm-units:` line names)
    /// runs the script as a unit after multi-user.target (guest/systemd-boot.sh).
    Systemd,
}

/// Kernel hardening that costs much under TCG and changes nothing a team device does: with
/// these, Debian's kernel forks 2.7 times and makes syscalls 3 times as fast in the guest
/// (300 fork+exec 40 s -> 14.6 s, 400k syscalls 1.6 s -> 0.5 s) and boots in half the time.
/// Our kernel lacks most of these features; it ignores the arguments it does not know.
/// `norandmaps` (no address space randomisation) halves the cost of starting a process in
/// TCG, whose translated code is then found again at the same addresses in the next one:
/// measured on 2026-12-07 with 40 runs each, /bin/true 57 -> 22 ms, `ip link show` 108 ->
/// 56 ms, our teamdctl 68 -> 27 ms; a scenario is mostly such process starts.
const GUEST_SPEEDUPS: &str = "mitigations=off init_on_alloc=0 init_on_free=0 apparmor=0 \
                              security=none audit=0 randomize_kstack_offset=off norandmaps";

/// The guest's clock as on hardware: TSC, read in the vDSO. qemu's TCG CPU model lacks
/// `constant_tsc`, so the kernel assumes the two vCPUs' TSCs are unsynchronised and falls
/// back to the HPET, which the vDSO cannot read: every `clock_gettime` became a system call
/// plus an emulated MMIO read (half of an idle tokio daemon's system calls, none of C
/// teamd's). TCG's TSC is the host's, the same for both vCPUs. Measured 2026-12-07, arp_ping
/// on 4 ports, 30 s idle, same boot for both daemons: rteam 4427 system calls in 10 s
/// (2543 `clock_gettime`) and 1.38-1.54x C teamd's CPU on the HPET; 1961 (none) and 1.14x
/// on the TSC, C teamd 2189-2251 either way.
const GUEST_CLOCK: &str = "tsc=reliable";

/// The value of a `# KEY: value` line in a script's header (its leading comment lines), which
/// is how a scenario tells the harness what it needs (`vm-boot`, `vm-units`, `vm-needs`).
pub fn header_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let prefix = format!("# {key}:");
    text.lines()
        .take_while(|l| l.starts_with('#') || l.trim().is_empty())
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::trim)
}

/// Whether a scenario needs our packages built first (`# vm-needs: packages`).
pub fn needs_packages(script: &Path) -> bool {
    fs::read_to_string(script).is_ok_and(|text| {
        header_value(&text, "vm-needs")
            .is_some_and(|v| v.split_whitespace().any(|w| w == "packages"))
    })
}

impl Boot {
    /// The boot a script asks for in a `# vm-boot: plain|systemd` line of its header.
    pub fn of_script(text: &str) -> Result<Option<Boot>> {
        let Some(value) = header_value(text, "vm-boot") else {
            return Ok(None);
        };
        match value {
            "plain" => Ok(Some(Boot::Plain)),
            "systemd" => Ok(Some(Boot::Systemd)),
            other => anyhow::bail!("unknown '# vm-boot: {other}' (plain or systemd)"),
        }
    }
}

/// A finished guest run: how it ended and, if it failed, the end of the script's output
/// (kept for summaries, so the reason is still on screen after a long run).
pub struct Finished {
    pub outcome: Outcome,
    pub failure_tail: Vec<String>,
}

/// How a guest run ended.
pub enum Outcome {
    /// The script ran and exited with this status.
    Exited(i32),
    /// The guest stopped without writing /results/status.
    NoStatus,
    /// The guest was killed at the time limit (seconds).
    TimedOut(u64),
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Exited(0))
    }

    /// Our process exit code: the script's status, or 1 if it never produced one.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Exited(s) => u8::try_from(*s).unwrap_or(1),
            _ => 1,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(s) => format!("exit {s}"),
            Outcome::NoStatus => "guest stopped without a status".into(),
            Outcome::TimedOut(secs) => format!("timed out after {secs} s, guest killed"),
        }
    }
}

/// Boot the guest on `script`. With `live`, console output is echoed as it arrives;
/// otherwise the console tail is printed only if the run fails.
/// vCPUs of a guest: `RTEAM_VM_CPUS`, else what the run asks for, else 2.
fn guest_cpus(opts: &RunOpts) -> usize {
    std::env::var("RTEAM_VM_CPUS")
        .ok()
        .and_then(|v| v.parse().ok())
        .or(opts.cpus)
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

/// The icount shift of a guest: `RTEAM_VM_ICOUNT=SHIFT`, else what the run asks for, else
/// none (for comparing figures measured on a loaded host; see `run_script`).
fn icount(opts: &RunOpts) -> Option<u32> {
    std::env::var("RTEAM_VM_ICOUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .or(opts.icount)
        .filter(|s| *s <= 10)
}

pub fn run_script(
    image: &Image,
    bins: &Path,
    script: &Path,
    opts: RunOpts,
    live: bool,
) -> Result<Finished> {
    let name = script
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script".into());
    let run_dir = new_run_dir(&name)?;
    let results = run_dir.join("results");
    let job = run_dir.join("job");
    fs::create_dir_all(&results)?;
    fs::create_dir_all(&job)?;
    fs::copy(script, job.join("script.sh"))
        .with_context(|| format!("cannot read {}", script.display()))?;
    if !image.kmods.is_empty() {
        // stage 2 loads the modules named in `load`, in order
        let kmods = job.join("kmods");
        fs::create_dir_all(&kmods)?;
        for ko in &image.kmods {
            let name = ko.file_name().context("module without a name")?;
            fs::copy(ko, kmods.join(name))
                .with_context(|| format!("cannot stage {}", ko.display()))?;
        }
        fs::write(kmods.join("load"), image.load.join("\n") + "\n")?;
    }
    let console_path = run_dir.join("console.log");
    let tests = util::workspace_root().join("tests/vm");
    let script_text =
        fs::read_to_string(script).with_context(|| format!("cannot read {}", script.display()))?;
    let boot = match opts.boot {
        Some(boot) => boot,
        None => Boot::of_script(&script_text)
            .with_context(|| format!("in {}", script.display()))?
            .unwrap_or(Boot::Plain),
    };
    let mut cmdline =
        format!("console=ttyS0 quiet panic=-1 rdinit=/init {GUEST_SPEEDUPS} {GUEST_CLOCK}");
    if boot == Boot::Systemd {
        // read by guest/init.sh; systemd ignores it
        cmdline.push_str(" rteam.boot=systemd");
    }
    if let Some(extra) = header_value(&script_text, "vm-cmdline") {
        // the scenario's own kernel arguments (networkd-cmdline: team=, ip=), read in the
        // guest by whatever parses /proc/cmdline there
        cmdline.push(' ');
        cmdline.push_str(extra);
    }

    let mut cmd = Command::new("qemu-system-x86_64");
    match icount(&opts) {
        // Guest time counted in instructions (2^shift ns each), not read from the host:
        // the guest's timings no longer depend on the host's load. Needs the one-thread
        // TCG (both vCPUs take turns), so everything runs slower.
        Some(shift) => cmd
            .args(["-accel", "tcg,thread=single", "-icount"])
            .arg(format!("shift={shift},sleep=off")),
        None => cmd.args(["-accel", "tcg,thread=multi"]),
    };
    cmd.args(["-cpu", "max", "-smp"])
        .arg(guest_cpus(&opts).to_string())
        .args(["-m", "2048"])
        // No devices, no network: the guest reaches nothing but its shares.
        .args(["-nodefaults", "-display", "none", "-monitor", "none"])
        .args(["-serial", "stdio", "-net", "none", "-no-reboot"])
        .arg("-kernel")
        .arg(&image.kernel)
        .arg("-initrd")
        .arg(&image.initrd)
        // panic=-1 + -no-reboot: a guest panic ends qemu instead of hanging.
        .arg("-append")
        .arg(&cmdline);
    for (tag, path, readonly) in [
        ("rootfs", image.rootfs.as_path(), true),
        ("bin", bins, true),
        ("tests", tests.as_path(), true),
        // the whole checkout, for files scenarios install (D-Bus policy, units)
        ("src", util::workspace_root().as_path(), true),
        ("job", job.as_path(), true),
        ("results", results.as_path(), false),
    ] {
        let mut spec = format!(
            "local,path={},mount_tag={tag},security_model=passthrough,id={tag}",
            path.display()
        );
        if readonly {
            spec.push_str(",readonly=on");
        }
        cmd.arg("-virtfs").arg(spec);
    }
    // stdin from /dev/null: qemu then leaves the user's terminal settings alone.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());

    let started = Instant::now();
    let mut child = cmd.spawn().context("cannot start qemu-system-x86_64")?;
    let script_started: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut log = fs::File::create(&console_path)?;
    let stdout = child.stdout.take().context("qemu stdout")?;
    let stderr = child.stderr.take().context("qemu stderr")?;
    let marker = Arc::clone(&script_started);
    // The console is read on a thread so the main thread can enforce the time limit.
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n').map_while(|l| l.ok()) {
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches('\r');
            if line.contains(SCRIPT_START_MARKER) {
                if let Ok(mut m) = marker.lock() {
                    *m = Some(Instant::now());
                }
            }
            let _ = writeln!(log, "{line}");
            if live {
                println!("{line}");
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });

    let deadline = started + opts.timeout;
    let timed_out = loop {
        if child.try_wait()?.is_some() {
            break false;
        }
        if Instant::now() >= deadline {
            // Our own child, killed by its handle.
            let _ = child.kill();
            let _ = child.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = reader.join();
    let qemu_stderr = err_reader.join().unwrap_or_default();

    let outcome = if timed_out {
        Outcome::TimedOut(opts.timeout.as_secs())
    } else {
        match fs::read_to_string(results.join("status")) {
            Ok(s) => s
                .trim()
                .parse()
                .map(Outcome::Exited)
                .unwrap_or(Outcome::NoStatus),
            Err(_) => Outcome::NoStatus,
        }
    };
    let total = started.elapsed().as_secs_f64();
    let boot = script_started
        .lock()
        .ok()
        .and_then(|m| *m)
        .map(|t| format!("{:.1} s", (t - started).as_secs_f64()))
        .unwrap_or_else(|| "-".into());
    eprintln!(
        "xtask: {name}: {} (boot to script {boot}, total {total:.1} s)",
        outcome.describe()
    );

    if !outcome.passed() {
        if !qemu_stderr.trim().is_empty() {
            eprintln!("--- qemu stderr ---\n{}", qemu_stderr.trim_end());
        }
        // The console holds the script's output too (stage 2 tees it there).
        if !live || timed_out {
            print_tail(&console_path, 60);
        }
    }
    if let Some(dest) = &opts.results_to {
        util::remove_dir(dest)?;
        fs::create_dir_all(dest)?;
        util::run(
            Command::new("cp")
                .arg("-a")
                .arg(results.join("."))
                .arg(dest),
        )?;
    }
    let failure_tail = if outcome.passed() {
        Vec::new()
    } else {
        script_output_tail(
            &results.join("output.log"),
            &console_path,
            FAILURE_TAIL_LINES,
        )
    };
    if opts.keep || !outcome.passed() {
        eprintln!("xtask: logs kept in {}", run_dir.display());
    } else {
        util::remove_dir(&run_dir)?;
    }
    Ok(Finished {
        outcome,
        failure_tail,
    })
}

/// Lines of a failed script's output repeated in summaries.
const FAILURE_TAIL_LINES: usize = 45;

/// Lines kept from the first `FAIL` lines of a failed script (and what follows each).
const FAILURE_HEAD_LINES: usize = 30;

/// What a summary shows of a failed script: its first `FAIL` lines with what follows each
/// (a diff, usually), since a scenario that carries on after a failed check may print long
/// after it; then the last `lines` lines of its output (the guest tees it to `output`), or of
/// the console if the script never wrote one.
fn script_output_tail(output: &Path, console: &Path, lines: usize) -> Vec<String> {
    let text = fs::read_to_string(output)
        .or_else(|_| fs::read_to_string(console))
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let tail_from = all.len().saturating_sub(lines);
    let mut picked = failure_lines(&all[..tail_from], FAILURE_HEAD_LINES);
    if !picked.is_empty() {
        picked.push("[...]".to_string());
    }
    picked.extend(all[tail_from..].iter().map(|l| l.to_string()));
    picked
}

/// Up to `max` lines of `lines`: each line starting with `FAIL` and the lines after it up to
/// the next line that is not part of a diff (`---`, `+++`, `@@`, ` `, `-`, `+`).
fn failure_lines(lines: &[&str], max: usize) -> Vec<String> {
    let mut picked = Vec::new();
    let mut in_failure = false;
    for line in lines {
        if line.starts_with("FAIL") {
            in_failure = true;
        } else if in_failure {
            in_failure = line.starts_with([' ', '-', '+', '@']);
        }
        if in_failure {
            if picked.len() == max {
                break;
            }
            picked.push(line.to_string());
        }
    }
    picked
}

/// A fresh `target/vm-runs/NAME-TIME-PID-N` directory (N: this process's run count, as one
/// xtask runs several guests at once, the same scenario on two kernels among them).
fn new_run_dir(name: &str) -> Result<PathBuf> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let n = RUNS.fetch_add(1, Ordering::SeqCst);
    let dir = util::workspace_root()
        .join("target/vm-runs")
        .join(format!("{name}-{secs}-{}-{n}", std::process::id()));
    util::remove_dir(&dir)?;
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Print the last `lines` lines of the console log.
fn print_tail(path: &Path, lines: usize) {
    let Ok(text) = fs::read_to_string(path) else {
        return;
    };
    let all: Vec<&str> = text.lines().collect();
    eprintln!("--- console (last {lines} lines) ---");
    for line in &all[all.len().saturating_sub(lines)..] {
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::{failure_lines, Boot};

    #[test]
    fn boot_comes_from_the_header_only() {
        let systemd = "#!/bin/bash\n# pkg-deb: ...\n# vm-boot: systemd\n\nset -e\n";
        assert_eq!(Boot::of_script(systemd).ok().flatten(), Some(Boot::Systemd));
        assert_eq!(
            Boot::of_script("#!/bin/bash\n# vm-boot: plain\n")
                .ok()
                .flatten(),
            Some(Boot::Plain)
        );
        // a line past the header (e.g. in a heredoc) is not a header line
        let body = "#!/bin/bash\nset -e\n# vm-boot: systemd\n";
        assert_eq!(Boot::of_script(body).ok().flatten(), None);
        assert!(Boot::of_script("#!/bin/bash\n# vm-boot: sysv\n").is_err());
    }

    #[test]
    fn cmdline_arguments_come_from_the_header() {
        let text = "#!/bin/bash\n# vm-boot: systemd\n# vm-cmdline: team=team0:eth1,eth2:lacp ip=team0:dhcp\nset -e\n# vm-cmdline: no\n";
        assert_eq!(
            super::header_value(text, "vm-cmdline"),
            Some("team=team0:eth1,eth2:lacp ip=team0:dhcp")
        );
        assert_eq!(
            super::header_value("#!/bin/bash\nset -e\n", "vm-cmdline"),
            None
        );
    }

    #[test]
    fn failure_lines_keep_each_fail_with_its_diff() {
        let out = [
            "same: a",
            "FAIL: good/x differs (-C +rteam):",
            "--- C",
            "+++ rteam",
            "@@ -1 +1 @@",
            "-1",
            "+2",
            "same: b",
            "FAIL: bad/y: rteam exit status 0, not 1",
            "same: c",
        ];
        let picked = failure_lines(&out, 30);
        assert_eq!(picked.len(), 7);
        assert_eq!(picked[0], "FAIL: good/x differs (-C +rteam):");
        assert_eq!(picked[5], "+2");
        assert_eq!(picked[6], "FAIL: bad/y: rteam exit status 0, not 1");
        assert_eq!(failure_lines(&out, 3).len(), 3);
        assert!(failure_lines(&["same: a"], 30).is_empty());
    }
}
