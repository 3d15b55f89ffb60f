//! The cluster side, after the stacks: the cluster's endpoint and CA from EKS, a token as
//! aws-iam-authenticator makes it, a kube client; the manifests filled from the stack outputs
//! and the deploy-time values (the database Secret rendered in memory); server-side apply
//! (field manager `archc`) in the documented order, the AWS Load Balancer Controller through
//! Helm before the objects that need it; then the waits: claims Bound, Deployments rolled
//! out, the Ingress's address.

pub mod access;
pub mod helm;
pub mod token;
pub mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::ProvideCredentials as _;
use base64::Engine as _;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::aws::Configs;
use crate::error::{DisplayChain, Error};
use crate::plan::{apply_rank, Files, ObjectJson, Plan};
use crate::report::Reporter;
use access::{ClusterInfo, Endpoint, SsmTools};

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "archc";

/// Options of the cluster side.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `--kube-api` / `ARCHC_KUBE_API`.
    pub kube_api: Option<String>,
    /// `--set NAME=VALUE`.
    pub set: BTreeMap<String, String>,
    /// `--image-tag`.
    pub image_tag: Option<String>,
    /// `helm` (found on PATH).
    pub helm: Option<PathBuf>,
    pub lbc_chart_version: String,
    pub ssm: SsmToolsPaths,
    pub profile: Option<String>,
    /// Longest wait for each of: the controller, a claim, a rollout, the Ingress address.
    pub wait_timeout: Duration,
    pub poll: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct SsmToolsPaths {
    pub aws: Option<PathBuf>,
    pub session_manager_plugin: Option<PathBuf>,
}

/// What the cluster side needs that may be missing on this machine, checked before any
/// stack changes.
///
/// # Errors
/// helm is needed and missing; the SSM path is needed and its tools are missing.
pub fn preflight(plan: &Plan, opts: &ClusterOptions, region: &str) -> Result<(), Error> {
    if plan.kubernetes.objects.is_empty() {
        return Ok(());
    }
    if !plan.kubernetes.helm.is_empty() && opts.helm.is_none() {
        return Err(helm::missing());
    }
    for f in &plan.kubernetes.helm {
        helm::chart_for(f)?;
    }
    let access_instance = plan.stacks.iter().any(|s| s.outputs.iter().any(|o| o == "AccessInstanceId"));
    if opts.kube_api.is_none() && access_instance {
        let tools = SsmTools {
            aws: opts.ssm.aws.clone(),
            session_manager_plugin: opts.ssm.session_manager_plugin.clone(),
            region: region.to_string(),
            profile: opts.profile.clone(),
        };
        if let Some(e) = access::ssm_tools_missing(&tools) {
            return Err(e);
        }
    }
    Ok(())
}

/// Outputs merged across stacks, and the region of the stack each output comes from.
pub fn merged(
    plan: &Plan,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut values = BTreeMap::new();
    let mut regions = BTreeMap::new();
    for s in &plan.stacks {
        if let Some(o) = outputs.get(&s.id) {
            for (k, v) in o {
                values.insert(k.clone(), v.clone());
                regions.insert(k.clone(), s.region.clone());
            }
        }
    }
    (values, regions)
}

/// ECR and Secrets Manager through the SDK, each in the region of the stack whose output
/// names the repository or secret.
struct AwsLookups<'a> {
    configs: &'a Configs,
    region: String,
}

