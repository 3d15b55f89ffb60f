//! Secrets: a Secrets Manager secret per box, encrypted with the data stack's key.

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::store::Store;
use crate::plan::cfn::r;
use crate::plan::names::pascal;
use crate::plan::{Lowering, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "secret", kinds: &["aws.secrets-manager"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let mut s = Store::new(l);
    for n in graph.of_kind("aws.secrets-manager").collect::<Vec<_>>() {
        s.secret(n);
    }
}

impl Store<'_, '_> {
    fn secret(&mut self, n: NodeIndex) {
        let id = self.id(n);
        let p = pascal(&id);
        let key = self.key();
        self.l.add(
            DATA,
            &p,
            Resource::new(
                "AWS::SecretsManager::Secret",
                json!({
                    "Description": format!("secret {id} (generated; set its value after the deploy if it holds an external credential)"),
                    "KmsKeyId": key,
                    "GenerateSecretString": {"PasswordLength": 32, "ExcludePunctuation": true},
                }),
            )
            .retain()
            .node(&id),
        );
        self.l.output(DATA, &format!("{p}SecretArn"), r(&p), &format!("ARN of secret `{id}`"));
    }
}
