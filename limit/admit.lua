-- Admit: evaluate every check against Redis server time and, only if all
-- have room, charge them all. One call is atomic (Redis runs scripts one
-- at a time).
--
-- KEYS[i]   the state of check i
-- ARGV[1]   ticket (member of the concurrency lease sets)
-- ARGV[2]   lease TTL in microseconds
-- ARGV[3i], ARGV[3i+1], ARGV[3i+2]   kind, limit, cost of check i
--   kind 1 requests/min, 2 tokens/min (GCRA: the key holds the theoretical
--   arrival time in µs), 3 concurrent (sorted set ticket -> lease expiry
--   µs), 4 budget USD/day (hash d = UTC day number, s = USD spent).
--
-- Returns {1, 0, 0} when admitted, or {0, i, retry} when check i is the
-- first without room; retry is in µs, -1 for never.
if redis.replicate_commands then redis.replicate_commands() end -- Redis < 5

local t = redis.call('TIME')
local sec = tonumber(t[1])
local now = sec * 1000000 + tonumber(t[2])
local today = math.floor(sec / 86400)
local window = 60000000 -- µs; the burst tolerance too
local ticket = ARGV[1]
local leaseTTL = tonumber(ARGV[2])

local function round(x)
  if x < 0 then return -math.floor(-x + 0.5) end
  return math.floor(x + 0.5)
end

local tat = {}  -- tentative TAT by key
local held = {} -- live leases by key, for the keys that get the ticket

for i = 1, #KEYS do
  local key = KEYS[i]
  local kind = tonumber(ARGV[3 * i])
  local limit = tonumber(ARGV[3 * i + 1])
  local cost = tonumber(ARGV[3 * i + 2])
  if kind == 1 or kind == 2 then
    local cur = tat[key] or tonumber(redis.call('GET', key)) or now
    if cur < now then cur = now end
    if cost > limit then return {0, i, -1} end
    cur = cur + round(cost * window / limit)
    if cur - now > window then return {0, i, cur - now - window} end
    tat[key] = cur
  elseif kind == 3 then
    -- A request holds one slot per subject, however many checks name it.
    local n = held[key]
    if n == nil then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now))
      n = redis.call('ZCARD', key)
      held[key] = n
    end
    if n + 1 > limit then return {0, i, 1000000} end
  elseif kind == 4 then
    local v = redis.call('HMGET', key, 'd', 's')
    if tonumber(v[1]) == today and (tonumber(v[2]) or 0) >= limit then
      return {0, i, (today + 1) * 86400000000 - now}
    end
  end
end

for key, v in pairs(tat) do
  -- The key means nothing once the bucket is full again (v <= now).
  redis.call('SET', key, string.format('%d', v), 'PX', math.floor((v - now) / 1000) + 1)
end
for key in pairs(held) do
  redis.call('ZADD', key, string.format('%d', now + leaseTTL), ticket)
  -- Every lease expires within leaseTTL of now, the newest last.
  redis.call('PEXPIRE', key, math.floor(leaseTTL / 1000) + 1000)
end
return {1, 0, 0}
