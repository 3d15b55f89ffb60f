//! The namespace and the service accounts (IRSA).

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use serde_json::json;

use crate::plan::kubernetes::Placeholders;
use crate::plan::StackId;
use crate::yaml::COMMENT;

use super::{comment_text, map, meta, object, Builder, LBC_NAME, LBC_NAMESPACE};

impl Builder<'_, '_> {
    pub(super) fn namespace(&mut self) {
        let mut labels = map(&[
            ("app.kubernetes.io/part-of", &self.i.settings.project),
            ("app.kubernetes.io/managed-by", "archc"),
            ("pod-security.kubernetes.io/enforce", "restricted"),
            ("pod-security.kubernetes.io/audit", "restricted"),
            ("pod-security.kubernetes.io/warn", "restricted"),
        ]);
        labels.insert(
            "pod-security.kubernetes.io/enforce-version".into(),
            format!("v{}", self.i.settings.kubernetes_version),
        );
        let alb = self.i.wiring.alb(self.i.graph).is_some();
        if alb {
            labels.insert("elbv2.k8s.aws/pod-readiness-gate-inject".into(), "enabled".into());
        }
        let ns = Namespace { metadata: meta(&self.r.namespace, None, labels), ..Namespace::default() };
        let mut comment = format!(
            "Namespace of the workload `{}` (and what serves it).\n- pod-security.kubernetes.io/*: Pod Security Admission \"restricted\", which the pods meet\n  (non-root, seccomp RuntimeDefault, all capabilities dropped, no privilege escalation).",
            self.i.app.node
        );
        if alb {
            comment.push_str(
                "\n- elbv2.k8s.aws/pod-readiness-gate-inject: the AWS Load Balancer Controller adds a target-health\n  readiness gate to the pods, so a rollout waits until the ALB calls each new pod healthy\n  (target-type ip only, which the Ingress uses).",
            );
        }
        // the namespace box drawn around the workload, if any, is this object
        let drawn = self
            .i
            .graph
            .node(&self.i.app.node)
            .and_then(|n| self.i.graph.enclosing(n, "k8s.namespace"))
            .map(|ns| self.i.graph.component(ns).id.as_str());
        let o = object(0, &ns, drawn.or(self.node()), &comment, "the namespace, Pod Security Admission `restricted`");
        self.objects.push(o);
    }

    pub(super) fn controller_service_account(&mut self, ph: &mut Placeholders<'_>) {
        let role = ph.output(
            "LoadBalancerControllerRoleArn",
            StackId::Cluster,
            "IAM role (IRSA) of the AWS Load Balancer Controller, with the controller's official IAM policy",
        );
        let cluster = ph.output("ClusterName", StackId::Cluster, "name of the EKS cluster");
        let vpc = ph.output("VpcId", StackId::Network, "id of the VPC");
        let labels = map(&[("app.kubernetes.io/name", LBC_NAME), ("app.kubernetes.io/managed-by", "archc")]);
        let mut m = meta(LBC_NAME, Some(LBC_NAMESPACE), labels);
        m.annotations = Some(map(&[("eks.amazonaws.com/role-arn", &role)]));
        let sa = ServiceAccount { metadata: m, ..ServiceAccount::default() };
        let node = self.i.wiring.controller.map(|n| self.i.id(n).to_string());
        let comment = format!(
            "ServiceAccount of the AWS Load Balancer Controller{}, created before its Helm release\n(helm/{LBC_NAME}.values.yaml: serviceAccount.create false) so that it carries the IRSA\nannotation (cluster stack output LoadBalancerControllerRoleArn). The controller calls the\nKubernetes API, so its API token stays mounted.",
            node.as_deref().map(|n| format!(" (diagram: `{n}`)")).unwrap_or_default()
        );
        self.objects.push(object(
            10,
            &sa,
            node.as_deref(),
            &comment,
            "the AWS Load Balancer Controller's identity (IRSA)",
        ));
        let header = format!(
            "Values of the chart eks/{LBC_NAME} (https://aws.github.io/eks-charts), release\n{LBC_NAME} in namespace {LBC_NAMESPACE}; install after the ServiceAccount and before\nthe Ingress (its webhook rejects Ingresses while it is not Ready):\n  helm upgrade --install {LBC_NAME} eks/{LBC_NAME} -n {LBC_NAMESPACE} \\\n    --version <pinned chart version> -f helm/{LBC_NAME}.values.yaml --wait --timeout 10m\n`helm upgrade` does not update CRDs: apply the chart's crds/ on upgrades.\nregion and vpcId are explicit so the controller never needs the instance metadata service;\ndefaultTargetType stays the chart default (the Ingress sets target-type ip itself); the\nService mutator webhook is off because archc emits no Service of type LoadBalancer."
        );
        let header = if self.i.wiring.load_balancers.iter().any(|&lb| super::nlb::is_nlb(self.i, lb)) {
            header.replace(
                "because archc emits no Service of type LoadBalancer.",
                "because archc's Service of type LoadBalancer names\nits class (service.k8s.aws/nlb) itself.",
            )
        } else {
            header
        };
        let values = json!({
            COMMENT: comment_text(&header),
            "clusterName": cluster,
            "region": self.i.settings.region,
            "vpcId": vpc,
            "serviceAccount": {
                COMMENT: format!("the ServiceAccount of kubernetes/10-serviceaccount-{LBC_NAME}.yaml (IRSA)"),
                "create": false,
                "name": LBC_NAME,
            },
            "replicaCount": 2,
            "podDisruptionBudget": {"maxUnavailable": 1},
            "ingressClass": "alb",
            "createIngressClassResource": true,
            "defaultTargetType": "instance",
            "enableServiceMutatorWebhook": false,
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "512Mi"},
            },
        });
        self.helm.push((format!("{LBC_NAME}.values.yaml"), values));
    }

    pub(super) fn service_account(&mut self) {
        let mut m = meta(&self.r.name, self.ns(), self.labels());
        if let Some(role) = &self.r.role {
            m.annotations = Some(map(&[("eks.amazonaws.com/role-arn", role)]));
        }
        let sa =
            ServiceAccount { metadata: m, automount_service_account_token: Some(false), ..ServiceAccount::default() };
        let comment = match &self.r.role {
            Some(_) => format!(
                "Identity of the `{}` pods. IRSA: the role trusts system:serviceaccount:{}:{} (aud\nsts.amazonaws.com) and allows what the diagram's arrows to AWS APIs need. No Kubernetes API\ntoken is mounted (the application does not call the API); the IRSA token is a projected\nvolume of the Deployment.",
                self.i.app.node, self.r.namespace, self.r.name
            ),
            None => format!(
                "Identity of the `{}` pods: the diagram draws no arrow to an AWS API, so no IAM role;\nno Kubernetes API token either.",
                self.i.app.node
            ),
        };
        self.objects.push(object(11, &sa, self.node(), &comment, "the workload's identity (IRSA role annotation)"));
    }
}
