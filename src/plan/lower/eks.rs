//! The cluster stack: the EKS control plane (API authentication, public endpoint limited
//! by CIDR and private endpoint on, KMS secrets encryption, control-plane logs), a managed
//! node group per node-group box (app subnets only, IMDSv2 launch template), managed
//! add-ons, the IRSA identity provider and the kube-system IRSA roles the diagram needs
//! (AWS Load Balancer Controller, EFS CSI driver). Reference sections 1.2 and 2.2, 2.3.

use petgraph::stable_graph::NodeIndex;
use serde_json::{json, Value};

use super::network::subnet_groups;
use crate::plan::cfn::{
    aws_policy, eks_access_policy, equals, get_att, if_, irsa_trust_with, key_admin_statement, kms_key, no_value, not,
    policy, r, select, split, sub, tags,
};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const CL: StackId = StackId::Cluster;
const NET: StackId = StackId::Network;

/// The official AWS Load Balancer Controller policy (kubernetes-sigs/aws-load-balancer-controller
/// `docs/install/iam_policy.json`, 16 statements), with `arn:${AWS::Partition}` for `arn:aws`
/// and a comment on every wildcard.
const LB_CONTROLLER_POLICY: &str = include_str!("aws-load-balancer-controller-iam-policy.json");

/// The diagram's cluster: the control plane box (or the cluster box around the nodes).
pub(super) fn cluster_node(l: &Lowering<'_>) -> Option<NodeIndex> {
    l.graph.of_kind("aws.eks-control-plane").next().or_else(|| l.graph.of_kind("aws.eks-cluster").next())
}

/// Whether the diagram has anything that runs on EKS.
pub(super) fn has_cluster(l: &Lowering<'_>) -> bool {
    cluster_node(l).is_some()
        || l.graph.of_kind("aws.eks-nodegroup").next().is_some()
        || l.graph
            .components()
            .any(|(_, c)| matches!(c.kind_id(), Some("k8s.deployment" | "k8s.statefulset" | "k8s.cronjob")))
}

/// Logical ids of the network subnets `n` sits in (the subnet box around it, one subnet per
/// AZ), or of every subnet of `tier` when it is drawn outside any subnet box.
pub(super) fn subnets_of(l: &Lowering<'_>, n: Option<NodeIndex>, tier: &str) -> Vec<String> {
    let groups = subnet_groups(l);
    let enclosing =
        n.and_then(
            |n| {
                if l.graph.component(n).is("aws.subnet") {
                    Some(n)
                } else {
                    l.graph.enclosing(n, "aws.subnet")
                }
            },
        );
    match enclosing.and_then(|s| groups.iter().find(|g| g.contains(s))) {
        Some(g) => g.subnets.clone(),
        None => groups.iter().filter(|g| g.tier == tier).flat_map(|g| g.subnets.clone()).collect(),
    }
}

/// The managed node groups: (diagram id, logical id, node) of each node-group box, or one
/// implied group `nodes` when the diagram runs workloads without drawing nodes.
pub(super) fn node_groups(l: &Lowering<'_>) -> Vec<(String, Option<NodeIndex>)> {
    let drawn: Vec<(String, Option<NodeIndex>)> =
        l.graph.of_kind("aws.eks-nodegroup").map(|n| (l.graph.component(n).id.clone(), Some(n))).collect();
    if drawn.is_empty() {
        vec![("nodes".to_string(), None)]
    } else {
        drawn
    }
}

pub(super) static LOWERER: super::Lowerer = super::Lowerer {
    name: "eks",
    kinds: &["aws.eks-cluster", "aws.eks-control-plane", "aws.eks-nodegroup", "k8s.lb-controller"],
    lower,
};

