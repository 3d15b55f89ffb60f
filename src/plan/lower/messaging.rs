//! Messaging, in the app stack: SQS queues (KMS (the queue key), a dead-letter queue and
//! a redrive policy each), SNS topics (KMS) and their subscriptions to queues, and the
//! EventBridge rules drawn as boxes with arrows to their targets.
//!
//! A queue with an arrow to another queue is that queue's dead-letter source: the drawn
//! queue is its dead-letter queue (no extra one); so is a queue a function draws a dotted
//! arrow to (the function's). [`LOWERER`] runs before the functions
//! (whose roles and event sources name the queues and topics); [`EVENTS`] after them (a
//! rule names its target functions), and writes each queue's policy, which holds every
//! service that sends to it (a queue has one policy).

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use crate::plan::cfn::{get_att, key_admin_statement, kms_key, policy, r, sub};
use crate::plan::names::{kebab, pascal};
use crate::plan::{Lowering, Resource, StackId};

const APP: StackId = StackId::App;

/// How long a message stays invisible after a consumer receives it: six times the
/// function timeout, as AWS advises for a queue a function reads.
const VISIBILITY_TIMEOUT: u32 = 6 * super::function::TIMEOUT;

pub(super) static LOWERER: super::Lowerer = super::Lowerer { name: "messaging", kinds: &["aws.sqs", "aws.sns"], lower };

pub(super) static EVENTS: super::Lowerer =
    super::Lowerer { name: "events", kinds: &["aws.eventbridge"], lower: lower_events };

/// The app stack's key for the queues: created with the first queue, with a key policy that
/// lets the services that send to a queue (topics, rules) encrypt for it. Returns its ARN.
pub(super) fn queue_key(l: &mut Lowering<'_>) -> Value {
    if !l.stack(APP).resources.contains_key("QueueKmsKey") {
        let graph = l.graph;
        let mut services: Vec<(&str, Vec<String>)> = Vec::new();
        for (e, a, b, c) in graph.connections() {
            if !graph.component(b).is("aws.sqs") {
                continue;
            }
            let service = match (c.becomes, graph.component(a).kind_id()) {
                ("subscription", Some("aws.sns")) => "sns.amazonaws.com",
                ("event-rule", Some("aws.eventbridge")) => "events.amazonaws.com",
                _ => continue,
            };
            let arrow = format!("`{}`", l.arrow(e));
            match services.iter_mut().find(|(s, _)| *s == service) {
                Some((_, arrows)) => arrows.push(arrow),
                None => services.push((service, vec![arrow])),
            }
        }
        services.sort();
        let mut statements = vec![key_admin_statement(None)];
        for (service, arrows) in services {
            statements.push(json!({
                "//": format!("for {}: the service encrypts the messages it sends to the queues", arrows.join(", ")),
                "Sid": format!("{}SendsToQueues", if service.starts_with("sns") { "Sns" } else { "Events" }),
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}},
            }));
        }
        l.add(
            APP,
            "QueueKmsKey",
            Resource::new("AWS::KMS::Key", kms_key(sub("${AWS::StackName}: the SQS queues"), statements))
                .keep("Retain")
                .comment("KMS key of the queues: what sends and receives uses it through its IAM role"),
        );
        l.add(
            APP,
            "QueueKmsKeyAlias",
            Resource::new(
                "AWS::KMS::Alias",
                json!({"AliasName": sub("alias/${AWS::StackName}-queues"), "TargetKeyId": r("QueueKmsKey")}),
            ),
        );
        l.output(APP, "QueueKmsKeyArn", get_att("QueueKmsKey", "Arn"), "KMS key of the queues");
    }
    get_att("QueueKmsKey", "Arn")
}

/// The queue drawn as `n`'s dead-letter queue (an arrow from queue `n` to another queue).
fn drawn_dead_letter(l: &Lowering<'_>, n: NodeIndex) -> Option<(EdgeIndex, NodeIndex)> {
    l.graph.outgoing(n).find(|(_, b)| l.graph.component(*b).is("aws.sqs") && *b != n)
}

/// Whether queue `n` is drawn as another queue's dead-letter queue, or a function's (a dotted
/// arrow from the function).
fn is_dead_letter(l: &Lowering<'_>, n: NodeIndex) -> bool {
    l.graph.incoming(n).any(|(e, a)| {
        let c = l.graph.component(a);
        (c.is("aws.sqs") && a != n) || (c.is("aws.lambda") && l.graph.connection(e).meaning == "control")
    })
}

fn lower(l: &mut Lowering<'_>) {
    let graph = l.graph;
    for n in graph.of_kind("aws.sqs").collect::<Vec<_>>() {
        queue(l, n);
    }
    for n in graph.of_kind("aws.sns").collect::<Vec<_>>() {
        topic(l, n);
    }
}

