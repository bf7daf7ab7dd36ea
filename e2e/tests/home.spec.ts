// The home page of a freshly started portal: layout landmarks, live plan figures, no console
// errors (which would include CSP violations), and a screenshot for a human to judge the design.
import { expect, test } from '@playwright/test';
import * as path from 'node:path';
import { base } from './signin';


test('home page renders with the portal layout', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));

  const res = await page.goto(`${base()}/`);
  expect(res?.status()).toBe(200);
  await expect(page).toHaveTitle('Home · Provider Portal');

  await expect(page.getByRole('banner')).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Home' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('main')).toBeVisible();
  await expect(page.getByRole('contentinfo')).toContainText('Database: sqlite');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();

  for (const line of ['Medi-Cal', 'OneCare (HMO D-SNP)', 'OneCare Connect', 'PACE']) {
    await expect(page.getByRole('heading', { name: line, exact: true })).toBeVisible();
  }
  // The demo plan was seeded: the member figure is live and non-zero.
  const members = page.locator('.figures div', { hasText: 'Members' }).locator('dd');
  await expect(members).toHaveText(/^[1-9][\d,]*$/);

  // The stylesheet applied (not blocked by CSP): the header is not the browser default.
  const headerBg = await page.locator('.site-header').evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(headerBg).not.toBe('rgba(0, 0, 0, 0)');

  await page.screenshot({ path: path.join(__dirname, '..', 'test-results', 'home.png'), fullPage: true });

  // The skip link is the first thing a keyboard reaches and moves focus to main.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to main content' })).toBeFocused();

  expect(problems).toEqual([]);
});

test('unknown pages get the 404 page in the layout', async ({ page }) => {
  const res = await page.goto(`${base()}/no/such/page`);
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});
