#!/usr/bin/env python3
"""A throwaway PostgreSQL server for tests: TLS only over TCP, SCRAM, and an RDS-like master.

    python3 tests/postgres/pg.py start DIR           # prints the connection facts as JSON
    python3 tests/postgres/pg.py sql DIR "SQL" [DB]  # as the bootstrap superuser, psql -At
    python3 tests/postgres/pg.py stop DIR            # pg_ctl stop -m immediate; quiet if down

start makes a CA (DIR/ca.pem), a server certificate it signs (CN=localhost, SAN DNS:localhost,
IP:127.0.0.1), a second unrelated CA (DIR/other-ca.pem) for negative tests, a cluster in
DIR/data listening on 127.0.0.1 at a free port (pg_hba: local trust, hostssl scram-sha-256,
nothing else), and like RDS's master user a non-superuser archc_admin (LOGIN CREATEROLE
CREATEDB) with a random password, owning database mattermost, where it owns public.posts (a
serial key: an owned sequence) and the view public.recent_posts. The server logs every
statement to DIR/log. PostgreSQL's binaries: $ARCHC_PG_BIN, else the newest
/usr/lib/postgresql/<version>/bin, else where initdb is on PATH. As root, the server and its
tools run as the user postgres (else nobody), who then owns DIR. Standard library only.
"""

import base64
import glob
import hashlib
import hmac
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys

MASTER_USER = "archc_admin"
DATABASE = "mattermost"
SUPERUSER = "postgres"  # initdb's bootstrap superuser, reached only over the unix socket


