// Journey (4): with the grace period over, an unverified person meets the verification wall;
// verifying from the mail takes them through.
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
  } finally {
    await close(browser);
  }
});
