//! The workloads' IAM roles for service accounts (IRSA): one per Kubernetes workload that calls AWS APIs, its statements from its `calls-api` arrows, trusting exactly its service account, in the data stack.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::eks::has_cluster;
use super::store::Store;
use crate::plan::cfn::{get_att, irsa_trust, policy, r, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

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
        let graph = self.l.graph;
        let calls: Vec<(EdgeIndex, NodeIndex)> =
            graph.outgoing(n).filter(|(e, _)| graph.connection(*e).becomes == "iam-permission").collect();
        if calls.is_empty() {
            return;
        }
        let mut calls = calls;
        calls.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
        let id = self.id(n);
        let p = pascal(&id);
        let role = format!("{p}Role");
        let s = self.l.settings;
        let sa = match &s.app {
            Some(a) if a.node == id => a.name.clone(),
            _ => kebab(&id, 63),
        };
        let mut statements: Vec<Value> = Vec::new();
        let mut ecr_login = false;
        for (e, b) in calls {
            let target = graph.component(b);
            let tp = pascal(&target.id);
            let why = [Why::Edge(e)];
            match target.kind_id() {
                Some("aws.s3") if self.l.stack(DATA).resources.contains_key(&tp) => {
                    statements.push(self.l.allow(
                        DATA,
                        &role,
                        &format!("{tp}Bucket"),
                        &why,
                        &["s3:ListBucket", "s3:GetBucketLocation"],
                        get_att(&tp, "Arn"),
                        None,
                    ));
                    statements.push(self.l.allow(
                        DATA,
                        &role,
                        &format!("{tp}Objects"),
                        &why,
                        &["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                        sub(&format!("${{{tp}.Arn}}/*")),
                        None,
                    ));
                }
                Some("aws.secrets-manager") if self.l.stack(DATA).resources.contains_key(&tp) => {
                    statements.push(self.l.allow(
                        DATA,
                        &role,
                        &format!("{tp}Read"),
                        &why,
                        &["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                        r(&tp),
                        None,
                    ));
                    let mut st = self.l.allow(
                        DATA,
                        &role,
                        &format!("{tp}Decrypt"),
                        &why,
                        &["kms:Decrypt"],
                        get_att("DataKmsKey", "Arn"),
                        Some("only through Secrets Manager"),
                    );
                    st["Condition"] =
                        json!({"StringEquals": {"kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com")}});
                    statements.push(st);
                }
                Some("aws.ecr") => {
                    if !ecr_login {
                        ecr_login = true;
                        statements.push(self.l.allow(
                            DATA,
                            &role,
                            "EcrLogin",
                            &why,
                            &["ecr:GetAuthorizationToken"],
                            json!("*"),
                            Some("Resource \"*\": GetAuthorizationToken is registry-wide and has no resource-level permission"),
                        ));
                    }
                    let name = super::ci::repository_name(self.l, b);
                    statements.push(self.l.allow(
                        DATA,
                        &role,
                        &format!("{tp}Pull"),
                        &why,
                        &["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        sub(&format!(
                            "arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{name}"
                        )),
                        None,
                    ));
                }
                _ => {
                    let what = target.kind.map_or("this component", |k| k.def.name.as_str());
                    self.l.unexpressed(e, format!("archc has no workload permission for {what} `{}`", target.id));
                }
            }
        }
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