/// A queue's properties: SQS-managed SSE, and a visibility timeout that covers a function
/// reading it.
fn queue_properties(l: &mut Lowering<'_>, n: NodeIndex, retention_days: u32) -> Value {
    let read = l.graph.outgoing(n).any(|(e, _)| l.graph.connection(e).becomes == "event-source");
    let key = queue_key(l);
    json!({
        "KmsMasterKeyId": key,
        "KmsDataKeyReusePeriodSeconds": 3600,
        "MessageRetentionPeriod": retention_days * 86400,
        "VisibilityTimeout": if read { VISIBILITY_TIMEOUT } else { 30 },
    })
}

fn queue(l: &mut Lowering<'_>, n: NodeIndex) {
    let id = l.graph.component(n).id.clone();
    let p = pascal(&id);
    if is_dead_letter(l, n) {
        let props = queue_properties(l, n, 14);
        l.add(
            APP,
            &p,
            Resource::new("AWS::SQS::Queue", props).node(&id).comment(&format!(
                "queue `{id}`: the dead-letter queue of the queues drawn into it; 14 days to look at failed messages"
            )),
        );
    } else {
        let (dlq, comment) = match drawn_dead_letter(l, n) {
            Some((e, b)) => {
                let dlq = pascal(&l.graph.component(b).id);
                l.built(e, format!("the redrive policy of `{p}` (dead-letter queue `{dlq}`)"));
                (dlq, format!("queue `{id}`: KMS (the queue key); after 5 failed receives a message moves to `{}` (arrow `{}`)", l.graph.component(b).id, l.arrow(e)))
            }
            None => {
                let dlq = format!("{p}DeadLetterQueue");
                let props = queue_properties(l, n, 14);
                l.add(
                    APP,
                    &dlq,
                    Resource::new("AWS::SQS::Queue", props)
                        .node(&id)
                        .comment(&format!("dead-letter queue of `{id}`: 14 days to look at failed messages")),
                );
                (dlq, format!("queue `{id}`: KMS (the queue key); after 5 failed receives a message moves to its dead-letter queue"))
            }
        };
        let mut props = queue_properties(l, n, 4);
        props["RedrivePolicy"] = json!({"deadLetterTargetArn": get_att(&dlq, "Arn"), "maxReceiveCount": 5});
        l.add(APP, &p, Resource::new("AWS::SQS::Queue", props).node(&id).comment(&comment));
    }
    l.output(APP, &format!("{p}QueueUrl"), r(&p), &format!("URL of queue `{id}`"));
    l.output(APP, &format!("{p}QueueArn"), get_att(&p, "Arn"), &format!("ARN of queue `{id}`"));
}

fn topic(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let id = graph.component(n).id.clone();
    let p = pascal(&id);
    l.add(
        APP,
        &p,
        Resource::new("AWS::SNS::Topic", json!({"KmsMasterKeyId": "alias/aws/sns"}))
            .node(&id)
            .comment(&format!("topic `{id}`: encrypted with the AWS managed SNS key (publishers in this account need no key\npermission; an EventBridge rule cannot publish to it, which needs a customer key)")),
    );
    l.output(APP, &format!("{p}TopicArn"), r(&p), &format!("ARN of topic `{id}`"));
    let mut subscriptions: Vec<(EdgeIndex, NodeIndex)> = graph
        .outgoing(n)
        .filter(|(e, b)| graph.connection(*e).becomes == "subscription" && graph.component(*b).is("aws.sqs"))
        .collect();
    subscriptions.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    for (e, b) in subscriptions {
        let q = pascal(&graph.component(b).id);
        let logical = format!("{p}To{q}");
        l.add(
            APP,
            &logical,
            Resource::new(
                "AWS::SNS::Subscription",
                json!({"TopicArn": r(&p), "Protocol": "sqs", "Endpoint": get_att(&q, "Arn"), "RawMessageDelivery": true}),
            )
            .node(&id)
            .comment(&format!("for arrow `{}`: the queue receives the topic's messages as published (raw)", l.arrow(e))),
        );
        l.built(e, format!("subscription `{logical}` (and a statement of `{q}Policy`)"));
    }
}

/// An AWS cron expression from a five-field cron (`0 3 * * *` → `cron(0 3 * * ? *)`):
/// one of day-of-month and day-of-week is `?`, and days of the week count from 1 (Sunday).
pub(super) fn aws_schedule(cron: &str) -> String {
    let f: Vec<&str> = cron.split_whitespace().collect();
    if f.len() != 5 {
        return format!("cron({cron})");
    }
    let dow: String = f[4]
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) if d <= 7 => char::from_digit(d % 7 + 1, 10).unwrap_or(c),
            _ => c,
        })
        .collect();
    let (dom, dow) = if f[4] == "*" { (f[2].to_string(), "?".to_string()) } else { ("?".to_string(), dow) };
    format!("cron({} {} {dom} {} {dow} *)", f[0], f[1], f[3])
}

