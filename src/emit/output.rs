//! Writing the output directory: archc replaces a directory only when it is archc's own.
//!
//! Every output carries a manifest, [`MANIFEST`], listing each file archc wrote with its
//! SHA-256 (the format of `sha256sum`, so `sha256sum -c .archc-output` checks it). A directory
//! is replaced only when it is absent, empty, or an earlier output: it has the manifest and
//! holds nothing the manifest does not list. Anything else (a foreign file, a `.git`, the
//! input file, the current directory or one of its parents, the home directory, `/`) is
//! refused before anything is touched. A listed file whose content changed is someone's
//! edit: it is replaced only with `--force`.
//!
//! The replacement itself is atomic: everything is written to a temporary directory beside
//! the target, which then takes its place, so an error never leaves half an output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

/// The manifest file at the root of every output directory.
pub const MANIFEST: &str = ".archc-output";

const MANIFEST_HEADER: &str = "\
# archc output: every file archc wrote here, with its SHA-256 (`sha256sum -c .archc-output`).
# archc replaces this directory as a whole on the next compile, and refuses to when it holds
# anything this list does not name, or (without --force) when a file listed here was edited.
";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write `{path}`: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("`{0}` exists and is not a directory")]
    NotADirectory(PathBuf),
    /// The directory is not archc's to replace.
    #[error("refusing to replace `{path}`: {reason}")]
    Refused { path: PathBuf, reason: String, help: String },
}

impl OutputError {
    /// What to do about it, when there is something to say.
    pub fn help(&self) -> Option<&str> {
        match self {
            OutputError::Refused { help, .. } => Some(help),
            _ => None,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_path_buf(), source }
}

/// What a write may assume about its surroundings.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The input file: the output may not contain it.
    pub input: Option<PathBuf>,
    /// Replace an earlier output even when a listed file was edited.
    pub force: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The manifest of `files` (relative paths → contents).
pub fn manifest(files: &BTreeMap<String, String>) -> String {
    let mut s = String::from(MANIFEST_HEADER);
    for (path, content) in files {
        s.push_str(&format!("{}  {path}\n", sha256(content.as_bytes())));
    }
    s
}

/// The files a manifest lists, with their hashes; `None` when it is not a manifest.
fn parse_manifest(text: &str) -> Option<BTreeMap<String, String>> {
    if !text.starts_with("# archc output") {
        return None;
    }
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (hash, path) = line.split_once("  ")?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || !is_relative_inside(path) {
            return None;
        }
        out.insert(path.to_string(), hash.to_string());
    }
    Some(out)
}

/// A relative path that stays inside its directory (no `..`, no root).
fn is_relative_inside(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// `path` made absolute and normalised (`.` and `..` resolved, symbolic links of the part
/// that exists resolved), without requiring it to exist.
fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other.as_os_str()),
        }
    }
    // resolve symbolic links in the longest existing prefix
    let mut existing = normal.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.iter().rev() {
        out.push(name);
    }
    out
}

