//! What a compiled output says about deploying it: `plan.json`'s stacks (with where each
//! parameter comes from), the templates' `Metadata.archc.DependsOnStacks`, and the
//! Kubernetes section (objects in apply order, Helm values, deploy-time values).
//!
//! Nothing here knows the stacks by name: a stack is whatever `plan.json` lists.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;

/// Every file of a compilation, by path relative to the output directory.
pub type Files = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize)]
pub struct PlanJson {
    pub project: String,
    /// `null` when the diagram and its configuration name no region: the deploy's.
    pub region: Option<String>,
    pub stacks: Vec<StackJson>,
    #[serde(default)]
    pub kubernetes: KubernetesJson,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StackJson {
    pub id: String,
    pub name: String,
    pub order: u32,
    pub template: String,
    #[serde(default)]
    pub parameters: indexmap::IndexMap<String, ParamJson>,
    #[serde(default)]
    pub outputs: Vec<String>,
    #[serde(default)]
    pub resources: Vec<ResourceJson>,
    /// Optional: a stack that lives in another region (a CloudFront certificate in us-east-1).
    #[serde(default)]
    pub region: Option<String>,
    /// Optional: the capabilities the stack needs (default: IAM and named IAM).
    #[serde(default)]
    pub capabilities: Option<Vec<String>>,
    /// The stack's tags (CloudFormation propagates them to its resources).
    #[serde(default)]
    pub tags: indexmap::IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ParamJson {
    #[serde(rename = "type")]
    pub ty: String,
    pub source: Source,
}

/// Where a stack parameter's value comes from.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An output of an earlier stack.
    Output { stack: String, name: String },
    /// A value the diagram or its configuration gives.
    Value(Value),
    /// The template's default (`null`: none, the operator must give one).
    Default(Value),
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResourceJson {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub node: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct KubernetesJson {
    #[serde(default)]
    pub objects: Vec<ObjectJson>,
    #[serde(default)]
    pub helm: Vec<String>,
    #[serde(default)]
    pub placeholders: BTreeMap<String, String>,
    /// How a deploy computes each placeholder whose source is `deploy: ...`.
    #[serde(default)]
    pub deploy_values: BTreeMap<String, DeployValue>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ObjectJson {
    pub file: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// A CronJob to run once right after applying it, waiting for its Job (the database user
    /// sync, whose DSN the application's pods wait for).
    #[serde(default)]
    pub run_at_deploy: bool,
}

/// A deploy-time value, as `plan.json` describes it (`kubernetes.deploy_values`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum DeployValue {
    /// Configuration the operator gives at deploy time (`--set Name=VALUE`) when the
    /// configuration key is not set.
    Config { key: String },
    /// The image tag: `--image-tag`, else the newest image of the repository.
    ImageTag { repository_output: String },
    /// The digest of the image with tag `tag` in the repository.
    ImageDigest {
        #[serde(default)]
        repository_output: Option<String>,
        #[serde(default)]
        tag: Option<String>,
        /// A published image without a registry of ours: only `--set ImageDigest=`.
        #[serde(default)]
        image: Option<String>,
    },
    /// A DSN built in memory from a managed secret (`username`, `password`) and stack
    /// outputs: `template` has the slots `<user>`, `<password>` (both URL-encoded), `<host>`,
    /// `<port>` and `<dbname>`.
    Dsn { template: String, secret_output: String, host_output: String, port_output: String, database_output: String },
    /// The Secrets Manager `VersionId` of a secret (rolls the pods after a rotation).
    SecretVersion { secret_output: String },
}

/// One stack, ready to deploy: its plan entry, template and dependencies.
#[derive(Debug, Clone)]
pub struct Stack {
    pub id: String,
    /// The CloudFormation stack name (with `--stack-prefix` applied).
    pub name: String,
    pub order: u32,
    pub region: String,
    pub template_path: String,
    pub template_body: String,
    pub template: TemplateInfo,
    pub parameters: indexmap::IndexMap<String, ParamJson>,
    pub outputs: Vec<String>,
    pub capabilities: Vec<String>,
    /// Its tags: the plan's, and `archc:stack` always.
    pub tags: indexmap::IndexMap<String, String>,
    /// Stacks that must be deployed before this one (template metadata and parameter sources).
    pub depends_on: BTreeSet<String>,
}

/// What deploy reads from a template.
#[derive(Debug, Clone, Default)]
pub struct TemplateInfo {
    pub depends_on_stacks: Vec<String>,
    /// Logical id → (type, DeletionPolicy).
    pub resources: indexmap::IndexMap<String, TemplateResource>,
    /// Parameters without a default in the template.
    pub required_parameters: BTreeSet<String>,
    /// Parameters declared `NoEcho: true` (their values are never printed).
    pub no_echo: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct TemplateResource {
    pub ty: String,
    pub deletion_policy: Option<String>,
}

/// The deployable view of a compiled output.
#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    pub region: String,
    pub stacks: Vec<Stack>,
    pub kubernetes: KubernetesJson,
}

/// Options that change how the plan is read.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `--region`: overrides the plan's region (not a stack's own `region`).
    pub region: Option<String>,
    /// `--stack-prefix`: replaces the project prefix of stack names.
    pub stack_prefix: Option<String>,
}

/// The largest template CloudFormation takes inline (`TemplateBody`); larger ones need S3.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

impl Plan {
    /// Read `plan.json` and the templates from the compiled files.
    ///
    /// # Errors
    /// `plan.json` or a template is missing or unreadable, a stack depends on a stack the
    /// plan does not have, or the dependencies form a cycle.
    pub fn from_files(files: &Files, options: &PlanOptions) -> Result<Self, Error> {
        let text = files.get("plan.json").ok_or_else(|| Error::Plan("the compiled output has no plan.json".into()))?;
        let json: PlanJson =
            serde_json::from_str(text).map_err(|e| Error::Plan(format!("plan.json does not parse: {e}")))?;
        // --region, else the diagram's, else the environment's (what the AWS CLI would use)
        let default_region = options
            .region
            .clone()
            .or_else(|| json.region.clone())
            .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok().filter(|r| !r.is_empty()))
            .ok_or_else(|| {
                Error::Plan(
                    "the diagram and its configuration name no region: pass --region (or set AWS_REGION)".into(),
                )
            })?;
        let ids: BTreeSet<&str> = json.stacks.iter().map(|s| s.id.as_str()).collect();
        let mut stacks = Vec::new();
        for s in &json.stacks {
            let body = files.get(&s.template).ok_or_else(|| {
                Error::Plan(format!("stack `{}`: template {} is not in the output", s.id, s.template))
            })?;
            if body.len() > TEMPLATE_BODY_LIMIT {
                return Err(Error::Plan(format!(
                    "{}: {} bytes, more than the {TEMPLATE_BODY_LIMIT} CloudFormation takes inline; templates that large need an S3 bucket to upload to, which archc deploy does not do yet",
                    s.template,
                    body.len()
                )));
            }
            let template = TemplateInfo::parse(body).map_err(|e| Error::Plan(format!("{}: {e}", s.template)))?;
            let mut depends_on: BTreeSet<String> = template.depends_on_stacks.iter().cloned().collect();
            for p in s.parameters.values() {
                if let Source::Output { stack, .. } = &p.source {
                    depends_on.insert(stack.clone());
                }
            }
            for d in &depends_on {
                if !ids.contains(d.as_str()) {
                    return Err(Error::Plan(format!(
                        "stack `{}` depends on `{d}`, which the plan does not have",
                        s.id
                    )));
                }
            }
            stacks.push(Stack {
                id: s.id.clone(),
                name: stack_name(&s.name, &json.project, options.stack_prefix.as_deref()),
                order: s.order,
                region: s.region.clone().unwrap_or_else(|| default_region.clone()),
                template_path: s.template.clone(),
                template_body: body.clone(),
                template,
                parameters: s.parameters.clone(),
                outputs: s.outputs.clone(),
                capabilities: s
                    .capabilities
                    .clone()
                    .unwrap_or_else(|| vec!["CAPABILITY_IAM".into(), "CAPABILITY_NAMED_IAM".into()]),
                tags: {
                    let mut t = s.tags.clone();
                    t.entry("archc:stack".into()).or_insert_with(|| s.id.clone());
                    t
                },
                depends_on,
            });
        }
        stacks.sort_by_key(|s| s.order);
        let plan = Self { project: json.project, region: default_region, stacks, kubernetes: json.kubernetes };
        plan.check_acyclic()?;
        Ok(plan)
    }

    pub fn stack(&self, id: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.id == id)
    }

