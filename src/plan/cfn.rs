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

/// `!Sub [template, {name: value, ...}]`.
pub fn sub_with(template: &str, vars: Value) -> Value {
    json!({ "Fn::Sub": [template, vars] })
}

pub fn split(separator: &str, source: Value) -> Value {
    json!({ "Fn::Split": [separator, source] })
}

/// An AWS managed policy ARN in any partition.
pub fn aws_policy(path: &str) -> Value {
    sub(&format!("arn:${{AWS::Partition}}:iam::aws:policy/{path}"))
}

/// An EKS access policy ARN (`AmazonEKSEditPolicy`).
pub fn eks_access_policy(name: &str) -> Value {
    sub(&format!("arn:${{AWS::Partition}}:eks::aws:cluster-access-policy/{name}"))
}

/// The first statement of every key policy: the account administers the key through IAM.
pub fn key_admin_statement(extra_comment: Option<&str>) -> Value {
    let mut comment = String::from(
        "\"kms:*\" on \"*\": the standard default key policy; it delegates all key permissions\nto IAM in this account. In a key policy \"*\" means \"this key\".",
    );
    if let Some(c) = extra_comment {
        comment.push('\n');
        comment.push_str(c);
    }
    json!({
        "//": comment,
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
        "Action": "kms:*",
        "Resource": "*",
    })
}

/// A customer managed KMS key with rotation, kept on delete.
pub fn kms_key(description: Value, statements: Vec<Value>) -> Value {
    json!({"Description": description, "EnableKeyRotation": true, "KeyPolicy": policy(statements)})
}

/// The bucket-policy statement that refuses every request without TLS.
pub fn deny_insecure_transport(bucket: &str) -> Value {
    json!({
        "//": "Deny for every caller (\"*\") and every S3 action (\"s3:*\") without TLS, so no plaintext\nrequest of any kind succeeds; a Deny cannot widen access.",
        "Sid": "DenyNonTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [get_att(bucket, "Arn"), sub(&format!("${{{bucket}.Arn}}/*"))],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    })
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
    sub(&irsa_trust_document(provider_arn_param, issuer_param, namespace, service_account))
}

/// `irsa_trust` with `${ProviderArn}` and `${Issuer}` given as values (`!Sub [doc, vars]`),
/// for the stack that creates the provider.
pub fn irsa_trust_with(provider_arn: Value, issuer: Value, namespace: &str, service_account: &str) -> Value {
    sub_with(
        &irsa_trust_document("ProviderArn", "Issuer", namespace, service_account),
        json!({"ProviderArn": provider_arn, "Issuer": issuer}),
    )
}

fn irsa_trust_document(provider_arn_param: &str, issuer_param: &str, namespace: &str, service_account: &str) -> String {
    format!(
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
    )
}
