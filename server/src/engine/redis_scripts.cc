#include "engine/redis_scripts.h"

namespace instant::engine::redis_scripts {
namespace {

// Field encoding of redis_payload.h: F(x) = #x ':' x. tostring() of an offset is exact below
// 1e14 (Lua 5.1 numbers are doubles printed with %.14g): 3 million publications per second for a
// year in one channel would be needed to get there.
constexpr const char kField[] = R"lua(
local function field(s) return #s .. ':' .. s end
)lua";

// KEYS[1] meta hash, KEYS[2] stream, KEYS[3] idempotent result key or "" for none.
// ARGV[1] PUB/SUB channel ("" = store only, no PUBLISH: HistoryStore::Add), ARGV[2] payload
// head ("#i1p" F(channel)), ARGV[3] body, ARGV[4] history size, ARGV[5] history ttl ms,
// ARGV[6] meta ttl ms ("0" = no expiry), ARGV[7] epoch to use if the stream has none,
// ARGV[8] idempotent result ttl ms.
// A new epoch drops whatever the old stream left (its ids would be above the restarted offsets).
constexpr const char kAddHistory[] = R"lua(
if KEYS[3] ~= '' then
  local cached = redis.call('hmget', KEYS[3], 's', 'e')
  if cached[1] then return {tonumber(cached[1]), cached[2], 1} end
end
local epoch = redis.call('hget', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[7]
  redis.call('hset', KEYS[1], 'e', epoch)
  redis.call('del', KEYS[2])
end
local top = redis.call('hincrby', KEYS[1], 's', 1)
if ARGV[6] ~= '0' then redis.call('pexpire', KEYS[1], ARGV[6]) end
local offset = tostring(top)
redis.call('xadd', KEYS[2], 'MAXLEN', ARGV[4], offset .. '-0', 'b', ARGV[3])
redis.call('pexpire', KEYS[2], ARGV[5])
if ARGV[1] ~= '' then
  redis.call('publish', ARGV[1], ARGV[2] .. field(offset) .. field(epoch) .. ARGV[3])
end
if KEYS[3] ~= '' then
  redis.call('hset', KEYS[3], 's', offset, 'e', epoch)
  redis.call('pexpire', KEYS[3], ARGV[8])
end
return {top, epoch, 0}
)lua";

// KEYS[1] idempotent result key. ARGV[1] PUB/SUB channel, ARGV[2] payload, ARGV[3] result ttl ms.
constexpr const char kPublishOnce[] = R"lua(
local cached = redis.call('hmget', KEYS[1], 's', 'e')
if cached[1] then return {tonumber(cached[1]), cached[2], 1} end
redis.call('hset', KEYS[1], 's', '0', 'e', '')
redis.call('pexpire', KEYS[1], ARGV[3])
redis.call('publish', ARGV[1], ARGV[2])
return {0, '', 0}
)lua";

// KEYS[1] meta hash, KEYS[2] stream.
// ARGV[1] epoch to create if missing, ARGV[2] meta ttl ms ("0" = none), ARGV[3] since offset
// ("" = no since), ARGV[4] since epoch ("" = any), ARGV[5] max entries (0 = none, -1 = all),
// ARGV[6] "1" = reverse (newest first).
constexpr const char kReadHistory[] = R"lua(
local meta = redis.call('hmget', KEYS[1], 'e', 's')
local epoch = meta[1]
local top = 0
if not epoch then
  epoch = ARGV[1]
  redis.call('hset', KEYS[1], 'e', epoch)
  redis.call('del', KEYS[2])
elseif meta[2] then
  top = tonumber(meta[2])
end
if ARGV[2] ~= '0' then redis.call('pexpire', KEYS[1], ARGV[2]) end
if ARGV[4] ~= '' and ARGV[4] ~= epoch then return {top, epoch, {}, 1} end
local count = tonumber(ARGV[5])
if count == 0 then return {top, epoch, {}, 0} end
local pubs
if ARGV[6] == '1' then
  local hi = '+'
  if ARGV[3] ~= '' then
    if ARGV[3] == '0' then return {top, epoch, {}, 0} end
    hi = '(' .. ARGV[3] .. '-0'
  end
  if count > 0 then
    pubs = redis.call('xrevrange', KEYS[2], hi, '-', 'COUNT', count)
  else
    pubs = redis.call('xrevrange', KEYS[2], hi, '-')
  end