    /// The stacks in waves: every stack of a wave depends only on earlier waves.
    pub fn waves(&self) -> Vec<Vec<&Stack>> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut waves = Vec::new();
        while done.len() < self.stacks.len() {
            let wave: Vec<&Stack> = self
                .stacks
                .iter()
                .filter(|s| !done.contains(s.id.as_str()) && s.depends_on.iter().all(|d| done.contains(d.as_str())))
                .collect();
            if wave.is_empty() {
                break; // a cycle: refused by check_acyclic
            }
            done.extend(wave.iter().map(|s| s.id.as_str()));
            waves.push(wave);
        }
        waves
    }

    /// Stack ids in a dependency order (plan order among independent ones).
    pub fn order(&self) -> Vec<&str> {
        self.waves().into_iter().flatten().map(|s| s.id.as_str()).collect()
    }

    fn check_acyclic(&self) -> Result<(), Error> {
        let placed: usize = self.waves().iter().map(Vec::len).sum();
        if placed == self.stacks.len() {
            return Ok(());
        }
        let ordered: BTreeSet<&str> = self.order().into_iter().collect();
        let stuck: Vec<&str> = self.stacks.iter().map(|s| s.id.as_str()).filter(|id| !ordered.contains(id)).collect();
        Err(Error::Plan(format!("the stacks {} depend on each other in a cycle", stuck.join(", "))))
    }

    /// Stacks that depend on `id` (directly).
    pub fn dependents(&self, id: &str) -> Vec<&Stack> {
        self.stacks.iter().filter(|s| s.depends_on.contains(id)).collect()
    }

    /// The Kubernetes objects in apply order (their file prefix), with their parsed documents.
    ///
    /// # Errors
    /// A listed file is missing or does not parse as YAML.
    pub fn manifests(&self, files: &Files) -> Result<Vec<(ObjectJson, Value)>, Error> {
        let mut out = Vec::new();
        for o in &self.kubernetes.objects {
            let text = files.get(&o.file).ok_or_else(|| Error::Plan(format!("{} is not in the output", o.file)))?;
            let doc: Value =
                serde_yaml::from_str(text).map_err(|e| Error::Plan(format!("{} does not parse: {e}", o.file)))?;
            out.push((o.clone(), doc));
        }
        out.sort_by_key(|(o, _)| apply_rank(&o.file));
        Ok(out)
    }
}

