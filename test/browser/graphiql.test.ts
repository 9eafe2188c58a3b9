import { existsSync } from 'node:fs';
import { type Browser, type Page, type Response as PageResponse, chromium } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { adminToken, startEvq, type TestEvq } from '../helpers/evq.ts';

const chromiumPath = '/usr/bin/chromium';
const missingChromium = existsSync(chromiumPath)
  ? undefined
  : `${chromiumPath} not found; install Chromium (Debian package chromium) to run the GraphiQL browser tests`;
// The default reporter shows skipped tests without their note, so the reason goes to stderr too.
if (missingChromium) console.warn(`Skipping test/browser/graphiql.test.ts: ${missingChromium}`);

/**
 * Flags for a machine without internet access. The networking, component-update and sync flags
 * stop Chromium's background requests to Google services, which would only fail there.
 */
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** GraphiQL's localStorage key for the headers pane, which GraphiQL reads on load. */
const headersStorageKey = 'graphiql:headers';

let evq: TestEvq;
let browser: Browser;

beforeAll(async () => {
  if (missingChromium) return;
  evq = await startEvq();
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
});

afterAll(async () => {
  await browser?.close();
  await evq?.close();
});

beforeEach((context) => {
  context.skip(missingChromium !== undefined, missingChromium);
});

interface GraphiQLPage {
  page: Page;
  /** URLs of every request and WebSocket that the page opened. */
  requestedUrls: string[];
}

/**
 * Opens GraphiQL in a fresh browser context with `query` in the editor and `headers` in the
 * headers pane. Waits for GraphiQL's schema request, which carries those headers.
 */
async function openGraphiQL(query: string, headers: Record<string, string>): Promise<GraphiQLPage> {
  const context = await browser.newContext();
  onTestFinished(async () => {
    await context.close();
  });
  const requestedUrls: string[] = [];
  context.on('request', (request) => requestedUrls.push(request.url()));
  const page = await context.newPage();
  page.on('websocket', (socket) => requestedUrls.push(socket.url()));

  await page.addInitScript(
    ([key, value]) => localStorage.setItem(key, value),
    [headersStorageKey, JSON.stringify(headers)] as const,
  );
  const schemaRequested = page.waitForResponse((response) => requestBody(response).includes('__schema'));
  await page.goto(`${evq.url}/graphql?query=${encodeURIComponent(query)}`);
  await schemaRequested;
  return { page, requestedUrls };
}

function requestBody(response: PageResponse): string {
  return response.request().postData() ?? '';
}

/** Clicks GraphiQL's run button, which runs the query in the editor. */
async function run(page: Page): Promise<void> {
  await page.click('.graphiql-execute-button');
}

/** Returns the text of GraphiQL's result pane, with ordinary spaces for the editor's non-breaking ones. */
async function resultText(page: Page): Promise<string> {
  const text = await page.locator('.result-window').innerText();
  return text.replaceAll('\u00a0', ' ');
}

/** Returns the host that `url` loads from, or null for a data: URL, which loads nothing. */
function hostOf(url: string): string | null {
  const parsed = new URL(url);
  if (parsed.protocol === 'data:') return null;
  // A blob: URL such as blob:http://127.0.0.1:8080/<uuid> belongs to the origin that created it.
  if (parsed.protocol === 'blob:') return new URL(parsed.pathname).hostname;
  return parsed.hostname;
}

function urlsOutsideLoopback(urls: string[]): string[] {
  return urls.filter((url) => {
    const host = hostOf(url);
    return host !== null && host !== '127.0.0.1';
  });
}

const authorization = { Authorization: `Bearer ${adminToken}` };

describe('GraphiQL in Chromium', () => {
  it('query shows the created queue', async () => {
    const queue = await evq.createQueue();
    const { page, requestedUrls } = await openGraphiQL('query { queues { name } }', authorization);

    await run(page);

    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain(`"name": "${queue}"`);
    expect(await resultText(page)).not.toContain('"errors"');
    expect(urlsOutsideLoopback(requestedUrls)).toEqual([]);
  });

  it('subscription shows published messages', async () => {
    const queue = await evq.createQueue();
    const subscription = `subscription { messages(queue: "${queue}", from: EARLIEST) { id key data publishedAt cursor } }`;
    const { page, requestedUrls } = await openGraphiQL(subscription, authorization);

    const streamOpened = page.waitForResponse((response) => requestBody(response).includes('messages('), { timeout: 10_000 });
    await run(page);
    const stream = await streamOpened.catch((error: Error) => {
      const reason = 'GraphiQL sent no POST /graphql for the subscription within 10 s, so it does not use SSE over POST';
      throw new Error(`${reason}. Check the graphiql options in src/graphql/yoga.ts. ${error.message}`);
    });
    expect(stream.status()).toBe(200);
    expect(await stream.headerValue('content-type')).toBe('text/event-stream');

    // The stream's headers can arrive before evq reads the queue, and from: EARLIEST delivers the first message either way.
    const first = await evq.rest('/queue/publish', { queue, data: { n: 1 } });
    expect(first.status).toBe(200);
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain(`"id": "${first.body.id}"`);

    // The first message arrived, so the subscription is live and the second one shows as it is published.
    const second = await evq.rest('/queue/publish', { queue, data: { n: 2 } });
    expect(second.status).toBe(200);
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain(`"id": "${second.body.id}"`);
    expect(urlsOutsideLoopback(requestedUrls)).toEqual([]);
  });

  it('subscription without token shows UNAUTHENTICATED', async () => {
    const queue = await evq.createQueue();
    const { page } = await openGraphiQL(`subscription { messages(queue: "${queue}") { id } }`, {});

    await run(page);

    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('"code": "UNAUTHENTICATED"');
  });
});