impl values::Lookups for AwsLookups<'_> {
    async fn newest_image(&self, repository: &str) -> Result<Option<(String, String)>, Error> {
        let ecr = aws_sdk_ecr::Client::new(&self.configs.get(&self.region).await);
        let mut best: Option<(aws_smithy_types::DateTime, String)> = None;
        let mut token = None;
        loop {
            let page = ecr
                .describe_images()
                .repository_name(repository)
                .filter(
                    aws_sdk_ecr::types::DescribeImagesFilter::builder()
                        .tag_status(aws_sdk_ecr::types::TagStatus::Tagged)
                        .build(),
                )
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| Error::Aws(format!("ECR DescribeImages {repository}: {}", DisplayChain(&e))))?;
            for d in page.image_details() {
                // cosign's signatures and attestations are tagged `sha256-<digest>.sig`/`.att`:
                // not images a workload runs
                let image_tag = d.image_tags().iter().find(|t| !t.starts_with("sha256-"));
                let (Some(at), Some(tag)) = (d.image_pushed_at(), image_tag) else { continue };
                if best.as_ref().is_none_or(|(b, _)| at.secs() > b.secs()) {
                    best = Some((*at, tag.clone()));
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(best.map(|(at, tag)| (tag, at.fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default())))
    }

    async fn digest(&self, repository: &str, tag: &str) -> Result<String, Error> {
        let ecr = aws_sdk_ecr::Client::new(&self.configs.get(&self.region).await);
        let out = ecr
            .describe_images()
            .repository_name(repository)
            .image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await
            .map_err(|e| Error::Aws(format!("ECR DescribeImages {repository}:{tag}: {}", DisplayChain(&e))))?;
        out.image_details()
            .first()
            .and_then(|d| d.image_digest())
            .map(str::to_string)
            .ok_or_else(|| Error::Missing(format!("ECR repository {repository} has no image tagged {tag}")))
    }

    async fn db_secret(&self, arn: &str) -> Result<values::DbSecret, Error> {
        let sm = aws_sdk_secretsmanager::Client::new(&self.configs.get(&self.region).await);
        // the SDK's error never contains the secret value; only the ARN is named
        let out = sm
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| Error::Aws(format!("Secrets Manager GetSecretValue {arn}: {}", DisplayChain(&e))))?;
        let text = out.secret_string().ok_or_else(|| Error::Aws(format!("the secret {arn} has no string value")))?;
        let parsed: Value = serde_json::from_str(text)
            .map_err(|_| Error::Aws(format!("the secret {arn} is not the JSON RDS writes (username, password)")))?;
        let field = |k: &str| parsed.get(k).and_then(Value::as_str).map(str::to_string);
        match (field("username"), field("password")) {
            (Some(username), Some(password)) => Ok(values::DbSecret {
                username,
                password,
                version_id: out.version_id().unwrap_or_default().to_string(),
            }),
            _ => Err(Error::Aws(format!("the secret {arn} lacks `username` or `password`"))),
        }
    }
}

/// EKS DescribeCluster: endpoint, CA, status.
///
/// # Errors
/// The cluster does not exist or is not ACTIVE.
pub async fn describe_cluster(configs: &Configs, region: &str, name: &str) -> Result<ClusterInfo, Error> {
    let eks = aws_sdk_eks::Client::new(&configs.get(region).await);
    let out = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| Error::Aws(format!("EKS DescribeCluster {name}: {}", DisplayChain(&e))))?;
    let c = out.cluster().ok_or_else(|| Error::Aws(format!("EKS has no cluster {name}")))?;
    let status = c.status().map(|s| s.as_str().to_string()).unwrap_or_default();
    if status != "ACTIVE" {
        return Err(Error::Cluster(format!("the EKS cluster {name} is {status}, not ACTIVE")));
    }
    let endpoint =
        c.endpoint().ok_or_else(|| Error::Aws(format!("the EKS cluster {name} has no endpoint")))?.to_string();
    let ca = c
        .certificate_authority()
        .and_then(|a| a.data())
        .ok_or_else(|| Error::Aws(format!("the EKS cluster {name} has no certificate authority")))?;
    let ca_pem = base64::engine::general_purpose::STANDARD
        .decode(ca.trim())
        .map_err(|e| Error::Aws(format!("the EKS cluster {name}'s CA is not base64: {e}")))?;
    Ok(ClusterInfo { name: name.to_string(), endpoint, ca_pem, status })
}

/// A kube client with a fresh token (tokens last 15 minutes; a new one every 10).
pub struct Kube {
    endpoint: Endpoint,
    configs_region: String,
    cluster: String,
    credentials: aws_credential_types::Credentials,
    client: kube::Client,
    made: Instant,
}

impl Kube {
    /// Connect (no request is made yet).
    ///
    /// # Errors
    /// No credentials, a bad URL or CA.
    pub async fn connect(endpoint: Endpoint, configs: &Configs, region: &str, cluster: &str) -> Result<Self, Error> {
        let conf = configs.get(region).await;
        let provider = conf.credentials_provider().ok_or_else(|| Error::Aws("no AWS credentials provider".into()))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| Error::Aws(format!("no AWS credentials for the cluster token: {}", DisplayChain(&e))))?;
        let client = make_client(&endpoint, &credentials, region, cluster)?;
        Ok(Self {
            endpoint,
            configs_region: region.to_string(),
            cluster: cluster.to_string(),
            credentials,
            client,
            made: Instant::now(),
        })
    }

    pub fn client(&mut self) -> Result<kube::Client, Error> {
        if self.made.elapsed() > Duration::from_secs(600) {
            self.client = make_client(&self.endpoint, &self.credentials, &self.configs_region, &self.cluster)?;
            self.made = Instant::now();
        }
        Ok(self.client.clone())
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn token(&self) -> Result<SecretString, Error> {
        token::eks_token(&self.credentials, &self.configs_region, &self.cluster, SystemTime::now())
            .map(SecretString::from)
    }
}

