// Reflow and accessibility walk (WCAG 2.1 1.4.10 and axe-core's A/AA rules): every GET page of
// `web::routes::table()` (the list in routes.ts) as a visitor and as every demo role, at a phone
// width (390 px) and a laptop width (1366 px). Each page must have no axe violation and must not
// be wider than the window; at phone width no table may scroll sideways either (tables become
// stacked cards there). Pages with path parameters are opened from the first matching link on a
// page already walked. REFLOW_WIDTHS=320,390,683,1366 walks other widths (683 px is 1366 px at
// 200% zoom); REFLOW_SHOTS=DIR saves a full-page screenshot of every page walked.
import AxeBuilder from '@axe-core/playwright';
import { expect, Page, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GET_ROUTES } from './routes';
import { base, demoPassword, signIn } from './signin';

const WIDTHS = (process.env.REFLOW_WIDTHS || '390,1366').split(',').map(Number);
const PHONE = 700; // below this, tables are cards and must not scroll sideways
const SHOTS = process.env.REFLOW_SHOTS || '';
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const results = path.resolve(__dirname, '..', 'test-results');

// Every demo account (one per role; office2 is a second office's office user, same role as office).
const ROLES = ['visitor', 'office', 'claims', 'officeadmin', 'edi', 'relations', 'reviewer', 'appeals', 'network', 'planadmin'];

const pattern = (p: string) => new RegExp('^' + p.replace(/\{[^}]+\}/g, '[^/?#]+') + '$');

/** Axe violations and overflow of the page as it is now; empty when it passes. */
async function check(page: Page, width: number): Promise<string[]> {
  const problems: string[] = [];
  const axe = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  for (const v of axe.violations) {
    const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ');
    problems.push(`axe ${v.id} (${v.impact}): ${v.help} [${v.nodes.length}x: ${where}]`);
  }
  const over = await page.evaluate((phone) => {
    const out: string[] = [];
    const vw = window.innerWidth;
    const doc = document.documentElement.scrollWidth;
    if (doc > vw) {
      // Name the outermost elements that stick out, to say what to fix.
      const wide = Array.from(document.querySelectorAll('body *')).filter((e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.right > vw + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > vw + 1);
      });
      const name = (e: Element) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
      out.push(`page ${doc}px wide in a ${vw}px window: ${wide.slice(0, 4).map(name).join(', ')}`);
    }
    if (vw < phone) {
      document.querySelectorAll('.table-scroll').forEach((e) => {
        if (e.scrollWidth > e.clientWidth + 1) out.push(`table scrolls sideways (${e.scrollWidth}px in ${e.clientWidth}px): ${e.querySelector('table')?.id || '(no id)'}`);
      });
    }
    return out;
  }, PHONE);
  return problems.concat(over);
}

type Walked = { role: string; width: number; path: string; route: string; problems: string[] };

/** Opens `url` and checks it at every width; false when this role does not get the page. */
async function walk(page: Page, role: string, route: string, url: string, out: Walked[]) {
  // A route this role may not use answers an error page (or the sign-in page): not walked here.
  const res = await page.goto(url).catch(() => null);
  const status = res?.status() ?? 0;
  const type = res?.headers()['content-type'] || '';
  const landed = new URL(page.url()).pathname;
  if (status !== 200 || !type.startsWith('text/html') || landed !== new URL(url).pathname) return false;
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    const problems = await check(page, width);
    out.push({ role, width, path: new URL(url).pathname + new URL(url).search, route, problems });
    if (SHOTS) {
      const file = `${role}-${width}-${route.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'home'}.png`;
      await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
    }
  }
  return true;
}

