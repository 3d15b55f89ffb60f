//! The edge: Route 53, ACM certificates, CloudFront and its web ACL.
//!
//! - **Hosted zone**: configured (`route53.hosted_zone_id`) or drawn (an `aws.route53` box:
//!   the zone exists, its id is a parameter the operator passes). archc never creates a
//!   hosted zone (a new zone needs its name servers delegated by hand).
//! - **Certificates**, DNS-validated in the hosted zone (CloudFormation writes the validation
//!   record and waits for it), for `domain`: the regional one in the app stack for the load
//!   balancer (its ARN is the app stack's output `CertificateArn`, which fills the Ingress'
//!   `${CertificateArn}`), the CloudFront one in the certificate stack (us-east-1, where
//!   CloudFront takes certificates from). A configured `certificate_arn` is used instead of
//!   the regional one. Without a hosted zone no certificate is created: its ARN stays a
//!   parameter (README "Edge and endpoints" says how to request and validate one).
//! - **CloudFront** (edge stack): HTTPS only (`redirect-to-https`, TLSv1.2_2021 with a
//!   certificate), one origin per `origin` arrow: an S3 bucket through origin access control
//!   (the bucket stays private; its policy, moved from the data stack to the edge stack,
//!   admits `cloudfront.amazonaws.com` for this distribution only and keeps TLS-only), a
//!   load balancer over HTTPS only at `origin.<domain>` with the `X-Origin-Verify` header
//!   from the app stack's secret, an HTTP API of the app stack at its execute-api host;
//!   managed cache policies (CachingOptimized for S3, CachingDisabled and AllViewer for a
//!   load balancer, CachingDisabled and AllViewerExceptHostHeader for an API), the managed
//!   security-headers policy, access logs to a log bucket of the edge stack.
//! - **WAF** (drawn): a CLOUDFRONT-scope web ACL with the AWS managed common and known-bad-
//!   inputs rule sets, in the certificate stack (us-east-1, where CLOUDFRONT web ACLs live).
//! - **Records**: alias A and AAAA records of `domain` to the distribution (edge stack), and
//!   `origin.<domain>` to a load balancer of the app stack behind it (which requires the
//!   header: `load_balancer.rs`, and whose certificate names `origin.<domain>`). The
//!   ALB of an Ingress is created by the AWS Load Balancer Controller after the stacks, so no
//!   template can alias it: the app stack's notes say which record to create after deploy.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use crate::diagnostic::{codes, Diagnostic};
use crate::plan::cfn::{get_att, policy, r, sub, sub_with, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId};

const APP: StackId = StackId::App;
const CERT: StackId = StackId::Certificate;
const EDGE: StackId = StackId::Edge;
const DATA: StackId = StackId::Data;

/// CloudFront's hosted zone id, the same for every distribution (alias targets).
const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";
/// Managed policies of CloudFront (ids fixed by AWS).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
/// Managed-AllViewerExceptHostHeader: API Gateway answers for its own host name only.
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";
/// The header CloudFront sends to a load balancer origin, with the app stack's secret.
pub(crate) const ORIGIN_HEADER: &str = "X-Origin-Verify";

pub(super) static LOWERER: super::Lowerer =
    super::Lowerer { name: "edge", kinds: &["aws.cloudfront", "aws.waf", "aws.route53", "aws.acm-certificate"], lower };

/// The hosted zone parameter of `stack`: known when configured, passed by the operator when
/// only drawn. `None` without either.
fn hosted_zone(l: &mut Lowering<'_>, stack: StackId) -> Option<Value> {
    let drawn = l.graph.of_kind("aws.route53").next();
    let p = Parameter::new(
        "AWS::Route53::HostedZone::Id",
        "the public hosted zone of the domain (configuration `route53.hosted_zone_id`)",
    );
    let p = match (&l.settings.hosted_zone_id, drawn) {
        (Some(id), _) => p.known(id.as_str()),
        (None, Some(_)) => p,
        (None, None) => return None,
    };
    Some(l.param(stack, "HostedZoneId", p))
}

