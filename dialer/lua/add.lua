-- Add one contact as pending and due now, unless it exists already (a resumed load).
-- KEYS: 1 contact hash, 2 counts hash, 3 ready zset, 4 campaign hash
-- ARGV: 1 member (source row), 2 due time (ms since the epoch; 0 = now), 3.. field, value pairs
-- Returns 1 when added, 0 when it was there.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending', unpack(ARGV, 3))
redis.call('HINCRBY', KEYS[2], 'pending', 1)
redis.call('ZADD', KEYS[3], tonumber(ARGV[2]), ARGV[1])
redis.call('HINCRBY', KEYS[4], 'total', 1)
local last = tonumber(redis.call('HGET', KEYS[4], 'last_row') or '0')
if tonumber(ARGV[1]) > last then redis.call('HSET', KEYS[4], 'last_row', ARGV[1]) end
return 1
