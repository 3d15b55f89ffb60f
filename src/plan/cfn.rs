//! CloudFormation intrinsic functions as JSON values (written as `!Ref`, `!GetAtt`, ... by
//! the YAML writer).

use serde_json::{json, Value};

pub fn r(name: &str) -> Value {
    json!({ "Ref": name })
}

pub fn get_att(resource: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [resource, attribute] })
}

pub fn sub(template: &str) -> Value {
    json!({ "Fn::Sub": template })
}

pub fn join(separator: &str, items: Vec<Value>) -> Value {
    json!({ "Fn::Join": [separator, items] })
}

pub fn select(index: usize, list: Value) -> Value {
    json!({ "Fn::Select": [index, list] })
}

pub fn if_(condition: &str, then: Value, otherwise: Value) -> Value {
    json!({ "Fn::If": [condition, then, otherwise] })
}

pub fn equals(a: Value, b: Value) -> Value {
    json!({ "Fn::Equals": [a, b] })
}

pub fn not(v: Value) -> Value {
    json!({ "Fn::Not": [v] })
}

pub fn no_value() -> Value {
    r("AWS::NoValue")
}

/// `Tags:` as CloudFormation wants them, in the given order.
pub fn tags(pairs: &[(&str, Value)]) -> Value {
    Value::Array(pairs.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

/// An IAM policy document.
pub fn policy(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// A trust policy for an AWS service principal.
pub fn service_trust(service: &str) -> Value {
    policy(vec![json!({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})])
}

/// An IRSA trust policy as a whole `!Sub` JSON string: CloudFormation cannot put an
/// intrinsic function in a map key, and the condition keys embed the issuer
/// (`<issuer>:sub`), so the document is one substituted string (reference C6).
pub fn irsa_trust(provider_arn_param: &str, issuer_param: &str, namespace: &str, service_account: &str) -> Value {
    let doc = format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Allow",
      "Principal": {{"Federated": "${{{provider_arn_param}}}"}},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {{
        "StringEquals": {{
          "${{{issuer_param}}}:sub": "system:serviceaccount:{namespace}:{service_account}",
          "${{{issuer_param}}}:aud": "sts.amazonaws.com"
        }}
      }}
    }}
  ]
}}
"#
    );
    sub(&doc)
}
