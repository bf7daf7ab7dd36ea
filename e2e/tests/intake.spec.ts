// Claim submission in real Chromium: the demo office's claims user signs in (enrolling
// two-step sign-in if no other spec has yet), uploads an 837P written by this spec for the demo
// office's billing NPI and TIN, reads how each claim came out (accepted with a claim number, or
// rejected and why), downloads the 277CA, and finds the file in the office's history.
import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { base, signIn } from './signin';

const shots = path.resolve(__dirname, '..', 'test-results');

function demoOffice(): { npi: string; tin: string } {
  const log = fs.readFileSync(path.join(shots, 'portal-serve.log'), 'utf8');
  const m = log.match(/NPI (\d{10})\s+TIN (\d{2}-\d{7})/);
  if (!m) throw new Error('the demo office is not in the portal-serve log');
  return { npi: m[1], tin: m[2].replace('-', '') };
}

/** An 837P (005010X222A1): one billing provider, one subscriber level per member. */
function an837p(npi: string, tin: string, members: string[], control: number): string {
  const d = new Date(Date.now() - 24 * 3600 * 1000);
  const ymd = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  const ctl = String(control).padStart(9, '0');
  const body: string[] = [
    'ST*837*0001*005010X222A1',
    `BHT*0019*00*B${control}*${ymd}*1200*CH`,
    'NM1*41*2*DEMO OFFICE BILLING*****46*DEMOOFFICE',
    'PER*IC*EDI DESK*TE*7145550100',
    'NM1*40*2*ORANGE COAST HEALTH PLAN*****46*OCHP',
    'HL*1**20*1',
    `NM1*85*2*DEMO MEDICAL GROUP*****XX*${npi}`,
    'N3*100 MAIN ST',
    'N4*SANTA ANA*CA*927011234',
    `REF*EI*${tin}`,
  ];
  members.forEach((m, i) => {
    body.push(
      `HL*${i + 2}*1*22*0`,
      'SBR*P*18*******CI',
      `NM1*IL*1*PATIENT*TEST${i + 1}****MI*${m}`,
      'N3*1 ELM ST',
      'N4*IRVINE*CA*92602',
      'DMG*D8*19800101*F',
      'NM1*PR*2*ORANGE COAST HEALTH PLAN*****PI*OCHP1',
      `CLM*E2E${control}-${i + 1}*150***11:B:1*Y*A*Y*Y`,
      'HI*ABK:J069',
      'LX*1',
      'SV1*HC:99213*120*UN*1***1',
      `DTP*472*D8*${ymd}`,
      'LX*2',
      'SV1*HC:87880*30*UN*1***1',
      `DTP*472*D8*${ymd}`,
    );
  });
  body.push(`SE*${body.length + 1}*0001`);
  const yymmdd = ymd.slice(2);
  return [
    `ISA*00*          *00*          *ZZ*DEMOOFFICE     *ZZ*OCHP           *${yymmdd}*1200*^*00501*${ctl}*0*P*:`,
    `GS*HC*DEMOOFFICE*OCHP*${ymd}*1200*${control}*X*005010X222A1`,
    ...body,
    `GE*1*${control}`,
    `IEA*1*${ctl}`,
  ].join('~\n') + '~\n';
}

test('an office uploads an 837P and reads its 999 and 277CA', async ({ page }) => {
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) throw new Error(`console error: ${msg.text()}`);
  });
  await signIn(page, 'claims');

  // The page, from the navigation.
  await page.getByRole('navigation').getByRole('link', { name: 'Submit claims' }).click();
  await expect(page.getByRole('heading', { name: 'Submit claims', level: 1 })).toBeVisible();
  // The history is the office's: empty on a fresh portal, or what the office sent before.
  await expect(page.locator('#no-submissions').or(page.locator('#submissions'))).toBeVisible();

  // Sending without a file says so next to the field.
  await page.getByRole('button', { name: 'Send claims' }).click();
  await expect(page.locator('#file-error')).toHaveText(/Choose the 837 file/);

  const office = demoOffice();
  // Four of the office's members, read from its claims (member IDs are not sequential, so
  // none can be made up), and one that is nobody.
  await page.goto(`${base()}/claims`);
  const seen = await page.locator('#claims tbody tr td:nth-child(2) .hint').allTextContents();
  const known = [...new Set(seen.map((m) => m.trim()))].slice(0, 4);
  expect(known.length).toBe(4);
  const members = [...known, 'M999999999'];
  await page.goto(`${base()}/submissions`);
  const control = Date.now() % 1_000_000_000;
  const x12 = an837p(office.npi, office.tin, members, control);
  // A file name of this run's own, so the history check below finds this file and no other.
  const name = `e2e-batch-${control}.837`;
  await page.getByLabel('837 file').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(x12) });
  await page.getByRole('button', { name: 'Send claims' }).click();

  await expect(page.getByRole('heading', { name: `Claim file ${name}` })).toBeVisible();
  await expect(page.locator('#sent-notice')).toBeVisible();
  await expect(page.locator('#submission-status')).toHaveText('Accepted');
  const rows = page.locator('#submission-claims tbody tr');
  await expect(rows).toHaveCount(5);
  // The unknown member is rejected in words; the plan's members are taken with a claim number
  // (or told why not, e.g. not covered on that day).
  await expect(rows.nth(4)).toContainText('Rejected');
  await expect(rows.nth(4)).toContainText('M999999999 (2010BA NM109) is not one of the plan');
  await expect(page.locator('#submission-claims a[href^="/claims/C"]').first()).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'intake.png'), fullPage: true });

  // The 277CA downloads as a file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the 277CA' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${name}.277CA`);
  const text = fs.readFileSync(await download.path(), 'utf8');
  expect(text).toContain('ST*277*0001*005010X214');
  expect(text).toContain('STC*A3:33');

  // The same file again is recognised, not stored twice.
  await page.goto(`${base()}/submissions`);
  await page.getByLabel('837 file').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(x12) });
  await page.getByRole('button', { name: 'Send claims' }).click();
  await expect(page.locator('#duplicate-notice')).toBeVisible();

  // And the history lists it once, newest first.
  await page.getByRole('link', { name: /Submit claims and past submissions/ }).click();
  const history = page.locator('#submissions tbody tr');
  await expect(history.filter({ hasText: name })).toHaveCount(1);
  await expect(history.first()).toContainText(name);
  await page.screenshot({ path: path.join(shots, 'intake-history.png'), fullPage: true });
});
