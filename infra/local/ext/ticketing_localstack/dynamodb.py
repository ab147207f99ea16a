"""DynamoDB (and DynamoDB Streams) for LocalStack, offline, backed by LocalStack's bundled moto.

Why: LocalStack's own DynamoDB provider (localstack.services.dynamodb.provider) forwards to DynamoDB Local,
which it downloads (with a Java 21) at run time: impossible offline. moto's DynamoDB ships in the package,
but moto is not linearizable under concurrent requests (200 concurrent conditional decrements of a counter
at 100 let 101-106 succeed). The project's no-oversell guarantees rest on conditional writes and
TransactWriteItems, so the local store must be at least as strict as DynamoDB:

* every DynamoDB and DynamoDB Streams operation runs under ONE global lock (linearizable, atomic
  transactions);
* a few inputs AWS rejects but moto accepts are rejected here too (see ``_Validator``);
* moto's TransactWriteItems limit (25) is raised to AWS's 100;
* TTL: moto never expires items; a background reaper deletes expired items every
  ``TICKETING_DDB_TTL_INTERVAL`` seconds (default 5; 0 disables). AWS deletes "within a few days", so
  code must not rely on either behaviour; reads should still filter on the TTL attribute.

The wiring follows localstack.services.providers (e.g. ``ec2()``): an ASF provider whose operations all
raise NotImplementedError (``DynamodbApi`` as generated), wrapped by ``MotoFallbackDispatcher`` so every
operation falls through to moto; we wrap that dispatch table once more to add the lock and validation.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from localstack.aws.api import CommonServiceException, RequestContext, ServiceRequest
from localstack.aws.api.dynamodb import DynamodbApi
from localstack.aws.api.dynamodbstreams import DynamodbstreamsApi
from localstack.aws.skeleton import DispatchTable
from localstack.services.moto import MotoFallbackDispatcher
from localstack.services.plugins import ServiceLifecycleHook
from localstack.state import StateVisitor

LOG = logging.getLogger(__name__)

# One lock for all of DynamoDB and DynamoDB Streams (streams read the same moto tables).
# Re-entrant so that a same-thread nested call can never deadlock.
DDB_LOCK = threading.RLock()

# AWS limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html)
MAX_BATCH_WRITE_REQUESTS = 25
MAX_TRANSACT_ITEMS = 100
TTL_MAX_AGE_SECONDS = 5 * 365 * 24 * 3600  # AWS ignores TTL values more than 5 years in the past


def _validation_error(message: str) -> CommonServiceException:
    return CommonServiceException("ValidationException", message, status_code=400, sender_fault=True)


def _moto_backends() -> Iterator[Any]:
    """All instantiated moto DynamoDB backends (one per account and region)."""
    from moto.dynamodb.models import dynamodb_backends

    for account_backends in list(dynamodb_backends.values()):
        yield from list(account_backends.values())


def _moto_table(context: RequestContext, table_name: str | None) -> Any | None:
    """The moto table for a request, or None (moto then raises the proper ResourceNotFoundException)."""
    if not table_name:
        return None
    from moto.dynamodb.models import dynamodb_backends

    if table_name.startswith("arn:"):
        table_name = table_name.split(":table/", 1)[-1].split("/", 1)[0]
    try:
        return dynamodb_backends[context.account_id][context.region].tables.get(table_name)
    except Exception:  # noqa: BLE001 - validation is best effort, moto reports the real error
        return None


def _attr_type(value: dict[str, Any]) -> str:
    return next(iter(value.keys())) if isinstance(value, dict) and value else "NULL"


class _Validator:
    """Input checks that DynamoDB performs and moto (5.1) skips. Runs under DDB_LOCK."""

    def __init__(self, context: RequestContext) -> None:
        self.context = context

    # -- single items ------------------------------------------------------------------------------------
    def key(self, table_name: str | None, key: dict[str, Any] | None) -> None:
        """A Key must name exactly the table's key attributes, with the declared types."""
        table = _moto_table(self.context, table_name)
        if table is None or key is None:
            return
        expected = {table.hash_key_attr: table.hash_key_type}
        if table.range_key_attr:
            expected[table.range_key_attr] = table.range_key_type
        if set(key) != set(expected) or any(_attr_type(key[k]) != t for k, t in expected.items()):
            raise _validation_error("The provided key element does not match the schema")

    def item(self, table_name: str | None, item: dict[str, Any] | None) -> None:
        """Index key attributes present in an item must have the index's declared type."""
        table = _moto_table(self.context, table_name)
        if table is None or item is None:
            return
        types = {a["AttributeName"]: a["AttributeType"] for a in (table.attr or [])}
        for index in list(table.global_indexes or []) + list(table.indexes or []):
            for key_elem in index.schema:
                name = key_elem["AttributeName"]
                if name in item and name in types and _attr_type(item[name]) != types[name]:
                    raise _validation_error(
                        "One or more parameter values were invalid: Type mismatch for Index Key "
                        f"{name} Expected: {types[name]} Actual: {_attr_type(item[name])} "
                        f"IndexName: {index.name}"
                    )

    def _item_identity(self, table_name: str, key_or_item: dict[str, Any]) -> tuple | None:
        table = _moto_table(self.context, table_name)
        if table is None:
            return None
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return (table.name,) + tuple(repr(key_or_item.get(n)) for n in names)

    # -- operations --------------------------------------------------------------------------------------
    def check(self, operation: str, req: ServiceRequest) -> None:
        match operation:
            case "GetItem" | "DeleteItem" | "UpdateItem":
                self.key(req.get("TableName"), req.get("Key"))
            case "PutItem":
                self.item(req.get("TableName"), req.get("Item"))
            case "BatchWriteItem":
                self._batch_write(req.get("RequestItems") or {})
            case "BatchGetItem":
                for table_name, spec in (req.get("RequestItems") or {}).items():
                    for key in spec.get("Keys") or []:
                        self.key(table_name, key)
            case "TransactWriteItems":
                self._transact_write(req.get("TransactItems") or [])
            case "TransactGetItems":
                items = req.get("TransactItems") or []
                if len(items) > MAX_TRANSACT_ITEMS:
                    raise _validation_error(
                        f"Member must have length less than or equal to {MAX_TRANSACT_ITEMS}"
                    )
                for entry in items:
                    get = entry.get("Get") or {}
                    self.key(get.get("TableName"), get.get("Key"))

    def _batch_write(self, request_items: dict[str, list[dict[str, Any]]]) -> None:
        total = sum(len(reqs) for reqs in request_items.values())
        if total > MAX_BATCH_WRITE_REQUESTS:
            raise _validation_error(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
                "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
                "Member must have length greater than or equal to 1]"
            )
        seen: set[tuple] = set()
        for table_name, reqs in request_items.items():
            for req in reqs:
                if "PutRequest" in req:
                    item = req["PutRequest"].get("Item") or {}
                    self.item(table_name, item)
                    ident = self._item_identity(table_name, item)
                else:
                    key = (req.get("DeleteRequest") or {}).get("Key") or {}
                    self.key(table_name, key)
                    ident = self._item_identity(table_name, key)
                if ident is not None:
                    if ident in seen:
                        raise _validation_error("Provided list of item keys contains duplicates")
                    seen.add(ident)

    def _transact_write(self, items: list[dict[str, Any]]) -> None:
        if len(items) > MAX_TRANSACT_ITEMS:
            raise _validation_error(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_TRANSACT_ITEMS}"
            )
        seen: set[tuple] = set()
        for entry in items:
            for kind in ("Put", "Update", "Delete", "ConditionCheck"):
                if kind not in entry:
                    continue
                op = entry[kind]
                table_name = op.get("TableName")
                if kind == "Put":
                    self.item(table_name, op.get("Item"))
                    ident = self._item_identity(table_name, op.get("Item") or {})
                else:
                    self.key(table_name, op.get("Key"))
                    ident = self._item_identity(table_name, op.get("Key") or {})
                if ident is not None:
                    if ident in seen:
                        raise _validation_error(
                            "Transaction request cannot include multiple operations on one item"
                        )
                    seen.add(ident)


