"""A spec model's score call through a client generated from the service's
/openapi.json by openapi-python-client (tests/contract/run.sh).

Usage: spec_client_calls.py CLIENT_PARENT_DIR BASE_URL TARGET INPUT_JSON [--absent]
With --absent, checks that the client has no call for TARGET (the model is
not served yet); otherwise scores INPUT_JSON through the model's own typed
call, generated from its input schema.
"""

import importlib
import json
import sys
import typing

sys.path.insert(0, sys.argv[1])
base_url, target, example = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
absent = "--absent" in sys.argv[5:]

from carescore_client import Client  # noqa: E402

module_name = f"carescore_client.api.models.{target}_score"
try:
    call = importlib.import_module(module_name)
except ModuleNotFoundError:
    call = None
if absent:
    if call is not None:
        sys.exit(f"{module_name} exists, but {target} is not served")
    print(f"generated client: no call for {target} (not served)")
    sys.exit(0)
if call is None:
    sys.exit(f"{module_name} is missing from the generated client")

body_type = typing.get_type_hints(call.sync_detailed)["body"]
response = call.sync_detailed(client=Client(base_url=base_url), body=body_type.from_dict(example))
parsed = response.parsed
if response.status_code != 200 or parsed is None or not hasattr(parsed, "probability"):
    sys.exit(f"{target}_score: HTTP {response.status_code}: {response.content[:500]!r}")
assert 0.0 < parsed.probability < 1.0, parsed.probability
assert parsed.model_version.startswith(f"{target}@"), parsed.model_version
print(f"{target}_score: 200 {type(parsed).__name__} (probability {parsed.probability:.3f})")
