//! The backends agree with each other: every value the manifests and the workflow take from a
//! stack is an output that stack really has, and every IRSA role trusts exactly the service
//! account that carries its ARN.

use std::collections::{BTreeMap, BTreeSet};

use archc::analysis::{self, Options};
use archc::plan::{self, Plan};
use archc::source::{InputKind, SourceFile};
use regex::Regex;
use serde_json::Value;

use crate::judges::architectures;
use crate::test::root;

struct Compiled {
    plan: Plan,
    files: BTreeMap<String, String>,
}

fn compile(rel: &str) -> Compiled {
    let path = root().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let file = SourceFile::from_bytes(rel.to_string(), bytes, InputKind::Markdown);
    let analysis = analysis::analyze(file, analysis::config_file_for(&path), &Options::default());
    assert_eq!(analysis.errors(), 0, "{rel} has errors: {:#?}", analysis.diagnostics);
    let plan = plan::build(analysis.graph.as_ref().expect("a graph"), &analysis.config)
        .unwrap_or_else(|d| panic!("{rel} does not plan: {d:#?}"));
    let graph = analysis.graph.as_ref().expect("graph");
    let files = archc::emit::files(&plan, &plan.components(graph));
    Compiled { plan, files }
}

/// A template with its short tags dropped (`!Ref X` → `"X"`), enough to read names and strings.
fn template(c: &Compiled, stack: &str) -> Value {
    let text = c.files.get(&format!("cloudformation/{stack}.yaml")).unwrap_or_else(|| panic!("no {stack} stack"));
    fn plain(v: serde_yaml::Value) -> Value {
        use serde_yaml::Value as Y;
        match v {
            Y::Tagged(t) => {
                let name = t.tag.to_string().trim_start_matches('!').to_string();
                serde_json::json!({ name: plain(t.value) })
            }
            Y::Mapping(m) => Value::Object(
                m.into_iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), plain(v))).collect(),
            ),
            Y::Sequence(s) => Value::Array(s.into_iter().map(plain).collect()),
            other => serde_json::to_value(other).unwrap_or(Value::Null),
        }
    }
    plain(serde_yaml::from_str(text).expect("template is YAML"))
}

fn outputs(c: &Compiled) -> BTreeMap<String, BTreeSet<String>> {
    c.plan
        .stacks
        .iter()
        .map(|s| {
            let t = template(c, s.id.as_str());
            let names = t["Outputs"].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            (s.id.as_str().to_string(), names)
        })
        .collect()
}

/// Every `${Name}` the manifests use that comes from a stack names an output of that stack,
/// and every stack output the workflow's variables are set from exists.
#[test]
fn placeholders_and_workflow_variables_name_real_stack_outputs() {
    let source = Regex::new(r"^(\w+) stack output `(\w+)`").expect("regex");
    let mention = Regex::new(r"(network|cluster|data|app|ci) stack outputs? `?(\w+)`?").expect("regex");
    for arch in architectures() {
        let c = compile(&arch);
        if c.plan.kubernetes.objects.is_empty() {
            continue; // a serverless architecture has no manifests and no placeholders
        }
        let outputs = outputs(&c);
        let mut checked = 0;
        for (name, from) in &c.plan.kubernetes.placeholders {
            if from.starts_with("deploy:") {
                // deploy-time values may name outputs they are built from (the DSN)
                for m in mention.captures_iter(from) {
                    assert!(
                        outputs[&m[1]].contains(&m[2]),
                        "{arch}: ${{{name}}} is built from {}.{}, which does not exist",
                        &m[1],
                        &m[2]
                    );
                }
                continue;
            }
            let m = source.captures(from).unwrap_or_else(|| panic!("{arch}: ${{{name}}} has no source: {from}"));
            assert_eq!(&m[2], name, "{arch}: a placeholder is named after its output");
            let stack = outputs.get(&m[1]).unwrap_or_else(|| panic!("{arch}: no stack {}", &m[1]));
            assert!(
                stack.contains(name),
                "{arch}: ${{{name}}} comes from {} stack output {name}, which it does not have (it has {stack:?})",
                &m[1]
            );
            checked += 1;
        }
        // architectures without Kubernetes (ECS, EC2) have no manifests, so no placeholders
        let kubernetes = !c.plan.kubernetes.objects.is_empty();
        if c.plan.stacks.is_empty() {
            assert_eq!(checked, 0, "{arch}: no AWS drawn, no placeholder from a stack");
        } else {
            assert!(checked >= 5 || !kubernetes, "{arch}: only {checked} placeholders from stacks");
        }
        if let Some(workflow) = c.files.get(".github/workflows/deploy.yml") {
            let mut n = 0;
            for m in mention.captures_iter(workflow) {
                assert!(
                    outputs[&m[1]].contains(&m[2]),
                    "{arch}: the workflow reads {}.{}, which does not exist",
                    &m[1],
                    &m[2]
                );
                n += 1;
            }
            assert!(n >= 3, "{arch}: the workflow names the outputs its variables come from");
        }
    }
}

