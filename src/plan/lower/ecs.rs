//! ECS on Fargate, in the app stack: a cluster per cluster box (container insights on), and
//! per service box a task definition (awsvpc, Fargate, read-only root file system with a
//! writable /tmp, CPU and memory from the workload's settings), its log group, an execution
//! role (the image pull and the logs), a task role whose statements come from the service's
//! arrows (`access::statements`, as the IRSA roles), a security group admitting only the load
//! balancers drawn in front of it, rules into the data stores' security groups from the
//! arrows, and the service itself in the drawn private subnets (no public IP, circuit breaker
//! with rollback, ECS Exec off) with target-tracking CPU auto scaling.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::compute::{fronted_by, log_group, store_ingress, subnets, target_group};
use super::load_balancer::{buildable, built};
use super::store::ec2_text;
use crate::diagnostic::{codes, Diagnostic};
use crate::plan::cfn::{get_att, policy, r, service_trust, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const APP: StackId = StackId::App;
const NET: StackId = StackId::Network;

pub(super) static LOWERER: super::Lowerer =
    super::Lowerer { name: "ecs", kinds: &["aws.ecs-cluster", "aws.ecs-service"], lower };

/// The CPU units Fargate offers, each with the memory sizes (MiB) it accepts.
fn fargate_memory(cpu: u32) -> Vec<u32> {
    match cpu {
        256 => vec![512, 1024, 2048],
        512 => (1..=4).map(|g| g * 1024).collect(),
        1024 => (2..=8).map(|g| g * 1024).collect(),
        2048 => (4..=16).map(|g| g * 1024).collect(),
        4096 => (8..=30).map(|g| g * 1024).collect(),
        8192 => (4..=15).map(|g| g * 4096).collect(),
        _ => (4..=15).map(|g| g * 8192).collect(),
    }
}

/// CPU units from a Kubernetes quantity (`250m`, `0.5`, `1`) or ECS units (`256`).
fn cpu_units(s: &str) -> Option<u32> {
    if let Some(m) = s.strip_suffix('m') {
        return m.parse::<f64>().ok().map(|m| (m * 1024.0 / 1000.0).ceil() as u32);
    }
    let v: f64 = s.parse().ok()?;
    Some(if v < 64.0 { (v * 1024.0).ceil() as u32 } else { v.ceil() as u32 })
}

/// MiB from a Kubernetes quantity (`512Mi`, `1Gi`, `524288Ki`) or ECS MiB (`512`).
fn memory_mib(s: &str) -> Option<u32> {
    let (n, unit) = match s {
        _ if s.ends_with("Gi") => (&s[..s.len() - 2], 1024.0),
        _ if s.ends_with("Mi") => (&s[..s.len() - 2], 1.0),
        _ if s.ends_with("Ki") => (&s[..s.len() - 2], 1.0 / 1024.0),
        _ => (s, 1.0),
    };
    n.parse::<f64>().ok().map(|v| (v * unit).ceil() as u32)
}

/// The smallest Fargate size (CPU units, MiB) with at least the CPU and memory asked for
/// (512 and 1024 when nothing says).
pub(super) fn fargate_size(cpu: Option<&str>, memory: Option<&str>) -> (u32, u32) {
    let want_cpu = cpu.and_then(cpu_units).unwrap_or(512);
    let want_memory = memory.and_then(memory_mib).unwrap_or(0);
    for c in [256, 512, 1024, 2048, 4096, 8192, 16384] {
        if c < want_cpu {
            continue;
        }
        let floor = if want_memory == 0 { 2 * c } else { want_memory };
        if let Some(&m) = fargate_memory(c).iter().find(|&&m| m >= floor) {
            return (c, m);
        }
    }
    (16384, 122_880)
}

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let services: Vec<NodeIndex> = graph.of_kind("aws.ecs-service").collect();
    for n in graph.of_kind("aws.ecs-cluster").collect::<Vec<_>>() {
        cluster(l, Some(n));
    }
    for n in services {
        if buildable(l, n) {
            service(l, n);
        } else {
            let c = graph.component(n);
            l.findings.push(
                Diagnostic::warning(
                    codes::PLAN_UNSUPPORTED,
                    format!("archc does not build the ECS service `{}`: it needs a VPC with subnets to run in", c.id),
                )
                .with_primary(c.span, "ECS service: not built")
                .with_help("draw the VPC and its private subnets around the service"),
            );
        }
    }
}

