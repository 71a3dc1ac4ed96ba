/**
 * Lua scripts of the redis driver. Each runs atomically on the server, so a claim, an ack with
 * its chain/batch follow-ups, or a bulk push is all-or-nothing with respect to other clients.
 *
 * Keys (P = prefix): P.."id" job id counter; P.."job:"..id hash; P.."q:"..queue..":"..priority
 * sorted set of zero-padded ids scored by visible_at (ms: available-at, or lease end once
 * reserved — the same single-range trick as the sqlite driver); P.."prios:"..queue the priorities
 * in use; P.."queues" known queue names; P.."failed" + P.."failed:"..fid; P.."batch:"..id;
 * P.."unique:"..key; P.."paused"; P.."restart"; P.."lock:"/"limit:"..key; P.."tput:"..queue..":"..minute.
 *
 * A stored job (what JS sends): {queue, handler, payload (JSON text), priority, delayMs, tries,
 * backoff (JSON text), timeout, uniqueKey, uniqueForMs, batchId, next (stored job JSON), catch
 * (stored job JSON)}. Chains are linked lists of stored jobs, so Lua never re-encodes payloads.
 */

const LIB = `
local P = KEYS[1]
local now = tonumber(ARGV[1])
local function member(id) return string.format('%016d', id) end
local function events() redis.call('PUBLISH', P .. 'events', '1') end
local function insert(j)
  local q = j.queue or 'default'
  if j.uniqueKey then
    -- the lock holds until its job finishes, or until expires_at when unique_for was given
    local u = redis.call('HMGET', P .. 'unique:' .. j.uniqueKey, 'job', 'expires_at')
    if u[1] then
      if u[2] then
        if tonumber(u[2]) > now then return -1 end
      elseif redis.call('EXISTS', P .. 'job:' .. u[1]) == 1 then return -1 end
    end
  end
  local id = redis.call('INCR', P .. 'id')
  local prio = tonumber(j.priority or 0)
  local visible = now + math.floor(tonumber(j.delayMs or 0) + 0.5)
  local jk = P .. 'job:' .. id
  redis.call('HSET', jk, 'queue', q, 'handler', j.handler, 'payload', j.payload, 'attempts', 0, 'priority', prio,
    'visible_at', visible, 'created_at', now)
  for _, f in ipairs({'tries', 'backoff', 'timeout', 'next', 'catch', 'batchId', 'uniqueKey'}) do
    if j[f] ~= nil and j[f] ~= cjson.null then redis.call('HSET', jk, f, j[f]) end
  end
  if j.uniqueKey then
    local uk = P .. 'unique:' .. j.uniqueKey
    redis.call('DEL', uk)
    if j.uniqueForMs then
      redis.call('HSET', uk, 'job', id, 'expires_at', now + tonumber(j.uniqueForMs))
      redis.call('PEXPIRE', uk, math.floor(tonumber(j.uniqueForMs)) + 60000)
    else redis.call('HSET', uk, 'job', id) end
  end
  redis.call('ZADD', P .. 'q:' .. q .. ':' .. prio, visible, member(id))
  redis.call('ZADD', P .. 'prios:' .. q, prio, prio)
  redis.call('SADD', P .. 'queues', q)
  return id
end
local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
`;

export const PUSH = `${LIB}
local jobs = cjson.decode(ARGV[2])
local ids = {}
for i, j in ipairs(jobs) do ids[i] = insert(j) end
events()
return ids
`;

export const RESERVE = `${LIB}
local leaseUntil = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local paused = {}
for _, q in ipairs(redis.call('SMEMBERS', P .. 'paused')) do paused[q] = true end
local out = {}
for i = 4, #ARGV do
  local q = ARGV[i]
  if not paused[q] and #out < limit then
    for _, pr in ipairs(redis.call('ZREVRANGE', P .. 'prios:' .. q, 0, -1)) do
      if #out >= limit then break end
      local zk = P .. 'q:' .. q .. ':' .. pr
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, limit - #out)) do
        local id = tonumber(m)
        local jk = P .. 'job:' .. id
        redis.call('ZADD', zk, leaseUntil, m)
        local a = redis.call('HINCRBY', jk, 'attempts', 1)
        redis.call('HSET', jk, 'reserved_at', now, 'visible_at', leaseUntil)
        local h = redis.call('HMGET', jk, 'queue', 'handler', 'payload', 'tries', 'backoff', 'timeout', 'batchId', 'created_at')
        out[#out + 1] = {id, a, h[1], h[2], h[3], h[4] or '', h[5] or '', h[6] or '', h[7] or '', h[8]}
      end
    end
  end
end
return out
`;

