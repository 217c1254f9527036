//! `teamd-convert`: the command line and all file reading; the conversions
//! are the library's.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use networkd_gen::diag::{Diags, Level, Origin};
use teamd_convert::output::{self, OutFile};
use teamd_convert::{bond, bond_out, ifcfg, kickstart, network_scripts, team_outputs, TeamFormat};

#[cfg(test)]
mod doc_tests;

#[derive(Parser, Debug)]
#[command(
    name = "teamd-convert",
    version,
    about = "Convert kickstart network lines, ifcfg files and teamd configs to NetworkManager keyfiles, systemd-networkd files, teamd JSON or bonds"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Teams of a kickstart file's `network --teamslaves` lines, as anaconda makes them.
    Kickstart {
        /// The kickstart file.
        file: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value_t = To::Nm)]
        to: To,
        #[command(flatten)]
        out: Out,
    },
    /// Teams of ifcfg-* files (DEVICETYPE=Team and TeamPort).
    Ifcfg {
        /// The directory of ifcfg files.
        #[arg(default_value = "/etc/sysconfig/network-scripts")]
        dir: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value_t = To::Nm)]
        to: To,
        #[command(flatten)]
        out: Out,
    },
    /// A teamd config (file, or - for stdin) as a bond, with team2bond's mapping.
    ToBond {
        /// The teamd JSON config, or - to read `teamdctl DEV config dump actual` from stdin.
        file: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value_t = BondTo::Nm)]
        to: BondTo,
        /// The bond's name (default: the config's device).
        #[arg(long, value_name = "NAME")]
        rename: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// What network-scripts' ifup-Team, ifdown-Team, ifup-TeamPort and ifdown-TeamPort do
    /// (the scripts in /etc/sysconfig/network-scripts call this).
    NetworkScript {
        /// Which script.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(network_scripts::Script::NAMES))]
        script: String,
        /// The ifcfg file (ifcfg-NAME or a path) or the device, as network-scripts pass it.
        config: String,
        /// network-scripts' second argument (boot), passed on to ifup-eth and ifdown-eth.
        boot: Option<String>,
        /// The directory of ifcfg files.
        #[arg(long, default_value = "/etc/sysconfig/network-scripts")]
        dir: PathBuf,
        /// Print the commands that change something instead of running them.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct Out {
    /// Write the files into DIR (made if missing) instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out: replace files that exist.
    #[arg(long)]
    pub force: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum To {
    Nm,
    Networkd,
    Teamd,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum BondTo {
    Nm,
    Networkd,
    Ip,
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn read_text(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the standard input")?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The ifcfg-* files of a directory as (name, path, text), by name.
fn read_ifcfg_dir(dir: &Path) -> Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = e?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with("ifcfg-") && path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            out.push((name.to_string(), path.display().to_string(), text));
        }
    }
    out.sort();
    Ok(out)
}

fn team_format(to: To) -> TeamFormat {
    match to {
        To::Nm => TeamFormat::Nm,
        To::Networkd => TeamFormat::Networkd,
        To::Teamd => TeamFormat::Teamd,
    }
}

impl Command {
    fn out(&self) -> Option<&Out> {
        match self {
            Command::Kickstart { out, .. }
            | Command::Ifcfg { out, .. }
            | Command::ToBond { out, .. } => Some(out),
            Command::NetworkScript { .. } => None,
        }
    }
}

fn convert(cli: &Cli, diags: &mut Diags) -> Result<Vec<OutFile>> {
    Ok(match &cli.command {
        Command::Kickstart { file, to, .. } => {
            let text = read_text(file)?;
            let teams = kickstart::teams(&text, &file.display().to_string(), diags);
            if teams.is_empty() && !diags.has_errors() {
                diags.warning(
                    Origin::file(file.display().to_string()),
                    "no network line with --teamslaves",
                );
            }
            team_outputs(&teams, team_format(*to), &mut new_uuid, diags)
        }
        Command::Ifcfg { dir, to, .. } => {
            let files = read_ifcfg_dir(dir)?;
            let teams = ifcfg::teams(&files, diags);
            if teams.is_empty() && !diags.has_errors() {
                diags.warning(
                    Origin::file(dir.display().to_string()),
                    "no ifcfg file with DEVICETYPE=Team",
                );
            }
            team_outputs(&teams, team_format(*to), &mut new_uuid, diags)
        }
        Command::ToBond {
            file, to, rename, ..
        } => {
            let text = read_text(file)?;
            let source = if file == Path::new("-") {
                "standard input".to_string()
            } else {
                file.display().to_string()
            };
            let at = Origin::file(&source);
            match bond::from_teamd(&text, &at, rename.as_deref(), diags) {
                None => Vec::new(),
                Some(b) => match to {
                    BondTo::Nm => bond_out::nm_files(&b, &mut new_uuid),
                    BondTo::Networkd => bond_out::networkd_files(&b, &at, diags),
                    BondTo::Ip => vec![bond_out::ip_script(&b, &source)],
                },
            }
        }
        Command::NetworkScript { .. } => Vec::new(),
    })
}

/// The system `network-script` works on.
struct System {
    dry_run: bool,
    prefix: String,
}

impl network_scripts::Host for System {
    fn run(&mut self, argv: &[String]) -> Result<(), String> {
        if self.dry_run {
            println!("{}", argv.join(" "));
            return Ok(());
        }
        let (cmd, args) = argv.split_first().ok_or("empty command")?;
        let status = std::process::Command::new(cmd)
            .args(args)
            .status()
            .map_err(|e| format!("cannot run {cmd}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{} failed ({status})", argv.join(" ")))
        }
    }

    fn query(&mut self, argv: &[String]) -> bool {
        let Some((cmd, args)) = argv.split_first() else {
            return false;
        };
        std::process::Command::new(cmd)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn write(&mut self, path: &Path, text: &str) -> Result<(), String> {
        if self.dry_run {
            println!("write {}: {}", path.display(), text.trim_end());
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn remove(&mut self, path: &Path) {
        if self.dry_run {
            println!("rm {}", path.display());
        } else if let Err(e) = std::fs::remove_file(path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                self.note(&format!("cannot remove {}: {e}", path.display()));
            }
        }
    }

    fn link_by_mac(&mut self, mac: &str) -> Option<String> {
        for e in std::fs::read_dir("/sys/class/net").ok()?.flatten() {
            let addr = std::fs::read_to_string(e.path().join("address")).unwrap_or_default();
            if addr.trim().eq_ignore_ascii_case(mac) {
                return e.file_name().to_str().map(str::to_string);
            }
        }
        None
    }

    fn note(&mut self, msg: &str) {
        eprintln!("{}: {msg}", self.prefix);
    }
}

/// `network-script`: its own error reporting, prefixed with the script's name.
fn network_script(
    script: &str,
    config: &str,
    boot: Option<&str>,
    dir: &Path,
    dry_run: bool,
) -> bool {
    let Some(which) = network_scripts::Script::from_name(script) else {
        eprintln!("teamd-convert: error: no script {script}");
        return false;
    };
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let setup = network_scripts::Setup {
        dir: dir.to_path_buf(),
        run_dir: PathBuf::from("/run/teamd"),
        teamd: env("RTEAM_TEAMD", "/usr/bin/teamd"),
        teamdctl: env("RTEAM_TEAMDCTL", "/usr/bin/teamdctl"),
        systemd: Path::new("/run/systemd/system").is_dir(),
        initscripts: dir.join("ifup-eth").is_file() && Path::new("/sbin/ifup").exists(),
    };
    let mut host = System {
        dry_run,
        prefix: script.to_string(),
    };
    let result = read_ifcfg_dir(dir)
        .map_err(|e| format!("{e:#}"))
        .and_then(|files| {
            let files = network_scripts::Files::new(&files);
            network_scripts::run(which, config, boot, &setup, &files, &mut host)
        });
    match result {
        Ok(()) => true,
        Err(e) => {
            for l in e.lines() {
                eprintln!("{script}: error: {l}");
            }
            false
        }
    }
}

fn run() -> Result<bool> {
    let cli = Cli::parse();
    if let Command::NetworkScript {
        script,
        config,
        boot,
        dir,
        dry_run,
    } = &cli.command
    {
        return Ok(network_script(
            script,
            config,
            boot.as_deref(),
            dir,
            *dry_run,
        ));
    }
    let mut diags = Diags::default();
    let files = convert(&cli, &mut diags)?;
    let mut sorted = diags.0.clone();
    sorted
        .sort_by(|a, b| (&a.origin.source, a.origin.line).cmp(&(&b.origin.source, b.origin.line)));
    for d in &sorted {
        let level = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "note",
        };
        eprintln!("teamd-convert: {level}: {d}");
    }
    if diags.has_errors() {
        eprintln!("teamd-convert: nothing written");
        return Ok(false);
    }
    let Some(out) = cli.command.out() else {
        return Ok(true);
    };
    match &out.out {
        Some(dir) => {
            let written = output::write_all(dir, &files, out.force).map_err(anyhow::Error::msg)?;
            for p in written {
                println!("{}", p.display());
            }
        }
        None => {
            output::check_names(&files).map_err(anyhow::Error::msg)?;
            print!("{}", output::render(&files));
        }
    }
    Ok(true)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("teamd-convert: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
