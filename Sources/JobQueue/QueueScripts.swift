import RedisClient

/// Every Lua script over the queue's keys, in one place. Each has a contract test in
/// Tests/JobQueueTests, run against ``MemoryJobQueue`` too where the in-memory driver has the
/// operation (QueueScriptTests.swift lists which test covers which script). Scripts that route a job to its waiting
/// list share ``waitingListFunction``, generated from ``JobKind/queue``, so the rule "a webhook job
/// goes to the webhooks list" is written once.
enum QueueScripts {
    /// Lua: `waiting_list(job, webhooks, commands)` picks the list for a decoded envelope (a table);
    /// anything unreadable goes to the commands list, where a worker dead-letters it.
    static let waitingListFunction: String = {
        let webhookKinds = JobKind.allCases.filter { $0.queue == .webhooks }.map { "['\($0.rawValue)'] = true" }
        return """
            local webhook_kinds = {\(webhookKinds.joined(separator: ", "))}
            local function waiting_list(job, webhooks, commands)
              if type(job) == 'table' and webhook_kinds[job['kind']] then return webhooks end
              return commands
            end

            """
    }()

    // MARK: Producers

    /// KEYS: waiting list, seen-marker. ARGV: envelope, window (s), what the marker holds (the bookingId, for
    /// the console's search by event id). Pushes once per event id: the marker and the push happen atomically.
    /// A duplicate adds a `+` to the marker (``SeenEvent``), up to ``SeenEvent/maxCounted``: the
    /// console shows how many deliveries were stopped. Returns 1 when queued, 0 for a duplicate.
    static let pushOnce = RedisScript(
        """
        if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[2]) then
          redis.call('LPUSH', KEYS[1], ARGV[1])
          return 1
        end
        if redis.call('APPEND', KEYS[2], '+') > \(SeenEvent.maxCounted) + string.len(ARGV[3]) then
          local subject = string.match(redis.call('GET', KEYS[2]), '^[^+]*')
          redis.call('SET', KEYS[2], subject .. string.rep('+', \(SeenEvent.maxCounted)), 'KEEPTTL')
        end
        return 0
        """)

    /// KEYS: booking command lock, job status, waiting list. ARGV: jobId, status JSON, envelope,
    /// ttl (s). One command in flight per booking: `{1}` when queued, `{0, holder}` when busy.
    static let pushHoldingLock = RedisScript(
        """
        local holder = redis.call('GET', KEYS[1])
        if holder then return {0, holder} end
        redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[4]))
        redis.call('SET', KEYS[2], ARGV[2], 'EX', tonumber(ARGV[4]))
        redis.call('LPUSH', KEYS[3], ARGV[3])
        return {1}
        """)

    // MARK: Consumers

    /// KEYS: source, processing. ARGV: how many. Moves what is there, up to the count, without
    /// sending N commands when the list is short.
    static let moveUpTo = RedisScript(
        """
        local moved = {}
        for i = 1, tonumber(ARGV[1]) do
          local job = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
          if not job then break end
          moved[#moved + 1] = job
        end
        return moved
        """)

    /// KEYS: processing, delayed. ARGV: raw job, new envelope, due (ms). Only a job still held
    /// moves: one the reaper handed back, or an erase removed, is not brought back. Returns 1 if moved.
    static let moveToDelayed = RedisScript(
        """
        if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
        return 1
        """)

    /// KEYS: processing, dead. ARGV: raw job, dead letter. Only a job still held moves (as above).
    static let moveToDead = RedisScript(
        """
        if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
        redis.call('LPUSH', KEYS[2], ARGV[2])
        return 1
        """)

    /// KEYS: delayed, webhooks, commands. ARGV: now (ms), limit. Due retries back to their list.
    static let promote = RedisScript(
        waitingListFunction + """
            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
            for _, job in ipairs(due) do
              redis.call('ZREM', KEYS[1], job)
              local ok, decoded = pcall(cjson.decode, job)
              redis.call('LPUSH', waiting_list(ok and decoded, KEYS[2], KEYS[3]), job)
            end
            return #due
            """)

