//! What an arrow from something that runs to an AWS service grants (`calls-api`): one place
//! for every role the arrows shape (IRSA roles, ECS task roles, Lambda execution roles, EC2
//! instance roles), so that the same arrow means the same permission whatever runs it.
//!
//! [`statements`] turns the arrows of one role into identity-policy statements, each
//! recorded with the arrow it exists for; a target archc has no permission for is recorded as
//! unexpressed (IAM001 names it). A statement in another stack than its target's names the
//! target through the target stack's output, imported as a parameter.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use crate::model::Access;
use crate::plan::cfn::{get_att, r, sub};
use crate::plan::names::pascal;
use crate::plan::{Lowering, StackId, Why};

const DATA: StackId = StackId::Data;
const APP: StackId = StackId::App;

/// The DynamoDB item actions an arrow's label allows.
fn dynamodb_actions(access: Access) -> &'static [&'static str] {
    const READ: &[&str] =
        &["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable"];
    const WRITE: &[&str] = &[
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
    ];
    const BOTH: &[&str] = &[
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
    ];
    match access {
        Access::Read => READ,
        Access::Write => WRITE,
        Access::ReadWrite => BOTH,
    }
}

/// The role's `calls-api` arrows from `n`, in diagram order.
pub(super) fn calls(l: &Lowering<'_>, n: NodeIndex) -> Vec<(EdgeIndex, NodeIndex)> {
    let graph = l.graph;
    let mut calls: Vec<(EdgeIndex, NodeIndex)> =
        graph.outgoing(n).filter(|(e, _)| graph.connection(*e).becomes == "iam-permission").collect();
    calls.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    calls
}

/// A value of stack `from` as seen from stack `to`: `local` itself in the same stack, else
/// the output `output` of `from` (added when missing) imported as a parameter.
pub(super) fn reference(
    l: &mut Lowering<'_>,
    to: StackId,
    from: StackId,
    output: &str,
    local: Value,
    description: &str,
) -> Value {
    if to == from {
        return local;
    }
    if !l.stack(from).outputs.contains_key(output) {
        l.output(from, output, local, description);
    }
    l.import(to, from, output, "String")
}

