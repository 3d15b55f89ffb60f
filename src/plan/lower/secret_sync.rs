//! The database secret sync's IAM role: the Kubernetes workload's DSN is built from the
//! RDS-managed master secret, which RDS rotates every 7 days; a CronJob beside the workload
//! (`plan::kubernetes`, `targets/kubernetes/db-secret-sync.py`) re-reads the secret and
//! rewrites the DSN. This is its IRSA role, in the data stack beside the database: it reads
//! that one secret (and decrypts it through Secrets Manager only), nothing else.
//!
//! With PostgreSQL the application gets a user of its own: its secret (a generated password
//! and the user name) is here too, and the sync, connecting as the master user, creates that
//! user, gives it the application's database and sets its password from the secret
//! (`targets/kubernetes/db-secret-sync.py`). The application then never holds the master's
//! password, and the master's rotation no longer touches it.

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::eks::has_cluster;
use super::store::Store;
use crate::plan::cfn::{get_att, irsa_trust, policy, sub};
use crate::plan::kubernetes::Wiring;
use crate::plan::names::pascal;
use crate::plan::{Lowering, Parameter, Resource, StackId, Why};

const DATA: StackId = StackId::Data;

/// The service account of the sync of workload `name`.
pub(crate) fn service_account(name: &str) -> String {
    format!("{name}-db-secret-sync")
}

/// The data stack output naming the sync's IRSA role, for the workload `app_node`: the
/// Kubernetes side builds the sync exactly when the stacks have it.
pub(crate) fn role_output(app_node: &str) -> String {
    format!("{}DbSecretSyncRoleArn", pascal(app_node))
}

/// The data stack output naming the application user's secret of database `db_id`.
pub(crate) fn app_user_output(db_id: &str) -> String {
    format!("{}AppUserSecretArn", pascal(db_id))
}

/// The database whose secret the sync of the diagram's application follows: the first one the
/// application (a Kubernetes Deployment or StatefulSet) connects to, as the Kubernetes backend
/// wires its DSN. `None` when there is nothing to sync.
pub(super) fn synced_database(graph: &crate::model::ArchGraph, settings: &crate::plan::Settings) -> Option<NodeIndex> {
    let n = graph.node(&settings.app.as_ref()?.node)?;
    if !matches!(graph.component(n).kind_id(), Some("k8s.deployment" | "k8s.statefulset")) {
        return None;
    }
    Wiring::of(graph, n).databases.first().map(|d| d.node)
}

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "db-secret-sync", kinds: &[], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    if graph.of_kind("aws.vpc").next().is_none() || !has_cluster(l) {
        return;
    }
    let Some(db) = synced_database(graph, l.settings) else { return };
    let Some(app) = l.settings.app.clone() else { return };
    let db_id = graph.component(db).id.clone();
    let secret_output = format!("{}SecretArn", pascal(&db_id));
    let Some(secret_arn) = l.stack(DATA).outputs.get(&secret_output).map(|o| o.value.clone()) else { return };
    let p = pascal(&app.node);
    let role = format!("{p}DbSecretSyncRole");
    let sa_param = format!("{p}DbSecretSyncServiceAccount");
    let Some(issuer) = Store::new(l).oidc() else { return };
    // PostgreSQL: the application's own user, unless it is configured as the master user
    let app_user = &l.settings.db_app_user;
    let own_user = super::database::is_postgres(graph, db) && !app_user.eq_ignore_ascii_case(&l.settings.db_username);
    let mut secrets = vec![secret_arn];
    if own_user {
        let dp = pascal(&db_id);
        let name = format!("{dp}AppUserSecret");
        l.add(
            DATA,
            &name,
            Resource::new(
                "AWS::SecretsManager::Secret",
                json!({
                    "Description": sub(&format!("${{AWS::StackName}}: the database user {app_user} of {}, owner of the database {} in {db_id} (the secret sync sets this password in the database)", app.node, l.settings.db_name)),
                    "KmsKeyId": get_att("DataKmsKey", "Arn"),
                    "GenerateSecretString": {
                        "SecretStringTemplate": serde_json::to_string(&json!({"username": app_user})).unwrap_or_default(),
                        "GenerateStringKey": "password",
                        "PasswordLength": 40,
                        "ExcludePunctuation": true,
                    },
                }),
            )
            .node(&db_id)
            // kept with the database (a snapshot restored later still has this user)
            .retain()
            .checkov_skip(
                "CKV2_AWS_57",
                "No rotation Lambda: the secret sync applies any new value of this secret to the database and to the pods within 15 minutes, so rotating is `aws secretsmanager put-secret-value` with a new password (cloudformation/README.md); a rotation Lambda would need a network path and a PostgreSQL driver of its own.",
            )
            .comment("letters and digits only: the DSN and the SQL take it without quoting surprises"),
        );
        l.output(
            DATA,
            &app_user_output(&db_id),
            json!({"Ref": name}),
            &format!("secret of `{}`'s own database user {app_user} (keys username, password)", app.node),
        );
        secrets.push(json!({"Ref": name}));
    }
    let secret_arn = if secrets.len() == 1 { secrets.remove(0) } else { json!(secrets) };
    l.param(
        DATA,
        "KubernetesNamespace",
        Parameter::new("String", "Kubernetes namespace of the workloads")
            .known(l.settings.namespace.as_str())
            .pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
    );
    l.param(
        DATA,
        &sa_param,
        Parameter::new("String", &format!("Kubernetes ServiceAccount of the database secret sync of `{}`", app.node))
            .known(service_account(&app.name).as_str())
            .pattern(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"),
    );
    let why = Why::Required(if own_user {
        format!("the CronJob that gives `{}` its own database user in `{db_id}` and writes its DSN", app.node)
    } else {
        format!("the CronJob that rewrites `{}`'s DSN after RDS rotates the master secret of `{db_id}`", app.node)
    });
    let read = l.allow(
        DATA,
        &role,
        "ReadDatabaseSecret",
        std::slice::from_ref(&why),
        &["secretsmanager:GetSecretValue"],
        secret_arn,
        Some(if own_user {
            "the master secret (to manage the application's user) and the application user's secret"
        } else {
            "the one secret the DSN is built from"
        }),
    );
    let mut decrypt = l.allow(
        DATA,
        &role,
        "DecryptThroughSecretsManager",
        &[why],
        &["kms:Decrypt"],
        get_att("DataKmsKey", "Arn"),
        Some("the data key encrypts the secret; only through Secrets Manager"),
    );
    decrypt["Condition"] =
        json!({"StringEquals": {"kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com")}});
    l.add(
        DATA,
        &role,
        Resource::new(
            "AWS::IAM::Role",
            json!({
                "Description": format!(
                    "IRSA role of the database secret sync of {}: reads the {} of {db_id}, nothing else",
                    app.node,
                    if own_user { "master and application user secrets" } else { "secret" }
                ),
                "AssumeRolePolicyDocument": irsa_trust("OidcProviderArn", &issuer, "${KubernetesNamespace}", &format!("${{{sa_param}}}")),
                "Policies": [{"PolicyName": "read-database-secret", "PolicyDocument": policy(vec![read, decrypt])}],
            }),
        )
        .node(&db_id)
        .comment("IRSA trust policies are whole !Sub JSON strings: the condition keys embed the issuer\n(\"<issuer>:sub\") and CloudFormation cannot put an intrinsic in a map key"),
    );
    l.output(
        DATA,
        &role_output(&app.node),
        get_att(&role, "Arn"),
        &format!("IRSA role of the database secret sync of `{}` (eks.amazonaws.com/role-arn)", app.node),
    );
}