/// The cluster of service `n`: the cluster box around it or with an arrow to it, else the
/// diagram's first, else one implied cluster (`EcsCluster`).
fn cluster_of(l: &Lowering<'_>, n: NodeIndex) -> Option<NodeIndex> {
    let graph = l.graph;
    graph
        .enclosing(n, "aws.ecs-cluster")
        .or_else(|| graph.incoming(n).map(|(_, a)| a).find(|&a| graph.component(a).is("aws.ecs-cluster")))
        .or_else(|| graph.of_kind("aws.ecs-cluster").next())
}

/// The cluster (logical id) of box `n`, or the implied one; created once.
fn cluster(l: &mut Lowering<'_>, n: Option<NodeIndex>) -> String {
    let (logical, id) = match n {
        Some(n) => {
            let id = l.graph.component(n).id.clone();
            (pascal(&id), Some(id))
        }
        None => ("EcsCluster".to_string(), None),
    };
    if l.stack(APP).resources.contains_key(&logical) {
        return logical;
    }
    let mut res = Resource::new(
        "AWS::ECS::Cluster",
        json!({
            "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
            "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", id.as_deref().map_or("cluster".into(), |i| kebab(i, 40)))))]),
        }),
    )
    .comment(match &id {
        Some(id) => format!("ECS cluster `{id}`: Fargate, container insights on"),
        None => "the ECS cluster of the services (not drawn): Fargate, container insights on".to_string(),
    }.as_str());
    if let Some(id) = &id {
        res = res.node(id);
    }
    l.add(APP, &logical, res);
    l.output(APP, &format!("{logical}Name"), r(&logical), "ECS cluster name");
    logical
}

/// The SSM parameter that names the image a CI-deployed service `id` runs.
pub(super) fn image_parameter_name(project: &str, id: &str) -> String {
    format!("/archc/{project}/{}/image", kebab(id, 60))
}

/// Whether CI deploys service `n` (an arrow `ci --> service` that means `deploys`).
fn deployed_by_ci(l: &Lowering<'_>, n: NodeIndex) -> bool {
    l.graph
        .incoming(n)
        .any(|(e, from)| l.graph.component(from).is("ci.github-actions") && l.graph.connection(e).meaning == "deploys")
}

/// The image of service `id`: the configured one; else, when CI deploys the service, an SSM
/// parameter CI keeps pointing at the image it deployed (data stack, first value a deploy is
/// given), so that an update of the app stack registers its task definition with the image
/// that runs, not the first one; else a parameter a deploy is given.
fn image(l: &mut Lowering<'_>, n: NodeIndex, p: &str, configured: Option<String>) -> Value {
    let graph = l.graph;
    let id = &graph.component(n).id;
    let name = format!("{p}Image");
    if configured.is_none() && deployed_by_ci(l, n) {
        let registry = graph.of_kind("aws.ecr").next().map(|e| super::ci::repository_name(l, e));
        let description = match registry {
            Some(repo) => format!(
                "First image `{id}` runs: <account>.dkr.ecr.<region>.amazonaws.com/{repo}@sha256:... (then CI's)"
            ),
            None => format!("First image `{id}` runs (repository@sha256:...); then the one CI deploys"),
        };
        l.param(StackId::Data, &name, Parameter::new("String", &description).pattern(r"^\S+$"));
        let pointer = format!("{p}ImageParameter");
        let parameter_name = image_parameter_name(&l.settings.project, id);
        l.add(
            StackId::Data,
            &pointer,
            Resource::new(
                "AWS::SSM::Parameter",
                json!({
                    "Name": parameter_name,
                    "Type": "String",
                    "Value": r(&name),
                    "Description": format!("The image ECS service {id} runs: CI writes each image it deploys here; the app stack's task definition reads it"),
                }),
            )
            .node(id)
            .comment("CI overwrites the value (ssm:PutParameter on this name only); CloudFormation sets it again only when the\nparameter above changes, so an update of this stack keeps CI's value"),
        );
        l.output(
            StackId::Data,
            &format!("{pointer}Name"),
            r(&pointer),
            &format!("SSM parameter naming the image `{id}` runs"),
        );
        let imported = format!("{pointer}Name");
        l.import(APP, StackId::Data, &imported, "String");
        return sub(&format!("{{{{resolve:ssm:${{{imported}}}}}}}"));
    }
    let param = match configured {
        Some(image) => Parameter::new("String", &format!("Image `{id}` runs (configured)")).known(image.as_str()),
        None => {
            let registry = graph.of_kind("aws.ecr").next().map(|e| super::ci::repository_name(l, e));
            let description = match registry {
                Some(repo) => format!(
                    "Image `{id}` runs: <account>.dkr.ecr.<region>.amazonaws.com/{repo}@sha256:... (CI registers new task definition revisions with the digest it pushes)"
                ),
                None => format!("Image `{id}` runs (repository@sha256:...): the diagram and its configuration name none"),
            };
            Parameter::new("String", &description).pattern(r"^\S+$")
        }
    };
    l.param(APP, &name, param)
}

