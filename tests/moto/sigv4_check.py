"""Checks that archc's database secret sync signs GetSecretValue as botocore does.

Run with the Python of moto's virtualenv (it has botocore): `python sigv4_check.py SCRIPT`.
The script's HTTP and STS calls are replaced; the clock is fixed for both signers.
"""

import datetime
import importlib.util
import json
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = importlib.util.spec_from_file_location("sync", sys.argv[1])
sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync)

KEY = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN")
NOW = datetime.datetime(2026, 12, 4, 10, 0, 0, tzinfo=datetime.timezone.utc)
sent = {}


def fake_http(method, url, body=None, headers=None, context=None):
    sent.update(method=method, url=url, body=body, headers=dict(headers))
    return json.dumps({"VersionId": "v1", "SecretString": "{}"}).encode()


class FixedClock(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


sync.http = fake_http
sync.credentials = lambda region: KEY
sync.ENV = {}
sync.datetime.datetime = FixedClock
sync.secret_value("eu-north-1", "arn:aws:secretsmanager:eu-north-1:123456789012:secret:rds!db-x")
ours = sent["headers"]["authorization"]

request = AWSRequest(
    method="POST",
    url="https://secretsmanager.eu-north-1.amazonaws.com/",
    data=sent["body"],
    headers={"content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.GetSecretValue"},
)
with mock.patch("botocore.auth.datetime") as clock:
    clock.datetime.now.return_value = NOW.replace(tzinfo=None)
    clock.datetime.utcnow.return_value = NOW.replace(tzinfo=None)
    clock.timezone = datetime.timezone
    SigV4Auth(Credentials(*KEY), "secretsmanager", "eu-north-1").add_auth(request)
theirs = request.headers["Authorization"]
assert sent["url"] == "https://secretsmanager.eu-north-1.amazonaws.com/", sent["url"]
assert sent["headers"]["x-amz-date"] == request.headers["X-Amz-Date"], (sent["headers"], request.headers)
if ours != theirs:
    print("different signatures:\n  sync:     %s\n  botocore: %s" % (ours, theirs))
    sys.exit(1)
print("same signature as botocore: %s" % ours)
