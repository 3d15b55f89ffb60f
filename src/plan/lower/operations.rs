//! What operating the stacks needs beyond what the boxes draw: VPC flow logs (network stack)
//! and CloudWatch alarms with the topic they notify.

use serde_json::{json, Value};

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

/// CloudWatch alarms on what the stacks build, read from their resources: databases (CPU, free
/// storage, connections), caches (engine CPU, memory, evictions), the CloudFormation load
/// balancers (5xx, unhealthy targets). They notify `AlarmTopic` of the network stack (encrypted
/// with its key), to which `alarms.email` is subscribed when configured. The EKS nodes have no
/// alarm: their metrics need Container Insights (README: "Operations").
pub(super) static ALARMS: super::Lowerer = super::Lowerer { name: "alarms", kinds: &[], lower: alarms };

/// One alarm: (logical id, what it watches, namespace, metric, statistic, dimensions,
/// comparison, threshold, periods of `period` seconds, missing data).
struct Alarm {
    logical: String,
    node: Option<String>,
    description: String,
    namespace: &'static str,
    metric: &'static str,
    statistic: &'static str,
    dimensions: Vec<(&'static str, Value)>,
    comparison: &'static str,
    threshold: Value,
    period: u32,
    periods: u32,
    missing: &'static str,
}

fn alarms(l: &mut Lowering<'_>) {
    if !l.stack(NET).resources.contains_key("NetworkKmsKey") {
        return;
    }
    let mut wanted: Vec<(StackId, Alarm)> = Vec::new();
    for stack in [StackId::Data, StackId::App] {
        let resources: Vec<(String, crate::plan::Resource)> =
            l.stack(stack).resources.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (logical, res) in &resources {
            let node = res.node.clone();
            let alarm = |suffix: &str,
                         description: String,
                         namespace,
                         metric,
                         statistic,
                         dimensions,
                         comparison,
                         threshold: Value,
                         period,
                         periods,
                         missing| Alarm {
                logical: format!("{logical}{suffix}Alarm"),
                node: node.clone(),
                description,
                namespace,
                metric,
                statistic,
                dimensions,
                comparison,
                threshold,
                period,
                periods,
                missing,
            };
            match res.ty.as_str() {
                "AWS::RDS::DBInstance" if res.properties.get("DBClusterIdentifier").is_none() => {
                    let dims = vec![("DBInstanceIdentifier", r(logical))];
                    wanted.push((
                        stack,
                        alarm(
                            "Cpu",
                            format!("{logical}: CPU above 80% for 15 minutes"),
                            "AWS/RDS",
                            "CPUUtilization",
                            "Average",
                            dims.clone(),
                            "GreaterThanThreshold",
                            json!(80),
                            300,
                            3,
                            "missing",
                        ),
                    ));
                    wanted.push((
                        stack,
                        alarm(
                            "FreeStorage",
                            format!("{logical}: less than 5 GiB free (storage autoscaling at its ceiling?)"),
                            "AWS/RDS",
                            "FreeStorageSpace",
                            "Minimum",
                            dims.clone(),
                            "LessThanThreshold",
                            json!(5_368_709_120_u64),
                            300,
                            2,
                            "missing",
                        ),
                    ));
                    wanted.push((
                        stack,
                        alarm(
                            "Connections",
                            format!("{logical}: more connections than {logical}ConnectionsAlarmThreshold"),
                            "AWS/RDS",
                            "DatabaseConnections",
                            "Maximum",
                            dims,
                            "GreaterThanThreshold",
                            json!("CONNECTIONS"),
                            300,
                            2,
                            "missing",
                        ),
                    ));
                }
                "AWS::RDS::DBCluster" => {
                    let dims = vec![("DBClusterIdentifier", r(logical))];
                    wanted.push((
                        stack,
                        alarm(
                            "Cpu",
                            format!("{logical}: CPU above 80% for 15 minutes"),
                            "AWS/RDS",
                            "CPUUtilization",
                            "Average",
                            dims.clone(),
                            "GreaterThanThreshold",
                            json!(80),
                            300,
                            3,
                            "missing",
                        ),
                    ));
                    wanted.push((
                        stack,
                        alarm(
                            "Connections",
                            format!("{logical}: more connections than {logical}ConnectionsAlarmThreshold"),
                            "AWS/RDS",
                            "DatabaseConnections",
                            "Maximum",
                            dims,
                            "GreaterThanThreshold",
                            json!("CONNECTIONS"),
                            300,
                            2,
                            "missing",
                        ),
                    ));
                }
                "AWS::ElastiCache::ReplicationGroup" => {
                    let nodes = res.properties["NumCacheClusters"].as_u64().unwrap_or(1);
                    for i in 1..=nodes {
                        let dims = vec![("CacheClusterId", sub(&format!("${{{logical}}}-{i:03}")))];
                        wanted.push((
                            stack,
                            alarm(
                                &format!("Node{i}Cpu"),
                                format!("{logical} node {i}: engine CPU above 80% for 15 minutes"),
                                "AWS/ElastiCache",
                                "EngineCPUUtilization",
                                "Average",
                                dims.clone(),
                                "GreaterThanThreshold",
                                json!(80),
                                300,
                                3,
                                "missing",
                            ),
                        ));
                        wanted.push((
                            stack,
                            alarm(
                                &format!("Node{i}Memory"),
                                format!("{logical} node {i}: memory above 80% of maxmemory"),
                                "AWS/ElastiCache",
                                "DatabaseMemoryUsagePercentage",
                                "Average",
                                dims.clone(),
                                "GreaterThanThreshold",
                                json!(80),
                                300,
                                3,
                                "missing",
                            ),
                        ));
                        wanted.push((
                            stack,
                            alarm(
                                &format!("Node{i}Evictions"),
                                format!(
                                    "{logical} node {i}: more than 1000 keys evicted in 5 minutes, 3 times running"
                                ),
                                "AWS/ElastiCache",
                                "Evictions",
                                "Sum",
                                dims,
                                "GreaterThanThreshold",
                                json!(1000),
                                300,
                                3,
                                "notBreaching",
                            ),
                        ));
                    }
                }
                "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                    let application = res.properties["Type"] == "application";
                    let lb = get_att(logical, "LoadBalancerFullName");
                    let namespace = if application { "AWS/ApplicationELB" } else { "AWS/NetworkELB" };
                    if application {
                        wanted.push((
                            stack,
                            alarm(
                                "Elb5xx",
                                format!("{logical}: the load balancer answered 5xx more than 10 times in 5 minutes"),
                                namespace,
                                "HTTPCode_ELB_5XX_Count",
                                "Sum",
                                vec![("LoadBalancer", lb.clone())],
                                "GreaterThanThreshold",
                                json!(10),
                                300,
                                1,
                                "notBreaching",
                            ),
                        ));
                        wanted.push((
                            stack,
                            alarm(
                                "Target5xx",
                                format!("{logical}: the targets answered 5xx more than 10 times in 5 minutes"),
                                namespace,
                                "HTTPCode_Target_5XX_Count",
                                "Sum",
                                vec![("LoadBalancer", lb.clone())],
                                "GreaterThanThreshold",
                                json!(10),
                                300,
                                1,
                                "notBreaching",
                            ),
                        ));
                    }
                    for (group, g) in &resources {
                        if g.ty != "AWS::ElasticLoadBalancingV2::TargetGroup" || g.node != res.node {
                            continue;
                        }
                        let a = Alarm {
                            logical: format!("{group}UnhealthyAlarm"),
                            ..alarm(
                                "",
                                format!("{group}: a target of {logical} failed its health checks for 2 minutes"),
                                namespace,
                                "UnHealthyHostCount",
                                "Maximum",
                                vec![
                                    ("LoadBalancer", lb.clone()),
                                    ("TargetGroup", get_att(group, "TargetGroupFullName")),
                                ],
                                "GreaterThanThreshold",
                                json!(0),
                                60,
                                2,
                                "notBreaching",
                            )
                        };
                        wanted.push((stack, a));
                    }
                }
                _ => {}
            }
        }
    }
    if wanted.is_empty() {
        return;
    }
    topic(l);
    for (stack, a) in wanted {
        let topic = l.import(stack, NET, "AlarmTopicArn", "String");
        let threshold = if a.threshold == "CONNECTIONS" {
            let name = a.logical.trim_end_matches("ConnectionsAlarm").to_string();
            l.param(
                stack,
                &format!("{name}ConnectionsAlarmThreshold"),
                Parameter::new(
                    "Number",
                    &format!(
                        "Connections to `{name}` that raise an alarm (below the instance class's max_connections)"
                    ),
                )
                .default(300)
                .range(1, 100_000),
            )
        } else {
            a.threshold
        };
        let dimensions: Vec<Value> = a.dimensions.into_iter().map(|(k, v)| json!({"Name": k, "Value": v})).collect();
        let mut res = Resource::new(
            "AWS::CloudWatch::Alarm",
            json!({
                "AlarmDescription": a.description,
                "Namespace": a.namespace,
                "MetricName": a.metric,
                "Statistic": a.statistic,
                "Dimensions": dimensions,
                "ComparisonOperator": a.comparison,
                "Threshold": threshold,
                "Period": a.period,
                "EvaluationPeriods": a.periods,
                "TreatMissingData": a.missing,
                "AlarmActions": [topic.clone()],
                "OKActions": [topic],
            }),
        );
        if let Some(n) = &a.node {
            res = res.node(n);
        }
        l.add(stack, &a.logical, res);
    }
}

