//! The edge and the endpoints: VPC endpoints instead of a NAT gateway (checklist on the
//! emitted templates, parsed, and a snapshot), NET004 on endpoint sets, NAT gateways nothing
//! routes through, a single NAT gateway by label.

use archc::analysis::{self, Options};
use archc::source::{InputKind, SourceFile};
use serde_json::Value;

use crate::emit_cloudformation::{compile, of_type, r, resource, template};

const PRIVATE: &str = "fixtures/architectures/mattermost-private-endpoints.md";

fn service_name(endpoint: &Value) -> String {
    endpoint["Properties"]["ServiceName"]["Fn::Sub"].as_str().expect("!Sub service name").to_string()
}

/// The fixture's checklist: ECR API, ECR DKR and the S3 gateway endpoint, S3 on the private
/// route tables, no NAT gateway, no route to 0.0.0.0/0 from a private subnet; the interface
/// endpoints with private DNS in the app subnets, behind one security group admitting HTTPS
/// from the VPC; what EKS nodes need besides (STS, EC2, Logs, ELB for the controller, EFS).
#[test]
fn private_subnets_reach_aws_through_endpoints_and_not_the_internet() {
    let c = compile(PRIVATE);
    let t = template(&c, "network");
    assert!(of_type(&t, "AWS::EC2::NatGateway").is_empty(), "no NAT gateway");
    assert!(of_type(&t, "AWS::EC2::EIP").is_empty(), "no elastic IP");
    let endpoints = of_type(&t, "AWS::EC2::VPCEndpoint");
    let by_service = |name: &str| -> &Value {
        let want = format!("com.amazonaws.${{AWS::Region}}.{name}");
        endpoints
            .iter()
            .find(|(_, e)| service_name(e) == want)
            .map(|(_, e)| *e)
            .unwrap_or_else(|| panic!("no {name} endpoint"))
    };
    let services: Vec<String> = endpoints.iter().map(|(_, e)| service_name(e)).collect();
    // the nodes' 8, and Secrets Manager for the database secret sync
    assert_eq!(services.len(), 9, "{services:?}");
    assert!(services.contains(&"com.amazonaws.${AWS::Region}.secretsmanager".to_string()), "{services:?}");

    // the private (app) route tables: S3 gateway on each, no default route
    let app_tables: Vec<Value> = of_type(&t, "AWS::EC2::SubnetRouteTableAssociation")
        .into_iter()
        .filter(|(_, a)| {
            let subnet = a["Properties"]["SubnetId"]["Ref"].as_str().expect("subnet");
            subnet.starts_with("PrivApp")
        })
        .map(|(_, a)| a["Properties"]["RouteTableId"].clone())
        .collect();
    assert_eq!(app_tables.len(), 2, "one route table per app subnet");
    let s3 = by_service("s3");
    assert_eq!(s3["Properties"]["VpcEndpointType"], "Gateway");
    assert_eq!(s3["Properties"]["RouteTableIds"].as_array().expect("route tables"), &app_tables);
    for (id, route) in of_type(&t, "AWS::EC2::Route") {
        assert!(!app_tables.contains(&route["Properties"]["RouteTableId"]), "{id}: a route out of a private subnet");
        assert_eq!(route["Properties"]["GatewayId"], r("Igw"), "{id}: only the public subnets route to the internet");
    }

    // interface endpoints: private DNS, the app subnets, one security group
    for name in ["ecr.api", "ecr.dkr", "sts", "ec2", "logs", "elasticloadbalancing", "elasticfilesystem"] {
        let e = &by_service(name)["Properties"];
        assert_eq!(e["VpcEndpointType"], "Interface", "{name}");
        assert_eq!(e["PrivateDnsEnabled"], true, "{name}");
        assert_eq!(e["SubnetIds"], serde_json::json!([r("PrivAppSubnet1"), r("PrivAppSubnet2")]), "{name}");
        assert_eq!(e["SecurityGroupIds"], serde_json::json!([r("VpcEndpointSecurityGroup")]), "{name}");
    }
    let sg = &resource(&t, "VpcEndpointSecurityGroup")["Properties"];
    let ingress = sg["SecurityGroupIngress"].as_array().expect("ingress");
    assert_eq!(ingress.len(), 1);
    assert_eq!((ingress[0]["FromPort"].as_i64(), ingress[0]["ToPort"].as_i64()), (Some(443), Some(443)));
    assert_eq!(ingress[0]["CidrIp"], serde_json::json!({"Fn::GetAtt": ["Vpc", "CidrBlock"]}));

    // what the diagram does not draw is said so, in the template
    let notes = t["Metadata"]["archc"]["Notes"].as_array().expect("notes");
    assert!(notes.iter().any(|n| n["Id"] == "VpcEndpointsCompleted"), "{notes:?}");
    // the cluster API is reachable from the nodes without the internet
    let cluster = template(&c, "cluster");
    let eks = of_type(&cluster, "AWS::EKS::Cluster");
    assert_eq!(eks[0].1["Properties"]["ResourcesVpcConfig"]["EndpointPrivateAccess"], true);
    insta::assert_snapshot!("private-endpoints-network", c.files["cloudformation/network.yaml"]);
}

