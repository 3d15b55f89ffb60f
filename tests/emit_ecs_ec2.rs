//! Compute outside Kubernetes: the ECS Fargate and EC2 Auto Scaling fixtures against their
//! checklists (asserted on the emitted YAML, parsed), the CI deploy of an ECS service, and
//! snapshots of the app stacks and the workflow.

use std::collections::BTreeMap;

use archc::analysis::{self, Options};
use archc::plan::{self, ParamSource, Plan, StackId, Why};
use archc::source::{InputKind, SourceFile};
use serde_json::{json, Value};

use crate::test::root;

const ECS: &str = "fixtures/architectures/ecs-fargate-web.md";
const EC2: &str = "fixtures/architectures/ec2-web-tier.md";
const NLB: &str = "fixtures/architectures/nlb-game-servers.md";

struct Compiled {
    plan: Plan,
    files: BTreeMap<String, String>,
}

fn compile(rel: &str) -> Compiled {
    let path = root().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let file = SourceFile::from_bytes(rel.to_string(), bytes, InputKind::Markdown);
    let analysis = analysis::analyze(file, analysis::config_file_for(&path), &Options::default());
    assert_eq!(analysis.errors(), 0, "{rel} has errors: {:#?}", analysis.diagnostics);
    let graph = analysis.graph.as_ref().expect("a graph");
    let plan = plan::build(graph, &analysis.config).unwrap_or_else(|d| panic!("{rel} does not plan: {d:#?}"));
    let files = archc::emit::files(&plan, &plan.components(graph));
    Compiled { plan, files }
}

fn ecs() -> &'static Compiled {
    static C: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
    C.get_or_init(|| compile(ECS))
}

fn ec2() -> &'static Compiled {
    static C: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
    C.get_or_init(|| compile(EC2))
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
            let name = tag.trim_start_matches('!').to_string();
            let inner = untag(t.value);
            match name.as_str() {
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

fn props<'v>(t: &'v Value, id: &str) -> &'v Value {
    let r = &t["Resources"][id];
    assert!(r.is_object(), "no resource {id}");
    &r["Properties"]
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

fn source(c: &Compiled, stack: StackId, param: &str) -> Option<(StackId, String)> {
    match &c.plan.stack(stack)?.parameters.get(param)?.source {
        ParamSource::Output { stack, output } => Some((*stack, output.clone())),
        _ => None,
    }
}

