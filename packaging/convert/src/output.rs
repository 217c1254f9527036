//! The files a conversion makes, and the only place that writes them:
//! everything goes to a temporary directory inside the target first and is
//! renamed into place only when all of it was written, so a failure leaves
//! no partial output.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    /// A plain file name (no directory).
    pub name: String,
    pub content: String,
    pub mode: u32,
}

impl OutFile {
    pub fn new(name: impl Into<String>, content: String) -> OutFile {
        OutFile {
            name: name.into(),
            content,
            mode: 0o644,
        }
    }

    /// A file only root may read (NM refuses keyfiles others can read).
    pub fn private(name: impl Into<String>, content: String) -> OutFile {
        OutFile {
            mode: 0o600,
            ..OutFile::new(name, content)
        }
    }
}

/// What goes to stdout without `--out`: a single file as it is (so that
/// `… --to ip | sh` works), several each under a `### NAME` line.
pub fn render(files: &[OutFile]) -> String {
    match files {
        [one] => one.content.clone(),
        many => many
            .iter()
            .map(|f| format!("### {}\n{}", f.name, f.content))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Two outputs may not share a name, and a name must stay in its directory.
pub fn check_names(files: &[OutFile]) -> Result<(), String> {
    for (i, f) in files.iter().enumerate() {
        if f.name.is_empty() || f.name.contains('/') || f.name.starts_with('.') {
            return Err(format!("\"{}\" cannot be an output file name", f.name));
        }
        if files[..i].iter().any(|g| g.name == f.name) {
            return Err(format!("two outputs would be written to {}", f.name));
        }
    }
    Ok(())
}

/// Writes all files into `dir` (made if missing). An existing file is an
/// error unless `force`; nothing is renamed into place before every file
/// was written.
pub fn write_all(dir: &Path, files: &[OutFile], force: bool) -> Result<Vec<PathBuf>, String> {
    check_names(files)?;
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if !force {
        if let Some(f) = files.iter().find(|f| dir.join(&f.name).exists()) {
            return Err(format!(
                "{} exists; remove it or use --force",
                dir.join(&f.name).display()
            ));
        }
    }
    let tmp = temp_dir(dir)?;
    let result = write_into(&tmp, files).and_then(|()| {
        let mut done = Vec::new();
        for f in files {
            let to = dir.join(&f.name);
            fs::rename(tmp.join(&f.name), &to)
                .map_err(|e| format!("cannot move {} into place: {e}", to.display()))?;
            done.push(to);
        }
        Ok(done)
    });
    // the directory is empty on success; on failure it holds what was written
    let _ = fs::remove_dir_all(&tmp);
    result
}

fn temp_dir(dir: &Path) -> Result<PathBuf, String> {
    for n in 0..100u32 {
        let p = dir.join(format!(".teamd-convert.{}.{n}", std::process::id()));
        match fs::create_dir(&p) {
            Ok(()) => {
                // keyfiles are secret until renamed: keep others out meanwhile
                fs::set_permissions(&p, fs::Permissions::from_mode(0o700))
                    .map_err(|e| format!("cannot restrict {}: {e}", p.display()))?;
                return Ok(p);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot create a directory in {}: {e}",
                    dir.display()
                ))
            }
        }
    }
    Err(format!(
        "cannot create a temporary directory in {}",
        dir.display()
    ))
}

fn write_into(tmp: &Path, files: &[OutFile]) -> Result<(), String> {
    for f in files {
        let path = tmp.join(&f.name);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(f.mode)
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        file.write_all(f.content.as_bytes())
            .and_then(|()| file.set_permissions(fs::Permissions::from_mode(f.mode)))
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_or_nothing() {
        let t = tempfile::tempdir().expect("tempdir");
        let out = t.path().join("out");
        let files = vec![
            OutFile::private("a.nmconnection", "a".into()),
            OutFile::new("b.conf", "b".into()),
        ];
        write_all(&out, &files, false).expect("written");
        let mode = |n: &str| {
            fs::metadata(out.join(n))
                .expect("exists")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!((mode("a.nmconnection"), mode("b.conf")), (0o600, 0o644));
        // b.conf exists: nothing is written, not even the new c
        let again = vec![
            OutFile::new("c", "c".into()),
            OutFile::new("b.conf", "x".into()),
        ];
        assert!(write_all(&out, &again, false)
            .expect_err("exists")
            .contains("b.conf exists"));
        assert!(!out.join("c").exists());
        write_all(&out, &again, true).expect("forced");
        assert_eq!(fs::read_to_string(out.join("b.conf")).expect("read"), "x");
        let left: Vec<_> = fs::read_dir(&out).expect("dir").collect();
        assert_eq!(left.len(), 3, "no temporary directory left");
        assert!(check_names(&[OutFile::new("../x", String::new())]).is_err());
    }

    #[test]
    fn stdout_rendering() {
        assert_eq!(render(&[OutFile::new("a", "x\n".into())]), "x\n");
        assert_eq!(
            render(&[
                OutFile::new("a", "x\n".into()),
                OutFile::new("b", "y\n".into())
            ]),
            "### a\nx\n\n### b\ny\n"
        );
    }
}