/// The identity-policy statements the arrows `calls` grant `role` (a role of `stack`).
pub(super) fn statements(
    l: &mut Lowering<'_>,
    stack: StackId,
    role: &str,
    calls: &[(EdgeIndex, NodeIndex)],
) -> Vec<Value> {
    let graph = l.graph;
    let mut statements: Vec<Value> = Vec::new();
    let mut ecr_login = false;
    for &(e, b) in calls {
        let target = graph.component(b);
        let tp = pascal(&target.id);
        let why = [Why::Edge(e)];
        match target.kind_id() {
            Some("aws.s3") if l.stack(DATA).resources.contains_key(&tp) => {
                let arn = reference(
                    l,
                    stack,
                    DATA,
                    &format!("{tp}BucketArn"),
                    get_att(&tp, "Arn"),
                    &format!("ARN of bucket `{}`", target.id),
                );
                let access = graph.connection(e).access;
                if access != Access::Write {
                    statements.push(l.allow(
                        stack,
                        role,
                        &format!("{tp}Bucket"),
                        &why,
                        &["s3:ListBucket", "s3:GetBucketLocation"],
                        arn.clone(),
                        None,
                    ));
                }
                let objects = if stack == DATA {
                    sub(&format!("${{{tp}.Arn}}/*"))
                } else {
                    crate::plan::cfn::sub_with("${Bucket}/*", json!({"Bucket": arn}))
                };
                let (actions, note): (&[&str], Option<&str>) = match access {
                    Access::Read => (&["s3:GetObject"], Some("the arrow's label says it reads: no write")),
                    Access::Write => (
                        &["s3:PutObject", "s3:AbortMultipartUpload"],
                        Some("the arrow's label says it writes: no read, no delete"),
                    ),
                    Access::ReadWrite => {
                        (&["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], None)
                    }
                };
                statements.push(l.allow(stack, role, &format!("{tp}Objects"), &why, actions, objects, note));
            }
            Some("aws.secrets-manager") if l.stack(DATA).resources.contains_key(&tp) => {
                let arn = reference(
                    l,
                    stack,
                    DATA,
                    &format!("{tp}SecretArn"),
                    r(&tp),
                    &format!("ARN of secret `{}`", target.id),
                );
                statements.push(l.allow(
                    stack,
                    role,
                    &format!("{tp}Read"),
                    &why,
                    &["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    arn,
                    None,
                ));
                let key = reference(
                    l,
                    stack,
                    DATA,
                    "DataKmsKeyArn",
                    get_att("DataKmsKey", "Arn"),
                    "KMS key of the data stack",
                );
                let mut st = l.allow(
                    stack,
                    role,
                    &format!("{tp}Decrypt"),
                    &why,
                    &["kms:Decrypt"],
                    key,
                    Some("only through Secrets Manager"),
                );
                st["Condition"] =
                    json!({"StringEquals": {"kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com")}});
                statements.push(st);
            }
            Some("aws.ecr") => {
                if !ecr_login {
                    ecr_login = true;
                    statements.push(l.allow(
                        stack,
                        role,
                        "EcrLogin",
                        &why,
                        &["ecr:GetAuthorizationToken"],
                        json!("*"),
                        Some("Resource \"*\": GetAuthorizationToken is registry-wide and has no resource-level permission"),
                    ));
                }
                let name = super::ci::repository_name(l, b);
                statements.push(l.allow(
                    stack,
                    role,
                    &format!("{tp}Pull"),
                    &why,
                    &["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    sub(&format!("arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{name}")),
                    None,
                ));
            }
            Some("aws.dynamodb") if l.stack(DATA).resources.contains_key(&tp) => {
                // connections.yaml has one meaning (calls-api) for an arrow to a table: the
                // item actions a service reads and writes with, on the table and its indexes
                let arn = reference(
                    l,
                    stack,
                    DATA,
                    &format!("{tp}TableArn"),
                    get_att(&tp, "Arn"),
                    &format!("ARN of table `{}`", target.id),
                );
                let indexes = crate::plan::cfn::sub_with("${Table}/index/*", json!({"Table": arn.clone()}));
                statements.push(l.allow(
                    stack,
                    role,
                    &format!("{tp}Items"),
                    &why,
                    dynamodb_actions(graph.connection(e).access),
                    json!([arn, indexes]),
                    Some(match graph.connection(e).access {
                        Access::Read => {
                            "the arrow's label says it reads: read actions, on this table and its indexes only"
                        }
                        Access::Write => {
                            "the arrow's label says it writes: write actions, on this table and its indexes only"
                        }
                        Access::ReadWrite => {
                            "the arrow does not say read or write: the item actions, on this table and its indexes only"
                        }
                    }),
                ));
                let key = reference(
                    l,
                    stack,
                    DATA,
                    "DataKmsKeyArn",
                    get_att("DataKmsKey", "Arn"),
                    "KMS key of the data stack",
                );
                let mut st = l.allow(
                    stack,
                    role,
                    &format!("{tp}Kms"),
                    &why,
                    &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    key,
                    Some("the table is encrypted with the data key: only through DynamoDB"),
                );
                st["Condition"] =
                    json!({"StringEquals": {"kms:ViaService": sub("dynamodb.${AWS::Region}.amazonaws.com")}});
                statements.push(st);
            }
            Some("aws.sqs") if stack >= APP && l.stack(APP).resources.contains_key(&tp) => {
                statements.push(l.allow(
                    stack,
                    role,
                    &format!("{tp}Send"),
                    &why,
                    &["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                    get_att(&tp, "Arn"),
                    None,
                ));
                let key = super::messaging::queue_key(l);
                statements.push(l.allow(
                    stack,
                    role,
                    &format!("{tp}Kms"),
                    &why,
                    &["kms:GenerateDataKey", "kms:Decrypt"],
                    key,
                    Some("the queue is encrypted with the queue key"),
                ));
            }
            Some("aws.sns") if stack >= APP && l.stack(APP).resources.contains_key(&tp) => {
                statements.push(l.allow(stack, role, &format!("{tp}Publish"), &why, &["sns:Publish"], r(&tp), None));
            }
            Some("aws.eventbridge") => {
                statements.push(l.allow(
                    stack,
                    role,
                    &format!("{tp}PutEvents"),
                    &why,
                    &["events:PutEvents"],
                    sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"),
                    Some("the default event bus, where the rules of the diagram listen"),
                ));
            }
            Some("aws.kms") if l.stack(DATA).resources.contains_key(&tp) => {
                let arn = reference(
                    l,
                    stack,
                    DATA,
                    &format!("{tp}KeyArn"),
                    get_att(&tp, "Arn"),
                    &format!("ARN of key `{}`", target.id),
                );
                statements.push(l.allow(
                    stack,
                    role,
                    &format!("{tp}Use"),
                    &why,
                    &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    arn,
                    Some("encrypt and decrypt with this key (envelope encryption: data keys), never administer it"),
                ));
            }
            Some("aws.sqs" | "aws.sns") => {
                l.unexpressed(
                    e,
                    format!(
                        "`{}` is in the app stack, deployed after this role's {} stack: archc cannot name it here",
                        target.id,
                        stack.as_str()
                    ),
                );
            }
            _ => {
                let what = target.kind.map_or("this component", |k| k.def.name.as_str());
                l.unexpressed(e, format!("archc has no workload permission for {what} `{}`", target.id));
            }
        }
    }
    statements
}
