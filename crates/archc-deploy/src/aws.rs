//! AWS configuration: the standard credential and region chain (aws-config), with
//! `--profile`, `--region` and `--endpoint-url` on top; one configuration per region.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials as _;
use tokio::sync::Mutex;

use crate::error::{DisplayChain, Error};

/// Where AWS is and who we are there.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// `SdkConfig`s by region, loaded once each.
#[derive(Debug, Default)]
pub struct Configs {
    options: AwsOptions,
    loaded: Mutex<BTreeMap<String, SdkConfig>>,
}

impl Configs {
    pub fn new(options: AwsOptions) -> Self {
        Self { options, loaded: Mutex::new(BTreeMap::new()) }
    }

    /// The configuration for `region`.
    pub async fn get(&self, region: &str) -> SdkConfig {
        let mut loaded = self.loaded.lock().await;
        if let Some(c) = loaded.get(region) {
            return c.clone();
        }
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string())).timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(p) = &self.options.profile {
            loader = loader.profile_name(p);
        }
        if let Some(u) = &self.options.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let conf = loader.load().await;
        loaded.insert(region.to_string(), conf.clone());
        conf
    }

    /// Fail early, with what to do, when the chain finds no credentials.
    ///
    /// # Errors
    /// No credentials in the environment, the profile, SSO, the instance role, ...
    pub async fn check_credentials(&self, region: &str) -> Result<(), Error> {
        let conf = self.get(region).await;
        let Some(provider) = conf.credentials_provider() else {
            return Err(Error::Aws("no AWS credentials provider is configured".into()));
        };
        provider.provide_credentials().await.map(|_| ()).map_err(|e| {
            Error::Aws(format!(
                "no AWS credentials ({}): set AWS_PROFILE or --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
                DisplayChain(&e)
            ))
        })
    }
}
