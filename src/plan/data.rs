//! The data stack: what keeps state, each from its diagram node. Databases (`aws.rds`,
//! `aws.aurora`), caches (`aws.elasticache`), buckets (`aws.s3`), file systems (`aws.efs`,
//! with mount targets in the subnets of the mount-target box or of the nodes), secrets
//! (`aws.secrets-manager`), one security group per store whose rules come from the arrows
//! into it, and the workloads' IRSA roles whose statements come from their `calls-api`
//! arrows. Reference section 1.3.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use super::cfn::{
    aws_policy, deny_insecure_transport, get_att, if_, irsa_trust, key_admin_statement, kms_key, no_value, policy, r,
    sub, tags,
};
use super::eks::{has_cluster, node_groups, subnets_of};
use super::names::{kebab, pascal};
use super::{Lowering, Parameter, Resource, StackId, Why};
use crate::diagnostic::{codes, Diagnostic};

const DATA: StackId = StackId::Data;
const NET: StackId = StackId::Network;
const CL: StackId = StackId::Cluster;

/// What archc knows about a database engine.
struct Engine {
    engine: &'static str,
    name: &'static str,
    port: u16,
    default_version: &'static str,
    /// Parameter group family of a version (`16.10` → `postgres16`).
    family: fn(&str) -> String,
    /// The parameter that makes the server refuse connections without TLS.
    tls: (&'static str, &'static str),
    logs: &'static [&'static str],
    aurora: bool,
}

fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

