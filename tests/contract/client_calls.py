"""One score, one batch, one grade, one levers and one programme call through a client generated from
the service's /openapi.json by openapi-python-client (tests/contract/run.sh).

Usage: client_calls.py CLIENT_PARENT_DIR BASE_URL [API_KEY]
The record is the example the document itself publishes for PatientRecord.
"""

import json
import sys
import urllib.request

sys.path.insert(0, sys.argv[1])
base_url = sys.argv[2]
key = sys.argv[3] if len(sys.argv) > 3 else None

from carescore_client import AuthenticatedClient, Client  # noqa: E402
from carescore_client.api.scoring import batch, score  # noqa: E402
from carescore_client.api.decision_support import levers, programme  # noqa: E402
from carescore_client.api.underwriting import grade  # noqa: E402
from carescore_client.models import (  # noqa: E402
    BatchRequest,
    BatchResponse,
    GradeResponse,
    LeversResponse,
    PatientRecord,
    ProgrammeResponse,
    ScoreResponse,
)

with urllib.request.urlopen(base_url + "/openapi.json") as answer:
    document = json.load(answer)
example = document["components"]["schemas"]["PatientRecord"]["examples"][0]
record = PatientRecord.from_dict(example)

client = AuthenticatedClient(base_url=base_url, token=key) if key else Client(base_url=base_url)


def check(name, response, expected_type):
    if response.status_code != 200 or not isinstance(response.parsed, expected_type):
        sys.exit(f"{name}: HTTP {response.status_code}: {response.content[:500]!r}")
    print(f"{name}: 200 {type(response.parsed).__name__}")
    return response.parsed


scored = check("score", score.sync_detailed(client=client, body=record), ScoreResponse)
assert scored.case_id == example["case_id"], scored.case_id
assert 0.0 < scored.risks["infection_180d"].probability < 1.0
assert scored.recommended_tier.value in ("self_service", "remote", "intensive")

answer = check("batch", batch.sync_detailed(client=client, body=BatchRequest(records=[record, record])), BatchResponse)
assert (answer.scored, answer.failed) == (2, 0), (answer.scored, answer.failed)

graded = check("grade", grade.sync_detailed(client=client, body=record), GradeResponse)
assert graded.risk_class.value in ("A", "B", "C", "D")
found = check("levers", levers.sync_detailed(client=client, body=record), LeversResponse)
assert "not proven effects" in found.caveat, found.caveat
assert all(lever.field in ("adherence_pct", "tacrolimus_trough_ng_ml", "phq9_score", "gad7_score", "albumin_g_dl", "igg_g_l") for lever in found.levers)

view = check("programme", programme.sync_detailed(client=client, body=BatchRequest(records=[record, record])), ProgrammeResponse)
assert view.patients == 2, view.patients
assert view.targets["infection_180d"].interval_95.low <= view.targets["infection_180d"].interval_95.high
print("generated client: 5 calls answered")
