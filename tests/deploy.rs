//! `archc deploy` / `archc destroy` end to end, through the binary:
//!
//! - against moto (`moto_server`, installed pinned by `scripts/install-tools`, started here on
//!   a free port of 127.0.0.1 and stopped at the end of each test): the network-only fixture
//!   through create, an unchanged redeploy (up to date), a diagram change (shown by a dry run
//!   with a change set, then applied as an update) and destroy, checked with the SDK's
//!   describe calls; and the seed's `--dry-run`, which lists every resource and creates
//!   nothing. moto's change sets cannot carry a deploy (executing one sets no outputs; an
//!   UPDATE one corrupts the stack), so the executing runs use `--method direct`;
//! - against a scripted AWS (the CloudFormation, EKS, ECR and Secrets Manager response
//!   documents of AWS's API reference) and a Kubernetes API server double: the seed deployed
//!   all the way to its URL, with the server-side apply requests checked.
//!
//! No AWS account and no Kubernetes API server are reached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use archc_deploy::aws_sdk_cloudformation as cfn;
use serde_json::Value;

use crate::test::{root, scratch, Test};

/// moto_server on a free port of 127.0.0.1, stopped on drop.
struct Moto {
    child: Child,
    url: String,
}

fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("ARCHC_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let installed = Path::new(&home).join(".cache/archc-tools/moto-venv/bin/moto_server");
    if installed.exists() {
        return installed;
    }
    panic!("moto_server not found: run scripts/install-tools (scripts/test does), which installs moto[server]==5.2.5 and sets ARCHC_MOTO_SERVER");
}

