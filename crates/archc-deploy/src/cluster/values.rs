//! The values the manifests' `${Name}` placeholders are filled with: stack outputs, and the
//! deploy-time values `plan.json` describes (`kubernetes.deploy_values`): configuration given
//! with `--set`, the image tag and digest from ECR, the DSN built in memory from the managed
//! database secret and that secret's version.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::Error;
use crate::plan::DeployValue;

/// Values by placeholder name. Some are secrets (the DSN): `Debug` never shows a value, and
/// nothing prints the map.
#[derive(Default, Clone)]
pub struct Values {
    map: BTreeMap<String, String>,
    secret: BTreeSet<String>,
    /// Where each deploy-time value came from, for the report (no values).
    pub notes: Vec<String>,
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Values")
            .field("names", &self.map.keys().collect::<Vec<_>>())
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl Values {
    pub fn map(&self) -> &BTreeMap<String, String> {
        &self.map
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    pub fn insert(&mut self, name: &str, value: String) {
        self.map.insert(name.to_string(), value);
    }

    pub fn insert_secret(&mut self, name: &str, value: String) {
        self.secret.insert(name.to_string());
        self.map.insert(name.to_string(), value);
    }

    pub fn is_secret(&self, name: &str) -> bool {
        self.secret.contains(name)
    }
}

/// What the values are computed from. `Lookups` is the AWS side (ECR, Secrets Manager),
/// a trait so tests can check the DSN without a network.
pub struct Inputs<'a> {
    /// Outputs of every stack, merged (names are unique across stacks).
    pub outputs: &'a BTreeMap<String, String>,
    pub deploy_values: &'a BTreeMap<String, DeployValue>,
    /// `--set NAME=VALUE`.
    pub set: &'a BTreeMap<String, String>,
    /// `--image-tag`.
    pub image_tag: Option<&'a str>,
    /// The placeholders the manifests and Helm values use.
    pub needed: &'a BTreeSet<String>,
    /// Where each placeholder's value comes from, in words (`plan.json`), for errors.
    pub sources: &'a BTreeMap<String, String>,
}

/// A database secret as RDS manages it (only what the DSN needs).
pub struct DbSecret {
    pub username: String,
    pub password: String,
    pub version_id: String,
}

impl fmt::Debug for DbSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSecret").field("version_id", &self.version_id).finish_non_exhaustive()
    }
}

/// The AWS lookups deploy-time values need.
pub trait Lookups {
    /// The newest tagged image of a repository: (tag, pushed at).
    fn newest_image(
        &self,
        repository: &str,
    ) -> impl std::future::Future<Output = Result<Option<(String, String)>, Error>> + Send;
    /// The digest of `repository:tag`.
    fn digest(&self, repository: &str, tag: &str) -> impl std::future::Future<Output = Result<String, Error>> + Send;
    /// The managed secret's username, password and version.
    fn db_secret(&self, arn: &str) -> impl std::future::Future<Output = Result<DbSecret, Error>> + Send;
}

/// Characters kept as they are in a DSN's user and password: RFC 3986 unreserved.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Fill a DSN template's slots: `<user>` and `<password>` URL-encoded, `<user:raw>` and
/// `<password:raw>` as they are (a driver that decodes nothing).
pub fn dsn(template: &str, secret: &DbSecret, host: &str, port: &str, database: &str) -> String {
    template
        .replace("<user:raw>", &secret.username)
        .replace("<password:raw>", &secret.password)
        .replace("<user>", &utf8_percent_encode(&secret.username, USERINFO).to_string())
        .replace("<password>", &utf8_percent_encode(&secret.password, USERINFO).to_string())
        .replace("<host>", host)
        .replace("<port>", port)
        .replace("<dbname>", database)
}

