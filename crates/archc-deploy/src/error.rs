//! Errors of a deploy. Messages never carry a secret value (DSN, password, token): the
//! places that handle them build their messages from names only.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The compiled output cannot be deployed as it is (missing file, cycle, ...).
    #[error("{0}")]
    Plan(String),
    /// A value the deploy needs was not given (a required parameter, a deploy-time value).
    #[error("{0}")]
    Missing(String),
    /// A tool deploy runs is not installed.
    #[error("{0}")]
    Tool(String),
    /// An AWS call failed.
    #[error("{0}")]
    Aws(String),
    /// One or more stacks failed; each was reported with its resources and reasons.
    #[error("{0}")]
    Stacks(String),
    /// The Kubernetes side failed.
    #[error("{0}")]
    Cluster(String),
    /// The operator declined, or a confirmation was needed without a terminal.
    #[error("{0}")]
    Declined(String),
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

/// `Code: message` of an AWS SDK error, or its whole context when it has no code (a
/// connection failure, a timeout).
pub fn aws_message<E>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> String
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_cloudformation::error::ProvideErrorMetadata as _;
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_string(),
        (None, Some(msg)) => msg.to_string(),
        (None, None) => DisplayChain(e).to_string(),
    }
}

/// An error with its sources, on one line.
pub struct DisplayChain<'a>(pub &'a dyn std::error::Error);

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
