//! The Kubernetes and GitHub Actions backends against the reference spec's checklist
//! (asserted on the emitted YAML, parsed), snapshots of the seed's manifests and workflow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use crate::test::{root, Test};

/// A compiled output: every file, by path relative to the output directory.
struct Output {
    files: BTreeMap<String, String>,
    stderr: String,
}

fn read_tree(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("output dir").filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            read_tree(&e.path(), &format!("{name}/"), out);
        } else {
            out.insert(name, std::fs::read_to_string(e.path()).expect("utf-8 output"));
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    crate::test::scratch(&format!("k8s-{name}"))
}

/// Compile `input` (a path, or Markdown text through standard input) into `name`.
fn compile(name: &str, input: Input<'_>) -> Output {
    let out = scratch(name);
    let run = match input {
        Input::File(path) => Test::new().args(["compile", path, "-o"]).args([out.display().to_string()]).status(0),
        Input::Text(text) => {
            Test::new().args(["compile", "-", "-o"]).args([out.display().to_string()]).stdin(text).status(0)
        }
    };
    let mut files = BTreeMap::new();
    read_tree(&out, "", &mut files);
    Output { files, stderr: run.stderr }
}

enum Input<'a> {
    File(&'a str),
    Text(String),
}

fn seed() -> &'static Output {
    static SEED: OnceLock<Output> = OnceLock::new();
    SEED.get_or_init(|| compile("seed", Input::File("examples/architecture.md")))
}

fn gitea() -> &'static Output {
    static GITEA: OnceLock<Output> = OnceLock::new();
    GITEA.get_or_init(|| compile("gitea", Input::File("fixtures/architectures/gitea-us-west-2.md")))
}

/// The seed with a configuration block appended.
fn seed_with(config: &str) -> String {
    let text = std::fs::read_to_string(root().join("examples/architecture.md")).expect("seed");
    format!("{text}\n```yaml archc\n{config}\n```\n")
}

impl Output {
    fn yaml(&self, path: &str) -> Value {
        let text = self.files.get(path).unwrap_or_else(|| panic!("no {path} in {:?}", self.files.keys()));
        serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
    }

    /// Manifests: file name → object.
    fn manifests(&self) -> BTreeMap<String, Value> {
        self.files
            .keys()
            .filter_map(|p| {
                p.strip_prefix("kubernetes/").filter(|f| f.ends_with(".yaml")).map(|f| (f.to_string(), self.yaml(p)))
            })
            .collect()
    }

    /// The one object of `kind` (and `name`, when given).
    fn object(&self, kind: &str, name: Option<&str>) -> Value {
        let found: Vec<Value> = self
            .manifests()
            .into_values()
            .filter(|o| o["kind"] == kind && name.is_none_or(|n| o["metadata"]["name"] == n))
            .collect();
        assert_eq!(found.len(), 1, "expected one {kind} {name:?}");
        found.into_iter().next().unwrap_or_default()
    }

    fn has_kind(&self, kind: &str) -> bool {
        self.manifests().values().any(|o| o["kind"] == kind)
    }

    fn placeholders(&self) -> BTreeMap<String, String> {
        let plan: Value = serde_json::from_str(&self.files["plan.json"]).expect("plan.json");
        plan["kubernetes"]["placeholders"]
            .as_object()
            .expect("placeholders")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    }
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn env(deployment: &Value) -> BTreeMap<String, Value> {
    container(deployment)["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().to_string(),
                e.get("value").cloned().unwrap_or_else(|| e["valueFrom"].clone()),
            )
        })
        .collect()
}

/// (protocol, port) pairs of a NetworkPolicy rule list.
fn ports(rules: &Value) -> BTreeSet<(String, i64)> {
    rules
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["ports"].as_array().cloned().unwrap_or_default())
        .map(|p| (p["protocol"].as_str().unwrap_or_default().to_string(), p["port"].as_i64().unwrap_or_default()))
        .collect()
}

#[test]
fn one_object_per_file_named_by_apply_order_kind_and_name() {
    let name = Regex::new(r"^(\d\d)-([a-z]+)-([a-z0-9-]+)\.yaml$").expect("regex");
    for (file, o) in seed().manifests() {
        let m = name.captures(&file).unwrap_or_else(|| panic!("{file}: not <order>-<kind>-<name>.yaml"));
        assert_eq!(m[2], o["kind"].as_str().unwrap_or_default().to_lowercase(), "{file}");
        assert_eq!(m[3], *o["metadata"]["name"].as_str().unwrap_or_default(), "{file}");
    }
    let files: Vec<String> = seed().manifests().into_keys().collect();
    let pos = |prefix: &str| files.iter().position(|f| f.contains(prefix)).unwrap_or_else(|| panic!("no {prefix}"));
    // namespace and identities first, the Ingress last (after the controller's release)
    assert!(pos("-namespace-") < pos("-serviceaccount-aws-load-balancer-controller"));
    assert!(pos("-networkpolicy-") < pos("-deployment-"));
    assert!(pos("-secret-") < pos("-deployment-"));
    assert!(pos("-persistentvolumeclaim-") < pos("-deployment-"));
    assert_eq!(files.last().map(String::as_str), Some("50-ingress-mattermost.yaml"));
}

#[test]
fn ingress_is_an_internet_facing_alb_with_https_and_the_ping_health_check() {
    let ingress = seed().object("Ingress", None);
    let a = &ingress["metadata"]["annotations"];
    assert_eq!(ingress["spec"]["ingressClassName"], "alb");
    assert_eq!(a["alb.ingress.kubernetes.io/scheme"], "internet-facing");
    assert_eq!(a["alb.ingress.kubernetes.io/target-type"], "ip");
    let listen: Value =
        serde_json::from_str(a["alb.ingress.kubernetes.io/listen-ports"].as_str().expect("listen-ports"))
            .expect("JSON");
    assert!(listen.as_array().expect("list").iter().any(|p| p["HTTPS"] == 443));
    assert_eq!(a["alb.ingress.kubernetes.io/ssl-redirect"], "443");
    assert_eq!(a["alb.ingress.kubernetes.io/certificate-arn"], "${CertificateArn}");
    assert_eq!(a["alb.ingress.kubernetes.io/healthcheck-path"], "/api/v4/system/ping");
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["port"]["number"], 8065);
    let service = seed().object("Service", Some(backend["name"].as_str().expect("service name")));
    assert_eq!(service["spec"]["type"], "ClusterIP");
    assert_eq!(service["spec"]["ports"][0]["port"], 8065);
    // readiness gates need target-type ip
    let ns = seed().object("Namespace", None);
    assert_eq!(ns["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"], "enabled");
    assert_eq!(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");
}

#[test]
fn deployment_has_ping_probes_requests_limits_and_a_restricted_security_context() {
    let d = seed().object("Deployment", None);
    let c = container(&d);
    assert_eq!(d["spec"]["replicas"], 1, "Team Edition runs one replica");
    assert_eq!(c["ports"][0]["containerPort"], 8065);
    assert_eq!(c["ports"][0]["name"], "http");
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        assert_eq!(c[probe]["httpGet"]["path"], "/api/v4/system/ping", "{probe}");
        assert_eq!(c[probe]["httpGet"]["port"], "http", "{probe}");
    }
    for what in ["requests", "limits"] {
        for r in ["cpu", "memory"] {
            assert!(c["resources"][what][r].is_string(), "resources.{what}.{r}");
        }
    }
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 2000);
    assert_eq!(pod["securityContext"]["fsGroup"], 2000);
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["capabilities"]["drop"][0], "ALL");
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(pod["automountServiceAccountToken"], false);
    // every writable path is a volume
    let mounts: BTreeSet<&str> =
        c["volumeMounts"].as_array().expect("mounts").iter().filter_map(|m| m["mountPath"].as_str()).collect();
    for path in ["/mattermost/config", "/mattermost/logs", "/tmp", "/mattermost/plugins", "/mattermost/client/plugins"]
    {
        assert!(mounts.contains(path), "{path} is not writable");
    }
    // the image CI pushes, by commit tag and digest
    assert_eq!(c["image"], "${EcrRepositoryUri}:${ImageTag}@${ImageDigest}");
    assert!(seed().files["Dockerfile"].contains("\nFROM mattermost/mattermost-team-edition:11.7.3\n"));
    // no PDB equal to the replica count, no HPA, with one replica
    assert!(!seed().has_kind("PodDisruptionBudget") && !seed().has_kind("HorizontalPodAutoscaler"));
}