/// Statements of a role by Sid.
fn by_sid(role: &Value) -> BTreeMap<String, Value> {
    role["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        .map(|s| (s["Sid"].as_str().expect("sid").to_string(), s))
        .collect()
}

fn actions(st: &Value) -> Vec<String> {
    match &st["Action"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The security-group ingress resources on group `group` (a `Ref`).
fn ingress_on<'v>(t: &'v Value, group: &Value) -> Vec<(&'v String, &'v Value)> {
    of_type(t, "AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .filter(|(_, r)| r["Properties"]["GroupId"] == *group)
        .collect()
}

// ---------------------------------------------------------------------------------- ECS

#[test]
fn ecs_service_runs_on_fargate_in_the_private_subnets_and_rolls_back() {
    let c = ecs();
    let t = template(c, "app");
    let svc = props(&t, "Api");
    assert_eq!(svc["LaunchType"], "FARGATE");
    assert_eq!(svc["PlatformVersion"], "LATEST");
    assert_eq!(svc["Cluster"], r("Cluster"));
    assert_eq!(svc["DesiredCount"], 2);
    let net = &svc["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert_eq!(net["AssignPublicIp"], "DISABLED");
    assert_eq!(net["Subnets"], json!([r("PrivateSubnet1Id"), r("PrivateSubnet2Id")]));
    for (i, p) in ["PrivateSubnet1Id", "PrivateSubnet2Id"].iter().enumerate() {
        assert_eq!(source(c, StackId::App, p), Some((StackId::Network, p.to_string())), "subnet {i}");
    }
    assert_eq!(net["SecurityGroups"], json!([r("ApiSecurityGroup")]));
    assert_eq!(svc["DeploymentConfiguration"]["DeploymentCircuitBreaker"], json!({"Enable": true, "Rollback": true}));
    assert_eq!(svc["EnableExecuteCommand"], false);
    assert_eq!(
        svc["LoadBalancers"],
        json!([{"ContainerName": "api", "ContainerPort": 8080, "TargetGroupArn": r("AlbApiTargetGroup")}])
    );
    let depends = &t["Resources"]["Api"]["DependsOn"];
    assert!(depends.as_array().expect("DependsOn").contains(&json!("AlbHttpsListener")), "{depends}");
    assert_eq!(props(&t, "Cluster")["ClusterSettings"], json!([{"Name": "containerInsights", "Value": "enabled"}]));
}

#[test]
fn ecs_task_definition_follows_the_workload_settings() {
    let t = template(ecs(), "app");
    let td = props(&t, "ApiTaskDefinition");
    assert_eq!(td["NetworkMode"], "awsvpc");
    assert_eq!(td["RequiresCompatibilities"], json!(["FARGATE"]));
    assert_eq!((td["Cpu"].as_str(), td["Memory"].as_str()), (Some("512"), Some("1024")), "cpu 512, memory 1Gi");
    assert_eq!(td["ExecutionRoleArn"], get_att("ApiExecutionRole", "Arn"));
    assert_eq!(td["TaskRoleArn"], get_att("ApiTaskRole", "Arn"));
    let container = &td["ContainerDefinitions"][0];
    // CI deploys the service: the image is the SSM parameter CI keeps up to date (data stack)
    assert_eq!(container["Image"], json!({"Fn::Sub": "{{resolve:ssm:${ApiImageParameterName}}}"}));
    assert_eq!(container["PortMappings"], json!([{"ContainerPort": 8080, "Protocol": "tcp"}]));
    assert_eq!(container["ReadonlyRootFilesystem"], true);
    // the stores' connection settings from the data stack, then the configured env
    let env: Vec<(&str, &Value)> = container["Environment"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| (e["Name"].as_str().expect("name"), &e["Value"]))
        .collect();
    assert_eq!(
        env,
        [
            ("DB_HOST", &r("DbEndpointAddress")),
            ("DB_PORT", &r("DbEndpointPort")),
            ("DB_NAME", &r("DbDatabaseName")),
            ("CACHE_HOST", &r("CachePrimaryEndpointAddress")),
            ("CACHE_PORT", &r("CachePrimaryEndpointPort")),
            ("LOG_LEVEL", &json!("info")),
        ]
    );
    assert_eq!(
        container["Secrets"],
        json!([
            {"Name": "DB_USERNAME", "ValueFrom": {"Fn::Sub": "${DbSecretArn}:username::"}},
            {"Name": "DB_PASSWORD", "ValueFrom": {"Fn::Sub": "${DbSecretArn}:password::"}},
            {"Name": "CACHE_AUTH_TOKEN", "ValueFrom": {"Fn::Sub": "${CacheAuthSecretArn}:token::"}},
        ])
    );
    let logs = &container["LogConfiguration"];
    assert_eq!(logs["LogDriver"], "awslogs");
    assert_eq!(logs["Options"]["awslogs-group"], r("ApiLogGroup"));
    let group = props(&t, "ApiLogGroup");
    assert_eq!(group["RetentionInDays"], 365);
    assert_eq!(group["KmsKeyId"], get_att("AppKmsKey", "Arn"));
    // no image configured: a deploy gives the first one (data stack), CI the next ones, and a
    // finding says so at the box
    let data = template(ecs(), "data");
    assert!(data["Parameters"]["ApiImage"]["Default"].is_null());
    let pointer = props(&data, "ApiImageParameter");
    assert_eq!(pointer["Name"], "/archc/orders/api/image");
    assert_eq!(pointer["Value"], r("ApiImage"));
    assert!(t["Parameters"].get("ApiImage").is_none(), "the app stack takes the parameter's name, not the image");
    assert!(ecs().plan.findings.iter().any(|d| d.code == "PLN002" && d.message.contains("`api`")));
    // the password is read at task start and RDS rotates it: a restart follows each change,
    // said at the arrow
    let said = ecs()
        .plan
        .findings
        .iter()
        .find(|d| {
            d.code == "PLN009" && d.message.contains("ECS injects the password of `db` into `api` when a task starts")
        })
        .expect("PLN009 at the arrow");
    assert_eq!(said.severity, archc::diagnostic::Severity::Info);
    assert!(said.message.contains("the function `ApiRotationRestart` restarts the tasks within 15 minutes"));
}

/// ECS reads the database password at task start and RDS rotates it every 7 days: a function
/// (archc's script, inline) run every 15 minutes by a schedule restarts the service after a
/// change, allowed to describe those secrets and to describe and update this service only.
#[test]
fn an_ecs_service_is_restarted_after_its_database_secret_changes() {
    let t = template(ecs(), "app");
    let f = props(&t, "ApiRotationRestart");
    let script = std::fs::read_to_string(root().join("targets/ecs/rotation-restart.py")).expect("script");
    assert_eq!(f["Code"]["ZipFile"], script.as_str());
    assert!(script.len() < 4096, "inline code is at most 4096 characters");
    assert_eq!((f["Runtime"].as_str(), f["Handler"].as_str()), (Some("python3.13"), Some("index.handler")));
    assert_eq!(f["Role"], get_att("ApiRotationRestartRole", "Arn"));
    let env = &f["Environment"]["Variables"];
    assert_eq!(env["SERVICE"], r("Api"));
    assert_eq!(env["SECRET_ARNS"], r("DbSecretArn"));
    let roles = by_sid(props(&t, "ApiRotationRestartRole"));
    assert_eq!(actions(&roles["WhenTheSecretsChanged"]), ["secretsmanager:DescribeSecret"]);
    assert_eq!(roles["WhenTheSecretsChanged"]["Resource"], serde_json::json!([r("DbSecretArn")]));
    assert_eq!(actions(&roles["RestartTheService"]), ["ecs:DescribeServices", "ecs:UpdateService"]);
    assert_eq!(roles["RestartTheService"]["Resource"], r("Api"));
    assert!(roles.values().all(|st| !st.to_string().contains("GetSecretValue")), "it never reads a value");
    let rule = props(&t, "ApiRotationRestartSchedule");
    assert_eq!(rule["ScheduleExpression"], "rate(15 minutes)");
    assert_eq!(rule["Targets"][0]["Arn"], get_att("ApiRotationRestart", "Arn"));
    let invoke = props(&t, "ApiRotationRestartInvoke");
    assert_eq!(
        (invoke["Principal"].as_str(), &invoke["SourceArn"]),
        (Some("events.amazonaws.com"), &get_att("ApiRotationRestartSchedule", "Arn"))
    );
    assert_eq!(props(&t, "ApiRotationRestartLogGroup")["RetentionInDays"], 365);
}

#[test]
fn ecs_roles_come_from_the_arrows() {
    let c = ecs();
    let t = template(c, "app");
    let exec = by_sid(props(&t, "ApiExecutionRole"));
    assert_eq!(
        exec.keys().map(String::as_str).collect::<Vec<_>>(),
        ["CacheSecret", "DataSecretsDecrypt", "DbSecret", "EcrLogin", "EcrPull", "Logs"]
    );
    assert_eq!(exec["DbSecret"]["Resource"], r("DbSecretArn"));
    assert_eq!(source(c, StackId::App, "DbSecretArn"), Some((StackId::Data, "DbSecretArn".into())));
    assert_eq!(
        exec["DataSecretsDecrypt"]["Condition"]["StringEquals"]["kms:ViaService"],
        json!({"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"})
    );
    assert_eq!(
        exec["EcrPull"]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/orders"})
    );
    assert_eq!(exec["Logs"]["Resource"], get_att("ApiLogGroup", "Arn"));
    let task = by_sid(props(&t, "ApiTaskRole"));
    assert_eq!(task.keys().map(String::as_str).collect::<Vec<_>>(), ["AssetsBucket", "AssetsObjects"]);
    assert_eq!(task["AssetsBucket"]["Resource"], r("AssetsBucketArn"));
    assert_eq!(source(c, StackId::App, "AssetsBucketArn"), Some((StackId::Data, "AssetsBucketArn".into())));
    // every statement has its reason: an arrow, or the log driver
    for (role, sid) in [("ApiTaskRole", "AssetsObjects"), ("ApiExecutionRole", "EcrPull")] {
        assert!(
            c.plan
                .permissions
                .iter()
                .any(|g| g.resource == role && g.statement == sid && matches!(g.why, Why::Edge(_))),
            "{role} {sid}"
        );
    }
    assert!(c
        .plan
        .permissions
        .iter()
        .any(|g| g.resource == "ApiExecutionRole" && g.statement == "Logs" && matches!(g.why, Why::Required(_))));
    assert!(
        !c.plan.findings.iter().any(|d| d.code == "IAM001" || d.code == "PLN003" || d.code == "PLN004"),
        "{:#?}",
        c.plan.findings
    );
}

#[test]
fn ecs_tasks_are_reached_from_the_load_balancer_only_and_reach_the_stores_they_draw() {
    let c = ecs();
    let t = template(c, "app");
    assert!(props(&t, "ApiSecurityGroup")["SecurityGroupIngress"].is_null(), "no inline ingress");
    let into_api = ingress_on(&t, &r("ApiSecurityGroup"));
    assert_eq!(into_api.len(), 1);
    let rule = &into_api[0].1["Properties"];
    assert_eq!((rule["FromPort"].as_u64(), rule["ToPort"].as_u64()), (Some(8080), Some(8080)));
    assert_eq!(rule["SourceSecurityGroupId"], r("AlbSecurityGroup"));
    for (group, port) in [("DbSecurityGroupId", 5432), ("CacheSecurityGroupId", 6379)] {
        let rules = ingress_on(&t, &r(group));
        assert_eq!(rules.len(), 1, "{group}");
        let p = &rules[0].1["Properties"];
        assert_eq!((p["FromPort"].as_u64(), p["SourceSecurityGroupId"].clone()), (Some(port), r("ApiSecurityGroup")));
        assert_eq!(source(c, StackId::App, group), Some((StackId::Data, group.to_string())));
    }
    // the data stack admits nothing by itself (no cluster here)
    let data = template(c, "data");
    for (id, sg) in of_type(&data, "AWS::EC2::SecurityGroup") {
        assert!(sg["Properties"]["SecurityGroupIngress"].is_null(), "{id}");
    }
}

#[test]
fn alb_terminates_tls_redirects_http_and_checks_health() {
    let t = template(ecs(), "app");
    let lb = props(&t, "Alb");
    assert_eq!((lb["Type"].as_str(), lb["Scheme"].as_str()), (Some("application"), Some("internet-facing")));
    assert_eq!(lb["Subnets"], json!([r("PublicSubnet1Id"), r("PublicSubnet2Id")]));
    let attrs: BTreeMap<&str, &str> = lb["LoadBalancerAttributes"]
        .as_array()
        .expect("attributes")
        .iter()
        // the access-log bucket is a `!Ref` (tests/emit_operations.rs checks it)
        .filter_map(|a| Some((a["Key"].as_str()?, a["Value"].as_str()?)))
        .collect();
    assert_eq!(attrs["deletion_protection.enabled"], "true");
    assert_eq!(attrs["routing.http.drop_invalid_header_fields.enabled"], "true");
    let https = props(&t, "AlbHttpsListener");
    assert_eq!((https["Port"].as_u64(), https["Protocol"].as_str()), (Some(443), Some("HTTPS")));
    assert_eq!(https["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_eq!(https["Certificates"], json!([{"CertificateArn": r("CertificateArn")}]));
    let http = props(&t, "AlbHttpListener");
    assert_eq!(http["DefaultActions"][0]["Type"], "redirect");
    assert_eq!(http["DefaultActions"][0]["RedirectConfig"]["Protocol"], "HTTPS");
    let tg = props(&t, "AlbApiTargetGroup");
    assert_eq!((tg["TargetType"].as_str(), tg["Port"].as_u64()), (Some("ip"), Some(8080)));
    assert_eq!(tg["HealthCheckPath"], "/health");
    let sg = props(&t, "AlbSecurityGroup");
    let ports: Vec<u64> =
        sg["SecurityGroupIngress"].as_array().expect("ingress").iter().filter_map(|i| i["FromPort"].as_u64()).collect();
    assert_eq!(ports, [443, 80]);
    assert_eq!(
        sg["SecurityGroupEgress"],
        json!([{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "DestinationSecurityGroupId": r("ApiSecurityGroup"), "Description": "to api on 8080 (requests and health checks)"}])
    );
}

#[test]
fn ecs_service_scales_on_cpu() {
    let t = template(ecs(), "app");
    let target = props(&t, "ApiScalableTarget");
    assert_eq!(target["ScalableDimension"], "ecs:service:DesiredCount");
    assert_eq!((target["MinCapacity"].as_u64(), target["MaxCapacity"].as_u64()), (Some(2), Some(4)));
    let policy = props(&t, "ApiCpuScaling");
    assert_eq!(policy["PolicyType"], "TargetTrackingScaling");
    assert_eq!(
        policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "ECSServiceAverageCPUUtilization"
    );
}

#[test]
fn ci_deploys_the_service_and_passes_exactly_its_two_roles() {
    let c = ecs();
    let t = template(c, "ci");
    let sts = by_sid(props(&t, "GhaDeployRole"));
    assert_eq!(
        sts.keys().map(String::as_str).collect::<Vec<_>>(),
        ["ApiDeploy", "ApiImagePointer", "ApiPassRoles", "EcrLogin", "EcrPush", "EcsTaskDefinitions"]
    );
    assert_eq!(actions(&sts["ApiImagePointer"]), ["ssm:PutParameter"]);
    assert_eq!(
        sts["ApiImagePointer"]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/archc/orders/api/image"})
    );
    assert_eq!(actions(&sts["EcsTaskDefinitions"]), ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]);
    assert_eq!(actions(&sts["ApiDeploy"]), ["ecs:DescribeServices", "ecs:UpdateService"]);
    assert_eq!(sts["ApiDeploy"]["Resource"], r("ApiServiceArn"));
    assert_eq!(source(c, StackId::Ci, "ApiServiceArn"), Some((StackId::App, "ApiServiceArn".into())));
    assert_eq!(sts["ApiPassRoles"]["Resource"], json!([r("ApiExecutionRoleArn"), r("ApiTaskRoleArn")]));
    assert_eq!(
        sts["ApiPassRoles"]["Condition"],
        json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})
    );
    for sid in ["EcsTaskDefinitions", "ApiDeploy", "ApiPassRoles"] {
        assert!(c.plan.permissions.iter().any(|g| g.statement == sid && matches!(g.why, Why::Edge(_))), "{sid}");
    }
}

#[test]
fn workflow_deploys_a_new_task_definition_revision_by_digest() {
    let c = ecs();
    let wf = &c.files[".github/workflows/deploy.yml"];
    let doc: serde_yaml::Value = serde_yaml::from_str(wf).expect("YAML");
    let steps = doc["jobs"]["build-and-deploy"]["steps"].as_sequence().expect("steps");
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    for action in ["aws-actions/amazon-ecs-render-task-definition@", "aws-actions/amazon-ecs-deploy-task-definition@"] {
        let u = uses.iter().find(|u| u.starts_with(action)).unwrap_or_else(|| panic!("{action} in {uses:?}"));
        let sha = &u[action.len()..];
        assert!(sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()), "{u} pinned by SHA");
    }
    let render = steps.iter().find(|s| s["id"].as_str() == Some("render")).expect("render step");
    assert_eq!(render["with"]["image"].as_str(), Some("${{ steps.image.outputs.ref }}"), "the pushed image@digest");
    let deploy = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("amazon-ecs-deploy-task-definition")))
        .expect("deploy step");
    assert_eq!(deploy["with"]["wait-for-service-stability"].as_bool(), Some(true));
    // the family the workflow reads is the task definition's
    let family = doc["env"]["ECS_TASK_FAMILY"].as_str().expect("family");
    let stack = &c.plan.stack(StackId::App).expect("app").name;
    assert_eq!(family, format!("{stack}-api"));
    let t = template(c, "app");
    assert_eq!(props(&t, "ApiTaskDefinition")["Family"], json!({"Fn::Sub": "${AWS::StackName}-api"}));
    assert_eq!(doc["env"]["ECS_CONTAINER"].as_str(), Some("api"));
}

