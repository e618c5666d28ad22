-- Count one ended call for the campaign's guards, once per call (a redelivered follow-up counts
-- nothing again), and say whether the failure guard trips.
-- KEYS: 1 spend (hash), 2 ended (set of the call ids counted), 3 failures (list, newest first)
-- ARGV: 1 call id (or a refused create's id), 2 its cost in cents, '' when unreported or '-'
--       when there was no call to cost, 3 '1' if it failed or errored else '0',
--       4 M (endings looked at; 0: no failure guard), 5 N (failures of the last M that trip it)
-- Returns {counted (0/1), tripped (0/1)}.
-- The spend hash counts the calls of unknown cost (`unknown`), those with no call (`nocall`)
-- and the endings (`endings`: each ending's number); the calls costed are the rest of the ended
-- set (`spend` in dialer/store/guards.py). The failures list holds the numbers of the N newest
-- failed endings: the guard trips when the N-th newest is one of the last M endings. A success
-- costs one command here, not a list's worth.
local counted = redis.call('SADD', KEYS[2], ARGV[1])
if counted == 0 then return {0, 0} end
if ARGV[2] == '' then
  redis.call('HINCRBY', KEYS[1], 'unknown', 1)
elseif ARGV[2] == '-' then
  redis.call('HINCRBY', KEYS[1], 'nocall', 1)
else
  redis.call('HINCRBYFLOAT', KEYS[1], 'known_cents', ARGV[2])
end
local m, n = tonumber(ARGV[4]), tonumber(ARGV[5])
if m <= 0 then return {1, 0} end
local ending = redis.call('HINCRBY', KEYS[1], 'endings', 1)
if ARGV[3] ~= '1' then return {1, 0} end
if redis.call('LPUSH', KEYS[3], ending) > n then redis.call('LTRIM', KEYS[3], 0, n - 1) end
local nth = redis.call('LINDEX', KEYS[3], n - 1)
if nth and tonumber(nth) > ending - m then
  redis.call('DEL', KEYS[3])  -- once resumed, the guard counts afresh
  return {1, 1}
end
return {1, 0}
