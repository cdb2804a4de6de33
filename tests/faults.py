"""A loopback server that misbehaves on purpose, for the fault-matrix tests.

pytest-httpserver answers well-formed HTTP; this one can also reset the connection, promise
more bytes than it sends, loop redirects, or stall. Paths under a faulty prefix get the fault;
everything else is served from a dict of documents.
"""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = (
    "500", "429", "timeout", "reset", "malformed", "truncated", "oversize", "wrong_type",
    "redirect_loop", "non_utf8",
)


class FaultServer:
    def __init__(self, documents: dict[str, tuple[str, bytes]], fault: str, faulty_prefix: str,
                 stall: float = 2.0, oversize: int = 200_000):
        self.documents = documents
        self.fault = fault
        self.prefix = faulty_prefix
        self.stall = stall
        self.oversize = oversize
        self.release = threading.Event()
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                path = urlsplit(self.path).path
                server.hits.append(self.path)
                if path.startswith(server.prefix):
                    return server.misbehave(self, path)
                found = server.documents.get(path)
                if found is None:
                    return self.reply(404, "text/plain", b"not found")
                self.reply(200, *found)

            def reply(self, status: int, content_type: str, body: bytes, headers: dict | None = None,
                      length: int | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client hanging up is the point
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def misbehave(self, handler, path: str) -> None:
        fault = self.fault
        if fault == "500":
            handler.reply(500, "text/plain", b"internal error")
        elif fault == "429":
            handler.reply(429, "text/plain", b"slow down", {"Retry-After": "120"})
        elif fault == "timeout":
            self.release.wait(self.stall)
            handler.reply(200, "text/plain", b"too late")
        elif fault == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
        elif fault == "malformed":
            handler.reply(200, self.guess_type(path), b"\x00\x01{<<not [what] it claims}}>\xff")
        elif fault == "truncated":
            body = b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>cut'
            handler.reply(200, self.guess_type(path), body, length=len(body) + 5000)
            handler.close_connection = True
        elif fault == "oversize":
            handler.reply(200, self.guess_type(path), b" " * self.oversize)
        elif fault == "wrong_type":
            handler.reply(200, "text/html", b"<!doctype html><html><body><h1>Just a moment...</h1>"
                                            b"<p>Checking your browser</p></body></html>")
        elif fault == "redirect_loop":
            handler.reply(302, "text/plain", b"", {"Location": path})
        elif fault == "non_utf8":
            handler.reply(200, self.guess_type(path) + "; charset=utf-8",
                          "<rss><channel><title>Caf\xe9 \u00fc</title></channel></rss>".encode("latin-1")
                          + b"\xff\xfe\x80")
        else:
            raise ValueError(fault)

    @staticmethod
    def guess_type(path: str) -> str:
        return "application/json" if "/api/" in path else "application/rss+xml"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
