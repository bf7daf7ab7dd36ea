// Prior authorization end to end in real Chromium:
// (The office administrator plays the office user: accounts.spec.ts changes what `office` may do.)
// 1. an office user opens one of the office's requests, then submits a new one for the same
//    member (finding the servicing provider with the search, which keeps what was typed);
// 2. the plan's reviewer finds it in the queue by deadline, takes it, is refused a denial
//    without a specific reason, then denies with a coded reason and words;
// 3. the office user sees the status, the denial reason, the deadline with its rule and the
//    timeline, and a notification.
// Screenshots of the queue, the timeline and the public metrics go to e2e/test-results/.
import { Browser, expect, Page, test } from '@playwright/test';
import * as path from 'node:path';
import { base, signIn, signOut } from './signin';

const shots = path.resolve(__dirname, '..', 'test-results');

async function newPage(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && !/status of 4\d\d/.test(text)) throw new Error(`console error: ${text}`);
  });
  return page;
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

test('submit, review and decide, status and timeline', async ({ browser }) => {
  test.setTimeout(120_000);
  const page = await newPage(browser);

  // 1. The office user.
  await signIn(page, 'officeadmin');
  await page.getByRole('link', { name: 'Authorizations', exact: true }).first().click();
  await expect(page.getByRole('heading', { name: 'Authorizations' })).toBeVisible();
  await page.locator('#auths tbody tr a').first().click();
  const member = (await page.locator('#request-facts dt:text("Member") + dd').textContent())!;
  const [, memberId, month, day, year] = member.match(/(M\d+) · born (\d\d)\/(\d\d)\/(\d{4})/)!;
  const servicing = (await page.locator('#servicing').textContent())!;
  const [, servicingName, servicingNpi] = servicing.match(/^\s*(.+?) · NPI (\d{10})/)!;

  await page.goto(`${base()}/authorizations/new`);
  await page.getByLabel('Member ID').fill(memberId);
  await page.getByLabel('Birth date').fill(`${year}-${month}-${day}`);
  // No requesting provider is assumed: the office chooses one.
  await expect(page.getByLabel('Requesting provider (your office)')).toHaveValue('');
  await page.getByLabel('Requesting provider (your office)').selectOption({ index: 1 });
  await page.getByLabel('Diagnoses (ICD-10-CM)').fill('M17.11');
  await page.getByLabel('Code of service 1').fill('73721');
  await page.getByLabel('Units of service 1').fill('1');
  const today = new Date();
  await page.getByLabel('From date').fill(iso(today));
  await page.getByLabel('To date').fill(iso(new Date(today.getTime() + 30 * 86_400_000)));
  await page.getByLabel('Clinical notes').fill('Knee pain for 10 weeks despite physical therapy and injections.');
  // The provider search keeps everything typed.
  const word = servicingName.split(/[ ,]+/).find((w) => w.length >= 3)!;
  // Enter in the search box searches (it used to submit the whole request).
  await page.getByLabel('Find the servicing provider').fill(word);
  await page.getByLabel('Find the servicing provider').press('Enter');
  await expect(page.locator('#provider-results')).toBeVisible();
  await expect(page.getByLabel('Code of service 1')).toHaveValue('73721');
  await expect(page.getByLabel('Clinical notes')).toHaveValue(/10 weeks/);
  await expect(page.locator('#requirements')).toContainText('73721');
  await page.locator(`#provider-results input[value="${servicingNpi}"]`).check();
  await page.screenshot({ path: path.join(shots, 'authorizations-form.png'), fullPage: true });
  await page.getByRole('button', { name: 'Submit request' }).click();
  await expect(page.locator('#submitted')).toBeVisible();
  const number = (await page.getByRole('heading', { level: 1 }).textContent())!.replace('Authorization ', '').trim();
  expect(number).toMatch(/^A\d+$/);
  await expect(page.locator('#rule')).toContainText(/working days|calendar days|72 hours/);
  await signOut(page);

  // 2. The reviewer.
  await signIn(page, 'reviewer');
  await page.getByRole('link', { name: 'Review queue' }).click();
  await expect(page.getByRole('heading', { name: 'Utilization review' })).toBeVisible();
  await expect(page.locator('#queue')).toContainText(number);
  await expect(page.locator('#queue .status-overdue').first()).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'authorizations-queue.png'), fullPage: true });
  await page.getByRole('link', { name: number }).click();
  await page.getByRole('button', { name: 'Take this case' }).click();
  await expect(page.locator('#notice')).toContainText('assigned to you');
  await page.getByRole('radio', { name: 'Deny' }).check();
  await page.getByRole('button', { name: 'Record decision' }).click();
  await expect(page.locator('#reason_text-error')).toBeVisible();
  await expect(page.locator('#auth-status')).toHaveText('In review');
  await page.getByRole('radio', { name: 'Deny' }).check();
  await page.getByLabel('Denial reason (required to deny)').selectOption('MN01');
  await page.getByLabel('The specific reason, in words (sent to the office)').fill(
    'The notes do not show six weeks of conservative treatment with imaging of the knee; send the x-ray report and therapy notes.',
  );
  await page.getByRole('button', { name: 'Record decision' }).click();
  await expect(page.locator('#notice')).toContainText('Decision recorded');
  await expect(page.locator('#auth-status')).toHaveText('Denied');
  await signOut(page);

  // 3. The office user again: status, reason, timeline, notification.
  await signIn(page, 'officeadmin');
  await page.getByRole('link', { name: 'Authorizations', exact: true }).first().click();
  await expect(page.locator('#unseen')).toBeVisible();
  await page.getByRole('link', { name: number }).click();
  await expect(page.locator('#auth-status')).toHaveText('Denied');
  await expect(page.locator('#denial-reason')).toContainText('MN01');
  await expect(page.locator('#denial-reason')).toContainText('x-ray report');
  await expect(page.locator('#timeline li')).toHaveCount(3);
  await expect(page.locator('#timeline')).toContainText('Received');
  await expect(page.locator('#timeline')).toContainText('Taken by a reviewer');
  await expect(page.locator('#timeline')).toContainText('Decided');
  await expect(page.locator('#servicing')).toContainText(servicingNpi);
  await page.screenshot({ path: path.join(shots, 'authorizations-timeline.png'), fullPage: true });
  await page.goto(`${base()}/notifications`);
  await expect(page.locator('#notices')).toContainText(number);
  await signOut(page);

  // The public metrics need no sign-in.
  await page.goto(`${base()}/prior-authorization/metrics?year=${today.getFullYear()}`);
  await expect(page.locator('#metrics')).toBeVisible();
  await expect(page.locator('svg[role="img"] title')).toHaveCount(1);
  await page.screenshot({ path: path.join(shots, 'authorizations-metrics.png'), fullPage: true });
});
