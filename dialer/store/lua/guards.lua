-- Count one ended call for the campaign's guards, once per call (a redelivered follow-up counts
-- nothing again), and say whether the failure guard trips.
-- KEYS: 1 spend (hash), 2 ended (set of the call ids counted), 3 endings (list, newest first)
-- ARGV: 1 call id (or a refused create's id), 2 its cost in cents, '' when unreported or '-'
--       when there was no call to cost, 3 '1' if it failed or errored else '0',
--       4 M (endings kept; 0 keeps none), 5 N (failures of the last M that trip the guard)
-- Returns {counted (0/1), tripped (0/1)}.
-- The spend hash counts the calls of unknown cost (`unknown`) and those with no call (`nocall`);
-- the calls costed are the rest of the ended set (`Spend` in dialer/store/guards.py). It also
-- keeps `failures`, the failures on the endings list, moved as endings come and go.
local counted = redis.call('SADD', KEYS[2], ARGV[1])
if counted == 0 then return {0, 0} end
if ARGV[2] == '' then
  redis.call('HINCRBY', KEYS[1], 'unknown', 1)
elseif ARGV[2] == '-' then
  redis.call('HINCRBY', KEYS[1], 'nocall', 1)
else
  redis.call('HINCRBYFLOAT', KEYS[1], 'known_cents', ARGV[2])
end
local window = tonumber(ARGV[4])
if window <= 0 then return {1, 0} end
local held = redis.call('LPUSH', KEYS[3], ARGV[3])
local change = ARGV[3] == '1' and 1 or 0
if held > window + 1 then  -- M was made smaller: count the endings kept afresh
  redis.call('LTRIM', KEYS[3], 0, window - 1)
  change = 0
  for _, ending in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
    if ending == '1' then change = change + 1 end
  end
  redis.call('HSET', KEYS[1], 'failures', change)
  change = 0
elseif held > window and redis.call('RPOP', KEYS[3]) == '1' then
  change = change - 1
end
local failures = 0
if change ~= 0 or held > window + 1 then
  failures = redis.call('HINCRBY', KEYS[1], 'failures', change)
elseif ARGV[3] == '1' then
  failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
end
if failures >= tonumber(ARGV[5]) then
  redis.call('DEL', KEYS[3])  -- once resumed, the guard counts afresh
  redis.call('HDEL', KEYS[1], 'failures')
  return {1, 1}
end
return {1, 0}
