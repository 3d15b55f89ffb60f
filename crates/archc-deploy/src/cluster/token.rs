//! The bearer token EKS accepts, made as aws-iam-authenticator and `aws eks get-token`
//! make it: a presigned STS `GetCallerIdentity` URL (signed header `x-k8s-aws-id: <cluster>`,
//! 60 s expiry), base64url without padding, prefixed `k8s-aws-v1.`.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;

use crate::error::Error;

/// A token for `cluster` in `region`, signed at `now`. The token is a credential: it is
/// never printed, and errors do not include it.
///
/// # Errors
/// Signing fails (an invalid region or cluster name).
pub fn eks_token(credentials: &Credentials, region: &str, cluster: &str, now: SystemTime) -> Result<String, Error> {
    let identity: Identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| Error::Cluster(format!("cannot sign the EKS token: {e}")))?
        .into();
    let url = format!("https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15");
    let headers = [("x-k8s-aws-id", cluster)];
    let request = SignableRequest::new("GET", &url, headers.into_iter(), SignableBody::Bytes(&[]))
        .map_err(|e| Error::Cluster(format!("cannot sign the EKS token: {e}")))?;
    let (instructions, _) =
        sign(request, &params).map_err(|e| Error::Cluster(format!("cannot sign the EKS token: {e}")))?.into_parts();
    let mut presigned = http::Request::builder()
        .uri(&url)
        .body(())
        .map_err(|e| Error::Cluster(format!("cannot sign the EKS token: {e}")))?;
    instructions.apply_to_request_http1x(&mut presigned);
    let signed = presigned.uri().to_string();
    Ok(format!("k8s-aws-v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same token botocore's `SigV4QueryAuth` (what `aws eks get-token` uses) makes for
    /// these credentials at 2026-01-02T03:04:05Z; see `tests/data/eks_token_ref.py`.
    const BOTOCORE_SIGNATURE: &str = "76eed055d70132c5d9d15265bf5612b7d8bc990c738f5b123a846c32a5ff2098";

    #[test]
    fn the_token_is_a_presigned_get_caller_identity_like_aws_eks_get_token() {
        let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "test");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045); // 2026-01-02T03:04:05Z
        let token = eks_token(&creds, "eu-north-1", "mattermost", now).expect("token");
        let b64 = token.strip_prefix("k8s-aws-v1.").expect("prefix");
        assert!(!b64.contains('=') && !b64.contains('+') && !b64.contains('/'), "base64url without padding");
        let url = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64).expect("b64"))
            .expect("utf8");
        assert!(
            url.starts_with("https://sts.eu-north-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"),
            "{url}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Feu-north-1%2Fsts%2Faws4_request",
            "X-Amz-Date=20260102T030405Z",
            "X-Amz-Expires=60",
            "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        assert!(url.ends_with(&format!("X-Amz-Signature={BOTOCORE_SIGNATURE}")), "{url}");
    }

    #[test]
    fn a_session_token_is_signed_in() {
        let creds = Credentials::new("AKID", "secret", Some("session/token+1".into()), None, "test");
        let token = eks_token(&creds, "us-east-1", "c", SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045))
            .expect("token");
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.trim_start_matches("k8s-aws-v1."))
                .expect("b64"),
        )
        .expect("utf8");
        assert!(url.contains("X-Amz-Security-Token=session%2Ftoken%2B1"), "{url}");
    }
}
