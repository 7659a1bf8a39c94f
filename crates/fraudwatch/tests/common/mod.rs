//! What the binary's tests share: running `fraudwatch` in a folder with no `FRAUDWATCH_*`
//! settings leaking in, reading its output, and finding the shared data and services.

#![allow(dead_code)] // each test binary uses its own part

pub mod scoring;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary in `dir` with `args`, with the caller's `FRAUDWATCH_*` variables removed.
pub fn fraudwatch(args: &[&str], dir: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fraudwatch"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FRAUDWATCH_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// Standard output and standard error together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The folder of the fraud handbook's data (`shared/data/handbook` beside the repository, or
/// `$FW_HANDBOOK_DIR`), checked to hold `files`: a test that needs them fails without them.
pub fn handbook_dir(files: &[&str]) -> PathBuf {
    let dir = std::env::var_os("FW_HANDBOOK_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/handbook"),
        PathBuf::from,
    );
    for f in files {
        assert!(
            dir.join(f).is_file(),
            "the handbook data are missing: {} not found (set FW_HANDBOOK_DIR to the folder holding it)",
            dir.join(f).display()
        );
    }
    dir
}

/// The real broker the tests use (`scripts/kafka-start.sh`).
pub fn kafka_url() -> String {
    std::env::var("FW_KAFKA_URL").unwrap_or_else(|_| "kafka://127.0.0.1:9092".into())
}

/// A topic-name prefix no other test run on the same broker uses: `fwtest-<name>-<pid>-<nanos>-`.
pub fn unique_prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!("fwtest-{name}-{}-{nanos}-", std::process::id())
}
