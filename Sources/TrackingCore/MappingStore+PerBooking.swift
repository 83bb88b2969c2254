import Foundation
import JobQueue
import RedisClient

/// The mappings on Redis Cluster (``MappingKeys/Layout/perBooking``): a booking's record and its
/// code keys sit in different slots, so no one script changes both. A change takes steps, each
/// idempotent, in this order (docs/scaling.md#keys-on-a-cluster):
/// 1. **claim** the event's code: `SET code booking NX GET`. A free key now names the booking,
///    whose record follows in step 2; a key naming another booking whose record still names the
///    code makes the event a conflict;
/// 2. **apply** the event to the record (the one-slot script, with the claim's outcome);
/// 3. **finish**: the code key's expiry, the code the booking gave up, the fetch queues.
///
/// The record is the truth; a code key is a pointer to it. The repair rule: a code key whose
/// booking's record does not name the code answers 404; it is removed once that can never change
/// (the code is retired from the booking, or the booking erased), else left to expire (a claim
/// whose apply is under way looks the same). So a crash between any two steps shows no visitor a
/// wrong booking, and the redelivered job, whose apply answers `unchanged`, asks for the code
/// key's expiry and the fetch again, which finishes what the crash left.
extension MappingStore {
    /// Where step 1 left an event's code key.
    enum Claim: Equatable {
        /// The key was free and now names the booking, expiring as claimed.
        case created
        /// The key already named the booking.
        case held
        /// Another booking's record names the code: the event is a conflict.
        case heldByAnother
        /// The key names another booking that gave the code up for good (retired it, or was
        /// erased): a stale pointer, which the booking takes over once its record names the code.
        case stale(previousOwner: String)

        /// How the apply script reads it (ARGV): `0` another booking's, `1` held, `2` a key the
        /// claim made or takes over, which takes the record's expiry.
        var argument: String {
            switch self {
            case .heldByAnother: "0"
            case .held: "1"
            case .created, .stale: "2"
            }
        }
    }

    /// The steps a batch's applies leave, run in one pipeline (Cluster sends it per node).
    func applyPerBooking(_ batch: [Delivery], nowSeconds: Int) async throws -> [Result<ApplyResult, RedisError>] {
        let claimExpiry = batch.map { expireAt(endsAt: Self.unixSeconds($0.event.details?.endsAt), nowSeconds: nowSeconds) }
        // 1. Claim each code.
        var claims = RedisPipeline()
        for (delivery, expiry) in zip(batch, claimExpiry) {
            claims.append(
                "SET", keys.code(delivery.event.trackingCode), delivery.event.bookingID, "NX", "GET", "EXAT", expiry)
        }
        let claimed = try await redis.execute(claims)
        var outcomes = [Claim?](repeating: nil, count: batch.count)
        var failures = [RedisError?](repeating: nil, count: batch.count)
        var waiting: Set<Int> = []
        var owners: [(index: Int, owner: String)] = []
        for (index, reply) in claimed.enumerated() {
            if let message = reply.errorMessage {
                failures[index] = .server(message)
                continue
            }
            guard let owner = reply.string else {
                outcomes[index] = .created
                continue
            }
            if owner == batch[index].event.bookingID { outcomes[index] = .held } else { owners.append((index, owner)) }
        }
        // Another booking's pointer: does its record name the code (a conflict), or did it give
        // the code up for good (retired, or erased: the pointer is taken over)? Otherwise its own
        // change may be under way, and this event waits.
        if !owners.isEmpty {
            var reads = RedisPipeline()
            for (index, owner) in owners {
                reads.append("HMGET", keys.booking(owner), "code", "erased")
                reads.append("SISMEMBER", keys.retired(owner), batch[index].event.trackingCode.value)
            }
            let replies = try await redis.execute(reads)
            for (position, (index, owner)) in owners.enumerated() {
                let (record, retired) = (replies[2 * position], replies[2 * position + 1])
                if let message = record.errorMessage ?? retired.errorMessage {
                    failures[index] = .server(message)
                    continue
                }
                let fields = record.array ?? []
                if fields.first?.string == batch[index].event.trackingCode.value {
                    outcomes[index] = .heldByAnother
                } else if fields.count > 1 && fields[1].string != nil || retired.int == 1 {
                    outcomes[index] = .stale(previousOwner: owner)
                } else {
                    waiting.insert(index)
                }
            }
        }
        // 2. Apply each event whose claim went through Redis.
        var applies = RedisPipeline()
        let applied = batch.indices.filter { outcomes[$0] != nil }
        for index in applied { appendApply(batch[index], nowSeconds: nowSeconds, claim: outcomes[index], to: &applies) }
        let replies = applies.isEmpty ? [] : try await redis.execute(applies)
        // 3. Finish.
        var results = batch.indices.map { index -> Result<ApplyResult, RedisError> in
            waiting.contains(index) ? .success(.codeClaimUnderWay) : .failure(failures[index] ?? .server("not applied"))
        }
        var finish = RedisPipeline()
        for (index, reply) in zip(applied, replies) {
            if let message = reply.errorMessage {
                results[index] = .failure(.server(message))
                continue
            }
            let parts = reply.array ?? []
            let outcome = ApplyResult(rawValue: parts.first?.string ?? "") ?? .unchanged
            results[index] = .success(outcome)
            let event = batch[index].event
            let step = Step(
                namesCode: parts.count > 1 && parts[1].int == 1, codeExpireAt: parts.count > 2 ? parts[2].int ?? 0 : 0,
                oldCode: parts.count > 3 ? parts[3].string ?? "" : "", fetch: parts.count > 4 ? parts[4].int ?? 0 : 0)
            appendFinish(step, outcome: outcome, of: event, claim: outcomes[index]!, claimExpiry: claimExpiry[index], to: &finish)
        }
        if !finish.isEmpty {
            // Each step is idempotent, and a redelivered job asks for them again: a failure here
            // fails the batch, which is retried.
            for reply in try await redis.execute(finish) { _ = try RedisClient.checked(reply) }
        }
        return results
    }

