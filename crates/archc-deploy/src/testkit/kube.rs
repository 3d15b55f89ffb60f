//! A Kubernetes API server double: accepts server-side apply (`PATCH` with
//! `application/apply-patch+yaml`), keeps what was applied, answers `GET` with it and with
//! the status a test scripts (a Deployment that becomes available after some polls, an
//! Ingress that gets its load balancer's host name), `POST` (create, `generateName` too; a
//! Job gets the status the test scripts, else succeeded), and `DELETE`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::{lock, HttpDouble, Request, Response};

#[derive(Default)]
pub struct Cluster {
    /// Path (without query) → the object as applied.
    pub objects: BTreeMap<String, Value>,
    /// Path → statuses served by successive GETs (the last one stays).
    pub statuses: BTreeMap<String, VecDeque<Value>>,
    /// Objects a GET finds even though nobody applied them (the controller's Deployment,
    /// made by Helm).
    pub preexisting: BTreeMap<String, Value>,
    /// Paths whose DELETE leaves the object for this many GETs (a finalizer at work).
    pub linger: BTreeMap<String, usize>,
    /// The status every created Job reports (default: succeeded, as the Job controller would
    /// say after its pod exited 0).
    pub job_status: Option<Value>,
    /// Names generated for `metadata.generateName` so far.
    pub generated: usize,
}

pub struct FakeKube {
    pub cluster: Arc<Mutex<Cluster>>,
    pub server: HttpDouble,
}

impl FakeKube {
    /// # Errors
    /// No port on 127.0.0.1.
    pub fn start(cluster: Cluster) -> std::io::Result<Self> {
        let cluster = Arc::new(Mutex::new(cluster));
        let c = cluster.clone();
        let server = HttpDouble::start(move |req| answer(&c, req))?;
        Ok(Self { cluster, server })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }
}

fn not_found(path: &str) -> Response {
    Response::json(
        404,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": format!("{path} not found"), "reason": "NotFound", "code": 404}),
    )
}

fn answer(cluster: &Arc<Mutex<Cluster>>, req: &Request) -> Response {
    let mut c = lock(cluster);
    let path = req.path().to_string();
    match req.method.as_str() {
        "PATCH" => {
            let Ok(mut body) = serde_json::from_slice::<Value>(&req.body) else {
                return Response::json(
                    400,
                    &json!({"kind": "Status", "status": "Failure", "message": "body is not JSON/YAML", "code": 400}),
                );
            };
            body["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000001");
            body["metadata"]["resourceVersion"] = json!("1");
            body["metadata"]["generation"] = json!(1);
            c.objects.insert(path, body.clone());
            Response::json(200, &body)
        }
        "POST" => {
            let Ok(mut body) = serde_json::from_slice::<Value>(&req.body) else {
                return Response::json(
                    400,
                    &json!({"kind": "Status", "status": "Failure", "message": "body is not JSON", "code": 400}),
                );
            };
            if body["metadata"]["name"].as_str().is_none() {
                let Some(prefix) = body["metadata"]["generateName"].as_str().map(str::to_string) else {
                    return Response::json(
                        422,
                        &json!({"kind": "Status", "status": "Failure", "message": "name or generateName is required", "code": 422}),
                    );
                };
                c.generated += 1;
                body["metadata"]["name"] = json!(format!("{prefix}{:05x}", c.generated));
            }
            let name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let at = format!("{path}/{name}");
            if c.objects.contains_key(&at) {
                return Response::json(
                    409,
                    &json!({"kind": "Status", "status": "Failure", "reason": "AlreadyExists", "code": 409}),
                );
            }
            body["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000002");
            body["metadata"]["resourceVersion"] = json!("1");
            if body["kind"] == "Job" {
                let status = c
                    .job_status
                    .clone()
                    .unwrap_or_else(|| json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}));
                c.statuses.entry(at.clone()).or_default().push_back(status);
            }
            c.objects.insert(at, body.clone());
            Response::json(201, &body)
        }
        "GET" => {
            let base = c.objects.get(&path).or_else(|| c.preexisting.get(&path)).cloned();
            let Some(mut obj) = base else { return not_found(&path) };
            match c.linger.get(&path).copied() {
                Some(0) => {
                    c.linger.remove(&path);
                    c.objects.remove(&path);
                    return not_found(&path);
                }
                Some(n) => {
                    c.linger.insert(path.clone(), n - 1);
                }
                None => {}
            }
            if let Some(q) = c.statuses.get_mut(&path) {
                let status = if q.len() > 1 { q.pop_front() } else { q.front().cloned() };
                if let Some(s) = status {
                    obj["status"] = s;
                }
            }
            Response::json(200, &obj)
        }
        "DELETE" => {
            if !c.objects.contains_key(&path) {
                return not_found(&path);
            }
            if !c.linger.contains_key(&path) {
                c.objects.remove(&path);
            }
            Response::json(
                200,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 200}),
            )
        }
        _ => Response::json(405, &json!({"kind": "Status", "status": "Failure", "code": 405})),
    }
}
