"""A local webhook receiver for tests and the benchmark: a werkzeug server in a daemon
thread that records each POST (headers and body) and answers with the status it is told."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Receiver:
    url: str = ""
    status: int = 204
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition | None = None

    def wsgi(self, environ, start_response):  # noqa: ANN001, ANN201
        request = Request(environ)
        body = request.get_data()
        with self.lock:
            self.received.append(({k.lower(): v for k, v in request.headers.items()}, body))
            status = self.status
        if self.arrived is not None:
            with self.arrived:
                self.arrived.notify_all()
        return Response("" if status == 204 else "ok", status=status)(environ, start_response)

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        """Until ``count`` messages arrived (or ``timeout`` passed); whether they did."""
        assert self.arrived is not None
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)


@contextmanager
def running_receiver(status: int = 204, path: str = "/hook") -> Iterator[Receiver]:
    receiver = Receiver(status=status, arrived=threading.Condition())
    server = make_server("127.0.0.1", 0, receiver.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}{path}"
    try:
        yield receiver
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
