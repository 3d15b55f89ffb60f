//! VPC endpoints (network stack): what a private subnet reaches AWS through when the diagram
//! draws endpoints (with or instead of a NAT gateway).
//!
//! - The services of an endpoint box come from its label (`VPC Endpoint (S3)`, `Interface
//!   endpoints: ECR, STS`) or, when the label names none, from the arrows out of it
//!   (`vpce --> ecr`: ECR API and ECR DKR). A service is built once per VPC, by the first box
//!   that names it.
//! - Gateway endpoints (S3, DynamoDB) are attached to the route tables of the private
//!   subnets that draw them (an arrow from the subnet box or a box in it, or the subnet the
//!   endpoint is drawn in); without such an arrow, to the app subnets' route tables.
//! - Interface endpoints: one network interface per AZ in the private subnets they are
//!   drawn in (else the app subnets), private DNS on (the SDKs' default hostnames resolve to
//!   them), one security group admitting HTTPS from the VPC CIDR.
//! - When the diagram draws endpoints instead of a NAT gateway, the set is completed with
//!   what the compute in the private subnets needs to start at all (AWS, "Deploy private
//!   clusters with limited internet access"): for EKS nodes ECR API, ECR DKR, the S3 gateway
//!   (image layers), STS (IAM roles for service accounts), EC2 (the VPC CNI and the node's
//!   own lookups), CloudWatch Logs, Elastic Load Balancing when the AWS Load Balancer
//!   Controller runs, EFS when the EFS CSI driver runs; and the service of every `calls-api`
//!   arrow from the private subnets. What archc adds beyond the drawing is commented as such
//!   and noted in the template. NET004 holds the diagram to the part it must draw (ECR and
//!   S3: the image pulls).

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use crate::model::{ArchGraph, Style};
use crate::plan::cfn::{get_att, r, sub, tags};
use crate::plan::names::pascal;
use crate::plan::{Lowering, Resource, StackId};

const NET: StackId = StackId::Network;

/// The services archc builds endpoints for: (endpoint service name after
/// `com.amazonaws.<region>.`, gateway endpoint, what it is for).
const SERVICES: &[(&str, bool, &str)] = &[
    ("s3", true, "Amazon S3 (also the layers of ECR images)"),
    ("dynamodb", true, "Amazon DynamoDB"),
    ("ecr.api", false, "the ECR API (authorisation, image manifests)"),
    ("ecr.dkr", false, "the ECR registry (docker pulls)"),
    ("sts", false, "STS (IAM roles for service accounts, assumed roles)"),
    ("ec2", false, "the EC2 API (VPC CNI, node metadata lookups)"),
    ("logs", false, "CloudWatch Logs"),
    ("monitoring", false, "CloudWatch metrics"),
    ("secretsmanager", false, "Secrets Manager"),
    ("ssm", false, "Systems Manager"),
    ("ssmmessages", false, "Session Manager channels"),
    ("ec2messages", false, "Systems Manager agent messages"),
    ("kms", false, "AWS KMS"),
    ("sqs", false, "Amazon SQS"),
    ("sns", false, "Amazon SNS"),
    ("elasticloadbalancing", false, "Elastic Load Balancing (the AWS Load Balancer Controller)"),
    ("elasticfilesystem", false, "the EFS API (the EFS CSI driver's access points)"),
    ("eks", false, "the EKS API"),
    ("eks-auth", false, "EKS Pod Identity"),
    ("autoscaling", false, "EC2 Auto Scaling (cluster autoscaler)"),
    ("xray", false, "AWS X-Ray"),
    ("execute-api", false, "API Gateway private APIs"),
    ("lambda", false, "AWS Lambda"),
    ("events", false, "Amazon EventBridge"),
];

fn service(name: &str) -> Option<&'static (&'static str, bool, &'static str)> {
    SERVICES.iter().find(|(n, _, _)| *n == name)
}

