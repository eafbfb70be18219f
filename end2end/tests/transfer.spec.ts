import { CDPSession, expect, Page, test } from "@playwright/test";
import { openHydrated, signUp, uniqueEmail, waitForHydration } from "./helpers";

// Page weight (README): bytes on the wire as Chromium counts them (`encodedDataLength`:
// headers and body as sent, compressed or not), summed over every response a page fetched.

/** One response as the page received it. */
type Fetched = {
  url: string;
  type: string;
  status: number;
  /** The status the server sent (304 where the page sees the cached 200), if it was asked. */
  wireStatus?: number;
  encoding: string;
  /** Taken from the browser's cache without asking the server. */
  cached: boolean;
  bytes: number;
};

/** Records what a page fetches over the network, through the DevTools protocol. */
class Wire {
  readonly fetched: Fetched[] = [];
  private readonly pending = new Map<string, Fetched>();

  private constructor(private readonly cdp: CDPSession) {}

  static async record(page: Page): Promise<Wire> {
    const cdp = await page.context().newCDPSession(page);
    const wire = new Wire(cdp);
    cdp.on("Network.requestWillBeSent", (e) => {
      const earlier = wire.pending.get(e.requestId);
      if (earlier && e.redirectResponse) {
        earlier.status = e.redirectResponse.status;
        earlier.bytes = e.redirectResponse.encodedDataLength;
        wire.fetched.push(earlier);
      }
      wire.pending.set(e.requestId, {
        url: e.request.url,
        type: e.type ?? "",
        status: 0,
        encoding: "",
        cached: false,
        bytes: 0,
      });
    });
    cdp.on("Network.requestServedFromCache", (e) => {
      const request = wire.pending.get(e.requestId);
      if (request) request.cached = true;
    });
    cdp.on("Network.responseReceived", (e) => {
      const request = wire.pending.get(e.requestId);
      if (!request) return;
      request.status = e.response.status;
      request.cached ||= !!(e.response.fromDiskCache || e.response.fromPrefetchCache);
      for (const [name, value] of Object.entries(e.response.headers)) {
        if (name.toLowerCase() === "content-encoding") request.encoding = String(value);
      }
    });
    // The status as it came over the wire: after a 304 the page is shown the cached 200.
    cdp.on("Network.responseReceivedExtraInfo", (e) => {
      const request = wire.pending.get(e.requestId);
      if (request) request.wireStatus = e.statusCode;
    });
    cdp.on("Network.loadingFinished", (e) => {
      const request = wire.pending.get(e.requestId);
      if (!request) return;
      request.bytes = e.encodedDataLength;
      wire.fetched.push(request);
      wire.pending.delete(e.requestId);
    });
    cdp.on("Network.loadingFailed", (e) => wire.pending.delete(e.requestId));
    await cdp.send("Network.enable");
    return wire;
  }

  /** Sends `Accept-Encoding: identity`: what a first visit weighed before compression. */
  async refuseCompression() {
    await this.cdp.send("Network.setExtraHTTPHeaders", {
      headers: { "Accept-Encoding": "identity" },
    });
  }

  /** Waits until the page is quiet and every response it asked for has arrived. */
  async settled(page: Page) {
    await page.waitForLoadState("networkidle");
    await expect.poll(() => this.pending.size).toBe(0);
  }

  /** Starts a new count (what was fetched so far is forgotten). */
  restart() {
    this.fetched.length = 0;
  }

  total(): number {
    return this.fetched.reduce((sum, f) => sum + f.bytes, 0);
  }

  /** The bundle's files: the WASM, its chunks, the JS glue and chunk loader, the stylesheet. */
  bundle(): Fetched[] {
    return this.fetched.filter((f) => new URL(f.url).pathname.startsWith("/pkg/"));
  }

  report(what: string) {
    const lines = this.fetched.map(
      (f) =>
        `  ${String(f.bytes).padStart(9)} ${f.cached ? "cache" : String(f.wireStatus ?? f.status)} ` +
        `${(f.encoding || "-").padEnd(4)} ${new URL(f.url).pathname}`,
    );
    console.log(
      `${what}: ${this.total().toLocaleString("en")} bytes on the wire in ` +
        `${this.fetched.length} responses\n${lines.join("\n")}`,
    );
  }
}