fn lower(l: &mut Lowering<'_>) {
    if !has_cluster(l) || l.graph.of_kind("aws.vpc").next().is_none() {
        return;
    }
    let settings = l.settings;
    let cp = cluster_node(l);
    let cp_id = cp.map(|n| l.graph.component(n).id.clone());
    let cluster = cp_id.as_deref().map_or_else(|| "Cluster".to_string(), pascal);
    let groups = node_groups(l);
    // an EKS cluster box drawn around the nodes besides the control plane is the cluster
    // resource (the control plane keeps its role, key, logs and identity provider)
    let cluster_box = l
        .graph
        .of_kind("aws.eks-cluster")
        .find(|&b| Some(b) != cp)
        .filter(|_| cp.is_some_and(|n| l.graph.component(n).is("aws.eks-control-plane")));
    for box_ in l.graph.of_kind("aws.eks-cluster").collect::<Vec<_>>() {
        if Some(box_) != cp && Some(box_) != cluster_box {
            l.used(box_, format!("the EKS cluster `{cluster}` it draws around its nodes"));
        }
    }

    // ------------------------------------------------------------------ parameters
    l.param(
        CL,
        "ClusterName",
        Parameter::new("String", "EKS cluster name")
            .known(settings.cluster_name.as_str())
            .pattern(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$"),
    );
    l.param(
        CL,
        "KubernetesVersion",
        Parameter::new("String", "EKS Kubernetes minor version (one in standard support)")
            .known(settings.kubernetes_version.as_str())
            .pattern(r"^1\.\d\d$"),
    );
    let private_only = cp.is_some_and(|n| l.graph.component(n).attr("endpoint") == Some("private"));
    if !private_only {
        let cidrs = settings.public_access_cidrs.join(",");
        let p = Parameter::new(
            "CommaDelimitedList",
            "CIDRs allowed to reach the public EKS API endpoint (operators, CI egress); empty: no public endpoint (0.0.0.0/0 would defeat the restriction)",
        );
        l.param(CL, "PublicAccessCidrs", if cidrs.is_empty() { p.default("") } else { p.known(cidrs.as_str()) });
        l.stack(CL).conditions.insert(
            "HasPublicAccessCidrs".into(),
            not(equals(json!({"Fn::Join": [",", r("PublicAccessCidrs")]}), json!(""))),
        );
    }
    let mut retention =
        Parameter::new("Number", "Retention of the control-plane log group /aws/eks/<cluster>/cluster (days)")
            .default(90);
    retention.allowed_values =
        [30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653].iter().map(|d| json!(d)).collect();
    l.param(CL, "ControlPlaneLogRetentionDays", retention);
    l.param(
        CL,
        "ClusterAdminPrincipalArn",
        Parameter::new(
            "String",
            "Optional IAM role or user ARN that gets a cluster-admin access entry (human operators); empty: none",
        )
        .default("")
        .pattern(r"^$|^arn:aws[a-z-]*:iam::\d{12}:(role|user)/.+$"),
    );
    l.stack(CL)
        .conditions
        .insert("HasClusterAdminPrincipal".into(), not(equals(r("ClusterAdminPrincipalArn"), json!(""))));
    l.param(
        CL,
        "NodeInstanceTypes",
        Parameter::new("CommaDelimitedList", "EC2 instance types of the managed node groups")
            .known(settings.node_instance_types.join(",").as_str()),
    );
    l.param(
        CL,
        "NodeDiskSizeGiB",
        Parameter::new("Number", "Encrypted gp3 root volume of each node (GiB)")
            .known(settings.node_disk_gib)
            .range(20, 16384),
    );
    l.param(
        CL,
        "NodeGroupMinSize",
        Parameter::new("Number", "Nodes per group, at least").known(settings.node_min).range(1, 1000),
    );
    l.param(
        CL,
        "NodeGroupDesiredSize",
        Parameter::new("Number", "Nodes per group at creation").known(settings.node_desired).range(1, 1000),
    );
    l.param(
        CL,
        "NodeGroupMaxSize",
        Parameter::new("Number", "Nodes per group, at most").known(settings.node_max).range(1, 1000),
    );

    // subnets: where the node groups run (app subnets), imported from the network stack
    let mut cluster_subnets: Vec<String> = Vec::new();
    let mut group_subnets: Vec<Vec<Value>> = Vec::new();
    for (_, n) in &groups {
        let subnets = subnets_of(l, *n, "app");
        let refs: Vec<Value> =
            subnets.iter().map(|s| l.import(CL, NET, &format!("{s}Id"), "AWS::EC2::Subnet::Id")).collect();
        for s in subnets {
            if !cluster_subnets.contains(&s) {
                cluster_subnets.push(s);
            }
        }
        group_subnets.push(refs);
    }
    if cluster_subnets.len() >= 2 {
        let assertions: Vec<Value> = (0..cluster_subnets.len())
            .flat_map(|i| ((i + 1)..cluster_subnets.len()).map(move |j| (i, j)))
            .map(|(i, j)| {
                let (a, b) = (format!("{}Id", cluster_subnets[i]), format!("{}Id", cluster_subnets[j]));
                json!({
                    "Assert": not(equals(r(&a), r(&b))),
                    "AssertDescription": format!("{a} and {b} must be different subnets (one per AZ)."),
                })
            })
            .collect();
        l.stack(CL).rules.insert("DistinctClusterSubnets".into(), json!({"Assertions": assertions}));
    }
    let cluster_subnet_refs: Vec<Value> = cluster_subnets.iter().map(|s| r(&format!("{s}Id"))).collect();

    // ------------------------------------------------------------------ KMS and logs
    let log_group_name = "/aws/eks/${ClusterName}/cluster";
    l.add(
        CL,
        "ClusterKmsKey",
        Resource::new(
            "AWS::KMS::Key",
            kms_key(
                sub("EKS ${ClusterName}: Kubernetes secrets envelope encryption and control-plane log group"),
                vec![
                    key_admin_statement(None),
                    json!({
                        "//": "In a key policy the resource can only be \"*\" (= this key); the condition pins use to\nthe control-plane log group.",
                        "Sid": "CloudWatchLogsEncryptsControlPlaneLogGroup",
                        "Effect": "Allow",
                        "Principal": {"Service": sub("logs.${AWS::Region}.amazonaws.com")},
                        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
                        "Resource": "*",
                        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": sub(&format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group_name}"))}},
                    }),
                ],
            ),
        )
        .retain()
        .comment("KMS key of the cluster: Kubernetes secrets (envelope encryption) and the control-plane log group"),
    );
    l.add(
        CL,
        "ClusterKmsKeyAlias",
        Resource::new(
            "AWS::KMS::Alias",
            json!({"AliasName": sub("alias/eks/${ClusterName}"), "TargetKeyId": r("ClusterKmsKey")}),
        ),
    );
    l.add(
        CL,
        "ControlPlaneLogGroup",
        Resource::new(
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": sub(log_group_name), "RetentionInDays": r("ControlPlaneLogRetentionDays"), "KmsKeyId": get_att("ClusterKmsKey", "Arn")}),
        )
        .retain()
        .comment("EKS writes the control-plane logs here; creating the group first sets retention and KMS"),
    );

    // ------------------------------------------------------------------ IAM: control plane
    let cp_text = cp_id
        .as_deref()
        .map_or_else(|| "the EKS control plane".to_string(), |id| format!("the EKS control plane `{id}`"));
    let kms_statement = l.allow(
        CL,
        "ClusterRole",
        "SecretsEncryptionKey",
        &[Why::Required(format!("{cp_text}: envelope encryption of Kubernetes secrets with the cluster key"))],
        &["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
        get_att("ClusterKmsKey", "Arn"),
        None,
    );
    l.grant(
        CL,
        "ClusterRole",
        "AmazonEKSClusterPolicy",
        Why::Required(format!("{cp_text}: the service role EKS requires")),
    );
    let role_comment = l.managed_policies_comment(CL, "ClusterRole", &["AmazonEKSClusterPolicy"]);
    let mut role = Resource::new(
        "AWS::IAM::Role",
        json!({
            "Description": sub("EKS control plane role of ${ClusterName}"),
            "AssumeRolePolicyDocument": policy(vec![json!({"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]})]),
            "ManagedPolicyArns": [aws_policy("AmazonEKSClusterPolicy")],
            "Policies": [{"PolicyName": "secrets-encryption-key", "PolicyDocument": policy(vec![kms_statement])}],
        }),
    )
    .comment(&role_comment);
    if let Some(id) = &cp_id {
        role = role.node(id);
    }
    l.add(CL, "ClusterRole", role);

    // ------------------------------------------------------------------ control plane
    let mut vpc_config = json!({"SubnetIds": cluster_subnet_refs, "EndpointPrivateAccess": true});
    if private_only {
        vpc_config["EndpointPublicAccess"] = json!(false);
    } else {
        vpc_config["EndpointPublicAccess"] = if_("HasPublicAccessCidrs", json!(true), json!(false));
        vpc_config["PublicAccessCidrs"] = if_("HasPublicAccessCidrs", r("PublicAccessCidrs"), no_value());
    }
    let log_types: Vec<Value> = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
        .iter()
        .map(|t| json!({"Type": t}))
        .collect();
    let mut cluster_resource = Resource::new(
        "AWS::EKS::Cluster",
        json!({
            "Name": r("ClusterName"),
            "Version": r("KubernetesVersion"),
            "RoleArn": get_att("ClusterRole", "Arn"),
            "AccessConfig": {
                "//": "API: access entries only (the CloudFormation default CONFIG_MAP disables AccessEntry);\nthe identity that creates the stack becomes cluster admin (the deploy installs the\nLB controller with it), humans through ClusterAdminPrincipalArn.",
                "AuthenticationMode": "API",
                "BootstrapClusterCreatorAdminPermissions": true,
            },
            "ResourcesVpcConfig": vpc_config,
            "EncryptionConfig": [{"Provider": {"KeyArn": get_att("ClusterKmsKey", "Arn")}, "Resources": ["secrets"]}],
            "Logging": {"ClusterLogging": {"EnabledTypes": log_types}},
            "UpgradePolicy": {
                "//": "STANDARD: at the end of standard support EKS upgrades the cluster instead of billing\nextended support (targets/versions/versions.yaml has the dates; archc warns 60 days before)",
                "SupportType": "STANDARD",
            },
        }),
    )
    .depends_on(&["ControlPlaneLogGroup"])
    .comment(if private_only {
        "the control plane: private endpoint only (the diagram draws it private)"
    } else {
        "the control plane: private endpoint on; the public endpoint only when PublicAccessCidrs\nnames who may use it (eks.public_access_cidrs), never 0.0.0.0/0"
    });
    if let Some(b) = cluster_box {
        cluster_resource = cluster_resource.node(&l.graph.component(b).id);
    } else if let Some(id) = &cp_id {
        cluster_resource = cluster_resource.node(id);
    }
    l.add(CL, &cluster, cluster_resource);
    let issuer = select(1, split("//", get_att(&cluster, "OpenIdConnectIssuerUrl")));

    // ------------------------------------------------------------------ IRSA identity provider
    let mut oidc = Resource::new(
        "AWS::IAM::OIDCProvider",
        json!({"Url": get_att(&cluster, "OpenIdConnectIssuerUrl"), "ClientIdList": ["sts.amazonaws.com"]}),
    )
    .comment("IRSA: the cluster's service-account tokens are trusted by IAM through this provider");
    if let Some(id) = &cp_id {
        oidc = oidc.node(id);
    }
    l.add(CL, "ClusterOidcProvider", oidc);

    // ------------------------------------------------------------------ add-ons before nodes
    let addon = |name: &str, extra: Value| {
        let mut p = json!({"ClusterName": r(&cluster), "AddonName": name, "ResolveConflicts": "OVERWRITE"});
        if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
            p.extend(extra);
        }
        Resource::new("AWS::EKS::Addon", p)
    };
    l.grant(
        CL,
        "VpcCniRole",
        "AmazonEKS_CNI_Policy",
        Why::Required(
            "the vpc-cni add-on (kube-system/aws-node) assigns pod addresses on the nodes' interfaces".into(),
        ),
    );
    l.add(
        CL,
        "VpcCniRole",
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": "IRSA role of kube-system/aws-node (EKS add-on vpc-cni)",
                "AssumeRolePolicyDocument": irsa_trust_with(r("ClusterOidcProvider"), issuer.clone(), "kube-system", "aws-node"),
                "ManagedPolicyArns": [aws_policy("AmazonEKS_CNI_Policy")],
            }),
        )
        .comment(&format!(
            "{}\nthrough IRSA, not the node role: with IMDS hop limit 1 no pod can borrow the node's\npermissions, and only aws-node holds these",
            l.managed_policies_comment(CL, "VpcCniRole", &["AmazonEKS_CNI_Policy"])
        )),
    );
    l.add(
        CL,
        "VpcCniAddon",
        addon(
            "vpc-cni",
            json!({
                "ServiceAccountRoleArn": get_att("VpcCniRole", "Arn"),
                "ConfigurationValues": serde_json::to_string(&json!({"enableNetworkPolicy": "true"})).unwrap_or_default(),
            }),
        )
        .comment("vpc-cni must exist before the first node joins; its network policy agent enforces the\nNetworkPolicies of the Kubernetes manifests"),
    );
    l.add(CL, "KubeProxyAddon", addon("kube-proxy", json!({})));

    // ------------------------------------------------------------------ nodes
    let first_subnet: Option<Value> = group_subnets.first().and_then(|g| g.first()).cloned();
    let mut node_roles: Vec<String> = Vec::new();
    let mut node_group_ids: Vec<String> = Vec::new();
    for ((id, n), subnets) in groups.iter().zip(group_subnets) {
        let p = pascal(id);
        let role = format!("{p}Role");
        let lt = format!("{p}LaunchTemplate");
        let what = format!("managed nodes `{id}`");
        for (name, why) in [
            ("AmazonEKSWorkerNodePolicy", format!("{what} join the cluster (the node policy EKS requires)")),
            (
                "AmazonEC2ContainerRegistryReadOnly",
                format!("{what} pull the images of system pods and add-ons from ECR"),
            ),
        ] {
            l.grant(CL, &role, name, Why::Required(why));
        }
        if let Some(n) = n {
            let pulls: Vec<_> = l
                .graph
                .outgoing(*n)
                .filter(|(e, b)| {
                    l.graph.connection(*e).becomes == "iam-permission" && l.graph.component(*b).is("aws.ecr")
                })
                .map(|(e, _)| e)
                .collect();
            for e in pulls {
                l.grant(CL, &role, "AmazonEC2ContainerRegistryReadOnly", Why::Edge(e));
            }
        }
        let node_attr = |r: Resource| match n {
            Some(_) => r.node(id),
            None => r,
        };
        let role_comment =
            l.managed_policies_comment(CL, &role, &["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"]);
        l.add(
            CL,
            &role,
            node_attr(Resource::new(
                "AWS::IAM::Role",
                json!({
                    "Description": sub(&format!("EKS managed node group {id} of ${{ClusterName}}")),
                    "AssumeRolePolicyDocument": policy(vec![json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})]),
                    "ManagedPolicyArns": [aws_policy("AmazonEKSWorkerNodePolicy"), aws_policy("AmazonEC2ContainerRegistryReadOnly")],
                }),
            )
            .comment(&format!("node role of `{id}`; its AWS managed policies, each what EKS requires:\n{role_comment}"))),
        );
        let tag_specs: Vec<Value> = ["instance", "volume"]
            .iter()
            .map(|t| json!({"ResourceType": t, "Tags": [{"Key": "Name", "Value": sub(&format!("${{ClusterName}}-{}", kebab(id, 40)))}]}))
            .collect();
        l.add(
            CL,
            &lt,
            node_attr(
                Resource::new(
                    "AWS::EC2::LaunchTemplate",
                    json!({"LaunchTemplateData": {
                        "MetadataOptions": {
                            "//": "IMDSv2 only, hop limit 1: a pod cannot reach IMDS and the node role (the LB controller\nis given its region and VPC, the vpc-cni has its own IRSA role)",
                            "HttpEndpoint": "enabled",
                            "HttpTokens": "required",
                            "HttpPutResponseHopLimit": 1,
                        },
                        "BlockDeviceMappings": [{
                            "//": "root device of the EKS AL2023 AMIs: encrypted gp3",
                            "DeviceName": "/dev/xvda",
                            "Ebs": {"VolumeType": "gp3", "VolumeSize": r("NodeDiskSizeGiB"), "Encrypted": true, "DeleteOnTermination": true},
                        }],
                        "TagSpecifications": tag_specs,
                    }}),
                )
                .comment("no SecurityGroupIds: EKS attaches the cluster security group, which the data stack admits"),
            ),
        );
        l.add(
            CL,
            &p,
            node_attr(
                Resource::new(
                    "AWS::EKS::Nodegroup",
                    json!({
                        "ClusterName": r(&cluster),
                        "NodegroupName": sub(&format!("${{ClusterName}}-{}", kebab(id, 40))),
                        "NodeRole": get_att(&role, "Arn"),
                        "Subnets": subnets,
                        "AmiType": "AL2023_x86_64_STANDARD",
                        "CapacityType": "ON_DEMAND",
                        "InstanceTypes": r("NodeInstanceTypes"),
                        "LaunchTemplate": {"Id": r(&lt), "Version": get_att(&lt, "LatestVersionNumber")},
                        "ScalingConfig": {"MinSize": r("NodeGroupMinSize"), "DesiredSize": r("NodeGroupDesiredSize"), "MaxSize": r("NodeGroupMaxSize")},
                        "UpdateConfig": {"MaxUnavailable": 1},
                        "Labels": {"archc/node-group": id},
                    }),
                )
                .depends_on(&["VpcCniAddon", "KubeProxyAddon"])
                .comment("app subnets only; no RemoteAccess (no SSH)"),
            ),
        );
        if let Some(ng) = n {
            let schedules: Vec<_> = l
                .graph
                .incoming(*ng)
                .filter(|(e, _)| l.graph.connection(*e).meaning == "schedules")
                .map(|(e, _)| e)
                .collect();
            for e in schedules {
                l.built(e, format!("the managed node group `{p}` of the cluster"));
            }
        }
        node_roles.push(role);
        node_group_ids.push(p);
    }
    let after_nodes: Vec<&str> = node_group_ids.iter().map(String::as_str).collect();
    l.add(
        CL,
        "CoreDnsAddon",
        addon("coredns", json!({})).depends_on(&after_nodes).comment("coredns needs schedulable nodes"),
    );

    // ------------------------------------------------------------------ EFS CSI driver
    let efs = l.graph.of_kind("aws.efs").next().map(|n| l.graph.component(n).id.clone());
    if let Some(efs) = &efs {
        l.grant(
            CL,
            "EfsCsiDriverRole",
            "AmazonEFSCSIDriverPolicy",
            Why::Required(format!(
                "the EFS CSI driver mounts `{efs}` and creates its access points (the add-on's policy)"
            )),
        );
        l.add(
            CL,
            "EfsCsiDriverRole",
            Resource::new(
                "AWS::IAM::Role",
                json!({
                    "Description": "IRSA role of kube-system/efs-csi-controller-sa (EKS add-on aws-efs-csi-driver)",
                    "AssumeRolePolicyDocument": irsa_trust_with(r("ClusterOidcProvider"), issuer.clone(), "kube-system", "efs-csi-controller-sa"),
                    "ManagedPolicyArns": [aws_policy("service-role/AmazonEFSCSIDriverPolicy")],
                }),
            )
            .node(efs)
            .comment(&format!(
                "{}\nIRSA trust policies are whole !Sub JSON strings: the condition keys embed the issuer\n(\"<issuer>:sub\") and CloudFormation cannot put an intrinsic in a map key",
                l.managed_policies_comment(CL, "EfsCsiDriverRole", &["AmazonEFSCSIDriverPolicy"])
            )),
        );
        l.add(
            CL,
            "EfsCsiDriverAddon",
            addon("aws-efs-csi-driver", json!({"ServiceAccountRoleArn": get_att("EfsCsiDriverRole", "Arn")}))
                .depends_on(&after_nodes)
                .node(efs)
                .comment("the EFS CSI controller needs schedulable nodes"),
        );
    }

    // ------------------------------------------------------------------ EBS CSI driver
    // the StatefulSets' volume claims (StorageClass gp3-encrypted, Kubernetes stage)
    let stateful = l
        .graph
        .of_kind("k8s.statefulset")
        .next()
        .or_else(|| l.graph.of_kind("k8s.volume").next())
        .map(|n| l.graph.component(n).id.clone());
    if let Some(set) = &stateful {
        l.grant(
            CL,
            "EbsCsiDriverRole",
            "AmazonEBSCSIDriverPolicy",
            Why::Required(format!(
                "the EBS CSI driver creates and attaches the volumes of `{set}`'s claims (the add-on's policy)"
            )),
        );
        l.add(
            CL,
            "EbsCsiDriverRole",
            Resource::new(
                "AWS::IAM::Role",
                json!({
                    "Description": "IRSA role of kube-system/ebs-csi-controller-sa (EKS add-on aws-ebs-csi-driver)",
                    "AssumeRolePolicyDocument": irsa_trust_with(r("ClusterOidcProvider"), issuer.clone(), "kube-system", "ebs-csi-controller-sa"),
                    "ManagedPolicyArns": [aws_policy("service-role/AmazonEBSCSIDriverPolicy")],
                }),
            )
            .node(set)
            .comment(&format!(
                "{}\nIRSA trust policies are whole !Sub JSON strings: the condition keys embed the issuer\n(\"<issuer>:sub\") and CloudFormation cannot put an intrinsic in a map key",
                l.managed_policies_comment(CL, "EbsCsiDriverRole", &["AmazonEBSCSIDriverPolicy"])
            )),
        );
        l.add(
            CL,
            "EbsCsiDriverAddon",
            addon("aws-ebs-csi-driver", json!({"ServiceAccountRoleArn": get_att("EbsCsiDriverRole", "Arn")}))
                .depends_on(&after_nodes)
                .node(set)
                .comment("the EBS CSI controller needs schedulable nodes"),
        );
    }

    // ------------------------------------------------------------------ AWS Load Balancer Controller
    // Drawn as its own box, or implied: an ALB in front of a cluster is made from an Ingress by
    // the controller, which the Kubernetes side installs either way.
    let lbc = lb_controller(l);
    if let Some(c) = &lbc {
        let id = c.node_id.clone();
        let (role, managed) = (c.role.clone(), c.policy.clone());
        let mut whys: Vec<Why> = c
            .drawn
            .into_iter()
            .flat_map(|n| l.graph.outgoing(n))
            .filter(|(e, _)| l.graph.connection(*e).becomes == "iam-permission")
            .map(|(e, _)| Why::Edge(e))
            .collect();
        if whys.is_empty() {
            whys.push(Why::Required(if c.drawn.is_some() {
                format!("the AWS Load Balancer Controller `{id}` creates the load balancers of Ingresses")
            } else {
                format!("the ALB `{id}` is created from an Ingress by the AWS Load Balancer Controller, which needs this role")
            }));
        }
        let statements: Vec<Value> = serde_json::from_str(LB_CONTROLLER_POLICY).unwrap_or_default();
        let why_comment = whys.iter().map(|w| format!("for {}", l.why_text(w))).collect::<Vec<_>>().join("\n");
        for why in &whys {
            l.grant(CL, &managed, "*", why.clone());
            l.grant(CL, &role, &managed, why.clone());
        }
        l.add(
            CL,
            &managed,
            Resource::new(
                "AWS::IAM::ManagedPolicy",
                json!({
                    "Description": "AWS Load Balancer Controller (kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json)",
                    "PolicyDocument": policy(statements),
                }),
            )
            .node(&id)
            .comment(&format!(
                "{why_comment}: the official AWS Load Balancer Controller policy (docs/install/iam_policy.json,\n16 statements), unchanged but for arn:${{AWS::Partition}}. The controller creates and discovers\nload balancers, target groups and security groups at runtime, so most statements need\nResource \"*\"; the official policy narrows them by the elbv2.k8s.aws/cluster tag instead."
            ))
            .checkov_skip(
                "CKV_AWS_111",
                "Official AWS Load Balancer Controller policy (docs/install/iam_policy.json), kept verbatim. The flagged write actions (ec2:CreateSecurityGroup, ec2:Authorize/RevokeSecurityGroupIngress, elasticloadbalancing:Create/Delete/Modify Listener and Rule, Add/RemoveListenerCertificates, SetRulePriorities, wafv2/waf-regional Associate/DisassociateWebACL, shield:DeleteProtection) act on load balancers, listeners, rules and security groups the controller creates or discovers at runtime from Ingress objects; their ARNs do not exist when this stack is deployed, so AWS needs Resource \"*\". Mutations of existing resources are constrained by the elbv2.k8s.aws/cluster tag in the other statements.",
            ),
        );
        l.add(
            CL,
            &role,
            Resource::new(
                "AWS::IAM::Role",
                json!({
                    "Description": "IRSA role of kube-system/aws-load-balancer-controller",
                    "AssumeRolePolicyDocument": irsa_trust_with(r("ClusterOidcProvider"), issuer.clone(), "kube-system", "aws-load-balancer-controller"),
                    "ManagedPolicyArns": [r(&managed)],
                }),
            )
            .node(&id)
            .comment(&l.managed_policies_comment(CL, &role, &[managed.as_str()])),
        );
    }

    // ------------------------------------------------------------------ optional human admin
    l.add(
        CL,
        "ClusterAdminAccessEntry",
        Resource::new(
            "AWS::EKS::AccessEntry",
            json!({
                "ClusterName": r(&cluster),
                "PrincipalArn": r("ClusterAdminPrincipalArn"),
                "Type": "STANDARD",
                "AccessPolicies": [{"PolicyArn": eks_access_policy("AmazonEKSClusterAdminPolicy"), "AccessScope": {"Type": "cluster"}}],
            }),
        )
        .condition("HasClusterAdminPrincipal")
        .comment("optional: cluster admin for the human operator passed in ClusterAdminPrincipalArn"),
    );

    // ------------------------------------------------------------------ access to the private API
    if let Some(subnet) = first_subnet {
        access_instance(l, &cluster, subnet);
    }

    // what serves the whole control plane belongs to its box in `archc plan`
    if let Some(id) = &cp_id {
        for logical in [
            "ClusterKmsKey",
            "ClusterKmsKeyAlias",
            "ControlPlaneLogGroup",
            "VpcCniAddon",
            "KubeProxyAddon",
            "CoreDnsAddon",
            "ClusterAdminAccessEntry",
            "VpcCniRole",
            "AccessInstanceRole",
            "AccessInstanceProfile",
            "AccessInstanceSecurityGroup",
            "AccessInstanceToApi",
            "AccessInstanceLaunchTemplate",
            "AccessInstance",
        ] {
            if let Some(res) = l.stack(CL).resources.get_mut(logical) {
                res.node.get_or_insert_with(|| id.clone());
            }
        }
    }

    // ------------------------------------------------------------------ outputs
    l.output(CL, "ClusterName", r(&cluster), "EKS cluster name");
    l.output(CL, "ClusterArn", get_att(&cluster, "Arn"), "EKS cluster ARN");
    l.output(CL, "ClusterEndpoint", get_att(&cluster, "Endpoint"), "Kubernetes API endpoint");
    l.output(
        CL,
        "ClusterCertificateAuthorityData",
        get_att(&cluster, "CertificateAuthorityData"),
        "Base64 CA bundle of the API endpoint",
    );
    l.output(
        CL,
        "ClusterSecurityGroupId",
        get_att(&cluster, "ClusterSecurityGroupId"),
        "EKS cluster security group, on every managed node and pod ENI (the source of the data stack's rules)",
    );
    l.output(CL, "OidcIssuerUrl", get_att(&cluster, "OpenIdConnectIssuerUrl"), "OIDC issuer URL of the cluster");
    l.output(CL, "OidcIssuer", issuer, "OIDC issuer host and path without https:// (IRSA condition-key prefix)");
    l.output(CL, "OidcProviderArn", r("ClusterOidcProvider"), "IAM OIDC provider of the cluster (IRSA)");
    if let Some(c) = &lbc {
        l.output(
            CL,
            "LoadBalancerControllerRoleArn",
            get_att(&c.role, "Arn"),
            "IRSA role of kube-system/aws-load-balancer-controller",
        );
    }
    if efs.is_some() {
        l.output(
            CL,
            "EfsCsiDriverRoleArn",
            get_att("EfsCsiDriverRole", "Arn"),
            "IRSA role of the aws-efs-csi-driver add-on controller",
        );
    }
    if let Some(role) = node_roles.first() {
        l.output(CL, "NodeRoleArn", get_att(role, "Arn"), "Managed node group role");
    }
    l.output(
        CL,
        "ClusterKmsKeyArn",
        get_att("ClusterKmsKey", "Arn"),
        "KMS key of Kubernetes secrets and control-plane logs",
    );
}