/// The services a label names (`Interface endpoints: ECR API, STS` → ecr.api, sts).
fn label_services(label: &str) -> Vec<&'static str> {
    let lower = label.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .map(|t| t.trim_matches(|c| c == '.' || c == '-'))
        .filter(|t| !t.is_empty())
        .collect();
    let has = |t: &str| tokens.contains(&t);
    let mut out: Vec<&'static str> = Vec::new();
    let mut push = |s: &'static str| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    if has("ecr") || has("ecr.api") || has("ecr.dkr") {
        // `ECR API`, `ECR DKR`: the word after `ecr`
        let after_ecr = |w: &str| tokens.windows(2).any(|p| p[0] == "ecr" && p[1] == w);
        let api = after_ecr("api") || has("ecr.api");
        let dkr = after_ecr("dkr") || after_ecr("docker") || has("dkr") || has("ecr.dkr");
        if api || !dkr {
            push("ecr.api");
        }
        if dkr || !api {
            push("ecr.dkr");
        }
    }
    for t in &tokens {
        let s = match *t {
            "s3" => "s3",
            "dynamodb" | "ddb" => "dynamodb",
            "sts" => "sts",
            "ec2" => "ec2",
            "logs" => "logs",
            "cloudwatch" if !has("monitoring") && !has("metrics") => "logs",
            "monitoring" | "metrics" => "monitoring",
            "secrets" | "secretsmanager" => "secretsmanager",
            "ssm" => "ssm",
            "ssmmessages" => "ssmmessages",
            "ec2messages" => "ec2messages",
            "kms" => "kms",
            "sqs" => "sqs",
            "sns" => "sns",
            "elb" | "elasticloadbalancing" => "elasticloadbalancing",
            "efs" | "elasticfilesystem" => "elasticfilesystem",
            "eks" => "eks",
            "eks-auth" => "eks-auth",
            "autoscaling" => "autoscaling",
            "xray" | "x-ray" => "xray",
            "execute-api" => "execute-api",
            "lambda" => "lambda",
            "eventbridge" | "events" => "events",
            _ => continue,
        };
        push(s);
    }
    out
}

/// The services an arrow's target stands for (`vpce --> ecr`: ECR API and DKR).
fn target_services(graph: &ArchGraph, n: NodeIndex) -> Vec<&'static str> {
    let c = graph.component(n);
    match c.kind_id() {
        Some("aws.s3") => vec!["s3"],
        Some("aws.ecr") => vec!["ecr.api", "ecr.dkr"],
        Some("aws.secrets-manager") => vec!["secretsmanager"],
        Some("aws.eks-control-plane") => vec!["eks"],
        Some("aws.dynamodb") => vec!["dynamodb"],
        Some("aws.sqs") => vec!["sqs"],
        Some("aws.sns") => vec!["sns"],
        Some("aws.cloudwatch") => vec!["logs"],
        Some("aws.kms") => vec!["kms"],
        Some("aws.lambda") => vec!["lambda"],
        Some("aws.eventbridge") => vec!["events"],
        Some("aws.service") => label_services(&c.label),
        _ => Vec::new(),
    }
}

/// The services endpoint box `n` names: by its label, else by the arrows out of it. Empty
/// for a box that names none (`VPC endpoints`): the endpoints its subnets need.
pub fn endpoint_services(graph: &ArchGraph, n: NodeIndex) -> Vec<&'static str> {
    let c = graph.component(n);
    let mut out = label_services(&c.label);
    if out.is_empty() {
        if let Some(s) = c.attr("service").and_then(|s| label_services(s).into_iter().next()) {
            out.push(s);
        }
    }
    if out.is_empty() {
        for (e, b) in graph.outgoing(n) {
            if graph.connection(e).style != Style::Solid {
                continue;
            }
            for s in target_services(graph, b) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
    }
    out
}

