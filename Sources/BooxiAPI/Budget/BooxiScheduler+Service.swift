import BooxiModels
import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// The scheduler's background work: receiving this process' grants, and dispatching for everyone
/// while this process holds the lease.
extension BooxiScheduler {
    /// Runs until graceful shutdown or cancellation. Put it first in a role's service list, so it
    /// stops last: the other services' Booxi calls still get grants while they drain.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.receiveGrants() }
                group.addTask { await self.dispatchWhileLeading() }
                await group.waitForAll()
            }
        }
    }

    /// One `BLPOP` on this process' grant list (and, while leading, on the bell); keeps the process
    /// marked alive so grants are not sent to it in vain after a crash.
    func receiveGrants() async {
        let outage = OutagePause("Booxi budget: receiving grants", logger: logger)
        var aliveUntil = ContinuousClock.now
        while !Task.isCancelled {
            do {
                if ContinuousClock.now >= aliveUntil {
                    try await redis.send("SET", keys.alive(processID), "1", "PX", Self.aliveTTLMs)
                    aliveUntil = ContinuousClock.now + .milliseconds(Self.aliveTTLMs / 4)
                }
                var watched = [keys.grants(processID)]
                if leading.load(ordering: .relaxed) { watched.append(keys.bell) }
                let reply = try await redis.sendBlocking(RedisCommand("BLPOP", watched + ["1"]), serverTimeout: .seconds(1))
                outage.succeeded()
                guard let pair = reply.array, pair.count == 2, let key = pair[0].string, let value = pair[1].string else { continue }
                if key == keys.bell {
                    doorbell.ring()
                } else if let (ticket, grant) = Self.parseGrant(value) {
                    if !waiters.deliver(grant, to: ticket) { await release(grant) }
                }
            } catch {
                if Task.isCancelled { break }
                await outage.failed(error)
            }
        }
    }

    /// `<ticket> <call> <waitedMs> <class>` as the dispatch script writes it.
    static func parseGrant(_ text: String) -> (UInt64, BooxiGrant)? {
        let parts = text.split(separator: " ")
        guard parts.count == 4, let ticket = UInt64(parts[0]), let waited = Int64(parts[2]),
            let rawClass = Int(parts[3]), let callClass = BooxiCallClass(rawValue: rawClass)
        else { return nil }
        return (ticket, BooxiGrant(callID: String(parts[1]), callClass: callClass, waited: .milliseconds(waited)))
    }

    /// Competes for the dispatcher lease; while holding it, dispatches.
    func dispatchWhileLeading() async {
        let outage = OutagePause("Booxi budget: dispatching", logger: logger)
        while !Task.isCancelled {
            do {
                let lease = try await redis.acquireLock(keys.leader, ttl: Self.leaseTTL)
                outage.succeeded()
                guard let token = lease else {
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                leading.store(true, ordering: .relaxed)
                logger.info("Booxi budget: this process dispatches")
                let result = await Result(catching: { try await dispatch(leaseToken: token) })
                leading.store(false, ordering: .relaxed)
                metrics.reportUse(second: 0, minute: 0)
                // Handed over at once, not after the lease runs out; on shutdown this task is
                // cancelled, which the Redis client honours, so the release runs in a task of its own.
                await Task { [redis, keys] in try? await redis.releaseLock(keys.leader, token: token) }.value
                try result.get()
            } catch {
                if Task.isCancelled { break }
                await outage.failed(error)
            }
        }
    }

    /// Grants calls as the budget frees up, renewing the lease every second; returns when the lease
    /// is lost or the task is cancelled.
    private func dispatch(leaseToken: String) async throws {
        var renewAt = ContinuousClock.now + .seconds(1)
        while !Task.isCancelled {
            if ContinuousClock.now >= renewAt {
                guard try await redis.renewLock(keys.leader, token: leaseToken, ttl: Self.leaseTTL) else {
                    logger.notice("Booxi budget: dispatcher lease lost")
                    return
                }
                renewAt = ContinuousClock.now + .seconds(1)
            }
            let step = try await dispatchOnce(now: nil)
            metrics.reportUse(second: step.usedSecond, minute: step.usedMinute)
            if step.granted { continue }
            // Nobody waiting: sleep until the bell. Waiting for budget: until it frees up, or an early
            // answer rings. At most a second either way, so a lost ring costs a second, not a stall.
            let waitMs = step.waitMs < 0 ? 1_000 : min(step.waitMs, 1_000)
            await doorbell.wait(upTo: .milliseconds(waitMs))
        }
    }

    struct DispatchStep: Equatable {
        var granted: Bool
        var waitMs: Int
        var usedSecond: Int
        var usedMinute: Int
    }

    /// One run of the dispatch script; `now` (ms) replaces Redis' clock in tests.
    func dispatchOnce(now: Int64?) async throws -> DispatchStep {
        let reply = try await redis.eval(
            BooxiBudgetScripts.dispatch, keys: [keys.queue, keys.calls, keys.state, keys.stats],
            arguments: [
                now.map(String.init) ?? "", policy.perSecond, policy.perMinute, policy.inFlightHoldMs, inFlightMs,
                keys.alivePrefix, keys.grantsPrefix, keys.waitsPrefix,
            ])
        let parts = reply.array ?? []
        func int(_ index: Int) -> Int { index < parts.count ? (parts[index].int ?? Int(parts[index].string ?? "") ?? 0) : 0 }
        let member = parts.first?.string ?? ""
        return DispatchStep(granted: !member.isEmpty, waitMs: int(1), usedSecond: int(2), usedMinute: int(3))
    }
}