// ---------------------------------------------------------------------------------- EC2

#[test]
fn launch_template_is_imdsv2_only_without_ssh_and_encrypted() {
    let c = ec2();
    let t = template(c, "app");
    let data = &props(&t, "AsgLaunchTemplate")["LaunchTemplateData"];
    assert_eq!(data["MetadataOptions"]["HttpTokens"], "required");
    assert_eq!(data["MetadataOptions"]["HttpPutResponseHopLimit"], 1);
    assert!(data["KeyName"].is_null(), "no SSH key");
    let ebs = &data["BlockDeviceMappings"][0]["Ebs"];
    assert_eq!((ebs["VolumeType"].as_str(), ebs["Encrypted"].as_bool()), (Some("gp3"), Some(true)));
    assert_eq!(data["ImageId"], r("LatestAmiId"));
    let ami = &t["Parameters"]["LatestAmiId"];
    assert_eq!(ami["Type"], "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>");
    assert_eq!(ami["Default"], "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
    assert!(data["UserData"]["Fn::Base64"].as_str().is_some_and(|s| s.contains("dnf install -y nginx")));
    assert_eq!(t["Parameters"]["AsgInstanceType"]["Default"], "t3.small");
    let role = props(&t, "AsgInstanceRole");
    assert_eq!(
        role["ManagedPolicyArns"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}])
    );
    assert!(role["Policies"].is_null(), "no arrow calls an AWS API");
}

