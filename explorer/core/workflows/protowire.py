"""Protocol Buffers wire format, read without a schema.

Splits a message's bytes into (field number, wire type, value) records in the
order they were written, so a schema table elsewhere can name them and
anything it does not know is still there to show. Pure logic: this module
must never do I/O, never import google.protobuf (or any generated code), and
never guess at what a field means: that is the caller's schema's job.

Errors are `WireError`s that carry the byte offset where decoding stopped, so
a screen can say "truncated varint at byte 12" beside the raw bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VARINT = 0
FIXED64 = 1
LENGTH_DELIMITED = 2
START_GROUP = 3
END_GROUP = 4
FIXED32 = 5

_FIXED = {FIXED64: (8, "<Q", "fixed64"), FIXED32: (4, "<I", "fixed32")}

#: The largest field number the format allows (2**29 - 1).
MAX_FIELD_NUMBER = (1 << 29) - 1


class WireError(ValueError):
    """Bytes that are not a protobuf message; `offset` is where reading stopped."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} at byte {offset}")
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True)
class WireField:
    """One record as written: `value` is an int (varint, fixed32, fixed64) or bytes (length-delimited).

    `raw` is the record's value bytes exactly as stored (for a varint, its encoded bytes), so
    an unknown field can be shown and re-encoded unchanged. `offset` is where the record's tag starts,
    `value_offset` where `raw` starts (both counted from the outermost message's first byte).
    """

    number: int
    wire_type: int
    value: int | bytes
    raw: bytes
    offset: int
    value_offset: int


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """The unsigned varint at `offset` and the offset after it; raises WireError."""
    result = 0
    shift = 0
    position = offset
    while True:
        if position >= len(data):
            raise WireError("truncated varint", offset)
        byte = data[position]
        position += 1
        if shift >= 64 or (shift == 63 and byte > 1):
            raise WireError("varint longer than 64 bits", offset)
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def iter_fields(data: bytes, *, base_offset: int = 0) -> list[WireField]:
    """Every record of a message, in order. Raises WireError on anything malformed.

    Groups (wire types 3 and 4, deprecated since proto2 and never used by Dapr's schema) are
    refused with a WireError naming them rather than skipped. `base_offset` is added to the
    offsets reported, so an error inside a nested message points into the outer bytes.
    """
    fields: list[WireField] = []
    position = 0
    end = len(data)
    while position < end:
        start = position
        try:
            tag, position = read_varint(data, position)
        except WireError as error:
            raise WireError(f"{error.reason} in field tag", base_offset + error.offset) from None
        number, wire_type = tag >> 3, tag & 7
        if number == 0 or number > MAX_FIELD_NUMBER:
            raise WireError(f"invalid field number {number}", base_offset + start)
        if wire_type == VARINT:
            try:
                value, after = read_varint(data, position)
            except WireError as error:
                raise WireError(error.reason, base_offset + error.offset) from None
            fields.append(WireField(number, wire_type, value, bytes(data[position:after]), base_offset + start,
                                    base_offset + position))
            position = after
        elif wire_type in _FIXED:
            size, layout, name = _FIXED[wire_type]
            if position + size > end:
                raise WireError(f"truncated {name}", base_offset + position)
            raw = bytes(data[position:position + size])
            fields.append(WireField(number, wire_type, struct.unpack(layout, raw)[0], raw, base_offset + start,
                                    base_offset + position))
            position += size
        elif wire_type == LENGTH_DELIMITED:
            try:
                length, after = read_varint(data, position)
            except WireError as error:
                raise WireError(f"{error.reason} in length", base_offset + error.offset) from None
            if after + length > end:
                raise WireError(
                    f"length-delimited field {number} needs {length} bytes, {end - after} left",
                    base_offset + position,
                )
            raw = bytes(data[after:after + length])
            position = after + length
            fields.append(WireField(number, wire_type, raw, raw, base_offset + start, base_offset + after))
        elif wire_type in (START_GROUP, END_GROUP):
            raise WireError(f"field {number} is a group (wire type {wire_type}), which is not supported", base_offset + start)
        else:
            raise WireError(f"invalid wire type {wire_type} for field {number}", base_offset + start)
    return fields


def as_int32(value: int) -> int:
    """An int32 field's value: negative int32s are written as 64-bit two's complement varints."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def as_int64(value: int) -> int:
    """An int64 field's value (two's complement over 64 bits)."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value & 0x8000000000000000 else value
