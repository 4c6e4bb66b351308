// SPDX-License-Identifier: MIT
// A real OpenID Provider for patd's single sign-on tests: oidc-provider
// (the certified engine under Logto) on loopback, with one confidential
// client (code flow, PKCE S256 required, client_secret_basic) and users
// with groups. Its login page is a plain form the test fills in with
// Chromium; consent is granted at once.
//
// The test steers it through /test/* (loopback only, no auth: a test
// fixture):
//   POST /test/groups {"user":"alice","groups":[...]}  change a user's groups
//   POST /test/mode {"mode":"..."}  how the next token answer misbehaves:
//     ""        as the engine answers
//     aud       the ID token names another audience (re-signed, valid key)
//     expired   exp and iat an hour in the past (re-signed)
//     nonce     another nonce (re-signed)
//     iss       another issuer (re-signed)
//     sig       signed by a key that is not the provider's, same kid
//     rotate    signed by a new key with a new kid that the JWKS now lists
//     down      the token endpoint drops the connection
// A mode applies to one token answer, then resets (rotate stays).
//
// Usage: node provider.mjs PORT PATD_CALLBACK_URL   (prints "ready")

import http from 'node:http';
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const callback = process.argv[3];
const issuer = `http://127.0.0.1:${port}`;

export const CLIENT_ID = 'patd-test';
export const CLIENT_SECRET = 'patd-test-secret-0001';

const accounts = {
  alice: { name: 'Alice Example', email: 'alice@example.com', groups: ['developers', 'patd-admins'] },
  bob: { name: 'Bob Example', email: 'bob@example.com', groups: ['developers', 'deployers'] },
  carol: { name: 'Carol Example', email: 'carol@example.com', groups: [] },
  dana: { name: 'Dana Example', email: 'dana@example.com', groups: ['developers'] },
};

async function keyPair(kid) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const priv = await exportJWK(privateKey);
  const pub = await exportJWK(publicKey);
  return { kid, privateKey, priv: { ...priv, kid, alg: 'RS256', use: 'sig' }, pub: { ...pub, kid, alg: 'RS256', use: 'sig' } };
}

const main = await keyPair('k1');
const rotated = await keyPair('k2');
const forged = await keyPair('k1'); // same kid, another key
let mode = '';
let rotatedOn = false;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [callback],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [main.priv] },
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Profile claims in the ID token too (patd reads userinfo only when told).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['patd-sso-test-cookie-key'] },
  async findAccount(ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: a.name, email: a.email, email_verified: true, groups: a.groups };
      },
    };
  },
});
provider.proxy = false;

async function resign(idToken) {
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = main;
  if (mode === 'aud') claims.aud = 'someone-else';
  if (mode === 'expired') { claims.exp = now - 3600; claims.iat = now - 7200; }
  if (mode === 'nonce') claims.nonce = 'not-the-nonce';
  if (mode === 'iss') claims.iss = 'http://127.0.0.1:1/evil';
  if (mode === 'sig') key = forged;
  if (mode === 'rotate') key = rotated;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
}

// The misbehaviours, around the engine's own answers.
provider.use(async (ctx, next) => {
  if (ctx.path === '/token' && mode === 'down') {
    mode = '';
    ctx.req.socket.destroy();
    return;
  }
  await next();
  if (ctx.path === '/jwks' && rotatedOn && ctx.body && Array.isArray(ctx.body.keys)) {
    ctx.body = { keys: [...ctx.body.keys, rotated.pub] };
  }
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token && mode) {
    ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token) };
    if (mode !== 'rotate') mode = '';
  }
});

function readBody(req) {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => { s += c; });
    req.on('end', () => resolve(s));
  });
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'wrong interaction');
  if (req.method === 'GET' && details.prompt.name === 'login') {
    return send(res, 200, `<!doctype html><title>Test provider sign-in</title>
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="login" id="login"></label>
<button type="submit" id="submit">Sign in</button>
<button type="submit" id="deny" name="deny" value="1">Deny</button>
</form>`);
  }
  if (req.method === 'POST' && req.url.endsWith('/login')) {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('deny')) {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user said no' }, { mergeWithLastSubmission: false });
    }
    const id = form.get('login');
    if (!accounts[id]) return send(res, 200, 'unknown user');
    return provider.interactionFinished(req, res, { login: { accountId: id } }, { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'consent') {
    const { params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    grant.addOIDCScope(String(params.scope));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return send(res, 400, `unexpected prompt ${details.prompt.name}`);
}

const engine = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const m = req.url.match(/^\/interaction\/([^/?]+)/);
    if (m) return await interaction(req, res, m[1]);
    if (req.url === '/test/groups' && req.method === 'POST') {
      const { user, groups } = JSON.parse(await readBody(req));
      accounts[user].groups = groups;
      return send(res, 204, '');
    }
    if (req.url === '/test/mode' && req.method === 'POST') {
      mode = JSON.parse(await readBody(req)).mode;
      if (mode === 'rotate') rotatedOn = true;
      return send(res, 204, '');
    }
    return engine(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) send(res, 500, String(err));
  }
});
await forgedCheck();
server.listen(port, '127.0.0.1', () => console.log('ready'));

async function forgedCheck() {
  const h = decodeProtectedHeader(await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: forged.kid }).sign(forged.privateKey));
  if (h.kid !== main.kid) throw new Error('the forged key must reuse the main kid');
}
