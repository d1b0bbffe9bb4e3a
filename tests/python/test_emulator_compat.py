"""Google's own Python clients against `skyql emulator`, unchanged: only the endpoint and
the credentials file point at it.

google-api-python-client (over REST) with google-auth covers create, get, list with
filter and paging, cancel, delete and operations.get, with the ways of authenticating:
the token endpoint (service-account key whose token_uri is the emulator), self-signed
JWTs (AIP-4111), an authorized_user refresh token, and the metadata server. The Vertex AI
SDK (google-cloud-aiplatform with `api_transport="rest"`) covers its own cancel path and
its operation handling: a delete's long-running operation waited on with `result()`,
and the operations mixins (wait, list, get, cancel, delete).
"""

import json

import google.auth.compute_engine
import google.auth.compute_engine._metadata as metadata
import google.auth.transport.requests
import google.oauth2.credentials
import pytest
import requests
from google.auth import jwt
from google.oauth2 import service_account
from googleapiclient import discovery
from googleapiclient.errors import HttpError

PROJECT = "demo-project"
LOCATION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def job_body(name, **extra):
    body = {
        "displayName": name,
        "jobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "1",
                    "containerSpec": {"imageUri": "gcr.io/demo-project/trainer:1", "args": ["--epochs=3"]},
                }
            ]
        },
    }
    body.update(extra)
    return body


def build(emulator, credentials, **kwargs):
    return discovery.build_from_document(
        emulator.document,
        credentials=credentials,
        client_options={"api_endpoint": emulator.base_url},
        **kwargs,
    )


def jobs(service):
    return service.projects().locations().customJobs()


def stats(emulator):
    return requests.get(f"{emulator.base_url}/emulator/stats", timeout=10).json()["requests"]


def count(emulator, method, status=200):
    return sum(r["count"] for r in stats(emulator) if r["method"] == method and r["status"] == status)


def advance(emulator, seconds):
    r = requests.post(f"{emulator.base_url}/emulator/clock:advance?seconds={seconds}", timeout=10)
    assert r.status_code == 200


def test_key_file_points_at_the_emulator(emulator):
    key = emulator.key
    assert key["type"] == "service_account"
    assert key["token_uri"] == f"{emulator.base_url}/token"


def test_full_lifecycle_with_token_endpoint(emulator):
    creds = service_account.Credentials.from_service_account_file(str(emulator.key_file), scopes=SCOPES)
    service = build(emulator, creds)
    tokens_before = count(emulator, "token")

    created = jobs(service).create(parent=PARENT, body=job_body("py-train-1", labels={"suite": "python"})).execute()
    assert created["state"] == "JOB_STATE_PENDING"
    assert created["createTime"] and created["updateTime"]
    name = created["name"]
    job_id = name.rsplit("/", 1)[1]
    assert len(job_id) == 19
    assert count(emulator, "token") == tokens_before + 1

    got = jobs(service).get(name=name).execute()
    assert got["displayName"] == "py-train-1"
    # Lookup by project id as well as by number.
    got = jobs(service).get(name=f"{PARENT}/customJobs/{job_id}").execute()
    assert got["name"] == name

    # Cancel: {} then CANCELLING, then CANCELLED with error.code 1.
    assert jobs(service).cancel(name=name, body={}).execute() == {}
    assert jobs(service).get(name=name).execute()["state"] == "JOB_STATE_CANCELLING"
    advance(emulator, 2)
    cancelled = jobs(service).get(name=name).execute()
    assert cancelled["state"] == "JOB_STATE_CANCELLED"
    assert cancelled["error"]["code"] == 1

    # Cancelling again: FAILED_PRECONDITION.
    with pytest.raises(HttpError) as err:
        jobs(service).cancel(name=name, body={}).execute()
    assert err.value.resp.status == 400
    assert json.loads(err.value.content)["error"]["status"] == "FAILED_PRECONDITION"

    # Delete: an operation that completes after polling; then the job is gone.
    op = jobs(service).delete(name=name).execute()
    assert op["metadata"]["@type"].endswith("DeleteOperationMetadata")
    assert not op.get("done")
    operations = service.projects().locations().operations()
    polls = 0
    while not op.get("done"):
        op = operations.get(name=op["name"]).execute()
        polls += 1
        assert polls < 10
    assert polls == 2
    assert op["response"]["@type"] == "type.googleapis.com/google.protobuf.Empty"
    with pytest.raises(HttpError) as err:
        jobs(service).get(name=name).execute()
    assert err.value.resp.status == 404


