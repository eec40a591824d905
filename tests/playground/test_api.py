"""The playground's HTTP and WebSocket API (Starlette's TestClient, the app in this process): the numbers
of `initlab compare`, refusals as 4xx naming the field, limits, isolation, pause, clean-up."""

import math
import time

import pytest
from starlette.testclient import TestClient

from initlab.experiments import resolve, run_compare
from initlab.playground.app import MAX_BODY, create_app

LN2 = math.log(2)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as client:
        yield client


def create(client, **settings) -> str:
    response = client.post("/api/sessions", json=settings)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def gone(client, session: str, seconds: float = 10.0) -> bool:
    """Whether the session is deleted within `seconds` (the server cleans up asynchronously; looked up
    without a request, which would count as use), and then unknown to the API."""
    deadline = time.monotonic() + seconds
    while session in client.app.state.sessions.by_id:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return client.get(f"/api/sessions/{session}/state").status_code == 404


def until(socket, accept, limit: int = 500) -> dict:
    """The first message from `socket` that `accept` takes (at most `limit` messages read)."""
    for _ in range(limit):
        message = socket.receive_json()
        if accept(message):
            return message
    raise AssertionError("no such message")


def test_limits_list_every_scheme_with_sliders_and_the_defaults(client):
    limits = client.get("/api/limits").json()
    assert (limits["max_layers"], limits["max_width"], limits["max_samples"], limits["max_seeds"],
            limits["max_schemes"]) == (8, 256, 2000, 16, 4)
    normal = next(s for s in limits["schemes"] if s["name"] == "normal")
    assert normal["spec"] == "normal" and normal["parameters"][0] == {"name": "std", "default": 1.0, "min": 0.001,
                                                                     "max": 100.0, "log": True}
    assert limits["defaults"]["init"] == "he_normal" and "circles" in limits["datasets"]


def test_rest_steps_give_the_numbers_of_initlab_compare(client):
    settings = {"compare": ["xavier_normal"], "n_seeds": 2, "seed": 1, "lr": 0.1}
    created = client.post("/api/sessions", json=settings).json()
    assert created["state"]["iteration"] == 0 and len(created["points"]["train"]["y"]) == 300
    session = created["id"]
    client.post(f"/api/sessions/{session}/step", json={"iterations": 30})
    state = client.post(f"/api/sessions/{session}/step", json={"iterations": 20}).json()
    result = run_compare(resolve(None, inits=("he_normal", "xavier_normal"), seeds=2, first_seed=1, lr=0.1,
                                 iterations=50))
    assert state["iteration"] == 50 and state["playing"] is False
    for scheme in state["schemes"]:
        assert scheme["train_cost"] == [r.result.final_cost for r in result.runs if r.init == scheme["init"]]
    assert client.get(f"/api/sessions/{session}/state").json()["schemes"] == state["schemes"]
    assert client.delete(f"/api/sessions/{session}").status_code == 204
    assert client.get(f"/api/sessions/{session}/state").status_code == 404


