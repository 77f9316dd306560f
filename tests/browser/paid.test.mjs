// Journey (1): a paid plan through Stripe Checkout, the payment landing while the app waits, and
// a teammate joining through the mailed invite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, CONTROL, launch, close, person, onScreen, capture, mailLink, newEmail, signUp, verifyFromMail,
} from './lib.mjs';

test('paid plan through Checkout, through the pages', async (t) => {
  const browser = await launch();
  try {
    const { page } = await person(browser);
    const email = newEmail('payer');
    // Stripe's hosted pages are not reachable from a test: the browser gets stand-ins.
    await page.route('https://checkout.stripe.test/**', (route) => route.fulfill({
      contentType: 'text/html', body: '<!doctype html><title>Checkout</title><h1>Stripe Checkout (test)</h1>',
    }));
    await page.route('https://billing.stripe.test/**', (route) => route.fulfill({
      contentType: 'text/html', body: '<!doctype html><title>Portal</title><h1>Stripe billing portal (test)</h1>',
    }));

    await t.test('sign up, verify, create the workspace', async () => {
      await signUp(page, { email, name: 'Pat Payer' });
      await verifyFromMail(page, email);
      await page.getByRole('link', { name: 'Continue' }).click();
      await onScreen(page, 'welcome');
      await page.getByLabel('Workspace name').fill('Paid Co');
      await page.getByRole('button', { name: 'Create workspace' }).click();
      await onScreen(page, 'select-plan');
    });

    await t.test('seats are bounded by the members and the plan, and Checkout opens', async () => {
      const seats = page.locator('#seats-team');
      assert.equal(await seats.getAttribute('min'), '1');
      assert.equal(await seats.getAttribute('max'), '5');
      await seats.fill('2');
      await page.locator('[data-choose=team]').click();
      await page.waitForURL('https://checkout.stripe.test/**');
    });

    await t.test('back from Checkout: payment pending, then the workspace without a reload', async () => {
      await page.goto(`${BASE}/billing/success?session_id=cs_test_back`);
      await onScreen(page, 'payment-pending');
      await capture(page, 'payment-pending-checkout');
      await page.evaluate(() => { window.__sameDocument = true; });
      const paid = await fetch(`${CONTROL}/complete-checkout`, { method: 'POST' });
      assert.equal(paid.status, 200, await paid.text());
      await onScreen(page, 'get-started');
      assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');
      await page.locator('.checklist [data-step=verify_email][data-state=done]').waitFor();
      await page.locator('.checklist [data-step=choose_plan][data-state=done]').waitFor();
      assert.equal(await page.locator('.topbar [data-trial-state]').getAttribute('data-trial-state'), 'paid');
      await capture(page, 'get-started-paid');
    });

    await t.test('billing: active, 2 seats, Manage billing opens the portal', async () => {
      await page.getByRole('link', { name: 'Billing', exact: true }).click();
      await onScreen(page, 'billing');
      assert.match(await page.getByTestId('billing-status').innerText(), /active/);
      assert.equal(await page.getByTestId('billing-seats').innerText(), '2');
      // Said once: the plan's name is the heading, with no pill that repeats it; the 2 seats are
      // the ones paid for, beside the usage bar's members-of-limit.
      assert.equal(await page.locator('.panel h2 [data-trial-state]').count(), 0);
      await page.getByText('Seats paid for').waitFor();
      await capture(page, 'billing-paid');
      await page.locator('[data-action=portal]').click();
      await page.waitForURL('https://billing.stripe.test/**');
    });

    const mate = newEmail('teammate');
    await t.test('invite a teammate, who signs up, verifies and accepts', async () => {
      await page.goto(`${BASE}/settings/members`);
      await onScreen(page, 'members');
      await page.getByLabel('Email addresses').fill(mate);
      await page.getByRole('button', { name: 'Send invites' }).click();
      await page.locator('[data-testid=invite-results] [data-result=created]').waitFor();

      const teammate = await person(browser);
      const p = teammate.page;
      await p.goto(await mailLink(mate, '/invites/'));
      await onScreen(p, 'accept-invite');
      await p.getByRole('link', { name: 'Create an account' }).click();
      await onScreen(p, 'signup');
      await p.getByLabel('Your name').fill('Tia Teammate');
      await p.getByLabel('Work email').fill(mate);
      await p.getByLabel('Password').fill('correct horse battery staple');
      await p.getByRole('button', { name: 'Create account' }).click();
      await onScreen(p, 'verify-email');
      if (await p.getByTestId('check-email').isVisible()) await verifyFromMail(p, mate);
      await p.getByRole('link', { name: 'Continue' }).click();
      await onScreen(p, 'accept-invite');
      await p.locator('[data-action=accept]').click();
      await onScreen(p, 'get-started');
      await teammate.context.close();
    });

    await t.test('the owner sees two members on two seats', async () => {
      await page.goto(`${BASE}/settings/members`);
      await onScreen(page, 'members');
      assert.equal(await page.getByTestId('member-count').innerText(), '2 members');
      await page.goto(`${BASE}/billing`);
      await onScreen(page, 'billing');
      assert.match(await page.locator('[data-usage=seats]').innerText(), /^2 of /);
      assert.equal(await page.getByTestId('billing-seats').innerText(), '2');
    });
  } finally {
    await close(browser);
  }
});