#[test]
fn mattermost_uses_s3_through_irsa_without_keys_and_the_dsn_from_a_secret() {
    let d = seed().object("Deployment", None);
    let e = env(&d);
    assert_eq!(e["MM_FILESETTINGS_DRIVERNAME"], "amazons3");
    assert_eq!(e["MM_FILESETTINGS_AMAZONS3BUCKET"], "${S3BucketName}");
    assert_eq!(e["MM_FILESETTINGS_AMAZONS3REGION"], "eu-north-1");
    assert_eq!(e["MM_FILESETTINGS_AMAZONS3SSL"], "true");
    assert_eq!(e["MM_FILESETTINGS_AMAZONS3SSE"], "true");
    assert!(e.keys().all(|k| !k.contains("ACCESSKEY") && !k.contains("SECRETACCESSKEY")), "no S3 keys: {e:?}");
    assert_eq!(e["MM_SQLSETTINGS_DRIVERNAME"], "postgres");
    let dsn = &e["MM_SQLSETTINGS_DATASOURCE"]["secretKeyRef"];
    assert_eq!(dsn["key"], "datasource");
    // the secret sync writes the DSN (the application's own user): the manifest carries none
    let secret = seed().object("Secret", Some(dsn["name"].as_str().expect("secret name")));
    assert!(secret.get("stringData").is_none() && secret.get("data").is_none(), "{secret}");
    // the DSN verifies the server against the RDS CA bundle the pods mount from a ConfigMap
    let sync = seed().object("CronJob", Some("mattermost-db-secret-sync"));
    let sync_env = &sync["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"];
    let ds = sync_env.as_array().expect("env").iter().find(|v| v["name"] == "DSN_TEMPLATE").expect("DSN_TEMPLATE")
        ["value"]
        .as_str()
        .expect("template")
        .to_string();
    assert!(ds.contains("sslmode=verify-full&sslrootcert=/etc/ssl/rds/rds-ca-bundle.pem"), "{ds}");
    assert!(!ds.contains("sslmode=require"), "{ds}");
    let pod = &d["spec"]["template"]["spec"];
    let volume = pod["volumes"].as_array().expect("volumes").iter().find(|v| v["name"] == "rds-ca").expect("CA volume");
    let ca = seed().object("ConfigMap", Some(volume["configMap"]["name"].as_str().expect("ConfigMap name")));
    let bundle = ca["data"]["rds-ca-bundle.pem"].as_str().expect("bundle");
    assert!(bundle.matches("-----BEGIN CERTIFICATE-----").count() > 50, "every region's roots");
    assert!(bundle.contains("-----END CERTIFICATE-----\n"));
    let mount = container(&d)["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "rds-ca")
        .expect("CA mount")
        .clone();
    assert_eq!(mount["mountPath"], "/etc/ssl/rds");
    assert_eq!(mount["readOnly"], true);
    assert_eq!(e["MM_SERVICESETTINGS_SITEURL"], "https://${Domain}");
    // Team Edition: the cache is not wired (APP001 says so)
    assert!(e.keys().all(|k| !k.starts_with("MM_CACHESETTINGS") && !k.starts_with("MM_CLUSTERSETTINGS")));
    // IRSA: annotated ServiceAccount, and the token wired explicitly
    let sa = seed()
        .object("ServiceAccount", Some(d["spec"]["template"]["spec"]["serviceAccountName"].as_str().expect("sa")));
    assert_eq!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], "${MmRoleArn}");
    assert_eq!(e["AWS_ROLE_ARN"], "${MmRoleArn}");
    // no deploy-time rotation annotation: the secret sync sets it (own database user)
    assert!(d["spec"]["template"]["metadata"].get("annotations").is_none());
}