/// The AWS Load Balancer Controller the cluster needs a role for.
struct LbController {
    /// Its box, when the diagram draws one.
    drawn: Option<NodeIndex>,
    /// The node its resources belong to: the controller's box, else the first ALB.
    node_id: String,
    role: String,
    policy: String,
}

fn lb_controller(l: &Lowering<'_>) -> Option<LbController> {
    let graph = l.graph;
    if let Some(n) = graph.of_kind("k8s.lb-controller").next() {
        let id = graph.component(n).id.clone();
        let p = pascal(&id);
        return Some(LbController {
            drawn: Some(n),
            node_id: id,
            role: format!("{p}Role"),
            policy: format!("{p}Policy"),
        });
    }
    // an ALB in front of the cluster (an ALB in front of ECS or EC2 is CloudFormation's, not
    // the controller's), else an NLB in front of a Kubernetes workload (a Service of type
    // LoadBalancer), else any ALB the stacks do not build
    let cfn = |lb: NodeIndex| super::load_balancer::built(l, lb);
    let alb = graph.of_kind("aws.alb").find(|&lb| super::load_balancer::fronts_kubernetes(l, lb)).or_else(|| {
        graph.of_kind("aws.nlb").find(|&lb| {
            graph.outgoing(lb).any(|(_, to)| {
                matches!(graph.component(to).kind_id(), Some("k8s.service" | "k8s.deployment" | "k8s.statefulset"))
            })
        })
    });
    let alb = alb.or_else(|| graph.of_kind("aws.alb").find(|&lb| !cfn(lb)))?;
    Some(LbController {
        drawn: None,
        node_id: graph.component(alb).id.clone(),
        role: "LoadBalancerControllerRole".to_string(),
        policy: "LoadBalancerControllerPolicy".to_string(),
    })
}

