//! The review as a pull-request comment: the summary first (counts per stack, danger flags,
//! findings), then the picture, then the details folded in `<details>` blocks. The whole comment
//! fits in GitHub's limit of 65,536 characters (counted here in bytes, which is stricter): the
//! summary is bounded by construction and always complete; the picture is left out and the details
//! are cut, each with a visible note, when they do not fit.

use std::fmt::Write as _;

use super::danger::Level;
use super::files::FileKind;
use super::graph::{Change, EdgeChange, NodeChange};
use super::picture::Mode;
use super::resources::{Action, StackStatus};
use super::text::{cell, code, code_value, truncate, value};
use super::Review;

/// GitHub's limit for an issue or pull-request comment.
pub const LIMIT: usize = 65_536;
/// Room kept for the note that says what was cut.
const RESERVE: usize = 600;
/// Danger flags listed in the summary; the rest are counted and listed in the details.
const SUMMARY_FLAGS: usize = 12;
/// Lines of one diff, properties of one resource, fields of one object shown.
const DIFF_LINES: usize = 120;
const PROPERTIES: usize = 25;

/// The comment's first line: finds the comment again (one per architecture file).
pub fn marker(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._/ -".contains(c) {
                c.to_string()
            } else {
                let mut buf = [0; 4];
                c.encode_utf8(&mut buf).bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect();
    while safe.contains("--") {
        safe = safe.replace("--", "-%2D");
    }
    format!("<!-- archc-review: {safe} -->")
}

/// The comment, within [`LIMIT`].
pub fn render(review: &Review) -> String {
    render_within(review, LIMIT)
}

/// The comment within `limit` bytes (the summary is never cut).
pub fn render_within(review: &Review, limit: usize) -> String {
    let mut out = summary(review);
    let mut cut_sections = 0;
    let mut cut_items = 0;

    let picture = picture(review);
    if !picture.is_empty() {
        if out.len() + picture.len() + RESERVE <= limit {
            out.push_str(&picture);
        } else {
            out.push_str("\n_The picture is left out: it does not fit in the comment._\n");
        }
    }

    for section in sections(review) {
        if cut_sections > 0 {
            cut_sections += 1;
            cut_items += section.items.len();
            continue;
        }
        let full = section.render(section.items.len(), 0);
        if out.len() + full.len() + RESERVE <= limit {
            out.push_str(&full);
            continue;
        }
        // as many items as fit, with a note
        let mut shown = section.items.len();
        let mut partial = None;
        while shown > 0 {
            shown = shown.saturating_sub((shown / 4).max(1));
            let text = section.render(shown, section.items.len() - shown);
            if out.len() + text.len() + RESERVE <= limit {
                partial = Some(text);
                break;
            }
        }
        match partial {
            Some(text) if shown > 0 => {
                out.push_str(&text);
                cut_items += section.items.len() - shown;
            }
            _ => {
                cut_items += section.items.len();
            }
        }
        cut_sections += 1;
    }
    if cut_sections > 0 || cut_items > 0 {
        let _ = write!(
            out,
            "\n> [!NOTE]\n> **Cut to fit GitHub's comment limit** ({} characters): {cut_items} detail lines not shown{}. \
             Run `archc review --format json` (or `archc diff OLD NEW --format json`) for the whole review.\n",
            group(LIMIT),
            if cut_sections > 1 { format!(" in {cut_sections} sections") } else { String::new() },
        );
    }
    out
}

fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn title(review: &Review) -> String {
    if review.old.name == review.new.name {
        code(&review.new.name)
    } else {
        format!("{} → {}", code(&review.old.name), code(&review.new.name))
    }
}

fn side_state(label: &str, side: &super::SideInfo) -> Option<String> {
    if !side.present {
        return Some(format!("The {label} side has no such file: it compiles to nothing."));
    }
    if !side.parses {
        return Some(format!(
            "⚠️ The {label} diagram does not parse ({}): no graph and no resource diff are available for it.",
            plural(side.errors, "error", "errors")
        ));
    }
    (!side.compiles).then(|| {
        format!(
            "⚠️ The {label} diagram does not compile ({}): **no resource diff is available** for it; the diagram and the findings below show what changed.",
            plural(side.errors, "error", "errors")
        )
    })
}

