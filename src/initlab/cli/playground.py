"""`initlab playground`: the live web app of `initlab.playground` on a local uvicorn server."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import sys
from typing import Annotated

import typer

from initlab.cli.flags import names_flags
from initlab.cli.output import err


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) and listening, so a port in use is one clear line before the
    server starts (and a browser opened at once waits in the backlog instead of failing)."""
    from initlab._errors import ArgumentError
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise ArgumentError("host", f"cannot resolve {host!r}: {error}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ArgumentError("port", f"in use on {host}; choose another with --port, got {port}") from None
        raise ArgumentError("host", f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(128)
    return sock


def _is_loopback(host: str, sock: socket.socket) -> bool:
    try:
        return ipaddress.ip_address(sock.getsockname()[0]).is_loopback
    except ValueError:
        return host == "localhost"


def _url(host: str, sock: socket.socket) -> str:
    address, port = sock.getsockname()[:2]
    shown = "127.0.0.1" if address in ("0.0.0.0", "::") else address  # a wildcard is not an address to open
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def _server_class():
    import asyncio

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, whose first Ctrl+C or SIGTERM also stops all training at once: uvicorn waits
        for open requests to end before it stops, and a REST step could run for a while."""

        def __init__(self, config, sessions):
            super().__init__(config)
            self.sessions = sessions

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            with contextlib.suppress(RuntimeError):  # no loop running yet: nothing trains
                asyncio.get_running_loop().call_soon_threadsafe(self.sessions.stop)
    return Server


@names_flags()
def playground(host: Annotated[str, typer.Option(help="Address to listen on (only this machine by default).")]
               = "127.0.0.1",
               port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8765,
               no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False) -> None:
    """Start the playground: a local web page that trains networks live from the schemes you pick
    (cost, decision boundary, per-layer histograms next to theory, 2-4 schemes side by side).

    Serves the page and its JSON API (README, "Playground"; docs/playground.md) until Ctrl+C.
    """
    from initlab._errors import ArgumentError
    if not 0 <= port <= 65535:
        raise ArgumentError("port", f"expected a port from 0 to 65535, got {port}")
    sock = _listening_socket(host, port)
    import uvicorn  # the server and app only now: `initlab --help` stays light

    from initlab.playground.app import create_app
    from initlab.playground.guard import LOOPBACK
    from initlab.playground.live import warm_up
    from threadpoolctl import threadpool_limits
    threadpool_limits(1, user_api="blas")  # small matrices: 2 BLAS threads next to the training kernel's are 3x slower
    warm_up()  # before the address is printed: the page's first session is then quick
    url = _url(host, sock)
    loopback = _is_loopback(host, sock)
    if not loopback:
        err.print(f"warning: listening on {host}: anyone who can reach this machine can use the playground "
                  "(and its CPU); the default --host 127.0.0.1 keeps it local", soft_wrap=True)
    print(f"initlab playground: {url} (Ctrl+C stops it)", flush=True)
    if not no_browser:
        import webbrowser
        webbrowser.open(url)
    app = create_app(hosts=LOOPBACK if loopback else None)
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="websockets-sansio",
                            timeout_graceful_shutdown=5)  # after 5 s uvicorn cancels what is left
    server = _server_class()(config, app.state.sessions)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    sys.stdout.flush()
