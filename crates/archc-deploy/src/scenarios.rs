//! The paths moto cannot take, against a scripted CloudFormation answering with the
//! documents of AWS's API reference: a create that fails and rolls back (and the run after
//! it, which converges), a change set with a replacement (shown with its warning, declined,
//! then executed), a change set without changes, and Ctrl-C while a change set runs or
//! before it is executed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use tokio::sync::Notify;

use crate::report::{Confirm, OutputMode, Reporter};
use crate::stacks::Outcome;
use crate::testkit::aws::{ch, ev, Account, ChangeSetScript, FakeAws, Script};
use crate::testkit::lock;
use crate::{deploy, Error, Files, Options};

pub(crate) fn aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // the same values from every test; read by aws-config's default chain
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/archc-test");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/archc-test");
    });
}

const NET: &str = "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties: {CidrBlock: 10.0.0.0/16}\nOutputs:\n  VpcId: {Value: !Ref Vpc}\n";
const DATA: &str = "Metadata:\n  archc:\n    DependsOnStacks: [net]\nParameters:\n  VpcId: {Type: AWS::EC2::VPC::Id}\nResources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    DeletionPolicy: Snapshot\n  Bucket:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n";

fn files() -> Files {
    let plan = serde_json::json!({
        "project": "demo", "region": "eu-north-1",
        "stacks": [
            {"id": "net", "name": "demo-net", "order": 1, "template": "cloudformation/net.yaml", "parameters": {}, "outputs": ["VpcId"]},
            {"id": "data", "name": "demo-data", "order": 2, "template": "cloudformation/data.yaml",
             "parameters": {"VpcId": {"type": "AWS::EC2::VPC::Id", "source": {"output": {"stack": "net", "name": "VpcId"}}}},
             "outputs": ["DbAddress"]}
        ],
        "kubernetes": {"objects": []}
    });
    let mut f = Files::new();
    f.insert("plan.json".into(), plan.to_string());
    f.insert("cloudformation/net.yaml".into(), NET.into());
    f.insert("cloudformation/data.yaml".into(), DATA.into());
    f
}

fn options(url: &str) -> Options {
    Options {
        endpoint_url: Some(url.to_string()),
        yes: true,
        poll: Some(Duration::from_millis(5)),
        ..Options::default()
    }
}

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&lock(buf)).into_owned()
}

fn never() -> impl std::future::Future<Output = ()> {
    std::future::pending()
}