export const SETTLE = `${LIB}
local outcomes = cjson.decode(ARGV[2])
local minute = math.floor(now / 60000)
local woke = false
local function batchStep(bid, jobId, failed)
  local bk = P .. 'batch:' .. bid
  if redis.call('EXISTS', bk) == 0 then return end
  local pending = redis.call('HINCRBY', bk, 'pending', -1)
  local nf = tonumber(redis.call('HGET', bk, 'failed'))
  if failed then
    nf = redis.call('HINCRBY', bk, 'failed', 1)
    redis.call('RPUSH', bk .. ':failed', jobId)
  end
  if pending == 0 then redis.call('HSET', bk, 'finished_at', now) end
  local b = redis.call('HMGET', bk, 'then', 'catch', 'finally', 'allow_failures', 'cancelled_at')
  if failed and nf == 1 then
    if b[2] then insert(cjson.decode(b[2])) end
    if b[4] ~= '1' and not b[5] then redis.call('HSET', bk, 'cancelled_at', now) end
  end
  if pending == 0 then
    if nf == 0 and b[1] then insert(cjson.decode(b[1])) end
    if b[3] then insert(cjson.decode(b[3])) end
  end
  woke = true
end
for _, o in ipairs(outcomes) do
  local jk = P .. 'job:' .. o.id
  local a = redis.call('HGET', jk, 'attempts')
  if a and tonumber(a) == o.attempts then
    local h = redis.call('HMGET', jk, 'queue', 'priority')
    local zk = P .. 'q:' .. h[1] .. ':' .. h[2]
    if o.kind == 'release' then
      redis.call('ZADD', zk, now + o.delayMs, member(o.id))
      redis.call('HSET', jk, 'visible_at', now + o.delayMs)
      redis.call('HDEL', jk, 'reserved_at')
      woke = true
    else
      local f = hgetall(jk)
      redis.call('DEL', jk)
      redis.call('ZREM', zk, member(o.id))
      if f.uniqueKey and redis.call('HGET', P .. 'unique:' .. f.uniqueKey, 'job') == tostring(o.id) then redis.call('DEL', P .. 'unique:' .. f.uniqueKey) end
      local tk = P .. 'tput:' .. f.queue .. ':' .. minute
      if o.kind == 'done' then
        redis.call('HINCRBY', tk, 'done', 1)
        if o.output and o.output ~= '' then
          local dk = P .. 'done:' .. o.id
          redis.call('HSET', dk, 'queue', f.queue, 'handler', f.handler, 'payload', f.payload, 'attempts', o.attempts, 'output', o.output, 'finished_at', now)
          redis.call('PEXPIRE', dk, 86400000)
        end
        if f.next then insert(cjson.decode(f.next)); woke = true end
      else
        redis.call('HINCRBY', tk, 'failed', 1)
        local fid = redis.call('INCR', P .. 'failed_id')
        f.uuid = o.uuid; f.job_id = o.id; f.exception = o.reason; f.failed_at = now
        if o.output then f.output = o.output end
        f.reserved_at = nil; f.visible_at = nil
        local flat = {}
        for k, v in pairs(f) do flat[#flat + 1] = k; flat[#flat + 1] = v end
        redis.call('HSET', P .. 'failed:' .. fid, unpack(flat))
        redis.call('ZADD', P .. 'failed', fid, fid)
        if f.catch then insert(cjson.decode(f.catch)); woke = true end
      end
      redis.call('PEXPIRE', tk, 7200000)
      if f.batchId then batchStep(f.batchId, o.id, o.kind == 'fail') end
    end
  end
end
if woke then events() end
return 1
`;

export const EXTEND = `${LIB}
local untilMs = tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local jk = P .. 'job:' .. ARGV[i]
  local h = redis.call('HMGET', jk, 'attempts', 'reserved_at', 'queue', 'priority')
  if h[1] == ARGV[i + 1] and h[2] then
    redis.call('HSET', jk, 'visible_at', untilMs)
    redis.call('ZADD', P .. 'q:' .. h[3] .. ':' .. h[4], untilMs, member(tonumber(ARGV[i])))
  end
end
return 1
`;

/** Every pending job of the given queues (or all): rows of id, fields… (admin commands). */
export const SCAN = `${LIB}
local out = {}
local queues = {}
if #ARGV >= 2 and ARGV[2] ~= '' then queues = {ARGV[2]} else queues = redis.call('SMEMBERS', P .. 'queues') end
for _, q in ipairs(queues) do
  for _, pr in ipairs(redis.call('ZRANGE', P .. 'prios:' .. q, 0, -1)) do
    for _, m in ipairs(redis.call('ZRANGE', P .. 'q:' .. q .. ':' .. pr, 0, -1)) do
      local h = redis.call('HMGET', P .. 'job:' .. tonumber(m), 'queue', 'handler', 'payload', 'attempts', 'priority', 'visible_at', 'reserved_at', 'created_at', 'batchId')
      out[#out + 1] = {tonumber(m), h[1], h[2], h[3], h[4], h[5], h[6], h[7] or '', h[8], h[9] or ''}
    end
  end
end
return out
`;

