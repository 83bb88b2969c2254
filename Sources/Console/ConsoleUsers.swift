import HummingbirdBcrypt
import NIOPosix

/// The console's users from the `console.users` secret (`name:bcrypt-hash, …`). Checking a
/// password is bcrypt's deliberate CPU work, so it runs on NIO's blocking thread pool, never on an
/// event loop or the cooperative pool; an unknown name costs the same as a wrong password.
struct ConsoleUsers: Sendable {
    let hashes: [String: String]
    /// Verified against when the name is unknown, so timing tells nothing.
    static let decoy = "$2b$12$C6UzMDM.H6dfI/f/IKxGhu0QnYHr9yqz3OubaxyeqPEVvOPCAQ5cy"

    init(entries: [String]) {
        var hashes: [String: String] = [:]
        for entry in entries {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            hashes[String(entry[..<colon]).trimmingCharacters(in: .whitespaces)] = String(entry[entry.index(after: colon)...])
        }
        self.hashes = hashes
    }

    func verify(user: String, password: String) async throws -> Bool {
        let hash = hashes[user] ?? Self.decoy
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        return matches && hashes[user] != nil
    }

    /// `hash-password`'s cost is 12, as the decoy's: an unknown name and a wrong password take as long.
    static func hash(_ password: String, cost: UInt8 = 12) -> String { Bcrypt.hash(password, cost: cost) }
}
