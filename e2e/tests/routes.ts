// Every GET route of `web::routes::table()` and how the reflow walk (reflow.spec.ts) reaches it.
// `crates/web/tests/it/e2e_routes.rs` fails when a GET route is missing here or one listed here is
// no longer a GET route, so this list and the router cannot drift apart.
//   page  opened directly by its path (with `query` when the page needs one to show its content)
//   link  a path with parameters: opened from the first matching link on a page already walked
//   stage a sign-in step: reached through the password step, walked before the role signs in
//   skip  not walked, for the reason given
export type Reach =
  | { path: string; how: 'page'; query?: string }
  | { path: string; how: 'link' }
  | { path: string; how: 'stage' }
  | { path: string; how: 'skip'; reason: string };

const download = 'a file download, not an HTML page';

export const GET_ROUTES: Reach[] = [
  { path: '/', how: 'page' },
  { path: '/healthz', how: 'skip', reason: 'plain-text health check' },
  { path: '/assets/{file}', how: 'skip', reason: 'stylesheet, script and icon' },
  { path: '/login', how: 'page' },
  { path: '/login/code', how: 'stage' },
  { path: '/mfa/enrol', how: 'stage' },
  { path: '/register', how: 'page' },
  { path: '/activate/{token}', how: 'link' },
  { path: '/account', how: 'page' },
  { path: '/account/claims-access', how: 'page' },
  { path: '/account/tins', how: 'page' },
  { path: '/claims', how: 'page' },
  { path: '/claims/{number}', how: 'link' },
  { path: '/eligibility', how: 'page' },
  { path: '/eligibility/batch', how: 'page' },
  { path: '/eligibility/batch/{batch}', how: 'link' },
  { path: '/alerts', how: 'page' },
  { path: '/submissions', how: 'page' },
  { path: '/submissions/{id}', how: 'link' },
  { path: '/submissions/{id}/{ack}', how: 'skip', reason: download },
  { path: '/remittance', how: 'page' },
  { path: '/remittance/{number}', how: 'link' },
  { path: '/remittance/{number}/835', how: 'skip', reason: download },
  { path: '/office/users', how: 'page' },
  { path: '/plan/registrations', how: 'page' },
  { path: '/plan/registrations/{id}', how: 'link' },
  { path: '/plan/registrations/{id}/proof/{doc}', how: 'skip', reason: download },
  { path: '/plan/outbox', how: 'page' },
  { path: '/plan/users', how: 'page' },
  { path: '/plan/audit', how: 'page' },
  { path: '/plan/audit/export', how: 'skip', reason: download },
  { path: '/plan/audit/eligibility', how: 'page' },
  { path: '/prior-authorization/required', how: 'page', query: 'code=73721' },
  { path: '/prior-authorization/metrics', how: 'page' },
  { path: '/prior-authorization/metrics.csv', how: 'skip', reason: download },
  { path: '/authorizations', how: 'page' },
  { path: '/authorizations/new', how: 'page' },
  { path: '/authorizations/{number}', how: 'link' },
  { path: '/authorizations/{number}/attachments/{doc}', how: 'skip', reason: download },
  { path: '/notifications', how: 'page' },
  { path: '/plan/authorizations', how: 'page' },
  { path: '/plan/authorizations/{number}', how: 'link' },
  { path: '/plan/authorizations/{number}/attachments/{doc}', how: 'skip', reason: download },
  { path: '/plan/auth-rules', how: 'page' },
];
