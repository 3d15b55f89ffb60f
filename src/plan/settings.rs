//! The values every part of the plan agrees on: names, region, zones, address ranges,
//! sizes, versions and the application, from configuration, diagram and defaults.

use serde_json::Value;

use super::names::kebab;
use std::collections::BTreeMap;

use petgraph::stable_graph::NodeIndex;

use crate::config::{AppConfig, Config, WorkloadConfig};
use crate::diagnostic::{codes, Diagnostic};
use crate::model::{catalog, AppProfile, ArchGraph};
use crate::source::Span;

/// The application running in the cluster.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The workload's diagram id.
    pub node: String,
    /// Kubernetes name of the Deployment, Service, ...
    pub name: String,
    pub profile: Option<&'static AppProfile>,
    pub edition: Option<String>,
    pub version: String,
    pub replicas: u32,
    /// The upstream image CI builds from (`mattermost/mattermost-team-edition:10.11.4`);
    /// `None` when neither a profile nor the configuration names one: CI then builds the
    /// repository's own Dockerfile, or (without CI) a deploy is given the image.
    pub base_image: Option<String>,
    pub port: u16,
    pub health_path: String,
}

#[derive(Debug, Clone)]
pub enum OidcProvider {
    /// Create the account's GitHub OIDC provider in the ci stack.
    Create,
    /// Use the account's existing provider (its ARN is derived from the account id).
    Existing,
    /// Use this provider ARN.
    Arn(String),
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Each workload box's `nodes.<id>` settings.
    pub workload_config: BTreeMap<String, WorkloadConfig>,
    /// `app:`: the defaults of a diagram with one workload.
    pub app_config: AppConfig,
    /// The diagram has one workload (so `app:` is its settings).
    pub single_workload: bool,
    pub project: String,
    /// The region, or (when neither the diagram nor the configuration says) the placeholder
    /// `${Region}`: the stacks then deploy wherever a deploy is told (`--region`), and the
    /// manifests get the region from the network stack's `Region` output.
    pub region: String,
    /// Whether `region` is a real region.
    pub region_known: bool,
    pub az_count: usize,
    pub vpc_cidr: String,
    pub nat_per_az: bool,
    /// Whether `nat_gateways` is configured (a label saying otherwise is then a finding).
    pub nat_configured: bool,
    pub cluster_name: String,
    pub kubernetes_version: String,
    pub public_access_cidrs: Vec<String>,
    pub node_instance_types: Vec<String>,
    pub node_min: u32,
    pub node_max: u32,
    pub node_desired: u32,
    pub node_disk_gib: u32,
    pub namespace: String,
    pub domain: Option<String>,
    pub certificate_arn: Option<String>,
    /// The public hosted zone of `domain` (configuration `route53.hosted_zone_id`).
    pub hosted_zone_id: Option<String>,
    /// Subscribed to the alarm topic (configuration `alarms.email`).
    pub alarm_email: Option<String>,
    pub github_repository: Option<String>,
    pub github_branch: String,
    pub github_environment: String,
    /// The diagram file as the command was given it (`None` from standard input, or from
    /// the library): the stacks' `archc:diagram` tag.
    pub diagram: Option<String>,
    pub oidc_provider: OidcProvider,
    /// Architecture files the pull-request review covers (git pathspec globs).
    pub review_paths: Vec<String>,
    /// Where the review workflow builds archc from, and which commit (else repository variables).
    pub archc_repository: Option<String>,
    pub archc_rev: Option<String>,
    pub db_instance_class: String,
    /// Whether `database.instance_class` is configured (a label saying otherwise is then a finding).
    pub db_instance_class_configured: bool,
    /// Aurora has no `db.m*` classes: the configured class, else a memory-optimised one.
    pub aurora_instance_class: String,
    pub db_storage_gib: u32,
    pub db_engine_version: Option<String>,
    pub db_name: String,
    pub db_username: String,
    /// The application's own PostgreSQL user (owner of `db_name`), made by the secret sync.
    pub db_app_user: String,
    pub db_backup_days: u32,
    pub cache_node_type: String,
    /// Number of images the ECR lifecycle policy keeps.
    pub image_retention: u32,
    pub cache_transit_encryption: String,
    /// `cache.build`: build a cache even when nothing drawn to it can use it.
    pub cache_build: bool,
    pub app: Option<AppSettings>,
}

