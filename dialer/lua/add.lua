-- Add contacts as pending, each unless it exists already (a resumed load).
-- KEYS: 1 counts hash, 2 ready zset, 3 campaign hash, 4.. contact hashes, one per contact
-- ARGV: per contact, in KEYS order: member (source row), due time (ms since the epoch; 0 = now),
--       n, then n strings: its field, value pairs
-- Returns how many were added.
local added = 0
local last = tonumber(redis.call('HGET', KEYS[3], 'last_row') or '0')
local highest = last
local i = 1
for k = 4, #KEYS do
  local member, n = ARGV[i], tonumber(ARGV[i + 2])
  if redis.call('EXISTS', KEYS[k]) == 0 then
    redis.call('HSET', KEYS[k], 'state', 'pending', unpack(ARGV, i + 3, i + 2 + n))
    redis.call('ZADD', KEYS[2], tonumber(ARGV[i + 1]), member)
    added = added + 1
    if tonumber(member) > highest then highest = tonumber(member) end
  end
  i = i + 3 + n
end
if added > 0 then
  redis.call('HINCRBY', KEYS[1], 'pending', added)
  redis.call('HINCRBY', KEYS[3], 'total', added)
end
if highest > last then redis.call('HSET', KEYS[3], 'last_row', highest) end
return added
