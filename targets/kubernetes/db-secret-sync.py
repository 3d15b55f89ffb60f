"""archc's database secret sync: keeps a Kubernetes Secret's DSN in step with Secrets Manager.

It runs as a CronJob next to the application (every 15 minutes, and once when `archc deploy`
applies it), reads secrets with the pod's IRSA role (web identity token -> STS
AssumeRoleWithWebIdentity -> Secrets Manager GetSecretValue, signed with SigV4 here) and writes
the application's Secret and a pod-template annotation of its Deployment, which rolls the pods
(the application reads its DSN only at start). Standard library only, so it runs on a stock
Python image. Nothing secret is printed.

Two modes:
- the application's own user (PostgreSQL; APP_SECRET_ARN set): when the user's secret has a
  version (at this endpoint) that the Secret's annotation USER_ANNOTATION does not record, or
  the Secret has no DSN, it connects as the RDS master user (SECRET_ARN) over TLS verified
  against DB_CA_FILE, creates the user if missing and sets its password as a SCRAM verifier,
  makes it the owner of DB_NAME (one transaction, `ensure_app_user`), then writes the DSN of
  that user, the record, and the pods' annotation;
- the master user (MySQL, MariaDB): RDS rotates the managed master secret (every 7 days) and
  the password changes at once; when the secret's VersionId differs from the Deployment's
  pod-template annotation it writes the new DSN and the new VersionId.

Environment (set by the CronJob archc writes): AWS_REGION, AWS_ROLE_ARN,
AWS_WEB_IDENTITY_TOKEN_FILE, SECRET_ARN, DB_HOST, DB_PORT, DB_NAME, DSN_TEMPLATE (slots
<user> and <password> URL-encoded, <user:raw> and <password:raw> as they are, <host>, <port>,
<dbname>), SECRET_NAME, SECRET_KEY, DEPLOYMENT_NAME, VERSION_ANNOTATION, POD_NAMESPACE; for the
own user also APP_SECRET_ARN, USER_ANNOTATION, DB_CA_FILE. AWS_ENDPOINT_URL_STS,
AWS_ENDPOINT_URL_SECRETS_MANAGER and KUBERNETES_API, KUBERNETES_SA_DIR point it elsewhere
(tests).
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets
import socket
import ssl
import stringprep
import struct
import sys
import unicodedata
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


def secret_value(region, arn, keys=None):
    """(VersionId, parsed SecretString) of the secret, by a SigV4-signed GetSecretValue."""
    access_key, secret_key, session_token = keys or credentials(region)
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


# --- PostgreSQL: a minimal client (protocol 3.0) and the application user ---
#
# Just enough of the frontend/backend protocol to log in as the RDS master user over verified
# TLS and run a few statements with the simple query protocol (the script may not install
# psycopg). https://www.postgresql.org/docs/current/protocol.html


class PgError(RuntimeError):
    """An ErrorResponse from the server: str() is "SQLSTATE <code>: <message>", nothing more."""

    def __init__(self, sqlstate, message):
        RuntimeError.__init__(self, "SQLSTATE %s: %s" % (sqlstate, message))
        self.sqlstate = sqlstate


def _pg_error(body):
    """The PgError of an ErrorResponse body: (field type byte, C string) pairs, then a NUL."""
    fields = {}
    for field in body.split(b"\0"):
        if field:
            fields[field[:1]] = field[1:].decode("utf-8", "replace")
    return PgError(fields.get(b"C", "?????"), fields.get(b"M", "(no message)"))


def _hmac_sha256(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def _saslprep(password):
    """The password as PostgreSQL feeds it to SCRAM: SASLprep (RFC 4013) of it when that succeeds,
    else the string unchanged (PostgreSQL's pg_saslprep() falls back the same way, both when it
    stores a password and when it checks one). ASCII passes through untouched."""
    if all(ord(c) < 128 for c in password):
        return password
    # map: non-ASCII spaces to a space, "commonly mapped to nothing" characters away; then NFKC
    mapped = "".join(" " if stringprep.in_table_c12(c) else c
                     for c in password if not stringprep.in_table_b1(c))
    text = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_a1, stringprep.in_table_c12, stringprep.in_table_c21_c22,
                  stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
                  stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9)
    if not text or any(test(c) for c in text for test in prohibited):
        return password
    # bidirectional text: with any RandALCat character, no LCat one, and RandALCat at both ends
    if any(stringprep.in_table_d1(c) for c in text):
        if (any(stringprep.in_table_d2(c) for c in text)
                or not (stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1]))):
            return password
    return text


class _Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, without
    channel binding (gs2 header "n,,"). The user name is left empty: the server takes the one
    of the startup message."""

    def __init__(self, password):
        self._password = _saslprep(password).encode("utf-8")
        self._nonce = base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        self._first_bare = "n=,r=" + self._nonce
        self._server_signature = None

    def first_message(self):
        return ("n,," + self._first_bare).encode("ascii")

    def final_message(self, server_first):
        """The client-final-message, with the proof, for the server-first-message r=,s=,i=."""
        server_first = server_first.decode("utf-8")
        attributes = dict(part.split("=", 1) for part in server_first.split(",") if "=" in part)
        nonce = attributes.get("r", "")
        if not nonce.startswith(self._nonce) or len(nonce) == len(self._nonce):
            raise RuntimeError("SCRAM: the server's nonce does not extend the client's")
        salt = base64.b64decode(attributes.get("s", ""))
        iterations = int(attributes.get("i", "0"))
        if not salt or iterations < 1:
            raise RuntimeError("SCRAM: the server sent no salt or iteration count")
        salted = hashlib.pbkdf2_hmac("sha256", self._password, salt, iterations)
        client_key = _hmac_sha256(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=biws,r=" + nonce  # biws: base64 of the gs2 header "n,,"
        auth_message = ",".join((self._first_bare, server_first, without_proof)).encode("utf-8")
        signature = _hmac_sha256(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self._server_signature = _hmac_sha256(_hmac_sha256(salted, b"Server Key"), auth_message)
        return (without_proof + ",p=" + base64.b64encode(proof).decode("ascii")).encode("ascii")

    def verify(self, server_final):
        """Checks the server-final-message: a server that proves it knows the verifier."""
        attributes = dict(part.split("=", 1) for part in server_final.decode("utf-8").split(",") if "=" in part)
        if "e" in attributes:
            raise RuntimeError("SCRAM: the server answered error " + attributes["e"])
        if self._server_signature is None or not hmac.compare_digest(
                base64.b64decode(attributes.get("v", "")), self._server_signature):
            raise RuntimeError("SCRAM: wrong server signature")


# Authentication request codes other than 0 (ok), 3 (cleartext), 5 (MD5), 10-12 (SASL).
_PG_AUTH_NAMES = {2: "KerberosV5", 6: "SCM credentials", 7: "GSSAPI", 8: "GSSAPI", 9: "SSPI"}


class PgConnection:
    """A session in the simple query protocol. Open one with pg_connect()."""

    def __init__(self, sock):
        self._sock = sock
        self._in = sock.makefile("rb")
        self.parameters = {}  # ParameterStatus: server_version, server_encoding, ...

    def _send(self, kind, payload=b""):
        self._sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    def _read(self, size):
        data = self._in.read(size)
        if data is None or len(data) != size:
            raise ConnectionError("PostgreSQL closed the connection")
        return data

    def _receive(self):
        """(type byte, body) of the next backend message."""
        header = self._read(5)
        length = struct.unpack("!i", header[1:])[0]
        if not 4 <= length <= 1 << 30:
            raise RuntimeError("PostgreSQL sent a malformed message")
        return header[:1], self._read(length - 4)

    def _startup(self, user, password, database):
        parameters = (("user", user), ("database", database),
                      ("application_name", "archc-db-secret-sync"), ("client_encoding", "UTF8"))
        body = struct.pack("!i", 196608)  # protocol 3.0
        body += b"".join(k.encode() + b"\0" + v.encode("utf-8") + b"\0" for k, v in parameters) + b"\0"
        self._sock.sendall(struct.pack("!i", len(body) + 4) + body)  # the one message without a type
        scram, authenticated = None, False
        while True:
            kind, body = self._receive()
            if kind == b"E":
                raise _pg_error(body)
            if kind == b"R":
                code = struct.unpack("!i", body[:4])[0]
                if code == 0:  # AuthenticationOk
                    if scram is not None and not authenticated:
                        raise RuntimeError("SCRAM: the server skipped its final message")
                    authenticated = True
                elif code == 3:  # cleartext: tolerable only because TLS already verified the server
                    self._send(b"p", password.encode("utf-8") + b"\0")
                elif code == 5:  # md5(md5(password || user) in hex || 4-byte salt), in hex
                    inner = hashlib.md5(password.encode("utf-8") + user.encode("utf-8")).hexdigest()
                    outer = hashlib.md5(inner.encode("ascii") + body[4:8]).hexdigest()
                    self._send(b"p", b"md5" + outer.encode("ascii") + b"\0")
                elif code == 10:  # AuthenticationSASL: the mechanisms, NUL-terminated
                    mechanisms = [m.decode("ascii", "replace") for m in body[4:].split(b"\0") if m]
                    if "SCRAM-SHA-256" not in mechanisms:
                        raise RuntimeError("unsupported SASL mechanisms: %s" % ", ".join(mechanisms))
                    scram = _Scram(password)
                    first = scram.first_message()
                    # SASLInitialResponse: mechanism, NUL, int32 length, client-first-message
                    self._send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
                elif code == 11 and scram is not None:  # AuthenticationSASLContinue
                    self._send(b"p", scram.final_message(body[4:]))  # SASLResponse
                elif code == 12 and scram is not None:  # AuthenticationSASLFinal
                    scram.verify(body[4:])
                    authenticated = True
                else:
                    raise RuntimeError("unsupported authentication method: %s" % _PG_AUTH_NAMES.get(
                        code, "request code %d" % code))
            elif kind == b"S":  # ParameterStatus
                name, value = body.split(b"\0")[:2]
                self.parameters[name.decode()] = value.decode("utf-8", "replace")
            elif kind == b"Z":  # ReadyForQuery
                if not authenticated:
                    raise RuntimeError("PostgreSQL was ready before authenticating")
                return
            elif kind not in (b"K", b"N"):  # BackendKeyData, NoticeResponse
                raise RuntimeError("unexpected message %r while logging in" % kind)

    def query(self, sql):
        """Runs sql (one or more statements: one implicit transaction) with the simple query
        protocol. The rows of the last result set, as tuples of str (None for NULL); raises
        PgError after the server is ready again, so the connection stays usable."""
        self._send(b"Q", sql.encode("utf-8") + b"\0")
        rows, error = [], None
        while True:
            kind, body = self._receive()
            if kind == b"T":  # RowDescription: a new result set
                rows = []
            elif kind == b"D":  # DataRow: int16 count, then int32 length (-1: NULL) and bytes
                count, at, row = struct.unpack("!h", body[:2])[0], 2, []
                for _ in range(count):
                    size = struct.unpack("!i", body[at:at + 4])[0]
                    at += 4
                    if size < 0:
                        row.append(None)
                    else:
                        row.append(body[at:at + size].decode("utf-8"))
                        at += size
                rows.append(tuple(row))
            elif kind == b"E":
                error = error or _pg_error(body)
            elif kind == b"G":  # CopyInResponse: this client has no data to send
                self._send(b"f", b"COPY FROM STDIN is not supported\0")
            elif kind == b"S":
                name, value = body.split(b"\0")[:2]
                self.parameters[name.decode()] = value.decode("utf-8", "replace")
            elif kind == b"Z":
                break
            # CommandComplete, EmptyQueryResponse, NoticeResponse, NotificationResponse and
            # COPY TO STDOUT's messages carry nothing this client keeps.
        if error is not None:
            raise error
        return rows

    def close(self):
        """Sends Terminate and closes the socket."""
        try:
            self._send(b"X")
        except OSError:
            pass
        finally:
            self._in.close()
            self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def pg_connect(host, port, user, password, database, cafile, server_hostname=None):
    """A PgConnection over TLS that verifies the server like libpq's sslmode=verify-full: the
    certificate must chain to cafile (None: the system's CAs) and name server_hostname (by
    default host). Logs in with SCRAM-SHA-256, MD5 or, only because the channel is verified,
    a cleartext password."""
    raw = socket.create_connection((host, int(port)), timeout=15)
    try:
        raw.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest
        # Exactly one byte: whatever might follow it must go through the TLS handshake, never be
        # taken as a message (CVE-2021-23222).
        if raw.recv(1) != b"S":
            raise RuntimeError("server refused TLS")
        context = ssl.create_default_context(cafile=cafile)  # CERT_REQUIRED, check_hostname
        sock = context.wrap_socket(raw, server_hostname=server_hostname or host)
    except BaseException:
        raw.close()
        raise
    conn = PgConnection(sock)
    try:
        conn._startup(user, password, database)
    except BaseException:
        conn.close()
        raise
    sock.settimeout(120)
    return conn


def scram_verifier(password, salt=None, iterations=4096):
    """What PostgreSQL stores for a SCRAM-SHA-256 password. ALTER ROLE ... PASSWORD takes it
    as it is, so the password itself never reaches the server or its logs."""
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password).encode("utf-8"), salt, iterations)
    stored_key = hashlib.sha256(_hmac_sha256(salted, b"Client Key")).digest()
    server_key = _hmac_sha256(salted, b"Server Key")
    b64 = lambda data: base64.b64encode(data).decode("ascii")  # noqa: E731
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key))