/// Every deploy-time placeholder has a machine-readable description in `plan.json`
/// (`kubernetes.deploy_values`), so `archc deploy` never parses the English source; every
/// output it names is an output of some stack, and every other placeholder comes from a stack.
#[test]
fn deploy_values_are_described_for_deploy_and_name_real_outputs() {
    for arch in architectures() {
        let c = compile(&arch);
        if c.plan.kubernetes.objects.is_empty() {
            continue; // a serverless architecture has no manifests and no placeholders
        }
        let all: BTreeSet<String> = outputs(&c).into_values().flatten().collect();
        let plan: Value = serde_json::from_str(&c.files["plan.json"]).expect("plan.json");
        let values = plan["kubernetes"]["deploy_values"].as_object().expect("deploy_values");
        let deploy: BTreeSet<&str> = c
            .plan
            .kubernetes
            .placeholders
            .iter()
            .filter(|(_, from)| from.starts_with("deploy:"))
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(values.keys().map(String::as_str).collect::<BTreeSet<_>>(), deploy, "{arch}");
        assert!(
            !deploy.is_empty() || c.plan.kubernetes.objects.is_empty(),
            "{arch}: the seed-like architectures have deploy-time values"
        );
        for (name, how) in values {
            let (kind, body) = how.as_object().and_then(|o| o.iter().next()).expect("one kind");
            assert!(
                ["config", "image_tag", "image_digest", "dsn", "secret_version"].contains(&kind.as_str()),
                "{arch}: {name}: {kind}"
            );
            for (key, v) in body.as_object().expect("an object") {
                if key.ends_with("_output") {
                    let out = v.as_str().expect("an output name");
                    assert!(all.contains(out), "{arch}: {name}.{key} names `{out}`, which no stack outputs");
                }
            }
            if kind == "dsn" {
                let t = body["template"].as_str().expect("template");
                for slot in ["<user>", "<password>", "<host>", "<port>", "<dbname>"] {
                    assert!(t.contains(slot), "{arch}: {name}: the DSN template has {slot}: {t}");
                }
            }
        }
    }
}

/// Substitute a template's `${Param}` with the parameter's default.
fn with_defaults(t: &Value, text: &str) -> String {
    let var = Regex::new(r"\$\{(\w+)\}").expect("regex");
    var.replace_all(text, |c: &regex::Captures<'_>| match t["Parameters"][&c[1]]["Default"].as_str() {
        Some(d) => d.to_string(),
        None => c[0].to_string(),
    })
    .into_owned()
}

/// Every ServiceAccount annotated with a role's ARN is the one subject that role trusts
/// (`system:serviceaccount:<namespace>:<name>` in its trust policy), so the pods really get
/// the role's credentials.
#[test]
fn irsa_roles_trust_the_service_account_that_carries_them() {
    let subject = Regex::new(r"system:serviceaccount:[^\x22\s]+").expect("regex");
    for arch in architectures() {
        let c = compile(&arch);
        if c.plan.kubernetes.objects.is_empty() {
            continue; // a serverless architecture has no manifests and no placeholders
        }
        // output name → the subjects its role trusts (with parameter defaults filled in)
        let mut trusts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in &c.plan.stacks {
            let t = template(&c, s.id.as_str());
            for (output, o) in t["Outputs"].as_object().into_iter().flatten() {
                let Some(att) = o["Value"]["GetAtt"].as_str() else { continue };
                let Some(role) = att.strip_suffix(".Arn") else { continue };
                let r = &t["Resources"][role];
                if r["Type"] != "AWS::IAM::Role" {
                    continue;
                }
                let trust = serde_json::to_string(&r["Properties"]["AssumeRolePolicyDocument"]).expect("json");
                let subjects =
                    subject.find_iter(&trust).map(|m| with_defaults(&t, m.as_str().trim_end_matches('\\'))).collect();
                trusts.insert(output.clone(), subjects);
            }
        }
        let mut accounts = 0;
        for (file, text) in &c.files {
            if !file.starts_with("kubernetes/") || !file.contains("-serviceaccount-") {
                continue;
            }
            let sa: Value = serde_yaml::from_str(text).expect("manifest is YAML");
            let Some(arn) = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].as_str() else { continue };
            let output = arn.trim_start_matches("${").trim_end_matches('}');
            let me = format!(
                "system:serviceaccount:{}:{}",
                sa["metadata"]["namespace"].as_str().expect("namespace"),
                sa["metadata"]["name"].as_str().expect("name")
            );
            let trusted = trusts
                .get(output)
                .unwrap_or_else(|| panic!("{arch}: {file} uses ${{{output}}}, no stack outputs a role by that name"));
            assert_eq!(trusted, &BTreeSet::from([me.clone()]), "{arch}: role {output} must trust exactly {me}");
            accounts += 1;
        }
        if c.plan.stacks.is_empty() {
            assert_eq!(accounts, 0, "{arch}: no AWS drawn, no IRSA role");
        } else {
            assert!(
                accounts >= 2 || c.plan.kubernetes.objects.is_empty(),
                "{arch}: the workload and the load balancer controller have IRSA roles"
            );
        }
    }
}