/// The alarm topic of the network stack, encrypted with its key (whose policy lets CloudWatch
/// publish), and the optional email subscription.
fn topic(l: &mut Lowering<'_>) {
    let email = l.settings.alarm_email.clone().unwrap_or_default();
    l.param(
        NET,
        "AlarmEmail",
        Parameter::new("String", "Address subscribed to the alarm topic (configuration `alarms.email`); empty: none")
            .known(email.as_str()),
    );
    l.stack(NET).conditions.insert("HasAlarmEmail".into(), json!({"Fn::Not": [{"Fn::Equals": [r("AlarmEmail"), ""]}]}));
    if let Some(key) = l.stack(NET).resources.get_mut("NetworkKmsKey") {
        if let Some(list) = key.properties["KeyPolicy"]["Statement"].as_array_mut() {
            list.push(json!({
                "//": "CloudWatch publishes the alarms to the encrypted topic: it needs a data key",
                "Sid": "CloudWatchPublishesAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
            }));
        }
        key.comment = Some("KMS key of the network stack: the VPC flow log group and the alarm topic".into());
        key.properties["Description"] = sub("${AWS::StackName}: the VPC flow log group and the alarm topic");
    }
    l.add(
        NET,
        "AlarmTopic",
        Resource::new(
            "AWS::SNS::Topic",
            json!({"DisplayName": sub("${AWS::StackName} alarms"), "KmsMasterKeyId": r("NetworkKmsKey")}),
        )
        .comment("the CloudWatch alarms of every stack notify here"),
    );
    l.add(
        NET,
        "AlarmTopicPolicy",
        Resource::new(
            "AWS::SNS::TopicPolicy",
            json!({
                "Topics": [r("AlarmTopic")],
                "PolicyDocument": policy(vec![json!({
                    "Sid": "CloudWatchAlarmsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": r("AlarmTopic"),
                    "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
                })]),
            }),
        ),
    );
    l.add(
        NET,
        "AlarmEmailSubscription",
        Resource::new(
            "AWS::SNS::Subscription",
            json!({"TopicArn": r("AlarmTopic"), "Protocol": "email", "Endpoint": r("AlarmEmail")}),
        )
        .condition("HasAlarmEmail")
        .comment("alarms.email: AWS sends a confirmation email first"),
    );
    l.output(NET, "AlarmTopicArn", r("AlarmTopic"), "SNS topic the CloudWatch alarms notify");
}

