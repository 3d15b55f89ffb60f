//! A scripted CloudFormation (query protocol, XML), with EKS `DescribeCluster`, ECR
//! `DescribeImages` and Secrets Manager `GetSecretValue` (JSON), answering with the documents
//! of AWS's API reference (the sample responses of DescribeStacks, DescribeStackEvents,
//! CreateChangeSet, DescribeChangeSet, ... with this test's names and values). Each stack
//! follows a script: what its change set contains, which statuses and events executing or
//! deleting it goes through (one step per DescribeStacks), which outputs it ends with.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::{lock, HttpDouble, Request, Response};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const ACCOUNT: &str = "123456789012";

/// A stack event (what DescribeStackEvents lists).
#[derive(Debug, Clone)]
pub struct Ev {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// `Ev` shorthand.
pub fn ev(logical_id: &str, resource_type: &str, status: &str, reason: Option<&str>) -> Ev {
    Ev {
        logical_id: logical_id.into(),
        resource_type: resource_type.into(),
        status: status.into(),
        reason: reason.map(str::to_string),
    }
}

/// One change of a change set.
#[derive(Debug, Clone)]
pub struct Ch {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    pub replacement: Option<String>,
}

pub fn ch(action: &str, logical_id: &str, resource_type: &str, replacement: Option<&str>) -> Ch {
    Ch {
        action: action.into(),
        logical_id: logical_id.into(),
        resource_type: resource_type.into(),
        physical_id: (action != "Add").then(|| format!("{}-physical", logical_id.to_lowercase())),
        replacement: replacement.map(str::to_string),
    }
}

/// What a change set of a stack turns out to be.
#[derive(Debug, Clone)]
pub enum ChangeSetScript {
    Changes(Vec<Ch>),
    /// FAILED with this reason (AWS's: "The submitted information didn't contain changes...").
    Failed(String),
}

/// What DeleteStack does.
#[derive(Debug, Clone)]
pub enum DeleteScript {
    /// Statuses and events, then the stack is gone.
    Steps(Vec<(String, Vec<Ev>)>),
    /// DeleteStack answers this error synchronously (as moto does for a VPC with dependencies).
    Refuse(String, String),
}

/// A stack's behaviour.
#[derive(Debug, Clone)]
pub struct Script {
    pub change_set: ChangeSetScript,
    /// Steps after ExecuteChangeSet / CreateStack / UpdateStack.
    pub on_execute: Vec<(String, Vec<Ev>)>,
    /// Outputs once the execution ends in *_COMPLETE.
    pub outputs: Vec<(String, String)>,
    pub on_delete: DeleteScript,
}

impl Script {
    /// A create/update that succeeds with these resources and outputs.
    pub fn succeeds(kind: &str, resources: &[(&str, &str)], outputs: &[(&str, &str)]) -> Self {
        let mut events =
            vec![ev("", "AWS::CloudFormation::Stack", &format!("{kind}_IN_PROGRESS"), Some("User Initiated"))];
        for (id, ty) in resources {
            events.push(ev(id, ty, &format!("{kind}_IN_PROGRESS"), None));
            events.push(ev(id, ty, &format!("{kind}_COMPLETE"), None));
        }
        let done = vec![ev("", "AWS::CloudFormation::Stack", &format!("{kind}_COMPLETE"), None)];
        Self {
            change_set: ChangeSetScript::Changes(resources.iter().map(|(id, ty)| ch("Add", id, ty, None)).collect()),
            on_execute: vec![(format!("{kind}_IN_PROGRESS"), events), (format!("{kind}_COMPLETE"), done)],
            outputs: outputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            on_delete: DeleteScript::Steps(vec![
                (
                    "DELETE_IN_PROGRESS".into(),
                    vec![ev("", "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS", Some("User Initiated"))],
                ),
                ("DELETE_COMPLETE".into(), vec![]),
            ]),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FakeStack {
    pub name: String,
    pub id: String,
    pub status: String,
    pub outputs: Vec<(String, String)>,
    pub parameters: Vec<(String, String)>,
    pub template: Option<String>,
    pub events: Vec<(u32, Ev)>,
    pub resources: Vec<(String, String, String)>,
    pub pending: VecDeque<(String, Vec<Ev>)>,
    pub gone: bool,
    outputs_after: Option<Vec<(String, String)>>,
}

/// Called with each request's action before it is answered.
pub type Hook = Arc<dyn Fn(&str) + Send + Sync>;

/// The state of the fake AWS account.
#[derive(Default)]
pub struct Account {
    pub stacks: BTreeMap<String, FakeStack>,
    pub scripts: BTreeMap<String, Script>,
    /// (stack name, change set name) → the change set's script.
    pub change_sets: BTreeMap<(String, String), ChangeSetScript>,
    /// (stack name, change set name) → the template it would apply (the stack's own only
    /// changes when it is executed, as in CloudFormation).
    templates: BTreeMap<(String, String), Option<String>>,
    pub eks: Option<serde_json::Value>,
    /// (tag, digest, pushed at epoch seconds).
    pub images: Vec<(String, String, f64)>,
    /// ARN → (secret string, version id).
    pub secrets: BTreeMap<String, (String, String)>,
    next_event: u32,
    /// Called before each request is answered (tests use it to press Ctrl-C).
    pub hook: Option<Hook>,
}

impl Account {
    /// A stack that exists already.
    pub fn existing(&mut self, name: &str, status: &str, outputs: &[(&str, &str)], parameters: &[(&str, &str)]) {
        let s = FakeStack {
            name: name.into(),
            id: stack_id(name),
            status: status.into(),
            outputs: outputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            parameters: parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            template: Some("{}".into()),
            events: vec![],
            resources: vec![],
            pending: VecDeque::new(),
            gone: false,
            outputs_after: None,
        };
        self.stacks.insert(name.into(), s);
    }

    pub fn script(&mut self, name: &str, script: Script) {
        self.scripts.insert(name.into(), script);
    }

    /// Steps a stack goes through on the next DescribeStacks calls (an operation already
    /// running when deploy starts).
    pub fn running(&mut self, name: &str, steps: Vec<(String, Vec<Ev>)>) {
        if let Some(s) = self.stacks.get_mut(name) {
            s.pending = steps.into();
        }
    }

    fn find(&mut self, name_or_id: &str) -> Option<&mut FakeStack> {
        self.stacks.values_mut().find(|s| !s.gone && (s.name == name_or_id || s.id == name_or_id))
    }

    fn push_events(&mut self, name: &str, events: Vec<Ev>) {
        for e in events {
            self.next_event += 1;
            let n = self.next_event;
            if let Some(s) = self.stacks.get_mut(name) {
                let e = if e.logical_id.is_empty() { Ev { logical_id: s.name.clone(), ..e } } else { e };
                s.events.push((n, e));
            }
        }
    }

    /// One DescribeStacks: the next scripted step of a running operation.
    fn advance(&mut self, name: &str) {
        let step = self.stacks.get_mut(name).and_then(|s| s.pending.pop_front());
        if let Some((status, events)) = step {
            self.push_events(name, events);
            if let Some(s) = self.stacks.get_mut(name) {
                s.status = status.clone();
                if status.ends_with("_COMPLETE") && !status.contains("ROLLBACK") && !status.starts_with("DELETE") {
                    if let Some(o) = s.outputs_after.take() {
                        s.outputs = o;
                    }
                }
                if status == "DELETE_COMPLETE" {
                    s.gone = true;
                }
            }
        }
    }
}

pub fn stack_id(name: &str) -> String {
    format!("arn:aws:cloudformation:eu-north-1:{ACCOUNT}:stack/{name}/aaf549a0-a413-11df-adb3-5081b3858e83")
}

/// The fake account behind an HTTP double.
pub struct FakeAws {
    pub account: Arc<Mutex<Account>>,
    pub server: HttpDouble,
}

impl FakeAws {
    /// # Errors
    /// No port on 127.0.0.1.
    pub fn start(account: Account) -> std::io::Result<Self> {
        let account = Arc::new(Mutex::new(account));
        let a = account.clone();
        let server = HttpDouble::start(move |req| answer(&a, req))?;
        Ok(Self { account, server })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The CloudFormation actions called, in order, with their stack names.
    pub fn actions(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|r| {
                let f = r.form();
                match (f.get("Action"), r.header("x-amz-target")) {
                    (Some(a), _) => match f.get("StackName") {
                        Some(s) => {
                            format!("{a} {}", s.rsplit('/').nth(1).filter(|_| s.starts_with("arn:")).unwrap_or(s))
                        }
                        None => a.clone(),
                    },
                    (None, Some(t)) => t.to_string(),
                    (None, None) => format!("{} {}", r.method, r.path()),
                }
            })
            .collect()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn ok(action: &str, result: &str) -> Response {
    Response::xml(
        200,
        format!(
            "<{action}Response xmlns=\"{NS}\">\n  <{action}Result>{result}</{action}Result>\n  <ResponseMetadata>\n    <RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n"
        ),
    )
}

/// AWS's query-protocol error document.
pub fn error(code: &str, message: &str) -> Response {
    Response::xml(
        400,
        format!(
            "<ErrorResponse xmlns=\"{NS}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId>\n</ErrorResponse>\n",
            esc(message)
        ),
    )
}

fn members<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(|i| format!("<member>{}</member>", f(i))).collect()
}

fn stack_xml(s: &FakeStack) -> String {
    format!(
        "<StackName>{}</StackName><StackId>{}</StackId><CreationTime>2026-01-02T03:04:05Z</CreationTime><StackStatus>{}</StackStatus><DisableRollback>false</DisableRollback><Parameters>{}</Parameters><Outputs>{}</Outputs>",
        s.name,
        s.id,
        s.status,
        members(&s.parameters, |(k, v)| format!("<ParameterKey>{k}</ParameterKey><ParameterValue>{}</ParameterValue>", esc(v))),
        members(&s.outputs, |(k, v)| format!("<OutputKey>{k}</OutputKey><OutputValue>{}</OutputValue>", esc(v))),
    )
}

fn event_xml(s: &FakeStack, n: u32, e: &Ev) -> String {
    let secs = n % 60;
    format!(
        "<Timestamp>2026-01-02T03:{:02}:{secs:02}Z</Timestamp><ResourceStatus>{}</ResourceStatus><StackId>{}</StackId><EventId>{}-{n}</EventId><LogicalResourceId>{}</LogicalResourceId><StackName>{}</StackName><PhysicalResourceId>{}</PhysicalResourceId><ResourceType>{}</ResourceType>{}",
        (n / 60) % 60,
        e.status,
        s.id,
        e.logical_id,
        e.logical_id,
        s.name,
        if e.resource_type == "AWS::CloudFormation::Stack" { s.id.clone() } else { format!("{}-physical", e.logical_id.to_lowercase()) },
        e.resource_type,
        e.reason.as_ref().map(|r| format!("<ResourceStatusReason>{}</ResourceStatusReason>", esc(r))).unwrap_or_default(),
    )
}

fn answer(account: &Arc<Mutex<Account>>, req: &Request) -> Response {
    let hook = lock(account).hook.clone();
    let form = req.form();
    let action = form
        .get("Action")
        .cloned()
        .or_else(|| req.header("x-amz-target").map(str::to_string))
        .unwrap_or_else(|| format!("{} {}", req.method, req.path()));
    if let Some(h) = hook {
        h(&action);
    }
    let mut a = lock(account);
    if req.path().starts_with("/clusters/") {
        return match &a.eks {
            Some(c) => Response::json(200, &json!({"cluster": c})),
            None => Response::json(
                404,
                &json!({"message": "No cluster found for name", "__type": "ResourceNotFoundException"}),
            ),
        };
    }
    if let Some(target) = req.header("x-amz-target") {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        return match target {
            t if t.ends_with(".DescribeImages") => {
                let wanted = body["imageIds"][0]["imageTag"].as_str().map(str::to_string);
                let details: Vec<serde_json::Value> = a
                    .images
                    .iter()
                    .filter(|(tag, _, _)| wanted.as_deref().is_none_or(|w| w == tag))
                    .map(|(tag, digest, at)| json!({"registryId": ACCOUNT, "repositoryName": body["repositoryName"], "imageDigest": digest, "imageTags": [tag], "imagePushedAt": at, "imageSizeInBytes": 1024}))
                    .collect();
                Response::new(200, "application/x-amz-json-1.1", json!({"imageDetails": details}).to_string())
            }
            t if t.ends_with(".GetSecretValue") => {
                let id = body["SecretId"].as_str().unwrap_or_default();
                match a.secrets.get(id) {
                    Some((s, v)) => Response::new(
                        200,
                        "application/x-amz-json-1.1",
                        json!({"ARN": id, "Name": "rds!db-1", "VersionId": v, "SecretString": s, "VersionStages": ["AWSCURRENT"], "CreatedDate": 1.767e9}).to_string(),
                    ),
                    None => Response::new(400, "application/x-amz-json-1.1", json!({"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}).to_string()),
                }
            }
            _ => Response::new(
                400,
                "application/x-amz-json-1.1",
                json!({"__type": "UnknownOperationException"}).to_string(),
            ),
        };
    }
    let stack_name = form.get("StackName").cloned().unwrap_or_default();
    let not_found = || error("ValidationError", &format!("Stack with id {stack_name} does not exist"));
    match action.as_str() {
        "DescribeStacks" => {
            let name = match a.find(&stack_name) {
                Some(s) => s.name.clone(),
                None => return not_found(),
            };
            a.advance(&name);
            match a.stacks.get(&name) {
                Some(s) if !s.gone => ok("DescribeStacks", &format!("<Stacks><member>{}</member></Stacks>", stack_xml(s))),
                _ => not_found(),
            }
        }
        "DescribeStackEvents" => match a.find(&stack_name) {
            Some(s) => {
                let s = s.clone();
                let list: String = s.events.iter().rev().map(|(n, e)| format!("<member>{}</member>", event_xml(&s, *n, e))).collect();
                ok("DescribeStackEvents", &format!("<StackEvents>{list}</StackEvents>"))
            }
            None => not_found(),
        },
        "GetTemplate" => match a.find(&stack_name) {
            Some(s) => ok(
                "GetTemplate",
                &format!("<TemplateBody>{}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>", esc(s.template.as_deref().unwrap_or("{}"))),
            ),
            None => not_found(),
        },
        "DescribeStackResources" => match a.find(&stack_name) {
            Some(s) => {
                let s = s.clone();
                ok(
                    "DescribeStackResources",
                    &format!(
                        "<StackResources>{}</StackResources>",
                        members(&s.resources, |(l, p, t)| format!(
                            "<StackId>{}</StackId><StackName>{}</StackName><LogicalResourceId>{l}</LogicalResourceId><PhysicalResourceId>{p}</PhysicalResourceId><ResourceType>{t}</ResourceType><Timestamp>2026-01-02T03:04:05Z</Timestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus>",
                            s.id, s.name
                        ))
                    ),
                )
            }
            None => not_found(),
        },
        "ListChangeSets" => {
            let names: Vec<String> = a.change_sets.keys().filter(|(s, _)| s == &stack_name || stack_id(s) == stack_name).map(|(_, c)| c.clone()).collect();
            ok("ListChangeSets", &format!("<Summaries>{}</Summaries>", members(&names, |n| format!("<ChangeSetName>{n}</ChangeSetName><Status>CREATE_COMPLETE</Status>"))))
        }
        "CreateChangeSet" => {
            let name = stack_name.rsplit('/').nth(1).filter(|_| stack_name.starts_with("arn:")).unwrap_or(&stack_name).to_string();
            let cs = form.get("ChangeSetName").cloned().unwrap_or_default();
            let kind = form.get("ChangeSetType").cloned().unwrap_or_else(|| "UPDATE".into());
            let exists = a.find(&name).is_some();
            if kind == "CREATE" && !exists {
                a.existing(&name, "REVIEW_IN_PROGRESS", &[], &[]);
                a.push_events(&name, vec![ev("", "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS", Some("User Initiated"))]);
            } else if !exists {
                return not_found();
            }
            let script = a.scripts.get(&name).map(|s| s.change_set.clone()).unwrap_or(ChangeSetScript::Changes(vec![]));
            a.change_sets.insert((name.clone(), cs.clone()), script);
            a.templates.insert((name.clone(), cs.clone()), form.get("TemplateBody").cloned());
            ok(
                "CreateChangeSet",
                &format!("<Id>arn:aws:cloudformation:eu-north-1:{ACCOUNT}:changeSet/{cs}/1a2345b6-0000-00a0-a123-00abc0abc000</Id><StackId>{}</StackId>", stack_id(&name)),
            )
        }
        "DescribeChangeSet" => {
            let name = stack_name.rsplit('/').nth(1).filter(|_| stack_name.starts_with("arn:")).unwrap_or(&stack_name).to_string();
            let cs = form.get("ChangeSetName").cloned().unwrap_or_default();
            match a.change_sets.get(&(name.clone(), cs.clone())) {
                Some(ChangeSetScript::Changes(changes)) => ok(
                    "DescribeChangeSet",
                    &format!(
                        "<StackId>{}</StackId><Status>CREATE_COMPLETE</Status><ChangeSetName>{cs}</ChangeSetName><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>{}</Changes><StackName>{name}</StackName>",
                        stack_id(&name),
                        members(changes, |c| format!(
                            "<ResourceChange><Action>{}</Action><LogicalResourceId>{}</LogicalResourceId>{}<ResourceType>{}</ResourceType>{}<Scope><member>Properties</member></Scope><Details/></ResourceChange><Type>Resource</Type>",
                            c.action,
                            c.logical_id,
                            c.physical_id.as_ref().map(|p| format!("<PhysicalResourceId>{p}</PhysicalResourceId>")).unwrap_or_default(),
                            c.resource_type,
                            c.replacement.as_ref().map(|r| format!("<Replacement>{r}</Replacement>")).unwrap_or_default(),
                        )),
                    ),
                ),
                Some(ChangeSetScript::Failed(reason)) => ok(
                    "DescribeChangeSet",
                    &format!(
                        "<StackId>{}</StackId><Status>FAILED</Status><StatusReason>{}</StatusReason><ChangeSetName>{cs}</ChangeSetName><ExecutionStatus>UNAVAILABLE</ExecutionStatus><Changes/><StackName>{name}</StackName>",
                        stack_id(&name),
                        esc(reason)
                    ),
                ),
                None => error("ChangeSetNotFound", &format!("ChangeSet [{cs}] does not exist")),
            }
        }
        "DeleteChangeSet" => {
            let name = stack_name.rsplit('/').nth(1).filter(|_| stack_name.starts_with("arn:")).unwrap_or(&stack_name).to_string();
            let cs = form.get("ChangeSetName").cloned().unwrap_or_default();
            a.change_sets.remove(&(name, cs));
            ok("DeleteChangeSet", "")
        }
        "ExecuteChangeSet" => {
            let name = stack_name.rsplit('/').nth(1).filter(|_| stack_name.starts_with("arn:")).unwrap_or(&stack_name).to_string();
            let cs = form.get("ChangeSetName").cloned().unwrap_or_default();
            if a.change_sets.remove(&(name.clone(), cs.clone())).is_none() {
                return error("ChangeSetNotFound", &format!("ChangeSet [{cs}] does not exist"));
            }
            let template = a.templates.remove(&(name.clone(), cs.clone())).flatten();
            if let Some(s) = a.stacks.get_mut(&name) {
                s.template = template;
            }
            start(&mut a, &name);
            ok("ExecuteChangeSet", "")
        }
        "CreateStack" => {
            if a.find(&stack_name).is_some() {
                return error("AlreadyExistsException", &format!("Stack [{stack_name}] already exists"));
            }
            a.existing(&stack_name, "CREATE_IN_PROGRESS", &[], &[]);
            if let Some(s) = a.stacks.get_mut(&stack_name) {
                s.template = form.get("TemplateBody").cloned();
            }
            start(&mut a, &stack_name);
            ok("CreateStack", &format!("<StackId>{}</StackId>", stack_id(&stack_name)))
        }
        "UpdateStack" => {
            let Some(s) = a.find(&stack_name) else { return not_found() };
            let name = s.name.clone();
            s.template = form.get("TemplateBody").cloned();
            start(&mut a, &name);
            ok("UpdateStack", &format!("<StackId>{}</StackId>", stack_id(&name)))
        }
        "DeleteStack" => {
            let Some(s) = a.find(&stack_name) else { return ok("DeleteStack", "") };
            let name = s.name.clone();
            let script = a.scripts.get(&name).map(|s| s.on_delete.clone()).unwrap_or(DeleteScript::Steps(vec![("DELETE_COMPLETE".into(), vec![])]));
            match script {
                DeleteScript::Refuse(code, message) => error(&code, &message),
                DeleteScript::Steps(steps) => {
                    if let Some(s) = a.stacks.get_mut(&name) {
                        s.pending = steps.into();
                    }
                    ok("DeleteStack", "")
                }
            }
        }
        other => error("InvalidAction", &format!("the fake does not do {other}")),
    }
}

/// Start the scripted execution of a stack.
fn start(a: &mut Account, name: &str) {
    let script = a.scripts.get(name).cloned();
    if let Some(s) = a.stacks.get_mut(name) {
        match script {
            Some(sc) => {
                s.pending = sc.on_execute.clone().into();
                s.outputs_after = Some(sc.outputs.clone());
            }
            None => s.pending = VecDeque::from([("UPDATE_COMPLETE".to_string(), vec![])]),
        }
    }
}