/// The ECR arrows of `n` (to or from a registry): what the execution role pulls.
fn registry_arrows(l: &Lowering<'_>, n: NodeIndex) -> Vec<(EdgeIndex, NodeIndex)> {
    let graph = l.graph;
    let mut out: Vec<(EdgeIndex, NodeIndex)> = graph
        .outgoing(n)
        .chain(graph.incoming(n))
        .filter(|(e, b)| {
            graph.component(*b).is("aws.ecr") && graph.connection(*e).style != crate::model::Style::Invisible
        })
        .collect();
    out.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    out
}

/// A store's secret: the data stack output of its ARN, and (variable suffix, JSON key) pairs.
type StoreSecret = (String, Vec<(&'static str, &'static str)>);

/// What the container is told about the data stores its `connects` arrows reach.
struct Connection {
    /// `<STORE>_HOST`, `<STORE>_PORT` (and `<STORE>_NAME` for a database), from the data stack.
    environment: Vec<Value>,
    /// `<STORE>_USERNAME` and `<STORE>_PASSWORD` (a database), `<STORE>_AUTH_TOKEN` (a cache),
    /// injected by ECS from the stores' secrets.
    secrets: Vec<Value>,
    /// What the execution role needs to read those secrets.
    statements: Vec<Value>,
    /// The database passwords among them, which their owner rotates.
    rotating: Vec<super::rotation_restart::RotatingSecret>,
}

/// The connection settings of the data stores `n` connects to (an RDS or Aurora database, an
/// ElastiCache cache), named after the store's id (`db` → `DB_HOST`); a name the workload's
/// `env` sets itself is left to it.
fn connection_settings(
    l: &mut Lowering<'_>,
    n: NodeIndex,
    execution: &str,
    own: &std::collections::BTreeMap<String, String>,
) -> Connection {
    let graph = l.graph;
    let mut out =
        Connection { environment: Vec::new(), secrets: Vec::new(), statements: Vec::new(), rotating: Vec::new() };
    let mut arrows: Vec<(EdgeIndex, NodeIndex)> =
        graph.outgoing(n).filter(|(e, _)| graph.connection(*e).meaning == "connects").collect();
    arrows.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    let mut decrypt: Vec<Why> = Vec::new();
    for (e, b) in arrows {
        let target = graph.component(b);
        let tp = pascal(&target.id);
        let prefix = kebab(&target.id, 40).replace('-', "_").to_ascii_uppercase();
        let outputs = &l.stack(StackId::Data).outputs;
        let (values, secret): (Vec<(&str, String)>, Option<StoreSecret>) =
            if outputs.contains_key(&format!("{tp}EndpointAddress")) {
                (
                    vec![
                        ("HOST", format!("{tp}EndpointAddress")),
                        ("PORT", format!("{tp}EndpointPort")),
                        ("NAME", format!("{tp}DatabaseName")),
                    ],
                    Some((format!("{tp}SecretArn"), vec![("USERNAME", "username"), ("PASSWORD", "password")])),
                )
            } else if outputs.contains_key(&format!("{tp}PrimaryEndpointAddress")) {
                (
                    vec![("HOST", format!("{tp}PrimaryEndpointAddress")), ("PORT", format!("{tp}PrimaryEndpointPort"))],
                    Some((format!("{tp}AuthSecretArn"), vec![("AUTH_TOKEN", "token")])),
                )
            } else {
                continue;
            };
        let mut names = Vec::new();
        for (suffix, output) in values {
            let name = format!("{prefix}_{suffix}");
            if own.contains_key(&name) || !l.stack(StackId::Data).outputs.contains_key(&output) {
                continue;
            }
            let value = l.import(APP, StackId::Data, &output, "String");
            out.environment.push(json!({"Name": name, "Value": value}));
            names.push(name);
        }
        if let Some((output, keys)) = secret {
            if l.stack(StackId::Data).outputs.contains_key(&output) {
                let arn = l.import(APP, StackId::Data, &output, "String");
                let mut any = false;
                for (suffix, key) in keys {
                    let name = format!("{prefix}_{suffix}");
                    if own.contains_key(&name) {
                        continue;
                    }
                    out.secrets.push(json!({"Name": name, "ValueFrom": sub(&format!("${{{output}}}:{key}::"))}));
                    names.push(name);
                    any = true;
                }
                if any && suffix_is_password(&out.secrets, &prefix) {
                    // RDS rotates its managed master secret: ECS reads the password at start
                    out.rotating.push(super::rotation_restart::RotatingSecret { edge: e, store: b, arn: arn.clone() });
                }
                if any {
                    out.statements.push(l.allow(
                        APP,
                        execution,
                        &format!("{tp}Secret"),
                        &[Why::Edge(e)],
                        &["secretsmanager:GetSecretValue"],
                        arn,
                        Some("ECS injects the secret's keys into the container at start"),
                    ));
                    decrypt.push(Why::Edge(e));
                }
            }
        }
        if !names.is_empty() {
            l.built(e, format!("the container's {}", names.join(", ")));
        }
    }
    if !decrypt.is_empty() {
        let key = super::access::reference(
            l,
            APP,
            StackId::Data,
            "DataKmsKeyArn",
            get_att("DataKmsKey", "Arn"),
            "KMS key of the data stack",
        );
        let mut st = l.allow(
            APP,
            execution,
            "DataSecretsDecrypt",
            &decrypt,
            &["kms:Decrypt"],
            key,
            Some("only through Secrets Manager"),
        );
        st["Condition"] =
            json!({"StringEquals": {"kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com")}});
        out.statements.push(st);
    }
    out
}