export const NEXT_VISIBLE = `${LIB}
local best = nil
for i = 2, #ARGV do
  local q = ARGV[i]
  for _, pr in ipairs(redis.call('ZRANGE', P .. 'prios:' .. q, 0, -1)) do
    local r = redis.call('ZRANGE', P .. 'q:' .. q .. ':' .. pr, 0, 0, 'WITHSCORES')
    if r[2] and (best == nil or tonumber(r[2]) < best) then best = tonumber(r[2]) end
  end
end
if best == nil then return false end
return tostring(best)
`;

export const RETRY = `${LIB}
local ids = {}
local filter = ARGV[2]
if ARGV[3] == 'all' then ids = redis.call('ZRANGE', P .. 'failed', 0, -1) else for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end end
local out = {}
for _, fid in ipairs(ids) do
  local fk = P .. 'failed:' .. fid
  local f = hgetall(fk)
  if f.queue and (filter == '' or f.queue == filter) then
    insert({queue = f.queue, handler = f.handler, payload = f.payload, priority = f.priority, tries = f.tries, backoff = f.backoff,
      timeout = f.timeout, next = f.next, catch = f.catch})
    redis.call('DEL', fk)
    redis.call('ZREM', P .. 'failed', fid)
    out[#out + 1] = tonumber(fid)
  end
end
if #out > 0 then events() end
return out
`;

export const CLEAR = `${LIB}
local q = ARGV[2]
local n = 0
for _, pr in ipairs(redis.call('ZRANGE', P .. 'prios:' .. q, 0, -1)) do
  local zk = P .. 'q:' .. q .. ':' .. pr
  for _, m in ipairs(redis.call('ZRANGE', zk, 0, -1)) do
    local jk = P .. 'job:' .. tonumber(m)
    local uk = redis.call('HGET', jk, 'uniqueKey')
    if uk then redis.call('DEL', P .. 'unique:' .. uk) end
    redis.call('DEL', jk)
    n = n + 1
  end
  redis.call('DEL', zk)
end
redis.call('DEL', P .. 'prios:' .. q)
return n
`;

export const CREATE_BATCH = `${LIB}
local id = ARGV[2]
local spec = cjson.decode(ARGV[3])
local bk = P .. 'batch:' .. id
redis.call('HSET', bk, 'name', spec.name, 'total', #spec.jobs, 'pending', #spec.jobs, 'failed', 0, 'created_at', now,
  'allow_failures', spec.allowFailures and '1' or '0')
for _, k in ipairs({'then', 'catch', 'finally'}) do if spec[k] then redis.call('HSET', bk, k, spec[k]) end end
local ids = {}
local skipped = 0
for i, j in ipairs(spec.jobs) do
  ids[i] = insert(j)
  if ids[i] == -1 then skipped = skipped + 1 end
end
if skipped > 0 then redis.call('HINCRBY', bk, 'total', -skipped); redis.call('HINCRBY', bk, 'pending', -skipped) end
events()
return ids
`;

/** A lock's expiry is compared with the caller's clock (as sqlite does); PEXPIRE only cleans up. */
export const LOCK = `${LIB}
local k = P .. 'lock:' .. ARGV[2]
local cur = redis.call('HMGET', k, 'owner', 'expires_at')
if cur[1] and cur[1] ~= ARGV[3] and tonumber(cur[2]) > now then return 0 end
redis.call('HSET', k, 'owner', ARGV[3], 'expires_at', now + tonumber(ARGV[4]))
redis.call('PEXPIRE', k, tonumber(ARGV[4]) + 60000)
return 1
`;

export const UNLOCK = `${LIB}
local k = P .. 'lock:' .. ARGV[2]
if redis.call('HGET', k, 'owner') == ARGV[3] then redis.call('DEL', k) end
return 1
`;

/** Fixed window counter; the window's end is kept in the hash (PX would drift with server time). */
export const HIT = `${LIB}
local k = P .. 'limit:' .. ARGV[2]
local decay = tonumber(ARGV[3])
local h = redis.call('HMGET', k, 'count', 'reset_at')
if not h[2] or tonumber(h[2]) <= now then
  redis.call('HSET', k, 'count', 1, 'reset_at', now + decay)
  redis.call('PEXPIRE', k, decay + 60000)
  return {1, tostring(now + decay)}
end
return {redis.call('HINCRBY', k, 'count', 1), h[2]}
`;
