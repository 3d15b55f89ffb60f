//! What operating the compiled stacks needs, on the seed and every architecture fixture:
//! logs that expire, flow logs, alarms, access logs, tags, registry lifecycle (issue 12,
//! "Smaller"). Assertions on the parsed templates.

use serde_json::{json, Value};

use crate::emit_cloudformation::{compile, of_type, template, Compiled};
use crate::judges::architectures;

/// Every architecture compiled, with its stacks' templates parsed: (architecture, stack, template).
fn every_template() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for arch in architectures() {
        let c: Compiled = compile(&arch);
        for stack in &c.plan.stacks {
            let name = stack.id.as_str().to_string();
            let t = template(&c, &name);
            out.push((arch.clone(), name, t));
        }
    }
    out
}

#[test]
fn every_log_group_expires() {
    let mut groups = 0;
    for (arch, stack, t) in every_template() {
        for (id, g) in of_type(&t, "AWS::Logs::LogGroup") {
            groups += 1;
            assert!(
                !g["Properties"]["RetentionInDays"].is_null(),
                "{arch} {stack}: log group {id} has no RetentionInDays"
            );
            let skipped = g["Metadata"]["checkov"]["skip"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["id"] == "CKV_AWS_158" && s["comment"].as_str().is_some_and(|c| c.len() > 40));
            assert!(
                !g["Properties"]["KmsKeyId"].is_null() || skipped,
                "{arch} {stack}: log group {id} is not encrypted (and says not why)"
            );
        }
    }
    assert!(groups > 0);
}

/// RDS creates `/aws/rds/instance/<identifier>/<log>` for each log it exports: archc creates
/// each first (retention, the data key), with the identifier the instance is given.
#[test]
fn database_log_exports_go_to_groups_archc_creates() {
    let mut databases = 0;
    for arch in architectures() {
        let c = compile(&arch);
        if c.plan.stack(archc::plan::StackId::Data).is_none() {
            continue;
        }
        let t = template(&c, "data");
        let groups: Vec<String> = of_type(&t, "AWS::Logs::LogGroup")
            .iter()
            .filter_map(|(_, g)| g["Properties"]["LogGroupName"].as_str().map(str::to_string))
            .collect();
        for ty in ["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"] {
            for (id, db) in of_type(&t, ty) {
                let Some(logs) = db["Properties"]["EnableCloudwatchLogsExports"].as_array() else { continue };
                databases += 1;
                let (scope, key) = if ty == "AWS::RDS::DBCluster" {
                    ("cluster", "DBClusterIdentifier")
                } else {
                    ("instance", "DBInstanceIdentifier")
                };
                let identifier = db["Properties"][key].as_str().unwrap_or_else(|| panic!("{arch}: {id} has no {key}"));
                assert_eq!(identifier, identifier.to_ascii_lowercase(), "RDS stores identifiers lowercase");
                for log in logs {
                    let name = format!("/aws/rds/{scope}/{identifier}/{}", log.as_str().expect("log"));
                    assert!(groups.contains(&name), "{arch}: {id} exports to {name}, which archc does not create");
                }
                let depends: Vec<&str> =
                    db["DependsOn"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                assert!(
                    depends.iter().any(|d| d.ends_with("LogGroup")),
                    "{arch}: {id} is created before its log groups"
                );
            }
        }
    }
    assert!(databases > 0);
}

/// Every VPC logs its flows to a log group of the network stack, through a role that writes
/// that group only.
#[test]
fn every_vpc_has_flow_logs_to_its_own_group() {
    let mut vpcs = 0;
    for (arch, stack, t) in every_template() {
        for (vpc, _) in of_type(&t, "AWS::EC2::VPC") {
            vpcs += 1;
            assert_eq!(stack, "network");
            let logs = of_type(&t, "AWS::EC2::FlowLog");
            assert_eq!(logs.len(), 1, "{arch}: one flow log");
            let p = &logs[0].1["Properties"];
            assert_eq!(p["ResourceId"], json!({"Ref": vpc}), "{arch}");
            assert_eq!(p["ResourceType"], "VPC");
            assert_eq!(p["TrafficType"], "ALL");
            assert_eq!(p["LogDestinationType"], "cloud-watch-logs");
            assert_eq!(p["LogGroupName"], json!({"Ref": "FlowLogGroup"}));
            assert_eq!(p["DeliverLogsPermissionArn"], json!({"Fn::GetAtt": ["FlowLogRole", "Arn"]}));
            let group = &t["Resources"]["FlowLogGroup"]["Properties"];
            assert_eq!(group["RetentionInDays"], json!({"Ref": "FlowLogRetentionDays"}));
            assert_eq!(t["Parameters"]["FlowLogRetentionDays"]["Default"], 365);
            let role = &t["Resources"]["FlowLogRole"]["Properties"];
            let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
            assert_eq!(trust["Principal"]["Service"], "vpc-flow-logs.amazonaws.com");
            assert_eq!(trust["Condition"]["StringEquals"]["aws:SourceAccount"], json!({"Ref": "AWS::AccountId"}));
            let statements = role["Policies"][0]["PolicyDocument"]["Statement"].as_array().expect("statements");
            assert_eq!(statements.len(), 1);
            assert_eq!(statements[0]["Resource"], json!({"Fn::GetAtt": ["FlowLogGroup", "Arn"]}));
            assert!(!statements[0]["Action"].to_string().contains('*'), "{arch}: no wildcard action");
        }
    }
    assert!(vpcs > 0);
}
