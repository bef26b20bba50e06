// A real OpenID provider for Playdeck's single-sign-on tests: panva's certified oidc-provider,
// with its built-in development sign-in pages (any password; the login names the account).
// Usage: node server.mjs CONFIG.json  — the tests' fixture (tests/sso/provider.py) writes the
// file: {"port", "clients": [...], "users": {"login": {claims}}}. Prints "ready" when listening.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// A fresh key per start; "kid" lets a test restart the provider with a rotated key.
const jwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: config.kid ?? 'test-key-1',
  use: 'sig',
  alg: 'RS256',
};

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [jwk] },
  cookies: { keys: ['playdeck-tests-cookie-signing-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  pkce: { required: () => true },
  // Scope claims in the ID token too, not only from userinfo (as Entra ID and Keycloak do).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    const user = config.users[id];
    if (!user) return undefined;
    // "userinfo_omits": claims only the ID token carries (as Entra ID's groups and roles).
    const { userinfo_omits: omits = [], ...claims } = user;
    return {
      accountId: id,
      async claims(use) {
        const all = { sub: id, ...claims };
        if (use === 'userinfo') for (const name of omits) delete all[name];
        return all;
      },
    };
  },
});
provider.proxy = false;
// The development pages log a warning per request; the tests read only "ready".
provider.listen(config.port, '127.0.0.1', () => { console.log('ready'); });
