//! EC2 Auto Scaling groups, in the app stack: one per Auto Scaling group box, and one per EC2
//! instance box drawn outside any group (instances drawn inside a group are that group). Each
//! gets a launch template (the latest Amazon Linux 2023 AMI from the SSM public parameter,
//! IMDSv2 only with hop limit 1, no SSH key, encrypted gp3 root volume, the configured user
//! data), an instance role (Systems Manager for shell access, and the statements the arrows
//! grant through `access::statements`), a security group admitting only the load balancers
//! drawn in front of it, rules into the data stores' groups, the group itself across the
//! drawn subnets (sizes from `replicas`) in the load balancers' target groups, and
//! target-tracking CPU scaling.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::compute::{fronted_by, store_ingress, subnets, target_group};
use super::load_balancer::{buildable, built};
use super::store::ec2_text;
use crate::diagnostic::{codes, Diagnostic};
use crate::plan::cfn::{aws_policy, get_att, policy, r, service_trust, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const APP: StackId = StackId::App;
const NET: StackId = StackId::Network;

/// The SSM public parameter of the latest Amazon Linux 2023 AMI (x86_64).
const AMI_PARAMETER: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

pub(super) static LOWERER: super::Lowerer =
    super::Lowerer { name: "ec2", kinds: &["aws.ec2-instance", "aws.autoscaling-group"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let units: Vec<NodeIndex> = graph
        .components()
        .filter(|(n, c)| {
            c.is("aws.autoscaling-group")
                || (c.is("aws.ec2-instance") && graph.enclosing(*n, "aws.autoscaling-group").is_none())
        })
        .map(|(n, _)| n)
        .collect();
    for n in units {
        if buildable(l, n) {
            group(l, n);
        } else {
            let c = graph.component(n);
            l.findings.push(
                Diagnostic::warning(
                    codes::PLAN_UNSUPPORTED,
                    format!("archc does not build `{}`: EC2 instances need a VPC with subnets to run in", c.id),
                )
                .with_primary(c.span, "not built")
                .with_help("draw the VPC and the subnets around the instances"),
            );
        }
    }
}

/// The instance boxes drawn inside group `n` (or `n` itself for an instance outside groups).
fn members(l: &Lowering<'_>, n: NodeIndex) -> Vec<NodeIndex> {
    let graph = l.graph;
    if graph.component(n).is("aws.ec2-instance") {
        return vec![n];
    }
    graph.of_kind("aws.ec2-instance").filter(|&i| graph.enclosing(i, "aws.autoscaling-group") == Some(n)).collect()
}

fn group(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let id = graph.component(n).id.clone();
    let p = pascal(&id);
    let w = l.settings.workload(graph, n);
    let own = l.settings.workload_config.get(&id).cloned().unwrap_or_default();
    let inside = members(l, n);
    for &m in &inside {
        if m != n {
            l.used(m, format!("an instance of the Auto Scaling group `{id}`"));
        }
    }
    for (e, b) in graph.outgoing(n).collect::<Vec<_>>() {
        if inside.contains(&b) && graph.connection(e).meaning == "runs" {
            l.built(e, format!("the instances the Auto Scaling group `{p}` launches"));
        }
    }

    // parameters
    let ami = l.param(
        APP,
        "LatestAmiId",
        Parameter::new(
            "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            "Amazon Linux 2023 AMI (SSM public parameter, resolved at each deploy)",
        )
        .default(AMI_PARAMETER),
    );
    let instance_type = l.param(
        APP,
        &format!("{p}InstanceType"),
        Parameter::new("String", &format!("EC2 instance type of `{id}`"))
            .known(own.instance_type.as_deref().unwrap_or("t3.small"))
            .pattern(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"),
    );

    // instance role: Systems Manager, and what the arrows of the group and its instances call
    let role = format!("{p}InstanceRole");
    let mut calls: Vec<(EdgeIndex, NodeIndex)> = super::access::calls(l, n);
    for &m in &inside {
        if m != n {
            calls.extend(super::access::calls(l, m));
        }
    }
    calls.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    let statements = super::access::statements(l, APP, &role, &calls);
    l.grant(
        APP,
        &role,
        "AmazonSSMManagedInstanceCore",
        Why::Required("Systems Manager: Session Manager shell access and patching instead of SSH keys".into()),
    );
    let mut props = json!({
        "Description": format!("instance role of {id}: Systems Manager, and what its arrows call"),
        "AssumeRolePolicyDocument": service_trust("ec2.amazonaws.com"),
        "ManagedPolicyArns": [aws_policy("AmazonSSMManagedInstanceCore")],
    });
    if !statements.is_empty() {
        props["Policies"] =
            json!([{"PolicyName": format!("{}-arrows", kebab(&id, 40)), "PolicyDocument": policy(statements)}]);
    }
    let comment = l.managed_policies_comment(APP, &role, &["AmazonSSMManagedInstanceCore"]);
    l.add(APP, &role, Resource::new("AWS::IAM::Role", props).node(&id).comment(&comment));
    let profile = format!("{p}InstanceProfile");
    l.add(APP, &profile, Resource::new("AWS::IAM::InstanceProfile", json!({"Roles": [r(&role)]})).node(&id));

    // security group
    let sg = format!("{p}SecurityGroup");
    let vpc = l.import(APP, NET, "VpcId", "AWS::EC2::VPC::Id");
    let fronts: Vec<(NodeIndex, Vec<EdgeIndex>)> =
        fronted_by(l, n).into_iter().filter(|(lb, _)| built(l, *lb)).collect();
    let from = if fronts.is_empty() {
        "nothing drawn reaches it".to_string()
    } else {
        format!(
            "port {} from {}",
            w.port,
            fronts.iter().map(|(lb, _)| graph.component(*lb).id.clone()).collect::<Vec<_>>().join(", ")
        )
    };
    l.add(
        APP,
        &sg,
        Resource::new(
            "AWS::EC2::SecurityGroup",
            json!({
                "GroupDescription": ec2_text(&format!("EC2 {id}: {from}; no SSH")),
                "VpcId": vpc,
                "Tags": [{"Key": "Name", "Value": sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40)))}],
            }),
        )
        .node(&id)
        .comment(&format!("the instances of `{id}`: in, {from} (no SSH: Session Manager); out, the default")),
    );
    store_ingress(l, n, &sg);

    // launch template
    let template = format!("{p}LaunchTemplate");
    let mut data = json!({
        "ImageId": ami,
        "InstanceType": instance_type,
        "IamInstanceProfile": {"Arn": get_att(&profile, "Arn")},
        "SecurityGroupIds": [r(&sg)],
        "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 1},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeType": "gp3", "VolumeSize": 20, "Encrypted": true, "DeleteOnTermination": true}}],
        "Monitoring": {"Enabled": true},
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40)))}]},
            {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40)))}]},
        ],
    });
    let mut comment = format!(
        "`{id}`: Amazon Linux 2023, IMDSv2 only (hop limit 1: containers on the host cannot reach it), no SSH key, encrypted gp3 root volume"
    );
    if let Some(script) = &own.user_data {
        data["UserData"] = json!({"Fn::Base64": script});
        comment.push_str("\nuser data: the configured script");
    }
    l.add(
        APP,
        &template,
        Resource::new(
            "AWS::EC2::LaunchTemplate",
            json!({"LaunchTemplateName": sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))), "LaunchTemplateData": data}),
        )
        .node(&id)
        .comment(&comment),
    );

    // the group
    let max = (w.replicas * 2).max(1);
    let groups: Vec<Value> = fronts.iter().map(|(lb, _)| r(&target_group(&graph.component(*lb).id, &id))).collect();
    let group_subnets = subnets(l, n, "app");
    let mut props = json!({
        "MinSize": w.replicas.to_string(),
        "MaxSize": max.to_string(),
        "DesiredCapacity": w.replicas.to_string(),
        "VPCZoneIdentifier": group_subnets,
        "LaunchTemplate": {"LaunchTemplateId": r(&template), "Version": get_att(&template, "LatestVersionNumber")},
        "HealthCheckType": if groups.is_empty() { "EC2" } else { "ELB" },
        "HealthCheckGracePeriod": 300,
        "MetricsCollection": [{"Granularity": "1Minute"}],
        "Tags": [{"Key": "Name", "Value": sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))), "PropagateAtLaunch": true}],
    });
    if !groups.is_empty() {
        props["TargetGroupARNs"] = json!(groups);
    }
    let mut asg_comment = format!("`{id}`: {} to {max} instances across its subnets", w.replicas);
    if !groups.is_empty() {
        asg_comment.push_str(", replaced when the load balancer's health check fails");
    }
    if !w.assumed.is_empty() {
        asg_comment.push_str(&format!("\nassumed (nothing says otherwise): {}", w.assumed.join(", ")));
    }
    l.add(APP, &p, Resource::new("AWS::AutoScaling::AutoScalingGroup", props).node(&id).comment(&asg_comment));
    l.add(
        APP,
        &format!("{p}CpuScaling"),
        Resource::new(
            "AWS::AutoScaling::ScalingPolicy",
            json!({
                "AutoScalingGroupName": r(&p),
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingConfiguration": {
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                    "TargetValue": 60,
                },
            }),
        )
        .node(&id)
        .comment("keep the average CPU of the instances near 60%"),
    );
    l.output(APP, &format!("{p}AutoScalingGroupName"), r(&p), &format!("Auto Scaling group of `{id}`"));
    l.output(APP, &format!("{role}Arn"), get_att(&role, "Arn"), &format!("instance role of `{id}`"));
}