impl Settings {
    /// Resolve the settings.
    ///
    /// # Errors
    /// No region anywhere, or a workload without a profile and without `app.image`.
    pub fn resolve(graph: &ArchGraph, config: &Config) -> Result<Settings, Vec<Diagnostic>> {
        let region = config.region.clone().or_else(|| graph.region().map(str::to_string));
        let region_known = region.is_some();
        let region = region.unwrap_or_else(|| REGION_PLACEHOLDER.to_string());
        // the application: the first Deployment (in an EKS cluster when one is drawn: a pod of
        // a local cluster beside it is no application of the stacks), else the first
        // StatefulSet (a database drawn as a pod is no application)
        let deployments = || graph.components().filter(|(_, c)| c.is("k8s.deployment"));
        let workload = deployments()
            .find(|(n, _)| graph.enclosing(*n, "aws.eks-cluster").is_some())
            .or_else(|| deployments().next())
            .or_else(|| graph.components().find(|(_, c)| c.is("k8s.statefulset")));
        let profile = workload.and_then(|(_, c)| c.app.as_deref()).and_then(|a| catalog().app(a));
        let project = config
            .name
            .clone()
            .or_else(|| profile.map(|p| p.id.clone()))
            .or_else(|| workload.map(|(_, c)| kebab(&c.id, 24)).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "archc".to_string());
        let vpc_cidr = graph
            .of_kind("aws.vpc")
            .next()
            .and_then(|n| graph.component(n).attr("cidr").map(str::to_string))
            .or_else(|| config.vpc_cidr.clone())
            .unwrap_or_else(|| "10.0.0.0/16".to_string());
        let app = match workload {
            None => None,
            Some((_, c)) => {
                // `nodes.<app>:` first (a diagram of several workloads), then `app:`
                let own = config.nodes.get(&c.id).map(|n| n.workload()).unwrap_or_default();
                let edition = profile.map(|p| config.app.edition.clone().unwrap_or_else(|| p.default_edition.clone()));
                let ed = profile.and_then(|p| edition.as_ref().and_then(|e| p.editions.get(e)));
                let version = config
                    .app
                    .version
                    .clone()
                    .or_else(|| profile.map(|p| p.version.clone()))
                    .unwrap_or_else(|| "latest".into());
                let max = ed.map_or(u32::MAX, |e| e.max_replicas);
                let replicas = own.replicas.or(config.app.replicas).unwrap_or(if max == 1 { 1 } else { 2 }).min(max);
                let image = own.image.clone().or_else(|| config.app.image.clone());
                let base_image = match (&image, &config.app.image_repository, ed) {
                    (Some(image), _, _) => Some(image.clone()),
                    (None, Some(repo), _) => Some(format!("{repo}:{version}")),
                    (None, None, Some(ed)) => Some(format!("{}:{version}", ed.image)),
                    (None, None, None) => None,
                };
                Some(AppSettings {
                    node: c.id.clone(),
                    name: profile.map_or_else(|| kebab(&c.id, 40), |p| p.id.clone()),
                    profile,
                    edition,
                    version,
                    replicas,
                    base_image,
                    port: own.port.or(config.app.port).or(profile.map(|p| p.port)).unwrap_or(8080),
                    health_path: own
                        .health_path
                        .clone()
                        .or_else(|| config.app.health_path.clone())
                        .or_else(|| profile.map(|p| p.health_path.clone()))
                        .unwrap_or_else(|| "/healthz".into()),
                })
            }
        };
        let oidc_provider = match config.github.oidc_provider.as_deref() {
            None | Some("create") => OidcProvider::Create,
            Some("existing") => OidcProvider::Existing,
            Some(arn) => OidcProvider::Arn(arn.to_string()),
        };
        let single_workload =
            graph.components().filter(|(_, c)| c.kind_id().is_some_and(|k| WORKLOAD_KINDS.contains(&k))).count() <= 1;
        Ok(Settings {
            workload_config: config.nodes.iter().map(|(id, n)| (id.clone(), n.workload())).collect(),
            app_config: config.app.clone(),
            single_workload,
            region_known,
            cluster_name: project.clone(),
            namespace: config
                .app
                .namespace
                .clone()
                .or_else(|| drawn_namespace(graph, workload.map(|(n, _)| n)))
                .unwrap_or_else(|| project.clone()),
            project,
            region,
            // configured, else as many as the diagram draws Availability Zone boxes (2 to 6)
            az_count: match config.availability_zones {
                Some(n) => n as usize,
                None => graph.of_kind("aws.availability-zone").count().clamp(2, 6),
            },
            vpc_cidr,
            nat_per_az: config.nat_gateways.as_deref() != Some("single"),
            nat_configured: config.nat_gateways.is_some(),
            kubernetes_version: config
                .eks
                .version
                .clone()
                .unwrap_or_else(|| super::versions::default("kubernetes").unwrap_or_default().into()),
            public_access_cidrs: config.eks.public_access_cidrs.clone(),
            node_instance_types: if config.eks.node_instance_types.is_empty() {
                vec!["m6i.large".into()]
            } else {
                config.eks.node_instance_types.clone()
            },
            node_min: config.eks.node_min.unwrap_or(2),
            node_max: config.eks.node_max.unwrap_or(4),
            node_desired: config.eks.node_desired.or(config.eks.node_min).unwrap_or(2),
            node_disk_gib: config.eks.node_disk_gib.unwrap_or(50),
            domain: config.domain.clone(),
            certificate_arn: config.certificate_arn.clone(),
            hosted_zone_id: config.route53.hosted_zone_id.clone(),
            alarm_email: config.alarms.email.clone(),
            github_repository: config.github.repository.clone(),
            github_branch: config.github.branch.clone().unwrap_or_else(|| "main".into()),
            github_environment: config.github.environment.clone().unwrap_or_else(|| "production".into()),
            diagram: None,
            oidc_provider,
            review_paths: if config.github.review.paths.is_empty() {
                vec!["**/architecture.md".into()]
            } else {
                config.github.review.paths.clone()
            },
            archc_repository: config.github.review.archc_repository.clone(),
            archc_rev: config.github.review.archc_rev.clone(),
            db_instance_class: config.database.instance_class.clone().unwrap_or_else(|| "db.m7g.large".into()),
            db_instance_class_configured: config.database.instance_class.is_some(),
            aurora_instance_class: config.database.instance_class.clone().unwrap_or_else(|| "db.r7g.large".into()),
            db_storage_gib: config.database.allocated_storage_gib.unwrap_or(50),
            db_engine_version: config.database.engine_version.clone(),
            db_name: config
                .database
                .name
                .clone()
                .unwrap_or_else(|| database_name(app.as_ref().map(|a| a.name.as_str()))),
            db_username: config.database.username.clone().unwrap_or_else(|| "appadmin".into()),
            db_app_user: config
                .database
                .app_user
                .clone()
                .unwrap_or_else(|| database_name(app.as_ref().map(|a| a.name.as_str())).to_ascii_lowercase()),
            db_backup_days: config.database.backup_retention_days.unwrap_or(14),
            cache_node_type: config.cache.node_type.clone().unwrap_or_else(|| "cache.t4g.medium".into()),
            image_retention: 100,
            cache_transit_encryption: config.cache.transit_encryption.clone().unwrap_or_else(|| "required".into()),
            cache_build: config.cache.build.unwrap_or(false),
            app,
        })
    }

