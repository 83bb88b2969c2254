import RedisClient

/// The budget's Lua scripts: each decision is one atomic script over the `{r}` keys, so any number
/// of processes share one budget exactly. Times are Redis' own clock (`TIME`), one clock for every
/// machine, unless a caller passes `now` (the property test drives a simulated clock this way).
///
/// How a call is charged: it is a member of the `calls` zset from its grant on, scored by when it
/// stops counting. A call counts in the 1-second window while `score > now - 1000` and in the
/// minute window while `score > now - 60000`. While in flight its score is the latest it can end
/// (grant + request timeout); once answered, the answer's time. So a call occupies the window
/// from its grant until one window after its answer: Booxi saw it arrive somewhere in between,
/// whatever the network did to it, and no window Booxi checks can hold more than ours does.
/// A call that Booxi may answer 400 (it carries input Booxi validates: a PUT, an availability
/// query) holds a second member, `<id>+`, while in flight, for the second charge a 400 costs; it is
/// removed with any other answer. So such a 400 never puts a window over the limit. Reads by id
/// reserve nothing (we validate ids before calling, Booxi answers them 200 or 404): reserving for
/// them would cost a fifth of the budget (a grant needing two free units of five). Should one be
/// answered 400 all the same, its second charge is added then, after the fact, and the windows
/// it falls into may hold one charge more than the limit (measured by the simulator, never a 429:
/// the next grant waits for both charges to age out).
enum BooxiBudgetScripts {
    static let clock = """
        local function clock(arg)
          local given = tonumber(arg)
          if given then return given end
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        """

    /// Charges a granted call: its member (and a second one for a call Booxi may answer 400) scored
    /// by the latest it can end; and the spacing: no grant before `now + hold` while this call is
    /// the last one granted and in flight (see ``FairUsePolicy/inFlightHoldMs``).
    static let charge = """

        local function charge(calls, state, now, inFlight, hold, call, cost)
          if cost > 1 then
            redis.call('ZADD', calls, now + inFlight, call, now + inFlight, call .. '+')
          else
            redis.call('ZADD', calls, now + inFlight, call)
          end
          redis.call('HSET', state, 'next', now + hold, 'lastCall', call)
        end

        """

    /// KEYS: queue, calls, state, stats. ARGV: now, perSecond, perMinute, holdMs, inFlightMs,
    /// class, call, units.
    /// The fast path of a grant: when nobody waits and the budget has room now, charges the call at
    /// once, in this one script; the dispatcher and the grant lists stay out of it. Returns 1 if
    /// granted, 0 if the caller must queue. The minute window needs no check of its own when the
    /// second's implies it (a minute is 60 seconds, each within its limit: Booxi's 5/s and 300/min);
    /// otherwise it is counted when the call log could hold the limit (the dispatcher trims the
    /// log every second while it runs, and this script when it counts).
    static let grantAtOnce = RedisScript(
        clock + charge + """
            local now = clock(ARGV[1])
            local perSecond, perMinute = tonumber(ARGV[2]), tonumber(ARGV[3])
            local hold, inFlight = tonumber(ARGV[4]), tonumber(ARGV[5])
            local cost = math.min(tonumber(ARGV[8]), perSecond, perMinute)
            local state = redis.call('HMGET', KEYS[3], 'waiting', 'next', 'pausedUntil')
            if state[1] then return 0 end
            local nextAt, pausedUntil = tonumber(state[2] or ''), tonumber(state[3] or '')
            if (pausedUntil and pausedUntil > now) or (nextAt and nextAt > now) then return 0 end
            if perMinute < 60 * perSecond and redis.call('ZCARD', KEYS[2]) + cost > perMinute then
              redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
              if redis.call('ZCARD', KEYS[2]) + cost > perMinute then return 0 end
            end
            if redis.call('ZCOUNT', KEYS[2], '(' .. (now - 1000), '+inf') + cost > perSecond then return 0 end
            charge(KEYS[2], KEYS[3], now, inFlight, hold, ARGV[7], cost)
            redis.call('HINCRBY', KEYS[4], 'atOnce:' .. ARGV[6], 1)
            return 1
            """)

