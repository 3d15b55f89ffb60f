//! File systems: an EFS file system per box, with mount targets in the subnets of the mount-target boxes (or of the nodes), in the data stack.

use petgraph::stable_graph::NodeIndex;
use serde_json::{json, Value};

use super::eks::node_groups;
use super::store::Store;
use crate::plan::cfn::{r, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer =
    super::Lowerer { name: "file-system", kinds: &["aws.efs", "aws.efs-mount-target"], lower };

fn lower(l: &mut Lowering<'_>) {
    if l.graph.of_kind("aws.vpc").next().is_none() {
        return;
    }
    let graph = l.graph;
    let mut s = Store::new(l);
    for n in graph.of_kind("aws.efs").collect::<Vec<_>>() {
        s.file_system(n);
    }
}

impl Store<'_, '_> {
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
            .retain()
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
}
