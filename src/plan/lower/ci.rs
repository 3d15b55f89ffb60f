//! The ci stack: the container registries (`aws.ecr`: immutable tags, scan on push, KMS,
//! lifecycle) and, for a `ci.github-actions` node, the GitHub OIDC provider (or the
//! account's existing one), a deploy role trusted for one repository environment, whose
//! statements come from the CI node's arrows (`pushes` → the repository, `deploys` → the
//! cluster), and a namespace-scoped EKS access entry. Reference sections 1.4 and 3.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use crate::plan::cfn::{
    eks_access_policy, equals, get_att, if_, key_admin_statement, kms_key, policy, r, sub, sub_with,
};
use crate::plan::names::{kebab, pascal};
use crate::plan::settings::OidcProvider;
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const CI: StackId = StackId::Ci;
const CL: StackId = StackId::Cluster;
const APP: StackId = StackId::App;

const GITHUB_OIDC: &str = "token.actions.githubusercontent.com";

/// The name of the ECR repository of `n`: the project's name for the first registry of the
/// diagram, `<project>-<id>` for the others.
pub(super) fn repository_name(l: &Lowering<'_>, n: NodeIndex) -> String {
    let first = l.graph.of_kind("aws.ecr").next() == Some(n);
    let project = kebab(&l.settings.project, 200);
    if first {
        project
    } else {
        format!("{project}-{}", kebab(&l.graph.component(n).id, 50))
    }
}

pub(super) static LOWERER: super::Lowerer =
    super::Lowerer { name: "ci", kinds: &["aws.ecr", "ci.github-actions"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let repositories: Vec<NodeIndex> = graph.of_kind("aws.ecr").collect();
    let cis: Vec<NodeIndex> = graph.components().filter(|(_, c)| c.category() == Some("ci")).map(|(n, _)| n).collect();
    for &n in &repositories {
        repository(l, n);
    }
    for &n in &cis {
        if graph.component(n).is("ci.github-actions") {
            github(l, n);
        } else {
            let c = graph.component(n);
            let what = c.kind.map_or("this CI system", |k| k.def.name.as_str());
            for (e, _) in graph.outgoing(n).collect::<Vec<_>>() {
                l.unexpressed(
                    e,
                    format!("archc creates deploy roles for GitHub Actions (OIDC) only, and `{}` is {what}", c.id),
                );
            }
        }
    }
}

fn repository(l: &mut Lowering<'_>, n: NodeIndex) {
    let id = l.graph.component(n).id.clone();
    let p = pascal(&id);
    let key = format!("{p}KmsKey");
    let name_param = format!("{p}RepositoryName");
    let name = repository_name(l, n);
    l.param(
        CI,
        &name_param,
        Parameter::new("String", &format!("ECR repository of `{id}`"))
            .known(name.as_str())
            .pattern(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$"),
    );
    l.param(
        CI,
        "ImageRetentionCount",
        Parameter::new("Number", "Keep this many newest images; older ones expire")
            .known(l.settings.image_retention)
            .range(10, 10000),
    );
    l.param(
        CI,
        "SignatureRetentionCount",
        Parameter::new(
            "Number",
            "Keep this many newest cosign artifacts (tags sha256-<digest>.sig and .att): twice ImageRetentionCount, a signature and an attestation per image",
        )
        .known(l.settings.image_retention.saturating_mul(2))
        .range(20, 20000),
    );
    l.add(
        CI,
        &key,
        Resource::new(
            "AWS::KMS::Key",
            kms_key(
                sub(&format!("ECR repository ${{{name_param}}}: encryption at rest")),
                vec![key_admin_statement(Some(
                    "ECR itself uses the grants it creates on this key when the repository is created.",
                ))],
            ),
        )
        .retain()
        .node(&id),
    );
    l.add(
        CI,
        &format!("{key}Alias"),
        Resource::new(
            "AWS::KMS::Alias",
            json!({
                "AliasName": sub(&format!("alias/${{AWS::StackName}}-{}", kebab(&id, 40))),
                "TargetKeyId": r(&key),
            }),
        )
        .node(&id)
        .comment("named after the stack: alias names allow [A-Za-z0-9/_-] only, a repository name may contain \".\""),
    );
    let lifecycle = r#"{
  "rules": [
    {
      "rulePriority": 1,
      "description": "Expire untagged images 14 days after push",
      "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
      "action": {"type": "expire"}
    },
    {
      "rulePriority": 2,
      "description": "Keep the newest ${SignatureRetentionCount} cosign signatures and attestations (not counted as images)",
      "selection": {"tagStatus": "tagged", "tagPrefixList": ["sha256-"], "countType": "imageCountMoreThan", "countNumber": ${SignatureRetentionCount}},
      "action": {"type": "expire"}
    },
    {
      "rulePriority": 3,
      "description": "Keep the newest ${ImageRetentionCount} images",
      "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": ${ImageRetentionCount}},
      "action": {"type": "expire"}
    }
  ]
}
"#;
    l.add(
        CI,
        &p,
        Resource::new(
            "AWS::ECR::Repository",
            json!({
                "RepositoryName": r(&name_param),
                "ImageTagMutability": "IMMUTABLE",
                "ImageScanningConfiguration": {"ScanOnPush": true},
                "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": get_att(&key, "Arn")},
                "LifecyclePolicy": {"LifecyclePolicyText": sub(lifecycle)},
            }),
        )
        .retain()
        .node(&id)
        .comment(&format!(
            "registry `{id}`: immutable tags (CI pushes the git sha; a tag never moves), scan on push, KMS"
        )),
    );
    l.output(CI, &format!("{p}RepositoryName"), r(&p), &format!("ECR repository name of `{id}`"));
    l.output(
        CI,
        &format!("{p}RepositoryUri"),
        get_att(&p, "RepositoryUri"),
        &format!("image name without tag of `{id}`"),
    );
    l.output(CI, &format!("{p}RepositoryArn"), get_att(&p, "Arn"), &format!("ECR repository ARN of `{id}`"));
}

