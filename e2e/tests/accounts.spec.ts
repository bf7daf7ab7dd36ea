// The accounts path in real Chromium, as people walk it:
// 1. someone registers with NPI and TIN, the plan verifies and approves, the person sets a
//    password from the emailed link, enrols two-step sign-in, sees the office home, signs out;
// 2. an office user without claims inquiry finds claims absent, asks for it, the plan grants it,
//    and claims appear.
// The specs play the authenticator app (signin.ts) and read mail where the portal's transport
// drops it (the outbox shows it with the link masked).
import { Browser, expect, Page, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { base, signIn, signOut } from './signin';

const shots = path.resolve(__dirname, '..', 'test-results');

/** The demo office printed by `portal serve` on first start (global-setup keeps its output). */
function demoOffice(): { npi: string; tin: string } {
  const log = fs.readFileSync(path.join(shots, 'portal-serve.log'), 'utf8');
  const m = log.match(/NPI (\d{10})\s+TIN (\d{2}-\d{7})/);
  if (!m) throw new Error('the demo office is not in the portal-serve log');
  return { npi: m[1], tin: m[2] };
}

/** The newest message the portal's transport delivered to `to` (global-setup names the folder). */
function deliveredMail(to: string): string {
  const dir = process.env.PORTAL_E2E_MAIL_DIR;
  if (!dir) throw new Error('PORTAL_E2E_MAIL_DIR is not set (see global-setup.ts)');
  const mine = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .filter((m) => m.includes(`To: ${to}\r\n`));
  if (mine.length === 0) throw new Error(`no mail to ${to} in ${dir}`);
  return mine[mine.length - 1];
}

async function newPage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  // Script errors and CSP violations fail the test; a page answered with 4xx on purpose (a form
  // with errors, a refusal) is logged by Chromium too and is expected.
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && !/status of 4\d\d/.test(text)) throw new Error(`console error: ${text}`);
  });
  return page;
}

