"""AWS event-stream encoding (application/vnd.amazon.eventstream), as Bedrock's streaming responses use it.

Each message: total length (u32), headers length (u32), CRC32 of those 8 bytes, headers, payload, CRC32 of all
that came before. A header: name length (u8), name, value type (u8, 7 = string), value length (u16), value.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

_STRING = 7


def _header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(encoded_name))
        + encoded_name
        + struct.pack("!BH", _STRING, len(encoded_value))
        + encoded_value
    )


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    header_bytes = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack("!II", total, len(header_bytes))
    prelude += struct.pack("!I", zlib.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + header_bytes + payload
    return message + struct.pack("!I", zlib.crc32(message) & 0xFFFFFFFF)


def chunk_event(payload: dict[str, Any] | bytes) -> bytes:
    """An InvokeModelWithResponseStream `chunk` event wrapping one Anthropic Messages stream event."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    body = json.dumps({"bytes": base64.b64encode(raw).decode(), "p": "abcdef"}).encode()
    return encode_message({":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}, body)


def exception_event(exception_type: str, message: str) -> bytes:
    """A mid-stream exception frame (e.g. `throttlingException`, `internalServerException`)."""
    return encode_message(
        {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"},
        json.dumps({"message": message}).encode(),
    )
