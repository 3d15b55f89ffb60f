//! A Network Load Balancer in front of a Kubernetes workload: a Service of type LoadBalancer
//! that the AWS Load Balancer Controller turns into an NLB with ip targets, and the
//! NetworkPolicy admitting the NLB's subnets.
//!
//! Coordination: `aws.nlb` in front of ECS or EC2 is a CloudFormation NLB
//! (`lower/load_balancer.rs`, another lowering); the kind's registry claim is the Kubernetes
//! stage's here until both meet at the merge, where one claim must stay.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use petgraph::stable_graph::NodeIndex;

use super::{meta, object, selector, Input};
use crate::plan::kubernetes::{Object, Placeholders};

/// The workload an NLB sends to.
pub(super) struct Target<'a> {
    pub(super) node: &'a str,
    pub(super) name: &'a str,
    pub(super) namespace: &'a str,
    pub(super) selector: BTreeMap<String, String>,
    pub(super) labels: BTreeMap<String, String>,
    pub(super) port: u16,
    /// Whether the NetworkPolicy admitting the NLB is to be made here (the application's
    /// policies already admit every load balancer in front of it).
    pub(super) policy: bool,
}

/// Whether `lb` is an NLB.
pub(super) fn is_nlb(i: &Input<'_>, lb: NodeIndex) -> bool {
    i.graph.component(lb).is("aws.nlb")
}

/// Internet-facing when drawn in a public subnet (or in none), else internal.
fn scheme(i: &Input<'_>, lb: NodeIndex) -> &'static str {
    match i.graph.enclosing(lb, "aws.subnet").and_then(|s| i.graph.component(s).attr("tier").map(str::to_string)) {
        Some(tier) if tier != "public" => "internal",
        _ => "internet-facing",
    }
}

/// The Service of type LoadBalancer and the NetworkPolicy admitting the NLB.
pub(super) fn objects(i: &Input<'_>, ph: &mut Placeholders<'_>, lb: NodeIndex, t: &Target<'_>) -> Vec<Object> {
    let scheme = scheme(i, lb);
    let tls = i.settings.certificate_arn.clone();
    let mut annotations = vec![
        ("service.beta.kubernetes.io/aws-load-balancer-type", "external".to_string()),
        ("service.beta.kubernetes.io/aws-load-balancer-nlb-target-type", "ip".to_string()),
        ("service.beta.kubernetes.io/aws-load-balancer-scheme", scheme.to_string()),
    ];
    let (port, listener) = match &tls {
        Some(cert) => {
            annotations.push(("service.beta.kubernetes.io/aws-load-balancer-ssl-cert", cert.clone()));
            annotations.push(("service.beta.kubernetes.io/aws-load-balancer-ssl-ports", "443".into()));
            annotations.push((
                "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy",
                "ELBSecurityPolicy-TLS13-1-2-2021-06".into(),
            ));
            (443, "TLS 443 (the ACM certificate of `certificate_arn`), to the pods in TCP".to_string())
        }
        None => (t.port, format!("TCP {} (no certificate configured: `certificate_arn` adds TLS on 443)", t.port)),
    };
    let mut m = meta(&format!("{}-nlb", t.name), Some(t.namespace), t.labels.clone());
    m.annotations = Some(annotations.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
    let svc = Service {
        metadata: m,
        spec: Some(ServiceSpec {
            type_: Some("LoadBalancer".into()),
            load_balancer_class: Some("service.k8s.aws/nlb".into()),
            selector: Some(t.selector.clone()),
            ports: Some(vec![ServicePort {
                name: Some("nlb".into()),
                port: i32::from(port),
                target_port: Some(IntOrString::Int(i32::from(t.port))),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    let lb_id = i.id(lb);
    let comment = format!(
        "Diagram: `{lb_id}` --> `{}`. The AWS Load Balancer Controller makes this Service an NLB\n(loadBalancerClass service.k8s.aws/nlb), {scheme} as drawn, with ip targets (the pods\nthemselves); listener {listener}.",
        t.node
    );
    let mut out = vec![object(42, &svc, Some(lb_id), &comment, &format!("the NLB `{lb_id}` ({scheme})"))];
    if t.policy {
        out.push(policy(i, ph, lb, t, scheme));
    }
    out
}

/// The NetworkPolicy admitting the NLB's subnets to the target's port.
fn policy(i: &Input<'_>, ph: &mut Placeholders<'_>, lb: NodeIndex, t: &Target<'_>, scheme: &str) -> Object {
    let lb_id = i.id(lb);
    let tier = if scheme == "internal" { "app" } else { "public" };
    let mut cidrs = i.subnet_cidrs(lb, tier, ph);
    cidrs.dedup();
    let policy = NetworkPolicy {
        metadata: meta(&format!("{}-ingress-from-nlb", t.name), Some(t.namespace), t.labels.clone()),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(&t.selector)),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(
                    cidrs
                        .into_iter()
                        .map(|cidr| NetworkPolicyPeer {
                            ip_block: Some(IPBlock { cidr, except: None }),
                            ..NetworkPolicyPeer::default()
                        })
                        .collect(),
                ),
                ports: Some(vec![NetworkPolicyPort {
                    protocol: Some("TCP".into()),
                    port: Some(IntOrString::Int(i32::from(t.port))),
                    ..NetworkPolicyPort::default()
                }]),
            }]),
            ..NetworkPolicySpec::default()
        }),
    };
    let comment = format!(
        "Diagram: `{lb_id}` --> `{}`. With ip targets the NLB reaches the pods from its own network\ninterfaces (client IP preservation is off for ip targets), in the subnets it is drawn in: their\nCIDR blocks may reach port {}.",
        t.node, t.port
    );
    object(16, &policy, Some(lb_id), &comment, "ingress from the NLB's subnets only")
}
