//! What runs in the cluster: the Kubernetes objects of the plan (built with k8s-openapi
//! types by `emit::kubernetes`).

use serde_json::Value;

use super::{Settings, Stack};
use crate::diagnostic::Diagnostic;
use crate::model::ArchGraph;

/// One Kubernetes object, ready to serialise.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The file it is written to (`40-deployment-mattermost.yaml`): the prefix is the apply order.
    pub file: String,
    /// The object as JSON (from a k8s-openapi type).
    pub body: Value,
    /// The diagram node it comes from.
    pub node: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct KubernetesPlan {
    pub objects: Vec<Object>,
    /// Helm releases installed before the objects that need them (file name, values).
    pub helm: Vec<(String, Value)>,
    /// `${Name}` placeholders the objects use, with where a deploy gets each value.
    pub placeholders: Vec<(String, String)>,
    pub findings: Vec<Diagnostic>,
}

pub(super) fn plan(_graph: &ArchGraph, _settings: &Settings, _stacks: &[Stack]) -> KubernetesPlan {
    KubernetesPlan::default()
}
