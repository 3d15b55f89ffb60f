//! The shape of archc's configuration: every key, its type and what it means.

/// What a configuration value may be.
#[derive(Debug)]
pub enum Ty {
    Str,
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    /// A string matching a regex; the text says what it should be.
    Pattern(&'static str, &'static str),
    List(&'static Ty),
    Map(&'static [Field]),
    /// `nodes:`: node ids (any) to per-node settings.
    Nodes(&'static Ty),
    /// Anything (kept as given).
    Any,
}

/// A key of a mapping.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
}

const CIDR: Ty = Ty::Pattern("an IPv4 CIDR such as `10.0.0.0/16`", r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2}$");
const CIDR_LIST: Ty = Ty::List(&CIDR);
const STR_LIST: Ty = Ty::List(&Ty::Str);
const CODES: Ty = Ty::List(&Ty::Pattern("a rule code or prefix such as `NET` or `NET002`", r"^[A-Z]{1,3}[0-9]{0,3}$"));

const EKS: &[Field] = &[
    Field {
        name: "version",
        ty: Ty::Pattern("a Kubernetes version such as `1.35`", r"^1\.\d{2}$"),
        doc: "EKS Kubernetes version",
    },
    Field { name: "public_access_cidrs", ty: CIDR_LIST, doc: "who may reach the public EKS API endpoint" },
    Field { name: "node_instance_types", ty: STR_LIST, doc: "EC2 instance types of the managed node group" },
    Field { name: "node_min", ty: Ty::Int { min: 1, max: 100 }, doc: "node group minimum size" },
    Field { name: "node_max", ty: Ty::Int { min: 1, max: 1000 }, doc: "node group maximum size" },
    Field { name: "node_desired", ty: Ty::Int { min: 1, max: 1000 }, doc: "node group desired size" },
    Field { name: "node_disk_gib", ty: Ty::Int { min: 20, max: 16384 }, doc: "root volume size of each node" },
];

const REVIEW: &[Field] = &[
    Field {
        name: "paths",
        ty: Ty::List(&Ty::Pattern(
            "a path or glob such as `**/architecture.md` (letters, digits, `_ . / * ? -`)",
            r"^[A-Za-z0-9_./*?-]+$",
        )),
        doc: "architecture files the pull-request review covers (default `**/architecture.md`)",
    },
    Field {
        name: "archc_repository",
        ty: Ty::Pattern(
            "an https git URL such as `https://github.com/OWNER/archc`",
            r"^https://[A-Za-z0-9._~:/@%+-]+$",
        ),
        doc: "the git repository the review workflow builds archc from",
    },
    Field {
        name: "archc_rev",
        ty: Ty::Pattern("a full 40-character commit SHA", r"^[0-9a-f]{40}$"),
        doc: "the archc commit the review workflow builds",
    },
];

const ROUTE53: &[Field] = &[Field {
    name: "hosted_zone_id",
    ty: Ty::Pattern("a Route 53 hosted zone id such as `Z0123456789ABCDEFGHIJ`", r"^Z[A-Z0-9]{1,32}$"),
    doc: "the public hosted zone of `domain`: DNS-validated certificates and alias records",
}];

const ALARMS: &[Field] = &[Field {
    name: "email",
    ty: Ty::Pattern("an email address such as `ops@example.com`", r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    doc: "subscribed to the CloudWatch alarm topic (confirm the subscription from the email AWS sends)",
}];

const GITHUB: &[Field] = &[
    Field {
        name: "repository",
        ty: Ty::Pattern("`owner/repository`", r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"),
        doc: "repository allowed to assume the deploy role",
    },
    Field { name: "branch", ty: Ty::Str, doc: "branch that deploys" },
    Field { name: "environment", ty: Ty::Str, doc: "protected GitHub environment of the deploy job" },
    Field {
        name: "oidc_provider",
        ty: Ty::Pattern(
            "`create`, `existing` or an OIDC provider ARN",
            r"^(create|existing|arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com)$",
        ),
        doc: "create the account's GitHub OIDC provider, or use the existing one",
    },
    Field { name: "review", ty: Ty::Map(REVIEW), doc: "the pull-request review workflow (archc-review)" },
];

const DATABASE: &[Field] = &[
    Field {
        name: "instance_class",
        ty: Ty::Pattern("an RDS instance class such as `db.t4g.medium`", r"^db\.[a-z0-9]+\.[a-z0-9]+$"),
        doc: "RDS instance class",
    },
    Field { name: "allocated_storage_gib", ty: Ty::Int { min: 20, max: 65536 }, doc: "RDS storage" },
    Field { name: "engine_version", ty: Ty::Str, doc: "pinned engine version" },
    Field { name: "name", ty: Ty::Pattern("a database name", r"^[A-Za-z][A-Za-z0-9_]{0,62}$"), doc: "database name" },
    Field {
        name: "username",
        ty: Ty::Pattern("a user name", r"^[A-Za-z][A-Za-z0-9_]{0,15}$"),
        doc: "master user name",
    },
    Field {
        name: "app_user",
        ty: Ty::Pattern("a lower-case PostgreSQL role name", r"^[a-z][a-z0-9_]{0,62}$"),
        doc: "the application's own database user (PostgreSQL; default: the application's name)",
    },
    Field { name: "backup_retention_days", ty: Ty::Int { min: 1, max: 35 }, doc: "automated backup retention" },
];

const CACHE: &[Field] = &[
    Field {
        name: "node_type",
        ty: Ty::Pattern("a cache node type such as `cache.t4g.small`", r"^cache\.[a-z0-9]+\.[a-z0-9]+$"),
        doc: "ElastiCache node type",
    },
    Field {
        name: "transit_encryption",
        ty: Ty::Enum(&["required", "preferred"]),
        doc: "ElastiCache in-transit encryption mode",
    },
    Field {
        name: "build",
        ty: Ty::Bool,
        doc: "build a cache even when nothing drawn to it can use it (default: not built, an info says why)",
    },
];

const SMTP: &[Field] = &[
    Field {
        name: "host",
        ty: Ty::Pattern(
            "a DNS name such as `email-smtp.eu-north-1.amazonaws.com`",
            r"^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$",
        ),
        doc: "the mail server the application sends through (e.g. Amazon SES's SMTP endpoint)",
    },
    Field {
        name: "port",
        ty: Ty::Int { min: 1, max: 65535 },
        doc: "its port (default: the application profile's, 587 with STARTTLS; 465 and 2465 mean TLS)",
    },
];

const APP: &[Field] = &[
    Field {
        name: "edition",
        ty: Ty::Enum(&["team", "enterprise"]),
        doc: "application edition (Mattermost: team or enterprise)",
    },
    Field { name: "version", ty: Ty::Str, doc: "application version (image tag)" },
    Field { name: "replicas", ty: Ty::Int { min: 1, max: 100 }, doc: "number of application pods" },
    Field {
        name: "namespace",
        ty: Ty::Pattern("a Kubernetes namespace name", r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"),
        doc: "namespace of the workload",
    },
    Field { name: "image_repository", ty: Ty::Str, doc: "upstream image the CI build starts from" },
    Field {
        name: "smtp",
        ty: Ty::Map(SMTP),
        doc: "outgoing email: the NetworkPolicy admits the mail port and the application is configured for it",
    },
    Field {
        name: "ingress_class",
        ty: Ty::Pattern("an IngressClass name", r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$"),
        doc: "IngressClass of the Ingress in a cluster without AWS (default nginx)",
    },
    Field {
        name: "ingress_namespace",
        ty: Ty::Pattern("a Kubernetes namespace name", r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"),
        doc: "namespace of that ingress controller's pods, which the NetworkPolicy admits (default ingress-nginx)",
    },
    Field { name: "image", ty: Ty::Str, doc: "image of a workload archc has no profile for" },
    Field {
        name: "secret_sync_image",
        ty: Ty::Str,
        doc: "image the database secret sync runs, any with python3 (default python:<version>-alpine from the ECR Public Gallery; a diagram without NAT needs a copy in its own ECR)",
    },
    Field {
        name: "port",
        ty: Ty::Int { min: 1, max: 65535 },
        doc: "container port of a workload archc has no profile for",
    },
    Field {
        name: "health_path",
        ty: Ty::Pattern("an HTTP path such as `/healthz`", r"^/[A-Za-z0-9._~/-]*$"),
        doc: "health-check path of a workload archc has no profile for",
    },
];

const RULES: &[Field] = &[
    Field { name: "ignore", ty: CODES, doc: "rule codes or prefixes to turn off" },
    Field { name: "warn", ty: CODES, doc: "rule codes or prefixes reported as warnings" },
    Field { name: "error", ty: CODES, doc: "rule codes or prefixes reported as errors" },
];

/// Per-node settings: a kind and the attributes kinds read from labels.
const NODE: Ty = Ty::Map(&[
    Field { name: "kind", ty: Ty::Str, doc: "the node's kind (see `archc kinds`)" },
    Field { name: "engine", ty: Ty::Str, doc: "database or cache engine" },
    Field { name: "tier", ty: Ty::Enum(&["public", "app", "data"]), doc: "subnet tier" },
    Field { name: "cidr", ty: CIDR, doc: "VPC or subnet CIDR" },
    Field { name: "region", ty: Ty::Str, doc: "region of a region box" },
    Field { name: "type", ty: Ty::Enum(&["ClusterIP", "NodePort", "LoadBalancer"]), doc: "Kubernetes Service type" },
    Field { name: "endpoint", ty: Ty::Enum(&["public", "private"]), doc: "EKS API endpoint access" },
    Field { name: "app", ty: Ty::Str, doc: "application profile of a workload" },
    Field { name: "service", ty: Ty::Str, doc: "AWS service of a VPC endpoint" },
    Field {
        name: "instances",
        ty: Ty::Int { min: 1, max: 16 },
        doc: "instances of an Aurora cluster: a writer, the rest readers",
    },
    Field {
        name: "image",
        ty: Ty::Str,
        doc: "the image a workload runs (`repository:tag` or `repository@sha256:...`)",
    },
    Field { name: "port", ty: Ty::Int { min: 1, max: 65535 }, doc: "the port a workload listens on" },
    Field {
        name: "health_path",
        ty: Ty::Pattern("an HTTP path such as `/healthz`", r"^/[A-Za-z0-9._~/-]*$"),
        doc: "the HTTP path a workload answers health checks on",
    },
    Field { name: "command", ty: Ty::List(&Ty::Str), doc: "the command a workload runs (overrides the image's)" },
    Field { name: "env", ty: Ty::Any, doc: "environment variables of a workload (a map of strings)" },
    Field { name: "replicas", ty: Ty::Int { min: 0, max: 1000 }, doc: "how many copies of a workload run" },
    Field {
        name: "cpu",
        ty: Ty::Pattern("a CPU amount such as `250m`, `0.5` or `256`", r"^\d+(\.\d+)?m?$"),
        doc: "CPU of a workload",
    },
    Field {
        name: "memory",
        ty: Ty::Pattern("a memory amount such as `512Mi`, `1Gi` or `512`", r"^\d+(Ki|Mi|Gi)?$"),
        doc: "memory of a workload",
    },
    Field {
        name: "schedule",
        ty: Ty::Pattern("a cron schedule such as `0 3 * * *`", r"^\S+( \S+){4,5}$"),
        doc: "when a scheduled workload (or an EventBridge rule) runs",
    },
    Field {
        name: "code",
        ty: Ty::Pattern("a directory of the repository such as `functions/orders`", r"^[A-Za-z0-9._/-]+$"),
        doc: "the directory a Lambda function's zip archive is built from (instead of a container image)",
    },
    Field {
        name: "runtime",
        ty: Ty::Pattern("a Lambda runtime such as `python3.13` or `nodejs22.x`", r"^[a-z]+[0-9.]*(\.x)?$"),
        doc: "the runtime of a Lambda function built from `code` (default python3.13)",
    },
    Field {
        name: "handler",
        ty: Ty::Pattern("a handler such as `app.handler`", r"^[A-Za-z0-9_./-]+$"),
        doc: "the handler of a Lambda function built from `code` (default app.handler)",
    },
    Field {
        name: "partition_key",
        ty: Ty::Pattern("an attribute name such as `pk`", r"^[A-Za-z0-9_.-]{1,255}$"),
        doc: "the partition key (String) of a DynamoDB table (default pk)",
    },
    Field {
        name: "sort_key",
        ty: Ty::Pattern("an attribute name such as `sk`", r"^[A-Za-z0-9_.-]{1,255}$"),
        doc: "the sort key (String) of a DynamoDB table (none by default)",
    },
    Field { name: "user_data", ty: Ty::Str, doc: "the script an EC2 instance runs at boot (its user data)" },
    Field {
        name: "instance_type",
        ty: Ty::Pattern("an EC2 instance type such as `t3.small`", r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"),
        doc: "the EC2 instance type of an instance or Auto Scaling group",
    },
]);

/// archc's configuration keys.
pub const SCHEMA: &[Field] = &[
    Field {
        name: "name",
        ty: Ty::Pattern("a lower-case name such as `mattermost`", r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"),
        doc: "project name: prefix of stacks, cluster and repository (default: the application)",
    },
    Field {
        name: "region",
        ty: Ty::Pattern("an AWS region such as `eu-north-1`", r"^[a-z]{2}(-gov)?-[a-z]+-\d$"),
        doc: "AWS region (default: the region box's label)",
    },
    Field {
        name: "availability_zones",
        ty: Ty::Int { min: 2, max: 6 },
        doc: "how many AZs the subnets span (default: as many as the diagram draws Availability Zone boxes, 2 to 6; 2 when it draws fewer)",
    },
    Field {
        name: "nat_gateways",
        ty: Ty::Enum(&["per-az", "single"]),
        doc: "one NAT gateway per AZ (default) or a single one",
    },
    Field { name: "vpc_cidr", ty: CIDR, doc: "VPC CIDR (default 10.0.0.0/16)" },
    Field {
        name: "domain",
        ty: Ty::Pattern("a DNS name such as `chat.example.com`", r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$"),
        doc: "public host name of the application",
    },
    Field {
        name: "certificate_arn",
        ty: Ty::Pattern("an ACM certificate ARN", r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$"),
        doc: "ACM certificate for HTTPS",
    },
    Field { name: "route53", ty: Ty::Map(ROUTE53), doc: "Route 53: the hosted zone of `domain`" },
    Field { name: "alarms", ty: Ty::Map(ALARMS), doc: "where the CloudWatch alarms notify" },
    Field { name: "eks", ty: Ty::Map(EKS), doc: "EKS cluster settings" },
    Field { name: "github", ty: Ty::Map(GITHUB), doc: "GitHub repository and deploy settings" },
    Field { name: "database", ty: Ty::Map(DATABASE), doc: "RDS settings" },
    Field { name: "cache", ty: Ty::Map(CACHE), doc: "ElastiCache settings" },
    Field { name: "app", ty: Ty::Map(APP), doc: "the application (edition, version, replicas)" },
    Field { name: "rules", ty: Ty::Map(RULES), doc: "rule selection" },
    Field { name: "nodes", ty: Ty::Nodes(&NODE), doc: "per-node kind and settings, by node id" },
];
