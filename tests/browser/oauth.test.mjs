// Journey (3): sign up with the OIDC test provider from the sign-up page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROL, launch, close, person, onScreen, capture, apiGet } from './lib.mjs';

test('sign in with the OIDC provider, through the pages', async () => {
  const { sub, email } = await (await fetch(`${CONTROL}/oidc-user`)).json();
  const browser = await launch();
  try {
    const { page } = await person(browser);
    await page.goto('/signup');
    await onScreen(page, 'signup');
    await page.locator('[data-provider=mock]').click();
    // The provider's own authorization page: sign in as the prepared user.
    await page.locator('input[name=sub]').waitFor();
    await page.locator('input[name=sub]').fill(sub);
    await page.locator('form').first().evaluate((form) => form.submit());
    await onScreen(page, 'welcome');
    const me = await apiGet(page, '/v1/users/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.email, email);
    assert.equal(me.body.email_verified, true);
    // Cookie-only: nothing the page can read holds a token.
    const readable = await page.evaluate(() => document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage));
    assert.doesNotMatch(readable, /eyJ/, 'no JWT readable by page scripts');
    await capture(page, 'welcome-after-sso');
  } finally {
    await close(browser);
  }
});
