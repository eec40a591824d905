"""`initlab playground`: refusals in one line (exit 2), and a real uvicorn server answering HTTP and WebSocket."""

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from initlab.cli.main import main


def test_a_bad_port_is_one_line_and_exit_2(capsys):
    assert main(["playground", "--port", "70000", "--no-browser"]) == 2
    assert capsys.readouterr().err == "error: --port: expected a port from 0 to 65535, got 70000\n"


def test_a_port_in_use_is_one_line_naming_port_and_exit_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 2
    assert capsys.readouterr().err == f"error: --port: in use on 127.0.0.1; choose another with --port, got {port}\n"


async def _live(url: str) -> list[dict]:
    import websockets
    async with websockets.connect(url) as socket:
        messages = [json.loads(await socket.recv()) for _ in range(2)]
        await socket.send(json.dumps({"type": "step", "iterations": 7}))
        messages.append(json.loads(await socket.recv()))
    return messages


@pytest.mark.slow
def test_a_real_server_answers_the_api_and_warns_when_not_on_loopback():
    server = subprocess.Popen([sys.executable, "-m", "initlab.cli", "playground", "--host", "0.0.0.0", "--port", "0",
                               "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        url = re.search(r"http://\S+/", line).group(0)
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/limits", timeout=30) as response:
            assert json.load(response)["max_schemes"] == 4
        request = urllib.request.Request(url + "api/sessions", data=b'{"init": "zeros", "n_seeds": 2}', method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
            session = json.load(response)["id"]
        points, state, stepped = asyncio.run(_live(f"ws{url[4:]}api/sessions/{session}/live"))
        assert (points["type"], state["iteration"], stepped["iteration"]) == ("points", 0, 7)
        assert stepped["mean_cost"] == 0.6931471805599453
        with urllib.request.urlopen(url, timeout=30) as response:
            assert "initlab playground" in response.read().decode()
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert errors.startswith("warning: listening on 0.0.0.0:")
    assert "Traceback" not in errors


@pytest.mark.slow
def test_help_and_a_refused_port_import_neither_the_server_nor_numpy():
    script = ("import sys\nfrom initlab.cli import main\nassert main(['playground', '--help']) == 0\n"
              "assert main(['playground', '--port', '-1']) == 2\nprint('MODULES', *sorted(sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in done.stdout.rsplit("MODULES", 1)[1].split()}
    assert loaded.isdisjoint({"uvicorn", "starlette", "numpy", "numba", "scipy"}), loaded


@pytest.mark.slow
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_one_signal_stops_the_server_promptly_during_a_long_rest_step(signal_number):
    server = subprocess.Popen([sys.executable, "-m", "initlab.cli", "playground", "--port", "0", "--no-browser"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"http://\S+/", server.stdout.readline()).group(0)
        settings = b'{"hidden": [80, 80, 80, 80, 80, 80, 80, 80], "n_samples": 2000, "n_seeds": 1}'
        request = urllib.request.Request(url + "api/sessions", data=settings, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            session = json.load(response)["id"]
        step = urllib.request.Request(f"{url}api/sessions/{session}/step", data=b'{"iterations": 900}', method="POST")
        answers = []
        stepping = threading.Thread(target=lambda: answers.append(json.load(urllib.request.urlopen(step, timeout=60))))
        stepping.start()  # ~15 s of training
        time.sleep(1.5)
        started = time.monotonic()
        server.send_signal(signal_number)
        server.wait(timeout=60)
        stopped = time.monotonic() - started
        stepping.join(timeout=60)
    finally:
        server.kill()
        server.communicate()
    assert stopped < 3.0  # before: uvicorn waited for the step to end (~15 s), a second signal was needed
    assert answers and 0 < answers[0]["iteration"] < 900  # the step answered how far it got