/// The GitHub OIDC provider the deploy roles trust: created here, or the account's.
fn github_provider(l: &mut Lowering<'_>) -> Value {
    let existing = sub(&format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{GITHUB_OIDC}"));
    match &l.settings.oidc_provider {
        OidcProvider::Existing => {
            if !l.stack(CI).outputs.contains_key("GitHubOidcProviderArn") {
                l.output(
                    CI,
                    "GitHubOidcProviderArn",
                    existing.clone(),
                    "the account's GitHub OIDC provider, which the deploy roles trust",
                );
            }
            existing
        }
        mode => {
            let default = match mode {
                OidcProvider::Arn(arn) => arn.clone(),
                _ => String::new(),
            };
            l.param(
                CI,
                "ExistingGitHubOidcProviderArn",
                Parameter::new(
                    "String",
                    "ARN of the account's existing token.actions.githubusercontent.com provider; empty: create it here (IAM allows one provider per URL and account, a second create fails with EntityAlreadyExists)",
                )
                .default(default.as_str())
                .pattern(r"^$|^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"),
            );
            let provider = if_("CreateGitHubOidcProvider", r("GitHubOidcProvider"), r("ExistingGitHubOidcProviderArn"));
            if !l.stack(CI).resources.contains_key("GitHubOidcProvider") {
                l.stack(CI)
                    .conditions
                    .insert("CreateGitHubOidcProvider".into(), equals(r("ExistingGitHubOidcProviderArn"), json!("")));
                l.add(
                    CI,
                    "GitHubOidcProvider",
                    Resource::new(
                        "AWS::IAM::OIDCProvider",
                        json!({"Url": format!("https://{GITHUB_OIDC}"), "ClientIdList": ["sts.amazonaws.com"]}),
                    )
                    .condition("CreateGitHubOidcProvider")
                    .comment("GitHub Actions' OIDC provider (no thumbprint needed), unless the account has one"),
                );
                l.output(
                    CI,
                    "GitHubOidcProviderArn",
                    provider.clone(),
                    "the GitHub OIDC provider the deploy roles trust",
                );
            }
            provider
        }
    }
}

fn github(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let settings = l.settings;
    let id = graph.component(n).id.clone();
    let p = pascal(&id);
    let role = format!("{p}DeployRole");
    let (org, repo) = settings
        .github_repository
        .as_deref()
        .and_then(|r| r.split_once('/'))
        .map_or((None, None), |(o, r)| (Some(o.to_string()), Some(r.to_string())));
    let known = |p: Parameter, v: Option<String>| match v {
        Some(v) => p.known(v.as_str()),
        None => p,
    };
    l.param(
        CI,
        "GitHubOrg",
        known(
            Parameter::new("String", "GitHub owner of the repository that deploys (github.repository)")
                .pattern(r"^[A-Za-z0-9_.-]{1,39}$"),
            org,
        ),
    );
    l.param(
        CI,
        "GitHubRepo",
        known(
            Parameter::new("String", "GitHub repository that deploys (github.repository)")
                .pattern(r"^[A-Za-z0-9_.-]{1,100}$"),
            repo,
        ),
    );
    l.param(
        CI,
        "GitHubEnvironment",
        Parameter::new("String", "GitHub Actions environment of the deploy job (github.environment)")
            .known(settings.github_environment.as_str())
            .pattern(r"^[A-Za-z0-9._ -]{1,255}$"),
    );
    l.param(
        CI,
        "GitHubBranch",
        Parameter::new("String", "The only branch whose deploy job may assume the role (github.branch)")
            .known(settings.github_branch.as_str())
            .pattern(r"^[A-Za-z0-9._/-]{1,255}$"),
    );
    l.param(
        CI,
        "GitHubSubject",
        Parameter::new(
            "String",
            "Optional exact OIDC sub to trust instead of repo:<org>/<repo>:environment:<env>:ref:refs/heads/<branch> (for example another subject template of the repository)",
        )
        .default(""),
    );
    l.stack(CI).conditions.insert("UseDefaultSubject".into(), equals(r("GitHubSubject"), json!("")));
    let subject = if_(
        "UseDefaultSubject",
        sub("repo:${GitHubOrg}/${GitHubRepo}:environment:${GitHubEnvironment}:ref:refs/heads/${GitHubBranch}"),
        r("GitHubSubject"),
    );
    let provider = github_provider(l);

    // statements from the arrows of the CI node
    let mut edges: Vec<(EdgeIndex, NodeIndex)> = graph.outgoing(n).collect();
    edges.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    let mut statements: Vec<Value> = Vec::new();
    let mut login: Option<usize> = None;
    let mut access_entry: Option<EdgeIndex> = None;
    let mut task_definitions: Option<usize> = None;
    for (e, b) in edges {
        let c = graph.connection(e);
        if !matches!(c.becomes, "iam-permission" | "access-entry") {
            continue;
        }
        let target = graph.component(b);
        let tp = pascal(&target.id);
        match (c.meaning, target.kind_id()) {
            ("pushes", Some("aws.ecr")) if l.stack(CI).resources.contains_key(&tp) => {
                match login {
                    None => {
                        login = Some(statements.len());
                        statements.push(l.allow(
                            CI,
                            &role,
                            "EcrLogin",
                            &[Why::Edge(e)],
                            &["ecr:GetAuthorizationToken"],
                            json!("*"),
                            Some("Resource \"*\": AWS requires it; GetAuthorizationToken is registry-wide (docker login) and\nsupports no resource-level permission. Pushes are limited to the repository below."),
                        ));
                    }
                    Some(i) => {
                        l.grant(CI, &role, "EcrLogin", Why::Edge(e));
                        let more = format!("for {}", l.why_text(&Why::Edge(e)));
                        if let Some(Value::String(text)) = statements[i].get_mut("//") {
                            text.insert_str(0, &format!("{more}\n"));
                        }
                    }
                }
                statements.push(l.allow(
                    CI,
                    &role,
                    &format!("{tp}Push"),
                    &[Why::Edge(e)],
                    &[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:InitiateLayerUpload",
                        "ecr:UploadLayerPart",
                        "ecr:CompleteLayerUpload",
                        "ecr:PutImage",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:DescribeImages",
                    ],
                    get_att(&tp, "Arn"),
                    Some("push and pull this repository only; DescribeImages: the workflow reads the pushed digest"),
                ));
            }
            ("deploys", Some("aws.eks-control-plane" | "aws.eks-cluster"))
                if l.stack(CL).outputs.contains_key("ClusterArn") =>
            {
                let arn = l.import_checked(
                    CI,
                    CL,
                    "ClusterArn",
                    "String",
                    r"^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster/.+$",
                );
                statements.push(l.allow(
                    CI,
                    &role,
                    "EksDescribeCluster",
                    &[Why::Edge(e)],
                    &["eks:DescribeCluster"],
                    arn,
                    Some("aws eks update-kubeconfig; what the role may do inside the cluster is the access entry's"),
                ));
                if l.stack(CL).outputs.contains_key("AccessInstanceId") {
                    let instance = l.import_checked(CI, CL, "AccessInstanceId", "String", r"^i-[0-9a-f]{8,17}$");
                    statements.push(l.allow(
                        CI,
                        &role,
                        "ApiPortForward",
                        &[Why::Edge(e)],
                        &["ssm:StartSession"],
                        json!([
                            sub_with("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/${Instance}", json!({"Instance": instance})),
                            sub("arn:${AWS::Partition}:ssm:${AWS::Region}::document/AWS-StartPortForwardingSessionToRemoteHost"),
                        ]),
                        Some("the API endpoint is private: a port forward through the access instance, with the\nport-forwarding document only (no shell on the instance)"),
                    ));
                    statements.push(l.allow(
                        CI,
                        &role,
                        "ApiPortForwardEnd",
                        &[Why::Edge(e)],
                        &["ssm:TerminateSession", "ssm:ResumeSession"],
                        sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:session/${!aws:userid}-*"),
                        Some("its own sessions only"),
                    ));
                }
                access_entry = Some(e);
            }
            ("deploys", Some("aws.ecs-service"))
                if l.stack(APP).resources.get(&tp).is_some_and(|r| r.ty == "AWS::ECS::Service") =>
            {
                ecs_deploy(l, &role, e, &tp, &mut statements, &mut task_definitions);
            }
            _ => {
                let what = target.kind.map_or("this component", |k| k.def.name.as_str());
                l.unexpressed(e, format!("archc has no CI permission for `{}` to {what} `{}`", c.meaning, target.id));
            }
        }
    }
    l.add(
        CI,
        &role,
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": sub(&format!("{id} deploy role: ${{GitHubOrg}}/${{GitHubRepo}} environment ${{GitHubEnvironment}}")),
                "MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": policy(vec![json!({
                    "//": "only this repository's deploy environment on its deploy branch: aud and sub pinned (without\nsub any GitHub repository could assume the role; without the ref any branch whose workflow\nnames the environment could). The sub carries the ref once the repository's OIDC subject\ntemplate includes it (repo, context, ref: see README)",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        format!("{GITHUB_OIDC}:aud"): "sts.amazonaws.com",
                        format!("{GITHUB_OIDC}:sub"): subject.clone(),
                    }},
                })]),
                "Policies": if statements.is_empty() { json!([]) } else { json!([{"PolicyName": format!("{}-arrows", kebab(&id, 40)), "PolicyDocument": policy(statements)}]) },
            }),
        )
        .node(&id)
        .comment(&format!("the role `{id}` assumes with its OIDC token (role-to-assume; no access keys)")),
    );
    if l.stack(CI).resources[&role].properties["Policies"].as_array().is_some_and(Vec::is_empty) {
        if let Some(o) = l.stack(CI).resources.get_mut(&role).and_then(|r| r.properties.as_object_mut()) {
            o.remove("Policies");
        }
    }
    if let Some(e) = access_entry {
        let cluster = l.import(CI, CL, "ClusterName", "String");
        l.param(
            CI,
            "KubernetesNamespace",
            Parameter::new("String", "The only Kubernetes namespace the deploy role may change")
                .known(settings.namespace.as_str())
                .pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        );
        let entry = format!("{p}AccessEntry");
        l.grant(CI, &entry, "AmazonEKSEditPolicy", Why::Edge(e));
        let why = l.why_text(&Why::Edge(e));
        l.add(
            CI,
            &entry,
            Resource::new(
                "AWS::EKS::AccessEntry",
                json!({
                    "ClusterName": cluster,
                    "PrincipalArn": get_att(&role, "Arn"),
                    "Type": "STANDARD",
                    "AccessPolicies": [{
                        "PolicyArn": eks_access_policy("AmazonEKSEditPolicy"),
                        "AccessScope": {"Type": "namespace", "Namespaces": [r("KubernetesNamespace")]},
                    }],
                }),
            )
            .node(&id)
            .comment(&format!("for {why}: edit rights in the application's namespace only (not cluster-admin,\nnot an aws-auth edit); needs AuthenticationMode API on the cluster")),
        );
    }
    l.output(
        CI,
        &format!("{p}DeployRoleArn"),
        get_att(&role, "Arn"),
        &format!("role-to-assume of `{id}` (aws-actions/configure-aws-credentials)"),
    );
    l.output(CI, &format!("{p}DeploySubject"), subject, &format!("the OIDC sub the deploy role of `{id}` accepts"));
}

