//! A small, deterministic YAML writer for archc's output: keys in the order they were built,
//! comments (an object's `"//"` key becomes `# ...` lines before it), CloudFormation's short
//! intrinsic tags (`!Ref`, `!GetAtt`, `!Sub`, ...), and strings quoted only when YAML would
//! read them as something else.

use serde_json::{Map, Value};

pub use crate::yaml::{scalar, COMMENT};

/// CloudFormation functions written as short tags.
const TAGS: &[(&str, &str)] = &[
    ("Ref", "!Ref"),
    ("Fn::GetAtt", "!GetAtt"),
    ("Fn::Sub", "!Sub"),
    ("Fn::Join", "!Join"),
    ("Fn::Select", "!Select"),
    ("Fn::Split", "!Split"),
    ("Fn::If", "!If"),
    ("Fn::Equals", "!Equals"),
    ("Fn::Not", "!Not"),
    ("Fn::And", "!And"),
    ("Fn::Or", "!Or"),
    ("Fn::Base64", "!Base64"),
    ("Fn::Cidr", "!Cidr"),
    ("Fn::GetAZs", "!GetAZs"),
    ("Fn::FindInMap", "!FindInMap"),
    ("Fn::ImportValue", "!ImportValue"),
    ("Condition", "!Condition"),
];

/// Write `value` as a YAML document (with a trailing newline).
pub fn to_yaml(value: &Value, cfn_tags: bool) -> String {
    let mut w = Writer { out: String::new(), cfn_tags };
    match value {
        Value::Object(map) => w.map_body(map, 0),
        Value::Array(items) => w.seq_body(items, 0),
        other => {
            w.out.push_str(&scalar(other));
            w.out.push('\n');
        }
    }
    w.out
}

struct Writer {
    out: String,
    cfn_tags: bool,
}

fn indent(n: usize) -> String {
    " ".repeat(n)
}