/** The password step alone: the page is the enrolment or the code step (whichever is due). */
async function stagePage(page: Page, username: string): Promise<string> {
  await page.goto(`${base()}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(demoPassword());
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/(mfa\/enrol|login\/code)(\?|$)/);
  return new URL(page.url()).pathname;
}

function report(role: string, walked: Walked[], skipped: string[]) {
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(path.join(results, `reflow-${role}.json`), JSON.stringify({ walked, skipped }, null, 1));
  const bad = walked.filter((w) => w.problems.length);
  console.log(`reflow ${role}: ${walked.length} page views (${new Set(walked.map((w) => w.path)).size} pages x ${WIDTHS.join('/')} px), ${bad.length} with problems; not walked: ${skipped.join('; ') || 'none'}`);
  return bad.flatMap((w) => w.problems.map((p) => `${w.role} ${w.width}px ${w.path}: ${p}`));
}

for (const role of ROLES) {
  test(`reflow and axe: every page as ${role} at ${WIDTHS.join(' and ')} px`, async ({ browser }) => {
    test.setTimeout(600_000);
    if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });
    const walked: Walked[] = [];
    const skipped: string[] = [];

    // The sign-in step this account is at, in a context of its own (nothing is typed there).
    if (role !== 'visitor') {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      const at = await stagePage(p, role);
      await walk(p, role, at, `${base()}${at}`, walked);
      await ctx.close();
    }

    const page = await (await browser.newContext()).newPage();
    if (role !== 'visitor') await signIn(page, role);
    const hrefs = new Set<string>();
    for (const r of GET_ROUTES) {
      if (r.how !== 'page') continue;
      const url = `${base()}${r.path}${r.query ? '?' + r.query : ''}`;
      if (await walk(page, role, r.path, url, walked)) {
        for (const h of await page.locator('a[href^="/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')!))) hrefs.add(h);
      }
    }
    for (const r of GET_ROUTES) {
      if (r.how === 'skip') continue;
      if (r.how !== 'link') continue;
      const re = pattern(r.path);
      const href = [...hrefs].find((h) => re.test(h.split(/[?#]/)[0]));
      if (!href) {
        skipped.push(`${r.path} (no link to it on this role's pages)`);
        continue;
      }
      if (!(await walk(page, role, r.path, `${base()}${href}`, walked))) skipped.push(`${r.path} (link did not open a page)`);
    }
    expect(walked.length).toBeGreaterThan(0);
    expect(report(role, walked, skipped)).toEqual([]);
  });
}

/** Axe and width at both widths of the page as it is, with a screenshot when asked. */
async function checkHere(page: Page, name: string): Promise<string[]> {
  const problems: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    problems.push(...(await check(page, width)).map((p) => `${width}px ${name}: ${p}`));
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `form-${width}-${name}.png`), fullPage: true });
  }
  return problems;
}

test('a form sent back with errors: focus on the summary, which links each field', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 900 });
  await page.goto(`${base()}/register`);
  await page.getByRole('button', { name: 'Send registration' }).click();
  const summary = page.locator('.error-summary');
  await expect(summary).toBeFocused();
  const errors = await page.locator('.field-error[id]').count();
  expect(errors).toBeGreaterThan(1);
  const links = summary.getByRole('link');
  await expect(links).toHaveCount(errors);
  const href = (await links.first().getAttribute('href'))!;
  expect(href).toMatch(/^#[\w-]+$/);
  await links.first().click();
  await expect(page.locator(href)).toBeFocused();
  expect(await checkHere(page, 'register-errors')).toEqual([]);
});

test('an eligibility result and a failed lookup at both widths', async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, 'office');
  await page.goto(`${base()}/alerts`);
  const cells = page.locator('#worklist tbody tr').first().locator('td');
  const id = (await cells.nth(1).textContent())!.trim();
  const birth = (await cells.nth(2).textContent())!.trim();
  await page.goto(`${base()}/eligibility`);
  await page.getByLabel('Member ID').fill(id);
  await page.getByLabel('Birth date').fill(birth);
  await page.getByRole('button', { name: /Check eligibility/ }).click();
  await expect(page.locator('.elig-result').first()).toBeVisible();
  const problems = await checkHere(page, 'eligibility-result');

  await page.goto(`${base()}/eligibility`);
  await page.getByLabel('Member ID').fill(id);
  await page.getByLabel('Birth date').fill('13/45/19');
  await page.getByRole('button', { name: /Check eligibility/ }).click();
  await expect(page.locator('.error-summary')).toBeFocused();
  await expect(page.locator('.error-summary').getByRole('link').first()).toHaveAttribute('href', /^#/);
  problems.push(...(await checkHere(page, 'eligibility-errors')));
  expect(problems).toEqual([]);
});