impl Moto {
    fn start(name: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let log = std::fs::File::create(scratch(&format!("moto-{name}")).join("moto.log")).expect("log file");
        // moto_server's own Python runs it through tests/moto/serve.py, which closes a gap of
        // moto's (tagged KMS keys fail CreateStack; see that file)
        let server = moto_server();
        let python = server.with_file_name("python");
        assert!(
            python.exists(),
            "{} has no python beside it: install moto[server] in a virtualenv (scripts/install-tools does)",
            server.display()
        );
        let child = Command::new(python)
            .arg(root().join("tests/moto/serve.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("moto_server starts");
        let moto = Self { child, url: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "moto_server did not listen on {port} within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The SDK's configuration for this moto: its URL, eu-north-1, test credentials.
    fn config(&self) -> archc_deploy::aws_config::SdkConfig {
        runtime().block_on(async {
            let creds = cfn::config::Credentials::new("testing", "testing", None, None, "test");
            archc_deploy::aws_config::defaults(archc_deploy::aws_config::BehaviorVersion::latest())
                .region(archc_deploy::aws_config::Region::new("eu-north-1"))
                .credentials_provider(creds)
                .endpoint_url(&self.url)
                .load()
                .await
        })
    }

    fn cfn(&self) -> cfn::Client {
        cfn::Client::new(&self.config())
    }

    fn secrets_manager(&self) -> archc_deploy::aws_sdk_secretsmanager::Client {
        archc_deploy::aws_sdk_secretsmanager::Client::new(&self.config())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> archc_deploy::tokio::runtime::Runtime {
    archc_deploy::tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// Static test credentials and nothing from this machine's AWS configuration.
fn aws_env(t: Test) -> Test {
    t.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/archc-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/archc-test")
        .env("CI", "true")
}

/// Stack status, or None when CloudFormation does not know the stack.
fn status(c: &cfn::Client, name: &str) -> Option<String> {
    runtime().block_on(async {
        match c.describe_stacks().stack_name(name).send().await {
            Ok(o) => o.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string()),
            Err(_) => None,
        }
    })
}

/// The stack as DescribeStacks answers.
fn described(c: &cfn::Client, name: &str) -> cfn::types::Stack {
    runtime().block_on(async {
        let o = c.describe_stacks().stack_name(name).send().await.expect("describe");
        o.stacks()[0].clone()
    })
}

/// The stack's tags.
fn stack_tags(c: &cfn::Client, name: &str) -> BTreeMap<String, String> {
    described(c, name)
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
        .collect()
}

fn outputs(c: &cfn::Client, name: &str) -> BTreeMap<String, String> {
    described(c, name)
        .outputs()
        .iter()
        .map(|o| (o.output_key().unwrap_or_default().to_string(), o.output_value().unwrap_or_default().to_string()))
        .collect()
}

fn resources(c: &cfn::Client, name: &str) -> BTreeMap<String, (String, String)> {
    runtime().block_on(async {
        let o = c.describe_stack_resources().stack_name(name).send().await.expect("describe resources");
        o.stack_resources()
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_string(),
                    (
                        r.resource_type().unwrap_or_default().to_string(),
                        r.physical_resource_id().unwrap_or_default().to_string(),
                    ),
                )
            })
            .collect()
    })
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

fn summary(lines: &[Value]) -> &Value {
    lines.iter().rev().find(|l| l["type"] == "summary").expect("a summary line")
}

const NETWORK: &str = "fixtures/deploy/network.md";
const STACKS: [&str; 3] = ["netonly-network", "netonly-data", "netonly-ci"];

/// The network-only architecture through create, an unchanged redeploy, a change shown by a
/// dry run and applied as an update, and destroy; every step checked with the SDK.
#[test]
fn network_architecture_is_created_kept_updated_and_destroyed_on_moto() {
    let moto = Moto::start("lifecycle");
    let c = moto.cfn();
    let wall = Instant::now();
    let deploy = |file: &str| {
        aws_env(Test::new()).args([
            "deploy",
            file,
            "--endpoint-url",
            &moto.url,
            "--method",
            "direct",
            "--yes",
            "--poll",
            "0.2",
        ])
    };

    // create: plain progress lines (no terminal), each stack created
    let run = deploy(NETWORK).status(0);
    for line in [
        "[network] netonly-network: CreateStack",
        "[network] ok: netonly-network created (CREATE_COMPLETE)",
        "[data] ok: netonly-data created (CREATE_COMPLETE)",
        "[ci] ok: netonly-ci created (CREATE_COMPLETE)",
        "Deployed.",
    ] {
        assert!(run.stderr.contains(line), "missing `{line}` in\n{}", run.stderr);
    }
    assert!(
        run.stderr.contains("netonly-ci has no output GitHubOidcProviderArn"),
        "moto drops outputs of resources it does not model, and deploy says so:\n{}",
        run.stderr
    );
    for s in STACKS {
        assert_eq!(status(&c, s).as_deref(), Some("CREATE_COMPLETE"), "{s}");
        // the stack's tags, which CloudFormation propagates to its resources
        let tags = stack_tags(&c, s);
        assert_eq!(tags.get("archc:application").map(String::as_str), Some("netonly"), "{s}: {tags:?}");
        assert_eq!(tags.get("archc:diagram").map(String::as_str), Some(NETWORK), "{s}: {tags:?}");
        assert_eq!(tags.get("archc:environment").map(String::as_str), Some("production"), "{s}: {tags:?}");
        assert_eq!(tags.get("archc:stack").map(String::as_str), s.strip_prefix("netonly-"), "{s}: {tags:?}");
    }
    let net = outputs(&c, "netonly-network");
    assert!(net["VpcId"].starts_with("vpc-") && net["PrivAppSubnet2Id"].starts_with("subnet-"), "{net:?}");
    let data = resources(&c, "netonly-data");
    assert_eq!(data["S3"].0, "AWS::S3::Bucket");
    assert!(!data.contains_key("Backups"));
    let created = wall.elapsed();

    // the same diagram again: up to date, nothing executed
    let run = deploy(NETWORK).args(["--output", "json"]).status(0);
    let lines = json_lines(&run.stdout);
    assert_eq!(
        summary(&lines)["stacks"],
        serde_json::json!({"ci": "up to date", "data": "up to date", "network": "up to date"})
    );
    assert!(!lines.iter().any(|l| l["type"] == "start"), "no stack operation started: {}", run.stdout);
    assert!(run.stderr.is_empty(), "--output json writes only JSON lines, to stdout: {}", run.stderr);

    // a diagram change: another bucket
    let dir = scratch("deploy-lifecycle");
    let changed = dir.join("network.md");
    let text = std::fs::read_to_string(root().join(NETWORK)).expect("fixture");
    let text = text.replace("  nat --> ecr\n", "  nat --> ecr\n  backups[(Amazon S3 backups)]\n  nat --> backups\n");
    std::fs::write(&changed, text).expect("write");
    let changed = changed.to_string_lossy().into_owned();

    // a dry run shows it as a change set (deleted again) and executes nothing
    let run = aws_env(Test::new())
        .args(["deploy", &changed, "--endpoint-url", &moto.url, "--dry-run", "--poll", "0.2"])
        .status(0);
    assert!(run.stderr.contains("Changes to netonly-data (update (change set deleted: --dry-run))"), "{}", run.stderr);
    assert!(
        run.stderr.lines().any(|l| l.contains("Add") && l.contains("Backups") && l.contains("AWS::S3::Bucket")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("netonly-network is up to date") && run.stderr.contains("netonly-ci is up to date"),
        "{}",
        run.stderr
    );
    assert!(!resources(&c, "netonly-data").contains_key("Backups"), "a dry run executes nothing");

    // applied as an update
    let run = deploy(&changed).args(["--output", "json"]).status(0);
    let lines = json_lines(&run.stdout);
    assert_eq!(
        summary(&lines)["stacks"],
        serde_json::json!({"ci": "up to date", "data": "updated", "network": "up to date"})
    );
    let data = resources(&c, "netonly-data");
    assert_eq!(data["Backups"].0, "AWS::S3::Bucket");
    assert!(!data["Backups"].1.is_empty(), "the bucket has a name: {data:?}");
    assert!(outputs(&c, "netonly-data").contains_key("BackupsBucketName"));

    // destroy: ci and data go; moto refuses the network stack (a VPC with route tables), and
    // destroy says so with what is left
    let run = aws_env(Test::new())
        .args(["destroy", &changed, "--endpoint-url", &moto.url, "--yes", "--poll", "0.2"])
        .status(1);
    assert_eq!(status(&c, "netonly-data"), None, "{}", run.stderr);
    assert_eq!(status(&c, "netonly-ci"), None, "{}", run.stderr);
    for line in [
        "[data] ok: netonly-data deleted",
        "[ci] ok: netonly-ci deleted",
        "netonly-network (network): DeleteStack failed: DependencyViolation",
        "what is left (as CloudFormation listed the stack's resources):",
        "Vpc (AWS::EC2::VPC) vpc-",
        "retained (not deleted by design):",
        "kept (DeletionPolicy RetainExceptOnCreate)",
        "Destroy incomplete.",
    ] {
        assert!(run.stderr.contains(line), "missing `{line}` in\n{}", run.stderr);
    }
    for kept in ["data: S3 (AWS::S3::Bucket)", "data: Backups (AWS::S3::Bucket)", "ci: Ecr (AWS::ECR::Repository)"] {
        assert!(run.stderr.contains(kept), "retained `{kept}` listed:\n{}", run.stderr);
    }
    eprintln!("moto lifecycle: create {:.1} s, whole {:.1} s", created.as_secs_f64(), wall.elapsed().as_secs_f64());
}

/// The seed's dry run lists every stack's resources from its templates (none exists yet):
/// EKS, RDS, ElastiCache, EFS, ... and creates nothing.
#[test]
fn seed_dry_run_lists_every_resource_and_creates_nothing_on_moto() {
    let moto = Moto::start("seed-dry-run");
    let c = moto.cfn();
    let run = aws_env(Test::new())
        .args(["deploy", "examples/architecture.md", "--endpoint-url", &moto.url, "--dry-run", "--poll", "0.2"])
        .status(0);
    for s in ["mattermost-network", "mattermost-cluster", "mattermost-data", "mattermost-ci"] {
        assert!(
            run.stderr.contains(&format!("Changes to {s} (create: the stack does not exist yet; from its template)")),
            "{s}:\n{}",
            run.stderr
        );
        assert_eq!(status(&c, s), None, "{s} was not created");
    }
    for ty in [
        "AWS::EC2::VPC",
        "AWS::EC2::NatGateway",
        "AWS::EKS::Cluster",
        "AWS::EKS::Nodegroup",
        "AWS::RDS::DBInstance",
        "AWS::EFS::FileSystem",
        "AWS::EC2::Instance",
        "AWS::ECR::Repository",
        "AWS::IAM::OIDCProvider",
    ] {
        assert!(run.stderr.lines().any(|l| l.contains("Add") && l.contains(ty)), "{ty}:\n{}", run.stderr);
    }
    // the seed's Redis is not built: Mattermost Team Edition cannot use it (PLN003 at its line)
    assert!(!run.stderr.contains("AWS::ElastiCache::ReplicationGroup"), "{}", run.stderr);
    assert!(run.stderr.contains("cluster (after the stacks; nothing applied with --dry-run)"), "{}", run.stderr);
    assert!(run.stderr.contains("Dry run: nothing was executed."), "{}", run.stderr);
    let listed = runtime().block_on(async { c.list_stacks().send().await.expect("list").stack_summaries().len() });
    assert_eq!(listed, 0, "nothing was created, not even an empty stack");
}

/// A stack parameter only the operator knows is asked for before anything is created.
#[test]
fn a_parameter_nobody_gave_stops_the_deploy_before_any_change() {
    let moto = Moto::start("missing-parameter");
    let c = moto.cfn();
    let run = aws_env(Test::new())
        .args([
            "deploy",
            "examples/architecture.md",
            "--endpoint-url",
            &moto.url,
            "--stacks-only",
            "--yes",
            "--method",
            "direct",
        ])
        .status(2);
    assert!(run.stderr.contains("--parameter ci.GitHubOrg=VALUE"), "{}", run.stderr);
    assert_eq!(status(&c, "mattermost-network"), None, "nothing was created: {}", run.stderr);
}

/// Like `archc compile`, deploy refuses a diagram with errors, before any AWS call.
#[test]
fn deploy_refuses_a_diagram_with_errors_like_compile() {
    let dir = scratch("deploy-refuses");
    let file = dir.join("broken.md");
    // a box in a subnet that names nothing: archc must know what to build there (GRF004)
    std::fs::write(
        &file,
        "```mermaid\nflowchart LR\n  subgraph vpc[VPC]\n    subgraph pub[Public subnet]\n      a[Thing nobody knows]\n    end\n  end\n  a --> b[(RDS PostgreSQL)]\n```\n",
    )
    .expect("write");
    let run = aws_env(Test::new())
        .args(["deploy", &file.to_string_lossy(), "--endpoint-url", "http://127.0.0.1:9", "--yes"])
        .status(1);
    assert!(run.stderr.contains("GRF004"), "{}", run.stderr);
    assert!(!run.stderr.contains("CreateStack"), "{}", run.stderr);
}

/// Paths of the seed's objects in the API server double.
const LBC: &str = "/apis/apps/v1/namespaces/kube-system/deployments/aws-load-balancer-controller";
const MM: &str = "/apis/apps/v1/namespaces/mattermost/deployments/mattermost";
const PVC: &str = "/api/v1/namespaces/mattermost/persistentvolumeclaims/mattermost-plugins";
const ING: &str = "/apis/networking.k8s.io/v1/namespaces/mattermost/ingresses/mattermost";
const ALB: &str = "k8s-mattermo-mattermo-0123456789-1234567890.eu-north-1.elb.amazonaws.com";

/// `archc deploy` of the seed against recorded AWS (its stacks there already, each change set
/// without changes) and an API server double whose Jobs report `job_status` (None: succeeded),
/// with a stand-in `helm`; the run must exit with `status`.
struct SeedDeploy {
    run: crate::test::Run,
    kube: archc_deploy::testkit::kube::FakeKube,
    dir: PathBuf,
    _aws: archc_deploy::testkit::aws::FakeAws,
}

fn deploy_seed_to_doubles(name: &str, job_status: Option<Value>, status: i32) -> SeedDeploy {
    use archc_deploy::testkit::aws::{Account, ChangeSetScript, FakeAws, Script};
    use archc_deploy::testkit::kube::{Cluster, FakeKube};
    use base64::Engine as _;
    use serde_json::json;

    let compiled = Test::new().args(["plan", "examples/architecture.md", "--format", "json"]).status(0);
    let plan: Value = serde_json::from_str(&compiled.stdout).expect("plan.json");
    let secret_arn = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:rds!db-0a1b2c-AbCdEf";
    let special = |name: &str| -> Option<&str> {
        Some(match name {
            "ClusterName" => "mattermost",
            "RdsSecretArn" => secret_arn,
            "RdsEndpointAddress" => "mattermost.c9akciq32.eu-north-1.rds.amazonaws.com",
            "RdsEndpointPort" => "5432",
            "RdsDatabaseName" => "mattermost",
            "EcrRepositoryName" => "mattermost",
            "EcrRepositoryUri" => "123456789012.dkr.ecr.eu-north-1.amazonaws.com/mattermost",
            "VpcId" => "vpc-0abc",
            _ => return None,
        })
    };
    let mut account = Account::default();
    for s in plan["stacks"].as_array().expect("stacks") {
        let name = s["name"].as_str().expect("name");
        let outputs: Vec<(String, String)> = s["outputs"]
            .as_array()
            .expect("outputs")
            .iter()
            .filter_map(Value::as_str)
            .map(|o| (o.to_string(), special(o).map_or_else(|| format!("{}-value", o.to_lowercase()), str::to_string)))
            .collect();
        let outputs: Vec<(&str, &str)> = outputs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        account.existing(name, "UPDATE_COMPLETE", &outputs, &[("GitHubOrg", "example"), ("GitHubRepo", "infra")]);
        account.script(
            name,
            Script {
                change_set: ChangeSetScript::Failed("The submitted information didn't contain changes. Submit different information to create a change set.".into()),
                ..Script::succeeds("UPDATE", &[], &[])
            },
        );
    }
    let ca = base64::engine::general_purpose::STANDARD
        .encode("-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n");
    account.eks = Some(
        json!({"name": "mattermost", "arn": "arn:aws:eks:eu-north-1:123456789012:cluster/mattermost", "status": "ACTIVE",
        "endpoint": "https://0123456789ABCDEF.gr7.eu-north-1.eks.amazonaws.com", "certificateAuthority": {"data": ca}, "version": "1.33"}),
    );
    account.images = vec![
        (
            "1111111".into(),
            "sha256:1111111111111111111111111111111111111111111111111111111111111111".into(),
            1_767_323_045.0,
        ),
        (
            "2222222".into(),
            "sha256:2222222222222222222222222222222222222222222222222222222222222222".into(),
            1_767_400_000.0,
        ),
    ];
    account.secrets.insert(
        secret_arn.into(),
        (json!({"username": "appadmin", "password": "Zx9:q/w@e#r%t"}).to_string(), "b1a7c3d4-version".into()),
    );
    let aws = FakeAws::start(account).expect("fake AWS");

    let mut cluster = Cluster { job_status, ..Cluster::default() };
    let lbc = LBC;
    cluster.preexisting.insert(lbc.into(), json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system", "generation": 1}, "spec": {"replicas": 2, "selector": {}, "template": {}}}));
    let ready = |n: i32| json!({"observedGeneration": 1, "replicas": n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n});
    cluster.statuses.insert(lbc.into(), [ready(2)].into());
    let mm = MM;
    cluster.statuses.insert(
        mm.into(),
        [json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 0}), ready(1)]
            .into(),
    );
    let pvc = PVC;
    cluster.statuses.insert(pvc.into(), [json!({"phase": "Pending"}), json!({"phase": "Bound"})].into());
    let ing = ING;
    let alb = ALB;
    cluster.statuses.insert(ing.into(), [json!({}), json!({"loadBalancer": {"ingress": [{"hostname": alb}]}})].into());
    let kube = FakeKube::start(cluster).expect("API server double");

    // helm: a stand-in that records its arguments, whether it got a token, and the values
    let dir = scratch(name);
    let helm = dir.join("helm");
    std::fs::write(
        &helm,
        format!(
            "#!/bin/sh\nout={}\necho \"$@\" > \"$out/helm-args\"\n[ -n \"$HELM_KUBETOKEN\" ] && echo set > \"$out/helm-token\"\nprev=\nfor a in \"$@\"; do [ \"$prev\" = --values ] && cp \"$a\" \"$out/helm-values.yaml\"; prev=$a; done\nexit 0\n",
            dir.display()
        ),
    )
    .expect("helm stand-in");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let run = aws_env(Test::new())
        .env("PATH", &path)
        .args([
            "deploy",
            "examples/architecture.md",
            "--endpoint-url",
            &aws.url(),
            "--kube-api",
            &kube.url(),
            "--yes",
            "--poll",
            "0.05",
            "--set",
            "Domain=chat.example.com",
            "--set",
            "CertificateArn=arn:aws:acm:eu-north-1:123456789012:certificate/0a1b2c3d",
        ])
        .status(status);
    SeedDeploy { run, kube, dir, _aws: aws }
}

/// The seed through the whole deploy against a scripted AWS and a Kubernetes API server
/// double: its stacks are there already (each change set says "no changes"); then EKS gives
/// the endpoint, ECR the newest image; the Load Balancer
/// Controller goes through (a stand-in) `helm`; every manifest is applied server-side in the
/// documented order, the database user sync run once as a Job; the waits read the Job, the
/// rollout and the Ingress's address; the URL is printed.
#[test]
fn the_seed_is_deployed_to_its_url_against_recorded_aws_and_an_api_server_double() {
    let SeedDeploy { run, kube, dir, .. } = deploy_seed_to_doubles("deploy-seed-cluster", None, 0);
    let (lbc, mm, pvc, ing, alb) = (LBC, MM, PVC, ING, ALB);

    // the stacks: each a change set without changes, deleted again
    for s in ["network", "cluster", "data", "ci"] {
        assert!(
            run.stderr.contains(&format!("[{s}] ok: mattermost-{s} is up to date (no changes)")),
            "{s}:\n{}",
            run.stderr
        );
    }
    // the cluster side
    let requests = kube.server.requests();
    let patches: Vec<String> = requests.iter().filter(|r| r.method == "PATCH").map(|r| r.path().to_string()).collect();
    assert_eq!(
        patches,
        [
            "/api/v1/namespaces/mattermost",
            "/api/v1/namespaces/kube-system/serviceaccounts/aws-load-balancer-controller",
            "/api/v1/namespaces/mattermost/serviceaccounts/mattermost",
            "/apis/networking.k8s.io/v1/namespaces/mattermost/networkpolicies/default-deny-all",
            "/apis/networking.k8s.io/v1/namespaces/mattermost/networkpolicies/mattermost-ingress-from-alb",
            "/apis/networking.k8s.io/v1/namespaces/mattermost/networkpolicies/mattermost-egress",
            "/api/v1/namespaces/mattermost/configmaps/mattermost-rds-ca",
            "/api/v1/namespaces/mattermost/secrets/mattermost-rds",
            "/apis/storage.k8s.io/v1/storageclasses/efs-ap",
            "/api/v1/namespaces/mattermost/persistentvolumeclaims/mattermost-plugins",
            "/apis/apps/v1/namespaces/mattermost/deployments/mattermost",
            "/api/v1/namespaces/mattermost/services/mattermost",
            "/api/v1/namespaces/mattermost/configmaps/mattermost-db-secret-sync",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/mattermost/roles/mattermost-db-secret-sync",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/mattermost/rolebindings/mattermost-db-secret-sync",
            "/api/v1/namespaces/mattermost/serviceaccounts/mattermost-db-secret-sync",
            "/apis/networking.k8s.io/v1/namespaces/mattermost/networkpolicies/mattermost-db-secret-sync-egress",
            "/apis/batch/v1/namespaces/mattermost/cronjobs/mattermost-db-secret-sync",
            "/apis/networking.k8s.io/v1/namespaces/mattermost/ingresses/mattermost",
        ],
        "server-side apply in the file prefix order"
    );
    for r in requests.iter().filter(|r| r.method == "PATCH") {
        assert_eq!(r.header("content-type"), Some("application/apply-patch+yaml"), "{}", r.target);
        let q = r.query();
        assert_eq!(q.get("fieldManager").map(String::as_str), Some("archc"), "{}", r.target);
        assert_eq!(q.get("force").map(String::as_str), Some("true"), "{}", r.target);
        assert!(
            r.header("authorization").is_some_and(|a| a.starts_with("Bearer k8s-aws-v1.")),
            "an EKS token: {}",
            r.target
        );
    }
    // the waits: the controller Ready after the Secret and before storage; the claim Bound
    // before the Deployment; the rollout and the address read until they are there
    let seq: Vec<String> = requests.iter().map(|r| format!("{} {}", r.method, r.path())).collect();
    let at = |s: &str| seq.iter().position(|x| x == s).unwrap_or_else(|| panic!("{s} not in {seq:#?}"));
    assert!(at("PATCH /api/v1/namespaces/mattermost/secrets/mattermost-rds") < at(&format!("GET {lbc}")));
    assert!(at(&format!("GET {lbc}")) < at("PATCH /apis/storage.k8s.io/v1/storageclasses/efs-ap"));
    assert!(at(&format!("GET {pvc}")) < at(&format!("PATCH {mm}")));
    assert_eq!(seq.iter().filter(|x| *x == &format!("GET {mm}")).count(), 2, "the rollout is polled until available");
    assert!(
        seq.iter().rposition(|x| x == &format!("GET {mm}")) < Some(at(&format!("PATCH {ing}"))),
        "the Ingress after the rollout"
    );
    assert_eq!(seq.iter().filter(|x| *x == &format!("GET {ing}")).count(), 2);

    // the Secret carries no DSN: the application's own user is the sync's, which the deploy
    // runs once (a Job from the CronJob, waited for) before it waits for the rollout
    let secret: Value = serde_json::from_slice(
        &requests.iter().find(|r| r.path().ends_with("/secrets/mattermost-rds")).expect("secret").body,
    )
    .expect("JSON");
    assert!(secret.get("stringData").is_none() && secret.get("data").is_none(), "{secret}");
    let jobs = "/apis/batch/v1/namespaces/mattermost/jobs";
    let posted: Vec<&archc_deploy::testkit::Request> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posted.len(), 1, "one Job");
    assert_eq!(posted[0].path(), jobs);
    let job: Value = serde_json::from_slice(&posted[0].body).expect("JSON");
    assert_eq!(job["metadata"]["generateName"], "mattermost-db-secret-sync-deploy-");
    assert_eq!(job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"], "manual");
    let cron: Value = serde_json::from_slice(
        &requests.iter().find(|r| r.path().ends_with("/cronjobs/mattermost-db-secret-sync")).expect("cronjob").body,
    )
    .expect("JSON");
    assert_eq!(job["spec"], cron["spec"]["jobTemplate"]["spec"], "the CronJob's job, as applied");
    let job_path = format!("{jobs}/mattermost-db-secret-sync-deploy-00001");
    assert!(
        at("PATCH /apis/batch/v1/namespaces/mattermost/cronjobs/mattermost-db-secret-sync")
            < at(&format!("POST {jobs}"))
    );
    assert!(at(&format!("GET {job_path}")) < at(&format!("GET {mm}")), "the Job before the rollout");
    assert!(
        run.stderr.contains(
            "started Job mattermost/mattermost-db-secret-sync-deploy-00001 from CronJob mattermost-db-secret-sync"
        ) && run.stderr.contains("Job mattermost/mattermost-db-secret-sync-deploy-00001 succeeded"),
        "{}",
        run.stderr
    );
    for leak in ["Zx9", "appadmin:", "k8s-aws-v1."] {
        assert!(!run.stderr.contains(leak) && !run.stdout.contains(leak), "`{leak}` printed:\n{}", run.stderr);
    }
    let deployment: Value = serde_json::from_slice(
        &requests.iter().find(|r| r.method == "PATCH" && r.path() == mm).expect("deployment").body,
    )
    .expect("JSON");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "123456789012.dkr.ecr.eu-north-1.amazonaws.com/mattermost:2222222@sha256:2222222222222222222222222222222222222222222222222222222222222222",
        "the newest image of the repository"
    );
    assert!(deployment["spec"]["template"]["metadata"].get("annotations").is_none(), "the sync sets it");
    assert!(run.stderr.contains("image tag 2222222: the newest image in ECR repository mattermost"), "{}", run.stderr);

    // helm got the pinned chart, the API server, a token in its environment, the values
    let args = std::fs::read_to_string(dir.join("helm-args")).expect("helm ran");
    assert!(args.starts_with("upgrade --install aws-load-balancer-controller aws-load-balancer-controller --repo https://aws.github.io/eks-charts --version 1.14.0 --namespace kube-system --values "), "{args}");
    assert!(args.contains(&format!("--kube-apiserver {}", kube.url())), "{args}");
    assert!(!args.contains("k8s-aws-v1."), "the token is not an argument: {args}");
    assert_eq!(std::fs::read_to_string(dir.join("helm-token")).expect("token").trim(), "set");
    let values: Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join("helm-values.yaml")).expect("values")).expect("YAML");
    assert_eq!(values["clusterName"], "mattermost");
    assert_eq!(values["vpcId"], "vpc-0abc");

    assert!(run.stderr.contains("URL: https://chat.example.com"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("point the DNS name at the load balancer {alb}")), "{}", run.stderr);
}

/// The database user's sync fails (its Job reports `Failed`): the deploy stops there, with the
/// Job's message and where its output is; it neither waits for the rollout nor applies the
/// Ingress.
#[test]
fn a_failed_database_user_sync_stops_the_deploy_and_says_where_its_output_is() {
    let failed = serde_json::json!({"failed": 3, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]});
    let SeedDeploy { run, kube, .. } = deploy_seed_to_doubles("deploy-seed-sync-fails", Some(failed), 1);
    let job = "mattermost/mattermost-db-secret-sync-deploy-00001";
    assert!(
        run.stderr.contains(&format!(
            "Job {job} failed: Job has reached the specified backoff limit (its output: `kubectl logs -n mattermost job/mattermost-db-secret-sync-deploy-00001`)"
        )),
        "{}",
        run.stderr
    );
    let requests = kube.server.requests();
    assert!(requests.iter().any(|r| r.method == "POST"), "the Job was created");
    assert!(requests.iter().all(|r| r.path() != ING), "no Ingress applied");
    assert!(!requests.iter().any(|r| r.method == "GET" && r.path() == MM), "no rollout wait");
}

