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

    /// KEYS: queue, sequence, bell, alive. ARGV: class, process, ticket, now, waitMs, aliveTtlMs,
    /// units (2 for a call that may be answered 400, else 1).
    /// Queues a caller; rings the bell when the queue was empty. Returns the queue member.
    static let register = RedisScript(
        clock + """

            local now = clock(ARGV[4])
            local sequence = redis.call('INCR', KEYS[2])
            local member = ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[1] .. '|' .. now .. '|' .. (now + tonumber(ARGV[5])) .. '|' .. ARGV[7]
            local wasEmpty = redis.call('ZCARD', KEYS[1]) == 0
            redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) * 1e13 + sequence, member)
            redis.call('SET', KEYS[4], '1', 'PX', ARGV[6])
            if wasEmpty then
              redis.call('LPUSH', KEYS[3], '1')
              redis.call('LTRIM', KEYS[3], 0, 0)
            end
            return member
            """)

    /// KEYS: queue, calls, pause (its end, ms), state, stats.
    /// ARGV: now, perSecond, perMinute, spacingMs, inFlightMs, alivePrefix, grantsPrefix, waitsPrefix.
    /// Grants the first caller of the highest class if the budget allows its call now.
    /// Returns {member or '', waitMs (0: granted, > 0: until the call may go, -1: nobody waits),
    /// charged in the last second, charged in the last minute}.
    static let dispatch = RedisScript(
        clock + """

            local now = clock(ARGV[1])
            local perSecond, perMinute = tonumber(ARGV[2]), tonumber(ARGV[3])
            local spacing, inFlight = tonumber(ARGV[4]), tonumber(ARGV[5])
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
              if #head == 0 then return {'', -1, usedSecond, usedMinute} end
              local member = head[1]
              local process, ticket, class, enqueued, deadline, units = string.match(member, '^(.*)|(%d+)|(%d)|(%d+)|(%d+)|(%d)$')
              if process and tonumber(deadline) >= now and redis.call('EXISTS', ARGV[6] .. process) == 1 then
                local cost = math.min(tonumber(units), perSecond, perMinute)
                local wait = 0
                local pausedUntil = tonumber(redis.call('GET', KEYS[3]) or '')
                if pausedUntil then wait = math.max(wait, pausedUntil - now) end
                local last = tonumber(redis.call('HGET', KEYS[4], 'last') or '')
                if last then wait = math.max(wait, last + spacing - now) end
                wait = math.max(wait, freedAt(usedSecond, cost, perSecond, 1000), freedAt(usedMinute, cost, perMinute, 60000))
                if wait > 0 then return {'', wait, usedSecond, usedMinute} end
                redis.call('ZREM', KEYS[1], member)
                local call = 'c' .. redis.call('HINCRBY', KEYS[4], 'nextCall', 1)
                redis.call('ZADD', KEYS[2], now + inFlight, call)
                if cost > 1 then redis.call('ZADD', KEYS[2], now + inFlight, call .. '+') end
                redis.call('HSET', KEYS[4], 'last', now)
                local waited = now - tonumber(enqueued)
                local grants = ARGV[7] .. process
                redis.call('LPUSH', grants, ticket .. ' ' .. call .. ' ' .. waited .. ' ' .. class)
                redis.call('PEXPIRE', grants, 60000)
                redis.call('HINCRBY', KEYS[5], 'calls:' .. class, 1)
                redis.call('LPUSH', ARGV[8] .. class, waited)
                redis.call('LTRIM', ARGV[8] .. class, 0, 999)
                return {member, 0, usedSecond + cost, usedMinute + cost}
              end
              -- Its wait ran out, or its process died: nobody will make this call.
              redis.call('ZREM', KEYS[1], member)
              if class then redis.call('HINCRBY', KEYS[5], 'expired:' .. class, 1) end
            end
            return {'', 1, usedSecond, usedMinute}
            """)

    /// KEYS: queue. ARGV: member. 1 if the caller was still waiting (now withdrawn), 0 if granted.
    static let withdraw = RedisScript("return redis.call('ZREM', KEYS[1], ARGV[1])")

    /// KEYS: calls, queue, bell, pause, stats. ARGV: call, now, outcome ('unused', an HTTP status or
    /// 'transport'), retryAfterMs (for 429). The pause holds the time it ends, on the scripts' clock.
    /// Records how a granted call ended; rings the bell when callers wait, since budget held for
    /// the call in flight may be free earlier than the dispatcher planned.
    static let settle = RedisScript(
        clock + """

            local now = clock(ARGV[2])
            local call, outcome = ARGV[1], ARGV[3]
            if outcome == 'unused' then
              redis.call('ZREM', KEYS[1], call, call .. '+')
            else
              redis.call('ZADD', KEYS[1], 'XX', now, call)
              if outcome == '400' then
                -- Counted twice: the second unit reserved in flight, or charged now, after the fact.
                redis.call('ZADD', KEYS[1], now, call .. '+')
              else
                redis.call('ZREM', KEYS[1], call .. '+')
              end
              redis.call('HINCRBY', KEYS[5], 'status:' .. outcome, 1)
              local pauseMs = tonumber(ARGV[4]) or 0
              local pauseEnd = now + pauseMs
              if outcome == '429' and pauseEnd > (tonumber(redis.call('GET', KEYS[4]) or '') or 0) then
                redis.call('SET', KEYS[4], pauseEnd, 'PX', pauseMs + 60000)
              end
            end
            if redis.call('ZCARD', KEYS[2]) > 0 then
              redis.call('LPUSH', KEYS[3], '1')
              redis.call('LTRIM', KEYS[3], 0, 0)
            end
            return 1
            """)

    /// KEYS: queue, calls, pause. Returns {charged in the last second, in the last minute, pause
    /// left (ms), callers waiting in class 1, 2, 3, 4}.
    static let report = RedisScript(
        clock + """

            local now = clock('')
            local result = {
              redis.call('ZCOUNT', KEYS[2], '(' .. (now - 1000), '+inf'),
              redis.call('ZCOUNT', KEYS[2], '(' .. (now - 60000), '+inf'),
              math.max(0, (tonumber(redis.call('GET', KEYS[3]) or '') or 0) - now),
            }
            for class = 1, 4 do
              table.insert(result, redis.call('ZCOUNT', KEYS[1], class * 1e13, '(' .. ((class + 1) * 1e13)))
            end
            return result
            """)
}
