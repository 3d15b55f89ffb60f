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
    /// Deploy the diagram to AWS: the CloudFormation stacks in dependency order (change sets,
    /// shown and confirmed), then the cluster side (Load Balancer Controller, manifests).
    Deploy(DeployArgs),
    /// Delete what `archc deploy` made, in reverse order; lists what is retained.
    Destroy(DestroyArgs),
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

/// Where AWS and the cluster are, for `deploy` and `destroy`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The AWS region (default: the diagram's; a stack with its own region keeps it).
    #[arg(long)]
    pub region: Option<String>,
    /// The AWS profile (default: the standard chain: environment, AWS_PROFILE, SSO, role).
    #[arg(long)]
    pub profile: Option<String>,
    /// Another AWS endpoint for every service (an emulator such as moto).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Stack names start with NAME instead of the project's name (`NAME-network`, ...).
    #[arg(long, value_name = "NAME")]
    pub stack_prefix: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Progress as human lines (spinners on a terminal) or JSON lines on standard output.
    #[arg(long, value_enum, default_value = "human")]
    pub output: DeployOutput,
    /// The cluster's API server, when it is reached another way than through the SSM access
    /// instance or the public endpoint (a VPN, your own tunnel); also `ARCHC_KUBE_API`.
    #[arg(long, value_name = "URL")]
    pub kube_api: Option<String>,
    /// Only the CloudFormation stacks: nothing in the cluster.
    #[arg(long)]
    pub stacks_only: bool,
    /// Seconds between two polls (CloudFormation, the cluster).
    #[arg(long, hide = true, value_name = "SECONDS")]
    pub poll: Option<f64>,
    /// Longest wait for one stack operation, in seconds (default 3600).
    #[arg(long, value_name = "SECONDS")]
    pub stack_timeout: Option<u64>,
    /// Longest wait for each cluster step (controller, claim, rollout, load balancer), in
    /// seconds (default 600).
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeployOutput {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeployMethod {
    /// Change sets: the changes are shown (and confirmed) before they run.
    ChangeSet,
    /// CreateStack / UpdateStack: fast loops and emulators.
    Direct,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Show every stack's changes and execute nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value = "change-set")]
    pub method: DeployMethod,
    /// A stack parameter nothing else gives (`ci.GitHubOrg=acme`); `NAME=VALUE` for every
    /// stack that has it. Repeatable.
    #[arg(long = "parameter", value_name = "[STACK.]NAME=VALUE")]
    pub parameters: Vec<String>,
    /// A deploy-time value of the manifests (`Domain=chat.example.com`,
    /// `CertificateArn=arn:...`). Repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// The image tag to run (default: the newest image in the ECR repository).
    #[arg(long)]
    pub image_tag: Option<String>,
    /// The AWS Load Balancer Controller's Helm chart version.
    #[arg(long, value_name = "VERSION")]
    pub lbc_chart_version: Option<String>,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub target: TargetArgs,
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