fn make_client(
    endpoint: &Endpoint,
    credentials: &aws_credential_types::Credentials,
    region: &str,
    cluster: &str,
) -> Result<kube::Client, Error> {
    let uri: http::Uri =
        endpoint.url.parse().map_err(|e| Error::Cluster(format!("the API URL {} is not valid: {e}", endpoint.url)))?;
    let mut config = kube::Config::new(uri);
    if let Some(pem) = &endpoint.ca_pem {
        config.root_cert = Some(access::pem_to_der(pem)?);
    }
    config.tls_server_name.clone_from(&endpoint.tls_server_name);
    config.auth_info.token =
        Some(SecretString::from(token::eks_token(credentials, region, cluster, SystemTime::now())?));
    config.read_timeout = Some(Duration::from_secs(60));
    kube::Client::try_from(config)
        .map_err(|e| Error::Cluster(format!("cannot make a Kubernetes client: {}", DisplayChain(&e))))
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
fn group_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn api_for(client: &kube::Client, o: &ObjectJson) -> Api<DynamicObject> {
    let (group, version) = group_version(&o.api_version);
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &o.kind));
    match &o.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

fn what(o: &ObjectJson) -> String {
    match &o.namespace {
        Some(ns) => format!("{} {ns}/{}", o.kind, o.name),
        None => format!("{} {}", o.kind, o.name),
    }
}

/// Server-side apply of one object (field manager `archc`, forced: archc owns these fields).
///
/// # Errors
/// The API refuses it. For a Secret the API's message is left out: it may quote the value.
pub async fn apply(client: &kube::Client, o: &ObjectJson, doc: &Value) -> Result<(), Error> {
    let api = api_for(client, o);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    match api.patch(&o.name, &params, &Patch::Apply(doc)).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let detail = match (&e, o.kind.as_str()) {
                (kube::Error::Api(s), "Secret") => {
                    format!("HTTP {} {} (the API's message is not shown: it may quote the secret)", s.code, s.reason)
                }
                _ => DisplayChain(&e).to_string(),
            };
            Err(Error::Cluster(format!("server-side apply of {} ({}) failed: {detail}", what(o), o.file)))
        }
    }
}