/// The statements of a deploy arrow to ECS service `tp` (logical id in the app stack): register
/// task definitions (one statement for every service), update and describe that service, and
/// pass exactly its two roles to ECS tasks.
fn ecs_deploy(
    l: &mut Lowering<'_>,
    role: &str,
    e: EdgeIndex,
    tp: &str,
    statements: &mut Vec<Value>,
    task_definitions: &mut Option<usize>,
) {
    let why = [Why::Edge(e)];
    match *task_definitions {
        None => {
            *task_definitions = Some(statements.len());
            statements.push(l.allow(
                CI,
                role,
                "EcsTaskDefinitions",
                &why,
                &["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
                json!("*"),
                Some("Resource \"*\": AWS requires it; task definitions support no resource-level permission. What a\nnew revision may run is bounded by the iam:PassRole statements below."),
            ));
        }
        Some(i) => {
            l.grant(CI, role, "EcsTaskDefinitions", Why::Edge(e));
            let more = format!("for {}", l.why_text(&Why::Edge(e)));
            if let Some(Value::String(text)) = statements[i].get_mut("//") {
                text.insert_str(0, &format!("{more}\n"));
            }
        }
    }
    let service = l.import_checked(
        CI,
        APP,
        &format!("{tp}ServiceArn"),
        "String",
        r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/.+$",
    );
    statements.push(l.allow(
        CI,
        role,
        &format!("{tp}Deploy"),
        &why,
        &["ecs:DescribeServices", "ecs:UpdateService"],
        service,
        Some("this service only: point it at the new revision and wait until it is stable"),
    ));
    let mut roles = Vec::new();
    for name in [format!("{tp}ExecutionRoleArn"), format!("{tp}TaskRoleArn")] {
        if l.stack(APP).outputs.contains_key(&name) {
            roles.push(l.import_checked(CI, APP, &name, "String", r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$"));
        }
    }
    let mut st = l.allow(
        CI,
        role,
        &format!("{tp}PassRoles"),
        &why,
        &["iam:PassRole"],
        json!(roles),
        Some("the service's execution and task roles only, and only to ECS tasks"),
    );
    st["Condition"] = json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}});
    statements.push(st);
    // the SSM parameter the app stack's task definition reads its image from (data stack)
    let pointer = format!("{tp}ImageParameter");
    if let Some(name) =
        l.stack(StackId::Data).resources.get(&pointer).and_then(|r| r.properties["Name"].as_str().map(str::to_string))
    {
        statements.push(l.allow(
            CI,
            role,
            &format!("{tp}ImagePointer"),
            &why,
            &["ssm:PutParameter"],
            sub(&format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{name}")),
            Some("the parameter naming the image the service runs, so that a stack update keeps CI's image"),
        ));
    }
}