    /// Default AZ names for hand deploys (`eu-north-1a`, `eu-north-1b`, ...); a deploy passes
    /// the account's real zones.
    pub fn az_defaults(&self) -> Vec<String> {
        if !self.region_known {
            return Vec::new();
        }
        (0..self.az_count).map(|i| format!("{}{}", self.region, (b'a' + i as u8) as char)).collect()
    }

    /// The finding that says a workload's image comes from outside the drawing (once).
    pub fn image_finding(&self, graph: &ArchGraph) -> Option<Diagnostic> {
        let app = self.app.as_ref().filter(|a| a.base_image.is_none())?;
        let n = graph.node(&app.node)?;
        let builds = graph.components().any(|(_, c)| c.is("ci.github-actions"))
            && graph.components().any(|(_, c)| c.is("aws.ecr"));
        let what = if builds {
            "CI builds the repository's own Dockerfile and the workload runs that image"
        } else {
            "the workload runs the image a deploy is given (`${Image}`)"
        };
        Some(
            Diagnostic::warning(
                codes::PLAN_NO_IMAGE,
                format!("archc has no application profile for `{}` and no image for it: {what}", app.node),
            )
            .with_primary(graph.component(n).span, "which image runs here?")
            .with_help("set `app.image`, `app.port` and `app.health_path` in the ```yaml archc block to pin what runs"),
        )
    }

    /// The finding that says where the stacks go when no region is drawn or configured (once).
    pub fn region_finding(&self, graph: &ArchGraph) -> Option<Diagnostic> {
        if self.region_known || !graph.draws_aws() {
            return None;
        }
        Some(
            Diagnostic::new(
                codes::PLAN_NO_REGION,
                crate::diagnostic::Severity::Info,
                "the diagram and its configuration name no AWS region: the stacks deploy to the region a deploy is given",
            )
            .with_primary(graph.components().next().map_or(Span::default(), |(_, c)| c.span), "no region drawn")
            .with_help("set `region: eu-north-1` in the ```yaml archc block, or label a region box with its code, to pin it"),
        )
    }

