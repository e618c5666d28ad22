-- Take what is due from a campaign's index sets, so the caller can enqueue tasks for it.
-- KEYS: 1 ready, 2 queued, 3 watch
-- ARGV: 1 max to dial, 2 requeue-after ms (a queued task older than this was lost),
--       3 max to follow, 4 follow lease ms (when the follow-up is due again if its task is lost)
-- Returns {rows to dial, rows to follow}.
-- Members move in batches: one ZREM or ZADD for up to BATCH of them, not one each.
local BATCH = 1000
local function each_batch(members, command, key, score)
  for first = 1, #members, BATCH do
    local args = {}
    for i = first, math.min(first + BATCH - 1, #members) do
      if score then args[#args + 1] = score end
      args[#args + 1] = members[i]
    end
    redis.call(command, key, unpack(args))
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lost = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
each_batch(lost, 'ZREM', KEYS[2])
each_batch(lost, 'ZADD', KEYS[1], now)
local dial = {}
if tonumber(ARGV[1]) > 0 then
  dial = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
  each_batch(dial, 'ZREM', KEYS[1])
  each_batch(dial, 'ZADD', KEYS[2], now)
end
local follow = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
each_batch(follow, 'ZADD', KEYS[3], now + tonumber(ARGV[4]))
return {dial, follow}
