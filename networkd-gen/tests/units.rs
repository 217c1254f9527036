//! The unit files the packages install (`units/`), read as systemd reads
//! them, for the settings the VM scenarios showed to matter.

use networkd_gen::diag::Diags;
use networkd_gen::ini::{self, Section};

fn unit(name: &str) -> Vec<Section> {
    let path = format!("{}/units/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut diags = Diags::default();
    let sections = ini::parse(&text, &path, &mut diags).unwrap_or_else(|| panic!("{path}"));
    assert!(diags.0.is_empty(), "{path}: {:?}", diags.0);
    sections
}

/// The last value of `key` in `[section]`, as systemd takes it.
fn value(sections: &[Section], section: &str, key: &str) -> Option<String> {
    sections
        .iter()
        .filter(|s| s.name == section)
        .flat_map(|s| s.entries.iter())
        .rfind(|e| e.key == key)
        .map(|e| e.value.clone())
}

#[test]
fn helper_service_has_no_start_limit() {
    // A burst of edits starts the helper more than 5 times in 10 s; with the
    // default start limit systemd refuses the next start and fails
    // teamd-networkd.path, which stops watching (networkd-team scenario).
    let service = unit("teamd-networkd.service");
    assert_eq!(
        value(&service, "Unit", "StartLimitIntervalSec").as_deref(),
        Some("0")
    );
    assert_eq!(
        value(&service, "Unit", "DefaultDependencies").as_deref(),
        Some("no")
    );
    let path = unit("teamd-networkd.path");
    assert_eq!(
        value(&path, "Path", "Unit").as_deref(),
        Some("teamd-networkd.service")
    );
}
