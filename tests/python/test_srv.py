"""psycopg 3 (and SQLAlchemy over it) against `skyql srv --emulator`: the simple and the extended
protocol, parameters, server-side cursors, and typed values (a JSON column
arrives as a dict, a boolean as bool, a timestamp as a datetime)."""

import datetime
import subprocess

import psycopg
import psycopg.errors
import pytest
import sqlalchemy

JOBS = (
    "SELECT name, displayName, state, labels, createTime FROM google.aiplatform.custom_jobs"
    " WHERE projectsId = %s AND locationsId = %s ORDER BY name"
)


@pytest.fixture(scope="module")
def srv(tmp_path_factory, skyql_bin):
    binary = skyql_bin
    home = tmp_path_factory.mktemp("srv-home")
    proc = subprocess.Popen(
        [str(binary), "srv", "--emulator", "--addr", "127.0.0.1:0", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    if not line:
        proc.kill()
        pytest.fail(f"skyql srv did not start: {proc.stderr.read()}")
    host, port = line.rsplit(":", 1)
    yield f"host={host} port={port} user=tester dbname=skyql"
    proc.terminate()
    proc.wait(timeout=10)


def test_extended_protocol_with_parameters_and_typed_values(srv):
    with psycopg.connect(srv, autocommit=True) as conn:
        rows = conn.execute(JOBS, ("demo-project", "us-central1")).fetchall()
        assert rows, "no jobs"
        name, display, state, labels, created = rows[0]
        assert isinstance(labels, dict) and "team" in labels
        assert isinstance(created, datetime.datetime) and created.tzinfo is not None
        assert state.startswith("JOB_STATE_")
        count = conn.execute(
            "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = %s AND locationsId = %s",
            ("demo-project", "us-central1"),
        ).fetchone()[0]
        assert count == len(rows)


def test_binary_results(srv):
    with psycopg.connect(srv, autocommit=True) as conn:
        cur = conn.cursor(binary=True)
        cur.execute(JOBS, ("demo-project", "europe-west4"))
        rows = cur.fetchall()
        assert rows and isinstance(rows[0][3], dict)
        assert isinstance(rows[0][4], datetime.datetime)


def test_simple_protocol_several_statements(srv):
    with psycopg.connect(srv, autocommit=True) as conn:
        cur = psycopg.ClientCursor(conn)
        cur.execute(
            "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = %s AND locationsId = %s;"
            " SHOW SERVICES IN google LIKE 'aiplatform'",
            ("demo-project", "us-central1"),
        )
        assert cur.fetchone()[0] > 0
        assert cur.nextset()
        assert cur.fetchone()[0] == "aiplatform:v1"


def test_boolean_arrives_as_bool(srv):
    with psycopg.connect(srv, autocommit=True) as conn:
        job = conn.execute(
            "SELECT customJobsId FROM google.aiplatform.custom_jobs WHERE projectsId = %s"
            " AND locationsId = %s AND state = 'JOB_STATE_SUCCEEDED' LIMIT 1",
            ("demo-project", "us-central1"),
        ).fetchone()[0]
        op = conn.execute(
            psycopg.sql.SQL(
                "EXEC google.aiplatform.custom_jobs.delete @projectsId='demo-project',"
                " @locationsId='us-central1', @customJobsId={}"
            ).format(psycopg.sql.Literal(job))
        )
        cols = [c.name for c in op.description]
        row = dict(zip(cols, op.fetchone()))
        assert row["done"] is True
        assert isinstance(row["metadata"], dict)


def test_server_side_cursor_in_a_transaction(srv):
    with psycopg.connect(srv) as conn:
        with conn.cursor(name="jobs") as cur:
            cur.itersize = 3
            cur.execute(JOBS, ("demo-project", "us-central1"))
            names = [r[0] for r in cur]
        assert len(names) > 3
        conn.commit()


def test_errors_keep_sqlstate_and_message(srv):
    with psycopg.connect(srv, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable) as e:
            conn.execute("SELECT name FROM google.aiplatform.custom_jobz WHERE projectsId = %s", ("p",))
        assert "custom_jobs" in str(e.value)
        assert conn.execute("SELECT 1").fetchone()[0] == 1


def test_insert_returning_and_exec_with_parameters(srv):
    spec = (
        '{"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"},'
        ' "replicaCount": 1, "containerSpec": {"imageUri": "gcr.io/x/y"}}]}'
    )
    with psycopg.connect(srv, autocommit=True) as conn:
        cur = conn.execute(
            "INSERT INTO google.aiplatform.custom_jobs (projectsId, locationsId, data__displayName, data__jobSpec)"
            " SELECT %s, %s, %s, %s RETURNING name, displayName, jobSpec",
            ("demo-project", "us-central1", "from-psycopg", spec),
        )
        assert cur.statusmessage == "INSERT 0 1"
        name, display, job_spec = cur.fetchone()
        assert display == "from-psycopg"
        assert job_spec["workerPoolSpecs"][0]["machineSpec"]["machineType"] == "n1-standard-4"
        job_id = name.rsplit("/", 1)[1]
        got = conn.execute(
            "SELECT displayName FROM google.aiplatform.custom_jobs"
            " WHERE projectsId = %s AND locationsId = %s AND customJobsId = %s",
            ("demo-project", "us-central1", job_id),
        ).fetchone()
        assert got == ("from-psycopg",)
        desc = conn.execute("DESCRIBE google.aiplatform.custom_jobs").fetchall()
        assert any(r[0] == "displayName" for r in desc)


def test_prepared_after_repeats(srv):
    # psycopg prepares a statement server-side from its fifth run on.
    with psycopg.connect(srv, autocommit=True) as conn:
        counts = [
            len(conn.execute(JOBS, ("demo-project", "us-central1")).fetchall()) for _ in range(7)
        ]
        assert len(set(counts)) == 1 and counts[0] > 0
        assert conn.execute(JOBS, ("demo-project", "us-central1"), prepare=True).fetchone()


def test_describe_prepared_statement_with_parameters(srv):
    # libpq's PQdescribePrepared before any parameter is bound (pgx's default
    # mode does the same): the row description must match the rows.
    with psycopg.connect(srv, autocommit=True) as conn:
        pg = conn.pgconn
        sql = (
            b"SELECT displayName, labels, createTime, count(*) OVER () AS n FROM google.aiplatform.custom_jobs"
            b" WHERE projectsId = $1 AND locationsId = $2"
        )
        assert pg.prepare(b"s1", sql).status == psycopg.pq.ExecStatus.COMMAND_OK
        d = pg.describe_prepared(b"s1")
        assert d.status == psycopg.pq.ExecStatus.COMMAND_OK
        assert d.nparams == 2
        assert [d.fname(i) for i in range(d.nfields)] == [b"displayName", b"labels", b"createTime", b"n"]
        assert [d.ftype(i) for i in range(d.nfields)] == [25, 114, 1184, 25]
        r = pg.exec_prepared(b"s1", [b"demo-project", b"us-central1"], result_format=1)
        assert r.status == psycopg.pq.ExecStatus.TUPLES_OK, r.error_message
        assert r.ntuples > 0
        assert [r.ftype(i) for i in range(r.nfields)] == [25, 114, 1184, 25]
        assert r.get_value(0, 3) == str(r.ntuples).encode()


def test_sqlalchemy_connects_and_inspects(srv):
    params = dict(p.split("=", 1) for p in srv.split())
    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
    )
    with engine.connect() as conn:
        n = conn.execute(
            sqlalchemy.text(
                "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = :p AND locationsId = :l"
            ),
            {"p": "demo-project", "l": "us-central1"},
        ).scalar()
        assert n > 0
    inspector = sqlalchemy.inspect(engine)
    assert "aiplatform" in inspector.get_schema_names()
    assert "custom_jobs" in inspector.get_table_names(schema="aiplatform")
    columns = {c["name"]: str(c["type"]) for c in inspector.get_columns("custom_jobs", schema="aiplatform")}
    assert columns["labels"] == "JSON"
    assert columns["createTime"] == "TIMESTAMP"
    assert "projectsId" in columns
    engine.dispose()


def test_binary_parameters(srv):
    with psycopg.connect(srv, autocommit=True) as conn:
        n = conn.execute(
            "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = %b AND locationsId = %b AND pageSize = %b",
            ("demo-project", "us-central1", 5),
        ).fetchone()[0]
        assert n > 5


def test_delete_with_await(srv):
    with psycopg.connect(srv, autocommit=True) as conn:
        job = conn.execute(
            "SELECT customJobsId FROM google.aiplatform.custom_jobs WHERE projectsId = %s"
            " AND locationsId = %s AND state = 'JOB_STATE_FAILED' LIMIT 1",
            ("demo-project", "europe-west4"),
        ).fetchone()[0]
        cur = conn.execute(
            "DELETE /*+ AWAIT */ FROM google.aiplatform.custom_jobs"
            " WHERE projectsId = %s AND locationsId = %s AND customJobsId = %s",
            ("demo-project", "europe-west4", job),
        )
        assert cur.statusmessage == "DELETE 1"
        left = conn.execute(
            "SELECT count(*) FROM google.aiplatform.custom_jobs"
            " WHERE projectsId = %s AND locationsId = %s AND customJobsId = %s",
            ("demo-project", "europe-west4", job),
        )
        assert left.fetchone()[0] == 0