def test_list_with_filter_and_paging(emulator):
    creds = service_account.Credentials.from_service_account_file(str(emulator.key_file), scopes=SCOPES)
    service = build(emulator, creds)
    flt = 'state="JOB_STATE_SUCCEEDED" AND labels.team:*'
    request = jobs(service).list(parent=PARENT, filter=flt, pageSize=4)
    seen, pages = [], 0
    while request is not None:
        page = request.execute()
        pages += 1
        seen.extend(page.get("customJobs", []))
        request = jobs(service).list_next(request, page)
    assert pages > 1
    assert seen, "the seeded jobs include succeeded ones"
    assert all(j["state"] == "JOB_STATE_SUCCEEDED" and "team" in j["labels"] for j in seen)
    times = [j["createTime"] for j in seen]
    assert times == sorted(times, reverse=True)
    assert len({j["name"] for j in seen}) == len(seen)

    masked = jobs(service).list(parent=PARENT, readMask="displayName", pageSize=3).execute()
    assert all(set(j) == {"displayName"} for j in masked["customJobs"])

    with pytest.raises(HttpError) as err:
        jobs(service).list(parent=PARENT, filter="state=").execute()
    assert err.value.resp.status == 400
    assert "position" in json.loads(err.value.content)["error"]["message"]


def test_validation_errors_are_google_shaped(emulator):
    creds = service_account.Credentials.from_service_account_file(str(emulator.key_file), scopes=SCOPES)
    service = build(emulator, creds)
    with pytest.raises(HttpError) as err:
        jobs(service).create(parent=PARENT, body={"displayName": "x", "jobSpec": {"workerPoolSpecs": []}}).execute()
    assert err.value.resp.status == 400
    error = json.loads(err.value.content)["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert error["details"][0]["fieldViolations"][0]["field"] == "job_spec.worker_pool_specs"


def test_self_signed_jwt_with_scope(emulator):
    creds = service_account.Credentials.from_service_account_file(str(emulator.key_file), scopes=SCOPES)
    service = build(emulator, creds, always_use_jwt_access=True)
    tokens_before = count(emulator, "token")
    created = jobs(service).create(parent=PARENT, body=job_body("py-jwt")).execute()
    assert jobs(service).get(name=created["name"]).execute()["displayName"] == "py-jwt"
    # No token endpoint call: the client signed its own JWT.
    assert count(emulator, "token") == tokens_before


def test_self_signed_jwt_with_audience(emulator):
    creds = jwt.Credentials.from_service_account_file(
        str(emulator.key_file), audience="https://aiplatform.googleapis.com/"
    )
    service = build(emulator, creds)
    page = jobs(service).list(parent=PARENT, pageSize=1).execute()
    assert len(page["customJobs"]) == 1


def test_jwt_from_another_key_is_rejected(emulator, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = dict(emulator.key)
    key["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    creds = jwt.Credentials.from_service_account_info(key, audience="https://aiplatform.googleapis.com/")
    service = build(emulator, creds)
    with pytest.raises(HttpError) as err:
        jobs(service).list(parent=PARENT).execute()
    assert err.value.resp.status == 401


def test_authorized_user_refresh_token(emulator):
    info = json.loads(emulator.user_file.read_text())
    assert info["type"] == "authorized_user"
    # google-auth ignores token_uri in authorized_user files (it always uses Google's), so
    # the credentials are built with the emulator's token URL explicitly.
    creds = google.oauth2.credentials.Credentials(
        None,
        refresh_token=info["refresh_token"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        token_uri=info["token_uri"],
    )
    service = build(emulator, creds)
    page = jobs(service).list(parent=PARENT, pageSize=2).execute()
    assert len(page["customJobs"]) == 2


def test_metadata_server(emulator, monkeypatch):
    host = emulator.base_url.removeprefix("http://")
    # What GCE_METADATA_HOST / GCE_METADATA_IP do, set after google.auth was imported.
    monkeypatch.setattr(metadata, "_GCE_METADATA_HOST", host)
    monkeypatch.setenv("GCE_METADATA_IP", host)
    assert google.auth.compute_engine._metadata.ping(google.auth.transport.requests.Request())
    creds = google.auth.compute_engine.Credentials()
    service = build(emulator, creds)
    page = jobs(service).list(parent=f"projects/{PROJECT}/locations/europe-west4", pageSize=1).execute()
    assert len(page["customJobs"]) == 1
    assert count(emulator, "metadata.token") >= 1


def test_discovery_served_by_the_emulator(emulator):
    creds = service_account.Credentials.from_service_account_file(str(emulator.key_file), scopes=SCOPES)
    service = discovery.build(
        "aiplatform",
        "v1",
        credentials=creds,
        discoveryServiceUrl=f"{emulator.base_url}/$discovery/rest?version=v1",
        static_discovery=False,
        cache_discovery=False,
        client_options={"api_endpoint": emulator.base_url},
    )
    locations = service.projects().locations().list(name=f"projects/{PROJECT}").execute()
    assert any(l["locationId"] == LOCATION for l in locations["locations"])
    loc = service.projects().locations().get(name=PARENT).execute()
    assert loc["locationId"] == LOCATION


def test_vertex_sdk_cancel_and_operation_wait_over_rest(emulator):
    from google.api_core import exceptions
    from google.cloud import aiplatform, aiplatform_v1
    from google.longrunning import operations_pb2
    from google.protobuf import duration_pb2

    creds = service_account.Credentials.from_service_account_file(str(emulator.key_file), scopes=SCOPES)
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        credentials=creds,
        api_endpoint=emulator.base_url,
        api_transport="rest",
    )
    state = aiplatform_v1.JobState
    pool = {
        "machine_spec": {"machine_type": "n1-standard-4"},
        "replica_count": 1,
        "container_spec": {"image_uri": "gcr.io/demo-project/trainer:1"},
    }

    def submitted(name):
        job = aiplatform.CustomJob(
            display_name=name, worker_pool_specs=[pool], staging_bucket="gs://demo-project-staging"
        )
        job.submit()
        assert job.state == state.JOB_STATE_PENDING
        return job

    # The SDK's own cancel.
    cancels = count(emulator, "customJobs.cancel")
    job = submitted("sdk-cancel")
    job.cancel()
    assert count(emulator, "customJobs.cancel") == cancels + 1
    assert aiplatform.CustomJob.get(job.resource_name).state == state.JOB_STATE_CANCELLING
    advance(emulator, 3)
    assert aiplatform.CustomJob.get(job.resource_name).state == state.JOB_STATE_CANCELLED

    # A delete's long-running operation, unfinished until its second poll, waited on by the
    # client's own operation handling.
    client = aiplatform_v1.JobServiceClient(
        credentials=creds, transport="rest", client_options={"api_endpoint": emulator.base_url}
    )
    polls = count(emulator, "operations.get")
    lro = client.delete_custom_job(name=job.resource_name)
    assert not lro.operation.done
    lro.result(timeout=60)
    assert count(emulator, "operations.get") >= polls + 2
    op_name = lro.operation.name
    with pytest.raises(exceptions.NotFound):
        client.get_custom_job(name=job.resource_name)

    # The operations mixins over REST: wait, list with a filter, get, cancel, delete.
    waited = client.wait_operation(
        operations_pb2.WaitOperationRequest(name=op_name, timeout=duration_pb2.Duration(seconds=5))
    )
    assert waited.done
    assert count(emulator, "operations.wait") == 1
    listed = client.list_operations(operations_pb2.ListOperationsRequest(name=PARENT, filter="done=true"))
    assert op_name in [o.name for o in listed.operations]

    other = submitted("sdk-cancel-operation")
    other.cancel()
    advance(emulator, 3)
    pending = client.delete_custom_job(name=other.resource_name).operation
    assert not pending.done
    client.cancel_operation(operations_pb2.CancelOperationRequest(name=pending.name))
    got = client.get_operation(operations_pb2.GetOperationRequest(name=pending.name))
    assert got.done and got.error.code == 1
    client.delete_operation(operations_pb2.DeleteOperationRequest(name=pending.name))
    with pytest.raises(exceptions.NotFound):
        client.get_operation(operations_pb2.GetOperationRequest(name=pending.name))
    assert count(emulator, "operations.cancel") == 1
    assert count(emulator, "operations.delete") == 1