else
  local lo = '-'
  if ARGV[3] ~= '' then lo = '(' .. ARGV[3] .. '-0' end
  if count > 0 then
    pubs = redis.call('xrange', KEYS[2], lo, '+', 'COUNT', count)
  else
    pubs = redis.call('xrange', KEYS[2], lo, '+')
  end
end
return {top, epoch, pubs, 0}
)lua";

constexpr const char kNow[] = R"lua(
local function now_ms()
  local t = redis.call('time')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
)lua";

// KEYS[1] expiry zset, KEYS[2] data hash. ARGV[1] client id, ARGV[2] value, ARGV[3] ttl ms
// (<= 0: the entry never expires and the keys lose their expiry; a later Add with a ttl does not
// give it back, so mixing both on one channel keeps the keys until they empty).
constexpr const char kPresenceAdd[] = R"lua(
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  -- The keys live as long as their longest-lived member: extend, never shorten (an entry with
  -- a short ttl must not take the others with it), and leave keys without expiry alone.
  local left = redis.call('pttl', KEYS[1])
  redis.call('zadd', KEYS[1], now_ms() + ttl, ARGV[1])
  redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
  if left == -2 or (left >= 0 and left < ttl) then
    redis.call('pexpire', KEYS[1], ttl)
    redis.call('pexpire', KEYS[2], ttl)
  end
else
  redis.call('zadd', KEYS[1], '+inf', ARGV[1])
  redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
  redis.call('persist', KEYS[1])
  redis.call('persist', KEYS[2])
end
return 1
)lua";

// Shared by get and stats: drop members whose expiry passed (unpack in chunks: Lua's C stack is
// limited to a few thousand values).
constexpr const char kClean[] = R"lua(
local function clean()
  local now = now_ms()
  local expired = redis.call('zrangebyscore', KEYS[1], '-inf', now)
  local n = #expired
  if n == 0 then return end
  for i = 1, n, 1000 do
    redis.call('hdel', KEYS[2], unpack(expired, i, math.min(i + 999, n)))
  end
  redis.call('zremrangebyscore', KEYS[1], '-inf', now)
end
)lua";

// KEYS[1] expiry zset, KEYS[2] data hash.
constexpr const char kPresenceGet[] = R"lua(
clean()
return redis.call('hgetall', KEYS[2])
)lua";

// KEYS[1] expiry zset, KEYS[2] data hash. Users are counted from the values' first field (the
// user id; "" counts as one user, like Centrifugo).
constexpr const char kPresenceStats[] = R"lua(
clean()
local values = redis.call('hvals', KEYS[2])
local seen = {}
local users = 0
for _, v in ipairs(values) do
  local user = ''
  local colon = string.find(v, ':', 1, true)
  if colon then
    local len = tonumber(string.sub(v, 1, colon - 1)) or 0
    user = string.sub(v, colon + 1, colon + len)
  end
  if not seen[user] then
    seen[user] = true
    users = users + 1
  end
end
return {#values, users}
)lua";

}  // namespace

const redis::Script& AddHistory() {
  static const redis::Script s(std::string(kField) + kAddHistory);
  return s;
}
const redis::Script& PublishOnce() {
  static const redis::Script s(kPublishOnce);
  return s;
}
const redis::Script& ReadHistory() {
  static const redis::Script s(kReadHistory);
  return s;
}
const redis::Script& PresenceAdd() {
  static const redis::Script s(std::string(kNow) + kPresenceAdd);
  return s;
}
const redis::Script& PresenceGet() {
  static const redis::Script s(std::string(kNow) + kClean + kPresenceGet);
  return s;
}
const redis::Script& PresenceStats() {
  static const redis::Script s(std::string(kNow) + kClean + kPresenceStats);
  return s;
}

std::vector<const redis::Script*> All() {
  return {&AddHistory(), &PublishOnce(), &ReadHistory(), &PresenceAdd(), &PresenceGet(), &PresenceStats()};
}

}  // namespace instant::engine::redis_scripts