fn summary(review: &Review) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", marker(&review.new.name));
    let _ = writeln!(out, "## archc review: {}\n", title(review));

    // headline
    let g = &review.graph;
    if review.basis == super::Basis::Text {
        if review.infrastructure_changed {
            out.push_str(
                "**Cannot tell what the change does:** a side does not parse, so there is no graph to compare.\n",
            );
        } else {
            out.push_str("**No change:** both sides read the same (and do not parse).\n");
        }
    } else if !review.infrastructure_changed {
        out.push_str("**No infrastructure change.**");
        let cosmetic = g.node_counts.cosmetic + g.edge_counts.cosmetic;
        if cosmetic > 0 {
            let _ = write!(
                out,
                " The drawing changed only in how it looks ({} relabelled or restyled).",
                plural(cosmetic, "element", "elements")
            );
        }
        if !review.old.has_output() || !review.new.has_output() {
            out.push_str(" (Judged from the diagram: a side does not compile.)");
        }
        out.push('\n');
    } else if let Some(stacks) = &review.stacks {
        let (mut added, mut changed, mut replaced, mut removed) = (0, 0, 0, 0);
        for s in stacks {
            added += s.counts.added;
            changed += s.counts.changed;
            replaced += s.counts.replaced;
            removed += s.counts.removed;
        }
        let mut parts = Vec::new();
        for (n, what) in
            [(added, "added"), (replaced, "replaced"), (changed - replaced, "updated"), (removed, "removed")]
        {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let mut line = String::from("**Infrastructure changes:**");
        if !parts.is_empty() {
            let _ = write!(line, " resources {}", parts.join(", "));
        }
        if let Some(f) = &review.files {
            if !f.objects.is_empty() {
                let sep = if parts.is_empty() { " " } else { "; " };
                let _ =
                    write!(line, "{sep}{} changed", plural(f.objects.len(), "Kubernetes object", "Kubernetes objects"));
            }
            for (kinds, one, many) in [
                (&[FileKind::Workflow][..], "workflow", "workflows"),
                (
                    &[FileKind::Helm, FileKind::Other][..],
                    "other emitted file (Helm values, Dockerfile)",
                    "other emitted files (Helm values, Dockerfile)",
                ),
            ] {
                let n = f.files.iter().filter(|x| kinds.contains(&x.kind)).count();
                if n > 0 {
                    let sep = if line.ends_with(':') { " " } else { "; " };
                    let _ = write!(line, "{sep}{} changed", plural(n, one, many));
                }
            }
        }
        let _ = writeln!(out, "{line}.");
    } else {
        let _ = writeln!(
            out,
            "**The architecture changes** (from the diagram: {} and {} added, changed or removed).",
            plural(g.node_counts.semantic(), "box", "boxes"),
            plural(g.edge_counts.semantic(), "arrow", "arrows")
        );
    }
    for (label, side) in [("old", &review.old), ("new", &review.new)] {
        if let Some(s) = side_state(label, side) {
            let _ = writeln!(out, "\n{s}");
        }
    }
    for (label, f) in review.blocking.iter().take(3) {
        let at = f.line.map_or(String::new(), |l| format!(", line {l}"));
        let _ = writeln!(out, "- {} ({label} diagram{at}): {}", code(&f.code), cell(&truncate(&f.message, 200)));
    }
    if review.blocking.len() > 3 {
        let _ = writeln!(
            out,
            "- … and {} more (listed under “Errors that keep a side from compiling” below).",
            review.blocking.len() - 3
        );
    }

    // counts
    out.push_str("\n| | added | changed | removed |\n|---|--:|--:|--:|\n");
    if g.available {
        let _ = writeln!(
            out,
            "| diagram boxes | {} | {} | {} |",
            g.node_counts.added, g.node_counts.changed, g.node_counts.removed
        );
        let _ = writeln!(
            out,
            "| diagram arrows | {} | {} | {} |",
            g.edge_counts.added, g.edge_counts.changed, g.edge_counts.removed
        );
    } else {
        out.push_str("| diagram | n/a | n/a | n/a |\n");
    }
    match &review.stacks {
        Some(stacks) => {
            for s in stacks {
                let changed = if s.counts.replaced > 0 {
                    format!("{} ({} replaced)", s.counts.changed, s.counts.replaced)
                } else {
                    s.counts.changed.to_string()
                };
                let status = match s.status {
                    StackStatus::Added => " (new stack)",
                    StackStatus::Removed => " (stack removed)",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "| stack {}{status} resources | {} | {changed} | {} |",
                    code(&s.stack),
                    s.counts.added,
                    s.counts.removed
                );
            }
            if let Some(f) = &review.files {
                let count = |c: Change| f.objects.iter().filter(|o| o.change == c).count();
                let _ = writeln!(
                    out,
                    "| Kubernetes objects | {} | {} | {} |",
                    count(Change::Added),
                    count(Change::Changed),
                    count(Change::Removed)
                );
                let files = |c: Change, kinds: &[FileKind]| {
                    f.files.iter().filter(|x| x.change == c && kinds.contains(&x.kind)).count()
                };
                let wf = [FileKind::Workflow];
                let _ = writeln!(
                    out,
                    "| workflows | {} | {} | {} |",
                    files(Change::Added, &wf),
                    files(Change::Changed, &wf),
                    files(Change::Removed, &wf)
                );
            }
        }
        None => out.push_str("| resources | n/a | n/a | n/a |\n"),
    }

    // findings
    let fd = &review.findings;
    let _ = writeln!(
        out,
        "\n**Findings:** {} introduced, {} fixed · errors {} → {}, warnings {} → {}, infos {} → {}.",
        fd.introduced.len(),
        fd.fixed.len(),
        fd.old.errors,
        fd.new.errors,
        fd.old.warnings,
        fd.new.warnings,
        fd.old.infos,
        fd.new.infos
    );

    // danger flags
    if review.dangers.is_empty() {
        if review.infrastructure_changed {
            out.push_str("\nNo danger flags.\n");
        }
    } else {
        let _ = writeln!(out, "\n### Danger flags ({})\n", review.dangers.len());
        for d in review.dangers.iter().take(SUMMARY_FLAGS) {
            let _ = writeln!(out, "{}", flag_line(d));
        }
        if review.dangers.len() > SUMMARY_FLAGS {
            let _ = writeln!(
                out,
                "- … and {} more (listed under “All danger flags” below).",
                review.dangers.len() - SUMMARY_FLAGS
            );
        }
    }
    out
}

