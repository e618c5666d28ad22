-- Count one ended call for the campaign's guards, once per call (a redelivered follow-up counts
-- nothing again), and say whether the failure guard trips.
-- KEYS: 1 spend (hash), 2 ended (set of the call ids counted), 3 endings (list, newest first)
-- ARGV: 1 call id (or a refused create's id), 2 its cost in cents, '' when unreported or '-'
--       when there was no call to cost, 3 '1' if it failed or errored else '0',
--       4 M (endings kept; 0 keeps none), 5 N (failures of the last M that trip the guard)
-- Returns {counted (0/1), known cents (text), calls costed, calls of unknown cost, tripped (0/1)}
local counted = redis.call('SADD', KEYS[2], ARGV[1])
local window = tonumber(ARGV[4])
local tripped = 0
if counted == 1 then
  if ARGV[2] == '' then
    redis.call('HINCRBY', KEYS[1], 'unknown', 1)
  elseif ARGV[2] ~= '-' then
    redis.call('HINCRBYFLOAT', KEYS[1], 'known_cents', ARGV[2])
    redis.call('HINCRBY', KEYS[1], 'costed', 1)
  end
  if window > 0 then
    redis.call('LPUSH', KEYS[3], ARGV[3])
    redis.call('LTRIM', KEYS[3], 0, window - 1)
    local failures = 0
    for _, ending in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
      if ending == '1' then failures = failures + 1 end
    end
    if failures >= tonumber(ARGV[5]) then
      tripped = 1
      redis.call('DEL', KEYS[3])  -- once resumed, the guard counts afresh
    end
  end
end
local spend = redis.call('HMGET', KEYS[1], 'known_cents', 'costed', 'unknown')
return {counted, spend[1] or '0', tonumber(spend[2] or '0'), tonumber(spend[3] or '0'), tripped}
