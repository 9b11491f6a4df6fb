"""The connector with an experimental media read path, for bench/connector_vs_sdk.py.

    python bench/connector_probe.py MODE [python -m connector options]

MODE ``inline-reads``: the event loop's selector reads the media sockets itself. After each
``epoll`` wake-up, every socket that is only readable and whose transport is a plain
(``ws://``) asyncio socket transport feeding a connector WebSocket that cuts its own frames
(connector/websocket.py) is read right there, ``recv_into`` the shared buffer and on to the
WebSocket's ``buffer_updated``, in one loop; everything else (signaling before its handshake
ends, writes, errors, the end of a stream, TLS sockets) is handed to asyncio as usual. This is
the "one media reader per wake-up" that docs/performance.md names as the connector's next
step, built as an experiment to measure it: per ready socket it skips asyncio's selector key
lookup, its ready queue, the callback handle and the transport's read dispatch. Frames reach
the sinks in the order each socket delivers them; a socket's callbacks and timers queued in
the same wake-up run after its reads.
"""

from __future__ import annotations

import math
import select
import selectors
import sys
from asyncio import selector_events
from typing import Any

from connector import cli
from connector.websocket import RtmsWebSocket

MODE = sys.argv[1]
_EVENT_READ, _EVENT_WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
_EPOLLIN, _EPOLLOUT = select.EPOLLIN, select.EPOLLOUT
_Transport = selector_events._SelectorSocketTransport


class _Ready(list):  # type: ignore[type-arg]
    """What the selector hands asyncio, counting the sockets it read itself in its length:
    connector/loop.py's PacedSelector judges how busy the loop is by how many were ready."""

    inlined = 0

    def __len__(self) -> int:
        return list.__len__(self) + self.inlined


def _inline_select(self: Any, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
    """selectors.EpollSelector.select, reading plain media sockets on the spot."""
    if timeout is None:
        timeout = -1
    elif timeout <= 0:
        timeout = 0
    else:
        timeout = math.ceil(timeout * 1e3) * 1e-3
    fd_to_key = self._fd_to_key
    max_ev = max(len(fd_to_key), 1)
    ready = _Ready()
    try:
        fd_event_list = self._selector.poll(timeout, max_ev)
    except InterruptedError:
        return ready
    for fd, event in fd_event_list:
        key = fd_to_key.get(fd)
        if key is None:
            continue
        if event == _EPOLLIN:
            reader = key.data[0]
            transport = getattr(reader, "_callback", None)
            transport = getattr(transport, "__self__", None)
            if (
                type(transport) is _Transport
                and not reader._cancelled
                and transport._read_ready_cb == transport._read_ready__get_buffer
                and not transport._closing
            ):
                protocol = transport._protocol
                if isinstance(protocol, RtmsWebSocket) and protocol._framing:
                    try:
                        buffer = protocol.get_buffer(-1)
                        nbytes = transport._sock.recv_into(buffer)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except (SystemExit, KeyboardInterrupt):
                        raise
                    except BaseException as exc:
                        transport._fatal_error(exc, "Fatal read error on socket transport")
                        continue
                    if nbytes:
                        ready.inlined += 1
                        try:
                            protocol.buffer_updated(nbytes)
                        except (SystemExit, KeyboardInterrupt):
                            raise
                        except BaseException as exc:
                            transport._fatal_error(exc, "Fatal error: protocol.buffer_updated() call failed.")
                        continue
                    # nbytes == 0: the end of the stream, which asyncio's own read handles
        events = 0
        if event & ~_EPOLLIN:
            events |= _EVENT_WRITE
        if event & ~_EPOLLOUT:
            events |= _EVENT_READ
        ready.append((key, events & key.events))
    return ready


if MODE != "inline-reads":
    sys.exit(f"connector_probe: unknown mode {MODE!r} (inline-reads)")
selectors.EpollSelector.select = _inline_select  # type: ignore[method-assign,assignment]
sys.exit(cli.main(sys.argv[2:]))
