//! EKS Fargate profiles, in the cluster stack: a pod execution role and a profile per
//! `aws.fargate-profile` box, in the private app subnets only, selecting the namespace and the
//! `app.kubernetes.io/name` label of each workload drawn inside the box (or run by it).

use petgraph::stable_graph::NodeIndex;
use serde_json::{json, Value};

use super::eks::{cluster_node, has_cluster};
use super::network::subnet_groups;
use crate::plan::cfn::{aws_policy, policy, r, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId, Why};

const CL: StackId = StackId::Cluster;
const NET: StackId = StackId::Network;
/// What a Fargate profile's selector may hold (EKS: five selectors a profile).
const MAX_SELECTORS: usize = 5;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "fargate", kinds: &["aws.fargate-profile"], lower };

fn lower(l: &mut Lowering<'_>) {
    if !has_cluster(l) || l.graph.of_kind("aws.vpc").next().is_none() {
        return;
    }
    let profiles: Vec<NodeIndex> = l.graph.of_kind("aws.fargate-profile").collect();
    for fp in profiles {
        profile(l, fp);
    }
}

/// The workloads a profile runs: drawn inside its box, or at the end of its `runs` arrows.
fn workloads(l: &Lowering<'_>, fp: NodeIndex) -> Vec<NodeIndex> {
    let g = l.graph;
    let mut out: Vec<NodeIndex> = g
        .components()
        .filter(|(n, c)| {
            matches!(c.kind_id(), Some("k8s.deployment" | "k8s.cronjob" | "k8s.statefulset"))
                && (g.enclosing(*n, "aws.fargate-profile") == Some(fp)
                    || g.outgoing(fp).any(|(e, to)| to == *n && g.connection(e).meaning == "runs"))
        })
        .map(|(n, _)| n)
        .collect();
    out.truncate(MAX_SELECTORS);
    out
}

/// The label value the workload's pods carry (`app.kubernetes.io/name`).
fn pod_name(l: &Lowering<'_>, n: NodeIndex) -> String {
    let id = &l.graph.component(n).id;
    match &l.settings.app {
        Some(a) if &a.node == id => a.name.clone(),
        _ => kebab(id, 40),
    }
}

/// Private subnets: the app subnet box around the profile, else every app subnet.
fn subnets(l: &mut Lowering<'_>, fp: NodeIndex) -> Vec<Value> {
    let groups = subnet_groups(l);
    let around = l.graph.enclosing(fp, "aws.subnet");
    let chosen: Vec<String> = match around.and_then(|s| groups.iter().find(|g| g.contains(s) && g.tier != "public")) {
        Some(g) => g.subnets.clone(),
        None => groups.iter().filter(|g| g.tier == "app").flat_map(|g| g.subnets.clone()).collect(),
    };
    chosen.iter().map(|s| l.import(CL, NET, &format!("{s}Id"), "AWS::EC2::Subnet::Id")).collect()
}

fn profile(l: &mut Lowering<'_>, fp: NodeIndex) {
    let id = l.graph.component(fp).id.clone();
    let p = pascal(&id);
    let cluster = cluster_node(l).map_or_else(|| "Cluster".to_string(), |n| pascal(&l.graph.component(n).id));
    let role = format!("{p}PodExecutionRole");
    let runs = workloads(l, fp);
    if runs.is_empty() {
        return;
    }
    let namespace = l.settings.namespace.clone();
    let selectors: Vec<Value> = runs
        .iter()
        .map(|&n| json!({"Namespace": namespace, "Labels": [{"Key": "app.kubernetes.io/name", "Value": pod_name(l, n)}]}))
        .collect();
    let names: Vec<String> = runs.iter().map(|&n| l.graph.component(n).id.clone()).collect();
    let subnets = subnets(l, fp);
    let managed = "AmazonEKSFargatePodExecutionRolePolicy";
    l.grant(
        CL,
        &role,
        managed,
        Why::Required(format!(
            "Fargate pulls the images of {} and writes their logs (the profile's pod execution role)",
            names.join(", ")
        )),
    );
    let comment = l.managed_policies_comment(CL, &role, &[managed]);
    l.add(
        CL,
        &role,
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": sub(&format!("Fargate pod execution role of {id} (${{ClusterName}}): pulls images, writes logs")),
                "AssumeRolePolicyDocument": policy(vec![json!({
                    "Effect": "Allow",
                    "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"ArnLike": {"aws:SourceArn": sub("arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:fargateprofile/${ClusterName}/*")}},
                })]),
                "ManagedPolicyArns": [aws_policy(&format!("service-role/{managed}"))],
            }),
        )
        .node(&id)
        .comment(&format!("pod execution role of `{id}`, trusted only by this cluster's Fargate profiles:\n{comment}")),
    );
    l.add(
        CL,
        &p,
        Resource::new(
            "AWS::EKS::FargateProfile",
            json!({
                "ClusterName": r(&cluster),
                "FargateProfileName": sub(&format!("${{ClusterName}}-{}", kebab(&id, 40))),
                "PodExecutionRoleArn": crate::plan::cfn::get_att(&role, "Arn"),
                "Subnets": subnets,
                "Selectors": selectors,
            }),
        )
        .node(&id)
        .comment(&format!(
            "runs the pods of {} (namespace and app.kubernetes.io/name) on Fargate, in private subnets\nonly. Fargate pods take no NetworkPolicy (the VPC CNI agent runs on nodes), no EBS volume and\nno DaemonSet.",
            names.join(", ")
        )),
    );
    let edges: Vec<_> = l
        .graph
        .outgoing(fp)
        .filter(|(e, to)| runs.contains(to) && l.graph.connection(*e).meaning == "runs")
        .map(|(e, _)| e)
        .collect();
    for e in edges {
        l.built(e, format!("a selector of the Fargate profile `{p}`"));
    }
    let scheduled: Vec<_> =
        l.graph.incoming(fp).filter(|(e, _)| l.graph.connection(*e).meaning == "schedules").map(|(e, _)| e).collect();
    for e in scheduled {
        l.built(e, format!("the Fargate profile `{p}` of the cluster"));
    }
}
