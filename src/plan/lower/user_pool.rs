//! Cognito user pools: a user pool per box and an app client for the users who sign in, in
//! the data stack (the pool keeps the users: deletion protection, kept on delete). An API's
//! `authorizes` arrow to the pool becomes a JWT authorizer of its routes (`api.rs`).

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use crate::plan::cfn::{get_att, r, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "user-pool", kinds: &["aws.cognito"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    for n in graph.of_kind("aws.cognito").collect::<Vec<_>>() {
        user_pool(l, n);
    }
}

fn user_pool(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let id = graph.component(n).id.clone();
    let p = pascal(&id);
    l.add(
        DATA,
        &p,
        Resource::new(
            "AWS::Cognito::UserPool",
            json!({
                "UserPoolName": sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))),
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                "Policies": {"PasswordPolicy": {
                    "MinimumLength": 12,
                    "RequireLowercase": true,
                    "RequireUppercase": true,
                    "RequireNumbers": true,
                    "RequireSymbols": true,
                    "TemporaryPasswordValidityDays": 3,
                }},
                "MfaConfiguration": "OPTIONAL",
                "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": false},
                "DeletionProtection": "ACTIVE",
            }),
        )
        .keep("Retain")
        .node(&id)
        .comment(&format!("user pool `{id}`: users sign up and in with their verified email, 12-character passwords,\nauthenticator-app MFA when they turn it on; deletion protection (it holds the users)")),
    );
    let client = format!("{p}Client");
    l.add(
        DATA,
        &client,
        Resource::new(
            "AWS::Cognito::UserPoolClient",
            json!({
                "UserPoolId": r(&p),
                "ClientName": format!("{}-app", kebab(&id, 40)),
                "GenerateSecret": false,
                "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "PreventUserExistenceErrors": "ENABLED",
                "SupportedIdentityProviders": ["COGNITO"],
                "EnableTokenRevocation": true,
            }),
        )
        .node(&id)
        .comment(
            "the app's client: a public client (browser or mobile: no secret), SRP sign-in only, no user enumeration",
        ),
    );
    for (e, a) in graph.incoming(n).collect::<Vec<_>>() {
        if graph.component(a).is("actor.user") && graph.connection(e).becomes == "edge" {
            l.built(e, format!("sign-in at user pool `{p}` (client `{client}`)"));
        }
    }
    l.output(DATA, &format!("{p}UserPoolId"), r(&p), &format!("user pool `{id}`"));
    l.output(DATA, &format!("{p}UserPoolArn"), get_att(&p, "Arn"), &format!("ARN of user pool `{id}`"));
    l.output(DATA, &format!("{p}UserPoolClientId"), r(&client), &format!("app client of user pool `{id}`"));
    l.output(
        DATA,
        &format!("{p}UserPoolIssuer"),
        sub(&format!("https://${{{p}.ProviderURL}}")),
        &format!("token issuer of user pool `{id}` (the JWT authorizers' issuer)"),
    );
}
