// Authenticator secrets shared between spec files (they run in parallel workers): the spec
// that enrols an account's two-step sign-in writes its secret here, any other spec signing in
// to the same account reads it, and the last TOTP step used is kept with it, because the
// portal accepts each step once per account.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeAt } from './totp';

const dir = path.resolve(__dirname, '..', 'test-results');
const file = (username: string) => path.join(dir, `mfa-${username.replace(/[^a-z0-9._-]/gi, '_')}.json`);
const nowStep = () => Math.floor(Date.now() / 1000 / 30);

export function saveSecret(username: string, secret: string) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file(username), JSON.stringify({ secret, last: -1 }));
}

export function hasSecret(username: string): boolean {
  return fs.existsSync(file(username));
}

/** A code the portal will take for `username`: a step after the last one any spec used. */
export async function sharedCode(username: string): Promise<string> {
  for (;;) {
    const state = JSON.parse(fs.readFileSync(file(username), 'utf8')) as { secret: string; last: number };
    const now = nowStep();
    const step = Math.max(state.last + 1, now - 1);
    if (step <= now + 1) {
      fs.writeFileSync(file(username), JSON.stringify({ ...state, last: step }));
      return codeAt(state.secret, step);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
