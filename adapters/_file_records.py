"""What one line of an imported file means: the record types of the files source, their fields, and how a JSON
object or a CSV row becomes a normalized record (or a one-line reason why it cannot).

Hand-written, table-driven converters rather than a pydantic model per record: a pydantic validation per record
costs several times the whole rest of an import, and a million-record file must import in seconds. Each field's
rule is written once here and used by both formats; the formats differ only in how a raw value arrives (typed JSON
values versus CSV text, where an empty cell is null).

Not a source kind: the leading underscore keeps it out of ``adapters.kinds()``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shiftboard.model import (
    AGENT_STATES,
    CASE_STATUSES,
    PRIORITIES,
    RATING_KINDS,
    AgentState,
    Case,
    Contact,
    Rating,
    parse_time,
)

#: The record types a line may hold, as written in its ``type`` field.
RECORD_TYPES: Final = ("case", "contact", "agent_state", "rating")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class BadRecord(ValueError):
    """A line that cannot become a record; ``str(error)`` is the reason shown after ``file:line:``."""


def show(value: object, limit: int = 40) -> str:
    """A short, quoted rendering of a bad value for a reason line (never the whole of a huge value)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- one converter pair per kind of field ------------------------------------------------------------------------
# ``json_*`` take a non-null JSON value; ``csv_*`` take a non-empty cell. Both return the stored value or raise.


