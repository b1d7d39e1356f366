import type { Message } from "./message.js";

/** A message handler. What it returns is ignored; what it throws is reported, never propagated. */
export type Handler = (message: Message) => unknown;

/** Handlers by channel, by event class, and for everything; dispatch order is that order. */
export class Router {
  private readonly byChannel = new Map<string, Set<Handler>>();
  private readonly byEvent = new Map<string, Set<Handler>>();
  private readonly all = new Set<Handler>();

  addChannel(channel: string, handler: Handler): () => void {
    return add(this.byChannel, channel, handler);
  }

  addEvent(eventClass: string, handler: Handler): () => void {
    return add(this.byEvent, eventClass, handler);
  }

  addAll(handler: Handler): () => void {
    this.all.add(handler);
    return () => {
      this.all.delete(handler);
    };
  }

  /** Removes `handler` wherever it is registered. */
  removeHandler(handler: Handler): void {
    for (const set of this.byChannel.values()) set.delete(handler);
    for (const set of this.byEvent.values()) set.delete(handler);
    this.all.delete(handler);
    prune(this.byChannel);
    prune(this.byEvent);
  }

  removeChannel(channel: string, handler?: Handler): void {
    remove(this.byChannel, channel, handler);
  }

  removeEvent(eventClass: string, handler?: Handler): void {
    remove(this.byEvent, eventClass, handler);
  }

  removeAllMessageHandlers(): void {
    this.all.clear();
  }

  clear(): void {
    this.byChannel.clear();
    this.byEvent.clear();
    this.all.clear();
  }

  /** The handlers for `message`, in dispatch order, each once. */
  handlersFor(message: Message): Handler[] {
    const out = new Set<Handler>();
    for (const handler of this.byChannel.get(message.channel) ?? []) out.add(handler);
    if (message.eventClass) for (const handler of this.byEvent.get(message.eventClass) ?? []) out.add(handler);
    for (const handler of this.all) out.add(handler);
    return [...out];
  }

  /**
   * Calls every handler of `message`, in order; a handler that throws (or returns a rejected
   * promise) is reported to `onError` and the others still run. Returns how many were called.
   */
  dispatch(message: Message, onError: (error: unknown) => void): number {
    const handlers = this.handlersFor(message);
    for (const handler of handlers) {
      try {
        const result = handler(message);
        if (result && typeof (result as Promise<unknown>).then === "function") {
          (result as Promise<unknown>).then(undefined, onError);
        }
      } catch (error) {
        onError(error);
      }
    }
    return handlers.length;
  }
}

function add(map: Map<string, Set<Handler>>, key: string, handler: Handler): () => void {
  if (typeof handler !== "function") throw new TypeError("a handler must be a function");
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(handler);
  return () => remove(map, key, handler);
}

function remove(map: Map<string, Set<Handler>>, key: string, handler?: Handler): void {
  const set = map.get(key);
  if (!set) return;
  if (handler) set.delete(handler);
  else set.clear();
  if (set.size === 0) map.delete(key);
}

function prune(map: Map<string, Set<Handler>>): void {
  for (const [key, set] of map) if (set.size === 0) map.delete(key);
}
