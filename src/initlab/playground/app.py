"""The playground's ASGI app (Starlette): the page, the JSON API and the live WebSocket.

Routes and messages are those of docs/playground.md ("JSON API"). Every request body is validated
with pydantic before it reaches a session; a refused request gets a 4xx with one line
``{"error": "argument: rule, got value", "argument": "field"}`` and changes nothing. The API reads
no files (only the page's own package files are served) and runs no user code: a scheme is a spec
string parsed by initlab's own parser.

>>> from starlette.testclient import TestClient
>>> with TestClient(create_app()) as client:
...     client.get("/api/limits").json()["max_seeds"]
16
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from initlab._errors import ArgumentError
from initlab.playground.guard import SameOrigin
from initlab.playground.limits import limits
from initlab.playground.live import IDLE_SECONDS, MAX_SESSIONS, LiveSession, Missing, Sessions, TooMany
from initlab.playground.session import MAX_STEP, check_rest_step
from initlab.playground.settings import Settings, as_argument_error, shortened, shown

STATIC = files("initlab.playground") / "static"
MAX_BODY = 64 * 1024  # bytes: a settings body is a few hundred
PLACEHOLDER = "<!doctype html><title>initlab playground</title><p>initlab playground: the page is not built yet; " \
              "the JSON API is at /api (see docs/playground.md).</p>"
REAP_SECONDS = 30  # how often idle sessions are looked for


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoBody(Strict):
    """The body of play, pause and reset: empty or {} (anything else is refused, not ignored)."""


class StepBody(Strict):
    iterations: int = Field(1, ge=1, le=MAX_STEP)


class SettingsMessage(Strict):
    type: Literal["settings"]
    settings: dict


class StepMessage(StepBody):
    type: Literal["step"]


class Command(Strict):
    type: Literal["play", "pause", "reset"]


MESSAGES = {"settings": SettingsMessage, "play": Command, "pause": Command, "step": StepMessage, "reset": Command}


class TooLarge(ArgumentError):
    """A body over `MAX_BODY` (HTTP 413)."""


def error_body(error: ArgumentError) -> dict:
    """The JSON of a refusal; values quoted in it are cut to `ECHO_CHARS` (an id or a path is echoed too)."""
    return {"error": shortened(str(error)), "argument": error.argument}


def internal(error: Exception) -> ArgumentError:
    return ArgumentError("server", f"internal error, please report it: {type(error).__name__}: {error}")


def refusal(error: ArgumentError) -> JSONResponse:
    status = 404 if isinstance(error, Missing) else 429 if isinstance(error, TooMany) else \
        413 if isinstance(error, TooLarge) else 422
    return JSONResponse(error_body(error), status_code=status)


def validated(model: type[BaseModel], document, name: str = "body") -> BaseModel:
    """`model` validated from a JSON value; a refusal as a one-line `ArgumentError` naming the field
    (`name` when the document is not a JSON object at all)."""
    if not isinstance(document, dict):
        raise ArgumentError(name, f"expected a JSON object, got {shown(document)}")
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise as_argument_error(error) from None


def message(document) -> BaseModel:
    """A WebSocket message validated by the model of its "type"."""
    kind = document.get("type") if isinstance(document, dict) else None
    if isinstance(document, dict) and kind not in MESSAGES:
        raise ArgumentError("type", f"expected one of {', '.join(MESSAGES)}, got {shown(kind)}")
    return validated(MESSAGES.get(kind, Command), document, "message")


def parse_json(text: bytes | str, *, empty: object = None):
    if len(text) > MAX_BODY:
        raise TooLarge("body", f"expected at most {MAX_BODY} bytes, got {len(text)}")
    if not text.strip():
        return empty
    try:
        return json.loads(text)
    except RecursionError:
        raise ArgumentError("body", "expected a JSON document, got one nested too deeply") from None
    except ValueError as error:
        raise ArgumentError("body", f"expected a JSON document, got {str(error).splitlines()[0]}") from None


async def body(request: Request, *, empty: object = None):
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge("body", f"expected at most {MAX_BODY} bytes, got {declared}")
    return parse_json(await request.body(), empty=empty)


def settings_changes(document) -> dict:
    """The settings fields of a body: the object itself, or its "settings" member."""
    if isinstance(document, dict) and set(document) == {"settings"} and isinstance(document["settings"], dict):
        document = document["settings"]
    if not isinstance(document, dict):
        raise ArgumentError("settings", f"expected a JSON object of settings, got {shown(document)}")
    return document


def create_app(max_sessions: int = MAX_SESSIONS, idle_seconds: float = IDLE_SECONDS,
               hosts: tuple[str, ...] | None = None) -> Starlette:
    """The app; `max_sessions` open at once, a session without a WebSocket deleted `idle_seconds` after
    its last request; requests from other sites refused and, with `hosts`, any Host header but these
    (`initlab.playground.guard`)."""
    sessions = Sessions(max_sessions, idle_seconds)

    def api(handler):
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ArgumentError as error:
                return refusal(error)
            except Exception as error:  # a bug: still one line of JSON, and the server goes on
                return JSONResponse(error_body(internal(error)), status_code=500)
        return endpoint

    def live_of(request: Request) -> LiveSession:
        return sessions.get(request.path_params["id"])

    async def page(request: Request) -> Response:
        index = STATIC / "index.html"
        return HTMLResponse(index.read_text(encoding="utf-8") if index.is_file() else PLACEHOLDER)

    async def get_limits(request: Request) -> Response:
        return JSONResponse(limits())

    async def create(request: Request) -> Response:
        settings = Settings.create(**settings_changes(await body(request, empty={})))
        live = await sessions.create(settings)
        state, points = await live.state(), await live.points()
        return JSONResponse({"id": live.id, "state": state, "points": points}, status_code=201)

    async def state(request: Request) -> Response:
        return JSONResponse(await live_of(request).state())

    async def points(request: Request) -> Response:
        return JSONResponse(await live_of(request).points())

    async def update(request: Request) -> Response:
        live = live_of(request)
        return JSONResponse(await live.update(settings_changes(await body(request, empty={}))))

    async def step(request: Request) -> Response:
        live = live_of(request)
        request_body = validated(StepBody, await body(request, empty={}))
        check_rest_step(live.session.settings, request_body.iterations)
        task = live.start_step(request_body.iterations)
        gone = asyncio.create_task(_disconnected(request))
        try:
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:  # the client gave up (or the server is stopping): the step stops after its chunk
            gone.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        return JSONResponse(task.result()) if not task.cancelled() else Response(status_code=499)

    def command(name: str):
        async def run(request: Request) -> Response:
            live = live_of(request)
            validated(NoBody, await body(request, empty={}))  # nothing expected: {"foo": 1} is refused
            return JSONResponse(await getattr(live, name)())
        return run

    async def delete(request: Request) -> Response:
        live_of(request)  # 404 for an unknown id
        await sessions.delete(request.path_params["id"])
        return Response(status_code=204)

    async def websocket(socket: WebSocket) -> None:
        await socket.accept()
        try:
            live = sessions.get(socket.path_params["id"])
        except Missing as error:
            await socket.send_json({"type": "error", **error_body(error)})
            await socket.close(code=4404)
            return
        queue: asyncio.Queue = asyncio.Queue()
        live.listeners.add(queue.put_nowait)
        sender = asyncio.create_task(_send(socket, queue))
        try:
            queue.put_nowait({"type": "points", **await live.points()})
            queue.put_nowait({"type": "state", **await live.state()})
            while True:
                received = await socket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                try:  # a text or binary frame holding one JSON message
                    await _dispatch(live, message(parse_json(received.get("text") or received.get("bytes") or "")))
                except ArgumentError as error:
                    queue.put_nowait({"type": "error", **error_body(error)})
                except Exception as error:  # a bug must not end the session (nor the server): say it and go on
                    queue.put_nowait({"type": "error", **error_body(internal(error))})
        except WebSocketDisconnect:
            pass
        finally:  # a closed tab stops its training: the session goes with its socket
            live.listeners.discard(queue.put_nowait)
            sender.cancel()
            await sessions.delete(live.id)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def reap():
            while True:
                await asyncio.sleep(min(REAP_SECONDS, idle_seconds))
                await sessions.delete_idle()
        reaper = asyncio.create_task(reap())
        try:
            yield
        finally:
            reaper.cancel()
            await sessions.close()

    async def not_found(request: Request, error: HTTPException) -> Response:
        return JSONResponse({"error": f"path: {error.detail.lower()}: {request.method} {shown(request.url.path)}",
                             "argument": "path"}, status_code=error.status_code)

    session_path = "/api/sessions/{id}"
    routes = [
        Route("/", page),
        Route("/api/limits", api(get_limits)),
        Route("/api/sessions", api(create), methods=["POST"]),
        Route(session_path, api(delete), methods=["DELETE"]),
        Route(f"{session_path}/state", api(state)),
        Route(f"{session_path}/points", api(points)),
        Route(f"{session_path}/settings", api(update), methods=["POST"]),
        Route(f"{session_path}/step", api(step), methods=["POST"]),
        *[Route(f"{session_path}/{name}", api(command(name)), methods=["POST"]) for name in ("play", "pause", "reset")],
        WebSocketRoute(f"{session_path}/live", websocket),
        Mount("/static", StaticFiles(directory=str(STATIC), check_dir=False), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: not_found},
                    middleware=[Middleware(SameOrigin, hosts=hosts)])
    app.state.sessions = sessions
    return app


async def _disconnected(request: Request) -> None:
    """Returns when the HTTP client has gone (its connection closed while the answer was being computed)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _dispatch(live: LiveSession, message) -> None:
    """Apply one WebSocket message. A step only starts here (it runs as a task): the receive loop must
    go on reading, so that a pause, a reset or a change can stop it and the keepalive pings are answered."""
    if isinstance(message, SettingsMessage):
        await live.update(settings_changes(message.settings))
    elif isinstance(message, StepMessage):
        live.start_step(message.iterations)
    else:
        await getattr(live, message.type)()


async def _send(socket: WebSocket, queue: asyncio.Queue) -> None:
    """Send the queued messages in order, except that of several states waiting only the newest goes
    (a slow browser sees fewer updates, never old ones)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            waiting = [await queue.get()]
            while not queue.empty():
                waiting.append(queue.get_nowait())
            newest = max((i for i, m in enumerate(waiting) if m["type"] == "state"), default=None)
            for i, message in enumerate(waiting):
                if message["type"] != "state" or i == newest:
                    await socket.send_text(json.dumps(message))
