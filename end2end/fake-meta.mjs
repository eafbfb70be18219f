// A fake of Meta's login dialog and Graph API for the browser tests, speaking the wire
// format Meta documents (see docs/meta-setup.md and tests/common/fake_meta.rs, its Rust
// twin): the dialog, the code and long-lived token exchanges, /me, the Pages listing, Page
// webhook subscriptions and debug_token, with Meta's error bodies. No dependencies.
//
//   FAKE_META_PORT        port on 127.0.0.1 (default 3102)
//   FAKE_META_APP_ID      the app id it accepts (default e2e-app-id)
//   FAKE_META_APP_SECRET  the app secret it accepts (default e2e-app-secret)

import { createServer } from "node:http";
import { URL, URLSearchParams } from "node:url";

const PORT = Number(process.env.FAKE_META_PORT || 3102);
const APP_ID = process.env.FAKE_META_APP_ID || "e2e-app-id";
const APP_SECRET = process.env.FAKE_META_APP_SECRET || "e2e-app-secret";
const VERSION = "v21.0";

const GOOD_CODE = "good-code";
const SHORT_TOKEN = "short-user-token";
const LONG_TOKEN = "long-user-token";
const USER_ID = "e2e-user-1";
const PAGE = {
  id: "e2e-page-1",
  name: "E2E Skin Clinic",
  access_token: "e2e-page-token-1",
  instagram_business_account: { id: "e2e-ig-1", username: "e2e.skin.clinic" },
};
const SUBSCRIBED_FIELDS = "messages,messaging_postbacks";

function send(res, status, contentType, body) {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}

function json(res, status, value) {
  send(res, status, "application/json; charset=UTF-8", JSON.stringify(value));
}

/** Meta's error body. */
function metaError(res, status, code, message, type = "OAuthException") {
  json(res, status, { error: { message, type, code, fbtrace_id: "Afake" } });
}

function tokenRejected(res) {
  metaError(res, 400, 190, "Invalid OAuth access token - Cannot parse access token");
}

function escapeHtml(text) {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** `base?extra`, keeping any query the redirect URI already has. */
function withQuery(base, extra) {
  return base + (base.includes("?") ? "&" : "?") + extra;
}

/** The login dialog: "Continue" comes back with a code, "Cancel" with Meta's cancellation. */
function dialog(res, params) {
  const redirectUri = params.get("redirect_uri") || "";
  const state = encodeURIComponent(params.get("state") || "");
  if (params.get("client_id") !== APP_ID) {
    send(res, 400, "text/html; charset=utf-8",
      "<!doctype html><title>Error</title><h1>Invalid App ID</h1>");
    return;
  }
  if (!/^https?:\/\//.test(redirectUri) || params.get("response_type") !== "code") {
    send(res, 400, "text/html; charset=utf-8",
      "<!doctype html><title>Error</title><h1>URL blocked</h1>" +
      "<p>redirect_uri must be http(s) and response_type must be code.</p>");
    return;
  }
  const cont = withQuery(redirectUri, `code=${GOOD_CODE}&state=${state}`);
  const cancel = withQuery(
    redirectUri,
    `error=access_denied&error_reason=user_denied&error_description=Permissions+error&state=${state}`,
  );
  send(res, 200, "text/html; charset=utf-8", `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Log in with Facebook</title></head>
<body>
<h1>Fake Meta</h1>
<p>The app asks for: ${escapeHtml(params.get("scope") || "")}</p>
<p><a href="${escapeHtml(cont)}">Continue</a> <a href="${escapeHtml(cancel)}">Cancel</a></p>
</body>
</html>
`);
}

/** POST: the dialog's code for a short-lived user token. */
function exchangeCode(res, params) {
  if (params.get("client_id") !== APP_ID || params.get("client_secret") !== APP_SECRET) {
    metaError(res, 400, 100, "Error validating client secret.");
  } else if (params.get("grant_type") !== "authorization_code" || params.get("code") !== GOOD_CODE) {
    metaError(res, 400, 100, "Invalid verification code format.");
  } else if (!params.get("redirect_uri")) {
    metaError(res, 400, 100, "Missing redirect_uri parameter.");
  } else {
    json(res, 200, { access_token: SHORT_TOKEN, token_type: "bearer", expires_in: 5400 });
  }
}

/** GET: a short-lived user token for a long-lived one. */
function longLived(res, params) {
  if (params.get("client_id") !== APP_ID || params.get("client_secret") !== APP_SECRET) {
    metaError(res, 400, 100, "Error validating client secret.");
  } else if (params.get("grant_type") !== "fb_exchange_token"
    || params.get("fb_exchange_token") !== SHORT_TOKEN) {
    tokenRejected(res);
  } else {
    json(res, 200, { access_token: LONG_TOKEN, token_type: "bearer", expires_in: 5183944 });
  }
}

function me(res, params) {
  if (params.get("access_token") !== LONG_TOKEN) return tokenRejected(res);
  json(res, 200, { id: USER_ID });
}

function accounts(res, params) {
  if (params.get("access_token") !== LONG_TOKEN) return tokenRejected(res);
  json(res, 200, { data: [PAGE], paging: { cursors: { before: "b", after: "a" } } });
}

function subscription(res, method, pageId, params) {
  if (pageId !== PAGE.id || params.get("access_token") !== PAGE.access_token) {
    return tokenRejected(res);
  }
  if (method === "POST" && params.get("subscribed_fields") !== SUBSCRIBED_FIELDS) {
    return metaError(res, 400, 100, "(#100) Param subscribed_fields is required");
  }
  json(res, 200, { success: true });
}

function debugToken(res, params) {
  if (params.get("access_token") !== `${APP_ID}|${APP_SECRET}`) return tokenRejected(res);
  if (params.get("input_token") === PAGE.access_token) {
    json(res, 200, {
      data: { app_id: APP_ID, type: "PAGE", is_valid: true, expires_at: 0, scopes: [] },
    });
  } else {
    json(res, 200, {
      data: {
        is_valid: false,
        expires_at: 0,
        error: { code: 190, message: "Error validating access token" },
      },
    });
  }
}

/** Graph reads parameters from the query string and from a form body alike. */
async function parameters(req, url) {
  const params = new URLSearchParams(url.search);
  if (req.method === "POST" || req.method === "DELETE") {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > 64 * 1024) throw new Error("body too large");
      chunks.push(chunk);
    }
    const type = req.headers["content-type"] || "";
    if (type.startsWith("application/x-www-form-urlencoded")) {
      for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) {
        params.append(key, value);
      }
    }
  }
  return params;
}