fn lower_events(l: &mut Lowering<'_>) {
    let graph = l.graph;
    for n in graph.of_kind("aws.eventbridge").collect::<Vec<_>>() {
        rule(l, n);
    }
    for n in graph.of_kind("aws.sqs").collect::<Vec<_>>() {
        queue_policy(l, n);
    }
}

fn rule(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let c = graph.component(n);
    let id = c.id.clone();
    let p = pascal(&id);
    let mut arrows: Vec<(EdgeIndex, NodeIndex)> = graph
        .outgoing(n)
        .filter(|(e, b)| {
            graph.connection(*e).becomes == "event-rule"
                && matches!(graph.component(*b).kind_id(), Some("aws.lambda" | "aws.sqs"))
        })
        .collect();
    arrows.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    arrows.truncate(5);
    if arrows.is_empty() {
        return;
    }
    let schedule = c.attr("schedule").map(str::to_string).or_else(|| {
        arrows.iter().find_map(|(_, b)| l.settings.workload_config.get(&graph.component(*b).id)?.schedule.clone())
    });
    let mut props = json!({
        "Description": format!("rule {id} of the diagram"),
        "State": "ENABLED",
    });
    let comment = match &schedule {
        Some(cron) => {
            props["ScheduleExpression"] = json!(aws_schedule(cron));
            format!("rule `{id}`: runs its targets on the schedule `{cron}` (UTC)")
        }
        None => {
            props["EventPattern"] = json!({"source": [l.settings.project]});
            format!("rule `{id}`: no schedule configured (nodes.{id}.schedule), so it matches the events the\napplication puts on the default bus with Source \"{}\"", l.settings.project)
        }
    };
    let mut targets = Vec::new();
    for (e, b) in &arrows {
        let t = pascal(&graph.component(*b).id);
        targets.push(json!({"Id": kebab(&t, 64), "Arn": get_att(&t, "Arn")}));
        l.built(*e, format!("a target of rule `{p}`"));
    }
    props["Targets"] = json!(targets);
    l.add(APP, &p, Resource::new("AWS::Events::Rule", props).node(&id).comment(&comment));
    for (e, b) in &arrows {
        if graph.component(*b).is("aws.lambda") {
            let f = pascal(&graph.component(*b).id);
            l.add(
                APP,
                &format!("{p}Invokes{f}"),
                Resource::new(
                    "AWS::Lambda::Permission",
                    json!({"Action": "lambda:InvokeFunction", "FunctionName": get_att(&f, "Arn"), "Principal": "events.amazonaws.com", "SourceArn": get_att(&p, "Arn")}),
                )
                .node(&id)
                .comment(&format!("for arrow `{}`: this rule only may invoke the function", l.arrow(*e))),
            );
        }
    }
}

/// The policy of queue `n`: a statement per topic and rule that sends to it.
fn queue_policy(l: &mut Lowering<'_>, n: NodeIndex) {
    let graph = l.graph;
    let id = graph.component(n).id.clone();
    let q = pascal(&id);
    let mut senders: Vec<(EdgeIndex, NodeIndex)> = graph
        .incoming(n)
        .filter(|(e, _)| matches!(graph.connection(*e).becomes, "subscription" | "event-rule"))
        .collect();
    senders.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    let mut statements = Vec::new();
    for (e, a) in senders {
        let s = pascal(&graph.component(a).id);
        if !l.stack(APP).resources.contains_key(&s) {
            continue;
        }
        let (service, source) = if graph.component(a).is("aws.sns") {
            ("sns.amazonaws.com", r(&s))
        } else {
            ("events.amazonaws.com", get_att(&s, "Arn"))
        };
        statements.push(json!({
            "//": format!("for arrow `{}`: {service} may send, for `{}` only", l.arrow(e), graph.component(a).id),
            "Sid": format!("{s}Sends"),
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sqs:SendMessage",
            "Resource": get_att(&q, "Arn"),
            "Condition": {"ArnEquals": {"aws:SourceArn": source}},
        }));
    }
    if statements.is_empty() {
        return;
    }
    l.add(
        APP,
        &format!("{q}Policy"),
        Resource::new("AWS::SQS::QueuePolicy", json!({"Queues": [r(&q)], "PolicyDocument": policy(statements)}))
            .node(&id),
    );
}
