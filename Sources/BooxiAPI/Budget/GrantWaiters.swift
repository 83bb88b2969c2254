import Synchronization

/// The callers of one process waiting for their grant, by ticket. Whatever the order in which a
/// grant, a timeout and a cancellation arrive, a grant is either handed to its caller or reported
/// as unclaimed (``deliver(_:to:)`` returns false), so the caller's budget is never lost.
final class GrantWaiters: Sendable {
    private enum Entry {
        case waiting(CheckedContinuation<BooxiGrant, any Error>?)
        case delivered(BooxiGrant)
        case ended(any Error)
    }

    private let entries = Mutex<[UInt64: Entry]>([:])

    func open(_ ticket: UInt64) {
        entries.withLock { $0[ticket] = .waiting(nil) }
    }

    /// Forgets a ticket that was never queued.
    func discard(_ ticket: UInt64) {
        _ = entries.withLock { $0.removeValue(forKey: ticket) }
    }

    /// Hands `grant` to the caller with `ticket`; false when nobody wants it any more.
    func deliver(_ grant: BooxiGrant, to ticket: UInt64) -> Bool {
        let (waiter, claimed) = entries.withLock { entries -> (CheckedContinuation<BooxiGrant, any Error>?, Bool) in
            guard case .waiting(let waiter) = entries[ticket] else { return (nil, false) }
            if let waiter {
                entries[ticket] = nil
                return (waiter, true)
            }
            entries[ticket] = .delivered(grant)
            return (nil, true)
        }
        waiter?.resume(returning: grant)
        return claimed
    }

    /// Ends a wait with `error` unless its grant already arrived.
    func end(_ ticket: UInt64, _ error: any Error) {
        let waiter = entries.withLock { entries -> CheckedContinuation<BooxiGrant, any Error>? in
            guard case .waiting(let waiter) = entries[ticket] else { return nil }
            if let waiter {
                entries[ticket] = nil
                return waiter
            }
            entries[ticket] = .ended(error)
            return nil
        }
        waiter?.resume(throwing: error)
    }

    func wait(_ ticket: UInt64) async throws -> BooxiGrant {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = entries.withLock { entries -> Result<BooxiGrant, any Error>? in
                    switch entries[ticket] {
                    case .delivered(let grant):
                        entries[ticket] = nil
                        return .success(grant)
                    case .ended(let error):
                        entries[ticket] = nil
                        return .failure(error)
                    case .waiting, nil:
                        entries[ticket] = .waiting(continuation)
                        return nil
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            end(ticket, CancellationError())
        }
    }
}
