//! What a deploy tells the people watching it: stack events as they happen, a spinner per
//! stack on a terminal (indicatif), plain lines in CI, or JSON lines (`--output json`).
//!
//! Human output goes to standard error (the spinners draw there); JSON lines go to standard
//! output and nothing else does. Nothing secret ever reaches the reporter: callers pass
//! names, statuses and AWS's reasons, never a DSN, password or token.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use crate::plan::is_stateful;

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    #[default]
    Human,
    Json,
}

/// How confirmations are answered.
#[derive(Debug, Clone)]
pub enum Confirm {
    /// `--yes`.
    Yes,
    /// Ask on the terminal (refused when standard input is not one).
    Ask,
    /// Tests: the answers, in order.
    Scripted(Arc<Mutex<Vec<bool>>>),
    /// Tests: an operator who never answers.
    #[doc(hidden)]
    Never,
}

/// One CloudFormation stack event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub time: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

impl Event {
    pub fn is_failure(&self) -> bool {
        self.status.ends_with("_FAILED")
    }
}

/// One row of a change set (or of a template, for a stack that does not exist yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Add, Modify, Remove, Import, Dynamic.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// True, False, Conditional (Modify only).
    pub replacement: Option<String>,
}

impl Change {
    /// The warning this change deserves: a stateful resource replaced or deleted.
    pub fn warning(&self) -> Option<String> {
        if !is_stateful(&self.resource_type) {
            return None;
        }
        match (self.action.as_str(), self.replacement.as_deref()) {
            ("Remove", _) => Some(format!(
                "DELETES {} ({}): its data is lost unless the template's DeletionPolicy keeps it",
                self.logical_id, self.resource_type
            )),
            ("Modify", Some("True")) => Some(format!(
                "REPLACES {} ({}): a new one is created and the old one deleted with its data",
                self.logical_id, self.resource_type
            )),
            ("Modify", Some("Conditional")) => Some(format!(
                "may REPLACE {} ({}): depends on values known only during the update",
                self.logical_id, self.resource_type
            )),
            _ => None,
        }
    }
}

/// Where lines go: the process's streams, or a buffer (tests).
#[derive(Clone)]
pub enum Sink {
    Std,
    Buffer(Arc<Mutex<Vec<u8>>>),
}

pub struct Reporter {
    mode: OutputMode,
    multi: Option<MultiProgress>,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
    sink: Sink,
    confirm: Confirm,
    prompt: tokio::sync::Mutex<()>,
}

