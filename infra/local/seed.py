"""Seeds the local stack through its own HTTP API, the way real users would: an organizer signs up and
creates the sample performances, the admin approves them. Safe to run again (idempotency keys; an existing
organizer or an already approved performance is fine)."""

import json
import sys
import urllib.error
import urllib.request

api, performances_file, admin_email, admin_password = sys.argv[1:5]
ORGANIZER = {"email": "organizer@ticketing.local", "password": "organizer-password", "name": "Seed Productions", "role": "ORGANIZER"}


def request(method, path, body=None, token=None, headers=None):
    req = urllib.request.Request(f"{api}{path}", method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def login(email, password):
    status, body = request("POST", "/login", {"email": email, "password": password})
    if status != 200:
        sys.exit(f"login of {email} failed: {status} {body}")
    return body["accessToken"]


status, body = request("POST", "/signup", ORGANIZER)
if status not in (201, 409):
    sys.exit(f"organizer signup failed: {status} {body}")
organizer = login(ORGANIZER["email"], ORGANIZER["password"])
admin = login(admin_email, admin_password)
with open(performances_file) as f:
    performances = json.load(f)
for i, performance in enumerate(performances):
    status, created = request("POST", "/performances", performance, organizer, {"idempotency-key": f"seed-{i}"})
    if status != 201:
        sys.exit(f"creating {performance['title']!r} failed: {status} {created}")
    status, approved = request("POST", f"/admin/performances/{created['id']}/approve", token=admin)
    if status not in (200, 409):
        sys.exit(f"approving {performance['title']!r} failed: {status} {approved}")
    # One evening showtime in the middle of the run: 20 rows of 30 seats, three grades.
    showtime = {
        "startsAt": f"{performance['runEndDate']}T19:30:00+09:00",
        "venueName": performance["venue"]["name"],
        "seatMap": {"rows": 20, "cols": 30, "grades": [
            {"grade": "VIP", "fromRow": 1, "toRow": 4, "price": 170000},
            {"grade": "R", "fromRow": 5, "toRow": 12, "price": 130000},
            {"grade": "S", "fromRow": 13, "toRow": 20, "price": 90000},
        ]},
    }
    status, show = request("POST", f"/performances/{created['id']}/showtimes", showtime, organizer,
                           {"idempotency-key": f"seed-show-{i}"})
    if status != 201:
        sys.exit(f"creating a showtime of {performance['title']!r} failed: {status} {show}")
    print(f"    {created['id']}  {performance['title']}  (showtime {show['id']}, 600 seats)")
print(f"    organizer: {ORGANIZER['email']} / {ORGANIZER['password']}")