/// The database secret sync of a compiled diagram, ready to run as its CronJob runs it: the
/// CronJob with its placeholders filled from `values` (stack outputs only), its script from
/// the compiled ConfigMap in a directory with an IRSA token and a Kubernetes API token.
struct CompiledSync {
    job: Value,
    dir: PathBuf,
}

impl CompiledSync {
    fn new(diagram: &str, name: &str, values: &[(&str, &str)]) -> Self {
        let out = scratch(&format!("{name}-out"));
        Test::new().args(["compile", diagram, "-o"]).args([out.display().to_string()]).status(0);
        let read = |file: &str| -> Value {
            serde_yaml::from_str(&std::fs::read_to_string(out.join("kubernetes").join(file)).expect(file))
                .expect("yaml")
        };
        let values: BTreeMap<String, String> = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let job = archc::plan::placeholders::fill(&read("48-cronjob-mattermost-db-secret-sync.yaml"), &values)
            .unwrap_or_else(|e| panic!("the sync needs only stack outputs: {e:?}"));
        let script = read("46-configmap-mattermost-db-secret-sync.yaml")["data"]["db-secret-sync.py"]
            .as_str()
            .expect("script")
            .to_string();
        let dir = scratch(&format!("{name}-run"));
        std::fs::write(dir.join("db-secret-sync.py"), script).expect("script file");
        std::fs::write(dir.join("irsa-token"), "eyJ.irsa.token").expect("token");
        std::fs::write(dir.join("token"), "kube-api-token").expect("token");
        Self { job, dir }
    }