fn service(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let id = graph.component(n).id.clone();
    let p = pascal(&id);
    let w = l.settings.workload(graph, n);
    let cluster = cluster(l, cluster_of(l, n));
    let (cpu, memory) = fargate_size(w.cpu.as_deref(), w.memory.as_deref());
    let image = image(l, n, &p, w.image.clone());
    if w.image.is_none() {
        let c = graph.component(n);
        let builds = graph.of_kind("ci.github-actions").next().is_some() && graph.of_kind("aws.ecr").next().is_some();
        let what = if builds {
            "CI builds the repository's Dockerfile and deploys it, but the ECR repository is the ci stack's, deployed after the app stack: the first deploy of the app stack needs an image that already exists"
        } else {
            "the service runs the image a deploy is given"
        };
        l.findings.push(
            Diagnostic::warning(
                codes::PLAN_NO_IMAGE,
                format!("no image is configured for the ECS service `{}`: {what}", c.id),
            )
            .with_primary(c.span, "which image runs here?")
            .with_help(format!(
                "set `nodes: {{{}: {{image: ...}}}}` in the ```yaml archc block, or give the {stack} stack `{p}Image` (`archc deploy --parameter {stack}.{p}Image=...`)",
                c.id,
                stack = if deployed_by_ci(l, n) { "data" } else { "app" },
            )),
        );
    }
    let logs = log_group(l, &id);

    // execution role: the image pull (the arrows between the service and the registry) and the logs
    let execution = format!("{p}ExecutionRole");
    let pulls = registry_arrows(l, n);
    let mut exec_statements = super::access::statements(l, APP, &execution, &pulls);
    for (e, _) in &pulls {
        l.built(*e, format!("the image pull of `{execution}`"));
    }
    let connection = connection_settings(l, n, &execution, &w.env);
    exec_statements.extend(connection.statements);
    exec_statements.push(l.allow(
        APP,
        &execution,
        "Logs",
        &[Why::Required("the awslogs driver, which writes the container's output to its log group".into())],
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        get_att(&logs, "Arn"),
        None,
    ));
    l.add(
        APP,
        &execution,
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": format!("ECS execution role of {id}: pulls the image, reads the data stores' secrets, writes the logs"),
                "AssumeRolePolicyDocument": service_trust("ecs-tasks.amazonaws.com"),
                "Policies": [{"PolicyName": "pull-secrets-and-logs", "PolicyDocument": policy(exec_statements)}],
            }),
        )
        .node(&id)
        .comment("what ECS does before the container starts; nothing of the application's"),
    );

    // task role: what the service's arrows call
    let calls: Vec<(EdgeIndex, NodeIndex)> =
        super::access::calls(l, n).into_iter().filter(|(_, b)| !graph.component(*b).is("aws.ecr")).collect();
    let task_role = format!("{p}TaskRole");
    let task_statements = super::access::statements(l, APP, &task_role, &calls);
    let has_task_role = !task_statements.is_empty();
    if has_task_role {
        l.add(
            APP,
            &task_role,
            Resource::new(
                "AWS::IAM::Role",
                json!({
                    "Description": format!("ECS task role of {id}: what its arrows call, nothing else (no access keys)"),
                    "AssumeRolePolicyDocument": policy(vec![json!({
                        "//": "only ECS tasks of this account",
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
                    })]),
                    "Policies": [{"PolicyName": format!("{}-arrows", kebab(&id, 40)), "PolicyDocument": policy(task_statements)}],
                }),
            )
            .node(&id),
        );
        l.output(APP, &format!("{task_role}Arn"), get_att(&task_role, "Arn"), &format!("task role of `{id}`"));
    }
    l.output(APP, &format!("{execution}Arn"), get_att(&execution, "Arn"), &format!("execution role of `{id}`"));

    // task definition
    let mut container = json!({
        "Name": w.name,
        "Image": image,
        "Essential": true,
        "PortMappings": [{"ContainerPort": w.port, "Protocol": "tcp"}],
        "ReadonlyRootFilesystem": true,
        "MountPoints": [{"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": false}],
        "LogConfiguration": {"LogDriver": "awslogs", "Options": {
            "awslogs-group": r(&logs),
            "awslogs-region": r("AWS::Region"),
            "awslogs-stream-prefix": w.name,
        }},
    });
    let mut environment = connection.environment;
    environment.extend(w.env.iter().map(|(k, v)| json!({"Name": k, "Value": v})));
    if !environment.is_empty() {
        container["Environment"] = json!(environment);
    }
    if !connection.secrets.is_empty() {
        container["Secrets"] = json!(connection.secrets);
    }
    if !w.command.is_empty() {
        container["Command"] = json!(w.command);
    }
    let family = format!("{p}TaskDefinition");
    let mut td = json!({
        "Family": sub(&format!("${{AWS::StackName}}-{}", w.name)),
        "RequiresCompatibilities": ["FARGATE"],
        "NetworkMode": "awsvpc",
        "Cpu": cpu.to_string(),
        "Memory": memory.to_string(),
        "RuntimePlatform": {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"},
        "ExecutionRoleArn": get_att(&execution, "Arn"),
        "Volumes": [{"Name": "tmp"}],
        "ContainerDefinitions": [container],
    });
    if has_task_role {
        td["TaskRoleArn"] = get_att(&task_role, "Arn");
    }
    let mut comment = format!(
        "`{id}`: Fargate task of {cpu} CPU units and {memory} MiB; read-only root file system, /tmp writable (task storage)"
    );
    if !w.assumed.is_empty() {
        comment.push_str(&format!("\nassumed (nothing says otherwise): {}", w.assumed.join(", ")));
    }
    l.add(APP, &family, Resource::new("AWS::ECS::TaskDefinition", td).node(&id).comment(&comment));

    // security group: the load balancers in front of it (their rules: the load-balancer lowering)
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
                "GroupDescription": ec2_text(&format!("ECS service {id}: {from}")),
                "VpcId": vpc,
                "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
            }),
        )
        .node(&id)
        .comment(&format!(
            "the tasks of `{id}`: in, {from}; out, the default (the registry, the logs, the data stores)"
        )),
    );
    store_ingress(l, n, &sg);

    // the service
    let mut depends: Vec<String> = Vec::new();
    let mut balancers = Vec::new();
    for (lb, _) in &fronts {
        let lp = pascal(&graph.component(*lb).id);
        for (logical, res) in &l.stack(APP).resources {
            if res.ty == "AWS::ElasticLoadBalancingV2::Listener" && res.properties["LoadBalancerArn"] == r(&lp) {
                depends.push(logical.clone());
            }
        }
        balancers.push(json!({
            "ContainerName": w.name,
            "ContainerPort": w.port,
            "TargetGroupArn": r(&target_group(&graph.component(*lb).id, &id)),
        }));
    }
    let service_subnets = subnets(l, n, "app");
    let mut props = json!({
        "Cluster": r(&cluster),
        "TaskDefinition": r(&family),
        "DesiredCount": w.replicas,
        "LaunchType": "FARGATE",
        "PlatformVersion": "LATEST",
        "NetworkConfiguration": {"AwsvpcConfiguration": {
            "AssignPublicIp": "DISABLED",
            "Subnets": service_subnets,
            "SecurityGroups": [r(&sg)],
        }},
        "DeploymentConfiguration": {
            "DeploymentCircuitBreaker": {"Enable": true, "Rollback": true},
            "MinimumHealthyPercent": 100,
            "MaximumPercent": 200,
        },
        "EnableExecuteCommand": false,
        "PropagateTags": "SERVICE",
        "EnableECSManagedTags": true,
    });
    if !balancers.is_empty() {
        props["LoadBalancers"] = json!(balancers);
        props["HealthCheckGracePeriodSeconds"] = json!(60);
    }
    let depends: Vec<&str> = depends.iter().map(String::as_str).collect();
    l.add(
        APP,
        &p,
        Resource::new("AWS::ECS::Service", props).node(&id).depends_on(&depends).comment(&format!(
            "`{id}`: {} tasks in its subnets, no public IP; a failed deployment rolls back; ECS Exec off",
            w.replicas
        )),
    );
    for (e, a) in graph.incoming(n).collect::<Vec<_>>() {
        if graph.component(a).is("aws.ecs-cluster") && graph.connection(e).meaning == "runs" {
            l.built(e, format!("the service `{p}` in the cluster `{cluster}`"));
        }
    }
    super::rotation_restart::build(l, n, &p, &cluster, &connection.rotating);
    l.output(APP, &format!("{p}ServiceName"), get_att(&p, "Name"), &format!("ECS service name of `{id}`"));
    l.output(APP, &format!("{p}ServiceArn"), r(&p), &format!("ECS service ARN of `{id}`"));

    // auto scaling on CPU
    if w.replicas > 0 {
        let target = format!("{p}ScalableTarget");
        l.add(
            APP,
            &target,
            Resource::new(
                "AWS::ApplicationAutoScaling::ScalableTarget",
                json!({
                    "ServiceNamespace": "ecs",
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "ResourceId": sub(&format!("service/${{{cluster}}}/${{{p}.Name}}")),
                    "MinCapacity": w.replicas,
                    "MaxCapacity": w.replicas * 2,
                }),
            )
            .node(&id)
            .comment(&format!("between {} and {} tasks", w.replicas, w.replicas * 2)),
        );
        l.add(
            APP,
            &format!("{p}CpuScaling"),
            Resource::new(
                "AWS::ApplicationAutoScaling::ScalingPolicy",
                json!({
                    "PolicyName": sub(&format!("${{AWS::StackName}}-{}-cpu", w.name)),
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": r(&target),
                    "TargetTrackingScalingPolicyConfiguration": {
                        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                        "TargetValue": 60,
                        "ScaleInCooldown": 300,
                        "ScaleOutCooldown": 60,
                    },
                }),
            )
            .node(&id)
            .comment("keep the average CPU of the tasks near 60%"),
        );
    }
}

/// Whether `secrets` inject `<prefix>_PASSWORD` (a database's password, not a cache token).
fn suffix_is_password(secrets: &[Value], prefix: &str) -> bool {
    let name = format!("{prefix}_PASSWORD");
    secrets.iter().any(|s| s["Name"] == name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_sizes_round_up_to_what_fargate_offers() {
        assert_eq!(fargate_size(None, None), (512, 1024));
        assert_eq!(fargate_size(Some("250m"), Some("512Mi")), (256, 512));
        assert_eq!(fargate_size(Some("256"), Some("512")), (256, 512));
        assert_eq!(fargate_size(Some("0.5"), Some("3Gi")), (512, 3072));
        assert_eq!(fargate_size(Some("256"), Some("3Gi")), (512, 3072));
        assert_eq!(fargate_size(Some("1"), None), (1024, 2048));
        assert_eq!(fargate_size(Some("2"), Some("1500Mi")), (2048, 4096));
    }
}
