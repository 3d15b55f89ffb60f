"""Runs archc's ECS rotation restart (targets/ecs/rotation-restart.py) against moto.

    python rotation_restart_check.py SCRIPT MOTO_URL

A service in a cluster, two secrets it reads: the handler leaves the service alone while the
secrets are older than its deployment, forces a new deployment once one of them changes, and
then leaves the new deployment alone. Prints PASS; exits 1 on the first failed check.
"""

import importlib.util
import os
import sys
import time

import boto3

script, url = sys.argv[1], sys.argv[2]
os.environ.update({
    "AWS_ENDPOINT_URL": url,
    "AWS_DEFAULT_REGION": "eu-north-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
})
spec = importlib.util.spec_from_file_location("restart", script)
restart = importlib.util.module_from_spec(spec)
spec.loader.exec_module(restart)


def check(condition, what):
    if not condition:
        print("FAIL: " + what)
        sys.exit(1)


secrets = boto3.client("secretsmanager")
ecs = boto3.client("ecs")
db = secrets.create_secret(Name="rds!db-restart", SecretString='{"username":"u","password":"one"}')["ARN"]
cache = secrets.create_secret(Name="cache-restart", SecretString='{"token":"t"}')["ARN"]
time.sleep(1.2)  # moto keeps LastChangedDate in whole seconds: the deployment comes after
ecs.create_cluster(clusterName="restart")
ecs.register_task_definition(family="api", containerDefinitions=[{"name": "api", "image": "nginx", "memory": 128}])
service = ecs.create_service(cluster="restart", serviceName="api", taskDefinition="api", desiredCount=2)["service"]
os.environ.update({"CLUSTER": "restart", "SERVICE": service["serviceArn"], "SECRET_ARNS": db + "," + cache})


def primary():
    described = ecs.describe_services(cluster="restart", services=[service["serviceArn"]])["services"][0]
    return [d for d in described["deployments"] if d["status"] == "PRIMARY"][0]


first = primary()
check(restart.handler({}, None) == {"restarted": False}, "no restart while the secrets are older")
check(primary()["id"] == first["id"], "the deployment is untouched")

time.sleep(1.2)
secrets.put_secret_value(SecretId=db, SecretString='{"username":"u","password":"two"}')  # a rotation
check(restart.handler({}, None) == {"restarted": True}, "a restart after the secret changed")
second = primary()
check(second["createdAt"] > first["createdAt"], "a new deployment: %s after %s" % (second["createdAt"], first["createdAt"]))
check(restart.handler({}, None) == {"restarted": False}, "no second restart for the same change")

os.environ["SERVICE"] = "missing"
try:
    restart.handler({}, None)
    check(False, "a missing service is an error")
except Exception as e:  # the run fails, and Lambda's Errors metric shows it
    check("missing" in str(e), "the error names the service: %s" % e)
print("PASS: the rotation restart follows the secret's change once")
