//! The workloads' IAM roles for service accounts (IRSA): one per Kubernetes workload that calls AWS APIs, its statements from its `calls-api` arrows, trusting exactly its service account, in the data stack.

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::eks::has_cluster;
use super::store::Store;
use crate::plan::cfn::{get_att, irsa_trust, policy};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "workload-role", kinds: &[], lower };

fn lower(l: &mut Lowering<'_>) {
    if l.graph.of_kind("aws.vpc").next().is_none() {
        return;
    }
    let graph = l.graph;
    if !has_cluster(l) {
        return;
    }
    let workloads: Vec<NodeIndex> = graph
        .components()
        .filter(|(_, c)| matches!(c.kind_id(), Some("k8s.deployment" | "k8s.statefulset" | "k8s.cronjob")))
        .map(|(n, _)| n)
        .collect();
    let mut s = Store::new(l);
    for n in workloads {
        s.workload_role(n);
    }
}

impl Store<'_, '_> {
    fn workload_role(&mut self, n: NodeIndex) {
        let calls = super::access::calls(self.l, n);
        if calls.is_empty() {
            return;
        }
        let id = self.id(n);
        let p = pascal(&id);
        let role = format!("{p}Role");
        let s = self.l.settings;
        let sa = match &s.app {
            Some(a) if a.node == id => a.name.clone(),
            _ => kebab(&id, 63),
        };
        let statements = super::access::statements(self.l, DATA, &role, &calls);
        if statements.is_empty() {
            return;
        }
        let Some(issuer_param) = self.oidc() else { return };
        self.l.param(
            DATA,
            "KubernetesNamespace",
            Parameter::new("String", "Kubernetes namespace of the workloads")
                .known(s.namespace.as_str())
                .pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        );
        let sa_param = format!("{p}ServiceAccount");
        self.l.param(
            DATA,
            &sa_param,
            Parameter::new("String", &format!("Kubernetes ServiceAccount of `{id}`"))
                .known(sa.as_str())
                .pattern(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"),
        );
        self.l.add(
            DATA,
            &role,
            Resource::new(
                "AWS::IAM::Role",
                json!({
                    "Description": format!("IRSA role of the {id} pods: what their arrows call, nothing else (no access keys)"),
                    "AssumeRolePolicyDocument": irsa_trust("OidcProviderArn", &issuer_param, "${KubernetesNamespace}", &format!("${{{sa_param}}}")),
                    "Policies": [{"PolicyName": format!("{}-arrows", kebab(&id, 40)), "PolicyDocument": policy(statements)}],
                }),
            )
            .node(&id)
            .comment("IRSA trust policies are whole !Sub JSON strings: the condition keys embed the issuer\n(\"<issuer>:sub\") and CloudFormation cannot put an intrinsic in a map key"),
        );
        self.l.output(
            DATA,
            &format!("{p}RoleArn"),
            get_att(&role, "Arn"),
            &format!("IRSA role of `{id}` (eks.amazonaws.com/role-arn)"),
        );
    }
}
