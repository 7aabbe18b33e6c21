"""The content of a status list: its data model, and the reader that checks every member.

:mod:`gimark.labels.offline.statuslist` signs and verifies the document around it; this module
turns a payload whose signature has been checked into a :class:`StatusList`, refusing anything
that does not follow ``docs/status-list.md`` section 2 (a signed list is still read strictly: a
list that parses loosely could be read two ways).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from gimark.labels.offline.errors import StatusListFormatError
from gimark.labels.scanning.judge import BatchState
from gimark.trace.authorizations import Reason

__all__ = [
    "FORMAT",
    "VERSION",
    "BatchEntry",
    "BatchState",
    "EnterpriseInfo",
    "ProductInfo",
    "StatusList",
    "format_error",
    "parse_payload",
]

FORMAT: Final = "gimark-status-list"
VERSION: Final = 1
_EPOCH: Final = dt.datetime.min.replace(tzinfo=dt.UTC)
_T = TypeVar("_T")


@dataclass(frozen=True)
class EnterpriseInfo:
    """The enterprise a label names, as the list shows it."""

    name: str
    uscc: str


@dataclass(frozen=True)
class ProductInfo:
    """The GI product a label names, as the list shows it."""

    name_zh: str
    name_en: str
    kind: str
    region: str
    reg_no: str | None


@dataclass(frozen=True)
class BatchEntry:
    """One batch of a status list: its serial range and everything a verdict needs of it."""

    id: int
    first: int
    last: int
    state: BatchState
    voided: tuple[tuple[int, int], ...]  # sorted, disjoint, inside [first, last]
    key_kid: str | None
    approved_at: dt.datetime | None
    enterprise: EnterpriseInfo
    product: ProductInfo
    authorization_at_issue: Reason
    authorization_now: Reason  # as of the list's generated_at

    def is_voided(self, serial: int) -> bool:
        """Whether ``serial`` (of this batch) was voided in printing."""
        at = bisect.bisect_right(self.voided, (serial, 2**63)) - 1
        return at >= 0 and self.voided[at][1] >= serial


@dataclass(frozen=True)
class StatusList:
    """A status list whose signature has been checked."""

    issuer: str
    generated_at: dt.datetime
    kid: str  # the key that signed it
    bases: tuple[str, ...]  # the issuer's QR URL bases
    compromised: Mapping[str, dt.datetime]  # kid → compromised from
    batches: tuple[BatchEntry, ...]  # by serial, disjoint
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(b.first for b in self.batches))

    def find(self, serial: int) -> BatchEntry | None:
        """The batch that holds ``serial``, or None when no batch was issued it."""
        at = bisect.bisect_right(self._starts, serial) - 1
        if at < 0 or self.batches[at].last < serial:
            return None
        return self.batches[at]

    def age(self, now: dt.datetime) -> dt.timedelta:
        """How old the list is at ``now``."""
        return now - self.generated_at


def format_error(detail: str, detail_zh: str) -> StatusListFormatError:
    """A :class:`StatusListFormatError` saying what is wrong, in English and Chinese."""
    return StatusListFormatError(detail=detail, detail_zh=detail_zh)


def parse_payload(payload: Mapping[str, Any], kid: str) -> StatusList:
    """The list in ``payload``, signed by ``kid``.

    Raises:
        StatusListFormatError: a member is missing, of the wrong type, or out of order.
    """
    if payload.get("format") != FORMAT or payload.get("version") != VERSION:
        raise format_error(f"not a {FORMAT} of version {VERSION}", f"不是第 {VERSION} 版状态清单")
    enterprises = _table(payload, "enterprises", _enterprise_info)
    products = _table(payload, "products", _product_info)
    batches = tuple(
        _batch_entry(item, enterprises, products) for item in _field(payload, "batches", list)
    )
    _require_ordered(batches)
    return StatusList(
        issuer=_field(payload, "issuer", str),
        generated_at=_time(_field(payload, "generated_at", str)),
        kid=kid,
        bases=tuple(_strings(_field(payload, "bases", list), "bases")),
        compromised=_compromised(_field(payload, "compromised_keys", list)),
        batches=batches,
    )


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise format_error(f"{what} must be an object", f"{what} 必须是对象")
    return value


def _field(obj: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = obj.get(name)
    # bool is an int to Python, never to this format.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise format_error(
            f"member {name!r} is missing or not a {kind.__name__}", f"字段 {name} 缺失或类型错误"
        )
    return value


def _optional(obj: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    return None if obj.get(name) is None else _field(obj, name, kind)


def _strings(values: Iterable[object], what: str) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise format_error(f"{what} must be strings", f"{what} 必须是字符串")
    return [str(v) for v in values]


def _time(text: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise format_error(f"bad timestamp {text[:40]!r}", f"时间格式错误：{text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise format_error("timestamps need a time zone", "时间缺少时区")
    return parsed.astimezone(dt.UTC)


def _table(
    payload: Mapping[str, Any], name: str, read: Callable[[Mapping[str, Any]], _T]
) -> dict[int, _T]:
    table = _field(payload, name, dict)
    try:
        ids = [int(ident) for ident in table]
    except ValueError:
        raise format_error(f"the keys of {name!r} must be ids", f"{name} 的键必须是编号") from None
    return {i: read(_object(value, name)) for i, value in zip(ids, table.values(), strict=True)}


def _enterprise_info(fields: Mapping[str, Any]) -> EnterpriseInfo:
    return EnterpriseInfo(name=_field(fields, "name", str), uscc=_field(fields, "uscc", str))


def _product_info(fields: Mapping[str, Any]) -> ProductInfo:
    return ProductInfo(
        name_zh=_field(fields, "name_zh", str),
        name_en=_field(fields, "name_en", str),
        kind=_field(fields, "kind", str),
        region=_field(fields, "region", str),
        reg_no=_optional(fields, "reg_no", str),
    )


def _compromised(items: list[object]) -> dict[str, dt.datetime]:
    found = {}
    for item in items:
        fields = _object(item, "compromised_keys")
        at = _optional(fields, "compromised_at", str)
        # A key compromised at an unknown moment taints everything it ever signed.
        found[_field(fields, "kid", str)] = _EPOCH if at is None else _time(at)
    return found


def _batch_entry(
    item: object, enterprises: Mapping[int, EnterpriseInfo], products: Mapping[int, ProductInfo]
) -> BatchEntry:
    fields = _object(item, "batch")
    first, last = _field(fields, "first", int), _field(fields, "last", int)
    try:
        state = BatchState(_field(fields, "state", str))
        at_issue = Reason(_field(fields, "authorization_at_issue", str))
        now = Reason(_field(fields, "authorization_now", str))
        enterprise = enterprises[_field(fields, "enterprise", int)]
        product = products[_field(fields, "product", int)]
    except (ValueError, KeyError):
        raise format_error(
            f"batch {first}..{last} has an unknown value", "批次含未知取值"
        ) from None
    approved_at = _optional(fields, "approved_at", str)
    return BatchEntry(
        id=_field(fields, "id", int),
        first=first,
        last=last,
        state=state,
        voided=_ranges(_field(fields, "voided", list), first, last),
        key_kid=_optional(fields, "key_kid", str),
        approved_at=None if approved_at is None else _time(approved_at),
        enterprise=enterprise,
        product=product,
        authorization_at_issue=at_issue,
        authorization_now=now,
    )


def _ranges(items: list[object], first: int, last: int) -> tuple[tuple[int, int], ...]:
    ranges = []
    floor = first
    for item in items:
        if not (isinstance(item, list) and len(item) == 2 and all(map(_is_int, item))):
            raise format_error("a voided range must be [first, last]", "作废范围应为 [起, 止]")
        start, end = item
        # Sorted and disjoint, so that a binary search finds the one that could hold a serial.
        if not floor <= start <= end <= last:
            raise format_error(f"voided range {start}..{end} is out of order", "作废范围顺序错误")
        ranges.append((start, end))
        floor = end + 1
    return tuple(ranges)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_ordered(batches: Sequence[BatchEntry]) -> None:
    floor = 1  # serial 0 is never issued
    for batch in batches:
        if not floor <= batch.first <= batch.last:
            raise format_error(
                f"batch {batch.id} overlaps or is out of order", "批次范围重叠或顺序错误"
            )
        floor = batch.last + 1