/// A diagram, analysed: the codes of its diagnostics at `severity` and above, and the plan's.
fn codes(name: &str, text: &str) -> (Vec<String>, Vec<String>) {
    let file = SourceFile::new(format!("{name}.md"), text.to_string(), InputKind::Markdown);
    let analysis = analysis::analyze(file, None, &Options::default());
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == archc::diagnostic::Severity::Error)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    let plan = match (&analysis.graph, errors.is_empty()) {
        (Some(g), true) => archc::plan::build(g, &analysis.config)
            .map(|p| p.findings.iter().map(|d| format!("{}: {}", d.code, d.message)).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    (errors, plan)
}

fn seed_with(from: &str, to: &str) -> String {
    let seed = std::fs::read_to_string(crate::test::root().join(PRIVATE)).expect("fixture");
    assert!(seed.contains(from), "{from}");
    seed.replace(from, to)
}

/// NET004: endpoints instead of a NAT gateway are a way out when the image pulls go through
/// them (ECR API, ECR DKR, S3), or when one box names no service (archc builds the set);
/// otherwise the node group is an error, naming what is missing.
#[test]
fn net004_accepts_endpoints_that_let_nodes_pull_images() {
    let (errors, _) = codes("ok", &std::fs::read_to_string(crate::test::root().join(PRIVATE)).expect("fixture"));
    assert!(errors.is_empty(), "{errors:?}");

    let no_s3 = seed_with("  ng --> s3ep --> s3\n", "").replace("        s3ep[VPC Endpoint S3 gateway]\n", "");
    let no_s3 = no_s3.replace(",vpce,s3ep light", ",vpce light");
    let (errors, _) = codes("no-s3", &no_s3);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("NET004") && errors[0].contains("lack s3"), "{errors:?}");

    let dkr_only = seed_with("Interface endpoints: ECR API, ECR DKR, STS, EC2, CloudWatch Logs", "ECR DKR endpoint");
    let (errors, _) = codes("dkr-only", &dkr_only);
    assert!(errors.len() == 1 && errors[0].contains("lack ecr.api"), "{errors:?}");

    let generic = seed_with("Interface endpoints: ECR API, ECR DKR, STS, EC2, CloudWatch Logs", "VPC endpoints");
    let generic = generic.replace("  ng --> vpce --> ecr\n", "  ng --> vpce\n");
    let (errors, _) = codes("generic", &generic);
    assert!(errors.is_empty(), "{errors:?}");
    let c = {
        let dir = crate::test::scratch("edge-generic");
        let path = dir.join("generic.md");
        std::fs::write(&path, &generic).expect("write");
        crate::emit_cloudformation::compile(path.to_str().expect("utf-8"))
    };
    let t = template(&c, "network");
    let mut services: Vec<String> = of_type(&t, "AWS::EC2::VPCEndpoint").iter().map(|(_, e)| service_name(e)).collect();
    services.sort();
    let mut want: Vec<String> = [
        "ec2",
        "ecr.api",
        "ecr.dkr",
        "elasticfilesystem",
        "elasticloadbalancing",
        "logs",
        "s3",
        "secretsmanager",
        "sts",
    ]
    .iter()
    .map(|s| format!("com.amazonaws.${{AWS::Region}}.{s}"))
    .collect();
    want.sort();
    assert_eq!(services, want, "a box naming no service gets what the nodes (and the database secret sync) need");
}

/// PLN005: a NAT gateway nothing routes through is reported; `Single NAT Gateway` in a label
/// builds one NAT gateway, not one per AZ.
#[test]
fn unused_nat_is_reported_and_a_single_nat_is_built_when_labelled() {
    let seed = std::fs::read_to_string(crate::test::root().join("examples/architecture.md")).expect("seed");
    let two = seed
        .replace("        nat[NAT Gateway]\n", "        nat[NAT Gateway]\n        nat2[NAT Gateway spare]\n")
        .replace("class igw,nat dark;", "class igw,nat,nat2 dark;");
    let (errors, findings) = codes("two-nats", &two);
    assert!(errors.is_empty(), "{errors:?}");
    let unused: Vec<&String> = findings.iter().filter(|f| f.starts_with("PLN005")).collect();
    assert_eq!(unused.len(), 1, "{findings:?}");
    assert!(unused[0].contains("`nat2`"), "{unused:?}");

    let single = seed.replace("nat[NAT Gateway]", "nat[Single NAT Gateway]");
    let dir = crate::test::scratch("edge-single-nat");
    let path = dir.join("single.md");
    std::fs::write(&path, &single).expect("write");
    let c = compile(path.to_str().expect("utf-8"));
    let t = template(&c, "network");
    assert_eq!(of_type(&t, "AWS::EC2::NatGateway").len(), 1, "one NAT gateway");
    let routes: Vec<Value> = of_type(&t, "AWS::EC2::Route")
        .into_iter()
        .filter_map(|(_, rt)| rt["Properties"].get("NatGatewayId").cloned())
        .collect();
    assert_eq!(routes, [r("Nat1"), r("Nat1")], "both app subnets route through the one NAT gateway");
    let per_az = template(&compile("examples/architecture.md"), "network");
    assert_eq!(of_type(&per_az, "AWS::EC2::NatGateway").len(), 2, "the seed: one per AZ");
}