@pytest.mark.parametrize("path, body, status, argument, words", [
    ("/api/sessions", {"init": "normal(std=-1)"}, 422, "init", "std: expected a positive number, got -1"),
    ("/api/sessions", {"n_seeds": 17}, 422, "n_seeds", "at most 16, got 17"),
    ("/api/sessions", {"hidden": [10] * 9}, 422, "hidden", "at most 8 hidden layers"),
    ("/api/sessions", {"hidden": [257]}, 422, "hidden", "widths from 1 to 256"),
    ("/api/sessions", {"n_samples": 2001}, 422, "n_samples", "at most 2000, got 2001"),
    ("/api/sessions", {"compare": ["zeros", "ones", "lecun_normal", "xavier_normal"]}, 422, "compare",
     "at most 3 further schemes (4 in all)"),
    ("/api/sessions", {"hidden": [256] * 8, "n_samples": 2000, "n_seeds": 16}, 422, "work",
     "multiply-adds per iteration"),
    ("/api/sessions", {"lr": "fast"}, 422, "lr", "valid number"),
    ("/api/sessions", {"colour": "red"}, 422, "colour", "not permitted"),
    ("/api/sessions", [1, 2], 422, "settings", "expected a JSON object of settings"),
    ("/api/sessions/{id}/settings", {"dataset": "digits"}, 422, "dataset", "'digits'"),
    ("/api/sessions/{id}/settings", {"speed": 0}, 422, "speed", "at least 1, got 0"),
    ("/api/sessions/{id}/step", {"iterations": 0}, 422, "iterations", "at least 1, got 0"),
    ("/api/sessions/{id}/step", {"iterations": 100_001}, 422, "iterations", "at most 100000"),
    ("/api/sessions/{id}/step", {"iterations": 2.5}, 422, "iterations", "valid integer"),
    ("/api/sessions/{id}/step", {"steps": 2}, 422, "steps", "not permitted"),
    ("/api/sessions/{id}/step", "{not json", 422, "body", "expected a JSON document"),
    ("/api/sessions/{id}/step", " " * (MAX_BODY + 1), 413, "body", f"at most {MAX_BODY} bytes"),
    ("/api/sessions/{id}/step", "[" * 20_000 + "]" * 20_000, 422, "body", "nested too deeply"),
    ("/api/sessions/nosuchid/step", {"iterations": 1}, 404, "id", "no session 'nosuchid'"),
    ("/api/nothing/here", {}, 404, "path", "not found"),
])
def test_bad_requests_get_a_4xx_naming_the_field_and_change_nothing(client, path, body, status, argument, words):
    session = create(client, n_seeds=1)
    before = client.get(f"/api/sessions/{session}/state").json()
    options = {"content": body} if isinstance(body, str) else {"json": body}
    response = client.post(path.replace("{id}", session), **options)
    assert response.status_code == status
    answer = response.json()
    assert set(answer) == {"error", "argument"} and answer["argument"] == argument
    assert answer["error"].startswith(f"{argument}: ") and words in answer["error"] and "\n" not in answer["error"]
    assert client.get(f"/api/sessions/{session}/state").json() == before
    client.delete(f"/api/sessions/{session}")


def test_zeros_stay_at_exactly_ln2_while_playing_and_pause_stops_at_once(client):
    session = create(client, init="zeros", speed=20)
    with client.websocket_connect(f"/api/sessions/{session}/live") as socket:
        assert socket.receive_json()["type"] == "points"
        assert socket.receive_json()["iteration"] == 0
        socket.send_json({"type": "play"})
        states = [until(socket, lambda m: m["type"] == "state" and m["iteration"] > 0) for _ in range(5)]
        assert all(s["mean_cost"] == LN2 and s["schemes"][0]["train_cost"] == [LN2] * 5 for s in states)
        assert [s["iteration"] for s in states] == sorted({s["iteration"] for s in states}) and states[0]["playing"]
        socket.send_json({"type": "pause"})
        paused = until(socket, lambda m: m["type"] == "state" and not m["playing"])
        time.sleep(0.3)
        assert client.get(f"/api/sessions/{session}/state").json()["iteration"] == paused["iteration"]
        assert paused["mean_cost"] == LN2 and paused["layers"][0][0]["duplicate"] == 10


def test_a_setting_change_while_playing_rebuilds_and_goes_on(client):
    session = create(client)
    with client.websocket_connect(f"/api/sessions/{session}/live") as socket:
        socket.send_json({"type": "play"})
        until(socket, lambda m: m["type"] == "state" and m["iteration"] > 50)
        socket.send_json({"type": "settings", "settings": {"init": "zeros", "n_samples": 200}})
        points = until(socket, lambda m: m["type"] == "points")
        assert len(points["train"]["y"]) == 150 and sum(points["train"]["y"]) == 75  # balanced: zeros stay at ln 2
        state = until(socket, lambda m: m["type"] == "state" and m["settings"]["init"] == "zeros")
        assert state["iteration"] < 50 and state["playing"]
        later = until(socket, lambda m: m["type"] == "state" and m["iteration"] > state["iteration"])
        assert later["mean_cost"] == LN2


def test_refused_messages_answer_an_error_and_leave_the_session_alone(client):
    session = create(client, n_seeds=1)
    with client.websocket_connect(f"/api/sessions/{session}/live") as socket:
        until(socket, lambda m: m["type"] == "state")
        for message, argument in [({"type": "settings", "settings": {"init": "normal(std=-1)"}}, "init"),
                                  ({"type": "jump"}, "type"), ({"type": "step", "iterations": -1}, "iterations"),
                                  ([1], "message")]:
            socket.send_json(message)
            error = until(socket, lambda m: m["type"] == "error")
            assert error["argument"] == argument and error["error"].startswith(f"{argument}: ")
        socket.send_json({"type": "step", "iterations": 3})
        state = until(socket, lambda m: m["type"] == "state")
        assert state["iteration"] == 3 and state["settings"]["init"] == "he_normal"
        socket.send_bytes(b'{"type": "step", "iterations": 2}')  # a binary frame is read as JSON too
        assert until(socket, lambda m: m["type"] == "state")["iteration"] == 5


