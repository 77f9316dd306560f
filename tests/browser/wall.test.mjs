// Journey (4): with the grace period over, an unverified person meets the verification wall;
// verifying from the mail takes them through; on the free plan, a fourth seat asks for an upgrade.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, close, person, onScreen, capture, newEmail, signUp, verifyFromMail } from './lib.mjs';

test('the verification wall after the grace period', async () => {
  const browser = await launch();
  try {
    const { page } = await person(browser);
    const email = newEmail('late');
    await signUp(page, { email, name: 'Lee Late' });
    await page.goto('/app');
    await onScreen(page, 'verification-wall');
    assert.match(await page.getByTestId('verification-wall').innerText(), new RegExp(email.replace(/[.+]/g, '\\$&')));
    await page.locator('[data-action=resend]').click();
    await page.locator('.resend .hint:not(:empty)').waitFor();
    await capture(page, 'verification-wall');
    await verifyFromMail(page, email);
    await page.getByRole('link', { name: 'Continue' }).click();
    await onScreen(page, 'welcome');

    // The free plan has 3 seats: inviting 3 more people than the owner answers LIMIT_EXCEEDED,
    // which shows the upgrade prompt.
    await page.getByLabel('Workspace name').fill('Small Co');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await onScreen(page, 'select-plan');
    await page.locator('[data-choose=free]').click();
    await onScreen(page, 'get-started');
    await page.getByRole('link', { name: 'Members' }).click();
    await onScreen(page, 'members');
    await page.getByLabel('Email addresses').fill(['a', 'b', 'c'].map((x) => newEmail(x)).join('\n'));
    await page.getByRole('button', { name: 'Send invites' }).click();
    await page.locator('[data-upgrade]').waitFor();
    assert.match(await page.locator('[data-upgrade]').innerText(), /See plans/);
    await capture(page, 'upgrade-prompt');
  } finally {
    await close(browser);
  }
});
