//! KMS keys drawn as boxes: a customer managed key per box (rotation, kept on delete), in the
//! data stack, for what the arrows to it encrypt with; each arrow grants its caller the
//! data-key actions on it (`access.rs`).

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use crate::plan::cfn::{get_att, key_admin_statement, kms_key, r, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "key", kinds: &["aws.kms"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    for n in graph.of_kind("aws.kms").collect::<Vec<_>>() {
        key(l, n);
    }
}

fn key(l: &mut Lowering<'_>, n: NodeIndex) {
    let id = l.graph.component(n).id.clone();
    let p = pascal(&id);
    l.add(
        DATA,
        &p,
        Resource::new(
            "AWS::KMS::Key",
            kms_key(sub(&format!("${{AWS::StackName}}: key {id} of the diagram")), vec![key_admin_statement(None)]),
        )
        .keep("Retain")
        .node(&id)
        .comment(&format!(
            "key `{id}`: what draws an arrow to it encrypts and decrypts with it (through its IAM role)"
        )),
    );
    l.add(
        DATA,
        &format!("{p}Alias"),
        Resource::new(
            "AWS::KMS::Alias",
            json!({"AliasName": sub(&format!("alias/${{AWS::StackName}}-{}", kebab(&id, 40))), "TargetKeyId": r(&p)}),
        )
        .node(&id),
    );
    l.output(DATA, &format!("{p}KeyArn"), get_att(&p, "Arn"), &format!("ARN of key `{id}`"));
}
