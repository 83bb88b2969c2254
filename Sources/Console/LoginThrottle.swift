import RedisClient

/// Throttles password guessing on the console's login, in Redis so every console replica shares
/// it. Each attempt first reserves a place in three counters in one script, and only a reserved
/// attempt gets its bcrypt check: N concurrent guesses run at most the smallest limit's number of
/// checks (checking first and counting after the check let 30 concurrent guesses all through).
///
/// The counters back off per address first, so a stranger cannot lock a user out by name:
/// - one user from one address (`console.loginFailuresPerUser`, 5): the usual guessing;
/// - one address, whatever the names (`console.loginFailuresPerAddress`, 20): spraying names;
/// - one user from every address (`console.loginFailuresPerUserAnyAddress`, 100): guessing
///   spread over many addresses. Reaching it takes that many guesses from at least
///   limit ÷ per-pair-limit addresses, so it is set far higher.
struct LoginThrottle: Sendable {
    let redis: RedisClient
    /// Ends in a hash tag, so one script may touch a user's and an address's counters in a cluster.
    let prefix: String
    let perUserAndAddress: Int
    let perAddress: Int
    let perUser: Int
    let window: Duration

    enum Reservation: Equatable {
        /// The attempt is counted; check the password.
        case granted
        /// Over a limit: no check; answer 429 with this wait.
        case throttled(retryAfterSeconds: Int)
    }

    /// Counts the attempt against every limit it is under, or none when it is over one.
    func reserve(user: String, address: String) async throws -> Reservation {
        let wait =
            try await redis.eval(
                Self.reserve, keys: keys(user: user, address: address),
                arguments: [Int(window.milliseconds), perUserAndAddress, perAddress, perUser]
            ).int ?? 0
        return wait > 0 ? .throttled(retryAfterSeconds: max(1, (wait + 999) / 1000)) : .granted
    }

    /// The password was right: this user at this address starts over, and the attempt no longer
    /// counts against the address or the user (other addresses' failures stay).
    func succeeded(user: String, address: String) async throws {
        try await redis.eval(Self.release, keys: keys(user: user, address: address))
    }

    private func keys(user: String, address: String) -> [String] {
        // Length-prefixed, so no choice of name can stand for another pair.
        let user = String(user.prefix(128)), address = String(address.prefix(64))
        return [
            prefix + "pair:\(user.utf8.count):" + user + "@" + address,
            prefix + "address:" + address,
            prefix + "user:" + user,
        ]
    }

    /// KEYS: per user and address, per address, per user. ARGV: window (ms), their limits.
    /// Returns 0 when counted, else the ms until the longest-blocking counter over its limit expires.
    /// A refused attempt is not counted, so hammering does not stretch the wait.
    static let reserve = RedisScript(
        """
        local wait = 0
        for i = 1, 3 do
          if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i + 1]) then
            local left = redis.call('PTTL', KEYS[i])
            if left < 0 then left = tonumber(ARGV[1]) end
            wait = math.max(wait, left)
          end
        end
        if wait > 0 then return wait end
        for i = 1, 3 do
          redis.call('INCR', KEYS[i])
          redis.call('PEXPIRE', KEYS[i], ARGV[1], 'NX')
        end
        return 0
        """)

    /// KEYS: as ``reserve``. Clears the pair; gives the address and the user their attempt back.
    static let release = RedisScript(
        """
        redis.call('DEL', KEYS[1])
        for i = 2, 3 do
          if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
        end
        return 0
        """)
}