/// The way into the private API endpoint, for operators, `archc deploy` and CI alike: a small
/// instance in the nodes' subnets that nobody logs into and that has no inbound rule; clients
/// open an SSM port forward through it (`AWS-StartPortForwardingSessionToRemoteHost`) to the
/// endpoint and authenticate to Kubernetes with their own IAM identity (the instance has no
/// Kubernetes access of its own).
fn access_instance(l: &mut Lowering<'_>, cluster: &str, subnet: Value) {
    l.grant(
        CL,
        "AccessInstanceRole",
        "AmazonSSMManagedInstanceCore",
        Why::Required(
            "the SSM agent of the access instance registers it with Systems Manager, which carries the port forwards to the private API"
                .into(),
        ),
    );
    l.param(
        CL,
        "AccessInstanceImageId",
        Parameter::new(
            "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            "Amazon Linux 2023 (arm64) for the API access instance, from the public SSM parameter (patched on replacement)",
        )
        .default("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"),
    );
    l.add(
        CL,
        "AccessInstanceRole",
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": sub("SSM-managed access instance of ${ClusterName}: port forwards to the private API endpoint"),
                "AssumeRolePolicyDocument": policy(vec![json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})]),
                "ManagedPolicyArns": [aws_policy("AmazonSSMManagedInstanceCore")],
            }),
        )
        .comment(&l.managed_policies_comment(CL, "AccessInstanceRole", &["AmazonSSMManagedInstanceCore"])),
    );
    l.add(
        CL,
        "AccessInstanceProfile",
        Resource::new("AWS::IAM::InstanceProfile", json!({"Roles": [r("AccessInstanceRole")]})),
    );
    let vpc = l.import(CL, NET, "VpcId", "AWS::EC2::VPC::Id");
    l.add(
        CL,
        "AccessInstanceSecurityGroup",
        Resource::new(
            "AWS::EC2::SecurityGroup",
            json!({
                "GroupDescription": "API access instance: no inbound rule; HTTPS out to Systems Manager and the API",
                "VpcId": vpc,
                "SecurityGroupEgress": [{
                    "//": "the SSM agent reaches ssm, ssmmessages and ec2messages over HTTPS (through the NAT or\nVPC endpoints), and forwards to the API endpoint on 443",
                    "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0",
                    "Description": "HTTPS to Systems Manager and the EKS API endpoint",
                }],
                "Tags": tags(&[("Name", sub("${ClusterName}-api-access"))]),
            }),
        )
        .comment("no ingress: sessions come in through the SSM agent's own outbound connection"),
    );
    l.add(
        CL,
        "AccessInstanceToApi",
        Resource::new(
            "AWS::EC2::SecurityGroupIngress",
            json!({
                "GroupId": get_att(cluster, "ClusterSecurityGroupId"),
                "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                "SourceSecurityGroupId": r("AccessInstanceSecurityGroup"),
                "Description": "Kubernetes API from the SSM access instance (port forwards)",
            }),
        )
        .comment("the private endpoint admits the access instance on 443"),
    );
    l.add(
        CL,
        "AccessInstanceLaunchTemplate",
        Resource::new(
            "AWS::EC2::LaunchTemplate",
            json!({"LaunchTemplateData": {
                "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 1},
                "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeType": "gp3", "VolumeSize": 8, "Encrypted": true, "DeleteOnTermination": true}}],
            }}),
        )
        .comment("IMDSv2 only; encrypted root volume"),
    );
    l.add(
        CL,
        "AccessInstance",
        Resource::new(
            "AWS::EC2::Instance",
            json!({
                "ImageId": r("AccessInstanceImageId"),
                "InstanceType": "t4g.nano",
                "SubnetId": subnet,
                "SecurityGroupIds": [r("AccessInstanceSecurityGroup")],
                "IamInstanceProfile": r("AccessInstanceProfile"),
                "LaunchTemplate": {"LaunchTemplateId": r("AccessInstanceLaunchTemplate"), "Version": get_att("AccessInstanceLaunchTemplate", "LatestVersionNumber")},
                "Monitoring": true,
                "EbsOptimized": true,
                "Tags": tags(&[("Name", sub("${ClusterName}-api-access"))]),
            }),
        )
        .comment("the way into the private API: `aws ssm start-session --target <AccessInstanceId>\n--document-name AWS-StartPortForwardingSessionToRemoteHost` (archc deploy and the CI\nworkflow do this); no SSH key, no inbound rule, no Kubernetes permissions of its own"),
    );
    l.output(
        CL,
        "AccessInstanceId",
        r("AccessInstance"),
        "SSM-managed instance that port-forwards to the private API endpoint",
    );
}
