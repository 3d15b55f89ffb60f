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
                // one dependency is written as a string, several as a list
                let depends: Vec<&str> = match &db["DependsOn"] {
                    Value::String(one) => vec![one.as_str()],
                    many => many.as_array().into_iter().flatten().filter_map(Value::as_str).collect(),
                };
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

/// The alarms on a stack's resources: (metric, dimension values) of every alarm.
fn alarms(t: &Value) -> Vec<(String, Vec<Value>, Value)> {
    of_type(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, a)| {
            let p = &a["Properties"];
            let dims = p["Dimensions"].as_array().expect("dimensions").iter().map(|d| d["Value"].clone()).collect();
            (p["MetricName"].as_str().expect("metric").to_string(), dims, p["AlarmActions"].clone())
        })
        .collect()
}

/// Databases (CPU, free storage, connections), caches (engine CPU, memory, evictions) and the
/// CloudFormation load balancers (5xx, unhealthy targets) have alarms that notify the network
/// stack's encrypted topic.
#[test]
fn data_stores_and_load_balancers_have_alarms_on_an_encrypted_topic() {
    let mut checked = 0;
    for arch in architectures() {
        let c = compile(&arch);
        for stack in &c.plan.stacks {
            let name = stack.id.as_str();
            let t = template(&c, name);
            let found = alarms(&t);
            let has = |metric: &str, dim: &Value| found.iter().any(|(m, d, _)| m == metric && d.contains(dim));
            for (_, actions) in found.iter().map(|(m, _, a)| (m, a)) {
                assert_eq!(actions, &json!([{"Ref": "AlarmTopicArn"}]), "{arch} {name}");
            }
            for (id, db) in of_type(&t, "AWS::RDS::DBInstance") {
                if db["Properties"]["DBClusterIdentifier"].is_null() {
                    checked += 1;
                    for m in ["CPUUtilization", "FreeStorageSpace", "DatabaseConnections"] {
                        assert!(has(m, &json!({"Ref": id})), "{arch}: no {m} alarm on {id}");
                    }
                }
            }
            for (id, _) in of_type(&t, "AWS::RDS::DBCluster") {
                checked += 1;
                for m in ["CPUUtilization", "DatabaseConnections"] {
                    assert!(has(m, &json!({"Ref": id})), "{arch}: no {m} alarm on {id}");
                }
            }
            for (id, _) in of_type(&t, "AWS::ElastiCache::ReplicationGroup") {
                checked += 1;
                let node = json!({"Fn::Sub": format!("${{{id}}}-001")});
                for m in ["EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions"] {
                    assert!(has(m, &node), "{arch}: no {m} alarm on {id}");
                }
            }
            for (id, lb) in of_type(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer") {
                checked += 1;
                let full = json!({"Fn::GetAtt": [id, "LoadBalancerFullName"]});
                if lb["Properties"]["Type"] == "application" {
                    assert!(has("HTTPCode_ELB_5XX_Count", &full), "{arch}: no 5xx alarm on {id}");
                    assert!(has("HTTPCode_Target_5XX_Count", &full), "{arch}: no target 5xx alarm on {id}");
                }
                assert!(has("UnHealthyHostCount", &full), "{arch}: no unhealthy-host alarm on {id}");
            }
            for (id, _) in of_type(&t, "AWS::ElasticLoadBalancingV2::TargetGroup") {
                let group = json!({"Fn::GetAtt": [id, "TargetGroupFullName"]});
                assert!(has("UnHealthyHostCount", &group), "{arch}: no unhealthy-host alarm on {id}");
            }
            if !found.is_empty() {
                assert_eq!(
                    c.plan.stack(stack.id).expect("stack").parameters["AlarmTopicArn"].source,
                    archc::plan::ParamSource::Output {
                        stack: archc::plan::StackId::Network,
                        output: "AlarmTopicArn".into()
                    }
                );
                let net = template(&c, "network");
                let topic = &net["Resources"]["AlarmTopic"]["Properties"];
                assert_eq!(topic["KmsMasterKeyId"], json!({"Ref": "NetworkKmsKey"}));
                let key = net["Resources"]["NetworkKmsKey"]["Properties"]["KeyPolicy"]["Statement"].to_string();
                assert!(key.contains("cloudwatch.amazonaws.com"), "{arch}: CloudWatch cannot use the topic's key");
                let sub = &net["Resources"]["AlarmEmailSubscription"];
                assert_eq!(sub["Condition"], "HasAlarmEmail");
                assert_eq!(sub["Properties"]["Endpoint"], json!({"Ref": "AlarmEmail"}));
            }
        }
    }
    assert!(checked > 5);
}

