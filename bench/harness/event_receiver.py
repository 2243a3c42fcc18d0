"""The webhook receiver of the events benchmark: a minimal HTTP/1.1 keep-alive server on asyncio
(standard library only), run as its own process so that it has a core's worth of Python to
itself and does not share a GIL with the harness.

Every POST is an event-trigger call: the receiver notes the wall-clock time it finished reading
the body (`time.time()`, the same clock PostgreSQL's `clock_timestamp()` reads), the event `id`,
and the row's `id` and `t_insert` from `event.data.new`, then answers `200` with an empty body.
Control requests from the harness: `GET /count` (calls so far), `GET /dump` (all calls as JSON
`[[recv, event_id, row_id, t_insert], ...]`), `POST /reset` (forget them).

Usage: `python3 event_receiver.py PORT` (listens on 127.0.0.1, prints `ready` once listening).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

CALLS: list[tuple[float, str, int | None, float | None]] = []
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def json_response(value) -> bytes:
    body = json.dumps(value).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body)


def record(body: bytes, received: float) -> None:
    try:
        payload = json.loads(body)
        new = payload["event"]["data"]["new"] or {}
        CALLS.append((received, payload.get("id", ""), new.get("id"), new.get("t_insert")))
    except (ValueError, KeyError, TypeError):
        CALLS.append((received, "", None, None))


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.split(b"\r\n")
            method, path = lines[0].split(b" ")[:2]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            if method == b"POST" and path != b"/reset":
                record(body, time.time())
                writer.write(OK)
            elif path == b"/count":
                writer.write(json_response(len(CALLS)))
            elif path == b"/dump":
                writer.write(json_response(CALLS))
            elif path == b"/reset":
                CALLS.clear()
                writer.write(json_response(0))
            else:
                writer.write(OK)
            await writer.drain()
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