    /// KEYS: queue, sequence, bell, alive, state. ARGV: class, process, ticket, now, waitMs,
    /// aliveTtlMs, units (2 for a call that may be answered 400, else 1).
    /// Queues a caller; when the queue was empty, rings the bell and marks the state `waiting`
    /// (which keeps the fast path closed, and makes an answer ring the bell, until the dispatcher
    /// finds the queue empty again). Returns the queue member.
    static let register = RedisScript(
        clock + """

            local now = clock(ARGV[4])
            local sequence = redis.call('INCR', KEYS[2])
            local member = ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[1] .. '|' .. now .. '|' .. (now + tonumber(ARGV[5])) .. '|' .. ARGV[7]
            local wasEmpty = redis.call('ZCARD', KEYS[1]) == 0
            redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) * 1e13 + sequence, member)
            redis.call('SET', KEYS[4], '1', 'PX', ARGV[6])
            if wasEmpty then
              redis.call('HSET', KEYS[5], 'waiting', '1')
              redis.call('LPUSH', KEYS[3], '1')
              redis.call('LTRIM', KEYS[3], 0, 0)
            end
            return member
            """)

    /// KEYS: queue, calls, state, stats.
    /// ARGV: now, perSecond, perMinute, holdMs, inFlightMs, alivePrefix, grantsPrefix, waitsPrefix.
    /// Grants the first caller of the highest class if the budget allows its call now.
    /// Returns {member or '', waitMs (0: granted, > 0: until the call may go, -1: nobody waits),
    /// charged in the last second, charged in the last minute}.
    static let dispatch = RedisScript(
        clock + charge + """

            local now = clock(ARGV[1])
            local perSecond, perMinute = tonumber(ARGV[2]), tonumber(ARGV[3])
            local hold, inFlight = tonumber(ARGV[4]), tonumber(ARGV[5])
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
            local usedSecond = redis.call('ZCOUNT', KEYS[2], '(' .. (now - 1000), '+inf')
            local usedMinute = redis.call('ZCOUNT', KEYS[2], '(' .. (now - 60000), '+inf')
            local function freedAt(used, cost, limit, width)
              local excess = used + cost - limit
              if excess <= 0 then return 0 end
              local entry = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (now - width), '+inf', 'WITHSCORES', 'LIMIT', excess - 1, 1)
              return tonumber(entry[2]) + width - now
            end
            for _ = 1, 1000 do
              local head = redis.call('ZRANGE', KEYS[1], 0, 0)
              if #head == 0 then
                redis.call('HDEL', KEYS[3], 'waiting')
                return {'', -1, usedSecond, usedMinute}
              end
              local member = head[1]
              local process, ticket, class, enqueued, deadline, units = string.match(member, '^(.*)|(%d+)|(%d)|(%d+)|(%d+)|(%d)$')
              if process and tonumber(deadline) >= now and redis.call('EXISTS', ARGV[6] .. process) == 1 then
                local cost = math.min(tonumber(units), perSecond, perMinute)
                local wait = 0
                local state = redis.call('HMGET', KEYS[3], 'next', 'pausedUntil')
                local nextAt, pausedUntil = tonumber(state[1] or ''), tonumber(state[2] or '')
                if pausedUntil then wait = math.max(wait, pausedUntil - now) end
                if nextAt then wait = math.max(wait, nextAt - now) end
                wait = math.max(wait, freedAt(usedSecond, cost, perSecond, 1000), freedAt(usedMinute, cost, perMinute, 60000))
                if wait > 0 then return {'', wait, usedSecond, usedMinute} end
                redis.call('ZREM', KEYS[1], member)
                local call = process .. '/' .. ticket
                charge(KEYS[2], KEYS[3], now, inFlight, hold, call, cost)
                local waited = now - tonumber(enqueued)
                local grants = ARGV[7] .. process
                redis.call('LPUSH', grants, ticket .. ' ' .. call .. ' ' .. waited .. ' ' .. class)
                redis.call('PEXPIRE', grants, 60000)
                redis.call('HINCRBY', KEYS[4], 'calls:' .. class, 1)
                redis.call('LPUSH', ARGV[8] .. class, waited)
                redis.call('LTRIM', ARGV[8] .. class, 0, 999)
                return {member, 0, usedSecond + cost, usedMinute + cost}
              end
              -- Its wait ran out, or its process died: nobody will make this call.
              redis.call('ZREM', KEYS[1], member)
              if class then redis.call('HINCRBY', KEYS[4], 'expired:' .. class, 1) end
            end
            return {'', 1, usedSecond, usedMinute}
            """)

    /// KEYS: queue. ARGV: member. 1 if the caller was still waiting (now withdrawn), 0 if granted.
    static let withdraw = RedisScript("return redis.call('ZREM', KEYS[1], ARGV[1])")