#[test]
fn efs_holds_only_the_plugin_directories() {
    let sc = seed().object("StorageClass", None);
    assert_eq!(sc["provisioner"], "efs.csi.aws.com");
    assert_eq!(sc["parameters"]["provisioningMode"], "efs-ap");
    assert_eq!(sc["parameters"]["fileSystemId"], "${EfsFileSystemId}");
    assert_eq!(sc["parameters"]["directoryPerms"], "700");
    let pvc = seed().object("PersistentVolumeClaim", None);
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
    assert_eq!(pvc["spec"]["storageClassName"], sc["metadata"]["name"]);
    let d = seed().object("Deployment", None);
    let on_efs: BTreeSet<&str> = container(&d)["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .filter(|m| m["name"] == "plugins")
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    assert_eq!(on_efs, BTreeSet::from(["/mattermost/plugins", "/mattermost/client/plugins"]));
}

#[test]
fn network_policies_open_only_what_the_arrows_draw() {
    let deny = seed().object("NetworkPolicy", Some("default-deny-all"));
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    let ingress = seed().object("NetworkPolicy", Some("mattermost-ingress-from-alb"));
    assert_eq!(ports(&ingress["spec"]["ingress"]), BTreeSet::from([("TCP".to_string(), 8065)]));
    let from: Vec<&str> = ingress["spec"]["ingress"][0]["from"]
        .as_array()
        .expect("from")
        .iter()
        .filter_map(|p| p["ipBlock"]["cidr"].as_str())
        .collect();
    assert_eq!(from, ["${PubSubnet1Cidr}", "${PubSubnet2Cidr}"], "the ALB's public subnets");
    let egress = seed().object("NetworkPolicy", Some("mattermost-egress"));
    let open = ports(&egress["spec"]["egress"]);
    let expected: BTreeSet<(String, i64)> =
        [("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 443)].iter().map(|(p, n)| (p.to_string(), *n)).collect();
    assert_eq!(open, expected, "DNS, RDS and the S3 API; no Redis for Team Edition");
    let db = egress["spec"]["egress"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["ports"][0]["port"] == 5432)
        .expect("5432 rule");
    assert_eq!(db["to"][0]["ipBlock"]["cidr"], "${PrivDataSubnet1Cidr}");
}

#[test]
fn load_balancer_controller_gets_an_irsa_service_account_and_helm_values() {
    let sa = seed().object("ServiceAccount", Some("aws-load-balancer-controller"));
    assert_eq!(sa["metadata"]["namespace"], "kube-system");
    assert_eq!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], "${LoadBalancerControllerRoleArn}");
    let values = seed().yaml("helm/aws-load-balancer-controller.values.yaml");
    assert_eq!(values["clusterName"], "${ClusterName}");
    assert_eq!(values["region"], "eu-north-1");
    assert_eq!(values["vpcId"], "${VpcId}");
    assert_eq!(values["serviceAccount"]["create"], false);
    assert_eq!(values["serviceAccount"]["name"], "aws-load-balancer-controller");
}

#[test]
fn placeholders_are_listed_with_a_source_and_only_inside_string_values() {
    let listed = seed().placeholders();
    let pattern = Regex::new(r"\$\{([A-Za-z][A-Za-z0-9]*)\}").expect("regex");
    let mut used = BTreeSet::new();
    for (path, text) in &seed().files {
        if !(path.starts_with("kubernetes/") || path.starts_with("helm/")) || !path.ends_with(".yaml") {
            continue;
        }
        for line in text.lines().filter(|l| l.trim_start().starts_with('#')) {
            assert!(!line.contains("${"), "{path}: a placeholder in a comment: {line}");
        }
        fn walk(v: &Value, path: &str, pattern: &Regex, used: &mut BTreeSet<String>) {
            match v {
                Value::String(s) => used.extend(pattern.captures_iter(s).map(|c| c[1].to_string())),
                Value::Array(items) => items.iter().for_each(|i| walk(i, path, pattern, used)),
                Value::Object(m) => {
                    for (k, v) in m {
                        assert!(!k.contains("${"), "{path}: a placeholder in a key: {k}");
                        walk(v, path, pattern, used);
                    }
                }
                _ => {}
            }
        }
        walk(&seed().yaml(path), path, &pattern, &mut used);
        // nothing looks like a placeholder but the placeholders
        assert_eq!(text.matches("${").count(), pattern.find_iter(text).count(), "{path}");
    }
    assert_eq!(used, listed.keys().cloned().collect::<BTreeSet<_>>(), "used = listed");
    for (name, source) in &listed {
        assert!(!source.is_empty(), "{name} has no source");
    }
    // named after the stacks' outputs
    for name in ["MmRoleArn", "S3BucketName", "EfsFileSystemId", "EcrRepositoryUri", "PubSubnet1Cidr", "VpcCidr"] {
        assert!(listed.contains_key(name), "{name}");
    }
    let readme = &seed().files["kubernetes/README.md"];
    for name in listed.keys() {
        assert!(readme.contains(&format!("`${{{name}}}`")), "README lacks {name}");
    }
}

#[test]
fn workflow_uses_oidc_pinned_actions_and_waits_for_the_rollout() {
    let text = &seed().files[".github/workflows/deploy.yml"];
    let wf = seed().yaml(".github/workflows/deploy.yml");
    assert_eq!(wf["permissions"]["contents"], "read");
    let job = &wf["jobs"]["build-and-deploy"];
    assert_eq!(job["permissions"]["id-token"], "write");
    assert_eq!(job["permissions"]["contents"], "read");
    assert_eq!(job["environment"], "production");
    assert_eq!(wf["concurrency"]["group"], "deploy-production");
    assert_eq!(wf["concurrency"]["cancel-in-progress"], false);
    assert_eq!(wf["on"]["push"]["branches"][0], "main");
    let steps = job["steps"].as_array().expect("steps");
    let pinned = Regex::new(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$").expect("regex");
    for s in steps.iter().filter_map(|s| s["uses"].as_str()) {
        assert!(pinned.is_match(s), "not pinned by SHA: {s}");
    }
    let aws = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials")))
        .expect("aws step");
    assert_eq!(aws["with"]["role-to-assume"], "${{ vars.AWS_DEPLOY_ROLE_ARN }}");
    assert_eq!(aws["with"]["aws-region"], "eu-north-1");
    assert!(!text.contains("aws-access-key-id") && !text.contains("secrets."), "no stored keys");
    assert!(steps.iter().any(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("aws-actions/amazon-ecr-login"))));
    let script: String = steps.iter().filter_map(|s| s["run"].as_str()).collect::<Vec<_>>().join("\n");
    assert!(script.contains("docker push") && script.contains("IMAGE_TAG"), "push tagged by commit");
    assert!(steps.iter().any(|s| s["env"]["IMAGE_TAG"] == "${{ github.sha }}"));
    assert!(script.contains("aws eks update-kubeconfig"));
    assert!(script.contains("set image") && script.contains("rollout status") && script.contains("--timeout="));
    assert!(wf["env"]["K8S_NAMESPACE"] == "mattermost" && wf["env"]["K8S_CONTAINER"] == "mattermost");
}

#[test]
fn output_is_deterministic() {
    let again = compile("seed-again", Input::File("examples/architecture.md"));
    assert_eq!(seed().files.keys().collect::<Vec<_>>(), again.files.keys().collect::<Vec<_>>());
    for (path, text) in &seed().files {
        assert!(again.files[path] == *text, "{path} differs between two compilations");
    }
}

#[test]
fn seed_manifests_and_workflow_snapshots() {
    for (path, text) in &seed().files {
        let wanted = path.starts_with("kubernetes/")
            || path.starts_with("helm/")
            || path.starts_with(".github/")
            || path == "Dockerfile";
        if wanted {
            insta::assert_snapshot!(format!("seed-{}", path.replace('/', "__")), text);
        }
    }
}

#[test]
fn gitea_gets_the_generic_profile_and_no_workflow_for_gitlab() {
    let g = gitea();
    assert!(!g.files.contains_key(".github/workflows/deploy.yml"));
    assert!(g.stderr.contains("GitHub Actions only"), "{}", g.stderr);
    let d = g.object("Deployment", None);
    let c = container(&d);
    assert_eq!(c["ports"][0]["containerPort"], 3000);
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/api/healthz");
    assert_eq!(c["image"], "${RegistryRepositoryUri}:${ImageTag}@${ImageDigest}");
    assert!(g.files["Dockerfile"].contains("\nFROM gitea/gitea:1.22.6-rootless\n"));
    assert!(d["spec"]["template"]["spec"]["securityContext"]["runAsUser"].as_i64().unwrap_or_default() >= 10000);
    let skips: Vec<&str> =
        d["metadata"]["annotations"].as_object().expect("annotations").values().filter_map(Value::as_str).collect();
    assert!(skips.iter().all(|s| !s.starts_with("CKV_K8S_40")), "a uid above 10000 needs no skip");
    assert_eq!(g.object("Service", None)["spec"]["type"], "NodePort", "as drawn");
    assert!(!g.has_kind("StorageClass"), "no EFS drawn");
    let e = env(&d);
    assert_eq!(e["S3_BUCKET"], "${UploadsBucketName}");
    assert!(e.contains_key("REDIS_ADDRESS"), "no edition forbids the cache");
    let egress = g.object("NetworkPolicy", Some("gitea-egress"));
    assert!(ports(&egress["spec"]["egress"]).contains(&("TCP".to_string(), 6379)));
    let ingress = g.object("NetworkPolicy", Some("gitea-ingress-from-lb"));
    assert_eq!(ingress["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"], "${EdgeSubnet1Cidr}");
    // two replicas (no edition limits it): a PDB that never equals the replica count
    let pdb = g.object("PodDisruptionBudget", None);
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert!(pdb["spec"].get("minAvailable").is_none());
}

#[test]
fn enterprise_edition_runs_a_cluster_with_redis() {
    let out = compile(
        "enterprise",
        Input::Text(seed_with(
            "app: {edition: enterprise, replicas: 3}\ndomain: chat.example.com\ncertificate_arn: arn:aws:acm:eu-north-1:111122223333:certificate/abc",
        )),
    );
    let d = out.object("Deployment", None);
    assert_eq!(d["spec"]["replicas"], 3);
    assert!(container(&d)["image"].is_string());
    let e = env(&d);
    assert_eq!(e["MM_CLUSTERSETTINGS_ENABLE"], "true");
    assert_eq!(e["MM_CACHESETTINGS_CACHETYPE"], "redis");
    assert_eq!(e["MM_CACHESETTINGS_REDISDB"], "0");
    assert_eq!(e["MM_CACHESETTINGS_REDISADDRESS"], "${CachePrimaryEndpointAddress}:${CachePrimaryEndpointPort}");
    assert_eq!(e["MM_SERVICESETTINGS_SITEURL"], "https://chat.example.com");
    let pdb = out.object("PodDisruptionBudget", None);
    assert_eq!(pdb["spec"]["maxUnavailable"], 1, "never a budget equal to the replica count");
    let hpa = out.object("HorizontalPodAutoscaler", None);
    assert_eq!(hpa["spec"]["minReplicas"], 3);
    assert!(hpa["spec"]["maxReplicas"].as_i64().unwrap_or_default() > 3);
    let egress = out.object("NetworkPolicy", Some("mattermost-egress"));
    assert!(ports(&egress["spec"]["egress"]).contains(&("TCP".to_string(), 6379)));
    assert!(out.has_kind("NetworkPolicy") && out.manifests().keys().any(|f| f.contains("mattermost-cluster")));
    let ingress = out.object("Ingress", None);
    assert_eq!(ingress["spec"]["rules"][0]["host"], "chat.example.com");
    assert!(ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/certificate-arn"]
        .as_str()
        .is_some_and(|a| a.starts_with("arn:aws:acm:")));
    let listed = out.placeholders();
    assert!(!listed.contains_key("Domain") && !listed.contains_key("CertificateArn"));
}

#[test]
fn one_replica_of_an_unknown_workload_gets_no_budget_and_no_autoscaler() {
    let text = std::fs::read_to_string(root().join("fixtures/architectures/gitea-us-west-2.md")).expect("gitea");
    let out = compile(
        "gitea-one",
        Input::Text(text.replace("  health_path: /api/healthz", "  health_path: /api/healthz\n  replicas: 1")),
    );
    assert_eq!(out.object("Deployment", None)["spec"]["replicas"], 1);
    assert!(!out.has_kind("PodDisruptionBudget") && !out.has_kind("HorizontalPodAutoscaler"));
}

/// A plausible value for a placeholder, by what its name says it is.
fn fake(name: &str) -> String {
    match name {
        "ImageDigest" => format!("sha256:{}", "ab".repeat(32)),
        "ImageTag" => "3f786850e387550fdab836ed7e6dc881de23001b".into(),
        "Domain" => "chat.example.com".into(),
        "ClusterName" => "mattermost".into(),
        "VpcId" => "vpc-0123456789abcdef0".into(),
        n if n.ends_with("Cidr") => "10.0.64.0/22".into(),
        n if n.ends_with("RoleArn") => "arn:aws:iam::111122223333:role/example".into(),
        "CertificateArn" => "arn:aws:acm:eu-north-1:111122223333:certificate/0f1e2d3c".into(),
        n if n.ends_with("RepositoryUri") => "111122223333.dkr.ecr.eu-north-1.amazonaws.com/mattermost".into(),
        n if n.ends_with("FileSystemId") => "fs-0123456789abcdef0".into(),
        n if n.ends_with("DataSource") => {
            "postgres://mmadmin:p%40ss%3Aw%23rd@db.example.eu-north-1.rds.amazonaws.com:5432/app?sslmode=verify-full&sslrootcert=/etc/ssl/rds/rds-ca-bundle.pem".into()
        }
        n if n.ends_with("Port") => "6379".into(),
        _ => "a-b-c".into(),
    }
}

fn fill(v: &Value, values: &BTreeMap<String, String>) -> Value {
    archc::plan::placeholders::fill(v, values).unwrap_or_else(|e| panic!("unfilled placeholders: {e:?}"))
}

#[test]
fn manifests_stay_schema_valid_once_the_placeholders_are_filled() {
    let values: BTreeMap<String, String> = seed().placeholders().keys().map(|n| (n.clone(), fake(n))).collect();
    // and a deploy with one value missing refuses the objects that need it, saying where
    let mut partial = values.clone();
    partial.remove("MmRoleArn");
    let refused: Vec<String> = seed()
        .manifests()
        .iter()
        .filter_map(|(file, o)| archc::plan::placeholders::fill(o, &partial).err().map(|e| format!("{file}: {}", e[0])))
        .collect();
    assert_eq!(
        refused,
        [
            "11-serviceaccount-mattermost.yaml: `MmRoleArn` at /metadata/annotations/eks.amazonaws.com~1role-arn",
            // AWS_ROLE_ARN of the explicitly projected IRSA token
            "40-deployment-mattermost.yaml: `MmRoleArn` at /spec/template/spec/containers/0/env/20/value",
        ]
    );
    let dir = scratch("rendered");
    let mut paths = Vec::new();
    for (file, object) in seed().manifests() {
        let path = dir.join(&file);
        std::fs::write(&path, serde_yaml::to_string(&fill(&object, &values)).expect("YAML")).expect("write");
        paths.push(path);
    }
    let out = std::process::Command::new(crate::judges::tool("kubernetes-validate"))
        .args(["--strict", "-k", crate::judges::KUBERNETES_VERSION])
        .args(&paths)
        .output()
        .expect("kubernetes-validate runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !text.contains("WARN") && !text.contains("ERROR"), "{text}");
}

#[test]
fn mattermost_without_s3_keeps_its_files_on_efs() {
    let text = std::fs::read_to_string(root().join("examples/architecture.md")).expect("seed");
    let out = compile("no-s3", Input::Text(text.replace("  mm --> s3\n", "")));
    let d = out.object("Deployment", None);
    let e = env(&d);
    assert_eq!(e["MM_FILESETTINGS_DRIVERNAME"], "local");
    assert!(e.keys().all(|k| !k.contains("AMAZONS3")));
    let claims: BTreeSet<String> = out
        .manifests()
        .values()
        .filter(|o| o["kind"] == "PersistentVolumeClaim")
        .map(|o| o["metadata"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(claims, BTreeSet::from(["mattermost-files".to_string(), "mattermost-plugins".to_string()]));
    let data: Vec<&Value> = container(&d)["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .filter(|m| m["mountPath"] == "/mattermost/data")
        .collect();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["name"], "files", "the file store is on EFS, not an emptyDir");
    // no AWS API arrow left: no IAM role, no 443 out
    assert!(e.keys().all(|k| !k.starts_with("AWS_")));
    let egress = out.object("NetworkPolicy", Some("mattermost-egress"));
    assert!(!ports(&egress["spec"]["egress"]).contains(&("TCP".to_string(), 443)));
}

fn two_workloads() -> &'static Output {
    static TWO: OnceLock<Output> = OnceLock::new();
    TWO.get_or_init(|| compile("two-workloads", Input::File("fixtures/architectures/eks-two-workloads-cronjob.md")))
}

/// Every workload box besides the application's gets its own identity, Deployment, Service and
/// egress policy, from its `nodes.<id>:` settings; its ServiceAccount is the one its IRSA role trusts.
#[test]
fn a_second_deployment_gets_its_own_objects_from_its_node_settings() {
    let out = two_workloads();
    let sa = out.object("ServiceAccount", Some("worker"));
    assert_eq!(sa["metadata"]["namespace"], "shop", "the namespace comes from `name:`");
    assert_eq!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], "${WorkerRoleArn}");
    assert_eq!(sa["automountServiceAccountToken"], false);
    let data = &out.files["cloudformation/data.yaml"];
    assert!(
        data.contains("  WorkerServiceAccount:\n    Type: String\n    Default: worker\n"),
        "the role trusts that ServiceAccount"
    );
    let d = out.object("Deployment", Some("worker"));
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["template"]["spec"]["serviceAccountName"], "worker");
    let c = container(&d);
    assert_eq!(c["image"], "ghcr.io/acme/upload-worker:2.3.1@${WorkerImageDigest}");
    assert_eq!(c["ports"][0]["containerPort"], 9000);
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/ready");
    assert_eq!(c["resources"]["limits"]["cpu"], "500m");
    assert_eq!(c["resources"]["requests"]["memory"], "512Mi");
    let sc = &c["securityContext"];
    assert_eq!((&sc["runAsNonRoot"], &sc["readOnlyRootFilesystem"]), (&Value::Bool(true), &Value::Bool(true)));
    assert_eq!(sc["capabilities"]["drop"][0], "ALL");
    let env = env(&d);
    assert_eq!(env["QUEUE_POLL_SECONDS"], "5");
    assert_eq!(env["AWS_ROLE_ARN"], "${WorkerRoleArn}");
    let svc = out.object("Service", Some("worker"));
    assert_eq!(svc["spec"]["ports"][0]["port"], 9000);
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    let np = out.object("NetworkPolicy", Some("worker-egress"));
    let egress = ports(&np["spec"]["egress"]);
    for want in [("TCP", 53), ("UDP", 53), ("TCP", 5432), ("TCP", 443)] {
        assert!(egress.contains(&(want.0.to_string(), want.1)), "worker egress lacks {want:?}: {egress:?}");
    }
    assert!(!egress.contains(&("TCP".to_string(), 6379)), "worker draws no arrow to the cache");
    assert!(np["spec"].get("ingress").is_none(), "nothing draws an arrow into the worker");
    // CI rolls the application out, then waits for every other workload too
    let workflow = &out.files[".github/workflows/deploy.yml"];
    assert!(workflow.contains("kubectl -n \"$K8S_NAMESPACE\" rollout status deployment/worker --timeout=10m"));
    // the application keeps its own path
    assert_eq!(out.object("Deployment", Some("api"))["spec"]["template"]["spec"]["serviceAccountName"], "api");
}

