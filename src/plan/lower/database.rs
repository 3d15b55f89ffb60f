//! Databases: RDS instances and Aurora clusters, each from its box (engine and version from the label or configuration), in the data stack.

use petgraph::stable_graph::NodeIndex;
use serde_json::{json, Value};

use super::store::Store;
use crate::diagnostic::{codes, Diagnostic};
use crate::model::ArchGraph;
use crate::plan::cfn::{aws_policy, get_att, policy, r, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const DATA: StackId = StackId::Data;

/// How long the logs a database exports are kept (days).
const LOG_RETENTION_DAYS: u32 = 365;

/// What archc knows about a database engine.
struct Engine {
    engine: &'static str,
    name: &'static str,
    port: u16,
    /// The version when targets/versions/versions.yaml has none for the engine.
    default_version: Option<&'static str>,
    /// Parameter group family of a version (`16.10` → `postgres16`).
    family: fn(&str) -> String,
    /// The parameter that makes the server refuse connections without TLS.
    tls: (&'static str, &'static str),
    logs: &'static [&'static str],
    aurora: bool,
}

/// The database `n` runs PostgreSQL (RDS or Aurora), as its lowering reads the engine.
pub(crate) fn is_postgres(graph: &crate::model::ArchGraph, n: NodeIndex) -> bool {
    let c = graph.component(n);
    let kind = c.kind_id().unwrap_or_default();
    let default_engine = if kind == "aws.aurora" { "aurora-postgresql" } else { "postgres" };
    engine(kind, c.attr("engine").unwrap_or(default_engine))
        .is_some_and(|e| matches!(e.engine, "postgres" | "aurora-postgresql"))
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
            default_version: None,
            family: |v| format!("postgres{}", major(v)),
            tls: ("rds.force_ssl", "1"),
            logs: &["postgresql", "upgrade"],
            aurora: false,
        },
        ("aws.rds", "mysql") => Engine {
            engine: "mysql",
            name: "MySQL",
            port: 3306,
            default_version: None,
            family: |v| format!("mysql{}", major_minor(v)),
            tls: ("require_secure_transport", "1"),
            logs: &["error", "general", "slowquery"],
            aurora: false,
        },
        ("aws.rds", "mariadb") => Engine {
            engine: "mariadb",
            name: "MariaDB",
            port: 3306,
            default_version: None,
            family: |v| format!("mariadb{}", major_minor(v)),
            tls: ("require_secure_transport", "1"),
            logs: &["error", "general", "slowquery"],
            aurora: false,
        },
        ("aws.aurora", "aurora-postgresql") => Engine {
            engine: "aurora-postgresql",
            name: "Aurora PostgreSQL",
            port: 5432,
            default_version: None,
            family: |v| format!("aurora-postgresql{}", major(v)),
            tls: ("rds.force_ssl", "1"),
            logs: &["postgresql"],
            aurora: true,
        },
        ("aws.aurora", "aurora-mysql") => Engine {
            engine: "aurora-mysql",
            name: "Aurora MySQL",
            port: 3306,
            default_version: Some("8.0.mysql_aurora.3.10.0"),
            family: |_| "aurora-mysql8.0".to_string(),
            tls: ("require_secure_transport", "ON"),
            logs: &["error", "general", "slowquery", "audit"],
            aurora: true,
        },
        _ => return None,
    })
}

pub(super) static LOWERER: super::Lowerer =
    super::Lowerer { name: "database", kinds: &["aws.rds", "aws.aurora"], lower };

fn lower(l: &mut Lowering<'_>) {
    if l.graph.of_kind("aws.vpc").next().is_none() {
        return;
    }
    let graph = l.graph;
    let mut s = Store::new(l);
    for kind in ["aws.rds", "aws.aurora"] {
        // a database box drawn inside an Aurora cluster is one of its instances
        for n in graph.of_kind(kind).filter(|&n| graph.enclosing(n, "aws.aurora").is_none()).collect::<Vec<_>>() {
            s.database(n);
        }
    }
}

/// One instance of an Aurora cluster: its box when drawn, and whether it is a reader.
struct Member {
    node: Option<NodeIndex>,
    reader: bool,
}

/// Whether a title names a reader ("Reader", "Read replica", "Replica 2").
fn names_reader(title: &str) -> bool {
    title
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| matches!(w, "reader" | "readers" | "read" | "replica" | "replicas" | "ro"))
}