impl Reporter {
    /// The reporter for this process: spinners when standard error is a terminal and the
    /// output is human, plain lines otherwise (CI, pipes), JSON lines with `--output json`.
    pub fn new(mode: OutputMode, confirm: Confirm) -> Self {
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let multi =
            (mode == OutputMode::Human && tty).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            mode,
            multi,
            bars: Mutex::new(BTreeMap::new()),
            sink: Sink::Std,
            confirm,
            prompt: tokio::sync::Mutex::new(()),
        }
    }

    /// A reporter writing to a buffer (tests).
    pub fn buffer(mode: OutputMode, confirm: Confirm) -> (Self, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let r = Self {
            mode,
            multi: None,
            bars: Mutex::new(BTreeMap::new()),
            sink: Sink::Buffer(buf.clone()),
            confirm,
            prompt: tokio::sync::Mutex::new(()),
        };
        (r, buf)
    }

    pub fn mode(&self) -> OutputMode {
        self.mode
    }

    fn write_line(&self, line: &str) {
        match &self.sink {
            Sink::Buffer(b) => {
                if let Ok(mut b) = b.lock() {
                    b.extend_from_slice(line.as_bytes());
                    b.push(b'\n');
                }
            }
            Sink::Std => match (&self.multi, self.mode) {
                (Some(m), _) => {
                    let _ = m.println(line);
                }
                (None, OutputMode::Json) => {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                (None, OutputMode::Human) => {
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(err, "{line}");
                }
            },
        }
    }

    fn json(&self, value: Value) {
        if self.mode == OutputMode::Json {
            self.write_line(&value.to_string());
        }
    }

    fn human(&self, line: &str) {
        if self.mode == OutputMode::Human {
            self.write_line(line);
        }
    }

    /// A line of information (human), or `{"type": "info", ...}`.
    pub fn info(&self, stack: Option<&str>, message: &str) {
        match stack {
            Some(s) => self.human(&format!("[{s}] {message}")),
            None => self.human(message),
        }
        self.json(json!({"type": "info", "stack": stack, "message": message}));
    }

    /// A warning.
    pub fn warn(&self, stack: Option<&str>, message: &str) {
        match stack {
            Some(s) => self.human(&format!("[{s}] warning: {message}")),
            None => self.human(&format!("warning: {message}")),
        }
        self.json(json!({"type": "warning", "stack": stack, "message": message}));
    }

    /// The stacks, in the order they will be deployed (or destroyed).
    pub fn plan(&self, action: &str, stacks: &[(String, String, String)]) {
        let names: Vec<String> = stacks.iter().map(|(id, name, region)| format!("{name} ({id}, {region})")).collect();
        self.human(&format!("{action}: {}", names.join(" -> ")));
        self.json(json!({"type": "plan", "action": action, "stacks": stacks.iter().map(|(id, name, region)| json!({"stack": id, "name": name, "region": region})).collect::<Vec<_>>()}));
    }

    /// A stack operation starts: a spinner on a terminal.
    pub fn start(&self, stack: &str, name: &str, what: &str, resources: usize) {
        if let Some(m) = &self.multi {
            let bar = m.add(ProgressBar::new(resources as u64));
            let style = ProgressStyle::with_template("{spinner} {prefix:.bold} [{bar:20}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(name.to_string());
            bar.set_message(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            if let Ok(mut bars) = self.bars.lock() {
                bars.insert(stack.to_string(), bar);
            }
        }
        self.human(&format!("[{stack}] {name}: {what}"));
        self.json(json!({"type": "start", "stack": stack, "name": name, "operation": what}));
    }

    /// A stack event, as it happens.
    pub fn event(&self, stack: &str, e: &Event) {
        if let Ok(bars) = self.bars.lock() {
            if let Some(bar) = bars.get(stack) {
                if e.resource_type != "AWS::CloudFormation::Stack"
                    && (e.status.ends_with("_COMPLETE") && !e.status.contains("ROLLBACK"))
                {
                    bar.inc(1);
                }
                bar.set_message(format!("{} {}", e.logical_id, e.status));
            }
        }
        let reason = e.reason.as_deref().filter(|r| !r.is_empty()).map(|r| format!(": {r}")).unwrap_or_default();
        self.human(&format!(
            "[{stack}] {} {} {} {}{reason}",
            short_time(&e.time),
            e.logical_id,
            e.resource_type,
            e.status
        ));
        self.json(json!({"type": "event", "stack": stack, "time": e.time, "logical_id": e.logical_id, "resource_type": e.resource_type, "status": e.status, "reason": e.reason}));
    }

    /// A stack operation ended.
    pub fn finish(&self, stack: &str, ok: bool, message: &str) {
        if let Ok(mut bars) = self.bars.lock() {
            if let Some(bar) = bars.remove(stack) {
                bar.finish_and_clear();
            }
        }
        self.human(&format!("[{stack}] {} {message}", if ok { "ok:" } else { "FAILED:" }));
        self.json(json!({"type": "result", "stack": stack, "ok": ok, "message": message}));
    }

    /// The changes of a stack, as a table, with a warning for each stateful resource
    /// replaced or deleted.
    pub fn changes(&self, stack: &str, name: &str, heading: &str, changes: &[Change]) {
        if self.mode == OutputMode::Json {
            let rows: Vec<Value> = changes
                .iter()
                .map(|c| json!({"action": c.action, "logical_id": c.logical_id, "resource_type": c.resource_type, "physical_id": c.physical_id, "replacement": c.replacement, "warning": c.warning()}))
                .collect();
            self.json(json!({"type": "changes", "stack": stack, "name": name, "heading": heading, "changes": rows}));
            return;
        }
        self.human(&change_table(name, heading, changes));
    }

    /// Ask a yes/no question (one at a time; spinners pause meanwhile).
    ///
    /// # Errors
    /// No terminal to ask on and no `--yes`.
    pub async fn confirm(&self, question: &str) -> Result<bool, crate::Error> {
        let _one_at_a_time = self.prompt.lock().await;
        self.ask(question).await
    }

    /// A stack's changes and the question about them, together: with several stacks at once
    /// no other table comes between a table and its question.
    ///
    /// # Errors
    /// No terminal to ask on and no `--yes`.
    pub async fn review(
        &self,
        stack: &str,
        name: &str,
        heading: &str,
        changes: &[Change],
        question: &str,
    ) -> Result<bool, crate::Error> {
        let _one_at_a_time = self.prompt.lock().await;
        self.changes(stack, name, heading, changes);
        self.ask(question).await
    }

    async fn ask(&self, question: &str) -> Result<bool, crate::Error> {
        match &self.confirm {
            Confirm::Yes => Ok(true),
            Confirm::Never => std::future::pending().await,
            Confirm::Scripted(answers) => {
                let answer =
                    answers.lock().map(|mut a| if a.is_empty() { false } else { a.remove(0) }).unwrap_or(false);
                self.human(&format!("{question} [y/N] {}", if answer { "y" } else { "n" }));
                Ok(answer)
            }
            Confirm::Ask => {
                if !std::io::stdin().is_terminal() {
                    return Err(crate::Error::Declined(format!(
                        "{question}: standard input is not a terminal to ask on; re-run with --yes to confirm, or --dry-run to only look"
                    )));
                }
                let question = format!("{question} [y/N] ");
                let multi = self.multi.clone();
                let ask = move || {
                    let read = || {
                        let mut err = std::io::stderr();
                        let _ = write!(err, "{question}");
                        let _ = err.flush();
                        let mut line = String::new();
                        let _ = std::io::stdin().read_line(&mut line);
                        matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
                    };
                    match multi {
                        Some(m) => m.suspend(read),
                        None => read(),
                    }
                };
                tokio::task::spawn_blocking(ask).await.map_err(|e| crate::Error::Declined(format!("no answer: {e}")))
            }
        }
    }

    /// Free-form JSON record (cluster steps, the final summary).
    pub fn record(&self, value: Value, human: &str) {
        self.human(human);
        self.json(value);
    }

    /// Stop every spinner (Ctrl-C, the end).
    pub fn clear(&self) {
        if let Ok(mut bars) = self.bars.lock() {
            for (_, bar) in std::mem::take(&mut *bars) {
                bar.finish_and_clear();
            }
        }
    }
}

/// `2026-01-02T03:04:05.123Z` → `03:04:05`.
fn short_time(t: &str) -> &str {
    t.split('T').nth(1).map_or(t, |rest| rest.get(..8).unwrap_or(rest))
}

/// The change table of one stack.
pub fn change_table(name: &str, heading: &str, changes: &[Change]) -> String {
    let mut out = format!("Changes to {name} ({heading}):\n");
    if changes.is_empty() {
        out.push_str("  (no resource changes)\n");
        return out;
    }
    let header = ["action", "logical id", "type", "replacement"];
    let rows: Vec<[String; 4]> = changes
        .iter()
        .map(|c| {
            [
                c.action.clone(),
                c.logical_id.clone(),
                c.resource_type.clone(),
                c.replacement.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut s = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 3 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_string()
    };
    out.push_str(&line(header));
    out.push('\n');
    for (r, c) in rows.iter().zip(changes) {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3]]));
        out.push('\n');
        if let Some(w) = c.warning() {
            out.push_str(&format!("    !! WARNING: {w}\n"));
        }
    }
    let (add, modify, remove) = changes.iter().fold((0, 0, 0), |(a, m, r), c| match c.action.as_str() {
        "Add" => (a + 1, m, r),
        "Remove" => (a, m, r + 1),
        _ => (a, m + 1, r),
    });
    out.push_str(&format!("  {add} to add, {modify} to change, {remove} to remove\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, id: &str, ty: &str, replacement: Option<&str>) -> Change {
        Change {
            action: action.into(),
            logical_id: id.into(),
            resource_type: ty.into(),
            physical_id: None,
            replacement: replacement.map(str::to_string),
        }
    }

    #[test]
    fn the_table_warns_for_stateful_replacement_and_deletion_only() {
        let t = change_table(
            "demo-data",
            "update",
            &[
                change("Modify", "Rds", "AWS::RDS::DBInstance", Some("True")),
                change("Modify", "RdsSecurityGroup", "AWS::EC2::SecurityGroup", Some("True")),
                change("Remove", "Bucket", "AWS::S3::Bucket", None),
                change("Add", "Queue", "AWS::SQS::Queue", None),
            ],
        );
        assert!(t.contains("!! WARNING: REPLACES Rds (AWS::RDS::DBInstance)"), "{t}");
        assert!(t.contains("!! WARNING: DELETES Bucket (AWS::S3::Bucket)"), "{t}");
        assert!(!t.contains("REPLACES RdsSecurityGroup"), "a security group is not stateful: {t}");
        assert!(t.contains("1 to add, 2 to change, 1 to remove"), "{t}");
        let first = t.lines().nth(1).unwrap_or_default();
        assert_eq!(first, "  action  logical id        type                     replacement");
    }

    #[test]
    fn short_time_keeps_the_clock() {
        assert_eq!(short_time("2026-01-02T03:04:05.123Z"), "03:04:05");
        assert_eq!(short_time("now"), "now");
    }
}