def test_closing_the_socket_stops_and_deletes_its_session(client):
    session = create(client)
    with client.websocket_connect(f"/api/sessions/{session}/live") as socket:
        socket.send_json({"type": "play"})
        until(socket, lambda m: m["type"] == "state" and m["iteration"] > 0)
    assert gone(client, session)


def test_two_sessions_playing_together_are_isolated(client):
    from initlab.playground.session import Session
    from initlab.playground.settings import Settings
    a, b = create(client, n_seeds=2), create(client, n_seeds=2, init="zeros", lr=0.5)
    with client.websocket_connect(f"/api/sessions/{a}/live") as first, \
            client.websocket_connect(f"/api/sessions/{b}/live") as second:
        first.send_json({"type": "play"})
        second.send_json({"type": "play"})
        until(first, lambda m: m["type"] == "state" and m["iteration"] > 100)
        until(second, lambda m: m["type"] == "state" and m["iteration"] > 100)
        first.send_json({"type": "pause"})
        second.send_json({"type": "pause"})
        state_a = until(first, lambda m: m["type"] == "state" and not m["playing"])
        state_b = until(second, lambda m: m["type"] == "state" and not m["playing"])
    alone = Session(Settings(n_seeds=2))
    alone.step(state_a["iteration"])
    assert state_a["schemes"][0]["train_cost"] == alone.state(layers=False)["train_cost"]
    assert state_b["mean_cost"] == LN2


@pytest.mark.slow  # waits for the idle timeout (1 s) and the next look for idle sessions
def test_idle_rest_sessions_are_deleted_and_the_number_of_sessions_is_limited():
    with TestClient(create_app(max_sessions=2, idle_seconds=1.0)) as client:
        first = create(client, n_seeds=1)
        assert client.post(f"/api/sessions/{first}/play").json()["playing"]  # playing does not keep it alive
        create(client, n_seeds=1)
        refused = client.post("/api/sessions", json={})
        assert refused.status_code == 429 and refused.json()["argument"] == "sessions"
        assert gone(client, first)  # idle for 1 s: the next look (every second) deletes it
        assert client.post("/api/sessions", json={}).status_code == 201


def test_other_sites_and_host_names_are_refused():
    from starlette.websockets import WebSocketDisconnect
    with TestClient(create_app(hosts=("127.0.0.1", "localhost")), base_url="http://127.0.0.1:8765") as client:
        assert client.get("/api/limits").status_code == 200
        same = client.get("http://localhost:8765/api/limits", headers={"origin": "http://localhost:8765"})
        assert same.status_code == 200
        rebound = client.get("http://evil.example:8765/api/limits")  # DNS rebinding: another name for 127.0.0.1
        assert rebound.status_code == 403 and rebound.json()["argument"] == "host"
        other = client.post("/api/sessions", json={}, headers={"origin": "http://evil.example"})
        assert other.status_code == 403 and other.json() == {
            "error": "origin: expected a page this playground served (127.0.0.1:8765), got 'http://evil.example'",
            "argument": "origin"}
        assert not client.app.state.sessions.by_id
        session = create(client)
        with pytest.raises(WebSocketDisconnect) as closed:
            with client.websocket_connect(f"/api/sessions/{session}/live", headers={"origin": "http://evil.example"}):
                pass
        assert closed.value.code == 4403


