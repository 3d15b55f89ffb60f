//! The restart of an ECS service after a rotation: ECS injects a secret's value into a
//! container only when its task starts, and RDS rotates its managed master secret every 7
//! days (the password changes at once), so tasks started before a rotation fail on new
//! connections. A small function (`targets/ecs/rotation-restart.py`, inline, boto3 only),
//! run every 15 minutes by an EventBridge schedule, compares the secrets' `LastChangedDate`
//! with the start of the service's primary deployment and forces a new deployment when a
//! secret changed later. A poll rather than the rotation's CloudTrail event: it needs no
//! trail, and it also follows a value changed by hand.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::function::own_log_group;
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::plan::cfn::{aws_policy, get_att, policy, r, service_trust, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId, Why};

const APP: StackId = StackId::App;
/// The function, as data: boto3 only (Lambda's Python runtime has it).
const SCRIPT: &str = include_str!("../../../targets/ecs/rotation-restart.py");
/// How often it looks: a rotated password fails new connections until the tasks restart.
const SCHEDULE: &str = "rate(15 minutes)";

/// A database secret the service `n` reads at task start, by the arrow `edge` to `store`.
pub(super) struct RotatingSecret {
    pub(super) edge: EdgeIndex,
    pub(super) store: NodeIndex,
    /// Its ARN, as the app stack has it (an import of the data stack's output).
    pub(super) arn: Value,
}

/// The restart of the ECS service `service` (logical id; `n` its box) in `cluster` (logical
/// id) after any of `secrets` changes; an info at each arrow says so.
pub(super) fn build(l: &mut Lowering<'_>, n: NodeIndex, service: &str, cluster: &str, secrets: &[RotatingSecret]) {
    if secrets.is_empty() {
        return;
    }
    let graph = l.graph;
    let id = graph.component(n).id.clone();
    let p = format!("{}RotationRestart", pascal(&id));
    let role = format!("{p}Role");
    let log_group = format!("{p}LogGroup");
    let name = sub(&format!("${{AWS::StackName}}-{}-restart", kebab(&id, 24)));
    let whys: Vec<Why> = secrets.iter().map(|s| Why::Edge(s.edge)).collect();

    let what = format!("the rotation restart of `{id}`");
    let logs = own_log_group(l, &log_group, &role, &id, &format!("{}-restart", kebab(&id, 24)), &what);
    let statements = vec![
        logs,
        l.allow(
            APP,
            &role,
            "WhenTheSecretsChanged",
            &whys,
            &["secretsmanager:DescribeSecret"],
            json!(secrets.iter().map(|s| s.arn.clone()).collect::<Vec<_>>()),
            Some("the secrets' metadata (LastChangedDate), never their values"),
        ),
        l.allow(
            APP,
            &role,
            "RestartTheService",
            &whys,
            &["ecs:DescribeServices", "ecs:UpdateService"],
            r(service),
            Some("this one service: its deployments, and a forced new deployment"),
        ),
    ];
    l.grant(
        APP,
        &role,
        "AWSXRayDaemonWriteAccess",
        Why::Required(format!("active X-Ray tracing of the rotation restart of `{id}`")),
    );
    let role_comment = l.managed_policies_comment(APP, &role, &["AWSXRayDaemonWriteAccess"]);
    l.add(
        APP,
        &role,
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": format!("rotation restart of {id}: reads when its database secrets changed, restarts its tasks"),
                "AssumeRolePolicyDocument": service_trust("lambda.amazonaws.com"),
                "ManagedPolicyArns": [aws_policy("AWSXRayDaemonWriteAccess")],
                "Policies": [{"PolicyName": format!("{}-rotation-restart", kebab(&id, 40)), "PolicyDocument": policy(statements)}],
            }),
        )
        .node(&id)
        .comment(&format!("execution role of the rotation restart of `{id}`; its AWS managed policies:\n{role_comment}")),
    );
    let arns: Vec<Value> = secrets.iter().map(|s| s.arn.clone()).collect();
    let secret_arns = if arns.len() == 1 { arns[0].clone() } else { json!({"Fn::Join": [",", arns]}) };
    l.add(
        APP,
        &p,
        Resource::new(
            "AWS::Lambda::Function",
            json!({
                "FunctionName": name,
                "Description": format!("restarts the tasks of {id} after its database secret changes (ECS reads it at task start)"),
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Code": {"ZipFile": SCRIPT},
                "Role": get_att(&role, "Arn"),
                "MemorySize": 128,
                "Timeout": 60,
                "TracingConfig": {"Mode": "Active"},
                "LoggingConfig": {"LogGroup": r(&log_group), "LogFormat": "JSON"},
                "Environment": {"Variables": {"CLUSTER": r(cluster), "SERVICE": r(service), "SECRET_ARNS": secret_arns}},
            }),
        )
        .node(&id)
        .comment("archc's targets/ecs/rotation-restart.py, inline: boto3 only")
        .checkov_skip(
            "CKV_AWS_115",
            "No reserved concurrency: it runs once every 15 minutes, and a reservation would take capacity from the account's shared pool",
        )
        .checkov_skip(
            "CKV_AWS_116",
            "No dead-letter queue: a failed run is the next scheduled run 15 minutes later, and the failure is in its log group and its Errors metric",
        )
        .checkov_skip(
            "CKV_AWS_117",
            "Outside the VPC: it calls only the ECS and Secrets Manager APIs (over TLS, with IAM), which a VPC would have to reach through NAT or endpoints",
        )
        .checkov_skip(
            "CKV_AWS_173",
            "The environment holds the cluster, service and secret ARNs only (no secret value); Lambda encrypts it at rest with its service key",
        ),
    );
    let rule = format!("{p}Schedule");
    l.add(
        APP,
        &rule,
        Resource::new(
            "AWS::Events::Rule",
            json!({
                "Description": format!("every 15 minutes: restart {id} if its database secret changed since its tasks started"),
                "ScheduleExpression": SCHEDULE,
                "State": "ENABLED",
                "Targets": [{"Id": "restart", "Arn": get_att(&p, "Arn")}],
            }),
        )
        .node(&id),
    );
    l.add(
        APP,
        &format!("{p}Invoke"),
        Resource::new(
            "AWS::Lambda::Permission",
            json!({
                "Action": "lambda:InvokeFunction",
                "FunctionName": r(&p),
                "Principal": "events.amazonaws.com",
                "SourceArn": get_att(&rule, "Arn"),
            }),
        )
        .node(&id)
        .comment("the schedule above, and nothing else, may invoke it"),
    );
    for s in secrets {
        let store = graph.component(s.store).id.clone();
        l.findings.push(
            Diagnostic::new(
                codes::PLAN_ROTATION,
                Severity::Info,
                format!(
                    "ECS injects the password of `{store}` into `{id}` when a task starts and RDS rotates that secret every 7 days: the function `{p}` restarts the tasks within 15 minutes of a change (new connections fail until then)"
                ),
            )
            .with_primary(graph.connection(s.edge).span, "the password is read at task start")
            .with_help("nothing to do; to close the window, let the application read the secret when it connects"),
        );
    }
}
