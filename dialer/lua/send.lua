-- The send guard, passed right before every create: at most `limit` sends in any window.
-- Stamps are Redis's clock at the moment a send was allowed, newest first; a stamp leaves the
-- list once it is a window old, so the list never holds more than `limit` of them. A send is
-- refused while `limit` stamps are younger than a window, so no window ever holds more.
-- KEYS: 1 stamps list
-- ARGV: 1 limit (sends per window), 2 window us
-- Returns 0 when the send may go now (its stamp is recorded), else the us to wait first.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local oldest = redis.call('LINDEX', KEYS[1], -1)
while oldest and now - tonumber(oldest) >= window do
  redis.call('RPOP', KEYS[1])
  oldest = redis.call('LINDEX', KEYS[1], -1)
end
if redis.call('LLEN', KEYS[1]) >= limit then
  return tonumber(redis.call('LINDEX', KEYS[1], limit - 1)) + window - now
end
redis.call('LPUSH', KEYS[1], string.format('%.0f', now))
redis.call('LTRIM', KEYS[1], 0, limit - 1)
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
return 0
