"""The served web app under concurrent clients: latency against the answer function, and the server's RSS.

    python benchmarks/serve_bench.py [--data ../shared/data/ncp_dev] [--clients 20] [--questions N] [--keep-dir]

In one run it
1. ingests ncp_dev's docs.jsonl into a knowledge base in a temporary folder (as ncp_bench.py does)
   and creates two accounts (an admin, and the staff account the clients log in as);
2. calls ``bot.answer`` in this process on each question (after a warm-up): the direct baseline;
3. starts ``kb serve --data-dir … --port …`` as a separate process and waits until it answers;
4. asks the questions one at a time through one client of each kind: browser-like (logged in
   through the login form, one kept-alive connection speaking gradio's queue protocol as the web
   page does) and a logged-in gradio_client ``Client`` (api_name ``/ask``); then through
   ``--clients`` clients of each kind at once (one thread each, every client asking its next
   question as soon as its previous one is answered; the questions are dealt out in turn and
   repeated if there are fewer questions than clients); and once more through the browser-like
   clients at counter pace (``--pause``: each counter waits a random pause, 2 s on average, between
   questions, as a counter does between citizens);
5. reads the server's VmRSS and VmHWM from /proc/<pid>/status, once warmed up and after the run.
For every served request it records the latency seen by the client and the handler's own duration,
as the server reports it (gradio's ``duration``: the handler with its pre- and post-processing); the
rest is the wait in gradio's queue plus transport and the client's polling. The server's CPU time
per request (from /proc/<pid>/stat) is the figure least disturbed by other load on the machine.
gradio_client adds its own cost to every request (it polls for messages every 50 ms and opens new
connections per request), hence the browser-like client beside it.
Targets: served p50 with one client ≤ 1.5 × direct p50; no request with ``--clients`` clients over
10 × direct p95; server RSS with ncp_dev loaded ≤ 1.5 GB. Absolute times are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from gradio_client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ncp_bench import CHUNK_SIZE, OVERLAP, timed  # noqa: E402
from startup_bench import KB, ROOT, environment  # noqa: E402

from bot import answer  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.config import default  # noqa: E402
from kb.evaluate import load_cases  # noqa: E402
from kb.users import LOCAL_ADMIN, Users  # noqa: E402

USER = "bench"
WARMUP = 3
ONE_CLIENT_RATIO, MANY_CLIENTS_RATIO, RSS_LIMIT_MB = 1.5, 10.0, 1536
ALL = "全部"


@dataclass(frozen=True)
class Request:
    """One served question: the latency the client saw, the handler's duration on the server, the error."""

    seconds: float
    handler: float = 0.0
    error: str = ""


def prepare(data: Path, data_dir: Path, password: str) -> tuple[KnowledgeBase, list[str], float]:
    """The knowledge base of ``data`` in ``data_dir`` with the accounts, the questions, and the ingest seconds."""
    kb = KnowledgeBase(data_dir, get_embedder(default("embedder")))
    _, seconds = timed(ingest_paths, kb, [data / "docs.jsonl"], CHUNK_SIZE, OVERLAP)
    users = Users(kb.records)
    admin = users.add(LOCAL_ADMIN, "admin", secrets.token_urlsafe(12), "admin", "压测管理员")
    users.add(admin, USER, password, "staff", "压测窗口")
    return kb, [c.question for c in load_cases(data / "questions.jsonl")], seconds


def direct(kb: KnowledgeBase, questions: list[str]) -> list[float]:
    """Seconds of ``bot.answer`` on each question in this process, with the server's top_k and threshold."""

    def one(question: str) -> float:
        _, seconds = timed(answer, kb, question, k=default("top_k"), min_confidence=default("min_confidence"))
        return seconds

    for question in questions[:WARMUP]:
        one(question)
    return [one(q) for q in questions]


def free_port() -> int:
    """A loopback port that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(command: list[str], url: str, log: Path, timeout: float = 180) -> subprocess.Popen:
    """Start ``command`` (a server that will listen at ``url``), its output in ``log``; returns once it answers."""
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=environment(), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"服务进程已退出（退出码 {server.returncode}）：\n{output}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    stop(server)
    raise SystemExit(f"服务在 {timeout:.0f} 秒内没有响应：\n{log.read_text(errors='replace')[-2000:]}")


def stop(server: subprocess.Popen) -> None:
    """Stop the server started by :func:`start_server` (SIGTERM, then SIGKILL after 20 s)."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB, from /proc/<pid>/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


def checked(seconds: float, chat: list, handler: float) -> Request:
    """The request, or an error when the last chat message lacks the answer's confidence line."""
    content = chat[-1]["content"] if chat else ""
    text = content if isinstance(content, str) else "".join(part.get("text", "") for part in content)
    if "置信度" not in text:
        return Request(seconds, error=f"回答不完整：{text[:80]!r}")
    return Request(seconds, handler=handler)


