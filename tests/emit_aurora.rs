//! Aurora clusters against the checklist (asserted on the emitted YAML, parsed): the
//! writer and readers as drawn or configured, Aurora PostgreSQL/MySQL by label, Serverless v2
//! when the label says so; a snapshot of the fixture's data stack.

use std::collections::BTreeMap;

use archc::analysis::{self, Options};
use archc::plan::{self, Plan};
use archc::source::{InputKind, SourceFile};
use serde_json::{json, Value};

use crate::test::root;

const AURORA: &str = "fixtures/architectures/aurora-postgresql.md";

struct Compiled {
    plan: Plan,
    /// Diagram node → resources.
    components: Vec<plan::ComponentPlan>,
    files: BTreeMap<String, String>,
    findings: Vec<archc::diagnostic::Diagnostic>,
}

fn compile_file(name: &str, file: SourceFile, config: Option<SourceFile>) -> Compiled {
    let analysis = analysis::analyze(file, config, &Options::default());
    assert_eq!(analysis.errors(), 0, "{name} has errors: {:#?}", analysis.diagnostics);
    let graph = analysis.graph.as_ref().expect("a graph");
    let plan = plan::build(graph, &analysis.config).unwrap_or_else(|d| panic!("{name} does not plan: {d:#?}"));
    let components = plan.components(graph);
    let files = archc::emit::files(&plan, &components);
    let findings = plan.findings.clone();
    Compiled { plan, components, files, findings }
}

fn fixture() -> &'static Compiled {
    static C: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let path = root().join(AURORA);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{AURORA}: {e}"));
        let file = SourceFile::from_bytes(AURORA.to_string(), bytes, InputKind::Markdown);
        compile_file(AURORA, file, analysis::config_file_for(&path))
    })
}

/// The fixture's diagram with its cluster box replaced by `cluster` (a subgraph or a box) and
/// `config` appended to its configuration.
fn variant(cluster: &str, config: &str) -> Compiled {
    let text = std::fs::read_to_string(root().join(AURORA)).expect("fixture");
    let start = text.find("        subgraph aurora[").expect("the cluster box");
    let end = start + text[start..].find("        end\n").expect("its end") + "        end\n".len();
    let mut text = format!("{}{cluster}\n{}", &text[..start], &text[end..]);
    if !cluster.contains("writer") {
        text = text.replace("api -->|writes 5432| writer", "api -->|writes 5432| aurora");
        text = text.replace("  api -->|reports 5432| reader\n", "");
    }
    let text = text.replace("github:\n", &format!("{config}github:\n"));
    compile_file("variant", SourceFile::new("variant.md".to_string(), &text, InputKind::Markdown), None)
}

/// A YAML value with CloudFormation's short tags as the long forms, as JSON.
fn untag(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => json!(b),
        Y::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Y::String(s) => json!(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(untag).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.as_str().map_or_else(|| format!("{k:?}"), str::to_string), untag(v)))
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            let inner = untag(t.value);
            match name.as_str() {
                "Ref" => json!({ "Ref": inner }),
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (a, b) = s.split_once('.').expect("Resource.Attribute");
                        json!({ "Fn::GetAtt": [a, b] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                other => json!({ format!("Fn::{other}"): inner }),
            }
        }
    }
}

fn template(c: &Compiled, stack: &str) -> Value {
    let text = c.files.get(&format!("cloudformation/{stack}.yaml")).unwrap_or_else(|| panic!("no {stack} stack"));
    untag(serde_yaml::from_str(text).expect("the template is YAML"))
}

fn props<'v>(t: &'v Value, id: &str) -> &'v Value {
    let r = &t["Resources"][id];
    assert!(r.is_object(), "no resource {id}");
    &r["Properties"]
}

fn of_type<'v>(t: &'v Value, ty: &str) -> Vec<(&'v String, &'v Value)> {
    t["Resources"].as_object().expect("Resources").iter().filter(|(_, r)| r["Type"] == ty).collect()
}

fn r(name: &str) -> Value {
    json!({ "Ref": name })
}

fn get_att(a: &str, b: &str) -> Value {
    json!({ "Fn::GetAtt": [a, b] })
}

// ---------------------------------------------------------------------------------- snapshot

#[test]
fn aurora_data_stack_snapshot() {
    insta::assert_snapshot!("aurora-postgresql-data", fixture().files["cloudformation/data.yaml"]);
}

// ---------------------------------------------------------------------------------- checklist

