"""One journey through a client generated from the served openapi.yaml (openapi-python-client),
against a running infra/run: a seller invites a buyer, the buyer claims the emailed link,
onboards and completes; the buyer setup runs through the stream -> queue -> function pipeline;
the seller's own onboarding attempt is refused. Every answer is parsed into the generated
models, so a response the contract does not describe fails the journey.

Usage: journey.py BASE_URL SES_URL SELLER_KEY BUYER_KEY BUYER_EMAIL (infra/fuzz runs it)."""
import itertools
import json
import sys
import time
import urllib.error
import urllib.request

from onboarding_client import AuthenticatedClient, Client
from onboarding_client.api.connections import connections_get
from onboarding_client.api.invitations import invitations_claim, invitations_create_recipient
from onboarding_client.api.onboards import onboards_create, onboards_get, onboards_update
from onboarding_client.models.claim_request import ClaimRequest
from onboarding_client.models.error import Error
from onboarding_client.models.onboard import Onboard
from onboarding_client.models.onboard_status import OnboardStatus
from onboarding_client.models.onboards_create_body import OnboardsCreateBody
from onboarding_client.models.onboards_update_body import OnboardsUpdateBody

base, ses, seller_key, buyer_key, buyer_email = sys.argv[1:6]
seller = AuthenticatedClient(base_url=base, token=seller_key, raise_on_unexpected_status=True)
buyer = AuthenticatedClient(base_url=base, token=buyer_key, raise_on_unexpected_status=True)
anyone = Client(base_url=base, raise_on_unexpected_status=True)
steps = []


def step(name, ok, detail=""):
    steps.append((name, ok))
    print(f"journey: {'ok  ' if ok else 'FAIL'} {name} {detail}".rstrip())
    if not ok:
        print(f"journey: failed at step {len(steps)}")
        sys.exit(1)


def captured_bodies(address):
    """The bodies of the emails the SES emulator captured for `address`, oldest first: moto keeps
    them in its state, LocalStack at /_aws/ses (the HTML part, as moto keeps it)."""
    try:
        data = json.load(urllib.request.urlopen(f"{ses}/moto-api/data.json", timeout=10))
        return [m["body"] for m in data["ses"]["Message"] if address in m["destinations"]["ToAddresses"]]
    except urllib.error.HTTPError:
        data = json.load(urllib.request.urlopen(f"{ses}/_aws/ses", timeout=10))
        return [m["Body"].get("html_part") or m["Body"].get("text_part") for m in data["messages"]
                if address in m["Destination"]["ToAddresses"]]


def link_token(address):
    """The token of the newest invitation email captured for `address`."""
    body = captured_bodies(address)[-1]
    start = body.index("token=") + len("token=")
    return "".join(itertools.takewhile(lambda c: c.isalnum() or c in "-_", body[start:]))


sent = invitations_create_recipient.sync_detailed(client=seller, body={"email": buyer_email})
step("the seller invites the buyer", sent.status_code == 201, f"({sent.status_code})")
invitation_id = sent.parsed.invitation.id

claimed = invitations_claim.sync_detailed(client=anyone, body=ClaimRequest(token=link_token(buyer_email)))
step("the buyer accepts through the emailed link, without a key", claimed.status_code == 200, f"({claimed.status_code})")
connection_id = claimed.parsed.connection.id

refused = onboards_create.sync_detailed(client=seller, body=OnboardsCreateBody(invitation_id=invitation_id))
step("the seller may not onboard", refused.status_code == 403 and isinstance(refused.parsed, Error), f"({refused.status_code})")

created = onboards_create.sync_detailed(client=buyer, body=OnboardsCreateBody(invitation_id=invitation_id))
step("the buyer creates the onboard", created.status_code == 201 and isinstance(created.parsed, Onboard), f"({created.status_code})")
onboard_id = created.parsed.id

completed = onboards_update.sync_detailed(onboard_id, client=buyer, body=OnboardsUpdateBody(invitation_id=invitation_id, status=OnboardStatus.COMPLETED), if_match=f'"{created.parsed.version}"')
step("the buyer completes it", completed.status_code == 200 and completed.parsed.status == OnboardStatus.COMPLETED, f"({completed.status_code})")

deadline, setup = time.monotonic() + 60, None
while time.monotonic() < deadline:
    setup = onboards_get.sync(onboard_id, client=buyer).setup_status
    if str(setup) in ("succeeded", "failed"):
        break
    time.sleep(0.5)
step("the setup runs through stream, queue and function", str(setup) == "succeeded", f"(setup_status {setup})")

connection = connections_get.sync(connection_id, client=seller)
step("the seller sees the buyer set up", connection.buyer_delivery_configured is True)
print(f"journey: all {len(steps)} steps as the contract says")