/// The instances of the Aurora cluster `n`, as drawn or configured: `nodes.<id>.instances`
/// first, else the database boxes drawn inside it ("Writer", "Reader", "Primary", "Replica"),
/// else what its label counts ("1 writer + 2 readers", "Writer / Reader", "Writer" alone),
/// else a writer and a reader (Aurora's Multi-AZ).
fn members(graph: &ArchGraph, n: NodeIndex) -> Vec<Member> {
    let c = graph.component(n);
    let count = |k: usize| -> Vec<Member> { (0..k.max(1)).map(|i| Member { node: None, reader: i > 0 }).collect() };
    if let Some(k) = c.attr("instances").and_then(|v| v.parse::<usize>().ok()) {
        return count(k);
    }
    let drawn: Vec<NodeIndex> = graph
        .components()
        .filter(|&(m, mc)| (mc.is("aws.rds") || mc.is("aws.aurora")) && graph.enclosing(m, "aws.aurora") == Some(n))
        .map(|(m, _)| m)
        .collect();
    if !drawn.is_empty() {
        let mut out: Vec<Member> =
            drawn.iter().map(|&m| Member { node: Some(m), reader: names_reader(&graph.component(m).label) }).collect();
        // the writer first (created first, it is the writer); none named: the first drawn
        out.sort_by_key(|m| m.reader);
        if let Some(first) = out.first_mut() {
            first.reader = false;
        }
        return out;
    }
    if c.attr("multi_az").is_some_and(|m| m.starts_with("single")) {
        return count(1);
    }
    if let Some(k) = c.attr("readers").and_then(|v| v.parse::<usize>().ok()) {
        return count(k + 1);
    }
    match (c.attr("writer").is_some(), c.attr("reader").is_some()) {
        (true, false) => count(1),
        _ => count(2),
    }
}

impl Store<'_, '_> {
    /// PLN008 at box `n`: its label says `said`, the configuration `configured`, which is built.
    fn label_fact(&mut self, n: NodeIndex, said: &str, configured: &str) {
        let c = self.l.graph.component(n);
        self.l.findings.push(
            Diagnostic::warning(
                codes::PLAN_LABEL_FACT,
                format!("`{}` says {said}, but the configuration says {configured}: the configuration is built", c.id),
            )
            .with_primary(c.span, "the label says otherwise")
            .with_help("change the label or the configuration so that they agree"),
        );
    }

    /// The writer and readers of the Aurora cluster `n` (logical id `p`): one
    /// `AWS::RDS::DBInstance` each, named after its box when drawn; readers wait for the
    /// writer (the first instance of a cluster is its writer) and fail over after it.
    fn aurora_instances(&mut self, n: NodeIndex, p: &str, engine: &str, instance: &dyn Fn(Value) -> Value) {
        let graph = self.l.graph;
        let id = graph.component(n).id.clone();
        let members = members(graph, n);
        let single = members.len() == 1;
        let mut writer = String::new();
        for (i, m) in members.iter().enumerate() {
            let logical = match m.node {
                Some(b) => pascal(&graph.component(b).id),
                None => format!("{p}Instance{}", i + 1),
            };
            let mut props = instance(r(&format!("{p}InstanceClass")));
            if let Some(o) = props.as_object_mut() {
                o.insert("Engine".into(), json!(engine));
                o.insert("DBClusterIdentifier".into(), r(p));
                o.insert("PromotionTier".into(), json!(u8::from(m.reader)));
            }
            // the data lives in the cluster volume (snapshotted with the cluster): an instance
            // of an Aurora cluster cannot be snapshotted on its own
            let mut res = Resource::new("AWS::RDS::DBInstance", props).keep("Delete");
            res = res.node(&m.node.map_or(id.clone(), |b| graph.component(b).id.clone()));
            if let Some(b) = m.node {
                let role = if m.reader { "a reader" } else { "the writer" };
                res = res.comment(&format!(
                    "`{}` drawn in `{id}`: {role} of the cluster; its data is the cluster's, snapshotted\nwith it, so deleting an instance loses nothing",
                    graph.component(b).id
                ));
            } else if i == 0 && single {
                res = res.comment("the writer alone (as drawn or configured): no reader to fail over to, so not Multi-AZ;\nits data is the cluster's, snapshotted with it");
            } else if i == 0 {
                res = res.comment("writer and reader in different AZs (Aurora's Multi-AZ); their data is the cluster's,\nsnapshotted with it, so deleting an instance loses nothing");
            }
            if i == 0 {
                writer.clone_from(&logical);
            } else {
                res = res.depends_on(&[writer.as_str()]);
            }
            self.l.add(DATA, &logical, res);
        }
    }

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
        // a version written in the label ("PostgreSQL 16"; MySQL's with its minor, "MySQL 8.0")
        let written = crate::plan::versions::written_engine_version(e.engine, c.attr("version"));
        let version = match (&s.db_engine_version, written) {
            (Some(configured), Some(w)) => {
                if major(configured) != major(&w) {
                    self.label_fact(n, &format!("version {w}"), &format!("`database.engine_version: {configured}`"));
                }
                configured.clone()
            }
            (Some(configured), None) => configured.clone(),
            (None, Some(w)) => w,
            (None, None) => {
                crate::plan::versions::default(e.engine).or(e.default_version).unwrap_or_default().to_string()
            }
        };
        let key = self.key();

