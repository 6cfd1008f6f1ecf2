"""Starting a detached controller and talking to a running one (used by the CLI and the Python API)."""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from amr_emulator.config import CacheSpec, cache_dir, pid_alive, read_state, running_caches
from amr_emulator.controller.cache import StartError
from amr_emulator.controller.nodes import group_alive, kill_group


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def launch(spec: CacheSpec, ready_timeout: float = 60.0,
           tied: bool = False) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start `python -m amr_emulator.controller` in its own session; returns once the cache is ready
    (its summary, with the keys) or raises StartError with the controller's message. `tied`: the cache
    stops when this process is gone (the Python API), not so for `up --detach`."""
    directory = cache_dir(spec.name)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise StartError(f"cannot create the runtime directory {directory}: {e.strerror}") from None
    log = open(os.path.join(directory, "controller.log"), "ab")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "amr_emulator.controller", "--spec", json.dumps(spec.to_dict()),
             "--ready-timeout", str(ready_timeout), *(["--parent-pid", str(os.getpid())] if tied else [])],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    finally:
        log.close()
    line = b""
    deadline = time.monotonic() + ready_timeout + 15
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            line += chunk
    proc.stdout.close()
    try:
        report = json.loads(line)
    except ValueError:
        report = {"ok": False, "error": "the controller did not report (see "
                  f"{os.path.join(directory, 'controller.log')})"}
    if not report.get("ok"):
        terminate(proc.pid)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            proc.wait()
        raise StartError(report.get("error") or "the cache did not start")
    report.pop("ok")
    return proc, report


def terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def request(base_url: str, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base_url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read()).get("error", str(e))
        except ValueError:
            message = str(e)
        raise ApiError(e.code, message) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        raise ApiError(0, f"the controller at {base_url} does not answer: {getattr(e, 'reason', e)}") from None


def find_cache(name: str | None) -> dict[str, Any]:
    """The state of the running cache `name`, or of the only running cache when name is None."""
    running = running_caches()
    if name is not None:
        if name not in running:
            known = ", ".join(running) or "none"
            raise LookupError(f"no running cache named {name!r} (running: {known})")
        return running[name]
    if not running:
        raise LookupError("no cache is running (start one with `amr-emulator up`)")
    if len(running) > 1:
        raise LookupError(f"several caches are running ({', '.join(running)}): choose one with --name")
    return next(iter(running.values()))


def stop_cache(state: dict[str, Any], timeout: float = 30.0) -> None:
    """DELETE through the API, wait for the controller to exit, then make sure of it by process group:
    the controller's and every node's (nothing of the cache is left running)."""
    pid = state.get("controller_pid")
    try:
        request(state["management_url"], "DELETE", f"/caches/{state['name']}", timeout=timeout)
    except ApiError:
        terminate(pid) if pid else None
    deadline = time.monotonic() + timeout
    while pid and pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    reap(state)


def reap(state: dict[str, Any]) -> None:
    """SIGKILL to whatever is left of the cache's process groups (controller and nodes)."""
    pids = list((state.get("node_pids") or {}).values())
    if state.get("controller_own_group"):
        pids.append(state.get("controller_pid"))
    for pgid in pids:
        if pgid and group_alive(pgid):
            kill_group(pgid)
    latest = read_state(state["name"])
    if latest and not pid_alive(latest.get("controller_pid")):
        try:
            os.unlink(os.path.join(cache_dir(state["name"]), "state.json"))
        except OSError:
            pass