async function route(req, res) {
  const url = new URL(req.url || "/", "http://127.0.0.1");
  const method = req.method === "HEAD" ? "GET" : req.method;
  const path = url.pathname;
  const params = await parameters(req, url);
  const v = `/${VERSION}`;

  if (method === "GET" && path === "/healthz") return send(res, 200, "text/plain", "ok");
  if (method === "GET" && path === `${v}/dialog/oauth`) return dialog(res, params);
  if (path === `${v}/oauth/access_token`) {
    // Meta takes either verb; the grant type says which exchange it is.
    if (params.get("grant_type") === "fb_exchange_token") return longLived(res, params);
    if (method === "POST" || params.has("code")) return exchangeCode(res, params);
    return longLived(res, params);
  }
  if (method === "GET" && path === `${v}/me`) return me(res, params);
  if (method === "GET" && path === `${v}/me/accounts`) return accounts(res, params);
  if (method === "GET" && path === `${v}/debug_token`) return debugToken(res, params);
  const subscribed = path.match(new RegExp(`^${v.replace(".", "\\.")}/([^/]+)/subscribed_apps$`));
  if (subscribed && (method === "POST" || method === "DELETE")) {
    return subscription(res, method, decodeURIComponent(subscribed[1]), params);
  }
  metaError(res, 404, 803, `Unknown path components: ${path}`, "GraphMethodException");
}

const server = createServer((req, res) => {
  const started = Date.now();
  res.on("finish", () => {
    // The path only: query strings carry tokens and secrets.
    const path = new URL(req.url || "/", "http://127.0.0.1").pathname;
    console.log(`fake-meta ${req.method} ${path} ${res.statusCode} ${Date.now() - started}ms`);
  });
  route(req, res).catch((error) => {
    if (!res.headersSent) metaError(res, 500, 2, `Fake Meta failed: ${error.message}`);
    else res.destroy();
  });
});

server.on("error", (error) => {
  console.error(`fake-meta: cannot listen on 127.0.0.1:${PORT}: ${error.message}`);
  process.exit(1);
});

server.listen(PORT, "127.0.0.1", () => {
  console.log(`fake-meta listening on http://127.0.0.1:${PORT} (Graph ${VERSION})`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
