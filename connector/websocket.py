"""One RTMS WebSocket, client side: the ``websockets`` library's connection with messages
handed over as they are parsed (docs/protocol.md §1.1).

``websockets`` opens the connection, answers pings, sends keep-alive pings, runs the closing
handshake and reports how the connection ended, exactly as
:func:`websockets.asyncio.client.connect` does. Only the way messages come out differs: instead
of being queued for a reader task to ``recv()`` them (one task switch per message: at 50 audio
frames a second on hundreds of streams, most of the connector's work), each complete message is
passed to a callback from the socket's ``data_received``, on the event loop, in order.

A text message that is not valid UTF-8 fails the connection with 1007, as ``recv()`` does.

Frames are cut out of the byte stream here once the connection is open (RFC 6455 §5.2). A whole
text or binary frame, unmasked, with no reserved bit and within ``max_size`` — every media frame
— becomes a message at once; any other frame (a ping, a pong, a close, a fragment, a frame the
protocol forbids) is handed to ``websockets`` on its own, which deals with it as it always does.
Once the connection is no longer open everything goes to ``websockets``. Parsing each frame
through ``websockets``' generators cost several times the rest of reading it.

Bytes are read into one buffer per thread (asyncio's buffered-protocol reads): asyncio's plain
reads allocate 256 KiB per ``recv()``, which for a 1 KB audio frame costs more than the rest of
its reading.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import State

__all__ = ["MessageHandler", "RtmsWebSocket"]

MessageHandler = Callable[[str | bytes], None]
"""Called with each message: ``str`` for a text frame, ``bytes`` for a binary one."""

_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT
_OPEN = State.OPEN
_WHOLE_TEXT, _WHOLE_BINARY = 0x81, 0x82  # first byte: FIN, no RSV bit, opcode 1 or 2
_MASKED = 0x80
_WHOLE_DATA = (_WHOLE_TEXT, _WHOLE_BINARY)
READ_SIZE = 256 * 1024  # bytes read at most at a time, as asyncio's transports read


class _ReadBuffer(threading.local):
    """The buffer sockets read into, one per thread: each read is handed on before the next."""

    def __init__(self) -> None:
        self.buffer = bytearray(READ_SIZE)
        self.view = memoryview(self.buffer)


_read = _ReadBuffer()


class RtmsWebSocket(ClientConnection, asyncio.BufferedProtocol):
    """A client connection whose messages go to :meth:`deliver_to`'s handler.

    Pass the class as ``create_connection`` to :func:`websockets.asyncio.client.connect`. Until
    a handler is set, messages are held (in order) and handed to it when it is. The handler
    runs inside ``data_received``: it must not block, and an exception it raises is the
    caller's bug (it would cost the connection): handlers catch their own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handler: MessageHandler | None = None
        self._held: list[str | bytes] = []
        self._fragments: list[bytes] = []
        self._fragmented_text = False
        self._refused = False  # a text message was not UTF-8: nothing more is handed over
        self._framing = False  # frames are cut out here (see the module doc)
        self._pending = bytearray()  # the start of a frame not received in full
        protocol = self.protocol
        # websockets 15+ splits max_size into message and fragment limits; 14 has max_size.
        limits = [getattr(protocol, name, None) for name in ("max_message_size", "max_fragment_size")]
        if not hasattr(protocol, "max_message_size"):
            limits = [getattr(protocol, "max_size", None)]
        self._max_frame = min((n for n in limits if isinstance(n, int)), default=None)

    def get_buffer(self, sizehint: int) -> bytearray:
        return _read.buffer

    def buffer_updated(self, nbytes: int) -> None:
        if not self._framing:
            self.data_received(_read.view[:nbytes])  # type: ignore[arg-type]  # any bytes-like
            return
        self._frames(_read.view[:nbytes])

    def deliver_to(self, handler: MessageHandler) -> None:
        """Hand every message, from now on and any held so far, to ``handler``.

        From here on frames are cut out of the byte stream by this class, if ``websockets``'
        parser stands between two frames (it holds no unparsed byte; a server that sent
        frames before being asked may leave it mid-frame: then it goes on parsing them)."""
        self._handler = handler
        held, self._held = self._held, []
        for message in held:
            handler(message)
        reader = getattr(self.protocol, "reader", None)
        between_frames = getattr(reader, "buffer", b"-") == b""
        if self.protocol.state is _OPEN and between_frames and not self._fragments:
            self._framing = True

    def _frames(self, data: memoryview) -> None:
        """Cut whole frames out of what is pending and ``data``, and handle each.

        The connection stays open while only whole data frames go by: its state is looked
        at again only after ``websockets`` handled a frame or a text frame was refused."""
        pending = self._pending
        chunk: bytes | bytearray
        if pending:
            pending += data
            chunk = pending
        else:
            chunk = bytes(data)  # one copy out of the shared read buffer
        end = len(chunk)
        at = 0
        limit = self._max_frame
        refused = False
        while end - at >= 2:
            first = chunk[at]
            second = chunk[at + 1]
            length = second & 0x7F
            head = 2
            if length == 126:
                if end - at < 4:
                    break
                length = (chunk[at + 2] << 8) | chunk[at + 3]
                head = 4
            elif length == 127:
                if end - at < 10:
                    break
                length = int.from_bytes(chunk[at + 2 : at + 10], "big")
                head = 10
            if limit is not None and length > limit:
                refused = True  # websockets refuses it (1009) from its header alone
                break
            if second & _MASKED:
                head += 4  # a server must not mask: websockets refuses the frame
            stop = at + head + length
            if stop > end:
                break
            if first in _WHOLE_DATA and second < _MASKED and not self._fragments:
                payload = chunk[at + head : stop]
                at = stop
                message: str | bytes
                if first == _WHOLE_TEXT:
                    try:
                        message = payload.decode()
                    except UnicodeDecodeError as exc:
                        self._refuse_text(exc)
                        refused = True
                        break
                else:
                    message = bytes(payload)
                if self._handler is None:
                    self._held.append(message)
                else:
                    self._handler(message)
                continue
            self.data_received(bytes(chunk[at:stop]))
            at = stop
            if self.protocol.state is not _OPEN:
                refused = True  # closing: websockets reads the rest (and discards it)
                break
        if refused:
            self._framing = False
            rest = bytes(chunk[at:end])
            self._pending = bytearray()
            if rest:
                self.data_received(rest)
        elif pending:
            del pending[:at]  # keep the start of an incomplete frame
        elif at < end:
            self._pending = bytearray(chunk[at:end])

    def send_now(self, text: str) -> bool:
        """Write ``text`` as one text frame, without waiting; False when the connection is no
        longer open (a send racing with a close is lost, as with ``send``)."""
        if self.protocol.state is not _OPEN:
            return False
        self.protocol.send_text(text.encode())
        self.send_data()
        return True

    def process_event(self, event: Any) -> None:
        if self.response is None:  # the handshake response
            super().process_event(event)
            return
        frame: Frame = event
        opcode = frame.opcode
        data = frame.data
        if type(data) is not bytes:  # the parser gives bytes; the type allows any buffer
            data = bytes(data)
        if opcode is _TEXT or opcode is _BINARY:
            if frame.fin:
                self._message(data, opcode is _TEXT)
                return
            self._fragments = [data]
            self._fragmented_text = opcode is _TEXT
        elif opcode is _CONT:
            # The protocol only lets a continuation follow a first fragment, and bounds the
            # message's size by max_size.
            self._fragments.append(data)
            if frame.fin:
                data, self._fragments = b"".join(self._fragments), []
                self._message(data, self._fragmented_text)
        else:  # control frames: pongs acknowledge keep-alive pings
            super().process_event(event)

    def _message(self, data: bytes, text: bool) -> None:
        if self._refused:  # as recv() raises from then on
            return
        message: str | bytes
        if text:
            try:
                message = data.decode()
            except UnicodeDecodeError as exc:
                self._refuse_text(exc)
                return
        else:
            message = data
        if self._handler is None:
            self._held.append(message)
        else:
            self._handler(message)

    def _refuse_text(self, exc: UnicodeDecodeError) -> None:
        """A text message that is not UTF-8: fail the connection with 1007, as ``recv()``
        does; no later message is handed over (``recv()`` raises from then on)."""
        self._refused = True
        self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}", exc)

    def _fail(self, code: CloseCode, reason: str, exc: BaseException) -> None:
        """Fail the connection as ``recv()`` would; the close timeout bounds the wait for
        the server's side of the close."""
        if self.protocol.state is not _OPEN:
            return
        self.set_connection_exc(exc)
        self.protocol.fail(code, reason)
        self.send_data()
        if self.close_timeout is not None:
            transport = self.transport
            self.loop.call_later(self.close_timeout, transport.abort)
