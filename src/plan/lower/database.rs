//! Databases: RDS instances and Aurora clusters, each from its box (engine and version from the label or configuration), in the data stack.

use petgraph::stable_graph::NodeIndex;
use serde_json::{json, Value};

use super::store::Store;
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
        for n in graph.of_kind(kind).collect::<Vec<_>>() {
            s.database(n);
        }
    }
}

impl Store<'_, '_> {
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
        let version = s.db_engine_version.clone().unwrap_or_else(|| {
            crate::plan::versions::default(e.engine).or(e.default_version).unwrap_or_default().to_string()
        });
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
        let (identifier, log_groups) = self.export_log_groups(&id, e.aurora, e.logs);
        let log_groups: Vec<&str> = log_groups.iter().map(String::as_str).collect();
        if e.aurora {
            let cluster_props = merge(
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
            self.l.add(
                DATA,
                &p,
                Resource::new("AWS::RDS::DBCluster", cluster_props)
                    .keep("Snapshot")
                    .depends_on(&log_groups)
                    .node(&id)
                    .comment(&comment),
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
                    "DBInstanceIdentifier": identifier,
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
                Resource::new("AWS::RDS::DBInstance", props)
                    .keep("Snapshot")
                    .depends_on(&log_groups)
                    .node(&id)
                    .comment(&comment),
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