fn failing_create() -> Script {
    let stack = "AWS::CloudFormation::Stack";
    let db = "AWS::RDS::DBInstance";
    Script {
        change_set: ChangeSetScript::Changes(vec![ch("Add", "Db", db, None), ch("Add", "Bucket", "AWS::S3::Bucket", None)]),
        on_execute: vec![
            ("CREATE_IN_PROGRESS".into(), vec![ev("", stack, "CREATE_IN_PROGRESS", Some("User Initiated")), ev("Db", db, "CREATE_IN_PROGRESS", None)]),
            (
                "CREATE_IN_PROGRESS".into(),
                vec![ev("Db", db, "CREATE_FAILED", Some("The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters. (Service: Rds, Status Code: 400)"))],
            ),
            (
                "ROLLBACK_IN_PROGRESS".into(),
                vec![ev("", stack, "ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to create: [Db]. Rollback requested by user."))],
            ),
            ("ROLLBACK_IN_PROGRESS".into(), vec![ev("Db", db, "DELETE_COMPLETE", None)]),
            ("ROLLBACK_COMPLETE".into(), vec![ev("", stack, "ROLLBACK_COMPLETE", None)]),
        ],
        outputs: vec![],
        on_delete: Script::succeeds("CREATE", &[], &[]).on_delete,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_is_reported_with_its_resources_reasons_and_rollback_and_the_next_run_converges() {
    aws_env();
    let mut account = Account::default();
    account.script("demo-net", Script::succeeds("CREATE", &[("Vpc", "AWS::EC2::VPC")], &[("VpcId", "vpc-0abc")]));
    account.script("demo-data", failing_create());
    let aws = FakeAws::start(account).expect("fake AWS");
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Yes);
    let err = deploy(&files(), &options(&aws.url()), Arc::new(r), never()).await.expect_err("data fails");
    let msg = err.to_string();
    assert!(matches!(err, Error::Stacks(_)), "{err:?}");
    assert_eq!(crate::exit_code(&err), 1);
    for part in [
        "demo-data (data): ended in ROLLBACK_COMPLETE",
        "stack status: ROLLBACK_COMPLETE",
        "Db (AWS::RDS::DBInstance) CREATE_FAILED: The parameter MasterUserPassword is not a valid password",
        "rollback complete: CloudFormation deleted what the failed create had made; the next `archc deploy` deletes this empty stack and creates it again",
        "done before the failure: net (created)",
    ] {
        assert!(msg.contains(part), "`{part}` in\n{msg}");
    }
    let out = text(&buf);
    assert!(
        out.contains("[data] 03:") && out.contains("Db AWS::RDS::DBInstance CREATE_FAILED"),
        "events are streamed:\n{out}"
    );
    assert!(out.contains("ROLLBACK_IN_PROGRESS: The following resource(s) failed to create: [Db]"), "{out}");

    // fixed: the next run deletes the rolled-back stack, creates it again, leaves net alone
    lock(&aws.account).script(
        "demo-data",
        Script::succeeds("CREATE", &[("Db", "AWS::RDS::DBInstance")], &[("DbAddress", "db.example")]),
    );
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Yes);
    let summary = deploy(&files(), &options(&aws.url()), Arc::new(r), never()).await.expect("converges");
    assert_eq!(summary.stacks["net"], Outcome::UpToDate);
    assert_eq!(summary.stacks["data"], Outcome::Created);
    assert_eq!(summary.outputs["data"]["DbAddress"], "db.example");
    let actions = aws.actions();
    let delete =
        actions.iter().rposition(|a| a == "DeleteStack demo-data").expect("deleted the ROLLBACK_COMPLETE stack");
    let create = actions.iter().rposition(|a| a == "CreateChangeSet demo-data").expect("a new change set");
    assert!(delete < create, "{actions:?}");
    assert!(
        text(&buf).contains("demo-data is ROLLBACK_COMPLETE (nothing in it): deleting it to create it again"),
        "{}",
        text(&buf)
    );
    let creates = actions.iter().filter(|a| a.starts_with("CreateChangeSet demo-net")).count();
    assert_eq!(creates, 1, "net was up to date the second time: {actions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_is_shown_with_its_warning_declining_deletes_the_change_set_and_no_changes_is_up_to_date() {
    aws_env();
    let mut account = Account::default();
    account.existing("demo-net", "UPDATE_COMPLETE", &[("VpcId", "vpc-0abc")], &[]);
    account.existing("demo-data", "UPDATE_COMPLETE", &[("DbAddress", "db.example")], &[("VpcId", "vpc-0abc")]);
    // AWS's answer for a change set that changes nothing
    account.script(
        "demo-net",
        Script {
            change_set: ChangeSetScript::Failed("The submitted information didn't contain changes. Submit different information to create a change set.".into()),
            ..Script::succeeds("UPDATE", &[], &[])
        },
    );
    account.script(
        "demo-data",
        Script {
            change_set: ChangeSetScript::Changes(vec![
                ch("Modify", "Db", "AWS::RDS::DBInstance", Some("True")),
                ch("Modify", "DbSecurityGroup", "AWS::EC2::SecurityGroup", Some("Conditional")),
                ch("Remove", "Bucket", "AWS::S3::Bucket", None),
            ]),
            ..Script::succeeds("UPDATE", &[("Db", "AWS::RDS::DBInstance")], &[("DbAddress", "db2.example")])
        },
    );
    let aws = FakeAws::start(account).expect("fake AWS");
    let options = Options { yes: false, ..options(&aws.url()) };
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Scripted(Arc::new(Mutex::new(vec![false]))));
    let err = deploy(&files(), &options, Arc::new(r), never()).await.expect_err("declined");
    assert!(err.to_string().contains("not executed: declined"), "{err}");
    let out = text(&buf);
    for part in [
        "[net] ok: demo-net is up to date (no changes)",
        "Changes to demo-data (update, change set archc-",
        "Modify  Db               AWS::RDS::DBInstance     True",
        "!! WARNING: REPLACES Db (AWS::RDS::DBInstance): a new one is created and the old one deleted with its data",
        "!! WARNING: DELETES Bucket (AWS::S3::Bucket)",
        "0 to add, 2 to change, 1 to remove",
        "Execute the change set of demo-data? [y/N] n",
    ] {
        assert!(out.contains(part), "`{part}` in\n{out}");
    }
    assert!(!out.contains("REPLACES DbSecurityGroup"), "a security group is not stateful:\n{out}");
    let actions = aws.actions();
    assert!(actions.contains(&"DeleteChangeSet demo-data".to_string()), "{actions:?}");
    assert!(
        actions.contains(&"DeleteChangeSet demo-net".to_string()),
        "the empty change set is deleted too: {actions:?}"
    );
    assert!(!actions.iter().any(|a| a.starts_with("ExecuteChangeSet")), "{actions:?}");

    // the same with a yes: executed, and the JSON lines carry the replacement
    let (r, buf) = Reporter::buffer(OutputMode::Json, Confirm::Scripted(Arc::new(Mutex::new(vec![true]))));
    let summary = deploy(&files(), &options, Arc::new(r), never()).await.expect("executed");
    assert_eq!(summary.stacks["data"], Outcome::Updated);
    assert_eq!(summary.outputs["data"]["DbAddress"], "db2.example");
    let lines: Vec<serde_json::Value> =
        text(&buf).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let changes = lines.iter().find(|l| l["type"] == "changes" && l["stack"] == "data").expect("changes");
    assert_eq!(changes["changes"][0]["replacement"], "True");
    assert!(changes["changes"][0]["warning"].as_str().is_some_and(|w| w.starts_with("REPLACES Db")));
}

