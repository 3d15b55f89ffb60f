//! How traffic reaches the pods: the Service and the ALB Ingress.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
    ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use crate::plan::kubernetes::Placeholders;

use super::{map, meta, object, selector, Builder};

impl Builder<'_, '_> {
    pub(super) fn service(&mut self) {
        let (i, r) = (self.i, self.r);
        let drawn = i.wiring.service.map(|s| i.graph.component(s));
        let ty = match drawn.and_then(|c| c.attr("type")) {
            Some(t) if t.eq_ignore_ascii_case("NodePort") => "NodePort",
            _ => "ClusterIP",
        };
        let svc = Service {
            metadata: meta(&r.name, self.ns(), self.labels()),
            spec: Some(ServiceSpec {
                type_: Some(ty.into()),
                selector: Some(self.selector_labels()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: i32::from(i.app.port),
                    target_port: Some(IntOrString::String("http".into())),
                    protocol: Some("TCP".into()),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        let comment = match drawn {
            Some(c) if !i.graph.draws_aws() => {
                format!("Diagram: `{}` ({ty}). The Ingress controller routes to this Service's endpoints.", c.id)
            }
            Some(c) => format!(
                "Diagram: `{}` ({ty}). The ALB targets pod IPs (target-type ip), so {ty} is enough; the\ncontroller reads this Service's endpoints.",
                c.id
            ),
            None => format!("The Service the Ingress routes to (not drawn; {ty}, the ALB targets pod IPs)."),
        };
        let node = drawn.map(|c| c.id.clone()).or_else(|| self.node().map(str::to_string));
        self.objects.push(object(41, &svc, node.as_deref(), &comment, &format!("{ty} Service on port {}", i.app.port)));
    }

    pub(super) fn ingress(&mut self, alb: NodeIndex, ph: &mut Placeholders<'_>) {
        let (i, r) = (self.i, self.r);
        let certificate = match &i.settings.certificate_arn {
            Some(arn) => arn.clone(),
            // the app stack's DNS-validated certificate (domain and hosted zone configured)
            None if ph.has_output("CertificateArn") => ph.output(
                "CertificateArn",
                crate::plan::StackId::App,
                "the DNS-validated ACM certificate of the site's name",
            ),
            None => ph.deploy(
                "CertificateArn",
                &format!(
                    "the ACM certificate for the site's name, in {} (configuration `certificate_arn`)",
                    i.settings.region
                ),
                json!({"config": {"key": "certificate_arn"}}),
            ),
        };
        let health = &i.app.health_path;
        let mut m = meta(&r.name, self.ns(), self.labels());
        m.annotations = Some(map(&[
            ("alb.ingress.kubernetes.io/scheme", "internet-facing"),
            ("alb.ingress.kubernetes.io/target-type", "ip"),
            ("alb.ingress.kubernetes.io/listen-ports", r#"[{"HTTP": 80}, {"HTTPS": 443}]"#),
            ("alb.ingress.kubernetes.io/certificate-arn", &certificate),
            ("alb.ingress.kubernetes.io/ssl-redirect", "443"),
            ("alb.ingress.kubernetes.io/ssl-policy", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
            ("alb.ingress.kubernetes.io/backend-protocol", "HTTP"),
            ("alb.ingress.kubernetes.io/healthcheck-path", health),
            ("alb.ingress.kubernetes.io/healthcheck-port", "traffic-port"),
            ("alb.ingress.kubernetes.io/success-codes", "200"),
            (
                "alb.ingress.kubernetes.io/load-balancer-attributes",
                "routing.http.drop_invalid_header_fields.enabled=true",
            ),
            ("alb.ingress.kubernetes.io/target-group-attributes", "deregistration_delay.timeout_seconds=30"),
        ]));
        let ingress = Ingress {
            metadata: m,
            spec: Some(IngressSpec {
                ingress_class_name: Some("alb".into()),
                rules: Some(vec![IngressRule {
                    host: Some(r.host.clone()),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath {
                            path: Some("/".into()),
                            path_type: "Prefix".into(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: r.name.clone(),
                                    port: Some(ServiceBackendPort { number: Some(i32::from(i.app.port)), name: None }),
                                }),
                                ..IngressBackend::default()
                            },
                        }],
                    }),
                }]),
                ..IngressSpec::default()
            }),
            ..Ingress::default()
        };
        let drawn = i.wiring.ingress.map(|n| i.id(n).to_string());
        let comment = format!(
            "Diagram: {}the ALB `{}`, made by the AWS Load Balancer Controller. Apply only after the\ncontroller is Ready: its validating webhook rejects Ingress writes while it is down.\n- scheme internet-facing (the default is internal); the ALB lands in the public subnets\n  found by their kubernetes.io/role/elb tag.\n- target-type ip: the ALB targets pod IPs, so the Service may be ClusterIP.\n- HTTP 80 only redirects to HTTPS 443 (ACM certificate, TLS 1.3/1.2 policy).\n- health check on {health}, the path of the pod probes.",
            drawn.as_deref().map(|n| format!("`{n}` -> ")).unwrap_or_default(),
            i.id(alb)
        );
        let node = drawn.unwrap_or_else(|| i.id(alb).to_string());
        self.objects.push(object(
            50,
            &ingress,
            Some(&node),
            &comment,
            "the ALB (through the AWS Load Balancer Controller)",
        ));
    }

    /// The Ingress of a cluster without AWS: any conformant controller of the class
    /// `app.ingress_class` (default nginx), no vendor annotations; and the NetworkPolicy
    /// admitting that controller's pods.
    pub(super) fn generic_ingress(&mut self, ing: NodeIndex) {
        let (i, r) = (self.i, self.r);
        let class = i.settings.app_config.ingress_class.clone().unwrap_or_else(|| "nginx".into());
        let controller_ns = i.settings.app_config.ingress_namespace.clone().unwrap_or_else(|| "ingress-nginx".into());
        let backend = IngressBackend {
            service: Some(IngressServiceBackend {
                name: r.name.clone(),
                port: Some(ServiceBackendPort { number: Some(i32::from(i.app.port)), name: None }),
            }),
            ..IngressBackend::default()
        };
        let ingress = Ingress {
            metadata: meta(&r.name, self.ns(), self.labels()),
            spec: Some(IngressSpec {
                ingress_class_name: Some(class.clone()),
                rules: Some(vec![IngressRule {
                    host: Some(r.host.clone()),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath { path: Some("/".into()), path_type: "Prefix".into(), backend }],
                    }),
                }]),
                ..IngressSpec::default()
            }),
            ..Ingress::default()
        };
        let comment = format!(
            "Diagram: `{}`. For any conformant cluster: the IngressClass `{class}` (configuration\n`app.ingress_class`), no vendor annotations. TLS is the controller's or cert-manager's to\nadd (a Secret archc cannot make).",
            i.id(ing)
        );
        self.objects.push(object(50, &ingress, Some(i.id(ing)), &comment, &format!("the Ingress (class {class})")));
        let policy = NetworkPolicy {
            metadata: meta(&format!("{}-ingress-from-controller", r.name), self.ns(), self.labels()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector(&self.selector_labels())),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(vec![NetworkPolicyPeer {
                        namespace_selector: Some(selector(&map(&[("kubernetes.io/metadata.name", &controller_ns)]))),
                        ..NetworkPolicyPeer::default()
                    }]),
                    ports: Some(vec![NetworkPolicyPort {
                        protocol: Some("TCP".into()),
                        port: Some(IntOrString::Int(i32::from(i.app.port))),
                        ..NetworkPolicyPort::default()
                    }]),
                }]),
                ..NetworkPolicySpec::default()
            }),
        };
        let comment = format!(
            "Diagram: {} --> {}. The ingress controller's pods (namespace `{controller_ns}`, configuration\n`app.ingress_namespace`) may reach port {}; nothing else may.",
            i.id(ing),
            i.app.node,
            i.app.port
        );
        self.objects.push(object(16, &policy, Some(i.id(ing)), &comment, "ingress from the ingress controller only"));
    }
}