/// The Elastic Load Balancing account of the regions opened before August 2022, which writes
/// ALB access logs there; newer regions use the `logdelivery.elasticloadbalancing.amazonaws.com`
/// service principal (AWS: "Enable access logs for your Application Load Balancer").
const ELB_LOG_ACCOUNTS: &[(&str, &str)] = &[
    ("us-east-1", "127311923021"),
    ("us-east-2", "033677994240"),
    ("us-west-1", "027434742980"),
    ("us-west-2", "797873946194"),
    ("af-south-1", "098369216593"),
    ("ap-east-1", "754344448648"),
    ("ap-south-1", "718504428378"),
    ("ap-northeast-1", "582318560864"),
    ("ap-northeast-2", "600734575887"),
    ("ap-northeast-3", "383597477331"),
    ("ap-southeast-1", "114774131450"),
    ("ap-southeast-2", "783225319266"),
    ("ca-central-1", "985666609251"),
    ("eu-central-1", "054676820928"),
    ("eu-west-1", "156460612806"),
    ("eu-west-2", "652711504416"),
    ("eu-west-3", "009996457667"),
    ("eu-south-1", "635631232127"),
    ("eu-north-1", "897822967062"),
    ("me-south-1", "076674570225"),
    ("sa-east-1", "507241528517"),
    ("us-gov-west-1", "048591011584"),
    ("us-gov-east-1", "190560391635"),
    ("cn-north-1", "638102146993"),
    ("cn-northwest-1", "037604701340"),
];

