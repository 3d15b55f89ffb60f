//! Load balancers in front of compute outside Kubernetes (ECS services, EC2 Auto Scaling
//! groups), in the app stack: an ALB (HTTPS listener with the certificate, HTTP only
//! redirecting, invalid headers dropped, deletion protection) or an NLB (TCP listener), a
//! security group, one target group per box its `traffic` arrows reach (ip targets for
//! Fargate, instance targets for EC2) with the workload's health check, and the rule into
//! each target's security group. An ALB in front of Kubernetes workloads is the Kubernetes
//! stage's (an Ingress the AWS Load Balancer Controller reconciles), and so is an NLB in front
//! of Kubernetes (a Service of type LoadBalancer).

use petgraph::stable_graph::NodeIndex;
use serde_json::{json, Value};

use super::compute::{self, subnets, target_group};
use super::store::ec2_text;
use crate::diagnostic::{codes, Diagnostic};
use crate::plan::cfn::{equals, get_att, not, r, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId};

const APP: StackId = StackId::App;
const NET: StackId = StackId::Network;

pub(super) static LOWERER: super::Lowerer =
    super::Lowerer { name: "load-balancer", kinds: &["aws.alb", "aws.nlb"], lower };

/// The TLS policy of the HTTPS and TLS listeners (TLS 1.3 and 1.2 only).
const SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// Whether compute box `n` is built outside Kubernetes: a VPC is drawn and it has subnets.
pub(super) fn buildable(l: &Lowering<'_>, n: NodeIndex) -> bool {
    l.graph.of_kind("aws.vpc").next().is_some() && !super::eks::subnets_of(l, Some(n), "app").is_empty()
}

/// The load balancers built in CloudFormation: those with a target outside Kubernetes that
/// is built, in a VPC with subnets of their tier.
pub(super) fn built(l: &Lowering<'_>, lb: NodeIndex) -> bool {
    l.graph.of_kind("aws.vpc").next().is_some()
        && !super::eks::subnets_of(l, Some(lb), "public").is_empty()
        && compute::targets(l, lb).iter().any(|(_, t)| buildable(l, *t))
}

/// Whether a `traffic` arrow from `lb` reaches something in the cluster (the Kubernetes stage
/// builds the load balancer then).
pub(super) fn fronts_kubernetes(l: &Lowering<'_>, lb: NodeIndex) -> bool {
    let graph = l.graph;
    graph.outgoing(lb).any(|(e, b)| graph.connection(e).meaning == "traffic" && super::store::in_cluster(l, b))
}

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let lbs: Vec<NodeIndex> = graph.of_kinds(&["aws.alb", "aws.nlb"]).collect();
    for lb in lbs {
        let c = graph.component(lb);
        if built(l, lb) {
            load_balancer(l, lb);
        } else if c.is("aws.nlb") && !fronts_kubernetes(l, lb) {
            let why = if compute::targets(l, lb).is_empty() {
                "archc builds NLBs in front of ECS services and EC2 Auto Scaling groups only"
            } else {
                "its targets are not built (no VPC with subnets drawn)"
            };
            l.findings.push(
                Diagnostic::warning(
                    codes::PLAN_UNSUPPORTED,
                    format!("archc does not build the NLB `{}`: {why}", c.id),
                )
                .with_primary(c.span, "NLB: not built")
                .with_help("draw `nlb --> service` to an ECS service or an Auto Scaling group in a VPC, or create it outside archc"),
            );
        }
    }
}

/// The app stack parameter naming CloudFront's origin-facing prefix list, and its condition.
const PREFIX_LIST_PARAM: &str = "CloudFrontOriginPrefixListId";
const PREFIX_LIST_CONDITION: &str = "HasCloudFrontOriginPrefixList";
const NO_PREFIX_LIST_CONDITION: &str = "NoCloudFrontOriginPrefixList";