#[test]
fn asg_spans_the_app_subnets_behind_the_alb_and_reaches_mysql() {
    let c = ec2();
    let t = template(c, "app");
    let asg = props(&t, "Asg");
    assert_eq!(
        (asg["MinSize"].as_str(), asg["MaxSize"].as_str(), asg["DesiredCapacity"].as_str()),
        (Some("2"), Some("4"), Some("2"))
    );
    assert_eq!(asg["VPCZoneIdentifier"], json!([r("AppSubnet1Id"), r("AppSubnet2Id")]));
    assert_eq!(asg["TargetGroupARNs"], json!([r("AlbAsgTargetGroup")]));
    assert_eq!(asg["HealthCheckType"], "ELB");
    assert_eq!(asg["LaunchTemplate"]["Version"], get_att("AsgLaunchTemplate", "LatestVersionNumber"));
    let tg = props(&t, "AlbAsgTargetGroup");
    assert_eq!((tg["TargetType"].as_str(), tg["Port"].as_u64()), (Some("instance"), Some(80)));
    assert_eq!(tg["HealthCheckPath"], "/health.php");
    let into_web = ingress_on(&t, &r("AsgSecurityGroup"));
    assert_eq!(into_web.len(), 1);
    assert_eq!(into_web[0].1["Properties"]["SourceSecurityGroupId"], r("AlbSecurityGroup"));
    let db = ingress_on(&t, &r("DbSecurityGroupId"));
    assert_eq!(db.len(), 1);
    assert_eq!(db[0].1["Properties"]["FromPort"], 3306);
    assert_eq!(db[0].1["Properties"]["SourceSecurityGroupId"], r("AsgSecurityGroup"));
    assert_eq!(props(&t, "AsgCpuScaling")["PolicyType"], "TargetTrackingScaling");
    assert!(!c.plan.findings.iter().any(|d| d.code.starts_with("PLN") || d.code == "IAM001"), "{:#?}", c.plan.findings);
}

