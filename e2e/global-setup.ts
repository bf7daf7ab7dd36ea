// Starts `portal serve` on a fresh temporary data directory and a free loopback port, waits for
// /healthz, and exports the base URL as PORTAL_BASE_URL (and its mail directory as
// PORTAL_E2E_MAIL_DIR) for the specs. The returned function
// stops the server and removes the directory. The binary is target/debug/portal unless
// PORTAL_BIN names another.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, exited: () => string | null, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new Error(`portal serve exited before it was healthy: ${why}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`portal serve was not healthy at ${url}/healthz within ${timeoutMs} ms`);
}

export default async function globalSetup() {
  const bin = process.env.PORTAL_BIN || path.resolve(__dirname, '..', 'target', 'debug', 'portal');
  if (!fs.existsSync(bin)) {
    throw new Error(`no portal binary at ${bin}: run \`cargo build --bin portal\` or set PORTAL_BIN`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logDir = path.resolve(__dirname, 'test-results');
  fs.mkdirSync(logDir, { recursive: true });
  // Authenticator secrets, last steps and locks of an earlier run (tests/signin.ts) belong to
  // that run's portal: this one starts with no account enrolled.
  for (const name of fs.readdirSync(logDir)) {
    if (name.startsWith('mfa-')) fs.rmSync(path.join(logDir, name), { recursive: true, force: true });
  }
  const log = fs.openSync(path.join(logDir, 'portal-serve.log'), 'w');

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PORTAL_')) delete env[k];
  Object.assign(env, {
    PORTAL_DATA_DIR: dataDir,
    PORTAL_LISTEN: `127.0.0.1:${port}`,
    PORTAL_DEMO_PASSWORD: process.env.PORTAL_DEMO_PASSWORD || 'e2e-demo-password',
    RUST_LOG: 'info,sqlx=warn',
    NO_COLOR: '1',
  });
  const child = spawn(bin, ['serve'], { cwd: dataDir, env, stdio: ['ignore', log, log] });
  let exit: string | null = null;
  child.on('exit', (code, signal) => {
    exit = `code ${code}, signal ${signal} (see e2e/test-results/portal-serve.log)`;
  });

  try {
    await waitForHealth(baseUrl, () => exit, 90_000);
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
  process.env.PORTAL_BASE_URL = baseUrl;
  // The portal's mail transport (no SMTP yet): .eml files in the data directory.
  process.env.PORTAL_E2E_MAIL_DIR = path.join(dataDir, 'mail');

  return async () => {
    if (exit === null) {
      const stopped = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 10_000))]);
      if (exit === null) child.kill('SIGKILL');
    }
    fs.closeSync(log);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
