import Foundation
import JobQueue

/// Every operator action that changes or reveals something: replay, purge, retry now, reveal and
/// erase. Each one resolves its target, writes its audit entry (``AuditLog``) before it acts, and
/// completes it after with `done` and its counts, or `failed` and why. The console and the CLI
/// call these with who is acting (`ops`, `cli:alice`) and nothing else, so an action cannot run
/// unaudited, nor be audited twice or differently by its two callers.
public struct OperatorActions: Sendable {
    let store: OperationsStore

    public init(store: OperationsStore) {
        self.store = store
    }

    /// What a replay or purge did: how many dead letters went, of how many selected.
    public struct DeadLetterCounts: Sendable, Equatable {
        public var affected: Int
        public var selected: Int

        public init(affected: Int, selected: Int) {
            self.affected = affected
            self.selected = selected
        }
    }

    /// Puts the dead letters `ids` names (or all that match `filter` when `ids` is nil) back on
    /// their queue, attempts reset.
    public func replay(ids: [String]?, filter: DeadLetterFilter, who: String) async throws -> DeadLetterCounts {
        let selected = try await store.deadLetterIDs(ids, filter: filter)
        return try await countDeadLetters("replay", selected, who: who) { try await store.queue.replayDeadLetters(ids: selected) }
    }

    /// Deletes the dead letters `ids` names (or all that match `filter` when `ids` is nil).
    public func purge(ids: [String]?, filter: DeadLetterFilter, who: String) async throws -> DeadLetterCounts {
        let selected = try await store.deadLetterIDs(ids, filter: filter)
        return try await countDeadLetters("purge", selected, who: who) { try await store.queue.purgeDeadLetters(ids: selected) }
    }

    private func countDeadLetters(
        _ action: String, _ selected: [String], who: String, _ body: () async throws -> Int
    ) async throws -> DeadLetterCounts {
        try await audited(action, target: "dead letters", who: who, detail: "\(selected.count) selected") {
            let affected = try await body()
            return (DeadLetterCounts(affected: affected, selected: selected.count), "\(affected) of \(selected.count) selected")
        }
    }

    /// Moves the delayed job `jobID` to its waiting list now. Throws ``OperatorActionError/notFound(_:)``
    /// when it is no longer delayed (it ran, or was never there).
    public func retryNow(jobID: String, who: String) async throws {
        try await audited("retry-now", target: "job \(jobID)", who: who) {
            guard try await store.queue.retryNow(id: jobID) else { throw OperatorActionError.notFound("delayed job") }
            return ((), "")
        }
    }

    /// One dead letter with its payload as stored: its personal data unmasked.
    public func reveal(deadLetterID: String, who: String) async throws -> DeadLetterReport.Item {
        try await audited("reveal", target: "dead letter \(deadLetterID)", who: who) {
            guard let item = try await store.revealDeadLetter(id: deadLetterID) else { throw OperatorActionError.notFound("dead letter") }
            return (item, "")
        }
    }

    /// Erases the personal data of the booking `booking` names (``OperationsStore/erase(bookingID:progress:)``).
    /// The audit names the booking by its id, never by the code it was asked by: a code is a bearer secret.
    public func erase(
        _ booking: BookingReference, who: String, progress: @Sendable (OperationsStore.EraseProgress) async -> Void = { _ in }
    ) async throws -> OperationsStore.Erasure {
        let bookingID: String
        switch try await store.resolve(booking) {
        case .found(let id, _): bookingID = id
        case .notFound: throw OperatorActionError.notFound("booking")
        case .ambiguous(let byCode, let byBookingID): throw OperatorActionError.ambiguousBooking(byCode: byCode, byBookingID: byBookingID)
        }
        return try await audited("erase", target: bookingID, who: who) {
            let erasure = try await store.erase(bookingID: bookingID, progress: progress)
            return (erasure, "\(erasure.jobsRemoved) jobs")
        }
    }

    /// Writes the start, runs `body`, then completes the entry with `body`'s detail, or with
    /// `failed` and the error, which is rethrown. When the start cannot be written the action does
    /// not run. When the completion cannot be written after a failure, the original error is what
    /// the caller needs; the entry stays `started`, which says the outcome is unknown.
    private func audited<Value>(
        _ action: String, target: String, who: String, detail: String = "", _ body: () async throws -> (Value, String)
    ) async throws -> Value {
        let started = try await store.audit.start(user: who, action: action, target: target, detail: detail)
        let value: Value, completion: String
        do {
            (value, completion) = try await body()
        } catch {
            try? await store.audit.complete(started, .failed, detail: "\(error)")
            throw error
        }
        try await store.audit.complete(started, .done, detail: completion)
        return value
    }
}

extension OperationsStore {
    /// The audited operator actions over this store.
    public var actions: OperatorActions { OperatorActions(store: self) }
}
