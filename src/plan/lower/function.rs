//! Functions: a Lambda function per box, in the app stack, with its log group, its
//! execution role and what invokes it.
//!
//! - Code: a container image (package type Image) when the diagram draws an ECR repository
//!   (or `nodes.<id>.image` is set): the image URI is the parameter `<Fn>ImageUri`, which a
//!   deploy fills with the pushed image by digest (the `${Image}` of the Kubernetes path);
//!   else a zip archive from `nodes.<id>.code` (a directory of the repository), uploaded by
//!   whoever deploys to the bucket `LambdaCodeBucket` under `<Fn>CodeKey`
//!   (`<project>/<function>.zip` by default), with `nodes.<id>.runtime` and `handler`.
//! - Role: writing to its own log group and X-Ray (AWS requires them), ENIs when in a VPC,
//!   and the statements of its `calls-api` arrows (`access.rs`), the queues it reads, the
//!   streams it reads, its dead-letter queue.
//! - In subnets (drawn inside a subnet box or the VPC): `VpcConfig` with the imported subnets
//!   and its own security group; its arrows to databases and caches become ingress rules on
//!   their (imported) security groups, here in the app stack.
//! - What invokes it: a queue (`triggers`) or a table stream (`streams`) → an event source
//!   mapping; a topic (`delivers`) → a subscription and a permission. Rules and APIs are
//!   their own lowerings'.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::access;
use super::store::ec2_text;
use crate::diagnostic::{codes, Diagnostic};
use crate::plan::cfn::{aws_policy, get_att, key_admin_statement, kms_key, policy, r, service_trust, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const APP: StackId = StackId::App;
const NET: StackId = StackId::Network;
const DATA: StackId = StackId::Data;

/// A function's timeout (seconds): API Gateway waits 30 seconds at most.
pub(super) const TIMEOUT: u32 = 30;

/// How long the function's logs are kept (days).
const LOG_RETENTION_DAYS: u32 = 365;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "function", kinds: &["aws.lambda"], lower };

/// CloudWatch boxes: where the functions and APIs drawn with arrows to them log (each to its
/// own log group, built with it); an arrow from a queue, topic, table or rule is the metrics
/// AWS publishes for it. A box no function or API draws an arrow to builds nothing.
pub(super) static LOGS: super::Lowerer =
    super::Lowerer { name: "function-logs", kinds: &["aws.cloudwatch"], lower: logs };

