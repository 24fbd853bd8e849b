// A real OpenID Provider (the certified `oidc-provider` package) for the sign-in tests.
//
// Started as `node provider.js CONFIG.json`; the JSON names the port, the issuer,
// the clients (with their public keys for private_key_jwt) and the accounts, each
// with the `amr` its sign-in shows and whether its identity is verified. The one
// page a person sees is a sign-in form naming the account; what the account's
// sign-in proves (`acr`, `amr`) comes from the configuration, as a real provider's
// comes from the authenticator used. Prints "ready <issuer>" once listening.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "op-1", use: "sig", alg: "RS256" };

function acrFor(account, requested) {
  const wanted = (requested || "").split(" ").filter(Boolean);
  if (account.verified && wanted.includes(config.verified_acr)) return config.verified_acr;
  return config.basic_acr;
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  acrValues: [config.basic_acr, config.verified_acr].filter(Boolean),
  claims: {
    acr: null,
    amr: null,
    sid: null,
    auth_time: null,
    iss: null,
    // What the sign-in proved travels in every ID token, asked for or not (as Login.gov does).
    openid: ["sub", "acr", "amr", "auth_time"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  scopes: ["openid", "email", "profile"],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // No confirmation page: the portal's own sign-out button was the confirmation.
      // "Yes, sign me out" chosen at once: it is the provider's session that must end.
      logoutSource: async (ctx, form) => {
        const confirmed = form.replace("</form>", '<input type="hidden" name="logout" value="yes"/></form>');
        ctx.body = `<!doctype html><html><body>${confirmed}<script>document.forms[0].submit()</script></body></html>`;
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = "<!doctype html><html><body><p>Signed out of the provider.</p></body></html>";
      },
    },
  },
  ttl: {
    IdToken: config.id_token_ttl || 3600,
    AccessToken: 600,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name };
      },
    };
  },
  // First-party clients: the grant is given without a consent page.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = "html";
    ctx.body = `<!doctype html><html><body><h1>${out.error}</h1><p>${out.error_description || ""}</p></body></html>`;
  },
});

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === "GET") {
    const options = Object.keys(accounts)
      .map((id) => `<option value="${id}">${id}</option>`)
      .join("");
    ctx.type = "html";
    ctx.body = `<!doctype html><html><body><h1>Test provider sign-in</h1>
      <form method="post" action="/interaction/${match[1]}/login" data-testid="op-login">
        <label>Account <select name="login">${options}</select></label>
        <button type="submit">Sign in</button>
      </form></body></html>`;
    return undefined;
  }
  const form = await readForm(ctx.req);
  const accountId = form.get("login");
  const account = accounts[accountId];
  if (!account) {
    ctx.status = 400;
    ctx.body = "unknown account";
    return undefined;
  }
  const login = {
    accountId,
    acr: acrFor(account, details.params.acr_values),
    amr: account.amr,
    remember: false,
  };
  const to = await provider.interactionResult(ctx.req, ctx.res, { login }, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(to);
  return undefined;
});

const server = provider.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`ready ${config.issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
