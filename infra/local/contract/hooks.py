"""Schemathesis hooks of the contract run: only what the tool cannot know.

The fuzzer signs in as three members (a USER, an ORGANIZER, an ADMIN) whose tokens it uses for the whole run.
Deleting one of them, or changing their password or role, revokes or changes those very sessions (a
password change ends every other session by design), exactly as POST /logout would, which is excluded on
the command line for the same reason. The ids of these members reach the fuzzer through the responses it
reads (an organizer id in a performance, a reviewer id), so without this filter a run destroys its own
credentials and every later request fails for that reason alone. Other members, such as those the fuzzer
signs up itself, stay fair game.
"""

import os

import schemathesis

OWN_MEMBERS = {m for m in os.environ.get("TICKETING_FUZZ_MEMBERS", "").split(",") if m}


@schemathesis.hook
def filter_case(context, case):
    if case.operation.path == "/members/{memberId}" and case.method.upper() in ("PUT", "DELETE"):
        member = str((case.path_parameters or {}).get("memberId", "")).lower()
        return member not in OWN_MEMBERS
    return True
