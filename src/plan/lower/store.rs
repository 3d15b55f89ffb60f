//! What every data store's lowering shares: the data stack's KMS key, the subnets a store
//! sits in, its security group (ingress rules from the arrows into it), the cluster's IRSA
//! provider, and the properties every bucket shares.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::eks::subnets_of;
use crate::diagnostic::{codes, Diagnostic};
use crate::plan::cfn::{get_att, key_admin_statement, kms_key, r, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const DATA: StackId = StackId::Data;
const NET: StackId = StackId::Network;
const CL: StackId = StackId::Cluster;

/// Characters EC2 accepts in a security group (rule) description.
pub(super) fn ec2_text(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=;{}!$*".contains(c) { c } else { '_' }).collect()
}

/// Whether `n` runs in the cluster (its traffic leaves from the EKS cluster security group).
pub(super) fn in_cluster(l: &Lowering<'_>, n: NodeIndex) -> bool {
    let c = l.graph.component(n);
    c.category() == Some("kubernetes") || matches!(c.kind_id(), Some("aws.eks-nodegroup" | "aws.fargate-profile"))
}

/// A data store's lowering: the lowering and the data stack's helpers.
pub(super) struct Store<'l, 'a> {
    pub(super) l: &'l mut Lowering<'a>,
}

impl<'l, 'a> Store<'l, 'a> {
    pub(super) fn new(l: &'l mut Lowering<'a>) -> Self {
        Self { l }
    }

    pub(super) fn id(&self, n: NodeIndex) -> String {
        self.l.graph.component(n).id.clone()
    }

    /// The data KMS key (created at the end, first in the template, when something uses it).
    pub(super) fn key(&mut self) -> Value {
        self.l.data_key_used = true;
        r("DataKmsKey")
    }

    /// Subnet ids (imported) of where `n` sits, of `tier` by default; the app (private)
    /// subnets when the diagram draws no `data` subnets (a store is never left without any).
    pub(super) fn subnets(&mut self, n: Option<NodeIndex>, tier: &str) -> Vec<Value> {
        let mut subnets = subnets_of(self.l, n, tier);
        if subnets.is_empty() && tier == "data" {
            subnets = subnets_of(self.l, n, "app");
        }
        subnets.iter().map(|s| self.l.import(DATA, NET, &format!("{s}Id"), "AWS::EC2::Subnet::Id")).collect()
    }

    /// The security group of a store, its ingress rules from the arrows between the workloads
    /// and `side` (the store and its mount-target boxes) that become security-group rules.
    pub(super) fn security_group(
        &mut self,
        owner: NodeIndex,
        side: &[NodeIndex],
        default_port: u16,
        service: &str,
    ) -> String {
        let owner_id = self.id(owner);
        let logical = format!("{}SecurityGroup", pascal(&owner_id));
        let l = &*self.l;
        // port → arrows
        let mut by_port: Vec<(u16, Vec<EdgeIndex>)> = Vec::new();
        for (e, a, b, c) in l.graph.connections() {
            if c.becomes != "security-group-rule" {
                continue;
            }
            let peer = if side.contains(&b) {
                a
            } else if side.contains(&a) {
                b
            } else {
                continue;
            };
            if !in_cluster(l, peer) {
                continue;
            }
            let port = c.port.unwrap_or(default_port);
            match by_port.iter_mut().find(|(p, _)| *p == port) {
                Some((_, edges)) => edges.push(e),
                None => by_port.push((port, vec![e])),
            }
        }
        let mut rules = Vec::new();
        for (port, edges) in &by_port {
            for e in edges {
                self.l.built(*e, format!("an ingress rule of `{logical}` ({service} {port} from the cluster)"));
            }
            let arrows: Vec<String> = edges.iter().map(|e| self.l.arrow(*e)).collect();
            let plain: Vec<String> = edges
                .iter()
                .map(|e| {
                    let (a, b) = self.l.graph.endpoints(*e);
                    format!("{} to {}", self.l.graph.component(a).id, self.l.graph.component(b).id)
                })
                .collect();
            let source = self.l.import(DATA, CL, "ClusterSecurityGroupId", "AWS::EC2::SecurityGroup::Id");
            let mut description =
                ec2_text(&format!("arrow {}: {service} {port} from the EKS cluster security group", plain.join(", ")));
            description.truncate(255);
            rules.push(json!({
                "//": format!("{}: {service} from the pods (EKS cluster security group), never a CIDR", arrows.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")),
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "SourceSecurityGroupId": source,
                "Description": description,
            }));
        }
        let vpc = self.l.import(DATA, NET, "VpcId", "AWS::EC2::VPC::Id");
        // without a cluster, what reaches the store is outside Kubernetes: its rules are the
        // app stack's (`compute::store_ingress`)
        let cluster = super::eks::has_cluster(self.l);
        let reachable = if cluster { "the EKS cluster security group" } else { "the app stack security groups" };
        let mut props = json!({
            "GroupDescription": ec2_text(&format!("{service} {owner_id}: reachable from {reachable} only")),
            "VpcId": vpc,
        });
        if !rules.is_empty() {
            props["SecurityGroupIngress"] = json!(rules);
        }
        props["Tags"] = tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&owner_id, 40))))]);
        let comment = if !cluster {
            format!(
                "`{owner_id}`: reached only through the rules the app stack adds, one per arrow from what runs there"
            )
        } else if rules.is_empty() {
            format!("no arrow reaches `{owner_id}` from the cluster: no ingress rule")
        } else {
            format!("`{owner_id}`: one ingress rule per port, each from an arrow of the diagram")
        };
        self.l.add(DATA, &logical, Resource::new("AWS::EC2::SecurityGroup", props).node(&owner_id).comment(&comment));
        self.l.output(DATA, &format!("{logical}Id"), r(&logical), &format!("security group of `{owner_id}`"));
        logical
    }

    pub(super) fn unsupported(&mut self, n: NodeIndex, what: String, supported: &str) {
        let c = self.l.graph.component(n);
        self.l.findings.push(
            Diagnostic::error(codes::PLAN_UNSUPPORTED, format!("archc cannot compile {what} yet ({supported})"))
                .with_primary(c.span, "unsupported")
                .with_help(format!(
                    "set `nodes: {{{}: {{engine: ...}}}}` to an engine archc supports, or remove the box",
                    c.id
                )),
        );
    }

    /// The cluster's IRSA provider and issuer as data-stack parameters; `None` without a
    /// cluster stack.
    pub(super) fn oidc(&mut self) -> Option<String> {
        if !self.l.stack(CL).outputs.contains_key("OidcProviderArn") {
            return None;
        }
        self.l.import_checked(DATA, CL, "OidcProviderArn", "String", r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$");
        self.l.import_checked(
            DATA,
            CL,
            "OidcIssuer",
            "String",
            r"^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+$",
        );
        Some("OidcIssuer".to_string())
    }
}