/// The box labelled "Aurora PostgreSQL" is one DBCluster of aurora-postgresql (version and
/// parameter group family from versions.yaml), encrypted, TLS only, with the drawn writer and
/// reader as its two instances: the reader waits for the writer and fails over after it.
#[test]
fn drawn_writer_and_reader_are_the_clusters_instances() {
    let c = fixture();
    let data = template(c, "data");
    let cluster = props(&data, "Aurora");
    assert_eq!(data["Resources"]["Aurora"]["Type"], "AWS::RDS::DBCluster");
    assert_eq!(cluster["Engine"], "aurora-postgresql");
    assert_eq!(cluster["StorageEncrypted"], true);
    assert_eq!(cluster["ManageMasterUserPassword"], true);
    assert!(cluster.get("ServerlessV2ScalingConfiguration").is_none(), "not serverless");
    assert_eq!(data["Parameters"]["AuroraEngineVersion"]["Default"], "17");
    assert_eq!(data["Parameters"]["AuroraParameterGroupFamily"]["Default"], "aurora-postgresql17");
    assert_eq!(props(&data, "AuroraParameterGroup")["Parameters"]["rds.force_ssl"], "1");
    let mut instances: Vec<&String> = of_type(&data, "AWS::RDS::DBInstance").into_iter().map(|(id, _)| id).collect();
    instances.sort();
    assert_eq!(instances, ["Reader", "Writer"]);
    for (id, tier) in [("Writer", 0), ("Reader", 1)] {
        let p = props(&data, id);
        assert_eq!(p["DBClusterIdentifier"], r("Aurora"), "{id}");
        assert_eq!(p["Engine"], "aurora-postgresql", "{id}");
        assert_eq!(p["DBInstanceClass"], r("AuroraInstanceClass"), "{id}");
        assert_eq!(p["PubliclyAccessible"], false, "{id}");
        assert_eq!(p["PromotionTier"], tier, "{id}");
    }
    assert_eq!(data["Resources"]["Reader"]["DependsOn"], json!("Writer"));
    // each box is built: the instance of `writer` and of `reader`
    for (node, resource) in [("writer", "Writer"), ("reader", "Reader")] {
        let cp = c.components.iter().find(|cp| cp.node == node).expect(node);
        assert!(cp.resources.iter().any(|(_, logical, _)| logical == resource), "{node}: {:?}", cp.resources);
    }
}

/// An arrow to the writer reads the cluster endpoint, one to the reader its reader endpoint;
/// both reach the cluster's security group through one rule (AWS refuses a rule twice).
#[test]
fn arrows_to_writer_and_reader_reach_their_endpoints() {
    let c = fixture();
    let data = template(c, "data");
    assert_eq!(data["Outputs"]["WriterEndpointAddress"]["Value"], get_att("Aurora", "Endpoint.Address"));
    assert_eq!(data["Outputs"]["ReaderEndpointAddress"]["Value"], get_att("Aurora", "ReadEndpoint.Address"));
    assert_eq!(data["Outputs"]["ReaderSecurityGroupId"]["Value"], r("AuroraSecurityGroup"));
    let app = template(c, "app");
    let ingress = of_type(&app, "AWS::EC2::SecurityGroupIngress");
    let to_db: Vec<&String> =
        ingress.iter().filter(|(_, res)| res["Properties"]["FromPort"] == 5432).map(|(id, _)| *id).collect();
    assert_eq!(to_db, ["WriterFromApiIngress"], "one rule for both arrows");
    let env = &props(&app, "ApiTaskDefinition")["ContainerDefinitions"][0]["Environment"];
    let var = |name: &str| env.as_array().expect("env").iter().find(|v| v["Name"] == name).map(|v| v["Value"].clone());
    assert_eq!(var("WRITER_HOST"), Some(r("WriterEndpointAddress")));
    assert_eq!(var("READER_HOST"), Some(r("ReaderEndpointAddress")));
    assert!(c.plan.stacks.iter().any(|s| s.id.as_str() == "data"));
}

