/**
 * The instant client: gets tokens and channels from instant's Django endpoints (`login/`,
 * `get_token/`, `logout/`), connects to the websockets server with the official `centrifuge`
 * client, keeps the tokens fresh through centrifuge's `getToken` hooks, and routes each message to
 * the handlers of its channel and of its `event_class`.
 */
import { Centrifuge, State, SubscriptionState, UnauthorizedError } from "centrifuge";
import type {
  Options as CentrifugeOptions,
  PublicationContext,
  ServerPublicationContext,
  Subscription,
  SubscriptionTokenContext,
} from "centrifuge";

import { InstantError } from "./errors.js";
import { Message } from "./message.js";
import { Router, type Handler } from "./router.js";

/** A channel the session may subscribe to. */
export interface ChannelInfo {
  /** Its name, e.g. `"public"`, `"$users"`. */
  readonly name: string;
  /** Its level in the Django app: `public`, `users`, `groups`, `staff` or `superuser`. */
  readonly level: string;
}

/** A channel with its subscription token, as the Django endpoints give it. */
export interface ChannelGrant extends ChannelInfo {
  readonly token: string;
}

/** Who the tokens are for, and what they grant. */
export interface SessionInfo {
  /** The user's name on the websockets server (the Django username), "" when anonymous. */
  readonly user: string;
  /** True for an anonymous visitor (INSTANT_ALLOW_ANONYMOUS). */
  readonly anonymous: boolean;
  /** The channels granted to this session. */
  readonly channels: ChannelInfo[];
}

export interface InstantOptions {
  /**
   * Base URL of the Django site, e.g. `"http://localhost:8000"`. Default `""`: the page's own
   * origin (relative URLs).
   */
  backend?: string;
  /**
   * Address of the websockets server, e.g. `"ws://localhost:8427"` (`/connection/websocket` is
   * appended when the URL has no path; `http(s)://` is read as `ws(s)://`). Default: the page's own
   * host (for a reverse proxy that routes `/connection/websocket` to the server).
   */
  websockets?: string;
  /** Where instant's URLs are mounted on the Django site. Default `"/instant/"`. */
  apiPath?: string;
  /**
   * Bound on `connect()`, `login()`, `getToken()` and `logout()`, in milliseconds. Default 10000.
   */
  timeout?: number;
  /** Log what the centrifuge client does to the console. */
  debug?: boolean;
  /** WebSocket constructor, for Node.js (`import WebSocket from "ws"`). Browsers have one. */
  websocket?: unknown;
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** fetch `credentials` for the Django calls. Default `"include"` (the session cookie, also cross-origin). */
  credentials?: RequestCredentials;
  /** Ask the server to recover missed messages on reconnect (channels that keep history). Default true. */
  recover?: boolean;
  /** Reconnect backoff bounds (centrifuge defaults: 500 and 20000 ms). */
  minReconnectDelay?: number;
  maxReconnectDelay?: number;
  /** Other centrifuge client options, passed through. */
  centrifuge?: Partial<CentrifugeOptions>;
}

export interface ConnectOptions {
  /** Subscribe to these channels only (names among the granted ones). Default: all granted channels. */
  channels?: string[];
}

/** State of the connection to the websockets server. */
export type ConnectionState = "disconnected" | "connecting" | "connected";

export interface StatusEvent {
  state: ConnectionState;
  /** Centrifuge's code for the transition (connecting/disconnected reasons, server disconnect codes). */
  code?: number;
  reason?: string;
}

export interface ChannelStatusEvent {
  channel: string;
  state: "subscribing" | "subscribed" | "unsubscribed";
  code?: number;
  reason?: string;
  /** On `subscribed` after a reconnect: whether every missed message was recovered. */
  recovered?: boolean;
  /** On `subscribed`: whether this subscribe tried to recover missed messages. */
  wasRecovering?: boolean;
}

interface TokenResponse {
  csrf_token: string;
  ws_token: string;
  channels: ChannelGrant[];
}

type Listener<T> = (event: T) => unknown;

const DEFAULT_TIMEOUT = 10000;
/** Token responses younger than this are reused by the refresh hooks (several subscriptions expire together). */
const TOKEN_REUSE_MS = 1000;

const TERMINAL_HINTS: Record<number, string> = {
  3500: "the websockets server refused a token (connection or subscription): CENTRIFUGO_HMAC_KEY in the Django settings must be the token_hmac_secret_key of the server's config.json",
  3501: "the server found the connection request malformed",
  3503: "the server disconnected this client (API disconnect)",
  3504: "too many connections for this user (client_user_connection_limit in the server's config.json)",
  3505: "too many channels for one connection (client_channel_limit in the server's config.json)",
  3506: "the server does not accept this protocol",
  3507: "the server denied permission",
};