/// Poll `check` until it says done (`Ok(Some(..))`), fails, or the timeout passes.
async fn until<T, F, Fut>(timeout: Duration, poll: Duration, what: &str, mut check: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, Error>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if started.elapsed() > timeout {
            return Err(Error::Cluster(format!("timed out after {} s waiting for {what}", timeout.as_secs())));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Whether a Deployment has rolled out (as `kubectl rollout status` decides), or why it
/// cannot.
pub fn rollout_state(d: &Deployment) -> Result<Option<String>, String> {
    let generation = d.metadata.generation.unwrap_or(0);
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(st) = &d.status else { return Ok(None) };
    if let Some(c) = st.conditions.iter().flatten().find(|c| c.type_ == "Progressing") {
        if c.reason.as_deref() == Some("ProgressDeadlineExceeded") {
            return Err(c.message.clone().unwrap_or_else(|| "progress deadline exceeded".into()));
        }
    }
    if st.observed_generation.unwrap_or(0) < generation {
        return Ok(None);
    }
    let updated = st.updated_replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    let total = st.replicas.unwrap_or(0);
    if updated < want || total > updated || available < updated {
        return Ok(None);
    }
    Ok(Some(format!("{available}/{want} available")))
}

async fn wait_rollout(kube: &mut Kube, ns: &str, name: &str, opts: &ClusterOptions, r: &Reporter) -> Result<(), Error> {
    let api: Api<Deployment> = Api::namespaced(kube.client()?, ns);
    let label = format!("Deployment {ns}/{name} rollout");
    let state = until(opts.wait_timeout, opts.poll, &label, || {
        let api = api.clone();
        async move {
            let d = api
                .get(name)
                .await
                .map_err(|e| Error::Cluster(format!("cannot read Deployment {ns}/{name}: {}", DisplayChain(&e))))?;
            rollout_state(&d).map_err(|m| Error::Cluster(format!("Deployment {ns}/{name} did not roll out: {m}")))
        }
    })
    .await?;
    r.record(
        json!({"type": "cluster", "step": "rollout", "deployment": format!("{ns}/{name}"), "state": state}),
        &format!("[cluster] Deployment {ns}/{name} rolled out ({state})"),
    );
    Ok(())
}

async fn wait_bound(kube: &mut Kube, ns: &str, name: &str, opts: &ClusterOptions, r: &Reporter) -> Result<(), Error> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(kube.client()?, ns);
    until(opts.wait_timeout, opts.poll, &format!("PersistentVolumeClaim {ns}/{name} to be Bound"), || {
        let api = api.clone();
        async move {
            let c = api
                .get(name)
                .await
                .map_err(|e| Error::Cluster(format!("cannot read claim {ns}/{name}: {}", DisplayChain(&e))))?;
            Ok((c.status.and_then(|s| s.phase).as_deref() == Some("Bound")).then_some(()))
        }
    })
    .await?;
    r.record(
        json!({"type": "cluster", "step": "bound", "claim": format!("{ns}/{name}")}),
        &format!("[cluster] PersistentVolumeClaim {ns}/{name} Bound"),
    );
    Ok(())
}

async fn wait_address(
    kube: &mut Kube,
    ns: &str,
    name: &str,
    opts: &ClusterOptions,
    r: &Reporter,
) -> Result<String, Error> {
    let api: Api<Ingress> = Api::namespaced(kube.client()?, ns);
    let host = until(opts.wait_timeout, opts.poll, &format!("the address of Ingress {ns}/{name} (the ALB)"), || {
        let api = api.clone();
        async move {
            let i = api
                .get(name)
                .await
                .map_err(|e| Error::Cluster(format!("cannot read Ingress {ns}/{name}: {}", DisplayChain(&e))))?;
            let first =
                i.status.and_then(|s| s.load_balancer).and_then(|lb| lb.ingress).and_then(|v| v.into_iter().next());
            Ok(first.and_then(|f| f.hostname.or(f.ip)))
        }
    })
    .await?;
    r.record(
        json!({"type": "cluster", "step": "address", "ingress": format!("{ns}/{name}"), "address": host}),
        &format!("[cluster] Ingress {ns}/{name} has its load balancer: {host}"),
    );
    Ok(host)
}

/// Run a CronJob once, as `kubectl create job --from=cronjob/<name>` does (a Job with its job
/// template, a generated name), and wait until it succeeds. Its Jobs clean up after
/// themselves (`ttlSecondsAfterFinished` of the template).
async fn run_once(
    kube: &mut Kube,
    o: &ObjectJson,
    doc: &Value,
    opts: &ClusterOptions,
    r: &Reporter,
) -> Result<(), Error> {
    let ns = o.namespace.as_deref().unwrap_or("default");
    let template = &doc["spec"]["jobTemplate"];
    let mut prefix: String = o.name.chars().take(48).collect();
    prefix.push_str("-deploy-");
    let mut job: Job = serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "generateName": prefix,
            "namespace": ns,
            "labels": template["metadata"]["labels"].clone(),
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
        },
        "spec": template["spec"].clone(),
    }))
    .map_err(|e| Error::Plan(format!("the job template of CronJob {ns}/{} is not a Job spec: {e}", o.name)))?;
    if job.metadata.labels.as_ref().is_some_and(BTreeMap::is_empty) {
        job.metadata.labels = None;
    }
    let api: Api<Job> = Api::namespaced(kube.client()?, ns);
    let created = api
        .create(&PostParams { field_manager: Some(FIELD_MANAGER.into()), ..PostParams::default() }, &job)
        .await
        .map_err(|e| {
            Error::Cluster(format!("cannot create a Job from CronJob {ns}/{}: {}", o.name, DisplayChain(&e)))
        })?;
    let name = created.metadata.name.unwrap_or_default();
    r.record(
        json!({"type": "cluster", "step": "job", "cronjob": format!("{ns}/{}", o.name), "job": name}),
        &format!("[cluster] started Job {ns}/{name} from CronJob {} (the application waits for it)", o.name),
    );
    let label = format!("Job {ns}/{name}");
    until(opts.wait_timeout, opts.poll, &label, || {
        let (api, name) = (api.clone(), name.clone());
        async move {
            let j = api
                .get(&name)
                .await
                .map_err(|e| Error::Cluster(format!("cannot read Job {ns}/{name}: {}", DisplayChain(&e))))?;
            job_state(&j).map_err(|m| {
                Error::Cluster(format!("Job {ns}/{name} failed: {m} (its output: `kubectl logs -n {ns} job/{name}`)"))
            })
        }
    })
    .await?;
    r.record(
        json!({"type": "cluster", "step": "job-done", "job": format!("{ns}/{name}")}),
        &format!("[cluster] Job {ns}/{name} succeeded"),
    );
    Ok(())
}

