//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diagnostic::Format;
use crate::syntax::Mode;

#[derive(Debug, Parser)]
#[command(
    name = "archc",
    version,
    about = "Compile a Mermaid architecture diagram (in Markdown) into checked infrastructure"
)]
pub struct Arguments {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check a diagram; print diagnostics.
    Check(CheckArgs),
    /// Print the diagram's graph.
    Graph(GraphArgs),
    /// Compile the diagram: CloudFormation stacks, Kubernetes manifests, the CI workflow
    /// and a machine-readable plan.
    Compile(CompileArgs),
    /// Print what each diagram node becomes.
    Plan(PlanArgs),
    /// Compare two versions of a diagram: what the change does to the graph, the resources,
    /// the manifests and the workflow, with danger flags (a pull-request comment, or JSON).
    Diff(DiffArgs),
    /// Review the change of a diagram since a git revision (`archc diff` against the file as
    /// it is at `--base`).
    Review(ReviewArgs),
    /// Print a rule's documentation.
    Explain {
        /// A rule code (`NET001`) or name (`nat-gateway-in-private-subnet`).
        code: String,
    },
    /// List the rules.
    Rules {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// List the component kinds archc recognises.
    Kinds {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Developer tools (Mermaid conformance).
    #[command(hide = true)]
    Debug {
        #[command(subcommand)]
        command: DebugCommand,
    },
}

/// Which file and which diagram in it.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The Markdown file (or `.mmd` diagram); `-` reads standard input.
    pub file: PathBuf,
    /// Read the input as Markdown or as a bare Mermaid diagram (default: from the file name).
    #[arg(long, value_enum)]
    pub input: Option<InputFormat>,
    /// The diagram to use when the file has several: its number or its heading.
    #[arg(long)]
    pub diagram: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Markdown,
    Mermaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Markdown,
    Json,
}

/// Rule selection by code or prefix (`NET`, `NET002`); comma-separated or repeated.
#[derive(Debug, Args, Default)]
pub struct RuleArgs {
    /// Turn rules off.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,
    /// Report these rules as warnings.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub warn: Vec<String>,
    /// Report these rules as errors.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub error: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit with status 1 when there are warnings.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The output directory: created, or replaced as a whole when it holds an earlier
    /// output of archc and nothing else.
    #[arg(short, long, default_value = "out")]
    pub out: PathBuf,
    /// Replace an earlier output even where its files were edited since (never a directory
    /// archc did not write).
    #[arg(long)]
    pub force: bool,
    /// Also print node → resources.
    #[arg(long)]
    pub summary: bool,
    /// Write nothing: exit 1 with a short diff when DIR is not what compile would write now.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    /// A pull-request comment (GitHub Markdown, at most 65,536 characters).
    Markdown,
    /// Everything, for tools.
    Json,
}

/// How a review is printed and what its exit status says.
#[derive(Debug, Args)]
pub struct ReviewOutput {
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReviewFormat,
    /// Exit with status 1 when the infrastructure changes (as `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The diagram before the change.
    pub old: PathBuf,
    /// The diagram after the change.
    pub new: PathBuf,
    /// Read the inputs as Markdown or as bare Mermaid diagrams (default: from the file names).
    #[arg(long, value_enum)]
    pub input: Option<InputFormat>,
    /// The diagram to use when the files have several: its number or its heading.
    #[arg(long)]
    pub diagram: Option<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub output: ReviewOutput,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The diagram in the working tree.
    #[arg(default_value = "architecture.md")]
    pub file: PathBuf,
    /// The git revision to compare with (a branch, tag or commit; the pull request's base).
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    /// Read the input as Markdown or as a bare Mermaid diagram (default: from the file name).
    #[arg(long, value_enum)]
    pub input: Option<InputFormat>,
    /// The diagram to use when the file has several: its number or its heading.
    #[arg(long)]
    pub diagram: Option<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub output: ReviewOutput,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// archc's graph as JSON.
    Json,
    /// What Mermaid's FlowDB holds, in the JSON shape of tools/mermaid-oracle.
    MermaidJson,
    /// Graphviz.
    Dot,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value = "json")]
    pub format: GraphFormat,
    /// Also print FlowDB.getData() (mermaid-json only).
    #[arg(long)]
    pub layout: bool,
    /// `raw` hands the text to the grammar without Mermaid's preprocessing.
    #[arg(long, value_enum, default_value = "full")]
    pub mode: Mode,
}

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Read JSON Lines `{"id", "source"}` on stdin; print one oracle-format result per line.
    OracleJsonl {
        #[arg(long, value_enum, default_value = "full")]
        mode: Mode,
        #[arg(long)]
        layout: bool,
    },
}
