//! The serverless lowerings against the checklist (asserted on the emitted YAML,
//! parsed): Lambda, API Gateway HTTP APIs, DynamoDB, SQS, SNS, EventBridge, a diagram with
//! no VPC and a function inside one; snapshots of both serverless fixtures' stacks.

use std::collections::BTreeMap;

use archc::analysis::{self, Options};
use archc::diagnostic::Diagnostic;
use archc::plan::coverage::EdgeStatus;
use archc::plan::{self, ParamSource, Plan, StackId, Why};
use archc::source::{InputKind, SourceFile};
use serde_json::{json, Value};

use crate::test::root;

const API: &str = "fixtures/architectures/serverless-api.md";
const VPC: &str = "fixtures/architectures/serverless-vpc-events.md";

struct Compiled {
    plan: Plan,
    /// Diagram node → resources.
    components: Vec<plan::ComponentPlan>,
    files: BTreeMap<String, String>,
    findings: Vec<Diagnostic>,
}

fn compile(rel: &str) -> Compiled {
    let path = root().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let file = SourceFile::from_bytes(rel.to_string(), bytes, InputKind::Markdown);
    let analysis = analysis::analyze(file, analysis::config_file_for(&path), &Options::default());
    assert_eq!(analysis.errors(), 0, "{rel} has errors: {:#?}", analysis.diagnostics);
    let graph = analysis.graph.as_ref().expect("a graph");
    let plan = plan::build(graph, &analysis.config).unwrap_or_else(|d| panic!("{rel} does not plan: {d:#?}"));
    let components = plan.components(graph);
    let files = archc::emit::files(&plan, &components);
    let findings = plan.findings.clone();
    Compiled { plan, components, files, findings }
}

fn api() -> &'static Compiled {
    static C: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
    C.get_or_init(|| compile(API))
}

fn vpc() -> &'static Compiled {
    static C: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
    C.get_or_init(|| compile(VPC))
}

/// A YAML value with CloudFormation's short tags as the long forms, as JSON.
fn untag(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => json!(b),
        Y::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Y::String(s) => json!(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(untag).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.as_str().map_or_else(|| format!("{k:?}"), str::to_string), untag(v)))
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = untag(t.value);
            match name {
                "Ref" => json!({ "Ref": inner }),
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (a, b) = s.split_once('.').expect("Resource.Attribute");
                        json!({ "Fn::GetAtt": [a, b] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                other => json!({ format!("Fn::{other}"): inner }),
            }
        }
    }
}

fn template(c: &Compiled, stack: &str) -> Value {
    let text = c.files.get(&format!("cloudformation/{stack}.yaml")).unwrap_or_else(|| panic!("no {stack} stack"));
    untag(serde_yaml::from_str(text).expect("the template is YAML"))
}

fn resource<'v>(t: &'v Value, id: &str) -> &'v Value {
    let r = &t["Resources"][id];
    assert!(r.is_object(), "no resource {id}");
    r
}

fn props<'v>(t: &'v Value, id: &str) -> &'v Value {
    &resource(t, id)["Properties"]
}

fn of_type<'v>(t: &'v Value, ty: &str) -> Vec<(&'v String, &'v Value)> {
    t["Resources"].as_object().expect("Resources").iter().filter(|(_, r)| r["Type"] == ty).collect()
}

fn r(name: &str) -> Value {
    json!({ "Ref": name })
}

fn get_att(a: &str, b: &str) -> Value {
    json!({ "Fn::GetAtt": [a, b] })
}

