// SPDX-License-Identifier: MIT
// An independent resource server for patd's JWTs, with npm `jose`: it
// fetches the JWKS from a running patd and verifies as RFC 9068 section
// 4 says (typ at+jwt, iss, aud, exp, RS256/ES256/EdDSA), and reads the
// IETF Token Status List a JWT points to (signature, typ, zlib, bits).
//
//   node check.mjs verify  BASE ISS AUD JWT [at-iat]   exit 0: valid
//   node check.mjs reject  BASE ISS AUD JWT [at-iat]   exit 0: refused
//   node check.mjs status  BASE JWT WANT               exit 0: bit == WANT
// "at-iat" verifies as of the JWT's iat, so that a refusal is about the
// key, not the expiry.
import { inflateSync } from 'node:zlib';
import {
  createRemoteJWKSet, decodeJwt, jwtVerify, base64url,
} from 'jose';

const [mode, base, ...rest] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), {
  cooldownDuration: 0,
  cacheMaxAge: 0,
});
const algorithms = ['RS256', 'ES256', 'EdDSA'];

async function verify(iss, aud, jwt, atIat) {
  const opts = { issuer: iss, audience: aud, typ: 'at+jwt', algorithms };
  if (atIat) opts.currentDate = new Date(decodeJwt(jwt).iat * 1000);
  const { payload } = await jwtVerify(jwt, jwks, opts);
  for (const c of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) {
    if (payload[c] === undefined) throw new Error(`RFC 9068 claim ${c} missing`);
  }
  return payload;
}

async function status(jwt, want) {
  const { idx, uri } = decodeJwt(jwt).status.status_list;
  const res = await fetch(uri.replace(/^https?:\/\/[^/]+/, base), {
    headers: { accept: 'application/statuslist+jwt' },
  });
  if (res.status !== 200) throw new Error(`status list: HTTP ${res.status}`);
  if (res.headers.get('content-type') !== 'application/statuslist+jwt') {
    throw new Error(`status list content type ${res.headers.get('content-type')}`);
  }
  const { payload } = await jwtVerify(await res.text(), jwks, {
    typ: 'statuslist+jwt', algorithms,
  });
  if (payload.sub !== uri) throw new Error(`status list sub ${payload.sub} != ${uri}`);
  if (!(payload.ttl > 0)) throw new Error('status list without a ttl');
  const { bits, lst } = payload.status_list;
  const bytes = inflateSync(base64url.decode(lst)); // zlib (RFC 1950)
  const per = 8 / bits;
  const byte = Math.floor(idx / per);
  if (byte >= bytes.length) throw new Error(`index ${idx} beyond the list`);
  const v = (bytes[byte] >> ((idx % per) * bits)) & ((1 << bits) - 1);
  console.log(`status idx ${idx}: ${v} (list of ${bytes.length * per})`);
  return v === Number(want);
}

try {
  if (mode === 'verify') {
    const p = await verify(rest[0], rest[1], rest[2], rest[3] === 'at-iat');
    console.log(`verified: sub ${p.sub} client_id ${p.client_id}`);
    process.exit(0);
  } else if (mode === 'reject') {
    try {
      await verify(rest[0], rest[1], rest[2], rest[3] === 'at-iat');
    } catch (e) {
      console.log(`refused: ${e.code ?? e.message}`);
      process.exit(0);
    }
    console.log('accepted');
    process.exit(1);
  } else if (mode === 'status') {
    process.exit((await status(rest[0], rest[1])) ? 0 : 1);
  }
} catch (e) {
  console.log(`error: ${e.code ?? ''} ${e.message}`);
  process.exit(1);
}
console.error('usage: check.mjs verify|reject|status ...');
process.exit(2);