const SUBSCRIBE_HINTS: Record<number, string> = {
  101: "unauthorized",
  102: "unknown channel: its namespace is missing from the server's config.json namespaces",
  103: "permission denied: the subscription token was refused (CENTRIFUGO_HMAC_KEY must match the server's token_hmac_secret_key) or the channel is not open to this user",
  105: "already subscribed",
  106: "too many channels for one connection (client_channel_limit)",
  107: "bad request (channel name not allowed by the server)",
  109: "token expired",
};

function isBrowser(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== "undefined";
}

function pageLocation(): { origin: string; protocol: string; host: string } | undefined {
  const loc = (globalThis as { location?: { origin: string; protocol: string; host: string } }).location;
  return loc && typeof loc.host === "string" && loc.host ? loc : undefined;
}

function normalizeApiPath(path: string): string {
  let out = path.trim() || "/";
  if (!out.startsWith("/")) out = "/" + out;
  if (!out.endsWith("/")) out += "/";
  return out;
}

/** The WebSocket endpoint for `given` (or the page's host) and the server's `/health` URL. */
export function websocketEndpoints(given?: string): { endpoint: string; health: string } {
  let raw = given;
  if (!raw) {
    const loc = pageLocation();
    if (!loc) {
      throw new InstantError(
        "usage",
        'no websockets server address: pass new Instant({ websockets: "ws://localhost:8427" }) (there is no page location to default to)',
      );
    }
    raw = `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}`;
  }
  raw = raw.trim().replace(/^http(s?):\/\//i, "ws$1://");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InstantError("usage", `websockets must be a ws:// or wss:// URL like "ws://localhost:8427", not ${JSON.stringify(given)}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new InstantError("usage", `websockets must be a ws:// or wss:// URL like "ws://localhost:8427", not ${JSON.stringify(given)}`);
  }
  if (url.pathname === "" || url.pathname === "/") url.pathname = "/connection/websocket";
  const health = new URL(url.toString());
  health.protocol = url.protocol === "wss:" ? "https:" : "http:";
  health.search = "";
  health.pathname = url.pathname.endsWith("/connection/websocket")
    ? url.pathname.slice(0, -"/connection/websocket".length) + "/health"
    : "/health";
  return { endpoint: url.toString(), health: health.toString() };
}