/// The services the drawn endpoints of a VPC stand for, and whether one box names none (the
/// endpoints its subnets need). What NET004 checks a NAT-less private subnet against.
pub fn drawn_endpoint_services(graph: &ArchGraph, endpoints: &[NodeIndex]) -> (Vec<&'static str>, bool) {
    let mut out: Vec<&'static str> = Vec::new();
    let mut generic = false;
    for &n in endpoints {
        let services = endpoint_services(graph, n);
        generic |= services.is_empty();
        for s in services {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    (out, generic)
}

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "endpoints", kinds: &["aws.vpc-endpoint"], lower };

/// One endpoint to build: the service, the box it belongs to, and why (when not drawn).
struct Planned {
    service: &'static str,
    node: NodeIndex,
    added: Option<String>,
}

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let Some(vpc_node) = graph.of_kind("aws.vpc").next() else { return };
    let boxes: Vec<NodeIndex> = graph.of_kind("aws.vpc-endpoint").collect();
    let Some(&first) = boxes.first() else { return };
    let vpc = pascal(&graph.component(vpc_node).id);
    let groups = super::network::subnet_groups(l);

    // the drawn services, one box each
    let mut planned: Vec<Planned> = Vec::new();
    for &n in &boxes {
        for s in endpoint_services(graph, n) {
            if !planned.iter().any(|p| p.service == s) {
                planned.push(Planned { service: s, node: n, added: None });
            }
        }
    }

    // endpoints instead of a NAT gateway: what the private compute needs to run
    let nat_built = l.stack(NET).resources.values().any(|r| r.ty == "AWS::EC2::NatGateway");
    if !nat_built {
        let private = |n: NodeIndex| graph.enclosing(n, "aws.subnet").is_some() && graph.tier(n) != Some("public");
        let owner = |wanted: &str| {
            let gateway = wanted == "s3" || wanted == "dynamodb";
            boxes
                .iter()
                .copied()
                .find(|&b| endpoint_services(graph, b).is_empty())
                .or_else(|| {
                    boxes.iter().copied().find(|&b| {
                        endpoint_services(graph, b).iter().any(|s| service(s).is_some_and(|x| x.1 == gateway))
                    })
                })
                .unwrap_or(first)
        };
        let mut need: Vec<(&'static str, String)> = Vec::new();
        if let Some(ng) = graph.of_kind("aws.eks-nodegroup").find(|&n| private(n)) {
            let ng_id = &graph.component(ng).id;
            for s in ["ecr.api", "ecr.dkr", "s3", "sts", "ec2", "logs"] {
                need.push((s, format!("EKS nodes `{ng_id}` without a NAT gateway (AWS private cluster requirements)")));
            }
            let lbc = graph.of_kind("k8s.lb-controller").next().is_some()
                || graph.of_kind("aws.alb").next().is_some()
                || graph.of_kind("aws.nlb").next().is_some();
            if lbc {
                need.push((
                    "elasticloadbalancing",
                    "the AWS Load Balancer Controller on the nodes manages the load balancers".to_string(),
                ));
            }
            if graph.of_kind("aws.efs").next().is_some() {
                need.push(("elasticfilesystem", "the EFS CSI driver on the nodes creates access points".to_string()));
            }
            // the database secret sync beside the application reads the RDS-managed secret
            if super::secret_sync::synced_database(graph, l.settings).is_some() {
                need.push((
                    "secretsmanager",
                    "the database secret sync on the nodes reads the RDS-managed secret".to_string(),
                ));
            }
        }
        if let Some(svc) = graph.of_kind("aws.ecs-service").find(|&n| private(n)) {
            let id = &graph.component(svc).id;
            for s in ["ecr.api", "ecr.dkr", "s3", "logs"] {
                need.push((s, format!("ECS tasks `{id}` without a NAT gateway pull images and ship logs")));
            }
        }
        for (e, a, b, c) in graph.connections() {
            if c.meaning != "calls-api" || c.style != Style::Solid {
                continue;
            }
            let from_private = private(a) || graph.ancestors(a).any(|x| graph.component(x).is("aws.subnet"));
            if !from_private || graph.enclosing(a, "aws.vpc") != Some(vpc_node) {
                continue;
            }
            for s in target_services(graph, b) {
                need.push((s, format!("arrow `{}` from a private subnet without a NAT gateway", l.arrow(e))));
            }
        }
        for (s, why) in need {
            if !planned.iter().any(|p| p.service == s) {
                planned.push(Planned { service: s, node: owner(s), added: Some(why) });
            }
        }
    }
    for &n in &boxes {
        if !planned.iter().any(|p| p.node == n) && endpoint_services(graph, n).is_empty() {
            let c = graph.component(n);
            l.findings.push(
                crate::diagnostic::Diagnostic::warning(
                    crate::diagnostic::codes::PLAN_UNSUPPORTED,
                    format!("VPC endpoint `{}` names no service: archc builds nothing for it", c.id),
                )
                .with_primary(c.span, "which AWS service?")
                .with_help("name the service in the label (`VPC Endpoint (S3)`, `Interface endpoints: ECR, STS`) or draw the arrow to it"),
            );
        }
    }
    if planned.is_empty() {
        return;
    }

    // where they go: the private subnet groups that draw them
    let in_group = |n: NodeIndex, g: NodeIndex| n == g || graph.ancestors(n).any(|a| a == g);
    let using_groups = |n: NodeIndex| -> Vec<NodeIndex> {
        let mut out: Vec<NodeIndex> = groups
            .iter()
            .filter(|g| g.tier != "public")
            .filter(|g| {
                g.members.iter().any(|&m| {
                    in_group(n, m)
                        || graph.incoming(n).any(|(e, a)| graph.connection(e).style == Style::Solid && in_group(a, m))
                })
            })
            .map(|g| g.node)
            .collect();
        if out.is_empty() {
            out = groups.iter().filter(|g| g.tier == "app").map(|g| g.node).collect();
        }
        out
    };
    let route_tables = |l: &mut Lowering<'_>, nodes: &[NodeIndex]| -> Vec<serde_json::Value> {
        let ids: Vec<String> = nodes.iter().map(|&n| graph.component(n).id.clone()).collect();
        l.stack(NET)
            .resources
            .iter()
            .filter(|(_, r)| r.ty == "AWS::EC2::RouteTable" && r.node.as_ref().is_some_and(|n| ids.contains(n)))
            .map(|(k, _)| r(k))
            .collect()
    };

    // the interface endpoints' security group
    let interface = planned.iter().any(|p| service(p.service).is_some_and(|s| !s.1));
    let sg = "VpcEndpointSecurityGroup";
    if interface {
        l.add(
            NET,
            sg,
            Resource::new(
                "AWS::EC2::SecurityGroup",
                json!({
                    "GroupDescription": "Interface VPC endpoints: HTTPS from the VPC",
                    "VpcId": r(&vpc),
                    "SecurityGroupIngress": [{
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": get_att(&vpc, "CidrBlock"),
                        "Description": "HTTPS to the AWS APIs from the VPC",
                    }],
                    "Tags": tags(&[("Name", sub("${AWS::StackName}-vpc-endpoints"))]),
                }),
            )
            .node(&graph.component(first).id)
            .comment("the interface endpoints' network interfaces: HTTPS from the VPC CIDR, nothing else"),
        );
    }

    let single = |n: NodeIndex| planned.iter().filter(|p| p.node == n).count() == 1;
    let mut added_notes: Vec<String> = Vec::new();
    for p in &planned {
        let Some(&(name, gateway, what)) = service(p.service) else { continue };
        let box_id = graph.component(p.node).id.clone();
        let logical = if single(p.node) && p.added.is_none() {
            pascal(&box_id)
        } else {
            format!("{}{}", pascal(&box_id), pascal(name))
        };
        let why = match &p.added {
            Some(why) => {
                added_notes.push(format!("{name} ({why})"));
                format!("not drawn: {why}")
            }
            None => format!("drawn: `{box_id}`"),
        };
        let groups_of = using_groups(p.node);
        let props = if gateway {
            let tables = route_tables(l, &groups_of);
            json!({
                "VpcId": r(&vpc),
                "ServiceName": sub(&format!("com.amazonaws.${{AWS::Region}}.{name}")),
                "VpcEndpointType": "Gateway",
                "RouteTableIds": tables,
            })
        } else {
            let group = groups_of
                .iter()
                .find_map(|&n| groups.iter().find(|g| g.node == n))
                .or_else(|| groups.iter().find(|g| g.tier != "public"));
            let Some(group) = group else { continue };
            let subnets: Vec<serde_json::Value> = group.subnets.iter().map(|s| r(s)).collect();
            json!({
                "VpcId": r(&vpc),
                "ServiceName": sub(&format!("com.amazonaws.${{AWS::Region}}.{name}")),
                "VpcEndpointType": "Interface",
                "PrivateDnsEnabled": true,
                "SubnetIds": subnets,
                "SecurityGroupIds": [r(sg)],
            })
        };
        let kind = if gateway {
            "gateway endpoint: a prefix-list route in the private route tables"
        } else {
            "interface endpoint: one network interface per AZ, private DNS"
        };
        l.add(
            NET,
            &logical,
            Resource::new("AWS::EC2::VPCEndpoint", props).node(&box_id).comment(&format!("{what}; {kind}; {why}")),
        );
    }
    if !added_notes.is_empty() {
        l.stack(NET).notes.push((
            "VpcEndpointsCompleted".into(),
            format!(
                "The diagram draws VPC endpoints instead of a NAT gateway; archc adds the endpoints the private subnets need that it does not draw: {}.",
                added_notes.join("; ")
            ),
        ));
    }

    // what the arrows became
    for (e, a, b, c) in graph.connections().collect::<Vec<_>>() {
        let how = match c.meaning {
            "endpoint-route" if boxes.contains(&b) => "the private subnets' way to the VPC endpoint",
            "reaches-api" if boxes.contains(&a) => "the VPC endpoint for the service",
            _ => continue,
        };
        l.built(e, how);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_services() {
        assert_eq!(label_services("Interface endpoints: ECR, STS"), ["ecr.api", "ecr.dkr", "sts"]);
        assert_eq!(label_services("VPC Endpoint (S3)"), ["s3"]);
        assert_eq!(label_services("ecr.api Interface<br>Endpoint"), ["ecr.api"]);
        assert_eq!(label_services("ECR DKR endpoint"), ["ecr.dkr"]);
        assert_eq!(
            label_services("Interface endpoints: ECR API, ECR DKR, STS, EC2, CloudWatch Logs"),
            ["ecr.api", "ecr.dkr", "sts", "ec2", "logs"]
        );
        assert!(label_services("VPC Endpoints").is_empty());
    }
}
