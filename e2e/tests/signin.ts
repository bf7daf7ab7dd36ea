// The one sign-in every spec uses. Spec files run in parallel workers and several sign in to the
// same demo account, so the authenticator is shared through files in e2e/test-results/:
//   mfa-<user>.json   the account's TOTP secret and the last step any spec used (the portal
//                     accepts each 30-second step once per account, and one step either side of
//                     now);
//   mfa-<user>.lock/  a directory made with mkdir (atomic) while one worker enrols the account
//                     or types a code for it, so two workers never race for the same step or
//                     enrol the same account twice.
// global-setup.ts removes both at the start of a run (each run starts a fresh portal).
import { expect, Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeAt } from './totp';

export const base = () => {
  const url = process.env.PORTAL_BASE_URL;
  if (!url) throw new Error('PORTAL_BASE_URL unset: global-setup did not run');
  return url;
};
export const demoPassword = () => process.env.PORTAL_DEMO_PASSWORD || 'e2e-demo-password';

const dir = path.resolve(__dirname, '..', 'test-results');
const stem = (username: string) => path.join(dir, `mfa-${username.replace(/[^a-z0-9._-]/gi, '_')}`);
const nowStep = () => Math.floor(Date.now() / 1000 / 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a worker waits for another's lock, and when a lock is taken to be left behind. */
const LOCK_WAIT_MS = 60_000;
const LOCK_STALE_MS = 90_000;

type State = { secret: string; last: number };

function readState(username: string): State | null {
  try {
    return JSON.parse(fs.readFileSync(`${stem(username)}.json`, 'utf8')) as State;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function writeState(username: string, state: State) {
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${stem(username)}.json.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, `${stem(username)}.json`);
}

/** Runs `fn` holding the account's lock (a directory: mkdir either makes it or fails). */
async function withLock<T>(username: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(dir, { recursive: true });
  const lock = `${stem(username)}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    try {
      if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
    } catch {
      continue; // released between mkdir and stat
    }
    if (Date.now() > deadline) throw new Error(`waited ${LOCK_WAIT_MS} ms for the sign-in lock of ${username}`);
    await sleep(100 + Math.random() * 100);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A step the portal will take: after the last one used, and `now` or `now + 1` (not `now - 1`,
 * which could pass out of the window while the form is sent). Waits for the clock otherwise.
 */
async function nextStep(last: number): Promise<number> {
  for (;;) {
    const now = nowStep();
    const step = Math.max(last + 1, now);
    if (step <= now + 1) return step;
    await sleep(1000);
  }
}

/** Password step: lands on enrolment or on the code page. */
async function passwordStep(page: Page, username: string, password: string): Promise<'enrol' | 'code'> {
  await page.goto(`${base()}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  const enrol = page.getByRole('heading', { name: 'Set up two-step sign-in', exact: true });
  const code = page.getByRole('heading', { name: 'Two-step sign-in', exact: true });
  const refused = page.locator('#login-error');
  await expect(enrol.or(code).or(refused)).toBeVisible();
  if (await refused.isVisible()) throw new Error(`${username} was refused at the password: ${await refused.textContent()}`);
  return (await enrol.isVisible()) ? 'enrol' : 'code';
}

/**
 * Signs `username` in with two-step sign-in: enrols the authenticator when the portal asks
 * (saving the secret for every other spec), types a fresh shared code otherwise. Ends on the
 * signed-in home page ("Welcome, …"). Safe when another worker signs in to the same account at
 * the same moment.
 */
export async function signIn(page: Page, username: string, password: string = demoPassword()): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const stage = await passwordStep(page, username, password);
    const done = await withLock(username, async () => {
      const state = readState(username);
      if (stage === 'enrol') {
        // Another worker enrolled the account while this one was at the password: this pending
        // sign-in is stale. Start again; the portal now asks for a code.
        if (state) return false;
        const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s+/g, '');
        await expect(page.locator('.qr svg')).toBeVisible();
        const step = await nextStep(-1);
        await page.getByLabel('Code from the app').fill(codeAt(secret, step));
        await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
        await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
        writeState(username, { secret, last: step });
        await expect(page.locator('#recovery-codes li')).toHaveCount(10);
        await page.getByRole('link', { name: /I saved them/ }).click();
        return true;
      }
      if (!state) throw new Error(`${username} has two-step sign-in but no spec saved its secret in this run`);
      const step = await nextStep(state.last);
      // Taken whether or not the portal accepts it: a step is never offered twice.
      writeState(username, { ...state, last: step });
      await page.getByLabel('Code').fill(codeAt(state.secret, step));
      await page.getByRole('button', { name: 'Sign in' }).click();
      const welcome = page.getByRole('heading', { level: 1, name: /Welcome/ });
      const error = page.locator('#code-error');
      await expect(welcome.or(error)).toBeVisible();
      if (await error.isVisible()) {
        const why = (await error.textContent())?.trim();
        if (attempt >= 2) throw new Error(`${username}: the portal refused the code for step ${step}: ${why}`);
        return false;
      }
      return true;
    });
    if (done) break;
    if (attempt >= 3) throw new Error(`${username}: could not sign in after ${attempt} attempts`);
  }
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Welcome');
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByText('You are signed out.')).toBeVisible();
}
