//! The semantic stage as one step: front end → configuration → typed graph → rules.

use std::path::Path;

use crate::config::{self, Config, ConfigSource};
use crate::diagnostic::{self, Diagnostic, Severity};
use crate::frontend::{self, Diagram};
use crate::model::{self, ArchGraph};
use crate::rules::{self, RuleContext, Selection, Suppression};
use crate::source::{InputKind, MappedText, SourceFile};
use crate::syntax::Mode;

/// How to analyse: which diagram, and rule selection from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub diagram: Option<String>,
    pub ignore: Vec<String>,
    pub warn: Vec<String>,
    pub error: Vec<String>,
    /// Skip rules (front end, configuration and model only).
    pub no_rules: bool,
}

/// Everything archc knows about an input.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The input file, then `archc.yaml` if there is one (diagnostics index into this).
    pub files: Vec<SourceFile>,
    pub diagram: Option<Diagram>,
    pub config: Config,
    pub graph: Option<ArchGraph>,
    pub diagnostics: Vec<Diagnostic>,
    /// Rule selection from the configuration and the command line (later stages apply it
    /// to their own findings).
    pub selection: Selection,
    /// The file's `archc: ignore` comments.
    pub suppressions: Vec<Suppression>,
}

impl Analysis {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count()
    }
}

/// `archc.yaml` beside `input`, when `input` is a file.
pub fn config_file_for(input: &Path) -> Option<SourceFile> {
    if input.as_os_str() == "-" {
        return None;
    }
    let path = input.parent().unwrap_or(Path::new(".")).join("archc.yaml");
    let bytes = std::fs::read(&path).ok()?;
    Some(SourceFile::from_bytes(path.display().to_string(), bytes, InputKind::Markdown))
}

/// Analyse `file` (and its `archc.yaml`, if given).
pub fn analyze(file: SourceFile, config_file: Option<SourceFile>, options: &Options) -> Analysis {
    let front = frontend::run(&file, options.diagram.as_deref(), Mode::Full);
    let mut analysis = Analysis { diagnostics: front.diagnostics, ..Analysis::default() };
    let Some(diagram) = front.diagram else {
        analysis.files.push(file);
        return analysis;
    };

    // configuration: archc.yaml < front-matter `archc:` < ```yaml archc blocks
    let yaml_text = config_file.as_ref().map(|f| MappedText::new(f.text.clone(), 0));
    let mut sources = Vec::new();
    if let Some(text) = &yaml_text {
        sources.push(ConfigSource { file: 1, text, key: None });
    }
    if let Some(fm) = &diagram.front_matter {
        sources.push(ConfigSource { file: 0, text: fm, key: Some("archc") });
    }
    for block in diagram.other_blocks.iter().filter(|b| b.is_archc_config()) {
        sources.push(ConfigSource { file: 0, text: &block.content, key: None });
    }
    let (config, config_diagnostics) = config::load(&sources);
    analysis.diagnostics.extend(config_diagnostics);

    let (graph, model_diagnostics) = model::build(&diagram, &file.text, &config);
    analysis.diagnostics.extend(model_diagnostics);

    let mut selection = Selection::default();
    selection
        .ignore(&config.rules.ignore)
        .set(&config.rules.warn, Severity::Warning)
        .set(&config.rules.error, Severity::Error);
    selection.ignore(&options.ignore).set(&options.warn, Severity::Warning).set(&options.error, Severity::Error);
    analysis.diagnostics.extend(unknown_config_codes(&config));
    let suppressions = rules::file_ignores(&file.text, diagram.block.as_ref().map(|b| &b.content), &graph.source);
    analysis.diagnostics.extend(rules::check_suppressions(&suppressions));
    if !options.no_rules {
        let ctx = RuleContext { graph: &graph, config: &config, catalog: model::catalog() };
        let mut found = rules::run(&ctx, &selection);
        rules::apply_file_ignores(&mut found, &suppressions);
        analysis.diagnostics.extend(found);
    }
    analysis.selection = selection;
    analysis.suppressions = suppressions;
    diagnostic::sort(&mut analysis.diagnostics);
    analysis.files.push(file);
    analysis.files.extend(config_file);
    analysis.config = config;
    analysis.graph = Some(graph);
    analysis.diagram = Some(diagram);
    analysis
}

/// `rules:` entries that name no rule: errors where they are written.
fn unknown_config_codes(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (list, codes) in
        [("ignore", &config.rules.ignore), ("warn", &config.rules.warn), ("error", &config.rules.error)]
    {
        for (i, code) in codes.iter().enumerate() {
            let Some(why) = rules::unknown_code(code) else { continue };
            let origin =
                config.origin(&format!("rules.{list}[{i}]")).or_else(|| config.origin(&format!("rules.{list}")));
            let mut d = Diagnostic::error(diagnostic::codes::UNKNOWN_RULE_CODE, why)
                .with_help("`archc rules` lists the codes; a prefix such as `NET` selects a family");
            if let Some(o) = origin {
                d = d.with_primary(o.span, "no such rule code").in_file(o.file);
            }
            out.push(d);
        }
    }
    out
}
