# Reference EKS token from botocore (what `aws eks get-token` does), at a fixed time.
import base64, datetime
from unittest import mock
import botocore.session, botocore.auth
from botocore.credentials import Credentials
from botocore.awsrequest import AWSRequest

creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)
fixed = datetime.datetime(2026, 1, 2, 3, 4, 5)
class FrozenDT(datetime.datetime):
    @classmethod
    def utcnow(cls): return fixed
    @classmethod
    def now(cls, tz=None): return fixed.replace(tzinfo=tz) if tz else fixed
with mock.patch.object(botocore.auth.datetime, "datetime", FrozenDT):
    req = AWSRequest(method="GET", url="https://sts.eu-north-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"x-k8s-aws-id": "mattermost"})
    signer = botocore.auth.SigV4QueryAuth(creds, "sts", "eu-north-1", expires=60)
    signer.add_auth(req)
    req.prepare()
    print(req.url)
    print("k8s-aws-v1." + base64.urlsafe_b64encode(req.url.encode()).decode().rstrip("="))