/// A DNS-validated certificate of `domain` in `stack`.
fn certificate(
    l: &mut Lowering<'_>,
    stack: StackId,
    logical: &str,
    domain: &str,
    zone: Value,
    node: Option<&str>,
    why: &str,
) {
    let mut res = Resource::new(
        "AWS::CertificateManager::Certificate",
        json!({
            "DomainName": domain,
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": domain, "HostedZoneId": zone}],
            "CertificateTransparencyLoggingPreference": "ENABLED",
            "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(domain, 60))))]),
        }),
    )
    .comment(&format!(
        "{why}; DNS-validated: CloudFormation writes the validation record in the hosted zone and waits for it"
    ));
    if let Some(n) = node {
        res = res.node(n);
    }
    l.add(stack, logical, res);
}

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let domain = l.settings.domain.clone();
    let cdns: Vec<NodeIndex> = graph.of_kind("aws.cloudfront").collect();
    let acms: Vec<NodeIndex> = graph.of_kind("aws.acm-certificate").collect();
    let zone_drawn = graph.of_kind("aws.route53").next();
    let id_of = |n: NodeIndex| graph.component(n).id.clone();
    // the certificate box drawn for CloudFront (an arrow to it), and for the rest
    let acm_for_cdn = acms.iter().copied().find(|&a| graph.outgoing(a).any(|(_, b)| cdns.contains(&b)));
    let acm_regional = acms.iter().copied().find(|&a| Some(a) != acm_for_cdn);

    // the regional certificate: for the load balancer of `domain`
    let balancer = graph.of_kind("aws.alb").next().is_some() || graph.of_kind("aws.nlb").next().is_some();
    if let (Some(domain), true, None) = (&domain, balancer || acm_regional.is_some(), &l.settings.certificate_arn) {
        if let Some(zone) = hosted_zone(l, APP) {
            let zone_value = zone.clone();
            let node = acm_regional.map(id_of);
            let logical = node.as_deref().map_or_else(|| "Certificate".to_string(), pascal);
            certificate(
                l,
                APP,
                &logical,
                domain,
                zone,
                node.as_deref(),
                &format!("the certificate of `{domain}` for the load balancer (HTTPS listener)"),
            );
            // the HTTPS listeners of the app stack's load balancers use it (not a parameter)
            let param = json!({"Ref": "CertificateArn"});
            let mut listeners = 0;
            for res in l.stack(APP).resources.values_mut() {
                if res.ty == "AWS::ElasticLoadBalancingV2::Listener" {
                    if let Some(certs) = res.properties["Certificates"].as_array_mut() {
                        for c in certs.iter_mut().filter(|c| c["CertificateArn"] == param) {
                            c["CertificateArn"] = r(&logical);
                            listeners += 1;
                        }
                    }
                }
            }
            if listeners > 0 {
                l.stack(APP).parameters.shift_remove("CertificateArn");
            }
            // a load balancer of the app stack behind CloudFront is reached at `origin.<domain>`:
            // its certificate names that too (CloudFront checks the origin's name)
            let behind_cdn = graph.of_kind("aws.alb").any(|lb| {
                l.stack(APP).outputs.contains_key(&format!("{}DnsName", pascal(&graph.component(lb).id)))
                    && fronting_cdn(l, lb).is_some()
            });
            if behind_cdn {
                let origin = format!("origin.{domain}");
                if let Some(cert) = l.stack(APP).resources.get_mut(&logical) {
                    cert.properties["SubjectAlternativeNames"] = json!([origin]);
                    if let Some(v) = cert.properties["DomainValidationOptions"].as_array_mut() {
                        v.push(json!({"DomainName": origin, "HostedZoneId": zone_value.clone()}));
                    }
                }
            }
            l.output(
                APP,
                "CertificateArn",
                r(&logical),
                &format!("ACM certificate of `{domain}` (regional, for the load balancer)"),
            );
            if cdns.is_empty() && graph.of_kind("k8s.ingress").next().is_some() {
                l.stack(APP).notes.push((
                    "DnsRecordForIngress".into(),
                    format!("The ALB of the Ingress is created by the AWS Load Balancer Controller after the stacks, so no template can alias it: after deploy, create an alias A record `{domain}` in the hosted zone to the Ingress' address (`kubectl get ingress -o jsonpath='{{.items[0].status.loadBalancer.ingress[0].hostname}}'`), or run ExternalDNS."),
                ));
            }
            if let Some(a) = acm_regional {
                tls_arrows(l, a, "the regional certificate on the load balancer's HTTPS listener");
            }
        }
    }

    for &cdn in &cdns {
        distribution(l, cdn, acm_for_cdn.or(if acm_regional.is_some() { None } else { acms.first().copied() }));
    }

    // what the hosted zone and the certificates do that no resource says
    if let Some(z) = zone_drawn {
        let built_records = l.stack(EDGE).resources.values().any(|r| r.ty == "AWS::Route53::RecordSet");
        let certificates = [APP, CERT]
            .iter()
            .any(|&s| l.stack(s).resources.values().any(|r| r.ty == "AWS::CertificateManager::Certificate"));
        if certificates || built_records {
            l.used(z, "the hosted zone of `domain`: DNS validation of the certificates (parameter `HostedZoneId`)");
        }
        if domain.is_none() {
            let c = graph.component(z);
            l.findings.push(
                Diagnostic::warning(
                    codes::PLAN_UNSUPPORTED,
                    format!(
                        "Route 53 `{}` is drawn but no `domain` is configured: archc builds no certificate or record",
                        c.id
                    ),
                )
                .with_primary(c.span, "which name?")
                .with_help("set `domain: www.example.com` (and `route53: {hosted_zone_id: Z...}`)"),
            );
        }
    }
    for &a in &acms {
        let built = [APP, CERT]
            .iter()
            .any(|&s| l.stack(s).resources.values().any(|r| r.node.as_deref() == Some(graph.component(a).id.as_str())));
        if !built {
            let c = graph.component(a);
            let why = if domain.is_none() {
                "no `domain` is configured"
            } else if l.settings.certificate_arn.is_some() {
                "`certificate_arn` is configured: that certificate is used"
            } else {
                "no hosted zone (draw Route 53 or configure `route53.hosted_zone_id`) to validate it in"
            };
            if l.settings.certificate_arn.is_some() {
                l.used(a, "the configured `certificate_arn`");
            } else {
                l.findings.push(
                    Diagnostic::warning(codes::PLAN_UNSUPPORTED, format!("certificate `{}` is not created: {why}; its ARN is a deploy-time value", c.id))
                        .with_primary(c.span, "not created")
                        .with_help("request and validate it by hand (README \"Edge and endpoints\") and set `certificate_arn`, or configure `domain` and `route53.hosted_zone_id`"),
                );
            }
        }
    }
}

