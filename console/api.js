// The JSON API on this origin. Every answer is {status, body, etag}; a
// non-2xx answer throws an ApiError carrying the API's error body (with
// its English and Vietnamese messages).
import { session } from './auth.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, { body, etag, headers = {}, raw = false } = {}) {
  const h = { Accept: 'application/json', ...headers };
  const s = session();
  if (s) h.Authorization = `Bearer ${s.token}`;
  // A citizen here is on the web channel (CONTRACT.md "Channels"); staff
  // are the console channel by their role and must not say it.
  if (s && s.role === 'citizen') h['X-Pakn-Channel'] = 'web';
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (etag) h['If-Match'] = etag;
  let res;
  try {
    // Relative to the page, so the console works under an API stage
    // path (https://<api>/<stage>/) as well as at the root.
    res = await fetch(path.replace(/^\//, ''), { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, null);
  }
  if (raw && res.ok) return res;
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return { status: res.status, body: json, etag: res.headers.get('ETag') };
}

export const get = (p, o) => api('GET', p, o);
export const post = (p, body, o = {}) => api('POST', p, { ...o, body });
export const put = (p, body, o = {}) => api('PUT', p, { ...o, body });

/**
 * Put one file on an upload slot (`POST /v1/uploads`, then the slot's
 * signed PUT: this server's URL locally, a presigned S3 URL on AWS) and
 * answer its upload id. The browser sets the length itself.
 */
export async function uploadFile(file) {
  const slot = (await post('/v1/uploads', { content_type: file.type || 'application/octet-stream', bytes: file.size })).body;
  const url = /^https?:/.test(slot.url) ? slot.url : slot.url.replace(/^\//, '');
  let res;
  try {
    res = await fetch(url, { method: slot.method, headers: { 'Content-Type': slot.headers['content-type'] }, body: file });
  } catch (e) {
    throw new ApiError(0, null);
  }
  if (!res.ok) {
    let json = null;
    try { json = await res.json(); } catch (e) { json = null; }
    throw new ApiError(res.status, json);
  }
  return slot.upload;
}

/** Reference data fetched once per page load. */
const cache = new Map();
export function once(path) {
  if (!cache.has(path)) cache.set(path, get(path).then((r) => r.body).catch((e) => { cache.delete(path); throw e; }));
  return cache.get(path);
}