    /// KEYS: processing, webhooks, commands, workers, heartbeat. ARGV: laneID, mode, note.
    /// Modes (``JobQueue/RecoveryMode``): `requeue-crashed` (only if the heartbeat expired; counts
    /// the attempt; deregisters), `hand-back-and-leave` (deregisters), `hand-back-and-stay` (keeps
    /// the registration). Returns the number of jobs handed back.
    static let recover = RedisScript(
        waitingListFunction + """
            if ARGV[2] == 'requeue-crashed' and redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
            local moved = 0
            while true do
              local job = redis.call('RPOP', KEYS[1])
              if not job then break end
              local ok, decoded = pcall(cjson.decode, job)
              local target = waiting_list(ok and decoded, KEYS[2], KEYS[3])
              if ok and type(decoded) == 'table' and ARGV[2] == 'requeue-crashed' then
                decoded['attempt'] = (tonumber(decoded['attempt']) or 0) + 1
                decoded['lastError'] = ARGV[3]
                job = cjson.encode(decoded)
              end
              redis.call('RPUSH', target, job)
              moved = moved + 1
            end
            if ARGV[2] ~= 'hand-back-and-stay' then
              redis.call('ZREM', KEYS[4], ARGV[1])
              redis.call('DEL', KEYS[5])
            end
            return moved
            """)

    // MARK: Dead letters

    /// KEYS: dead, webhooks, commands. ARGV: job ids. Those letters back to their lists, attempts reset.
    static let replaySelected = RedisScript(
        waitingListFunction + """
            local wanted = {}
            for _, id in ipairs(ARGV) do wanted[id] = true end
            local moved = 0
            for _, letter in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
              local ok, decoded = pcall(cjson.decode, letter)
              if ok and type(decoded) == 'table' and type(decoded['job']) == 'table' and wanted[decoded['job']['id']] then
                local job = decoded['job']
                job['attempt'] = 0
                job['lastError'] = nil
                redis.call('LREM', KEYS[1], 1, letter)
                redis.call('LPUSH', waiting_list(job, KEYS[2], KEYS[3]), cjson.encode(job))
                moved = moved + 1
              end
            end
            return moved
            """)

    /// KEYS: dead. ARGV: job ids. Deletes those letters.
    static let purgeSelected = RedisScript(
        """
        local wanted = {}
        for _, id in ipairs(ARGV) do wanted[id] = true end
        local removed = 0
        for _, letter in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
          local ok, decoded = pcall(cjson.decode, letter)
          if ok and type(decoded) == 'table' and type(decoded['job']) == 'table' and wanted[decoded['job']['id']] then
            removed = removed + redis.call('LREM', KEYS[1], 1, letter)
          end
        end
        return removed
        """)

    /// KEYS: delayed, webhooks, commands. ARGV: job id. The delayed job to its waiting list now.
    static let retryNow = RedisScript(
        waitingListFunction + """
            for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
              local ok, job = pcall(cjson.decode, member)
              if ok and type(job) == 'table' and job['id'] == ARGV[1] then
                redis.call('ZREM', KEYS[1], member)
                redis.call('LPUSH', waiting_list(job, KEYS[2], KEYS[3]), member)
                return 1
              end
            end
            return 0
            """)

    /// KEYS: one list, or the delayed set. ARGV: `list` or `zset`, then exact entries. Removes each
    /// entry once. Erase chose them by their parsed booking id and code (a substring test matched
    /// an id like `1` in nearly every job's timestamps); an entry holds a unique job id, so nothing
    /// pushed meanwhile is touched, and each call costs one pass per entry, never the whole queue.
    static let removeEntries = RedisScript(
        """
        local removed = 0
        for index = 2, #ARGV do
          if ARGV[1] == 'zset' then
            removed = removed + redis.call('ZREM', KEYS[1], ARGV[index])
          else
            removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[index])
          end
        end
        return removed
        """)
}