fn logs(l: &mut Lowering<'_>) {
    let graph = l.graph;
    for n in graph.of_kind("aws.cloudwatch").collect::<Vec<_>>() {
        let mut functions = Vec::new();
        let mut arrows: Vec<(EdgeIndex, NodeIndex)> = graph.incoming(n).collect();
        arrows.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
        for (e, a) in arrows {
            let c = graph.component(a);
            let fp = pascal(&c.id);
            let built = l.stack(APP).resources.contains_key(&fp) || l.stack(DATA).resources.contains_key(&fp);
            match c.kind_id() {
                Some("aws.api-gateway") if built => {
                    l.built(e, format!("access log group `{fp}AccessLogGroup`"));
                    functions.push(format!("`{}` (access logs)", c.id));
                    continue;
                }
                Some("aws.sqs" | "aws.sns" | "aws.dynamodb" | "aws.eventbridge") if built => {
                    l.built(e, format!("the metrics AWS publishes to CloudWatch for `{fp}` (nothing to configure)"));
                    continue;
                }
                _ => {}
            }
            if !c.is("aws.lambda") || !l.stack(APP).resources.contains_key(&fp) {
                continue;
            }
            if graph.connection(e).becomes != "iam-permission" {
                l.built(e, format!("log group `{fp}LogGroup` (the function's logs)"));
            }
            // the log group is what the box draws: CloudWatch Logs, where the function logs
            if let Some(group) = l.stack(APP).resources.get_mut(&format!("{fp}LogGroup")) {
                group.node = Some(graph.component(n).id.clone());
            }
            functions.push(format!("`{}`", graph.component(a).id));
        }
        if !functions.is_empty() {
            l.used(n, format!("where {} log (each to its own log group)", functions.join(", ")));
        }
    }
}

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let functions: Vec<NodeIndex> = graph.of_kind("aws.lambda").collect();
    for &n in &functions {
        function(l, n);
    }
    // images a deploy is given: say so once, at the first such function
    let given: Vec<NodeIndex> = functions
        .iter()
        .copied()
        .filter(|&n| {
            let param = format!("{}ImageUri", pascal(&graph.component(n).id));
            l.stack(APP).parameters.get(&param).is_some_and(|p| p.default.is_none())
        })
        .collect();
    let Some(&first) = given.first() else { return };
    let names: Vec<String> = given.iter().map(|&n| format!("`{}`", graph.component(n).id)).collect();
    let params: Vec<String> = given.iter().map(|&n| format!("{}ImageUri", pascal(&graph.component(n).id))).collect();
    l.stack(APP).notes.push((
        "FunctionImages".into(),
        format!(
            "The functions run container images given at deploy time ({}): deploy the ci stack and push the images to its repository before this stack (CloudFormation needs the image to exist), and give each parameter the image by digest. The deploy identity also needs ecr:SetRepositoryPolicy and ecr:GetRepositoryPolicy on the repository: Lambda adds the repository policy it pulls with.",
            params.join(", ")
        ),
    ));
    l.findings.push(
        Diagnostic::warning(
            codes::PLAN_NO_IMAGE,
            format!(
                "the functions {} run the image a deploy is given (parameters {}): archc's workflow does not build or deploy functions yet",
                names.join(", "),
                params.join(", ")
            ),
        )
        .with_primary(graph.component(first).span, "which image runs here?")
        .with_help("push the image to the ECR repository and pass it by digest when the app stack deploys, or set `nodes.<id>.image` (or `nodes.<id>.code` for a zip archive)"),
    );
}

/// The app stack's key for its log groups (functions' and APIs' access logs), created with
/// the first of them: CloudWatch Logs of the region may use it for this stack's groups only.
/// Returns its ARN.
pub(super) fn log_key(l: &mut Lowering<'_>) -> Value {
    if !l.stack(APP).resources.contains_key("LogsKmsKey") {
        let groups: Vec<Value> = ["/aws/lambda", "/aws/apigateway"]
            .iter()
            .map(|prefix| {
                sub(&format!(
                    "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{prefix}/${{AWS::StackName}}-*"
                ))
            })
            .collect();
        l.add(
            APP,
            "LogsKmsKey",
            Resource::new(
                "AWS::KMS::Key",
                kms_key(
                    sub("${AWS::StackName}: the log groups of its functions and APIs"),
                    vec![
                        key_admin_statement(None),
                        json!({
                            "//": "In a key policy the resource can only be \"*\" (= this key); the condition pins use to\nthis stack's log groups.",
                            "Sid": "CloudWatchLogsEncryptsTheLogGroups",
                            "Effect": "Allow",
                            "Principal": {"Service": sub("logs.${AWS::Region}.amazonaws.com")},
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
                            "Resource": "*",
                            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}},
                        }),
                    ],
                ),
            )
            .retain()
            .comment("KMS key of the app stack's log groups"),
        );
        l.add(
            APP,
            "LogsKmsKeyAlias",
            Resource::new(
                "AWS::KMS::Alias",
                json!({"AliasName": sub("alias/${AWS::StackName}-logs"), "TargetKeyId": r("LogsKmsKey")}),
            ),
        );
    }
    get_att("LogsKmsKey", "Arn")
}

