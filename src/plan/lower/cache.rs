//! Caches: ElastiCache replication groups (Redis, Valkey), each from its box, in the data stack.

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::store::Store;
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::Style;
use crate::plan::cfn::{get_att, if_, no_value, r, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Parameter, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "cache", kinds: &["aws.elasticache"], lower };

fn lower(l: &mut Lowering<'_>) {
    if l.graph.of_kind("aws.vpc").next().is_none() {
        return;
    }
    let graph = l.graph;
    let mut s = Store::new(l);
    for n in graph.of_kind("aws.elasticache").collect::<Vec<_>>() {
        let supported = matches!(graph.component(n).attr("engine").unwrap_or("redis"), "redis" | "valkey");
        if let Some(why) = unusable(s.l, n).filter(|_| supported) {
            let id = &graph.component(n).id;
            s.l.findings.push(
                Diagnostic::new(
                    codes::PLAN_UNSUPPORTED,
                    Severity::Info,
                    format!("the cache `{id}` is not built: {why}, so a replication group would only be billed"),
                )
                .with_primary(graph.component(n).span, "not built: nothing drawn can use it")
                .with_help(format!(
                    "set `cache: {{build: true}}` to build it anyway, or `app.edition: enterprise` (Mattermost), or remove `{id}`"
                )),
            );
            continue;
        }
        s.cache(n);
    }
}

/// Why nothing drawn can use cache `n`, when so: every solid arrow into it comes from the
/// application, whose edition has no use for a cache (Mattermost Team Edition: Redis is an
/// Enterprise cache). `None` (build it) when `cache.build` is set, when nothing is drawn to it
/// (as drawn: the coverage says it is unused), or when any other box connects to it (a generic
/// workload, a function: archc cannot tell, so it builds).
fn unusable(l: &Lowering<'_>, n: NodeIndex) -> Option<String> {
    let s = l.settings;
    if s.cache_build {
        return None;
    }
    let app = s.app.as_ref()?;
    let profile = app.profile?;
    let edition = app.edition.as_deref()?;
    let app_node = l.graph.node(&app.node)?;
    let users: Vec<NodeIndex> =
        l.graph.incoming(n).filter(|(e, _)| l.graph.connection(*e).style == Style::Solid).map(|(_, a)| a).collect();
    let cannot = profile.editions.get(edition).is_some_and(|ed| !ed.cache);
    (cannot && !users.is_empty() && users.iter().all(|&a| a == app_node))
        .then(|| format!("{} {edition} edition cannot use it (APP001) and nothing else connects to it", profile.name))
}

impl Store<'_, '_> {
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
        self.l.stack(DATA).conditions.insert(plaintext.clone(), crate::plan::cfn::equals(r(&mode), json!("preferred")));

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
            .retain()
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
}