    fn container(&self) -> &Value {
        &self.job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    }

    /// The value of one of the container's environment variables.
    fn env(&self, name: &str) -> Option<Value> {
        self.container()["env"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["name"] == name))
            .map(|e| e["value"].clone())
    }

    /// One run with this machine's `python3`: the container's environment, the namespace its
    /// field reference gives, moto and the Kubernetes double; `extra` overrides. Its standard
    /// output; fails when it fails or prints one of `secrets`.
    fn run(&self, moto: &Moto, kube: &str, extra: &[(&str, &str)], secrets: &[&str]) -> String {
        let container = self.container();
        assert_eq!(container["command"][1], "/opt/archc/db-secret-sync.py");
        let mut cmd = Command::new("python3");
        cmd.arg(self.dir.join("db-secret-sync.py")).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        for e in container["env"].as_array().expect("env") {
            if let Some(v) = e["value"].as_str() {
                cmd.env(e["name"].as_str().expect("name"), v);
            }
        }
        assert_eq!(
            container["env"]
                .as_array()
                .and_then(|a| a.iter().find(|e| e["name"] == "POD_NAMESPACE"))
                .map(|e| e["valueFrom"]["fieldRef"]["fieldPath"].clone()),
            Some(Value::from("metadata.namespace"))
        );
        cmd.env("POD_NAMESPACE", "mattermost")
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", self.dir.join("irsa-token"))
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("KUBERNETES_API", kube)
            .env("KUBERNETES_SA_DIR", &self.dir);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let o = cmd.output().expect("python3 runs");
        let (stdout, stderr) =
            (String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string());
        assert!(o.status.success(), "the sync failed:\n{stdout}\n{stderr}");
        for secret in secrets {
            assert!(!stdout.contains(secret) && !stderr.contains(secret), "a secret printed:\n{stdout}\n{stderr}");
        }
        stdout
    }
}