test.describe.serial('accounts', () => {
  test('register, plan approves, enrol MFA, sign in, office home, sign out', async ({ browser }) => {
    const office = demoOffice();
    const email = `pat.${Date.now()}@demo-office.test`;

    // 1. Registration, with an error next to the field first.
    const visitor = await newPage(browser);
    await visitor.goto(`${base()}/register`);
    await visitor.getByLabel('Full name').fill('Pat Newhire');
    await visitor.getByLabel('Work email').fill(email);
    await visitor.getByLabel('Office phone').fill('(714) 555-0142');
    await visitor.getByLabel('NPI').fill('1234567890');
    await visitor.getByLabel('Tax ID (TIN)').fill(office.tin);
    await visitor.getByLabel('Office or group name').fill('Demo Office');
    await visitor.getByLabel('What you do at the office').selectOption('front_desk');
    await visitor.getByRole('button', { name: 'Send registration' }).click();
    await expect(visitor.locator('#npi-error')).toContainText('check digit');
    await expect(visitor.getByLabel('Work email')).toHaveValue(email);
    await visitor.screenshot({ path: path.join(shots, 'register-error.png'), fullPage: true });
    await visitor.getByLabel('NPI').fill(office.npi);
    await visitor.getByRole('button', { name: 'Send registration' }).click();
    await expect(visitor.locator('#registration-submitted')).toContainText('pending verification');
    await expect(visitor.getByRole('main')).toContainText('call the office phone number you gave');

    // 2. Provider relations verifies and approves.
    const staff = await newPage(browser);
    await signIn(staff, 'relations');
    await staff.goto(`${base()}/plan/registrations`);
    await staff.getByRole('link', { name: 'Pat Newhire' }).click();
    await expect(staff.getByText(/matches/)).toBeVisible();
    await staff.screenshot({ path: path.join(shots, 'verify-detail.png'), fullPage: true });
    await staff.getByRole('button', { name: 'Approve' }).click();
    await expect(staff.getByRole('status')).toContainText('Approved');

    // 3. The approval email is in the outbox with its link masked; the recipient's copy (the
    //    mail transport's file) carries the activation link.
    await staff.goto(`${base()}/plan/outbox`);
    const mail = staff.locator('article.mail', { hasText: email }).first();
    const body = (await mail.locator('.mail-body').textContent()) || '';
    expect(body).toContain('/activate/[link sent to the recipient only]');
    expect(body).not.toMatch(/\/activate\/[0-9a-f]{64}/);
    await signOut(staff);
    const link = deliveredMail(email).match(/\/activate\/[0-9a-f]{64}/);
    expect(link).not.toBeNull();

    // 4. The new user sets a password, enrols MFA, lands on the office home, signs out.
    const user = await newPage(browser);
    await user.goto(`${base()}${link![0]}`);
    await user.getByLabel('New password', { exact: true }).fill('short');
    await user.getByLabel('New password again').fill('short');
    await user.getByRole('button', { name: 'Set password' }).click();
    await expect(user.locator('#password-error')).toContainText('at least 12');
    const password = 'orange grove harbor lantern';
    await user.getByLabel('New password', { exact: true }).fill(password);
    await user.getByLabel('New password again').fill(password);
    await user.getByRole('button', { name: 'Set password' }).click();
    await expect(user.getByText('Your password is set')).toBeVisible();
    await signIn(user, email, password);
    await expect(user.getByRole('heading', { level: 1 })).toHaveText('Welcome, Pat Newhire');
    const nav = user.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Claims' })).toHaveCount(0);
    await user.screenshot({ path: path.join(shots, 'office-home.png'), fullPage: true });
    await signOut(user);
    await user.goto(`${base()}/account`);
    await expect(user).toHaveURL(/\/login\?next=/);
  });

  test('claims access is requested, absent, then granted', async ({ browser }) => {
    const office = demoOffice();
    const page = await newPage(browser);
    await signIn(page, 'office');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Claims' })).toHaveCount(0);
    const refused = await page.goto(`${base()}/claims`);
    expect(refused?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
    await expect(page.getByText('separate access')).toBeVisible();

    await page.goto(`${base()}/account/claims-access`);
    await page.getByLabel(/NPI/).fill(office.npi);
    await page.getByLabel('Why do you need it?').fill('I post payments and follow up denials.');
    await page.getByRole('button', { name: 'Send request' }).click();
    await expect(page.getByRole('status')).toContainText('claims access was sent');

    const staff = await newPage(browser);
    await signIn(staff, 'relations');
    await staff.goto(`${base()}/plan/registrations?kind=claims`);
    await staff.getByRole('link', { name: 'Olivia Office' }).click();
    await staff.getByRole('button', { name: 'Approve' }).click();
    await expect(staff.getByRole('status')).toContainText('Approved');

    // The same session, next page: claims are there.
    await page.goto(`${base()}/`);
    await expect(nav.getByRole('link', { name: 'Claims', exact: true })).toBeVisible();
    await nav.getByRole('link', { name: 'Claims', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Claims', exact: true })).toBeVisible();
    await expect(page.locator('table.data-table tbody tr').first()).toBeVisible();
    await page.screenshot({ path: path.join(shots, 'claims.png'), fullPage: true });
  });

  test('the page warns before the idle logoff and signs out at fifteen minutes', async ({ browser }) => {
    const page = await newPage(browser);
    await page.clock.install();
    // Any account would do (sign-in is shared, signin.ts); office2 is signed in by no other test.
    await signIn(page, 'office2');
    await page.goto(`${base()}/account`);
    const warning = page.locator('#idle-warning');
    await expect(warning).toBeHidden();
    await page.clock.fastForward('13:01');
    await expect(warning).toBeVisible();
    await expect(warning).toContainText('You will be signed out in 1:5');
    await page.screenshot({ path: path.join(shots, 'idle-warning.png') });
    await page.getByRole('button', { name: 'Stay signed in' }).click();
    await expect(warning).toBeHidden();
    await page.clock.fastForward('15:01');
    await expect(page).toHaveURL(/\/login\?expired=1/);
    await expect(page.getByText('15 minutes without activity')).toBeVisible();
    await page.goto(`${base()}/account`);
    await expect(page, 'the session ended on the server too').toHaveURL(/\/login\?next=/);
  });
});