def _serialized(table: DispatchTable, validate: bool) -> DispatchTable:
    """Wrap every handler of a dispatch table so that it runs under DDB_LOCK (after validation)."""

    def wrap(operation: str, handler: Callable) -> Callable:
        def call(context: RequestContext, request: ServiceRequest):
            with DDB_LOCK:
                if validate:
                    _Validator(context).check(operation, request)
                return handler(context, request)

        return call

    return {op: wrap(op, fn) for op, fn in table.items()}


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems without moto's whole-table deep copy.

    moto backs up every table a transaction touches with ``copy.deepcopy`` before it starts, so each
    transaction costs time in proportion to the table's size; behind DDB_LOCK that made a seat-hold rush time
    out once the test table held a few thousand items. This version checks every condition first against the
    state before the transaction (as DynamoDB does; the items are distinct), cancels with the per-operation
    reasons if any fails, and only then applies the writes, copying just the touched items so that an error
    while applying (a bad update expression) is rolled back. The caller holds DDB_LOCK, so check-then-apply is
    atomic. Emulates ``moto.dynamodb.models.DynamoDBBackend.transact_write_items``.
    """
    import copy

    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > MAX_TRANSACT_ITEMS:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = []
    errors: list[tuple[Any, Any, Any]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        if op_type == "Put":
            table = backend.get_table(table_name)
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        ident = (str(table_name), str(key))
        if ident in seen:
            raise MultipleTransactionsException()
        seen.add(ident)
        old_image = None
        try:
            current = backend.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old_image = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old_image)
            errors.append((None, None, None))
            plan.append((op_type, op, table_name, key, current))
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), old_image))
        except MockValidationException:
            raise
        except Exception as e:  # noqa: BLE001 - reported per operation, as moto does
            errors.append((type(e).__name__, str(e), old_image))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    applied: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for op_type, op, table_name, key, before in plan:
            if op_type == "ConditionCheck":
                continue
            snapshot = copy.deepcopy(before)
            kwargs = {
                "condition_expression": op.get("ConditionExpression"),
                "expression_attribute_names": op.get("ExpressionAttributeNames"),
                "expression_attribute_values": op.get("ExpressionAttributeValues"),
            }
            if op_type == "Put":
                backend.put_item(table_name, op["Item"], **kwargs)
            elif op_type == "Delete":
                backend.delete_item(table_name, key, **kwargs)
            else:
                backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **kwargs)
            applied.append((table_name, key, snapshot))
    except Exception:
        for table_name, key, snapshot in reversed(applied):
            if snapshot is None:
                backend.delete_item(table_name, key)
            else:
                backend.put_item(table_name, snapshot.to_json()["Attributes"])
        raise


def _raise_moto_limits() -> None:
    # moto checks TransactWriteItems against 25 (AWS's old limit); AWS allows 100 since 2022.
    try:
        import moto.dynamodb.responses as responses

        responses.TRANSACTION_MAX_ITEMS = MAX_TRANSACT_ITEMS
    except Exception as e:  # noqa: BLE001
        LOG.warning("could not raise moto's transaction limit: %s", e)
    try:
        from moto.dynamodb.models import DynamoDBBackend

        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    except Exception as e:  # noqa: BLE001
        LOG.warning("could not replace moto's TransactWriteItems: %s", e)


def _partition_queries() -> None:
    """A Query of the table (not of an index) reads its one partition, as DynamoDB does. moto's sorts every item
    of the table on each Query to pick the partition's: a table of 100,000 items made each Query take 1.5 s,
    and the whole suite slower the more it had written. Same results, same order; requests are serialized."""
    try:
        from moto.dynamodb.models.table import Table
    except Exception as e:  # noqa: BLE001
        LOG.warning("could not speed up moto's Query: %s", e)
        return
    original = Table.query
    if getattr(original, "_ticketing_partition", False):
        return

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's backend passes (range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
        # projection_expressions, index_name, ...) positionally after the hash key.
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # shadows the method for this call only
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    query._ticketing_partition = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


class TtlReaper:
    """Deletes items whose TTL attribute (epoch seconds, type N) has passed. moto never does."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread:
            return
        self._thread = threading.Thread(target=self._run, name="ddb-ttl-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.reap_once()
            except Exception:  # noqa: BLE001
                LOG.exception("TTL reaper failed")

    @staticmethod
    def reap_once(now: float | None = None) -> int:
        now = time.time() if now is None else now
        deleted = 0
        with DDB_LOCK:
            for backend in _moto_backends():
                for table in list(backend.tables.values()):
                    ttl = getattr(table, "ttl", None) or {}
                    attr = ttl.get("AttributeName")
                    if ttl.get("TimeToLiveStatus") != "ENABLED" or not attr:
                        continue
                    for item in table.all_items():
                        value = item.attrs.get(attr)
                        if value is None or value.type != "N":
                            continue
                        try:
                            expires = float(value.value)
                        except (TypeError, ValueError):
                            continue
                        if now - TTL_MAX_AGE_SECONDS <= expires <= now:
                            table.delete_item(item.hash_key, item.range_key)
                            deleted += 1
        if deleted:
            LOG.debug("TTL reaper deleted %d expired items", deleted)
        return deleted


class TicketingDynamoDBProvider(DynamodbApi, ServiceLifecycleHook):
    """All operations fall through to moto (see module docstring)."""

    def __init__(self) -> None:
        self.reaper = TtlReaper(float(os.environ.get("TICKETING_DDB_TTL_INTERVAL", "5")))

    def on_after_init(self) -> None:
        _raise_moto_limits()
        _partition_queries()

    def on_before_start(self) -> None:
        self.reaper.start()

    def on_before_stop(self) -> None:
        self.reaper.stop()

    def accept_state_visitor(self, visitor: StateVisitor) -> None:
        from moto.dynamodb.models import dynamodb_backends

        visitor.visit(dynamodb_backends)


class TicketingDynamoDBStreamsProvider(DynamodbstreamsApi, ServiceLifecycleHook):
    """DynamoDB Streams from moto's stream shards (the default provider needs DynamoDB Local)."""

    def accept_state_visitor(self, visitor: StateVisitor) -> None:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        visitor.visit(dynamodbstreams_backends)


def dynamodb_dispatch_table(provider: object) -> DispatchTable:
    return _serialized(MotoFallbackDispatcher(provider), validate=True)


def dynamodbstreams_dispatch_table(provider: object) -> DispatchTable:
    return _serialized(MotoFallbackDispatcher(provider), validate=False)
