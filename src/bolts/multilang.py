"""The bolts' side of Storm's multilang pipe: a faster JSON codec, and whether more input is already waiting.

pystorm's JSONSerializer reads line by line through a TextIOWrapper and decodes with simplejson. This one
reads the pipe's bytes in large chunks, splits messages on Storm's ``\\nend\\n`` framing and decodes them
with orjson (2-3x faster on this project's tuples; Storm's side, json-smart, sees the same JSON). It is
pystorm's own Serializer interface, installed by ``FastMultilang.__init__`` before the handshake; no
site-packages file is changed. ``input_waiting`` lets a batching bolt flush as soon as its queue runs dry.
The codec is ``loanrisk.multilang.codec``: "orjson", or "json" (simplejson, as stock pystorm).
"""

from __future__ import annotations

import io
import os
import select
import sys
from collections.abc import Callable
from typing import Any

import orjson
import simplejson  # type: ignore[import-untyped]  # no stubs: types-simplejson is not in the lint extra
from pystorm.exceptions import StormWentAwayError
from pystorm.serializers.serializer import Serializer

FRAME_END = b"\nend\n"
CHUNK = 1 << 16


def _fileno(stream: Any) -> int | None:
    try:
        fd: int = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return fd


def _simplejson_dumps(msg: Any) -> bytes:
    text: str = simplejson.dumps(msg, namedtuple_as_object=False)
    return text.encode("utf-8")


Loads = Callable[[bytes], Any]
Dumps = Callable[[Any], bytes]
CODECS: dict[str, tuple[Loads, Dumps]] = {
    "orjson": (orjson.loads, orjson.dumps),
    "json": (simplejson.loads, _simplejson_dumps),
}


class FramedSerializer(Serializer):
    """Storm multilang messages over a binary pipe, decoded with a pluggable JSON codec."""

    def __init__(self, input_stream: Any, output_stream: Any, reader_lock: Any, writer_lock: Any) -> None:
        super().__init__(input_stream, output_stream, reader_lock, writer_lock)
        self._in = getattr(input_stream, "buffer", input_stream)
        self._out = getattr(output_stream, "buffer", output_stream)
        self._fd = _fileno(self._in)
        self._buf = bytearray()
        self.loads, self.dumps = CODECS["orjson"]

    def use_codec(self, name: str) -> None:
        """Switch the JSON codec ("orjson" or "json")."""
        self.loads, self.dumps = CODECS[name]

    def _read_chunk(self, block: bool) -> bytes:
        chunk: bytes
        if self._fd is not None:
            if not block and not select.select([self._fd], [], [], 0)[0]:
                return b""
            chunk = os.read(self._fd, CHUNK)
        else:
            chunk = self._in.read1(CHUNK) if hasattr(self._in, "read1") else self._in.read(CHUNK)
            if not block:
                return chunk
        if not chunk:
            raise StormWentAwayError()
        return chunk

    def input_waiting(self) -> bool:
        """Say whether another message (or part of one) has already arrived, without blocking."""
        with self._reader_lock:
            if not self._buf:
                self._buf += self._read_chunk(block=False)
            return bool(self._buf)

    def read_message(self) -> Any:
        with self._reader_lock:
            while (end := self._buf.find(FRAME_END)) < 0:
                self._buf += self._read_chunk(block=True)
            message = bytes(self._buf[:end])
            del self._buf[: end + len(FRAME_END)]
        return self.loads(message)

    def serialize_dict(self, msg_dict: dict[str, Any]) -> bytes:
        return self.dumps(msg_dict) + FRAME_END

    def send_message(self, msg_dict: dict[str, Any]) -> None:
        data = self.serialize_dict(msg_dict)
        with self._writer_lock:
            try:
                self._out.write(data)
                self._out.flush()
            except OSError as exc:
                raise StormWentAwayError() from exc


class FastMultilang:
    """Mixin for pystorm components: talk to Storm through FramedSerializer, codec from the topology config."""

    # set by the pystorm Component this is mixed into (pystorm is untyped)
    serializer: Any
    _reader_lock: Any
    _writer_lock: Any
    _pending_commands: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stock_serializer = self.serializer  # kept alive: its TextIOWrapper would close stdin when collected
        stock = self.serializer
        self.serializer = FramedSerializer(
            getattr(stock.input_stream, "buffer", stock.input_stream),
            getattr(stock.output_stream, "buffer", stock.output_stream),
            self._reader_lock,
            self._writer_lock,
        )
        # pystorm compares this with sys.stdout to redirect print() into Storm's log instead of the pipe
        self.serializer.output_stream = kwargs.get("output_stream", args[1] if len(args) > 1 else sys.stdout)

    def _setup_component(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:
        from bolts.settings import opt

        self.serializer.use_codec(opt(storm_conf, "loanrisk.multilang.codec"))
        super()._setup_component(storm_conf, context)  # type: ignore[misc]  # defined by the pystorm Component after this mixin in the MRO

    def input_waiting(self) -> bool:
        """Say whether Storm has already sent more input (commands pystorm queued count too)."""
        return bool(self._pending_commands) or self.serializer.input_waiting()
