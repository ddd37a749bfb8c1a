// Browser test of the learner's path: claim → accept → share page →
// verify upload, in Debian's headless Chromium driven by playwright-core.
// Every page is screenshot at phone and desktop widths and checked with
// axe-core. It starts the real badges-local binary on a free loopback
// port with a temporary data folder.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const binary = process.env.BADGES_LOCAL_BIN ?? path.join(repoRoot, 'target', 'debug', 'badges-local');
const chromiumPath = process.env.BADGES_CHROMIUM ?? '/usr/bin/chromium';
const screenshotDir = process.env.BADGES_SCREENSHOT_DIR ?? path.join(repoRoot, 'tests', 'output', 'screenshots');
const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };
const DEMO_BADGE = 'rda-serials-cataloging-update';
// Markup, quotes, an ampersand and non-Latin scripts, which must show as text.
const TRICKY_NAME = 'Zoë "O\'Brien" <b>&amp;</b> 李华 Ярослава';
const TRICKY_BADGE = '<i>Catalogage</i> & "Métadonnées" 编目 \'Δ\'';

const adminToken = randomBytes(18).toString('hex');
let server;
let serverLog = '';
let baseUrl;
let dataDir;
let context;
const axeResults = [];

/** Returns a free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${serverLog}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function admin(method, route, body, contentType = 'application/json') {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** Decodes a quoted-printable MIME body (RFC 2045 section 6.7). */
function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Waits for the claim email of `awardId` in the outbox and returns its link. */
async function claimLink(awardId) {
  const outbox = path.join(dataDir, 'outbox');
  return waitFor(`the claim email of ${awardId}`, async () => {
    if (!existsSync(outbox)) return null;
    for (const name of (await readdir(outbox)).filter((file) => file.endsWith('.eml'))) {
      const message = decodeQuotedPrintable(await readFile(path.join(outbox, name), 'utf8'));
      const match = message.match(new RegExp(`${baseUrl.replace(/[.]/g, '\\.')}/claim/${awardId}\\?token=[A-Za-z0-9_-]+`));
      if (match) return match[0];
    }
    return null;
  });
}

/** Takes phone and desktop screenshots and runs axe-core at both widths. */
async function checkPage(page, name) {
  for (const [label, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(screenshotDir, `${name}-${label}.png`), fullPage: true });
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => {
      const report = await window.axe.run(document, { resultTypes: ['violations'] });
      return report.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.map((node) => node.target.join(' ')),
      }));
    });
    axeResults.push({ page: `${name} (${label})`, violations: result });
    const blocking = result.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
    assert.deepEqual(blocking, [], `${name} at ${label} width has serious or critical accessibility violations`);
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