/// Waits until the fake has had no request for 300 ms: a DescribeStacks the interrupted run
/// had already sent is answered after the run returned, and in the fake a DescribeStacks moves a
/// scripted operation one step on, so the next script must start after it.
async fn settle(aws: &FakeAws) {
    let mut seen = aws.actions().len();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = aws.actions().len();
        if now == seen {
            return;
        }
        seen = now;
    }
}

/// Presses Ctrl-C once `action` has been answered `after` times.
fn ctrl_c_after(aws: &FakeAws, trigger: &'static str, then: &'static str) -> Arc<Notify> {
    let notify = Arc::new(Notify::new());
    let seen = Arc::new(AtomicBool::new(false));
    let n = notify.clone();
    lock(&aws.account).hook = Some(Arc::new(move |action: &str| {
        if action == trigger {
            seen.store(true, Ordering::SeqCst);
        } else if action == then && seen.load(Ordering::SeqCst) {
            n.notify_one();
        }
    }));
    notify
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_a_change_set_runs_leaves_it_running_and_the_next_run_waits_for_it() {
    aws_env();
    let mut account = Account::default();
    let mut slow = Script::succeeds("CREATE", &[("Vpc", "AWS::EC2::VPC")], &[("VpcId", "vpc-0abc")]);
    slow.on_execute = std::iter::repeat_n(("CREATE_IN_PROGRESS".to_string(), vec![]), 100_000).collect();
    account.script("demo-net", slow);
    let aws = FakeAws::start(account).expect("fake AWS");
    let notify = ctrl_c_after(&aws, "ExecuteChangeSet", "DescribeStacks");
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Yes);
    let err = deploy(&files(), &options(&aws.url()), Arc::new(r), async move { notify.notified().await })
        .await
        .expect_err("interrupted");
    assert!(matches!(err, Error::Interrupted));
    assert_eq!(crate::exit_code(&err), 130);
    let out = text(&buf);
    assert!(out.contains("net: CloudFormation goes on with the change set archc-"), "{out}");
    assert!(out.contains("the next `archc deploy` waits for it to finish and continues from there"), "{out}");
    assert!(!aws.actions().iter().any(|a| a.contains("demo-data")), "data was not started");
    settle(&aws).await;

    // CloudFormation finishes on its own; the next run waits for it, then goes on
    {
        let mut a = lock(&aws.account);
        a.hook = None;
        a.running(
            "demo-net",
            vec![
                ("CREATE_IN_PROGRESS".into(), vec![ev("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", None)]),
                ("CREATE_COMPLETE".into(), vec![]),
            ],
        );
        if let Some(s) = a.stacks.get_mut("demo-net") {
            s.outputs = vec![("VpcId".into(), "vpc-0abc".into())];
        }
        a.script(
            "demo-data",
            Script::succeeds("CREATE", &[("Db", "AWS::RDS::DBInstance")], &[("DbAddress", "db.example")]),
        );
    }
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Yes);
    let summary = deploy(&files(), &options(&aws.url()), Arc::new(r), never()).await.expect("continues");
    assert!(text(&buf).contains("demo-net is CREATE_IN_PROGRESS: waiting for it to finish first"), "{}", text(&buf));
    assert_eq!(summary.stacks["net"], Outcome::UpToDate);
    assert_eq!(summary.stacks["data"], Outcome::Created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_before_a_change_set_is_executed_deletes_it() {
    aws_env();
    let mut account = Account::default();
    account.script("demo-net", Script::succeeds("CREATE", &[("Vpc", "AWS::EC2::VPC")], &[("VpcId", "vpc-0abc")]));
    let aws = FakeAws::start(account).expect("fake AWS");
    // Ctrl-C while the operator looks at the changes (the prompt never answers)
    let notify = ctrl_c_after(&aws, "CreateChangeSet", "DescribeChangeSet");
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Never);
    let slow_prompt = Options { yes: false, ..options(&aws.url()) };
    let err = deploy(&files(), &slow_prompt, Arc::new(r), async move {
        notify.notified().await;
    })
    .await;
    assert!(matches!(err, Err(Error::Interrupted)), "{err:?}");
    let out = text(&buf);
    let actions = aws.actions();
    assert!(!actions.iter().any(|a| a.starts_with("ExecuteChangeSet")), "{actions:?}");
    assert!(actions.contains(&"DeleteChangeSet demo-net".to_string()), "{actions:?}\n{out}");
    assert!(out.contains("net: change set archc-") && out.contains("was not executed; deleted it"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_goes_in_reverse_order_reports_a_failed_delete_and_lists_what_is_kept() {
    use crate::testkit::aws::DeleteScript;
    aws_env();
    let mut account = Account::default();
    account.existing("demo-net", "UPDATE_COMPLETE", &[("VpcId", "vpc-0abc")], &[]);
    account.existing("demo-data", "UPDATE_COMPLETE", &[], &[("VpcId", "vpc-0abc")]);
    if let Some(s) = account.stacks.get_mut("demo-data") {
        s.template = Some(DATA.into());
        s.resources = vec![
            ("Db".into(), "demo-db-1".into(), "AWS::RDS::DBInstance".into()),
            ("Bucket".into(), "demo-data-bucket-1a2b".into(), "AWS::S3::Bucket".into()),
        ];
    }
    let stack = "AWS::CloudFormation::Stack";
    account.script(
        "demo-data",
        Script {
            on_delete: DeleteScript::Steps(vec![
                ("DELETE_IN_PROGRESS".into(), vec![ev("", stack, "DELETE_IN_PROGRESS", Some("User Initiated"))]),
                (
                    "DELETE_FAILED".into(),
                    vec![
                        ev("Db", "AWS::RDS::DBInstance", "DELETE_FAILED", Some("Cannot delete protected DB Instance, please disable deletion protection and try again.")),
                        ev("", stack, "DELETE_FAILED", Some("The following resource(s) failed to delete: [Db].")),
                    ],
                ),
            ]),
            ..Script::succeeds("UPDATE", &[], &[])
        },
    );
    let aws = FakeAws::start(account).expect("fake AWS");
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Yes);
    let err =
        crate::destroy::destroy(&files(), &options(&aws.url()), Arc::new(r), never()).await.expect_err("data fails");
    let msg = err.to_string();
    for part in [
        "demo-data (data): the delete ended in DELETE_FAILED: Db (AWS::RDS::DBInstance): Cannot delete protected DB Instance",
        "Db (AWS::RDS::DBInstance) demo-db-1",
    ] {
        assert!(msg.contains(part), "`{part}` in\n{msg}");
    }
    let out = text(&buf);
    assert!(out.contains("not deleted, because a stack that depends on them was not: net"), "{out}");
    assert!(!aws.actions().contains(&"DeleteStack demo-net".to_string()), "net stays while data is there");

    // deletion protection off: both go, data first, and what is kept is listed
    lock(&aws.account).script("demo-data", Script::succeeds("UPDATE", &[], &[]));
    let (r, buf) = Reporter::buffer(OutputMode::Human, Confirm::Yes);
    crate::destroy::destroy(&files(), &options(&aws.url()), Arc::new(r), never()).await.expect("destroyed");
    let actions = aws.actions();
    let data = actions.iter().rposition(|a| a == "DeleteStack demo-data").expect("data");
    let net = actions.iter().rposition(|a| a == "DeleteStack demo-net").expect("net");
    assert!(data < net, "{actions:?}");
    let out = text(&buf);
    for part in [
        "data: Db (AWS::RDS::DBInstance) demo-db-1: deleted after a final snapshot, which is kept",
        "data: Bucket (AWS::S3::Bucket) demo-data-bucket-1a2b: kept (DeletionPolicy Retain)",
        "Destroyed.",
    ] {
        assert!(out.contains(part), "`{part}` in\n{out}");
    }
}
