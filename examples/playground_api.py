"""Script the playground's JSON API without a browser: create a session, step it, change a setting, read the state.

Only the standard library (urllib). Without --url it starts `initlab playground --no-browser --port 0`
itself and stops it at the end; with --url it talks to a server you started.

Run: python examples/playground_api.py [--url http://127.0.0.1:8765/]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request


def call(url: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
    """(HTTP status, JSON answer) of one request; a refusal (4xx) is an answer too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def show(url: str) -> None:
    status, created = call(url, "POST", "api/sessions",
                           {"init": "zeros", "compare": ["he_normal"], "n_seeds": 3, "lr": 0.5})
    session = f"api/sessions/{created['id']}"
    print(f"POST /api/sessions -> {status}: {len(created['points']['train']['y'])} training points, "
          f"iteration {created['state']['iteration']}")
    status, state = call(url, "POST", f"{session}/step", {"iterations": 200})
    print(f"POST /api/sessions/{{id}}/step {{\"iterations\": 200}} -> {status}: "
          f"iteration {state['iteration']}")
    for scheme in state["schemes"]:
        costs = ", ".join(f"{cost:.4f}" for cost in scheme["train_cost"])
        print(f"  {scheme['init']:>9}: training cost per seed {costs}; duplicate units per layer "
              f"{[layer['duplicate'] for layer in state['layers'][state['schemes'].index(scheme)]]}")
    print(f"  copy as command: {state['command']}")
    status, refused = call(url, "POST", f"{session}/settings", {"init": "normal(std=-1)"})
    print(f"POST /api/sessions/{{id}}/settings {{\"init\": \"normal(std=-1)\"}} -> {status}: {json.dumps(refused)}")
    status, state = call(url, "POST", f"{session}/settings", {"lr": 0.1})
    print(f"POST /api/sessions/{{id}}/settings {{\"lr\": 0.1}} -> {status}: iteration {state['iteration']} "
          "(lr is a live change), "
          f"reproducible by one command: {state['reproducible']}")
    status, _ = call(url, "DELETE", session)
    print(f"DELETE /api/sessions/{{id}} -> {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running playground, e.g. http://127.0.0.1:8765/")
    args = parser.parse_args()
    if args.url:
        show(args.url.rstrip("/") + "/")
        return
    server = subprocess.Popen([sys.executable, "-m", "initlab.cli", "playground", "--no-browser", "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        show(re.search(r"http://\S+/", server.stdout.readline()).group(0))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