def _json_text(value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is int:  # numeric ids and phone numbers are common in exports
        return str(value)
    raise BadRecord(f"expected text, got {show(value)}")


def _csv_text(cell: str) -> str:
    return cell


def _csv_time(cell: str) -> float | None:
    try:
        return parse_time(cell)
    except ValueError as error:
        raise BadRecord(str(error)) from None
    except OverflowError:
        raise BadRecord(f"time out of range: {show(cell)}") from None


def _json_time(value: Any) -> float | None:
    if value.__class__ is not str:
        raise BadRecord(f"expected an ISO-8601 time with offset or Z, got {show(value)}")
    try:
        return parse_time(value)
    except ValueError as error:
        raise BadRecord(str(error)) from None
    except OverflowError:
        raise BadRecord(f"time out of range: {show(value)}") from None


#: SQLite's largest integer: a larger count cannot be stored.
_MAX_COUNT: Final = 2**63 - 1


def _json_count(value: Any) -> int:
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is int and value >= 0:
        if value > _MAX_COUNT:
            raise BadRecord(f"whole number too large: {show(value)}")
        return value
    raise BadRecord(f"expected a whole number ≥ 0, got {show(value)}")


def _csv_count(cell: str) -> int:
    try:
        return _json_count(int(cell))
    except ValueError:
        pass
    try:
        return _json_count(float(cell))
    except ValueError:
        raise BadRecord(f"expected a whole number ≥ 0, got {show(cell)}") from None


def _json_number(value: Any) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:  # an integer with hundreds of digits: no float holds it
            pass
    raise BadRecord(f"expected a number, got {show(value)}")


def _csv_number(cell: str) -> float:
    try:
        return _json_number(float(cell))
    except (ValueError, BadRecord):
        raise BadRecord(f"expected a number, got {show(cell)}") from None


def _json_seconds(value: Any) -> float:
    seconds = _json_number(value)
    if seconds < 0:
        raise BadRecord(f"expected seconds ≥ 0, got {show(value)}")
    return seconds


def _csv_seconds(cell: str) -> float:
    seconds = _csv_number(cell)
    if seconds < 0:
        raise BadRecord(f"expected seconds ≥ 0, got {show(cell)}")
    return seconds


def _csv_bool(cell: str) -> bool:
    word = cell.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise BadRecord(f"expected true/false/1/0/yes/no, got {show(cell)}")


def _json_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if type(value) is str:
        return _csv_bool(value)
    raise BadRecord(f"expected true or false, got {show(value)}")


def _csv_queues(cell: str) -> tuple[str, ...]:
    """Queue names in a CSV cell, separated by ``;`` or ``|``; blanks around a name and empty names are dropped."""
    # Split, strip and filter in C (map, filter): a generator per cell cost twice as much.
    return tuple(filter(None, map(str.strip, cell.replace("|", ";").split(";"))))


def _json_queues(value: Any) -> tuple[str, ...]:
    if type(value) is not list:
        raise BadRecord(f"expected a list of queue names, got {show(value)}")
    names = []
    for item in value:
        name = _json_text(item) if item is not None else ""
        if name:
            names.append(name)
    return tuple(names)


def _enum(allowed: Sequence[str]) -> Converter:
    """Converters for a field that takes one of ``allowed`` (compared without case or surrounding blanks)."""
    choices = frozenset(allowed)
    listing = ", ".join(allowed)

    def from_csv(cell: str) -> str:
        word = cell.strip().lower()
        if word not in choices:
            raise BadRecord(f"{show(cell)} is not one of {listing}")
        return word

    def from_json(value: Any) -> str:
        if type(value) is not str:
            raise BadRecord(f"expected one of {listing}, got {show(value)}")
        return from_csv(value)

    return Converter(from_json, from_csv, exact=choices)


#: orjson reads an integer beyond 64 bits as a float, where the standard library keeps it exact. A number field
#: given a float that large from orjson refuses it, and the line is read again with the standard library.
_EXACT_LIMIT: Final = float(2**63)


def _orjson_safe(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        if value.__class__ is float and not -_EXACT_LIMIT < value < _EXACT_LIMIT:
            raise BadRecord("read again with the standard library")
        return convert(value)

    return checked


@dataclass(frozen=True, slots=True)
class Converter:
    """How one kind of field is read: from a non-null JSON value, and from a non-empty CSV cell."""

    from_json: Callable[[Any], Any]
    from_csv: Callable[[str], Any]
    #: Values stored as they come, tested inline before calling a converter: ``str`` for any text, or a set of
    #: words (an enum's normalized spellings).
    exact: type | frozenset[str] | None = None
    #: The converter may return None (a time at the Unix epoch, RT's "unset"): a required field then is missing.
    may_be_none: bool = False
    #: The kind of value, for the common case tested inline in the generated builder (see ``_inline``).
    inline: str | None = None
    #: ``from_json`` for a value read by orjson (None: the same).
    from_orjson: Callable[[Any], Any] | None = None


TEXT = Converter(_json_text, _csv_text, exact=str)
TIME = Converter(_json_time, _csv_time, may_be_none=True, inline="time")
COUNT = Converter(_json_count, _csv_count, inline="count", from_orjson=_orjson_safe(_json_count))
NUMBER = Converter(_json_number, _csv_number, inline="number", from_orjson=_orjson_safe(_json_number))
SECONDS = Converter(_json_seconds, _csv_seconds, inline="seconds", from_orjson=_orjson_safe(_json_seconds))
BOOL = Converter(_json_bool, _csv_bool, inline="bool")
QUEUES = Converter(_json_queues, _csv_queues)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a record type: its name (the JSON key and CSV column), converter, and what absence means."""

    name: str
    converter: Converter
    required: bool = False
    #: Stored when the field is absent or empty (None: the model's own default).
    default: Any = None


@dataclass(frozen=True, slots=True)
class RecordType:
    """A record type of the files source: its fields and the model class it builds."""

    name: str
    fields: tuple[Field, ...]
    build: Callable[..., Any]
    #: Cross-field checks and derived defaults, applied to the converted values before ``build``.
    finish: Callable[[dict[str, Any]], None] | None = None


def _finish_rating(values: dict[str, Any]) -> None:
    if values["scale_max"] is None:
        if values["kind"] != "nps":
            raise BadRecord("missing scale_max (only nps has a default scale, 0 to 10)")
        values["scale_max"] = 10.0
    low = values["scale_min"]
    high = values["scale_max"]
    if not low < high:
        raise BadRecord(f"scale_min {low:g} is not below scale_max {high:g}")
    if not low <= values["score"] <= high:
        raise BadRecord(f"score {values['score']:g} is outside the scale {low:g} to {high:g}")


TYPES: Final[dict[str, RecordType]] = {
    "case": RecordType(
        "case",
        (
            Field("id", TEXT, required=True),
            Field("queue", TEXT, required=True),
            Field("status", _enum(CASE_STATUSES), required=True),
            Field("priority", _enum(PRIORITIES), default="normal"),
            Field("created_at", TIME, required=True),
            Field("channel", TEXT),
            Field("subject", TEXT),
            Field("customer", TEXT),
            Field("assignee", TEXT),
            Field("first_reply_at", TIME),
            Field("solved_at", TIME),
            Field("updated_at", TIME),
            Field("agent_replies", COUNT),
            Field("reopens", COUNT),
        ),
        Case,
    ),
    "contact": RecordType(
        "contact",
        (
            Field("id", TEXT, required=True),
            Field("queue", TEXT, required=True),
            Field("offered_at", TIME, required=True),
            Field("channel", TEXT, default="voice"),
            Field("customer", TEXT),
            Field("agent", TEXT),
            Field("answered_at", TIME),
            Field("ended_at", TIME),
            Field("abandoned_at", TIME),
            Field("blocked", BOOL, default=False),
            Field("hold_s", SECONDS),
            Field("wrap_up_s", SECONDS),
        ),
        Contact,
    ),
    "agent_state": RecordType(
        "agent_state",
        (
            Field("agent", TEXT, required=True),
            Field("state", _enum(AGENT_STATES), required=True),
            Field("since", TIME, required=True),
            Field("queues", QUEUES),
            Field("name", TEXT),
        ),
        AgentState,
    ),
    "rating": RecordType(
        "rating",
        (
            Field("id", TEXT, required=True),
            Field("kind", _enum(RATING_KINDS), required=True),
            Field("score", NUMBER, required=True),
            Field("scale_max", NUMBER),
            Field("scale_min", NUMBER),
            Field("rated_at", TIME, required=True),
            Field("case_id", TEXT),
            Field("queue", TEXT),
            Field("agent", TEXT),
            Field("comment", TEXT),
        ),
        Rating,
        _finish_rating,
    ),
}
#: Every column name any record type knows, plus ``type``: a CSV header must name at least one.
KNOWN_COLUMNS: Final = frozenset({"type"} | {f.name for t in TYPES.values() for f in t.fields})
_TYPE_LISTING = ", ".join(RECORD_TYPES)


def record_type(value: Any, default: str | None) -> RecordType:
    """The record type a line's ``type`` value names, or ``default`` (the source's ``record_type``) when empty."""
    if value is None or value == "":
        if default is None:
            raise BadRecord(f"missing type (one of {_TYPE_LISTING}; or set record_type in the source's settings)")
        return TYPES[default]
    if type(value) is str:
        found = TYPES.get(value) or TYPES.get(value.strip().lower())
        if found is not None:
            return found
    raise BadRecord(f"unknown type {show(value)} (expected one of {_TYPE_LISTING})")


def _default(kind: RecordType, field: Field) -> Any:
    """What an absent field stores: the field's own default, else the model's (None when it has none)."""
    if field.default is not None:
        return field.default
    model_field = next(f for f in dataclasses.fields(kind.build) if f.name == field.name)
    return None if model_field.default is dataclasses.MISSING else model_field.default


_CSV_BOOLS: Final = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _inline(kind: str, number: int, csv_cell: bool) -> list[str]:
    """Source lines setting ``x{number}`` from the present value ``v``: the common case tested inline, anything else
    left to the converter ``c{number}``, which accepts or rejects it exactly as it would on its own.

    Inline because a call per field (converter, then ``parse_time``) was a third of the cost of building a record.
    The time case is ``parse_time``'s own first step: an ISO-8601 time with an offset, read by the standard library.
    """
    x, c = f"x{number}", f"c{number}"
    if kind == "time":
        return [
            "try:",
            "    m = fromiso(v)",
            "except (TypeError, ValueError):",
            "    m = None",
            "if m is not None and m.tzinfo is not None:",
            f"    {x} = m.timestamp() or None",
            "else:",
            f"    {x} = {c}(v)",
        ]
    if kind == "bool":
        if csv_cell:
            return [f"{x} = bools.get(v)", f"if {x} is None:", f"    {x} = {c}(v)"]
        return [f"{x} = v if v.__class__ is bool else {c}(v)"]
    if kind == "count":
        if csv_cell:
            return [f"{x} = int(v) if len(v) < 10 and v.isdecimal() else {c}(v)"]
        return [f"{x} = v if v.__class__ is int and 0 <= v <= {_MAX_COUNT} else {c}(v)"]
    low = "0.0 <=" if kind == "seconds" else "-limit <"
    if csv_cell:
        return [
            "try:",
            f"    {x} = float(v)",
            "except ValueError:",
            f"    {x} = {c}(v)",
            f"if not {low} {x} < limit:",
            f"    {x} = {c}(v)",
        ]
    return [f"{x} = v if v.__class__ is float and {low} v < limit else {c}(v)"]


def _compile(
    kind: RecordType, columns: Sequence[int | None] | None, *, orjson: bool = False
) -> Callable[[Any, str], Any]:
    """Generate the function that turns one JSON object (``columns`` None) or one CSV row into a ``kind`` record.

    Generated rather than a loop over the field table: the loop's per-field overhead (tuple unpacking, attribute
    look-ups, keyword arguments) doubled the cost of a record. Only our own field names and column numbers reach
    the source text; the line's content never does. An absent or empty value is "not given". ``orjson``: the
    object was read by orjson (see ``_EXACT_LIMIT``).
    """
    namespace: dict[str, Any] = {
        "BadRecord": BadRecord,
        "cls": kind.build,
        "finish": kind.finish,
        "fromiso": datetime.fromisoformat,
        "limit": _EXACT_LIMIT,
        "bools": _CSV_BOOLS,
    }
    body = ["def build(item, source):", "    name = ''", "    try:"]
    arguments: list[tuple[str, str]] = []
    for number, field in enumerate(kind.fields):
        converter = field.converter
        local = f"x{number}"
        namespace[f"d{number}"] = _default(kind, field)
        namespace[f"e{number}"] = converter.exact
        if columns is not None:
            namespace[f"c{number}"] = converter.from_csv
        elif orjson and converter.from_orjson is not None:
            namespace[f"c{number}"] = converter.from_orjson
        else:
            namespace[f"c{number}"] = converter.from_json
        absent = "raise BadRecord('missing')" if field.required else f"{local} = d{number}"
        body.append(f"        name = {field.name!r}")
        if columns is None:
            body.append(f"        v = item.get({field.name!r})")
            body.append("        if v is None or v == '':")
            if converter.exact is str:
                convert = [f"{local} = v if v.__class__ is str else c{number}(v)"]
            elif converter.exact is not None:
                convert = [f"{local} = v if v.__class__ is str and v in e{number} else c{number}(v)"]
            elif converter.inline is not None:
                convert = _inline(converter.inline, number, csv_cell=False)
            else:
                convert = [f"{local} = c{number}(v)"]
        else:
            column = columns[number]
            if column is None:
                body.append(f"        {absent}")
                arguments.append((field.name, local))
                continue
            body.append(f"        v = item[{column}]")
            body.append("        if not v:")
            if converter.exact is str:
                convert = [f"{local} = v"]
            elif converter.exact is not None:
                convert = [f"{local} = v if v in e{number} else c{number}(v)"]
            elif converter.inline is not None:
                convert = _inline(converter.inline, number, csv_cell=True)
            else:
                convert = [f"{local} = c{number}(v)"]
        body.append(f"            {absent}")
        body.append("        else:")
        body.extend(f"            {line}" for line in convert)
        if field.required and converter.may_be_none:
            body.append(f"            if {local} is None:")
            body.append("                raise BadRecord('missing')")
        arguments.append((field.name, local))
    body.append("    except BadRecord as error:")
    body.append("        raise BadRecord(f'{name}: {error}') from None")
    # Positional arguments in the model's field order: keywords cost three times as much per record.
    by_name = dict(arguments)
    ordered = ", ".join(by_name[f.name] for f in dataclasses.fields(kind.build) if f.name != "source")
    if kind.finish is None:
        body.append(f"    return cls(source, {ordered})")
    else:
        body.append(f"    values = dict(source=source, {', '.join(f'{n}={v}' for n, v in arguments)})")
        body.append("    finish(values)")
        body.append("    return cls(**values)")
    exec("\n".join(body), namespace)
    return namespace["build"]


#: For each record type, the function that turns a JSON object into its record (``build(obj, source)``). Null, ""
#: and an absent key all mean "not given".
JSON_BUILDERS: Final = {name: _compile(kind, None) for name, kind in TYPES.items()}
#: The same for an object read by orjson. Any BadRecord from these means "decide with the standard library":
#: read the line again with ``json`` and build it with ``JSON_BUILDERS``, which give the reason.
ORJSON_BUILDERS: Final = {name: _compile(kind, None, orjson=True) for name, kind in TYPES.items()}


def normalize_header(cells: Sequence[str]) -> list[str]:
    """Column names as matched against field names: without surrounding blanks, in lower case."""
    return [cell.strip().lower() for cell in cells]


@functools.lru_cache(maxsize=256)
def csv_builder(header: tuple[str, ...], kind_name: str) -> Callable[[Sequence[str], str], Any]:
    """The function that turns a row under ``header`` (normalized names; the first of duplicates wins) into a
    ``kind_name`` record. The row must have as many cells as the header; an empty cell is null."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name, position)
    kind = TYPES[kind_name]
    return _compile(kind, [index.get(field.name) for field in kind.fields])