fn flag_line(d: &super::danger::Danger) -> String {
    let icon = match d.level {
        Level::Danger => "🔴",
        Level::Caution => "🟠",
    };
    let from = match d.source {
        super::danger::Source::Drawing => " _(from the diagram)_",
        _ => "",
    };
    format!("- {icon} **{}**: {}{from}", d.rule.title(), truncate(&cell(&d.message), 400))
}

fn picture(review: &Review) -> String {
    let p = &review.picture;
    match (p.mode, &p.mermaid) {
        (Mode::Full | Mode::Focused, Some(m)) => {
            let mut out = String::from("\n### Picture\n\n");
            out.push_str(
                "Added: green, prefixed `+`; removed: red, dashed, prefixed `−`; changed: yellow, prefixed `~`.",
            );
            if p.mode == Mode::Focused {
                let _ = write!(
                    out,
                    " Only what changed is drawn ({} and {} unchanged left out).",
                    plural(p.omitted_nodes, "box", "boxes"),
                    plural(p.omitted_edges, "arrow", "arrows")
                );
            }
            let _ = write!(out, "\n\n```mermaid\n{m}```\n");
            out
        }
        (Mode::Omitted, _) if review.graph.available && review.graph.is_semantic() => {
            "\n_No picture: the change is too large to draw (GitHub renders at most 50,000 characters of Mermaid)._\n"
                .into()
        }
        _ => String::new(),
    }
}

/// A folded block of the details: a summary line and items (Markdown, each complete).
struct Section {
    summary: String,
    items: Vec<String>,
}

impl Section {
    fn render(&self, shown: usize, cut: usize) -> String {
        let mut out = format!("\n<details><summary>{}</summary>\n\n", self.summary);
        for item in self.items.iter().take(shown) {
            out.push_str(item);
            if !item.ends_with('\n') {
                out.push('\n');
            }
        }
        if cut > 0 {
            let _ = writeln!(out, "\n_… {cut} more cut to fit the comment._");
        }
        out.push_str("\n</details>\n");
        out
    }
}