/// Every entry under `dir` (relative paths, `/`-separated): files (and other non-directories)
/// and directories apart.
fn walk(dir: &Path) -> Result<(BTreeSet<String>, BTreeSet<String>), OutputError> {
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = stack.pop() {
        for entry in std::fs::read_dir(&path).map_err(io(&path))? {
            let entry = entry.map_err(io(&path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            if kind.is_dir() {
                dirs.insert(child.clone());
                stack.push((entry.path(), child));
            } else {
                files.insert(child);
            }
        }
    }
    Ok((files, dirs))
}

fn refused(path: &Path, reason: impl Into<String>, help: impl Into<String>) -> OutputError {
    OutputError::Refused { path: path.to_path_buf(), reason: reason.into(), help: help.into() }
}

const CHOOSE_ANOTHER: &str = "choose a directory of its own for archc's output, such as `-o out/` beside the diagram";

/// Whether `out` may be replaced; nothing is written.
///
/// # Errors
/// [`OutputError::Refused`] with the reason when `out` is not archc's to replace.
pub fn check_target(out: &Path, options: &WriteOptions) -> Result<(), OutputError> {
    if out.as_os_str().is_empty() {
        return Err(refused(out, "the output directory is empty", CHOOSE_ANOTHER));
    }
    if std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refused(out, "it is a symbolic link", "give the real directory, or a new one"));
    }
    let target = resolve(out);
    if target.parent().is_none() {
        return Err(refused(out, "it is the root directory", CHOOSE_ANOTHER));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        if resolve(Path::new(&home)) == target {
            return Err(refused(out, "it is the home directory", CHOOSE_ANOTHER));
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        let cwd = resolve(&cwd);
        if cwd == target {
            return Err(refused(out, "it is the current directory", CHOOSE_ANOTHER));
        }
        if cwd.starts_with(&target) {
            return Err(refused(out, "it contains the current directory", CHOOSE_ANOTHER));
        }
    }
    if let Some(input) = &options.input {
        let input = resolve(input);
        if input.starts_with(&target) {
            return Err(refused(
                out,
                format!("it contains the input file `{}`", input.display()),
                "archc's output never holds its own input: write it to a directory of its own",
            ));
        }
    }
    let Ok(meta) = std::fs::metadata(out) else { return Ok(()) };
    if !meta.is_dir() {
        return Err(OutputError::NotADirectory(out.to_path_buf()));
    }
    let (files, dirs) = walk(out)?;
    if files.is_empty() && dirs.is_empty() {
        return Ok(());
    }
    let listed = match std::fs::read_to_string(out.join(MANIFEST)).ok().as_deref().and_then(parse_manifest) {
        Some(listed) => listed,
        None => {
            let what = if dirs.contains(".git") || files.contains(".git") {
                "it is a git checkout (it has `.git`)".to_string()
            } else {
                format!("it is not empty and archc did not write it (no `{MANIFEST}`)")
            };
            return Err(refused(out, what, CHOOSE_ANOTHER));
        }
    };
    let foreign: Vec<&String> = files.iter().filter(|f| *f != MANIFEST && !listed.contains_key(*f)).collect();
    let stray_dirs: Vec<&String> =
        dirs.iter().filter(|d| !listed.keys().any(|f| f.starts_with(&format!("{d}/")))).collect();
    if !foreign.is_empty() || !stray_dirs.is_empty() {
        let mut names: Vec<String> = foreign.iter().map(|f| format!("`{f}`")).collect();
        names.extend(stray_dirs.iter().map(|d| format!("`{d}/`")));
        let shown = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        let more = if names.len() > 5 { format!(" and {} more", names.len() - 5) } else { String::new() };
        return Err(refused(
            out,
            format!("it holds files archc did not write: {shown}{more}"),
            "move them out of the directory (archc replaces it as a whole), or choose another output directory",
        ));
    }
    if !options.force {
        let mut edited = Vec::new();
        for (file, hash) in &listed {
            let path = out.join(file);
            if let Ok(bytes) = std::fs::read(&path) {
                if sha256(&bytes) != *hash {
                    edited.push(format!("`{file}`"));
                }
            }
        }
        if !edited.is_empty() {
            let more = if edited.len() > 5 { format!(" and {} more", edited.len() - 5) } else { String::new() };
            return Err(refused(
                out,
                format!("files archc wrote were edited since: {}{more}", edited[..edited.len().min(5)].join(", ")),
                "copy your edits elsewhere (the diagram and its configuration are the source), or pass `--force` to replace them",
            ));
        }
    }
    Ok(())
}

/// Write `files` (relative paths → contents) and their manifest as the directory `out`,
/// replacing an earlier output.
///
/// # Errors
/// `out` is not archc's to replace ([`check_target`]), or an I/O failure; `out` is then left
/// as it was.
pub fn write_atomically(
    out: &Path,
    files: &BTreeMap<String, String>,
    options: &WriteOptions,
) -> Result<(), OutputError> {
    check_target(out, options)?;
    if let Some(bad) = files.keys().find(|p| !is_relative_inside(p) || p.as_str() == MANIFEST) {
        return Err(refused(
            out,
            format!("archc would write `{bad}`, which is not a path inside it"),
            "this is a bug in archc",
        ));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = out.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(".{name}.archc-{}", std::process::id()));
    let old = parent.join(format!(".{name}.archc-old-{}", std::process::id()));
    let result = (|| {
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        for (rel, content) in files {
            let path = tmp.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            std::fs::write(&path, content).map_err(io(&path))?;
        }
        std::fs::write(tmp.join(MANIFEST), manifest(files)).map_err(io(&tmp.join(MANIFEST)))?;
        let existed = out.exists();
        if existed {
            std::fs::rename(out, &old).map_err(io(out))?;
        }
        if let Err(e) = std::fs::rename(&tmp, out) {
            // put the previous output back
            if existed {
                let _ = std::fs::rename(&old, out);
            }
            return Err(io(out)(e));
        }
        if existed {
            // the previous output: checked above to hold only what archc wrote
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    })();
    if result.is_err() && tmp.exists() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips() {
        let files: BTreeMap<String, String> =
            [("a.yaml".to_string(), "x\n".to_string()), ("k/b.yaml".to_string(), String::new())].into();
        let text = manifest(&files);
        let parsed = parse_manifest(&text).expect("manifest");
        assert_eq!(parsed.keys().collect::<Vec<_>>(), ["a.yaml", "k/b.yaml"]);
        assert_eq!(parsed["k/b.yaml"], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn a_manifest_cannot_name_paths_outside() {
        let bad = format!("{MANIFEST_HEADER}{}  ../x\n", "0".repeat(64));
        assert!(parse_manifest(&bad).is_none());
        assert!(parse_manifest("hello").is_none());
    }

    #[test]
    fn resolve_normalises_without_existing() {
        let r = resolve(Path::new("/nonexistent-archc/a/../b/./c"));
        assert_eq!(r, PathBuf::from("/nonexistent-archc/b/c"));
    }
}
