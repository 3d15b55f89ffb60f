//! What the lowerings of compute outside Kubernetes share (ECS services, EC2 Auto Scaling
//! groups) and the load balancers in front of them: which box a load balancer's arrow
//! targets, the app stack's KMS key for log groups, the security-group rules into the data
//! stores' groups, the subnets (imported from the network stack).

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::eks::subnets_of;
use super::store::ec2_text;
use crate::plan::cfn::{get_att, key_admin_statement, kms_key, r, sub};
use crate::plan::names::pascal;
use crate::plan::{Lowering, Resource, StackId};

const APP: StackId = StackId::App;
const NET: StackId = StackId::Network;
const DATA: StackId = StackId::Data;

/// The kinds that run behind a load balancer built in CloudFormation.
pub(super) const TARGET_KINDS: &[&str] = &["aws.ecs-service", "aws.ec2-instance", "aws.autoscaling-group"];

/// The box that is built for `n`: an EC2 instance drawn inside an Auto Scaling group is
/// that group; anything else is itself.
pub(super) fn unit(l: &Lowering<'_>, n: NodeIndex) -> NodeIndex {
    let c = l.graph.component(n);
    if c.is("aws.ec2-instance") {
        if let Some(asg) = l.graph.enclosing(n, "aws.autoscaling-group") {
            return asg;
        }
    }
    n
}

/// The `traffic` arrows from load balancer `lb` to compute archc builds outside Kubernetes,
/// with the built box each reaches (in diagram order).
pub(super) fn targets(l: &Lowering<'_>, lb: NodeIndex) -> Vec<(EdgeIndex, NodeIndex)> {
    let graph = l.graph;
    let mut out: Vec<(EdgeIndex, NodeIndex)> = graph
        .outgoing(lb)
        .filter(|(e, b)| {
            graph.connection(*e).meaning == "traffic"
                && graph.component(*b).kind_id().is_some_and(|k| TARGET_KINDS.contains(&k))
        })
        .map(|(e, b)| (e, unit(l, b)))
        .collect();
    out.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    out
}

/// The load balancers in front of built box `n` (those with a `traffic` arrow to it or to an
/// instance inside it), each with its arrows to `n`.
pub(super) fn fronted_by(l: &Lowering<'_>, n: NodeIndex) -> Vec<(NodeIndex, Vec<EdgeIndex>)> {
    let mut out: Vec<(NodeIndex, Vec<EdgeIndex>)> = Vec::new();
    for lb in l.graph.of_kinds(&["aws.alb", "aws.nlb"]) {
        let edges: Vec<EdgeIndex> = targets(l, lb).into_iter().filter(|(_, t)| *t == n).map(|(e, _)| e).collect();
        if !edges.is_empty() {
            out.push((lb, edges));
        }
    }
    out
}

/// The target group of load balancer `lb` for built box `target`.
pub(super) fn target_group(lb: &str, target: &str) -> String {
    format!("{}{}TargetGroup", pascal(lb), pascal(target))
}

/// Subnet ids (imported into the app stack) of where `n` sits, of `tier` by default.
pub(super) fn subnets(l: &mut Lowering<'_>, n: NodeIndex, tier: &str) -> Vec<Value> {
    let ids = subnets_of(l, Some(n), tier);
    ids.iter().map(|s| l.import(APP, NET, &format!("{s}Id"), "AWS::EC2::Subnet::Id")).collect()
}

/// The app stack's KMS key (log groups), created once; `!GetAtt` of its ARN.
pub(super) fn key(l: &mut Lowering<'_>) -> Value {
    if !l.stack(APP).resources.contains_key("AppKmsKey") {
        let logs = json!({
            "//": "CloudWatch Logs encrypts the log groups of this stack with the key (and only those)",
            "Sid": "CloudWatchLogsOfThisStack",
            "Effect": "Allow",
            "Principal": {"Service": sub("logs.${AWS::Region}.amazonaws.com")},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")}},
        });
        l.add(
            APP,
            "AppKmsKey",
            Resource::new(
                "AWS::KMS::Key",
                kms_key(sub("${AWS::StackName}: log groups"), vec![key_admin_statement(None), logs]),
            )
            .retain()
            .comment("KMS key of the app stack's log groups"),
        );
        l.add(
            APP,
            "AppKmsKeyAlias",
            Resource::new(
                "AWS::KMS::Alias",
                json!({"AliasName": sub("alias/${AWS::StackName}-app"), "TargetKeyId": r("AppKmsKey")}),
            ),
        );
    }
    get_att("AppKmsKey", "Arn")
}