def bin_dir():
    """PostgreSQL's bin directory, or SystemExit with what was tried."""
    candidates = []
    if os.environ.get("ARCHC_PG_BIN"):
        candidates.append(os.environ["ARCHC_PG_BIN"])
    else:
        versions = glob.glob("/usr/lib/postgresql/*/bin")
        versions.sort(key=lambda path: [int(p) if p.isdigit() else 0 for p in path.split("/")[3].split(".")])
        candidates.extend(reversed(versions))
        initdb = shutil.which("initdb")
        if initdb:
            candidates.append(os.path.dirname(os.path.realpath(initdb)))
    for candidate in candidates:
        if all(os.access(os.path.join(candidate, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "psql")):
            return candidate
    raise SystemExit("pg.py: no PostgreSQL binaries (initdb, pg_ctl, psql) in %s; install PostgreSQL "
                     "or set ARCHC_PG_BIN" % (", ".join(candidates) or "$ARCHC_PG_BIN, /usr/lib/postgresql/*/bin or PATH"))


def _server_user():
    """(uid, gid) to run PostgreSQL as: None unless root, which initdb and postgres refuse."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise SystemExit("pg.py: running as root, and there is neither a postgres nor a nobody user")


def _run(args, directory, check=True):
    """Runs a PostgreSQL tool (as the unprivileged server user when root); its stdout."""
    account = _server_user()

    def drop_privileges():
        os.setgroups([])
        os.setgid(account[1])
        os.setuid(account[0])

    env = dict(os.environ, LC_ALL="C", LANG="C", PGTZ="UTC")
    env.pop("PGPASSWORD", None)
    if account:
        env["HOME"] = directory
    result = subprocess.run(args, cwd=directory, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=drop_privileges if account else None)
    if check and result.returncode != 0:
        raise RuntimeError("pg.py: %s failed (%d): %s" % (
            os.path.basename(args[0]), result.returncode, result.stderr.decode("utf-8", "replace").strip()))
    return result.stdout.decode("utf-8")


def _openssl(directory, *args):
    result = subprocess.run(["openssl"] + list(args), cwd=directory, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        raise RuntimeError("pg.py: openssl %s failed: %s" % (args[0], result.stderr.decode("utf-8", "replace").strip()))


def _ca(directory, name, subject):
    """A self-signed CA, RFC 5280-strict (critical basicConstraints and keyUsage, key ids), so
    Python 3.13+'s default VERIFY_X509_STRICT accepts it too."""
    _openssl(directory, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "7", "-subj", subject,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash")


def _certificates(directory):
    _ca(directory, "ca", "/CN=archc test CA")
    _ca(directory, "other-ca", "/CN=archc unrelated CA")
    with open(os.path.join(directory, "server.ext"), "w", encoding="utf-8") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid\n")
    _openssl(directory, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    _openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "7", "-extfile", "server.ext", "-out", "server.crt")
    _openssl(directory, "verify", "-x509_strict", "-CAfile", "ca.pem", "server.crt")
    for name in ("ca.key", "other-ca.key", "server.csr", "server.ext", "ca.srl"):
        if os.path.exists(os.path.join(directory, name)):
            os.remove(os.path.join(directory, name))


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _state(directory):
    with open(os.path.join(directory, "pg.json"), encoding="utf-8") as f:
        return json.load(f)


def sql(directory, statement, database="postgres", user=SUPERUSER):
    """Output of psql -At running statement over the unix socket (trust), ON_ERROR_STOP."""
    state = _state(directory)
    return _run([os.path.join(state["bin"], "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
                 "-h", directory, "-p", str(state["port"]), "-U", user, "-d", database,
                 "-c", statement], directory)


def reload(directory):
    """Makes the server re-read pg_hba.conf and postgresql.conf."""
    sql(directory, "SELECT pg_reload_conf()")


def start(directory):
    """Starts a fresh server in directory; the facts a client needs (see the module's doc)."""
    directory = os.path.abspath(directory)
    pg_bin = bin_dir()
    os.makedirs(directory, exist_ok=True)
    if os.path.exists(os.path.join(directory, "data")):
        raise SystemExit("pg.py: %s/data exists already; stop and remove it first" % directory)
    account = _server_user()
    _certificates(directory)
    if account:
        os.chown(directory, *account)
        os.chmod(directory, 0o755)
        os.chown(os.path.join(directory, "server.key"), *account)
    os.chmod(os.path.join(directory, "server.key"), 0o600)
    data = os.path.join(directory, "data")
    _run([os.path.join(pg_bin, "initdb"), "-D", data, "-U", SUPERUSER, "-E", "UTF8", "--no-locale",
          "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"], directory)
    port = _free_port()
    with open(os.path.join(data, "postgresql.conf"), "a", encoding="utf-8") as f:
        f.write("\n# pg.py\n"
                "listen_addresses = '127.0.0.1'\n"
                "port = %d\n"
                "unix_socket_directories = '%s'\n"
                "ssl = on\n"
                "ssl_cert_file = '%s/server.crt'\n"
                "ssl_key_file = '%s/server.key'\n"
                "password_encryption = 'scram-sha-256'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "shared_buffers = 16MB\n"
                "max_connections = 20\n"
                "log_statement = 'all'\n"
                "log_connections = on\n"
                "log_min_messages = info\n" % (port, directory, directory, directory))
    with open(os.path.join(data, "pg_hba.conf"), "w", encoding="utf-8") as f:
        f.write("# pg.py: the socket trusts; TCP is TLS with SCRAM only\n"
                "local   all  all                 trust\n"
                "hostssl all  all  127.0.0.1/32   scram-sha-256\n")
    with open(os.path.join(directory, "pg.json"), "w", encoding="utf-8") as f:
        json.dump({"port": port, "bin": pg_bin}, f)
    _run([os.path.join(pg_bin, "pg_ctl"), "-D", data, "-l", os.path.join(directory, "log"),
          "-w", "-t", "60", "start"], directory)
    password = secrets.token_urlsafe(24)
    # The master's password as a SCRAM verifier computed here, so it reaches no log either.
    sql(directory, "CREATE ROLE %s LOGIN CREATEROLE CREATEDB PASSWORD '%s'" % (MASTER_USER, _verifier(password)))
    sql(directory, "CREATE DATABASE %s OWNER %s" % (DATABASE, MASTER_USER))
    sql(directory, "CREATE TABLE public.posts (id serial PRIMARY KEY, body text); "
                   "CREATE VIEW public.recent_posts AS SELECT id, body FROM public.posts ORDER BY id DESC LIMIT 10; "
                   "INSERT INTO public.posts (body) VALUES ('hello')", DATABASE, user=MASTER_USER)
    return {"host": "localhost", "port": port, "cafile": os.path.join(directory, "ca.pem"),
            "other_cafile": os.path.join(directory, "other-ca.pem"), "master_user": MASTER_USER,
            "master_password": password, "database": DATABASE, "socket_dir": directory, "bin": pg_bin}


def _verifier(password):
    """A SCRAM-SHA-256 verifier (as PostgreSQL stores it) of an ASCII password."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 4096)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
    server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda data: base64.b64encode(data).decode("ascii")  # noqa: E731
    return "SCRAM-SHA-256$4096:%s$%s:%s" % (b64(salt), b64(stored), b64(server))


def stop(directory):
    """Stops the server in directory at once; nothing to do if it is not running."""
    directory = os.path.abspath(directory)
    data = os.path.join(directory, "data")
    pid_file = os.path.join(data, "postmaster.pid")
    if not os.path.exists(pid_file):
        return
    try:
        pg_bin = _state(directory)["bin"]
    except (OSError, ValueError, KeyError):
        pg_bin = bin_dir()
    try:
        _run([os.path.join(pg_bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t", "30", "stop"],
             directory, check=False)
    except OSError:
        pass
    # pg_ctl could not stop it (say, the bin directory is gone): the postmaster by its pid
    if os.path.exists(pid_file):
        try:
            with open(pid_file, encoding="utf-8") as f:
                pid = int(f.readline().strip())
            os.kill(pid, signal.SIGQUIT)
        except (OSError, ValueError):
            pass


def main(argv):
    if len(argv) >= 2 and argv[0] == "start":
        print(json.dumps(start(argv[1])))
    elif len(argv) == 2 and argv[0] == "stop":
        stop(argv[1])
    elif len(argv) in (3, 4) and argv[0] == "sql":
        sys.stdout.write(sql(argv[1], argv[2], *argv[3:]))
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RuntimeError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