impl Writer {
    fn tag_of<'v>(&self, value: &'v Value) -> Option<(&'static str, &'v Value)> {
        if !self.cfn_tags {
            return None;
        }
        let map = value.as_object()?;
        if map.len() != 1 {
            return None;
        }
        let (k, v) = map.iter().next()?;
        let tag = TAGS.iter().find(|(name, _)| name == k)?.1;
        // `Condition` is only a tag inside `Fn::And/Or/Not`-style lists; as a key elsewhere it
        // is a resource attribute
        if tag == "!Condition" && !v.is_string() {
            return None;
        }
        Some((tag, v))
    }

    fn comment(&mut self, map: &Map<String, Value>, level: usize) {
        if let Some(Value::String(text)) = map.get(COMMENT) {
            for line in text.lines() {
                self.out.push_str(&format!("{}# {line}\n", indent(level)));
            }
        }
    }

    /// The entries of a map at `level` (each on its own line).
    fn map_body(&mut self, map: &Map<String, Value>, level: usize) {
        if map.keys().all(|k| k == COMMENT) {
            self.out.push_str(&format!("{}{{}}\n", indent(level)));
            return;
        }
        for (k, v) in map {
            if k == COMMENT {
                continue;
            }
            if let Value::Object(inner) = v {
                self.comment(inner, level);
            }
            self.out.push_str(&format!("{}{}:", indent(level), key(k)));
            self.value_after_key(v, level);
        }
    }

    /// A value after `key:` (inline for scalars and tags, else on the next lines).
    fn value_after_key(&mut self, v: &Value, level: usize) {
        if let Some((tag, arg)) = self.tag_of(v) {
            self.tagged(tag, arg, level);
            return;
        }
        match v {
            Value::Object(m) if m.keys().any(|k| k != COMMENT) => {
                self.out.push('\n');
                self.map_body(m, level + 2);
            }
            Value::Object(_) => self.out.push_str(" {}\n"),
            Value::Array(items) if items.is_empty() => self.out.push_str(" []\n"),
            Value::Array(items) => {
                self.out.push('\n');
                self.seq_body(items, level + 2);
            }
            Value::String(s) if s.contains('\n') => self.block_string(s, level + 2),
            other => {
                self.out.push(' ');
                self.out.push_str(&scalar(other));
                self.out.push('\n');
            }
        }
    }

    fn block_string(&mut self, s: &str, level: usize) {
        let chomp = if s.ends_with('\n') { "" } else { "-" };
        self.out.push_str(&format!(" |{chomp}\n"));
        for line in s.trim_end_matches('\n').lines() {
            if line.is_empty() {
                self.out.push('\n');
            } else {
                self.out.push_str(&format!("{}{line}\n", indent(level)));
            }
        }
    }

    fn tagged(&mut self, tag: &str, arg: &Value, level: usize) {
        match arg {
            Value::String(s) if s.contains('\n') => {
                self.out.push_str(&format!(" {tag}"));
                self.block_string(s, level + 2);
            }
            Value::String(s) if tag == "!GetAtt" => self.out.push_str(&format!(" {tag} {s}\n")),
            Value::Array(items) if tag == "!GetAtt" && items.iter().all(Value::is_string) => {
                let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                self.out.push_str(&format!(" {tag} {}\n", parts.join(".")));
            }
            Value::Array(items) if items.is_empty() => self.out.push_str(&format!(" {tag} []\n")),
            Value::Array(items) => {
                self.out.push_str(&format!(" {tag}\n"));
                self.seq_body(items, level + 2);
            }
            Value::Object(m) => {
                self.out.push_str(&format!(" {tag}\n"));
                self.map_body(m, level + 2);
            }
            other => self.out.push_str(&format!(" {tag} {}\n", scalar(other))),
        }
    }

    fn seq_body(&mut self, items: &[Value], level: usize) {
        for item in items {
            if let Value::Object(m) = item {
                self.comment(m, level);
            }
            if let Some((tag, arg)) = self.tag_of(item) {
                self.out.push_str(&format!("{}-", indent(level)));
                self.tagged(tag, arg, level);
                continue;
            }
            match item {
                Value::Object(m) if m.keys().any(|k| k != COMMENT) => {
                    // the first entry goes on the dash line
                    let mut first = true;
                    for (k, v) in m {
                        if k == COMMENT {
                            continue;
                        }
                        if first {
                            self.out.push_str(&format!("{}- {}:", indent(level), key(k)));
                            first = false;
                        } else {
                            if let Value::Object(inner) = v {
                                self.comment(inner, level + 2);
                            }
                            self.out.push_str(&format!("{}{}:", indent(level + 2), key(k)));
                        }
                        self.value_after_key(v, level + 2);
                    }
                }
                Value::Object(_) => self.out.push_str(&format!("{}- {{}}\n", indent(level))),
                Value::Array(inner) if inner.is_empty() => self.out.push_str(&format!("{}- []\n", indent(level))),
                Value::Array(inner) => {
                    self.out.push_str(&format!("{}-\n", indent(level)));
                    self.seq_body(inner, level + 2);
                }
                Value::String(s) if s.contains('\n') => {
                    self.out.push_str(&format!("{}-", indent(level)));
                    self.block_string(s, level + 2);
                }
                other => self.out.push_str(&format!("{}- {}\n", indent(level), scalar(other))),
            }
        }
    }
}

fn key(k: &str) -> String {
    match scalar(&Value::String(k.to_string())) {
        s if s.starts_with('"') => s,
        s => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_cloudformation_with_tags_and_comments() {
        let v = json!({
            "Resources": {
                "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": {"Ref": "VpcCidr"}, "EnableDnsSupport": true}},
                "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Statement": [
                    {"//": "no resource-level permissions", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
                ]}},
                "Out": {"Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}, "Ids": {"Fn::Join": [",", [{"Ref": "A"}, {"Ref": "B"}]]}}
            }
        });
        let yaml = to_yaml(&v, true);
        assert_eq!(
            yaml,
            "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: !Ref VpcCidr\n      EnableDnsSupport: true\n  Policy:\n    Type: AWS::IAM::Policy\n    Properties:\n      Statement:\n        # no resource-level permissions\n        - Effect: Allow\n          Action: ecr:GetAuthorizationToken\n          Resource: \"*\"\n  Out:\n    Value: !GetAtt Db.Endpoint.Address\n    Ids: !Join\n      - \",\"\n      -\n        - !Ref A\n        - !Ref B\n"
        );
        let back: serde_yaml::Value = serde_yaml::from_str(&yaml.replace('!', "")).expect("parses");
        assert!(back.get("Resources").is_some());
    }

    #[test]
    fn quotes_what_yaml_would_misread() {
        for s in ["true", "no", "1.33", "16.10", "", " x", "a: b", "*", "#x", "0x1F", "12:30", "on"] {
            assert!(scalar(&json!(s)).starts_with('"'), "{s}");
        }
        for s in ["eu-north-1", "AWS::EC2::VPC", "10.0.0.0/16", "arn:aws:iam::aws:policy/x", "kubernetes.io/role/elb"] {
            assert_eq!(scalar(&json!(s)), s);
        }
    }
}
