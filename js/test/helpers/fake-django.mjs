// Test doubles of instant's Django endpoints.
//
// fakeFetch(): an in-process fetch for unit tests (no sockets).
// startFakeBackend(): the same endpoints over HTTP on 127.0.0.1, for tests against the real server.
// Both sign real HS256 JWTs when given the server's token_hmac_secret_key.
import { createHmac } from "node:crypto";
import { createServer } from "node:http";

const b64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** An HS256 JWT (unsigned-looking "x" signature when there is no key: enough for the client's sub parsing). */
export function jwt(claims, key) {
  const head = b64url({ alg: "HS256", typ: "JWT" });
  const body = b64url(claims);
  const sig = key ? createHmac("sha256", key).update(`${head}.${body}`).digest("base64url") : "x";
  return `${head}.${body}.${sig}`;
}

/**
 * The Django side as state + a request handler:
 * - users: {name: {password, channels: [{name, level}]}}; anonymous: channels for "" or null (403);
 * - ttl: token lifetime in seconds (exp claim);
 * - calls: every request, [{path, body, headers}].
 */
export function djangoState({ users = {}, anonymous = null, key = "", ttl = 3600, channelToken } = {}) {
  const state = {
    users,
    anonymous,
    key,
    ttl,
    session: null, // logged-in username
    calls: [],
    csrf: "csrf-1",
    down: false,
    tokenResponse(user) {
      const now = Math.floor(Date.now() / 1000);
      const channels = user === "" ? state.anonymous : state.users[user].channels;
      return {
        csrf_token: state.csrf,
        ws_token: jwt({ sub: user, iat: now, exp: now + state.ttl }, state.key),
        channels: channels.map((c) => ({
          name: c.name,
          level: c.level,
          token: channelToken ? channelToken(c.name, user) : jwt({ sub: user, channel: c.name, iat: now, exp: now + state.ttl }, state.key),
        })),
      };
    },
    handle(path, body, headers) {
      state.calls.push({ path, body, headers, at: Date.now() });
      const json = (status, value) => ({ status, body: value });
      if (path.endsWith("/instant/login/")) {
        if (state.session) return json(200, state.tokenResponse(state.session));
        let parsed;
        try {
          parsed = JSON.parse(body);
        } catch {
          return json(400, { error: "the body is not valid JSON" });
        }
        const user = state.users[parsed.username];
        if (!user || user.password !== parsed.password) return json(403, { error: "invalid username or password" });
        state.session = parsed.username;
        state.csrf = `csrf-${state.calls.length}`;
        return json(200, state.tokenResponse(state.session));
      }
      if (path.endsWith("/instant/get_token/")) {
        if (state.session) return json(200, state.tokenResponse(state.session));
        if (state.anonymous) return json(200, state.tokenResponse(""));
        return json(403, { error: "log in first" });
      }
      if (path.endsWith("/instant/logout/")) {
        if (headers["x-csrftoken"] !== state.csrf) return { status: 403, body: "<h1>CSRF verification failed</h1>", html: true };
        if (!state.session) return json(403, { error: "not logged in" });
        state.session = null;
        return json(200, { response: "ok" });
      }
      return { status: 404, body: "<h1>Not Found</h1>", html: true };
    },
  };
  return state;
}

/** A fetch that answers from `state` (throws like a network error when state.down). */
export function fakeFetch(state) {
  return async (url, init = {}) => {
    if (state.down) throw new TypeError("fetch failed");
    const headers = {};
    for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
    const path = new URL(url, "http://page.test").pathname;
    const answer = state.handle(path, init.body ?? "", headers);
    const text = answer.html ? answer.body : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: { "Content-Type": answer.html ? "text/html" : "application/json" } });
  };
}

/** The endpoints over HTTP on 127.0.0.1 (a free port). Resolves to {url, state, close()}. */
export async function startFakeBackend(state) {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const answer = state.handle(new URL(req.url, "http://x").pathname, body, req.headers);
      res.writeHead(answer.status, { "Content-Type": answer.html ? "text/html" : "application/json" });
      res.end(answer.html ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