/// Compute every value the manifests need.
///
/// # Errors
/// A value nobody gave (with the option that gives it), an output the stacks lack, an empty
/// repository, an unreadable secret. Messages name values, never show secret ones.
pub async fn compute(inputs: &Inputs<'_>, aws: &impl Lookups) -> Result<Values, Error> {
    let mut values = Values::default();
    let mut missing = Vec::new();
    let output = |name: &str| -> Result<String, Error> {
        inputs.outputs.get(name).cloned().ok_or_else(|| Error::Cluster(format!("the stacks have no output `{name}`")))
    };
    // the tag first: the digest needs it
    let mut order: Vec<&String> = inputs.needed.iter().collect();
    order.sort_by_key(|n| !matches!(inputs.deploy_values.get(*n), Some(DeployValue::ImageTag { .. })));
    for name in order {
        if let Some(v) = inputs.set.get(name) {
            values.insert(name, v.clone());
            values.notes.push(format!("{name}: from --set"));
            continue;
        }
        match inputs.deploy_values.get(name) {
            Some(DeployValue::Config { key }) => missing.push(format!(
                "`{name}` (configuration `{key}` is not set): pass --set {name}=VALUE or set `{key}` in the diagram's configuration"
            )),
            Some(DeployValue::ImageTag { repository_output }) => {
                let repository = output(repository_output)?;
                if let Some(tag) = inputs.image_tag {
                    values.insert(name, tag.to_string());
                    values.notes.push(format!("image tag {tag}: from --image-tag"));
                } else {
                    match aws.newest_image(&repository).await? {
                        Some((tag, pushed)) => {
                            values.notes.push(format!("image tag {tag}: the newest image in ECR repository {repository} (pushed {pushed}); pass --image-tag to choose"));
                            values.insert(name, tag);
                        }
                        None => missing.push(format!(
                            "`{name}`: ECR repository {repository} has no tagged image yet; push one (the CI workflow does on its first run) or pass --image-tag"
                        )),
                    }
                }
            }
            Some(DeployValue::ImageDigest { repository_output: Some(repo), tag, .. }) => {
                let repository = output(repo)?;
                let tag_name = tag.as_deref().unwrap_or("ImageTag");
                let Some(tag) = values.get(tag_name).map(str::to_string).or_else(|| inputs.image_tag.map(str::to_string))
                else {
                    missing.push(format!("`{name}`: needs the image tag `{tag_name}` first"));
                    continue;
                };
                let digest = aws.digest(&repository, &tag).await?;
                values.notes.push(format!("image digest of {repository}:{tag}: {digest}"));
                values.insert(name, digest);
            }
            Some(DeployValue::ImageDigest { image, .. }) => missing.push(format!(
                "`{name}`: the digest of {} (no registry of this architecture): pass --set {name}=sha256:...",
                image.as_deref().unwrap_or("the published image")
            )),
            Some(DeployValue::Dsn { template, secret_output, host_output, port_output, database_output }) => {
                let secret = aws.db_secret(&output(secret_output)?).await?;
                let value = dsn(template, &secret, &output(host_output)?, &output(port_output)?, &output(database_output)?);
                values.insert_secret(name, value);
                values.notes.push(format!("{name}: built in memory from the managed secret `{secret_output}` (not shown)"));
            }
            Some(DeployValue::SecretVersion { secret_output }) => {
                let secret = aws.db_secret(&output(secret_output)?).await?;
                values.insert(name, secret.version_id.clone());
            }
            None => match inputs.outputs.get(name) {
                Some(v) => values.insert(name, v.clone()),
                None => missing.push(format!(
                    "`{name}` ({})",
                    inputs.sources.get(name).map_or("no stack has this output", String::as_str)
                )),
            },
        }
    }
    if missing.is_empty() {
        Ok(values)
    } else {
        Err(Error::Missing(format!("the manifests need values deploy does not have:\n  {}", missing.join("\n  "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;

    impl Lookups for Fake {
        async fn newest_image(&self, repository: &str) -> Result<Option<(String, String)>, Error> {
            Ok((repository == "mattermost").then(|| ("abc123".to_string(), "2026-01-02T03:04:05Z".to_string())))
        }
        async fn digest(&self, _: &str, tag: &str) -> Result<String, Error> {
            Ok(format!("sha256:{tag}"))
        }
        async fn db_secret(&self, arn: &str) -> Result<DbSecret, Error> {
            assert_eq!(arn, "arn:aws:secretsmanager:eu-north-1:1:secret:rds!db-1");
            Ok(DbSecret { username: "app admin".into(), password: "p@ss:/w?rd#%".into(), version_id: "v-1".into() })
        }
    }

    fn deploy_values() -> BTreeMap<String, DeployValue> {
        serde_json::from_value(serde_json::json!({
            "Domain": {"config": {"key": "domain"}},
            "ImageTag": {"image_tag": {"repository_output": "EcrRepositoryName"}},
            "ImageDigest": {"image_digest": {"repository_output": "EcrRepositoryName", "tag": "ImageTag"}},
            "RdsDataSource": {"dsn": {"template": "postgres://<user>:<password>@<host>:<port>/<dbname>?sslmode=require",
                "secret_output": "RdsSecretArn", "host_output": "RdsEndpointAddress", "port_output": "RdsEndpointPort", "database_output": "RdsDatabaseName"}},
            "RdsSecretVersionId": {"secret_version": {"secret_output": "RdsSecretArn"}}
        }))
        .expect("deploy values")
    }

    fn outputs() -> BTreeMap<String, String> {
        [
            ("EcrRepositoryName", "mattermost"),
            ("RdsSecretArn", "arn:aws:secretsmanager:eu-north-1:1:secret:rds!db-1"),
            ("RdsEndpointAddress", "db.example"),
            ("RdsEndpointPort", "5432"),
            ("RdsDatabaseName", "mattermost"),
            ("VpcId", "vpc-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn dsn_slots_are_url_encoded_or_taken_as_they_are() {
        let secret = DbSecret { username: "app user".into(), password: "p@ss/w:rd%".into(), version_id: "v1".into() };
        assert_eq!(
            dsn("postgres://<user>:<password>@<host>:<port>/<dbname>", &secret, "h", "5432", "db"),
            "postgres://app%20user:p%40ss%2Fw%3Ard%25@h:5432/db"
        );
        assert_eq!(
            dsn("<user:raw>:<password:raw>@tcp(<host>:<port>)/<dbname>?tls=true", &secret, "h", "3306", "db"),
            "app user:p@ss/w:rd%@tcp(h:3306)/db?tls=true"
        );
    }

    #[tokio::test]
    async fn computes_the_image_the_dsn_and_the_version_and_never_shows_the_dsn() {
        let dv = deploy_values();
        let out = outputs();
        let needed: BTreeSet<String> =
            ["Domain", "ImageTag", "ImageDigest", "RdsDataSource", "RdsSecretVersionId", "VpcId"]
                .map(String::from)
                .into();
        let set = BTreeMap::from([("Domain".to_string(), "chat.example.com".to_string())]);
        let inputs = Inputs {
            outputs: &out,
            deploy_values: &dv,
            set: &set,
            image_tag: None,
            needed: &needed,
            sources: &BTreeMap::new(),
        };
        let v = compute(&inputs, &Fake).await.expect("values");
        assert_eq!(v.get("ImageTag"), Some("abc123"));
        assert_eq!(v.get("ImageDigest"), Some("sha256:abc123"));
        assert_eq!(v.get("RdsSecretVersionId"), Some("v-1"));
        assert_eq!(v.get("VpcId"), Some("vpc-1"));
        assert_eq!(
            v.get("RdsDataSource"),
            Some("postgres://app%20admin:p%40ss%3A%2Fw%3Frd%23%25@db.example:5432/mattermost?sslmode=require")
        );
        assert!(v.is_secret("RdsDataSource"));
        let shown = format!("{v:?} {}", v.notes.join(" "));
        assert!(!shown.contains("p%40ss") && !shown.contains("p@ss"), "{shown}");
        assert!(shown.contains("newest image in ECR repository mattermost"), "{shown}");
    }

    #[tokio::test]
    async fn says_what_is_missing_and_how_to_give_it() {
        let dv = deploy_values();
        let mut out = outputs();
        out.insert("EcrRepositoryName".into(), "empty".into());
        let needed: BTreeSet<String> = ["Domain", "ImageTag", "S3BucketName"].map(String::from).into();
        let sources = BTreeMap::from([("S3BucketName".to_string(), "data stack output `S3BucketName`".to_string())]);
        let inputs = Inputs {
            outputs: &out,
            deploy_values: &dv,
            set: &BTreeMap::new(),
            image_tag: None,
            needed: &needed,
            sources: &sources,
        };
        let err = compute(&inputs, &Fake).await.expect_err("missing").to_string();
        assert!(err.contains("--set Domain=VALUE"), "{err}");
        assert!(err.contains("has no tagged image yet") && err.contains("--image-tag"), "{err}");
        assert!(err.contains("`S3BucketName` (data stack output `S3BucketName`)"), "{err}");
    }
}
