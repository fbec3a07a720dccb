"""A bounded HTTP/1.1 load generator, for when wrk is not installed.

--connections keep-alive connections each send POST /graphql with a body
drawn at random from --bodies (one JSON document per line), one request at a
time, for --seconds; prints one JSON line: requests, seconds, rate, latency
percentiles in ms, and answers that were not 200. Runs in its own process
(bench/harness.py starts it), so its CPU is not the server's.

    .venv/bin/python bench/load.py --port 8000 --bodies bodies.jsonl
        [--connections 16] [--seconds 10] [--header "Authorization: Bearer …"]
        [--pause-ms 0]
"""

import argparse
import asyncio
import json
import random
import statistics
import time
from pathlib import Path


async def _connection(
    port: int,
    requests: list[bytes],
    deadline: float,
    latencies: list[float],
    failures: list[int],
    pause: float,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    draw = random.Random()
    try:
        while time.perf_counter() < deadline:
            request = draw.choice(requests)
            start = time.perf_counter()
            writer.write(request)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not status.startswith(b"HTTP/1.1 200"):
                failures.append(1)
            if pause:
                await asyncio.sleep(pause)
    finally:
        writer.close()


async def run(
    port: int,
    bodies: list[str],
    headers: list[str],
    connections: int,
    seconds: float,
    pause: float = 0.0,
) -> dict[str, float]:
    extra = "".join(f"{header}\r\n" for header in headers)
    requests = [
        (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\n{extra}\r\n"
        ).encode()
        + body.encode()
        for body in bodies
    ]
    latencies: list[float] = []
    failures: list[int] = []
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(
            _connection(port, requests, deadline, latencies, failures, pause)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rate": len(latencies) / elapsed,
        "p50": cuts[49] * 1000,
        "p90": cuts[89] * 1000,
        "p99": cuts[98] * 1000,
        "non_2xx": len(failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--pause-ms", type=float, default=0.0)
    args = parser.parse_args()
    bodies = args.bodies.read_text(encoding="utf-8").splitlines()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        run(
            args.port,
            bodies,
            args.header,
            args.connections,
            args.seconds,
            args.pause_ms / 1000,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