const SITE: &str = "fixtures/architectures/static-site-cloudfront.md";

/// The static-site fixture's checklist: CloudFront HTTPS only with TLSv1.2_2021 and the
/// us-east-1 certificate, the bucket private behind origin access control (its policy in the
/// edge stack names the distribution), the ALB origin over HTTPS with the secret header,
/// managed cache policies, access logs, the web ACL in us-east-1, alias records, and the
/// regional certificate filling the Ingress' `${CertificateArn}`.
#[test]
fn cloudfront_serves_a_private_bucket_and_the_alb_over_https_only() {
    let c = compile(SITE);
    let names: Vec<&str> = c.plan.stacks.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(names, ["network", "cluster", "data", "app", "certificate", "edge", "ci"]);
    let cert_stack = c.plan.stack(archc::plan::StackId::Certificate).expect("certificate stack");
    assert_eq!(cert_stack.id.fixed_region(), Some("us-east-1"));
    let plan_json: Value = serde_json::from_str(&c.files["plan.json"]).expect("plan.json");
    let region_of = |id: &str| {
        plan_json["stacks"].as_array().expect("stacks").iter().find(|s| s["id"] == id).expect("stack")["region"].clone()
    };
    assert_eq!(region_of("certificate"), "us-east-1", "plan.json says where the certificate stack goes");
    assert_eq!(region_of("edge"), Value::Null);
    let readme = &c.files["cloudformation/README.md"];
    assert!(readme.contains("deploy --region us-east-1 --stack-name api-certificate"), "{readme}");
    assert!(readme.contains("deploy --region eu-west-1 --stack-name api-edge"), "{readme}");

    // certificates: DNS-validated in the configured zone
    let zone_param = |t: &Value| t["Parameters"]["HostedZoneId"]["Default"].clone();
    let certificate = template(&c, "certificate");
    let cdn_cert = &resource(&certificate, "CdnCertificate")["Properties"];
    assert_eq!(cdn_cert["DomainName"], "www.example.com");
    assert_eq!(cdn_cert["ValidationMethod"], "DNS");
    assert_eq!(cdn_cert["DomainValidationOptions"][0]["HostedZoneId"], r("HostedZoneId"));
    assert_eq!(zone_param(&certificate), "Z0123456789ABCDEFGHIJ");
    let app = template(&c, "app");
    assert_eq!(resource(&app, "Certificate")["Properties"]["ValidationMethod"], "DNS");
    assert_eq!(app["Outputs"]["CertificateArn"]["Value"], r("Certificate"));
    let ingress = c
        .files
        .iter()
        .find(|(k, _)| k.starts_with("kubernetes/") && k.contains("-ingress-api"))
        .map(|(_, v)| v)
        .expect("an Ingress");
    assert!(ingress.contains("alb.ingress.kubernetes.io/certificate-arn: ${CertificateArn}"), "{ingress}");
    let deploy_values: Vec<&String> = c.plan.kubernetes.deploy_values.iter().map(|(k, _)| k).collect();
    assert!(!deploy_values.iter().any(|k| *k == "CertificateArn"), "a stack output, not a deploy-time value");

    // the web ACL: CLOUDFRONT scope, managed rules, in us-east-1
    let acl = &resource(&certificate, "Waf")["Properties"];
    assert_eq!(acl["Scope"], "CLOUDFRONT");
    let rules: Vec<&str> = acl["Rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["Statement"]["ManagedRuleGroupStatement"]["Name"].as_str().expect("name"))
        .collect();
    assert!(rules.contains(&"AWSManagedRulesCommonRuleSet"), "{rules:?}");

    // the distribution
    let edge = template(&c, "edge");
    let config = &resource(&edge, "Cdn")["Properties"]["DistributionConfig"];
    let viewer = &config["ViewerCertificate"];
    assert_eq!(viewer["AcmCertificateArn"], r("CdnCertificateArn"));
    assert_eq!(viewer["MinimumProtocolVersion"], "TLSv1.2_2021");
    assert_eq!(viewer["SslSupportMethod"], "sni-only");
    assert_eq!(config["Aliases"], serde_json::json!(["www.example.com"]));
    assert_eq!(config["WebACLId"], r("WafArn"));
    let mut behaviors = vec![config["DefaultCacheBehavior"].clone()];
    behaviors.extend(config["CacheBehaviors"].as_array().expect("behaviours").iter().cloned());
    for b in &behaviors {
        assert_eq!(b["ViewerProtocolPolicy"], "redirect-to-https", "{b}");
    }
    assert_eq!(config["DefaultCacheBehavior"]["TargetOriginId"], "site");
    assert_eq!(
        config["DefaultCacheBehavior"]["CachePolicyId"], "658327ea-f89d-4fab-a63d-7e88639e58f6",
        "CachingOptimized"
    );
    let api = &behaviors[1];
    assert_eq!((api["PathPattern"].as_str(), api["TargetOriginId"].as_str()), (Some("/api/*"), Some("alb")));
    assert_eq!(api["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "CachingDisabled");
    let origins = config["Origins"].as_array().expect("origins");
    let origin = |id: &str| origins.iter().find(|o| o["Id"] == id).expect("origin");
    let s3 = origin("site");
    assert_eq!(s3["S3OriginConfig"]["OriginAccessIdentity"], "");
    assert_eq!(s3["OriginAccessControlId"], serde_json::json!({"Fn::GetAtt": ["CdnSiteOriginAccessControl", "Id"]}));
    let alb = origin("alb");
    assert_eq!(alb["CustomOriginConfig"]["OriginProtocolPolicy"], "https-only");
    assert_eq!(alb["CustomOriginConfig"]["OriginSSLProtocols"], serde_json::json!(["TLSv1.2"]));
    assert_eq!(alb["OriginCustomHeaders"][0]["HeaderName"], "X-Origin-Verify");
    let header = alb["OriginCustomHeaders"][0]["HeaderValue"]["Fn::Sub"][0].as_str().expect("dynamic reference");
    assert!(header.starts_with("{{resolve:secretsmanager:"), "the value is never in the template: {header}");
    assert_eq!(config["Logging"]["Bucket"], serde_json::json!({"Fn::GetAtt": ["CdnLogBucket", "DomainName"]}));

    // the bucket stays private; its only policy is the edge stack's, naming the distribution
    let data = template(&c, "data");
    let site = &resource(&data, "Site")["Properties"];
    assert!(site["PublicAccessBlockConfiguration"].as_object().expect("block").values().all(|v| *v == true));
    let policies: Vec<&String> = of_type(&data, "AWS::S3::BucketPolicy").into_iter().map(|(id, _)| id).collect();
    assert!(!policies.iter().any(|id| *id == "SitePolicy"), "one policy per bucket: {policies:?}");
    assert!(policies.iter().any(|id| *id == "UploadsPolicy"), "a bucket CloudFront does not serve keeps its own");
    let bucket_policy = &resource(&edge, "SiteBucketPolicy")["Properties"];
    assert_eq!(bucket_policy["Bucket"], r("SiteBucketName"));
    let statements = bucket_policy["PolicyDocument"]["Statement"].as_array().expect("statements");
    let read = &statements[0];
    assert_eq!(read["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(read["Action"], "s3:GetObject");
    let source = read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"].as_str().expect("source arn");
    assert!(source.ends_with(":distribution/${Cdn}"), "{source}");
    assert!(statements.iter().any(|s| s["Sid"] == "DenyNonTls"));

    // alias records of the domain to the distribution
    for id in ["CdnRecordA", "CdnRecordAaaa"] {
        let rec = &resource(&edge, id)["Properties"];
        assert_eq!(rec["Name"], "www.example.com");
        assert_eq!(rec["AliasTarget"]["HostedZoneId"], "Z2FDTNDATAQYW2");
        assert_eq!(rec["AliasTarget"]["DNSName"], serde_json::json!({"Fn::GetAtt": ["Cdn", "DomainName"]}));
    }
    for stack in ["app", "certificate", "edge"] {
        insta::assert_snapshot!(format!("static-site-{stack}"), c.files[&format!("cloudformation/{stack}.yaml")]);
    }
}

/// Compile a variant of the static-site fixture written to a scratch directory.
fn site_variant(name: &str, edit: impl Fn(String) -> String) -> crate::emit_cloudformation::Compiled {
    let text = edit(std::fs::read_to_string(crate::test::root().join(SITE)).expect("fixture"));
    let path = crate::test::scratch(&format!("edge-{name}")).join(format!("{name}.md"));
    std::fs::write(&path, text).expect("write");
    compile(path.to_str().expect("utf-8"))
}

/// Without a hosted zone no certificate is created: the Ingress' certificate is a deploy-time
/// value and CloudFront's a parameter of the edge stack (an ARN in us-east-1), and no record
/// is written. A drawn Route 53 box without a configured zone id makes the zone a parameter
/// the operator passes. Without a domain, the distribution serves its cloudfront.net name
/// and a load balancer origin is reported, not guessed.
#[test]
fn certificates_need_a_hosted_zone_and_load_balancer_origins_a_domain() {
    let no_zone = site_variant("no-zone", |t| {
        t.replace("route53: {hosted_zone_id: Z0123456789ABCDEFGHIJ}\n", "")
            .replace("  dns[Route 53 hosted zone]\n", "")
            .replace("  users --> dns --> cdn\n", "  users --> cdn\n")
    });
    let kinds: Vec<String> =
        no_zone.plan.stacks.iter().flat_map(|s| s.resources.values().map(|r| r.ty.clone())).collect();
    assert!(!kinds.iter().any(|k| k == "AWS::CertificateManager::Certificate" || k == "AWS::Route53::RecordSet"));
    assert!(no_zone.plan.kubernetes.deploy_values.iter().any(|(k, _)| k == "CertificateArn"));
    let edge = template(&no_zone, "edge");
    let p = &edge["Parameters"]["CdnCertificateArn"];
    assert!(p["Default"].is_null() && p["AllowedPattern"].as_str().is_some_and(|a| a.contains("us-east-1")), "{p}");
    assert!(no_zone.findings.iter().any(|d| d.message.contains("certificate `cert` is not created")));

    let drawn_zone =
        site_variant("drawn-zone", |t| t.replace("route53: {hosted_zone_id: Z0123456789ABCDEFGHIJ}\n", ""));
    for stack in ["app", "certificate", "edge"] {
        let t = template(&drawn_zone, stack);
        let zone = &t["Parameters"]["HostedZoneId"];
        assert_eq!(zone["Type"], "AWS::Route53::HostedZone::Id", "{stack}");
        assert!(zone["Default"].is_null(), "{stack}: the operator passes the drawn zone's id");
    }

    let no_domain = site_variant("no-domain", |t| {
        t.replace("domain: www.example.com\n", "").replace("route53: {hosted_zone_id: Z0123456789ABCDEFGHIJ}\n", "")
    });
    let edge = template(&no_domain, "edge");
    let config = &resource(&edge, "Cdn")["Properties"]["DistributionConfig"];
    assert_eq!(config["ViewerCertificate"], serde_json::json!({"CloudFrontDefaultCertificate": true}));
    assert!(config["Aliases"].is_null());
    assert_eq!(config["Origins"].as_array().expect("origins").len(), 1, "the bucket only");
    assert!(no_domain.findings.iter().any(|d| d.code == "PLN004" && d.message.contains("no `domain`")));
}

/// The seed with `domain` and `route53.hosted_zone_id` configured: the app stack holds the
/// DNS-validated certificate whose output fills the Ingress' `${CertificateArn}`, and its notes
/// say which record to create for the Ingress' ALB (the controller makes it after the stacks).
#[test]
fn the_seed_with_a_hosted_zone_gets_its_certificate_from_the_app_stack() {
    let dir = crate::test::scratch("edge-seed-zone");
    let seed = std::fs::read_to_string(crate::test::root().join("examples/architecture.md")).expect("seed");
    std::fs::write(dir.join("architecture.md"), seed).expect("write");
    std::fs::write(
        dir.join("archc.yaml"),
        "domain: chat.example.com\nroute53: {hosted_zone_id: Z0123456789ABCDEFGHIJ}\n",
    )
    .expect("write");
    let c = compile(dir.join("architecture.md").to_str().expect("utf-8"));
    let names: Vec<&str> = c.plan.stacks.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(names, ["network", "cluster", "data", "app", "ci"]);
    let app = template(&c, "app");
    let cert = &resource(&app, "Certificate")["Properties"];
    assert_eq!(cert["DomainName"], "chat.example.com");
    assert_eq!(cert["DomainValidationOptions"][0]["HostedZoneId"], r("HostedZoneId"));
    assert_eq!(app["Parameters"]["HostedZoneId"]["Default"], "Z0123456789ABCDEFGHIJ");
    let notes = app["Metadata"]["archc"]["Notes"].as_array().expect("notes");
    assert!(notes.iter().any(|n| n["Id"] == "DnsRecordForIngress"), "{notes:?}");
    let source = c.plan.kubernetes.placeholders.iter().find(|(k, _)| k == "CertificateArn").expect("placeholder");
    assert!(source.1.starts_with("app stack output `CertificateArn`"), "{source:?}");
    assert!(!c.plan.kubernetes.deploy_values.iter().any(|(k, _)| k == "CertificateArn"));
}

/// CloudFront in front of an ALB built in CloudFormation (the ECS fixture with a
/// distribution): the ALB forwards only requests carrying the edge's `X-Origin-Verify` value
/// (a listener rule with a dynamic reference to the app stack's secret) and answers 403 to the
/// rest; the edge stack aliases `origin.<domain>` to the ALB, whose certificate names it; the
/// listener uses the certificate the app stack creates, not a parameter.
#[test]
fn cloudfront_before_a_cloudformation_alb_requires_the_origin_header() {
    let text = std::fs::read_to_string(crate::test::root().join("fixtures/architectures/ecs-fargate-web.md"))
        .expect("fixture")
        .replace("  users -->|HTTPS| alb\n", "  users -->|HTTPS| cdn -->|origin| alb\n")
        .replace("  subgraph aws[AWS eu-west-1]\n", "  cdn[CloudFront]\n  subgraph aws[AWS eu-west-1]\n")
        .replace(
            "name: orders\n",
            "name: orders\ndomain: www.example.com\nroute53: {hosted_zone_id: Z0123456789ABCDEFGHIJ}\n",
        );
    let path = crate::test::scratch("edge-cfn-alb").join("cfn-alb.md");
    std::fs::write(&path, text).expect("write");
    let c = compile(path.to_str().expect("utf-8"));
    let app = template(&c, "app");
    let listener = &resource(&app, "AlbHttpsListener")["Properties"];
    assert_eq!(listener["DefaultActions"][0]["Type"], "fixed-response");
    assert_eq!(listener["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"], "403");
    assert_eq!(listener["Certificates"][0]["CertificateArn"], r("Certificate"));
    assert!(app["Parameters"].get("CertificateArn").is_none(), "no certificate parameter");
    let rule = resource(&app, "AlbOriginVerifyRule");
    assert_eq!(rule["Type"], "AWS::ElasticLoadBalancingV2::ListenerRule");
    let p = &rule["Properties"];
    assert_eq!(p["ListenerArn"], r("AlbHttpsListener"));
    let condition = &p["Conditions"][0];
    assert_eq!(condition["Field"], "http-header");
    assert_eq!(condition["HttpHeaderConfig"]["HttpHeaderName"], "X-Origin-Verify");
    assert_eq!(
        condition["HttpHeaderConfig"]["Values"][0],
        serde_json::json!({"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}:SecretString:header}}"})
    );
    assert_eq!(p["Actions"][0]["Type"], "forward");
    assert_eq!(p["Actions"][0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"], r("AlbApiTargetGroup"));
    assert_eq!(resource(&app, "OriginVerifySecret")["Type"], "AWS::SecretsManager::Secret");
    let cert = &resource(&app, "Certificate")["Properties"];
    assert_eq!(cert["SubjectAlternativeNames"], serde_json::json!(["origin.www.example.com"]));
    assert_eq!(cert["DomainValidationOptions"][1]["DomainName"], "origin.www.example.com");
    // the edge: the origin header from the secret, and the alias record to the ALB
    let edge = template(&c, "edge");
    let record = &resource(&edge, "CdnAlbOriginRecord")["Properties"];
    assert_eq!(record["Name"], "origin.www.example.com");
    assert_eq!(record["Type"], "A");
    assert_eq!(record["AliasTarget"]["DNSName"], r("AlbDnsName"));
    assert_eq!(record["AliasTarget"]["HostedZoneId"], r("AlbCanonicalHostedZoneId"));
    for output in ["AlbDnsName", "AlbCanonicalHostedZoneId", "OriginVerifySecretArn"] {
        assert!(app["Outputs"].get(output).is_some(), "app output {output}");
    }
    let dist = &of_type(&edge, "AWS::CloudFront::Distribution")[0].1["Properties"]["DistributionConfig"];
    let origin = dist["Origins"].as_array().expect("origins").iter().find(|o| o["Id"] == "alb").expect("alb origin");
    assert_eq!(origin["DomainName"], "origin.www.example.com");
    assert_eq!(origin["OriginCustomHeaders"][0]["HeaderName"], "X-Origin-Verify");
    // no note asking for the record by hand
    let notes = serde_json::to_string(&edge["Metadata"]).unwrap_or_default();
    assert!(!notes.contains("create the alias record"), "{notes}");
    // CloudFront's origin-facing prefix list, when given, is the only way in (443 only)
    let param = &app["Parameters"]["CloudFrontOriginPrefixListId"];
    assert_eq!(param["Default"], "");
    assert!(app["Conditions"]["HasCloudFrontOriginPrefixList"].is_object());
    assert!(resource(&app, "AlbSecurityGroup")["Properties"].get("SecurityGroupIngress").is_none());
    let cdn = resource(&app, "AlbFromCloudFront");
    assert_eq!(cdn["Condition"], "HasCloudFrontOriginPrefixList");
    assert_eq!(cdn["Properties"]["SourcePrefixListId"], r("CloudFrontOriginPrefixListId"));
    assert_eq!(cdn["Properties"]["FromPort"], 443);
    for port in [443, 80] {
        let open = resource(&app, &format!("AlbFromInternet{port}"));
        assert_eq!(open["Condition"], "NoCloudFrontOriginPrefixList");
        assert_eq!(
            (open["Properties"]["CidrIp"].as_str(), open["Properties"]["FromPort"].as_u64()),
            (Some("0.0.0.0/0"), Some(port))
        );
    }
    assert!(
        app["Resources"].as_object().expect("resources").keys().all(|k| k != "AlbFromCloudFront80"),
        "80 stays closed to CloudFront"
    );
    // and the judges take the conditional rules
    let dir = crate::test::scratch("edge-cfn-alb-judged");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("app.yaml");
    std::fs::write(&file, &c.files["cloudformation/app.yaml"]).expect("write");
    crate::judges::assert_cfn_lint_clean("eu-west-1", std::slice::from_ref(&file));
    crate::judges::assert_checkov_clean("-f", &file);
}

/// Ranges written on subnet boxes are the subnets' ranges (one per AZ, or one shared by the
/// AZs), and archc carves the others around them; a range outside the VPC is a located
/// PLN008 and archc carves that subnet's range itself.
#[test]
fn subnet_ranges_in_labels_are_used_or_reported() {
    let text = std::fs::read_to_string(crate::test::root().join("fixtures/architectures/ecs-fargate-web.md"))
        .expect("fixture")
        .replace("subgraph public[Public subnets]", "subgraph public[Public subnets 10.40.0.0/24]")
        .replace("subgraph private[Private subnets]", "subgraph private[Private subnets 10.40.16.0/21, 10.40.24.0/21]")
        .replace("subgraph data[Private subnets data]", "subgraph data[Private subnets data 10.41.0.0/24]");
    let path = crate::test::scratch("edge-subnet-ranges").join("ranges.md");
    std::fs::write(&path, text).expect("write");
    let c = compile(path.to_str().expect("utf-8"));
    let net = template(&c, "network");
    let cidr = |p: &str| net["Parameters"][p]["Default"].as_str().unwrap_or_default().to_string();
    assert_eq!(cidr("PublicSubnet1Cidr"), "10.40.0.0/25");
    assert_eq!(cidr("PublicSubnet2Cidr"), "10.40.0.128/25");
    assert_eq!(cidr("PrivateSubnet1Cidr"), "10.40.16.0/21");
    assert_eq!(cidr("PrivateSubnet2Cidr"), "10.40.24.0/21");
    // carved around the written ones
    assert_eq!(cidr("DataSubnet1Cidr"), "10.40.1.0/24");
    assert_eq!(cidr("DataSubnet2Cidr"), "10.40.2.0/24");
    let pln008: Vec<_> = c.findings.iter().filter(|d| d.code == "PLN008").collect();
    assert_eq!(pln008.len(), 1, "{pln008:#?}");
    assert!(
        pln008[0].message.contains("`data`")
            && pln008[0].message.contains("10.41.0.0/24 is outside the VPC's 10.40.0.0/16")
    );
    assert!(!pln008[0].labels.is_empty(), "located");
}

/// A NAT label and `nat_gateways` that disagree: the configuration is built, and PLN008 at
/// the box says the label is not; a label alone decides.
#[test]
fn a_nat_label_contradicting_the_configuration_is_reported() {
    let fixture = std::fs::read_to_string(crate::test::root().join("fixtures/architectures/ecs-fargate-web.md"))
        .expect("fixture");
    for (label, config, nats, finding) in [
        ("Single NAT Gateway", "nat_gateways: per-az\n", 2, true),
        ("NAT Gateway per AZ", "nat_gateways: single\n", 1, true),
        ("Single NAT Gateway", "", 1, false),
        ("NAT Gateway per AZ", "", 2, false),
    ] {
        let text = fixture
            .replace("nat[NAT Gateway]", &format!("nat[{label}]"))
            .replace("name: orders\n", &format!("name: orders\n{config}"));
        let path = crate::test::scratch("edge-nat-label").join("nat.md");
        std::fs::write(&path, text).expect("write");
        let c = compile(path.to_str().expect("utf-8"));
        let net = template(&c, "network");
        assert_eq!(of_type(&net, "AWS::EC2::NatGateway").len(), nats, "{label} {config}");
        let pln008 = c.findings.iter().filter(|d| d.code == "PLN008").count();
        assert_eq!(pln008, usize::from(finding), "{label} {config}");
    }
}

/// A VPC drawn without subnets gets archc's layout (private and public subnets in every AZ,
/// an internet gateway, NAT gateways and their routes), said by an info at the VPC; nothing is
/// placed in an empty subnet list.
#[test]
fn a_vpc_without_subnets_gets_archcs_layout() {
    let c = compile("fixtures/wild/eks-cloudfront-ingress-data.md");
    assert!(
        c.findings.iter().any(|f| f.message.contains("draws no subnets: archc builds its own layout in 2 AZs")),
        "{:?}",
        c.findings.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
    let t = template(&c, "network");
    let subnets = of_type(&t, "AWS::EC2::Subnet");
    assert_eq!(subnets.len(), 4, "private and public subnets in 2 AZs");
    assert_eq!(of_type(&t, "AWS::EC2::NatGateway").len(), 2);
    assert_eq!(of_type(&t, "AWS::EC2::InternetGateway").len(), 1);
    let routes: Vec<&Value> = of_type(&t, "AWS::EC2::Route").into_iter().map(|(_, r)| r).collect();
    assert_eq!(routes.iter().filter(|r| r["Properties"].get("NatGatewayId").is_some()).count(), 2, "private: via NAT");
    assert_eq!(routes.iter().filter(|r| r["Properties"].get("GatewayId").is_some()).count(), 1, "public: via the IGW");
    for (_, s) in &subnets {
        let tags = s["Properties"]["Tags"].as_array().expect("tags");
        assert!(tags.iter().any(|t| t["Key"] == "archc:node" && t["Value"] == "VPC"), "the VPC's: {tags:?}");
    }
    for (path, text) in &c.files {
        assert!(!text.contains("SubnetIds: []"), "{path}: an empty subnet list");
    }
}

/// Boxes drawn one inside each Availability Zone box are that AZ's: a NAT gateway per AZ box is
/// that AZ's NAT gateway (two boxes, two NAT gateways, not one per AZ for each box), each AZ's
/// private route uses its own, and same-tier subnet boxes, one per AZ box, are one subnet each
/// with the range written on it (not a subnet per AZ for each box).
#[test]
fn boxes_drawn_in_each_az_box_are_that_azs() {
    let c = compile("fixtures/wild/nodejs-fargate-multi-az-nat.md");
    let t = template(&c, "network");
    let nats = of_type(&t, "AWS::EC2::NatGateway");
    let names: Vec<&str> = nats.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(names, ["NAT1", "NAT2"], "one per drawn box");
    let subnet_of =
        |id: &str| t["Resources"][id]["Properties"]["SubnetId"]["Ref"].as_str().unwrap_or_default().to_string();
    let az_of = |subnet: &str| {
        t["Resources"][subnet]["Properties"]["AvailabilityZone"]["Ref"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(az_of(&subnet_of("NAT1")), "AvailabilityZone1");
    assert_eq!(az_of(&subnet_of("NAT2")), "AvailabilityZone2");
    // every private route goes to the NAT gateway of its own AZ
    let associations = of_type(&t, "AWS::EC2::SubnetRouteTableAssociation");
    let mut checked = 0;
    for (_, route) in of_type(&t, "AWS::EC2::Route") {
        let Some(nat) = route["Properties"]["NatGatewayId"]["Ref"].as_str() else { continue };
        let table = route["Properties"]["RouteTableId"]["Ref"].as_str().expect("table");
        for (_, a) in &associations {
            if a["Properties"]["RouteTableId"]["Ref"] == table {
                let subnet = a["Properties"]["SubnetId"]["Ref"].as_str().expect("subnet");
                assert_eq!(az_of(subnet), az_of(&subnet_of(nat)), "{subnet} routes through {nat}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 2, "private routes checked: {checked}");
    // and the subnet boxes drawn one per AZ are one subnet each, with the range written on it
    let mut subnets: Vec<(String, String)> = of_type(&t, "AWS::EC2::Subnet")
        .into_iter()
        .map(|(id, s)| {
            let cidr = s["Properties"]["CidrBlock"]["Ref"].as_str().expect("cidr parameter");
            (id.clone(), t["Parameters"][cidr]["Default"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    subnets.sort();
    assert_eq!(
        subnets,
        [
            ("PrivateSubnet1".to_string(), "10.0.2.0/24".to_string()),
            ("PrivateSubnet2".to_string(), "10.0.3.0/24".to_string()),
            ("PublicSubnet1".to_string(), "10.0.0.0/24".to_string()),
            ("PublicSubnet2".to_string(), "10.0.1.0/24".to_string()),
        ]
    );
    assert_eq!(az_of("PublicSubnet2"), "AvailabilityZone2");
    assert_eq!(az_of("PrivateSubnet1"), "AvailabilityZone1");
}

/// A diagram that draws three Availability Zone boxes spans three AZs unless
/// `availability_zones` says otherwise.
#[test]
fn the_drawn_availability_zones_are_the_count_built() {
    const THREE: &str = "fixtures/wild/portfolio-terraform-eks-rds-overview.md";
    let t = template(&compile(THREE), "network");
    let zones: Vec<&String> =
        t["Parameters"].as_object().expect("parameters").keys().filter(|k| k.starts_with("AvailabilityZone")).collect();
    assert_eq!(zones, ["AvailabilityZone1", "AvailabilityZone2", "AvailabilityZone3"]);

    let dir = crate::test::scratch("edge-two-az");
    let text = std::fs::read_to_string(crate::test::root().join(THREE)).expect("fixture");
    let path = dir.join("two.md");
    std::fs::write(&path, format!("{text}\n```yaml archc\navailability_zones: 2\n```\n")).expect("write");
    let t = template(&compile(path.to_str().expect("utf-8")), "network");
    assert!(t["Parameters"].get("AvailabilityZone3").is_none(), "configured: two");
    assert!(t["Parameters"].get("AvailabilityZone2").is_some());
}
