//! `archc diff OLD NEW` and `archc review [FILE] --base REF`: both sides compiled in memory,
//! compared, printed as a pull-request comment or JSON. Nothing is written.

use std::path::Path;
use std::process::Command;

use crate::analysis::{self, Options};
use crate::cli::{DiffArgs, InputFormat, ReviewArgs, ReviewFormat, ReviewOutput, RuleArgs};
use crate::review::{self, markdown, Side};
use crate::source::{InputKind, SourceFile};

use super::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

fn options(diagram: Option<&String>, rules: &RuleArgs) -> Options {
    Options {
        diagram: diagram.cloned(),
        ignore: rules.ignore.clone(),
        warn: rules.warn.clone(),
        error: rules.error.clone(),
        no_rules: false,
    }
}

fn kind(input: Option<InputFormat>, path: &Path) -> InputKind {
    match input {
        Some(InputFormat::Markdown) => InputKind::Markdown,
        Some(InputFormat::Mermaid) => InputKind::Mermaid,
        None => InputKind::from_path(path),
    }
}

fn read(path: &Path, kind: InputKind) -> Result<SourceFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(SourceFile::from_bytes(path.display().to_string(), bytes, kind))
}

fn print(old: &Side, new: &Side, output: &ReviewOutput) -> i32 {
    let review = review::review(old, new);
    match output.format {
        ReviewFormat::Markdown => print!("{}", markdown::render(&review)),
        ReviewFormat::Json => print!("{}", review.to_json()),
    }
    if output.exit_code && review.infrastructure_changed {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

/// `archc diff OLD NEW`
pub(crate) fn diff(args: &DiffArgs) -> i32 {
    let options = options(args.diagram.as_ref(), &args.rules);
    let mut sides = Vec::new();
    for path in [&args.old, &args.new] {
        let file = match read(path, kind(args.input, path)) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_FAILURE;
            }
        };
        sides.push(Side::compile(file, analysis::config_file_for(path), &options));
    }
    print(&sides[0], &sides[1], &args.output)
}

/// `archc review [FILE] --base REF`
pub(crate) fn review(args: &ReviewArgs) -> i32 {
    let options = options(args.diagram.as_ref(), &args.rules);
    let kind = kind(args.input, &args.file);
    let new = match read(&args.file, kind) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILURE;
        }
    };
    let base = match Base::open(&args.file, &args.base) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILURE;
        }
    };
    let old_name = format!("{}:{}", args.base, args.file.display());
    let old = match base.show(file_name(&args.file)) {
        Ok(Some(bytes)) => {
            let config = match base.show("archc.yaml") {
                Ok(c) => c.map(|b| {
                    let path = args.file.parent().unwrap_or(Path::new("")).join("archc.yaml");
                    SourceFile::from_bytes(format!("{}:{}", args.base, path.display()), b, InputKind::Markdown)
                }),
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_FAILURE;
                }
            };
            Side::compile(SourceFile::from_bytes(old_name, bytes, kind), config, &options)
        }
        Ok(None) => Side::absent(old_name),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILURE;
        }
    };
    let new = Side::compile(new, analysis::config_file_for(&args.file), &options);
    print(&old, &new, &args.output)
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

/// A git revision, and the directory whose files are read at it.
struct Base {
    dir: std::path::PathBuf,
    rev: String,
}

impl Base {
    /// `rev` must name a commit of the repository that holds `file`.
    fn open(file: &Path, rev: &str) -> Result<Base, String> {
        if rev.is_empty() || rev.starts_with('-') || rev.contains(':') {
            return Err(format!("`--base {rev}` is not a git revision"));
        }
        let dir = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let base = Base { dir, rev: rev.to_string() };
        let out = base.git(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])?;
        if !out.status.success() {
            let inside = base.git(&["rev-parse", "--is-inside-work-tree"])?;
            if !inside.status.success() {
                return Err(format!("`{}` is not in a git repository: use `archc diff OLD NEW`", base.dir.display()));
            }
            return Err(format!("`{rev}` names no commit of the git repository at `{}`", base.dir.display()));
        }
        Ok(base)
    }

    fn git(&self, args: &[&str]) -> Result<std::process::Output, String> {
        Command::new("git").arg("-C").arg(&self.dir).args(args).output().map_err(|e| format!("cannot run git: {e}"))
    }

    /// The file `name` of the directory at the revision, `None` when it has none.
    fn show(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        if name.is_empty() {
            return Ok(None);
        }
        let object = format!("{}:./{name}", self.rev);
        let exists = self.git(&["cat-file", "-e", &object])?;
        if !exists.status.success() {
            return Ok(None);
        }
        let out = self.git(&["cat-file", "blob", &object])?;
        if !out.status.success() {
            return Err(format!("git cannot read `{object}`: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Some(out.stdout))
    }
}
