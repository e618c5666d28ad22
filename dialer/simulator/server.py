"""Run helpers: serve the simulator in a daemon thread (tests, `dialer demo`) or in front."""

from __future__ import annotations

import gc
import socket
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from dialer.simulator.app import create_app
from dialer.simulator.config import SimulatorConfig
from dialer.simulator.store import SimState

STARTUP_TIMEOUT = 10.0


def _server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


class RunningSimulator:
    """A simulator served in a daemon thread; use as a context manager or call `stop()`."""

    def __init__(self, app: FastAPI, server: uvicorn.Server, thread: threading.Thread) -> None:
        self.app = app
        self._server = server
        self._thread = thread
        sock = server.servers[0].sockets[0].getsockname()
        self.host, self.port = str(sock[0]), int(sock[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SimState:
        """The live state (calls, create log, faults), for in-process inspection."""
        sim: SimState = self.app.state.sim
        return sim

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Serve a new simulator on `host:port` (0 picks a free port) and return once it is up."""
    app = create_app(config)
    server = _server(app, host, port)
    thread = threading.Thread(target=server.run, name="oneinbox-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"simulator failed to start on {host}:{port}")
        time.sleep(0.01)
    return RunningSimulator(app, server, thread)


def serve(
    config: SimulatorConfig,
    host: str = "127.0.0.1",
    port: int = 8700,
    sock: socket.socket | None = None,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C), on `sock` when it is given (bound
    already, so the caller can say where it serves only once that is sure).

    What was built to start (modules, the app) lives as long as the process: it is moved out
    of the garbage collector's sight, so that a full collection, which would otherwise walk all
    of it, no longer stalls every request for tens of milliseconds.
    """
    server = _server(create_app(config), host, port)
    gc.freeze()
    server.run(sockets=[sock] if sock is not None else None)