/// A log group of `id` (one year of retention, the app stack's key).
pub(super) fn log_group(l: &mut Lowering<'_>, id: &str) -> String {
    let key = key(l);
    let logical = format!("{}LogGroup", pascal(id));
    l.add(
        APP,
        &logical,
        Resource::new("AWS::Logs::LogGroup", json!({"RetentionInDays": 365, "KmsKeyId": key}))
            .retain()
            .node(id)
            .comment(&format!(
                "what `{id}` writes: kept a year (and after the stack), encrypted with the app stack's key"
            )),
    );
    logical
}

/// The port a data store listens on: the arrow's, else its resource's in the data stack,
/// else its kind's.
fn store_port(l: &mut Lowering<'_>, e: EdgeIndex, store: NodeIndex) -> u16 {
    if let Some(p) = l.graph.connection(e).port {
        return p;
    }
    let c = l.graph.component(store);
    let from_resource = l.stack(DATA).resources.get(&pascal(&c.id)).and_then(|res| match &res.properties["Port"] {
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    from_resource.unwrap_or(match c.kind_id() {
        Some("aws.efs") => 2049,
        Some("aws.elasticache") => 6379,
        _ => 5432,
    })
}

/// One `AWS::EC2::SecurityGroupIngress` on the imported security group of each data store
/// `n` has an arrow to (`connects`, `mounts`), from `sg` (a security group of the app stack).
pub(super) fn store_ingress(l: &mut Lowering<'_>, n: NodeIndex, sg: &str) {
    let graph = l.graph;
    let mut edges: Vec<(EdgeIndex, NodeIndex)> =
        graph.outgoing(n).filter(|(e, _)| graph.connection(*e).becomes == "security-group-rule").collect();
    // arrows drawn to an instance inside the group count for the group
    if l.graph.component(n).is("aws.autoscaling-group") {
        for i in graph.children(n).filter(|&i| graph.component(i).is("aws.ec2-instance")).collect::<Vec<_>>() {
            edges.extend(graph.outgoing(i).filter(|(e, _)| graph.connection(*e).becomes == "security-group-rule"));
        }
    }
    edges.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    // (group, port) → rule: boxes sharing a group (the writer and reader of an Aurora
    // cluster) share the rule (AWS refuses the same rule twice)
    let mut done: Vec<(Value, u16, String)> = Vec::new();
    for (e, b) in edges {
        let target = graph.component(b);
        let tp = pascal(&target.id);
        let output = format!("{tp}SecurityGroupId");
        let Some(group_value) = l.stack(DATA).outputs.get(&output).map(|o| o.value.clone()) else {
            continue;
        };
        let port = store_port(l, e, b);
        if let Some((_, _, logical)) = done.iter().find(|(g, p, _)| *g == group_value && *p == port) {
            let logical = logical.clone();
            l.built(e, format!("the ingress rule `{logical}` (app stack) on the security group of `{}`", target.id));
            continue;
        }
        let group = l.import(APP, DATA, &output, "AWS::EC2::SecurityGroup::Id");
        let (a, _) = graph.endpoints(e);
        let logical = format!("{tp}From{}Ingress", pascal(&graph.component(a).id));
        let what = if target.is("aws.efs") { "NFS" } else { "TCP" };
        let description = ec2_text(&format!("arrow {} to {}: {what} {port}", graph.component(a).id, target.id));
        let arrow = l.arrow(e);
        l.add(
            APP,
            &logical,
            Resource::new(
                "AWS::EC2::SecurityGroupIngress",
                json!({
                    "GroupId": group,
                    "IpProtocol": "tcp",
                    "FromPort": port,
                    "ToPort": port,
                    "SourceSecurityGroupId": r(sg),
                    "Description": description,
                }),
            )
            .node(&graph.component(n).id)
            .comment(&format!(
                "`{arrow}`: port {port} of `{}` from `{sg}` only (a rule on the data stack's group)",
                target.id
            )),
        );
        l.built(e, format!("the ingress rule `{logical}` (app stack) on the security group of `{}`", target.id));
        done.push((group_value, port, logical));
    }
}