/** The `sub` claim of a JWT, without checking it (the server does). */
function tokenUser(token: string): string | undefined {
  try {
    const part = token.split(".")[1];
    if (!part) return undefined;
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const json = decodeURIComponent(
      Array.from(atob(b64), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    const claims = JSON.parse(json) as { sub?: unknown };
    return typeof claims.sub === "string" ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

function readCookie(name: string): string {
  const doc = (globalThis as { document?: { cookie?: string } }).document;
  const cookie = doc?.cookie ?? "";
  for (const part of cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === "object" && "message" in error) return String((error as { message: unknown }).message);
  return String(error);
}

/**
 * The instant client.
 *
 * ```js
 * const instant = new Instant({ backend: "http://localhost:8000", websockets: "ws://localhost:8427" });
 * instant.on("$users", (msg) => console.log(msg.message));
 * instant.onEvent("important", (msg) => alert(msg.message));
 * await instant.login("alice", "password");   // or rely on the Django session
 * await instant.connect();
 * ```
 */
export class Instant {
  /** Base URL of the Django site ("" = the page's origin). */
  readonly backend: string;
  /** The WebSocket endpoint of the websockets server. */
  readonly websockets: string;

  private readonly apiPath: string;
  private readonly healthUrl: string;
  private readonly options: InstantOptions;
  private readonly timeout: number;
  private readonly fetchImpl: typeof fetch;
  private readonly router = new Router();
  private readonly statusListeners = new Set<Listener<StatusEvent>>();
  private readonly channelListeners = new Set<Listener<ChannelStatusEvent>>();
  private readonly errorListeners = new Set<Listener<InstantError>>();

  private tokens: TokenResponse | null = null;
  /** The last CSRF token Django gave (kept after logout: Django keeps the cookie). */
  private csrf = "";
  private tokensAt = 0;
  private tokenRequest: Promise<TokenResponse> | null = null;
  private centrifuge: Centrifuge | null = null;
  private connectedUser: string | undefined;
  private readonly subs = new Map<string, Subscription>();
  /** Bumped by every teardown: what an older generation started must stop. */
  private generation = 0;
  private pendingConnect: Promise<void> | null = null;
  private cancelPending: ((error: InstantError) => void) | null = null;
  private lastConnect: ConnectOptions = {};
  /** A connect() is waiting for the connection: its failure is its caller's, not reported. */
  private awaitingConnect = false;
  /** Subscriptions a call is waiting for: their refusal is its caller's, not reported. */
  private readonly awaiting = new Set<Subscription>();

  constructor(options: InstantOptions = {}) {
    this.options = { ...options };
    this.backend = (options.backend ?? "").trim().replace(/\/+$/, "");
    this.apiPath = normalizeApiPath(options.apiPath ?? "/instant/");
    const { endpoint, health } = websocketEndpoints(options.websockets);
    this.websockets = endpoint;
    this.healthUrl = health;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const fetchImpl = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!fetchImpl) throw new InstantError("usage", "no fetch available: pass new Instant({ fetch })");
    this.fetchImpl = options.fetch ? fetchImpl : fetchImpl.bind(globalThis);
  }

  // ---- session ---------------------------------------------------------------------------------

  /** The channels granted to the session (after `login()`, `getToken()` or `connect()`). */
  get channels(): ChannelInfo[] {
    return (this.tokens?.channels ?? []).map(({ name, level }) => ({ name, level }));
  }

  /** The channels with their subscription tokens (for the django-instant 0.5 shim). */
  get grants(): ChannelGrant[] {
    return [...(this.tokens?.channels ?? [])];
  }

  /** The user the tokens are for: the Django username, "" for an anonymous visitor, null before any token. */
  get user(): string | null {
    return this.tokens ? (tokenUser(this.tokens.ws_token) ?? "") : null;
  }

  /** Django's CSRF token, from the last token response (or the `csrftoken` cookie). */
  get csrfToken(): string {
    return this.tokens?.csrf_token || this.csrf || readCookie("csrftoken");
  }

  /** State of the connection to the websockets server. */
  get state(): ConnectionState {
    return (this.centrifuge?.state as ConnectionState | undefined) ?? "disconnected";
  }

  /**
   * Logs in with Django credentials (session cookie) and keeps the tokens and channels of the
   * user. When connected, reconnects as that user. Rejects with `bad_credentials` on a wrong
   * username or password.
   */
  async login(username: string, password: string): Promise<SessionInfo> {
    if (typeof username !== "string" || typeof password !== "string") {
      throw new InstantError("usage", "login(username, password) takes two strings");
    }
    const response = await this.post("login/", { username, password });
    return this.adopt(response);
  }

  /**
   * Gets the tokens and channels of the current Django session (a logged-in user, or an
   * anonymous visitor when the site sets INSTANT_ALLOW_ANONYMOUS). Rejects with `not_logged_in`
   * when the session is anonymous and anonymous visitors are not allowed.
   */
  async getToken(): Promise<SessionInfo> {
    const response = await this.post("get_token/", {});
    return this.adopt(response);
  }

  /**
   * Logs out of Django (POST with the CSRF token), disconnects, and forgets the tokens. Handlers
   * stay registered: `connect()` again (e.g. as an anonymous visitor) or `login()`.
   */
  async logout(): Promise<void> {
    const csrf = this.csrfToken;
    try {
      await this.post("logout/", {}, { csrf, notLoggedInIsOk: true });
    } finally {
      this.teardown("logout() called");
      this.tokens = null;
      this.tokensAt = 0;
    }
  }

  private adopt(response: TokenResponse): SessionInfo {
    const previous = this.tokens ? tokenUser(this.tokens.ws_token) : undefined;
    this.tokens = response;
    this.tokensAt = Date.now();
    const user = tokenUser(response.ws_token) ?? "";
    if (this.centrifuge && previous !== undefined && previous !== user) {
      // Another identity: the client is the old user's. Replace it, reconnecting when it was in use.
      const active = this.state !== "disconnected";
      const again = this.lastConnect;
      this.teardown("the session changed user");
      if (active) this.connect(again).catch((error: unknown) => this.report(error));
    }
    return { user, anonymous: user === "", channels: this.channels };
  }

  // ---- connection ------------------------------------------------------------------------------

  /**
   * Connects to the websockets server and subscribes to the session's channels (all of them, or
   * `options.channels`). Gets the tokens first when there are none. Resolves once connected and
   * subscribed; rejects with an {@link InstantError} saying what to fix, leaving the client
   * disconnected. Later drops are retried by centrifuge, with token refresh and recovery of
   * missed messages.
   */
  connect(options: ConnectOptions = {}): Promise<void> {
    if (this.pendingConnect) return this.pendingConnect;
    if (this.centrifuge && this.state === "connected") return this.subscribe(options.channels);
    const attempt = this.runConnect(options);
    this.pendingConnect = attempt;
    const clear = () => {
      if (this.pendingConnect === attempt) this.pendingConnect = null;
    };
    attempt.then(clear, clear);
    return attempt;
  }

  private async runConnect(options: ConnectOptions): Promise<void> {
    this.lastConnect = { ...options };
    const generation = this.generation;
    const deadline = Date.now() + this.timeout;
    if (!this.tokens) await this.getToken();
    this.checkGeneration(generation);
    const client = this.getClient();
    client.setToken(this.tokens!.ws_token);
    this.connectedUser = tokenUser(this.tokens!.ws_token);
    const names = this.pick(options.channels);
    const subs = names.map((name) => this.ensureSubscription(name));
    try {
      await this.waitConnected(client, generation, deadline);
      await Promise.all(subs.map((sub) => this.waitSubscribed(sub, generation, deadline)));
    } catch (error) {
      if (generation === this.generation) this.teardown("connect() failed");
      throw error;
    }
  }

  /**
   * Subscribes to granted channels (all of them, or `names`) that are not subscribed yet. Resolves
   * when they are subscribed; rejects with `subscription_refused` when the server says no.
   */
  async subscribe(names?: string[]): Promise<void> {
    if (!this.centrifuge) {
      await this.connect(names ? { channels: names } : {});
      return;
    }
    if (!this.tokens) await this.getToken();
    const generation = this.generation;
    const deadline = Date.now() + this.timeout;
    const subs = this.pick(names).map((name) => this.ensureSubscription(name));
    await Promise.all(subs.map((sub) => this.waitSubscribed(sub, generation, deadline)));
  }

  /** Unsubscribes from `names` (default: every channel), staying connected. */
  unsubscribe(names?: string[]): void {
    for (const name of names ?? [...this.subs.keys()]) {
      const sub = this.subs.get(name);
      if (!sub) continue;
      this.subs.delete(name);
      sub.removeAllListeners();
      sub.unsubscribe();
      this.centrifuge?.removeSubscription(sub);
      this.emitChannel({ channel: name, state: "unsubscribed", code: 0, reason: "unsubscribe called" });
    }
  }

  /** Disconnects and drops the subscriptions (tokens and handlers are kept: `connect()` again). */
  disconnect(): void {
    this.teardown("disconnect() called");
  }

  /**
   * The underlying `centrifuge` client (created on first use), for what this API does not cover:
   * presence, history, RPC... Replaced after `disconnect()`, `logout()` and a change of user.
   */
  getClient(): Centrifuge {
    if (this.centrifuge) return this.centrifuge;
    const o = this.options;
    const config: Partial<CentrifugeOptions> = {
      ...o.centrifuge,
      token: this.tokens?.ws_token ?? "",
      getToken: () => this.connectionToken(),
      debug: o.debug ?? false,
      timeout: Math.min(this.timeout, o.centrifuge?.timeout ?? 5000),
    };
    if (o.websocket) config.websocket = o.websocket;
    if (o.minReconnectDelay !== undefined) config.minReconnectDelay = o.minReconnectDelay;
    if (o.maxReconnectDelay !== undefined) config.maxReconnectDelay = o.maxReconnectDelay;
    const client = new Centrifuge(this.websockets, config);
    this.centrifuge = client;
    this.connectedUser = this.tokens ? tokenUser(this.tokens.ws_token) : undefined;
    client.on("state", (ctx) => {
      if (this.centrifuge !== client) return;
      if (ctx.newState === "connected") this.emitStatus({ state: "connected" });
    });
    client.on("connecting", (ctx) => {
      if (this.centrifuge === client) this.emitStatus({ state: "connecting", code: ctx.code, reason: ctx.reason });
    });
    client.on("disconnected", (ctx) => {
      if (this.centrifuge !== client) return;
      this.emitStatus({ state: "disconnected", code: ctx.code, reason: ctx.reason });
      if (ctx.code !== 0 && !this.awaitingConnect && this.awaiting.size === 0) this.report(this.disconnectError(ctx.code, ctx.reason));
    });
    client.on("error", (ctx) => {
      if (this.centrifuge !== client) return;
      if (ctx.type === "connectToken" || ctx.type === "refreshToken") {
        this.report(new InstantError("backend_unreachable", `could not refresh the connection token (${ctx.error.message}); retrying`));
      }
    });
    client.on("publication", (ctx: ServerPublicationContext) => this.deliver(ctx));
    return client;
  }

  private pick(names?: string[]): string[] {
    const granted = new Set((this.tokens?.channels ?? []).map((c) => c.name));
    if (!names) return [...granted];
    const missing = names.filter((name) => !granted.has(name));
    if (missing.length) {
      throw new InstantError(
        "usage",
        `not granted to this session: ${missing.join(", ")} (granted: ${[...granted].join(", ") || "none"}). ` +
          "Channels are granted by the Django app's Channel model (level, groups)",
      );
    }
    return [...new Set(names)];
  }

  private ensureSubscription(name: string): Subscription {
    const existing = this.subs.get(name);
    if (existing) {
      if (existing.state === SubscriptionState.Unsubscribed) existing.subscribe();
      return existing;
    }
    const client = this.getClient();
    const grant = this.tokens?.channels.find((c) => c.name === name);
    const sub = client.newSubscription(name, {
      token: grant?.token ?? "",
      getToken: (ctx: SubscriptionTokenContext) => this.subscriptionToken(ctx.channel),
      recoverable: this.options.recover ?? true,
    });
    this.subs.set(name, sub);
    sub.on("publication", (ctx: PublicationContext) => this.deliver(ctx));
    sub.on("subscribing", (ctx) => this.emitChannel({ channel: name, state: "subscribing", code: ctx.code, reason: ctx.reason }));
    sub.on("subscribed", (ctx) =>
      this.emitChannel({ channel: name, state: "subscribed", recovered: ctx.recovered, wasRecovering: ctx.wasRecovering }),
    );
    sub.on("unsubscribed", (ctx) => {
      this.emitChannel({ channel: name, state: "unsubscribed", code: ctx.code, reason: ctx.reason });
      if (ctx.code !== 0 && !this.awaiting.has(sub)) this.report(this.subscribeError(name, ctx.code, ctx.reason));
    });
    sub.subscribe();
    return sub;
  }

  private waitConnected(client: Centrifuge, generation: number, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let probe: Promise<"answers" | "unreachable"> | null = null;
      let done = false;
      const finish = (error?: InstantError) => {
        if (done) return;
        done = true;
        this.awaitingConnect = false;
        clearTimeout(timer);
        client.off("connected", onConnected);
        client.off("disconnected", onDisconnected);
        client.off("connecting", onConnecting);
        client.off("error", onError);
        if (this.cancelPending === cancel) this.cancelPending = null;
        if (error) reject(error);
        else resolve();
      };
      const cancel = (error: InstantError) => finish(error);
      const onConnected = () => finish();
      const onDisconnected = (ctx: { code: number; reason: string }) => finish(this.disconnectError(ctx.code, ctx.reason));
      // A browser hides why a WebSocket failed. When the server's /health answers and the
      // WebSocket fails again after that, the server is up and refuses it: the page's origin.
      let answered = false;
      const transportFailed = () => {
        if (answered && isBrowser()) {
          finish(this.originError());
          return;
        }
        if (probe) return;
        probe = this.probeServer();
        void probe.then((result) => {
          if (done || generation !== this.generation) return;
          if (result === "answers") answered = true;
          else probe = null; // probe again on the next failure: the server may be starting
        });
      };
      const onConnecting = (ctx: { code: number }) => {
        if (ctx.code === 1) transportFailed(); // transport closed before the connect reply
      };
      const onError = (ctx: { type: string }) => {
        if (ctx.type === "transport") transportFailed();
      };
      const timer = setTimeout(async () => {
        if (done) return;
        const result = await (probe ?? this.probeServer());
        if (result === "unreachable") finish(this.unreachableError());
        else if (isBrowser()) finish(this.originError());
        else {
          finish(
            new InstantError(
              "timeout",
              `could not connect to the websockets server at ${this.websockets} within ${this.timeout} ms ` +
                `(its HTTP side answers at ${this.healthUrl}); check the address and the server's log`,
            ),
          );
        }
      }, Math.max(0, deadline - Date.now()));
      this.cancelPending = cancel;
      this.awaitingConnect = true;
      client.on("connected", onConnected);
      client.on("disconnected", onDisconnected);
      client.on("connecting", onConnecting);
      client.on("error", onError);
      if (generation !== this.generation) {
        finish(this.cancelledError());
        return;
      }
      if (client.state === State.Connected) finish();
      else client.connect();
    });
  }

  private waitSubscribed(sub: Subscription, generation: number, deadline: number): Promise<void> {
    if (sub.state === SubscriptionState.Subscribed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const client = this.centrifuge;
      const finish = (error?: InstantError) => {
        if (done) return;
        done = true;
        this.awaiting.delete(sub);
        clearTimeout(timer);
        sub.off("subscribed", onSubscribed);
        sub.off("unsubscribed", onUnsubscribed);
        client?.off("disconnected", onDisconnected);
        if (error) reject(error);
        else resolve();
      };
      // The server answers some refusals (a subscription token it cannot verify: 3500) by
      // closing the connection; the subscription then just waits for a reconnect.
      const onDisconnected = (ctx: { code: number; reason: string }) => finish(this.disconnectError(ctx.code, ctx.reason));
      const onSubscribed = () => finish();
      const onUnsubscribed = (ctx: { code: number; reason: string }) =>
        finish(generation !== this.generation || ctx.code === 0 ? this.cancelledError() : this.subscribeError(sub.channel, ctx.code, ctx.reason));
      const timer = setTimeout(
        () =>
          finish(
            new InstantError("timeout", `the subscription to ${sub.channel} was not confirmed within ${this.timeout} ms; check the server's log`),
          ),
        Math.max(0, deadline - Date.now()),
      );
      this.awaiting.add(sub);
      client?.on("disconnected", onDisconnected);
      sub.on("subscribed", onSubscribed);
      sub.on("unsubscribed", onUnsubscribed);
    });
  }

  private teardown(reason: string): void {
    this.generation++;
    const client = this.centrifuge;
    const subs = [...this.subs.values()];
    this.subs.clear();
    this.awaiting.clear();
    this.awaitingConnect = false;
    this.centrifuge = null;
    this.connectedUser = undefined;
    const cancel = this.cancelPending;
    this.cancelPending = null;
    cancel?.(new InstantError("cancelled", `connect() was cancelled: ${reason}`));
    this.pendingConnect = null;
    for (const sub of subs) {
      sub.removeAllListeners();
      client?.removeSubscription(sub);
    }
    if (client) {
      const wasConnected = client.state !== State.Disconnected;
      client.removeAllListeners();
      client.disconnect();
      if (wasConnected) this.emitStatus({ state: "disconnected", code: 0, reason });
    }
  }

  private checkGeneration(generation: number): void {
    if (generation !== this.generation) throw this.cancelledError();
  }

  // ---- tokens ----------------------------------------------------------------------------------

  /** Fresh tokens from `get_token/`, one request for callers that ask at the same time. */
  private refreshTokens(): Promise<TokenResponse> {
    if (this.tokens && Date.now() - this.tokensAt < TOKEN_REUSE_MS) return Promise.resolve(this.tokens);
    if (!this.tokenRequest) {
      const request = this.post("get_token/", {}).then((response) => {
        this.tokens = response;
        this.tokensAt = Date.now();
        return response;
      });
      this.tokenRequest = request;
      const clear = () => {
        if (this.tokenRequest === request) this.tokenRequest = null;
      };
      request.then(clear, clear);
    }
    return this.tokenRequest;
  }

  /** centrifuge's connection `getToken`: a 403 ends the connection, other failures are retried. */
  private async connectionToken(): Promise<string> {
    let response: TokenResponse;
    try {
      response = await this.refreshTokens();
    } catch (error) {
      if (error instanceof InstantError && error.code === "not_logged_in") throw new UnauthorizedError(error.message);
      throw error;
    }
    if (this.connectedUser !== undefined && tokenUser(response.ws_token) !== this.connectedUser) {
      throw new UnauthorizedError("the Django session now belongs to another user: call connect() again");
    }
    return response.ws_token;
  }

  /** centrifuge's subscription `getToken`: a channel no longer granted ends its subscription. */
  private async subscriptionToken(channel: string): Promise<string> {
    let response: TokenResponse;
    try {
      response = await this.refreshTokens();
    } catch (error) {
      if (error instanceof InstantError && error.code === "not_logged_in") throw new UnauthorizedError(error.message);
      throw error;
    }
    const grant = response.channels.find((c) => c.name === channel);
    if (!grant) throw new UnauthorizedError(`the channel ${channel} is no longer granted to this session`);
    return grant.token;
  }

  // ---- Django calls ----------------------------------------------------------------------------

  private url(path: string): string {
    return `${this.backend}${this.apiPath}${path}`;
  }

  private async post(
    path: string,
    body: unknown,
    extra: { csrf?: string; notLoggedInIsOk?: boolean } = {},
  ): Promise<TokenResponse> {
    const url = this.url(path);
    const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
    const csrf = extra.csrf ?? this.csrfToken;
    if (csrf) headers["X-CSRFToken"] = csrf;
    const controller = typeof AbortController === "function" ? new AbortController() : undefined;
    const timer = setTimeout(() => controller?.abort(), this.timeout);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method: "POST",
        credentials: this.options.credentials ?? "include",
        headers,
        body: JSON.stringify(body),
        signal: controller?.signal,
      });
      text = await response.text();
    } catch (error) {
      const timedOut = controller?.signal.aborted;
      throw new InstantError(
        "backend_unreachable",
        timedOut
          ? `the Django backend did not answer ${url} within ${this.timeout} ms`
          : `cannot reach the Django backend at ${url} (${describe(error)}): is the site running? ` +
              (this.backend
                ? "For a backend on another origin, let this page's origin in with django-cors-headers " +
                  "(CORS_ALLOWED_ORIGINS, CORS_ALLOW_CREDENTIALS = True)"
                : "Pass new Instant({ backend: \"http://host:port\" }) when the site is on another origin"),
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const serverMessage =
      json && typeof json === "object" && typeof (json as { error?: unknown }).error === "string"
        ? (json as { error: string }).error
        : "";
    if (!response.ok) {
      const status = response.status;
      if (status === 403 && path === "login/" && serverMessage) {
        throw new InstantError("bad_credentials", `login refused: ${serverMessage}`, { status });
      }
      if (status === 403 && serverMessage && path !== "login/") {
        if (extra.notLoggedInIsOk) return undefined as unknown as TokenResponse;
        throw new InstantError(
          "not_logged_in",
          `not logged in (${url} answered 403: ${serverMessage}): call instant.login(username, password) first, ` +
            "or set INSTANT_ALLOW_ANONYMOUS = True in the Django settings to give anonymous visitors the public channels",
          { status },
        );
      }
      if (status === 403) {
        throw new InstantError(
          "backend_error",
          `${url} answered 403 without instant's JSON error, probably Django's CSRF check: use the csrf_token of ` +
            "the last token response (this client does), and add the page's origin to CSRF_TRUSTED_ORIGINS when the page is on another origin",
          { status },
        );
      }
      if (status === 404) {
        throw new InstantError(
          "backend_error",
          `${url} answered 404: mount instant's URLs with path("instant/", include("instant.urls")) in the site's urls.py, ` +
            "or pass new Instant({ apiPath }) where they are mounted",
          { status },
        );
      }
      throw new InstantError(
        "backend_error",
        `${url} answered ${status}${serverMessage ? `: ${serverMessage}` : ""}${status >= 500 ? " (see the Django log)" : ""}`,
        { status },
      );
    }
    if (path === "logout/") return undefined as unknown as TokenResponse;
    const tokens = json as Partial<TokenResponse> | undefined;
    if (tokens && typeof tokens.csrf_token === "string" && tokens.csrf_token) this.csrf = tokens.csrf_token;
    if (!tokens || typeof tokens.ws_token !== "string" || !Array.isArray(tokens.channels)) {
      throw new InstantError(
        "backend_error",
        `${url} did not answer with instant's token response ({"csrf_token", "ws_token", "channels"}): is it the instant Django app?`,
        { status: response.status },
      );
    }
    return {
      csrf_token: typeof tokens.csrf_token === "string" ? tokens.csrf_token : "",
      ws_token: tokens.ws_token,
      channels: tokens.channels
        .filter((c): c is ChannelGrant => !!c && typeof c.name === "string")
        .map((c) => ({ name: c.name, level: String(c.level ?? ""), token: String(c.token ?? "") })),
    };
  }

  /** Whether the websockets server answers HTTP at all (its /health). */
  private async probeServer(): Promise<"answers" | "unreachable"> {
    const controller = typeof AbortController === "function" ? new AbortController() : undefined;
    const timer = setTimeout(() => controller?.abort(), Math.min(3000, this.timeout));
    try {
      const init: RequestInit = { method: "GET", signal: controller?.signal, credentials: "omit" };
      if (isBrowser()) init.mode = "no-cors"; // an opaque answer is still an answer
      await this.fetchImpl(this.healthUrl, init);
      return "answers";
    } catch {
      return "unreachable";
    } finally {
      clearTimeout(timer);
    }
  }

  private unreachableError(): InstantError {
    return new InstantError(
      "server_unreachable",
      `cannot reach the websockets server at ${this.websockets}: is it running (python manage.py runws, or instant --config config.json)? ` +
        "Is the address right (CENTRIFUGO_HOST/CENTRIFUGO_PORT, 8427 by default)?",
    );
  }

  private originError(): InstantError {
    const origin = pageLocation()?.origin ?? "this page's origin";
    return new InstantError(
      "origin_not_allowed",
      `the websockets server at ${this.websockets} answers but refused the WebSocket: add ${JSON.stringify(origin)} to ` +
        `"allowed_origins" in the server's config.json and restart it (and check that this is the instant server's address)`,
    );
  }

  private cancelledError(): InstantError {
    return new InstantError("cancelled", "connect() was cancelled by disconnect(), login() or logout()");
  }

  private disconnectError(code: number, reason: string): InstantError {
    if (code === 0) return this.cancelledError();
    if (code === 1) {
      return new InstantError(
        "not_logged_in",
        `the Django backend gives this session no token any more (${reason || "unauthorized"}): log in again`,
        { serverCode: code },
      );
    }
    if (code === 3500 || code === 3005) {
      return new InstantError("invalid_token", `${TERMINAL_HINTS[3500]} (server code ${code}: ${reason})`, { serverCode: code });
    }
    const hint = TERMINAL_HINTS[code] ?? "the websockets server closed the connection";
    return new InstantError("connection_refused", `${hint} (code ${code}: ${reason})`, { serverCode: code });
  }

  private subscribeError(channel: string, code: number, reason: string): InstantError {
    const hint = SUBSCRIBE_HINTS[code] ?? reason;
    return new InstantError("subscription_refused", `the websockets server refused the subscription to ${channel}: ${hint} (code ${code}: ${reason})`, {
      serverCode: code,
    });
  }

  // ---- handlers --------------------------------------------------------------------------------

  /** Calls `handler` for every message of `channel`. Returns a function that removes it. */
  on(channel: string, handler: Handler): () => void {
    return this.router.addChannel(channel, handler);
  }

  /** Calls `handler` for every message whose `event_class` is `eventClass`. Returns a function that removes it. */
  onEvent(eventClass: string, handler: Handler): () => void {
    return this.router.addEvent(eventClass, handler);
  }

  /** Calls `handler` for every message. Returns a function that removes it. */
  onMessage(handler: Handler): () => void {
    return this.router.addAll(handler);
  }

  /**
   * Removes handlers: `off(handler)` wherever it is registered; `off("$users")` every handler of
   * that channel, `off("$users", handler)` just that one; `off()` every message handler.
   */
  off(target?: string | Handler, handler?: Handler): void {
    if (target === undefined) this.router.clear();
    else if (typeof target === "function") this.router.removeHandler(target);
    else this.router.removeChannel(target, handler);
  }

  /** Removes the handlers of `eventClass` (or just `handler`). */
  offEvent(eventClass: string, handler?: Handler): void {
    this.router.removeEvent(eventClass, handler);
  }

  /** Connection state changes. Returns a function that removes the listener. */
  onStatus(listener: Listener<StatusEvent>): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Subscription state changes (subscribing, subscribed with `recovered`, unsubscribed). */
  onChannelStatus(listener: Listener<ChannelStatusEvent>): () => void {
    this.channelListeners.add(listener);
    return () => this.channelListeners.delete(listener);
  }

  /**
   * Errors that happen outside of a call: a handler that threw, a token refresh that failed, a
   * subscription the server ended. Without a listener they go to `console.error`.
   */
  onError(listener: Listener<InstantError>): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Routes a publication to the handlers (also usable to inject messages in tests). */
  deliver(publication: PublicationContext | ServerPublicationContext): Message {
    const message = Message.fromPublication(publication);
    this.router.dispatch(message, (error) =>
      this.report(new InstantError("usage", `a handler of ${message.channel} threw: ${describe(error)}`, { cause: error })),
    );
    return message;
  }

  private emitStatus(event: StatusEvent): void {
    this.emit(this.statusListeners, event);
  }

  private emitChannel(event: ChannelStatusEvent): void {
    this.emit(this.channelListeners, event);
  }

  /** Calls every listener (a copy: one may unsubscribe itself); a throwing listener is reported, the others still run. */
  private emit<T>(listeners: Set<Listener<T>>, event: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.report(error);
      }
    }
  }

  private report(error: unknown): void {
    const instantError =
      error instanceof InstantError ? error : new InstantError("usage", `a listener threw: ${describe(error)}`, { cause: error });
    if (this.errorListeners.size === 0) {
      console.error(`instant: ${instantError.message}`);
      return;
    }
    for (const listener of [...this.errorListeners]) {
      try {
        listener(instantError);
      } catch (nested) {
        console.error("instant: an onError listener threw", nested);
      }
    }
  }
}
