"""archc: restarts an ECS service's tasks after a database secret it reads changes.

ECS injects a secret's value into a container only when the task starts, and RDS rotates its
managed master secret every 7 days (the password changes at once): tasks started before a
rotation fail on new connections. Every 15 minutes (an EventBridge schedule) this compares the
secrets' LastChangedDate with the start of the service's primary deployment, and when a secret
changed later it forces a new deployment, which replaces the tasks one by one (the service's
minimum healthy percent keeps it serving). Nothing secret is read: DescribeSecret only.
Environment: CLUSTER, SERVICE (name or ARN), SECRET_ARNS (comma-separated).
"""

import os

import boto3


def handler(event, context):
    ecs = boto3.client("ecs")
    secrets = boto3.client("secretsmanager")
    cluster, service = os.environ["CLUSTER"], os.environ["SERVICE"]
    changed = max(
        secrets.describe_secret(SecretId=arn)["LastChangedDate"]
        for arn in os.environ["SECRET_ARNS"].split(",")
    )
    described = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if not described:
        raise RuntimeError("service %s not found in cluster %s" % (service, cluster))
    primary = [d for d in described[0]["deployments"] if d["status"] == "PRIMARY"][0]
    started = primary["createdAt"]
    if changed <= started:
        print("up to date: the secrets last changed %s, the tasks started from %s" % (changed, started))
        return {"restarted": False}
    ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
    print("restarting %s: a secret changed %s, after its deployment of %s" % (service, changed, started))
    return {"restarted": True}