class ApiClient:
    """A gradio_client ``Client`` logged in as the benchmark's staff account, asking through api_name /ask."""

    def __init__(self, url: str, password: str):
        self.client = Client(url, auth=(USER, password), verbose=False, download_files=False, analytics_enabled=False)

    def ask(self, question: str) -> Request:
        """Ask ``question``; a failure is recorded in the result, not raised."""
        start = time.perf_counter()
        try:
            job = self.client.submit(question, ALL, ALL, [], api_name="/ask")
            chat = job.result()[0]
        except Exception as exc:  # every failure of a served request is a result here, not a crash
            return Request(time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}"[:200])
        return checked(time.perf_counter() - start, chat, self.handler_seconds(job))

    @staticmethod
    def handler_seconds(job) -> float:
        """The handler's duration that the server sent with the final message of ``job`` (0 if absent)."""
        updates = job.communicator.updates
        while not updates.empty():
            update = updates.get_nowait()
            if getattr(update, "final", False) and isinstance(update.outputs, dict):
                return float(update.outputs.get("duration") or 0.0)
        return 0.0


class Browser:
    """The queue protocol as the web page speaks it: logged in through the login form, one kept-alive
    connection, one session; each question is posted to the queue and its answer read from the stream."""

    def __init__(self, url: str, password: str):
        self.url, self.http, self.session = url, httpx.Client(timeout=None), secrets.token_hex(6)
        self.http.post(f"{url}login", data={"username": USER, "password": password}).raise_for_status()
        dependencies = self.http.get(f"{url}config").json()["dependencies"]
        asking = next(d for d in dependencies if d.get("api_name") == "ask")
        self.fn, self.inputs = asking["id"], len(asking["inputs"])

    def ask(self, question: str) -> Request:
        """Ask ``question``; a failure is recorded in the result, not raised."""
        start = time.perf_counter()
        data = [question, ALL, ALL, []] + [None] * (self.inputs - 4)  # the page's State values stay on the server
        body = {"data": data, "fn_index": self.fn, "session_hash": self.session,
                "event_data": None, "trigger_id": None}
        message: dict = {}
        shown: list = []
        try:
            event = self.http.post(f"{self.url}gradio_api/queue/join", json=body).raise_for_status().json()["event_id"]
            stream = self.http.stream("GET", f"{self.url}gradio_api/queue/data", params={"session_hash": self.session})
            with stream as lines:
                for line in lines.iter_lines():
                    message = json.loads(line[5:]) if line.startswith("data:") else {}
                    if message.get("event_id") != event:
                        continue
                    if message.get("msg") == "process_generating" and not shown:
                        shown = message["output"]["data"][0]  # the handler yields; its first output is whole
                    if message.get("msg") == "process_completed":
                        break
        except httpx.HTTPError as exc:
            return Request(time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}"[:200])
        seconds, output = time.perf_counter() - start, message.get("output") or {}
        if not message.get("success"):
            return Request(seconds, error=f"服务端错误：{str(output.get('error'))[:120]}")
        final = (output.get("data") or [None])[0]
        return checked(seconds, final if isinstance(final, list) and final else shown,
                       float(output.get("duration") or 0.0))


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) that ``pid`` has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Phase:
    """The requests of one phase, its wall seconds and the server's CPU seconds during it."""

    requests: list[Request]
    wall: float
    cpu: float


def sequential(clients: list, questions: list[str]) -> list[Request]:
    """The questions one at a time through the first client (an :class:`ApiClient` or a :class:`Browser`)."""
    return [clients[0].ask(q) for q in questions]


def concurrent(clients: list, questions: list[str], pause: float = 0.0) -> list[Request]:
    """The questions dealt out to the clients, all asking at once; each asks its next question as soon as
    its previous one is answered, or, with ``pause``, after a random pause of that mean in seconds (a
    counter serving citizens: exponentially distributed, seeded per client)."""
    asked = [questions[i % len(questions)] for i in range(max(len(questions), len(clients)))]
    results: list[list[Request]] = [[] for _ in clients]
    ready = threading.Barrier(len(clients))

    def work(n: int) -> None:
        ready.wait()
        pauses = random.Random(n)
        for q in asked[n :: len(clients)]:
            if pause:
                time.sleep(pauses.expovariate(1 / pause))
            results[n].append(clients[n].ask(q))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for rs in results for r in rs]


def phase(pid: int, run, clients: list, questions: list[str], *args) -> Phase:
    """``run(clients, questions, *args)`` timed, with the server's CPU time over it."""
    cpu, start = server_cpu(pid), time.perf_counter()
    requests = run(clients, questions, *args)
    return Phase(requests, time.perf_counter() - start, server_cpu(pid) - cpu)


def stats(seconds: list[float]) -> dict[str, float]:
    """p50, p95 and max in milliseconds."""
    ms = np.array(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)), "max": float(ms.max())}


