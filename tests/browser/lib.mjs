// Shared by the journeys: the system Chromium through the pinned playwright-core (installed by
// ./tests/run into ~/.cache/onramp-tools/browser-node), the harness control server, and `capture`:
// a screenshot of the screen at 375 px and 1280 px plus an axe-core check (no serious or critical
// violation), no text running out of its card or notice, and no uncaught error or CSP violation on
// the page.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';

const tools = process.env.ONRAMP_PLAYWRIGHT_DIR;
assert.ok(tools, 'ONRAMP_PLAYWRIGHT_DIR is set (the harness sets it)');
const require = createRequire(join(tools, 'package.json'));
const { chromium } = require('playwright-core');

export const BASE = process.env.ONRAMP_BASE_URL;
export const CONTROL = process.env.ONRAMP_CONTROL_URL;
const SHOTS = process.env.ONRAMP_SCREENSHOT_DIR || 'target/web-screenshots';
const AXE = readFileSync(new URL('./vendor/axe-core-4.10.3.min.js', import.meta.url), 'utf8');
export const PASSWORD = 'correct horse battery staple';

let profile = null;

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'onramp-chromium-'));
  // launch() cannot take --user-data-dir; a persistent context would share one profile across
  // the two people of a journey, so each context is fresh instead (incognito-like) and the
  // temporary profile directory below is only for Chromium's own files.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--disk-cache-dir=${join(profile, 'cache')}`],
  });
  return browser;
}

export async function close(browser) {
  await browser.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
}

/** A fresh person: a context of their own, a page, and the page's errors collected. */
export async function person(browser) {
  const context = await browser.newContext({ baseURL: BASE, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(msg.text())) page.problems.push(`csp: ${msg.text()}`);
  });
  page.setDefaultTimeout(15000);
  return { context, page };
}

/** Waits until the app shows `screen` (the router sets `data-screen` on <body>). */
export async function onScreen(page, screen) {
  await page.waitForFunction((name) => document.body.dataset.screen === name && !document.querySelector('.skeleton'), screen, { timeout: 15000 })
    .catch(async (err) => {
      const now = await page.evaluate(() => `${document.body.dataset.screen} at ${location.pathname}: ${document.querySelector('#app')?.innerText?.slice(0, 400)}`);
      throw new Error(`expected screen "${screen}", got ${now}\n${err.message}`);
    });
}

/** Screenshots at both widths and the axe check. */
export async function capture(page, name) {
  const seen = [];
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    await page.waitForTimeout(50);
    const path = join(SHOTS, `${name}-${width}.png`);
    await page.screenshot({ path, fullPage: true });
    seen.push(path);
    // Long unbroken text (a reference id, an email) must wrap inside its card or notice, not run
    // past its edge: a screenshot would show it, an assertion makes it fail.
    const spills = await page.evaluate(() => [...document.querySelectorAll('.card, .alert')]
      .filter((el) => el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${el.className}: ${el.innerText.slice(0, 60)}`));
    assert.deepEqual(spills, [], `text runs out of its box on ${name} at ${width} px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  const bad = await axe(page);
  assert.deepEqual(bad, [], `axe found serious/critical violations on ${name}`);
  assert.deepEqual(page.problems, [], `page errors on ${name}`);
  return seen;
}

async function axe(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE);
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** The newest mailed link to `to` containing `contains` (waits, bounded, in the harness). */
export async function mailLink(to, contains) {
  const url = `${CONTROL}/mail-link?to=${encodeURIComponent(to)}&contains=${encodeURIComponent(contains)}`;
  const response = await fetch(url);
  assert.equal(response.status, 200, `a mail to ${to} with a link containing ${contains}`);
  return (await response.json()).link;
}

/** The API as the page sees it (its cookies), for assertions only. */
export async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { credentials: 'same-origin' });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, path);
}

export function newEmail(tag) {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Signs a new person up through the pages and lands on "check your email". */
export async function signUp(page, { email, name, path = '/signup' }) {
  await page.goto(path);
  await onScreen(page, 'signup');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await onScreen(page, 'verify-email');
  await page.getByTestId('check-email').waitFor();
}

/** Opens the mailed verification link and continues. */
export async function verifyFromMail(page, email) {
  const link = await mailLink(email, '/verify-email?token=');
  await page.goto(link);
  await onScreen(page, 'verify-email');
  await page.getByTestId('verified').waitFor();
}
