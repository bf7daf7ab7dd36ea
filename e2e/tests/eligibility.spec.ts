// Eligibility as a front desk uses it, in real Chromium: the clinical alerts dashboard of the
// office's assigned members, then one of those members checked by ID and birth date (spans,
// network, PCP, the plan's notices), by last name, a mistyped birth date answered next to the
// field, and a CSV batch uploaded, summarised and downloaded. Screenshots of the result and of
// the dashboard go to e2e/test-results/.
import { expect, Page, test } from '@playwright/test';
import * as path from 'node:path';
import { base, signIn } from './signin';

const shots = path.resolve(__dirname, '..', 'test-results');

test.describe.serial('eligibility', () => {
  let page: Page;
  // A member assigned to the office, read from the alerts worklist.
  let member = { id: '', name: '', last: '', birth: '' };

  test.beforeAll(async ({ browser }) => {
    page = await (await browser.newContext()).newPage();
    page.on('console', (msg) => {
      const text = msg.text();
      if (msg.type() === 'error' && !/status of 4\d\d/.test(text)) throw new Error(`console error: ${text}`);
    });
    await signIn(page, 'office');
  });

  test('the clinical alerts dashboard counts and lists the open care gaps', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Clinical alerts' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Clinical alerts' })).toBeVisible();
    const counts = page.getByRole('list', { name: 'Open care gaps by kind' }).getByRole('listitem');
    await expect(counts).toHaveCount(3);
    const rows = page.locator('#worklist tbody tr');
    await expect(rows.first()).toBeVisible();
    await page.screenshot({ path: path.join(shots, 'alerts.png'), fullPage: true });

    // Filtered to breast cancer screening: every row says so.
    await page.getByLabel('Show').selectOption({ label: 'Breast cancer screening (women 50-74)' });
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(page).toHaveURL(/gap=breast_screening/);
    const filtered = page.locator('#worklist tbody tr');
    const n = await filtered.count();
    expect(n).toBeGreaterThan(0);
    for (let i = 0; i < n; i++) await expect(filtered.nth(i).locator('td').nth(3)).toContainText('No mammogram since');

    const first = filtered.first().locator('td');
    // The worklist lists "Last, First"; the eligibility page says "First Last".
    const [lastName, firstName] = (await first.nth(0).textContent())!.trim().split(/,\s*/);
    member = {
      name: `${firstName} ${lastName}`,
      last: lastName,
      id: (await first.nth(1).textContent())!.trim(),
      birth: (await first.nth(2).textContent())!.trim(),
    };
    // Issued IDs (M + 11 digits + a check digit); older ones are M + 9 digits.
    expect(member.id).toMatch(/^M(\d{9}|\d{12})$/);
  });

  test('a member found by ID and birth date: spans, network, PCP and notices', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Eligibility' }).click();
    await page.getByLabel('Member ID').fill(member.id);
    await page.getByLabel('Birth date').fill(member.birth);
    await page.getByRole('button', { name: 'Check eligibility' }).click();
    // The criteria never go into the address bar.
    expect(page.url()).not.toContain(member.id);
    const result = page.locator('#eligibility-result');
    await expect(result.getByRole('heading', { level: 2 })).toHaveText(member.name);
    await expect(page.locator('#eligibility-status')).toContainText('Eligible on');
    await expect(page.locator('#spans tbody tr').first()).toBeVisible();
    await expect(page.locator('#network-name')).not.toBeEmpty();
    await expect(page.locator('#network-payer')).toContainText('pays claims');
    await expect(page.locator('#pcp-npi')).toHaveText(/^\d{10}$/);
    await expect(page.locator('#plan-notices li').first()).toBeVisible();
    await expect(page.locator('#care-gap-alert')).toContainText('open care gap');
    await page.screenshot({ path: path.join(shots, 'eligibility-result.png'), fullPage: true });
  });

  test('a member found by last name and birth date', async () => {
    await page.getByLabel('Member ID').fill('');
    await page.getByLabel('Last name').fill(member.last);
    await page.getByLabel('Birth date').fill(member.birth);
    await page.getByRole('button', { name: 'Check eligibility' }).click();
    const several = page.locator('#matches');
    if (await several.count()) {
      await several.getByRole('button', { name: `Check ${member.id}` }).click();
    }
    await expect(page.locator('#member-id')).toHaveText(member.id);
  });

  test('a mistyped birth date is named next to the field', async () => {
    await page.goto(`${base()}/eligibility`);
    await page.getByLabel('Member ID').fill(member.id);
    await page.getByLabel('Birth date').fill('02/30/1980');
    await page.getByRole('button', { name: 'Check eligibility' }).click();
    await expect(page.locator('#birth_date-error')).toContainText('not a date we can read');
    await expect(page.getByLabel('Birth date')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Birth date')).toHaveValue('02/30/1980');
  });

  test('a CSV batch is answered row by row and downloads', async () => {
    await page.goto(`${base()}/eligibility`);
    await page.getByRole('link', { name: 'batch eligibility' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Batch eligibility' })).toBeVisible();
    const csv = `member_id,birth_date\n${member.id},${member.birth}\nM999999999,01/01/1980\n${member.id},31/31/1980\n`;
    await page.getByLabel('CSV file').setInputFiles({ name: 'members.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Check the file' }).click();
    await expect(page.locator('#count-rows')).toHaveText('3');
    await expect(page.locator('#count-found')).toHaveText('1');
    await expect(page.locator('#count-not-found')).toHaveText('1');
    await expect(page.locator('#count-errors')).toHaveText('1');
    await page.screenshot({ path: path.join(shots, 'eligibility-batch.png'), fullPage: true });
    const href = await page.locator('#download').getAttribute('href');
    const res = await page.request.get(`${base()}${href}`);
    expect(res.status()).toBe(200);
    const lines = (await res.text()).trim().split(/\r?\n/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(`${member.id},`);
    expect(lines[1]).toContain(',found,');
    expect(lines[2]).toContain(',not_found,');
    expect(lines[3]).toContain(',error,');

    // A file that is not CSV is refused next to the field.
    await page.getByLabel('CSV file').setInputFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n') });
    await page.getByRole('button', { name: 'Check the file' }).click();
    await expect(page.locator('#file-error')).toContainText('not CSV');
  });
});