/// The apply order of a manifest: the number its file name starts with.
pub fn apply_rank(file: &str) -> u32 {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.split('-').next().and_then(|n| n.parse().ok()).unwrap_or(u32::MAX)
}

/// `mattermost-network` with `--stack-prefix staging` → `staging-network`.
fn stack_name(name: &str, project: &str, prefix: Option<&str>) -> String {
    match prefix {
        Some(p) => match name.strip_prefix(project) {
            Some(rest) => format!("{p}{rest}"),
            None => format!("{p}-{name}"),
        },
        None => name.to_string(),
    }
}

impl TemplateInfo {
    /// Read what deploy needs from a template (YAML with CloudFormation's short tags).
    ///
    /// # Errors
    /// The template is not YAML.
    pub fn parse(body: &str) -> Result<Self, String> {
        let doc: serde_yaml::Value = serde_yaml::from_str(body).map_err(|e| format!("does not parse: {e}"))?;
        let mut info = Self::default();
        if let Some(list) = doc
            .get("Metadata")
            .and_then(|m| m.get("archc"))
            .and_then(|a| a.get("DependsOnStacks"))
            .and_then(|d| d.as_sequence())
        {
            info.depends_on_stacks = list.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        }
        if let Some(resources) = doc.get("Resources").and_then(|r| r.as_mapping()) {
            for (k, v) in resources {
                let Some(id) = k.as_str() else { continue };
                let ty = v.get("Type").and_then(|t| t.as_str()).unwrap_or_default().to_string();
                let deletion_policy = v.get("DeletionPolicy").and_then(|t| t.as_str()).map(str::to_string);
                info.resources.insert(id.to_string(), TemplateResource { ty, deletion_policy });
            }
        }
        if let Some(params) = doc.get("Parameters").and_then(|r| r.as_mapping()) {
            for (k, v) in params {
                let Some(name) = k.as_str() else { continue };
                if v.get("Default").is_none() {
                    info.required_parameters.insert(name.to_string());
                }
                if v.get("NoEcho").is_some_and(|n| n.as_bool() == Some(true) || n.as_str() == Some("true")) {
                    info.no_echo.insert(name.to_string());
                }
            }
        }
        Ok(info)
    }
}

