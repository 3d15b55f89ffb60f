//! NetworkPolicies: default deny, then what the diagram's arrows open.

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::plan::kubernetes::wiring::Dependency;
use crate::plan::kubernetes::Placeholders;
use crate::plan::names::kebab;
use crate::plan::StackId;

use super::{map, meta, object, selector, Builder};

impl Builder<'_, '_> {
    pub(super) fn network_policies(&mut self, ph: &mut Placeholders<'_>) {
        let (i, r) = (self.i, self.r);
        let deny = NetworkPolicy {
            metadata: meta(
                "default-deny-all",
                self.ns(),
                map(&[("app.kubernetes.io/part-of", &i.settings.project), ("app.kubernetes.io/managed-by", "archc")]),
            ),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ..NetworkPolicySpec::default()
            }),
        };
        let enforced = if i.graph.draws_aws() {
            None
        } else {
            Some("Default deny for every pod of the namespace, both directions: only what the diagram draws\nis opened again by the next policies. Enforced by the cluster's network plugin (Calico, Cilium,\n...); with a plugin that does not enforce NetworkPolicy they are ignored.")
        };
        self.objects.push(object(
            15,
            &deny,
            None,
            enforced.unwrap_or("Default deny for every pod of the namespace, both directions: only what the diagram draws\nis opened again by the next policies. Enforced on EKS by the VPC CNI's network policy agent\n(vpc-cni add-on configuration enableNetworkPolicy \"true\"); without it policies are ignored."),
            "default deny, ingress and egress",
        ));
        let tcp = |port: u16| NetworkPolicyPort {
            protocol: Some("TCP".into()),
            port: Some(IntOrString::Int(i32::from(port))),
            ..NetworkPolicyPort::default()
        };
        // in: from the load balancers' subnets
        if !i.wiring.load_balancers.is_empty() {
            let mut cidrs = Vec::new();
            let mut names = Vec::new();
            for &lb in &i.wiring.load_balancers {
                cidrs.extend(i.subnet_cidrs(lb, "public", ph));
                names.push(i.id(lb).to_string());
            }
            let policy = NetworkPolicy {
                metadata: meta(&format!("{}-ingress-from-{}", r.name, kebab(&names[0], 30)), self.ns(), self.labels()),
                spec: Some(NetworkPolicySpec {
                    pod_selector: Some(selector(&self.selector_labels())),
                    policy_types: Some(vec!["Ingress".into()]),
                    ingress: Some(vec![NetworkPolicyIngressRule {
                        from: Some(ip_blocks(cidrs)),
                        ports: Some(vec![tcp(i.app.port)]),
                    }]),
                    ..NetworkPolicySpec::default()
                }),
            };
            let via = i.wiring.service.map(|s| format!(" --> {}", i.id(s))).unwrap_or_default();
            let comment = format!(
                "Diagram: {}{via} --> {}. With target-type ip the ALB sends requests and health checks to\nthe pod IP from its own network interfaces, in the subnets it is drawn in. A NetworkPolicy\ncannot name a load balancer or a security group, so the source is those subnets' CIDR blocks\n(network stack outputs, one per AZ). Nothing else may reach port {}. Kubelet probes come\nfrom the node and are not subject to NetworkPolicy.",
                names.join(", "),
                i.app.node,
                i.app.port
            );
            self.objects.push(object(
                16,
                &policy,
                Some(&names[0]),
                &comment,
                "ingress from the load balancer's subnets only",
            ));
        }
        // out: DNS, data stores, AWS APIs
        let mut egress = vec![dns_egress()];
        let mut lines =
            vec!["- DNS: UDP/TCP 53 to CoreDNS (kube-system, k8s-app=kube-dns), for every name below.".to_string()];
        let mut stores: Vec<(&Dependency, &str)> = Vec::new();
        if let Some(db) = &r.database {
            stores.push((&db.dep, "database"));
        }
        if let Some(c) = &r.cache {
            stores.push((&c.dep, "cache"));
        }
        for (dep, what) in stores {
            egress.push(NetworkPolicyEgressRule {
                to: Some(ip_blocks(i.subnet_cidrs(dep.node, "data", ph))),
                ports: Some(vec![tcp(dep.port)]),
            });
            lines.push(format!(
                "- {} --> {}: TCP {} to the CIDRs of the {what}'s subnets (its endpoint can move between\n  them on a Multi-AZ failover); its security group admits only the cluster's nodes.",
                i.app.node,
                i.id(dep.node),
                dep.port
            ));
        }
        for dep in &i.wiring.caches {
            if r.cache.as_ref().is_none_or(|c| c.dep.node != dep.node) {
                lines.push(format!(
                    "- {} --> {}: not opened: {} {} edition cannot use the cache (APP001).",
                    i.app.node,
                    i.id(dep.node),
                    i.display(),
                    i.app.edition.as_deref().unwrap_or("")
                ));
            }
        }
        if !i.wiring.apis.is_empty() {
            let vpc = ph.output("VpcCidr", StackId::Network, "the VPC's CIDR block");
            let except = (!i.wiring.vpc_endpoints).then(|| vec![vpc]);
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock { cidr: "0.0.0.0/0".into(), except }),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(443)]),
            });
            let apis: Vec<&str> = i.wiring.apis.iter().map(|&n| i.id(n)).collect();
            lines.push(format!(
                "- {} --> {} (and STS, for the IRSA role): TCP 443. AWS APIs answer on public addresses\n  that cannot be listed, {}.",
                i.app.node,
                apis.join(", "),
                if i.wiring.vpc_endpoints {
                    "and on VPC endpoints inside the VPC, hence 0.0.0.0/0"
                } else {
                    "reached through the NAT gateway, hence 0.0.0.0/0 except the VPC\n  (no VPC endpoint is drawn)"
                }
            ));
        }
        if let Some((host, port, _)) = self.smtp() {
            // the mail server is outside the VPC (Amazon SES or a provider): an SMTP relay
            // inside the VPC would be a box of the diagram, reached by its own arrow
            let vpc = ph.output("VpcCidr", StackId::Network, "the VPC's CIDR block");
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock { cidr: "0.0.0.0/0".into(), except: Some(vec![vpc]) }),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(port)]),
            });
            lines.push(format!(
                "- email (app.smtp): TCP {port} to {host}, a mail server outside the VPC whose addresses\n  cannot be listed, reached through the NAT gateway, hence 0.0.0.0/0 except the VPC."
            ));
        }
        if let Some((efs, _)) = r.efs {
            lines.push(format!(
                "- {} <-> {}: no pod rule: the NFS mount is made by the kubelet and the EFS CSI node plugin\n  on the node; the file system's security group admits only the cluster's nodes.",
                i.app.node,
                i.id(efs)
            ));
        }
        lines.push("Everything else, including the instance metadata service, is denied by default-deny-all.".into());
        let policy = NetworkPolicy {
            metadata: meta(&format!("{}-egress", r.name), self.ns(), self.labels()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector(&self.selector_labels())),
                policy_types: Some(vec!["Egress".into()]),
                egress: Some(egress),
                ..NetworkPolicySpec::default()
            }),
        };
        let comment = format!(
            "The diagram's arrows out of `{}`, as far as a NetworkPolicy can express them (pods,\nnamespaces and IP blocks on L3/L4; no DNS names, AWS services or security groups):\n{}",
            i.app.node,
            lines.join("\n")
        );
        self.objects.push(object(17, &policy, self.node(), &comment, "egress: DNS and the arrows out of the workload"));
        // a cluster's members talk to each other
        let peers = &i.profile.deploy.cluster_ports;
        if r.cluster && !peers.is_empty() {
            let ports: Vec<NetworkPolicyPort> = peers
                .iter()
                .flat_map(|p| {
                    p.protocols.iter().map(move |proto| NetworkPolicyPort {
                        protocol: Some(proto.clone()),
                        port: Some(IntOrString::Int(i32::from(p.port))),
                        ..NetworkPolicyPort::default()
                    })
                })
                .collect();
            let me = NetworkPolicyPeer {
                pod_selector: Some(selector(&self.selector_labels())),
                ..NetworkPolicyPeer::default()
            };
            let policy = NetworkPolicy {
                metadata: meta(&format!("{}-cluster", r.name), self.ns(), self.labels()),
                spec: Some(NetworkPolicySpec {
                    pod_selector: Some(selector(&self.selector_labels())),
                    policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                    ingress: Some(vec![NetworkPolicyIngressRule {
                        from: Some(vec![me.clone()]),
                        ports: Some(ports.clone()),
                    }]),
                    egress: Some(vec![NetworkPolicyEgressRule { to: Some(vec![me]), ports: Some(ports) }]),
                }),
            };
            let names: Vec<String> = peers.iter().map(|p| format!("{} {}", p.name, p.port)).collect();
            let comment = format!(
                "{} runs {} replicas as a cluster: its pods talk to each other ({}).",
                i.display(),
                i.app.replicas,
                names.join(", ")
            );
            self.objects.push(object(18, &policy, self.node(), &comment, "the cluster's pods reach each other"));
        }
    }
}