before(async () => {
  assert.ok(existsSync(binary), `${binary} is missing: run cargo build -p badges-local first`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: install Debian's chromium package`);
  await mkdir(screenshotDir, { recursive: true });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'badges-browser-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(binary, ['--listen', `127.0.0.1:${port}`, '--data', path.join(dataDir, 'data')], {
    env: { ...process.env, BADGES_ADMIN_TOKEN: adminToken, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dataDir = path.join(dataDir, 'data');
  server.stdout.on('data', (chunk) => { serverLog += chunk; });
  server.stderr.on('data', (chunk) => { serverLog += chunk; });
  await waitFor('the server to answer', async () => {
    if (server.exitCode !== null) throw new Error(`badges-local exited with ${server.exitCode}\n${serverLog}`);
    try {
      return (await fetch(`${baseUrl}/`)).ok;
    } catch {
      return false;
    }
  });

  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'badges-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport: VIEWPORTS.desktop,
    acceptDownloads: true,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  // Nothing may leave the machine: block every request to another origin.
  await context.route((url) => !url.href.startsWith(`${baseUrl}/`), (route) => route.abort());
});

after(async () => {
  if (context) await context.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  if (dataDir) await rm(path.dirname(dataDir), { recursive: true, force: true });
  console.log(`Screenshots: ${screenshotDir}`);
  for (const { page, violations } of axeResults) {
    const summary = violations.length === 0 ? 'no violations' : violations.map((v) => `${v.id} (${v.impact})`).join(', ');
    console.log(`axe ${page}: ${summary}`);
  }
});

test('claim, accept, share and verify a badge', async () => {
  // GIVEN a badge with a tricky name and an award of it through the admin API.
  await admin('POST', '/admin/badges', {
    id: 'tricky-badge',
    name: TRICKY_BADGE,
    description: 'Describe <em>serials</em> & "continuing" resources: 连续出版物.',
    criteria: 'Attend the whole <session>.',
    format: 'Web course',
  });
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><circle cx="50" cy="50" r="48" fill="#1d4ed8"/></svg>';
  await admin('PUT', '/admin/badges/tricky-badge/image', svg, 'image/svg+xml');
  const award = await admin('POST', '/admin/awards', {
    badge_id: 'tricky-badge',
    recipient: { email: 'learner.browser@example.org', name: TRICKY_NAME },
    issued_on: '2020-05-22T00:00:00Z',
    expires_on: '2030-01-01T00:00:00Z',
  });
  const awardUrl = `${baseUrl}/awards/${award.id}`;
  const link = await claimLink(award.id);
  const page = await context.newPage();

  // The claim page.
  await page.goto(link);
  assert.equal(await page.locator('h1').textContent(), TRICKY_BADGE);
  assert.equal(await page.locator('main b').count(), 0, 'the recipient name is text, not markup');
  await checkPage(page, '01-claim');

  // Accepting leads to the award page with the owner's share tools.
  await Promise.all([page.waitForURL(awardUrl), page.getByRole('button', { name: 'Accept badge' }).click()]);
  await page.getByRole('heading', { name: 'Share your badge' }).waitFor();
  assert.equal(await page.locator('h1').textContent(), TRICKY_BADGE);
  assert.equal(await page.locator('main strong').first().textContent(), TRICKY_NAME);
  assert.equal(await page.locator('main i, main b, main em').count(), 0, 'no markup from the names');
  assert.equal(await page.title(), `${TRICKY_BADGE}: ${TRICKY_NAME} · Association for Library Collections & Technical Services (demo)`);
  const ogTitle = await page.locator('meta[property="og:title"]').getAttribute('content');
  assert.equal(ogTitle, `${TRICKY_BADGE}: ${TRICKY_NAME}`);

  // The LinkedIn link carries the UTC months and the encoded name.
  const linkedin = await page.locator('#linkedin-add').getAttribute('href');
  assert.ok(linkedin.includes('issueYear=2020&issueMonth=5&expirationYear=2030&expirationMonth=1'), linkedin);
  assert.ok(linkedin.includes(`&name=${encodeURIComponent(TRICKY_BADGE).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}&`), linkedin);
  assert.ok(linkedin.includes(`&certId=${award.id}`), linkedin);
  assert.equal(await page.locator('#linkedin-name').inputValue(), TRICKY_BADGE);
  assert.equal(await page.locator('#linkedin-issue-date').inputValue(), 'May 2020');

  // The copy-link button puts the award address on the clipboard.
  await page.locator('#copy-link').click();
  await page.locator('[data-copied-for="award-link"]', { hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), awardUrl);

  // The embed preview shows the public baked image, and the copied
  // snippet is valid HTML whose alt text is the names as text.
  const preview = page.locator('#embed-preview img');
  const publicPng = `${baseUrl}/images/awards/${award.id}/badge.png`;
  assert.equal(await preview.getAttribute('src'), publicPng);
  await waitFor('the preview image to load', () => preview.evaluate((img) => img.complete && img.naturalWidth > 0));
  await page.locator('input[name="embed-size"][value="250"]').check();
  assert.equal(await preview.getAttribute('width'), '250');
  await page.locator('#copy-embed').click();
  await page.locator('[data-copied-for="embed-code"]', { hasText: 'Copied' }).waitFor();
  const snippet = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(snippet, await page.locator('#embed-code').inputValue());
  const parsed = await page.evaluate((html) => {
    const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
    const anchor = doc.body.firstElementChild;
    const image = anchor.querySelector('img');
    return {
      elements: doc.body.querySelectorAll('*').length,
      tag: anchor.tagName,
      href: anchor.getAttribute('href'),
      src: image.getAttribute('src'),
      alt: image.getAttribute('alt'),
      width: image.getAttribute('width'),
    };
  }, snippet);
  assert.deepEqual(parsed, {
    elements: 2,
    tag: 'A',
    href: awardUrl,
    src: publicPng,
    alt: `${TRICKY_BADGE} badge awarded to ${TRICKY_NAME} by Association for Library Collections & Technical Services (demo)`,
    width: '250',
  });
  await checkPage(page, '02-award-owner');

  // Privacy: private hides the award from the learner page, public shows it again.
  const learnerPage = await page.locator('#learner-page').getAttribute('href');
  await Promise.all([page.waitForURL(awardUrl), page.locator('#make-private').click()]);
  assert.match(await page.locator('#visibility-state').textContent(), /^Private\./);
  const learner = await context.newPage();
  await learner.goto(learnerPage);
  assert.equal(await learner.locator(`a[href="${awardUrl}"]`).count(), 0);
  await Promise.all([page.waitForURL(awardUrl), page.locator('#make-public').click()]);
  assert.match(await page.locator('#visibility-state').textContent(), /^Public\./);
  await learner.reload();
  assert.equal(await learner.locator(`a[href="${awardUrl}"]`).count(), 1);
  assert.equal(await learner.locator('h1').textContent(), `Badges of ${TRICKY_NAME}`);
  await checkPage(learner, '03-learner');

  // The badge page and a visitor's view of the award page.
  await learner.goto(`${baseUrl}/badges/tricky-badge`);
  assert.equal(await learner.locator('h1').textContent(), TRICKY_BADGE);
  await checkPage(learner, '04-badge');
  await learner.close();

  // Download the baked PNG from the award page.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-png').click()]);
  const downloaded = path.join(path.dirname(dataDir), 'downloaded-badge.png');
  await download.saveAs(downloaded);

  // Verify the downloaded file by upload.
  await page.goto(`${baseUrl}/verify`);
  await checkPage(page, '05-verify-form');
  await page.locator('#verify-file').setInputFiles(downloaded);
  await page.locator('#verify-email').fill('learner.browser@example.org');
  await Promise.all([page.waitForURL(`${baseUrl}/verify`), page.locator('#verify-submit').click()]);
  await page.locator('#result').waitFor();
  assert.equal(await page.locator('#result-status').getAttribute('data-status'), 'valid');
  assert.equal(await page.locator('#result-status').textContent(), 'Valid badge');
  assert.ok((await page.locator('#result-summary').textContent()).includes(TRICKY_NAME));
  assert.ok(await page.getByText('The email address you gave matches the recipient.').isVisible());
  await checkPage(page, '06-verify-result');

  // Download the Open Badges 3.0 credential PNG from the award page and verify it too.
  await page.goto(awardUrl);
  assert.equal(await page.locator('#credential-link').getAttribute('href'), `${awardUrl}/credential.json`);
  const [credentialDownload] = await Promise.all([page.waitForEvent('download'), page.locator('#download-credential-png').click()]);
  const credentialFile = path.join(path.dirname(dataDir), 'downloaded-credential.png');
  await credentialDownload.saveAs(credentialFile);
  await page.goto(`${baseUrl}/verify`);
  await page.locator('#verify-file').setInputFiles(credentialFile);
  await page.locator('#verify-email').fill('learner.browser@example.org');
  await Promise.all([page.waitForURL(`${baseUrl}/verify`), page.locator('#verify-submit').click()]);
  await page.locator('#result').waitFor();
  assert.equal(await page.locator('#result-status').getAttribute('data-status'), 'valid');
  assert.equal(await page.locator('#result-version').textContent(), '3.0');
  assert.ok(await page.getByText('The email address you gave matches the recipient.').isVisible());
  await checkPage(page, '06b-verify-credential-result');

  // A visitor without the owner cookie sees no share tools.
  await context.clearCookies();
  await page.goto(awardUrl);
  assert.equal(await page.getByRole('heading', { name: 'Share your badge' }).count(), 0);
  await checkPage(page, '07-award-visitor');
});