/**
 * Issue 14's goal for a first visit to /login is 350,000 bytes; on this tree it is not met
 * (README, "Page weight": 383,780 bytes; the main WASM alone is 266 KB brotli'd, and the 57
 * responses carry about 37 KB of headers). The test holds the figure reached, with room, so
 * it cannot grow unnoticed; tighten it to the goal once the bundle is smaller.
 */
const FIRST_VISIT_GOAL = 350_000;
const FIRST_VISIT_BUDGET = 400_000;

const isWasm = (f: Fetched) => new URL(f.url).pathname.endsWith(".wasm");
const isScript = (f: Fetched) => new URL(f.url).pathname.endsWith(".js");
/** The main bundle, `clariva.<digest>.wasm` (its chunks have names of their own). */
const isMainWasm = (f: Fetched) => /^\/pkg\/clariva(\.[^/]*)?\.wasm$/.test(new URL(f.url).pathname);

test("a first visit to /login comes compressed, and a second one takes the bundle from the cache", async ({
  page,
}) => {
  // Playwright's context is fresh: nothing cached, no cookies.
  const first = await Wire.record(page);
  await openHydrated(page, "/login");
  await first.settled(page);
  first.report("first visit to /login");
  expect(first.fetched.some(isMainWasm)).toBe(true);
  for (const file of first.bundle().filter((f) => f.bytes > 1024)) {
    // No copy to send: the site was not built by `make release` (`--precompress`).
    expect(file.encoding, `${file.url} sent uncompressed`).toMatch(/^(br|gzip)$/);
  }
  console.log(
    `goal ${FIRST_VISIT_GOAL.toLocaleString("en")} bytes: ` +
      (first.total() < FIRST_VISIT_GOAL ? "met" : "NOT met"),
  );
  expect(first.total()).toBeLessThan(FIRST_VISIT_BUDGET);

  // Another tab of the same browser: the page again, the bundle from the cache.
  const tab = await page.context().newPage();
  const second = await Wire.record(tab);
  await openHydrated(tab, "/login");
  await second.settled(tab);
  second.report("second visit to /login, same browser");
  expect(second.bundle().length).toBeGreaterThan(0);
  for (const file of second.bundle()) {
    // Either not asked for at all, or asked about and answered "not modified" (304, no body).
    expect(file.cached || file.wireStatus === 304, `${file.url} downloaded again`).toBe(true);
  }
  expect(second.total()).toBeLessThan(first.total() / 10);
});

test("for comparison: the same first visit without compression", async ({ page }) => {
  const wire = await Wire.record(page);
  await wire.refuseCompression();
  await openHydrated(page, "/login");
  await wire.settled(page);
  wire.report("first visit to /login, Accept-Encoding: identity");
  expect(wire.fetched.every((f) => f.encoding === "")).toBe(true);
});

test("moving between dashboard pages fetches the new page's chunk, not the bundle again", async ({
  page,
}) => {
  await signUp(page, "Dana Whitfield", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await waitForHydration(page);
  const wire = await Wire.record(page);
  await wire.settled(page);
  const nav = page.getByRole("navigation", { name: "Dashboard" });

  for (const [link, heading] of [
    ["Appointments", "Appointments"],
    ["Inbox", "Inbox"],
  ]) {
    wire.restart();
    await nav.getByRole("link", { name: link, exact: true }).click();
    await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
    await wire.settled(page);
    wire.report(`dashboard: to ${link}`);
    // No new document (the router moved in the page), no main bundle, no script again.
    expect(wire.fetched.filter((f) => f.type === "Document")).toEqual([]);
    expect(wire.fetched.filter(isMainWasm)).toEqual([]);
    expect(wire.fetched.filter(isScript)).toEqual([]);
    // The page's own code: one chunk or more, fetched now.
    expect(wire.fetched.filter(isWasm).length).toBeGreaterThan(0);
  }
});
