//! Codes of the diagnostics the front end produces (`SYN`). Rule codes live with the rules.

/// A front-end diagnostic code with its name and documentation.
#[derive(Debug, Clone, Copy)]
pub struct SyntaxCode {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
}

macro_rules! syntax_codes {
    ($($ident:ident = $code:literal, $name:literal, $summary:literal;)*) => {
        $(pub const $ident: &str = $code;)*
        /// Every front-end code, in order.
        pub const SYNTAX_CODES: &[SyntaxCode] = &[$(SyntaxCode { code: $code, name: $name, summary: $summary }),*];
    };
}

syntax_codes! {
    INVALID_UTF8 = "SYN001", "invalid-utf8", "the input file is not valid UTF-8";
    SYNTAX_ERROR = "SYN002", "syntax-error", "the diagram is not valid Mermaid flowchart syntax";
    NO_DIAGRAM = "SYN003", "no-diagram", "the Markdown file has no ```mermaid flowchart block";
    AMBIGUOUS_DIAGRAM = "SYN004", "ambiguous-diagram", "several flowcharts and no `--diagram` to choose one";
    NOT_A_FLOWCHART = "SYN005", "not-a-flowchart", "the diagram is another Mermaid diagram type";
    UNKNOWN_SHAPE = "SYN006", "unknown-shape", "`@{ shape: ... }` names a shape Mermaid does not have";
    INVALID_SHAPE_DATA = "SYN007", "invalid-shape-data", "the YAML inside `@{ ... }` does not parse";
    LINK_STYLE_OUT_OF_RANGE = "SYN008", "link-style-out-of-range", "`linkStyle` names an edge that does not exist";
    SUBGRAPH_WITHOUT_ID = "SYN009", "subgraph-without-id", "a bare `subgraph` line, which Mermaid cannot draw";
    INVALID_FRONT_MATTER = "SYN010", "invalid-front-matter", "the `---` front-matter is not valid YAML";
    INVALID_DIRECTIVE = "SYN011", "invalid-directive", "a `%%{init: ...}%%` directive is not valid JSON (Mermaid ignores it)";
    UNKNOWN_DIAGRAM = "SYN012", "unknown-diagram", "`--diagram` names no diagram of the file";
    UNKNOWN_CONFIG_KEY = "CFG001", "unknown-config-key", "a configuration key archc does not know";
    INVALID_CONFIG = "CFG002", "invalid-config", "a configuration value of the wrong type or out of range";
    CONFIG_NAMES_UNKNOWN_NODE = "CFG003", "config-names-unknown-node", "`nodes:` configures a node the diagram does not have";
    UNKNOWN_KIND = "CFG004", "unknown-kind", "`kind:` names a kind archc does not have";
    UNKNOWN_RULE_CODE = "CFG005", "unknown-rule-code", "`rules:` or an `archc: ignore` comment names no rule code or prefix";
    PLAN_NO_REGION = "PLN001", "no-region", "neither the diagram nor the configuration names an AWS region (the stacks deploy to the region a deploy is given)";
    PLAN_NO_IMAGE = "PLN002", "no-image", "a workload without an application profile and without `app.image`";
    PLAN_UNSUPPORTED = "PLN003", "unsupported-component", "a component archc recognises but does not build: it is not in the output";
    PLAN_ARROW_NOT_BUILT = "PLN004", "arrow-not-built", "an arrow whose meaning nothing in the output expresses";
    PLAN_UNUSED = "PLN005", "unused-component", "a component archc builds (and AWS bills) although nothing in the diagram uses it";
    PLAN_VERSION_SUPPORT = "PLN006", "version-support", "a version past, or within 60 days of, the end of its standard support (extended-support prices, no more fixes)";
    PLAN_ASSUMED = "PLN007", "assumed-settings", "a workload setting neither `nodes.<id>:` nor `app:` gives: what archc assumed, or (a CronJob's schedule) could not";
    PLAN_LABEL_FACT = "PLN008", "label-fact", "a fact written in a label (a subnet's range, a setting) that archc cannot honour, or that the configuration contradicts";
    PLAN_ROTATION = "PLN009", "rotation-read-at-start", "a credential its owner rotates that a consumer reads only when it starts: after a rotation the consumer fails until it restarts, which archc makes happen";
    EDGE_WITHOUT_PERMISSION = "IAM001", "edge-without-permission", "an arrow that asks for an AWS permission archc cannot express";
}
