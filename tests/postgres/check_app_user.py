#!/usr/bin/env python3
"""Proves db-secret-sync.py's PostgreSQL client and ensure_app_user() against a real server.

    python3 tests/postgres/check_app_user.py

Starts a throwaway server with pg.py (TLS-only TCP, SCRAM, an RDS-like non-superuser master
archc_admin owning database mattermost), drives it through the sync script's own functions,
and stops at the first failed assertion with a non-zero exit. Standard library only; needs
PostgreSQL's binaries (see pg.py) and openssl.
"""

import base64
import hashlib
import importlib.util
import os
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = load("db_secret_sync", os.path.join(ROOT, "targets", "kubernetes", "db-secret-sync.py"))
pg = load("pg", os.path.join(HERE, "pg.py"))

APP = "mattermost_app"
checks = []


class Failed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failed(what)
    checks.append(what)


def fails(call, expected, what):
    """The exception call() raises, which must be an instance of expected."""
    try:
        call()
    except expected as e:
        checks.append(what)
        return e
    except Exception as e:  # noqa: BLE001 - reported as the failure
        raise Failed("%s: raised %s: %s" % (what, type(e).__name__, e))
    raise Failed("%s: no exception" % what)


def refusing_server():
    """A port whose listener answers an SSLRequest with N (TLS not available)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        connection, _ = listener.accept()
        with connection:
            connection.recv(8)
            connection.sendall(b"N")
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def run(directory):
    info = pg.start(directory)
    host, port, ca, db = info["host"], info["port"], info["cafile"], info["database"]
    master, master_pw = info["master_user"], info["master_password"]
    superuser = lambda statement, database="postgres": pg.sql(directory, statement, database).strip()  # noqa: E731

    def connect(user, password, database=db, **kw):
        return sync.pg_connect(kw.pop("host", host), port, user, password, database, kw.pop("cafile", ca), **kw)

    # --- TLS and logging in --------------------------------------------------------------------
    conn = connect(master, master_pw)
    check(conn.query("SELECT current_user") == [("archc_admin",)], "master logs in over TLS: current_user")
    check(conn.query("SHOW ssl") == [("on",)], "SHOW ssl is on")
    ssl_row = conn.query("SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    check(ssl_row[0][0] == "true" and ssl_row[0][1].startswith("TLSv1."), "pg_stat_ssl: this session is TLS (%s)" % ssl_row[0][1])
    check(connect(master, master_pw, host="127.0.0.1").query("SELECT 1") == [("1",)],
          "the certificate's IP SAN lets 127.0.0.1 verify")
    # Python 3.13+ (the CronJob's image has 3.14) verifies with VERIFY_X509_STRICT by default
    default_context = ssl.create_default_context

    def strict_context(*args, **kwargs):
        context = default_context(*args, **kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT | getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
        return context

    ssl.create_default_context = strict_context
    try:
        connect(master, master_pw).close()
    finally:
        ssl.create_default_context = default_context
    checks.append("the test CA also passes Python 3.13+'s strict X.509 verification")
    e = fails(lambda: connect(master, master_pw, cafile=info["other_cafile"]), ssl.SSLCertVerificationError,
              "an unrelated CA fails verification")
    check("certificate verify failed" in str(e), "  ... as 'certificate verify failed'")
    e = fails(lambda: connect(master, master_pw, host="127.0.0.1", server_hostname="db.invalid"),
              ssl.SSLCertVerificationError, "a host name the certificate does not name fails verification")
    check("mismatch" in str(e).lower() or "match" in str(e).lower(), "  ... as a host name mismatch")
    e = fails(lambda: sync.pg_connect("127.0.0.1", refusing_server(), master, master_pw, db, ca), RuntimeError,
              "a server answering N to SSLRequest is refused")
    check(str(e) == "server refused TLS", "  ... with 'server refused TLS'")
    wrong = "wrong-" + secrets.token_urlsafe(12)
    e = fails(lambda: connect(master, wrong), sync.PgError, "a wrong password fails")
    check(e.sqlstate == "28P01" and str(e).startswith("SQLSTATE 28P01: "), "  ... with SQLSTATE 28P01 (%s)" % e)
    check(wrong not in str(e) and wrong not in repr(e) and master_pw not in str(e), "  ... without the password in it")

    # --- the query path --------------------------------------------------------------------------
    check(conn.query("SELECT 1, NULL::text, 'x''y'; SELECT 2") == [("2",)], "query returns the last result set")
    check(conn.query("SELECT 1, NULL::text, 'é'") == [("1", None, "é")], "NULL as None, UTF-8 text")
    check(conn.query("SELECT g FROM generate_series(1, 3) g") == [("1",), ("2",), ("3",)], "several rows")
    check(conn.query("CREATE TEMP TABLE scratch (x int)") == [], "a command returns no rows")
    e = fails(lambda: conn.query("SELEC 1"), sync.PgError, "bad SQL raises PgError")
    check(e.sqlstate == "42601", "  ... with SQLSTATE 42601 (%s)" % e)
    check(conn.query("SELECT 42") == [("42",)], "the connection works after an error")
    e = fails(lambda: conn.query("CREATE TABLE public.half_done (x int); SELECT 1/0"), sync.PgError,
              "an error in a multi-statement query")
    check(e.sqlstate == "22012", "  ... is SQLSTATE 22012")
    check(conn.query("SELECT to_regclass('public.half_done')") == [(None,)], "  ... and rolls all of it back")
    check(conn.query("") == [], "an empty query")

    # --- SCRAM details -----------------------------------------------------------------------------
    scram = sync._Scram("secret")
    nonce = base64.b64decode(scram.first_message().decode().split("r=", 1)[1])
    server_first = ("r=%s,s=%s,i=4096" % (base64.b64encode(nonce).decode() + "srv",
                                          base64.b64encode(b"0123456789abcdef").decode())).encode()
    scram.final_message(server_first)
    fails(lambda: scram.verify(b"v=" + base64.b64encode(b"\0" * 32)), RuntimeError, "a wrong SCRAM server signature is refused")
    fails(lambda: scram.verify(b"e=invalid-proof"), RuntimeError, "a SCRAM server error is refused")
    fails(lambda: sync._Scram("secret").final_message(b"r=someone-elses,s=QUJD,i=4096"), RuntimeError,
          "a SCRAM server nonce not extending the client's is refused")
    verifier = sync.scram_verifier("pw", salt=b"0123456789abcdef")
    check(verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$") and verifier.count(":") == 2,
          "scram_verifier's format")
    check(sync.quote_ident('a"b') == '"a""b"' and sync.quote_literal("it's") == "'it''s'", "quoting")
    fails(lambda: sync.quote_literal("a\\b"), ValueError, "quote_literal refuses a backslash")
    fails(lambda: sync.quote_literal("a\0b"), ValueError, "quote_literal refuses NUL")
    fails(lambda: sync.ensure_app_user(conn, APP, "plaintext", db), ValueError, "ensure_app_user refuses a password")
    # SASLprep: the server normalizes a non-ASCII password (soft hyphen dropped, Roman numeral NFKC)
    odd = "I\u00adX\u2168-" + secrets.token_hex(4)
    superuser("CREATE ROLE archc_unicode LOGIN PASSWORD '%s'" % odd)
    connect("archc_unicode", odd, "postgres").close()
    connect("archc_unicode", odd.replace("\u00ad", "").replace("\u2168", "IX"), "postgres").close()
    checks.append("SCRAM with a password PostgreSQL SASLpreps itself")
    odd2 = "\u2168\u00a0" + secrets.token_hex(4)
    superuser("ALTER ROLE archc_unicode PASSWORD '%s'" % sync.scram_verifier(odd2))
    connect("archc_unicode", odd2, "postgres").close()
    check(superuser("SELECT rolpassword FROM pg_authid WHERE rolname = 'archc_unicode'").startswith("SCRAM-SHA-256$4096:"),
          "scram_verifier of a non-ASCII password logs in; PostgreSQL stores the verifier as given")
    # MD5 and cleartext, each on a role of its own with an hba line of its own
    md5_pw, plain_pw = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    superuser("CREATE ROLE archc_md5 LOGIN PASSWORD 'md5%s'" % hashlib.md5((md5_pw + "archc_md5").encode()).hexdigest())
    superuser("CREATE ROLE archc_plain LOGIN PASSWORD '%s'" % sync.scram_verifier(plain_pw))
    hba = os.path.join(directory, "data", "pg_hba.conf")
    with open(hba, encoding="utf-8") as f:
        lines = f.read()
    with open(hba, "w", encoding="utf-8") as f:
        f.write("hostssl all archc_md5   127.0.0.1/32 md5\nhostssl all archc_plain 127.0.0.1/32 password\n" + lines)
    pg.reload(directory)
    with connect("archc_md5", md5_pw, "postgres") as c:
        check(c.query("SELECT current_user") == [("archc_md5",)], "MD5 authentication")
    fails(lambda: connect("archc_md5", "not-" + md5_pw, "postgres"), sync.PgError, "MD5 with a wrong password fails")
    with connect("archc_plain", plain_pw, "postgres") as c:
        check(c.query("SELECT current_user") == [("archc_plain",)], "cleartext password authentication (over TLS)")

    # --- the application user ------------------------------------------------------------------
    # More for ensure_app_user to reassign: what an application may have made as the master.
    conn.query("""
        CREATE TABLE public.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz);
        CREATE SEQUENCE public.ticket_numbers;
        CREATE MATERIALIZED VIEW public.post_counts AS SELECT count(*) AS n FROM public.posts;
        CREATE TABLE public.measurements (at date, v int) PARTITION BY RANGE (at);
        CREATE TABLE public.measurements_2024 PARTITION OF public.measurements
            FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TYPE public.mood AS ENUM ('ok', 'not ok');
        CREATE TYPE public.pair AS (a int, b int);
        CREATE DOMAIN public.positive AS int CHECK (VALUE > 0);
        CREATE FUNCTION public.post_total() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM public.posts';
        CREATE PROCEDURE public.noop() LANGUAGE sql AS 'SELECT 1';
        CREATE SCHEMA archive;
        CREATE TABLE archive.old_posts (id int);
    """)
    # an extension's members owned by the master (as RDS's rds_superuser leaves them) stay put
    superuser("CREATE EXTENSION citext; ALTER TYPE citext OWNER TO archc_admin; "
              "ALTER FUNCTION citext(boolean) OWNER TO archc_admin", db)
    superuser("CREATE ROLE bystander LOGIN PASSWORD '%s'" % sync.scram_verifier("bystander-pw"))
    connect("bystander", "bystander-pw").close()
    checks.append("before: any role may connect to mattermost")

    pw1, pw2 = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    # all or nothing: with posts locked by another session, lock_timeout ends it and nothing stays
    with connect(master, master_pw) as locker:
        locker.query("BEGIN; LOCK TABLE public.posts IN ACCESS SHARE MODE")
        started = time.monotonic()
        e = fails(lambda: sync.ensure_app_user(conn, APP, sync.scram_verifier(pw1), db), sync.PgError,
                  "ensure_app_user fails while the application holds a lock")
        check(e.sqlstate == "55P03", "  ... with lock_timeout's SQLSTATE 55P03 after %.1f s" % (time.monotonic() - started))
        locker.query("ROLLBACK")
    check(superuser("SELECT count(*) FROM pg_roles WHERE rolname = '%s'" % APP) == "0"
          and superuser("SELECT datdba::regrole FROM pg_database WHERE datname = 'mattermost'") == master,
          "  ... and leaves no role created, no owner changed")

    summary = sync.ensure_app_user(conn, APP, sync.scram_verifier(pw1), db)
    check(summary == "role mattermost_app created; owns database mattermost; "
                     "7 relations, 2 routines and 3 types reassigned", "ensure_app_user: %s" % summary)
    owners = dict(tuple(line.split("|")) for line in superuser(
        "SELECT c.oid::regclass, c.relowner::regrole FROM pg_class c "
        "WHERE c.relnamespace IN ('public'::regnamespace, 'archive'::regnamespace) AND c.relkind <> 't'", db).splitlines())
    for name in ("posts", "posts_id_seq", "posts_pkey", "recent_posts", "events", "events_id_seq", "ticket_numbers",
                 "post_counts", "measurements", "measurements_2024", "pair"):
        check(owners.get(name) == APP, "%s is owned by %s" % (name, APP))
    check(owners.get("archive.old_posts") == master, "other schemas are left alone")
    types = superuser("SELECT string_agg(typname || '=' || typowner::regrole::text, ',' ORDER BY typname) FROM pg_type "
                      "WHERE typnamespace = 'public'::regnamespace AND typname IN ('mood', 'positive', 'pair', 'citext')", db)
    check(types == "citext=archc_admin,mood=%s,pair=%s,positive=%s" % (APP, APP, APP),
          "types reassigned, the extension's left with the master (%s)" % types)
    routines = superuser("SELECT string_agg(proname || '=' || proowner::regrole::text, ',' ORDER BY proname) FROM pg_proc "
                         "WHERE oid IN ('public.post_total()'::regprocedure, 'public.noop()'::regprocedure, "
                         "'public.citext(boolean)'::regprocedure)", db)
    check(routines == "citext=archc_admin,noop=%s,post_total=%s" % (APP, APP), "routines reassigned (%s)" % routines)
    check(superuser("SELECT datdba::regrole FROM pg_database WHERE datname = 'mattermost'") == APP, "the app owns database mattermost")
    check(superuser("SELECT has_database_privilege('public', 'mattermost', 'CONNECT')") == "f", "PUBLIC lost CONNECT on mattermost")
    e = fails(lambda: connect("bystander", "bystander-pw"), sync.PgError, "another role can no longer connect to mattermost")
    check(e.sqlstate == "42501", "  ... SQLSTATE 42501")
    check(superuser("SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin "
                    "FROM pg_roles WHERE rolname = '%s'" % APP) == "f|f|f|f|f|t",
          "the app is LOGIN, not superuser, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS")
    with connect(APP, pw1) as app:
        check(app.query("SELECT current_user, body FROM public.posts") == [(APP, "hello")], "the app logs in with pw1 and reads posts")
        app.query("CREATE TABLE public.app_made (x int); INSERT INTO public.posts (body) VALUES ('again'); "
                  "SELECT * FROM public.recent_posts; REFRESH MATERIALIZED VIEW public.post_counts")
        checks.append("the app creates tables in public, writes posts (its sequence), reads the view")
        e = fails(lambda: app.query("CREATE ROLE sneaky"), sync.PgError, "the app cannot create roles")
        check(e.sqlstate == "42501", "  ... 42501")
        e = fails(lambda: app.query("CREATE DATABASE sneaky"), sync.PgError, "the app cannot create databases")
        check(e.sqlstate == "42501", "  ... 42501")
    with connect(master, master_pw) as again:
        check(again.query("SELECT count(*) FROM public.posts") == [("2",)], "the master still connects and reads (member of the app role)")

    # --- idempotent, then a new password ---------------------------------------------------------
    same = sync.ensure_app_user(conn, APP, superuser("SELECT rolpassword FROM pg_authid WHERE rolname = '%s'" % APP), db)
    check(same == "role mattermost_app updated; owns database mattermost; 0 relations, 0 routines and 0 types reassigned",
          "again with the same verifier: %s" % same)
    connect(APP, pw1).close()
    checks.append("  ... pw1 still works")
    sync.ensure_app_user(conn, APP, sync.scram_verifier(pw2), db)
    e = fails(lambda: connect(APP, pw1), sync.PgError, "after rotating to pw2, pw1 fails")
    check(e.sqlstate == "28P01" and pw1 not in str(e), "  ... with 28P01, no password in the message")
    connect(APP, pw2).close()
    checks.append("  ... and pw2 works")

    # --- the app owns only its database ----------------------------------------------------------
    conn.query("CREATE DATABASE other")
    conn.query("REVOKE CONNECT ON DATABASE other FROM PUBLIC")
    check(superuser("SELECT datdba::regrole FROM pg_database WHERE datname = 'other'") == master, "the master owns database other")
    e = fails(lambda: connect(APP, pw2, "other"), sync.PgError, "the app cannot connect to database other")
    check(e.sqlstate == "42501", "  ... 42501")
    with connect(master, master_pw, "other") as other:
        e = fails(lambda: sync.ensure_app_user(other, APP, sync.scram_verifier(pw2), db), sync.PgError,
                  "ensure_app_user refuses a connection to another database")
    e = fails(lambda: sync.ensure_app_user(conn, master, sync.scram_verifier(pw2), db), sync.PgError,
              "ensure_app_user refuses to make the master the app user")
    conn.close()

    # --- nothing secret in the server's log ------------------------------------------------------
    time.sleep(0.2)
    with open(os.path.join(directory, "log"), encoding="utf-8", errors="replace") as f:
        log = f.read()
    check("ALTER ROLE \"mattermost_app\" WITH LOGIN" in log, "the log holds every statement (log_statement = all)")
    for secret in (pw1, pw2, master_pw, md5_pw, plain_pw, wrong):
        check(secret not in log, "the server log does not hold a password (%d characters)" % len(secret))
    check("method=md5" in log and "method=password" in log and "method=scram-sha-256" in log,
          "the log shows md5, password and scram-sha-256 logins")


def main():
    started = time.monotonic()
    directory = tempfile.mkdtemp(prefix="archc-pg-")
    try:
        run(directory)
    except Failed as e:
        print("FAIL: %s (after %d checks passed)" % (e, len(checks)), file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - a setup step or an unexpected error
        print("FAIL: %s: %s (after %d checks passed)" % (type(e).__name__, e, len(checks)), file=sys.stderr)
        return 1
    finally:
        pg.stop(directory)
        if os.environ.get("ARCHC_KEEP_PG"):
            print("kept %s" % directory, file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print("PASS: %d checks of the PostgreSQL client and ensure_app_user in %.1f s" % (len(checks), time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
