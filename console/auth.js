// Who is signed in. The token lives in sessionStorage (this tab only,
// gone when it closes), never in a URL.
//
// Two ways in: the developer sign-in of `pakn serve` (POST /v1/dev/token)
// and, on AWS, the Cognito Hosted UI with the authorization-code flow and
// PKCE (RFC 7636, S256): the verifier stays in sessionStorage, the browser
// goes to <domain>/oauth2/authorize, comes back to this page with ?code=,
// which is removed from the address bar at once (history.replaceState)
// before the code is exchanged at <domain>/oauth2/token for the ID token.

const KEY = 'pakn.session';
const PKCE = 'pakn.pkce';

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch (e) { return null; }
}

export function signOut() { sessionStorage.removeItem(KEY); }

function save(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); }

/** Developer sign-in: a local token for a role, subject and unit. */
export async function devSignIn(role, sub, unit) {
  const res = await fetch('v1/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(unit ? { role, sub, unit } : { role, sub }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const e = new Error('sign-in'); e.status = res.status; e.body = body; throw e;
  }
  save({ token: body.token, role: body.role, sub: body.sub, unit: body.unit, via: 'dev' });
  return session();
}

function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n = 32) {
  const a = new Uint8Array(n);
  crypto.getRandomValues(a);
  return b64url(a);
}

export async function pkceChallenge(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(digest);
}

function redirectUri() { return `${location.origin}${location.pathname}`; }

/** Go to the Hosted UI of `pool` ('staff' or 'citizen'). */
export async function hostedSignIn(config, pool) {
  const p = config.hosted_ui[pool];
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state, pool }));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: p.client_id,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    state,
    code_challenge: await pkceChallenge(verifier),
    code_challenge_method: 'S256',
  });
  location.assign(`${p.domain}/oauth2/authorize?${q}`);
}

function claims(jwt) {
  const part = jwt.split('.')[1] || '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(decodeURIComponent(escape(json)));
}

const STAFF_ROLES = ['admin', 'inspector', 'triage', 'unit_admin', 'official', 'operator'];

/**
 * Back from the Hosted UI: take ?code= and ?state= out of the address bar,
 * check the state, exchange the code with the verifier. Returns true when a
 * sign-in completed, false when there was nothing to do; throws on failure.
 */
export async function completeHostedSignIn(config) {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  const state = url.searchParams.get('state');
  const error = url.searchParams.get('error');
  if (!code && !error) return false;
  history.replaceState(null, '', `${url.pathname}${url.hash || ''}`);
  const pending = JSON.parse(sessionStorage.getItem(PKCE) || 'null');
  sessionStorage.removeItem(PKCE);
  if (error || !pending || !config.hosted_ui || pending.state !== state) {
    const e = new Error('oauth'); e.oauth = error || 'state'; throw e;
  }
  const p = config.hosted_ui[pending.pool];
  const res = await fetch(`${p.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: p.client_id,
      code,
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body || !body.id_token) {
    const e = new Error('oauth'); e.oauth = (body && body.error) || 'token'; throw e;
  }
  // The API verifies the token; these claims only shape the console.
  const c = claims(body.id_token);
  const groups = c['cognito:groups'] || [];
  const role = pending.pool === 'citizen'
    ? 'citizen'
    : (STAFF_ROLES.find((r) => groups.includes(r)) || c.role || 'official');
  save({ token: body.id_token, role, sub: c.sub, unit: c['custom:unit'] || c.unit || null, via: pending.pool });
  return true;
}
