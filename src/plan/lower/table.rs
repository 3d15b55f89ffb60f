//! Tables: a DynamoDB table per box (on demand, point-in-time recovery, encrypted with the
//! data stack's key, deletion protection), in the data stack. It needs no VPC.
//!
//! The key schema is `nodes.<id>.partition_key` (and `sort_key`), both strings, else a
//! partition key `pk` (String). An arrow from the table to a function (`streams`) turns
//! its stream on (new and old images); the function's lowering maps it.

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::store::Store;
use crate::plan::cfn::{get_att, r, sub, tags};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "table", kinds: &["aws.dynamodb"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let mut s = Store::new(l);
    for n in graph.of_kind("aws.dynamodb").collect::<Vec<_>>() {
        s.table(n);
    }
}

/// Whether an arrow from table `n` becomes an event source (its stream is read).
pub(super) fn streams(l: &Lowering<'_>, n: NodeIndex) -> bool {
    l.graph.outgoing(n).any(|(e, _)| l.graph.connection(e).becomes == "event-source")
}

impl Store<'_, '_> {
    fn table(&mut self, n: NodeIndex) {
        let id = self.id(n);
        let p = pascal(&id);
        let key = self.key();
        let c = self.l.graph.component(n);
        let partition = c.attr("partition_key").unwrap_or("pk").to_string();
        let sort = c.attr("sort_key").map(str::to_string);
        let mut attributes = vec![json!({"AttributeName": partition, "AttributeType": "S"})];
        let mut schema = vec![json!({"AttributeName": partition, "KeyType": "HASH"})];
        if let Some(sort) = &sort {
            attributes.push(json!({"AttributeName": sort, "AttributeType": "S"}));
            schema.push(json!({"AttributeName": sort, "KeyType": "RANGE"}));
        }
        let mut props = json!({
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": attributes,
            "KeySchema": schema,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
            "SSESpecification": {"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": key},
            "DeletionProtectionEnabled": true,
            "Tags": tags(&[("Name", sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))))]),
        });
        let stream = streams(self.l, n);
        if stream {
            props["StreamSpecification"] = json!({"StreamViewType": "NEW_AND_OLD_IMAGES"});
        }
        let mut comment = format!(
            "table `{id}`: on demand, point-in-time recovery, data key, deletion protection;\nkey {partition} (String){}",
            sort.as_ref().map(|s| format!(", sort key {s} (String)")).unwrap_or_default()
        );
        if c.attr("partition_key").is_none() {
            comment.push_str(" (nodes.<id>.partition_key not set: archc's default `pk`)");
        }
        if stream {
            comment.push_str("\nits stream is on: an arrow from it to a function reads it");
        }
        self.l.add(DATA, &p, Resource::new("AWS::DynamoDB::Table", props).keep("Retain").node(&id).comment(&comment));
        self.l.output(DATA, &format!("{p}TableName"), r(&p), &format!("name of table `{id}`"));
        self.l.output(DATA, &format!("{p}TableArn"), get_att(&p, "Arn"), &format!("ARN of table `{id}`"));
        if stream {
            self.l.output(
                DATA,
                &format!("{p}StreamArn"),
                get_att(&p, "StreamArn"),
                &format!("stream ARN of table `{id}`"),
            );
        }
    }
}