def quote_ident(name):
    """An SQL identifier: in double quotes, inner ones doubled."""
    if not name or "\0" in name:
        raise ValueError("an SQL identifier must be non-empty and without NUL")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value):
    """An SQL string literal: in single quotes, inner ones doubled. Backslashes are refused
    rather than trusted to standard_conforming_strings."""
    if "\\" in value or "\0" in value:
        raise ValueError("an SQL literal here may not hold a backslash or NUL")
    return "'" + value.replace("'", "''") + "'"


# One simple query, so one implicit transaction: every change or none. The names travel as
# transaction-local settings (archc.*), never spliced into the dollar-quoted PL/pgSQL bodies.
# lock_timeout: ALTER TABLE ... OWNER TO waits for an exclusive lock behind the application's
# transactions, and queues the application's next queries behind it; better fail and retry on
# the next run than stall the application.
_APP_USER_SQL = """\
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
SELECT set_config('archc.app_user', %(user_literal)s, true),
       set_config('archc.database', %(database_literal)s, true);
DO $archc$
DECLARE
    app text := current_setting('archc.app_user');
BEGIN
    IF current_database() <> current_setting('archc.database') THEN
        RAISE EXCEPTION 'connected to database %%, not %%', current_database(), current_setting('archc.database');
    END IF;
    IF app = current_user THEN
        RAISE EXCEPTION 'the application user must not be the connecting user %%', current_user;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
        PERFORM set_config('archc.role', 'updated', true);
    ELSE
        EXECUTE format('CREATE ROLE %%I LOGIN', app);
        PERFORM set_config('archc.role', 'created', true);
    END IF;
END
$archc$;
ALTER ROLE %(user)s WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD %(verifier_literal)s;
GRANT %(user)s TO CURRENT_USER;
ALTER DATABASE %(database)s OWNER TO %(user)s;
REVOKE ALL ON DATABASE %(database)s FROM PUBLIC;
DO $archc$
DECLARE
    app text := current_setting('archc.app_user');
    me oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
    public_schema oid := (SELECT oid FROM pg_namespace WHERE nspname = 'public');
    item record;
    relations int := 0;
    routines int := 0;
    types int := 0;
BEGIN
    -- public belongs to pg_database_owner (PostgreSQL 15+: now the application user) or, on
    -- older setups, possibly to the master user
    IF (SELECT nspowner FROM pg_namespace WHERE oid = public_schema) = me THEN
        EXECUTE format('ALTER SCHEMA public OWNER TO %%I', app);
        PERFORM set_config('archc.schema', 'yes', true);
    END IF;
    -- relations the application created while it connected as the master user; indexes and
    -- TOAST tables follow their table, and so do sequences owned by a column (serial,
    -- identity), which refuse a direct ALTER; members of extensions stay with the extension
    FOR item IN
        SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                   WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
               c.relname AS name
        FROM pg_class c
        WHERE c.relnamespace = public_schema AND c.relowner = me
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i')
                                                     AND d.refclassid = 'pg_class'::regclass)))
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER %%s public.%%I OWNER TO %%I', item.kind, item.name, app);
        relations := relations + 1;
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS signature
        FROM pg_proc p
        WHERE p.pronamespace = public_schema AND p.proowner = me
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %%s OWNER TO %%I', item.signature, app);
        routines := routines + 1;
    END LOOP;
    -- enums, ranges, domains and standalone composite types; array and multirange types and
    -- the row types of relations follow their base
    FOR item IN
        SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind, t.typname AS name
        FROM pg_type t
        WHERE t.typnamespace = public_schema AND t.typowner = me
          AND (t.typtype IN ('e', 'r', 'd')
               OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
        ORDER BY t.typname
    LOOP
        EXECUTE format('ALTER %%s public.%%I OWNER TO %%I', item.kind, item.name, app);
        types := types + 1;
    END LOOP;
    PERFORM set_config('archc.reassigned', format('%%s %%s %%s', relations, routines, types), true);
END
$archc$;
SELECT current_setting('archc.role'), current_setting('archc.schema', true),
       current_setting('archc.reassigned');
"""