    pub fn json(&self, s: &str) -> Value {
        Value::String(s.to_string())
    }
}

/// The kinds that run an image or code of the user's: what `nodes.<id>` workload settings
/// (and, in a diagram with one of them, `app:`) describe.
pub const WORKLOAD_KINDS: &[&str] =
    &["k8s.deployment", "k8s.statefulset", "k8s.cronjob", "aws.ecs-service", "aws.lambda"];

/// What runs in one workload box: its `nodes.<id>` settings, else (in a diagram with one
/// workload) `app:`, else its application profile, else archc's defaults, which it lists in
/// `assumed` so that a finding can say so at the box.
#[derive(Debug, Clone)]
pub struct Workload {
    pub node: String,
    /// Its name in Kubernetes, ECS, Lambda (`orders-api` for a box `OrdersApi`).
    pub name: String,
    pub profile: Option<&'static AppProfile>,
    /// The image it runs; `None` when nothing says (CI builds the repository's Dockerfile,
    /// or a deploy is given one).
    pub image: Option<String>,
    pub port: u16,
    pub health_path: String,
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub replicas: u32,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub schedule: Option<String>,
    /// What archc chose because nothing said (`port 8080`, `health path /healthz`).
    pub assumed: Vec<String>,
}

impl Settings {
    /// The settings of workload box `n`.
    pub fn workload(&self, graph: &ArchGraph, n: NodeIndex) -> Workload {
        let c = graph.component(n);
        let own = self.workload_config.get(&c.id).cloned().unwrap_or_default();
        let app = self.single_workload.then_some(&self.app_config);
        let profile = c.app.as_deref().and_then(|a| catalog().app(a));
        let mut assumed = Vec::new();
        let port = own.port.or(app.and_then(|a| a.port)).or(profile.map(|p| p.port)).unwrap_or_else(|| {
            assumed.push("port 8080".to_string());
            8080
        });
        let health_path = own
            .health_path
            .or_else(|| app.and_then(|a| a.health_path.clone()))
            .or_else(|| profile.map(|p| p.health_path.clone()))
            .unwrap_or_else(|| {
                assumed.push("health checks on GET /healthz".to_string());
                "/healthz".to_string()
            });
        let image = own.image.or_else(|| app.and_then(|a| a.image.clone())).or_else(|| {
            profile.and_then(|p| {
                let edition = self.app_config.edition.clone().unwrap_or_else(|| p.default_edition.clone());
                let version = self.app_config.version.clone().unwrap_or_else(|| p.version.clone());
                p.editions.get(&edition).map(|e| format!("{}:{version}", e.image))
            })
        });
        let replicas = own.replicas.or(app.and_then(|a| a.replicas)).unwrap_or_else(|| {
            assumed.push("2 replicas".to_string());
            2
        });
        Workload {
            node: c.id.clone(),
            name: kebab(&c.id, 40),
            profile,
            image,
            port,
            health_path,
            command: own.command,
            env: own.env,
            replicas,
            cpu: own.cpu,
            memory: own.memory,
            schedule: own.schedule,
            assumed,
        }
    }
}

/// What `Settings::region` holds when no region is known: a placeholder the manifests'
/// deploy fills from the network stack's `Region` output.
pub(crate) const REGION_PLACEHOLDER: &str = "${Region}";

/// The default database name: the application's name as an identifier (`mattermost`,
/// `my_app`), or `app`.
/// The namespace a `k8s.namespace` box around the application names ("Namespace shop" →
/// `shop`).
fn drawn_namespace(graph: &ArchGraph, workload: Option<petgraph::stable_graph::NodeIndex>) -> Option<String> {
    let ns = graph.enclosing(workload?, "k8s.namespace")?;
    let title = graph.component(ns).title.to_lowercase();
    let words: Vec<&str> = title
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty() && !matches!(*w, "namespace" | "ns" | "k8s" | "kubernetes"))
        .collect();
    Some(kebab(&words.join(" "), 63)).filter(|n| !n.is_empty())
}

fn database_name(app: Option<&str>) -> String {
    let mut name: String =
        app.unwrap_or("app").chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "app_");
    }
    name.truncate(63);
    name
}