/// `alarms.email` is the default of the network stack's `AlarmEmail`.
#[test]
fn alarm_email_comes_from_configuration() {
    let dir = crate::test::scratch("alarm-email");
    let seed = std::fs::read_to_string(crate::test::root().join("examples/architecture.md")).expect("seed");
    let path = dir.join("architecture.md");
    std::fs::write(&path, seed).expect("write");
    std::fs::write(dir.join("archc.yaml"), "alarms:\n  email: ops@example.com\n").expect("write");
    let out = dir.join("out");
    crate::test::Test::new().args(["compile", &path.display().to_string(), "-o", &out.display().to_string()]).status(0);
    let net = std::fs::read_to_string(out.join("cloudformation/network.yaml")).expect("network");
    let net: serde_yaml::Value = serde_yaml::from_str(&net).expect("yaml");
    assert_eq!(net["Parameters"]["AlarmEmail"]["Default"].as_str(), Some("ops@example.com"));
}

/// Every CloudFormation load balancer writes access logs to the app stack's log bucket, whose
/// policy admits the region's log delivery; no CKV_AWS_91 skip is left.
#[test]
fn load_balancers_write_access_logs_to_a_bucket_that_admits_elb() {
    let mut checked = 0;
    for (arch, stack, t) in every_template() {
        assert!(!t.to_string().contains("CKV_AWS_91"), "{arch} {stack}: a CKV_AWS_91 skip is left");
        for (id, lb) in of_type(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer") {
            checked += 1;
            let attrs: Vec<(String, Value)> = lb["Properties"]["LoadBalancerAttributes"]
                .as_array()
                .expect("attributes")
                .iter()
                .map(|a| (a["Key"].as_str().expect("key").to_string(), a["Value"].clone()))
                .collect();
            let attr = |k: &str| attrs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            assert_eq!(attr("access_logs.s3.enabled"), Some(json!("true")), "{arch}: {id}");
            assert_eq!(attr("access_logs.s3.bucket"), Some(json!({"Ref": "LoadBalancerLogBucket"})), "{arch}: {id}");
            assert!(lb["DependsOn"].to_string().contains("LoadBalancerLogBucketPolicy"), "{arch}: {id}");
            let statements =
                &t["Resources"]["LoadBalancerLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"];
            let sid =
                if lb["Properties"]["Type"] == "application" { "AlbAccessLogDelivery" } else { "NlbAccessLogDelivery" };
            let st = statements
                .as_array()
                .expect("statements")
                .iter()
                .find(|s| s["Sid"] == sid)
                .expect("delivery statement");
            assert_eq!(st["Action"], "s3:PutObject");
            assert_eq!(
                st["Resource"],
                json!({"Fn::Sub": "${LoadBalancerLogBucket.Arn}/*/AWSLogs/${AWS::AccountId}/*"})
            );
            if sid == "AlbAccessLogDelivery" {
                assert_eq!(st["Principal"]["Service"], "logdelivery.elasticloadbalancing.amazonaws.com");
            } else {
                assert_eq!(st["Principal"]["Service"], "delivery.logs.amazonaws.com");
            }
            let bucket = &t["Resources"]["LoadBalancerLogBucket"]["Properties"];
            assert_eq!(
                bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                    ["SSEAlgorithm"],
                "AES256",
                "ELB log delivery supports SSE-S3 only"
            );
        }
    }
    assert!(checked >= 3);
}