def ensure_app_user(conn, user, verifier, database):
    """Makes user, with the SCRAM verifier as its password, the owner of database and of what
    the master user owns in its schema public (idempotently, all or nothing), and takes
    CONNECT from PUBLIC. conn: the master user's connection to database. A summary, no secret."""
    if not verifier.startswith("SCRAM-SHA-256$"):
        raise ValueError("ensure_app_user takes a SCRAM verifier, never a password")
    for name in (user, database):
        if len(name.encode("utf-8")) > 63:  # PostgreSQL would truncate it, and then not find it
            raise ValueError("PostgreSQL names are at most 63 bytes: %s" % name)
    (role, schema, reassigned), = conn.query(_APP_USER_SQL % {
        "user": quote_ident(user), "user_literal": quote_literal(user),
        "database": quote_ident(database), "database_literal": quote_literal(database),
        "verifier_literal": quote_literal(verifier)})
    relations, routines, types = (int(n) for n in reassigned.split())
    plural = lambda n, word: "%d %s%s" % (n, word, "" if n == 1 else "s")  # noqa: E731
    return "role %s %s; owns database %s%s; %s, %s and %s reassigned" % (
        user, role, database, " and its schema public" if schema == "yes" else "",
        plural(relations, "relation"), plural(routines, "routine"), plural(types, "type"))

