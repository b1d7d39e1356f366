export { Instant, websocketEndpoints } from "./instant.js";
export type {
  ChannelGrant,
  ChannelInfo,
  ChannelStatusEvent,
  ConnectOptions,
  ConnectionState,
  InstantOptions,
  SessionInfo,
  StatusEvent,
} from "./instant.js";
export { Message, decodePayload } from "./message.js";
export type { Payload, PublicationLike } from "./message.js";
export type { Handler } from "./router.js";
export { InstantError } from "./errors.js";
export type { InstantErrorCode } from "./errors.js";
export { useInstant } from "./compat.js";
export type { LegacyChannel, UseInstant } from "./compat.js";
export { Centrifuge, UnauthorizedError } from "centrifuge";

/** Version of instant-client. */
export const version = "0.1.0";