/// A function's log group `logical` (`/aws/lambda/<stack>-<name>`, kept a year, the logs key),
/// node `id`, and the statement of its role `role` that lets Lambda write to it; `what` names
/// the function in comments. Returns the statement.
pub(super) fn own_log_group(
    l: &mut Lowering<'_>,
    logical: &str,
    role: &str,
    id: &str,
    name: &str,
    what: &str,
) -> Value {
    let key = log_key(l);
    l.add(
        APP,
        logical,
        Resource::new(
            "AWS::Logs::LogGroup",
            json!({
                "LogGroupName": sub(&format!("/aws/lambda/${{AWS::StackName}}-{name}")),
                "RetentionInDays": LOG_RETENTION_DAYS,
                "KmsKeyId": key,
            }),
        )
        .retain()
        .node(id)
        .comment(&format!("logs of {what}, kept {LOG_RETENTION_DAYS} days, encrypted with the logs key")),
    );
    l.allow(
        APP,
        role,
        "WriteOwnLogs",
        &[Why::Required(format!("Lambda writes the logs of {what} to its log group"))],
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        get_att(logical, "Arn"),
        Some("AWSLambdaBasicExecutionRole, scoped to this function's log group (created above)"),
    )
}

/// Arrows into `n` that become `becomes`, in diagram order.
fn incoming(l: &Lowering<'_>, n: NodeIndex, becomes: &str) -> Vec<(EdgeIndex, NodeIndex)> {
    let graph = l.graph;
    let mut out: Vec<(EdgeIndex, NodeIndex)> =
        graph.incoming(n).filter(|(e, _)| graph.connection(*e).becomes == becomes).collect();
    out.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    out
}

/// Whether function `n` runs in the VPC: drawn inside it, and the network stack exists.
fn in_vpc(l: &mut Lowering<'_>, n: NodeIndex) -> bool {
    l.graph.in_vpc(n) && l.stack(NET).outputs.contains_key("VpcId")
}

/// The environment variable of a target: its id in upper snake case, then `suffix` (`ORDERS` +
/// `TABLE`), without repeating the kind's word (`JOBS_QUEUE` + `QUEUE_URL` → `JOBS_QUEUE_URL`).
fn env_name(id: &str, suffix: &str) -> String {
    let name: String = kebab(id, 60).chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }).collect();
    let word = suffix.split('_').next().unwrap_or(suffix);
    match suffix.strip_prefix(word) {
        Some(rest) if name.ends_with(word) => format!("{name}{rest}"),
        _ => format!("{name}_{suffix}"),
    }
}

/// The image URIs Lambda accepts: an ECR repository's, by tag or digest.
const ECR_IMAGE: &str =
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$";
static ECR_IMAGE_RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| crate::constant_regex(ECR_IMAGE));

