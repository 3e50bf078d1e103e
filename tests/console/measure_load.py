"""How many requests and bytes the console's public page costs, cold and
warm (a number for BENCHMARKS.md, not a test). Usage, against a running
`pakn serve`:

    .venv/bin/python tests/console/measure_load.py http://127.0.0.1:8080

Opens /#/stats three times in one Chromium (/usr/bin/chromium): a cold
cache, then two new tabs; counts the answers Chromium's cache served and
those that went over the network (Chrome DevTools Protocol), and the time
until the page's first content is drawn.
"""
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080").rstrip("/")
with sync_playwright() as p:
    ctx = p.chromium.launch_persistent_context(
        tempfile.mkdtemp(), executable_path="/usr/bin/chromium", headless=True,
        args=["--headless", "--no-sandbox"])
    for label in ["cold", "warm (new tab)", "warm again"]:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        log = []
        cdp.on("Network.responseReceived", lambda e: log.append(e["response"]))
        sizes = {}
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        t0 = time.time()
        page.goto(BASE + "/#/stats")
        page.wait_for_function(
            "() => (document.querySelector('main').getAttribute('data-ready') || '').startsWith('#/stats')")
        ms = (time.time() - t0) * 1000
        ours = [r for r in log if r["url"].startswith(BASE)]
        cached = [r for r in ours if r.get("fromDiskCache") or r.get("fromMemoryCache")]
        net = [r for r in ours if r not in cached]
        print(f"{label}: first content in {ms:.0f} ms; {len(ours)} answers, {len(cached)} from the cache, "
              f"{len(net)} over the network, {sum(sizes.values())} bytes received: "
              + ", ".join(r["url"].replace(BASE, "") for r in net))
        page.close()
    ctx.close()