/// A parameter value as CloudFormation takes it (every value is a string).
pub fn parameter_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(items.iter().filter_map(parameter_string).collect::<Vec<_>>().join(",")),
        other => Some(other.to_string()),
    }
}

/// Resource types whose replacement or deletion loses data.
pub fn is_stateful(ty: &str) -> bool {
    matches!(
        ty,
        "AWS::RDS::DBInstance"
            | "AWS::RDS::DBCluster"
            | "AWS::S3::Bucket"
            | "AWS::EFS::FileSystem"
            | "AWS::ElastiCache::ReplicationGroup"
            | "AWS::ElastiCache::CacheCluster"
            | "AWS::DynamoDB::Table"
            | "AWS::SecretsManager::Secret"
            | "AWS::KMS::Key"
            | "AWS::ECR::Repository"
            | "AWS::EKS::Cluster"
            | "AWS::Logs::LogGroup"
            | "AWS::EC2::Volume"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn files(plan: serde_json::Value, templates: &[(&str, &str)]) -> Files {
        let mut f = Files::new();
        f.insert("plan.json".into(), plan.to_string());
        for (path, body) in templates {
            f.insert((*path).into(), (*body).into());
        }
        f
    }

    fn three() -> Files {
        let plan = serde_json::json!({
        "project": "demo", "region": "eu-north-1",
        "stacks": [
            {"id": "net", "name": "demo-net", "order": 1, "template": "cloudformation/net.yaml", "parameters": {}, "outputs": ["VpcId"]},
            {"id": "app", "name": "demo-app", "order": 3, "template": "cloudformation/app.yaml",
             "parameters": {"VpcId": {"type": "AWS::EC2::VPC::Id", "source": {"output": {"stack": "net", "name": "VpcId"}}},
                            "Size": {"type": "Number", "source": {"value": 2}},
                            "Org": {"type": "String", "source": {"default": null}}}},
            {"id": "edge", "name": "demo-edge", "order": 2, "region": "us-east-1", "template": "cloudformation/edge.yaml"}
        ]});
        files(
            plan,
            &[
                ("cloudformation/net.yaml", "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n"),
                (
                    "cloudformation/app.yaml",
                    "Metadata:\n  archc:\n    DependsOnStacks: [net, edge]\nParameters:\n  VpcId: {Type: String}\n  Size: {Type: Number, Default: 1}\n  Org: {Type: String}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n    Properties:\n      Tags: [{Key: a, Value: !Ref VpcId}]\n",
                ),
                ("cloudformation/edge.yaml", "Resources: {}\n"),
            ],
        )
    }

    #[test]
    fn reads_stacks_generically_with_dependencies_regions_and_prefix() {
        let plan = Plan::from_files(
            &three(),
            &PlanOptions { region: Some("eu-west-1".into()), stack_prefix: Some("stg".into()) },
        )
        .expect("plan");
        assert_eq!(plan.order(), ["net", "edge", "app"]);
        let waves: Vec<Vec<&str>> = plan.waves().iter().map(|w| w.iter().map(|s| s.id.as_str()).collect()).collect();
        assert_eq!(waves, [vec!["net", "edge"], vec!["app"]], "independent stacks share a wave");
        let app = plan.stack("app").expect("app");
        assert_eq!(app.name, "stg-app");
        assert_eq!(app.region, "eu-west-1", "--region overrides the plan's region");
        assert_eq!(plan.stack("edge").expect("edge").region, "us-east-1", "a stack's own region wins");
        assert_eq!(app.depends_on.iter().map(String::as_str).collect::<Vec<_>>(), ["edge", "net"]);
        assert_eq!(app.template.resources["B"].deletion_policy.as_deref(), Some("Retain"));
        assert!(app.template.required_parameters.contains("Org"));
        assert_eq!(app.parameters["Org"].source, Source::Default(Value::Null));
        assert_eq!(plan.dependents("net").iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["app"]);
    }

    #[test]
    fn refuses_cycles_and_unknown_stacks() {
        let plan = serde_json::json!({"project": "d", "region": "r", "stacks": [
            {"id": "a", "name": "d-a", "order": 1, "template": "a.yaml"},
            {"id": "b", "name": "d-b", "order": 2, "template": "b.yaml"}]});
        let cyclic = files(
            plan.clone(),
            &[
                ("a.yaml", "Metadata: {archc: {DependsOnStacks: [b]}}\n"),
                ("b.yaml", "Metadata: {archc: {DependsOnStacks: [a]}}\n"),
            ],
        );
        let err = Plan::from_files(&cyclic, &PlanOptions::default()).expect_err("cycle");
        assert!(err.to_string().contains("cycle"), "{err}");
        let unknown = files(plan, &[("a.yaml", "Metadata: {archc: {DependsOnStacks: [zz]}}\n"), ("b.yaml", "{}\n")]);
        let err = Plan::from_files(&unknown, &PlanOptions::default()).expect_err("unknown");
        assert!(err.to_string().contains("`zz`"), "{err}");
    }

    #[test]
    fn a_template_too_large_to_send_inline_is_refused_before_any_call() {
        let plan = serde_json::json!({"project": "d", "region": "r", "stacks": [{"id": "a", "name": "d-a", "order": 1, "template": "a.yaml"}]});
        let big = format!("Resources: {{}}\n#{}\n", "x".repeat(TEMPLATE_BODY_LIMIT));
        let err = Plan::from_files(&files(plan, &[("a.yaml", &big)]), &PlanOptions::default()).expect_err("too large");
        assert!(err.to_string().contains("S3"), "{err}");
    }

    #[test]
    fn apply_rank_is_the_file_prefix() {
        assert_eq!(apply_rank("kubernetes/05-namespace-x.yaml"), 5);
        assert_eq!(apply_rank("kubernetes/50-ingress-x.yaml"), 50);
        assert_eq!(apply_rank("kubernetes/README.md"), u32::MAX);
        assert_eq!(parameter_string(&serde_json::json!(["a", "b"])).as_deref(), Some("a,b"));
        assert_eq!(parameter_string(&serde_json::json!(50)).as_deref(), Some("50"));
        assert_eq!(stack_name("mattermost-data", "mattermost", Some("staging")), "staging-data");
    }
}
