import Crypto

/// Matches a presented secret against the accepted ones (several during a rotation) in constant
/// time: both sides are hashed with SHA-256 and swift-crypto compares digests without early exit.
struct SecretMatcher: Sendable {
    private let digests: [SHA256.Digest]

    init(_ secrets: [String]) {
        digests = secrets.map { SHA256.hash(data: Array($0.utf8)) }
    }

    var isEmpty: Bool { digests.isEmpty }

    func matches(_ candidate: some StringProtocol) -> Bool {
        let digest = SHA256.hash(data: Array(candidate.utf8))
        // No short-circuit: every accepted secret is compared, so timing does not tell which matched.
        return digests.reduce(false) { found, accepted in (accepted == digest) || found }
    }
}
