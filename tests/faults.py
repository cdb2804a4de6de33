"""A loopback server that misbehaves on purpose, for the fault-matrix tests.

pytest-httpserver answers well-formed HTTP; this one can also reset the connection, promise
more bytes than it sends, loop redirects, or stall. Paths under a faulty prefix get the fault;
everything else is served from a dict of documents.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = (
    "500", "429", "timeout", "reset", "malformed", "truncated", "oversize", "wrong_type",
    "redirect_loop", "non_utf8",
    "drip", "slow_headers", "gzip_bomb", "nested", "surrogates", "bad_idna", "huge_retry_after",
)
DRIP_EVERY = 0.4  # seconds between two bytes of a dripping answer: each read is quick, the whole never ends


def gzipped(chunks, level: int = 6) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(packer.compress(chunk) for chunk in chunks) + packer.flush()


@functools.lru_cache(maxsize=1)
def gzip_bomb(size: int = 1 << 30) -> bytes:
    """gzip(gzip(`size` zero bytes)): about two kilobytes on the wire, a gigabyte once decoded."""
    block = bytes(1 << 20)
    return gzipped([gzipped((block for _ in range(size // len(block))), 1)], 9)


def nested_markup(depth: int = 200_000) -> str:
    return "<div>" * depth + "deep text" + "</div>" * depth


def hostile_document(fault: str, path: str) -> tuple[str, bytes]:
    """A document of the type the path asks for (HF's JSON for /api/, RSS otherwise) carrying
    the fault: deeply nested markup, a lone surrogate, or a link whose host cannot be encoded."""
    title = {"surrogates": "lone \\udcff surrogate", "bad_idna": "bad host"}.get(fault, "nested")
    link = "https://\u00fc..example/" if fault == "bad_idna" else "https://example.org/post/1"
    body = nested_markup() if fault == "nested" else "text"
    if "/api/" in path:
        entry = {"paper": {"id": "2611.00001", "title": title, "summary": body, "upvotes": 3,
                           "projectPage": link, "submittedOnDailyAt": "2026-11-20T00:00:00.000Z"}}
        data = json.dumps([entry])
        if fault == "surrogates":
            data = data.replace("\\\\udcff", "\\udcff")  # JSON's escape of a lone surrogate
        return "application/json", data.encode()
    doc = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
           f'<link>https://example.org/</link><item><title>{title}</title><link>{link}</link>'
           f'<guid>https://x.com/karpathy/status/1861</guid><pubDate>Fri, 20 Nov 2026 03:00:00 GMT</pubDate>'
           f'<description><![CDATA[{body}]]></description></item></channel></rss>')
    raw = doc.encode("utf-8", "surrogatepass")
    if fault == "surrogates":
        raw = raw.replace(b"\\udcff", "\udcff".encode("utf-8", "surrogatepass"))
    return "application/rss+xml", raw


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
        if fault == "gzip_bomb":
            gzip_bomb()  # built before the server answers, not while a client waits
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
        elif fault in ("drip", "slow_headers"):
            self.drip(handler, path, headers_too=fault == "slow_headers")
        elif fault == "gzip_bomb":
            handler.reply(200, self.guess_type(path), gzip_bomb(), {"Content-Encoding": "gzip, gzip"})
        elif fault in ("nested", "surrogates", "bad_idna"):
            handler.reply(200, *hostile_document(fault, path))
        elif fault == "huge_retry_after":
            handler.reply(429, "text/plain", b"slow down", {"Retry-After": "99999999999999999999999"})
        elif fault == "non_utf8":
            handler.reply(200, self.guess_type(path) + "; charset=utf-8",
                          "<rss><channel><title>Caf\xe9 \u00fc</title></channel></rss>".encode("latin-1")
                          + b"\xff\xfe\x80")
        else:
            raise ValueError(fault)

    def drip(self, handler, path: str, headers_too: bool) -> None:
        """A well-formed answer sent a byte at a time, every DRIP_EVERY seconds, until the client
        hangs up (or the server closes): no single read ever times out."""
        body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>' * 100
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: {self.guess_type(path)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        if not headers_too:
            handler.wfile.write(head)
            head = b""
        try:
            for byte in head + body:
                if self.release.wait(DRIP_EVERY):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        except OSError:
            pass
        handler.close_connection = True

    @staticmethod
    def guess_type(path: str) -> str:
        return "application/json" if "/api/" in path else "application/rss+xml"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
