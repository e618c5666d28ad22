-- Load contacts by number: a number new to the campaign is stored as pending; a known one still
-- pending takes the list's new details; a known one already dialled or final is kept as it is.
-- Every contact seen is stamped with this load's generation and the row holding its number in
-- this file (those left unstamped are removed afterwards). A contact's member is its number's,
-- never its row. A pending contact held for this load (a resumed campaign's, out of `ready` until
-- the list shows it is still there) is due again as it was. Safe to repeat after a crash
-- part-way through a load.
-- KEYS: 1 counts hash, 2 ready zset, 3 campaign hash, 4 numbers hash, 5 held zset,
--       6.. contact hashes
-- ARGV: 1 the load's generation; then per contact, in KEYS order: member, phone (E.164),
--       due time (ms since the epoch; 0 = now), source row, n, then n strings: its field,
--       value pairs
-- Returns {added, updated, kept, unchanged}.
local gen = ARGV[1]
local added, updated, kept, unchanged = 0, 0, 0, 0
local i = 2
for k = 6, #KEYS do
  local member, phone, row, n = ARGV[i], ARGV[i + 1], ARGV[i + 3], tonumber(ARGV[i + 4])
  local first, last = i + 5, i + 4 + n
  local known = redis.call('HGET', KEYS[4], phone)
  if not known and redis.call('EXISTS', KEYS[k]) == 0 then
    redis.call('HSET', KEYS[k], 'state', 'pending', 'load', gen, 'source_row', row,
      unpack(ARGV, first, last))
    redis.call('ZADD', KEYS[2], tonumber(ARGV[i + 2]), member)
    redis.call('HSET', KEYS[4], phone, member)
    added = added + 1
  elseif known == member then
    if redis.call('HGET', KEYS[k], 'state') == 'pending' then
      local changed = false
      for f = first, last, 2 do
        if redis.call('HGET', KEYS[k], ARGV[f]) ~= ARGV[f + 1] then changed = true end
      end
      if changed then
        redis.call('HSET', KEYS[k], unpack(ARGV, first, last))
        updated = updated + 1
      else
        unchanged = unchanged + 1
      end
      local due = redis.call('ZSCORE', KEYS[5], member)
      if due then
        redis.call('ZREM', KEYS[5], member)
        redis.call('ZADD', KEYS[2], due, member)
      end
    else
      kept = kept + 1
    end
    redis.call('HSET', KEYS[k], 'load', gen, 'source_row', row)
  end
  i = last + 1
end
if added > 0 then
  redis.call('HINCRBY', KEYS[1], 'pending', added)
  redis.call('HINCRBY', KEYS[3], 'total', added)
end
return {added, updated, kept, unchanged}