#[test]
fn a_cronjob_runs_on_its_schedule_never_overlapping_with_the_deployments_security_context() {
    let out = two_workloads();
    let cj = out.object("CronJob", Some("report"));
    let spec = &cj["spec"];
    assert_eq!(spec["schedule"], "30 2 * * *");
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    assert_eq!((&spec["successfulJobsHistoryLimit"], &spec["failedJobsHistoryLimit"]), (&3.into(), &3.into()));
    let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["serviceAccountName"], "report");
    assert_eq!(pod["automountServiceAccountToken"], false);
    let c = &pod["containers"][0];
    assert_eq!(c["command"], serde_json::json!(["/app/report", "--since=24h"]));
    assert_eq!(c["resources"]["limits"]["memory"], "1Gi");
    let sc = &c["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    assert!(c.get("livenessProbe").is_none(), "a job has no probes");
    assert!(!out.has_kind("Job"), "the CronJob makes the Jobs");
    assert!(out.stderr.contains("`report` runs with what archc assumed: cpu 250m"), "{}", out.stderr);
}

#[test]
fn a_cronjob_without_a_schedule_is_a_finding_and_no_object() {
    let text = std::fs::read_to_string(root().join("fixtures/architectures/eks-two-workloads-cronjob.md"))
        .expect("fixture")
        .replace("    schedule: \"30 2 * * *\"\n", "");
    let out = compile("cronjob-no-schedule", Input::Text(text));
    let cronjobs: Vec<String> = out
        .manifests()
        .into_values()
        .filter(|o| o["kind"] == "CronJob")
        .map(|o| o["metadata"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        cronjobs,
        ["api-db-secret-sync"],
        "the drawn `report` is not built; the secret sync of `api` is archc's own"
    );
    assert!(out.stderr.contains("PLN007") && out.stderr.contains("has no schedule"), "{}", out.stderr);
    assert_eq!(out.object("Deployment", Some("worker"))["kind"], "Deployment", "the others are still built");
}

#[test]
fn two_workloads_manifests_snapshots() {
    for (path, text) in &two_workloads().files {
        if path.starts_with("kubernetes/") {
            insta::assert_snapshot!(format!("two-workloads-{}", path.replace('/', "__")), text);
        }
    }
}

fn k8s_only() -> &'static Output {
    static K8S: OnceLock<Output> = OnceLock::new();
    K8S.get_or_init(|| compile("k8s-only", Input::File("fixtures/architectures/k8s-only-app.md")))
}