    /// KEYS: calls, bell, state, stats. ARGV: call, now, outcome ('unused', an HTTP status or
    /// 'transport'), retryAfterMs (for 429), units reserved (2 for a call that may be answered 400),
    /// minSpacingMs, perSecond. A 429's pause is the state's `pausedUntil`, on the scripts' clock.
    /// Records how a granted call ended. An answered call arrived at Booxi by now, so when it is the
    /// last one granted, the next may go the spacing after now rather than after its hold. Rings
    /// the bell when callers wait, since budget held for the call in flight may be free earlier
    /// than the dispatcher planned.
    ///
    /// A call whose charge is gone (not aged out: it is scored at least a request timeout ahead
    /// while in flight) was lost by the store: a failover to a replica the charge had not reached,
    /// or a restart from older data. Other recent charges may be lost with it, so the budget starts
    /// again conservatively: the call is charged again, the last second counts as full (`perSecond`
    /// charges `lost:<now>:<n>`, in both windows) and every process pauses for a second. Returns 2
    /// then (1 otherwise), and counts `lostCharges` in the stats. Costs nothing on the normal path:
    /// the `ZADD XX CH` that re-scores the call tells, and only its 0 is looked at further.
    static let settle = RedisScript(
        clock + """

            local now = clock(ARGV[2])
            local call, outcome, reserved = ARGV[1], ARGV[3], tonumber(ARGV[5]) or 2
            local state = redis.call('HMGET', KEYS[3], 'lastCall', 'waiting', 'pausedUntil', 'next')
            local lost = false
            if outcome == 'unused' then
              if reserved > 1 then redis.call('ZREM', KEYS[1], call, call .. '+') else redis.call('ZREM', KEYS[1], call) end
            else
              if outcome == '400' then
                -- Counted twice: the second unit reserved in flight, or charged now, after the fact.
                redis.call('ZADD', KEYS[1], now, call, now, call .. '+')
              else
                if redis.call('ZADD', KEYS[1], 'XX', 'CH', now, call) == 0 and not redis.call('ZSCORE', KEYS[1], call) then
                  lost = true
                  redis.call('ZADD', KEYS[1], now, call)
                  for n = 1, tonumber(ARGV[7]) or 5 do redis.call('ZADD', KEYS[1], now, 'lost:' .. now .. ':' .. n) end
                  local pauseEnd = now + 1000
                  if pauseEnd > (tonumber(state[3] or '') or 0) then
                    redis.call('HSET', KEYS[3], 'pausedUntil', pauseEnd)
                    state[3] = tostring(pauseEnd)
                  end
                  redis.call('HINCRBY', KEYS[4], 'lostCharges', 1)
                end
                if reserved > 1 then redis.call('ZREM', KEYS[1], call .. '+') end
              end
              redis.call('HINCRBY', KEYS[4], 'status:' .. outcome, 1)
              local pauseEnd = now + (tonumber(ARGV[4]) or 0)
              if outcome == '429' and pauseEnd > (tonumber(state[3] or '') or 0) then
                redis.call('HSET', KEYS[3], 'pausedUntil', pauseEnd)
              end
              local nextAt = now + (tonumber(ARGV[6]) or 0)
              if state[1] == call and nextAt < (tonumber(state[4] or '') or 0) then
                redis.call('HSET', KEYS[3], 'next', nextAt)
              end
            end
            if state[2] then
              redis.call('LPUSH', KEYS[2], '1')
              redis.call('LTRIM', KEYS[2], 0, 0)
            end
            if lost then return 2 end
            return 1
            """)

    /// KEYS: queue, calls, state. Returns {charged in the last second, in the last minute, pause
    /// left (ms), callers waiting in class 1, 2, 3, 4}.
    static let report = RedisScript(
        clock + """

            local now = clock('')
            local result = {
              redis.call('ZCOUNT', KEYS[2], '(' .. (now - 1000), '+inf'),
              redis.call('ZCOUNT', KEYS[2], '(' .. (now - 60000), '+inf'),
              math.max(0, (tonumber(redis.call('HGET', KEYS[3], 'pausedUntil') or '') or 0) - now),
            }
            for class = 1, 4 do
              table.insert(result, redis.call('ZCOUNT', KEYS[1], class * 1e13, '(' .. ((class + 1) * 1e13)))
            end
            return result
            """)
}
