"""Seeds the local stack through its own HTTP API, the way real users would: an organizer signs up and
creates the sample performances, each with one showtime, the admin approves them. Safe to run again
(idempotency keys; an existing organizer or an already approved performance is fine).

Dates in the seed file are relative to today in Seoul, where every venue is, so the demo never goes stale:
"+8d" is the date 8 days from today, "-22d 10:00" that day at 10:00 Seoul time (+09:00). The keys carry the
day, so a run on another day seeds a new set instead of conflicting with the first.

  seed.py API_URL SEED_FILE ADMIN_EMAIL ADMIN_PASSWORD
"""

import json
import re
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

SEOUL = timezone(timedelta(hours=9))
RELATIVE = re.compile(r"([+-]\d+)d(?: (\d\d:\d\d))?")
DATE_FIELDS = ("runStartDate", "runEndDate", "saleOpensAt", "saleClosesAt", "showtimeStartsAt")
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


def resolve(value, today):
    """"+8d" -> "2026-12-09"; "-22d 10:00" -> "2026-11-09T10:00:00+09:00" (for today = 2026-12-01)."""
    match = RELATIVE.fullmatch(value)
    if not match:
        sys.exit(f"{value!r}: expected days from today such as +8d or -22d 10:00")
    day = today + timedelta(days=int(match[1]))
    return f"{day}T{match[2]}:00+09:00" if match[2] else day.isoformat()


def dated(performance, today):
    return {k: resolve(v, today) if k in DATE_FIELDS else v for k, v in performance.items()}


def login(email, password):
    status, body = request("POST", "/login", {"email": email, "password": password})
    if status != 200:
        sys.exit(f"login of {email} failed: {status} {body}")
    return body["accessToken"]


def main(performances_file, admin_email, admin_password):
    now = datetime.now(SEOUL)
    today = now.date()
    status, body = request("POST", "/signup", ORGANIZER)
    if status not in (201, 409):
        sys.exit(f"organizer signup failed: {status} {body}")
    organizer = login(ORGANIZER["email"], ORGANIZER["password"])
    admin = login(admin_email, admin_password)
    with open(performances_file) as f:
        performances = [dated(p, today) for p in json.load(f)]
    for i, performance in enumerate(performances):
        starts_at = performance.pop("showtimeStartsAt")
        status, created = request("POST", "/performances", performance, organizer,
                                  {"idempotency-key": f"seed-{today}-{i}"})
        if status != 201:
            sys.exit(f"creating {performance['title']!r} failed: {status} {created}")
        status, approved = request("POST", f"/admin/performances/{created['id']}/approve", token=admin)
        if status not in (200, 409):
            sys.exit(f"approving {performance['title']!r} failed: {status} {approved}")
        # One evening showtime: 20 rows of 30 seats, three grades.
        showtime = {
            "startsAt": starts_at,
            "venueName": performance["venue"]["name"],
            "seatMap": {"rows": 20, "cols": 30, "grades": [
                {"grade": "VIP", "fromRow": 1, "toRow": 4, "price": 170000},
                {"grade": "R", "fromRow": 5, "toRow": 12, "price": 130000},
                {"grade": "S", "fromRow": 13, "toRow": 20, "price": 90000},
            ]},
        }
        status, show = request("POST", f"/performances/{created['id']}/showtimes", showtime, organizer,
                               {"idempotency-key": f"seed-show-{today}-{i}"})
        if status != 201:
            sys.exit(f"creating a showtime of {performance['title']!r} failed: {status} {show}")
        opens = performance["saleOpensAt"]
        sale = "on sale" if datetime.fromisoformat(opens) <= now else f"on sale from {opens}"
        print(f"    {created['id']}  {performance['title']}  (showtime {show['id']}, {starts_at}, 600 seats, {sale})")
    print(f"    organizer: {ORGANIZER['email']} / {ORGANIZER['password']}")


if __name__ == "__main__":
    api = sys.argv[1]
    main(*sys.argv[2:5])
