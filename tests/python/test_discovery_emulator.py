"""Google's own Python clients, unchanged, against `skyql emulator --services ...`, and
skyql's own SQL against it.

google-cloud-compute (REST): networks, firewalls and instances created and waited on
through the client's own operation handling, read, listed page by page, aggregated,
deleted. google-cloud-storage: buckets. google-cloud-kms over REST (integer enums): key
rings and crypto keys. google-api-python-client: pubsub (create at the resource's own
path), Cloud DNS (a legacy-shaped API) and Workflows (long-running operations). skyql:
SELECT, INSERT, UPDATE, REPLACE, DELETE, EXEC and AWAIT on compute, storage and KMS.

The emulator serves the pinned documents of $SKYQL_DISCOVERY_DIR (default: .discovery).
"""

import json
import signal
import subprocess
import time

import pytest

SERVICES = "compute,storage,cloudkms,pubsub,dns,workflows"
PROJECT = "demo-project"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


class Served:
    def __init__(self, base_url, key_file, discovery_dir, binary):
        self.base_url = base_url
        self.key_file = key_file
        self.discovery_dir = discovery_dir
        self.binary = binary

    def credentials(self):
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_file(str(self.key_file), scopes=SCOPES)

    def options(self):
        from google.api_core.client_options import ClientOptions

        return ClientOptions(api_endpoint=self.base_url)

    def document(self, name):
        return (self.discovery_dir / f"{name}.json").read_text()