/// Mark the `tls` arrows out of certificate box `a` built.
fn tls_arrows(l: &mut Lowering<'_>, a: NodeIndex, what: &str) {
    let edges: Vec<EdgeIndex> =
        l.graph.outgoing(a).filter(|(e, _)| l.graph.connection(*e).meaning == "tls").map(|(e, _)| e).collect();
    for e in edges {
        l.built(e, what);
    }
}

/// The behaviour of a dynamic origin (a load balancer, an API): every method, nothing cached,
/// the viewer's request forwarded as `origin_request_policy` says.
fn dynamic_behavior(origin: &str, origin_request_policy: &str) -> Value {
    json!({
        "TargetOriginId": origin,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        "CachedMethods": ["GET", "HEAD"],
        "Compress": true,
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": origin_request_policy,
        "ResponseHeadersPolicyId": SECURITY_HEADERS,
    })
}

/// One origin of a distribution.
struct Origin {
    id: String,
    value: Value,
    behavior: Value,
    /// The path pattern of the arrow's label (`/api/*`), none for the default behaviour.
    path: Option<String>,
}

fn distribution(l: &mut Lowering<'_>, cdn: NodeIndex, acm: Option<NodeIndex>) {
    let graph = l.graph;
    let cdn_id = graph.component(cdn).id.clone();
    let dist = pascal(&cdn_id);
    let domain = l.settings.domain.clone();
    let mut origins: Vec<Origin> = Vec::new();
    let mut bucket_policies: Vec<(String, String)> = Vec::new();
    // load balancers of the app stack whose `origin.<domain>` record is built here
    let mut cfn_origins: Vec<String> = Vec::new();
    let targets: Vec<(EdgeIndex, NodeIndex)> =
        graph.outgoing(cdn).filter(|(e, _)| matches!(graph.connection(*e).meaning, "origin" | "ingress")).collect();
    for (e, b) in targets {
        let c = graph.component(b);
        let label = graph.connection(e).label.trim().to_string();
        let path = label.starts_with('/').then(|| label.split_whitespace().next().unwrap_or("/*").to_string());
        let oid = c.id.clone();
        match c.kind_id() {
            Some("aws.s3") => {
                let p = pascal(&oid);
                if !l.stack(DATA).outputs.contains_key(&format!("{p}BucketName")) {
                    continue;
                }
                let name = l.import(EDGE, DATA, &format!("{p}BucketName"), "String");
                let oac = format!("{dist}{p}OriginAccessControl");
                l.add(
                    EDGE,
                    &oac,
                    Resource::new(
                        "AWS::CloudFront::OriginAccessControl",
                        json!({"OriginAccessControlConfig": {
                            "Name": sub(&format!("${{AWS::StackName}}-{}", kebab(&oid, 40))),
                            "Description": format!("CloudFront {cdn_id} reads bucket {oid} (SigV4)"),
                            "OriginAccessControlOriginType": "s3",
                            "SigningBehavior": "always",
                            "SigningProtocol": "sigv4",
                        }}),
                    )
                    .node(&cdn_id)
                    .comment(&format!(
                        "arrow `{}`: the distribution signs its requests to the bucket; the bucket stays private",
                        l.arrow(e)
                    )),
                );
                origins.push(Origin {
                    id: oid.clone(),
                    value: json!({
                        "Id": oid,
                        "DomainName": sub_with("${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}", json!({"Bucket": name})),
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": get_att(&oac, "Id"),
                    }),
                    behavior: json!({
                        "TargetOriginId": oid,
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD", "OPTIONS"],
                        "CachedMethods": ["GET", "HEAD"],
                        "Compress": true,
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "ResponseHeadersPolicyId": SECURITY_HEADERS,
                    }),
                    path,
                });
                bucket_policies.push((p, oid.clone()));
                l.built(
                    e,
                    "a CloudFront origin with origin access control (the bucket policy admits this distribution only)",
                );
            }
            Some("aws.alb" | "aws.nlb" | "k8s.ingress") => {
                let Some(domain) = &domain else {
                    let span = graph.connection(e).span;
                    l.findings.push(
                        Diagnostic::warning(codes::PLAN_ARROW_NOT_BUILT, format!("`{}`: CloudFront reaches a load balancer at `origin.<domain>`, and no `domain` is configured", l.arrow(e)))
                            .with_primary(span, "no origin name")
                            .with_help("set `domain: www.example.com`"),
                    );
                    continue;
                };
                let secret = origin_secret(l, &cdn_id);
                let header =
                    sub_with("{{resolve:secretsmanager:${Secret}:SecretString:header}}", json!({"Secret": secret}));
                origins.push(Origin {
                    id: oid.clone(),
                    value: json!({
                        "Id": oid,
                        "DomainName": format!("origin.{domain}"),
                        "CustomOriginConfig": {
                            "OriginProtocolPolicy": "https-only",
                            "HTTPSPort": 443,
                            "OriginSSLProtocols": ["TLSv1.2"],
                            "OriginReadTimeout": 60,
                            "OriginKeepaliveTimeout": 5,
                        },
                        "OriginCustomHeaders": [{"HeaderName": ORIGIN_HEADER, "HeaderValue": header}],
                    }),
                    behavior: dynamic_behavior(&oid, ALL_VIEWER),
                    path,
                });
                l.built(
                    e,
                    format!(
                        "a CloudFront origin over HTTPS only at `origin.{domain}` with the `{ORIGIN_HEADER}` header"
                    ),
                );
                // a load balancer of the app stack: `origin.<domain>` is an alias of it
                let lp = pascal(&oid);
                if l.stack(APP).outputs.contains_key(&format!("{lp}DnsName")) {
                    if let Some(zone) = hosted_zone(l, EDGE) {
                        let dns = l.import(EDGE, APP, &format!("{lp}DnsName"), "String");
                        let lb_zone = l.import(EDGE, APP, &format!("{lp}CanonicalHostedZoneId"), "String");
                        l.add(
                            EDGE,
                            &format!("{dist}{lp}OriginRecord"),
                            Resource::new(
                                "AWS::Route53::RecordSet",
                                json!({"HostedZoneId": zone, "Name": format!("origin.{domain}"), "Type": "A", "AliasTarget": {"DNSName": dns, "HostedZoneId": lb_zone, "EvaluateTargetHealth": false}}),
                            )
                            .node(&cdn_id)
                            .comment(&format!("`origin.{domain}`, where CloudFront `{cdn_id}` reaches it, is an alias of the load balancer `{oid}`")),
                        );
                        cfn_origins.push(oid.clone());
                    }
                }
            }
            Some("aws.api-gateway") => {
                // an HTTP API of the app stack, at its execute-api host; the viewer's Host
                // header is not forwarded (API Gateway answers for its own name only)
                let ap = pascal(&oid);
                if !l.stack(APP).outputs.contains_key(&format!("{ap}Endpoint")) {
                    continue;
                }
                let endpoint = l.import(EDGE, APP, &format!("{ap}Endpoint"), "String");
                origins.push(Origin {
                    id: oid.clone(),
                    value: json!({
                        "Id": oid,
                        "DomainName": {"Fn::Select": [2, {"Fn::Split": ["/", endpoint]}]},
                        "CustomOriginConfig": {
                            "OriginProtocolPolicy": "https-only",
                            "HTTPSPort": 443,
                            "OriginSSLProtocols": ["TLSv1.2"],
                            "OriginReadTimeout": 30,
                            "OriginKeepaliveTimeout": 5,
                        },
                    }),
                    behavior: dynamic_behavior(&oid, ALL_VIEWER_EXCEPT_HOST_HEADER),
                    path,
                });
                // its name is the API's own: no `origin.<domain>` record to make
                cfn_origins.push(oid.clone());
                l.built(
                    e,
                    "a CloudFront origin over HTTPS only at the API's execute-api host (app stack output `<Api>Endpoint`), caching off, every viewer header but Host forwarded",
                );
            }
            _ => continue,
        }
    }
    if let (Some(d), true) =
        (&domain, origins.iter().any(|o| o.value.get("CustomOriginConfig").is_some() && !cfn_origins.contains(&o.id)))
    {
        l.stack(EDGE).notes.push((
            "OriginRecord".into(),
            format!("CloudFront reaches its load balancer at `origin.{d}`: that name must point at the load balancer. The ALB of a Kubernetes Ingress is created by the AWS Load Balancer Controller after the stacks: create the alias record `origin.{d}` to the Ingress' address after deploy (or run ExternalDNS). That ALB does not require the `{ORIGIN_HEADER}` header yet."),
        ));
    }
    if origins.is_empty() {
        let c = graph.component(cdn);
        l.findings.push(
            Diagnostic::warning(
                codes::PLAN_UNSUPPORTED,
                format!(
                    "CloudFront `{}` has no origin archc builds (an S3 bucket, a load balancer or an HTTP API): no distribution",
                    c.id
                ),
            )
            .with_primary(c.span, "no origin")
            .with_help(format!("draw the arrow to what it serves: `{} --> bucket` or `{} --> alb`", c.id, c.id)),
        );
        return;
    }
    // the default behaviour: the first origin without a path pattern
    let default_index = origins.iter().position(|o| o.path.is_none()).unwrap_or(0);
    let default = origins[default_index].behavior.clone();
    let default_is_s3 = origins[default_index].value.get("S3OriginConfig").is_some();
    let mut behaviors = Vec::new();
    for (i, o) in origins.iter().enumerate() {
        if i == default_index {
            continue;
        }
        let mut b = o.behavior.clone();
        b["PathPattern"] = json!(o.path.clone().unwrap_or_else(|| format!("/{}/*", o.id)));
        behaviors.push(b);
    }

    // access logs: CloudFront's standard logs need a bucket with ACLs enabled
    let logs = format!("{dist}LogBucket");
    let mut log_props = json!({
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
        "LifecycleConfiguration": {"Rules": [{"Id": "expire-logs", "Status": "Enabled", "ExpirationInDays": 365, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]},
    });
    if l.stack(DATA).outputs.contains_key("AccessLogBucketName") {
        let target = l.import(EDGE, DATA, "AccessLogBucketName", "String");
        log_props["LoggingConfiguration"] =
            json!({"DestinationBucketName": target, "LogFilePrefix": format!("{}/", kebab(&logs, 60))});
    }
    let mut log_bucket = Resource::new("AWS::S3::Bucket", log_props)
        .retain()
        .node(&cdn_id)
        .comment("CloudFront's access logs (standard logging writes with an ACL: ACLs enabled, owner preferred), SSE-S3 (standard logging cannot write SSE-KMS), no public access, kept a year");
    if !l.stack(EDGE).parameters.contains_key("AccessLogBucketName") {
        log_bucket = log_bucket.checkov_skip(
            "CKV_AWS_18",
            "This bucket receives CloudFront's access logs; the diagram has no bucket in the data stack, so there is no server-access-log bucket to log it to, and logging it into itself would log its own log deliveries.",
        );
    }
    l.add(EDGE, &logs, log_bucket);

    // the certificate and the web ACL, in us-east-1
    let mut viewer = json!({"CloudFrontDefaultCertificate": true});
    let mut aliases = Vec::new();
    let zone_cert = domain.as_ref().and_then(|d| hosted_zone(l, CERT).map(|z| (d.clone(), z)));
    if let Some((d, zone)) = zone_cert {
        let node = acm.map(|a| l.graph.component(a).id.clone());
        let logical = format!("{dist}Certificate");
        certificate(l, CERT, &logical, &d, zone, node.as_deref(), &format!("the certificate of `{d}` for CloudFront `{cdn_id}` (CloudFront takes certificates from us-east-1 only)"));
        l.output(
            CERT,
            &format!("{dist}CertificateArn"),
            r(&logical),
            &format!("ACM certificate of `{d}` for CloudFront (us-east-1)"),
        );
        let arn = l.import(EDGE, CERT, &format!("{dist}CertificateArn"), "String");
        viewer =
            json!({"AcmCertificateArn": arn, "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"});
        aliases.push(json!(d));
        if let Some(a) = acm {
            tls_arrows(l, a, "the distribution's viewer certificate (certificate stack, us-east-1)");
        }
    } else if let Some(d) = &domain {
        let arn = l.param(
            EDGE,
            &format!("{dist}CertificateArn"),
            Parameter::new(
                "String",
                &format!("an ACM certificate of `{d}` in us-east-1 (no hosted zone: request and validate it by hand)"),
            )
            .pattern(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$"),
        );
        viewer =
            json!({"AcmCertificateArn": arn, "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"});
        aliases.push(json!(d));
    }
    let mut config = json!({
        "Enabled": true,
        "Comment": format!("{cdn_id} (generated by archc)"),
        "HttpVersion": "http2and3",
        "IPV6Enabled": true,
        "Origins": origins.iter().map(|o| o.value.clone()).collect::<Vec<_>>(),
        "DefaultCacheBehavior": default,
        "ViewerCertificate": viewer,
        "Logging": {"Bucket": get_att(&logs, "DomainName"), "IncludeCookies": false, "Prefix": format!("{}/", kebab(&cdn_id, 40))},
    });
    if !behaviors.is_empty() {
        config["CacheBehaviors"] = json!(behaviors);
    }
    if !aliases.is_empty() {
        config["Aliases"] = json!(aliases);
    }
    if default_is_s3 {
        config["DefaultRootObject"] = json!("index.html");
    }
    let waf = graph
        .of_kind("aws.waf")
        .find(|&w| graph.outgoing(w).any(|(_, b)| b == cdn))
        .or_else(|| graph.of_kind("aws.waf").next());
    let mut distribution = Resource::new("AWS::CloudFront::Distribution", json!({})).node(&cdn_id);
    match waf {
        Some(w) => {
            let arn = web_acl(l, w, &cdn_id);
            config["WebACLId"] = arn;
        }
        None => {
            distribution = distribution.checkov_skip(
                "CKV_AWS_68",
                "The diagram draws no AWS WAF in front of this distribution; a web ACL is created when one is drawn (`waf[AWS WAF] --> cdn`), in the certificate stack in us-east-1.",
            );
        }
    }
    if config["ViewerCertificate"]["CloudFrontDefaultCertificate"] == json!(true) {
        distribution = distribution.checkov_skip(
            "CKV_AWS_174",
            "No `domain` is configured, so the distribution serves its cloudfront.net name with CloudFront's default certificate, whose minimum TLS version CloudFront fixes; configure `domain` (and a hosted zone) for TLSv1.2_2021.",
        );
    }
    distribution = distribution.checkov_skip(
        "CKV_AWS_310",
        "Origin failover needs a second origin serving the same content; the diagram draws one origin per path (a bucket, a load balancer), so there is nothing to fail over to.",
    );
    distribution.properties = json!({"DistributionConfig": config, "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&cdn_id, 40))))])});
    distribution.comment = Some(format!(
        "CloudFront `{cdn_id}`: HTTPS only (HTTP redirects), {} origin(s), managed cache policies, access logs to `{logs}`",
        origins.len()
    ));
    l.add(EDGE, &dist, distribution);
    l.output(EDGE, &format!("{dist}Id"), r(&dist), &format!("CloudFront distribution `{cdn_id}`"));
    l.output(
        EDGE,
        &format!("{dist}DomainName"),
        get_att(&dist, "DomainName"),
        &format!("the cloudfront.net name of `{cdn_id}`"),
    );

    // the buckets' policies: this distribution reads, TLS only (moved from the data stack:
    // a bucket has one policy)
    for (p, oid) in bucket_policies {
        l.stack(DATA).resources.shift_remove(&format!("{p}Policy"));
        let name = r(&format!("{p}BucketName"));
        let arn = sub_with("arn:${AWS::Partition}:s3:::${Bucket}", json!({"Bucket": name.clone()}));
        let objects = sub_with("arn:${AWS::Partition}:s3:::${Bucket}/*", json!({"Bucket": name.clone()}));
        l.add(
            EDGE,
            &format!("{p}BucketPolicy"),
            Resource::new(
                "AWS::S3::BucketPolicy",
                json!({"Bucket": name, "PolicyDocument": policy(vec![
                    json!({
                        "Sid": "CloudFrontReadsThroughOriginAccessControl",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": objects.clone(),
                        "Condition": {"StringEquals": {"AWS:SourceArn": sub(&format!("arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{dist}}}"))}},
                    }),
                    json!({
                        "//": "Deny for every caller (\"*\") and every S3 action (\"s3:*\") without TLS, so no plaintext\nrequest of any kind succeeds; a Deny cannot widen access.",
                        "Sid": "DenyNonTls",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [arn, objects],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }),
                ])}),
            )
            .node(&oid)
            .comment(&format!("bucket `{oid}`'s policy, here rather than in the data stack because it names the distribution: CloudFront `{cdn_id}` reads objects (origin access control), nothing else; TLS only")),
        );
    }

    // records: the domain to the distribution
    if let (Some(d), Some(zone)) = (&domain, hosted_zone(l, EDGE)) {
        let node = graph.of_kind("aws.route53").next().map(|z| graph.component(z).id.clone());
        for (suffix, ty) in [("A", "A"), ("Aaaa", "AAAA")] {
            let mut rec = Resource::new(
                "AWS::Route53::RecordSet",
                json!({"HostedZoneId": zone.clone(), "Name": d, "Type": ty, "AliasTarget": {"DNSName": get_att(&dist, "DomainName"), "HostedZoneId": CLOUDFRONT_ZONE, "EvaluateTargetHealth": false}}),
            )
            .comment(&format!("`{d}` ({ty}) is an alias of CloudFront `{cdn_id}`"));
            if let Some(n) = &node {
                rec = rec.node(n);
            }
            l.add(EDGE, &format!("{dist}Record{suffix}"), rec);
        }
        let dns: Vec<EdgeIndex> = graph
            .connections()
            .filter(|(_, a, b, c)| {
                c.meaning == "dns"
                    && (*b == cdn || graph.component(*a).is("actor.user") && graph.component(*b).is("aws.route53"))
            })
            .map(|(e, ..)| e)
            .collect();
        for e in dns {
            l.built(e, format!("alias records of `{d}` to the distribution"));
        }
    }
    // the viewers' arrows
    let viewers: Vec<EdgeIndex> = graph
        .incoming(cdn)
        .filter(|(e, _)| matches!(graph.connection(*e).meaning, "ingress" | "protects"))
        .map(|(e, _)| e)
        .collect();
    for e in viewers {
        l.built(e, "the distribution's HTTPS viewer side");
    }
}

/// The secret CloudFront sends to load-balancer origins as `X-Origin-Verify` (app stack, so
/// that a load balancer built there can require it); its ARN as the edge stack's parameter.
fn origin_secret(l: &mut Lowering<'_>, cdn_id: &str) -> Value {
    origin_secret_resource(l, cdn_id);
    l.import(EDGE, APP, "OriginVerifySecretArn", "String")
}

/// The app stack's `OriginVerifySecret` (logical id), created once: the edge lowering sends
/// its value, a load balancer built in the app stack requires it.
pub(super) fn origin_secret_resource(l: &mut Lowering<'_>, cdn_id: &str) -> &'static str {
    if !l.stack(APP).resources.contains_key("OriginVerifySecret") {
        l.add(
            APP,
            "OriginVerifySecret",
            Resource::new(
                "AWS::SecretsManager::Secret",
                json!({
                    "Description": format!("the {ORIGIN_HEADER} header value CloudFront {cdn_id} sends to its load balancer origins"),
                    "GenerateSecretString": {"SecretStringTemplate": "{}", "GenerateStringKey": "header", "PasswordLength": 48, "ExcludePunctuation": true},
                }),
            )
            .node(cdn_id)
            // nothing to keep: a new value reaches both stacks through their dynamic references
            .keep("Delete")
            .comment(&format!("a load balancer behind CloudFront answers only requests carrying this value in `{ORIGIN_HEADER}` (the listener rule's contract)"))
            .checkov_skip("CKV_AWS_149", "The value is a shared header string between CloudFront and the load balancer, not a credential of a data store; the AWS-managed key of Secrets Manager encrypts it, and a customer key would add a key policy that CloudFormation's dynamic reference must be allowed through.")
            .checkov_skip("CKV2_AWS_57", "Rotating the value changes what CloudFront sends before the load balancer's rule accepts it; it is rotated by redeploying both stacks, not by a rotation Lambda."),
        );
        l.output(
            APP,
            "OriginVerifySecretArn",
            r("OriginVerifySecret"),
            &format!("secret of the {ORIGIN_HEADER} header (JSON key `header`)"),
        );
    }
    "OriginVerifySecret"
}

/// The CloudFront box with an origin arrow to load balancer `lb`, when CloudFront reaches it
/// (a `domain` is configured: the origin is `origin.<domain>`).
pub(super) fn fronting_cdn(l: &Lowering<'_>, lb: NodeIndex) -> Option<NodeIndex> {
    l.settings.domain.as_ref()?;
    l.graph.incoming(lb).find_map(|(e, a)| {
        (l.graph.component(a).is("aws.cloudfront") && matches!(l.graph.connection(e).meaning, "origin" | "ingress"))
            .then_some(a)
    })
}

/// The CLOUDFRONT-scope web ACL of box `w` in the certificate stack; its ARN in the edge stack.
fn web_acl(l: &mut Lowering<'_>, w: NodeIndex, cdn_id: &str) -> Value {
    let id = l.graph.component(w).id.clone();
    let p = pascal(&id);
    let rule = |name: &str, priority: u32| {
        json!({
            "Name": name,
            "Priority": priority,
            "OverrideAction": {"None": {}},
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
            "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": name},
        })
    };
    l.add(
        CERT,
        &p,
        Resource::new(
            "AWS::WAFv2::WebACL",
            json!({
                "Scope": "CLOUDFRONT",
                "DefaultAction": {"Allow": {}},
                "Rules": [rule("AWSManagedRulesCommonRuleSet", 0), rule("AWSManagedRulesKnownBadInputsRuleSet", 1)],
                "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": p.clone()},
            }),
        )
        .node(&id)
        .comment(&format!("web ACL `{id}` in front of CloudFront `{cdn_id}`: AWS managed common and known-bad-inputs rules; CLOUDFRONT scope lives in us-east-1")),
    );
    let logs = format!("{p}LogGroup");
    l.add(
        CERT,
        &logs,
        Resource::new(
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": sub(&format!("aws-waf-logs-${{AWS::StackName}}-{}", kebab(&id, 40))), "RetentionInDays": 365}),
        )
        .node(&id)
        .comment("the web ACL's request logs (WAF requires the aws-waf-logs- prefix)")
        .checkov_skip("CKV_AWS_158", "CloudWatch Logs encrypts the group with its service key; a customer key for WAF's request logs would need a key policy for the logs service in us-east-1, which this stack does not own."),
    );
    l.add(
        CERT,
        &format!("{p}Logging"),
        Resource::new(
            "AWS::WAFv2::LoggingConfiguration",
            json!({"ResourceArn": get_att(&p, "Arn"), "LogDestinationConfigs": [sub(&format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{logs}}}"))]}),
        )
        .node(&id)
        .comment("WAF takes the log group's ARN without the `:*` that `Fn::GetAtt Arn` ends with"),
    );
    l.output(CERT, &format!("{p}Arn"), get_att(&p, "Arn"), &format!("web ACL `{id}` (CLOUDFRONT scope)"));
    let edges: Vec<EdgeIndex> =
        l.graph.outgoing(w).map(|(e, _)| e).chain(l.graph.incoming(w).map(|(e, _)| e)).collect();
    for e in edges {
        l.built(e, format!("web ACL `{id}` on the distribution"));
    }
    l.import(EDGE, CERT, &format!("{p}Arn"), "String")
}
