-- Take what is due from a campaign's index sets, so the caller can enqueue tasks for it.
-- KEYS: 1 ready, 2 queued, 3 watch
-- ARGV: 1 max to dial, 2 requeue-after ms (a queued task older than this was lost),
--       3 max to follow, 4 follow lease ms (when the follow-up is due again if its task is lost)
-- Returns {rows to dial, rows to follow}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lost = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
for _, m in ipairs(lost) do
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZADD', KEYS[1], now, m)
end
local dial = {}
if tonumber(ARGV[1]) > 0 then
  dial = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
  for _, m in ipairs(dial) do
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZADD', KEYS[2], now, m)
  end
end
local follow = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(follow) do
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), m)
end
return {dial, follow}