@pytest.mark.parametrize("stop", [{"type": "pause"}, {"type": "reset"}, {"type": "settings", "settings": {"lr": 0.02}}])
def test_a_long_step_on_the_socket_shows_progress_and_a_pause_reset_or_change_stops_it_at_once(client, stop):
    session = create(client)  # 100,000 iterations of the defaults take a few seconds
    with client.websocket_connect(f"/api/sessions/{session}/live") as socket:
        until(socket, lambda m: m["type"] == "state")
        socket.send_json({"type": "step", "iterations": 100_000})
        progress = until(socket, lambda m: m["type"] == "state" and m["iteration"] > 0)  # while it runs
        assert progress["iteration"] < 100_000
        sent = time.monotonic()
        socket.send_json(stop)  # read at once although the step is still running
        answered = until(socket, lambda m: m["type"] == "state" and (
            m["iteration"] == 0 if stop["type"] == "reset" else m["settings"]["lr"] == 0.02 if "settings" in stop
            else not m["playing"]))
        assert time.monotonic() - sent < 1.0 and answered["iteration"] < 100_000
        time.sleep(0.3)
        after = client.get(f"/api/sessions/{session}/state").json()["iteration"]
        time.sleep(0.2)
        assert client.get(f"/api/sessions/{session}/state").json()["iteration"] == after < 100_000  # stopped


