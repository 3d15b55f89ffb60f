"""archc's database secret sync: keeps a Kubernetes Secret's DSN in step with an RDS-managed secret.

RDS rotates its managed master secret (every 7 days by default) and the password changes at
once. This runs as a CronJob next to the application: it reads the secret (IRSA web identity
token -> STS AssumeRoleWithWebIdentity -> Secrets Manager GetSecretValue, signed with SigV4),
compares the secret's VersionId with the application Deployment's pod-template annotation,
and when they differ it writes the new DSN into the application's Secret and the new VersionId
into the annotation, which rolls the pods (the application reads its DSN only at start).
Standard library only, so it runs on a stock Python image. Nothing secret is printed.

Environment (set by the CronJob archc writes): AWS_REGION, AWS_ROLE_ARN,
AWS_WEB_IDENTITY_TOKEN_FILE, SECRET_ARN, DB_HOST, DB_PORT, DB_NAME, DSN_TEMPLATE (slots
<user> and <password> URL-encoded, <user:raw> and <password:raw> as they are, <host>, <port>,
<dbname>), SECRET_NAME, SECRET_KEY, DEPLOYMENT_NAME, VERSION_ANNOTATION, POD_NAMESPACE. AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SECRETS_MANAGER and
KUBERNETES_API, KUBERNETES_SA_DIR point it elsewhere (tests).
"""

import datetime
import hashlib
import hmac
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

ENV = os.environ


def http(method, url, body=None, headers=None, context=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30, context=context) as answer:
        return answer.read()


def aws_endpoint(service, default):
    return (ENV.get("AWS_ENDPOINT_URL_" + service) or ENV.get("AWS_ENDPOINT_URL") or default).rstrip("/")


def credentials(region):
    """Temporary credentials of the IRSA role (AssumeRoleWithWebIdentity is not signed)."""
    with open(ENV["AWS_WEB_IDENTITY_TOKEN_FILE"], encoding="utf-8") as f:
        token = f.read().strip()
    form = urllib.parse.urlencode({
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": ENV["AWS_ROLE_ARN"],
        "RoleSessionName": ENV.get("AWS_ROLE_SESSION_NAME", "db-secret-sync"),
        "WebIdentityToken": token,
        "DurationSeconds": "900",
    }).encode()
    url = aws_endpoint("STS", "https://sts.%s.amazonaws.com" % region) + "/"
    root = ET.fromstring(http("POST", url, form, {"Content-Type": "application/x-www-form-urlencoded"}))
    found = {}
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            found[name] = element.text
    if len(found) != 3:
        raise RuntimeError("STS answered AssumeRoleWithWebIdentity without credentials")
    return found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"]


def _hmac(key, message):
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def secret_value(region, arn):
    """(VersionId, parsed SecretString) of the secret, by a SigV4-signed GetSecretValue."""
    access_key, secret_key, session_token = credentials(region)
    url = aws_endpoint("SECRETS_MANAGER", "https://secretsmanager.%s.amazonaws.com" % region) + "/"
    host = urllib.parse.urlsplit(url).netloc
    body = json.dumps({"SecretId": arn}).encode("utf-8")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "content-type": "application/x-amz-json-1.1",
        "host": host,
        "x-amz-date": stamp,
        "x-amz-security-token": session_token,
        "x-amz-target": "secretsmanager.GetSecretValue",
    }
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        "POST",
        "/",
        "",
        "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)),
        signed,
        hashlib.sha256(body).hexdigest(),
    ])
    scope = "%s/%s/secretsmanager/aws4_request" % (stamp[:8], region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(("AWS4" + secret_key).encode("utf-8"), stamp[:8])
    for part in (region, "secretsmanager", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access_key, scope, signed, signature)
    del headers["host"]  # urllib sends the same Host itself
    answer = json.loads(http("POST", url, body, headers))
    return answer["VersionId"], json.loads(answer["SecretString"])


def kube(method, path, patch=None):
    """A call to the Kubernetes API with the pod's service account token."""
    sa = ENV.get("KUBERNETES_SA_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
    api = ENV.get("KUBERNETES_API") or "https://%s:%s" % (
        ENV["KUBERNETES_SERVICE_HOST"], ENV.get("KUBERNETES_SERVICE_PORT", "443"))
    with open(sa + "/token", encoding="utf-8") as f:
        token = f.read().strip()
    context = ssl.create_default_context(cafile=sa + "/ca.crt") if api.startswith("https:") else None
    headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
    body = None
    if patch is not None:
        body = json.dumps(patch).encode("utf-8")
        headers["Content-Type"] = "application/merge-patch+json"
    return json.loads(http(method, api.rstrip("/") + path, body, headers, context))


def encode(value):
    """URL-encode a DSN's user or password: only RFC 3986's unreserved characters stay."""
    return urllib.parse.quote(value, safe="-._~")


def main():
    region = ENV["AWS_REGION"]
    namespace = ENV["POD_NAMESPACE"]
    secret_name = ENV["SECRET_NAME"]
    deployment = ENV["DEPLOYMENT_NAME"]
    annotation = ENV["VERSION_ANNOTATION"]
    version, value = secret_value(region, ENV["SECRET_ARN"])
    deployment_path = "/apis/apps/v1/namespaces/%s/deployments/%s" % (namespace, deployment)
    template = kube("GET", deployment_path).get("spec", {}).get("template", {})
    current = ((template.get("metadata") or {}).get("annotations") or {}).get(annotation)
    if current == version:
        print("%s/%s: up to date with secret version %s" % (namespace, secret_name, version))
        return 0
    dsn = (ENV["DSN_TEMPLATE"]
           .replace("<user:raw>", value["username"])
           .replace("<password:raw>", value["password"])
           .replace("<user>", encode(value["username"]))
           .replace("<password>", encode(value["password"]))
           .replace("<host>", ENV["DB_HOST"])
           .replace("<port>", ENV["DB_PORT"])
           .replace("<dbname>", ENV["DB_NAME"]))
    kube("PATCH", "/api/v1/namespaces/%s/secrets/%s" % (namespace, secret_name),
         {"stringData": {ENV.get("SECRET_KEY", "datasource"): dsn}})
    kube("PATCH", deployment_path, {"spec": {"template": {"metadata": {"annotations": {annotation: version}}}}})
    print("%s/%s: DSN rewritten from secret version %s (the pods had %s); %s rolls its pods" % (
        namespace, secret_name, version, current or "none", deployment))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except urllib.error.HTTPError as e:
        # AWS and Kubernetes error bodies name the request, never the secret
        print("sync failed: %s %s: %s" % (e.code, e.reason, e.read()[:500].decode("utf-8", "replace")), file=sys.stderr)
        sys.exit(1)
    except (urllib.error.URLError, OSError, KeyError, ValueError, RuntimeError) as e:
        print("sync failed: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
