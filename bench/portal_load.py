"""How fast the portal's screens load from a cold browser cache (issue 17's
target: under 200 ms on this machine).

Starts `ras-identity serve` on a fresh SQLite file (bench/harness.py's way),
creates an account, and opens every screen in Debian's Chromium (Playwright)
with the browser cache disabled, --rounds times each: once logged out for the
public screens, once logged in (cookie mode) for the others. Two figures per
screen, median and worst over the rounds:
- load: the page's own Navigation Timing (navigation start → load event end:
  the HTML, the script and the style fetched and run);
- ready: navigation start → the screen standing complete with its data (its
  GraphQL calls answered): the portal writes performance.now() into
  <html data-ready> then.

    .venv/bin/python bench/portal_load.py [--rounds 20]
"""

import argparse
import asyncio
import shutil
import statistics
import tempfile
from pathlib import Path

from audit_cost import PASSWORD
from harness import accounts, serve, stop
from playwright.async_api import Page, async_playwright

PUBLIC = ["/", "/login", "/register", "/password/forgot", "/password/setup"]
PRIVATE = ["/menu", "/user", "/password/change", "/two-step", "/activity"]
TARGET_MS = 200.0

LOADED = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return n.loadEventEnd;
}"""


async def measure(page: Page, url: str) -> tuple[float, float]:
    await page.goto(url, wait_until="load")
    # The portal marks <html data-ready> with performance.now() when the
    # screen stands complete with its data.
    marked = await page.wait_for_selector("html[data-ready]", state="attached")
    assert marked is not None
    ready = float(await marked.get_attribute("data-ready") or "nan")
    loaded = float(await page.evaluate(LOADED))
    return loaded, ready


Samples = dict[str, list[tuple[float, float]]]


async def run(port: int, auth_id: str, rounds: int) -> Samples:
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    base = f"http://127.0.0.1:{port}"
    results: Samples = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"]
        )
        context = await browser.new_context()
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        # The browser's own start (its renderer for this origin) is not the
        # portal's: one navigation to /healthz first, not counted.
        await page.goto(base + "/healthz")
        for path in PUBLIC:
            results[path] = [await measure(page, base + path) for _ in range(rounds)]
        await page.goto(base + "/login")
        await page.locator("#field-authId").fill(auth_id)
        await page.locator("#field-password").fill(PASSWORD)
        await page.locator("button[type=submit]").click()
        await page.locator("dl.info").wait_for()
        for path in PRIVATE:
            results[path] = [await measure(page, base + path) for _ in range(rounds)]
        await browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    database_url = f"sqlite:///{workdir}/bench.sqlite3"
    (auth_id,) = asyncio.run(accounts(database_url, 1))
    server, port = serve(database_url, workdir)
    try:
        results = asyncio.run(run(port, auth_id, args.rounds))
    finally:
        stop(server)
    print("| screen | load p50 | load max | ready p50 | ready max | ≤ 200 ms |")
    print("|---|---|---|---|---|---|")
    for path, samples in results.items():
        loads = [load for load, _ in samples]
        readies = [ready for _, ready in samples]
        met = "yes" if max(readies) <= TARGET_MS else "NO"
        print(
            f"| `{path}` | {statistics.median(loads):.0f} ms | {max(loads):.0f} ms | "
            f"{statistics.median(readies):.0f} ms | {max(readies):.0f} ms | {met} |"
        )


if __name__ == "__main__":
    main()
