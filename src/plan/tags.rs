//! `archc:node` on every resource that comes from a diagram box and whose type takes a
//! `Tags` list: which box a resource in the console or the bill comes from. Run once after the
//! lowering; the types are data ([`TAGGED`]), each one whose `Tags` is a list of `Key`/`Value`
//! (types with a map of tags, another property name or `PropagateAtLaunch` are left out).

use serde_json::{json, Value};

use super::settings::Settings;
use super::Stack;

/// The tags of a stack, which CloudFormation propagates to every resource of the stack that
/// takes tags (`archc deploy` and the commands of `cloudformation/README.md` pass them):
/// the application, the diagram file, the environment and the stack.
pub fn stack_tags(settings: &Settings, stack: &Stack) -> Vec<(&'static str, String)> {
    let mut tags = vec![("archc:application", settings.project.clone())];
    if let Some(d) = &settings.diagram {
        tags.push(("archc:diagram", d.clone()));
    }
    tags.push(("archc:environment", settings.github_environment.clone()));
    tags.push(("archc:stack", stack.id.as_str().to_string()));
    tags
}

/// A diagram path as a tag value: relative paths as given (without `./`), an absolute one by
/// its file name (so that the value does not depend on where a checkout lives); characters a
/// CloudFormation tag does not take become `_`, at most 256 of them.
pub fn diagram_tag(path: &std::path::Path) -> Option<String> {
    if path.as_os_str() == "-" {
        return None;
    }
    let text = if path.is_absolute() {
        path.file_name()?.to_string_lossy().to_string()
    } else {
        let s = path.to_string_lossy().replace('\\', "/");
        s.strip_prefix("./").unwrap_or(&s).to_string()
    };
    let clean: String =
        text.chars().map(|c| if c.is_alphanumeric() || " _.:/=+-@".contains(c) { c } else { '_' }).take(256).collect();
    (!clean.is_empty()).then_some(clean)
}

/// The key of the tag naming the diagram node.
pub const NODE_TAG: &str = "archc:node";

/// Resource types whose `Tags` property is a list of `{Key, Value}`.
pub const TAGGED: &[&str] = &[
    "AWS::CertificateManager::Certificate",
    "AWS::CloudFront::Distribution",
    "AWS::CloudWatch::Alarm",
    "AWS::DynamoDB::Table",
    "AWS::EC2::EIP",
    "AWS::EC2::FlowLog",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::ECR::Repository",
    "AWS::ECS::Cluster",
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::EKS::Cluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::Logs::LogGroup",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBParameterGroup",
    "AWS::RDS::DBSubnetGroup",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::WAFv2::WebACL",
];

/// Tag every resource of `stacks` that has a node and a type of [`TAGGED`] with
/// `archc:node: <node id>` (after the tags it already has).
pub fn tag_nodes(stacks: &mut [Stack]) {
    for stack in stacks {
        for r in stack.resources.values_mut() {
            let Some(node) = &r.node else { continue };
            if !TAGGED.contains(&r.ty.as_str()) {
                continue;
            }
            let Some(props) = r.properties.as_object_mut() else { continue };
            let tags = props.entry("Tags").or_insert_with(|| json!([]));
            if let Value::Array(list) = tags {
                if !list.iter().any(|t| t["Key"] == NODE_TAG) {
                    list.push(json!({"Key": NODE_TAG, "Value": node}));
                }
            }
        }
    }
}
