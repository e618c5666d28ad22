-- The send guard: at most `limit` sends in any window. Not a script of its own: Redis runs one
-- body per script, so the store prepends this function to the scripts that call it (claim.lua
-- and send.lua; see `_script` in dialer/store/core.py). Times are microseconds of Redis's clock.
-- Stamps are Redis's clock at the moment a send was allowed, newest first; a stamp leaves the
-- list once it is a window old, so the list never holds more than `limit` of them. A send is
-- refused while `limit` stamps are younger than a window, so no window ever holds more.
-- Returns 0 when the send may go now (its stamp is recorded), else the us to wait first.
local function send_guard(key, limit, window, now)
  local oldest = redis.call('LINDEX', key, -1)
  while oldest and now - tonumber(oldest) >= window do
    redis.call('RPOP', key)
    oldest = redis.call('LINDEX', key, -1)
  end
  if redis.call('LLEN', key) >= limit then
    return tonumber(redis.call('LINDEX', key, limit - 1)) + window - now
  end
  redis.call('LPUSH', key, string.format('%.0f', now))
  redis.call('LTRIM', key, 0, limit - 1)
  redis.call('PEXPIRE', key, math.ceil(window / 1000) + 1000)
  return 0
end
