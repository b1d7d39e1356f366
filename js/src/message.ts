/**
 * Messages as instant's Django app publishes them: `{"channel", "site", "message", "data",
 * "event_class", "bucket"}`, sent as a JSON object or as a JSON string (django-instant >= 2.4 and
 * INSTANT_PAYLOAD_FORMAT = "string", the default). Both are decoded here.
 */

/** What the Django app puts in a publication (every key optional). */
export interface Payload {
  channel?: string;
  site?: string;
  message?: unknown;
  data?: unknown;
  event_class?: string;
  bucket?: string;
  date?: string | number;
  [key: string]: unknown;
}

/** The parts of a centrifuge publication a message is made from. */
export interface PublicationLike {
  channel: string;
  data: unknown;
  offset?: number;
  tags?: Record<string, string>;
}

const KNOWN_KEYS = ["message", "data", "event_class", "site", "bucket"];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The payload of a publication as an object: a JSON string is parsed; anything that is not an
 * instant payload (a bare string, a number, an array, an object without any instant key) is wrapped,
 * a string as `message`, anything else as `data`.
 */
export function decodePayload(raw: unknown): Payload {
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return { message: raw };
    }
  }
  if (typeof value === "string") return { message: value };
  if (!isPlainObject(value)) return value === undefined ? {} : { data: value };
  if (!KNOWN_KEYS.some((key) => key in value)) return { data: value };
  return value as Payload;
}

function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function dateOf(value: unknown): Date {
  if (typeof value === "string" || typeof value === "number") {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return new Date();
}

/** One event received on a channel. */
export class Message {
  /** The channel it was published into (the subscription's channel). */
  readonly channel: string;
  /** The `message` text ("" when none). */
  readonly message: string;
  /** The `data` ({} when none). */
  readonly data: any;
  /** The `event_class` ("" when none): what `onEvent()` routes on. */
  readonly eventClass: string;
  /** The `site` (SITE_NAME of the publishing Django site; "" when none). */
  readonly site: string;
  /** The `bucket` ("" when none). */
  readonly bucket: string;
  /** When it was received (or the payload's `date` when it has one). */
  readonly date: Date;
  /** The publication's offset in the channel's history stream, when the channel keeps history. */
  readonly offset: number | undefined;
  /** Publication tags set by the publisher, if any. */
  readonly tags: Record<string, string> | undefined;
  /** The decoded payload, for keys other than the above. */
  readonly payload: Payload;

  constructor(channel: string, payload: Payload, extra: { offset?: number; tags?: Record<string, string> } = {}) {
    this.channel = channel || text(payload.channel);
    this.message = text(payload.message);
    this.data = payload.data === undefined || payload.data === null ? {} : payload.data;
    this.eventClass = text(payload.event_class);
    this.site = text(payload.site);
    this.bucket = text(payload.bucket);
    this.date = dateOf(payload.date);
    this.offset = extra.offset;
    this.tags = extra.tags;
    this.payload = payload;
  }

  /** A message from a centrifuge publication (its `data` an object or a JSON string). */
  static fromPublication(publication: PublicationLike): Message {
    return new Message(publication.channel, decodePayload(publication.data), {
      offset: publication.offset,
      tags: publication.tags,
    });
  }

  /** django-instant 0.5 name of {@link channel}. */
  get channelName(): string {
    return this.channel;
  }

  /** django-instant 0.5 name of {@link message}. */
  get msg(): string {
    return this.message;
  }
}