fn sections(review: &Review) -> Vec<Section> {
    let mut out = Vec::new();
    if review.dangers.len() > SUMMARY_FLAGS {
        out.push(Section {
            summary: format!("All danger flags ({})", review.dangers.len()),
            items: review.dangers.iter().map(flag_line).collect(),
        });
    }
    if !review.blocking.is_empty() {
        out.push(Section {
            summary: format!("Errors that keep a side from compiling ({})", review.blocking.len()),
            items: review
                .blocking
                .iter()
                .map(|(side, f)| {
                    let at = f.line.map_or(String::new(), |l| format!(", line {l}"));
                    format!("- {} ({side} diagram{at}): {}", code(&f.code), cell(&truncate(&f.message, 300)))
                })
                .collect(),
        });
    }
    if let Some(s) = diagram_section(review) {
        out.push(s);
    }
    for s in review.stacks.iter().flatten().filter(|s| s.is_changed()) {
        let mut parts = Vec::new();
        for (n, what) in [
            (s.counts.added, "added"),
            (s.counts.replaced, "replaced"),
            (s.counts.changed - s.counts.replaced, "updated"),
            (s.counts.removed, "removed"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if !s.parameters.is_empty() {
            parts.push(plural(s.parameters.len(), "parameter", "parameters"));
        }
        let mut items: Vec<String> = s.resources.iter().map(resource_item).collect();
        for p in &s.parameters {
            items.push(format!(
                "- parameter {}: {} → {}",
                code(&p.name),
                code_value(p.old.as_ref()),
                code_value(p.new.as_ref())
            ));
        }
        for o in &s.outputs_added {
            items.push(format!("- output {} added", code(o)));
        }
        for o in &s.outputs_removed {
            items.push(format!("- output {} removed", code(o)));
        }
        out.push(Section {
            summary: format!("Stack <code>{}</code> ({}): {}", cell(&s.stack), cell(&s.name), parts.join(", ")),
            items,
        });
    }
    if let Some(f) = &review.files {
        if !f.objects.is_empty() {
            let items = f
                .objects
                .iter()
                .map(|o| {
                    let mut item = format!("- **{}** {} ({})", o.change.as_str(), code(&o.title()), code(&o.file));
                    for c in o.fields.iter().take(PROPERTIES) {
                        let change = match (&c.because, &c.old, &c.new) {
                            (Some(b), None, None) => format!("new value at deploy time; because {}", cell(b)),
                            (_, old, new) => format!("{} → {}", code_value(old.as_ref()), code_value(new.as_ref())),
                        };
                        let _ = write!(item, "\n  - {}: {change}", code(&c.path));
                    }
                    if o.fields.len() > PROPERTIES {
                        let _ = write!(item, "\n  - … {} more fields", o.fields.len() - PROPERTIES);
                    }
                    item
                })
                .collect();
            out.push(Section { summary: format!("Kubernetes objects ({})", f.objects.len()), items });
        }
        let workflows: Vec<String> = f
            .files
            .iter()
            .filter(|x| x.kind == FileKind::Workflow)
            .map(|x| file_item(x.path.as_str(), x.change, x.diff.as_deref()))
            .collect();
        if !workflows.is_empty() {
            out.push(Section { summary: format!("Workflows ({})", workflows.len()), items: workflows });
        }
        let stack_changed = |path: &str| {
            review.stacks.iter().flatten().any(|s| s.is_changed() && path == format!("cloudformation/{}.yaml", s.stack))
        };
        let others: Vec<String> = f
            .files
            .iter()
            .filter(|x| x.kind != FileKind::Workflow)
            .map(|x| {
                let note = match x.kind {
                    FileKind::CloudFormation if stack_changed(&x.path) => " (its stack is above)",
                    FileKind::Kubernetes if f.objects.iter().any(|o| o.file == x.path) => " (its objects are above)",
                    FileKind::CloudFormation | FileKind::Kubernetes if x.change == Change::Changed => {
                        " (comments only)"
                    }
                    _ => "",
                };
                match (x.kind, &x.because) {
                    (_, Some(b)) => format!(
                        "- {} {}: new values at deploy time; because {}",
                        x.change.as_str(),
                        code(&x.path),
                        cell(b)
                    ),
                    (FileKind::Helm | FileKind::Other, None) => file_item(x.path.as_str(), x.change, x.diff.as_deref()),
                    _ => format!("- {} {}{note}", x.change.as_str(), code(&x.path)),
                }
            })
            .collect();
        if !others.is_empty() {
            out.push(Section { summary: format!("Emitted files ({})", others.len()), items: others });
        }
    }
    let fd = &review.findings;
    let finding = |f: &super::findings::Finding| {
        let at = f.line.map_or(String::new(), |l| format!(", line {l}"));
        format!("- {} {}{at}: {}", code(&f.code), f.severity.as_str(), cell(&truncate(&f.message, 300)))
    };
    if !fd.introduced.is_empty() {
        out.push(Section {
            summary: format!("Findings introduced ({})", fd.introduced.len()),
            items: fd.introduced.iter().map(finding).collect(),
        });
    }
    if !fd.fixed.is_empty() {
        out.push(Section {
            summary: format!("Findings fixed ({})", fd.fixed.len()),
            items: fd.fixed.iter().map(finding).collect(),
        });
    }
    out
}

fn diagram_section(review: &Review) -> Option<Section> {
    let g = &review.graph;
    if !g.available || (g.nodes.is_empty() && g.edges.is_empty()) {
        return None;
    }
    let mut items: Vec<String> = g.nodes.iter().map(node_item).collect();
    items.extend(g.edges.iter().map(edge_item));
    let cosmetic = g.node_counts.cosmetic + g.edge_counts.cosmetic;
    Some(Section {
        summary: format!(
            "Diagram: {} and {} added, changed or removed{}",
            plural(g.node_counts.semantic(), "box", "boxes"),
            plural(g.edge_counts.semantic(), "arrow", "arrows"),
            if cosmetic > 0 { format!("; {cosmetic} cosmetic") } else { String::new() }
        ),
        items,
    })
}

fn fields(out: &mut String, fields: &[super::graph::FieldChange]) {
    let shown: Vec<String> =
        fields.iter().map(|f| format!("{} {} → {}", f.field, code(&value(&f.old)), code(&value(&f.new)))).collect();
    let _ = write!(out, ": {}", cell(&shown.join("; ")));
}

fn node_item(n: &NodeChange) -> String {
    let Some(v) = n.view() else { return String::new() };
    let kind = v.kind.as_deref().unwrap_or("unknown kind");
    let mut out = format!("- **{}** box {} ({})", n.change.as_str(), code(&n.id), code(kind));
    match n.change {
        Change::Added | Change::Removed => {
            if let Some(p) = &v.parent {
                let _ = write!(out, " in {}", code(p));
            }
        }
        Change::Changed | Change::Cosmetic => fields(&mut out, &n.fields),
    }
    out
}

fn edge_item(e: &EdgeChange) -> String {
    let meaning = e.view().map_or("", |v| v.meaning.as_str());
    let mut out = format!("- **{}** arrow {} ({})", e.change.as_str(), code(&e.name()), code(meaning));
    if matches!(e.change, Change::Changed | Change::Cosmetic) {
        fields(&mut out, &e.fields);
    }
    out
}

fn resource_item(r: &super::resources::ResourceChange) -> String {
    let what = match (r.action, r.update) {
        (Action::Update, Some(u)) => format!("updated ({})", u.as_str()),
        (a, _) => a.as_str().to_string(),
    };
    let mut out = format!("- **{what}** {} {}", code(&r.logical), code(&r.ty));
    if let Some(node) = &r.node {
        let _ = write!(out, " (node {})", code(node));
    }
    if let Some(p) = &r.policy {
        let label = if r.action == Action::Remove { "DeletionPolicy" } else { "UpdateReplacePolicy" };
        let _ = write!(out, ", {label} {p}");
    }
    for p in r.properties.iter().take(PROPERTIES) {
        let change = match (&p.old, &p.new) {
            (None, None) => "new value at deploy time".to_string(),
            (old, new) => format!("{} → {}", code_value(old.as_ref()), code_value(new.as_ref())),
        };
        let _ = write!(out, "\n  - {}: {change} ({})", code(&p.path), p.update.as_str());
        if let Some(b) = &p.because {
            let _ = write!(out, "; because {}", cell(b));
        }
        if let Some(n) = &p.note {
            let _ = write!(out, "; note: {}", cell(&truncate(n, 200)));
        }
    }
    if r.properties.len() > PROPERTIES {
        let _ = write!(out, "\n  - … {} more properties", r.properties.len() - PROPERTIES);
    }
    out
}

fn file_item(path: &str, change: Change, diff: Option<&str>) -> String {
    let mut out = format!("- **{}** {}", change.as_str(), code(path));
    if let Some(d) = diff.filter(|d| !d.is_empty()) {
        let lines: Vec<&str> = d.lines().collect();
        let fence = if d.contains("```") { "~~~~" } else { "```" };
        let _ = write!(out, "\n\n{fence}diff\n");
        for l in lines.iter().take(DIFF_LINES) {
            out.push_str(l);
            out.push('\n');
        }
        let _ = writeln!(out, "{fence}");
        if lines.len() > DIFF_LINES {
            let _ = writeln!(out, "_… {} more diff lines._", lines.len() - DIFF_LINES);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_one_html_comment_whatever_the_file_name() {
        assert_eq!(marker("docs/architecture.md"), "<!-- archc-review: docs/architecture.md -->");
        let odd = marker("a--b-->c/é.md");
        assert_eq!(odd, "<!-- archc-review: a-%2Db-%2D%3Ec/%C3%A9.md -->");
        assert_eq!(odd.matches("--").count(), 2, "only the comment's own delimiters");
    }

    #[test]
    fn numbers_read_as_github_writes_them() {
        assert_eq!(group(65_536), "65,536");
        assert_eq!(group(536), "536");
        assert_eq!(plural(1, "box", "boxes"), "1 box");
        assert_eq!(plural(2, "box", "boxes"), "2 boxes");
    }
}