/// No AWS drawn: manifests only, nothing of AWS in them, an Ingress any conformant controller serves.
#[test]
fn a_kubernetes_only_diagram_gets_manifests_without_aws() {
    let out = k8s_only();
    assert!(!out.files.keys().any(|f| f.starts_with("cloudformation/") && f.ends_with(".yaml")), "no stacks");
    assert!(!out.files.keys().any(|f| f.starts_with(".github/")), "no workflow: nothing to deploy to");
    for (file, text) in out.files.iter().filter(|(f, _)| f.starts_with("kubernetes/") && f.ends_with(".yaml")) {
        for aws in ["eks.amazonaws.com", "alb.ingress", "service.beta.kubernetes.io/aws", "RoleArn", "Subnet"] {
            assert!(!text.contains(aws), "{file} mentions {aws}");
        }
    }
    let ing = out.object("Ingress", Some("server"));
    assert_eq!(ing["spec"]["ingressClassName"], "nginx");
    assert!(ing["metadata"].get("annotations").is_none(), "no vendor annotations");
    assert_eq!(ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"], 3000);
    let np = out.object("NetworkPolicy", Some("server-ingress-from-controller"));
    assert_eq!(
        np["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "ingress-nginx"
    );
    let text = std::fs::read_to_string(root().join("fixtures/architectures/k8s-only-app.md")).expect("fixture");
    let traefik = compile(
        "k8s-only-traefik",
        Input::Text(text.replace(
            "  replicas: 2\nnodes:",
            "  replicas: 2\n  ingress_class: traefik\n  ingress_namespace: kube-system\nnodes:",
        )),
    );
    assert_eq!(traefik.object("Ingress", Some("server"))["spec"]["ingressClassName"], "traefik");
}

/// A database and a cache drawn as pods become StatefulSets with a claim per pod, reachable
/// only from the workloads whose arrows reach them.
#[test]
fn in_cluster_postgres_and_redis_become_stateful_sets_with_claims() {
    let out = k8s_only();
    let pg = out.object("StatefulSet", Some("pg"));
    assert_eq!(pg["spec"]["serviceName"], "pg");
    assert_eq!(pg["spec"]["replicas"], 1);
    let claim = &pg["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteOnce");
    assert!(claim["spec"].get("storageClassName").is_none(), "the cluster's default class");
    let c = container(&pg);
    assert!(c["image"].as_str().is_some_and(|i| i.starts_with("postgres:17.6@${PgImageDigest}")), "{}", c["image"]);
    assert_eq!(c["readinessProbe"]["tcpSocket"]["port"], "tcp");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    let env = env(&pg);
    assert_eq!(env["POSTGRES_PASSWORD_FILE"], "/etc/credentials/password");
    assert!(!env.contains_key("POSTGRES_PASSWORD"), "the password is a file, never a variable");
    assert_eq!(out.object("Secret", Some("pg-credentials"))["stringData"]["password"], "${PgPassword}");
    let svc = out.object("Service", Some("pg"));
    assert_eq!(svc["spec"]["clusterIP"], "None");
    let ingress = out.object("NetworkPolicy", Some("pg-ingress"));
    let from: BTreeSet<String> = ingress["spec"]["ingress"][0]["from"]
        .as_array()
        .expect("from")
        .iter()
        .map(|p| p["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(from, BTreeSet::from(["server".to_string(), "worker".to_string()]));
    let egress = out.object("NetworkPolicy", Some("worker-to-redis"));
    assert_eq!(egress["spec"]["egress"][0]["ports"][0]["port"], 6379);
    assert_eq!(
        out.object("StatefulSet", Some("redis"))["spec"]["template"]["spec"]["containers"][0]["ports"][0]
            ["containerPort"],
        6379
    );
}

#[test]
fn k8s_only_manifests_snapshots() {
    for (path, text) in &k8s_only().files {
        if path.starts_with("kubernetes/") {
            insta::assert_snapshot!(format!("k8s-only-{}", path.replace('/', "__")), text);
        }
    }
}

fn nlb_fixture() -> &'static Output {
    static NLB: OnceLock<Output> = OnceLock::new();
    NLB.get_or_init(|| {
        compile("nlb-statefulset-fargate", Input::File("fixtures/architectures/eks-nlb-statefulset-fargate.md"))
    })
}

/// An NLB in front of an EKS workload is a Service of type LoadBalancer for the AWS Load
/// Balancer Controller: ip targets, the scheme as drawn, TLS on 443 with the certificate.
#[test]
fn an_nlb_in_front_of_eks_is_a_load_balancer_service_for_the_controller() {
    let out = nlb_fixture();
    let svc = out.object("Service", Some("ingest-nlb"));
    assert_eq!(svc["spec"]["type"], "LoadBalancer");
    assert_eq!(svc["spec"]["loadBalancerClass"], "service.k8s.aws/nlb");
    let a = &svc["metadata"]["annotations"];
    assert_eq!(a["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip");
    assert_eq!(a["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internet-facing", "drawn in a public subnet");
    assert!(a["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"]
        .as_str()
        .is_some_and(|c| c.starts_with("arn:aws:acm:")));
    assert_eq!(a["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"], "443");
    assert_eq!((&svc["spec"]["ports"][0]["port"], &svc["spec"]["ports"][0]["targetPort"]), (&443.into(), &8443.into()));
    let np = out.object("NetworkPolicy", Some("ingest-ingress-from-nlb"));
    assert_eq!(np["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"], "${PubSubnet1Cidr}");
    assert!(out.has_kind("ServiceAccount") && out.files.contains_key("helm/aws-load-balancer-controller.values.yaml"));
    let internal = compile(
        "nlb-internal",
        Input::Text(
            std::fs::read_to_string(root().join("fixtures/architectures/eks-nlb-statefulset-fargate.md"))
                .expect("fixture")
                .replace("        nlb[Network Load Balancer]\n", "")
                .replace("        ng[Node group]\n", "        ng[Node group]\n        nlb[Network Load Balancer]\n")
                .replace("  devices --> nlb --> ingest\n", "  nlb --> ingest\n"),
        ),
    );
    let svc = internal.object("Service", Some("ingest-nlb"));
    assert_eq!(svc["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internal");
}

/// A StatefulSet on EKS claims encrypted gp3 volumes through the EBS CSI add-on, whose IRSA role
/// the cluster stack has; a CronJob drawn in a Fargate profile box is selected by that profile.
#[test]
fn eks_stateful_sets_get_encrypted_gp3_and_fargate_profiles_select_their_workloads() {
    let out = nlb_fixture();
    let class = out.object("StorageClass", Some("gp3-encrypted"));
    assert_eq!(class["provisioner"], "ebs.csi.aws.com");
    assert_eq!((&class["parameters"]["type"], &class["parameters"]["encrypted"]), (&"gp3".into(), &"true".into()));
    assert_eq!(class["volumeBindingMode"], "WaitForFirstConsumer");
    let set = out.object("StatefulSet", Some("broker"));
    assert_eq!(set["spec"]["replicas"], 3);
    assert_eq!(set["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], "gp3-encrypted");
    assert_eq!(container(&set)["ports"][0]["containerPort"], 4222);
    let cluster = &out.files["cloudformation/cluster.yaml"];
    for want in [
        "  EbsCsiDriverAddon:\n    Type: AWS::EKS::Addon",
        "AddonName: aws-ebs-csi-driver",
        "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        "  Fp:\n    Type: AWS::EKS::FargateProfile",
        "service-role/AmazonEKSFargatePodExecutionRolePolicy",
        "eks-fargate-pods.amazonaws.com",
        "        - Namespace: telemetry\n          Labels:\n            - Key: app.kubernetes.io/name\n              Value: compact\n",
    ] {
        assert!(cluster.contains(want), "cluster stack lacks {want:?}");
    }
    let profile = &cluster[cluster.find("  Fp:\n").unwrap_or(0)..];
    let subnets = &profile[profile.find("Subnets:").unwrap_or(0)..profile.find("Selectors:").unwrap_or(0)];
    assert!(subnets.contains("AppSubnet1Id") && !subnets.contains("Pub"), "private subnets only: {subnets}");
    assert_eq!(out.object("CronJob", Some("compact"))["spec"]["schedule"], "15 * * * *");
}

#[test]
fn nlb_statefulset_fargate_manifests_snapshots() {
    for (path, text) in &nlb_fixture().files {
        if path.starts_with("kubernetes/") || path.starts_with("helm/") {
            insta::assert_snapshot!(format!("nlb-fargate-{}", path.replace('/', "__")), text);
        }
    }
}

/// A ConfigMap and a volume drawn attached to a workload are built as drawn and given to it.
#[test]
fn a_drawn_config_map_and_volume_are_given_to_the_workload_they_are_attached_to() {
    let out = k8s_only();
    let cm = out.object("ConfigMap", Some("cfg"));
    assert_eq!(cm["data"]["QUEUE_CONCURRENCY"], "4");
    let pvc = out.object("PersistentVolumeClaim", Some("scratch"));
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteOnce");
    assert!(pvc["spec"].get("storageClassName").is_none(), "the cluster's default class without AWS");
    let worker = out.object("Deployment", Some("worker"));
    let c = container(&worker);
    assert_eq!(c["envFrom"][0]["configMapRef"]["name"], "cfg");
    assert!(c["volumeMounts"].as_array().expect("mounts").iter().any(|m| m["mountPath"] == "/mnt/scratch"));
    let volumes = worker["spec"]["template"]["spec"]["volumes"].as_array().expect("volumes");
    assert!(volumes.iter().any(|v| v["persistentVolumeClaim"]["claimName"] == "scratch"));
    assert!(
        container(&out.object("Deployment", Some("server"))).get("envFrom").is_none(),
        "only the attached workload"
    );
}

/// In a diagram of several workloads the application may be configured by `nodes.<id>:` as
/// well as by `app:`: the same settings give the same objects.
#[test]
fn the_application_takes_its_node_settings_as_it_takes_app() {
    let text =
        std::fs::read_to_string(root().join("fixtures/architectures/eks-two-workloads-cronjob.md")).expect("fixture");
    let app =
        "app:\n  image: ghcr.io/acme/shop-api:2.3.1\n  port: 8080\n  health_path: /healthz\n  replicas: 2\nnodes:\n";
    assert!(text.contains(app));
    let by_node = text.replace(
        app,
        "nodes:\n  api:\n    image: ghcr.io/acme/shop-api:2.3.1\n    port: 8080\n    health_path: /healthz\n    replicas: 2\n",
    );
    let out = compile("two-workloads-by-node", Input::Text(by_node));
    for (path, text) in two_workloads().files.iter().filter(|(p, _)| p.starts_with("kubernetes/") || *p == "Dockerfile")
    {
        assert_eq!(out.files.get(path), Some(text), "{path} differs");
    }
}

#[test]
fn email_is_off_until_app_smtp_names_a_server_then_the_port_opens_and_mattermost_uses_it() {
    // the seed configures no mail server: an info at the workload, no mail port, no settings
    assert!(
        seed().stderr.contains("PLN007") && seed().stderr.contains("email is off: `app.smtp` is not set"),
        "{}",
        seed().stderr
    );
    let d = seed().object("Deployment", None);
    assert!(env(&d).keys().all(|k| !k.starts_with("MM_EMAILSETTINGS")));
    let egress = seed().object("NetworkPolicy", Some("mattermost-egress"));
    assert!(!ports(&egress["spec"]["egress"]).contains(&("TCP".to_string(), 587)));

    let out = compile("smtp", Input::Text(seed_with("app: {smtp: {host: email-smtp.eu-north-1.amazonaws.com}}")));
    assert!(!out.stderr.contains("email is off"), "{}", out.stderr);
    let e = env(&out.object("Deployment", None));
    assert_eq!(e["MM_EMAILSETTINGS_SMTPSERVER"], "email-smtp.eu-north-1.amazonaws.com");
    assert_eq!(e["MM_EMAILSETTINGS_SMTPPORT"], "587", "the profile's port");
    assert_eq!(e["MM_EMAILSETTINGS_CONNECTIONSECURITY"], "STARTTLS");
    assert_eq!(e["MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS"], "true");
    assert!(e.keys().all(|k| !k.contains("PASSWORD")), "no SMTP password in the manifest");
    let egress = out.object("NetworkPolicy", Some("mattermost-egress"));
    let rule = egress["spec"]["egress"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["ports"][0]["port"] == 587)
        .expect("a rule for the mail port")
        .clone();
    assert_eq!(rule["ports"].as_array().map(Vec::len), Some(1));
    assert_eq!(rule["to"][0]["ipBlock"]["cidr"], "0.0.0.0/0");
    assert_eq!(rule["to"][0]["ipBlock"]["except"][0], "${VpcCidr}");
    let readme = &out.files["kubernetes/README.md"];
    assert!(readme.contains("## Email") && readme.contains("`email-smtp.eu-north-1.amazonaws.com`"), "{readme}");

    // another port: implicit TLS on 465
    let out = compile("smtps", Input::Text(seed_with("app: {smtp: {host: smtp.example.com, port: 465}}")));
    let e = env(&out.object("Deployment", None));
    assert_eq!(e["MM_EMAILSETTINGS_SMTPPORT"], "465");
    assert_eq!(e["MM_EMAILSETTINGS_CONNECTIONSECURITY"], "TLS");
    let egress = out.object("NetworkPolicy", Some("mattermost-egress"));
    assert!(ports(&egress["spec"]["egress"]).contains(&("TCP".to_string(), 465)));
    assert!(!ports(&egress["spec"]["egress"]).contains(&("TCP".to_string(), 587)));
}

/// PostgreSQL: the application connects as a user of its own, which the secret sync makes as
/// the master user and whose DSN it writes; nothing deploy-time is built from the master secret.
#[test]
fn the_application_has_its_own_database_user_made_by_the_secret_sync() {
    let err = &seed().stderr;
    assert!(!err.contains("master user"), "no master-user warning: {err}");
    let plan: Value = serde_json::from_str(&seed().files["plan.json"]).expect("plan.json");
    let values = &plan["kubernetes"]["deploy_values"];
    assert!(values.get("RdsDataSource").is_none() && values.get("RdsSecretVersionId").is_none(), "{values}");
    // the manifests carry neither the DSN nor the version the sync sets (no apply undoes it)
    let secret = seed().object("Secret", Some("mattermost-rds"));
    assert!(secret.get("stringData").is_none(), "{secret}");
    let d = seed().object("Deployment", None);
    assert!(d["spec"]["template"]["metadata"].get("annotations").is_none(), "{d}");
    // `archc deploy` runs the sync once right after applying it
    let entry = plan["kubernetes"]["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["kind"] == "CronJob")
        .expect("the CronJob in plan.json")
        .clone();
    assert_eq!(entry["run_at_deploy"], true);
    assert!(
        plan["kubernetes"]["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter(|o| o.get("run_at_deploy").is_some())
            .count()
            == 1
    );

    // the sync: every 15 minutes, one at a time, its script from the ConfigMap
    let job = seed().object("CronJob", Some("mattermost-db-secret-sync"));
    let spec = &job["spec"];
    assert_eq!(spec["schedule"], "*/15 * * * *");
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "mattermost-db-secret-sync");
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "public.ecr.aws/docker/library/python:3.14-alpine");
    assert_eq!(c["command"], serde_json::json!(["python3", "/opt/archc/db-secret-sync.py"]));
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    let e: BTreeMap<String, Value> = c["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|v| (v["name"].as_str().unwrap_or_default().to_string(), v.get("value").cloned().unwrap_or_default()))
        .collect();
    assert_eq!(e["SECRET_ARN"], "${RdsSecretArn}");
    assert_eq!(e["APP_SECRET_ARN"], "${RdsAppUserSecretArn}");
    assert_eq!(e["USER_ANNOTATION"], "archc/db-user-version");
    assert_eq!(e["DB_CA_FILE"], "/etc/ssl/rds/rds-ca-bundle.pem");
    assert_eq!(e["AWS_ROLE_ARN"], "${MmDbSecretSyncRoleArn}");
    assert_eq!(e["SECRET_NAME"], "mattermost-rds");
    assert_eq!(e["DEPLOYMENT_NAME"], "mattermost");
    assert_eq!(e["VERSION_ANNOTATION"], "archc/db-secret-version");
    assert!(e["DSN_TEMPLATE"]
        .as_str()
        .unwrap_or_default()
        .starts_with("postgres://<user>:<password>@<host>:<port>/<dbname>?sslmode=verify-full"));
    // it verifies the database's certificate with the bundle the application mounts
    let mount =
        c["volumeMounts"].as_array().expect("mounts").iter().find(|m| m["name"] == "rds-ca").expect("CA").clone();
    assert_eq!((mount["mountPath"].as_str(), mount["readOnly"].as_bool()), (Some("/etc/ssl/rds"), Some(true)));
    let volume =
        pod["volumes"].as_array().expect("volumes").iter().find(|v| v["name"] == "rds-ca").expect("CA").clone();
    assert_eq!(volume["configMap"]["name"], "mattermost-rds-ca");
    let script = seed().object("ConfigMap", Some("mattermost-db-secret-sync"));
    assert_eq!(script["data"]["db-secret-sync.py"], archc_sync_script());
    // it may read and patch one Secret and one Deployment, nothing else
    let role = seed().object("Role", Some("mattermost-db-secret-sync"));
    assert_eq!(
        role["rules"],
        serde_json::json!([
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["mattermost-rds"], "verbs": ["get", "patch"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["mattermost"], "verbs": ["get", "patch"]},
        ])
    );
    let binding = seed().object("RoleBinding", Some("mattermost-db-secret-sync"));
    assert_eq!(binding["subjects"][0]["name"], "mattermost-db-secret-sync");
    let sa = seed().object("ServiceAccount", Some("mattermost-db-secret-sync"));
    assert_eq!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], "${MmDbSecretSyncRoleArn}");
    // out: DNS, 443 (STS, Secrets Manager) and the database's port to its subnets only
    let egress = seed().object("NetworkPolicy", Some("mattermost-db-secret-sync-egress"));
    assert_eq!(egress["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], "mattermost-db-secret-sync");
    assert!(ports(&egress["spec"]["egress"]).contains(&("TCP".to_string(), 443)));
    let db_rule = egress["spec"]["egress"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["ports"][0]["port"] == 5432)
        .expect("a rule for the database")
        .clone();
    let cidrs: Vec<&str> =
        db_rule["to"].as_array().expect("to").iter().filter_map(|p| p["ipBlock"]["cidr"].as_str()).collect();
    assert_eq!(cidrs, ["${PrivDataSubnet1Cidr}", "${PrivDataSubnet2Cidr}"]);

    // the data stack: the user's secret (generated, the data key, kept with the database) and
    // the sync's role, which reads both secrets and decrypts through Secrets Manager only
    let data = crate::emit_cloudformation::untag(
        serde_yaml::from_str(&seed().files["cloudformation/data.yaml"]).expect("data stack"),
    );
    let user = &data["Resources"]["RdsAppUserSecret"];
    assert_eq!(user["Type"], "AWS::SecretsManager::Secret");
    assert_eq!(user["DeletionPolicy"], "RetainExceptOnCreate");
    let generate = &user["Properties"]["GenerateSecretString"];
    assert_eq!(generate["SecretStringTemplate"], r#"{"username":"mattermost"}"#);
    assert_eq!(
        (generate["GenerateStringKey"].as_str(), generate["ExcludePunctuation"].as_bool()),
        (Some("password"), Some(true))
    );
    assert!(generate["PasswordLength"].as_u64().is_some_and(|n| n >= 32));
    assert_eq!(user["Properties"]["KmsKeyId"]["Fn::GetAtt"], serde_json::json!(["DataKmsKey", "Arn"]));
    assert_eq!(data["Outputs"]["RdsAppUserSecretArn"]["Value"]["Ref"], "RdsAppUserSecret");
    let role = &data["Resources"]["MmDbSecretSyncRole"]["Properties"];
    let statements = role["Policies"][0]["PolicyDocument"]["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0]["Action"], "secretsmanager:GetSecretValue");
    assert_eq!(
        statements[0]["Resource"],
        serde_json::json!([{"Fn::GetAtt": ["Rds", "MasterUserSecret.SecretArn"]}, {"Ref": "RdsAppUserSecret"}])
    );
    assert_eq!(statements[1]["Action"], "kms:Decrypt");
    assert!(statements[1]["Condition"]["StringEquals"]["kms:ViaService"].is_object());
    assert!(role["AssumeRolePolicyDocument"]["Fn::Sub"]
        .as_str()
        .is_some_and(|t| t.contains("system:serviceaccount:${KubernetesNamespace}:${MmDbSecretSyncServiceAccount}")));

    // the READMEs say what happens and what an operator does
    let readme = &seed().files["kubernetes/README.md"];
    assert!(readme.contains("## Database user and secret"), "{readme}");
    assert!(readme.contains("kubectl create job --from=cronjob/mattermost-db-secret-sync"), "{readme}");
    assert!(!readme.contains("**Application user.**") && !readme.contains("archc builds no sync yet"), "{readme}");
    let cfn = &seed().files["cloudformation/README.md"];
    assert!(
        cfn.contains("own database user `mattermost`")
            && cfn.contains("put-secret-value --secret-id <RdsAppUserSecretArn>"),
        "{cfn}"
    );

    // configured: another name; the master's own name keeps the master user (and says so)
    let out = compile("app-user", Input::Text(seed_with("database: {app_user: chat}")));
    assert!(out.files["cloudformation/data.yaml"].contains(r#"{\"username\":\"chat\"}"#));
    let out = compile("app-user-master", Input::Text(seed_with("database: {username: chat, app_user: chat}")));
    assert!(out.stderr.contains("`mm` connects to `rds` as its RDS master user"), "{}", out.stderr);
    assert!(!out.files["cloudformation/data.yaml"].contains("AppUserSecret"));
}

/// MySQL: no application user is built (the sync speaks PostgreSQL only): the application
/// connects as the master user, which a warning at the arrow says; the deploy builds the DSN
/// from the master secret and the sync follows its rotations.
#[test]
fn with_mysql_the_master_user_is_said_at_the_arrow_and_the_sync_follows_its_rotation() {
    let out = compile("mysql-sync", Input::File("fixtures/review/engine-change/new.md"));
    let err = &out.stderr;
    assert!(
        err.contains("`mm` connects to `rds` as its RDS master user: a dedicated application user is not built")
            && err.contains("mattermost-db-secret-sync keeps the DSN in step"),
        "{err}"
    );
    let readme = &out.files["kubernetes/README.md"];
    assert!(readme.contains("The CronJob `mattermost-db-secret-sync`") && readme.contains("**Application user.**"));
    assert!(!readme.contains("## Database user and secret"), "{readme}");
    let secret = out.object("Secret", Some("mattermost-rds"));
    assert_eq!(secret["stringData"]["datasource"], "${RdsDataSource}");
    let d = out.object("Deployment", None);
    assert_eq!(d["spec"]["template"]["metadata"]["annotations"]["archc/db-secret-version"], "${RdsSecretVersionId}");
    let role = out.object("Role", Some("mattermost-db-secret-sync"));
    assert_eq!(role["rules"][0]["verbs"], serde_json::json!(["patch"]));
    let job = out.object("CronJob", Some("mattermost-db-secret-sync"));
    let env = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"].clone();
    assert!(env.as_array().expect("env").iter().all(|v| v["name"] != "APP_SECRET_ARN"), "{env}");
    let plan: Value = serde_json::from_str(&out.files["plan.json"]).expect("plan.json");
    assert!(plan["kubernetes"]["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .all(|o| o.get("run_at_deploy").is_none()));
    assert!(!out.files["cloudformation/data.yaml"].contains("AppUserSecret"));
}

/// The sync's script as archc ships it.
fn archc_sync_script() -> String {
    std::fs::read_to_string(root().join("targets/kubernetes/db-secret-sync.py")).expect("script")
}

/// Without a NAT gateway the sync's public image cannot be pulled: a warning at the arrow to
/// the database says so and how to give an image from the account's own ECR, which then runs
/// without a word; the Secrets Manager endpoint the sync calls is added either way.
#[test]
fn the_secret_sync_behind_vpc_endpoints_needs_an_image_it_can_pull() {
    const PRIVATE: &str = "fixtures/architectures/mattermost-private-endpoints.md";
    let out = compile("sync-private", Input::File(PRIVATE));
    assert!(
        out.stderr.contains("draws VPC endpoints but no NAT gateway: its nodes cannot pull it")
            && out.stderr.contains("secret_sync_image"),
        "{}",
        out.stderr
    );
    let network = &out.files["cloudformation/network.yaml"];
    assert!(network.contains("com.amazonaws.${AWS::Region}.secretsmanager"), "the sync's endpoint");
    assert!(network.contains("secretsmanager (the database secret sync on the nodes reads the RDS-managed secret)"));

    let image = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/python:3.14-alpine";
    let text = std::fs::read_to_string(root().join(PRIVATE)).expect("fixture");
    let out = compile(
        "sync-private-image",
        Input::Text(format!("{text}\n```yaml archc\napp: {{secret_sync_image: {image}}}\n```\n")),
    );
    assert!(!out.stderr.contains("cannot pull it"), "{}", out.stderr);
    let job = out.object("CronJob", Some("mattermost-db-secret-sync"));
    assert_eq!(job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"], image);
}

/// The application logs to standard output only: its logs directory is an emptyDir with a
/// size limit, and a pod whose emptyDir outgrows it is evicted.
#[test]
fn the_application_logs_to_standard_output_not_to_a_bounded_volume() {
    let e = env(&seed().object("Deployment", None));
    for (k, v) in [
        ("MM_LOGSETTINGS_ENABLEFILE", "false"),
        ("MM_LOGSETTINGS_ENABLECONSOLE", "true"),
        ("MM_LOGSETTINGS_CONSOLEJSON", "true"),
        ("MM_NOTIFICATIONLOGSETTINGS_ENABLEFILE", "false"),
        ("MM_NOTIFICATIONLOGSETTINGS_ENABLECONSOLE", "true"),
    ] {
        assert_eq!(e[k], v, "{k}");
    }
}

/// MySQL: go-sql-driver decodes nothing in the DSN, so user and password go in as they are,
/// and its `tls=true` verifies against the system's roots: the RDS CA bundle is mounted and
/// listed in `SSL_CERT_DIR` (Go reads every directory it names).
#[test]
fn a_mysql_dsn_takes_the_password_as_it_is_and_trusts_the_rds_cas() {
    let out = compile("mysql", Input::File("fixtures/review/engine-change/new.md"));
    let d = out.object("Deployment", None);
    let e = env(&d);
    assert_eq!(e["SSL_CERT_DIR"], "/etc/ssl/certs:/etc/ssl/rds");
    assert_eq!(e["MM_SQLSETTINGS_DRIVERNAME"], "mysql");
    let mounts = container(&d)["volumeMounts"].as_array().expect("mounts").clone();
    assert!(mounts.iter().any(|m| m["mountPath"] == "/etc/ssl/rds" && m["readOnly"] == true), "{mounts:?}");
    let ca = out.object("ConfigMap", Some("mattermost-rds-ca"));
    assert!(ca["data"]["rds-ca-bundle.pem"].as_str().is_some_and(|p| p.contains("BEGIN CERTIFICATE")));
    let plan: Value = serde_json::from_str(&out.files["plan.json"]).expect("plan.json");
    let template = plan["kubernetes"]["deploy_values"]["RdsDataSource"]["dsn"]["template"].as_str().expect("template");
    assert!(template.starts_with("<user:raw>:<password:raw>@tcp(<host>:<port>)/<dbname>?"), "{template}");
    assert!(template.contains("tls=true"), "{template}");
}
