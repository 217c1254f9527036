//! Man pages: the scdoc sources in `packaging/man/*.scd` rendered to roff, each rendered
//! page then read back with man(1), which must not warn.
//!
//! scdoc stamps the date from `SOURCE_DATE_EPOCH` when set (reproducible packages), else
//! today's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::util;

/// The page sources, relative to the workspace root.
const SOURCE_DIR: &str = "packaging/man";

/// Renders every `packaging/man/*.scd` to `out_dir/<name>.<section>` (`teamd.8`,
/// `teamd.conf.5`, ...) and checks each with `man -l`; fails naming the first page that
/// does not render cleanly. Returns the rendered pages in name order.
pub fn render(out_dir: &Path) -> Result<Vec<PathBuf>> {
    util::ensure_host_packages(&["scdoc", "man-db"])?;
    render_dir(&util::workspace_root().join(SOURCE_DIR), out_dir)
}

/// [`render`] for the sources in `src_dir`, without installing anything.
fn render_dir(src_dir: &Path, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut sources = Vec::new();
    for entry in
        fs::read_dir(src_dir).with_context(|| format!("cannot read {}", src_dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "scd") {
            sources.push(path);
        }
    }
    sources.sort();
    if sources.is_empty() {
        bail!("no page sources (*.scd) in {}", src_dir.display());
    }
    fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut pages = Vec::new();
    for src in &sources {
        let file_name = src.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let page = Page::from_source_name(file_name)
            .with_context(|| format!("{}: not a page source name", src.display()))?;
        let text =
            fs::read_to_string(src).with_context(|| format!("cannot read {}", src.display()))?;
        if !page.header_matches(&text) {
            bail!(
                "{}: the first line must be the page's title \"{}({})\"",
                src.display(),
                page.name,
                page.section
            );
        }
        let out = out_dir.join(page.file_name());
        scdoc(src, &out)?;
        check_with_man(&out)?;
        pages.push(out);
    }
    Ok(pages)
}

/// A page's name and section, as in `teamd.conf(5)`.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    name: String,
    section: String,
}

impl Page {
    /// `teamd.conf.5.scd` → teamd.conf, 5. The section starts with a digit and may carry
    /// a suffix (`3p`); names may contain dots.
    fn from_source_name(file_name: &str) -> Option<Page> {
        let stem = file_name.strip_suffix(".scd")?;
        let (name, section) = stem.rsplit_once('.')?;
        let mut chars = section.chars();
        let valid_section = chars.next().is_some_and(|c| matches!(c, '1'..='9'))
            && chars.all(|c| c.is_ascii_alphanumeric());
        (!name.is_empty() && valid_section).then(|| Page {
            name: name.to_string(),
            section: section.to_string(),
        })
    }

    fn file_name(&self) -> String {
        format!("{}.{}", self.name, self.section)
    }

    /// scdoc takes the page's title from the first line, `name(section)` and optional
    /// footer strings; it must agree with the file name, or `man teamd` would show a page
    /// titled otherwise.
    fn header_matches(&self, source: &str) -> bool {
        let first = source.lines().next().unwrap_or_default();
        let title = format!("{}({})", self.name, self.section);
        first == title || first.starts_with(&format!("{title} "))
    }
}