def test_a_rest_step_stops_when_its_client_disconnects():
    import asyncio
    import json

    from initlab.playground.settings import Settings

    async def scenario():
        app = create_app()
        live = await app.state.sessions.create(Settings())
        left = asyncio.Event()
        messages = iter([{"type": "http.request", "body": json.dumps({"iterations": 100_000}).encode()}])

        async def receive():
            message = next(messages, None)
            if message is None:  # the body was read: the client is still there until it leaves
                await left.wait()
                return {"type": "http.disconnect"}
            return message

        async def send(message):
            pass

        scope = {"type": "http", "method": "POST", "path": f"/api/sessions/{live.id}/step", "headers": [],
                 "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 8765)}
        request = asyncio.create_task(app(scope, receive, send))
        for _ in range(100):
            await asyncio.sleep(0.1)
            if live.session.iteration:
                break
        assert 0 < live.session.iteration < 100_000  # training
        left.set()  # the client gives up (curl -m 3)
        await asyncio.wait_for(request, 1.0)
        stopped = live.session.iteration
        await asyncio.sleep(0.3)
        assert live.session.iteration == stopped < 100_000 and not live._steps
        await app.state.sessions.close()

    asyncio.run(scenario())


def test_idle_deletion_stops_a_step_under_way():
    import asyncio

    from initlab.playground.live import Sessions
    from initlab.playground.settings import Settings

    async def scenario():
        sessions = Sessions(idle_seconds=0.3)
        live = await sessions.create(Settings())
        step = live.start_step(100_000)  # a REST client that left: nobody asks for this session any more
        await asyncio.sleep(0.6)
        await sessions.delete_idle()
        assert live.id not in sessions.by_id and step.done()
        stopped = live.session.iteration
        await asyncio.sleep(0.3)
        assert 0 < live.session.iteration == stopped < 100_000

    asyncio.run(scenario())


def test_a_rest_step_longer_than_30_s_by_estimate_is_refused_in_one_line(client):
    session = create(client, hidden=[80] * 8, n_samples=2000, n_seeds=1)  # 100,000 iterations: ~26 min
    refused = client.post(f"/api/sessions/{session}/step", json={"iterations": 100_000})
    assert refused.status_code == 422 and refused.json()["argument"] == "iterations"
    assert refused.json()["error"] == (
        "iterations: expected at most 951 in one HTTP step at these settings (about 30 s: 90,080,000 multiply-adds "
        "per iteration); step in parts or use the WebSocket, which can be paused, got 100000 (about 3,153 s)")
    assert client.get(f"/api/sessions/{session}/state").json()["iteration"] == 0
    assert client.get("/api/limits").json()["rest_step_seconds"] == 30
    client.delete(f"/api/sessions/{session}")


@pytest.mark.parametrize("path, body, argument, words", [
    ("/api/sessions/{id}/play", {"foo": 1}, "foo", "extra inputs are not permitted, got 1"),
    ("/api/sessions/{id}/pause", [1], "body", "expected a JSON object, got [1]"),
    ("/api/sessions/{id}/reset", {"settings": {}}, "settings", "not permitted"),
    ("/api/sessions/" + "i" * 500 + "/state", None, "id", "no session '" + "i" * 77 + "…'"),
    ("/api/sessions", {"init": "x" * 10_000}, "init", "unknown scheme '" + "x" * 77 + "…'"),
])
def test_every_body_is_validated_and_echoed_values_are_cut(client, path, body, argument, words):
    session = create(client, n_seeds=1)
    path = path.replace("{id}", session)
    response = client.get(path) if body is None else client.post(path, json=body)
    assert response.status_code in (404, 422) and response.json()["argument"] == argument
    assert words in response.json()["error"] and len(response.json()["error"]) < 200
    assert client.get(f"/api/sessions/{session}/state").json()["playing"] is False
    assert client.post(f"/api/sessions/{session}/play", json={}).status_code == 200  # {} and empty are fine
    assert client.post(f"/api/sessions/{session}/pause").status_code == 200
    client.delete(f"/api/sessions/{session}")


def test_a_call_waiting_for_the_session_gets_it_after_at_most_the_chunk_under_way():
    import asyncio

    from initlab.playground.live import LiveSession
    from initlab.playground.settings import Settings

    async def scenario():
        live = LiveSession(Settings(hidden=[64, 64], n_samples=1000, n_seeds=4, speed=1000))  # ~4 ms per iteration
        await live.play()
        await asyncio.sleep(0.5)  # the chunk size has settled
        waited = []
        for _ in range(20):
            before = live.session.iteration
            chunks_done = await live.run(lambda s: (s.iteration - before) / live._chunk)
            waited.append(chunks_done)
            await asyncio.sleep(0.01)
        await live.close()
        return waited

    waited = asyncio.run(scenario())
    # the play loop takes the lock again right after each chunk: a call must not wait for several of them
    assert max(waited) <= 2.0, waited


def test_playing_a_slow_setting_at_full_speed_still_sends_a_state_at_least_every_update_interval():
    import asyncio
    import time

    from initlab.playground.live import PROGRESS_SECONDS, LiveSession
    from initlab.playground.settings import Settings

    async def scenario():
        # ~4 ms per iteration: 1,000 iterations per view update would show nothing for about 4 s
        live = LiveSession(Settings(hidden=[64, 64], n_samples=1000, n_seeds=4, speed=1000))
        seen = []
        live.listeners.add(lambda message: seen.append((time.monotonic(), message["iteration"])))
        started = time.monotonic()
        await live.play()
        await asyncio.sleep(1.2)
        await live.close()
        return started, seen

    started, seen = asyncio.run(scenario())
    times = [started] + [t for t, _ in seen]
    iterations = [it for _, it in seen]
    assert len(seen) >= 4 and 0 < iterations[-1] < 1000 and iterations == sorted(iterations), seen
    assert max(b - a for a, b in zip(times, times[1:])) < PROGRESS_SECONDS + 0.3, seen  # + one chunk and a state


@pytest.mark.slow  # 2.5 s of keepalive pings during a long step
def test_keepalive_pings_are_answered_during_a_long_step_on_a_real_server():
    import asyncio
    import json
    import socket
    import threading
    import urllib.request

    import uvicorn
    import websockets

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d/" % listening.getsockname()[1]
    # uvicorn stops reading a socket until the app takes its last message: a receive loop waiting for a
    # step left the pongs unread and the server closed the page's socket (1011 keepalive ping timeout)
    server = uvicorn.Server(uvicorn.Config(create_app(), ws="websockets-sansio", ws_ping_interval=0.2,
                                           ws_ping_timeout=0.5, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()

    async def scenario(session: str) -> dict:
        async with websockets.connect(f"ws{url[4:]}api/sessions/{session}/live") as live:
            await live.send(json.dumps({"type": "step", "iterations": 100_000}))  # several seconds
            await asyncio.sleep(0.5)
            await live.send(json.dumps({"type": "pause"}))  # a message the app must take while the step runs
            await asyncio.sleep(2.0)  # many ping intervals and timeouts
            await asyncio.wait_for(await live.ping(), 2)  # still open, and read: the server answers a ping
            while True:
                message = json.loads(await asyncio.wait_for(live.recv(), 5))
                if message["type"] == "state" and message["iteration"] > 0 and not message["playing"]:
                    return message  # a state of the step (progress or stopped): short of 100,000

    try:
        while not server.started:
            time.sleep(0.05)
        with urllib.request.urlopen(urllib.request.Request(url + "api/sessions", data=b"{}", method="POST")) as answer:
            session = json.load(answer)["id"]
        paused = asyncio.run(scenario(session))  # before: ConnectionClosedError 1011 keepalive ping timeout
        assert 0 < paused["iteration"] < 100_000
    finally:
        server.should_exit = True
        thread.join(timeout=10)