def row(name: str, seconds: list[float], note: str = "") -> str:
    """One line of the table: count, p50, p95 and max of ``seconds`` in ms, and a note."""
    s = stats(seconds)
    return f"{name:<34} {len(seconds):>5} {s['p50']:>9.1f} {s['p95']:>9.1f} {s['max']:>9.1f}  {note}"


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def report(base: list[float], phases: dict[str, Phase], clients: int, rss: dict[str, dict[str, float]]) -> None:
    """Print the table, the ratios against the targets, and the server's memory.

    ``phases`` maps "browser-like" and "gradio_client" (one client) and the same names followed by
    "×N" (``clients`` at once) to their results."""
    print(f"{'':<34} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    print(row("direct bot.answer", base))
    for label, run in phases.items():
        done = [r for r in run.requests if not r.error] or [Request(0.0)]
        errors = [r.error for r in run.requests if r.error]
        print(row(f"served, {label}", [r.seconds for r in done], f"{len(run.requests) / run.wall:.1f} req/s, "
                  f"{len(errors)} errors, server CPU {run.cpu / len(run.requests) * 1000:.0f} ms/req"))
        print(row("  handler on the server", [r.handler for r in done]))
        print(row("  rest (queue, transport, client)", [r.seconds - r.handler for r in done]))
        for error in sorted(set(errors))[:5]:
            print(f"    error ×{errors.count(error)}: {error}")
    direct_s = stats(base)
    for label, run in phases.items():
        served = stats([r.seconds for r in run.requests if not r.error] or [float("inf")])
        if "×" in label:
            ratio, target = served["max"] / direct_s["p95"], MANY_CLIENTS_RATIO
            print(f"{label}: max / direct p95 = {ratio:.2f}  (target ≤ {target})  {verdict(ratio <= target)}")
        else:
            ratio, target = served["p50"] / direct_s["p50"], ONE_CLIENT_RATIO
            print(f"{label}: p50 / direct p50 = {ratio:.2f}  (target ≤ {target})  {verdict(ratio <= target)}")
    busiest = max(phases.values(), key=lambda run: len(run.requests) / run.wall)
    capacity = len(busiest.requests) / busiest.cpu
    needed = clients / (MANY_CLIENTS_RATIO * direct_s["p95"] / 1000)
    cores = os.cpu_count() or 1
    print(f"capacity: the server spends {busiest.cpu / len(busiest.requests) * 1000:.0f} ms of CPU per request: "
          f"{capacity:.0f} req/s per fully used core, {capacity * cores:.0f} req/s if all {cores} cores were fully "
          f"used (one Python process holds the GIL most of the time); {clients} clients asking back to back "
          f"within {MANY_CLIENTS_RATIO:g} × direct p95 need ≥ {needed:.0f} req/s")
    errors = sum(1 for run in phases.values() for r in run.requests if r.error)
    print(f"errors = {errors}  (target 0)  {verdict(errors == 0)}")
    for label, figures in rss.items():
        print(f"server {label:<12} VmRSS {figures['VmRSS']:>7.0f} MB   VmHWM {figures['VmHWM']:>7.0f} MB")
    print(f"server VmHWM ≤ {RSS_LIMIT_MB} MB  {verdict(rss['after run']['VmHWM'] <= RSS_LIMIT_MB)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ncp_dev",
                        help="folder with docs.jsonl and questions.jsonl (default ../shared/data/ncp_dev)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--questions", type=int, default=0, help="ask only the first N questions (a quick run)")
    parser.add_argument("--pause", type=float, default=2.0,
                        help="mean pause in seconds between one counter's questions in the counter-pace phase "
                             "(default 2; 0 skips that phase)")
    parser.add_argument("--keep-dir", action="store_true", help="keep the temporary knowledge base and server log")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    password = secrets.token_urlsafe(12)
    try:
        kb, questions, ingest_s = prepare(args.data, root / "data", password)
        questions = questions[: args.questions] if args.questions else questions
        base = direct(kb, questions)
        kb.close()
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        server = start_server([*KB, "serve", "--data-dir", str(root / "data"), "--port", str(port)], url,
                              root / "server.log")
        try:
            browsers = [Browser(url, password) for _ in range(args.clients)]
            api_clients = [ApiClient(url, password) for _ in range(args.clients)]
            for question in questions[:WARMUP]:
                browsers[0].ask(question)
                api_clients[0].ask(question)
            phases = {"browser-like": phase(server.pid, sequential, browsers, questions),
                      "gradio_client": phase(server.pid, sequential, api_clients, questions)}
            rss = {"warmed up": memory_mb(server.pid)}
            for name, group in (("browser-like", browsers), ("gradio_client", api_clients)):
                phases[f"{name} ×{args.clients}"] = phase(server.pid, concurrent, group, questions)
            if args.pause:
                phases[f"browser-like ×{args.clients} paced"] = phase(
                    server.pid, concurrent, browsers, questions, args.pause)
            rss["after run"] = memory_mb(server.pid)
        finally:
            stop(server)
        print(f"ingest {ingest_s:.1f} s; {len(questions)} questions; {args.clients} clients; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.1f}")
        report(base, phases, args.clients, rss)
    finally:
        if args.keep_dir:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