/// Properties every bucket shares: SSE-S3, versioning, all four public-access blocks,
/// bucket-owner-enforced ownership, lifecycle `rules`.
pub(super) fn bucket_properties(rules: Value) -> Value {
    json!({
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "LifecycleConfiguration": {"Rules": rules},
    })
}

/// The data stack's KMS key, first in the template, when a store encrypts with it.
pub(super) static DATA_KEY: super::Lowerer = super::Lowerer { name: "data-key", kinds: &[], lower: data_key };

fn data_key(l: &mut Lowering<'_>) {
    if !l.data_key_used {
        return;
    }
    let resources = std::mem::take(&mut l.stack(DATA).resources);
    let mut statements = vec![key_admin_statement(None)];
    if resources.values().any(|r| r.ty == "AWS::Logs::LogGroup") {
        statements.push(json!({
            "//": "In a key policy the resource can only be \"*\" (= this key); the condition pins use to\nthe log groups the databases export to.",
            "Sid": "CloudWatchLogsEncryptsDatabaseLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": sub("logs.${AWS::Region}.amazonaws.com")},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/rds/*")}},
        }));
    }
    l.add(
        DATA,
        "DataKmsKey",
        Resource::new(
            "AWS::KMS::Key",
            kms_key(
                sub("${AWS::StackName}: databases, their master secrets, caches, file systems and secrets"),
                statements,
            ),
        )
        .retain()
        .comment("KMS key of the data stack"),
    );
    l.add(
        DATA,
        "DataKmsKeyAlias",
        Resource::new(
            "AWS::KMS::Alias",
            json!({"AliasName": sub("alias/${AWS::StackName}-data"), "TargetKeyId": r("DataKmsKey")}),
        ),
    );
    l.stack(DATA).resources.extend(resources);
    l.output(DATA, "DataKmsKeyArn", get_att("DataKmsKey", "Arn"), "KMS key of the data stack");
}
