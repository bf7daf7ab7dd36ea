// Claim status and remittance in real Chromium, as the demo office's claims user works them:
// the recent claims, a claim's status in words with each line explained, a search by member ID
// and dates of service (a POST: nothing of it in the address bar), a search with a mistake, the
// payments list, a payment with its claims, and the 835 download.
import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { base, signIn } from './signin';

const shots = path.resolve(__dirname, '..', 'test-results');

test('claim status search and remittance as the claims user', async ({ page }) => {
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && !/status of 4\d\d/.test(text)) throw new Error(`console error: ${text}`);
  });
  await signIn(page, 'claims');
  const nav = page.getByRole('navigation', { name: 'Main' });

  // Recent claims, then one claim: status in words, lines explained.
  await nav.getByRole('link', { name: 'Claims', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Claims', exact: true })).toBeVisible();
  const first = page.locator('#claims tbody tr').first();
  await expect(first).toBeVisible();
  const member = (await first.locator('td').nth(1).locator('.hint').textContent())!.trim();
  const serviceDate = (await first.locator('td').nth(3).textContent())!.trim();
  await page.screenshot({ path: path.join(shots, 'claims-list.png'), fullPage: true });

  // A decided claim: find one whose status is not Received.
  const decided = page.locator('#claims tbody tr').filter({ hasText: /Paid|Denied|Partially paid/ }).first();
  await decided.locator('a').first().click();
  await expect(page.locator('#claim-status-words')).toHaveText(/^(Paid|Denied|Partly|Approved|Partly approved)/);
  await expect(page.locator('tr.explanation').first()).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'claim-detail.png'), fullPage: true });

  // Search by member ID and dates of service: a POST, so the address bar holds none of it.
  await page.goto(`${base()}/claims`);
  await page.getByLabel('Member ID').fill(member);
  await page.getByRole('button', { name: 'Search claims' }).click();
  await expect(page.locator('#s-from-error')).toContainText('first date of service');
  await page.screenshot({ path: path.join(shots, 'claims-search-error.png'), fullPage: true });
  await page.getByLabel('Dates of service from').fill(serviceDate);
  await page.getByLabel('to (included)').fill(serviceDate);
  await page.getByRole('button', { name: 'Search claims' }).click();
  await expect(page.locator('#results-title')).toContainText('matching claim');
  expect(page.url()).not.toContain(member);
  await expect(page.locator('#claims tbody tr').first()).toContainText(member);
  await page.screenshot({ path: path.join(shots, 'claims-search.png'), fullPage: true });

  // Remittance: the payments, one payment, its 835.
  await nav.getByRole('link', { name: 'Remittance' }).click();
  await expect(page.getByRole('heading', { name: 'Remittance' })).toBeVisible();
  await expect(page.locator('#payments tbody tr').first()).toBeVisible();
  await expect(page.locator('#payments-count')).toContainText('Payments 1–');
  await page.screenshot({ path: path.join(shots, 'remittance-list.png'), fullPage: true });
  await page.locator('#payments tbody tr').first().locator('a').first().click();
  await expect(page.getByRole('heading', { name: /^Payment \d{10}$/ })).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'remittance-detail.png'), fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#download-835').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^835-\d{8}-\d{10}\.x12$/);
  const file = await download.path();
  const text = fs.readFileSync(file!, 'utf8');
  expect(text.startsWith('ISA*')).toBeTruthy();
  expect(text).toContain('ST*835*');
});