/// "Serverless" in the label: Serverless v2 scaling on the cluster, db.serverless instances.
#[test]
fn serverless_in_the_label_is_serverless_v2() {
    let c = variant("        aurora[(Aurora Serverless v2 PostgreSQL)]", "");
    let data = template(&c, "data");
    let scaling = &props(&data, "Aurora")["ServerlessV2ScalingConfiguration"];
    assert_eq!(scaling["MinCapacity"], r("AuroraMinCapacity"));
    assert_eq!(scaling["MaxCapacity"], r("AuroraMaxCapacity"));
    assert_eq!(data["Parameters"]["AuroraInstanceClass"]["Default"], "db.serverless");
    assert_eq!(data["Parameters"]["AuroraMinCapacity"]["Default"], 0.5);
    assert_eq!(of_type(&data, "AWS::RDS::DBInstance").len(), 2, "a writer and a reader");
}

/// Instance counts: configured `instances` first, else what the label counts, else a writer
/// and a reader; Aurora MySQL by its label.
#[test]
fn instances_as_configured_or_labelled() {
    let cases = [
        ("        aurora[(Aurora PostgreSQL)]", "", 2),
        ("        aurora[(Aurora PostgreSQL)]", "  aurora:\n    instances: 3\n", 3),
        ("        aurora[(Aurora PostgreSQL<br/>1 writer + 2 readers)]", "", 3),
        ("        aurora[(Aurora PostgreSQL writer)]", "", 1),
        ("        aurora[(Aurora MySQL<br/>Writer / Reader)]", "", 2),
    ];
    for (cluster, config, want) in cases {
        let c = variant(cluster, config);
        let data = template(&c, "data");
        let mut instances = of_type(&data, "AWS::RDS::DBInstance");
        instances.sort_by_key(|(id, _)| id.as_str());
        assert_eq!(instances.len(), want, "{cluster} {config}");
        for (i, (id, res)) in instances.iter().enumerate() {
            assert_eq!(**id, format!("AuroraInstance{}", i + 1));
            assert_eq!(res["DependsOn"].is_null(), i == 0, "{id}: readers wait for the writer");
        }
        let engine = if cluster.contains("MySQL") { "aurora-mysql" } else { "aurora-postgresql" };
        assert_eq!(props(&data, "Aurora")["Engine"], engine, "{cluster}");
    }
}

/// Facts in database labels: the engine version, the instance class and Single-AZ become
/// settings; against the configuration, the configuration is built and PLN008 says so.
#[test]
fn database_labels_give_version_class_and_multi_az() {
    let c = variant("        aurora[(Aurora PostgreSQL 16 Single-AZ)]", "");
    let data = template(&c, "data");
    assert_eq!(data["Parameters"]["AuroraEngineVersion"]["Default"], "16");
    assert_eq!(data["Parameters"]["AuroraParameterGroupFamily"]["Default"], "aurora-postgresql16");
    assert_eq!(of_type(&data, "AWS::RDS::DBInstance").len(), 1, "Single-AZ: the writer alone");
    let c = variant("        aurora[(RDS PostgreSQL 16<br/>db.r6g.large, Single-AZ)]", "");
    let data = template(&c, "data");
    let db = props(&data, "Aurora");
    assert_eq!(data["Resources"]["Aurora"]["Type"], "AWS::RDS::DBInstance");
    assert_eq!(db["MultiAZ"], false);
    assert_eq!(data["Parameters"]["AuroraInstanceClass"]["Default"], "db.r6g.large");
    assert_eq!(data["Parameters"]["AuroraEngineVersion"]["Default"], "16");
    let skips = serde_json::to_string(&data["Resources"]["Aurora"]["Metadata"]).unwrap_or_default();
    assert!(skips.contains("CKV_AWS_157"), "{skips}");
    assert!(c.findings.iter().all(|d| d.code != "PLN008"));
    // configured otherwise: the configuration, and a finding
    let c = variant(
        "        aurora[(RDS PostgreSQL 16<br/>t3.medium)]",
        "database:\n  instance_class: db.m7g.large\n  engine_version: \"17\"\n",
    );
    let data = template(&c, "data");
    assert_eq!(data["Parameters"]["AuroraInstanceClass"]["Default"], "db.m7g.large");
    assert_eq!(data["Parameters"]["AuroraEngineVersion"]["Default"], "17");
    assert_eq!(props(&data, "Aurora")["MultiAZ"], true);
    let facts: Vec<&String> = c.findings.iter().filter(|d| d.code == "PLN008").map(|d| &d.message).collect();
    assert_eq!(facts.len(), 2, "{facts:?}");
    assert!(facts.iter().any(|m| m.contains("instance class db.t3.medium")), "{facts:?}");
    assert!(facts.iter().any(|m| m.contains("version 16")), "{facts:?}");
}
