/**
 * django-instant 0.5's `useInstant()` API (npm `djangoinstant`, and `$instant.useInstant()` of
 * django-instant 4.1+'s `static/instant/index.min.js`), on top of {@link Instant}.
 *
 * Same calls, with its bugs fixed:
 * - `init()` before the visitor logged in no longer leaves `onReady` pending for ever: `onReady`
 *   resolves once `init()` ran, and a later `login()` + `connect()` works without a page reload;
 * - `login()` keeps the tokens and channels of its response (0.5 ignored them);
 * - tokens are refreshed through the Django endpoints (0.5 had no `getToken`, so a page open for
 *   longer than the token's lifetime could not reconnect);
 * - errors reject with a message saying what to do.
 */
import type { Centrifuge } from "centrifuge";

import { InstantError } from "./errors.js";
import { Instant, type InstantOptions } from "./instant.js";
import type { Message } from "./message.js";

/** A channel as 0.5 exposed it in `channels`. */
export interface LegacyChannel {
  name: string;
  level: string;
  token: string;
}

export interface UseInstant {
  /** Configures the client and gets the session's tokens (`<backend>/instant/get_token/`). */
  init(backendUrl: string, websocketsUrl: string, verbose?: boolean): Promise<void>;
  /** Logs in (`<backend>/instant/login/`) and keeps the user's tokens and channels. */
  login(username: string, password: string): Promise<void>;
  /** Connects, then subscribes to every channel when `autosub` (default). */
  connect(autosub?: boolean): Promise<void>;
  /** Subscribes to every channel of the session. */
  subscribe(): Promise<void>;
  /** Sets THE message handler (one for everything, as in 0.5; replaces the previous one). */
  onMessage(handler: (message: Message) => void): void;
  /** The underlying centrifuge client. */
  getClient(): Centrifuge;
  /** Resolved once `init()` ran. */
  onReady: Promise<void>;
  /** The session's channels (`{name, level, token}`), updated by init, login and connect. */
  channels: Set<LegacyChannel>;
  /** Not in 0.5: logs out (POST with the CSRF token) and disconnects. */
  logout(): Promise<void>;
  /** Not in 0.5: the {@link Instant} underneath (after `init()`). */
  readonly instant: Instant | null;
}

/**
 * django-instant 0.5's client. `defaults` (not in 0.5) are {@link InstantOptions} for the
 * {@link Instant} that `init()` creates, e.g. `{ websocket: WebSocket }` in Node.js.
 */
export function useInstant(defaults: InstantOptions = {}): UseInstant {
  let instant: Instant | null = null;
  let verbose = false;
  let handler: (message: Message) => void = (message) => console.log(JSON.stringify(message.payload));
  let resolveReady!: () => void;
  const onReady = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  const channels = new Set<LegacyChannel>();

  const sync = (from: Instant) => {
    channels.clear();
    for (const grant of from.grants) channels.add({ ...grant });
  };
  const need = (): Instant => {
    if (!instant) throw new InstantError("usage", "call init(backendUrl, websocketsUrl) first");
    return instant;
  };

  return {
    async init(backendUrl: string, websocketsUrl: string, isVerbose = false) {
      verbose = isVerbose;
      if (instant) instant.disconnect();
      const created = new Instant({ ...defaults, backend: backendUrl, websockets: websocketsUrl, debug: verbose });
      instant = created;
      created.onMessage((message) => handler(message));
      created.onError((error) => console.error(`instant: ${error.message}`));
      if (verbose) {
        created.onChannelStatus((event) => console.log(`instant: ${event.channel} ${event.state}`, event));
      }
      try {
        await created.getToken();
        sync(created);
      } catch (error) {
        // Not logged in yet is expected before login(): connect() will fetch the tokens.
        if (!(error instanceof InstantError && error.code === "not_logged_in")) {
          resolveReady();
          throw error;
        }
        if (verbose) console.log(`instant: ${error.message}`);
      }
      created.getClient();
      resolveReady();
    },
    async login(username: string, password: string) {
      const current = need();
      await current.login(username, password);
      sync(current);
    },
    async connect(autosub = true) {
      const current = need();
      await current.connect({ channels: autosub ? undefined : [] });
      sync(current);
    },
    async subscribe() {
      const current = need();
      await current.subscribe();
      sync(current);
    },
    onMessage(fn: (message: Message) => void) {
      if (typeof fn !== "function") throw new InstantError("usage", "onMessage(handler) takes a function");
      handler = fn;
    },
    getClient() {
      return need().getClient();
    },
    onReady,
    channels,
    async logout() {
      await need().logout();
      channels.clear();
    },
    get instant() {
      return instant;
    },
  };
}
