//! APIs: an API Gateway HTTP API (`AWS::ApiGatewayV2`) per box, in the app stack: a route
//! and a Lambda proxy integration per arrow to a function (with the permission to invoke
//! it), the `$default` stage with throttling and JSON access logs to its own log group, and
//! a custom domain when `domain` and `certificate_arn` are configured.
//!
//! A route's key is the arrow's label when it names a path (`GET /tasks`, `/orders`), else
//! `$default` for an API with one function, else `ANY /<function>/{proxy+}`. Routes to load
//! balancers (a VPC link) are not built yet: those arrows are reported. An arrow to a Cognito
//! user pool (`authorizes`) is a JWT authorizer on every route (the pool's app client as audience).

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::json;

use crate::plan::cfn::{get_att, r, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const APP: StackId = StackId::App;
const DATA: StackId = StackId::Data;

/// How long the access logs are kept (days).
const LOG_RETENTION_DAYS: u32 = 365;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "api", kinds: &["aws.api-gateway"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    for n in graph.of_kind("aws.api-gateway").collect::<Vec<_>>() {
        api(l, n);
    }
}

/// The route key an arrow's label names (`GET /tasks`, `/orders/{id}`), if any.
fn route_key(label: &str) -> Option<String> {
    let words: Vec<&str> = label.split_whitespace().collect();
    let (method, path) = match words.as_slice() {
        [path] => ("ANY", *path),
        [method, path] => (*method, *path),
        _ => return None,
    };
    let method = method.to_ascii_uppercase();
    let methods = ["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let path_ok = path.starts_with('/') && path.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.{}+".contains(c));
    (methods.contains(&method.as_str()) && path_ok).then(|| format!("{method} {path}"))
}

fn api(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let settings = l.settings;
    let id = graph.component(n).id.clone();
    let p = pascal(&id);
    let mut functions: Vec<(EdgeIndex, NodeIndex)> = graph
        .outgoing(n)
        .filter(|(e, b)| {
            graph.connection(*e).becomes == "integration"
                && graph.component(*b).is("aws.lambda")
                && l.stack(APP).resources.contains_key(&pascal(&graph.component(*b).id))
        })
        .collect();
    functions.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));

    l.add(
        APP,
        &p,
        Resource::new(
            "AWS::ApiGatewayV2::Api",
            json!({
                "Name": sub(&format!("${{AWS::StackName}}-{}", kebab(&id, 40))),
                "ProtocolType": "HTTP",
                "Description": format!("HTTP API {id} of the diagram"),
            }),
        )
        .node(&id)
        .comment(&format!("HTTP API `{id}`: one route per arrow to a function")),
    );
    let logs = format!("{p}AccessLogGroup");
    let key = super::function::log_key(l);
    l.add(
        APP,
        &logs,
        Resource::new(
            "AWS::Logs::LogGroup",
            json!({
                "LogGroupName": sub(&format!("/aws/apigateway/${{AWS::StackName}}-{}", kebab(&id, 40))),
                "RetentionInDays": LOG_RETENTION_DAYS,
                "KmsKeyId": key,
            }),
        )
        .keep("Retain")
        .node(&id)
        .comment(&format!("access logs of `{id}`, kept {LOG_RETENTION_DAYS} days, encrypted with the logs key")),
    );
    let format = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}"#;
    l.add(
        APP,
        &format!("{p}DefaultStage"),
        Resource::new(
            "AWS::ApiGatewayV2::Stage",
            json!({
                "ApiId": r(&p),
                "StageName": "$default",
                "AutoDeploy": true,
                "AccessLogSettings": {"DestinationArn": get_att(&logs, "Arn"), "Format": format},
                "DefaultRouteSettings": {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100},
            }),
        )
        .node(&id)
        .comment(
            "the default stage: deployed on every change, throttled (100 requests/s, bursts of 200), access logged",
        ),
    );

    // an arrow to a user pool: a JWT authorizer on every route
    let pool = graph.outgoing(n).find(|(e, b)| {
        graph.connection(*e).becomes == "integration"
            && graph.component(*b).is("aws.cognito")
            && l.stack(DATA).outputs.contains_key(&format!("{}UserPoolIssuer", pascal(&graph.component(*b).id)))
    });
    let authorizer = format!("{p}Authorizer");
    if let Some((e, b)) = pool {
        let up = pascal(&graph.component(b).id);
        let issuer = l.import(APP, DATA, &format!("{up}UserPoolIssuer"), "String");
        let audience = l.import(APP, DATA, &format!("{up}UserPoolClientId"), "String");
        l.add(
            APP,
            &authorizer,
            Resource::new(
                "AWS::ApiGatewayV2::Authorizer",
                json!({
                    "ApiId": r(&p),
                    "Name": format!("{}-jwt", kebab(&graph.component(b).id, 40)),
                    "AuthorizerType": "JWT",
                    "IdentitySource": ["$request.header.Authorization"],
                    "JwtConfiguration": {"Issuer": issuer, "Audience": [audience]},
                }),
            )
            .node(&id)
            .comment(&format!(
                "for arrow `{}`: every route requires a token of the user pool's app client",
                l.arrow(e)
            )),
        );
        l.built(e, format!("JWT authorizer `{authorizer}` of every route of `{p}`"));
    }
    let single = functions.len() == 1;
    for (e, b) in &functions {
        let fid = graph.component(*b).id.clone();
        let f = pascal(&fid);
        let integration = format!("{p}{f}Integration");
        l.add(
            APP,
            &integration,
            Resource::new(
                "AWS::ApiGatewayV2::Integration",
                json!({
                    "ApiId": r(&p),
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": get_att(&f, "Arn"),
                    "PayloadFormatVersion": "2.0",
                    "TimeoutInMillis": super::function::TIMEOUT * 1000,
                }),
            )
            .node(&id),
        );
        let label = graph.connection(*e).label.clone();
        let key = route_key(&label).unwrap_or_else(|| {
            if single {
                "$default".to_string()
            } else {
                format!("ANY /{}/{{proxy+}}", kebab(&fid, 60))
            }
        });
        let route = format!("{p}{f}Route");
        let mut route_props =
            json!({"ApiId": r(&p), "RouteKey": key, "Target": sub(&format!("integrations/${{{integration}}}"))});
        let mut resource = if pool.is_some() {
            route_props["AuthorizationType"] = json!("JWT");
            route_props["AuthorizerId"] = r(&authorizer);
            Resource::new("AWS::ApiGatewayV2::Route", route_props)
        } else {
            Resource::new("AWS::ApiGatewayV2::Route", route_props).checkov_skip(
                "CKV_AWS_309",
                "The diagram draws no authorizer for this API: the function authenticates its callers (a JWT authorizer is built when a Cognito user pool is drawn with an arrow from the API)",
            )
        };
        resource = resource.node(&id).comment(&format!("for arrow `{}`: `{key}` → `{fid}`", l.arrow(*e)));
        l.add(APP, &route, resource);
        l.add(
            APP,
            &format!("{p}Invokes{f}"),
            Resource::new(
                "AWS::Lambda::Permission",
                json!({
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": get_att(&f, "Arn"),
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": sub(&format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{p}}}/*")),
                }),
            )
            .node(&id)
            .comment(&format!("for arrow `{}`: this API only may invoke the function", l.arrow(*e))),
        );
        l.built(*e, format!("route `{key}` of `{p}` (integration `{integration}`)"));
    }
    if functions.is_empty() {
        // an API without routes answers 404: still built, the finding is the arrows'
        l.stack(APP).notes.push((
            format!("{p}Routes"),
            format!("`{id}` has no arrow to a function archc builds: it answers 404 to every request"),
        ));
    }

    // who calls it
    for (e, a) in graph.incoming(n).collect::<Vec<_>>() {
        if graph.component(a).is("actor.user") && graph.connection(e).becomes == "edge" {
            l.built(e, format!("the public endpoint of `{p}` (output {p}Endpoint)"));
        }
    }

    match (&settings.domain, &settings.certificate_arn) {
        (Some(domain), Some(certificate)) => {
            let name = format!("{p}DomainName");
            l.add(
                APP,
                &name,
                Resource::new(
                    "AWS::ApiGatewayV2::DomainName",
                    json!({
                        "DomainName": domain,
                        "DomainNameConfigurations": [{"CertificateArn": certificate, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}],
                    }),
                )
                .node(&id)
                .comment("the configured domain (point its DNS record at the RegionalDomainName output)"),
            );
            l.add(
                APP,
                &format!("{p}ApiMapping"),
                Resource::new(
                    "AWS::ApiGatewayV2::ApiMapping",
                    json!({"ApiId": r(&p), "DomainName": r(&name), "Stage": r(&format!("{p}DefaultStage"))}),
                )
                .node(&id),
            );
            l.output(
                APP,
                &format!("{p}RegionalDomainName"),
                get_att(&name, "RegionalDomainName"),
                &format!("target of the DNS record of `{domain}`"),
            );
        }
        (Some(domain), None) => {
            l.stack(APP).notes.push((
                format!("{p}Domain"),
                format!("`{id}` has no custom domain: `{domain}` is configured but `certificate_arn` is not (the API answers on its execute-api endpoint)"),
            ));
        }
        _ => {}
    }
    l.output(APP, &format!("{p}Endpoint"), get_att(&p, "ApiEndpoint"), &format!("URL of the HTTP API `{id}`"));
}

#[cfg(test)]
mod tests {
    use super::route_key;

    #[test]
    fn a_label_that_names_a_path_is_a_route() {
        assert_eq!(route_key("GET /tasks").as_deref(), Some("GET /tasks"));
        assert_eq!(route_key("/orders/{id}").as_deref(), Some("ANY /orders/{id}"));
        assert_eq!(route_key("8. Execute"), None);
        assert_eq!(route_key("invoke"), None);
    }
}