    /// What an apply left for the other slots.
    struct Step {
        var namesCode: Bool
        var codeExpireAt: Int
        var oldCode: String
        var fetch: Int
    }

    func appendFinish(
        _ step: Step, outcome: ApplyResult, of event: WebhookEvent, claim: Claim, claimExpiry: Int, to pipeline: inout RedisPipeline
    ) {
        let codeKey = keys.code(event.trackingCode)
        if step.namesCode {
            switch claim {
            case .stale(let previousOwner):
                pipeline.append(
                    Self.takeOver, keys: [codeKey],
                    arguments: [event.bookingID, step.codeExpireAt > 0 ? step.codeExpireAt : claimExpiry, previousOwner])
            case .created, .held:
                if step.codeExpireAt > 0 && !(claim == .created && step.codeExpireAt == claimExpiry) {
                    pipeline.append("EXPIREAT", codeKey, step.codeExpireAt)
                }
            case .heldByAnother:
                // Two records name the code; the key stays with the booking that holds it.
                break
            }
        } else if claim == .created && (outcome == .retired || outcome == .erased) {
            // Claimed for a code the booking can never take again: given back. Any other refusal
            // leaves the pointer (404 while the record does not name the code; it expires): an
            // event of the same booking may be taking the code at this moment.
            pipeline.append(Self.dropIfOwner, keys: [codeKey], arguments: [event.bookingID])
        }
        if !step.oldCode.isEmpty, let old = TrackingCode(step.oldCode) {
            pipeline.append(Self.dropIfOwner, keys: [keys.code(old)], arguments: [event.bookingID])
        }
        let fetches = BookingFetches(redis: redis, keys: keys)
        switch step.fetch {
        case 1:
            fetches.appendEnqueue(
                event.bookingID, classIndex: (BookingFetches.classes.firstIndex(of: .prefetch) ?? 1) + 1,
                due: Int(JobEnvelope.nowMilliseconds()), to: &pipeline)
        case 2: fetches.appendLeave(event.bookingID, to: &pipeline)
        default: break
        }
    }

    /// The rest of ``storeBooking(bookingID:booking:status:endsAt:ifVersion:cancelledBy:notes:)``
    /// per booking: the fetch queues and the code key's expiry, from the store script's `reply`.
    func finishStore(bookingID: String, reply: RedisReply) async throws -> Bool {
        let parts = reply.array ?? []
        var finish = RedisPipeline()
        if parts.count > 1, parts[1].int == 1 { BookingFetches(redis: redis, keys: keys).appendLeave(bookingID, to: &finish) }
        if parts.count > 3, let code = parts[2].string.flatMap(TrackingCode.init), let expireAt = parts[3].int, expireAt > 0 {
            finish.append("EXPIREAT", keys.code(code), expireAt)
        }
        if !finish.isEmpty { for reply in try await redis.execute(finish) { _ = try RedisClient.checked(reply) } }
        return parts.first?.int == 1
    }

    /// A lookup per booking: the code key, then the record it points at. A record that does not
    /// name the code answers nil (the repair rule above), and the pointer goes when the code is
    /// retired from that booking or the booking was erased.
    func resolvePerBooking(_ code: TrackingCode) async throws -> BookingRecord? {
        guard let bookingID = try await redis.get(keys.code(code)).map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        let fields = try await redis.hgetall(keys.booking(bookingID))
        if let record = BookingRecord(fields: fields), record.code == code.value { return record }
        guard !fields.isEmpty else { return nil }
        let retired = try await redis.send("SISMEMBER", keys.retired(bookingID), code.value).int == 1
        if retired || fields["erased"] != nil {
            _ = try await redis.eval(Self.dropIfOwner, keys: [keys.code(code)], arguments: [bookingID])
        }
        return nil
    }

    /// KEYS: a code key. ARGV: bookingId, expiry (Unix s), the stale owner. Points the key at the
    /// booking while it still names the stale owner (another booking may have taken it meanwhile).
    /// Returns 1 when it did.
    static let takeOver = RedisScript(
        """
        if redis.call('GET', KEYS[1]) ~= ARGV[3] then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
        return 1
        """)

    /// KEYS: a code key. ARGV: bookingId. Deletes the key while it still names the booking (another
    /// booking may have taken the code meanwhile). Returns 1 when deleted.
    static let dropIfOwner = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}

extension MappingStore {
    /// The code-key prefix the one-slot scripts build keys with.
    public var codePrefix: String { keys.codePrefix }

    /// Per booking, an erase's second step: the code keys that still name `bookingID`, and its
    /// entries in the fetch queues. Returns the code keys deleted.
    public func dropCodeKeys(_ codes: [String], of bookingID: String) async throws -> Int {
        var pipeline = RedisPipeline()
        let valid = codes.compactMap(TrackingCode.init)
        for code in valid { pipeline.append(Self.dropIfOwner, keys: [keys.code(code)], arguments: [bookingID]) }
        BookingFetches(redis: redis, keys: keys).appendLeave(bookingID, to: &pipeline)
        let replies = try await redis.execute(pipeline)
        for reply in replies { _ = try RedisClient.checked(reply) }
        return replies.prefix(valid.count).reduce(0) { $0 + ($1.int ?? 0) }
    }
}