@pytest.fixture(scope="module")
def served(tmp_path_factory, skyql_bin, discovery_folder):
    tmp = tmp_path_factory.mktemp("discovery-emulator")
    key_file = tmp / "key.json"
    discovery = discovery_folder
    proc = subprocess.Popen(
        [
            str(skyql_bin),
            "emulator",
            "--services", SERVICES,
            "--discovery-dir", str(discovery),
            "--addr", "127.0.0.1:0",
            "--credentials-out", str(key_file),
            "--operation-secs", "0.4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        proc.kill()
        pytest.fail(f"emulator did not start: {base_url!r} {proc.stderr.read()}")
    yield Served(base_url, key_file, discovery, skyql_bin)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0, proc.stderr.read()


def _compute_clients(served):
    """Compute clients on the emulator. Their operation polling builds its own operation
    clients without the endpoint, so each gets operation clients pointed at the emulator."""
    from google.cloud import compute_v1

    creds, opts = served.credentials(), served.options()
    ops = {
        "global_operations": compute_v1.GlobalOperationsClient(credentials=creds, client_options=opts, transport="rest"),
        "zone_operations": compute_v1.ZoneOperationsClient(credentials=creds, client_options=opts, transport="rest"),
        "region_operations": compute_v1.RegionOperationsClient(credentials=creds, client_options=opts, transport="rest"),
    }
    clients = {}
    for name, cls in [
        ("networks", compute_v1.NetworksClient),
        ("firewalls", compute_v1.FirewallsClient),
        ("instances", compute_v1.InstancesClient),
    ]:
        client = cls(credentials=creds, client_options=opts, transport="rest")
        client._transport._extended_operations_services.update(ops)
        clients[name] = client
    return clients


def test_compute_network_firewall_instance(served):
    from google.api_core import exceptions
    from google.cloud import compute_v1

    c = _compute_clients(served)
    op = c["networks"].insert(
        project=PROJECT, network_resource=compute_v1.Network(name="net-1", auto_create_subnetworks=True)
    )
    op.result(timeout=30)
    assert op.done()
    assert op.error_code in (None, 0)
    net = c["networks"].get(project=PROJECT, network="net-1")
    assert net.name == "net-1"
    assert net.id > 0
    assert net.self_link.endswith("/projects/demo-project/global/networks/net-1")

    fw = compute_v1.Firewall(
        name="allow-ssh",
        network=net.self_link,
        allowed=[compute_v1.Allowed(I_p_protocol="tcp", ports=["22"])],
        source_ranges=["0.0.0.0/0"],
    )
    c["firewalls"].insert(project=PROJECT, firewall_resource=fw).result(timeout=30)
    got = c["firewalls"].get(project=PROJECT, firewall="allow-ssh")
    assert got.allowed[0].ports == ["22"]
    assert got.network == net.self_link

    zone = "us-central1-a"
    for i in range(3):
        instance = compute_v1.Instance(
            name=f"vm-{i}",
            machine_type=f"zones/{zone}/machineTypes/e2-small",
            labels={"team": "a" if i < 2 else "b"},
            disks=[
                compute_v1.AttachedDisk(
                    boot=True,
                    auto_delete=True,
                    initialize_params=compute_v1.AttachedDiskInitializeParams(
                        source_image="projects/debian-cloud/global/images/family/debian-12"
                    ),
                )
            ],
            network_interfaces=[compute_v1.NetworkInterface(network=net.self_link)],
        )
        c["instances"].insert(project=PROJECT, zone=zone, instance_resource=instance).result(timeout=30)
    vm = c["instances"].get(project=PROJECT, zone=zone, instance="vm-0")
    assert vm.status == "RUNNING"
    assert vm.zone.endswith(f"/zones/{zone}")
    assert vm.machine_type.endswith(f"/zones/{zone}/machineTypes/e2-small")

    pager = c["instances"].list(request={"project": PROJECT, "zone": zone, "max_results": 2})
    pages = list(pager.pages)
    assert len(pages) == 2
    names = [i.name for p in pages for i in p.items]
    assert names == ["vm-0", "vm-1", "vm-2"]

    filtered = list(c["instances"].list(request={"project": PROJECT, "zone": zone, "filter": 'labels.team = "b"'}))
    assert [i.name for i in filtered] == ["vm-2"]

    # One instance per page: the pager yields each page's scopes in turn.
    aggregated = []
    for scope, scoped in c["instances"].aggregated_list(request={"project": PROJECT, "max_results": 1}):
        aggregated += [(scope, i.name) for i in scoped.instances]
    assert aggregated == [(f"zones/{zone}", f"vm-{i}") for i in range(3)]

    # A network still used by a firewall cannot go: the operation ends with the error.
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        c["networks"].delete(project=PROJECT, network="net-1").result(timeout=30)
    assert "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE" in str(err.value) or "already being used" in str(err.value)

    for i in range(3):
        c["instances"].delete(project=PROJECT, zone=zone, instance=f"vm-{i}").result(timeout=30)
    c["firewalls"].delete(project=PROJECT, firewall="allow-ssh").result(timeout=30)
    c["networks"].delete(project=PROJECT, network="net-1").result(timeout=30)
    with pytest.raises(exceptions.NotFound):
        c["networks"].get(project=PROJECT, network="net-1")


def test_storage_buckets(served):
    from google.api_core import exceptions
    from google.cloud import storage

    client = storage.Client(
        project=PROJECT, credentials=served.credentials(), client_options={"api_endpoint": served.base_url}
    )
    bucket = client.create_bucket("skyql-bucket-1")
    assert bucket.metageneration == 1
    client.create_bucket("skyql-bucket-2")
    got = client.get_bucket("skyql-bucket-1")
    assert got.location == "US"
    assert got.storage_class == "STANDARD"
    names = [b.name for b in client.list_buckets(page_size=1)]
    assert names == ["skyql-bucket-1", "skyql-bucket-2"]
    got.labels = {"env": "test"}
    got.patch()
    again = client.get_bucket("skyql-bucket-1")
    assert again.labels == {"env": "test"}
    assert again.metageneration == 2
    again.delete()
    with pytest.raises(exceptions.NotFound):
        client.get_bucket("skyql-bucket-1")


def test_kms_over_rest_with_integer_enums(served):
    from google.cloud import kms_v1

    client = kms_v1.KeyManagementServiceClient(
        credentials=served.credentials(), client_options=served.options(), transport="rest"
    )
    parent = f"projects/{PROJECT}/locations/us-east1"
    ring = client.create_key_ring(request={"parent": parent, "key_ring_id": "ring-1", "key_ring": {}})
    assert ring.name == f"{parent}/keyRings/ring-1"
    client.create_key_ring(request={"parent": parent, "key_ring_id": "ring-2", "key_ring": {}})
    assert client.get_key_ring(name=ring.name).name == ring.name
    rings = [r.name for r in client.list_key_rings(request={"parent": parent, "page_size": 1})]
    assert rings == [f"{parent}/keyRings/ring-1", f"{parent}/keyRings/ring-2"]

    purpose = kms_v1.CryptoKey.CryptoKeyPurpose
    algorithm = kms_v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm
    key = client.create_crypto_key(
        request={
            "parent": ring.name,
            "crypto_key_id": "sign",
            "crypto_key": {
                "purpose": purpose.ASYMMETRIC_SIGN,
                "labels": {"env": "dev"},
                "version_template": {"algorithm": algorithm.EC_SIGN_P256_SHA256},
            },
        }
    )
    assert key.purpose == purpose.ASYMMETRIC_SIGN
    enc = client.create_crypto_key(
        request={"parent": ring.name, "crypto_key_id": "enc", "crypto_key": {"purpose": purpose.ENCRYPT_DECRYPT}}
    )
    assert enc.primary.name == f"{ring.name}/cryptoKeys/enc/cryptoKeyVersions/1"
    assert enc.primary.state == kms_v1.CryptoKeyVersion.CryptoKeyVersionState.ENABLED
    assert enc.primary.algorithm == algorithm.GOOGLE_SYMMETRIC_ENCRYPTION
    assert enc.version_template.protection_level == kms_v1.ProtectionLevel.SOFTWARE
    got = client.get_crypto_key(name=key.name)
    assert got.purpose == purpose.ASYMMETRIC_SIGN
    assert got.labels["env"] == "dev"
    assert got.version_template.algorithm == algorithm.EC_SIGN_P256_SHA256
    assert not got.primary.name  # asymmetric keys have no primary
    versions = list(client.list_crypto_key_versions(parent=key.name))
    assert [v.name.rsplit("/", 1)[1] for v in versions] == ["1"]
    keys = {k.name.rsplit("/", 1)[1]: k.purpose for k in client.list_crypto_keys(parent=ring.name)}
    assert keys == {"enc": purpose.ENCRYPT_DECRYPT, "sign": purpose.ASYMMETRIC_SIGN}


def _discovery_client(served, name, service_path=""):
    from googleapiclient.discovery import build_from_document

    return build_from_document(
        served.document(name),
        credentials=served.credentials(),
        client_options={"api_endpoint": f"{served.base_url}/{service_path}"},
    )


def test_pubsub_topics_created_at_their_own_path(served):
    from googleapiclient.errors import HttpError

    pubsub = _discovery_client(served, "pubsub.v1")
    topics = pubsub.projects().topics()
    name = f"projects/{PROJECT}/topics/events"
    created = topics.create(name=name, body={"labels": {"team": "data"}}).execute()
    assert created["name"] == name
    assert topics.get(topic=name).execute()["labels"] == {"team": "data"}
    listed = topics.list(project=f"projects/{PROJECT}").execute()
    assert [t["name"] for t in listed["topics"]] == [name]
    policy = topics.getIamPolicy(resource=name).execute()
    topics.setIamPolicy(
        resource=name,
        body={"policy": {"etag": policy["etag"], "bindings": [{"role": "roles/pubsub.viewer", "members": ["user:a@example.com"]}]}},
    ).execute()
    with pytest.raises(HttpError) as err:
        topics.setIamPolicy(resource=name, body={"policy": {"etag": policy["etag"]}}).execute()
    assert err.value.resp.status == 409
    with pytest.raises(HttpError) as err:
        topics.publish(topic=name, body={"messages": [{"data": "aGk="}]}).execute()
    assert err.value.resp.status == 501
    topics.delete(topic=name).execute()
    with pytest.raises(HttpError) as err:
        topics.get(topic=name).execute()
    assert err.value.resp.status == 404


def test_dns_managed_zones(served):
    dns = _discovery_client(served, "dns.v1")
    zones = dns.managedZones()
    zones.create(project=PROJECT, body={"name": "zone-1", "dnsName": "example.com.", "description": "d"}).execute()
    zones.create(project=PROJECT, body={"name": "zone-2", "dnsName": "example.org.", "description": "d"}).execute()
    got = zones.get(project=PROJECT, managedZone="zone-1").execute()
    assert got["kind"] == "dns#managedZone"
    assert got["dnsName"] == "example.com."
    names = []
    request = zones.list(project=PROJECT, maxResults=1)
    while request is not None:
        page = request.execute()
        names += [z["name"] for z in page.get("managedZones", [])]
        request = zones.list_next(request, page)
    assert names == ["zone-1", "zone-2"]
    zones.delete(project=PROJECT, managedZone="zone-1").execute()
    assert [z["name"] for z in zones.list(project=PROJECT).execute()["managedZones"]] == ["zone-2"]


def test_workflows_long_running_operations(served):
    wf = _discovery_client(served, "workflows.v1")
    parent = f"projects/{PROJECT}/locations/us-central1"
    workflows = wf.projects().locations().workflows()
    op = workflows.create(parent=parent, workflowId="flow", body={"sourceContents": "main:\n  steps: []\n"}).execute()
    assert op["name"].startswith(f"{parent}/operations/")
    operations = wf.projects().locations().operations()
    deadline = time.time() + 30
    while not op.get("done"):
        assert time.time() < deadline, op
        time.sleep(0.2)
        op = operations.get(name=op["name"]).execute()
    assert op["response"]["name"] == f"{parent}/workflows/flow"
    got = workflows.get(name=f"{parent}/workflows/flow").execute()
    assert got["sourceContents"].startswith("main:")
    assert "createTime" in got
    listed = workflows.list(parent=parent).execute()
    assert [w["name"] for w in listed["workflows"]] == [f"{parent}/workflows/flow"]
    workflows.delete(name=f"{parent}/workflows/flow").execute()
    assert workflows.list(parent=parent).execute().get("workflows", []) == []


def _skyql(served, home, sql):
    """Runs `skyql exec` against the emulator; returns the JSON rows of the last statement."""
    auth = json.dumps({"google": {"type": "service_account", "credentialsfilepath": str(served.key_file)}})
    out = subprocess.run(
        [str(served.binary), "--home", str(home), "--endpoint", served.base_url, "--auth", auth, "--output", "json", "exec", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, f"{sql}\n{out.stderr}"
    text = out.stdout.strip()
    return json.loads(text) if text.startswith("[") else text


def test_skyql_sql_against_the_emulator(served, tmp_path):
    """skyql's own statements (SELECT, INSERT, UPDATE, REPLACE, DELETE, EXEC, AWAIT) on
    compute, storage and an AIP-style service (Cloud KMS), through the emulator."""
    home = tmp_path / "home"
    for name in ["compute.v1", "storage.v1", "cloudkms.v1"]:
        svc = name.split(".")[0]
        pulled = subprocess.run(
            [str(served.binary), "--home", str(home), "registry", "pull", f"google.{svc}", "--from", str(served.discovery_dir / f"{name}.json")],
            capture_output=True, text=True, timeout=60,
        )
        assert pulled.returncode == 0, pulled.stderr
    zone = "europe-west1-b"
    # compute: INSERT with AWAIT, SELECT, EXEC, UPDATE, DELETE.
    _skyql(served, home, f"INSERT /*+ AWAIT */ INTO google.compute.networks (project, data__name) SELECT '{PROJECT}', 'sql-net'")
    _skyql(
        served, home,
        f"INSERT /*+ AWAIT */ INTO google.compute.instances (project, zone, data__name, data__machineType, data__labels) "
        f"SELECT '{PROJECT}', '{zone}', 'sql-vm', 'zones/{zone}/machineTypes/e2-small', '{{\"team\":\"a\"}}'",
    )
    rows = _skyql(served, home, f"SELECT name, status, json_extract(labels, '$.team') AS team FROM google.compute.instances WHERE project = '{PROJECT}' AND zone = '{zone}'")
    assert rows == [{"name": "sql-vm", "status": "RUNNING", "team": "a"}]
    _skyql(served, home, f"EXEC /*+ AWAIT */ google.compute.instances.stop @project='{PROJECT}', @zone='{zone}', @instance='sql-vm'")
    rows = _skyql(served, home, f"SELECT status FROM google.compute.instances WHERE project = '{PROJECT}' AND zone = '{zone}' AND instance = 'sql-vm'")
    assert rows == [{"status": "TERMINATED"}]
    _skyql(served, home, f"UPDATE /*+ AWAIT */ google.compute.networks SET data__description = 'from sql' WHERE project = '{PROJECT}' AND network = 'sql-net'")
    rows = _skyql(served, home, f"SELECT name, description FROM google.compute.networks WHERE project = '{PROJECT}' AND network = 'sql-net'")
    assert rows == [{"name": "sql-net", "description": "from sql"}]
    _skyql(served, home, f"DELETE /*+ AWAIT */ FROM google.compute.instances WHERE project = '{PROJECT}' AND zone = '{zone}' AND instance = 'sql-vm'")
    _skyql(served, home, f"DELETE /*+ AWAIT */ FROM google.compute.networks WHERE project = '{PROJECT}' AND network = 'sql-net'")
    rows = _skyql(served, home, f"SELECT count(*) AS n FROM google.compute.instances WHERE project = '{PROJECT}' AND zone = '{zone}'")
    assert rows == [{"n": 0}]

    # storage: INSERT, UPDATE (patch), REPLACE (update), DELETE.
    _skyql(served, home, f"INSERT INTO google.storage.buckets (project, data__name, data__labels) SELECT '{PROJECT}', 'sql-bucket', '{{\"env\":\"dev\"}}'")
    _skyql(served, home, "UPDATE google.storage.buckets SET data__labels = '{\"env\":\"prod\"}' WHERE bucket = 'sql-bucket'")
    rows = _skyql(served, home, "SELECT metageneration, json_extract(labels, '$.env') AS env FROM google.storage.buckets WHERE bucket = 'sql-bucket'")
    assert rows == [{"metageneration": "2", "env": "prod"}]
    _skyql(served, home, "REPLACE google.storage.buckets SET data__name = 'sql-bucket', data__storageClass = 'NEARLINE' WHERE bucket = 'sql-bucket'")
    rows = _skyql(served, home, "SELECT storageClass, metageneration FROM google.storage.buckets WHERE bucket = 'sql-bucket'")
    assert rows == [{"storageClass": "NEARLINE", "metageneration": "3"}]
    _skyql(served, home, "DELETE FROM google.storage.buckets WHERE bucket = 'sql-bucket'")

    # Cloud KMS (AIP-style): INSERT with ids, SELECT.
    loc = f"projectsId = '{PROJECT}' AND locationsId = 'europe-west1'"
    _skyql(served, home, f"INSERT INTO google.cloudkms.key_rings (projectsId, locationsId, keyRingId) SELECT '{PROJECT}', 'europe-west1', 'sql-ring'")
    _skyql(
        served, home,
        f"INSERT INTO google.cloudkms.crypto_keys (projectsId, locationsId, keyRingsId, cryptoKeyId, data__purpose) "
        f"SELECT '{PROJECT}', 'europe-west1', 'sql-ring', 'sql-key', 'ENCRYPT_DECRYPT'",
    )
    rows = _skyql(served, home, f"SELECT purpose, json_extract(\"primary\", '$.state') AS state FROM google.cloudkms.crypto_keys WHERE {loc} AND keyRingsId = 'sql-ring'")
    assert rows == [{"purpose": "ENCRYPT_DECRYPT", "state": "ENABLED"}]
