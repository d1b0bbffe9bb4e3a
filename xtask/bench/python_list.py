"""Benchmark peer: Google's discovery-based Python client listing custom jobs.

Usage: python_list.py BASE_URL KEY_FILE DISCOVERY_DOC PROJECT LOCATION [LOCATION ...]
Lists every page of every location in turn (the client has no fan-out) and
prints the number of jobs seen.
"""

import json
import sys

from google.oauth2 import service_account
from googleapiclient import discovery


def main():
    base_url, key_file, doc_path, project = sys.argv[1:5]
    locations = sys.argv[5:]
    with open(doc_path) as f:
        doc = f.read()
    creds = service_account.Credentials.from_service_account_file(
        key_file, scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    service = discovery.build_from_document(
        doc, credentials=creds, client_options={"api_endpoint": base_url}
    )
    jobs = service.projects().locations().customJobs()
    total = 0
    for loc in locations:
        request = jobs.list(parent=f"projects/{project}/locations/{loc}")
        while request is not None:
            page = request.execute()
            total += len(page.get("customJobs", []))
            request = jobs.list_next(request, page)
    print(json.dumps({"jobs": total}))


if __name__ == "__main__":
    main()
