// Compiled (not run) by tools/js_test.sh: the published declarations serve a TypeScript user.
import { Instant, InstantError, Message, useInstant, type ChannelInfo, type InstantErrorCode, type SessionInfo } from "instant-client";

async function main(): Promise<void> {
  const instant = new Instant({ backend: "http://localhost:8000", websockets: "ws://localhost:8427" });
  const off: () => void = instant.on("$users", (msg: Message) => console.log(msg.message, msg.data, msg.offset));
  instant.onEvent("important", (msg) => alert(`${msg.channel}: ${msg.message} (${msg.eventClass}, ${msg.site}, ${msg.bucket}, ${msg.date.toISOString()})`));
  instant.onMessage(async (msg) => {
    await Promise.resolve(msg.payload);
  });
  instant.onStatus(({ state }) => state satisfies "disconnected" | "connecting" | "connected");
  instant.onError((error) => {
    const code: InstantErrorCode = error.code;
    console.warn(code, error.message);
  });
  try {
    const session: SessionInfo = await instant.login("alice", "alice");
    const channels: ChannelInfo[] = session.channels;
    console.log(channels.map((c) => `${c.name} (${c.level})`));
    await instant.connect({ channels: ["$users"] });
  } catch (error) {
    if (error instanceof InstantError && error.code === "not_logged_in") console.log("log in first");
  }
  off();
  instant.off("$users");
  await instant.logout();

  const legacy = useInstant();
  await legacy.init("http://localhost:8000", "ws://localhost:8427", true);
  legacy.onMessage((msg) => console.log(msg.channelName, msg.msg));
  await legacy.connect();
  legacy.getClient().state;
}

void main;