# --- end PostgreSQL ---


def dsn_of(value):
    """The application's DSN from DSN_TEMPLATE and a secret's username and password."""
    return (ENV["DSN_TEMPLATE"]
            .replace("<user:raw>", value["username"])
            .replace("<password:raw>", value["password"])
            .replace("<user>", encode(value["username"]))
            .replace("<password>", encode(value["password"]))
            .replace("<host>", ENV["DB_HOST"])
            .replace("<port>", ENV["DB_PORT"])
            .replace("<dbname>", ENV["DB_NAME"]))


def sync_app_user(region, namespace, secret_name, deployment, annotation):
    """The application's own user: when the user's secret has a version (at this endpoint) the
    Kubernetes Secret does not record, connect as the master user, make the user and set its
    password, then write the DSN and the record, and roll the pods."""
    keys = credentials(region)
    version, app = secret_value(region, ENV["APP_SECRET_ARN"], keys)
    record = "%s@%s" % (version, ENV["DB_HOST"])
    secret_path = "/api/v1/namespaces/%s/secrets/%s" % (namespace, secret_name)
    current = kube("GET", secret_path)
    recorded = ((current.get("metadata") or {}).get("annotations") or {}).get(ENV["USER_ANNOTATION"])
    key = ENV.get("SECRET_KEY", "datasource")
    if recorded == record and key in (current.get("data") or {}):
        print("%s/%s: up to date with user secret version %s" % (namespace, secret_name, version))
        return 0
    _, master = secret_value(region, ENV["SECRET_ARN"], keys)
    if master["username"] == app["username"]:
        raise RuntimeError("the application user %s is the master user" % app["username"])
    conn = pg_connect(ENV["DB_HOST"], int(ENV["DB_PORT"]), master["username"], master["password"],
                      ENV["DB_NAME"], ENV["DB_CA_FILE"])
    try:
        summary = ensure_app_user(conn, app["username"], scram_verifier(app["password"]), ENV["DB_NAME"])
    finally:
        conn.close()
    print("%s: %s" % (ENV["DB_HOST"], summary))
    kube("PATCH", secret_path, {"metadata": {"annotations": {ENV["USER_ANNOTATION"]: record}},
                                "stringData": {key: dsn_of(app)}})
    deployment_path = "/apis/apps/v1/namespaces/%s/deployments/%s" % (namespace, deployment)
    kube("PATCH", deployment_path, {"spec": {"template": {"metadata": {"annotations": {annotation: version}}}}})
    print("%s/%s: DSN of user %s written from secret version %s (recorded: %s); %s rolls its pods" % (
        namespace, secret_name, app["username"], version, recorded or "none", deployment))
    return 0


def main():
    region = ENV["AWS_REGION"]
    namespace = ENV["POD_NAMESPACE"]
    secret_name = ENV["SECRET_NAME"]
    deployment = ENV["DEPLOYMENT_NAME"]
    annotation = ENV["VERSION_ANNOTATION"]
    if ENV.get("APP_SECRET_ARN"):
        return sync_app_user(region, namespace, secret_name, deployment, annotation)
    version, value = secret_value(region, ENV["SECRET_ARN"])
    deployment_path = "/apis/apps/v1/namespaces/%s/deployments/%s" % (namespace, deployment)
    template = kube("GET", deployment_path).get("spec", {}).get("template", {})
    current = ((template.get("metadata") or {}).get("annotations") or {}).get(annotation)
    if current == version:
        print("%s/%s: up to date with secret version %s" % (namespace, secret_name, version))
        return 0
    dsn = dsn_of(value)
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
