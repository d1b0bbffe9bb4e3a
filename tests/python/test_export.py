"""`skyql export` read by DuckDB (the `duckdb` package): the Parquet and JSONL files of an
export against the in-process emulator hold the rows `skyql exec` prints, typed, and
`skyql export --merge` fails, naming the part, when a manifest records a failed group."""

import json
import os
import subprocess

import duckdb
import pytest

FROZEN = "2026-06-01T12:00:00Z"
JOBS = (
    "SELECT name, displayName, state, labels, createTime, locationsId,"
    " length(displayName) AS name_length"
    " FROM google.aiplatform.custom_jobs"
    " WHERE projectsId = 'demo-project' AND locationsId IN ('us-central1', 'europe-west4')"
    " ORDER BY name"
)


@pytest.fixture(scope="module")
def skyql(tmp_path_factory, skyql_bin):
    binary = skyql_bin
    home = tmp_path_factory.mktemp("export-home")
    # Both runs see the same seeded jobs at the same (frozen) emulator time.
    env = dict(os.environ, SKYQL_HOME=str(home), SKYQL_EMULATOR_FROZEN_AT=FROZEN)

    def run(*args, check=True):
        proc = subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            pytest.fail(f"skyql {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


def exec_rows(skyql, sql):
    out = skyql("exec", "--emulator", "--output", "jsonl", sql).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_duckdb_reads_the_parquet_with_the_rows_skyql_prints(skyql, tmp_path):
    expected = exec_rows(skyql, JOBS)
    assert len(expected) == 24
    skyql("export", "--emulator", "--format", "parquet", "--out", str(tmp_path), JOBS)
    files = str(tmp_path / "part-*.parquet")
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM read_parquet('{files}')").fetchone()[0] == len(expected)
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{files}'))").fetchall())
    assert types["name"] == "VARCHAR"
    assert types["labels"] == "VARCHAR"  # JSON as JSON text
    assert types["createTime"] == "TIMESTAMP WITH TIME ZONE"
    assert types["name_length"] == "BIGINT"
    rows = con.execute(
        "SELECT name, displayName, state, labels, strftime(createTime AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'),"
        f" locationsId, name_length FROM read_parquet('{files}') ORDER BY name"
    ).fetchall()
    got = [
        {
            "name": r[0],
            "displayName": r[1],
            "state": r[2],
            "labels": json.loads(r[3]) if r[3] is not None else None,
            "createTime": r[4],
            "locationsId": r[5],
            "name_length": r[6],
        }
        for r in rows
    ]
    assert got == expected


def test_jsonl_is_what_exec_prints_and_duckdb_counts_it(skyql, tmp_path):
    printed = skyql("exec", "--emulator", "--output", "jsonl", JOBS).stdout
    skyql("export", "--emulator", "--format", "jsonl", "--out", str(tmp_path), JOBS)
    written = (tmp_path / "part-1-of-1.jsonl").read_text()
    assert written == printed
    con = duckdb.connect()
    count = con.execute(f"SELECT count(*) FROM read_json_auto('{tmp_path / 'part-*.jsonl'}')").fetchone()[0]
    assert count == len(printed.splitlines())


def test_merge_passes_a_complete_export_and_fails_a_failed_group(skyql, tmp_path):
    skyql("export", "--emulator", "--format", "parquet", "--out", str(tmp_path), JOBS)
    ok = skyql("export", "--merge", str(tmp_path))
    assert "rows: 24" in ok.stdout and "complete" in ok.stdout
    manifest_path = tmp_path / "manifest-1-of-1.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["files"][0]["rows"] == 24
    manifest["groups"].append(
        {
            "project": "demo-project-7",
            "location": "europe-west4",
            "parameters": {"projectsId": "demo-project-7", "locationsId": "europe-west4"},
            "status": "failed",
            "rows": 0,
            "codes": ["PERMISSION_DENIED", "403"],
            "error": "403 PERMISSION_DENIED",
        }
    )
    manifest_path.write_text(json.dumps(manifest))
    failed = skyql("export", "--merge", str(tmp_path), check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "project=demo-project-7 location=europe-west4 failed (PERMISSION_DENIED, 403)" in failed.stderr
    (tmp_path / "part-1-of-1.parquet").unlink()
    missing = skyql("export", "--merge", str(tmp_path), check=False)
    assert missing.returncode == 1 and "part-1-of-1.parquet (shard 1/1) is missing" in missing.stderr


def test_bad_options_are_refused_with_what_to_do(skyql, tmp_path):
    bad_shard = skyql("export", "--emulator", "--format", "jsonl", "--out", str(tmp_path), "--shard", "5/4", JOBS, check=False)
    assert bad_shard.returncode == 2 and "give I/N with 1 <= I <= N" in bad_shard.stderr
    dry = skyql("export", "--dry-run", "--emulator", "--format", "jsonl", "--out", str(tmp_path), JOBS, check=False)
    assert dry.returncode == 1 and "--dry-run sends no request" in dry.stderr
    nothing = skyql("export", "--merge", str(tmp_path), check=False)
    assert nothing.returncode == 1 and "no manifest" in nothing.stderr
    assert not list(tmp_path.iterdir()), "a refused export writes nothing"


def test_shards_together_hold_the_rows_once(skyql, tmp_path):
    expected = exec_rows(skyql, JOBS)
    for i in (1, 2):
        skyql("export", "--emulator", "--format", "parquet", "--out", str(tmp_path), "--shard", f"{i}/2", JOBS)
    merged = skyql("export", "--merge", str(tmp_path))
    assert f"rows: {len(expected)}" in merged.stdout and "groups: 2 ok" in merged.stdout
    con = duckdb.connect()
    names = [r[0] for r in con.execute(f"SELECT name FROM read_parquet('{tmp_path / 'part-*.parquet'}') ORDER BY name").fetchall()]
    assert names == [r["name"] for r in expected]
    per_shard = [
        con.execute(f"SELECT count(*) FROM read_parquet('{tmp_path / f'part-{i}-of-2.parquet'}')").fetchone()[0] for i in (1, 2)
    ]
    assert all(n > 0 for n in per_shard), per_shard