/// Whether a Job has succeeded, or why it failed (its `Failed` condition).
pub fn job_state(j: &Job) -> Result<Option<()>, String> {
    let Some(st) = &j.status else { return Ok(None) };
    if let Some(c) = st.conditions.iter().flatten().find(|c| c.type_ == "Failed" && c.status == "True") {
        return Err(c.message.clone().or_else(|| c.reason.clone()).unwrap_or_else(|| "failed".into()));
    }
    Ok((st.succeeded.unwrap_or(0) > 0).then_some(()))
}

/// The result of the cluster side.
#[derive(Debug, Clone, Default)]
pub struct ClusterResult {
    pub applied: Vec<String>,
    pub url: Option<String>,
    pub address: Option<String>,
}

/// Everything after the stacks.
///
/// # Errors
/// A value is missing, the cluster cannot be reached, an apply is refused, a wait times out.
pub async fn deploy(
    plan: &Plan,
    files: &Files,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    configs: &Configs,
    opts: &ClusterOptions,
    r: &Reporter,
) -> Result<ClusterResult, Error> {
    let objects = plan.manifests(files)?;
    if objects.is_empty() {
        return Ok(ClusterResult::default());
    }
    let (all_outputs, regions) = merged(plan, outputs);
    let mut helm_docs = Vec::new();
    for f in &plan.kubernetes.helm {
        let text = files.get(f).ok_or_else(|| Error::Plan(format!("{f} is not in the output")))?;
        let doc: Value = serde_yaml::from_str(text).map_err(|e| Error::Plan(format!("{f} does not parse: {e}")))?;
        helm_docs.push((f.clone(), helm::chart_for(f)?, doc));
    }
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for (_, doc) in &objects {
        needed.extend(archc_placeholders::names(doc));
    }
    for (_, _, doc) in &helm_docs {
        needed.extend(archc_placeholders::names(doc));
    }
    let cluster_name = all_outputs.get("ClusterName").cloned().ok_or_else(|| {
        Error::Cluster("no stack has the output ClusterName: there is no cluster to configure".into())
    })?;
    let region = regions.get("ClusterName").cloned().unwrap_or_else(|| plan.region.clone());

    // every value first, and every document filled, before anything is applied
    let lookups = AwsLookups { configs, region: region.clone() };
    let inputs = values::Inputs {
        outputs: &all_outputs,
        deploy_values: &plan.kubernetes.deploy_values,
        set: &opts.set,
        image_tag: opts.image_tag.as_deref(),
        needed: &needed,
        sources: &plan.kubernetes.placeholders,
    };
    let values = values::compute(&inputs, &lookups).await?;
    for note in &values.notes {
        r.info(Some("cluster"), note);
    }
    let mut unfilled = Vec::new();
    let mut filled = Vec::new();
    for (o, doc) in &objects {
        match archc_placeholders::fill(doc, values.map()) {
            Ok(d) => filled.push((o.clone(), d)),
            Err(es) => unfilled.extend(es.into_iter().map(|e| format!("{}: {e}", o.file))),
        }
    }
    let mut helm_filled = Vec::new();
    for (f, chart, doc) in &helm_docs {
        match archc_placeholders::fill(doc, values.map()) {
            Ok(d) => helm_filled.push((chart, d)),
            Err(es) => unfilled.extend(es.into_iter().map(|e| format!("{f}: {e}"))),
        }
    }
    if !unfilled.is_empty() {
        return Err(Error::Cluster(format!(
            "placeholders without a value (nothing was applied):\n  {}",
            unfilled.join("\n  ")
        )));
    }

    let info = describe_cluster(configs, &region, &cluster_name).await?;
    let endpoint = match (&opts.kube_api, all_outputs.get("AccessInstanceId")) {
        (Some(url), _) => access::explicit(url, Some(&info)),
        (None, Some(instance)) => {
            let tools = SsmTools {
                aws: opts.ssm.aws.clone(),
                session_manager_plugin: opts.ssm.session_manager_plugin.clone(),
                region: region.clone(),
                profile: opts.profile.clone(),
            };
            access::ssm_forward(&tools, instance, &info, Duration::from_secs(60)).await?
        }
        (None, None) => access::direct(&info),
    };
    r.info(Some("cluster"), &format!("EKS cluster {cluster_name} ({}): API through {}", info.status, endpoint.how));
    let mut kube = Kube::connect(endpoint, configs, &region, &cluster_name).await?;

    let mut result = ClusterResult::default();
    let mut helm_pending = helm_filled;
    let mut i = 0;
    while i < filled.len() {
        let rank = apply_rank(&filled[i].0.file);
        // the controller's release after the Secret and before storage, workloads and Ingress
        if rank >= 30 && !helm_pending.is_empty() {
            for (chart, doc) in std::mem::take(&mut helm_pending) {
                install_chart(&mut kube, chart, &doc, opts, r).await?;
            }
        }
        // one group: the objects with the same tens digit, then their waits
        let group = rank / 10;
        let start = i;
        while i < filled.len() && apply_rank(&filled[i].0.file) / 10 == group {
            let (o, doc) = &filled[i];
            apply(&kube.client()?, o, doc).await?;
            r.record(
                json!({"type": "cluster", "step": "apply", "file": o.file, "kind": o.kind, "name": o.name, "namespace": o.namespace}),
                &format!("[cluster] applied {} ({})", what(o), o.file),
            );
            result.applied.push(o.file.clone());
            i += 1;
        }
        // a CronJob the workload waits for runs once now (the database user sync)
        for (o, doc) in &filled[start..i] {
            if o.run_at_deploy && o.kind == "CronJob" {
                run_once(&mut kube, o, doc, opts, r).await?;
            }
        }
        for (o, _) in &filled[start..i] {
            let ns = o.namespace.as_deref().unwrap_or("default");
            match o.kind.as_str() {
                "PersistentVolumeClaim" => wait_bound(&mut kube, ns, &o.name, opts, r).await?,
                "Deployment" => wait_rollout(&mut kube, ns, &o.name, opts, r).await?,
                "Ingress" => {
                    let host = wait_address(&mut kube, ns, &o.name, opts, r).await?;
                    result.address = Some(host.clone());
                    let domain = values.get("Domain").map(str::to_string).or_else(|| ingress_host(&filled[start..i]));
                    result.url = Some(format!("https://{}", domain.unwrap_or(host)));
                }
                _ => {}
            }
        }
    }
    for (chart, doc) in helm_pending {
        install_chart(&mut kube, chart, &doc, opts, r).await?;
    }
    Ok(result)
}

