"""Schemathesis hooks for .ci/fuzz.sh.

A few values cannot be generated from the document alone because they name
server state: an opaque list cursor (`after`, only ever a `meta.next_cursor`
of the same list), a user to put in a byline (`author_id`), a comment to reply
to (`parent_id`) and one's own current password. In schema-valid (positive)
cases these are replaced with values that exist, so that a refusal of a
positive case always means a real mismatch between the document and the
server. Negative cases are sent as generated.
"""

import os

import schemathesis

ADMIN_ID = int(os.environ["NEWSDESK_FUZZ_ADMIN_ID"])
ADMIN_PASSWORD = os.environ["NEWSDESK_FUZZ_ADMIN_PASSWORD"]


def _positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if not _positive(case):
        return
    if isinstance(case.query, dict):
        case.query.pop("after", None)
    body = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("author_id"), int):
        body["author_id"] = ADMIN_ID
    if isinstance(body.get("parent_id"), int):
        body["parent_id"] = None
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id == "updateUser" and body.get("password") is not None:
        body["current_password"] = ADMIN_PASSWORD