/// The app stack's bucket for the access logs of its load balancers (`application`: an ALB,
/// else an NLB, whose logs the log delivery service writes), created with the first; its
/// logical id. The load balancer depends on the policy: ELB checks that it may write when
/// logging is switched on.
pub(super) fn load_balancer_log_bucket(l: &mut Lowering<'_>, node: &str, application: bool) -> String {
    const APP: StackId = StackId::App;
    let bucket = "LoadBalancerLogBucket";
    if !l.stack(APP).resources.contains_key(bucket) {
        l.add(
            APP,
            bucket,
            Resource::new(
                "AWS::S3::Bucket",
                super::store::bucket_properties(json!([{
                    "Id": "expire-access-logs",
                    "Status": "Enabled",
                    "ExpirationInDays": 365,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                }])),
            )
            .retain()
            .node(node)
            .comment("the load balancers' access logs, a year (SSE-S3: the only encryption ELB log delivery supports)")
            .checkov_skip(
                "CKV_AWS_18",
                "This bucket receives the load balancers' access logs; logging its own accesses into another bucket would only move the same finding one level down.",
            ),
        );
        l.add(
            APP,
            "LoadBalancerLogBucketPolicy",
            Resource::new(
                "AWS::S3::BucketPolicy",
                json!({"Bucket": r(bucket), "PolicyDocument": policy(vec![crate::plan::cfn::deny_insecure_transport(bucket)])}),
            )
            .node(node),
        );
    }
    let sid = if application { "AlbAccessLogDelivery" } else { "NlbAccessLogDelivery" };
    let region = l.settings.region.clone();
    let Some(res) = l.stack(APP).resources.get_mut("LoadBalancerLogBucketPolicy") else { return bucket.into() };
    let Some(list) = res.properties["PolicyDocument"]["Statement"].as_array_mut() else { return bucket.into() };
    if list.iter().any(|s| s["Sid"] == sid) {
        return bucket.into();
    }
    // `<prefix>/AWSLogs/<account>/...`: each load balancer writes under its id
    let objects = sub(&format!("${{{bucket}.Arn}}/*/AWSLogs/${{AWS::AccountId}}/*"));
    if application {
        let mut principal = json!({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"});
        if let Some((_, account)) = ELB_LOG_ACCOUNTS.iter().find(|(r, _)| *r == region) {
            principal["AWS"] = sub(&format!("arn:${{AWS::Partition}}:iam::{account}:root"));
        }
        list.insert(
            0,
            json!({
                "//": format!("ALB access logs of this account: {region} delivers them as its Elastic Load Balancing account\n(regions opened before August 2022) or as the log delivery service principal (the others)"),
                "Sid": sid,
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": objects,
            }),
        );
    } else {
        list.insert(
            0,
            json!({
                "//": "NLB access logs (TLS listeners) of this account: the log delivery service writes them",
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId"), "s3:x-amz-acl": "bucket-owner-full-control"}},
            }),
        );
        list.insert(
            1,
            json!({
                "//": "the log delivery service reads the bucket's ACL before writing",
                "Sid": "NlbAccessLogDeliveryAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": get_att(bucket, "Arn"),
                "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
            }),
        );
    }
    bucket.into()
}