/// scdoc reads the source on stdin and writes roff on stdout.
fn scdoc(src: &Path, out: &Path) -> Result<()> {
    let input = fs::File::open(src).with_context(|| format!("cannot read {}", src.display()))?;
    let output = Command::new("scdoc")
        .stdin(input)
        .stderr(Stdio::piped())
        .output()
        .context("cannot start scdoc")?;
    if !output.status.success() {
        bail!(
            "scdoc failed on {} ({}): {}",
            src.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    fs::write(out, &output.stdout).with_context(|| format!("cannot write {}", out.display()))
}

/// Formats `page` as a reader's `man` would, with every groff warning on (`--warnings=w`;
/// the default set misses e.g. bad escapes and negative indents). man and groff exit 0
/// after warnings, so anything on stderr fails the page.
fn check_with_man(page: &Path) -> Result<()> {
    let output = Command::new("man")
        .args(["--warnings=w", "-l", "-Tutf8"])
        .arg(page)
        .env("MANWIDTH", "80")
        // a host without the caller's locale must not add its own complaint
        .env("LC_ALL", "C.UTF-8")
        // man-db's seccomp sandbox fails under some container runtimes; these are our pages
        .env("MAN_DISABLE_SECCOMP", "1")
        .stdin(Stdio::null())
        .output()
        .context("cannot start man")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let complaints = complaints(&stderr);
    if !output.status.success() || !complaints.is_empty() || output.stdout.is_empty() {
        bail!(
            "man -l {} ({}) does not render cleanly:\n{}",
            page.display(),
            output.status,
            complaints.join("\n")
        );
    }
    Ok(())
}

/// The lines of man's stderr worth reporting.
fn complaints(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory under the system's temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(what: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("xtask-man-{what}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("create scratch dir");
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The real checks need scdoc and man on the host; `render` installs them, the tests
    /// do not (they would need root).
    fn tools_present() -> bool {
        let found = |tool: &str| {
            Command::new(tool)
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        };
        let present = found("scdoc") && found("man");
        if !present {
            eprintln!("skipped: scdoc or man is not installed");
        }
        present
    }

    #[test]
    fn page_names_from_source_names() {
        let page = |n: &str| Page::from_source_name(n).map(|p| p.file_name());
        assert_eq!(page("teamd.8.scd").as_deref(), Some("teamd.8"));
        assert_eq!(page("teamd.conf.5.scd").as_deref(), Some("teamd.conf.5"));
        assert_eq!(page("libx.3p.scd").as_deref(), Some("libx.3p"));
        for bad in [
            "teamd.scd",
            "teamd.8",
            ".8.scd",
            "teamd.x.scd",
            "teamd.0.scd",
            "t.8-.scd",
        ] {
            assert_eq!(page(bad), None, "{bad}");
        }
    }

    #[test]
    fn title_line_must_name_the_page() {
        let page = Page::from_source_name("teamd.conf.5.scd").expect("valid name");
        assert!(page.header_matches("teamd.conf(5)\n\n# NAME\n"));
        assert!(page.header_matches("teamd.conf(5) \"rteam\" \"File Formats\"\n"));
        assert!(!page.header_matches("teamd(5)\n"));
        assert!(!page.header_matches("teamd.conf(8)\n"));
        assert!(!page.header_matches("teamd.conf(5)x\n"));
        assert!(!page.header_matches("\nteamd.conf(5)\n"));
    }

    #[test]
    fn blank_stderr_lines_are_no_complaint() {
        assert!(complaints("\n  \n").is_empty());
        assert_eq!(
            complaints("troff: <standard input>:9: warning: macro 'XX' not defined\n"),
            ["troff: <standard input>:9: warning: macro 'XX' not defined"]
        );
    }

    #[test]
    fn our_pages_render_without_warnings() {
        if !tools_present() {
            return;
        }
        let out = Scratch::new("render");
        let pages = render_dir(&util::workspace_root().join(SOURCE_DIR), &out.0)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let names: Vec<String> = pages
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(String::from))
            .collect();
        assert_eq!(
            names,
            [
                "systemd.netdev-team.5",
                "teamd-convert.1",
                "teamd.8",
                "teamd.conf.5",
                "teamdctl.8",
                "teamnl.8"
            ]
        );
        let roff = fs::read_to_string(out.0.join("teamd.conf.5")).expect("rendered page");
        assert!(roff.contains(".TH \"teamd.conf\" \"5\""), "{roff}");
    }

    #[test]
    fn man_check_catches_a_broken_page() {
        if !tools_present() {
            return;
        }
        let dir = Scratch::new("broken");
        let src = dir.0.join("broken.8.scd");
        fs::write(&src, "broken(8)\n\n# NAME\n\nbroken - a page\n").expect("write source");
        let page = dir.0.join("broken.8");
        scdoc(&src, &page).unwrap_or_else(|e| panic!("{e:#}"));
        check_with_man(&page).unwrap_or_else(|e| panic!("clean page refused: {e:#}"));
        // what scdoc never writes but a hand edit could: an unknown macro, a bad escape
        let mut roff = fs::read_to_string(&page).expect("rendered page");
        roff.push_str(".XX\n\\q\n");
        fs::write(&page, roff).expect("write page");
        let err = format!(
            "{:#}",
            check_with_man(&page).expect_err("broken page passed")
        );
        assert!(err.contains("broken.8"), "{err}");
        assert!(err.contains("macro 'XX' not defined"), "{err}");
        assert!(err.contains("escape character ignored"), "{err}");
    }

    #[test]
    fn a_mistitled_source_is_refused() {
        if !tools_present() {
            return;
        }
        let dir = Scratch::new("mistitled");
        let src_dir = dir.0.join("src");
        fs::create_dir_all(&src_dir).expect("create src dir");
        fs::write(src_dir.join("good.8.scd"), "bad(8)\n\n# NAME\n\nbad - x\n").expect("write");
        let err = format!(
            "{:#}",
            render_dir(&src_dir, &dir.0.join("out")).expect_err("passed")
        );
        assert!(err.contains("good.8.scd"), "{err}");
    }
}
