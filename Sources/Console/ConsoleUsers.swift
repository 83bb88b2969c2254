import HummingbirdBcrypt
import NIOPosix
import RedisClient

/// The console's users from the `console.users` secret (`name:bcrypt-hash, …`). Checking a
/// password is bcrypt's deliberate CPU work, so it runs on NIO's blocking thread pool, never on an
/// event loop or the cooperative pool; an unknown name costs the same as a wrong password.
struct ConsoleUsers: Sendable {
    /// Whether a password matches a bcrypt hash: bcrypt itself, or a counting stand-in in tests
    /// (which assert how many checks a flood of logins gets to run).
    typealias Checker = @Sendable (_ password: String, _ hash: String) -> Bool

    /// Each user's bcrypt hash, held redacted: a hash is an offline guessing target.
    let hashes: [String: Secret]
    let checker: Checker
    /// Verified against when the name is unknown, so timing tells nothing.
    static let decoy = "$2b$12$C6UzMDM.H6dfI/f/IKxGhu0QnYHr9yqz3OubaxyeqPEVvOPCAQ5cy"

    init(entries: [Secret], checker: @escaping Checker = { Bcrypt.verify($0, hash: $1) }) {
        var hashes: [String: Secret] = [:]
        for entry in entries.map(\.revealed) {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            hashes[String(entry[..<colon]).trimmingCharacters(in: .whitespaces)] = Secret(String(entry[entry.index(after: colon)...]))
        }
        self.hashes = hashes
        self.checker = checker
    }

    func verify(user: String, password: String) async throws -> Bool {
        let hash = hashes[user]?.revealed ?? Self.decoy
        let checker = checker
        let matches = try await NIOThreadPool.singleton.runIfActive { checker(password, hash) }
        return matches && hashes[user] != nil
    }

    /// `hash-password`'s cost is 12, as the decoy's: an unknown name and a wrong password take as long.
    static func hash(_ password: String, cost: UInt8 = 12) -> String { Bcrypt.hash(password, cost: cost) }
}
