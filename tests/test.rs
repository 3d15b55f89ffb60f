//! A small builder for running the `archc` binary (in the style of just's `Test`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The project root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/<rel>` when it exists, else the copy under `tests/conformance/<fallback>`.
pub(crate) fn shared_or_vendored(rel: &str, fallback: &str) -> PathBuf {
    let shared = root().join("..").join("shared").join(rel);
    if shared.exists() {
        shared
    } else {
        root().join("tests/conformance").join(fallback)
    }
}

/// A scratch directory for this test run, `<target>/tmp/archc-<pid>/<name>` (cargo's
/// `CARGO_TARGET_TMPDIR`, not the system's temporary folder). The first call removes the
/// directories of earlier runs whose process is gone, so nothing piles up.
pub(crate) fn scratch(name: &str) -> PathBuf {
    static BASE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("archc-").and_then(|p| p.parse::<u32>().ok()) else { continue };
            if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        tmp.join(format!("archc-{}", std::process::id()))
    });
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

#[must_use]
pub(crate) struct Test {
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

pub(crate) struct Run {
    pub(crate) status: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Test {
    /// A run of archc on the day its version data was read (`ARCHC_TODAY`), so that no test's
    /// outcome depends on the calendar (PLN006); `.env("ARCHC_TODAY", ..)` picks another day.
    pub(crate) fn new() -> Self {
        let env = vec![("ARCHC_TODAY".to_string(), "2026-12-04".to_string())];
        Self { args: Vec::new(), stdin: None, dir: root(), env }
    }

    /// Run in `dir` instead of the project root.
    pub(crate) fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    pub(crate) fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.env.push((key.to_string(), value.as_ref().to_string_lossy().into_owned()));
        self
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    #[track_caller]
    pub(crate) fn run(self) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_archc"));
        cmd.args(&self.args).current_dir(&self.dir).env("NO_COLOR", "1");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("archc starts");
        if let Some(bytes) = &self.stdin {
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(bytes).expect("write stdin");
        }
        let Output { status, stdout, stderr } = child.wait_with_output().expect("archc finishes");
        Run {
            status: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Run and expect `status`.
    #[track_caller]
    pub(crate) fn status(self, status: i32) -> Run {
        let run = self.run();
        assert_eq!(run.status, status, "exit status\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
        run
    }
}