fn ingress_host(objects: &[(ObjectJson, Value)]) -> Option<String> {
    objects
        .iter()
        .find(|(o, _)| o.kind == "Ingress")
        .and_then(|(_, d)| d.pointer("/spec/rules/0/host"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

async fn install_chart(
    kube: &mut Kube,
    chart: &helm::Chart,
    values: &Value,
    opts: &ClusterOptions,
    r: &Reporter,
) -> Result<(), Error> {
    let Some(helm_path) = &opts.helm else { return Err(helm::missing()) };
    r.info(
        Some("cluster"),
        &format!("helm upgrade --install {} (chart {} {})", chart.release, chart.chart, opts.lbc_chart_version),
    );
    let token = kube.token()?;
    let endpoint = kube.endpoint();
    let conn = helm::Connection {
        url: &endpoint.url,
        ca_pem: endpoint.ca_pem.as_deref(),
        tls_server_name: endpoint.tls_server_name.as_deref(),
        token: &token,
    };
    helm::install(helm_path, chart, &opts.lbc_chart_version, values, &conn, opts.wait_timeout).await?;
    wait_rollout(kube, chart.namespace, chart.deployment, opts, r).await?;
    r.record(
        json!({"type": "cluster", "step": "helm", "release": chart.release, "ready": true}),
        &format!("[cluster] {} is Ready", chart.release),
    );
    Ok(())
}

/// For destroy: delete the Ingresses (the controller then deletes the ALB it made, which
/// CloudFormation does not know and which would keep the VPC from being deleted) and wait
/// until they are gone.
///
/// # Errors
/// The cluster cannot be reached or the Ingress stays.
pub async fn delete_ingresses(
    plan: &Plan,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    configs: &Configs,
    opts: &ClusterOptions,
    r: &Reporter,
) -> Result<usize, Error> {
    let ingresses: Vec<&crate::plan::ObjectJson> =
        plan.kubernetes.objects.iter().filter(|o| o.kind == "Ingress").collect();
    if ingresses.is_empty() {
        return Ok(0);
    }
    let (all_outputs, regions) = merged(plan, outputs);
    let Some(cluster_name) = all_outputs.get("ClusterName") else { return Ok(0) };
    let region = regions.get("ClusterName").cloned().unwrap_or_else(|| plan.region.clone());
    let info = describe_cluster(configs, &region, cluster_name).await?;
    let endpoint = match (&opts.kube_api, all_outputs.get("AccessInstanceId")) {
        (Some(url), _) => access::explicit(url, Some(&info)),
        (None, Some(instance)) => {
            let tools = SsmTools {
                aws: opts.ssm.aws.clone(),
                session_manager_plugin: opts.ssm.session_manager_plugin.clone(),
                region: region.clone(),
                profile: opts.profile.clone(),
            };
            access::ssm_forward(&tools, instance, &info, Duration::from_secs(60)).await?
        }
        (None, None) => access::direct(&info),
    };
    let mut kube = Kube::connect(endpoint, configs, &region, cluster_name).await?;
    for o in &ingresses {
        let api = api_for(&kube.client()?, o);
        match api.delete(&o.name, &DeleteParams::foreground()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => return Err(Error::Cluster(format!("cannot delete {}: {}", what(o), DisplayChain(&e)))),
        }
        r.info(
            Some("cluster"),
            &format!("deleted {}: waiting until the controller has removed its load balancer", what(o)),
        );
        until(opts.wait_timeout, opts.poll, &format!("{} to be gone", what(o)), || {
            let api = api.clone();
            let name = o.name.clone();
            async move {
                match api.get_opt(&name).await {
                    Ok(None) => Ok(Some(())),
                    Ok(Some(_)) => Ok(None),
                    Err(e) => Err(Error::Cluster(format!("cannot read {name}: {}", DisplayChain(&e)))),
                }
            }
        })
        .await?;
    }
    Ok(ingresses.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(v: Value) -> Deployment {
        serde_json::from_value(v).expect("deployment")
    }

    #[test]
    fn rollout_state_is_kubectl_rollout_status() {
        let base = json!({"metadata": {"name": "d", "generation": 2}, "spec": {"replicas": 2, "selector": {}, "template": {}}});
        let mut d = base.clone();
        d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(rollout_state(&deployment(d)), Ok(None), "the controller has not seen the new generation");
        let mut d = base.clone();
        d["status"] = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(rollout_state(&deployment(d)), Ok(None), "an old replica is still there");
        let mut d = base.clone();
        d["status"] = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(rollout_state(&deployment(d)), Ok(Some("2/2 available".into())));
        let mut d = base;
        d["status"] = json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"d-1\" has timed out progressing."}]});
        assert!(rollout_state(&deployment(d)).is_err());
        assert_eq!(group_version("apps/v1"), ("apps", "v1"));
        assert_eq!(group_version("v1"), ("", "v1"));
    }

    #[test]
    fn a_job_is_done_when_one_pod_succeeded_and_failed_when_its_condition_says_so() {
        let job = |status: Value| -> Job {
            serde_json::from_value(json!({"metadata": {"name": "j"}, "status": status})).expect("job")
        };
        assert_eq!(job_state(&job(json!({}))), Ok(None));
        assert_eq!(job_state(&job(json!({"active": 1, "failed": 1}))), Ok(None), "a retry is still running");
        assert_eq!(job_state(&job(json!({"succeeded": 1}))), Ok(Some(())));
        let failed = job(
            json!({"failed": 3, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}),
        );
        assert_eq!(job_state(&failed), Err("Job has reached the specified backoff limit".into()));
    }
}