fn statement<'v>(role: &'v Value, sid: &str) -> &'v Value {
    role["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().into_iter().flatten())
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

fn sids(role: &Value) -> Vec<String> {
    role["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect()
}

fn actions(st: &Value) -> Vec<String> {
    match &st["Action"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn source(c: &Compiled, stack: StackId, param: &str) -> Option<(StackId, String)> {
    match &c.plan.stack(stack)?.parameters.get(param)?.source {
        ParamSource::Output { stack, output } => Some((*stack, output.clone())),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------- snapshots

#[test]
fn serverless_stacks_snapshot() {
    for (name, c) in [("serverless-api", api()), ("serverless-vpc-events", vpc())] {
        for stack in &c.plan.stacks {
            let stack = stack.id.as_str();
            insta::assert_snapshot!(format!("{name}-{stack}"), c.files[&format!("cloudformation/{stack}.yaml")]);
        }
    }
}

// ---------------------------------------------------------------------------------- checklist

/// No VPC drawn: no network or cluster stack, the table in the data stack, the rest in app,
/// and no finding but the one that says the images come from a deploy.
#[test]
fn a_diagram_without_a_vpc_compiles_to_data_app_and_ci() {
    let c = api();
    let stacks: Vec<&str> = c.plan.stacks.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(stacks, ["data", "app", "ci"]);
    let codes: Vec<&str> = c.findings.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["PLN002"], "{:#?}", c.findings);
    assert!(c.findings[0].message.contains("ApiFnImageUri"), "{}", c.findings[0].message);
    let app = template(c, "app");
    assert!(of_type(&app, "AWS::EC2::SecurityGroup").is_empty());
    for (_, f) in of_type(&app, "AWS::Lambda::Function") {
        assert!(f["Properties"]["VpcConfig"].is_null());
    }
    // every node and arrow became something or is explained
    assert_eq!(c.plan.coverage.counts().2, 0, "every node built or explained");
    for (e, status) in &c.plan.coverage.edges {
        assert!(matches!(status, EdgeStatus::Built(_) | EdgeStatus::NothingToBuild(_)), "{e:?}: {status:?}");
    }
}

#[test]
fn function_runs_its_image_with_its_log_group_tracing_and_timeout() {
    let app = template(api(), "app");
    let f = props(&app, "ApiFn");
    assert_eq!(f["PackageType"], "Image");
    assert_eq!(f["Code"]["ImageUri"], r("ApiFnImageUri"));
    let param = &app["Parameters"]["ApiFnImageUri"];
    assert!(param["Default"].is_null(), "a deploy gives the image");
    assert!(param["AllowedPattern"].as_str().expect("pattern").contains("@sha256"));
    assert_eq!(f["TracingConfig"]["Mode"], "Active");
    assert_eq!(f["Timeout"], 30);
    assert_eq!(f["Role"], get_att("ApiFnRole", "Arn"));
    assert_eq!(f["LoggingConfig"]["LogGroup"], r("ApiFnLogGroup"));
    let logs = props(&app, "ApiFnLogGroup");
    assert_eq!(logs["RetentionInDays"], 365);
    assert_eq!(logs["LogGroupName"], json!({"Fn::Sub": "/aws/lambda/${AWS::StackName}-api-fn"}));
    assert_eq!(f["FunctionName"], json!({"Fn::Sub": "${AWS::StackName}-api-fn"}));
    // the environment names what its arrows reach
    assert_eq!(f["Environment"]["Variables"]["ORDERS_TABLE"], r("OrdersTableName"));
    assert_eq!(f["Environment"]["Variables"]["QUEUE_URL"], r("Queue"));
    assert_eq!(source(api(), StackId::App, "OrdersTableName"), Some((StackId::Data, "OrdersTableName".into())));
}

#[test]
fn execution_role_is_its_logs_traces_and_its_arrows() {
    let c = api();
    let app = template(c, "app");
    let role = resource(&app, "ApiFnRole");
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(sids(role), ["WriteOwnLogs", "OrdersItems", "OrdersKms", "QueueSend", "QueueKms"]);
    let logs = statement(role, "WriteOwnLogs");
    assert_eq!(logs["Resource"], get_att("ApiFnLogGroup", "Arn"), "its own log group only");
    assert_eq!(actions(logs), ["logs:CreateLogStream", "logs:PutLogEvents"]);
    let items = statement(role, "OrdersItems");
    assert_eq!(items["Resource"][0], r("OrdersTableArn"));
    assert!(actions(items).contains(&"dynamodb:PutItem".to_string()));
    assert!(!actions(items).iter().any(|a| a.contains('*')));
    assert_eq!(
        statement(role, "OrdersKms")["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"],
        "dynamodb.${AWS::Region}.amazonaws.com"
    );
    assert_eq!(statement(role, "QueueSend")["Resource"], get_att("Queue", "Arn"));
    assert_eq!(
        role["Properties"]["ManagedPolicyArns"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}])
    );
    // every statement traces to an arrow or an AWS requirement
    for sid in sids(role) {
        let g: Vec<_> = c.plan.permissions.iter().filter(|g| g.resource == "ApiFnRole" && g.statement == sid).collect();
        assert!(!g.is_empty(), "{sid} has no reason");
        if sid == "WriteOwnLogs" {
            assert!(matches!(g[0].why, Why::Required(_)));
        } else {
            assert!(g.iter().all(|g| matches!(g.why, Why::Edge(_))), "{sid}");
        }
    }
    // the worker reads its queue, publishes to the topic
    let worker = resource(&app, "WorkerRole");
    let receive = statement(worker, "QueueReceive");
    assert_eq!(
        actions(receive),
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    );
    assert_eq!(statement(worker, "QueueDecrypt")["Resource"], get_att("QueueKmsKey", "Arn"));
    assert_eq!(statement(worker, "TopicPublish")["Resource"], r("Topic"));
}

#[test]
fn http_api_routes_to_the_function_with_logs_throttling_and_a_permission() {
    let app = template(api(), "app");
    assert_eq!(props(&app, "Apigw")["ProtocolType"], "HTTP");
    let stage = props(&app, "ApigwDefaultStage");
    assert_eq!(stage["StageName"], "$default");
    assert_eq!(stage["AccessLogSettings"]["DestinationArn"], get_att("ApigwAccessLogGroup", "Arn"));
    assert!(stage["DefaultRouteSettings"]["ThrottlingRateLimit"].as_u64().is_some());
    let integration = props(&app, "ApigwApiFnIntegration");
    assert_eq!(integration["IntegrationType"], "AWS_PROXY");
    assert_eq!(integration["IntegrationUri"], get_att("ApiFn", "Arn"));
    let route = props(&app, "ApigwApiFnRoute");
    assert_eq!(route["RouteKey"], "ANY /orders", "the arrow's label names the path");
    assert_eq!(route["Target"], json!({"Fn::Sub": "integrations/${ApigwApiFnIntegration}"}));
    let permission = props(&app, "ApigwInvokesApiFn");
    assert_eq!(permission["Principal"], "apigateway.amazonaws.com");
    assert!(permission["SourceArn"]["Fn::Sub"].as_str().expect("sub").contains("${Apigw}/*"));
    assert!(app["Outputs"]["ApigwEndpoint"].is_object());
    // the drawn user pool is a JWT authorizer of every route
    assert_eq!(route["AuthorizationType"], "JWT");
    assert_eq!(route["AuthorizerId"], r("ApigwAuthorizer"));
    assert!(resource(&app, "ApigwApiFnRoute")["Metadata"].is_null(), "no checkov skip with an authorizer");
    let auth = props(&app, "ApigwAuthorizer");
    assert_eq!(auth["AuthorizerType"], "JWT");
    assert_eq!(
        auth["JwtConfiguration"],
        json!({"Issuer": r("PoolUserPoolIssuer"), "Audience": [r("PoolUserPoolClientId")]})
    );
    assert_eq!(source(api(), StackId::App, "PoolUserPoolIssuer"), Some((StackId::Data, "PoolUserPoolIssuer".into())));
    let data = template(api(), "data");
    assert_eq!(data["Outputs"]["PoolUserPoolIssuer"]["Value"], json!({"Fn::Sub": "https://${Pool.ProviderURL}"}));
    let pool = resource(&data, "Pool");
    assert_eq!(pool["DeletionPolicy"], "Retain");
    assert_eq!(pool["Properties"]["DeletionProtection"], "ACTIVE");
    assert_eq!(props(&data, "PoolClient")["GenerateSecret"], false);
    // without a user pool the route says why it has no authorizer
    let app = template(vpc(), "app");
    assert_eq!(resource(&app, "ApigwReportFnRoute")["Metadata"]["checkov"]["skip"][0]["id"], "CKV_AWS_309");
}

#[test]
fn a_drawn_key_is_a_customer_key_its_callers_use() {
    let c = vpc();
    let data = template(c, "data");
    let key = resource(&data, "ExportsKey");
    assert_eq!(key["Type"], "AWS::KMS::Key");
    assert_eq!(key["Properties"]["EnableKeyRotation"], true);
    let app = template(c, "app");
    let st = statement(resource(&app, "ReportFnRole"), "ExportsKeyUse");
    assert_eq!(st["Resource"], r("ExportsKeyKeyArn"));
    assert_eq!(actions(st), ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]);
    // a dotted arrow from the key to the function: it encrypts the function's environment
    let f = resource(&app, "ReportFn");
    assert_eq!(f["Properties"]["KmsKeyArn"], r("ExportsKeyKeyArn"));
    let skips = f["Metadata"]["checkov"]["skip"].to_string();
    assert!(!skips.contains("CKV_AWS_173"), "{skips}");
    assert_eq!(actions(statement(resource(&app, "ReportFnRole"), "ExportsKeyDecryptEnvironment")), ["kms:Decrypt"]);
}

/// A queue a function draws a dotted arrow to is its dead-letter queue, and has none itself.
#[test]
fn a_drawn_dead_letter_queue_is_the_functions() {
    let app = template(vpc(), "app");
    assert_eq!(props(&app, "NotifyFn")["DeadLetterConfig"]["TargetArn"], get_att("NotifyDlq", "Arn"));
    assert!(app["Resources"]["NotifyFnDeadLetterQueue"].is_null());
    assert!(app["Resources"]["NotifyDlqDeadLetterQueue"].is_null());
    assert!(props(&app, "NotifyDlq")["RedrivePolicy"].is_null());
    assert_eq!(statement(resource(&app, "NotifyFnRole"), "DeadLetterQueue")["Resource"], get_att("NotifyDlq", "Arn"));
}

#[test]
fn table_is_on_demand_recoverable_encrypted_and_protected() {
    let data = template(api(), "data");
    let t = resource(&data, "Orders");
    assert_eq!(t["DeletionPolicy"], "Retain");
    let p = &t["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(p["SSESpecification"], json!({"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": r("DataKmsKey")}));
    assert_eq!(p["DeletionProtectionEnabled"], true);
    assert_eq!(p["KeySchema"], json!([{"AttributeName": "orderId", "KeyType": "HASH"}]), "nodes.orders.partition_key");
    assert!(p["StreamSpecification"].is_null(), "no arrow reads its stream");
    // a sort key and a stream when configured and drawn
    let data = template(vpc(), "data");
    let p = props(&data, "Events");
    assert_eq!(p["KeySchema"][1], json!({"AttributeName": "at", "KeyType": "RANGE"}));
    assert_eq!(p["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
}

#[test]
fn queue_is_encrypted_with_a_dead_letter_queue_and_feeds_its_function() {
    let app = template(api(), "app");
    let q = props(&app, "Queue");
    assert_eq!(q["KmsMasterKeyId"], get_att("QueueKmsKey", "Arn"));
    assert_eq!(q["RedrivePolicy"]["deadLetterTargetArn"], get_att("JobsDlq", "Arn"), "the drawn DLQ");
    assert!(app["Resources"]["QueueDeadLetterQueue"].is_null(), "no second dead-letter queue");
    assert_eq!(q["VisibilityTimeout"], 180, "six times the function timeout");
    let m = props(&app, "QueueToWorker");
    assert_eq!(m["EventSourceArn"], get_att("Queue", "Arn"));
    assert_eq!(m["FunctionName"], r("Worker"));
    assert_eq!(props(&app, "Topic")["KmsMasterKeyId"], "alias/aws/sns");
    // a queue without a drawn DLQ gets its own
    let app = template(vpc(), "app");
    assert_eq!(
        props(&app, "AlertsQ")["RedrivePolicy"]["deadLetterTargetArn"],
        get_att("AlertsQDeadLetterQueue", "Arn")
    );
}

#[test]
fn schedule_rule_invokes_its_function_which_has_a_dead_letter_queue() {
    let app = template(api(), "app");
    let rule = props(&app, "Nightly");
    assert_eq!(rule["ScheduleExpression"], "cron(0 3 * * ? *)");
    assert_eq!(rule["Targets"][0]["Arn"], get_att("Reconcile", "Arn"));
    let p = props(&app, "NightlyInvokesReconcile");
    assert_eq!(p["Principal"], "events.amazonaws.com");
    assert_eq!(p["SourceArn"], get_att("Nightly", "Arn"));
    assert_eq!(props(&app, "Reconcile")["DeadLetterConfig"]["TargetArn"], get_att("ReconcileDeadLetterQueue", "Arn"));
    assert!(props(&app, "ApiFn")["DeadLetterConfig"].is_null(), "invoked synchronously");
}

#[test]
fn function_in_subnets_gets_its_security_group_and_reaches_postgres() {
    let c = vpc();
    let app = template(c, "app");
    let f = props(&app, "ReportFn");
    assert_eq!(f["VpcConfig"]["SecurityGroupIds"], json!([r("ReportFnSecurityGroup")]));
    assert_eq!(f["VpcConfig"]["SubnetIds"], json!([r("AppSubnet1Id"), r("AppSubnet2Id")]));
    assert_eq!(source(c, StackId::App, "AppSubnet1Id"), Some((StackId::Network, "AppSubnet1Id".into())));
    let ingress = props(&app, "DbFromReportFn");
    assert_eq!(ingress["GroupId"], r("DbSecurityGroupId"));
    assert_eq!(ingress["SourceSecurityGroupId"], r("ReportFnSecurityGroup"));
    assert_eq!(ingress["FromPort"], 5432);
    assert_eq!(source(c, StackId::App, "DbSecurityGroupId"), Some((StackId::Data, "DbSecurityGroupId".into())));
    let role = resource(&app, "ReportFnRole");
    let managed = role["Properties"]["ManagedPolicyArns"].to_string();
    assert!(managed.contains("service-role/AWSLambdaVPCAccessExecutionRole"), "{managed}");
    // the functions outside the VPC are not attached
    assert!(props(&app, "NotifyFn")["VpcConfig"].is_null());
    // zip code from the configured directory
    assert_eq!(f["PackageType"], "Zip");
    assert_eq!(f["Runtime"], "nodejs22.x");
    assert_eq!(f["Code"], json!({"S3Bucket": r("LambdaCodeBucket"), "S3Key": r("ReportFnCodeKey")}));
    assert_eq!(app["Parameters"]["ReportFnCodeKey"]["Default"], "reports/report-fn.zip");
}

#[test]
fn topics_rules_and_streams_deliver_with_their_permissions() {
    let c = vpc();
    let app = template(c, "app");
    let sub = props(&app, "AlertsToAlertsQ");
    assert_eq!(sub["Protocol"], "sqs");
    assert_eq!(sub["Endpoint"], get_att("AlertsQ", "Arn"));
    let policy = &props(&app, "AlertsQPolicy")["PolicyDocument"]["Statement"][0];
    assert_eq!(policy["Principal"]["Service"], "sns.amazonaws.com");
    assert_eq!(policy["Condition"]["ArnEquals"]["aws:SourceArn"], r("Alerts"));
    let audit = &props(&app, "AuditQPolicy")["PolicyDocument"]["Statement"][0];
    assert_eq!(audit["Principal"]["Service"], "events.amazonaws.com");
    assert_eq!(audit["Condition"]["ArnEquals"]["aws:SourceArn"], get_att("AuditRule", "Arn"));
    assert_eq!(props(&app, "AuditRule")["EventPattern"], json!({"source": ["reports"]}));
    // the key lets exactly the services that send to queues encrypt for them
    let key = props(&app, "QueueKmsKey")["KeyPolicy"]["Statement"].as_array().expect("statements").clone();
    let services: Vec<&str> = key.iter().filter_map(|s| s["Principal"]["Service"].as_str()).collect();
    assert_eq!(services, ["events.amazonaws.com", "sns.amazonaws.com"]);
    // a topic invokes a function through a subscription and a permission
    assert_eq!(props(&app, "AlertsToNotifyFn")["Protocol"], "lambda");
    assert_eq!(props(&app, "AlertsInvokesNotifyFn")["SourceArn"], r("Alerts"));
    // a table stream is an event source mapping, read with the function's role
    let m = props(&app, "EventsStreamToStreamFn");
    assert_eq!(m["EventSourceArn"], r("EventsStreamArn"));
    assert_eq!(source(c, StackId::App, "EventsStreamArn"), Some((StackId::Data, "EventsStreamArn".into())));
    assert!(
        actions(statement(resource(&app, "StreamFnRole"), "EventsStream")).contains(&"dynamodb:GetRecords".to_string())
    );
    // PutEvents on the default bus, from its arrow
    let put = statement(resource(&app, "ReportFnRole"), "AuditRulePutEvents");
    assert!(put["Resource"]["Fn::Sub"].as_str().expect("sub").ends_with(":event-bus/default"));
    assert!(c.findings.is_empty(), "{:#?}", c.findings);
}

/// Compiling the same diagram twice gives the same bytes.
#[test]
fn serverless_output_is_deterministic() {
    let again = compile(API);
    assert_eq!(again.files, api().files);
}

/// The every-kind fixture's serverless boxes are built (the coverage test only asks that
/// they be built or reported).
#[test]
fn every_kind_fixture_builds_the_serverless_boxes() {
    let c = compile("fixtures/coverage/every-kind.md");
    let built = |node: &str| {
        let comp = c.components.iter().find(|p| p.node == node).unwrap_or_else(|| panic!("no node {node}"));
        comp.resources.iter().map(|(stack, _, ty)| format!("{stack} {ty}")).collect::<Vec<_>>()
    };
    assert!(built("fn").contains(&"app AWS::Lambda::Function".to_string()));
    assert!(built("apigw").contains(&"app AWS::ApiGatewayV2::Api".to_string()));
    assert!(built("ddb").contains(&"data AWS::DynamoDB::Table".to_string()));
    assert!(built("queue").contains(&"app AWS::SQS::Queue".to_string()));
    assert!(built("topic").contains(&"app AWS::SNS::Topic".to_string()));
    assert!(built("bus").contains(&"app AWS::Events::Rule".to_string()));
    assert!(built("pool").contains(&"data AWS::Cognito::UserPool".to_string()));
    assert!(built("key").contains(&"data AWS::KMS::Key".to_string()));
    for kind in [
        "aws.lambda",
        "aws.api-gateway",
        "aws.dynamodb",
        "aws.sqs",
        "aws.sns",
        "aws.eventbridge",
        "aws.cognito",
        "aws.kms",
        "aws.cloudwatch",
    ] {
        let how = plan::built_by(kind).unwrap_or_default();
        assert!(how.contains("lowering"), "{kind}: {how}");
    }
}