// ---------------------------------------------------------------------------------- NLB

#[test]
fn nlb_passes_tcp_through_one_listener_per_target_port() {
    let c = compile(NLB);
    let t = template(&c, "app");
    let lb = props(&t, "Nlb");
    assert_eq!((lb["Type"].as_str(), lb["Scheme"].as_str()), (Some("network"), Some("internet-facing")));
    let mut listeners: Vec<(u64, Value)> = of_type(&t, "AWS::ElasticLoadBalancingV2::Listener")
        .into_iter()
        .map(|(_, l)| {
            let p = &l["Properties"];
            assert_eq!(p["Protocol"], "TCP");
            (p["Port"].as_u64().expect("port"), p["DefaultActions"][0]["TargetGroupArn"].clone())
        })
        .collect();
    listeners.sort_by_key(|(p, _)| *p);
    assert_eq!(listeners, [(7777, r("NlbGameTargetGroup")), (9000, r("NlbWorkerTargetGroup"))]);
    let game = props(&t, "NlbGameTargetGroup");
    assert_eq!((game["TargetType"].as_str(), game["Protocol"].as_str()), (Some("instance"), Some("TCP")));
    assert_eq!(props(&t, "NlbWorkerTargetGroup")["TargetType"], "ip");
    let sg = props(&t, "NlbSecurityGroup");
    let ports: Vec<u64> =
        sg["SecurityGroupIngress"].as_array().expect("ingress").iter().filter_map(|i| i["FromPort"].as_u64()).collect();
    assert_eq!(ports, [7777, 9000], "no port 80 or 443 on a TCP pass-through");
    assert!(t["Resources"]["NlbSecurityGroup"]["Metadata"].is_null(), "no skip without port 80");
    // the Fargate size rounds up: 250m and 512Mi are 256 units and 512 MiB
    let td = props(&t, "WorkerTaskDefinition");
    assert_eq!((td["Cpu"].as_str(), td["Memory"].as_str()), (Some("256"), Some("512")));
    assert_eq!(t["Parameters"]["WorkerImage"]["Default"], "public.ecr.aws/nginx/nginx:1.27");
    assert_eq!(props(&t, "Game")["MinSize"], "3");
}