fn function(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let settings = l.settings;
    let c = graph.component(n);
    let id = c.id.clone();
    let p = pascal(&id);
    let role = format!("{p}Role");
    let log_group = format!("{p}LogGroup");
    let name = sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 24)));
    let workload = settings.workload(graph, n);
    // in the VPC: the subnet box around it, else the app-tier subnets
    let subnet_ids = if in_vpc(l, n) { super::eks::subnets_of(l, Some(n), "app") } else { Vec::new() };
    let vpc = !subnet_ids.is_empty();
    if in_vpc(l, n) && !vpc {
        l.stack(APP).notes.push((
            format!("{p}Network"),
            format!("`{id}` is drawn in the VPC but in no subnet box, and the VPC has no app-tier subnets: it runs outside the VPC"),
        ));
    }

    // the log group, first: the role names it
    let mut statements: Vec<Value> =
        vec![own_log_group(l, &log_group, &role, &id, &kebab(&id, 24), &format!("`{id}`"))];
    let mut managed = vec![aws_policy("AWSXRayDaemonWriteAccess")];
    l.grant(
        APP,
        &role,
        "AWSXRayDaemonWriteAccess",
        Why::Required(format!("active X-Ray tracing of `{id}` sends trace segments")),
    );
    if vpc {
        managed.push(aws_policy("service-role/AWSLambdaVPCAccessExecutionRole"));
        l.grant(
            APP,
            &role,
            "AWSLambdaVPCAccessExecutionRole",
            Why::Required(format!("`{id}` runs in the VPC: Lambda creates its network interfaces with this role")),
        );
    }
    // an arrow to CloudWatch: the logs it writes to its own log group (the statement above)
    let (logs, calls): (Vec<_>, Vec<_>) =
        access::calls(l, n).into_iter().partition(|(_, b)| graph.component(*b).is("aws.cloudwatch"));
    for (e, _) in logs {
        l.grant(APP, &role, "WriteOwnLogs", Why::Edge(e));
        if let Some(Value::String(text)) = statements[0].get_mut("//") {
            text.insert_str(0, &format!("for arrow `{}` ({})\n", l.arrow(e), graph.connection(e).meaning));
        }
    }
    statements.extend(access::statements(l, APP, &role, &calls));

    // environment: what its arrows reach
    let mut env: serde_json::Map<String, Value> = serde_json::Map::new();
    for &(_, b) in &calls {
        let t = graph.component(b);
        let tp = pascal(&t.id);
        match t.kind_id() {
            Some("aws.dynamodb") if l.stack(DATA).outputs.contains_key(&format!("{tp}TableName")) => {
                let v = l.import(APP, DATA, &format!("{tp}TableName"), "String");
                env.insert(env_name(&t.id, "TABLE"), v);
            }
            Some("aws.sqs") if l.stack(APP).resources.contains_key(&tp) => {
                env.insert(env_name(&t.id, "QUEUE_URL"), r(&tp));
            }
            Some("aws.sns") if l.stack(APP).resources.contains_key(&tp) => {
                env.insert(env_name(&t.id, "TOPIC_ARN"), r(&tp));
            }
            Some("aws.eventbridge") => {
                env.insert("EVENT_SOURCE".into(), json!(settings.project));
            }
            _ => {}
        }
    }
    for (k, v) in &workload.env {
        env.insert(k.clone(), json!(v));
    }

    // what invokes it: queues and streams (event source mappings)
    let mut mappings: Vec<(String, Value)> = Vec::new();
    for (e, b) in incoming(l, n, "event-source") {
        let t = graph.component(b);
        let tp = pascal(&t.id);
        match t.kind_id() {
            Some("aws.sqs") if l.stack(APP).resources.contains_key(&tp) => {
                statements.push(l.allow(
                    APP,
                    &role,
                    &format!("{tp}Receive"),
                    &[Why::Edge(e)],
                    &[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:ChangeMessageVisibility",
                    ],
                    get_att(&tp, "Arn"),
                    Some("the event source mapping polls the queue with the function's role"),
                ));
                let key = super::messaging::queue_key(l);
                statements.push(l.allow(
                    APP,
                    &role,
                    &format!("{tp}Decrypt"),
                    &[Why::Edge(e)],
                    &["kms:Decrypt"],
                    key,
                    Some("the queue is encrypted with the queue key"),
                ));
                mappings.push((
                    format!("{tp}To{p}"),
                    json!({
                        "EventSourceArn": get_att(&tp, "Arn"),
                        "BatchSize": 10,
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "//": format!("for arrow `{}`: a failed message returns to the queue, and after 5 receives\nmoves to its dead-letter queue", l.arrow(e)),
                    }),
                ));
                l.built(e, format!("event source mapping `{tp}To{p}`"));
            }
            Some("aws.dynamodb") if l.stack(DATA).outputs.contains_key(&format!("{tp}StreamArn")) => {
                let arn = l.import(APP, DATA, &format!("{tp}StreamArn"), "String");
                statements.push(l.allow(
                    APP,
                    &role,
                    &format!("{tp}Stream"),
                    &[Why::Edge(e)],
                    &[
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                    ],
                    arn.clone(),
                    Some("the event source mapping reads the stream with the function's role"),
                ));
                mappings.push((
                    format!("{tp}StreamTo{p}"),
                    json!({
                        "EventSourceArn": arn,
                        "StartingPosition": "LATEST",
                        "BatchSize": 100,
                        "MaximumRetryAttempts": 5,
                        "BisectBatchOnFunctionError": true,
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "//": format!("for arrow `{}`", l.arrow(e)),
                    }),
                ));
                l.built(e, format!("event source mapping `{tp}StreamTo{p}`"));
            }
            _ => {}
        }
    }

    // invoked asynchronously (a topic, a rule): failed events go to a dead-letter queue, the
    // one drawn with a dotted arrow from the function, else its own
    let subscriptions = incoming(l, n, "subscription");
    let asynchronous = !subscriptions.is_empty() || !incoming(l, n, "event-rule").is_empty();
    let drawn_dlq = graph.outgoing(n).find(|(e, b)| {
        graph.connection(*e).meaning == "control"
            && graph.component(*b).is("aws.sqs")
            && l.stack(APP).resources.contains_key(&pascal(&graph.component(*b).id))
    });
    let mut dlq: Option<String> = None;
    if let Some((e, b)) = drawn_dlq {
        let q = pascal(&graph.component(b).id);
        l.built(e, format!("the dead-letter queue of `{p}` (`{q}`)"));
        dlq = Some(q);
        let why = [Why::Edge(e)];
        let key = super::messaging::queue_key(l);
        let q = dlq.clone().unwrap_or_default();
        statements.push(l.allow(APP, &role, "DeadLetterQueue", &why, &["sqs:SendMessage"], get_att(&q, "Arn"), None));
        statements.push(l.allow(
            APP,
            &role,
            "DeadLetterQueueKms",
            &why,
            &["kms:GenerateDataKey", "kms:Decrypt"],
            key,
            Some("the dead-letter queue is encrypted with the queue key"),
        ));
    } else if asynchronous {
        let own = format!("{p}DeadLetterQueue");
        let key = super::messaging::queue_key(l);
        l.add(
            APP,
            &own,
            Resource::new(
                "AWS::SQS::Queue",
                json!({"KmsMasterKeyId": key.clone(), "KmsDataKeyReusePeriodSeconds": 3600, "MessageRetentionPeriod": 14 * 86400}),
            )
            .node(&id)
            .comment(&format!("events `{id}` failed to handle after Lambda's retries (asynchronous invocations)")),
        );
        let why = [Why::Required(format!("Lambda sends the events `{id}` fails to handle to its dead-letter queue"))];
        statements.push(l.allow(APP, &role, "DeadLetterQueue", &why, &["sqs:SendMessage"], get_att(&own, "Arn"), None));
        statements.push(l.allow(
            APP,
            &role,
            "DeadLetterQueueKms",
            &why,
            &["kms:GenerateDataKey", "kms:Decrypt"],
            key,
            Some("the dead-letter queue is encrypted with the queue key"),
        ));
        dlq = Some(own);
    }

    // a key drawn with a dotted arrow to the function: it encrypts the environment
    let env_key = graph.incoming(n).find(|(e, b)| {
        graph.connection(*e).meaning == "control"
            && graph.component(*b).is("aws.kms")
            && l.stack(DATA).outputs.contains_key(&format!("{}KeyArn", pascal(&graph.component(*b).id)))
    });
    let mut env_key_arn = None;
    if let Some((e, b)) = env_key {
        let kp = pascal(&graph.component(b).id);
        let arn = l.import(APP, DATA, &format!("{kp}KeyArn"), "String");
        statements.push(l.allow(
            APP,
            &role,
            &format!("{kp}DecryptEnvironment"),
            &[Why::Edge(e)],
            &["kms:Decrypt"],
            arn.clone(),
            Some("Lambda decrypts the function's environment with its role"),
        ));
        l.built(e, format!("the key of `{p}`'s environment (KmsKeyArn)"));
        env_key_arn = Some(arn);
    }

    // the role
    let managed_names: Vec<&str> = if vpc {
        vec!["AWSXRayDaemonWriteAccess", "AWSLambdaVPCAccessExecutionRole"]
    } else {
        vec!["AWSXRayDaemonWriteAccess"]
    };
    let role_comment = l.managed_policies_comment(APP, &role, &managed_names);
    l.add(
        APP,
        &role,
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": format!("execution role of function {id}: its logs, traces, and what its arrows call"),
                "AssumeRolePolicyDocument": service_trust("lambda.amazonaws.com"),
                "ManagedPolicyArns": managed,
                "Policies": [{"PolicyName": format!("{}-function", kebab(&id, 40)), "PolicyDocument": policy(statements)}],
            }),
        )
        .node(&id)
        .comment(&format!("execution role of `{id}`; its AWS managed policies:\n{role_comment}")),
    );

    // network
    let mut vpc_config = None;
    let sg = format!("{p}SecurityGroup");
    if vpc {
        let subnets: Vec<Value> =
            subnet_ids.iter().map(|s| l.import(APP, NET, &format!("{s}Id"), "AWS::EC2::Subnet::Id")).collect();
        let vpc_id = l.import(APP, NET, "VpcId", "AWS::EC2::VPC::Id");
        l.add(
            APP,
            &sg,
            Resource::new(
                "AWS::EC2::SecurityGroup",
                json!({
                    "GroupDescription": ec2_text(&format!("function {id}: no ingress (Lambda is invoked through its API), egress to what it calls")),
                    "VpcId": vpc_id,
                    "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
                }),
            )
            .node(&id)
            .comment(&format!("`{id}`'s network interfaces: nothing connects to them")),
        );
        vpc_config = Some(json!({"SubnetIds": subnets, "SecurityGroupIds": [r(&sg)]}));
        // its arrows to databases and caches: ingress on their security groups
        let mut connects: Vec<(EdgeIndex, NodeIndex)> =
            graph.outgoing(n).filter(|(e, _)| graph.connection(*e).becomes == "security-group-rule").collect();
        connects.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
        for (e, b) in connects {
            let t = graph.component(b);
            let tp = pascal(&t.id);
            let output = format!("{tp}SecurityGroupId");
            if !l.stack(DATA).outputs.contains_key(&output) {
                continue;
            }
            let port = graph.connection(e).port.or(t.kind.and_then(|k| k.def.port)).unwrap_or(443);
            let target_sg = l.import(APP, DATA, &output, "AWS::EC2::SecurityGroup::Id");
            let logical = format!("{tp}From{p}");
            let plain = format!("{id} to {}", t.id);
            l.add(
                APP,
                &logical,
                Resource::new(
                    "AWS::EC2::SecurityGroupIngress",
                    json!({
                        "GroupId": target_sg,
                        "IpProtocol": "tcp",
                        "FromPort": port,
                        "ToPort": port,
                        "SourceSecurityGroupId": r(&sg),
                        "Description": ec2_text(&format!("arrow {plain}: port {port} from the function security group")),
                    }),
                )
                .node(&id)
                .comment(&format!("for arrow `{}`: `{}` admits the function's security group, never a CIDR", l.arrow(e), t.id)),
            );
            l.built(e, format!("ingress rule `{logical}` (port {port} from `{sg}`)"));
        }
    }

    // code
    let ecr = graph.of_kind("aws.ecr").next();
    let image = workload.image.clone().or_else(|| ecr.map(|_| String::new()));
    let mut props = json!({
        "FunctionName": name,
        "Description": format!("function {id} of the diagram"),
        "Role": get_att(&role, "Arn"),
    });
    let mut comment = format!("function `{id}`");
    match (&image, c.attr("code")) {
        (Some(image), None) => {
            let param = format!("{p}ImageUri");
            let description = match ecr {
                Some(repo) if image.is_empty() => format!(
                    "image of `{id}` by digest (<repository uri>@sha256:...), pushed to the ECR repository `{}` (ci stack output {}RepositoryUri) before this stack deploys",
                    graph.component(repo).id,
                    pascal(&graph.component(repo).id)
                ),
                _ => format!("image of `{id}` (nodes.{id}.image), in ECR"),
            };
            let mut parameter = Parameter::new("String", &description).pattern(ECR_IMAGE);
            if !image.is_empty() && ECR_IMAGE_RE.is_match(image) {
                parameter = parameter.known(image.as_str());
            } else if !image.is_empty() {
                // Lambda pulls container images from ECR only: a Docker Hub or public ECR image
                // would be a default the parameter's own pattern refuses
                l.findings.push(
                    Diagnostic::error(
                        codes::PLAN_NO_IMAGE,
                        format!("function `{id}` cannot run `{image}`: Lambda runs container images from an ECR repository of the account only"),
                    )
                    .with_primary(c.span, "which ECR image runs here?")
                    .with_help(format!("push the image to an ECR repository and set `nodes.{id}.image` to its URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` or `@sha256:...`), or set `nodes.{id}.code` for a zip archive")),
                );
            }
            l.param(APP, &param, parameter);
            props["PackageType"] = json!("Image");
            props["Code"] = json!({"ImageUri": r(&param)});
            comment.push_str(&format!(": the container image `{param}`"));
            if let Some(repo) = ecr {
                l.used(repo, format!("the registry the functions' images come from (`{param}`)"));
            }
            // a drawn arrow between the function and a registry (other than a pull permission)
            let arrows: Vec<EdgeIndex> = graph
                .incoming(n)
                .chain(graph.outgoing(n))
                .filter(|(e, b)| graph.component(*b).is("aws.ecr") && graph.connection(*e).becomes != "iam-permission")
                .map(|(e, _)| e)
                .collect();
            for e in arrows {
                l.built(e, format!("the image of `{p}` (`{param}`)"));
            }
        }
        (_, code) => {
            let code = code.unwrap_or(".").to_string();
            l.param(
                APP,
                "LambdaCodeBucket",
                Parameter::new(
                    "String",
                    "S3 bucket the functions' zip archives are uploaded to before this stack deploys",
                )
                .pattern(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
            );
            let key_param = format!("{p}CodeKey");
            l.param(
                APP,
                &key_param,
                Parameter::new("String", &format!("S3 key of the zip archive of `{id}` (the directory `{code}`)"))
                    .default(format!("{}/{}.zip", kebab(&settings.project, 60), kebab(&id, 60))),
            );
            props["PackageType"] = json!("Zip");
            props["Runtime"] = json!(c.attr("runtime").unwrap_or("python3.13"));
            props["Handler"] = json!(c.attr("handler").unwrap_or("app.handler"));
            props["Code"] = json!({"S3Bucket": r("LambdaCodeBucket"), "S3Key": r(&key_param)});
            comment.push_str(&format!(": the zip of `{code}` (nodes.{id}.code) in LambdaCodeBucket"));
        }
    }
    let memory = workload
        .memory
        .as_deref()
        .and_then(|m| m.trim_end_matches("Mi").parse::<u32>().ok())
        .filter(|m| (128..=10240).contains(m))
        .unwrap_or(512);
    props["MemorySize"] = json!(memory);
    props["Timeout"] = json!(TIMEOUT);
    props["TracingConfig"] = json!({"Mode": "Active"});
    props["LoggingConfig"] = json!({"LogGroup": r(&log_group), "LogFormat": "JSON"});
    if !env.is_empty() {
        props["Environment"] = json!({"Variables": env});
    }
    if let Some(v) = vpc_config {
        props["VpcConfig"] = v;
    }
    if let Some(dlq) = &dlq {
        props["DeadLetterConfig"] = json!({"TargetArn": get_att(dlq, "Arn")});
    }
    if let Some(arn) = &env_key_arn {
        props["KmsKeyArn"] = arn.clone();
    }
    props["Tags"] = tags(&[("Name", name.clone())]);
    let mut resource = Resource::new("AWS::Lambda::Function", props)
        .node(&id)
        .comment(&comment)
        .checkov_skip(
            "CKV_AWS_115",
            "No reserved concurrency: reserving it takes capacity from the account's shared pool (new accounts have 10 in all, and Lambda refuses a reservation below 10 unreserved); set it per function once the account's limits are known",
        )
;
    if env_key_arn.is_none() {
        resource = resource.checkov_skip(
            "CKV_AWS_173",
            "The environment holds resource names and ARNs only (never secrets, which the function reads from Secrets Manager); Lambda encrypts it at rest with its service key",
        );
    }
    if !vpc {
        resource = resource.checkov_skip(
            "CKV_AWS_117",
            "The diagram draws this function outside any VPC: it reaches only AWS APIs (over TLS, with IAM), so VPC networking would add NAT or endpoints and no protection",
        );
    }
    if dlq.is_none() {
        resource = resource.checkov_skip(
            "CKV_AWS_116",
            "Invoked synchronously (API Gateway) or by an event source mapping (whose failed messages go to the queue's own dead-letter queue): Lambda's dead-letter queue applies to asynchronous invocations only",
        );
    }
    l.add(APP, &p, resource);
    l.output(APP, &format!("{p}FunctionName"), r(&p), &format!("name of function `{id}`"));
    l.output(APP, &format!("{p}FunctionArn"), get_att(&p, "Arn"), &format!("ARN of function `{id}`"));

    for (logical, mut m) in mappings {
        let note = m.get("//").cloned();
        if let Some(o) = m.as_object_mut() {
            o.remove("//");
            o.insert("FunctionName".into(), r(&p));
        }
        let mut res = Resource::new("AWS::Lambda::EventSourceMapping", m).node(&id);
        if let Some(Value::String(note)) = note {
            res = res.comment(&note);
        }
        l.add(APP, &logical, res);
    }

    // topics: a subscription and the permission to invoke
    for (e, b) in subscriptions {
        let t = graph.component(b);
        let tp = pascal(&t.id);
        if !t.is("aws.sns") || !l.stack(APP).resources.contains_key(&tp) {
            continue;
        }
        l.add(
            APP,
            &format!("{tp}To{p}"),
            Resource::new(
                "AWS::SNS::Subscription",
                json!({"TopicArn": r(&tp), "Protocol": "lambda", "Endpoint": get_att(&p, "Arn")}),
            )
            .node(&id)
            .comment(&format!("for arrow `{}`", l.arrow(e))),
        );
        l.add(
            APP,
            &format!("{tp}Invokes{p}"),
            Resource::new(
                "AWS::Lambda::Permission",
                json!({"Action": "lambda:InvokeFunction", "FunctionName": get_att(&p, "Arn"), "Principal": "sns.amazonaws.com", "SourceArn": r(&tp)}),
            )
            .node(&id)
            .comment(&format!("for arrow `{}`: this topic only may invoke the function", l.arrow(e))),
        );
        l.built(e, format!("subscription `{tp}To{p}` and permission `{tp}Invokes{p}`"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_ecr_images_are_lambda_images() {
        let re = &*super::ECR_IMAGE_RE;
        assert!(re.is_match("123456789012.dkr.ecr.eu-north-1.amazonaws.com/app:1.0.0"));
        assert!(!re.is_match("public.ecr.aws/nginx/nginx:1.27"));
        assert!(!re.is_match("nginx:1.27"));
    }
}
