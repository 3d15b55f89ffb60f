//! Buckets: an S3 bucket per box (private, encrypted, versioned, TLS only) and the access-log bucket they log to, in the data stack.

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::store::{bucket_properties, Store};
use crate::plan::cfn::{deny_insecure_transport, get_att, policy, r, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const DATA: StackId = StackId::Data;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "bucket", kinds: &["aws.s3"], lower };

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    let mut s = Store::new(l);
    for n in graph.of_kind("aws.s3").collect::<Vec<_>>() {
        s.bucket(n);
    }
}

impl Store<'_, '_> {
    /// The shared access-log bucket (shown under the first bucket `id` in `archc plan`).
    fn access_log_bucket(&mut self, id: &str) {
        if self.l.stack(DATA).resources.contains_key("AccessLogBucket") {
            return;
        }
        self.l.add(
            DATA,
            "AccessLogBucket",
            Resource::new("AWS::S3::Bucket", bucket_properties(json!([{
                "Id": "expire-access-logs",
                "Status": "Enabled",
                "ExpirationInDays": 365,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            }])))
            .retain()
            .node(id)
            .comment("target of the buckets' server access logs (SSE-S3: what log delivery supports)")
            .checkov_skip(
                "CKV_AWS_18",
                "This bucket is the server-access-log target of the other buckets. Logging it into itself would log its own log deliveries (a feedback loop AWS advises against), and a further log bucket would only move the same finding one level down.",
            ),
        );
        self.l.add(
            DATA,
            "AccessLogBucketPolicy",
            Resource::new(
                "AWS::S3::BucketPolicy",
                json!({
                    "Bucket": r("AccessLogBucket"),
                    "PolicyDocument": policy(vec![
                        json!({
                            "//": "log deliveries for buckets of this account (not pinned to the source buckets, which\nfind this policy in place when their logging is switched on)",
                            "Sid": "S3ServerAccessLogDelivery",
                            "Effect": "Allow",
                            "Principal": {"Service": "logging.s3.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": sub("${AccessLogBucket.Arn}/*"),
                            "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
                        }),
                        deny_insecure_transport("AccessLogBucket"),
                    ]),
                }),
            )
            .node(id),
        );
        self.l.output(DATA, "AccessLogBucketName", r("AccessLogBucket"), "server access log bucket");
    }

    fn bucket(&mut self, n: NodeIndex) {
        let id = self.id(n);
        let p = pascal(&id);
        self.access_log_bucket(&id);
        let mut props = bucket_properties(json!([{
            "Id": "expire-old-versions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }]));
        props["LoggingConfiguration"] =
            json!({"DestinationBucketName": r("AccessLogBucket"), "LogFilePrefix": format!("{}/", kebab(&id, 60))});
        let mut comment = format!("bucket `{id}`: SSE-S3, versioned, no public access, TLS only, access logged");
        if let Some((a, profile)) = self.l.settings.app.as_ref().and_then(|a| Some((a, a.profile?))) {
            let app = self.l.graph.node(&a.node);
            if app.is_some_and(|app| self.l.graph.outgoing(app).any(|(_, b)| b == n)) {
                comment.push_str(&format!(
                    "\nthe file store of `{}` ({} FileSettings.DriverName={})",
                    a.node, profile.name, profile.file_store.s3_driver
                ));
            }
        }
        self.l.add(
            DATA,
            &p,
            Resource::new("AWS::S3::Bucket", props)
                .depends_on(&["AccessLogBucketPolicy"])
                .retain()
                .node(&id)
                .comment(&comment),
        );
        self.l.add(
            DATA,
            &format!("{p}Policy"),
            Resource::new(
                "AWS::S3::BucketPolicy",
                json!({"Bucket": r(&p), "PolicyDocument": policy(vec![deny_insecure_transport(&p)])}),
            )
            .node(&id),
        );
        self.l.output(DATA, &format!("{p}BucketName"), r(&p), &format!("name of bucket `{id}`"));
        self.l.output(DATA, &format!("{p}BucketArn"), get_att(&p, "Arn"), &format!("ARN of bucket `{id}`"));
    }
}