fn major_minor(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

fn engine(kind: &str, name: &str) -> Option<Engine> {
    Some(match (kind, name) {
        ("aws.rds", "postgres") => Engine {
            engine: "postgres",
            name: "PostgreSQL",
            port: 5432,
            default_version: "16.10",
            family: |v| format!("postgres{}", major(v)),
            tls: ("rds.force_ssl", "1"),
            logs: &["postgresql", "upgrade"],
            aurora: false,
        },
        ("aws.rds", "mysql") => Engine {
            engine: "mysql",
            name: "MySQL",
            port: 3306,
            default_version: "8.4.7",
            family: |v| format!("mysql{}", major_minor(v)),
            tls: ("require_secure_transport", "1"),
            logs: &["error", "general", "slowquery"],
            aurora: false,
        },
        ("aws.rds", "mariadb") => Engine {
            engine: "mariadb",
            name: "MariaDB",
            port: 3306,
            default_version: "10.11.14",
            family: |v| format!("mariadb{}", major_minor(v)),
            tls: ("require_secure_transport", "1"),
            logs: &["error", "general", "slowquery"],
            aurora: false,
        },
        ("aws.aurora", "aurora-postgresql") => Engine {
            engine: "aurora-postgresql",
            name: "Aurora PostgreSQL",
            port: 5432,
            default_version: "16.10",
            family: |v| format!("aurora-postgresql{}", major(v)),
            tls: ("rds.force_ssl", "1"),
            logs: &["postgresql"],
            aurora: true,
        },
        ("aws.aurora", "aurora-mysql") => Engine {
            engine: "aurora-mysql",
            name: "Aurora MySQL",
            port: 3306,
            default_version: "8.0.mysql_aurora.3.10.0",
            family: |_| "aurora-mysql8.0".to_string(),
            tls: ("require_secure_transport", "ON"),
            logs: &["error", "general", "slowquery", "audit"],
            aurora: true,
        },
        _ => return None,
    })
}

/// Characters EC2 accepts in a security group (rule) description.
fn ec2_text(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=;{}!$*".contains(c) { c } else { '_' }).collect()
}

/// Whether `n` runs in the cluster (its traffic leaves from the EKS cluster security group).
fn in_cluster(l: &Lowering<'_>, n: NodeIndex) -> bool {
    let c = l.graph.component(n);
    c.category() == Some("kubernetes") || matches!(c.kind_id(), Some("aws.eks-nodegroup" | "aws.fargate-profile"))
}

struct Data<'l, 'a> {
    l: &'l mut Lowering<'a>,
    /// Whether the data KMS key is used.
    kms: bool,
}

pub(super) fn lower(l: &mut Lowering<'_>) {
    if l.graph.of_kind("aws.vpc").next().is_none() {
        return;
    }
    let mut d = Data { l, kms: false };
    let graph = d.l.graph;
    for kind in ["aws.rds", "aws.aurora"] {
        for n in graph.of_kind(kind).collect::<Vec<_>>() {
            d.database(n);
        }
    }
    for n in graph.of_kind("aws.elasticache").collect::<Vec<_>>() {
        d.cache(n);
    }
    for n in graph.of_kind("aws.s3").collect::<Vec<_>>() {
        d.bucket(n);
    }
    for n in graph.of_kind("aws.efs").collect::<Vec<_>>() {
        d.file_system(n);
    }
    for n in graph.of_kind("aws.secrets-manager").collect::<Vec<_>>() {
        d.secret(n);
    }
    if has_cluster(d.l) {
        let workloads: Vec<NodeIndex> = graph
            .components()
            .filter(|(_, c)| matches!(c.kind_id(), Some("k8s.deployment" | "k8s.statefulset" | "k8s.cronjob")))
            .map(|(n, _)| n)
            .collect();
        for n in workloads {
            d.workload_role(n);
        }
    }
    if d.kms {
        let resources = std::mem::take(&mut d.l.stack(DATA).resources);
        d.l.add(
            DATA,
            "DataKmsKey",
            Resource::new(
                "AWS::KMS::Key",
                kms_key(
                    sub("${AWS::StackName}: databases, their master secrets, caches, file systems and secrets"),
                    vec![key_admin_statement(None)],
                ),
            )
            .keep("Retain")
            .comment("KMS key of the data stack"),
        );
        d.l.add(
            DATA,
            "DataKmsKeyAlias",
            Resource::new(
                "AWS::KMS::Alias",
                json!({"AliasName": sub("alias/${AWS::StackName}-data"), "TargetKeyId": r("DataKmsKey")}),
            ),
        );
        d.l.stack(DATA).resources.extend(resources);
        d.l.output(DATA, "DataKmsKeyArn", get_att("DataKmsKey", "Arn"), "KMS key of the data stack");
    }
}

impl Data<'_, '_> {
    fn id(&self, n: NodeIndex) -> String {
        self.l.graph.component(n).id.clone()
    }

    /// The data KMS key (created at the end, first in the template, when something uses it).
    fn key(&mut self) -> Value {
        self.kms = true;
        r("DataKmsKey")
    }

    /// Subnet ids (imported) of where `n` sits, of `tier` by default.
    fn subnets(&mut self, n: Option<NodeIndex>, tier: &str) -> Vec<Value> {
        let subnets = subnets_of(self.l, n, tier);
        subnets.iter().map(|s| self.l.import(DATA, NET, &format!("{s}Id"), "AWS::EC2::Subnet::Id")).collect()
    }

    /// The security group of a store, its ingress rules from the arrows between the workloads
    /// and `side` (the store and its mount-target boxes) that become security-group rules.
    fn security_group(&mut self, owner: NodeIndex, side: &[NodeIndex], default_port: u16, service: &str) -> String {
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
        let mut props = json!({
            "GroupDescription": ec2_text(&format!("{service} {owner_id}: reachable from the EKS cluster security group only")),
            "VpcId": vpc,
        });
        if !rules.is_empty() {
            props["SecurityGroupIngress"] = json!(rules);
        }
        props["Tags"] = tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&owner_id, 40))))]);
        let comment = if rules.is_empty() {
            format!("no arrow reaches `{owner_id}` from the cluster: no ingress rule")
        } else {
            format!("`{owner_id}`: one ingress rule per port, each from an arrow of the diagram")
        };
        self.l.add(DATA, &logical, Resource::new("AWS::EC2::SecurityGroup", props).node(&owner_id).comment(&comment));
        self.l.output(DATA, &format!("{logical}Id"), r(&logical), &format!("security group of `{owner_id}`"));
        logical
    }

    fn unsupported(&mut self, n: NodeIndex, what: String, supported: &str) {
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

    // ------------------------------------------------------------------ databases
    fn database(&mut self, n: NodeIndex) {
        let c = self.l.graph.component(n);
        let kind = c.kind_id().unwrap_or_default();
        let default_engine = if kind == "aws.aurora" { "aurora-postgresql" } else { "postgres" };
        let engine_name = c.attr("engine").unwrap_or(default_engine).to_string();
        let id = c.id.clone();
        let Some(e) = engine(kind, &engine_name) else {
            self.unsupported(
                n,
                format!("the {engine_name} engine of `{id}`"),
                "it compiles postgres, mysql, mariadb and their Aurora editions",
            );
            return;
        };
        let s = self.l.settings;
        let p = pascal(&id);
        let version = s.db_engine_version.clone().unwrap_or_else(|| e.default_version.to_string());
        let key = self.key();

        // parameters
        self.l.param(
            DATA,
            &format!("{p}EngineVersion"),
            Parameter::new(
                "String",
                &format!("Pinned {} engine version of `{id}` (must match {p}ParameterGroupFamily)", e.name),
            )
            .known(version.as_str()),
        );
        self.l.param(
            DATA,
            &format!("{p}ParameterGroupFamily"),
            Parameter::new("String", &format!("Parameter group family of {p}EngineVersion"))
                .known((e.family)(&version).as_str()),
        );
        let class = if e.aurora { s.aurora_instance_class.as_str() } else { s.db_instance_class.as_str() };
        self.l.param(
            DATA,
            &format!("{p}InstanceClass"),
            Parameter::new("String", &format!("Instance class of `{id}`"))
                .known(class)
                .pattern(r"^db\.[a-z0-9-]+\.[a-z0-9]+$"),
        );
        self.l.param(
            DATA,
            &format!("{p}DatabaseName"),
            Parameter::new("String", &format!("Database created in `{id}`"))
                .known(s.db_name.as_str())
                .pattern(r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$"),
        );
        self.l.param(
            DATA,
            &format!("{p}MasterUsername"),
            Parameter::new("String", "Master user name; RDS generates and rotates the password in Secrets Manager")
                .known(s.db_username.as_str())
                .pattern(r"^[a-zA-Z][a-zA-Z0-9_]{0,15}$"),
        );
        self.l.param(
            DATA,
            &format!("{p}BackupRetentionDays"),
            Parameter::new("Number", "Automated backup retention (days)").known(s.db_backup_days.max(7)).range(7, 35),
        );
        if !e.aurora {
            self.l.param(
                DATA,
                &format!("{p}AllocatedStorageGiB"),
                Parameter::new("Number", "Initial storage (GiB)").known(s.db_storage_gib).range(20, 65536),
            );
            self.l.param(
                DATA,
                &format!("{p}MaxAllocatedStorageGiB"),
                Parameter::new("Number", "Storage autoscaling ceiling (GiB)")
                    .known(s.db_storage_gib.saturating_mul(4).max(100))
                    .range(20, 65536),
            );
        }

        // network
        let port = e.port;
        let sg = self.security_group(n, &[n], port, e.name);
        let subnets = self.subnets(Some(n), "data");
        let subnet_group = format!("{p}SubnetGroup");
        self.l.add(
            DATA,
            &subnet_group,
            Resource::new(
                "AWS::RDS::DBSubnetGroup",
                json!({"DBSubnetGroupDescription": format!("{} {id}: the data subnets (one per AZ)", e.name), "SubnetIds": subnets}),
            )
            .node(&id),
        );
        let params = format!("{p}ParameterGroup");
        let (ty, params_prop) = if e.aurora {
            ("AWS::RDS::DBClusterParameterGroup", "DBClusterParameterGroupName")
        } else {
            ("AWS::RDS::DBParameterGroup", "DBParameterGroupName")
        };
        self.l.add(
            DATA,
            &params,
            Resource::new(
                ty,
                json!({
                    "Description": format!("{} {id}: TLS required", e.name),
                    "Family": r(&format!("{p}ParameterGroupFamily")),
                    "Parameters": {e.tls.0: e.tls.1},
                }),
            )
            .node(&id)
            .comment(&format!("{} = {}: the server refuses connections without TLS", e.tls.0, e.tls.1)),
        );
        let monitoring = format!("{p}MonitoringRole");
        self.l.grant(
            DATA,
            &monitoring,
            "AmazonRDSEnhancedMonitoringRole",
            Why::Required(format!("enhanced monitoring of `{id}`: RDS publishes OS metrics with this role")),
        );
        self.l.add(
            DATA,
            &monitoring,
            Resource::new(
                "AWS::IAM::Role",
                json!({
                    "Description": format!("RDS enhanced monitoring of {id}"),
                    "AssumeRolePolicyDocument": policy(vec![json!({"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"})]),
                    "ManagedPolicyArns": [aws_policy("service-role/AmazonRDSEnhancedMonitoringRole")],
                }),
            )
            .node(&id)
            .comment(&self.l.managed_policies_comment(DATA, &monitoring, &["AmazonRDSEnhancedMonitoringRole"])),
        );

        let common = json!({
            "Engine": e.engine,
            "EngineVersion": r(&format!("{p}EngineVersion")),
            "MasterUsername": r(&format!("{p}MasterUsername")),
            "ManageMasterUserPassword": true,
            "MasterUserSecret": {"KmsKeyId": key.clone()},
            "StorageEncrypted": true,
            "KmsKeyId": key.clone(),
            "DBSubnetGroupName": r(&subnet_group),
            "BackupRetentionPeriod": r(&format!("{p}BackupRetentionDays")),
            "CopyTagsToSnapshot": true,
            "DeletionProtection": true,
            "EnableIAMDatabaseAuthentication": true,
            "EnableCloudwatchLogsExports": e.logs,
        });
        let instance = |class: Value| {
            json!({
                "DBInstanceClass": class,
                "PubliclyAccessible": false,
                "AutoMinorVersionUpgrade": true,
                "MonitoringInterval": 60,
                "MonitoringRoleArn": get_att(&monitoring, "Arn"),
                "EnablePerformanceInsights": true,
                "PerformanceInsightsKMSKeyId": key.clone(),
                "PerformanceInsightsRetentionPeriod": 7,
            })
        };
        let merge = |mut a: Value, b: Value| {
            if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
                a.extend(b);
            }
            a
        };
        let comment = format!(
            "{} `{id}`: password generated and rotated by RDS in Secrets Manager, encrypted,\nprivate, Multi-AZ, TLS only, backed up, protected from deletion",
            e.name
        );
        if e.aurora {
            let cluster_props = merge(
                common,
                json!({
                    "DatabaseName": r(&format!("{p}DatabaseName")),
                    "Port": port,
                    "VpcSecurityGroupIds": [r(&sg)],
                    params_prop: r(&params),
                    "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
                }),
            );
            self.l.add(
                DATA,
                &p,
                Resource::new("AWS::RDS::DBCluster", cluster_props).keep("Snapshot").node(&id).comment(&comment),
            );
            for i in 1..=2 {
                let props = merge(
                    instance(r(&format!("{p}InstanceClass"))),
                    json!({"Engine": e.engine, "DBClusterIdentifier": r(&p)}),
                );
                // the data lives in the cluster volume (snapshotted with the cluster): an instance
                // of an Aurora cluster cannot be snapshotted on its own
                let mut res = Resource::new("AWS::RDS::DBInstance", props).keep("Delete").node(&id);
                if i == 1 {
                    res = res.comment("writer and reader in different AZs (Aurora's Multi-AZ); their data is the cluster's,\nsnapshotted with it, so deleting an instance loses nothing");
                }
                self.l.add(DATA, &format!("{p}Instance{i}"), res);
            }
        } else {
            let props = merge(
                merge(common, instance(r(&format!("{p}InstanceClass")))),
                json!({
                    "DBName": r(&format!("{p}DatabaseName")),
                    "AllocatedStorage": r(&format!("{p}AllocatedStorageGiB")),
                    "MaxAllocatedStorage": r(&format!("{p}MaxAllocatedStorageGiB")),
                    "StorageType": "gp3",
                    "MultiAZ": true,
                    "Port": port.to_string(),
                    "VPCSecurityGroups": [r(&sg)],
                    params_prop: r(&params),
                    "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
                }),
            );
            self.l.add(
                DATA,
                &p,
                Resource::new("AWS::RDS::DBInstance", props).keep("Snapshot").node(&id).comment(&comment),
            );
        }
        self.l.output(
            DATA,
            &format!("{p}EndpointAddress"),
            get_att(&p, "Endpoint.Address"),
            &format!("endpoint host of `{id}`"),
        );
        self.l.output(DATA, &format!("{p}EndpointPort"), get_att(&p, "Endpoint.Port"), &format!("port of `{id}`"));
        self.l.output(
            DATA,
            &format!("{p}SecretArn"),
            get_att(&p, "MasterUserSecret.SecretArn"),
            &format!("RDS-managed master user secret of `{id}` (keys username, password)"),
        );
        self.l.output(
            DATA,
            &format!("{p}DatabaseName"),
            r(&format!("{p}DatabaseName")),
            &format!("database name in `{id}`"),
        );
    }

    // ------------------------------------------------------------------ caches
    fn cache(&mut self, n: NodeIndex) {
        let c = self.l.graph.component(n);
        let id = c.id.clone();
        let engine = c.attr("engine").unwrap_or("redis").to_string();
        let version = match engine.as_str() {
            "redis" => "7.1",
            "valkey" => "8.0",
            other => {
                self.unsupported(
                    n,
                    format!("the {other} engine of `{id}`"),
                    "it compiles redis and valkey replication groups",
                );
                return;
            }
        };
        let s = self.l.settings;
        let p = pascal(&id);
        let key = self.key();
        let name = if engine == "valkey" { "Valkey" } else { "Redis" };
        self.l.param(
            DATA,
            &format!("{p}EngineVersion"),
            Parameter::new("String", &format!("{name} engine version of `{id}`")).known(version),
        );
        self.l.param(
            DATA,
            &format!("{p}NodeType"),
            Parameter::new("String", &format!("Cache node type of `{id}`"))
                .known(s.cache_node_type.as_str())
                .pattern(r"^cache\.[a-z0-9-]+\.[a-z0-9]+$"),
        );
        let mode = format!("{p}TransitEncryptionMode");
        self.l.param(
            DATA,
            &mode,
            Parameter::new("String", "required: TLS only; preferred: TLS and plaintext (for clients without TLS)")
                .known(s.cache_transit_encryption.as_str())
                .allowed(&["required", "preferred"]),
        );
        let plaintext = format!("{p}AcceptsPlaintext");
        self.l.stack(DATA).conditions.insert(plaintext.clone(), super::cfn::equals(r(&mode), json!("preferred")));

        let sg = self.security_group(n, &[n], 6379, name);
        let subnets = self.subnets(Some(n), "data");
        let subnet_group = format!("{p}SubnetGroup");
        self.l.add(
            DATA,
            &subnet_group,
            Resource::new(
                "AWS::ElastiCache::SubnetGroup",
                json!({"Description": format!("{name} {id}: the data subnets (one per AZ)"), "SubnetIds": subnets}),
            )
            .node(&id),
        );
        let secret = format!("{p}AuthSecret");
        self.l.add(
            DATA,
            &secret,
            Resource::new(
                "AWS::SecretsManager::Secret",
                json!({
                    "Description": format!("AUTH token of the {name} cache {id} (key \"token\")"),
                    "KmsKeyId": key.clone(),
                    "GenerateSecretString": {
                        "//": "AUTH tokens: 16 to 128 printable characters, few punctuation marks allowed",
                        "SecretStringTemplate": "{}",
                        "GenerateStringKey": "token",
                        "PasswordLength": 64,
                        "ExcludePunctuation": true,
                    },
                }),
            )
            .keep("Retain")
            .node(&id)
            .comment("the AUTH token, generated by Secrets Manager: never a template literal or a parameter"),
        );
        // the application's caveat (reference C2)
        let app_uses = s.app.as_ref().and_then(|a| {
            let app = self.l.graph.node(&a.node)?;
            let profile = a.profile?;
            self.l.graph.outgoing(app).any(|(_, b)| b == n).then_some(profile)
        });
        let mut comment =
            format!("{name} `{id}`: two nodes in two AZs with failover, encrypted at rest and in transit, AUTH");
        if let Some(profile) = app_uses.filter(|p| p.id == "mattermost") {
            let note = format!(
                "{} uses Redis only as an Enterprise cache (CacheSettings.CacheType=redis) and its Redis client has no TLS setting: with {mode}=required (TLS only) it cannot connect to `{id}`. Set {mode}=preferred only if plaintext inside the VPC is acceptable, or leave the cache unused on Team Edition.",
                profile.name
            );
            comment.push_str(&format!(
                "\n{} has no TLS setting for Redis: with {mode}=required it cannot connect (see Metadata.archc.Notes)",
                profile.name
            ));
            self.l.stack(DATA).notes.push((format!("{p}Tls"), note));
        }
        self.l.add(
            DATA,
            &p,
            Resource::new(
                "AWS::ElastiCache::ReplicationGroup",
                json!({
                    "ReplicationGroupDescription": format!("{name} cache {id}"),
                    "Engine": engine,
                    "EngineVersion": r(&format!("{p}EngineVersion")),
                    "CacheNodeType": r(&format!("{p}NodeType")),
                    "NumCacheClusters": 2,
                    "AutomaticFailoverEnabled": true,
                    "MultiAZEnabled": true,
                    "CacheSubnetGroupName": r(&subnet_group),
                    "SecurityGroupIds": [r(&sg)],
                    "Port": 6379,
                    "AtRestEncryptionEnabled": true,
                    "KmsKeyId": key,
                    "TransitEncryptionEnabled": true,
                    "TransitEncryptionMode": if_(&plaintext, json!("preferred"), no_value()),
                    "AuthToken": sub(&format!("{{{{resolve:secretsmanager:${{{secret}}}:SecretString:token}}}}")),
                    "SnapshotRetentionLimit": 7,
                    "AutoMinorVersionUpgrade": true,
                    "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
                }),
            )
            .keep("Snapshot")
            .node(&id)
            .comment(&comment),
        );
        self.l.output(
            DATA,
            &format!("{p}PrimaryEndpointAddress"),
            get_att(&p, "PrimaryEndPoint.Address"),
            &format!("primary endpoint host of `{id}`"),
        );
        self.l.output(
            DATA,
            &format!("{p}PrimaryEndpointPort"),
            get_att(&p, "PrimaryEndPoint.Port"),
            &format!("port of `{id}`"),
        );
        self.l.output(
            DATA,
            &format!("{p}AuthSecretArn"),
            r(&secret),
            &format!("secret holding the AUTH token of `{id}` (key \"token\")"),
        );
    }

    // ------------------------------------------------------------------ buckets
    /// The shared access-log bucket (shown under the first bucket `id` in `archc plan`).
    fn access_log_bucket(&mut self, id: &str) {
        if self.l.stack(DATA).resources.contains_key("AccessLogBucket") {
            return;
        }
        self.l.add(
            DATA,
            "AccessLogBucket",
            Resource::new("AWS::S3::Bucket", bucket_properties(json!([{
                "Id": "expire-access-logs",
                "Status": "Enabled",
                "ExpirationInDays": 365,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            }])))
            .keep("Retain")
            .node(id)
            .comment("target of the buckets' server access logs (SSE-S3: what log delivery supports)")
            .checkov_skip(
                "CKV_AWS_18",
                "This bucket is the server-access-log target of the other buckets. Logging it into itself would log its own log deliveries (a feedback loop AWS advises against), and a further log bucket would only move the same finding one level down.",
            ),
        );
        self.l.add(
            DATA,
            "AccessLogBucketPolicy",
            Resource::new(
                "AWS::S3::BucketPolicy",
                json!({
                    "Bucket": r("AccessLogBucket"),
                    "PolicyDocument": policy(vec![
                        json!({
                            "//": "log deliveries for buckets of this account (not pinned to the source buckets, which\nfind this policy in place when their logging is switched on)",
                            "Sid": "S3ServerAccessLogDelivery",
                            "Effect": "Allow",
                            "Principal": {"Service": "logging.s3.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": sub("${AccessLogBucket.Arn}/*"),
                            "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
                        }),
                        deny_insecure_transport("AccessLogBucket"),
                    ]),
                }),
            )
            .node(id),
        );
        self.l.output(DATA, "AccessLogBucketName", r("AccessLogBucket"), "server access log bucket");
    }

    fn bucket(&mut self, n: NodeIndex) {
        let id = self.id(n);
        let p = pascal(&id);
        self.access_log_bucket(&id);
        let mut props = bucket_properties(json!([{
            "Id": "expire-old-versions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }]));
        props["LoggingConfiguration"] =
            json!({"DestinationBucketName": r("AccessLogBucket"), "LogFilePrefix": format!("{}/", kebab(&id, 60))});
        let mut comment = format!("bucket `{id}`: SSE-S3, versioned, no public access, TLS only, access logged");
        if let Some((a, profile)) = self.l.settings.app.as_ref().and_then(|a| Some((a, a.profile?))) {
            let app = self.l.graph.node(&a.node);
            if app.is_some_and(|app| self.l.graph.outgoing(app).any(|(_, b)| b == n)) {
                comment.push_str(&format!(
                    "\nthe file store of `{}` ({} FileSettings.DriverName={})",
                    a.node, profile.name, profile.file_store.s3_driver
                ));
            }
        }
        self.l.add(
            DATA,
            &p,
            Resource::new("AWS::S3::Bucket", props)
                .depends_on(&["AccessLogBucketPolicy"])
                .keep("Retain")
                .node(&id)
                .comment(&comment),
        );
        self.l.add(
            DATA,
            &format!("{p}Policy"),
            Resource::new(
                "AWS::S3::BucketPolicy",
                json!({"Bucket": r(&p), "PolicyDocument": policy(vec![deny_insecure_transport(&p)])}),
            )
            .node(&id),
        );
        self.l.output(DATA, &format!("{p}BucketName"), r(&p), &format!("name of bucket `{id}`"));
        self.l.output(DATA, &format!("{p}BucketArn"), get_att(&p, "Arn"), &format!("ARN of bucket `{id}`"));
    }

    // ------------------------------------------------------------------ file systems
    fn file_system(&mut self, n: NodeIndex) {
        let id = self.id(n);
        let p = pascal(&id);
        let graph = self.l.graph;
        let single = graph.of_kind("aws.efs").count() == 1;
        // the mount-target boxes of this file system: joined to it by an arrow, or all of them
        // when the diagram has one file system
        let boxes: Vec<NodeIndex> = graph
            .of_kind("aws.efs-mount-target")
            .filter(|&mt| single || graph.outgoing(n).any(|(_, b)| b == mt) || graph.incoming(n).any(|(_, a)| a == mt))
            .collect();
        let mut side = vec![n];
        side.extend(&boxes);
        let key = self.key();
        let sg = self.security_group(n, &side, 2049, "NFS");
        // one file store only (reference C4): EFS holds the directories that must be shared
        if let Some((a, profile)) = self.l.settings.app.as_ref().and_then(|a| Some((a, a.profile?))) {
            let app = graph.node(&a.node);
            let uses = |kind: &str| {
                app.is_some_and(|app| {
                    graph
                        .outgoing(app)
                        .any(|(_, b)| graph.component(b).is(kind) || (kind == "aws.efs" && side.contains(&b)))
                })
            };
            if profile.file_store.single && uses("aws.efs") && uses("aws.s3") {
                let note = format!(
                    "{} keeps files in one store (FileSettings.DriverName={}): the S3 bucket. `{id}` holds only the directories that must be shared and persistent ({}), never a second file store.",
                    profile.name,
                    profile.file_store.s3_driver,
                    profile.file_store.shared_paths.join(", ")
                );
                self.l.stack(DATA).notes.push((format!("{p}SharedDirectories"), note));
            }
        }
        self.l.add(
            DATA,
            &p,
            Resource::new(
                "AWS::EFS::FileSystem",
                json!({
                    "Encrypted": true,
                    "KmsKeyId": key,
                    "PerformanceMode": "generalPurpose",
                    "ThroughputMode": "elastic",
                    "BackupPolicy": {"Status": "ENABLED"},
                    "LifecyclePolicies": [{"TransitionToIA": "AFTER_30_DAYS"}],
                    "FileSystemTags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
                }),
            )
            .keep("Retain")
            .node(&id)
            .comment(&format!("file system `{id}`: encrypted, backed up")),
        );
        // one mount target per AZ: in the subnets of the mount-target box, else of the nodes
        let mut placements: Vec<(String, String, Option<NodeIndex>)> = Vec::new();
        if boxes.is_empty() {
            let groups = node_groups(self.l);
            placements.push((format!("{p}MountTarget"), id.clone(), groups.first().and_then(|(_, g)| *g)));
        } else {
            for b in &boxes {
                let bid = self.id(*b);
                placements.push((pascal(&bid), bid, Some(*b)));
            }
        }
        let mut seen: Vec<Value> = Vec::new();
        for (prefix, node, at) in placements {
            let subnets = self.subnets(at, "app");
            for (i, subnet) in subnets.into_iter().enumerate() {
                if seen.contains(&subnet) {
                    continue;
                }
                seen.push(subnet.clone());
                let mut res = Resource::new(
                    "AWS::EFS::MountTarget",
                    json!({"FileSystemId": r(&p), "SubnetId": subnet, "SecurityGroups": [r(&sg)]}),
                )
                .node(&node);
                if i == 0 {
                    res = res.comment(&format!("`{id}`: one mount target per AZ where the nodes run"));
                }
                self.l.add(DATA, &format!("{prefix}{}", i + 1), res);
            }
        }
        for (e, a, b, c) in graph.connections() {
            if c.meaning == "mounts" && ((a == n && boxes.contains(&b)) || (b == n && boxes.contains(&a))) {
                self.l.built(e, format!("the mount targets of `{id}`"));
            }
        }
        self.l.output(DATA, &format!("{p}FileSystemId"), r(&p), &format!("EFS file system id of `{id}`"));
    }

    // ------------------------------------------------------------------ secrets
    fn secret(&mut self, n: NodeIndex) {
        let id = self.id(n);
        let p = pascal(&id);
        let key = self.key();
        self.l.add(
            DATA,
            &p,
            Resource::new(
                "AWS::SecretsManager::Secret",
                json!({
                    "Description": format!("secret {id} (generated; set its value after the deploy if it holds an external credential)"),
                    "KmsKeyId": key,
                    "GenerateSecretString": {"PasswordLength": 32, "ExcludePunctuation": true},
                }),
            )
            .keep("Retain")
            .node(&id),
        );
        self.l.output(DATA, &format!("{p}SecretArn"), r(&p), &format!("ARN of secret `{id}`"));
    }

    // ------------------------------------------------------------------ workload roles
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

    /// The cluster's IRSA provider and issuer as data-stack parameters; `None` without a
    /// cluster stack.
    fn oidc(&mut self) -> Option<String> {
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
fn bucket_properties(rules: Value) -> Value {
    json!({
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "LifecycleConfiguration": {"Rules": rules},
    })
}