fn load_balancer(l: &mut Lowering<'_>, lb: NodeIndex) {
    let graph = l.graph;
    let c = graph.component(lb);
    let id = c.id.clone();
    let p = pascal(&id);
    let alb = c.is("aws.alb");
    let public = graph.tier(lb).is_none_or(|t| t == "public");
    let sg = format!("{p}SecurityGroup");
    let vpc = l.import(APP, NET, "VpcId", "AWS::EC2::VPC::Id");
    let lb_subnets = subnets(l, lb, "public");
    let targets: Vec<_> = compute::targets(l, lb).into_iter().filter(|(_, t)| buildable(l, *t)).collect();
    let mut units: Vec<NodeIndex> = Vec::new();
    for (_, t) in &targets {
        if !units.contains(t) {
            units.push(*t);
        }
    }

    // where requests come from: the internet (public subnets), else the VPC
    // an NLB passes TCP through: one listener per target, on the target's port
    let listen: Vec<u16> = if alb {
        vec![443, 80]
    } else {
        let mut ports: Vec<u16> = Vec::new();
        for &t in &units {
            let port = l.settings.workload(graph, t).port;
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        ports
    };
    for (e, _) in graph.incoming(lb).collect::<Vec<_>>() {
        if matches!(graph.connection(e).meaning, "ingress") {
            l.built(e, format!("the listeners of `{p}` and the ingress of `{sg}`"));
        }
    }
    let source = if public { json!("0.0.0.0/0") } else { l.import(APP, NET, "VpcCidr", "String") };
    let from = if public { "the internet" } else { "the VPC" };
    // behind CloudFront: CloudFront's origin-facing addresses only, when their prefix list is
    // given (its id differs by region and no template can look it up)
    let behind_cdn = public && alb && super::edge::fronting_cdn(l, lb).is_some();
    if behind_cdn {
        l.param(
            APP,
            PREFIX_LIST_PARAM,
            Parameter::new(
                "String",
                "the region's managed prefix list com.amazonaws.global.cloudfront.origin-facing (pl-...): only CloudFront reaches the load balancer; empty: the internet, and the X-Origin-Verify header decides",
            )
            .default("")
            .pattern(r"^$|^pl-[0-9a-f]{8,17}$"),
        );
        l.stack(APP).conditions.insert(PREFIX_LIST_CONDITION.into(), not(equals(r(PREFIX_LIST_PARAM), json!(""))));
        l.stack(APP).conditions.insert(NO_PREFIX_LIST_CONDITION.into(), equals(r(PREFIX_LIST_PARAM), json!("")));
    }
    let ingress: Vec<Value> = listen
        .iter()
        .map(|port| {
            let what = match (alb, port) {
                (true, 80) => "HTTP, only redirected to HTTPS",
                (true, _) => "HTTPS",
                (false, _) => "TCP",
            };
            json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": source, "Description": format!("{what} from {from}")})
        })
        .collect();
    let mut egress = Vec::new();
    for &t in &units {
        let w = l.settings.workload(graph, t);
        let tid = &graph.component(t).id;
        egress.push(json!({
            "IpProtocol": "tcp",
            "FromPort": w.port,
            "ToPort": w.port,
            "DestinationSecurityGroupId": r(&format!("{}SecurityGroup", pascal(tid))),
            "Description": ec2_text(&format!("to {tid} on {} (requests and health checks)", w.port)),
        }));
    }
    let mut sg_props = json!({
        "GroupDescription": ec2_text(&format!("load balancer {id}: {} from {from}, to its targets only", listen.iter().map(u16::to_string).collect::<Vec<_>>().join(" and "))),
        "VpcId": vpc,
        "SecurityGroupIngress": ingress,
        "SecurityGroupEgress": egress,
        "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
    });
    if behind_cdn {
        // the way in depends on the prefix list parameter: rules of their own, one condition
        // each (CloudFront reaches the origin on 443 only, and the prefix list weighs ~55 of
        // the group's 60 rules, so port 80 is not opened with it)
        if let Some(o) = sg_props.as_object_mut() {
            o.remove("SecurityGroupIngress");
        }
        for rule in &ingress {
            let port = rule["FromPort"].as_u64().unwrap_or_default();
            let mut props = rule.clone();
            props["GroupId"] = get_att(&sg, "GroupId");
            let mut res = Resource::new("AWS::EC2::SecurityGroupIngress", props)
                .condition(NO_PREFIX_LIST_CONDITION)
                .node(&id)
                .comment("without CloudFront's prefix list: the internet, and the X-Origin-Verify header decides");
            if port == 80 {
                res = res.checkov_skip(
                    "CKV_AWS_260",
                    "port 80 is open to the internet only for the listener that redirects to HTTPS (it serves nothing)",
                );
            }
            l.add(APP, &format!("{p}FromInternet{port}"), res);
        }
        l.add(
            APP,
            &format!("{p}FromCloudFront"),
            Resource::new(
                "AWS::EC2::SecurityGroupIngress",
                json!({"GroupId": get_att(&sg, "GroupId"), "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "SourcePrefixListId": r(PREFIX_LIST_PARAM), "Description": "HTTPS from CloudFront (its origin-facing prefix list)"}),
            )
            .condition(PREFIX_LIST_CONDITION)
            .node(&id)
            .comment("with CloudFront's prefix list: only CloudFront's origin-facing addresses reach the load balancer"),
        );
    }
    let mut sg_resource = Resource::new("AWS::EC2::SecurityGroup", sg_props).node(&id).comment(&format!(
        "`{id}`: in from {from} on {}, out to the targets' port only",
        listen.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
    ));
    if public && listen.contains(&80) && !behind_cdn {
        sg_resource = sg_resource.checkov_skip(
            "CKV_AWS_260",
            "port 80 is open to the internet only for the listener that redirects to HTTPS (it serves nothing)",
        );
    }
    l.add(APP, &sg, sg_resource);

    // target groups, one per built box behind it
    let mut groups: Vec<String> = Vec::new();
    for &t in &units {
        let w = l.settings.workload(graph, t);
        let tc = graph.component(t);
        let tg = target_group(&id, &tc.id);
        let fargate = tc.is("aws.ecs-service");
        let mut props = json!({
            "VpcId": l.import(APP, NET, "VpcId", "AWS::EC2::VPC::Id"),
            "TargetType": if fargate { "ip" } else { "instance" },
            "Protocol": if alb { "HTTP" } else { "TCP" },
            "Port": w.port,
            "HealthCheckEnabled": true,
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPath": w.health_path,
            "HealthCheckIntervalSeconds": 15,
            "HealthyThresholdCount": 2,
            "UnhealthyThresholdCount": 3,
            "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
        });
        if alb {
            props["Matcher"] = json!({"HttpCode": "200-399"});
        }
        l.add(
            APP,
            &tg,
            Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup", props).node(&id).comment(&format!(
                "`{id}` → `{}`: {} targets on port {}, health check GET {}",
                tc.id,
                if fargate { "ip (Fargate tasks)" } else { "instance" },
                w.port,
                w.health_path
            )),
        );
        groups.push(tg.clone());
        // the rule into the target's security group
        let arrows: Vec<String> = targets.iter().filter(|(_, x)| *x == t).map(|(e, _)| l.arrow(*e)).collect();
        let tsg = format!("{}SecurityGroup", pascal(&tc.id));
        let rule = format!("{}From{p}Ingress", pascal(&tc.id));
        l.add(
            APP,
            &rule,
            Resource::new(
                "AWS::EC2::SecurityGroupIngress",
                json!({
                    "GroupId": r(&tsg),
                    "IpProtocol": "tcp",
                    "FromPort": w.port,
                    "ToPort": w.port,
                    "SourceSecurityGroupId": r(&sg),
                    "Description": ec2_text(&format!("from load balancer {id} on {}", w.port)),
                }),
            )
            .node(&tc.id)
            .comment(&format!(
                "{}: port {} of `{}` from the load balancer's security group only",
                arrows.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", "),
                w.port,
                tc.id
            )),
        );
        for (e, x) in &targets {
            if *x == t {
                l.built(*e, format!("the target group `{tg}` and the ingress rule `{rule}`"));
            }
        }
    }

    let mut attributes = vec![json!({"Key": "deletion_protection.enabled", "Value": "true"})];
    if alb {
        attributes.push(json!({"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}));
    } else {
        attributes.push(json!({"Key": "load_balancing.cross_zone.enabled", "Value": "true"}));
    }
    let log_bucket = super::operations::load_balancer_log_bucket(l, &id, alb);
    attributes.push(json!({"Key": "access_logs.s3.enabled", "Value": "true"}));
    attributes.push(json!({"Key": "access_logs.s3.bucket", "Value": r(&log_bucket)}));
    attributes.push(json!({"Key": "access_logs.s3.prefix", "Value": kebab(&id, 40)}));
    let props = json!({
        "Type": if alb { "application" } else { "network" },
        "Scheme": if public { "internet-facing" } else { "internal" },
        "Subnets": lb_subnets,
        "SecurityGroups": [r(&sg)],
        "LoadBalancerAttributes": attributes,
        "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
    });
    l.add(
        APP,
        &p,
        Resource::new("AWS::ElasticLoadBalancingV2::LoadBalancer", props)
            .depends_on(&["LoadBalancerLogBucketPolicy"])
            .node(&id)
            .comment(&format!(
                "`{id}`: {} {}, deletion protection on (turn it off before deleting the stack)",
                if public { "internet-facing in the public subnets" } else { "internal" },
                if alb { "ALB, invalid header fields dropped" } else { "NLB" }
            )),
    );
    // different workloads behind one ALB listener: without drawn paths or hosts archc spreads
    // requests evenly (what two boxes of one service in two zones mean), and says so
    if alb && units.len() > 1 {
        let first = l.settings.workload(graph, units[0]);
        let same = units.iter().all(|&u| {
            let w = l.settings.workload(graph, u);
            (w.port, &w.health_path, &w.image) == (first.port, &first.health_path, &first.image)
        });
        if !same {
            let names: Vec<String> = units.iter().map(|&u| format!("`{}`", graph.component(u).id)).collect();
            for (e, t) in &targets {
                if *t == units[0] {
                    continue;
                }
                let conn = graph.connection(*e);
                l.findings.push(
                    Diagnostic::warning(
                        codes::PLAN_ARROW_NOT_BUILT,
                        format!(
                            "`{id}` spreads requests evenly over {}: archc builds no path or host rules, so `{}` gets a share of every path",
                            names.join(", "),
                            l.arrow(*e)
                        ),
                    )
                    .with_primary(conn.span, "no routing rule for this arrow")
                    .with_help("add listener rules by hand, or draw one load balancer per service"),
                );
            }
        }
    }
    let forward = json!([{
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": groups.iter().map(|g| json!({"TargetGroupArn": r(g), "Weight": 1})).collect::<Vec<_>>()},
    }]);
    let mut listeners = Vec::new();
    if alb {
        let certificate = certificate(l);
        let https = format!("{p}HttpsListener");
        // behind CloudFront: only requests carrying the edge's secret header are forwarded
        let cdn = super::edge::fronting_cdn(l, lb).map(|n| graph.component(n).id.clone());
        let (default_actions, comment) = match &cdn {
            Some(cdn) => (
                json!([{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403", "ContentType": "text/plain", "MessageBody": "Forbidden"}}]),
                format!("HTTPS (TLS 1.3 and 1.2) with the certificate; 403 to any request without CloudFront `{cdn}`'s\n`{}` header (the rule `{p}OriginVerifyRule` forwards those with it)", super::edge::ORIGIN_HEADER),
            ),
            None if groups.len() > 1 => (
                forward.clone(),
                "HTTPS (TLS 1.3 and 1.2) with the certificate; requests spread evenly over the target groups".to_string(),
            ),
            None => (forward.clone(), "HTTPS (TLS 1.3 and 1.2) with the certificate, to the target group".to_string()),
        };
        l.add(
            APP,
            &https,
            Resource::new(
                "AWS::ElasticLoadBalancingV2::Listener",
                json!({
                    "LoadBalancerArn": r(&p),
                    "Port": 443,
                    "Protocol": "HTTPS",
                    "SslPolicy": SSL_POLICY,
                    "Certificates": [{"CertificateArn": certificate}],
                    "DefaultActions": default_actions,
                }),
            )
            .node(&id)
            .comment(&comment),
        );
        if let Some(cdn) = &cdn {
            let secret = super::edge::origin_secret_resource(l, cdn);
            let header = super::edge::ORIGIN_HEADER;
            l.add(
                APP,
                &format!("{p}OriginVerifyRule"),
                Resource::new(
                    "AWS::ElasticLoadBalancingV2::ListenerRule",
                    json!({
                        "ListenerArn": r(&https),
                        "Priority": 1,
                        "Conditions": [{
                            "Field": "http-header",
                            "HttpHeaderConfig": {
                                "HttpHeaderName": header,
                                "Values": [sub(&format!("{{{{resolve:secretsmanager:${{{secret}}}:SecretString:header}}}}"))],
                            },
                        }],
                        "Actions": forward,
                    }),
                )
                .node(&id)
                .comment(&format!("CloudFront `{cdn}` sends `{header}` with the value of `{secret}` (a dynamic reference,\nresolved at deploy, never in the template): only those requests reach the targets")),
            );
        }
        listeners.push(https);
        let http = format!("{p}HttpListener");
        l.add(
            APP,
            &http,
            Resource::new(
                "AWS::ElasticLoadBalancingV2::Listener",
                json!({
                    "LoadBalancerArn": r(&p),
                    "Port": 80,
                    "Protocol": "HTTP",
                    "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}],
                }),
            )
            .node(&id)
            .comment("HTTP only redirects to HTTPS"),
        );
        listeners.push(http);
    } else {
        for (&t, group) in units.iter().zip(&groups) {
            let port = l.settings.workload(graph, t).port;
            let name = format!("{p}Tcp{port}Listener");
            if l.stack(APP).resources.contains_key(&name) {
                // two targets on one port: the first keeps the listener
                let first = units.iter().find(|&&u| l.settings.workload(graph, u).port == port).copied().unwrap_or(t);
                l.findings.push(
                    Diagnostic::warning(
                        codes::PLAN_UNSUPPORTED,
                        format!(
                            "the NLB `{id}` has two targets on port {port}: only `{}` gets a listener",
                            graph.component(first).id
                        ),
                    )
                    .with_primary(graph.component(t).span, "no listener for this target")
                    .with_help("give the targets different ports (`nodes.<id>.port`), or draw one NLB per target"),
                );
                continue;
            }
            l.add(
                APP,
                &name,
                Resource::new(
                    "AWS::ElasticLoadBalancingV2::Listener",
                    json!({
                        "LoadBalancerArn": r(&p),
                        "Port": port,
                        "Protocol": "TCP",
                        "DefaultActions": [{"Type": "forward", "TargetGroupArn": r(group)}],
                    }),
                )
                .node(&id)
                .comment(&format!(
                    "TCP {port} passed through to `{}` (TLS, if any, ends at the targets)",
                    graph.component(t).id
                )),
            );
            listeners.push(name);
        }
    }
    l.output(APP, &format!("{p}DnsName"), get_att(&p, "DNSName"), &format!("DNS name of the load balancer `{id}`"));
    l.output(
        APP,
        &format!("{p}CanonicalHostedZoneId"),
        get_att(&p, "CanonicalHostedZoneID"),
        &format!("hosted zone of `{id}` (Route 53 alias records)"),
    );
}

/// The ACM certificate of the HTTPS listeners: `certificate_arn`, else a parameter.
fn certificate(l: &mut Lowering<'_>) -> Value {
    let p = Parameter::new("String", "ACM certificate (same region) of the HTTPS listeners (certificate_arn)")
        .pattern(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$");
    let p = match &l.settings.certificate_arn {
        Some(arn) => p.known(arn.as_str()),
        None => p,
    };
    l.param(APP, "CertificateArn", p)
}