        // parameters
        self.l.param(
            DATA,
            &format!("{p}EngineVersion"),
            Parameter::new(
                "String",
                &format!("{} engine version of `{id}`, a major version (RDS picks and upgrades the minor; must match {p}ParameterGroupFamily)", e.name),
            )
            .known(version.as_str()),
        );
        self.l.param(
            DATA,
            &format!("{p}ParameterGroupFamily"),
            Parameter::new("String", &format!("Parameter group family of {p}EngineVersion"))
                .known((e.family)(&version).as_str()),
        );
        let serverless = e.aurora && matches!(c.attr("serverless"), Some("serverless" | "true"));
        if serverless {
            self.l.param(
                DATA,
                &format!("{p}InstanceClass"),
                Parameter::new("String", &format!("Instance class of `{id}` (Serverless v2: db.serverless)"))
                    .known("db.serverless")
                    .pattern(r"^db\.(serverless|[a-z0-9-]+\.[a-z0-9]+)$"),
            );
            self.l.param(
                DATA,
                &format!("{p}MinCapacity"),
                Parameter::new("Number", "Serverless v2 minimum capacity (ACUs, 0.5 steps)").known(0.5),
            );
            self.l.param(
                DATA,
                &format!("{p}MaxCapacity"),
                Parameter::new("Number", "Serverless v2 maximum capacity (ACUs, 0.5 steps, up to 256)").known(16),
            );
        } else {
            let configured = if e.aurora { s.aurora_instance_class.as_str() } else { s.db_instance_class.as_str() };
            // an instance class written in the label (`db.r6g.large`, `t3.medium`)
            let written =
                c.attr("instance_class").map(|k| if k.starts_with("db.") { k.to_string() } else { format!("db.{k}") });
            let class = match written {
                Some(w) if s.db_instance_class_configured && w != configured => {
                    self.label_fact(
                        n,
                        &format!("instance class {w}"),
                        &format!("`database.instance_class: {configured}`"),
                    );
                    configured.to_string()
                }
                Some(w) => w,
                None => configured.to_string(),
            };
            let class = class.as_str();
            self.l.param(
                DATA,
                &format!("{p}InstanceClass"),
                Parameter::new("String", &format!("Instance class of `{id}`"))
                    .known(class)
                    .pattern(r"^db\.[a-z0-9-]+\.[a-z0-9]+$"),
            );
        }
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
        let multi_az = !c.attr("multi_az").is_some_and(|m| m.starts_with("single"));
        // arrows drawn to an instance box inside an Aurora cluster reach the cluster
        let mut side = vec![n];
        if e.aurora {
            side.extend(members(self.l.graph, n).iter().filter_map(|m| m.node));
        }
        let sg = self.security_group(n, &side, port, e.name);
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
        let (identifier, log_groups) = self.export_log_groups(&id, e.aurora, e.logs);
        let log_groups: Vec<&str> = log_groups.iter().map(String::as_str).collect();
        if e.aurora {
            let mut cluster_props = merge(
                common,
                json!({
                    "DBClusterIdentifier": identifier,
                    "DatabaseName": r(&format!("{p}DatabaseName")),
                    "Port": port,
                    "VpcSecurityGroupIds": [r(&sg)],
                    params_prop: r(&params),
                    "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
                }),
            );
            if serverless {
                cluster_props = merge(
                    cluster_props,
                    json!({"ServerlessV2ScalingConfiguration": {
                        "MinCapacity": r(&format!("{p}MinCapacity")),
                        "MaxCapacity": r(&format!("{p}MaxCapacity")),
                    }}),
                );
            }
            // a writer alone has no reader in another AZ to fail over to
            let comment = if members(self.l.graph, n).len() == 1 {
                comment.replace("private, Multi-AZ,", "private,")
            } else {
                comment
            };
            let comment = if serverless {
                format!("{comment}; Serverless v2 (the label says so): capacity scales between\n{p}MinCapacity and {p}MaxCapacity ACUs")
            } else {
                comment
            };
            self.l.add(
                DATA,
                &p,
                Resource::new("AWS::RDS::DBCluster", cluster_props)
                    .keep("Snapshot")
                    .depends_on(&log_groups)
                    .node(&id)
                    .comment(&comment),
            );
            self.aurora_instances(n, &p, e.engine, &instance);
        } else {
            let props = merge(
                merge(common, instance(r(&format!("{p}InstanceClass")))),
                json!({
                    "DBInstanceIdentifier": identifier,
                    "DBName": r(&format!("{p}DatabaseName")),
                    "AllocatedStorage": r(&format!("{p}AllocatedStorageGiB")),
                    "MaxAllocatedStorage": r(&format!("{p}MaxAllocatedStorageGiB")),
                    "StorageType": "gp3",
                    "MultiAZ": multi_az,
                    "Port": port.to_string(),
                    "VPCSecurityGroups": [r(&sg)],
                    params_prop: r(&params),
                    "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
                }),
            );
            let mut res =
                Resource::new("AWS::RDS::DBInstance", props).keep("Snapshot").depends_on(&log_groups).node(&id);
            if multi_az {
                res = res.comment(&comment);
            } else {
                res = res
                    .comment(&comment.replace("private, Multi-AZ,", "private, Single-AZ (the label says so),"))
                    .checkov_skip(
                        "CKV_AWS_157",
                        "the diagram's label says Single-AZ: one instance, no standby in a second AZ",
                    );
            }
            self.l.add(DATA, &p, res);
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
        if e.aurora {
            self.member_outputs(n, &p, &sg);
        }
    }