/// Egress to CoreDNS (kube-system, k8s-app=kube-dns) on UDP and TCP 53.
/// Peers of these CIDR blocks, each once, in order.
pub(super) fn ip_blocks(cidrs: Vec<String>) -> Vec<NetworkPolicyPeer> {
    let mut seen = Vec::new();
    cidrs
        .into_iter()
        .filter(|c| {
            let new = !seen.contains(c);
            seen.push(c.clone());
            new
        })
        .map(|cidr| NetworkPolicyPeer {
            ip_block: Some(IPBlock { cidr, except: None }),
            ..NetworkPolicyPeer::default()
        })
        .collect()
}

pub(super) fn dns_egress() -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(vec![NetworkPolicyPeer {
            namespace_selector: Some(selector(&map(&[("kubernetes.io/metadata.name", "kube-system")]))),
            pod_selector: Some(selector(&map(&[("k8s-app", "kube-dns")]))),
            ..NetworkPolicyPeer::default()
        }]),
        ports: Some(vec![
            NetworkPolicyPort {
                protocol: Some("UDP".into()),
                port: Some(IntOrString::Int(53)),
                ..NetworkPolicyPort::default()
            },
            NetworkPolicyPort {
                protocol: Some("TCP".into()),
                port: Some(IntOrString::Int(53)),
                ..NetworkPolicyPort::default()
            },
        ]),
    }
}
