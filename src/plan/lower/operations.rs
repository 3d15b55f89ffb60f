//! What operating the stacks needs beyond what the boxes draw: VPC flow logs (network stack)
//! and CloudWatch alarms with the topic they notify.

use serde_json::json;

use crate::plan::cfn::{get_att, key_admin_statement, kms_key, policy, r, sub};
use crate::plan::names::pascal;
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const NET: StackId = StackId::Network;

/// The VPC's flow logs: every flow (`ALL`, accepted and rejected: an investigation needs the
/// accepted flows as much as the refused ones) to a log group of the network stack, kept
/// `FlowLogRetentionDays` and encrypted with the network stack's key, written by a role that
/// can write that group only.
pub(super) static FLOW_LOGS: super::Lowerer = super::Lowerer { name: "flow-logs", kinds: &[], lower: flow_logs };

fn flow_logs(l: &mut Lowering<'_>) {
    let Some(vpc_node) = l.graph.of_kind("aws.vpc").next() else { return };
    let vpc_id = l.graph.component(vpc_node).id.clone();
    let vpc = pascal(&vpc_id);
    if !l.stack(NET).resources.contains_key(&vpc) {
        return;
    }
    let mut retention = Parameter::new("Number", "Days the VPC flow logs are kept").default(365);
    retention.allowed_values =
        [30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653].iter().map(|d| json!(d)).collect();
    l.param(NET, "FlowLogRetentionDays", retention);
    let group_name = "/aws/vpc/flow-logs/${AWS::StackName}";
    let group_arn = format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{group_name}");
    l.add(
        NET,
        "NetworkKmsKey",
        Resource::new(
            "AWS::KMS::Key",
            kms_key(
                sub("${AWS::StackName}: the VPC flow log group"),
                vec![
                    key_admin_statement(None),
                    json!({
                        "//": "In a key policy the resource can only be \"*\" (= this key); the condition pins use to\nthe flow log group.",
                        "Sid": "CloudWatchLogsEncryptsFlowLogGroup",
                        "Effect": "Allow",
                        "Principal": {"Service": sub("logs.${AWS::Region}.amazonaws.com")},
                        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
                        "Resource": "*",
                        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": sub(&group_arn)}},
                    }),
                ],
            ),
        )
        .retain()
        .comment("KMS key of the network stack: the VPC flow log group"),
    );
    l.add(
        NET,
        "NetworkKmsKeyAlias",
        Resource::new(
            "AWS::KMS::Alias",
            json!({"AliasName": sub("alias/${AWS::StackName}-network"), "TargetKeyId": r("NetworkKmsKey")}),
        ),
    );
    l.add(
        NET,
        "FlowLogGroup",
        Resource::new(
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": sub(group_name), "RetentionInDays": r("FlowLogRetentionDays"), "KmsKeyId": get_att("NetworkKmsKey", "Arn")}),
        )
        .retain()
        .node(&vpc_id)
        .comment(&format!("the flow logs of `{vpc_id}`: kept FlowLogRetentionDays, encrypted with the network stack's key")),
    );
    let statement = l.allow(
        NET,
        "FlowLogRole",
        "WriteTheFlowLogGroup",
        &[Why::Required(format!("VPC flow logs of `{vpc_id}`: the service writes its log group with this role"))],
        &["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        get_att("FlowLogGroup", "Arn"),
        None,
    );
    l.add(
        NET,
        "FlowLogRole",
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": format!("VPC flow logs of {vpc_id}: writes their log group only"),
                "AssumeRolePolicyDocument": policy(vec![json!({
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
                })]),
                "Policies": [{"PolicyName": "write-flow-log-group", "PolicyDocument": policy(vec![statement])}],
            }),
        )
        .node(&vpc_id),
    );
    l.add(
        NET,
        "FlowLog",
        Resource::new(
            "AWS::EC2::FlowLog",
            json!({
                "ResourceId": r(&vpc),
                "ResourceType": "VPC",
                "TrafficType": "ALL",
                "LogDestinationType": "cloud-watch-logs",
                "LogGroupName": r("FlowLogGroup"),
                "DeliverLogsPermissionArn": get_att("FlowLogRole", "Arn"),
                "MaxAggregationInterval": 600,
            }),
        )
        .node(&vpc_id)
        .comment(&format!(
            "every flow of `{vpc_id}` (ALL: accepted flows explain an incident as much as rejected ones)"
        )),
    );
}