/// In a region opened before August 2022 the region's Elastic Load Balancing account writes ALB
/// logs (us-east-1: 127311923021).
#[test]
fn alb_log_delivery_names_the_regions_elb_account() {
    for arch in architectures() {
        let c = compile(&arch);
        if c.plan.stack(archc::plan::StackId::App).is_none() {
            continue;
        }
        let t = template(&c, "app");
        let Some(st) = t["Resources"]["LoadBalancerLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["Sid"] == "AlbAccessLogDelivery"))
            .cloned()
        else {
            continue;
        };
        if c.plan.settings.region == "us-east-1" {
            assert_eq!(st["Principal"]["AWS"], json!({"Fn::Sub": "arn:${AWS::Partition}:iam::127311923021:root"}));
        }
        assert!(!st["Principal"]["AWS"].is_null(), "{arch}: {} is an older region", c.plan.settings.region);
    }
}

/// Every resource that comes from a box and whose type takes a list of tags carries
/// `archc:node: <node id>`; the node ids are the diagram's.
#[test]
fn resources_from_a_box_carry_its_node_id() {
    let mut tagged = 0;
    for arch in architectures() {
        let c = compile(&arch);
        for stack in &c.plan.stacks {
            let t = template(&c, stack.id.as_str());
            for (id, r) in &stack.resources {
                let Some(node) = &r.node else { continue };
                if !archc::plan::tags::TAGGED.contains(&r.ty.as_str()) {
                    continue;
                }
                let tags = t["Resources"][id]["Properties"]["Tags"].as_array().expect("Tags");
                let found: Vec<&Value> = tags.iter().filter(|t| t["Key"] == "archc:node").collect();
                assert_eq!(found.len(), 1, "{arch}: {id}");
                assert_eq!(found[0]["Value"], json!(node), "{arch}: {id}");
                tagged += 1;
            }
        }
    }
    assert!(tagged > 100);
}

/// The registry's lifecycle: cosign's `sha256-<digest>.sig`/`.att` artifacts have a rule of
/// their own (twice the images: one of each per image), before the rule that keeps the newest
/// images, so they never count as images and expire no sooner than their images.
#[test]
fn ecr_lifecycle_keeps_signatures_as_long_as_their_images() {
    let c = compile("examples/architecture.md");
    let t = template(&c, "ci");
    let (_, repo) = of_type(&t, "AWS::ECR::Repository").into_iter().next().expect("a repository");
    let text = repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]["Fn::Sub"].as_str().expect("!Sub text");
    let images = t["Parameters"]["ImageRetentionCount"]["Default"].as_u64().expect("images");
    let signatures = t["Parameters"]["SignatureRetentionCount"]["Default"].as_u64().expect("signatures");
    assert_eq!(signatures, 2 * images, "a .sig and a .att per image");
    let text = text
        .replace("${ImageRetentionCount}", &images.to_string())
        .replace("${SignatureRetentionCount}", &signatures.to_string());
    let policy: Value = serde_json::from_str(&text).expect("the policy is JSON");
    let rules = policy["rules"].as_array().expect("rules");
    let priority = |r: &Value| r["rulePriority"].as_u64().expect("priority");
    let cosign = rules.iter().find(|r| r["selection"]["tagPrefixList"] == json!(["sha256-"])).expect("a cosign rule");
    assert_eq!(cosign["selection"]["tagStatus"], "tagged");
    assert_eq!(cosign["selection"]["countNumber"], signatures);
    let any = rules.iter().find(|r| r["selection"]["tagStatus"] == "any").expect("the image rule");
    assert_eq!(any["selection"]["countNumber"], images);
    assert!(
        priority(cosign) < priority(any),
        "an image a rule matches cannot be expired (nor counted) by a rule of lower priority"
    );
    let mut priorities: Vec<u64> = rules.iter().map(priority).collect();
    priorities.dedup();
    assert_eq!(priorities.len(), rules.len());
}