    /// What an arrow to an instance box drawn inside the Aurora cluster `n` reaches: the
    /// cluster's endpoint (a writer box) or its reader endpoint (a reader box), its security
    /// group, secret and database, as outputs named after the box (what the app stack and
    /// the manifests read for the box an arrow points at).
    fn member_outputs(&mut self, n: NodeIndex, p: &str, sg: &str) {
        let graph = self.l.graph;
        for m in members(graph, n) {
            let Some(b) = m.node else { continue };
            let bid = graph.component(b).id.clone();
            let bp = pascal(&bid);
            let (endpoint, what) = if m.reader {
                ("ReadEndpoint.Address", "the reader endpoint")
            } else {
                ("Endpoint.Address", "the writer endpoint")
            };
            self.l.output(
                DATA,
                &format!("{bp}EndpointAddress"),
                get_att(p, endpoint),
                &format!("{what} of the cluster `{bid}` is in"),
            );
            self.l.output(DATA, &format!("{bp}EndpointPort"), get_att(p, "Endpoint.Port"), &format!("port of `{bid}`"));
            self.l.output(
                DATA,
                &format!("{bp}SecurityGroupId"),
                r(sg),
                &format!("security group of the cluster `{bid}` is in"),
            );
            self.l.output(
                DATA,
                &format!("{bp}SecretArn"),
                get_att(p, "MasterUserSecret.SecretArn"),
                &format!("RDS-managed master user secret of the cluster `{bid}` is in"),
            );
            self.l.output(
                DATA,
                &format!("{bp}DatabaseName"),
                r(&format!("{p}DatabaseName")),
                &format!("database name in the cluster `{bid}` is in"),
            );
        }
    }

    /// The log groups RDS exports `logs` of database `id` to, created first with a year of
    /// retention and the data key (RDS would create them itself, kept forever, unencrypted).
    /// Their names contain the instance's (Aurora: the cluster's) identifier, so the database
    /// is named: `<data stack>-<id>`, lowercase as RDS stores it. Returns the identifier and
    /// the groups' logical ids (the database depends on them).
    fn export_log_groups(&mut self, id: &str, aurora: bool, logs: &[&str]) -> (String, Vec<String>) {
        let stack = self.l.stack(DATA).name.clone();
        let identifier = kebab(&format!("{stack}-{id}"), 63);
        let scope = if aurora { "cluster" } else { "instance" };
        self.key();
        let mut logicals = Vec::new();
        for log in logs {
            let logical = format!("{}{}LogGroup", pascal(id), pascal(log));
            self.l.add(
                DATA,
                &logical,
                Resource::new(
                    "AWS::Logs::LogGroup",
                    json!({
                        "LogGroupName": format!("/aws/rds/{scope}/{identifier}/{log}"),
                        "RetentionInDays": LOG_RETENTION_DAYS,
                        "KmsKeyId": get_att("DataKmsKey", "Arn"),
                    }),
                )
                .retain()
                .node(id)
                .comment(&format!(
                    "the `{log}` log `{id}` exports: created before the database so that it expires\n(a year) and is encrypted with the data key"
                )),
            );
            logicals.push(logical);
        }
        (identifier, logicals)
    }
}