/// Two different services behind one ALB: both get a target group on the listener, and the
/// second arrow a PLN004 (no path or host rules); two boxes of one service do not.
#[test]
fn different_services_behind_one_alb_are_reported_at_the_arrow() {
    let diagram = |api: &str, web: &str| {
        format!(
            "# two\n\n```mermaid\nflowchart LR\n  u((Users))\n  subgraph vpc[VPC]\n    subgraph pub[Public subnets]\n      alb[ALB]\n    end\n    subgraph app[Private subnets]\n      api[api ECS Fargate service]\n      web[web ECS Fargate service]\n    end\n  end\n  u --> alb\n  alb --> api\n  alb --> web\n```\n\n```yaml archc\nregion: eu-north-1\nnodes:\n  api: {{port: 8080, image: \"{api}\"}}\n  web: {{port: 8080, image: \"{web}\"}}\n```\n"
        )
    };
    let dir = crate::test::scratch("ecs-two-services");
    std::fs::create_dir_all(&dir).expect("dir");
    for (name, web, warned) in [("different", "example/web:1", true), ("same", "example/api:1", false)] {
        let rel = dir.join(format!("{name}.md"));
        std::fs::write(&rel, diagram("example/api:1", web)).expect("write");
        let c = compile(rel.to_str().expect("path"));
        let t = template(&c, "app");
        let groups = &props(&t, "AlbHttpsListener")["DefaultActions"][0]["ForwardConfig"]["TargetGroups"];
        assert_eq!(groups.as_array().map(Vec::len), Some(2), "{name}");
        let pln004: Vec<&str> =
            c.plan.findings.iter().filter(|d| d.code == "PLN004").map(|d| d.message.as_str()).collect();
        assert_eq!(!pln004.is_empty(), warned, "{name}: {pln004:?}");
        if warned {
            assert!(pln004[0].contains("`alb --> web`"), "{pln004:?}");
        }
    }
}

// ---------------------------------------------------------------------------------- snapshots

#[test]
fn ecs_and_ec2_snapshots() {
    let c = ecs();
    for stack in ["app", "ci"] {
        insta::assert_snapshot!(format!("ecs-fargate-web-{stack}"), c.files[&format!("cloudformation/{stack}.yaml")]);
    }
    insta::assert_snapshot!("ecs-fargate-web-deploy.yml", c.files[".github/workflows/deploy.yml"]);
    insta::assert_snapshot!("ec2-web-tier-app", ec2().files["cloudformation/app.yaml"]);
}
