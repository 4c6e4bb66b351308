# SPDX-License-Identifier: MIT
"""An independent resource server for patd's JWTs, with PyJWT (Debian
python3-jwt): the JWKS fetched from a running patd, RFC 9068 checks.

  python3 check.py verify BASE ISS AUD JWT            exit 0: valid
  python3 check.py reject BASE ISS AUD JWT [at-iat]   exit 0: refused
"at-iat" skips the expiry check, so that a refusal is about the key.
"""
import sys

import jwt

ALGS = ["RS256", "ES256", "EdDSA"]


def verify(base, iss, aud, token, skip_exp):
    if jwt.get_unverified_header(token).get("typ") not in ("at+jwt", "application/at+jwt"):
        raise jwt.InvalidTokenError("typ is not at+jwt")
    client = jwt.PyJWKClient(base + "/.well-known/jwks.json", cache_keys=False)
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(
        token, key.key, algorithms=ALGS, issuer=iss, audience=aud,
        options={"require": ["iss", "exp", "aud", "sub", "iat", "jti"],
                 "verify_exp": not skip_exp})


def main(argv):
    mode, base, iss, aud, token = argv[1:6]
    at_iat = len(argv) > 6 and argv[6] == "at-iat"
    if mode == "verify":
        claims = verify(base, iss, aud, token, False)
        print("verified: sub %s client_id %s" % (claims["sub"], claims["client_id"]))
        return 0
    try:
        verify(base, iss, aud, token, at_iat)
    except (jwt.PyJWTError, jwt.PyJWKClientError) as e:
        print("refused: %s: %s" % (type(e).__name__, e))
        return 0
    print("accepted")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