/// The database secret sync of a MySQL diagram (the application connects as the master user)
/// run as its CronJob runs it: the compiled CronJob's
/// environment with the placeholders filled, its script from the compiled ConfigMap, this
/// machine's `python3`; against moto's STS and Secrets Manager and a Kubernetes API double.
/// The first run writes the DSN (the deploy's own DSN for the same secret) and the pods'
/// version annotation; a run with the secret unchanged changes nothing; after a rotation the
/// new password reaches the Secret and the annotation rolls the pods. Nothing secret printed.
#[test]
fn the_secret_sync_carries_a_rotated_master_password_to_the_pods_secret() {
    use archc_deploy::testkit::{lock, HttpDouble, Response};
    use std::sync::{Arc, Mutex};

    let moto = Moto::start("secret-sync");
    let client = moto.secrets_manager();
    let first = r#"{"username":"mattermost","password":"first p@ss/word"}"#;
    let created = runtime()
        .block_on(client.create_secret().name("rds!db-archc-sync").secret_string(first).send())
        .expect("secret created");
    let arn = created.arn().expect("arn").to_string();
    let v1 = created.version_id().expect("version").to_string();

    // the MySQL diagram's compiled sync
    let sync = CompiledSync::new(
        "fixtures/review/engine-change/new.md",
        "secret-sync",
        &[
            ("RdsSecretArn", arn.as_str()),
            ("RdsEndpointAddress", "db.internal.example"),
            ("RdsEndpointPort", "3306"),
            ("RdsDatabaseName", "mattermost"),
            ("MmDbSecretSyncRoleArn", "arn:aws:iam::123456789012:role/sync"),
        ],
    );

    // the Kubernetes API: the Deployment's pod-template annotation, and every PATCH
    type Patches = Vec<(String, Value)>;
    let state: Arc<Mutex<(Option<String>, Patches)>> = Arc::new(Mutex::new((None, Vec::new())));
    let s = state.clone();
    let kube = HttpDouble::start(move |req| {
        let mut st = lock(&s);
        assert_eq!(req.header("authorization"), Some("Bearer kube-api-token"));
        match req.method.as_str() {
            "GET" if req.target == "/apis/apps/v1/namespaces/mattermost/deployments/mattermost" => {
                let annotations = match &st.0 {
                    Some(v) => serde_json::json!({"archc/db-secret-version": v}),
                    None => serde_json::json!({}),
                };
                Response::json(
                    200,
                    &serde_json::json!({"spec": {"template": {"metadata": {"annotations": annotations}}}}),
                )
            }
            "PATCH" => {
                assert_eq!(req.header("content-type"), Some("application/merge-patch+json"));
                let body: Value = serde_json::from_slice(&req.body).expect("JSON patch");
                if let Some(v) = body["spec"]["template"]["metadata"]["annotations"]["archc/db-secret-version"].as_str()
                {
                    st.0 = Some(v.to_string());
                }
                st.1.push((req.target.clone(), body));
                Response::json(200, &serde_json::json!({}))
            }
            _ => Response::json(404, &serde_json::json!({"kind": "Status", "code": 404})),
        }
    })
    .expect("kube double");

    let run = || sync.run(&moto, &kube.url(), &[], &["p@ss", "p%40ss", "second/secret", "second%2Fsecret"]);
    let deploy_dsn = |password: &str, version: &str| {
        let template = sync.env("DSN_TEMPLATE").and_then(|v| v.as_str().map(str::to_string)).expect("template");
        let secret = archc_deploy::cluster::values::DbSecret {
            username: "mattermost".into(),
            password: password.into(),
            version_id: version.into(),
        };
        archc_deploy::cluster::values::dsn(&template, &secret, "db.internal.example", "3306", "mattermost")
    };

    // first run: the DSN the deploy would build, and the annotation
    let said = run();
    assert!(said.contains(&format!("DSN rewritten from secret version {v1}")), "{said}");
    {
        let st = lock(&state);
        assert_eq!(st.0.as_deref(), Some(v1.as_str()));
        assert_eq!(st.1.len(), 2, "{:?}", st.1);
        assert_eq!(st.1[0].0, "/api/v1/namespaces/mattermost/secrets/mattermost-rds");
        let dsn = st.1[0].1["stringData"]["datasource"].as_str().expect("dsn").to_string();
        assert_eq!(dsn, deploy_dsn("first p@ss/word", &v1));
        assert!(dsn.starts_with("mattermost:first p@ss/word@tcp(db.internal.example:3306)/mattermost?"), "{dsn}");
    }
    // unchanged secret: nothing written
    let said = run();
    assert!(said.contains("up to date"), "{said}");
    assert_eq!(lock(&state).1.len(), 2);

    // RDS rotates the password
    let rotated = runtime()
        .block_on(
            client
                .put_secret_value()
                .secret_id(&arn)
                .secret_string(r#"{"username":"mattermost","password":"second/secret"}"#)
                .send(),
        )
        .expect("rotated");
    let v2 = rotated.version_id().expect("version").to_string();
    assert_ne!(v1, v2);
    let said = run();
    assert!(said.contains(&format!("DSN rewritten from secret version {v2} (the pods had {v1})")), "{said}");
    let st = lock(&state);
    assert_eq!(st.0.as_deref(), Some(v2.as_str()), "the pods roll");
    assert_eq!(st.1.len(), 4);
    assert_eq!(st.1[2].1["stringData"]["datasource"].as_str(), Some(deploy_dsn("second/secret", &v2).as_str()));
    assert_eq!(st.1[3].0, "/apis/apps/v1/namespaces/mattermost/deployments/mattermost");
}

/// A throwaway PostgreSQL 15+ server with TLS and an RDS-like master user
/// (`tests/postgres/pg.py`), stopped when dropped. Its directory is under /tmp: the server runs
/// as an unprivileged user, who cannot enter root's home.
struct Postgres {
    dir: PathBuf,
    facts: Value,
}

impl Postgres {
    fn start(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("archc-pg-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = Command::new("python3")
            .arg(root().join("tests/postgres/pg.py"))
            .arg("start")
            .arg(&dir)
            .output()
            .expect("python3 runs");
        assert!(
            o.status.success(),
            "PostgreSQL did not start (scripts/install-tools finds or installs it):\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let facts = serde_json::from_slice(&o.stdout).expect("pg.py prints JSON");
        Self { dir, facts }
    }

    fn fact(&self, key: &str) -> String {
        match &self.facts[key] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        }
    }

    /// `psql -At` with a connection string, as a client on this machine.
    fn psql(&self, dsn: &str, sql: &str) -> Result<String, String> {
        let o = Command::new(Path::new(&self.fact("bin")).join("psql"))
            .args(["-X", "-At", "-c", sql, dsn])
            .env_remove("PGPASSWORD")
            .output()
            .expect("psql runs");
        let out = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if o.status.success() {
            Ok(out)
        } else {
            Err(String::from_utf8_lossy(&o.stderr).to_string())
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("python3").arg(root().join("tests/postgres/pg.py")).arg("stop").arg(&self.dir).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The seed (PostgreSQL): the application's own database user, made by the compiled sync run
/// as its CronJob runs it (the CronJob's environment with the placeholders filled, its script
/// from the compiled ConfigMap, this machine's `python3`) against moto's STS and Secrets
/// Manager, a Kubernetes API double and a real PostgreSQL server with TLS whose master user is
/// a non-superuser with CREATEROLE and CREATEDB, as on RDS. The first run creates the user,
/// gives it the database and the master's table, and writes a DSN the user logs in with
/// (verify-full); a second run connects to nothing; a new password in the user's secret
/// reaches the database and the Secret, and the old one stops working. No password is
/// printed or reaches the server's log.
#[test]
fn the_secret_sync_makes_the_applications_own_database_user() {
    use archc_deploy::testkit::{lock, HttpDouble, Response};
    use std::sync::{Arc, Mutex};

    let pg = Postgres::start("app-user");
    let moto = Moto::start("app-user-sync");
    let client = moto.secrets_manager();
    let master = serde_json::json!({"username": pg.fact("master_user"), "password": pg.fact("master_password")});
    let master_arn = runtime()
        .block_on(client.create_secret().name("rds!db-archc-user").secret_string(master.to_string()).send())
        .expect("master secret")
        .arn()
        .expect("arn")
        .to_string();
    let (first, second) = ("Fir5tPassw0rdOfTheApp1ication0nly", "Sec0ndPassw0rdAfterAChange0f1t");
    let created = runtime()
        .block_on(
            client
                .create_secret()
                .name("data-RdsAppUserSecret")
                .secret_string(format!(r#"{{"username":"mattermost","password":"{first}"}}"#))
                .send(),
        )
        .expect("user secret");
    let user_arn = created.arn().expect("arn").to_string();
    let v1 = created.version_id().expect("version").to_string();

    // the seed's compiled sync
    let port = pg.fact("port");
    let sync = CompiledSync::new(
        "examples/architecture.md",
        "app-user-sync",
        &[
            ("RdsSecretArn", master_arn.as_str()),
            ("RdsAppUserSecretArn", user_arn.as_str()),
            ("RdsEndpointAddress", "localhost"),
            ("RdsEndpointPort", port.as_str()),
            ("RdsDatabaseName", "mattermost"),
            ("MmDbSecretSyncRoleArn", "arn:aws:iam::123456789012:role/sync"),
            ("PrivDataSubnet1Cidr", "10.0.20.0/24"),
            ("PrivDataSubnet2Cidr", "10.0.21.0/24"),
        ],
    );

    // the Kubernetes API: the database Secret (as applied: no data), the Deployment, every PATCH
    #[derive(Default)]
    struct State {
        annotations: serde_json::Map<String, Value>,
        data: serde_json::Map<String, Value>,
        pods: Option<String>,
        patches: Vec<(String, Value)>,
    }
    let state: Arc<Mutex<State>> = Arc::default();
    let s = state.clone();
    const SECRET: &str = "/api/v1/namespaces/mattermost/secrets/mattermost-rds";
    const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/mattermost/deployments/mattermost";
    let kube = HttpDouble::start(move |req| {
        let mut st = lock(&s);
        assert_eq!(req.header("authorization"), Some("Bearer kube-api-token"));
        match (req.method.as_str(), req.target.as_str()) {
            ("GET", SECRET) => Response::json(
                200,
                &serde_json::json!({"metadata": {"name": "mattermost-rds", "annotations": st.annotations}, "data": st.data}),
            ),
            ("PATCH", target @ (SECRET | DEPLOYMENT)) => {
                assert_eq!(req.header("content-type"), Some("application/merge-patch+json"));
                let body: Value = serde_json::from_slice(&req.body).expect("JSON patch");
                if target == SECRET {
                    for (k, v) in body["metadata"]["annotations"].as_object().cloned().unwrap_or_default() {
                        st.annotations.insert(k, v);
                    }
                    for (k, v) in body["stringData"].as_object().cloned().unwrap_or_default() {
                        st.data.insert(k, v);
                    }
                } else {
                    st.pods = body["spec"]["template"]["metadata"]["annotations"]["archc/db-secret-version"]
                        .as_str()
                        .map(str::to_string);
                }
                st.patches.push((target.to_string(), body));
                Response::json(200, &serde_json::json!({}))
            }
            _ => Response::json(404, &serde_json::json!({"kind": "Status", "code": 404})),
        }
    })
    .expect("kube double");

    // the pod verifies the server with the RDS bundle it mounts; here with the test CA
    assert_eq!(sync.env("DB_CA_FILE"), Some(Value::from("/etc/ssl/rds/rds-ca-bundle.pem")));
    let cafile = pg.fact("cafile");
    let master_password = pg.fact("master_password");
    let passwords = [first, second, master_password.as_str()];
    let run = || sync.run(&moto, &kube.url(), &[("DB_CA_FILE", &cafile)], &passwords);
    // the DSN the sync wrote, with the test CA for the pods' bundle
    let dsn = || -> String {
        let st = lock(&state);
        st.data["datasource"]
            .as_str()
            .expect("datasource")
            .replace("sslrootcert=/etc/ssl/rds/rds-ca-bundle.pem", &format!("sslrootcert={cafile}"))
    };
    let who =
        "SELECT current_user, (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()), \
               (SELECT tableowner FROM pg_tables WHERE tablename = 'posts'), current_setting('ssl')";

    // first run: the user, its database, the master's table, the DSN and the rollout
    let said = run();
    assert!(said.contains("role mattermost created; owns database mattermost"), "{said}");
    let first_dsn = dsn();
    assert!(
        first_dsn
            .starts_with(&format!("postgres://mattermost:{first}@localhost:{port}/mattermost?sslmode=verify-full")),
        "{first_dsn}"
    );
    assert_eq!(pg.psql(&first_dsn, who).as_deref(), Ok("mattermost|mattermost|mattermost|on"));
    {
        let st = lock(&state);
        assert_eq!(st.annotations["archc/db-user-version"], format!("{v1}@localhost"));
        assert_eq!(st.pods.as_deref(), Some(v1.as_str()), "the pods roll");
        assert_eq!(st.patches.len(), 2);
    }
    // it owns only its database: PUBLIC lost CONNECT, and it is no superuser
    let admin = format!(
        "postgres://{}:{}@localhost:{port}/mattermost?sslmode=verify-full&sslrootcert={cafile}",
        pg.fact("master_user"),
        pg.fact("master_password")
    );
    assert_eq!(
        pg.psql(&admin, "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'mattermost'")
            .as_deref(),
        Ok("f|f|f")
    );
    assert_eq!(pg.psql(&admin, "SELECT has_database_privilege('public', 'mattermost', 'CONNECT')").as_deref(), Ok("f"));

    // unchanged secret: nothing read from the database, nothing written
    let said = run();
    assert!(said.contains("up to date"), "{said}");
    assert_eq!(lock(&state).patches.len(), 2);
    // a Secret applied again without its DSN (a new namespace, a deleted Secret): written again
    lock(&state).data.clear();
    let said = run();
    assert!(said.contains("role mattermost updated"), "{said}");
    assert!(lock(&state).data.contains_key("datasource"));
    assert_eq!(lock(&state).patches.len(), 4);
    // another endpoint (a database replaced or restored): the sync notices it by itself
    let moved = sync.run(&moto, &kube.url(), &[("DB_CA_FILE", &cafile), ("DB_HOST", "127.0.0.1")], &passwords);
    assert!(moved.contains("role mattermost updated"), "{moved}");
    assert_eq!(lock(&state).annotations["archc/db-user-version"], format!("{v1}@127.0.0.1"));
    assert_eq!(lock(&state).patches.len(), 6);
    let said = run();
    assert!(said.contains("role mattermost updated"), "back at localhost: {said}");
    assert_eq!(lock(&state).patches.len(), 8);

    // a new password: the database and the Secret get it, the old one stops working
    let changed = runtime()
        .block_on(
            client
                .put_secret_value()
                .secret_id(&user_arn)
                .secret_string(format!(r#"{{"username":"mattermost","password":"{second}"}}"#))
                .send(),
        )
        .expect("changed");
    let v2 = changed.version_id().expect("version").to_string();
    let said = run();
    assert!(said.contains("role mattermost updated"), "{said}");
    let second_dsn = dsn();
    assert!(second_dsn.contains(&format!("mattermost:{second}@")), "{second_dsn}");
    assert_eq!(pg.psql(&second_dsn, "SELECT current_user").as_deref(), Ok("mattermost"));
    let refused = pg.psql(&first_dsn, "SELECT 1").expect_err("the old password is refused");
    assert!(refused.contains("password authentication failed"), "{refused}");
    {
        let st = lock(&state);
        assert_eq!(st.pods.as_deref(), Some(v2.as_str()), "the pods roll again");
        assert_eq!(st.patches.len(), 10);
    }
    // the server logs every statement: no password is among them
    let log = pg.log();
    assert!(log.contains("ALTER ROLE"), "the log has the statements");
    for p in passwords {
        assert!(!log.contains(p), "a password in the server's log");
    }
}

/// The sync's PostgreSQL client and its SQL, against a real server (`tests/postgres/`): TLS
/// verified (a foreign CA, a wrong host name and a server refusing TLS all fail), SCRAM, MD5
/// and cleartext logins, errors with their SQLSTATE and no password, the user made and given
/// the database and every kind of object the master owned in `public`, all or nothing under a
/// lock, idempotent, a new password taking the old one's place, nothing secret in the log.
#[test]
fn the_sync_speaks_postgresql_and_makes_the_user_all_or_nothing() {
    let o =
        Command::new("python3").arg(root().join("tests/postgres/check_app_user.py")).output().expect("python3 runs");
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{said}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(said.contains("PASS: "), "{said}");
}

/// The restart of an ECS service after its database secret changes (the function archc
/// writes inline into the app stack, `targets/ecs/rotation-restart.py`), run with boto3
/// against moto's Secrets Manager and ECS: nothing while the secrets are older than the
/// service's deployment, one forced deployment after a change, an error for a missing service.
#[test]
fn the_ecs_rotation_restart_forces_one_new_deployment_after_a_change() {
    let moto = Moto::start("rotation-restart");
    let python = moto_server().with_file_name("python");
    let o = Command::new(python)
        .arg(root().join("tests/moto/rotation_restart_check.py"))
        .arg(root().join("targets/ecs/rotation-restart.py"))
        .arg(&moto.url)
        .output()
        .expect("python runs");
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{said}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(said.contains("PASS: the rotation restart follows the secret's change once"), "{said}");
}

/// The sync signs its Secrets Manager call itself (moto checks no signature): its SigV4
/// `Authorization` header equals botocore's for the same request, time and credentials.
#[test]
fn the_secret_sync_signs_like_botocore() {
    let python = moto_server().with_file_name("python");
    let o = Command::new(python)
        .arg(root().join("tests/moto/sigv4_check.py"))
        .arg(root().join("targets/kubernetes/db-secret-sync.py"))
        .output()
        .expect("python runs");
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{said}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(said.contains("same signature as botocore"), "{said}");
}
