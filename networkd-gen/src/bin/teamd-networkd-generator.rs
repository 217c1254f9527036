//! `teamd-networkd-generator NORMAL [EARLY LATE]`: a systemd generator (see
//! systemd.generator(7)). Writes into NORMAL only; logs to /dev/kmsg, as
//! generators run before the journal, or to stderr with
//! `SYSTEMD_LOG_TARGET=console` (as systemd's own programs). `TEAMD_NETWORKD_ROOT`
//! reads the configuration below another root (tests).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use networkd_gen::diag::Diags;
use networkd_gen::load::Roots;
use networkd_gen::model::{self, Inputs};
use networkd_gen::{generator, log_diags};

const TAG: &str = "teamd-networkd-generator";

fn log_sink() -> Box<dyn Write> {
    if std::env::var("SYSTEMD_LOG_TARGET").as_deref() == Ok("console") {
        return Box::new(std::io::stderr());
    }
    match OpenOptions::new().write(true).open("/dev/kmsg") {
        Ok(f) => Box::new(f),
        Err(_) => Box::new(std::io::stderr()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 1 && args.len() != 3 {
        eprintln!("usage: {TAG} NORMAL-DIR [EARLY-DIR LATE-DIR]");
        return ExitCode::FAILURE;
    }
    let root = std::env::var_os("TEAMD_NETWORKD_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    let roots = Roots::new(root);
    let mut diags = Diags::default();
    let inputs = Inputs::load(&roots, &mut diags);
    let model = model::build(&inputs, &roots, &mut diags);
    let out = generator::generate(&model, &roots);
    let mut sink = log_sink();
    log_diags(&diags, TAG, &mut *sink);
    if let Err(e) = generator::write(&out, std::path::Path::new(&args[0])) {
        let line = format!("<3>{TAG}: cannot write to {}: {e}\n", args[0]);
        let _ = sink.write_all(line.as_bytes());
        return ExitCode::FAILURE;
    }
    // a team with mistakes is reported and left out; the others are set up
    ExitCode::SUCCESS
}
